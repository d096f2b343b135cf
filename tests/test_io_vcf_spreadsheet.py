"""VCFs that went through a spreadsheet (quoted cells, trailing tabs, notes below the records):
read through a repaired private copy, with one warning, by both engines; the true cause named
when a file still cannot be read. Treeomics' example (../shared) is compared with Treeomics' own
presence calls."""

from __future__ import annotations

import gzip
import logging

import pandas as pd
import pytest
from conftest import SHARED
from test_io_vcf_fastpath import GENE_WINDOWS, assert_same

from lesiontrack import build_calls, read_samplesheet
from lesiontrack.errors import CallsFileError
from lesiontrack.io import read_calls_file
from lesiontrack.io.spreadsheet import damaged
from lesiontrack.io.vcf import read_vcf
from lesiontrack.options import Thresholds

TREEOMICS = SHARED / "external-data" / "treeomics_example"
#: Treeomics' present counts per sample (example_6, e=0.01, c0=0.5, af=0.05: its README).
TREEOMICS_PRESENT = {"Met1": 116, "Met2": 102, "Met3": 111, "Met4": 109, "Met5": 114,
                     "Met6": 101}

CLEAN = "\n".join([
    "##fileformat=VCFv4.2",
    "##source=somecaller",
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=A,Type=Integer,Description="Allelic depths, ref and alt">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tL1\tL2",
    "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tGT:AD:AF\t0/1:100,30:0.23\t0/1:120,0:0.0",
    "chr4\t54727435\t.\tCAGTGGA\tC\t.\tPASS\t.\tGT:AD:AF\t0/1:90,25:0.22\t0/1:80,12:0.13",
    "chr4\t54728092\t.\tT\tC\t.\tPASS\t.\tGT:AD:AF\t0/1:100,20:0.17\t0/1:95,1:0.01",
    "chr12\t25398284\t.\tC\tA\t.\tPASS\t.\tGT:AD:AF\t0/1:70,20:0.22\t0/1:66,0:0.0",
]) + "\n"


def spreadsheet(text: str, width: int = 14, notes: int = 2) -> str:
    """``text`` as a spreadsheet saves it as tab-separated text: a cell holding a quote or a
    comma wrapped in quotes (inner quotes doubled), rows padded with empty cells to ``width``,
    ``notes`` comment rows typed below the records, no newline after the last row."""
    rows = []
    for line in text.rstrip("\n").split("\n"):
        cells = []
        for cell in line.split("\t"):
            if '"' in cell or "," in cell:
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        cells += [""] * (width - len(cells))
        rows.append("\t".join(cells))
    rows += [f"#Note{i}\t.\t.\t116\t103" for i in range(notes)]
    return "\n".join(rows)


def test_the_spreadsheet_fixture_is_damaged_as_the_real_one():
    damaged_text = spreadsheet(CLEAN)
    assert damaged_text.startswith("##fileformat=VCFv4.2\t\t")
    assert '"##FORMAT=<ID=GT,Number=1,Type=String,Description=""Genotype"">"' in damaged_text
    assert '\t"0/1:100,30:0.23"\t' in damaged_text
    assert damaged(damaged_text.encode())
    assert not damaged(CLEAN.encode())


@pytest.mark.parametrize("compressed", [False, True])
def test_a_spreadsheet_vcf_reads_like_the_clean_one_on_both_engines(tmp_path, caplog,
                                                                    compressed):
    clean = tmp_path / "clean.vcf"
    clean.write_text(CLEAN)
    bad = tmp_path / ("sheet.vcf.gz" if compressed else "sheet.vcf")
    data = spreadsheet(CLEAN).encode()
    bad.write_bytes(gzip.compress(data) if compressed else data)
    before = bad.read_bytes()
    expected = read_vcf(clean, regions=GENE_WINDOWS, engine="pysam")
    for engine in ("pysam", "text", "auto"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lesiontrack"):
            got = read_vcf(bad, regions=GENE_WINDOWS, engine=engine)
        pd.testing.assert_frame_equal(got.calls, expected.calls)
        repaired = [r.getMessage() for r in caplog.records
                    if "went through a spreadsheet" in r.getMessage()]
        assert len(repaired) == 1, repaired  # one warning per file
        message = repaired[0]
        assert message.startswith(f"{bad}: the VCF went through a spreadsheet")
        assert "quoted cell(s) unquoted" in message
        assert "trailing empty cells dropped" in message
        assert "2 '#' comment or blank line(s) after the header skipped (line 11, 12)" in message
        assert got.warnings[0] in message
        # every other warning names the input, never the private copy
        assert all(str(bad) in r.getMessage() for r in caplog.records)
    assert bad.read_bytes() == before  # the input is never modified
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["clean.vcf", bad.name])
    # every record, not only the windows', through the pysam engine
    whole = read_vcf(bad, regions=None)
    assert len(whole.calls) == 8


def test_the_fast_path_gives_the_pysam_rows_on_a_repaired_file(tmp_path):
    bad = tmp_path / "sheet.vcf"
    bad.write_text(spreadsheet(CLEAN))
    calls = assert_same(bad, GENE_WINDOWS)
    assert len(calls) == 6


def test_a_repaired_file_is_read_through_read_calls_file(tmp_path):
    bad = tmp_path / "sheet.vcf"
    quoted_first = spreadsheet(CLEAN).replace("##fileformat=VCFv4.2", '"##fileformat=VCFv4.2"',
                                              1)
    bad.write_text(quoted_first)
    result = read_calls_file(bad, regions=GENE_WINDOWS)
    assert len(result.calls) == 6
    assert "spreadsheet" in result.warnings[0]


def test_the_true_cause_names_the_original_line(tmp_path):
    """A repaired file that still cannot be read: the error names the input and its own line
    number (the skipped note lines counted), never the private copy."""
    lines = spreadsheet(CLEAN).split("\n")
    lines.insert(7, "#a note between records")  # skipped: the line numbers below shift
    lines[9] = "chr4\t54728092\t.\tT\tC\t.\tPASS\t.\tGT:AD:AF\t\"0/1:x,20:0.17\"\t\"0/1:9,1:0.1\""
    bad = tmp_path / "sheet.vcf"
    bad.write_text("\n".join(lines))
    for regions in (None, GENE_WINDOWS):  # the pysam engine; the text engine, then pysam
        with pytest.raises(CallsFileError) as info:
            read_vcf(bad, regions=regions)
        assert str(info.value) == (
            f"{bad}:10: cannot parse the VCF record (after record chr4:54727435): FORMAT/AD "
            "value 'x,20' of sample L1 is not a number")


def test_a_comment_line_after_the_records_is_named_in_a_clean_file(tmp_path):
    """Not a spreadsheet file (no quotes, no trailing tabs) with a note below its records: the
    error says what htslib cannot read, at the right line."""
    path = tmp_path / "noted.vcf"
    path.write_text(CLEAN + "#TruelyPresentSNVs\t.\t.\t.\t.\t.\t.\t.\t.\t116\t103\n")
    with pytest.raises(CallsFileError) as info:
        read_vcf(path, regions=None, engine="pysam")
    assert str(info.value).startswith(f"{path}:11: ")
    assert "'#' line after the #CHROM line" in str(info.value)


@pytest.fixture(scope="module")
def treeomics_calls(tmp_path_factory):
    vcf = TREEOMICS / "example.vcf"
    if not vcf.exists():
        pytest.skip("shared Treeomics example not available")
    folder = tmp_path_factory.mktemp("treeomics")
    sheet = folder / "sheet.tsv"
    rows = ["patient_id\tlesion_id\tsample_id\tstatus\tcalls\tvcf_sample"]
    rows += [f"example\t{s}\t{s}\tunknown\t{vcf}\t{s}" for s in TREEOMICS_PRESENT]
    sheet.write_text("\n".join(rows) + "\n")
    return build_calls(read_samplesheet(sheet), sheet_path=sheet, genes="all",
                       assembly="GRCh37", thresholds=Thresholds(min_vaf=0.05))


def test_treeomics_present_counts_agree_within_5_percent(treeomics_calls):
    """Treeomics' Bayesian presence calls (e=0.01, c0=0.5, af=0.05) vs lesiontrack's detection
    at --min-vaf 0.05. Per sample, lesiontrack finds 0-4 fewer: the 7 indels written with
    MAF-style '-' alleles (not VCF) are skipped with a warning, and Treeomics' published counts
    also include the few calls its phylogeny step adds; besides that, one site at VAF 0.057
    (8/141 reads, Met3) is detected here where Treeomics' posterior stays below 0.5."""
    present = treeomics_calls.groupby("sample_id")["detected"].sum().to_dict()
    for sample, theirs in TREEOMICS_PRESENT.items():
        assert abs(present[sample] - theirs) <= 0.05 * theirs, (sample, present[sample], theirs)
    assert treeomics_calls["variant_key"].nunique() == 304  # 310 minus the '-' indels


def test_a_broken_header_line_is_named_with_the_chrom_line_after_it(tmp_path):
    """Not spreadsheet damage, but a header line htslib refuses above #CHROM: the error names
    that line and says where #CHROM is (it said "no #CHROM header line before the first
    record", the diagnosis the quoted Treeomics file got)."""
    path = tmp_path / "broken.vcf"
    path.write_text(CLEAN.replace("##source=somecaller", "#source somecaller"))
    with pytest.raises(CallsFileError) as info:
        read_vcf(path, regions=None)
    assert str(info.value) == (
        f"{path}:2: a header line that is neither a ## meta line nor the #CHROM line (which is "
        "at line 6): '#source somecaller' (every line above #CHROM must start with '##')")
