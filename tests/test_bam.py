"""Force-calling: allele counts at KIT sites read from small BAM/CRAM files made in tmp_path."""

from __future__ import annotations

import random

import pandas as pd
import pysam
import pytest
from bamtools import (
    DUPLICATE,
    GRCH37_CHR4,
    QCFAIL,
    SECONDARY,
    SUPPLEMENTARY,
    UNMAPPED,
    ReadSpec,
    make_test_bam,
    mates,
    variant_read,
    write_fasta,
)

from lesiontrack.errors import CallsFileError, OptionError, ReferenceMismatchError
from lesiontrack.io.bam import count_alleles
from lesiontrack.reference import Reference
from lesiontrack.variants import minimal

# GRCh38 sites from the shared KIT reference facts, in minimal form
D816V = (54733155, "A", "T")  # c.2447A>T, exon 17
W557_K558DEL = minimal(54727434, "CAGTGGA", "C")  # (54727435, "AGTGGA", "-"), exon 11
A502_Y503DUP = minimal(54726012, "C", "CTGCCTA")  # (54726012, "-", "TGCCTA"), exon 9


@pytest.fixture(scope="module")
def ref(grch38_reference) -> Reference:
    return Reference(grch38_reference)


def sites(*variants, chrom="chr4") -> pd.DataFrame:
    return pd.DataFrame([(chrom, p, r, a) for p, r, a in variants],
                        columns=["chrom", "pos", "ref", "alt"])


def counts(path, *variants, **options) -> list[tuple[int, int, int]]:
    out = count_alleles(path, sites(*variants), **options)
    return list(zip(out["ref_count"], out["alt_count"], out["depth"], strict=True))


def low_at(read: ReadSpec, pos: int, quality: int = 10) -> ReadSpec:
    """The read with base quality ``quality`` at reference position ``pos`` (an all-M read)."""
    quals = [30] * len(read.seq)
    quals[pos - read.pos] = quality
    return read.with_(qual=quals)


# --------------------------------------------------------------------------------------------
# Substitutions


def test_snv_counts_are_exact(tmp_path, ref):
    site = D816V[0]
    rng = random.Random(816)
    reads = [variant_read(ref, f"alt{i}", site - rng.randint(0, 149), D816V) for i in range(12)]
    reads += [variant_read(ref, f"ref{i}", site - rng.randint(0, 149)) for i in range(20)]
    reads += [variant_read(ref, f"oth{i}", site - 70, (site, "A", "C")) for i in range(3)]
    reads += [variant_read(ref, f"before{i}", site - 150 - i) for i in range(5)]  # ends before
    reads += [variant_read(ref, f"after{i}", site + 1 + i) for i in range(2)]  # starts after
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    assert counts(bam, D816V) == [(20, 12, 35)]


def test_result_keeps_the_rows_index_and_columns(tmp_path, ref):
    bam = make_test_bam(tmp_path / "s1.bam", [
        variant_read(ref, "a", D816V[0] - 10, D816V), variant_read(ref, "r", D816V[0] - 20)])
    table = sites(D816V, (54700000, "A", "G"), D816V, chrom="4")  # "4" finds "chr4"
    table.index = [7, 3, 5]
    table["lesion"] = ["L1", "L2", "L3"]
    out = count_alleles(bam, table)
    assert list(out.index) == [7, 3, 5]
    assert list(out["lesion"]) == ["L1", "L2", "L3"]
    assert out[["ref_count", "alt_count", "depth"]].values.tolist() == [
        [1, 1, 2], [0, 0, 0], [1, 1, 2]]
    assert all(str(out[c].dtype) == "int64" for c in ("ref_count", "alt_count", "depth"))
    empty = count_alleles(bam, sites())
    assert empty.empty and "depth" in empty


def test_low_quality_bases_are_not_counted(tmp_path, ref):
    site = D816V[0]
    good = [variant_read(ref, f"alt{i}", site - 50, D816V) for i in range(5)]
    low_site = [low_at(variant_read(ref, f"low{i}", site - 50, D816V), site) for i in range(4)]
    low_ref = [low_at(variant_read(ref, f"lowref{i}", site - 50), site, 19) for i in range(3)]
    low_elsewhere = [low_at(variant_read(ref, f"else{i}", site - 50, D816V), site + 3)
                     for i in range(2)]
    bam = make_test_bam(tmp_path / "s1.bam", good + low_site + low_ref + low_elsewhere)
    assert counts(bam, D816V) == [(0, 7, 7)]
    assert counts(bam, D816V, min_baseq=19) == [(3, 7, 10)]
    assert counts(bam, D816V, min_baseq=10) == [(3, 11, 14)]


def test_filtered_reads_are_not_counted(tmp_path, ref):
    site = D816V[0]
    reads = [variant_read(ref, f"alt{i}", site - 40, D816V) for i in range(3)]
    for flag in (DUPLICATE, SECONDARY, SUPPLEMENTARY, QCFAIL, UNMAPPED):
        reads.append(variant_read(ref, f"flag{flag}", site - 40, D816V, flag=flag))
    reads.append(variant_read(ref, "mapq10", site - 40, D816V, mapq=10))
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    assert counts(bam, D816V) == [(0, 3, 3)]
    assert counts(bam, D816V, min_mapq=10) == [(0, 4, 4)]


def test_overlapping_mates_count_once(tmp_path, ref):
    site = D816V[0]

    def quals_at(read, quality):
        return low_at(read, site, quality)

    reads = []
    # both mates show ALT: one ALT read
    reads += mates(variant_read(ref, "a", site - 100, D816V), variant_read(ref, "a", site - 30,
                                                                           D816V))
    # mates disagree: the mate with the higher base quality at the site wins
    reads += mates(quals_at(variant_read(ref, "b", site - 100, D816V), 35),
                   quals_at(variant_read(ref, "b", site - 30), 25))
    reads += mates(quals_at(variant_read(ref, "c", site - 100, D816V), 22),
                   quals_at(variant_read(ref, "c", site - 30), 38))
    # only one mate reaches the site
    reads += mates(variant_read(ref, "d", site - 140, D816V), variant_read(ref, "d", site + 5))
    # the ALT mate's base fails min_baseq: the REF mate alone is the evidence
    reads += mates(quals_at(variant_read(ref, "e", site - 100, D816V), 10),
                   variant_read(ref, "e", site - 30))
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    assert counts(bam, D816V) == [(2, 3, 5)]


def test_deletion_at_an_snv_site_is_other_and_mnv_is_matched_whole(tmp_path, ref):
    site = D816V[0]
    mnv = (site, "AC", "TT")
    reads = [variant_read(ref, "del", site - 60, (site - 1, "GAC", "-")),
             variant_read(ref, "mnv", site - 60, mnv),
             variant_read(ref, "snv", site - 60, D816V),
             variant_read(ref, "ref", site - 60),
             variant_read(ref, "half", site - 149)]  # ends on the MNV's first base
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    # the MNV read is ALT for D816V; the D816V read is "other" for the MNV (TC, not TT)
    assert counts(bam, D816V, mnv) == [(2, 2, 5), (1, 1, 4)]


# --------------------------------------------------------------------------------------------
# Indels


def test_deletion_is_counted_from_the_cigar(tmp_path, ref):
    pos = W557_K558DEL[0]
    shifted = ref.right_align("chr4", *W557_K558DEL)  # same event written 3' (c.1669_1674del)
    assert shifted[0] == pos + 2
    reads = [variant_read(ref, f"alt{i}", pos - 70 + i, W557_K558DEL) for i in range(4)]
    reads += [variant_read(ref, f"shift{i}", pos - 60, shifted) for i in range(2)]
    reads += [variant_read(ref, f"del3_{i}", pos - 60, (pos, "AGT", "-")) for i in range(2)]
    reads += [variant_read(ref, f"ref{i}", pos - 80 + i) for i in range(10)]
    reads += [variant_read(ref, f"end{i}", pos + 3 - 150) for i in range(2)]  # ends in the site
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    # The 3'-shifted reads are the same deletion; without a reference the bases that would show
    # it are deleted in those reads, so they are "other", never REF.
    assert counts(bam, W557_K558DEL) == [(10, 4, 18)]
    assert counts(bam, W557_K558DEL, reference=ref) == [(10, 6, 18)]
    assert counts(bam, shifted, reference=ref) == [(10, 6, 18)]


def test_deletion_flank_quality_and_span(tmp_path, ref):
    pos = W557_K558DEL[0]
    alt = variant_read(ref, "alt", pos - 50, W557_K558DEL)
    low = [30] * 150
    low[49] = 5  # the base right before the deletion
    reads = [alt, alt.with_(name="low", qual=low)]
    # a REF read must reach the right flank of the whole repeat window (pos + 8 with reference)
    short = variant_read(ref, "short", pos + 7 - 149)  # last base pos + 7
    reads.append(short)
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    assert counts(bam, W557_K558DEL) == [(1, 1, 2)]
    assert counts(bam, W557_K558DEL, reference=ref) == [(0, 1, 1)]


def test_insertion_duplication_is_counted_from_the_cigar(tmp_path, ref):
    pos = A502_Y503DUP[0]
    shifted = ref.right_align("chr4", *A502_Y503DUP)
    assert shifted == (pos + 7, "-", "GCCTAT")
    reads = [variant_read(ref, f"alt{i}", pos - 60 + i, A502_Y503DUP) for i in range(5)]
    reads += [variant_read(ref, f"shift{i}", pos - 60, shifted) for i in range(2)]
    reads += [variant_read(ref, "ins3", pos - 60, (pos, "-", "TGC"))]
    reads += [variant_read(ref, f"ref{i}", pos - 70 + i) for i in range(8)]
    reads += [variant_read(ref, "wrongseq", pos - 60, (pos, "-", "TGCCTT"))]
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    # a shifted insertion is checked against the read's own bases when there is no reference
    assert counts(bam, A502_Y503DUP) == [(8, 7, 17)]
    assert counts(bam, A502_Y503DUP, reference=ref) == [(8, 7, 17)]
    assert counts(bam, shifted, reference=ref) == [(8, 7, 17)]
    assert counts(bam, (pos, "-", "TGC"), reference=ref) == [(8, 1, 17)]


@pytest.fixture
def repeat_contig(tmp_path):
    """A 400-base chr4 holding (CAG)x5 at 151-165, flanked by T, as a FASTA and a Reference."""
    rng = random.Random(5)
    seq = [rng.choice("ACGT") for _ in range(400)]
    seq[149], seq[150:165], seq[165] = "T", list("CAG" * 5), "T"
    fasta = write_fasta(tmp_path / "repeat.fa", "chr4", "".join(seq))
    return fasta, Reference(fasta)


def test_indels_in_a_repeat_with_and_without_reference(tmp_path, repeat_contig):
    fasta, rep = repeat_contig
    deletion = rep.left_align("chr4", 160, "CAG", "-")
    assert deletion == (151, "CAG", "-")
    right = rep.right_align("chr4", *deletion)
    assert right == (163, "CAG", "-")
    far = (200, rep.fetch("chr4", 200, 202), "-")  # an unrelated 3-base deletion
    reads = [variant_read(rep, f"left{i}", 60 + i, deletion) for i in range(3)]
    reads += [variant_read(rep, f"right{i}", 70 + i, right) for i in range(3)]
    reads += [variant_read(rep, f"ref{i}", 100 + i) for i in range(5)]
    reads += [variant_read(rep, "far", 120, far)]
    bam = make_test_bam(tmp_path / "del.bam", reads, contigs=[("chr4", 400)])
    # without a reference the shifted deletions cannot be shown equal: other, never ref; the
    # unrelated deletion 49 bases away is shown different from the read's bases: ref
    assert counts(bam, deletion) == [(6, 3, 12)]
    assert counts(bam, deletion, reference=rep) == [(6, 6, 12)]
    assert counts(bam, right, reference=fasta) == [(6, 6, 12)]

    insertion = rep.left_align("chr4", 165, "-", "CAG")
    assert insertion == (150, "-", "CAG")
    shifted = rep.right_align("chr4", *insertion)
    assert shifted == (165, "-", "CAG")
    middle = (156, "-", "CAG")
    reads = [variant_read(rep, f"left{i}", 60 + i, insertion) for i in range(2)]
    reads += [variant_read(rep, f"mid{i}", 60 + i, middle) for i in range(2)]
    reads += [variant_read(rep, f"right{i}", 60 + i, shifted) for i in range(2)]
    reads += [variant_read(rep, f"ref{i}", 100 + i) for i in range(4)]
    reads += [variant_read(rep, "other", 60, (150, "-", "CAA"))]
    bam = make_test_bam(tmp_path / "ins.bam", reads, contigs=[("chr4", 400)])
    # an insertion shifted along the repeat is shown equal by the read's own bases
    assert counts(bam, insertion) == [(4, 6, 11)]
    assert counts(bam, insertion, reference=rep) == [(4, 6, 11)]
    # written 3', without a reference the span is 165-166 only: the CAA read (an insertion
    # after 150, which spreads to 153 at most) does not touch it and reads as REF there
    assert counts(bam, shifted) == [(5, 6, 11)]
    assert counts(bam, shifted, reference=rep) == [(4, 6, 11)]


def test_snv_counts_agree_with_pysam_count_coverage(tmp_path, ref):
    rng = random.Random(42)
    start = D816V[0] - 200
    reads = []
    for i in range(300):
        read = variant_read(ref, f"r{i}", start + rng.randint(0, 250))
        seq = list(read.seq)
        for j in rng.sample(range(150), 6):
            seq[j] = rng.choice("ACGT")
        quals = [rng.choice((8, 15, 25, 37)) for _ in seq]
        reads.append(read.with_(seq="".join(seq), qual=quals))
    bam = make_test_bam(tmp_path / "s1.bam", reads)
    positions = list(range(D816V[0] - 20, D816V[0] + 21, 4))
    table = []
    for pos in positions:
        base = ref.base("chr4", pos)
        table.append((pos, base, "C" if base != "C" else "G"))
    ours = counts(bam, *table, min_baseq=20, min_mapq=0)
    with pysam.AlignmentFile(str(bam)) as handle:
        for (pos, base, alt), (n_ref, n_alt, depth) in zip(table, ours, strict=True):
            acgt = handle.count_coverage("chr4", pos - 1, pos, quality_threshold=20,
                                         read_callback="nofilter")
            by_base = {b: int(acgt[i][0]) for i, b in enumerate("ACGT")}
            assert (n_ref, n_alt, depth) == (by_base[base], by_base[alt], sum(by_base.values()))


# --------------------------------------------------------------------------------------------
# Files: CRAM, index, build, sample


@pytest.fixture(scope="module")
def cram_files(tmp_path_factory, ref):
    """A CRAM at real GRCh38 positions, written against a bgzipped chr4 FASTA (N up to KIT)."""
    folder = tmp_path_factory.mktemp("cram")
    start, end = D816V[0] - 5000, D816V[0] + 5000
    fasta = write_fasta(folder / "chr4_kit.fa.gz", "chr4", ref.fetch("chr4", start, end), start)
    reads = [variant_read(ref, f"alt{i}", D816V[0] - 30 - i, D816V) for i in range(4)]
    reads += [variant_read(ref, f"ref{i}", D816V[0] - 60 - i) for i in range(9)]
    cram = make_test_bam(folder / "s1.cram", reads, reference=fasta)
    return cram, fasta


def test_cram_is_read_with_its_reference(cram_files):
    cram, fasta = cram_files
    assert counts(cram, D816V, reference=fasta) == [(9, 4, 13)]
    assert counts(cram, D816V, reference=Reference(fasta)) == [(9, 4, 13)]


def test_cram_without_reference_is_refused(cram_files, grch38_reference):
    cram, _ = cram_files
    with pytest.raises(CallsFileError, match="CRAM needs its reference") as info:
        count_alleles(cram, sites(D816V))
    assert info.value.field == "reference" and info.value.file == str(cram)
    # a KIT excerpt FASTA (contig "chr4:start-end") cannot decode a CRAM on chr4
    with pytest.raises(CallsFileError, match="no contig chr4") as info:
        count_alleles(cram, sites(D816V), reference=grch38_reference)
    assert info.value.field == "reference"


def test_missing_index_is_refused(tmp_path, ref):
    bam = make_test_bam(tmp_path / "s1.bam", [variant_read(ref, "r", D816V[0] - 5)], index=False)
    with pytest.raises(CallsFileError, match="no index") as info:
        count_alleles(bam, sites(D816V))
    assert info.value.field == "index" and "s1.bam" in str(info.value)
    assert "\n" not in str(info.value)
    pysam.index("-c", str(bam))  # a .csi index is found as well as a .bai
    assert counts(bam, D816V) == [(1, 0, 1)]


def test_not_an_alignment_file_or_missing_file(tmp_path):
    text = tmp_path / "calls.vcf"
    text.write_text("##fileformat=VCFv4.2\n")
    with pytest.raises(CallsFileError, match="not a BAM or CRAM"):
        count_alleles(text, sites(D816V))
    with pytest.raises(CallsFileError, match="does not exist"):
        count_alleles(tmp_path / "missing.bam", sites(D816V))


def test_wrong_build_is_refused(tmp_path, ref):
    read = variant_read(ref, "r", D816V[0] - 5)
    bam37 = make_test_bam(tmp_path / "b37.bam", [read], contigs=[GRCH37_CHR4])
    with pytest.raises(CallsFileError, match="GRCh37") as info:
        count_alleles(bam37, sites(D816V), expected_assembly="GRCh38")
    assert info.value.field == "@SQ LN"
    assert counts(bam37, D816V, expected_assembly="hg19") == [(1, 0, 1)]
    bam38 = make_test_bam(tmp_path / "b38.bam", [read])
    assert counts(bam38, D816V, expected_assembly="GRCh38") == [(1, 0, 1)]
    with pytest.raises(OptionError):
        count_alleles(bam38, sites(D816V), expected_assembly="mm10")


def test_wrong_sample_is_refused(tmp_path, ref):
    read = variant_read(ref, "r", D816V[0] - 5)
    bam = make_test_bam(tmp_path / "s1.bam", [read], sample="LESION-1")
    with pytest.raises(CallsFileError, match="LESION-1") as info:
        count_alleles(bam, sites(D816V), expected_sample="LESION-2")
    assert info.value.field == "@RG SM"
    assert counts(bam, D816V, expected_sample="LESION-1") == [(1, 0, 1)]
    no_sm = make_test_bam(tmp_path / "nosm.bam", [read], sample=None)
    assert counts(no_sm, D816V, expected_sample="LESION-2") == [(1, 0, 1)]


def test_two_sample_file_counts_the_expected_sample_only(tmp_path, ref):
    reads = [variant_read(ref, "a1", D816V[0] - 5, D816V, read_group="ga"),
             variant_read(ref, "a2", D816V[0] - 6, read_group="ga"),
             variant_read(ref, "b1", D816V[0] - 7, read_group="gb"),
             variant_read(ref, "none", D816V[0] - 8, read_group=None)]
    groups = [{"ID": "ga", "SM": "A"}, {"ID": "gb", "SM": "B"}]
    bam = make_test_bam(tmp_path / "ab.bam", reads, read_groups=groups)
    assert counts(bam, D816V, expected_sample="A") == [(1, 1, 2)]
    assert counts(bam, D816V, expected_sample="B") == [(1, 0, 1)]
    assert counts(bam, D816V) == [(3, 1, 4)]


def test_site_problems_are_named(tmp_path, ref, grch38_reference):
    bam = make_test_bam(tmp_path / "s1.bam", [variant_read(ref, "r", D816V[0] - 5)])
    with pytest.raises(CallsFileError, match="no contig 17") as info:
        count_alleles(bam, sites((7577120, "C", "T"), chrom="17"))
    assert info.value.field == "@SQ SN"
    with pytest.raises(ReferenceMismatchError, match="REF G"):
        count_alleles(bam, sites((D816V[0], "G", "T")), reference=grch38_reference)
    with pytest.raises(OptionError, match="column"):
        count_alleles(bam, sites(D816V).drop(columns="alt"))
    with pytest.raises(OptionError, match="row 0"):
        count_alleles(bam, sites((D816V[0], "A", "<DEL>")))
