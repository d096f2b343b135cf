"""The fast VCF path: read only the lines of the gene windows, as text, without htslib records.

:func:`read_vcf_text` gives exactly the rows :func:`lesiontrack.io.vcf.read_vcf` gives with the
pysam engine, through the same counting code (:class:`~lesiontrack.io.vcf_counts.Calls`), for VCF
text (plain, gzip or BGZF) read with gene windows:

- **header**: parsed by :func:`~.vcf_header.parse_header` (samples, FORMAT Number/Type, INFO
  descriptions, contigs, ``##key=value`` lines), the same facts pysam's header gives;
- **indexed BGZF** (``.tbi`` or ``.csi`` beside the file): the start of each window is looked up
  in the index without loading all of it (:mod:`.vcfindex`), then lines are read from there, with
  htslib's rules for which records a region query returns (tabix's record span, ``INFO/END``)
  and the pysam engine's rules for which it keeps;
- **unindexed** (BGZF, gzip, plain): the whole text is scanned. Blocks are inflated and searched
  in worker threads (:func:`.textmap.map_text`): a vectorised pass (:class:`.vcf_scan.Scanner`)
  finds the lines whose contig is one of the windows' (any spelling: ``4``, ``chr4``,
  ``CHR4``...) and whose position can reach a window (a REF cannot be longer than its line;
  lines with ``END=`` or a symbolic allele are kept for the exact check); only those lines are
  parsed. The scan does not assume a sorted file, so no record is ever skipped.
  ``stop_early=True`` stops once every window's contig has been read past its windows, for
  coordinate-sorted files (:class:`.vcf_scan.Order`): it falls back to the full scan when the
  part read shows the file is not sorted (a window contig seen again after it ended, positions
  going backwards), but a disorder *after* the stopping point cannot be seen.

Header definitions and ``##contig`` blocks are cached across files (one pipeline's files repeat
them), so that a file costs little more than its index lookup and the few lines it needs.

Whatever this path does not reproduce exactly (odd FORMAT numbers htslib parses its own way,
CR line endings, non-UTF-8 lines, no end-of-file block, a symbolic allele whose SVLEN/LEN could
reach a window, header oddities...) raises :class:`FastPathUnsupported`
and ``read_vcf`` reads the file with pysam instead, which also gives the established error
messages. Only the lines that can overlap a window are parsed and checked here, as with an
index; a malformed record elsewhere in the file is not looked at.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Iterator
from pathlib import Path

from .bgzf import FastPathUnsupported, lines_from, marker_line_end, read_head
from .bounded import MAX_LINE_BYTES, LineGuard
from .compression import compression
from .result import ReadResult
from .textmap import map_text
from .vcf_counts import NO_SAMPLES_NOTE, PLAIN_GZIP_NOTE, Calls, Values, numbers
from .vcf_header import parse_header
from .vcf_scan import Order, Scanner
from .vcfindex import VcfIndex, index_path
from .windows import Region, merge_windows, normalize_chrom

log = logging.getLogger("lesiontrack")

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_DIGITS = re.compile(r"\d+")
_LEADING_INT = re.compile(r"[-+]?\d+")
_STRTOLL = re.compile(r"[ \t\n\v\f\r]*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT32 = struct.Struct("<f")
#: Smallest and largest integers htslib keeps (lower values are its missing/end markers).
_INT_MIN, _INT_MAX = -2147483640, 2147483647


# --------------------------------------------------------------------------------------------
# Records


def _ints(raw: str) -> Values:
    if raw.isascii():
        if raw.isdigit():  # the usual single count
            if len(raw) < 10:
                return [float(int(raw))]
        elif raw.replace(",", "").isdigit() and ",," not in raw and raw[0] != "," \
                and raw[-1] != "," and len(raw) < 200:  # the usual list of counts
            pieces = raw.split(",")
            if max(map(len, pieces)) < 10:
                return [float(int(p)) for p in pieces]
    if raw in (".", ""):
        return [None]
    out: Values = []
    for piece in raw.split(","):
        if piece == ".":
            out.append(None)
            continue
        if not _INT.fullmatch(piece):
            raise FastPathUnsupported(f"integer FORMAT value {raw!r}")
        value = int(piece)
        if not _INT_MIN < value <= _INT_MAX:
            raise FastPathUnsupported(f"integer FORMAT value {raw!r} out of range")
        out.append(float(value))
    return out


def _floats(raw: str) -> Values:
    """Float FORMAT values as pysam returns them: stored as float32 by htslib, then written with
    7 significant digits by :func:`lesiontrack.io.vcf_counts.numbers`."""
    if raw in (".", ""):
        return [None]
    out: Values = []
    for piece in raw.split(","):
        if piece == ".":
            out.append(None)
            continue
        if not _FLOAT.fullmatch(piece):
            raise FastPathUnsupported(f"float FORMAT value {raw!r}")
        try:
            single = _FLOAT32.unpack(_FLOAT32.pack(float(piece)))[0]
        except (OverflowError, struct.error) as exc:
            raise FastPathUnsupported(f"float FORMAT value {raw!r} out of range") from exc
        out.append(float(f"{single:.7g}"))
    return out


class _TextRecord:
    """One VCF line behind the interface :meth:`Calls.add` uses (as the pysam engine's records).

    Built only after :func:`_record` checked the line the way htslib parses it.
    """

    __slots__ = ("_info", "_keys", "_values", "alts", "chrom", "fields", "filter_text", "pos",
                 "ref")

    def __init__(self, fields: list[str], pos: int, keys: tuple[str, ...],
                 values: list[tuple[dict[str, Values], dict[str, str]]]) -> None:
        self.fields = fields
        self.chrom = fields[0]
        self.pos = pos
        self.ref = fields[3]
        alt = fields[4]
        self.alts = () if alt == "." else tuple(alt.split(","))
        self.filter_text = fields[6]
        self._keys = keys
        self._values = values  # per sample: (parsed Integer/Float values, other values as text)
        self._info: dict[str, object] | None = None

    def format_keys(self) -> tuple[str, ...]:
        return self._keys

    def info(self, tag: str) -> object:
        if self._info is None:
            parsed: dict[str, object] = {}
            text = self.fields[7]
            if text not in (".", ""):
                for item in text.split(";"):
                    key, eq, value = item.partition("=")
                    if key not in parsed:
                        parsed[key] = value if eq else ()
            self._info = parsed
        return self._info.get(tag)

    def numbers(self, index: int, key: str, percent: bool) -> Values:
        parsed, text = self._values[index]
        if key in parsed:
            return parsed[key]
        raw = text.get(key)
        if raw is None:  # a trailing value left out
            return [None]
        # String, Character or undeclared: pysam gives the text, read by the shared helper
        return numbers(raw, percent=percent)


def _record(line: bytes, n_samples: int, types: dict[str, str]) -> _TextRecord:
    """A checked record from a line; FastPathUnsupported where htslib might disagree."""
    if line.endswith(b"\r"):
        raise FastPathUnsupported("CR line endings")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FastPathUnsupported("record is not UTF-8") from exc
    fields = text.split("\t")
    if len(fields) != 9 + n_samples:
        raise FastPathUnsupported("unexpected number of columns")
    if not _DIGITS.fullmatch(fields[1]):
        raise FastPathUnsupported("POS is not a number")
    pos = int(fields[1])
    if not fields[0] or not fields[3] or not fields[4] or "" in fields[4].split(","):
        raise FastPathUnsupported("empty CHROM, REF or ALT")
    filt = fields[6]
    if filt not in (".", ""):
        parts = filt.split(";")
        if "" in parts or "." in parts:
            raise FastPathUnsupported("unusual FILTER")
    keys = tuple(fields[8].split(":"))
    if "" in keys or "." in keys or len(set(keys)) != len(keys):
        raise FastPathUnsupported("unusual FORMAT")
    values: list[tuple[dict[str, Values], dict[str, str]]] = []
    n_keys = len(keys)
    for column in fields[9:]:
        items = column.split(":")
        if len(items) > n_keys:
            raise FastPathUnsupported("more sample values than FORMAT keys")
        parsed: dict[str, Values] = {}
        raw: dict[str, str] = {}
        for key, item in zip(keys, items, strict=False):
            kind = types.get(key)
            if kind == "Integer":
                parsed[key] = _ints(item)
            elif kind == "Float":
                parsed[key] = _floats(item)
            else:
                raw[key] = item
        values.append((parsed, raw))
    return _TextRecord(fields, pos, keys, values)


def _htslib_last(pos: int, ref: str, alt: str, info: str) -> int:
    """Last base of a record as the pysam engine keeps it (``rec.stop``): the REF span or a
    longer INFO/END (htslib reads the number at the start of END's value)."""
    if "<" in alt:  # symbolic alleles: htslib also uses SVLEN, FORMAT/LEN
        raise FastPathUnsupported("symbolic ALT allele")
    last = pos + len(ref) - 1
    if "END=" in info:
        for item in info.split(";"):
            if item.startswith("END="):
                match = _LEADING_INT.match(item, 4)
                if match:
                    last = max(last, int(match.group()))
                break
            if item == "END":
                break
    return last


def _tabix_last(pos: int, ref: str, alt: str, info: str) -> int:
    """Last base of a record as an index query sees it (htslib's ``tbx_parse1``): the REF span
    or a longer INFO/END, END read by ``strtoll(s, NULL, 0)`` from the first ``END=``."""
    if "<" in alt:
        raise FastPathUnsupported("symbolic ALT allele")
    last = pos - 1 + max(len(ref), 1)
    at = info.find("END=")
    if at < 0:
        return last
    if at == 0:
        rest = info[4:]
    else:
        at = info.find(";END=")
        if at < 0:
            return last
        rest = info[at + 5:]
    if rest.startswith("."):
        return last
    match = _STRTOLL.match(rest)
    value = 0
    if match:
        digits = match.group(2)
        if digits.lower().startswith("0x"):
            value = int(digits, 16)
        elif len(digits) > 1 and digits.startswith("0"):
            value = int(digits, 8)
        else:
            value = int(digits)
        if match.group(1) == "-":
            value = -value
    return max(last, value) if value > pos - 1 else last


def _head(line: bytes) -> tuple[str, int, str, str, str]:
    """(CHROM, POS, REF, ALT, INFO) of a line, without parsing the rest."""
    fields = line.split(b"\t", 8)
    if len(fields) < 8 or not _DIGITS.fullmatch(fields[1].decode("ascii", "replace")):
        raise FastPathUnsupported("malformed record line")
    try:
        return (fields[0].decode("utf-8"), int(fields[1]), fields[3].decode("utf-8"),
                fields[4].decode("utf-8"), fields[7].decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FastPathUnsupported("record is not UTF-8") from exc


# --------------------------------------------------------------------------------------------
# Indexed files


def _read_indexed(path: Path, index: VcfIndex, windows: dict[str, list[tuple[int, int]]],
                  calls: Calls) -> None:
    """Records of the windows through the index, as the pysam engine's ``fetch`` returns and
    keeps them (per window, in file order, a record kept by an earlier window not repeated)."""
    targets = []
    for tid, name in enumerate(index.names):
        wins = windows.get(normalize_chrom(name))
        if wins:
            targets.append((tid, name, wins))
    if not targets:
        return
    offsets = index.start_offsets({tid: [(start - 1, end) for start, end in wins]
                                   for tid, _, wins in targets})
    n_samples = len(calls.samples)
    types = calls.format_types
    for tid, name, wins in targets:
        name_bytes = name.encode()
        lines: Iterator[tuple[int, bytes]] | None = None
        pending: tuple[int, bytes] | None = None
        block = -1
        previous_end: int | None = None
        for (start, end), offset in zip(wins, offsets[tid], strict=True):
            if offset is not None:
                if lines is None or (offset >> 16) > block:
                    lines = lines_from(path, offset)
                    pending = None
                while True:
                    if pending is None:
                        pending = next(lines, None)
                        if pending is None:
                            break
                    block, line = pending
                    tab = line.find(b"\t")
                    if tab < 0 or line[:tab] != name_bytes:
                        break  # the next contig: htslib's iterator stops here
                    _, pos, ref, alt, info = _head(line)
                    if pos > end:
                        break
                    pending = None
                    if pos < start and _tabix_last(pos, ref, alt, info) < start:
                        continue  # not returned by the index query
                    calls.n_read += 1
                    record = _record(line, n_samples, types)  # htslib parses what it returns
                    if pos < start and _htslib_last(pos, ref, alt, info) < start:
                        continue
                    if previous_end is not None and pos <= previous_end:
                        continue  # already returned by the previous window
                    calls.add(record)
            previous_end = end



def _read_streaming(path: Path, kind: str, windows: dict[str, list[tuple[int, int]]],
                    calls: Calls, header_lines: int, stop_early: bool) -> None:
    """Every record of the windows, scanning the whole text (see the module docstring)."""
    scanner = Scanner(windows)
    n_samples = len(calls.samples)
    types = calls.format_types
    total_lines = 0
    order = Order(windows) if stop_early else None

    def consider(line: bytes) -> tuple[str, int] | None:
        """Add the record of a line if it overlaps a window; (window contig, POS) of a line of a
        window contig, else None."""
        if not line or line.startswith(b"#"):
            return None
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:  # pysam names the line
                raise FastPathUnsupported("a line is not UTF-8 text") from exc
        tab = line.find(b"\t")
        if tab < 0:
            return None
        try:
            contig = line[:tab].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FastPathUnsupported("record is not UTF-8") from exc
        target = normalize_chrom(contig)
        wins = windows.get(target)
        if not wins:
            return None
        _, pos, ref, alt, info = _head(line)
        if any(start <= pos <= end for start, end in wins) or any(
            pos < start and start <= _htslib_last(pos, ref, alt, info)
            for start, _ in wins
        ):
            calls.add(_record(line, n_samples, types))
        return target, pos

    carry = b""
    pieces = map_text(path, kind, scanner)
    try:
        for piece in pieces:
            if not piece.complete:
                carry += piece.head
                if len(carry) > MAX_LINE_BYTES:  # never held whole: the line is refused
                    raise LineGuard(calls.shown, what="VCF").fail(total_lines + 1)
                continue
            stitched = consider(carry + piece.head)  # the line across the pieces' boundary
            carry = piece.tail
            total_lines += 1 + piece.n_lines
            for line in piece.lines:
                consider(line)
            if order is not None:
                if not order.follow(piece, stitched):
                    log.info("%s: not coordinate-sorted; reading the whole file", path)
                    order = None
                elif order.done():
                    carry = b""
                    break
    finally:
        pieces.close()
    if carry:
        total_lines += 1
        consider(carry)
    calls.n_read = max(0, total_lines - header_lines)


# --------------------------------------------------------------------------------------------
# Entry point


def _header_in(head: bytes, kind: str) -> bytes | None:
    """The header (up to the end of the #CHROM line) in a file's first bytes of text, as
    :func:`read_head` would read it, or None. (A plain gzip file's header is read by
    ``read_head`` from its first member only: not taken from ``head``.)"""
    if kind == "gzip":
        return None
    found = marker_line_end(head, b"\n#CHROM")
    return head[:found] if found >= 0 else None


def read_vcf_text(
    path: Path,
    *,
    regions: list[Region],
    include_filtered: bool = False,
    stop_early: bool = False,
    head: bytes | None = None,
    shown: Path | None = None,
) -> ReadResult:
    """The rows of a VCF's gene windows, read as text. Same contract as ``read_vcf``; raises
    :class:`FastPathUnsupported` when the file needs the pysam engine. ``head``: the file's
    first bytes of text, if already read; used when they hold the whole header. ``shown``: the
    file to name in warnings (the input, when ``path`` is a repaired copy of it)."""
    path = Path(path)
    try:
        kind = compression(path)
        raw = _header_in(head, kind) if head is not None else None
        if raw is None:
            raw = read_head(path, kind)
    except FileNotFoundError as exc:
        raise FastPathUnsupported("file not found") from exc
    except OSError as exc:
        raise FastPathUnsupported(f"cannot read ({exc})") from exc
    fields, header_lines = parse_header(raw)
    index_file = index_path(path) if kind == "bgzf" else None
    index = None
    if index_file is not None:
        index = VcfIndex(index_file)
        # htslib adds the index's contigs missing from the header to the header
        declared = {name for name, _ in fields.contigs}
        fields.contigs = fields.contigs + [(n, None) for n in index.names if n not in declared]
    calls = Calls(path, include_filtered, shown)
    if kind == "gzip":
        calls.notes["plain_gzip"] = PLAIN_GZIP_NOTE
    result = ReadResult(calls=None, samples=[])  # type: ignore[arg-type]  # set by finish()
    calls.read_header(fields, result)
    if not calls.samples:
        calls.notes["no_samples"] = NO_SAMPLES_NOTE
        return calls.finish(result)
    windows = merge_windows(regions)
    if windows:
        try:
            if index is not None:
                _read_indexed(path, index, windows, calls)
            else:
                _read_streaming(path, kind, windows, calls, header_lines, stop_early)
        except OSError as exc:
            raise FastPathUnsupported(f"cannot read ({exc})") from exc
    return calls.finish(result)

