"""Copy-number segment files, KIT/PDGFRA copy number, and the road each progressive lesion took.

Fixtures are written here the way each tool writes its output (header, column order,
coordinate convention); KIT on GRCh38 is chr4:54,657,928-54,740,715 and PDGFRA
chr4:54,229,097-54,298,245 (the bundled transcript models).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lesiontrack import read_samplesheet
from lesiontrack.copynumber import (
    call_copy_number,
    copy_number_from_log2,
    copy_number_table,
    gene_copy_number,
    gene_spans,
    lesion_copy_number,
)
from lesiontrack.errors import (
    LesionTrackError,
    OptionError,
    ReferenceMismatchError,
    SampleSheetError,
)
from lesiontrack.io.cnv import (
    CopyNumberFileError,
    check_build,
    read_copy_number,
    read_segments,
    select_sample,
)
from lesiontrack.mechanism import (
    controlled_amplifications,
    mechanism_by_patient,
    mechanism_counts,
    progression_mechanism,
)

KIT38 = (54_657_928, 54_740_715)
PDGFRA38 = (54_229_097, 54_298_245)
CHR4_38 = 190_214_555


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Fixtures written like the tools write them


def cnvkit_cns(kit_log2=2.32, call=False):
    """CNVkit ``segment`` (.cns) / ``call`` (.call.cns): BED-like, 0-based half-open starts."""
    if call:
        head = "chromosome\tstart\tend\tgene\tlog2\tbaf\tcn\tcn1\tcn2\tdepth\tprobes\tweight"
        rows = [
            "chr4\t10000\t54200000\tZNF595,ZNF718,ZNF876P,Antitarget\t-0.0213\t0.49\t2\t1\t1\t"
            "212.3\t1530\t611.2",
            f"chr4\t54200000\t54800000\tPDGFRA,KIT,KDR\t{kit_log2}\t0.31\t10\t7\t3\t1650.4\t46\t"
            "40.1",
            "chr4\t54800000\t190123000\tSRD5A3,TMEM165,Antitarget\t0.0102\t0.5\t2\t1\t1\t"
            "205.9\t9820\t3311.8",
        ]
    else:
        head = "chromosome\tstart\tend\tgene\tlog2\tdepth\tprobes\tweight"
        rows = [
            "chr4\t10000\t54200000\tZNF595,ZNF718,ZNF876P,Antitarget\t-0.0213\t212.3\t1530\t611.2",
            f"chr4\t54200000\t54800000\tPDGFRA,KIT,KDR\t{kit_log2}\t1650.4\t46\t40.1",
            "chr4\t54800000\t190123000\tSRD5A3,TMEM165,Antitarget\t0.0102\t205.9\t9820\t3311.8",
        ]
    return "\n".join([head, *rows]) + "\n"


def gatk_called_seg(kit_points=35, chr4_length=CHR4_38, extra=""):
    """GATK CallCopyRatioSegments: SAM header, 1-based inclusive, CALL in +/-/0."""
    return (
        "@HD\tVN:1.6\n"
        "@SQ\tSN:chr1\tLN:248956422\n"
        f"@SQ\tSN:chr4\tLN:{chr4_length}\n"
        "@RG\tID:GATKCopyNumber\tSM:P1-L1-T\n"
        "CONTIG\tSTART\tEND\tNUM_POINTS_COPY_RATIO\tMEAN_LOG2_COPY_RATIO\tCALL\n"
        "chr1\t12081\t248918000\t5120\t0.002313\t0\n"
        "chr4\t53001\t54600000\t880\t-0.012945\t0\n"
        f"chr4\t54600001\t54760000\t{kit_points}\t1.584963\t+\n"
        "chr4\t54760001\t190123000\t4021\t0.008771\t0\n"
        + extra
    )


def facets_cncf(suite=False):
    """FACETS ``fit$cncf`` written by write.table (chrom numeric, 23 = X, lcn.em may be NA);
    facets-suite's ``.cncf.txt`` has ``ID`` and ``loc.start``/``loc.end``."""
    if suite:
        head = ("ID\tchrom\tloc.start\tloc.end\tseg\tnum.mark\tnhet\tcnlr.median\tmafR\t"
                "segclust\tcnlr.median.clust\tmafR.clust\tcf\ttcn\tlcn\tcf.em\ttcn.em\tlcn.em")
        rows = [
            "P1_L1\t4\t69412\t54100233\t12\t3120\t410\t-0.031\t0.002\t3\t-0.03\t0.002\t1\t2\t1\t"
            "1\t2\t1",
            "P1_L1\t4\t54101100\t54900888\t13\t150\t22\t1.62\t0.41\t9\t1.61\t0.4\t0.7\t9\t2\t"
            "0.71\t9\t2",
            "P1_L1\t23\t2700157\t154900000\t40\t2210\t0\t-0.52\t0.01\t2\t-0.5\t0.01\t1\t1\tNA\t"
            "1\t1\tNA",
        ]
    else:
        head = ("chrom\tseg\tnum.mark\tnhet\tcnlr.median\tmafR\tsegclust\tcnlr.median.clust\t"
                "mafR.clust\tstart\tend\tcf.em\ttcn.em\tlcn.em")
        rows = [
            "4\t12\t3120\t410\t-0.031\t0.002\t3\t-0.03\t0.002\t69412\t54100233\t1\t2\t1",
            "4\t13\t150\t22\t1.62\t0.41\t9\t1.61\t0.4\t54101100\t54900888\t0.71\t9\t2",
            "23\t40\t2210\t0\t-0.52\t0.01\t2\t-0.5\t0.01\t2700157\t154900000\t1\t1\tNA",
        ]
    return "\n".join([head, *rows]) + "\n"


def ascat_segments():
    """ASCAT ``ascat.output$segments`` of two samples (write.table, quote=FALSE)."""
    return (
        "sample\tchr\tstartpos\tendpos\tnMajor\tnMinor\n"
        "P1-L1\t4\t61000\t54400000\t1\t1\n"
        "P1-L1\t4\t54400001\t54800000\t5\t2\n"
        "P1-L1\t4\t54800001\t190100000\t1\t1\n"
        "P1-L2\t4\t61000\t190100000\t2\t1\n"
    )


# --------------------------------------------------------------------------------------------
# Reading each format


def test_cnvkit_cns_is_log2_with_zero_based_starts_shifted(tmp_path):
    seg = read_segments(write(tmp_path, "L1.cns", cnvkit_cns()))
    assert (seg.format, seg.kind) == ("cnvkit", "log2")
    row = seg.frame.iloc[1]
    assert (row.chrom, row.start, row.end) == ("4", 54_200_001, 54_800_000)
    assert row.log2 == pytest.approx(2.32) and row.probes == 46 and math.isnan(row.cn)
    assert list(seg.frame["line"]) == [2, 3, 4]


def test_cnvkit_call_cns_uses_cn_as_absolute(tmp_path):
    seg = read_segments(write(tmp_path, "L1.call.cns", cnvkit_cns(call=True)))
    assert (seg.format, seg.kind) == ("cnvkit", "absolute")
    assert list(seg.frame["cn"]) == [2, 10, 2]
    table = gene_copy_number(seg.frame, seg.kind, "KIT", ("4", *KIT38))
    assert table["copy_number"] == 10 and table["call"] == "amplification"


def test_gatk_called_seg_reads_sam_header_and_build(tmp_path):
    seg = read_segments(write(tmp_path, "L1.called.seg", gatk_called_seg()))
    assert (seg.format, seg.kind, seg.assembly) == ("gatk", "log2", "GRCh38")
    assert seg.contig_lengths["4"] == CHR4_38
    kit = seg.frame.iloc[2]
    assert (kit.start, kit.end, kit.probes) == (54_600_001, 54_760_000, 35)
    result = gene_copy_number(seg.frame, seg.kind, "KIT", ("4", *KIT38))
    assert result["copy_number"] == pytest.approx(6.0, abs=1e-4)  # 2 * 2^1.585 = 6
    assert result["call"] == "amplification"


def test_gatk_model_segments_cr_seg_without_call_column(tmp_path):
    text = gatk_called_seg().replace("\tCALL\n", "\n")
    text = "\n".join(line.rsplit("\t", 1)[0] if line[:3] == "chr" else line
                     for line in text.splitlines()) + "\n"
    seg = read_segments(write(tmp_path, "L1.cr.seg", text))
    assert seg.format == "gatk" and len(seg.frame) == 4


@pytest.mark.parametrize("suite", [False, True])
def test_facets_cncf_chrom_23_is_x_and_na_lcn(tmp_path, suite):
    seg = read_segments(write(tmp_path, "L1.cncf.txt", facets_cncf(suite)))
    assert (seg.format, seg.kind) == ("facets", "absolute")
    assert list(seg.frame["chrom"]) == ["4", "4", "X"]
    assert list(seg.frame["cn"]) == [2, 9, 1]
    assert list(seg.frame["probes"]) == [3120, 150, 2210]
    assert seg.frame.iloc[1].start == 54_101_100  # 1-based, as written


def test_ascat_multi_sample_file_and_sample_choice(tmp_path):
    seg = read_segments(write(tmp_path, "ascat.segments.txt", ascat_segments()))
    assert (seg.format, seg.kind, seg.samples) == ("ascat", "absolute", ["P1-L1", "P1-L2"])
    l1 = select_sample(seg, "P1-L1")
    assert list(l1["cn"]) == [2, 7, 2]
    assert list(select_sample(seg, "P1-L2")["cn"]) == [3]
    with pytest.raises(CopyNumberFileError, match="none is called 'P9'"):
        select_sample(seg, "P9")


def test_r_write_table_defaults_quotes_and_row_names(tmp_path):
    # write.table(segments, sep = "\t") with R's defaults: quote = TRUE, row.names = TRUE
    lines = ascat_segments().splitlines()
    quoted = ["\t".join(f'"{c}"' for c in lines[0].split("\t"))]
    for number, line in enumerate(lines[1:], start=1):
        sample, *rest = line.split("\t")
        quoted.append("\t".join([f'"{number}"', f'"{sample}"', *rest]))
    seg = read_segments(write(tmp_path, "ascat.txt", "\n".join(quoted) + "\n"))
    assert seg.samples == ["P1-L1", "P1-L2"]
    assert list(select_sample(seg, "P1-L1")["cn"]) == [2, 7, 2]


@pytest.mark.parametrize(("header", "kind"), [
    ("chrom\tstart\tend\tlog2", "log2"),
    ("chromosome\tstart\tend\tcopy_number", "absolute"),
    ("#chrom\tstart\tend\tcn\tprobes", "absolute"),
])
def test_plain_files(tmp_path, header, kind):
    values = "1" if kind == "log2" else "8"
    extra = "\t12" if header.endswith("probes") else ""
    text = f"{header}\nchr4\t54000001\t54800000\t{values}{extra}\n"
    seg = read_segments(write(tmp_path, "plain.tsv", text))
    assert (seg.format, seg.kind) == ("plain", kind)
    assert seg.frame.iloc[0].start == 54_000_001


def test_gzip_input(tmp_path):
    import gzip

    path = tmp_path / "L1.cns.gz"
    path.write_bytes(gzip.compress(cnvkit_cns().encode()))
    assert len(read_segments(path).frame) == 3


# --------------------------------------------------------------------------------------------
# Copy number over a gene


def test_purity_adjustment_by_hand():
    # r = 2^1 = 2, p = 0.5, P = 2: CN = 2 * (2 - 0.5) / 0.5 = 6
    assert copy_number_from_log2(1.0, 0.5) == pytest.approx(6.0)
    # r = 1.3, p = 0.6: CN = 2 * (1.3 - 0.4) / 0.6 = 3
    assert copy_number_from_log2(math.log2(1.3), 0.6) == pytest.approx(3.0)
    # no tumour content: p = 1, CN = 2 * r
    assert copy_number_from_log2(1.0) == pytest.approx(4.0)
    # a ratio below the normal contamination is clipped at 0
    assert copy_number_from_log2(-3.0, 0.5) == 0.0


def test_purity_adjustment_through_the_gene_call():
    frame = pd.DataFrame({"chrom": ["4"], "start": [54_000_001], "end": [55_000_000],
                          "log2": [1.0], "cn": [math.nan], "probes": [40.0]})
    raw = gene_copy_number(frame, "log2", "KIT", ("4", *KIT38))
    adjusted = gene_copy_number(frame, "log2", "KIT", ("4", *KIT38), purity=0.5)
    assert (raw["copy_number"], raw["call"]) == (4.0, "gain")
    assert "tumour content unknown" in raw["reason"]
    assert (adjusted["copy_number"], adjusted["call"]) == (6.0, "amplification")
    low = gene_copy_number(frame, "log2", "KIT", ("4", *KIT38), purity=0.15)
    assert low["call"] == "not_evaluable" and "below 0.2" in low["reason"]


def test_amplification_boundary_is_pinned():
    assert call_copy_number(6.0) == "amplification"
    assert call_copy_number(5.99) == "gain"
    assert call_copy_number(2.5) == "gain"
    assert call_copy_number(2.49) == "neutral"
    assert call_copy_number(1.5) == "loss"
    assert call_copy_number(1.51) == "neutral"
    # a tetraploid tumour needs 2.5 x 4 = 10 copies
    assert call_copy_number(9.99, ploidy=4) == "gain"
    assert call_copy_number(10.0, ploidy=4) == "amplification"
    assert call_copy_number(7.0, amp_cn=8) == "gain"


@pytest.mark.parametrize(("cn", "call"), [("6", "amplification"), ("5.99", "gain")])
def test_amplification_boundary_through_a_file(tmp_path, cn, call):
    seg = read_segments(write(tmp_path, "p.tsv", f"chrom\tstart\tend\tcopy_number\n"
                                                 f"4\t54000001\t55000000\t{cn}\n"))
    assert gene_copy_number(seg.frame, seg.kind, "KIT", ("4", *KIT38))["call"] == call


def test_length_weighted_over_two_segments():
    split = 54_700_000
    frame = pd.DataFrame({"chrom": ["4", "4"], "start": [54_000_001, split + 1],
                          "end": [split, 55_000_000], "log2": [math.nan] * 2, "cn": [8.0, 2.0],
                          "probes": [math.nan] * 2})
    result = gene_copy_number(frame, "absolute", "KIT", ("4", *KIT38))
    left = split - KIT38[0] + 1
    right = KIT38[1] - split
    assert result["copy_number"] == pytest.approx((8 * left + 2 * right) / (left + right), abs=1e-4)
    assert result["n_segments"] == 2 and result["covered_fraction"] == 1.0


def test_not_evaluable_without_segment_or_with_too_few_probes(tmp_path):
    seg = read_segments(write(tmp_path, "L1.called.seg", gatk_called_seg(kit_points=2)))
    few = gene_copy_number(seg.frame, seg.kind, "KIT", ("4", *KIT38))
    assert few["call"] == "not_evaluable" and "only 2 probe(s)" in few["reason"]
    elsewhere = seg.frame[seg.frame["chrom"] == "1"]
    none = gene_copy_number(elsewhere, seg.kind, "KIT", ("4", *KIT38))
    assert none["call"] == "not_evaluable" and "no segment" in none["reason"]


def test_gene_spans_all_and_unknown():
    assert set(gene_spans("all", "hg38")) == {"KIT", "PDGFRA"}
    assert gene_spans(["KIT"], "GRCh38")["KIT"] == ("4", *KIT38)
    with pytest.raises(OptionError, match="no transcript model for gene"):
        gene_spans(["EGFR"], "GRCh38")


# --------------------------------------------------------------------------------------------
# The sheet column and the cohort


SHEET_HEAD = "patient_id\tlesion_id\tsample_id\tstatus\tcalls\tcnv\tassembly\n"


def plain_cn(kit, pdgfra):
    return ("chrom\tstart\tend\tcopy_number\n"
            f"4\t54000001\t54500000\t{pdgfra}\n"
            f"4\t54500001\t55000000\t{kit}\n")


@pytest.fixture
def cohort(tmp_path):
    """P1 has one counted secondary (V1); P2 has none."""
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    (tmp_path / "cnv").mkdir()
    files = {"amp_kit": plain_cn(9, 2), "amp_pdgfra": plain_cn(2, 8), "neutral": plain_cn(2, 2)}
    for name, text in files.items():
        write(tmp_path / "cnv", f"{name}.tsv", text)
    rows = [
        ("P1", "L1", "S1", "PD", "neutral"),     # secondary detected
        ("P1", "L2", "S2", "PD", "amp_kit"),     # KIT amplification
        ("P1", "L3", "S3", "PD", "amp_pdgfra"),  # PDGFRA amplification
        ("P1", "L4", "S4", "PD", "amp_kit"),     # both roads
        ("P1", "L5", "S5", "PD", "neutral"),     # unexplained
        ("P1", "L6", "S6", "PD", "neutral"),     # secondary not evaluable
        ("P1", "L7", "S7", "PD", ""),            # no copy-number file
        ("P1", "L8", "S8", "SD", "amp_kit"),     # controlled with KIT amplification
        ("P2", "L1", "S9", "PD", "neutral"),     # no counted secondary, powered
        ("P2", "L2", "S10", "PD", "neutral"),    # no counted secondary, not powered
    ]
    text = SHEET_HEAD + "".join(
        f"{p}\t{lesion}\t{s}\t{st}\ta.vcf\t{'cnv/' + f + '.tsv' if f else ''}\tGRCh38\n"
        for p, lesion, s, st, f in rows)
    sheet = read_samplesheet(write(tmp_path, "sheet.tsv", text))
    states = pd.DataFrame(
        [("P1", lesion, "progressive", "4:55599321:A>T", state) for lesion, state in [
            ("L1", "detected"), ("L2", "absent"), ("L3", "absent"), ("L4", "detected"),
            ("L5", "absent"), ("L6", "not_evaluable"), ("L7", "absent")]]
        + [("P1", "L8", "controlled", "4:55599321:A>T", "absent")],
        columns=["patient_id", "lesion_id", "status", "variant_key", "state"])
    lesions = sheet.drop_duplicates(["patient_id", "lesion_id"]).copy()
    lesions["powered"] = [None] * 8 + [True, False]
    return sheet, states, lesions


def test_sheet_cnv_column_and_read_copy_number(cohort, tmp_path):
    sheet, _, _ = cohort
    assert sheet.loc[0, "cnv"] == "cnv/neutral.tsv"
    assert sheet.loc[0, "cnv_path"] == str(tmp_path / "cnv" / "neutral.tsv")
    assert sheet.loc[6, "cnv_path"] == ""
    segments = read_copy_number(sheet)
    assert set(segments["sample_id"]) == {f"S{i}" for i in range(1, 11)} - {"S7"}
    assert set(segments["format"]) == {"plain"}
    table = copy_number_table(segments, sheet)
    assert len(table) == 20
    s7 = table[table["sample_id"] == "S7"]
    assert set(s7["call"]) == {"not_evaluable"} and "no copy-number file" in s7["reason"].iloc[0]
    kit_s2 = table[(table["sample_id"] == "S2") & (table["gene"] == "KIT")].iloc[0]
    assert (kit_s2["copy_number"], kit_s2["call"]) == (9.0, "amplification")


def test_mechanism_table_on_a_small_cohort(cohort):
    sheet, states, lesions = cohort
    table = copy_number_table(read_copy_number(sheet), sheet)
    mech = progression_mechanism(table, states, lesions)
    got = dict(zip(mech["patient_id"] + ":" + mech["lesion_id"], mech["progression_mechanism"],
                   strict=True))
    assert got == {
        "P1:L1": "secondary_mutation",
        "P1:L2": "KIT_amplification",
        "P1:L3": "PDGFRA_amplification",
        "P1:L4": "secondary_mutation+KIT_amplification",
        "P1:L5": "unexplained",
        "P1:L6": "not_evaluable",
        "P1:L7": "not_evaluable",
        "P2:L1": "unexplained",
        "P2:L2": "not_evaluable",
    }
    reasons = dict(zip(mech["lesion_id"] + mech["patient_id"], mech["reason"], strict=True))
    assert "not evaluable here" in reasons["L6P1"]
    assert "no evaluable copy number for KIT, PDGFRA" in reasons["L7P1"]
    assert "not powered" in reasons["L2P2"]
    assert mechanism_by_patient(mech)["P1"]["L4"] == "secondary_mutation+KIT_amplification"
    counts = mechanism_counts(mech)
    assert counts.iloc[0].tolist() == ["not_evaluable", 3]
    assert dict(zip(counts["progression_mechanism"], counts["lesions"], strict=True))[
        "unexplained"] == 2


def test_low_level_secondary_neither_explains_nor_leaves_unexplained():
    cn = pd.DataFrame({"patient_id": ["P1", "P1"], "lesion_id": ["L1", "L1"],
                       "sample_id": ["S1", "S1"], "gene": ["KIT", "PDGFRA"],
                       "copy_number": [2.0, 2.0], "call": ["neutral", "neutral"],
                       "reason": ["", ""]})
    states = pd.DataFrame({"patient_id": ["P1"], "lesion_id": ["L1"], "status": ["progressive"],
                           "variant_key": ["k"], "state": ["low_level"]})
    lesions = pd.DataFrame({"patient_id": ["P1"], "lesion_id": ["L1"], "status": ["progressive"]})
    row = progression_mechanism(cn, states, lesions).iloc[0]
    assert (row.progression_mechanism, row.secondary) == ("not_evaluable", "low_level")
    with pytest.raises(OptionError, match="unknown lesion state"):
        progression_mechanism(cn, states.assign(state="seen"), lesions)


def test_lesion_copy_number_takes_the_highest_evaluable_region():
    cn = pd.DataFrame({
        "patient_id": ["P1"] * 3, "lesion_id": ["L1"] * 3, "sample_id": ["R1", "R2", "R3"],
        "gene": ["KIT"] * 3, "copy_number": [2.0, 7.5, math.nan],
        "call": ["neutral", "amplification", "not_evaluable"], "reason": ["a", "b", "c"]})
    row = lesion_copy_number(cn).iloc[0]
    assert (row.copy_number, row.call, row.sample_id) == (7.5, "amplification", "R2")
    assert row.samples == "R1:neutral,R2:amplification,R3:not_evaluable"
    none = lesion_copy_number(cn[cn["sample_id"] == "R3"]).iloc[0]
    assert (none.call, none.reason) == ("not_evaluable", "c")


def test_controlled_lesion_with_kit_amplification_is_flagged(cohort):
    sheet, _, lesions = cohort
    table = copy_number_table(read_copy_number(sheet), sheet)
    flags = controlled_amplifications(table, lesions)
    assert flags[["patient_id", "lesion_id", "gene"]].values.tolist() == [["P1", "L8", "KIT"]]
    assert flags.loc[0, "flag"] == "amplification_in_controlled_lesion"


def test_purity_from_the_sheet_column_or_a_mapping(cohort):
    sheet, _, _ = cohort
    segments = pd.DataFrame({
        "patient_id": ["P1"], "lesion_id": ["L1"], "sample_id": ["S1"], "cnv_path": ["x"],
        "format": ["cnvkit"], "kind": ["log2"], "chrom": ["4"], "start": [54_000_001],
        "end": [55_000_000], "log2": [1.0], "cn": [math.nan], "probes": [50.0], "line": [2]})
    one = sheet[sheet["sample_id"] == "S1"]
    by_map = copy_number_table(segments, one, genes=["KIT"], purity={"S1": 0.5})
    assert by_map.loc[0, "copy_number"] == 6.0
    by_column = copy_number_table(segments, one.assign(purity=0.5), genes=["KIT"])
    assert by_column.loc[0, "copy_number"] == 6.0
    with pytest.raises(OptionError, match="not in"):
        copy_number_table(segments, one, genes=["KIT"], purity={"S1": 1.5})


def test_sheet_cnv_file_missing(tmp_path):
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    path = write(tmp_path, "sheet.tsv", SHEET_HEAD + "P1\tL1\tS1\tPD\ta.vcf\tnope.cns\tGRCh38\n")
    with pytest.raises(SampleSheetError) as info:
        read_samplesheet(path)
    assert "sheet.tsv:2" in str(info.value) and "field 'cnv'" in str(info.value)


# --------------------------------------------------------------------------------------------
# Bad files: one line naming file, line and field


BAD = [
    ("missing_column.cns", "chromosome\tstart\tend\tgene\tdepth\nchr4\t0\t10\tKIT\t3\n",
     "without column(s) log2", 1, "log2"),
    ("non_numeric.cns", cnvkit_cns().replace("2.32", "high"), "'high' is not a number", 3,
     "log2"),
    ("unsorted.tsv", "chrom\tstart\tend\tlog2\n4\t500\t900\t0\n4\t100\t400\t0\n",
     "unsorted segments", 3, "start"),
    ("overlap.seg", "CONTIG\tSTART\tEND\tNUM_POINTS_COPY_RATIO\tMEAN_LOG2_COPY_RATIO\tCALL\n"
     "chr4\t1\t1000\t5\t0.1\t0\nchr4\t900\t2000\t5\t0.1\t0\n", "overlapping segments", 3, "start"),
    ("regrouped.tsv", "chrom\tstart\tend\tcopy_number\n4\t1\t10\t2\n5\t1\t10\t2\n4\t20\t30\t2\n",
     "chromosome 4 appears again", 4, "chrom"),
    ("backwards.tsv", "chrom\tstart\tend\tcopy_number\n4\t500\t100\t2\n",
     "starts after it ends", 2, "start"),
    ("fractional.txt", "sample\tchr\tstartpos\tendpos\tnMajor\tnMinor\nS\t4\t1.5\t9\t1\t1\n",
     "not a whole number", 2, "startpos"),
    ("short.cns", "chromosome\tstart\tend\tgene\tlog2\nchr4\t0\t10\n", "3 cells", 2, "gene"),
]


@pytest.mark.parametrize(("name", "text", "message", "line", "field"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_files_one_line_error(tmp_path, name, text, message, line, field):
    path = write(tmp_path, name, text)
    with pytest.raises(CopyNumberFileError) as info:
        read_segments(path)
    error = str(info.value)
    assert isinstance(info.value, LesionTrackError)
    assert "\n" not in error and message in error
    assert f"{name}:{line}:" in error and f"field '{field}'" in error


def test_unknown_header_and_empty_file(tmp_path):
    with pytest.raises(CopyNumberFileError, match="not a copy-number segment file") as info:
        read_segments(write(tmp_path, "x.tsv", "a\tb\tc\n1\t2\t3\n"))
    assert "x.tsv:1:" in str(info.value)
    with pytest.raises(CopyNumberFileError, match="empty file"):
        read_segments(write(tmp_path, "e.tsv", "\n"))


def test_build_checks(tmp_path):
    grch37_header = read_segments(write(tmp_path, "37.called.seg",
                                        gatk_called_seg(chr4_length=191_154_276)))
    assert grch37_header.assembly == "GRCh37"
    with pytest.raises(ReferenceMismatchError, match=r"on GRCh37 .* but the sample's calls are on "
                                                     r"GRCh38") as info:
        check_build(grch37_header, "GRCh38")
    assert "field 'assembly'" in str(info.value)
    check_build(grch37_header, "GRCh37")
    # chr4 beyond GRCh38's 190,214,555 bp but within GRCh37's 191,154,276
    beyond = read_segments(write(tmp_path, "b.tsv", "chrom\tstart\tend\tlog2\n"
                                                    "4\t1\t190500000\t0\n"))
    with pytest.raises(ReferenceMismatchError) as info:
        check_build(beyond, "GRCh38")
    error = str(info.value)
    assert "b.tsv:2:" in error and "field 'end'" in error and "it fits GRCh37" in error
    check_build(beyond, "GRCh37")


def test_read_copy_number_checks_the_build(tmp_path):
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    write(tmp_path, "L1.cns", "chromosome\tstart\tend\tgene\tlog2\n"
                              "chr4\t0\t190500000\tKIT\t0.1\n")
    sheet = read_samplesheet(write(tmp_path, "sheet.tsv",
                                   SHEET_HEAD + "P1\tL1\tS1\tPD\ta.vcf\tL1.cns\tGRCh38\n"))
    with pytest.raises(ReferenceMismatchError, match="beyond chr4 of GRCh38"):
        read_copy_number(sheet)
    # the build of the calls (per sample) overrides the sheet's
    assert len(read_copy_number(sheet, assembly={"S1": "GRCh37"})) == 1
    with pytest.raises(ReferenceMismatchError, match="the calls of sample S1"):
        read_copy_number(sheet.assign(assembly=""), assembly="GRCh38")


def test_a_segment_file_with_bytes_that_are_not_utf8_names_their_line(tmp_path):
    from lesiontrack.io.cnv import read_segments

    path = tmp_path / "L1.cns"
    path.write_bytes(b"chromosome\tstart\tend\tlog2\nchr4\t1\t100\t0.1\nchr4\t101\t200\t\xff0.2\n")
    with pytest.raises(LesionTrackError) as info:
        read_segments(path)
    assert info.value.where == 3 and "not UTF-8" in str(info.value)
