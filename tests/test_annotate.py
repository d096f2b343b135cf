"""Transcript models, c./p. names and the knowledge hint, on the worked examples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lesiontrack import genome
from lesiontrack.annotate import annotate_variant
from lesiontrack.errors import ReferenceMismatchError
from lesiontrack.hgvs import protein_change
from lesiontrack.reference import Reference
from lesiontrack.variants import minimal

# (gene, hgvsp, c., GRCh37 VCF, GRCh38 VCF, exon) from the shared KIT reference facts
WORKED = [
    ("KIT", "p.D816V", "c.2447A>T", (55599321, "A", "T"), (54733155, "A", "T"), "17"),
    ("KIT", "p.V654A", "c.1961T>C", (55594258, "T", "C"), (54728092, "T", "C"), "13"),
    ("KIT", "p.T670I", "c.2009C>T", (55595519, "C", "T"), (54729353, "C", "T"), "14"),
    ("KIT", "p.W557_K558del", "c.1669_1674del", (55593600, "CAGTGGA", "C"),
     (54727434, "CAGTGGA", "C"), "11"),
    ("KIT", "p.A502_Y503dup", "c.1504_1509dup", (55592178, "C", "CTGCCTA"),
     (54726012, "C", "CTGCCTA"), "9"),
    ("PDGFRA", "p.D842V", "c.2525A>T", (55152093, "A", "T"), (54285926, "A", "T"), "18"),
]


@pytest.mark.parametrize("assembly", ["GRCh37", "GRCh38"])
@pytest.mark.parametrize(("gene", "hgvsp", "hgvsc", "b37", "b38", "exon"), WORKED)
def test_worked_examples_with_a_reference(request, assembly, gene, hgvsp, hgvsc, b37, b38, exon):
    reference = Reference(request.getfixturevalue(
        "grch37_reference" if assembly == "GRCh37" else "grch38_reference"))
    pos, ref, alt = minimal(*(b37 if assembly == "GRCh37" else b38))
    out = annotate_variant(assembly, "chr4", pos, ref, alt, reference=reference)
    assert (out["gene"], out["exon"], out["hgvsc"], out["hgvsp"]) == (gene, exon, hgvsc, hgvsp)
    assert out["hgvsp_source"] == "reference"


@pytest.mark.parametrize("assembly", ["GRCh37", "GRCh38"])
@pytest.mark.parametrize(("gene", "hgvsp", "hgvsc", "b37", "b38", "exon"), WORKED)
def test_without_a_reference_the_bundled_tables_name_the_worked_examples(
        assembly, gene, hgvsp, hgvsc, b37, b38, exon):
    pos, ref, alt = minimal(*(b37 if assembly == "GRCh37" else b38))
    out = annotate_variant(assembly, "4", pos, ref, alt)
    assert (out["gene"], out["exon"], out["hgvsc"], out["hgvsp"]) == (gene, exon, hgvsc, hgvsp)
    assert out["hgvsp_source"] == "bundled" and out["consequence_source"] == "bundled"


def test_annotation_from_the_input_wins_over_the_reference(grch38_reference):
    out = annotate_variant("GRCh38", "4", 54733155, "A", "T", ann_hgvsp="p.D816V",
                           reference=Reference(grch38_reference))
    assert (out["hgvsp"], out["hgvsp_source"]) == ("p.D816V", "annotation")


def test_knowledge_hint_by_codon():
    assert annotate_variant("GRCh38", "4", 54733155, "A", "T")["role_hint"] == (
        "known_resistance_site")
    assert annotate_variant("GRCh38", "4", 54285926, "A", "T")["role_hint"] == (
        "known_primary_region")
    assert annotate_variant("GRCh38", "4", 54700000, "A", "T")["role_hint"] == ""


def test_intron_and_utr_c_coordinates():
    kit = genome.transcripts("GRCh38")["KIT"]
    assert kit.locate(54658014).c == "-1"
    assert kit.locate(54658084).c == "67+3"
    assert kit.locate(54695510).c == "68-2"
    assert kit.locate(54738558).c == "*1"
    assert kit.locate(54658015).codon == 1


def test_both_builds_agree_on_every_coding_exon():
    for gene in genome.bundled_genes():
        t37, t38 = genome.transcripts("GRCh37")[gene], genome.transcripts("GRCh38")[gene]
        assert t37.cds_length == t38.cds_length
        for (s37, _), (s38, _) in zip(t37.cds_intervals(), t38.cds_intervals(), strict=True):
            assert t37.locate(s37).c == t38.locate(s38).c


@pytest.mark.parametrize(("ref", "alt", "expected"), [
    ("ATGGACTGA", "ATGGTCTGA", "p.D2V"),
    ("ATGGACTGA", "ATGGATTGA", "p.(=)"),
    ("ATGTGGAAGTGA", "ATGTGA", "p.W2_K3del"),
    ("ATGGTTGTTGAGTGA", "ATGGTTGAGTGA", "p.V3del"),  # 3' rule: the second V
    ("ATGAAGTAA", "ATGTAGTAA", "p.K2*"),
    ("ATGGCCTATTTCTGA", "ATGGCCTATGCCTATTTCTGA", "p.A2_Y3dup"),
    ("ATGAAGTTCTGA", "ATGAAGGGCTTCTGA", "p.K2_F3insG"),
    ("ATGAAGTTCGGCTGA", "ATGAAGTCGGCTGA", "p.F3Sfs*?".replace("*?", "")),
])
def test_protein_change_names(ref, alt, expected):
    assert protein_change(ref, alt) == expected


def test_reference_of_the_wrong_build_is_refused(grch37_reference, tmp_path):
    whole = tmp_path / "chr4.fa"
    whole.write_text(">chr4\n" + "N" * 60 + "\n")
    reference = Reference(grch37_reference)
    reference.check_assembly("GRCh37", "the calls")  # an excerpt cannot tell; no error
    fake = Reference(whole)
    fake.chr4_length = genome.CHR4_LENGTH["GRCh37"]
    with pytest.raises(ReferenceMismatchError, match=r"GRCh37.*GRCh38"):
        fake.check_assembly("GRCh38", "the calls")


def test_every_knowledge_row_cites_a_listed_source():
    sources = genome.knowledge_sources()
    for row in genome.knowledge_table().itertuples():
        for source in row.source.split(";"):
            assert source in sources, (row.region, source)


# --- annotate_calls: the annotation step on a calls table ------------------------------------

def test_annotate_calls_on_a_bare_table_gives_the_model_annotation_and_leaves_the_input():
    """The demo's calls without their annotation columns get them back from the bundled model:
    the same gene, exon, codon, HGVS and consequence; only the source says ``bundled`` where the
    caller had annotated (Mutect2 Funcotator-style and vcf2maf rows)."""
    import lesiontrack as lt
    from lesiontrack.annotate import ANNOTATION_COLUMNS, annotate_calls

    calls = lt.read_calls(Path(__file__).parents[1] / "fixtures" / "samplesheet.tsv")
    columns = list(ANNOTATION_COLUMNS)
    bare = calls.drop(columns=columns)
    before = bare.copy()
    again = annotate_calls(bare)
    pd.testing.assert_frame_equal(bare, before)  # not changed in place
    assert list(again.columns) == [*bare.columns, *columns]  # no helper column left behind
    sources = ["hgvsp_source", "consequence_source"]
    same = [c for c in columns if c not in sources]
    pd.testing.assert_frame_equal(again[same], calls[same])
    annotated = calls["hgvsp_source"] == "annotation"
    assert annotated.any() and (again.loc[annotated, "hgvsp_source"] == "bundled").all()
    assert (again.loc[~annotated, sources] == calls.loc[~annotated, sources]).all().all()


def test_annotate_calls_names_a_missing_column():
    from lesiontrack.annotate import annotate_calls
    from lesiontrack.errors import OptionError

    table = pd.DataFrame({"patient_id": ["P1"], "assembly": ["GRCh38"], "chrom": ["chr4"],
                          "pos": [1], "ref": ["A"], "alt": ["C"]})
    with pytest.raises(OptionError, match="'variant_key'"):
        annotate_calls(table)
