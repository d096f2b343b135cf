"""MAF and plain TSV/CSV readers (lesiontrack.io.maf, lesiontrack.io.tsv), on small real-format
fixtures and on the real MAFs under shared/."""

from __future__ import annotations

import gzip
import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from lesiontrack.errors import CallsFileError, SampleSheetError
from lesiontrack.io import RAW_COLUMNS, read_calls_file
from lesiontrack.io.maf import read_maf
from lesiontrack.io.tsv import read_tsv
from lesiontrack.samplesheet import read_meskit_clinical
from lesiontrack.variants import minimal

SHARED = Path(__file__).resolve().parents[2] / "shared"
VCF_EXAMPLES = SHARED / "vcf-examples"
MESKIT = SHARED / "external-data" / "meskit_crc_hz"

KIT37 = [("4", 55523095, 55607881)]  # KIT on GRCh37 with a margin

# The columns vcf2maf 2.4 writes (standard MAF block, VEP block abridged, then FILTER..vcf_pos).
VCF2MAF_COLUMNS = [
    "Hugo_Symbol", "Entrez_Gene_Id", "Center", "NCBI_Build", "Chromosome", "Start_Position",
    "End_Position", "Strand", "Variant_Classification", "Variant_Type", "Reference_Allele",
    "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "dbSNP_RS", "dbSNP_Val_Status",
    "Tumor_Sample_Barcode", "Matched_Norm_Sample_Barcode", "Match_Norm_Seq_Allele1",
    "Match_Norm_Seq_Allele2", "Tumor_Validation_Allele1", "Tumor_Validation_Allele2",
    "Match_Norm_Validation_Allele1", "Match_Norm_Validation_Allele2", "Verification_Status",
    "Validation_Status", "Mutation_Status", "Sequencing_Phase", "Sequence_Source",
    "Validation_Method", "Score", "BAM_File", "Sequencer", "Tumor_Sample_UUID",
    "Matched_Norm_Sample_UUID", "HGVSc", "HGVSp", "HGVSp_Short", "Transcript_ID", "Exon_Number",
    "t_depth", "t_ref_count", "t_alt_count", "n_depth", "n_ref_count", "n_alt_count",
    "all_effects", "Allele", "Gene", "Feature", "Feature_type", "Consequence", "CDS_position",
    "Protein_position", "Amino_acids", "Codons", "SYMBOL", "BIOTYPE", "CANONICAL", "EXON", "AF",
    "IMPACT", "FILTER", "flanking_bps", "vcf_id", "vcf_qual", "vcf_pos"
]


def write_maf(path: Path, columns: list[str], rows: list[dict[str, str]], head: str = "") -> Path:
    lines = [head.rstrip("\n")] if head else []
    lines.append("\t".join(columns))
    lines += ["\t".join(str(row.get(c, "")) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def vcf2maf_row(**values: str) -> dict[str, str]:
    row = {
        "Hugo_Symbol": "KIT", "Entrez_Gene_Id": "3815", "Center": ".", "NCBI_Build": "GRCh37",
        "Chromosome": "4", "Strand": "+", "Tumor_Sample_Barcode": "LES1",
        "Matched_Norm_Sample_Barcode": "NORMAL", "Transcript_ID": "ENST00000288135",
        "SYMBOL": "KIT", "BIOTYPE": "protein_coding", "CANONICAL": "YES", "FILTER": "PASS",
        "n_depth": "60", "n_ref_count": "60", "n_alt_count": "0",
    }
    row.update(values)
    return row


def kit_vcf2maf(path: Path, extra: list[dict[str, str]] | None = None) -> Path:
    """Three KIT calls of one lesion as vcf2maf writes them (GRCh37)."""
    rows = [
        vcf2maf_row(  # D816V, counts complete
            Start_Position="55599321", End_Position="55599321", Variant_Type="SNP",
            Variant_Classification="Missense_Mutation", Reference_Allele="A",
            Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="T", HGVSc="c.2447A>T",
            HGVSp="p.Asp816Val", HGVSp_Short="p.D816V", t_depth="200", t_ref_count="150",
            t_alt_count="50", vcf_pos="55599321", Allele="T", EXON="17/21",
        ),
        vcf2maf_row(  # exon 11 deletion (VCF 4:55593600 CAGTGGA>C); t_depth unknown
            Start_Position="55593601", End_Position="55593606", Variant_Type="DEL",
            Variant_Classification="In_Frame_Del", Reference_Allele="AGTGGA",
            Tumor_Seq_Allele1="AGTGGA", Tumor_Seq_Allele2="-", HGVSc="c.1669_1674del",
            HGVSp="p.Trp557_Lys558del", HGVSp_Short="p.W557_K558del", t_depth=".",
            t_ref_count="60", t_alt_count="40", vcf_pos="55593600", Allele="-",
        ),
        vcf2maf_row(  # exon 9 duplication (VCF 4:55592178 C>CTGCCTA); ref count unknown
            Start_Position="55592178", End_Position="55592179", Variant_Type="INS",
            Variant_Classification="In_Frame_Ins", Reference_Allele="-",
            Tumor_Seq_Allele1="-", Tumor_Seq_Allele2="TGCCTA", HGVSc="c.1504_1509dup",
            HGVSp="p.Ala502_Tyr503dup", HGVSp_Short="p.A502_Y503dup", t_depth="80",
            t_ref_count=".", t_alt_count="20", vcf_pos="55592178", Allele="TGCCTA",
        ),
    ]
    return write_maf(path, VCF2MAF_COLUMNS, rows + (extra or []), head="#version 2.4")


def assert_names(error: CallsFileError, file: str, line: int | None, column: str | None) -> None:
    """The error names the file, the line and the column, in its attributes and its text."""
    text = str(error)
    assert file in text and error.file is not None and error.file.endswith(file)
    if line is not None:
        assert error.where == line and str(line) in text
    if column is not None:
        assert error.field == column and column in text


def one(calls: pd.DataFrame, pos: int) -> pd.Series:
    rows = calls[calls["pos"] == pos]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# ------------------------------------------------------------------------------------------
# vcf2maf / GDC


def test_vcf2maf_counts_alleles_and_annotation(tmp_path):
    result = read_maf(kit_vcf2maf(tmp_path / "les1.maf"), regions=None)
    calls = result.calls
    assert list(calls.columns) == RAW_COLUMNS
    assert result.caller == "maf_vcf2maf"
    assert result.samples == ["LES1"]
    assert result.tumor_sample == "LES1" and result.normal_sample == "NORMAL"
    assert result.assembly_hint == "GRCh37" and "NCBI_Build" in result.assembly_evidence
    assert len(calls) == 3

    d816v = one(calls, 55599321)
    assert (d816v.ref, d816v.alt) == ("A", "T")
    assert (d816v.alt_count, d816v.depth, d816v.vaf) == (50.0, 200.0, 0.25)
    assert math.isnan(d816v.caller_vaf)  # vcf2maf has no fraction column
    assert d816v.ann_gene == "KIT" and d816v.ann_hgvsp == "p.D816V"
    assert d816v.ann_hgvsc == "c.2447A>T"
    assert d816v["filter"] == "PASS" and d816v.caller == "maf_vcf2maf"
    assert d816v.record == "line 3" and d816v.file_sample == "LES1" and d816v.chrom_raw == "4"

    deletion = one(calls, 55593601)  # t_depth '.': depth = ref + alt
    assert (deletion.ref, deletion.alt) == ("AGTGGA", "-")
    assert (deletion.alt_count, deletion.depth, deletion.vaf) == (40.0, 100.0, 0.4)
    assert deletion.ann_hgvsp == "p.W557_K558del"

    dup = one(calls, 55592178)  # t_ref_count '.', t_depth known
    assert (dup.ref, dup.alt) == ("-", "TGCCTA")
    assert (dup.alt_count, dup.depth, dup.vaf) == (20.0, 80.0, 0.25)


def test_maf_indels_match_the_vcf_minimal_form(tmp_path):
    calls = read_maf(kit_vcf2maf(tmp_path / "les1.maf"), regions=None).calls
    keys = set(zip(calls["pos"], calls["ref"], calls["alt"], strict=True))
    assert minimal(55593600, "CAGTGGA", "C") == (55593601, "AGTGGA", "-")
    assert minimal(55592178, "C", "CTGCCTA") == (55592178, "-", "TGCCTA")
    assert minimal(55593600, "CAGTGGA", "C") in keys
    assert minimal(55592178, "C", "CTGCCTA") in keys
    assert minimal(55599321, "A", "T") in keys


def test_unknown_counts_are_nan(tmp_path):
    extra = [vcf2maf_row(
        Start_Position="55599320", End_Position="55599320", Variant_Type="SNP",
        Reference_Allele="G", Tumor_Seq_Allele1="G", Tumor_Seq_Allele2="T",
        t_depth="NA", t_ref_count="", t_alt_count=".",
    )]
    row = one(read_maf(kit_vcf2maf(tmp_path / "x.maf", extra), regions=None).calls, 55599320)
    assert math.isnan(row.alt_count) and math.isnan(row.depth) and math.isnan(row.vaf)


def test_filtered_rows_dropped_unless_asked(tmp_path):
    extra = [vcf2maf_row(
        Start_Position="55599320", End_Position="55599320", Variant_Type="SNP",
        Reference_Allele="G", Tumor_Seq_Allele1="G", Tumor_Seq_Allele2="T",
        t_depth="30", t_ref_count="29", t_alt_count="1", FILTER="weak_evidence;strand_bias",
    ), vcf2maf_row(
        Start_Position="55599322", End_Position="55599322", Variant_Type="SNP",
        Reference_Allele="C", Tumor_Seq_Allele1="C", Tumor_Seq_Allele2="A",
        t_depth="30", t_ref_count="25", t_alt_count="5", FILTER=".",
    )]
    path = kit_vcf2maf(tmp_path / "x.maf", extra)
    kept = read_maf(path, regions=None).calls
    assert 55599320 not in set(kept["pos"]) and 55599322 in set(kept["pos"])
    assert one(kept, 55599322)["filter"] == "."
    everything = read_maf(path, regions=None, include_filtered=True).calls
    assert one(everything, 55599320)["filter"] == "weak_evidence;strand_bias"
    assert len(everything) == 5


def test_allele1_used_when_allele2_is_the_reference(tmp_path):
    extra = [vcf2maf_row(
        Start_Position="55599322", End_Position="55599322", Variant_Type="SNP",
        Reference_Allele="C", Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="C",
        t_depth="30", t_ref_count="25", t_alt_count="5",
    )]
    row = one(read_maf(kit_vcf2maf(tmp_path / "x.maf", extra), regions=None).calls, 55599322)
    assert (row.ref, row.alt) == ("C", "A")


def test_regions_use_the_variant_span(tmp_path):
    extra = [vcf2maf_row(
        Hugo_Symbol="FLT3", Chromosome="13", Start_Position="28592642",
        End_Position="28592642", Variant_Type="SNP", Reference_Allele="C",
        Tumor_Seq_Allele1="C", Tumor_Seq_Allele2="A", t_depth="10", t_ref_count="5",
        t_alt_count="5",
    )]
    path = kit_vcf2maf(tmp_path / "x.maf", extra)
    assert len(read_maf(path, regions=None).calls) == 4
    assert set(read_maf(path, regions=KIT37).calls["pos"]) == {55599321, 55593601, 55592178}
    # the deletion 55593601-55593606 overlaps a window starting inside it
    inside = read_maf(path, regions=[("4", 55593606, 55593700)]).calls
    assert list(inside["pos"]) == [55593601]
    # the insertion touches its two flanks 55592178-55592179
    assert list(read_maf(path, regions=[("chr4", 55592179, 55592179)]).calls["pos"]) == [
        55592178
    ]
    assert read_maf(path, regions=[("4", 1, 10)]).calls.empty


def test_three_letter_hgvsp_used_when_short_form_is_missing(tmp_path):
    columns = [c for c in VCF2MAF_COLUMNS if c != "HGVSp_Short"]
    row = vcf2maf_row(
        Start_Position="55599321", End_Position="55599321", Reference_Allele="A",
        Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="T", t_depth="20", t_ref_count="10",
        t_alt_count="10", HGVSp="ENSP00000288135.5:p.Asp816Val",
        HGVSc="ENST00000288135.5:c.2447A>T",
    )
    calls = read_maf(write_maf(tmp_path / "x.maf", columns, [row]), regions=None).calls
    assert calls.iloc[0]["ann_hgvsp"] == "p.D816V"
    assert calls.iloc[0]["ann_hgvsc"] == "c.2447A>T"


# ------------------------------------------------------------------------------------------
# Funcotator, TCGA WUSTL, MesKit


FUNCOTATOR_HEAD = (
    "#version 2.4\n"
    "## Funcotator 4.1.4.1 | Date 20200101T000000 | Gencode 28 CANONICAL\n"
    "## fileformat=VCFv4.2\n"
)
FUNCOTATOR_COLUMNS = [
    "Hugo_Symbol", "Entrez_Gene_Id", "Center", "NCBI_Build", "Chromosome", "Start_Position",
    "End_Position", "Strand", "Variant_Classification", "Variant_Type", "Reference_Allele",
    "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode", "Genome_Change", "Annotation_Transcript", "cDNA_Change",
    "Protein_Change", "tumor_f", "t_alt_count", "t_ref_count", "n_alt_count", "n_ref_count",
    "AF", "DP",
]


def test_funcotator_maf(tmp_path):
    base = {
        "Hugo_Symbol": "KIT", "NCBI_Build": "hg38", "Chromosome": "chr4", "Strand": "+",
        "Tumor_Sample_Barcode": "LES2", "Matched_Norm_Sample_Barcode": "__UNKNOWN__",
        "Annotation_Transcript": "ENST00000288135.5", "AF": "0.5", "DP": "999",
    }
    rows = [
        {**base, "Start_Position": "54733155", "End_Position": "54733155",
         "Variant_Type": "SNP", "Reference_Allele": "A", "Tumor_Seq_Allele1": "A",
         "Tumor_Seq_Allele2": "T", "cDNA_Change": "c.2447A>T", "Protein_Change": "p.D816V",
         "tumor_f": "0.3", "t_alt_count": "30", "t_ref_count": "90"},
        {**base, "Start_Position": "54733170", "End_Position": "54733170",
         "Variant_Type": "SNP", "Reference_Allele": "T", "Tumor_Seq_Allele1": "T",
         "Tumor_Seq_Allele2": "A", "Protein_Change": "p.N822K", "tumor_f": "0.125",
         "t_alt_count": "", "t_ref_count": ""},
    ]
    path = write_maf(tmp_path / "les2.maf", FUNCOTATOR_COLUMNS, rows, head=FUNCOTATOR_HEAD)
    result = read_maf(path, regions=[("4", 54656928, 54741715)])
    assert result.caller == "maf_funcotator"
    assert result.assembly_hint == "GRCh38"
    assert result.normal_sample is None  # __UNKNOWN__ is "unknown"
    first, second = result.calls.iloc[0], result.calls.iloc[1]
    assert (first.alt_count, first.depth) == (30.0, 120.0)  # no t_depth: ref + alt
    assert first.vaf == 0.25 and first.caller_vaf == 0.3  # counts first, tumor_f kept aside
    assert first.chrom_raw == "chr4" and first.ann_hgvsp == "p.D816V"
    assert first.ann_hgvsc == "c.2447A>T"  # from cDNA_Change
    assert first.record == "line 5"  # after 3 comment lines and the header
    assert math.isnan(second.alt_count) and math.isnan(second.depth)
    assert second.vaf == 0.125 and second.caller_vaf == 0.125  # counts missing: tumor_f


WU_COLUMNS = [
    "Hugo_Symbol", "NCBI_Build", "Chromosome", "Start_Position", "End_Position",
    "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode", "amino_acid_change", "TumorRefReads_WU", "TumorVarReads_WU",
    "TumorVAF_WU",
]


def test_tcga_wu_counts_and_percent_vaf(tmp_path, caplog):
    rows = [
        {"Hugo_Symbol": "KIT", "NCBI_Build": "37", "Chromosome": "4",
         "Start_Position": "55599321", "End_Position": "55599321", "Variant_Type": "SNP",
         "Reference_Allele": "A", "Tumor_Seq_Allele1": "A", "Tumor_Seq_Allele2": "T",
         "Tumor_Sample_Barcode": "S1", "amino_acid_change": "p.D816V",
         "TumorRefReads_WU": "30", "TumorVarReads_WU": "10", "TumorVAF_WU": "0.50"},
        {"Hugo_Symbol": "KIT", "NCBI_Build": "37", "Chromosome": "4",
         "Start_Position": "55589770", "End_Position": "55589771", "Variant_Type": "INS",
         "Reference_Allele": "-", "Tumor_Seq_Allele1": "-", "Tumor_Seq_Allele2": "AGGTGGG",
         "Tumor_Sample_Barcode": "S1", "TumorRefReads_WU": "NA", "TumorVarReads_WU": "NA",
         "TumorVAF_WU": "NA"},
    ]
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_maf(write_maf(tmp_path / "wu.maf", WU_COLUMNS, rows), regions=None)
    snv, ins = result.calls.iloc[0], result.calls.iloc[1]
    assert (snv.alt_count, snv.depth, snv.vaf) == (10.0, 40.0, 0.25)
    assert snv.caller_vaf == pytest.approx(0.005)  # TumorVAF_WU is always a percent
    assert snv.ann_hgvsp == "p.D816V"
    assert (ins.pos, ins.ref, ins.alt) == (55589770, "-", "AGGTGGG")
    assert math.isnan(ins.alt_count) and math.isnan(ins.vaf)
    assert result.caller == "maf" and result.assembly_hint == "GRCh37"
    assert not [r for r in caplog.records if "percent" in r.getMessage()]


MESKIT_HEADER = (
    "Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tVariant_Classification\t"
    "Variant_Type\tReference_Allele\tTumor_Seq_Allele2\tRef_allele_depth\tAlt_allele_depth\t"
    "VAF\tTumor_Sample_Barcode\n"
)


def test_meskit_maf_keeps_vaf_zero_rows(tmp_path):
    path = tmp_path / "cohort.maf"
    path.write_text(
        MESKIT_HEADER
        + "KIT\t4\t55599321\t55599321\tMissense_Mutation\tSNP\tA\tT\t75\t25\t0.25\tP1_P_1\n"
        + "KIT\t4\t55599321\t55599321\tMissense_Mutation\tSNP\tA\tT\t90\t0\t0\tP1_LM_1\n"
        + "KIT\t4\t55592178\t55592178\tIn_Frame_Ins\tINS\t-\tTGCCTA\t0\t0\t0\tP1_LM_1\n"
        + "KIT\t4\t55593601\t55593606\tIn_Frame_Del\tDEL\tAGTGGA\t-\t36\t4\t0.1\tP1_P_1\n"
    )
    result = read_maf(path, regions=KIT37)
    calls = result.calls
    assert result.caller == "maf_meskit"
    assert result.samples == ["P1_P_1", "P1_LM_1"]
    assert result.tumor_sample is None and result.assembly_hint is None
    assert len(calls) == 4
    absent = calls[(calls["file_sample"] == "P1_LM_1") & (calls["pos"] == 55599321)].iloc[0]
    assert (absent.alt_count, absent.depth, absent.vaf, absent.caller_vaf) == (0.0, 90.0, 0, 0)
    no_reads = one(calls, 55592178)  # 0 reads: the file's VAF, as the VCF reader does
    assert (no_reads.alt_count, no_reads.depth, no_reads.vaf) == (0.0, 0.0, 0.0)
    deletion = one(calls, 55593601)
    assert (deletion.ref, deletion.alt, deletion.vaf) == ("AGTGGA", "-", 0.1)
    assert list(calls["record"]) == ["line 2", "line 3", "line 4", "line 5"]


def test_percent_vaf_column_is_divided_with_one_warning(tmp_path, caplog):
    path = tmp_path / "pct.maf"
    path.write_text(
        MESKIT_HEADER.replace("\tRef_allele_depth\tAlt_allele_depth", "")
        + "KIT\t4\t55599321\t55599321\tMissense_Mutation\tSNP\tA\tT\t25.5\tS1\n"
        + "KIT\t4\t55599320\t55599320\tMissense_Mutation\tSNP\tG\tT\t0.5\tS1\n"
        + "KIT\t4\t55599322\t55599322\tMissense_Mutation\tSNP\tC\tA\t3%\tS1\n"
    )
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_maf(path, regions=None)
    assert list(result.calls["vaf"]) == pytest.approx([0.255, 0.005, 0.03])
    assert list(result.calls["caller_vaf"]) == pytest.approx([0.255, 0.005, 0.03])
    assert result.calls["alt_count"].isna().all()
    percent_logs = [r for r in caplog.records if "percent" in r.getMessage()]
    assert len(percent_logs) == 1 and "pct.maf" in percent_logs[0].getMessage()
    assert len(result.warnings) == 1


def test_read_calls_file_dispatches_maf(tmp_path):
    result = read_calls_file(kit_vcf2maf(tmp_path / "les1.txt"), regions=KIT37)
    assert result.caller == "maf_vcf2maf" and len(result.calls) == 3


# ------------------------------------------------------------------------------------------
# MAF errors


def test_missing_required_columns_are_listed(tmp_path):
    columns = [c for c in VCF2MAF_COLUMNS if c not in ("Tumor_Sample_Barcode", "Start_Position")]
    path = write_maf(tmp_path / "bad.maf", columns, [vcf2maf_row()], head="#version 2.4")
    with pytest.raises(CallsFileError) as caught:
        read_maf(path, regions=None)
    assert_names(caught.value, "bad.maf", 2, "Start_Position")  # line 2: the header
    assert "Tumor_Sample_Barcode" in str(caught.value)


def test_maf_without_counts_or_fraction(tmp_path):
    columns = [c for c in VCF2MAF_COLUMNS
               if c not in ("t_depth", "t_ref_count", "t_alt_count")]
    path = write_maf(tmp_path / "nocounts.maf", columns, [vcf2maf_row()])
    with pytest.raises(CallsFileError) as caught:
        read_maf(path, regions=None)
    text = str(caught.value)
    assert "nocounts.maf" in text
    for name in ("t_alt_count", "t_depth", "tumor_f", "VAF", "Alt_allele_depth"):
        assert name in text


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("t_alt_count", "many", "not a number"),
        ("t_alt_count", "-3", "negative"),
        ("t_depth", "12x", "not a number"),
        ("t_alt_count", "500", "above the depth"),
    ],
)
def test_bad_counts_name_file_line_and_column(tmp_path, column, value, words):
    bad = vcf2maf_row(
        Start_Position="55599322", End_Position="55599322", Reference_Allele="C",
        Tumor_Seq_Allele1="C", Tumor_Seq_Allele2="A", t_depth="30", t_ref_count="25",
        t_alt_count="5",
    )
    bad[column] = value
    path = kit_vcf2maf(tmp_path / "bad_counts.maf", [bad])
    with pytest.raises(CallsFileError) as caught:
        read_maf(path, regions=None)
    assert_names(caught.value, "bad_counts.maf", 6, column)
    assert words in str(caught.value)


def test_line_numbers_count_comments_and_blank_lines(tmp_path):
    path = kit_vcf2maf(tmp_path / "gaps.maf")
    lines = path.read_text().splitlines()
    lines.insert(3, "")  # blank line after the first data row
    lines[4] = lines[4].replace("\t40\t", "\tforty\t")  # the deletion, now on line 5
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CallsFileError) as caught:
        read_maf(path, regions=None)
    assert_names(caught.value, "gaps.maf", 5, "t_alt_count")


def test_several_builds_in_one_file(tmp_path):
    extra = [vcf2maf_row(
        NCBI_Build="GRCh38", Start_Position="54733155", End_Position="54733155",
        Reference_Allele="A", Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="T", t_depth="10",
        t_ref_count="5", t_alt_count="5",
    )]
    with pytest.raises(CallsFileError, match=r"GRCh37.*GRCh38") as caught:
        read_maf(kit_vcf2maf(tmp_path / "mixed.maf", extra), regions=None)
    assert_names(caught.value, "mixed.maf", 6, "NCBI_Build")


def test_bad_position_and_ragged_row(tmp_path):
    extra = [vcf2maf_row(Start_Position="55,599,322", Reference_Allele="C",
                         Tumor_Seq_Allele2="A", t_depth="3", t_alt_count="1")]
    with pytest.raises(CallsFileError) as caught:
        read_maf(kit_vcf2maf(tmp_path / "pos.maf", extra), regions=None)
    assert_names(caught.value, "pos.maf", 6, "Start_Position")
    path = kit_vcf2maf(tmp_path / "ragged.maf")
    path.write_text(path.read_text() + "\t".join(["x"] * (len(VCF2MAF_COLUMNS) + 3)) + "\n")
    with pytest.raises(CallsFileError, match="malformed MAF row") as caught:
        read_maf(path, regions=None)
    assert_names(caught.value, "ragged.maf", 6, None)
    truncated = kit_vcf2maf(tmp_path / "truncated.maf")
    truncated.write_text(truncated.read_text() + "Hugo\tKIT\t37\t4\t5559")  # cut mid-row
    with pytest.raises(CallsFileError, match="5 fields where the header has") as caught:
        read_maf(truncated, regions=None)
    assert_names(caught.value, "truncated.maf", 6, None)


def test_empty_trailing_fields_are_tolerated(tmp_path):
    path = kit_vcf2maf(tmp_path / "trailing.maf")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + [line + "\t\t" for line in lines[2:]]) + "\n")
    assert len(read_maf(path, regions=None).calls) == 3


def test_rows_without_a_usable_allele_are_skipped_with_a_warning(tmp_path):
    extra = [vcf2maf_row(Start_Position="55599322", Reference_Allele="C", Tumor_Seq_Allele1="C",
                         Tumor_Seq_Allele2="C", t_depth="3", t_alt_count="0"),
             vcf2maf_row(Start_Position="55599323", Reference_Allele="C", Tumor_Seq_Allele1="C",
                         Tumor_Seq_Allele2="A/T", t_depth="3", t_alt_count="1")]
    result = read_maf(kit_vcf2maf(tmp_path / "alleles.maf", extra), regions=None)
    assert len(result.calls) == 3
    assert len(result.warnings) == 1 and "2 row(s)" in result.warnings[0]
    assert "line 6" in result.warnings[0]


# ------------------------------------------------------------------------------------------
# Plain TSV / CSV


def test_tsv_with_aliases_crlf_and_both_indel_styles(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_bytes(
        b"# exported from a spreadsheet\r\n"
        b"Sample\tChromosome\tPosition\tReference\tAlternate\tAD\tDP\tGene\tHGVSp\r\n"
        b"L1\tchr4\t55599321\tA\tT\t12\t48\tKIT\tp.Asp816Val\r\n"
        b"L1\tchr4\t55593600\tCAGTGGA\tC\t5\t50\tKIT\t\r\n"  # VCF-style deletion
        b"L2\tchr4\t55593601\tAGTGGA\t-\t7\t70\tKIT\t\r\n"  # MAF-style deletion
        b"L2\tchr4\t55592178\tC\tCTGCCTA\t3\t30\tKIT\t\r\n"  # VCF-style duplication
        b"L2\tchr4\t55592178\t-\tTGCCTA\t3\t30\tKIT\t\r\n"  # MAF-style duplication
    )
    result = read_tsv(path, regions=KIT37)
    calls = result.calls
    assert result.caller == "tsv" and result.samples == ["L1", "L2"]
    assert list(calls.columns) == RAW_COLUMNS
    assert list(zip(calls["pos"], calls["ref"], calls["alt"], strict=True)) == [
        (55599321, "A", "T"),
        (55593601, "AGTGGA", "-"),
        (55593601, "AGTGGA", "-"),
        (55592178, "-", "TGCCTA"),
        (55592178, "-", "TGCCTA"),
    ]
    first = calls.iloc[0]
    assert (first.alt_count, first.depth, first.vaf) == (12.0, 48.0, 0.25)
    assert first.ann_hgvsp == "p.D816V" and first.ann_gene == "KIT"
    assert first["filter"] == "." and first.record == "line 3" and first.chrom_raw == "chr4"
    assert math.isnan(first.caller_vaf)
    assert list(calls["record"]) == ["line 3", "line 4", "line 5", "line 6", "line 7"]


def test_csv_with_cr_only_endings_percent_vaf_and_no_sample(tmp_path, caplog):
    path = tmp_path / "calls.csv"
    path.write_bytes(
        b"chrom,pos,ref,alt,AF,filter\r"
        b"# a comment\r"
        b"4,55599321,A,T,25%,PASS\r"
        b"4,55599320,G,T,12.5,LowQual\r"
    )
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_tsv(path, regions=None)
    assert result.samples == [""]
    calls = result.calls
    assert len(calls) == 1
    row = calls.iloc[0]
    assert row.file_sample == "" and row.vaf == 0.25 and row.caller_vaf == 0.25
    assert math.isnan(row.alt_count) and row.record == "line 3"
    assert len([r for r in caplog.records if "percent" in r.getMessage()]) == 1
    every = read_tsv(path, regions=None, include_filtered=True).calls
    assert list(every["vaf"]) == [0.25, 0.125] and list(every["filter"]) == ["PASS", "LowQual"]


def test_semicolon_csv_with_decimal_commas_and_quoted_cells(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text('chrom;pos;ref;alt;alt_count;depth;vaf;gene\n'
                    '4;55599321;A;T;;;"0,25";"KIT; mast/stem cell receptor"\n')
    row = read_tsv(path, regions=None).calls.iloc[0]
    assert row.vaf == 0.25 and row.ann_gene == "KIT; mast/stem cell receptor"
    assert math.isnan(row.alt_count) and math.isnan(row.depth)


def test_tsv_rows_without_an_alt_allele_are_skipped(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_text("chrom\tpos\tref\talt\tvaf\n4\t55599321\tA\t\t0.3\n4\t55599321\tA\tT\t0.3\n")
    result = read_tsv(path, regions=None)
    assert len(result.calls) == 1 and result.calls.iloc[0]["record"] == "line 3"
    assert len(result.warnings) == 1 and "line 2" in result.warnings[0]


def test_gzipped_maf(tmp_path):
    plain = kit_vcf2maf(tmp_path / "les1.maf")
    packed = tmp_path / "les1.maf.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_maf(packed, regions=KIT37).calls.equals(read_maf(plain, regions=KIT37).calls)


def test_tsv_hash_header_and_ref_count(tmp_path):
    path = tmp_path / "calls.txt"
    path.write_text("##source=my_pipeline\n#chrom\tpos\tref\talt\tref_count\talt_count\n"
                    "4\t55599321\tA\tT\t30\t10\n")
    row = read_tsv(path, regions=None).calls.iloc[0]
    assert (row.alt_count, row.depth, row.vaf, row.record) == (10.0, 40.0, 0.25, "line 3")


def test_tsv_errors(tmp_path):
    missing = tmp_path / "missing.tsv"
    missing.write_text("chrom\tposition\talt\tvaf\n4\t1\tA\t0.1\n")
    with pytest.raises(CallsFileError, match="missing required TSV column") as caught:
        read_tsv(missing, regions=None)
    assert_names(caught.value, "missing.tsv", 1, "ref")
    no_numbers = tmp_path / "nonumbers.tsv"
    no_numbers.write_text("chrom\tpos\tref\talt\tdepth\n4\t1\tA\tT\t10\n")
    with pytest.raises(CallsFileError, match=r"alt_count.*vaf"):
        read_tsv(no_numbers, regions=None)
    bad = tmp_path / "bad.tsv"
    bad.write_text("chrom\tpos\tref\talt\talt_count\tdepth\n4\t1\tA\tT\t10\t20\n"
                   "4\t2\tA\tT\t30\t20\n")
    with pytest.raises(CallsFileError) as caught:
        read_tsv(bad, regions=None)
    assert_names(caught.value, "bad.tsv", 3, "alt_count")
    out_of_range = tmp_path / "range.tsv"
    out_of_range.write_text("chrom\tpos\tref\talt\tvaf\n4\t1\tA\tT\t150\n")
    with pytest.raises(CallsFileError, match="out of range") as caught:
        read_tsv(out_of_range, regions=None)
    assert_names(caught.value, "range.tsv", 2, "vaf")


def test_read_calls_file_dispatches_tsv(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_text("chrom\tpos\tref\talt\talt_count\tdepth\n4\t55599321\tA\tT\t1\t4\n")
    result = read_calls_file(path, regions=KIT37)
    assert result.caller == "tsv" and result.calls.iloc[0]["vaf"] == 0.25


# ------------------------------------------------------------------------------------------
# MesKit clinical table


def test_meskit_clinical_table(tmp_path):
    path = tmp_path / "clin.txt"
    path.write_text("Tumor_Sample_Barcode\tTumor_ID\tPatient_ID\tTumor_Sample_Label\n"
                    "P1_P_1\tP\tP1\tP_1\nP1_LM_1\tLM\tP1\tLM_1\n")
    sheet = read_meskit_clinical(path)
    assert list(sheet.columns) == ["patient_id", "lesion_id", "sample_id", "status"]
    assert sheet.to_dict("records") == [
        {"patient_id": "P1", "lesion_id": "P", "sample_id": "P1_P_1", "status": "unknown"},
        {"patient_id": "P1", "lesion_id": "LM", "sample_id": "P1_LM_1", "status": "unknown"},
    ]
    bad = tmp_path / "bad_clin.txt"
    bad.write_text("Tumor_Sample_Barcode\tPatient_ID\nA\tP1\n")
    with pytest.raises(SampleSheetError, match="Tumor_ID"):
        read_meskit_clinical(bad)


# ------------------------------------------------------------------------------------------
# Real files (shared/)


def shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def test_shared_vcf2maf_output():
    result = read_maf(shared(VCF_EXAMPLES / "vcf2maf_vep_output.maf"), regions=None)
    calls = result.calls
    assert result.caller == "maf_vcf2maf" and result.assembly_hint == "GRCh38"
    assert result.samples == ["TUMOR"] and len(calls) == 3
    first = one(calls, 34792292)  # t_ref_count '.': VAF = 21 / t_depth 54
    assert (first.alt_count, first.depth) == (21.0, 54.0)
    assert first.vaf == pytest.approx(21 / 54)
    assert first.ann_gene == "RUNX1" and first.ann_hgvsp == "p.L429R"
    deletion = one(calls, 41479183)  # vcf_pos 41479182, T deleted
    assert (deletion.ref, deletion.alt, deletion.alt_count, deletion.depth) == (
        "T", "-", 77.0, 512.0)
    assert deletion.ann_hgvsp == "p.K224Nfs*19" and deletion.ann_hgvsc == "c.672del"
    assert list(calls["record"]) == ["line 3", "line 4", "line 5"]


def test_shared_tcga_laml_kit_rows():
    result = read_maf(shared(VCF_EXAMPLES / "tcga_laml_KIT_rows.maf"), regions=KIT37)
    calls = result.calls
    assert result.assembly_hint == "GRCh37" and result.caller == "maf"
    assert len(calls) == 10 and len(result.samples) == 8
    d816v = calls[(calls["pos"] == 55599321) & (calls["ref"] == "A") & (calls["alt"] == "T")]
    assert len(d816v) == 4
    assert list(d816v["ann_hgvsp"]) == ["p.D816V"] * 4
    assert list(d816v["caller_vaf"]) == pytest.approx([0.5102, 0.4444, 0.5512, 0.5577])
    assert list(d816v["alt_count"]) == [25.0, 28.0, 70.0, 29.0]
    assert list(d816v["depth"]) == [49.0, 63.0, 127.0, 52.0]
    assert list(d816v["vaf"]) == pytest.approx([25 / 49, 28 / 63, 70 / 127, 29 / 52])
    assert d816v.iloc[0]["file_sample"] == "TCGA-AB-2843-03B-01W-0728-08"
    insertion = calls[calls["record"] == "line 7"].iloc[0]  # counts NA
    assert (insertion.pos, insertion.ref, insertion.alt) == (55589770, "-", "AGGTGGG")
    assert math.isnan(insertion.alt_count) and math.isnan(insertion.vaf)


def test_shared_funcotator_maf():
    result = read_maf(shared(VCF_EXAMPLES / "funcotator_hg38.maf"), regions=None)
    calls = result.calls
    assert result.caller == "maf_funcotator" and result.assembly_hint == "GRCh38"
    assert result.samples == ["__UNKNOWN__"]
    deletion, insertion = calls.iloc[0], calls.iloc[1]
    assert (deletion.pos, deletion.ref, deletion.alt) == (225519332, "TCCAGGCGTTCCTGCCGC", "-")
    assert (deletion.alt_count, deletion.depth) == (8.0, 72.0)
    assert deletion.vaf == pytest.approx(8 / 72) and math.isnan(deletion.caller_vaf)
    assert deletion.ann_hgvsp == "p.ERQERL217del"
    assert (insertion.pos, insertion.ref, insertion.alt) == (225519331, "-", "TCCAGGCGTTCCTGCCGC")
    assert insertion.vaf == pytest.approx(4 / 58)
    assert (deletion.record, insertion.record) == ("line 5", "line 6")


def test_shared_meskit_crc_hz():
    path = shared(MESKIT / "CRC_HZ.maf")
    result = read_maf(path, regions=None)
    calls = result.calls
    assert len(calls) == 38_337 and result.caller == "maf_meskit"
    assert len(result.samples) == 57 and result.samples[0] == "V402_P_1"
    assert int((calls["alt_count"] == 0).sum()) == 24_058
    assert int((calls["caller_vaf"] == 0).sum()) == 24_058
    assert calls["alt_count"].notna().all() and calls["depth"].notna().all()
    first = calls.iloc[0]
    assert (first.file_sample, first.chrom_raw, first.pos, first.ref, first.alt) == (
        "V402_P_1", "1", 899515, "C", "T")
    assert (first.alt_count, first.depth, first.caller_vaf) == (1.0, 86.0, 0.012)
    assert first.vaf == pytest.approx(1 / 86) and first.ann_gene == "KLHL17"
    assert calls.iloc[-1]["record"] == "line 38338"
    # every sample of the clinical table has rows in the MAF
    sheet = read_meskit_clinical(shared(MESKIT / "CRC_HZ.clin.txt"))
    assert len(sheet) == 57 and set(sheet["sample_id"]) == set(result.samples)
    assert sheet.iloc[0].to_dict() == {
        "patient_id": "V402", "lesion_id": "P", "sample_id": "V402_P_1", "status": "unknown"}
