"""Read somatic VCF/BCF calls: one row per (sample column, record, ALT allele).

Handles plain, bgzipped (indexed or not) and plain-gzip VCF and BCF. :func:`read_vcf` picks one
of two engines, which feed the same counting code (:mod:`.vcf_counts`) and give the same rows
and notes: ``pysam`` (:mod:`.vcf_pysam`) reads records through htslib (every file, every
record); the text path (:mod:`.vcf_text`, used by default when gene windows are given) reads
only the windows' lines of a VCF, through its tabix/CSI index or with one vectorised scan of the
file. A VCF that went through a spreadsheet is read from a repaired copy (:mod:`.spreadsheet`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import CallsFileError
from .bgzf import FastPathUnsupported
from .bounded import LineTooLongError, raw_chunks
from .compression import COMPRESSION_ERRORS
from .result import ReadResult
from .spreadsheet import damaged, repaired_copy
from .vcf_pysam import read_vcf_pysam
from .vcf_text import read_vcf_text
from .windows import Region

log = logging.getLogger("lesiontrack")

#: ``engine`` values of :func:`read_vcf`.
ENGINES = ("auto", "text", "pysam")


def read_vcf(
    path: Path,
    *,
    regions: list[Region] | None,
    include_filtered: bool = False,
    engine: str = "auto",
    stop_early: bool = False,
    head: bytes | None = None,
) -> ReadResult:
    """Read a VCF/BCF (plain, bgzipped, indexed or not, or plain gzip) into raw calls.

    ``regions`` are (normalised chrom, start, end) 1-based inclusive windows, or None for every
    record; a record whose REF span overlaps a window is kept. Records whose FILTER is not PASS
    or ``.`` are dropped unless ``include_filtered``.

    ``engine``: ``"pysam"`` reads every record through htslib; ``"text"`` reads a VCF's windows
    as text (:mod:`lesiontrack.io.vcf_text`: the index, or one vectorised scan of the file), and
    raises :class:`~lesiontrack.io.bgzf.FastPathUnsupported` for a file it cannot read exactly
    as pysam does; ``"auto"`` (default) uses the text path with windows and pysam otherwise, or
    when the text path declines the file or finds an error (pysam then names the problem). Both
    engines give identical rows and notes. ``stop_early`` (text path, unindexed files) stops
    reading a coordinate-sorted file after the windows' contigs; see ``vcf_text``. ``head``: the
    file's first bytes of text when already read (spares the text path reading the header).
    """
    path = Path(path)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    repair = _spreadsheet_repair(path, head)
    if repair is None:
        return _read_vcf(path, regions, include_filtered, engine, stop_early, head, None)
    with repair:
        message = repair.message()
        log.warning("%s: %s", path, message)
        try:
            result = _read_vcf(repair.path, regions, include_filtered, engine, stop_early, None,
                               path)
        except CallsFileError as exc:
            raise repair.translate(exc) from None
    result.warnings.insert(0, message)
    return result


def _spreadsheet_repair(path: Path, head: bytes | None):
    """A repaired private copy of a VCF that went through a spreadsheet (see
    :mod:`lesiontrack.io.spreadsheet`), or None for any other file (BCF included)."""
    if head is None:
        try:
            head = next(raw_chunks(path, 1 << 16), b"")
        except (OSError, ValueError, *COMPRESSION_ERRORS):
            return None  # the reader names the problem
    if head.startswith(b"BCF") or not damaged(head):
        return None
    return repaired_copy(path)


def _read_vcf(path: Path, regions: list[Region] | None, include_filtered: bool, engine: str,
              stop_early: bool, head: bytes | None, shown: Path | None) -> ReadResult:
    if engine != "pysam" and regions is not None:
        try:
            return read_vcf_text(path, regions=regions, include_filtered=include_filtered,
                                 stop_early=stop_early, head=head, shown=shown)
        except FastPathUnsupported as exc:
            if engine == "text":
                raise
            log.debug("%s: read with pysam (%s)", shown or path, exc)
        except LineTooLongError:
            raise  # final: pysam would hold the line in memory
        except CallsFileError:
            if engine == "text":
                raise
    return read_vcf_pysam(path, regions, include_filtered, shown)
