"""lesiontrack.variants: minimal alleles, the variant key, variant types and spans."""

from __future__ import annotations

import numpy as np
import pytest

from lesiontrack.variants import is_simple_allele, minimal, span, variant_key, variant_type


@pytest.mark.parametrize("allele, simple", [
    ("A", True), ("acgtn", True), ("ACGTN", True), ("", False), ("-", False), (".", False),
    ("*", False), ("<DEL>", False), ("A[chr1:10[", False), ("AR", False), ("A C", False),
    ("A\n", False),  # a trailing newline is not a base (re.match with $ would accept it)
])
def test_is_simple_allele(allele, simple):
    assert is_simple_allele(allele) is simple


@pytest.mark.parametrize("pos, ref, alt, expected", [
    # substitutions keep their position; case is folded
    (100, "A", "T", (100, "A", "T")),
    (100, "a", "t", (100, "A", "T")),
    # MNV / complex: the first changed base; a shared trailing base is trimmed too
    (100, "ACGT", "ATGA", (101, "CGT", "TGA")),
    (100, "ACGT", "ATGT", (101, "C", "T")),
    (100, "ACG", "AT", (101, "CG", "T")),
    # VCF deletion: the first deleted base
    (55593600, "CAGTGGA", "C", (55593601, "AGTGGA", "-")),
    (100, "AT", "T", (100, "A", "-")),
    # MAF deletion, with "-" or an empty allele
    (55593601, "AGTGGA", "-", (55593601, "AGTGGA", "-")),
    (100, "A", "", (100, "A", "-")),
    # VCF insertion: the base before the inserted bases
    (100, "A", "ATG", (100, "-", "TG")),
    (100, "AC", "ACGT", (101, "-", "GT")),
    (100, "a", "atg", (100, "-", "TG")),
    # MAF insertion: its position already is the base before
    (100, "-", "tg", (100, "-", "TG")),
    (100, "", "TG", (100, "-", "TG")),
])
def test_minimal(pos, ref, alt, expected):
    assert minimal(pos, ref, alt) == expected


def test_minimal_trims_the_trailing_bases_first():
    # AAT>AT is a deletion of one A of AA: trimmed from the end first it stays at the
    # left-aligned position 100 (trimmed from the start first it would move to 101)
    assert minimal(100, "AAT", "AT") == (100, "A", "-")
    assert minimal(100, "CAAT", "CAT") == (101, "A", "-")
    # an insertion in a repeat stays where the VCF put it
    assert minimal(100, "GA", "GAA") == (100, "-", "A")


def test_minimal_vcf_and_maf_spellings_share_one_key():
    vcf = minimal(55593600, "CAGTGGA", "C")
    maf = minimal(55593601, "AGTGGA", "-")
    assert variant_key("chr4", *vcf) == variant_key("4", *maf) == "4:55593601:AGTGGA>-"
    vcf_ins = minimal(55593610, "T", "TCCC")
    maf_ins = minimal(55593610, "-", "CCC")
    assert variant_key("chr4", *vcf_ins) == variant_key("4", *maf_ins) == "4:55593610:->CCC"


@pytest.mark.parametrize("chrom, pos, expected", [
    ("chr4", 55593601, "4:55593601:A>T"),
    ("4", 55593601, "4:55593601:A>T"),
    ("CHR4", 55593601, "4:55593601:A>T"),
    ("chrM", 5, "MT:5:A>T"),
    ("M", 5, "MT:5:A>T"),
    ("chrx", 5, "X:5:A>T"),
    (" chr4 ", np.int64(7), "4:7:A>T"),
    ("4", 7.0, "4:7:A>T"),
])
def test_variant_key(chrom, pos, expected):
    assert variant_key(chrom, pos, "A", "T") == expected


@pytest.mark.parametrize("ref, alt, kind", [
    ("A", "T", "SNV"),
    ("AC", "TG", "MNV"),
    ("ACG", "TGA", "MNV"),
    ("A", "-", "DEL"),
    ("AGTGGA", "-", "DEL"),
    ("-", "T", "INS"),
    ("-", "TG", "INS"),
    ("A", "TG", "DELINS"),
    ("ACG", "T", "DELINS"),
])
def test_variant_type(ref, alt, kind):
    assert variant_type(ref, alt) == kind


@pytest.mark.parametrize("pos, ref, expected", [
    (100, "A", (100, 100)),  # one base
    (100, "AC", (100, 101)),
    (100, "AGTGGA", (100, 105)),  # a deletion: its deleted bases
    (100, "-", (100, 101)),  # an insertion touches the bases on both sides
])
def test_span(pos, ref, expected):
    assert span(pos, ref) == expected


def test_minimal_of_a_no_change_keeps_its_position():
    # REF == ALT (a no-call written as a variant): the last base is not trimmed away from
    # both sides, so the position does not move before the record
    assert minimal(100, "A", "A")[0] == 100
    assert minimal(100, "a", "A")[0] == 100
