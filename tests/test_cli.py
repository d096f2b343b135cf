"""End-to-end command line: outputs on the demo cohort and one-line errors on bad input."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from conftest import FIXTURES

from lesiontrack.cli import main

SHEET = FIXTURES / "samplesheet.tsv"
COMMANDS = ["calls", "classify", "graph", "stats"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("lesiontrack ")
    for command in [None, *COMMANDS]:
        with pytest.raises(SystemExit) as info:
            main([command, "--help"] if command else ["--help"])
        assert info.value.code == 0
        assert "usage: lesiontrack" in capsys.readouterr().out


def test_console_script_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "lesiontrack.cli", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "lesiontrack" in done.stdout


def test_calls_table_of_the_demo_cohort(capsys, tmp_path):
    code, _, _ = run(capsys, "calls", SHEET, "-o", tmp_path / "calls.tsv")
    assert code == 0
    calls = pd.read_csv(tmp_path / "calls.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert set(calls["patient_id"]) == {f"GIST0{i}" for i in range(1, 9)}
    # the far-away chr4 record of GIST07 is outside the default KIT/PDGFRA regions
    assert not calls["variant_key"].str.startswith("4:106").any()
    # a joint-called absence: AD 143,0 is evaluable and not detected
    row = calls[(calls["sample_id"] == "GIST01_L3") & (calls["hgvsc"] == "c.1961T>C")].iloc[0]
    assert (row.alt_count, row.depth, row.detected) == ("0", "143", "False")
    assert set(calls["caller"]) >= {"mutect2", "strelka2_snv", "strelka2_indel", "varscan2",
                                    "freebayes", "maf_vcf2maf"}


def test_parquet_output(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "calls.parquet")[0] == 0
    assert len(pd.read_parquet(tmp_path / "calls.parquet")) > 20


def test_classify_tells_the_demo_story(capsys, tmp_path):
    code, out, _ = run(capsys, "classify", SHEET)
    assert code == 0
    origins = pd.read_csv(pd.io.common.StringIO(out), sep="\t", dtype=str, keep_default_na=False)
    expected = pd.read_csv(FIXTURES / "expected_origins.tsv", sep="\t", dtype=str,
                           keep_default_na=False)
    got = origins.set_index(["patient_id", "variant_key"])
    for row in expected.itertuples():
        if row.expected_origin in ("primary", "secondary"):
            found = got.loc[(row.patient_id, row.variant_key)]
            assert found["origin"] == row.expected_origin, row
            # the evidence-aware rules: the deciding rule and where absence was measured
            assert (found["rule"], found["lesions_absent"], found["lesions_not_evaluable"]) == (
                row.expected_rule, row.expected_lesions_absent,
                row.expected_lesions_not_evaluable), row
            assert found["counted"] == "True"


def test_stats_json_and_text(capsys, tmp_path):
    code, out, _ = run(capsys, "stats", SHEET, "--json", "--permutations", "2000")
    assert code == 0
    result = json.loads(out)
    table = result["lesion_table"]
    assert table["controlled_with_secondary"] == 0
    assert table["progressive_with_secondary"] >= 5
    assert result["fisher"]["p_value"] < 0.05 and result["fisher"]["descriptive"] is True
    # the headline: GIST01, GIST02, GIST04 and GIST08 (issue 17) are informative,
    # exact p = 1/3 x 1/2 x 1/2 x 1/2
    assert result["permutation"]["exact_p_value"] == pytest.approx(1 / 24)
    assert result["informative_patients"] == 4
    assert (table["progressive_not_evaluable"], table["controlled_not_evaluable"]) == (1, 1)
    patterns = {p["patient_id"]: p["pattern"] for p in result["patients"]}
    assert patterns["GIST01"] == "focal" and patterns["GIST03"] == "generalized"
    assert patterns["GIST06"] == "none"
    code, out, _ = run(capsys, "stats", SHEET, "--permutations", "200")
    assert "Fisher exact" in out and "research use" in out


def test_graph_outputs(capsys, tmp_path):
    import networkx as nx

    assert run(capsys, "graph", SHEET, "-o", tmp_path / "g.graphml")[0] == 0
    graph = nx.read_graphml(tmp_path / "g.graphml")
    assert {d["kind"] for _, d in graph.nodes(data=True)} == {"patient", "lesion", "status",
                                                             "mutation", "gene"}
    assert run(capsys, "graph", SHEET, "-o", tmp_path / "g.json")[0] == 0
    assert json.loads((tmp_path / "g.json").read_text())["links"]
    code, _, err = run(capsys, "graph", SHEET, "-o", tmp_path / "g.png")
    assert code == 2 and "name the output .graphml or .json" in err


# ---- bad input: one line, exit 2, nothing written -------------------------------------------

HEADER = "patient_id\tlesion_id\tsample_id\tstatus\tcalls\n"
VCF = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr4,length=190214555>\n"
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
    "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tAD\t100,30\n"
)


def bad_case(tmp_path, name):
    """(sheet path, extra argv, text expected in the message) for one kind of bad input."""
    vcf = tmp_path / "t.vcf"
    vcf.write_text(VCF)
    sheet = tmp_path / "sheet.tsv"
    extra: list = []
    if name == "missing column":
        sheet.write_text("patient_id\tlesion_id\tsample_id\tcalls\nP\tL\tT1\tt.vcf\n")
        expect = "sheet.tsv:1: field 'status': missing required column(s) status"
    elif name == "unknown status":
        sheet.write_text(HEADER + "P\tL\tT1\tshrinking\tt.vcf\n")
        expect = "sheet.tsv:2: field 'status': unknown status 'shrinking'"
    elif name == "missing file":
        sheet.write_text(HEADER + "P\tL\tT1\tPD\tnone.vcf\n")
        expect = "sheet.tsv:2: field 'calls': calls file not found: none.vcf"
    elif name == "sample not in file":
        vcf.write_text(VCF.replace("\tT1\n", "\tT1\tT2\n").replace("100,30\n", "100,30\t90,0\n"))
        sheet.write_text(HEADER + "P\tL\tX9\tPD\tt.vcf\n")
        expect = "sheet.tsv:2: field 'vcf_sample': sample 'X9' is not in"
    elif name == "truncated":
        data = gzip.compress(VCF.encode() * 50)
        (tmp_path / "t.vcf.gz").write_bytes(data[: len(data) // 2])
        sheet.write_text(HEADER + "P\tL\tT1\tPD\tt.vcf.gz\n")
        expect = "t.vcf.gz"
    elif name == "not a vcf":
        (tmp_path / "x.vcf").write_bytes(bytes(range(256)) * 4)
        sheet.write_text(HEADER + "P\tL\tT1\tPD\tx.vcf\n")
        expect = "x.vcf:1: not a VCF, BCF, MAF or TSV file"
    elif name == "reference mismatch":
        vcf.write_text(VCF.replace("\tA\tT\t", "\tG\tT\t"))
        sheet.write_text(HEADER + "P\tL\tT1\tPD\tt.vcf\n")
        from conftest import write_synthetic_reference

        extra = ["--reference", write_synthetic_reference(tmp_path / "ref.fa")]
        expect = "t.vcf:record chr4:54733155: field 'REF': REF G does not match the reference (A)"
    return sheet, extra, expect


BAD = ["missing column", "unknown status", "missing file", "sample not in file", "truncated",
       "not a vcf", "reference mismatch"]


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("command", ["calls", "classify"])
def test_bad_input_gets_one_line_and_exit_2(capsys, tmp_path, name, command):
    sheet, extra, expect = bad_case(tmp_path, name)
    output = tmp_path / "out.tsv"
    code, out, err = run(capsys, command, sheet, "-o", output, *extra)
    assert code == 2 and out == ""
    assert err.startswith("lesiontrack: error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert expect in err
    assert not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tsv")]


def test_bad_input_through_the_real_console_script(tmp_path):
    exe = shutil.which("lesiontrack")
    if exe is None:
        pytest.skip("console script not installed")
    sheet, _, expect = bad_case(tmp_path, "unknown status")
    done = subprocess.run([exe, "calls", str(sheet)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and expect in done.stderr and done.stdout == ""


# ---- scatter/gather: --calls and --jobs ------------------------------------------------------


def test_jobs_give_identical_calls(capsys, tmp_path):
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "one.tsv")[0] == 0
    assert run(capsys, "calls", SHEET, "--jobs", "2", "-o", tmp_path / "two.tsv")[0] == 0
    assert (tmp_path / "one.tsv").read_bytes() == (tmp_path / "two.tsv").read_bytes()


def test_precomputed_calls_tables_scattered_per_patient_give_the_same_origins(capsys, tmp_path):
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "all.tsv")[0] == 0
    calls = pd.read_csv(tmp_path / "all.tsv", sep="\t", dtype=str, keep_default_na=False)
    parts = []
    for patient, rows in calls.groupby("patient_id"):
        part = tmp_path / f"{patient}.tsv"
        rows.to_csv(part, sep="\t", index=False)
        parts.append(part)
    direct = run(capsys, "classify", SHEET)[1]
    gathered = run(capsys, "classify", SHEET, "--calls", *parts)[1]
    assert direct == gathered
    stats_direct = run(capsys, "stats", SHEET, "--json")[1]
    # the sheet names the copy-number files (the roads to resistance need it)
    assert stats_direct == run(capsys, "stats", SHEET, "--calls", *reversed(parts),
                               "--json")[1]


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda f: f.drop(columns="variant_key"), "missing column(s) variant_key"),
    (lambda f: f.assign(depth=["x"] * len(f)), "field 'depth': not a number: 'x'"),
])
def test_bad_precomputed_calls_table(capsys, tmp_path, edit, expect):
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "all.tsv")[0] == 0
    calls = pd.read_csv(tmp_path / "all.tsv", sep="\t", dtype=str, keep_default_na=False)
    edit(calls).to_csv(tmp_path / "bad.tsv", sep="\t", index=False)
    code, _, err = run(capsys, "classify", "--calls", tmp_path / "bad.tsv")
    assert code == 2 and expect in err and "bad.tsv" in err


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda f: f.drop(columns="variant_key"), "missing column(s) variant_key"),
    (lambda f: f.assign(depth=["12"] * 20 + ["x"] + ["12"] * (len(f) - 21)),
     "bad.tsv:22: field 'depth': not a number: 'x'"),
])
def test_report_reads_calls_tables_in_chunks_with_the_same_errors(capsys, tmp_path,
                                                                   monkeypatch, edit, expect):
    """``report --calls`` reads a table a few rows at a time: an error names the file's line
    as the whole reading does."""
    from lesiontrack import calls_tables as calls_module

    monkeypatch.setattr(calls_module, "TABLE_CHUNK_ROWS", 6)
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "all.tsv")[0] == 0
    calls = pd.read_csv(tmp_path / "all.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert len(calls) > 21
    edit(calls).to_csv(tmp_path / "bad.tsv", sep="\t", index=False)
    for command in (["classify"], ["report", "-o", tmp_path / "report"]):
        code, _, err = run(capsys, *command, "--calls", tmp_path / "bad.tsv")
        assert code == 2 and expect in err, err
    assert not (tmp_path / "report").exists()


def test_calls_of_one_patient_are_that_patients_rows_of_the_cohort(capsys, tmp_path):
    """Scattering ``calls`` per patient gives each patient's rows of the whole run (nothing,
    not even a p. name from an annotator, comes from another patient's files)."""
    whole = pd.read_csv(io.StringIO(run(capsys, "calls", SHEET)[1]), sep="\t", dtype=str,
                        keep_default_na=False)
    for patient in sorted(set(whole["patient_id"])):
        alone = pd.read_csv(io.StringIO(run(capsys, "calls", SHEET, "--patient", patient)[1]),
                            sep="\t", dtype=str, keep_default_na=False)
        expected = whole[whole["patient_id"] == patient].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, expected)


def test_calls_for_selected_patients(capsys):
    code, out, _ = run(capsys, "calls", SHEET, "--patient", "GIST02", "GIST05")
    assert code == 0
    patients = {line.split("\t")[0] for line in out.splitlines()[1:]}
    assert patients == {"GIST02", "GIST05"}
    code, _, err = run(capsys, "calls", SHEET, "--patient", "NOPE")
    assert code == 2 and "patient 'NOPE' is not in the sample sheet" in err


def test_outcomes_tell_the_focal_story(capsys, tmp_path):
    code, out, err = run(capsys, "outcomes", SHEET, "--patients", FIXTURES / "patients.tsv",
                         "--json", "-o", tmp_path / "out")
    assert code == 0
    result = json.loads(out)
    pfs = result["pfs"]["groups"]
    assert pfs["focal"]["median"] > pfs["generalized"]["median"]
    assert result["os"]["groups"]["focal"]["median"] is None  # not reached
    assert "GIST06" in err  # never progressed: no salvage follow-up, left out with a warning
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "outcomes.json", "outcomes.tsv", "km_pfs.svg", "km_os.svg"}
    bad = tmp_path / "patients.tsv"
    bad.write_text("patient_id\tprogression_date\tpfs_event_date\nGIST01\t2010-01-01\t2009-01-01\n")
    code, _, err = run(capsys, "outcomes", SHEET, "--patients", bad)
    assert code == 2 and "patients.tsv:2:" in err and err.count("\n") == 1


def test_a_bug_exits_1_with_one_line_and_the_traceback_only_under_debug(capsys, monkeypatch):
    import lesiontrack.compare

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(lesiontrack.compare, "classify", broken)
    code, out, err = run(capsys, "classify", SHEET)
    assert code == 1 and out == ""
    assert err.startswith("lesiontrack: internal error: RuntimeError: simulated bug")
    assert err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(RuntimeError, match="simulated bug"):
        main(["--debug", "classify", str(SHEET)])


def test_assume_sorted_reads_the_same_rows_from_unindexed_sorted_files(capsys, tmp_path):
    import shutil as sh

    folder = tmp_path / "copy"
    sh.copytree(FIXTURES, folder, ignore=sh.ignore_patterns("*.tbi", "*.bai", "*.bam"))
    sheet = folder / "samplesheet.tsv"
    lines = sheet.read_text().splitlines()
    bam = lines[1].split("\t").index("bam")  # the BAMs are not copied: drop the column
    sheet.write_text("\n".join(
        "\t".join(c for i, c in enumerate(line.split("\t")) if i != bam)
        if not line.startswith("#") else line for line in lines) + "\n")
    plain = run(capsys, "calls", sheet)[1]
    assert plain.count("\n") > 20
    assert run(capsys, "calls", sheet, "--assume-sorted")[1] == plain


def test_report_reads_parquet_tables_with_categorical_columns(capsys, tmp_path):
    """A Parquet table written by another tool may store identifiers as categories
    (dictionary-encoded): read like plain text columns, in whole and in chunks."""
    pytest.importorskip("pyarrow")
    assert run(capsys, "calls", SHEET, "-o", tmp_path / "all.parquet")[0] == 0
    calls = pd.read_parquet(tmp_path / "all.parquet")
    for column in ("patient_id", "lesion_id", "status", "gene"):
        calls[column] = calls[column].astype("category")
    calls.to_parquet(tmp_path / "categories.parquet", index=False)
    plain = run(capsys, "classify", "--calls", tmp_path / "all.parquet")[1]
    assert run(capsys, "classify", "--calls", tmp_path / "categories.parquet")[1] == plain
    code, _, err = run(capsys, "report", "--calls", tmp_path / "categories.parquet", "-o",
                       tmp_path / "report", "--permutations", "100")
    assert code == 0, err
    assert (tmp_path / "report" / "origins.tsv").read_text() == plain


@pytest.mark.parametrize(("value", "said"), [("0", "must be at least 1, not 0"),
                                              ("-5", "must be at least 1, not -5"),
                                              ("many", "not a whole number: 'many'")])
def test_permutations_must_be_a_whole_number_of_at_least_one(capfd, value, said):
    with pytest.raises(SystemExit) as caught:
        main(["stats", str(FIXTURES / "samplesheet.tsv"), "--permutations", value])
    err = capfd.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1
    assert f"argument --permutations: {said}" in err


def test_a_graph_from_a_gathered_calls_table_is_the_direct_runs(tmp_path):
    """calls.tsv writes VAFs to 6 significant digits; where a VAF is its counts' ratio the exact
    ratio is taken back on reading, so the evidence numbers (tumour content, expected VAF) and
    so the graph are byte for byte those of the direct run."""
    sheet = str(FIXTURES / "samplesheet.tsv")
    assert main(["-q", "graph", sheet, "-o", str(tmp_path / "direct.graphml")]) == 0
    assert main(["-q", "calls", sheet, "-o", str(tmp_path / "calls.tsv")]) == 0
    assert main(["-q", "graph", sheet, "--calls", str(tmp_path / "calls.tsv"), "-o",
                 str(tmp_path / "gathered.graphml")]) == 0
    assert ((tmp_path / "direct.graphml").read_bytes()
            == (tmp_path / "gathered.graphml").read_bytes())


def test_a_table_that_is_not_a_calls_table_names_the_missing_columns(capfd):
    """--calls given the patient table (comment lines, other columns): the missing columns are
    named, not pandas' tokenizer message."""
    code = main(["classify", str(FIXTURES / "samplesheet.tsv"), "--calls",
                 str(FIXTURES / "patients.tsv")])
    err = capfd.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "not a calls table: missing column(s) lesion_id, sample_id" in err
    assert "write it with 'lesiontrack calls'" in err and "C error" not in err
