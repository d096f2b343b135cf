"""Test helpers: write small coordinate-sorted, indexed BAM/CRAM files from a list of reads.

    reads = [variant_read(ref, "alt1", 54733100, (54733155, "A", "T")),
             ReadSpec("r1", 54733100, "ACGT...", cigar="10M2D140M", qual=35)]
    make_test_bam(tmp_path / "s1.bam", reads)

Positions are 1-based, as in VCF; ``variant_read`` builds a read from a reference (anything
with ``fetch(chrom, start, end)`` returning bases, e.g. :class:`lesiontrack.reference.Reference`)
with a minimal-form variant (``-`` for an empty allele) applied and the CIGAR that goes with it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysam
from pysam.libcbgzf import BGZFile

GRCH38_CHR4 = ("chr4", 190_214_555)
GRCH37_CHR4 = ("chr4", 191_154_276)

#: SAM flags, for readable tests.
PAIRED, PROPER, UNMAPPED, MATE_UNMAPPED, REVERSE, MATE_REVERSE = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
FIRST, SECOND, SECONDARY, QCFAIL, DUPLICATE, SUPPLEMENTARY = 0x40, 0x80, 0x100, 0x200, 0x400, 0x800


@dataclass
class ReadSpec:
    """One read to write. ``qual`` is one quality for every base or one per base."""

    name: str
    pos: int  # 1-based reference position of the first aligned base
    seq: str
    cigar: str | None = None  # default: len(seq) M
    qual: int | Sequence[int] = 30
    mapq: int = 60
    flag: int = 0
    contig: str = "chr4"
    mate_contig: str | None = None  # default: same contig when mate_pos is given
    mate_pos: int | None = None  # 1-based
    tlen: int = 0
    read_group: str | None = ""  # "": the file's first read group; None: no RG tag
    tags: dict[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> ReadSpec:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def variant_read(
    reference: Any,
    name: str,
    start: int,
    variant: tuple[int, str, str] | None = None,
    *,
    length: int = 150,
    contig: str = "chr4",
    **fields: Any,
) -> ReadSpec:
    """A ``length``-base read whose first aligned base is ``start``, carrying ``variant``.

    ``variant`` is a minimal (pos, ref, alt): substitution (same length), deletion (alt ``-``:
    ``xM nD yM``) or insertion after pos (ref ``-``: ``xM nI yM``); None gives a reference read.
    """

    def fetch(first: int, last: int) -> str:
        bases = reference.fetch(contig, first, last)
        if bases is None or len(bases) != last - first + 1:
            raise ValueError(f"the reference does not cover {contig}:{first}-{last}")
        return bases

    if variant is None:
        return ReadSpec(name, start, fetch(start, start + length - 1), contig=contig, **fields)
    pos, ref, alt = variant
    if ref == "-":  # insertion after pos
        left = fetch(start, pos)
        rest = length - len(left) - len(alt)
        right = fetch(pos + 1, pos + rest)
        cigar = f"{len(left)}M{len(alt)}I{rest}M"
        return ReadSpec(name, start, left + alt + right, cigar=cigar, contig=contig, **fields)
    left = fetch(start, pos - 1) if pos > start else ""
    if alt == "-":
        rest = length - len(left)
        right = fetch(pos + len(ref), pos + len(ref) + rest - 1)
        cigar = f"{len(left)}M{len(ref)}D{rest}M"
        return ReadSpec(name, start, left + right, cigar=cigar, contig=contig, **fields)
    if len(ref) != len(alt):
        raise ValueError("variant_read writes substitutions, deletions and insertions only")
    rest = length - len(left) - len(alt)
    right = fetch(pos + len(ref), pos + len(ref) + rest - 1)
    return ReadSpec(name, start, left + alt + right, contig=contig, **fields)


def mates(first: ReadSpec, second: ReadSpec) -> list[ReadSpec]:
    """The two reads as a properly paired fragment (same name, flags 99/147, mate fields)."""
    span = max(second.pos + _ref_length(second) - first.pos, 0)
    one = first.with_(flag=first.flag | PAIRED | PROPER | MATE_REVERSE | FIRST,
                      mate_pos=second.pos, tlen=span)
    two = second.with_(name=first.name, flag=second.flag | PAIRED | PROPER | REVERSE | SECOND,
                       mate_pos=first.pos, tlen=-span)
    return [one, two]


def _ref_length(read: ReadSpec) -> int:
    """Reference bases the read's CIGAR spans."""
    cigar = read.cigar or f"{len(read.seq)}M"
    return sum(int(n) for n, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar) if op in "MDN=X")


def make_test_bam(
    path: str | Path,
    reads: Iterable[ReadSpec | Mapping[str, Any]],
    contigs: Sequence[tuple[str, int]] = (GRCH38_CHR4,),
    sample: str | None = "S1",
    sort: bool = True,
    *,
    reference: str | Path | None = None,
    index: bool = True,
    read_groups: Sequence[Mapping[str, str]] | None = None,
) -> Path:
    """Write ``reads`` to a BAM (or a CRAM when ``path`` ends in ``.cram``) and index it.

    ``reads`` are :class:`ReadSpec` or dicts of its fields. The header has one ``@SQ`` per
    contig and one ``@RG`` (ID ``rg1``, SM ``sample``) unless ``read_groups`` lists them, or
    none when ``sample`` is None. ``reference`` is the FASTA a CRAM is written against. With
    ``sort`` the reads are coordinate-sorted and (``index``) indexed; without, written as given.
    """
    path = Path(path)
    specs = [r if isinstance(r, ReadSpec) else ReadSpec(**r) for r in reads]
    if read_groups is None:
        read_groups = [{"ID": "rg1", "SM": sample}] if sample is not None else []
    header: dict[str, Any] = {
        "HD": {"VN": "1.6", "SO": "coordinate" if sort else "unsorted"},
        "SQ": [{"SN": name, "LN": length} for name, length in contigs],
    }
    if read_groups:
        header["RG"] = [dict(group) for group in read_groups]
    tids = {name: i for i, (name, _) in enumerate(contigs)}
    if sort:
        specs.sort(key=lambda r: (tids[r.contig], r.pos))
    cram = path.suffix == ".cram"
    if cram and reference is None:
        raise ValueError("a CRAM is written against a reference FASTA: give reference=")
    default_group = read_groups[0]["ID"] if read_groups else None
    with pysam.AlignmentFile(
        str(path), "wc" if cram else "wb", header=header,
        reference_filename=str(reference) if cram else None,
    ) as out:
        for spec in specs:
            segment = pysam.AlignedSegment(out.header)
            segment.query_name = spec.name
            segment.flag = spec.flag
            segment.reference_id = tids[spec.contig]
            segment.reference_start = spec.pos - 1
            segment.mapping_quality = spec.mapq
            segment.cigarstring = spec.cigar or f"{len(spec.seq)}M"
            segment.query_sequence = spec.seq
            quals = [spec.qual] * len(spec.seq) if isinstance(spec.qual, int) else spec.qual
            if len(quals) != len(spec.seq):
                raise ValueError(f"read {spec.name}: {len(quals)} qualities for "
                                 f"{len(spec.seq)} bases")
            segment.query_qualities = pysam.qualitystring_to_array(
                "".join(chr(q + 33) for q in quals))
            if spec.mate_pos is not None:
                segment.next_reference_id = tids[spec.mate_contig or spec.contig]
                segment.next_reference_start = spec.mate_pos - 1
                segment.template_length = spec.tlen
            group = default_group if spec.read_group == "" else spec.read_group
            if group is not None:
                segment.set_tag("RG", group)
            for tag, value in spec.tags.items():
                segment.set_tag(tag, value)
            out.write(segment)
    if sort and index:
        pysam.index(str(path))
    return path


def write_fasta(path: str | Path, contig: str, sequence: str, start: int = 1) -> Path:
    """A FASTA with one contig whose bases ``start..`` are ``sequence`` (N before), indexed.

    With ``start`` > 1 the file is bgzipped (the N run compresses to almost nothing), so a
    contig named ``chr4`` can hold a KIT excerpt at its real GRCh38 positions.
    """
    path = Path(path)
    text = f">{contig}\n" + "N" * (start - 1) + sequence + "\n"
    if start > 1:
        with BGZFile(str(path), "wb") as out:
            out.write(text.encode())
    else:
        path.write_text(text)
    pysam.faidx(str(path))
    return path
