"""The one reader of delimited text (lesiontrack.textfiles): its delimiter sniffer and its
"which line is bad" helpers, shared by the sample sheet, patient tables, MAF and TSV files."""

from __future__ import annotations

import gzip

import pytest

from lesiontrack.errors import PatientTableError, SampleSheetError
from lesiontrack.io.bounded import line_number
from lesiontrack.textfiles import WHITESPACE, read_table_columns, sniff_delimiter, undecodable_line


@pytest.mark.parametrize(("header", "expected"), [
    ("chrom\tpos,x;y", "\t"),
    ("chrom,pos,ref", ","),
    ("chrom;pos;ref", ";"),
    ("chrom,pos;ref", ","),  # both: comma
    ('patient_id;lesion_id;"Notes, misc"', ";"),  # a quoted cell holding a comma
    ("patient_id", ","),
])
def test_one_sniffer_for_every_table(header, expected):
    assert sniff_delimiter(header) == expected


@pytest.mark.parametrize(("header", "expected"), [
    ("chrom pos ref alt", WHITESPACE),
    ("chrom", "\t"),
    ("chrom,pos", ","),
])
def test_calls_tables_may_be_separated_by_white_space(header, expected):
    assert sniff_delimiter(header, whitespace=True) == expected


@pytest.mark.parametrize(("data", "end", "line"), [
    (b"a\nb\nc", 4, 3), (b"a\r\nb\r\nc", 6, 3), (b"a\rb\rc", 4, 3), ("a\r\n\nb", 4, 3),
])
def test_line_number_counts_every_newline_convention(data, end, line):
    assert line_number(data, end) == line


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("compressed", [False, True])
def test_undecodable_line_names_the_line_of_the_first_bad_byte(tmp_path, newline, compressed):
    data = newline.join([b"h\xc3\xa9ader", b"row one", b"", b"row \xe9", b"row \xff"]) + newline
    path = tmp_path / "t.tsv"
    path.write_bytes(gzip.compress(data) if compressed else data)
    assert undecodable_line(path) == 4
    path.write_bytes(b"fine\r\nall \xc3\xa9\r\n")
    assert undecodable_line(path) is None


def test_a_bad_byte_after_a_bom_is_named_with_its_line(tmp_path):
    path = tmp_path / "sheet.tsv"
    path.write_bytes(b"\xef\xbb\xbfpatient_id\tx\nP1\t\xe9\n")
    with pytest.raises(SampleSheetError, match=r"sheet.tsv:2: not UTF-8 text \(byte 0xe9\)"):
        read_table_columns(path, SampleSheetError, "sample sheet")


def test_small_tables_name_the_file_kind_in_their_errors(tmp_path):
    path = tmp_path / "patients.tsv"
    path.write_bytes(b"patient_id\tpfs_months\nP1\t3\t4\n")
    with pytest.raises(PatientTableError, match=r"patients.tsv:2: 3 fields where the header has 2"):
        read_table_columns(path, PatientTableError, "patient table")
