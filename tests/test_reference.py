"""lesiontrack.reference: fetching from a FASTA (whole contigs and ``samtools faidx`` excerpts),
the build told by chr4's length, private indexes, and indel alignment on a sequence."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pysam
import pytest

from lesiontrack.errors import ReferenceMismatchError
from lesiontrack.genome import CHR4_LENGTH
from lesiontrack.reference import Excerpts, Reference, SequenceSource, indexed_fasta

CHR1 = "ACGTTGCAAC" * 10  # 100 bases, positions 1..100
EXCERPT = "ggatccTTAGCAAAAT"  # 16 bases at 1001..1016 (lower case in the file)
SECOND = "CCCCGGGG"  # 8 bases at 2001..2008


def write_fasta(path: Path, contigs: list[tuple[str, str]], width: int = 60) -> Path:
    with path.open("w") as out:
        for name, sequence in contigs:
            out.write(f">{name}\n")
            for i in range(0, len(sequence), width):
                out.write(sequence[i:i + width] + "\n")
    return path


@pytest.fixture
def fasta(tmp_path) -> Path:
    path = write_fasta(tmp_path / "ref.fa", [
        ("chr1", CHR1), ("chr4:1001-1016", EXCERPT), ("chr4:2001-2008", SECOND),
        ("MT", "ACGT"),
    ])
    pysam.faidx(str(path))
    return path


def fake_chr4(tmp_path: Path, length: int, name: str = "chr4") -> Path:
    """A FASTA whose hand-written .fai declares a chr4 of ``length`` bases (only its lengths
    are read: no whole chromosome needs writing)."""
    path = write_fasta(tmp_path / f"{name.replace(':', '_')}.fa", [(name, "ACGTACGTAC")],
                       width=10)
    Path(f"{path}.fai").write_text(f"{name}\t{length}\t{len(name) + 2}\t10\t11\n")
    return path


# ----------------------------------------------------------------------------------------------
# fetch
# ----------------------------------------------------------------------------------------------

def test_fetch_whole_contig_is_one_based_inclusive(fasta):
    ref = Reference(fasta)
    assert ref.fetch("chr1", 1, 10) == CHR1[:10]
    assert ref.fetch("1", 1, 10) == CHR1[:10]  # chr prefix or not
    assert ref.fetch("chr1", 5, 5) == CHR1[4]
    assert ref.base("chr1", 100) == CHR1[99]  # the last base
    assert ref.fetch("chr1", 91, 100) == CHR1[90:]
    assert ref.fetch("chrM", 1, 4) == "ACGT"  # chrM and MT are one contig


def test_fetch_outside_a_contig_is_none(fasta):
    ref = Reference(fasta)
    assert ref.fetch("chr1", 100, 101) is None  # one base past the end
    assert ref.base("chr1", 101) is None
    assert ref.base("chr1", 0) is None  # positions start at 1
    assert ref.fetch("chr2", 1, 1) is None  # no such contig
    assert ref.fetch("chr1", 5, 4) == ""  # an empty range (an insertion's bases)
    assert ref.fetch("chr9", 5, 4) == ""


def test_fetch_from_excerpts_uses_their_coordinates(fasta):
    ref = Reference(fasta)
    assert ref.base("chr4", 1001) == "G"  # upper case
    assert ref.fetch("4", 1001, 1016) == EXCERPT.upper()
    assert ref.base("chr4", 1016) == "T"
    assert ref.base("chr4", 1000) is None
    assert ref.base("chr4", 1017) is None
    assert ref.fetch("chr4", 1010, 1017) is None  # runs past the excerpt
    assert ref.fetch("chr4", 2001, 2008) == SECOND  # the second excerpt of chr4
    assert ref.fetch("chr4", 1016, 2001) is None  # never across two excerpts
    assert ref.chr4_length is None and ref.assembly is None  # excerpts tell no build


def test_sources_say_whether_they_are_partial(fasta):
    assert Reference(fasta).partial is False
    assert Excerpts("exons", []).partial is True
    assert Reference(fasta).path == fasta


# ----------------------------------------------------------------------------------------------
# the build
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assembly", sorted(CHR4_LENGTH))
def test_chr4_length_tells_the_build(tmp_path, assembly):
    ref = Reference(fake_chr4(tmp_path, CHR4_LENGTH[assembly]))
    assert ref.chr4_length == CHR4_LENGTH[assembly]
    assert ref.assembly == assembly
    ref.check_assembly(assembly, "the VCF")  # the same build: no error
    other = next(a for a in CHR4_LENGTH if a != assembly)
    with pytest.raises(ReferenceMismatchError) as error:
        ref.check_assembly(other, "the VCF")
    assert error.value.message == (f"the reference is {assembly} (chr4 length "
                                   f"{CHR4_LENGTH[assembly]}) but the VCF is {other}")
    assert error.value.hint == f"chr4 is {CHR4_LENGTH[other]} bases long in {other}"
    assert error.value.file == os.fspath(ref.path)


@pytest.mark.parametrize("length", [CHR4_LENGTH["GRCh38"] - 1, CHR4_LENGTH["GRCh38"] + 1])
def test_a_chr4_of_no_known_length_tells_no_build(tmp_path, length):
    ref = Reference(fake_chr4(tmp_path, length, name="4"))
    assert ref.chr4_length == length
    assert ref.assembly is None
    for assembly in CHR4_LENGTH:
        ref.check_assembly(assembly, "the VCF")


def test_a_chr4_excerpt_of_a_build_length_tells_no_build(tmp_path):
    ref = Reference(fake_chr4(tmp_path, CHR4_LENGTH["GRCh38"], name="chr4:1-190214555"))
    assert ref.chr4_length is None
    ref.check_assembly("GRCh37", "the VCF")


def test_an_unreadable_reference_is_a_reference_error(tmp_path):
    with pytest.raises(ReferenceMismatchError) as error:
        Reference(tmp_path / "missing.fa")
    assert error.value.message.startswith("cannot open the reference FASTA: ")
    assert error.value.file == os.fspath(tmp_path / "missing.fa")
    garbage = tmp_path / "garbage.fa"
    garbage.write_bytes(b"\x00\x01 not a fasta\n")
    with pytest.raises(ReferenceMismatchError):
        Reference(garbage)


# ----------------------------------------------------------------------------------------------
# private indexes
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The system temporary folder, for this test only."""
    import tempfile

    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_an_indexed_fasta_is_opened_where_it_is(fasta, private_tmp):
    assert indexed_fasta(fasta) == fasta
    assert Reference(fasta).fasta_path == fasta
    assert not any(private_tmp.iterdir())


def test_a_fasta_without_index_is_indexed_in_a_private_folder(tmp_path, private_tmp):
    folder = tmp_path / "refs"
    folder.mkdir()
    path = write_fasta(folder / "ref.fa", [("chr1", CHR1)])
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)  # a read-only folder of references
    try:
        link = indexed_fasta(path)
        assert link != path and link.name == "ref.fa"
        assert link.parent.parent == private_tmp
        assert link.parent.name.startswith(f"lesiontrack-fai-{os.getpid()}-")
        assert os.path.realpath(link) == os.path.realpath(path)
        assert indexed_fasta(path) == link  # once per process
        ref = Reference(path)
        assert ref.fasta_path == link and ref.path == path
        assert ref.fetch("chr1", 1, 10) == CHR1[:10]
        assert Path(f"{link}.fai").exists()
        assert sorted(p.name for p in folder.iterdir()) == ["ref.fa"]  # nothing beside the input
    finally:
        folder.chmod(stat.S_IRWXU)


def test_a_changed_fasta_gets_a_new_private_index(tmp_path, private_tmp):
    path = write_fasta(tmp_path / "ref.fa", [("chr1", CHR1)])
    first = indexed_fasta(path)
    write_fasta(path, [("chr1", CHR1 + "ACGT")])
    second = indexed_fasta(path)
    assert second != first
    assert Reference(path).fetch("chr1", 101, 104) == "ACGT"


def test_a_bgzipped_fasta_needs_its_gzi_too(tmp_path, private_tmp):
    plain = write_fasta(tmp_path / "ref.fa", [("chr1", CHR1)])
    pysam.tabix_compress(str(plain), str(tmp_path / "ref.fa.gz"))
    path = tmp_path / "ref.fa.gz"
    pysam.faidx(str(path))  # writes .fai and .gzi
    assert Path(f"{path}.gzi").exists()
    assert indexed_fasta(path) == path
    Path(f"{path}.gzi").unlink()  # .fai alone does not do for a bgzipped FASTA
    assert indexed_fasta(path) != path
    assert Reference(path).fetch("chr1", 1, 10) == CHR1[:10]
    # a plain gzip FASTA is not readable by htslib: one reference error
    with gzip.open(tmp_path / "plain.fa.gz", "wt") as out:
        out.write(f">chr1\n{CHR1}\n")
    with pytest.raises(ReferenceMismatchError):
        Reference(tmp_path / "plain.fa.gz")


# ----------------------------------------------------------------------------------------------
# excerpts in memory and indel alignment
# ----------------------------------------------------------------------------------------------

def test_excerpts_fetch_inside_one_stretch_only():
    source = Excerpts("exons", [("chr4", 100, "gcaaaat"), ("4", 110, "TTTT")])
    assert source.path == Path("exons")
    assert source.fetch("4", 100, 106) == "GCAAAAT"
    assert source.base("chr4", 106) == "T"
    assert source.base("chr4", 99) is None
    assert source.base("chr4", 107) is None
    assert source.fetch("chr4", 110, 113) == "TTTT"
    assert source.fetch("chr4", 105, 111) is None  # two stretches, a gap between
    assert source.fetch("chr4", 5, 4) == ""
    assert source.fetch("chr1", 100, 100) is None


#: 100 G, 101 C, 102-105 AAAA, 106 T, 107-112 CACACA, 113 G
REPEATS = Excerpts("test", [("1", 100, "GCAAAATCACACAG")])


@pytest.mark.parametrize("minimal_form, left, right", [
    # a deletion of one A of AAAA, written anywhere in the run
    ((105, "A", "-"), (102, "A", "-"), (105, "A", "-")),
    ((103, "A", "-"), (102, "A", "-"), (105, "A", "-")),
    # an insertion of A (after the position): before the run to its last base
    ((104, "-", "A"), (101, "-", "A"), (105, "-", "A")),
    # a deletion of two bases of CACACA: the repeat unit rotates as it moves
    ((109, "CA", "-"), (107, "CA", "-"), (111, "CA", "-")),
    ((110, "AC", "-"), (107, "CA", "-"), (111, "CA", "-")),
    # an insertion of CA in CACACA
    ((110, "-", "CA"), (106, "-", "CA"), (112, "-", "CA")),
    # nothing to shift: a deletion of the lone T, a substitution
    ((106, "T", "-"), (106, "T", "-"), (106, "T", "-")),
    ((103, "A", "G"), (103, "A", "G"), (103, "A", "G")),
])
def test_left_and_right_alignment(minimal_form, left, right):
    assert REPEATS.left_align("1", *minimal_form) == left
    assert REPEATS.right_align("1", *minimal_form) == right
    assert REPEATS.left_align("1", *right) == left
    assert REPEATS.right_align("1", *left) == right


def test_alignment_stops_where_the_sequence_ends():
    run = Excerpts("test", [("1", 10, "AAAA")])  # 10-13, nothing known around
    assert run.left_align("1", 12, "A", "-") == (10, "A", "-")
    assert run.right_align("1", 11, "A", "-") == (13, "A", "-")
    assert run.left_align("1", 12, "-", "A") == (9, "-", "A")  # before the run (9 unknown)
    assert run.right_align("1", 11, "-", "A") == (13, "-", "A")


def test_alignment_never_goes_before_the_first_base():
    run = Excerpts("test", [("1", 1, "AAAAT")])
    assert run.left_align("1", 3, "-", "A") == (1, "-", "A")
    assert run.left_align("1", 3, "A", "-") == (1, "A", "-")


class Poly(SequenceSource):
    """A sequence of one base that answers any position (0 and below too)."""

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        return "A" * (end - start + 1)


def test_alignment_stops_at_position_one_even_when_the_source_answers_before_it():
    assert Poly().left_align("1", 5, "A", "-") == (1, "A", "-")
    assert Poly().left_align("1", 5, "AA", "-") == (1, "AA", "-")
    assert Poly().left_align("1", 5, "-", "A") == (1, "-", "A")


def test_alignment_on_a_fasta(fasta):
    ref = Reference(fasta)  # EXCERPT: 1001 GGATCCTTAGC 1012 AAAA 1016 T
    assert ref.left_align("chr4", 1015, "A", "-") == (1012, "A", "-")
    assert ref.right_align("chr4", 1012, "-", "A") == (1015, "-", "A")
    assert isinstance(ref, SequenceSource)
