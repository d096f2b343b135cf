"""Access to a reference FASTA (pysam.FastaFile): whole chromosomes or ``samtools faidx`` excerpts,
and the calls table's check against it (REF bases, indels left-aligned: :func:`normalise_calls`).

A contig may be a whole chromosome (``chr4`` or ``4``) or an excerpt named the way
``samtools faidx ref.fa chr4:54650000-54750000`` names it, so a KIT-only reference works too.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CallsFileError, ReferenceMismatchError
from .genome import CHR4_LENGTH, assembly_from_chr4_length, normalize_chrom
from .io.compression import is_gzip

if TYPE_CHECKING:
    import pandas as pd

_EXCERPT = re.compile(r"^(?P<chrom>[^:]+):(?P<start>\d+)-(?P<end>\d+)$")


class SequenceSource:
    """What the annotation needs of a sequence: ``fetch``, and alignment of indels built on it."""

    #: True when the sequence covers only parts of the genes (the bundled exon windows).
    partial: bool = False
    path: Path

    def fetch(self, chrom: str, start: int, end: int) -> str | None:  # pragma: no cover
        """Bases ``start..end`` (1-based, inclusive), upper case; None where not covered."""
        raise NotImplementedError

    def base(self, chrom: str, pos: int) -> str | None:
        """One base, or None where not covered."""
        return self.fetch(chrom, pos, pos)

    def left_align(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
        """Shift a minimal deletion or insertion as far left (5') as the sequence allows."""
        if ref == "-":  # insertion after `pos`
            seq = alt
            while True:
                base = self.base(chrom, pos)
                if base is None or base != seq[-1] or pos <= 1:
                    return pos, ref, seq
                seq, pos = seq[-1] + seq[:-1], pos - 1
        if alt == "-":
            seq = ref
            while True:
                base = self.base(chrom, pos - 1)
                if base is None or base != seq[-1] or pos <= 1:
                    return pos, seq, alt
                seq, pos = base + seq[:-1], pos - 1
        return pos, ref, alt

    def right_align(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
        """Shift a minimal deletion or insertion as far right (3') as the sequence allows."""
        if ref == "-":
            seq = alt
            while True:
                base = self.base(chrom, pos + 1)
                if base is None or base != seq[0]:
                    return pos, ref, seq
                seq, pos = seq[1:] + seq[0], pos + 1
        if alt == "-":
            seq = ref
            while True:
                base = self.base(chrom, pos + len(seq))
                if base is None or base != seq[0]:
                    return pos, seq, alt
                seq, pos = seq[1:] + base, pos + 1
        return pos, ref, alt


#: (real path, size, mtime) of a FASTA without an index beside it -> the link to it, in a
#: private folder, beside which its index was built (once per process).
_PRIVATE_INDEXES: dict[tuple[str, int, int], Path] = {}


def indexed_fasta(path: str | os.PathLike[str]) -> Path:
    """The path to open the FASTA ``path`` through: ``path`` itself when its index (``.fai``,
    and ``.gzi`` when bgzipped) is beside it; else a link to it in a private temporary folder
    (removed at exit), where htslib then builds the index: never beside an input, so a
    read-only folder of references works. Raises OSError when ``path`` cannot be read."""
    path = Path(path)
    stat = os.stat(path)
    wanted = [".fai", ".gzi"] if is_gzip(path) else [".fai"]
    if all(os.path.exists(f"{path}{suffix}") for suffix in wanted):
        return path
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    link = _PRIVATE_INDEXES.get(key)
    if link is None or not link.exists():
        from .output import private_folder

        folder = private_folder("fai")
        atexit.register(_remove_private, folder, os.getpid())
        link = folder / (path.name or "reference.fa")
        os.symlink(key[0], link)
        _PRIVATE_INDEXES[key] = link
    return link


def _remove_private(folder: Path, owner: int) -> None:
    if os.getpid() == owner:  # not in a forked worker
        shutil.rmtree(folder, ignore_errors=True)


class Reference(SequenceSource):
    """A reference genome (or an excerpt of one), queried with 1-based inclusive positions."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import pysam  # here: commands that take no reference do not pay for importing it

        self.path = Path(path)
        try:
            #: what htslib opens: the FASTA, or a private link to it beside a private index
            self.fasta_path = indexed_fasta(self.path)
            self._fasta = pysam.FastaFile(str(self.fasta_path))
        except (OSError, ValueError) as exc:
            raise ReferenceMismatchError(
                f"cannot open the reference FASTA: {exc}", file=self.path,
                hint="give an uncompressed or bgzipped FASTA; a missing index (.fai) is built in a "
                     "private temporary folder",
            ) from exc
        # normalised chrom -> list of (fasta contig, first base position, last base position)
        self._contigs: dict[str, list[tuple[str, int, int]]] = {}
        self.chr4_length: int | None = None
        for name, length in zip(self._fasta.references, self._fasta.lengths, strict=True):
            match = _EXCERPT.match(name)
            if match:
                start = int(match["start"])
                self._contigs.setdefault(normalize_chrom(match["chrom"]), []).append(
                    (name, start, start + length - 1)
                )
            else:
                chrom = normalize_chrom(name)
                self._contigs.setdefault(chrom, []).append((name, 1, length))
                if chrom == "4":
                    self.chr4_length = length

    @property
    def assembly(self) -> str | None:
        """The build told by chr4's length, when the FASTA holds a whole chr4."""
        return assembly_from_chr4_length(self.chr4_length)

    def check_assembly(self, assembly: str, context: str) -> None:
        """Raise when the FASTA's chr4 belongs to another build than ``assembly``."""
        if self.chr4_length is not None and self.assembly not in (None, assembly):
            raise ReferenceMismatchError(
                f"the reference is {self.assembly} (chr4 length {self.chr4_length}) but {context}"
                f" is {assembly}", file=self.path,
                hint=f"chr4 is {CHR4_LENGTH[assembly]} bases long in {assembly}",
            )

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        """Bases ``start..end`` (1-based, inclusive), upper case; None where not covered."""
        if end < start:
            return ""
        for name, first, last in self._contigs.get(normalize_chrom(chrom), []):
            if first <= start and end <= last:
                return self._fasta.fetch(name, start - first, end - first + 1).upper()
        return None

    def check_readable(self) -> None:
        """Raise ReferenceMismatchError unless every contig of the FASTA can be read to its end:
        a FASTA truncated or edited after its ``.fai`` index was made would fail only later, in
        the middle of the work (pysam's ValueError, htslib's messages on stderr)."""
        import pysam

        name = None
        previous = pysam.set_verbosity(0)
        try:
            with pysam.FastaFile(str(self.fasta_path)) as fasta:
                for name, length in zip(fasta.references, fasta.lengths, strict=True):
                    if length and len(fasta.fetch(name, length - 1, length)) != 1:
                        raise ValueError("short read")
        except (OSError, ValueError) as exc:
            where = f" (contig {name})" if name else ""
            raise ReferenceMismatchError(
                f"the reference FASTA cannot be read{where}: the file is truncated or its .fai "
                f"index does not match it ({exc})", file=self.path,
                hint="re-create the index with 'samtools faidx', or copy the FASTA again",
            ) from exc
        finally:
            pysam.set_verbosity(previous)


class Excerpts(SequenceSource):
    """Stretches of reference sequence held in memory, used like a :class:`Reference`
    (the bundled hotspot-exon windows); ``fetch`` answers inside one stretch only."""

    partial = True

    def __init__(self, name: str, stretches: Iterable[tuple[str, int, str]]) -> None:
        self.path = Path(name)
        self._stretches: dict[str, list[tuple[int, int, str]]] = {}
        for chrom, start, sequence in stretches:
            self._stretches.setdefault(normalize_chrom(chrom), []).append(
                (start, start + len(sequence) - 1, sequence.upper()))

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        """Bases ``start..end`` (1-based, inclusive); None unless one stretch holds them all."""
        if end < start:
            return ""
        for first, last, sequence in self._stretches.get(normalize_chrom(chrom), []):
            if first <= start and end <= last:
                return sequence[start - first:end - first + 1]
        return None


def normalise_calls(calls: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """The calls checked against ``reference`` (its build, its readability, each REF's bases:
    :class:`CallsFileError` naming the file and record on a mismatch) with their insertions and
    deletions left-aligned on it (``pos``, ``ref`` and ``alt`` replaced in place)."""
    for build in calls["assembly"].unique():
        reference.check_assembly(build, "the calls")
    reference.check_readable()
    sites = calls.drop_duplicates(["chrom_raw", "pos", "ref", "alt"])
    moved: dict[tuple, tuple[int, str, str]] = {}
    for row in sites.itertuples(index=False):
        if row.ref != "-":
            bases = reference.fetch(row.chrom_raw, row.pos, row.pos + len(row.ref) - 1)
            if bases is not None and bases != row.ref:
                raise CallsFileError(
                    f"REF {row.ref} does not match the reference ({bases}) at "
                    f"{row.chrom_raw}:{row.pos}", file=row.source, where=row.record, field="REF",
                    hint="is the reference FASTA of another genome build?",
                )
        if row.ref == "-" or row.alt == "-":
            moved[(row.chrom_raw, row.pos, row.ref, row.alt)] = reference.left_align(
                row.chrom_raw, row.pos, row.ref, row.alt
            )
    if moved:
        keys = list(zip(calls["chrom_raw"], calls["pos"], calls["ref"], calls["alt"],
                        strict=True))
        new = [moved.get(k, k[1:]) for k in keys]
        calls["pos"] = [n[0] for n in new]
        calls["ref"] = [n[1] for n in new]
        calls["alt"] = [n[2] for n in new]
    return calls

