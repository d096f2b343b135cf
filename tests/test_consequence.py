"""The consequence of each mutation, from each source in turn, and the germline polymorphism list."""

from __future__ import annotations

import importlib.util
import re

import pandas as pd
import pytest
from Bio.Seq import Seq
from conftest import synthetic_cds
from test_io_tabular import VCF2MAF_COLUMNS, vcf2maf_row, write_maf
from test_io_vcf import FMT, write_vcf

from lesiontrack import genome, read_calls, read_calls_table
from lesiontrack.annotate import (
    annotate_variant,
    bundled_sequence,
    consequence_from_hgvsp,
    consequence_from_terms,
)
from lesiontrack.io import read_calls_file
from lesiontrack.reference import Reference
from lesiontrack.variants import minimal

CHR4_GRCH38 = "##contig=<ID=4,length=190214555>"
VOCABULARY = {"missense", "nonsense", "frameshift", "inframe_deletion", "inframe_insertion",
              "delins", "splice_donor", "splice_acceptor", "splice_region", "start_lost",
              "stop_lost", "synonymous", "intronic", "UTR", "unknown"}


def window_base(pos: int, end: int | None = None, assembly: str = "GRCh38") -> str:
    return bundled_sequence(assembly).fetch("4", pos, end or pos)


def other(base: str) -> str:
    return "C" if base != "C" else "A"


def consequence(assembly: str, pos: int, ref: str, alt: str, **kwargs) -> tuple[str, str]:
    out = annotate_variant(assembly, "4", pos, ref, alt, **kwargs)
    return out["consequence"], out["consequence_source"]


# ---- vocabulary -------------------------------------------------------------------------------

def test_the_vocabulary_and_what_alters_the_protein():
    assert set(genome.CONSEQUENCES) == VOCABULARY and len(genome.CONSEQUENCES) == 15
    not_altering = {"splice_region", "synonymous", "intronic", "UTR", "unknown"}
    assert set(genome.PROTEIN_ALTERING) == VOCABULARY - not_altering
    assert genome.is_protein_altering("missense") is True
    assert genome.is_protein_altering("splice_acceptor") is True
    assert genome.is_protein_altering("synonymous") is False
    assert genome.is_protein_altering("splice_region") is False
    for missing in ("unknown", "", None, float("nan")):
        assert genome.is_protein_altering(missing) is None


# ---- the bundled hotspot-exon windows (no FASTA) -----------------------------------------------

@pytest.mark.parametrize(("assembly", "pos"), [("GRCh38", 54733156), ("GRCh37", 55599322)])
def test_a_synonymous_change_at_a_hotspot_codon_is_synonymous_and_no_resistance_site(assembly,
                                                                                      pos):
    out = annotate_variant(assembly, "4", pos, "C", "T")  # KIT c.2448C>T
    assert (out["hgvsc"], out["hgvsp"], out["consequence"]) == ("c.2448C>T", "p.D816=",
                                                                "synonymous")
    assert out["consequence_source"] == "bundled" and out["role_hint"] == ""
    # the missense change of the same codon keeps its hint
    assert annotate_variant(assembly, "4", pos - 1, "A", "T")["role_hint"] == (
        "known_resistance_site")


@pytest.mark.parametrize(("assembly", "start"), [("GRCh38", 54727410), ("GRCh37", 55593576)])
def test_an_exon_11_deletion_across_the_intron_10_acceptor_is_protein_altering(assembly, start):
    # c.1648-6_1656del: 6 intron bases (the AG acceptor among them) and the first 9 of exon 11
    out = annotate_variant(assembly, "4", start, window_base(start, start + 14, assembly), "-")
    assert out["hgvsc"] == "c.1648-6_1656del"
    assert out["consequence"] == "splice_acceptor" and out["consequence"] != "intronic"
    assert genome.is_protein_altering(out["consequence"]) is True
    assert (out["exon"], out["codon"], out["role_hint"]) == ("11", 550, "known_primary_region")


@pytest.mark.parametrize(("pos", "ref", "alt", "hgvsp", "expected"), [
    (54733155, "A", "T", "p.D816V", "missense"),
    (54727438, "G", "A", "p.W557*", "nonsense"),  # c.1670G>A: TGG -> TAG
    (54727450, "W", "-", "p.E561Gfs*3", "frameshift"),  # c.1682del
    (54727435, "AGTGGA", "-", "p.W557_K558del", "inframe_deletion"),
    (54726012, "-", "TGCCTA", "p.A502_Y503dup", "inframe_insertion"),
    (54727447, "TT", "GAGCA", "p.V560delinsGA", "delins"),
    (54733192, "C", "T", "p.N828=", "splice_region"),  # synonymous at exon 17's last base
])
def test_each_class_from_the_bundled_windows(pos, ref, alt, hgvsp, expected):
    ref = window_base(pos) if ref == "W" else ref
    out = annotate_variant("GRCh38", "4", pos, ref, alt)
    assert (out["hgvsp"], out["consequence"]) == (hgvsp, expected)
    assert out["hgvsp_source"] == "bundled" and out["consequence_source"] == "bundled"


def test_a_frameshift_whose_stop_lies_beyond_the_window_is_not_given_a_count():
    pos = 54733185  # exon 17, 8 bases before its end: the new frame runs into exon 18
    out = annotate_variant("GRCh38", "4", pos, window_base(pos), "-")
    assert out["consequence"] == "frameshift"
    assert out["hgvsp"] == "" or re.fullmatch(r"p\.[A-Z]\d+[A-Z]?fs(\*\d+)?", out["hgvsp"])
    assert "X" not in out["hgvsp"]


def test_splice_sites_in_a_window_come_from_the_position():
    assert consequence("GRCh38", 54727415, "G", "C") == ("splice_acceptor", "model")  # c.1648-1
    assert consequence("GRCh38", 54733065, "A", "C") == ("splice_region", "model")  # c.2362-5


def test_a_hotspot_allele_outside_the_windows_is_named_from_the_hotspot_table():
    out = annotate_variant("GRCh38", "4", 54729353, "C", "T")  # T670I, exon 14
    assert (out["hgvsp"], out["hgvsp_source"]) == ("p.T670I", "bundled")
    assert (out["consequence"], out["consequence_source"]) == ("missense", "bundled")
    # another change of the same exon 14 base is not a hotspot allele: no name, no guess
    out = annotate_variant("GRCh38", "4", 54729353, "C", "A")
    assert (out["hgvsp"], out["consequence"]) == ("", "unknown")


def test_a_ref_that_differs_from_the_window_gets_no_name():
    out = annotate_variant("GRCh38", "4", 54733155, "G", "T")  # the base is A
    assert (out["hgvsp"], out["consequence"]) == ("", "unknown")


# ---- the transcript model alone --------------------------------------------------------------

# KIT exon 2 (GRCh38 54695512-54695781, c.68-337) lies outside every bundled window
@pytest.mark.parametrize(("pos", "ref", "alt", "expected"), [
    (54695511, "A", "G", "splice_acceptor"),  # c.68-1
    (54695510, "A", "G", "splice_acceptor"),  # c.68-2
    (54695509, "A", "G", "splice_region"),  # c.68-3
    (54695504, "A", "G", "splice_region"),  # c.68-8
    (54695503, "A", "G", "intronic"),  # c.68-9
    (54695782, "A", "G", "splice_donor"),  # c.337+1
    (54695783, "A", "G", "splice_donor"),  # c.337+2
    (54695789, "A", "G", "splice_region"),  # c.337+8
    (54695790, "A", "G", "intronic"),  # c.337+9
    (54700000, "A", "G", "intronic"),
    (54658014, "A", "G", "UTR"),  # c.-1
    (54738558, "A", "G", "UTR"),  # c.*1
    (54658015, "A", "G", "start_lost"),  # c.1
    (54695600, "A", "G", "unknown"),  # a coding substitution needs the sequence
    (54695512, "A", "G", "unknown"),  # ... even at an exon's first bases
    (54738557, "A", "G", "unknown"),  # the stop codon's last base
    (54695600, "A", "-", "frameshift"),
    (54695600, "AAAA", "-", "frameshift"),
    (54695600, "AAA", "-", "inframe_deletion"),
    (54695600, "-", "TTT", "inframe_insertion"),
    (54695600, "-", "T", "frameshift"),
    (54695600, "AA", "TTTTT", "delins"),
    (54600000, "A", "G", "unknown"),  # outside the genes
])
def test_each_class_from_the_transcript_model(pos, ref, alt, expected):
    cons, source = consequence("GRCh38", pos, ref, alt)
    assert cons == expected
    assert source == ("" if expected == "unknown" else "model")


def test_an_insertion_between_the_two_acceptor_bases_breaks_the_site():
    assert consequence("GRCh38", 54695510, "-", "T")[0] == "splice_acceptor"  # c.68-2_68-1insT
    assert consequence("GRCh38", 54695508, "-", "T")[0] == "splice_region"


# ---- a reference FASTA -----------------------------------------------------------------------

def _codon_position(assembly: str, codon: int) -> int:
    kit = genome.transcripts(assembly)["KIT"]
    return next(p for s, e in kit.cds_intervals() for p in range(s, e + 1)
                if kit.cds_index(p) == (codon - 1) * 3)


def test_missense_synonymous_and_frameshift_from_a_reference(grch38_reference):
    reference = Reference(grch38_reference)
    kit = genome.transcripts("GRCh38")["KIT"]
    pos = _codon_position("GRCh38", 300)  # exon 5: no bundled window
    bases = synthetic_cds("KIT", kit.cds_length)[897:900]
    aa = str(Seq(bases).translate())
    third = {b: str(Seq(bases[:2] + b).translate()) for b in "ACGT" if b != bases[2]}
    first = {b: str(Seq(b + bases[1:]).translate()) for b in "ACGT" if b != bases[0]}
    missense = next(b for b, x in first.items() if x not in (aa, "*"))
    out = annotate_variant("GRCh38", "4", pos, bases[0], missense, reference=reference)
    assert (out["consequence"], out["consequence_source"]) == ("missense", "reference")
    assert out["hgvsp"] == f"p.{aa}300{first[missense]}"
    same = [b for b, x in third.items() if x == aa]
    if same:
        out = annotate_variant("GRCh38", "4", pos + 2, bases[2], same[0], reference=reference)
        assert (out["consequence"], out["hgvsp"]) == ("synonymous", f"p.{aa}300=")
    out = annotate_variant("GRCh38", "4", pos, bases[0], "-", reference=reference)
    assert (out["consequence"], out["consequence_source"]) == ("frameshift", "reference")
    # without the reference the same substitution is unknown
    assert annotate_variant("GRCh38", "4", pos, bases[0], missense)["consequence"] == "unknown"


def test_stop_and_start_codons_from_a_reference(grch38_reference):
    reference = Reference(grch38_reference)
    kit = genome.transcripts("GRCh38")["KIT"]
    last = kit.cds_intervals()[-1][1]  # c.2931, the A of the TGA stop codon
    out = annotate_variant("GRCh38", "4", last, "A", "G", reference=reference)  # TGA -> TGG
    assert (out["hgvsp"], out["consequence"]) == ("p.*977Wext*?", "stop_lost")
    assert out["consequence_source"] == "reference"
    out = annotate_variant("GRCh38", "4", last - 1, "G", "A", reference=reference)  # TGA -> TAA
    assert (out["hgvsp"], out["consequence"]) == ("p.*977=", "synonymous")
    out = annotate_variant("GRCh38", "4", 54658016, "T", "C", reference=reference)  # ATG -> ACG
    assert out["consequence"] == "start_lost"


# ---- the input's own annotation --------------------------------------------------------------

@pytest.mark.parametrize(("terms", "expected"), [
    ("missense_variant", "missense"),
    ("missense_variant&splice_region_variant", "missense"),
    ("splice_region_variant&synonymous_variant", "splice_region"),
    ("stop_gained", "nonsense"),
    ("frameshift_variant", "frameshift"),
    ("inframe_deletion", "inframe_deletion"),
    ("disruptive_inframe_insertion", "inframe_insertion"),
    ("protein_altering_variant", "delins"),
    ("splice_acceptor_variant&intron_variant", "splice_acceptor"),
    ("splice_donor_variant", "splice_donor"),
    ("start_lost", "start_lost"),
    ("stop_lost", "stop_lost"),
    ("stop_retained_variant", "synonymous"),
    ("intron_variant", "intronic"),
    ("5_prime_UTR_variant", "UTR"),
    ("Missense_Mutation", "missense"),
    ("Nonsense_Mutation", "nonsense"),
    ("Frame_Shift_Del", "frameshift"),
    ("In_Frame_Del", "inframe_deletion"),
    ("In_Frame_Ins", "inframe_insertion"),
    ("Silent", "synonymous"),
    ("Intron", "intronic"),
    ("3'UTR", "UTR"),
    ("Translation_Start_Site", "start_lost"),
    ("Nonstop_Mutation", "stop_lost"),
    ("Splice_Region", "splice_region"),
    ("coding_sequence_variant", ""),
    ("IGR", ""),
    ("", ""),
])
def test_annotation_terms_map_to_the_vocabulary(terms, expected):
    assert consequence_from_terms(terms) == expected


@pytest.mark.parametrize(("hgvsp", "expected"), [
    ("p.D816V", "missense"), ("p.D816=", "synonymous"), ("p.(=)", "synonymous"),
    ("p.W557*", "nonsense"), ("p.K558Nfs*5", "frameshift"), ("p.W557_K558del", "inframe_deletion"),
    ("p.A502_Y503dup", "inframe_insertion"), ("p.V560delinsGA", "delins"),
    ("p.M1?", "start_lost"), ("p.M1V", "start_lost"), ("p.M10V", "missense"),
    ("p.*977Lext*5", "stop_lost"), ("", ""), ("c.2447A>T", ""), ("p.?", ""),
])
def test_p_names_imply_a_consequence(hgvsp, expected):
    assert consequence_from_hgvsp(hgvsp) == expected


def test_the_annotation_wins_over_every_other_source():
    # a VEP term on a coding substitution the model alone cannot name
    assert consequence("GRCh38", 54695600, "A", "G", ann_consequence="missense_variant") == (
        "missense", "annotation")
    # the annotation is believed even where the bundled window would say otherwise
    assert consequence("GRCh38", 54733156, "C", "T",
                       ann_consequence="missense_variant")[0] == "missense"
    # a p. name from the input without terms
    assert consequence("GRCh38", 54695600, "A", "G", ann_hgvsp="p.K100=") == (
        "synonymous", "annotation")
    # a term that says nothing falls through to the next source
    assert consequence("GRCh38", 54733155, "A", "T",
                       ann_consequence="coding_sequence_variant") == ("missense", "bundled")


def test_a_maf_splice_site_is_donor_or_acceptor_by_position():
    assert consequence("GRCh38", 54695511, "A", "G", ann_consequence="Splice_Site") == (
        "splice_acceptor", "annotation")
    assert consequence("GRCh38", 54695782, "A", "G", ann_consequence="Splice_Site") == (
        "splice_donor", "annotation")
    # an exonic base MAF calls Splice_Site: the next source decides
    assert consequence("GRCh38", 54695600, "A", "G", ann_consequence="Splice_Site") == (
        "unknown", "")


CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL"


def _sheet(tmp_path, calls_name: str) -> str:
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("patient_id\tlesion_id\tsample_id\tstatus\tcalls\n"
                     f"P1\tL1\tT\tprogressive\t{calls_name}\n")
    return str(sheet)


def test_vep_consequence_reaches_the_calls_table(tmp_path):
    csq = ("G|missense_variant&splice_region_variant|MODERATE|KIT|ENST00000288135||"
           "ENSP00000288135.6:p.Lys30Glu|YES")
    intronic = "G|intron_variant|MODIFIER|KIT|ENST00000288135|c.68-9A>G||YES"
    meta = [FMT["GT"], FMT["AD"], CHR4_GRCH38,
            f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
            f'Ensembl VEP. Format: {CSQ_FORMAT}">']
    write_vcf(tmp_path / "vep.vcf", meta, ["T"], [
        f"4\t54695600\t.\tA\tG\t.\tPASS\tCSQ={csq}\tGT:AD\t0/1:60,40",
        f"4\t54695503\t.\tA\tG\t.\tPASS\tCSQ={intronic}\tGT:AD\t0/1:60,40",
        "4\t54733156\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:60,40",
    ])
    raw = read_calls_file(tmp_path / "vep.vcf", regions=None).calls
    assert raw["ann_consequence"].tolist() == ["missense_variant&splice_region_variant",
                                               "intron_variant", ""]
    calls = read_calls(_sheet(tmp_path, "vep.vcf")).set_index("pos")
    assert calls.loc[54695600, ["consequence", "consequence_source"]].tolist() == [
        "missense", "annotation"]
    assert calls.loc[54695503, "consequence"] == "intronic"
    assert calls.loc[54733156, ["hgvsp", "consequence", "consequence_source"]].tolist() == [
        "p.D816=", "synonymous", "bundled"]
    columns = list(calls.reset_index().columns)
    assert columns.index("consequence") == columns.index("hgvsp_source") + 1
    assert columns.index("consequence_source") == columns.index("consequence") + 1


def test_snpeff_effect_reaches_the_calls_table(tmp_path):
    ann = "G|stop_gained|HIGH|KIT|ENSG|transcript|ENST00000288135.6|protein_coding|2/21|" \
          "c.101A>G|p.Lys34*||||||"
    meta = [FMT["GT"], FMT["AD"], CHR4_GRCH38,
            '##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: '
            "'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
            "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | "
            "CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">"]
    write_vcf(tmp_path / "snpeff.vcf", meta, ["T"],
              [f"4\t54695600\t.\tA\tG\t.\tPASS\tANN={ann}\tGT:AD\t0/1:60,40"])
    calls = read_calls(_sheet(tmp_path, "snpeff.vcf"))
    assert calls[["hgvsp", "consequence", "consequence_source"]].values.tolist() == [
        ["p.K34*", "nonsense", "annotation"]]


def test_maf_variant_classification_reaches_the_calls_table(tmp_path):
    rows = [
        vcf2maf_row(Start_Position="55561700", End_Position="55561700", Variant_Type="SNP",
                    Variant_Classification="Silent", Reference_Allele="A",
                    Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="G", Tumor_Sample_Barcode="T",
                    t_depth="100", t_ref_count="60", t_alt_count="40"),
        vcf2maf_row(Start_Position="55561677", End_Position="55561677", Variant_Type="SNP",
                    Variant_Classification="Splice_Site", Reference_Allele="A",
                    Tumor_Seq_Allele1="A", Tumor_Seq_Allele2="G", Tumor_Sample_Barcode="T",
                    t_depth="100", t_ref_count="60", t_alt_count="40"),
    ]
    write_maf(tmp_path / "calls.maf", VCF2MAF_COLUMNS, rows, head="#version 2.4")
    calls = read_calls(_sheet(tmp_path, "calls.maf")).set_index("pos")
    assert calls.loc[55561700, ["consequence", "consequence_source"]].tolist() == [
        "synonymous", "annotation"]
    assert calls.loc[55561677, "consequence"] == "splice_acceptor"  # c.68-1 on GRCh37


def test_a_calls_table_without_the_column_gets_it_on_reading(tmp_path):
    meta = [FMT["GT"], FMT["AD"], CHR4_GRCH38]
    write_vcf(tmp_path / "t.vcf", meta, ["T"], [
        "4\t54733155\t.\tA\tT\t.\tPASS\t.\tGT:AD\t0/1:60,40",
        "4\t54733156\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:60,40",
        "4\t54700000\t.\tA\tG\t.\tPASS\t.\tGT:AD\t0/1:60,40",
    ])
    calls = read_calls(_sheet(tmp_path, "t.vcf"))
    old = calls.drop(columns=["consequence", "consequence_source"])
    old.to_csv(tmp_path / "old.tsv", sep="\t", index=False)
    again = read_calls_table(tmp_path / "old.tsv")
    assert list(again.columns) == list(calls.columns)
    assert dict(zip(again["pos"], again["consequence"], strict=True)) == {
        54733155: "missense", 54733156: "synonymous", 54700000: "intronic"}
    assert again["consequence"].tolist() == calls["consequence"].tolist()


# ---- germline polymorphisms ------------------------------------------------------------------

def test_the_bundled_germline_polymorphisms():
    v824 = genome.germline_polymorphism("PDGFRA", "c.2472C>T")
    assert (v824.hgvsp, v824.rsid, v824.grade) == ("p.V824=", "rs2228230", "B")
    assert v824.sources and all(s in genome.knowledge_sources() for s in v824.sources.split(";"))
    assert genome.germline_polymorphism("PDGFRA", "NM_006206.4:c.2472C>T") == v824
    m541 = genome.germline_polymorphism("KIT", "c.1621A>C")
    assert (m541.hgvsp, m541.rsid) == ("p.M541L", "rs3822214")
    assert genome.germline_polymorphism("KIT", "c.1621A>G") is None
    assert genome.germline_polymorphism("PDGFRA", "c.1621A>C") is None
    assert genome.germline_polymorphism(None, "c.1621A>C") is None


@pytest.mark.parametrize("assembly", ["GRCh37", "GRCh38"])
def test_germline_positions_name_the_listed_change(assembly):
    for row in genome.germline_table().itertuples(index=False):
        chrom_pos, alleles = getattr(row, assembly.lower()).split(" ")
        ref, alt = alleles.split(">")
        out = annotate_variant(assembly, "4", int(chrom_pos.split(":")[1]), ref, alt)
        assert out["gene"] == row.gene and out["hgvsc"] == row.hgvsc
        if row.gene == "PDGFRA":  # exon 18 is a bundled window
            assert (out["hgvsp"], out["consequence"]) == (row.hgvsp, "synonymous")
        assert genome.germline_polymorphism(out["gene"], out["hgvsc"]) is not None


# ---- the data files are the build script's output --------------------------------------------

def _build_script():
    from conftest import REPO

    spec = importlib.util.spec_from_file_location(
        "build_genome_data", REPO / "scripts" / "build_genome_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, REPO / "lesiontrack" / "genome" / "data"


def test_the_genome_data_files_are_what_the_script_makes():
    script, data = _build_script()
    if script.DEFAULT_SOURCE is None:
        pytest.skip("shared/kit-reference not available")
    for name, build in script.BUILDERS.items():
        assert (data / name).read_bytes() == build(script.DEFAULT_SOURCE).encode(), name


def test_the_bundled_tables_agree_with_each_other():
    hotspots = genome.hotspot_table()
    assert len(hotspots) == 84 and set(hotspots["assembly"]) == {"GRCh37", "GRCh38"}
    sources = genome.knowledge_sources()
    for text in hotspots["source"]:
        assert all(re.match(r"S\d+", item).group(0) in sources for item in text.split(";"))
    # every hotspot allele in a window is named the same by the window and by the table, but
    # for COSMIC's legacy name of a deletion that the HGVS 3' rule shifts (D842 I M H D846)
    shifted = {"D842_H845del": "I843_D846del"}
    for row in hotspots.itertuples(index=False):
        pos, ref, alt = minimal(int(row.pos), row.ref, row.alt)
        out = annotate_variant(row.assembly, row.chrom, pos, ref, alt)
        assert out["hgvsp"] == f"p.{shifted.get(row.protein_change, row.protein_change)}", row
        assert genome.is_protein_altering(out["consequence"]) is True
    windows = genome.exon_windows()
    assert len(windows) == 18
    assert (windows["end"] - windows["start"] + 1 == windows["sequence"].str.len()).all()


def test_the_calls_table_lists_the_consequence_of_every_row(tmp_path):
    meta = [FMT["GT"], FMT["AD"], CHR4_GRCH38]
    write_vcf(tmp_path / "t.vcf", meta, ["T"], ["4\t54733155\t.\tA\tT\t.\tPASS\t.\tGT:AD\t0/1:60,40"])
    calls = read_calls(_sheet(tmp_path, "t.vcf"))
    assert set(calls["consequence"]) <= VOCABULARY
    assert isinstance(calls, pd.DataFrame)
