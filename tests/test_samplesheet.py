"""Sample sheet: formats, status words, validation errors."""

from __future__ import annotations

import pytest

from lesiontrack import SampleSheetError, read_samplesheet
from lesiontrack.samplesheet import STATUS_WORDS

HEADER = "patient_id\tlesion_id\tsample_id\tstatus\tcalls"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    return tmp_path


def write(folder, text, name="sheet.tsv", newline="\n"):
    path = folder / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_and_comments(folder, newline):
    text = f"# cohort\n{HEADER}\n# a comment\nP1\tL1\tS1\tPD\ta.vcf\n\nP1\tL2\tS2\tSD\ta.vcf\n"
    sheet = read_samplesheet(write(folder, text, newline=newline))
    assert list(sheet["status"]) == ["progressive", "controlled"]
    assert list(sheet["line"]) == [4, 6]
    assert sheet["calls_path"].iloc[0] == str(folder / "a.vcf")


def test_csv_is_sniffed_and_quoted_cells_read(folder):
    text = 'patient_id,lesion_id,sample_id,status,calls,site\nP1,L1,S1,"Partial response",a.vcf,"liver, segment 4"\n'
    sheet = read_samplesheet(write(folder, text, "sheet.csv"))
    assert sheet.loc[0, "status"] == "controlled"
    assert sheet.loc[0, "status_raw"] == "Partial response"
    assert sheet.loc[0, "site"] == "liver, segment 4"


@pytest.mark.parametrize(("word", "status"), sorted(STATUS_WORDS.items()))
def test_every_status_word(folder, word, status):
    role = "baseline" if status == "baseline" else "lesion"
    text = f"{HEADER}\trole\nP1\tL1\tS1\t{word.upper()}\ta.vcf\t{role}\n"
    assert read_samplesheet(write(folder, text)).loc[0, "status"] == status


def test_relative_path_escaping_upward_works(folder):
    sub = folder / "sheets"
    sub.mkdir()
    sheet = read_samplesheet(write(sub, f"{HEADER}\nP1\tL1\tS1\tPD\t../a.vcf\n"))
    assert sheet.loc[0, "calls_path"].endswith("a.vcf")


def test_several_calls_files_per_sample_and_several_samples_per_lesion(folder):
    (folder / "b.vcf").write_text("x")
    text = f"{HEADER}\nP1\tL1\tR1\tPD\ta.vcf\nP1\tL1\tR1\tPD\tb.vcf\nP1\tL1\tR2\tPD\ta.vcf\n"
    assert len(read_samplesheet(write(folder, text))) == 3


@pytest.mark.parametrize(("text", "where", "what"), [
    ("patient_id\tlesion_id\tsample_id\tcalls\nP1\tL1\tS1\ta.vcf\n", ":1:", "missing required column(s) status"),
    (f"{HEADER}\nP1\tL1\tS1\tgrowing\ta.vcf\n", ":2:", "unknown status 'growing'"),
    (f"{HEADER}\n\tL1\tS1\tPD\ta.vcf\n", ":2:", "field 'patient_id': empty value"),
    (f"{HEADER}\nP1\tL1\tS1\tPD\tmissing.vcf\n", ":2:", "calls file not found"),
    (f"{HEADER}\nP1\tL1\tS1\tPD\ta.vcf\nP1\tL1\tS1\tPD\ta.vcf\n", ":3:", "listed twice"),
    (f"{HEADER}\nP1\tL1\tS1\tPD\ta.vcf\nP1\tL1\tS2\tSD\ta.vcf\n", ":3:", "has two statuses"),
    (f"{HEADER}\nP1\tL1\tS1\tPD\ta.vcf\nP2\tL1\tS1\tPD\ta.vcf\n", ":3:", "belongs to two patients"),
    (f"{HEADER}\nP1\tL1\tS1\tPD\n", ":2:", "4 fields where the header has 5"),
    (f"{HEADER}\trole\nP1\tB\tS1\tPD\ta.vcf\tbaseline\n", ":2:", "baseline (pre-treatment) sample"),
    (f"{HEADER}\tassembly\nP1\tL1\tS1\tPD\ta.vcf\thg17\n", ":2:", "unknown assembly"),
    ("", ":1:", "empty"),
    (f"{HEADER}\n", ":1:", "no samples"),
])
def test_bad_sheets_name_the_line_and_field(folder, text, where, what):
    path = write(folder, text)
    with pytest.raises(SampleSheetError) as info:
        read_samplesheet(path)
    message = info.value.one_line()
    assert str(path) + where in message
    assert what in message
    assert "\n" not in message


def test_unknown_status_lists_the_accepted_words(folder):
    with pytest.raises(SampleSheetError, match=r"accepted.*progressive.*stable"):
        read_samplesheet(write(folder, f"{HEADER}\nP1\tL1\tS1\tgrowing\ta.vcf\n"))


def test_non_utf8_bytes_name_the_line(folder):
    path = folder / "sheet.tsv"
    path.write_bytes(f"{HEADER}\nP1\tL1\tS1\tPD\ta.vcf\nP\xe9\tL1\tS2\tPD\ta.vcf\n".encode("latin-1"))
    with pytest.raises(SampleSheetError, match=r"sheet.tsv:3: not UTF-8"):
        read_samplesheet(path)
