"""Which family a calls file is (VCF, BCF, MAF or TSV), from its content, not its name.

The family is told from the file's first 64 KiB of text, inflated when the file is gzip or BGZF
(:func:`~lesiontrack.io.compression.is_gzip`); :func:`sniff` hands those bytes on, so that a
VCF's header is usually read only once.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from ..errors import CallsFileError
from .bgzf import FastPathUnsupported, gunzip_prefix
from .compression import COMPRESSION_ERRORS, is_gzip
from .tsv import tsv_header_like
from .vcf_header import header_end

#: Bytes of a file's text read to tell its family (and, for a VCF, usually its whole header).
SNIFF_BYTES = 65536
#: A compressed VCF's text is inflated this far first: usually its whole header.
VCF_HEAD_BYTES = 16384


def sniff_format(path: Path) -> str:
    """``vcf``, ``bcf``, ``maf`` or ``tsv`` from the file's content (not its name)."""
    return sniff(path)[0]


def sniff(path: Path) -> tuple[str, bytes]:
    """(family, the file's first 64 KiB, decompressed)."""
    try:
        if is_gzip(path):
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
    try:
        head = gunzip_prefix(path, VCF_HEAD_BYTES)
        if len(head) < VCF_HEAD_BYTES or (head.startswith(b"##fileformat=VCF")
                                          and header_end(head) >= 0):
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
    if tsv_header_like(first) or tsv_header_like(above.lstrip("#")):
        return "tsv"
    if header.lower().startswith("#chrom"):
        return "vcf"  # a damaged #CHROM line: the VCF reader says what is wrong
    raise CallsFileError(
        "not a VCF, BCF, MAF or TSV calls file (no ##fileformat=VCF line, no MAF or TSV header)",
        file=path, where=1,
        hint="a TSV needs the columns chrom, pos, ref, alt and alt_count+depth or vaf",
    )
