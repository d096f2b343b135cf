"""Readers of variant calls: one module per input family, all returning the same columns.

Every reader returns a :class:`ReadResult` whose ``calls`` frame has exactly
:data:`RAW_COLUMNS`, one row per (sample in the file, record, ALT allele), alleles already in
their minimal form (:func:`lesiontrack.variants.minimal`). Joining with the sample sheet, the
assembly, annotation and the ``detected`` call happen later, in :mod:`lesiontrack.calls`.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CallsFileError
from ..textfiles import (
    COMPRESSION_ERRORS,
    ILLEGAL_CHARACTERS,
    character_name,
    open_text,  # noqa: F401  io/vcf.py's import until the VCF restructuring
)

#: Columns of a reader's raw calls frame.
RAW_COLUMNS: list[str] = [
    "file_sample",  # the sample's column name / Tumor_Sample_Barcode in the file
    "chrom_raw",  # contig as written in the file ("chr4" or "4")
    "pos",  # int, minimal-form position (see lesiontrack.variants)
    "ref",  # minimal REF ("-" for an insertion)
    "alt",  # minimal ALT ("-" for a deletion)
    "alt_count",  # float or NaN: reads supporting ALT
    "depth",  # float or NaN: reads at the site (per the caller rule)
    "vaf",  # float or NaN: alt_count / depth, or the caller's fraction when counts are missing
    "caller_vaf",  # float or NaN: the caller's own allele-fraction estimate (Mutect2 AF, FREQ...)
    "filter",  # FILTER as written ("PASS", ".", "weak_evidence;...")
    "caller",  # detected caller/format: mutect2, strelka2_snv, strelka2_indel, varscan2, ...
    "ann_gene",  # gene symbol from the file's own annotation (CSQ/ANN/Hugo_Symbol), else ""
    "ann_hgvsc",  # c. name from the file's own annotation, without transcript prefix, else ""
    "ann_hgvsp",  # one-letter p. name from the file's own annotation (p.D816V), else ""
    "ann_consequence",  # the annotation's consequence terms (VEP/SnpEff SO terms, MAF class), else ""
    "record",  # where the row came from, for messages: "line 57" or "record 4:55599321"
]

#: No line of a VCF header (``##`` lines and ``#CHROM``) may be longer than this: a longer one
#: is a corrupt or foreign file, and htslib would hold all of it in memory.
MAX_HEADER_LINE_BYTES = 16 * 1024 * 1024
#: Bytes of a file's text read to tell its family (and, for a VCF, usually its whole header).
SNIFF_BYTES = 65536
#: A compressed VCF's text is inflated this far first: usually its whole header.
VCF_HEAD_BYTES = 16384
#: What an illegal character of a calls file becomes.
REPLACEMENT = "\ufffd"
#: The raw columns holding text read from a calls file.
TEXT_COLUMNS = ("file_sample", "chrom_raw", "ref", "alt", "filter", "caller", "ann_gene",
                "ann_hgvsc", "ann_hgvsp", "record")

log = logging.getLogger("lesiontrack")


def illegal_rows(values: pd.Series) -> np.ndarray:
    """Positions of the values holding a character of :data:`ILLEGAL_CHARACTERS` (one regular
    expression search over the distinct values when there are none)."""
    distinct = [v for v in pd.unique(values) if isinstance(v, str)]
    if not ILLEGAL_CHARACTERS.search("\n".join(distinct)):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero([isinstance(v, str) and ILLEGAL_CHARACTERS.search(v) is not None
                           for v in values])


def replace_illegal(frame: pd.DataFrame, columns) -> tuple[int, str | None]:
    """Replace :data:`ILLEGAL_CHARACTERS` by :data:`REPLACEMENT` in ``frame``'s ``columns``
    (in place); (values changed, the first character replaced or None)."""
    changed, first = 0, None
    for column in columns:
        if column not in frame.columns or frame[column].dtype != object:
            continue
        rows = illegal_rows(frame[column])
        if not len(rows):
            continue
        values = frame[column].to_numpy(dtype=object).copy()
        if first is None:
            first = ILLEGAL_CHARACTERS.search(values[rows[0]]).group()
        values[rows] = [ILLEGAL_CHARACTERS.sub(REPLACEMENT, v) for v in values[rows]]
        frame[column] = values
        changed += len(rows)
    return changed, first


def _clean_result(path: Path, result: ReadResult) -> ReadResult:
    """``result`` with the illegal characters of its text replaced, and one warning."""
    changed, first = replace_illegal(result.calls, TEXT_COLUMNS)
    for name in ("tumor_sample", "normal_sample"):
        value = getattr(result, name)
        if value and (match := ILLEGAL_CHARACTERS.search(value)):
            first, changed = first or match.group(), changed + 1
            setattr(result, name, ILLEGAL_CHARACTERS.sub(REPLACEMENT, value))
    for i, value in enumerate(result.samples):
        if match := ILLEGAL_CHARACTERS.search(value):
            first, changed = first or match.group(), changed + 1
            result.samples[i] = ILLEGAL_CHARACTERS.sub(REPLACEMENT, value)
    if changed:
        log.warning("%s: %d value(s) hold characters XML cannot hold (first %s); replaced by "
                    "U+FFFD", path, changed, character_name(first or REPLACEMENT))
    return result


#: Readers' numeric columns (floats so that "unknown" is NaN).
NUMERIC_COLUMNS = ("alt_count", "depth", "vaf", "caller_vaf")


@dataclass
class ReadResult:
    """What a reader found in one calls file."""

    calls: pd.DataFrame  # RAW_COLUMNS
    samples: list[str]  # every sample column (VCF) or Tumor_Sample_Barcode (MAF) in the file
    tumor_sample: str | None = None  # from ##tumor_sample, when the file names one
    normal_sample: str | None = None  # from ##normal_sample / a normal column, when known
    assembly_hint: str | None = None  # GRCh37/GRCh38 from the header or NCBI_Build, else None
    assembly_evidence: str = ""  # how the hint was found, for messages
    caller: str = ""  # detected caller / format of the whole file
    warnings: list[str] = field(default_factory=list)  # one line per recoverable oddity


def empty_calls() -> pd.DataFrame:
    """An empty raw calls frame with the right columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RAW_COLUMNS})
    for column in NUMERIC_COLUMNS:
        frame[column] = frame[column].astype(float)
    frame["pos"] = frame["pos"].astype("int64")
    return frame


def sniff_format(path: Path) -> str:
    """``vcf``, ``bcf``, ``maf`` or ``tsv`` from the file's content (not its name)."""
    return _sniff(path)[0]


def _sniff(path: Path) -> tuple[str, bytes]:
    """(family, the file's first 64 KiB, decompressed)."""
    try:
        with path.open("rb") as probe:
            head = probe.read(4)
        if head[:2] == b"\x1f\x8b":
            head = _gunzip_head(path)
        else:
            with path.open("rb") as probe:
                head = probe.read(SNIFF_BYTES)
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(
            f"the compressed file is truncated or corrupt ({exc})", file=path,
            hint="the copy or the pipeline step that wrote it was interrupted; copy it again",
        ) from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc
    return _family(path, head), head


def _gunzip_head(path: Path) -> bytes:
    """The first 64 KiB of a gzip file's text (only the first 16 KiB when they hold a VCF's
    whole header): inflated member by member (``isal`` when installed), or by :mod:`gzip` for
    anything unusual, whose exceptions then name the trouble."""
    from .bgzf import FastPathUnsupported, gunzip_prefix

    try:
        head = gunzip_prefix(path, VCF_HEAD_BYTES)
        if len(head) < VCF_HEAD_BYTES or (head.startswith(b"##fileformat=VCF")
                                          and _header_end(head) >= 0):
            return head  # the whole file, or a VCF's whole header: enough to go on
        return gunzip_prefix(path, SNIFF_BYTES)
    except FastPathUnsupported:
        with gzip.open(path, "rb") as unzipped:
            return unzipped.read(SNIFF_BYTES)


def _family(path: Path, head: bytes) -> str:
    if head.startswith(b"BCF\x02"):
        return "bcf"
    if not head.strip():
        raise CallsFileError("the file is empty", file=path, where=1)
    if b"\x00" in head:
        raise CallsFileError(
            "not a VCF, BCF, MAF or TSV file (binary content)", file=path, where=1,
            hint="give a VCF (plain or bgzipped), BCF, MAF or TSV calls file",
        )
    if b"\n" not in head and b"\r" not in head and len(head) >= SNIFF_BYTES:
        raise CallsFileError(
            "no line break in the first 64 KiB: not a VCF, MAF or TSV calls file", file=path,
            where=1, hint="is the file truncated or of another kind?",
        )
    text = head.decode("utf-8", errors="replace")
    if text.startswith(("##fileformat=VCF", '"##fileformat=VCF')):  # quoted: a spreadsheet's
        return "vcf"
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = next((line for line in lines
                   if not line.startswith("##") and not line.startswith("#version")), "")
    if header.upper().split("\t")[:5] == ["#CHROM", "POS", "ID", "REF", "ALT"]:
        return "vcf"  # without ##fileformat: the VCF reader says what is wrong
    # a table's header is its first line that is neither blank nor a comment, or (a TSV) the
    # comment line just above it ("#chrom<TAB>pos..."), as the MAF/TSV readers take it
    first, above = "", ""
    for line in lines:
        if not line.strip():
            continue
        if not line.startswith("#"):
            first = line
            break
        above = line
    lowered = first.lower()
    if "hugo_symbol" in lowered or "tumor_sample_barcode" in lowered or (
            "start_position" in lowered):
        return "maf"
    from .tsv import tsv_header_like

    if tsv_header_like(first) or tsv_header_like(above.lstrip("#")):
        return "tsv"
    if header.lower().startswith("#chrom"):
        return "vcf"  # a damaged #CHROM line: the VCF reader says what is wrong
    raise CallsFileError(
        "not a VCF, BCF, MAF or TSV calls file (no ##fileformat=VCF line, no MAF or TSV header)",
        file=path, where=1,
        hint="a TSV needs the columns chrom, pos, ref, alt and alt_count+depth or vaf",
    )


def _check_header_line(path: Path, number: int, line: bytes) -> None:
    if len(line) > MAX_HEADER_LINE_BYTES:
        raise CallsFileError(
            f"header line longer than {MAX_HEADER_LINE_BYTES:,} bytes",
            file=path, where=number, hint="is the file corrupt or not a VCF?",
        )
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CallsFileError(
            f"the VCF header is not UTF-8 text (byte 0x{line[exc.start]:02x} at "
            f"column {exc.start + 1})", file=path, where=number,
            hint="convert the file to UTF-8, e.g. 'iconv -f latin1 -t utf-8'",
        ) from exc


def _header_end(head: bytes) -> int:
    """Index just past the first complete line of ``head`` that ends the header (see
    :func:`_header_over`), or -1. The usual header (``##`` lines, then ``#CHROM``) is found
    with two counts instead of a loop over its lines."""
    at = 0 if head.startswith(b"#CHROM") else head.find(b"\n#CHROM") + 1
    if at > 0 or head.startswith(b"#CHROM"):
        before = head[:at]
        if head.startswith(b"##") + before.count(b"\n##") == before.count(b"\n"):
            end = head.find(b"\n", at)
            return -1 if end < 0 else end + 1
    at = 0
    for line in head.split(b"\n")[:-1]:  # complete lines only
        at += len(line) + 1
        if _header_over(line):
            return at
    return -1


def _header_over(line: bytes) -> bool:
    """The #CHROM line (or a record) ends the header; htslib reads on past blank lines."""
    return bool(line.strip()) and not line.startswith(b"##")


def check_vcf_header(path: Path, head: bytes | None = None) -> None:
    """Check the header lines of a text VCF (plain, gzip or BGZF) before htslib parses them.

    Reads line by line up to the ``#CHROM`` line (or the first record), each line at most
    :data:`MAX_HEADER_LINE_BYTES`, so memory stays bounded. Raises :class:`CallsFileError`
    naming the line for a line that is too long or not UTF-8 (the VCF specification's encoding;
    htslib would otherwise fail on it later, or not at all, depending on which line it is).
    ``head`` (the file's first bytes, decompressed, as :func:`sniff_format` read them) spares a
    second read when the whole header is in it.
    """
    if head is not None:
        end = _header_end(head)
        if end >= 0:
            try:
                head[:end].decode("utf-8")  # and every line is shorter than ``head``
                return
            except UnicodeDecodeError:
                for number, line in enumerate(head[:end].split(b"\n"), start=1):
                    _check_header_line(path, number, line + b"\n")  # names the line
    number = 0
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if compressed else path.open("rb")) as handle:
            while line := handle.readline(MAX_HEADER_LINE_BYTES + 1):
                number += 1
                _check_header_line(path, number, line)
                if _header_over(line):
                    return
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(
            f"the compressed file is truncated or corrupt ({exc})", file=path,
            where=number + 1 if number else None,
            hint="the copy or the pipeline step that wrote it was interrupted; copy it again",
        ) from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc


def read_calls_file(
    path: Path,
    *,
    regions: list[tuple[str, int, int]] | None,
    include_filtered: bool = False,
    assume_sorted: bool = False,
) -> ReadResult:
    """Read one calls file of any supported family.

    ``regions`` are (normalised chrom, start, end) windows to read, or None for every record.
    Records outside the windows are not returned; FILTER values other than PASS/``.`` are dropped
    unless ``include_filtered``. ``assume_sorted``: an unindexed VCF may be read only up to the
    end of the windows' contig (a disorder seen in the part read falls back to a full scan).
    """
    kind, head = _sniff(path)
    if kind == "vcf":
        check_vcf_header(path, head)
    if kind in ("vcf", "bcf"):
        from .vcf import read_vcf

        return _clean_result(path, read_vcf(path, regions=regions,
                                            include_filtered=include_filtered,
                                            stop_early=assume_sorted, head=head))
    from .maf import read_maf
    from .tsv import read_tsv

    if kind == "maf":
        return _clean_result(path, read_maf(path, regions=regions,
                                            include_filtered=include_filtered))
    return _clean_result(path, read_tsv(path, regions=regions, include_filtered=include_filtered))
