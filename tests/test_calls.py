"""The calls spine: the sheet's files joined to the sheet, the genes kept, ``detected`` decided at
its exact thresholds (tissue and plasma), precomputed tables read back, and allele counts filled
in or recounted from the BAM fixtures."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import FIXTURES

from lesiontrack import evidence
from lesiontrack.calls import (
    CALLS_COLUMNS,
    SHEET_COLUMNS,
    build_calls,
    empty_calls_table,
    gene_windows,
    parse_genes,
    read_calls,
)
from lesiontrack.calls_tables import calls_table_batches, read_calls_table
from lesiontrack.errors import CallsFileError, OptionError, SampleSheetError
from lesiontrack.options import DEFAULT_GENES, Thresholds
from lesiontrack.output import write_table
from lesiontrack.reference import Reference, normalise_calls
from lesiontrack.samplesheet import read_samplesheet

D816V = ("chr4", 54733155, "A", "T")  # KIT exon 17, GRCh38
D842V = ("chr4", 54285926, "A", "T")  # PDGFRA exon 18, GRCh38
TP53 = ("chr17", 7675088, "C", "T")  # neither KIT nor PDGFRA
HEAD = "sample\tchrom\tpos\tref\talt\talt_count\tdepth\n"


def row(sample: str, site: tuple, alt: int, depth: int) -> str:
    return "\t".join([sample, site[0], str(site[1]), site[2], site[3], str(alt), str(depth)]) + "\n"


def write_sheet(folder, rows: list[str], extra: str = "") -> object:
    path = folder / "sheet.tsv"
    path.write_text("patient_id\tlesion_id\tsample_id\trole\tstatus\tsite\ttimepoint\tdate\t"
                    f"vcf_sample\tcalls\tassembly{extra}\n" + "".join(rows))
    return path


@pytest.fixture
def cohort(tmp_path):
    """P1: a shared TSV with two lesions' columns (L1 progressive with D816V at 40/200, L2
    controlled without it) and a third sample the sheet does not name; P2: a file of its own
    whose only sample is written under another name in the sheet."""
    (tmp_path / "p1.tsv").write_text(
        HEAD + row("T1", D816V, 40, 200) + row("T1", D842V, 10, 100) + row("T1", TP53, 30, 100)
        + row("T2", D842V, 12, 120) + row("OTHER", D816V, 99, 100))
    (tmp_path / "p2.tsv").write_text(HEAD + row("X", D816V, 3, 20))
    return write_sheet(tmp_path, [
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\tmonth 12\t2020-01-02\tT1\tp1.tsv\tGRCh38\n",
        "P1\tL2\tP1_L2\tlesion\tSD\tperitoneum\tmonth 12\t2020-01-02\tT2\tp1.tsv\tGRCh38\n",
        "P2\tL1\tP2_L1\tlesion\tPD\tliver\tmonth 3\t\tP2_L1\tp2.tsv\tGRCh38\n",
    ])


# ------------------------------------------------------------------------------------------
# joining to the sheet
# ------------------------------------------------------------------------------------------

def test_each_sheet_sample_gets_its_own_rows_and_the_sheet_columns(cohort):
    calls = read_calls(cohort)
    assert list(calls.columns) == CALLS_COLUMNS
    got = {(r.sample_id, r.variant_key, int(r.alt_count), int(r.depth))
           for r in calls.itertuples()}
    assert got == {("P1_L1", "4:54733155:A>T", 40, 200), ("P1_L1", "4:54285926:A>T", 10, 100),
                   ("P1_L2", "4:54285926:A>T", 12, 120), ("P2_L1", "4:54733155:A>T", 3, 20)}
    l1 = calls.set_index(["sample_id", "variant_key"]).loc[("P1_L1", "4:54733155:A>T")]
    assert (l1.patient_id, l1.lesion_id, l1.role, l1.status, l1.status_raw, l1.site,
            l1.timepoint, l1.date) == ("P1", "L1", "lesion", "progressive", "PD", "liver",
                                       "month 12", "2020-01-02")
    assert (l1.assembly, l1.source, l1.gene, l1.hgvsp) == ("GRCh38", "p1.tsv", "KIT", "p.D816V")
    assert set(SHEET_COLUMNS) <= set(calls.columns)


def test_the_only_sample_of_a_file_is_taken_for_a_name_it_lacks(cohort, caplog):
    calls = read_calls(cohort)
    p2 = calls[calls["patient_id"] == "P2"]
    assert list(p2["sample_id"]) == ["P2_L1"] and list(p2["alt_count"]) == [3]
    assert "using its only tumour sample 'X'" in caplog.text


def test_a_sample_missing_from_a_file_of_several_names_the_sheet_line(tmp_path):
    (tmp_path / "p1.tsv").write_text(HEAD + row("T1", D816V, 40, 200) + row("T2", D816V, 0, 90)
                                     + row("T3", D816V, 0, 90))
    sheet = write_sheet(tmp_path, [
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\t\t\tT1\tp1.tsv\tGRCh38\n",
        "P1\tL2\tP1_L2\tlesion\tSD\tliver\t\t\tT9\tp1.tsv\tGRCh38\n",
    ])
    with pytest.raises(SampleSheetError, match=r"sample 'T9' is not in") as error:
        read_calls(sheet)
    assert error.value.where == 3 and error.value.field == "vcf_sample"


def test_rows_are_sorted_and_one_per_sample_and_variant_keeping_the_deepest(tmp_path, caplog):
    (tmp_path / "a.tsv").write_text(HEAD + row("T1", D816V, 5, 50))
    (tmp_path / "b.tsv").write_text(HEAD + row("T1", D816V, 30, 150) + row("T1", D842V, 9, 90))
    sheet = write_sheet(tmp_path, [
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\t\t\tT1\tb.tsv\tGRCh38\n",
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\t\t\tT1\ta.tsv\tGRCh38\n",
    ])
    calls = read_calls(sheet)
    assert list(calls["variant_key"]) == ["4:54285926:A>T", "4:54733155:A>T"]  # by position
    kit = calls[calls["variant_key"] == "4:54733155:A>T"].iloc[0]
    assert (int(kit.depth), kit.source) == (150, "b.tsv")
    assert "appear in more than one calls file" in caplog.text


def test_one_build_per_patient(tmp_path):
    (tmp_path / "a.tsv").write_text(HEAD + row("T1", D816V, 40, 200))
    (tmp_path / "b.tsv").write_text(HEAD + row("T2", D816V, 40, 200))
    sheet = write_sheet(tmp_path, [
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\t\t\tT1\ta.tsv\tGRCh38\n",
        "P1\tL2\tP1_L2\tlesion\tSD\tliver\t\t\tT2\tb.tsv\tGRCh37\n",
    ])
    with pytest.raises(CallsFileError, match=r"mixes genome builds: this file is GRCh37 but a\.tsv"):
        read_calls(sheet)


# ------------------------------------------------------------------------------------------
# genes
# ------------------------------------------------------------------------------------------

def test_parse_genes():
    assert parse_genes(None) == DEFAULT_GENES == ("KIT", "PDGFRA")
    assert parse_genes(" kit, Pdgfra ,KIT") == ("KIT", "PDGFRA")
    assert parse_genes(["tp53"]) == ("TP53",)
    assert parse_genes("KIT,all") is None
    with pytest.raises(OptionError, match="at least one gene"):
        parse_genes(" , ")


def test_gene_windows_only_for_bundled_genes():
    assert gene_windows(None) is None and gene_windows(("KIT", "TP53")) is None
    assert gene_windows(("KIT",)) == [("4", 55523095, 55607881), ("4", 54656928, 54741715)]


def test_genes_filter_keeps_the_windows_asked_for(cohort, caplog):
    keys = lambda calls: sorted(set(calls["variant_key"]))  # noqa: E731
    assert keys(read_calls(cohort)) == ["4:54285926:A>T", "4:54733155:A>T"]
    assert keys(read_calls(cohort, genes="KIT")) == ["4:54733155:A>T"]
    assert keys(read_calls(cohort, genes="PDGFRA")) == ["4:54285926:A>T"]
    assert keys(read_calls(cohort, genes="all")) == ["17:7675088:C>T", "4:54285926:A>T",
                                                     "4:54733155:A>T"]
    assert read_calls(cohort, genes="TP53").empty  # no bundled model, no annotation
    assert "--genes TP53: no bundled gene model" in caplog.text


# ------------------------------------------------------------------------------------------
# detected: the exact thresholds
# ------------------------------------------------------------------------------------------

def table(rows: list[tuple], role: str | None = "lesion") -> pd.DataFrame:
    """A calls-like table of (alt_count, depth) rows; vaf is their ratio."""
    frame = pd.DataFrame(rows, columns=["alt_count", "depth"]).astype("Int64")
    frame["vaf"] = frame["alt_count"].astype(float) / frame["depth"].astype(float)
    if role is not None:
        frame["role"] = role
    return frame


def states(series: pd.Series) -> list:
    return [None if pd.isna(x) else bool(x) for x in series]


def test_detected_at_the_tissue_thresholds_boundaries_included():
    t = Thresholds()  # min_depth 20, min_alt 3, min_vaf 0.02
    got = t.detect_calls(table([
        (3, 20),    # every threshold met exactly: detected
        (3, 19),    # depth one below: the site does not count as read
        (2, 20),    # ALT one below: read, not detected
        (3, 150),   # VAF exactly 0.02: detected
        (3, 151),   # VAF just under 0.02: not detected
        (0, 500),   # read, no ALT
    ]))
    assert states(got) == [True, None, False, True, False, False]


def test_detected_unknown_counts():
    t = Thresholds()
    frame = pd.DataFrame({"alt_count": pd.array([None, 5, None], dtype="Int64"),
                          "depth": pd.array([100, None, 100], dtype="Int64"),
                          "vaf": [0.05, 0.5, None]})
    # ALT estimated as round(vaf x depth) = 5; depth unknown: not read; nothing known: not read
    assert states(t.detect_calls(frame)) == [True, None, False]


def test_detected_with_custom_thresholds_is_inclusive_too():
    t = Thresholds(min_depth=50, min_alt=5, min_vaf=0.1)
    got = t.detect_calls(table([(5, 50), (5, 49), (4, 50), (5, 51)]))
    assert states(got) == [True, None, False, False]  # 5/51 < 0.1


def test_plasma_rows_use_the_plasma_thresholds():
    t = Thresholds()  # plasma: min_depth 500, min_alt 3, min_vaf 0.001
    rows = [(3, 3000), (3, 3001), (30, 499), (2, 3000), (3, 500)]
    assert states(t.detect_calls(table(rows, role="plasma"))) == [True, False, None, False, True]
    # the same counts in tissue: 3/3000 is under the tissue VAF, 30/499 is read and over it
    assert states(t.detect_calls(table(rows, role="lesion"))) == [False, False, True, False, False]
    # a table without a role column: tissue thresholds
    assert states(t.detect_calls(table(rows, role=None))) == [False, False, True, False, False]
    mixed = table(rows)
    mixed["role"] = ["plasma", "lesion", "plasma", "lesion", "plasma"]
    assert states(t.detect_calls(mixed)) == [True, False, None, False, True]
    custom = Thresholds(plasma_min_depth=1000, plasma_min_alt=4, plasma_min_vaf=0.002)
    assert states(custom.detect_calls(table([(4, 2000), (4, 999), (3, 1000), (4, 2001)],
                                            role="plasma"))) == [True, None, False, False]


def test_build_calls_decides_detected_at_the_boundary(tmp_path):
    (tmp_path / "a.tsv").write_text(HEAD + row("T1", D816V, 3, 150) + row("T1", D842V, 3, 151))
    (tmp_path / "cf.tsv").write_text(HEAD + row("C", D816V, 3, 3000) + row("C", D842V, 3, 499))
    sheet = write_sheet(tmp_path, [
        "P1\tL1\tP1_L1\tlesion\tPD\tliver\t\t\tT1\ta.tsv\tGRCh38\n",
        "P1\tcf\tP1_cf\tplasma\tunknown\tblood\t\t\tC\tcf.tsv\tGRCh38\n",
    ])
    calls = read_calls(sheet).set_index(["sample_id", "variant_key"])["detected"]
    assert states(calls.loc[[("P1_L1", "4:54733155:A>T"), ("P1_L1", "4:54285926:A>T"),
                             ("P1_cf", "4:54733155:A>T"), ("P1_cf", "4:54285926:A>T")]]) == [
        True, False, True, None]
    strict = read_calls(sheet, min_vaf=0.03).set_index(["sample_id", "variant_key"])["detected"]
    assert states(strict.loc[[("P1_L1", "4:54733155:A>T")]]) == [False]


def test_every_place_that_decides_detected_asks_thresholds_detect_calls(cohort, tmp_path,
                                                                         monkeypatch):
    """One home: the calls table, the --calls tables and the lesion states all take
    ``detected`` from :meth:`Thresholds.detect_calls`."""
    calls = read_calls(cohort)
    write_table(calls, tmp_path / "calls.tsv")

    def nothing(self, frame):
        return pd.Series(False, index=frame.index, dtype="boolean")

    monkeypatch.setattr(Thresholds, "detect_calls", nothing)
    assert not read_calls(cohort)["detected"].any()
    assert not read_calls_table(tmp_path / "calls.tsv")["detected"].any()
    states_ = evidence.sample_states(calls, thresholds=Thresholds())
    assert "detected" not in set(states_["state"])


# ------------------------------------------------------------------------------------------
# precomputed calls tables
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_a_written_calls_table_reads_back_as_the_same_table(cohort, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    calls = read_calls(cohort)
    write_table(calls, tmp_path / f"calls{suffix}")
    again = read_calls_table(tmp_path / f"calls{suffix}")
    pd.testing.assert_frame_equal(again, calls, check_dtype=False)
    assert list(again.columns) == CALLS_COLUMNS


def test_tables_of_several_patients_gather_and_batch(cohort, tmp_path):
    calls = read_calls(cohort)
    for patient, part in calls.groupby("patient_id"):
        write_table(part, tmp_path / f"{patient}.tsv")
    paths = [tmp_path / "P2.tsv", tmp_path / "P1.tsv"]
    gathered = read_calls_table(paths)
    pd.testing.assert_frame_equal(gathered, calls, check_dtype=False)
    order, batches = calls_table_batches(paths, patients_per_batch=1, also_patients=["P3"])
    assert order == ["P1", "P2", "P3"]
    got = {tuple(patients): part for patients, part in batches}
    assert list(got) == [("P1",), ("P2",), ("P3",)]
    pd.testing.assert_frame_equal(got[("P1",)], calls[calls["patient_id"] == "P1"],
                                  check_dtype=False)
    assert got[("P3",)].empty and list(got[("P3",)].columns) == CALLS_COLUMNS


def test_a_table_takes_the_thresholds_of_the_command_that_reads_it(cohort, tmp_path):
    write_table(read_calls(cohort), tmp_path / "calls.tsv")
    assert read_calls_table(tmp_path / "calls.tsv")["detected"].all()
    strict = read_calls_table(tmp_path / "calls.tsv", thresholds=Thresholds(min_alt=11))
    assert states(strict.set_index(["sample_id", "variant_key"])["detected"].sort_index()) == [
        False, True, True, False]  # 10, 40, 12, 3 ALT reads


def test_a_sample_repeated_across_tables_is_refused(cohort, tmp_path):
    write_table(read_calls(cohort), tmp_path / "a.tsv")
    shutil.copy(tmp_path / "a.tsv", tmp_path / "b.tsv")
    with pytest.raises(CallsFileError, match="in two calls tables"):
        read_calls_table([tmp_path / "a.tsv", tmp_path / "b.tsv"])


def test_a_table_missing_a_column_is_named(cohort, tmp_path):
    read_calls(cohort).drop(columns=["depth"]).to_csv(tmp_path / "x.tsv", sep="\t", index=False)
    with pytest.raises(CallsFileError, match="missing column"):
        read_calls_table(tmp_path / "x.tsv")


def test_empty_calls_table_has_the_columns():
    assert list(empty_calls_table().columns) == CALLS_COLUMNS and empty_calls_table().empty


# ------------------------------------------------------------------------------------------
# reference: REF check and left-alignment
# ------------------------------------------------------------------------------------------

def test_a_ref_that_is_not_the_reference_names_the_record(grch38_reference):
    reference = Reference(grch38_reference)
    base = reference.fetch("chr4", D816V[1], D816V[1])
    wrong = next(b for b in "ACGT" if b != base)
    frame = pd.DataFrame({"assembly": ["GRCh38"], "chrom_raw": ["chr4"], "pos": [D816V[1]],
                          "ref": [wrong], "alt": ["-"], "source": ["a.vcf"], "record": [7]})
    with pytest.raises(CallsFileError, match=f"REF {wrong} does not match the reference"):
        normalise_calls(frame, reference)
    frame["ref"] = base
    assert normalise_calls(frame.copy(), reference)["ref"].iloc[0] == base


def test_a_deletion_is_left_aligned_on_the_reference(grch38_reference):
    reference = Reference(grch38_reference)
    # a repeat of the base at pos - 1: deleting the second copy is deleting the first
    pos = next(p for p in range(D816V[1] - 200, D816V[1])
               if reference.fetch("chr4", p - 1, p - 1) == reference.fetch("chr4", p, p)
               and reference.fetch("chr4", p - 2, p - 2) != reference.fetch("chr4", p, p))
    base = reference.fetch("chr4", pos, pos)
    frame = pd.DataFrame({"assembly": ["GRCh38"], "chrom_raw": ["chr4"], "pos": [pos],
                          "ref": [base], "alt": ["-"], "source": ["a.vcf"], "record": [7]})
    moved = normalise_calls(frame, reference)
    assert (moved["pos"].iloc[0], moved["ref"].iloc[0], moved["alt"].iloc[0]) == (
        pos - 1, base, "-")


# ------------------------------------------------------------------------------------------
# read counts from the BAM fixtures
# ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_bam_sheet():
    sheet = read_samplesheet(FIXTURES / "samplesheet.tsv")
    return sheet[sheet["patient_id"].isin(["GIST02", "GIST03"])]


def by_site(calls: pd.DataFrame) -> pd.DataFrame:
    return calls.set_index(["sample_id", "variant_key"])


def test_sites_detected_elsewhere_in_the_patient_are_filled_in_from_the_bam(demo_bam_sheet):
    calls = by_site(build_calls(demo_bam_sheet, sheet_path=FIXTURES / "samplesheet.tsv"))
    filled = calls.loc[("GIST02_L2", "4:54733155:A>T")]  # D816V, called in L1 only
    assert (filled.source, filled.caller, filled.record, int(filled.alt_count),
            int(filled.depth)) == ("reads", "reads", "bam/GIST02_L2.bam", 1, 159)
    assert filled.detected is not pd.NA and not filled.detected
    assert (filled.hgvsp, filled.status_raw, filled.site) == ("p.D816V", "SD", "liver")
    kept = calls.loc[("GIST03_L1", "4:54733174:T>G")]  # the caller's record, left as it is
    assert (kept.source, int(kept.alt_count), int(kept.depth)) == (
        "vcf/GIST03_L1.varscan.snp.Somatic.hc.vcf", 44, 207)
    # GIST03_L3 has no BAM: nothing filled in for it
    assert set(calls.loc["GIST03_L3"].index) == {"4:54726012:->TGCCTA"}
    assert (calls["source"] == "reads").sum() == 4


def test_recount_replaces_the_callers_counts_by_the_reads(demo_bam_sheet):
    calls = by_site(build_calls(demo_bam_sheet, sheet_path=FIXTURES / "samplesheet.tsv",
                                recount=True))
    recounted = calls.loc[("GIST03_L1", "4:54733174:T>G")]
    assert (recounted.source, recounted.record, recounted.caller, int(recounted.alt_count),
            int(recounted.depth)) == ("reads", "bam/GIST03_L1.bam", "varscan2", 44, 391)
    assert recounted.vaf == pytest.approx(44 / 391) and bool(recounted.detected)
    # the insertion the BAM does not cover: depth 0, so not read
    missing = calls.loc[("GIST03_L1", "4:54726012:->TGCCTA")]
    assert (int(missing.depth), pd.isna(missing.detected)) == (0, True)
    assert calls.loc[("GIST03_L3", "4:54726012:->TGCCTA")].source.startswith("vcf/")


def test_only_sites_detected_in_the_patient_are_read_from_the_bam(tmp_path):
    t670i = ("chr4", 54729353, "C", "T")
    (tmp_path / "l1.tsv").write_text(HEAD + row("T1", t670i, 47, 199) + row("T1", D816V, 2, 209))
    (tmp_path / "l2.tsv").write_text(HEAD + row("T2", D842V, 30, 150))
    shutil.copy(FIXTURES / "bam" / "GIST02_L2.bam", tmp_path / "l2.bam")
    shutil.copy(FIXTURES / "bam" / "GIST02_L2.bam.bai", tmp_path / "l2.bam.bai")
    sheet = write_sheet(tmp_path, [
        "GIST02\tL1\tGIST02_L1\tlesion\tPD\tliver\t\t\tT1\tl1.tsv\tGRCh38\t\n",
        "GIST02\tL2\tGIST02_L2\tlesion\tSD\tliver\t\t\tT2\tl2.tsv\tGRCh38\tl2.bam\n",
    ], extra="\tbam")
    calls = by_site(read_calls(sheet))
    l2 = calls.loc["GIST02_L2"]
    # T670I, detected in L1 (47/199), is read in L2's BAM; D816V at 2/209 (not detected) is not
    assert sorted(l2.index) == ["4:54285926:A>T", "4:54729353:C>T"]
    assert (l2.loc["4:54729353:C>T", "source"], int(l2.loc["4:54729353:C>T", "depth"])) == (
        "reads", 163)
