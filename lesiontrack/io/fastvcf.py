"""The fast VCF path: read only the lines of the gene windows, as text, without htslib records.

:func:`read_vcf_text` gives exactly the rows :func:`lesiontrack.io.vcf.read_vcf` gives with the
pysam engine, through the same counting code (:class:`~lesiontrack.io.vcf._Calls`), for VCF
text (plain, gzip or BGZF) read with gene windows:

- **header**: parsed here (samples, FORMAT Number/Type, INFO descriptions, contigs, ``##key=value``
  lines), the same facts pysam's header gives;
- **indexed BGZF** (``.tbi`` or ``.csi`` beside the file): the start of each window is looked up
  in the index without loading all of it (:mod:`.vcfindex`), then lines are read from there, with
  htslib's rules for which records a region query returns (tabix's record span, ``INFO/END``)
  and the pysam engine's rules for which it keeps;
- **unindexed** (BGZF, gzip, plain): the whole text is scanned. Blocks are inflated and searched
  in worker threads (:func:`.bgzf.map_text`): a vectorised pass finds the lines whose contig is
  one of the windows' (any spelling: ``4``, ``chr4``, ``CHR4``...) and whose position can reach a
  window (a REF cannot be longer than its line; lines with ``END=`` or a symbolic allele are
  kept for the exact check); only those lines are parsed. The scan does not assume a sorted file, so no record is
  ever skipped. ``stop_early=True`` stops once every window's contig has been read past its
  windows, for coordinate-sorted files: it falls back to the full scan when the part read shows
  the file is not sorted (a window contig seen again after it ended, positions going
  backwards), but a disorder *after* the stopping point cannot be seen.

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

import functools
import logging
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import ReadResult
from .bgzf import (
    FastPathUnsupported,
    _marker_line_end,
    compression,
    lines_from,
    map_text,
    read_head,
)
from .bounded import MAX_LINE_BYTES, LineGuard
from .vcf import (
    NO_SAMPLES_NOTE,
    PLAIN_GZIP_NOTE,
    HeaderFields,
    Region,
    Values,
    _Calls,
    _merge_windows,
    _numbers,
    normalize_chrom,  # cached: contig names repeat from file to file
)
from .vcfindex import VcfIndex, index_path

log = logging.getLogger("lesiontrack")

__all__ = ["FastPathUnsupported", "parse_header", "read_vcf_text"]

_NUMERIC = frozenset({"Integer", "Float"})
_TYPES = frozenset({"Integer", "Float", "String", "Character"})
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_DIGITS = re.compile(r"\d+")
_LEADING_INT = re.compile(r"[-+]?\d+")
_STRTOLL = re.compile(r"[ \t\n\v\f\r]*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT32 = struct.Struct("<f")
#: What can make a record reach further than its REF: INFO/END, symbolic alleles (SVLEN, LEN).
_SPAN_HINT = re.compile(rb"END=|<")
#: Smallest and largest integers htslib keeps (lower values are its missing/end markers).
_INT_MIN, _INT_MAX = -2147483640, 2147483647


# --------------------------------------------------------------------------------------------
# Header


def _structured(value: str) -> dict[str, str]:
    """Attributes of a ``<key=value,key="quoted",...>`` header value as htslib stores them:
    spaces around keys and before values dropped, trailing spaces of values dropped (inside the
    quotes too), quoted values kept with their quotes and escapes."""
    body = value[1:-1]
    out: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        eq = body.find("=", i)
        if eq < 0:
            raise FastPathUnsupported("malformed header line")
        key = body[i:eq].strip(" ")
        j = eq + 1
        while j < n and body[j] == " ":
            j += 1
        if j < n and body[j] == '"':
            k = j + 1
            while k < n and body[k] != '"':
                k += 2 if body[k] == "\\" else 1
            if k >= n:
                raise FastPathUnsupported("unterminated quote in a header line")
            val = '"' + body[j + 1:k].rstrip(" ") + '"'
            i = k + 1
            if i < n:
                if body[i] != ",":
                    raise FastPathUnsupported("malformed header line")
                i += 1
        else:
            k = body.find(",", j)
            if k < 0:
                k = n
            val = body[j:k].rstrip(" ")
            if "<" in val or ">" in val or val.startswith("["):
                raise FastPathUnsupported("header value htslib reads its own way")
            i = k + 1
        if not key or key in out or "," in key:
            raise FastPathUnsupported("malformed header line")
        out[key] = val
    return out


def _plain(attrs: dict[str, str], key: str) -> str | None:
    """An attribute htslib uses as a bare word (ID, Number, Type, length): never quoted."""
    value = attrs.get(key)
    if value is not None and value.startswith('"'):
        raise FastPathUnsupported(f"quoted {key} in a header line")
    return value


def _contig(value: str) -> tuple[str, int | None]:
    if '"' not in value:  # the usual <ID=chr1,length=248956422>: no quoted commas
        attrs: dict[str, str] = {}
        for item in value[1:-1].split(","):
            key, eq, val = item.partition("=")
            key = key.strip(" ")
            if not eq or not key or key in attrs or "<" in val or ">" in val:
                raise FastPathUnsupported("malformed ##contig line")
            attrs[key] = val.strip(" ")
    else:
        attrs = _structured(value)
    name = _plain(attrs, "ID")
    if not name:
        raise FastPathUnsupported("##contig line without ID")
    length = _plain(attrs, "length")
    if length is None:
        return name, None
    if not _DIGITS.fullmatch(length):
        raise FastPathUnsupported("##contig length is not a number")
    return name, int(length) or None


@functools.lru_cache(maxsize=4096)
def _definition(key: str, value: str) -> tuple[str, str, str, str]:
    """(ID, Number, Type, Description as pysam gives it) of a ##FORMAT/##INFO ``<...>`` value.

    Cached: the files of one pipeline repeat the same definitions."""
    if value.startswith("<ID=") and value.endswith('">'):
        head, sep, description = value[4:-2].partition(',Description="')
        parts = head.split(",")
        if (sep and len(parts) == 3 and parts[1].startswith("Number=")
                and parts[2].startswith("Type=") and '"' not in head
                and not _UNESCAPED_QUOTE.search(description)):
            ident, number, kind = parts[0], parts[1][7:], parts[2][5:]
            if ident and number and kind and not _ODD_WORD.search(ident + number + kind):
                return ident, number, kind, description.rstrip(" ").strip('"')
    attrs = _structured(value)
    ident, number, kind = _plain(attrs, "ID"), _plain(attrs, "Number"), _plain(attrs, "Type")
    if not ident:
        raise FastPathUnsupported(f"##{key} line without ID")
    return ident, number or "", kind or "", (attrs.get("Description") or "").strip('"')


_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')
_ODD_WORD = re.compile(r"[\s<>=\"]")


@functools.lru_cache(maxsize=256)
def _contig_block(block: str) -> tuple[tuple[tuple[str, int | None], ...],
                                       tuple[tuple[str, str], ...]]:
    """((ID, length) of each contig in order, the first of a repeated ID; (ID, ``<...>``)) of
    the ##contig lines. Cached: the files of one pipeline repeat the same contig lines."""
    contigs: list[tuple[str, int | None]] = []
    values: dict[str, str] = {}
    for line in block.split("\n"):
        value = line[9:]
        if not value.startswith("<") or not value.endswith(">"):
            raise FastPathUnsupported("unusual ##contig line")
        name, length = _contig(value)
        if name not in values:
            values[name] = value
            contigs.append((name, length))
    return tuple(contigs), tuple(values.items())


def _contig_lines(text: str) -> tuple[str, str]:
    """(the run of ``##contig`` lines of a header, the header without them) when they are one
    run of lines, as callers write them; else ("", the header). Spares a loop over the
    hundreds of contig lines of a GRCh38 header: the run is parsed once (:func:`_contig_block`
    is cached) and the other lines in order."""
    first = text.find("\n##contig=")
    if first < 0:
        return "", text
    last = text.rfind("\n##contig=")
    end = text.find("\n", last + 1)
    if end < 0:
        return "", text  # the last line: not a header's run of contigs
    block = text[first + 1:end]
    if block.count("\n") != block.count("\n##contig="):
        return "", text  # other lines among them: the line loop keeps their order
    return block, text[:first] + text[end:]


def parse_header(raw: bytes) -> tuple[HeaderFields, int]:
    """(the header facts, number of header lines) of a VCF header (``##`` lines + ``#CHROM``)."""
    if b"\r" in raw:
        raise FastPathUnsupported("CR line endings")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FastPathUnsupported("header is not UTF-8") from exc
    if text.endswith("\n"):
        text = text[:-1]
    if not text.startswith("##fileformat=VCF"):
        raise FastPathUnsupported("no ##fileformat=VCF line")
    block, text = _contig_lines(text)
    lines = text.split("\n")
    n_lines = len(lines) + (block.count("\n") + 1 if block else 0)
    formats: dict[str, tuple[str, str]] = {}
    infos: dict[str, str] = {}
    generic: list[tuple[str, str]] = []
    contig_lines: list[str] = [block] if block else []
    for line in lines[:-1]:
        if line.startswith("##contig="):
            contig_lines.append(line)
            continue
        eq = line.find("=")
        if eq < 3 or not line.startswith("##"):
            raise FastPathUnsupported("unexpected line in the header")
        key = line[2:eq]
        value = line[eq + 1:]
        if not value.startswith("<"):
            generic.append((key, value))
            continue
        if not value.endswith(">"):
            raise FastPathUnsupported("unterminated header line")
        if key == "FORMAT":
            ident, number, kind, _ = _definition(key, value)
            if kind not in _TYPES or not number:
                raise FastPathUnsupported("##FORMAT line htslib may read differently")
            formats.setdefault(ident, (number, kind))
        elif key == "INFO":
            ident, _, _, description = _definition(key, value)
            infos.setdefault(ident, description)
    contigs, values = _contig_block("\n".join(contig_lines)) if contig_lines else ((), ())
    contig_values = dict(values)
    columns = lines[-1].split("\t")
    if columns[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
        raise FastPathUnsupported("unusual #CHROM line")
    samples: list[str] = []
    if len(columns) > 8:
        if columns[8] != "FORMAT":
            raise FastPathUnsupported("unusual #CHROM line")
        samples = columns[9:]
        if len(set(samples)) != len(samples) or "" in samples:
            raise FastPathUnsupported("empty or repeated sample names")

    def attributes(name: str) -> dict[str, str]:
        value = contig_values.get(name)
        return _structured(value) if value else {}

    fields = HeaderFields(samples=samples, formats=formats, info_descriptions=infos,
                          contigs=list(contigs), generic=generic, contig_attributes=attributes)
    return fields, n_lines


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
    7 significant digits by :func:`lesiontrack.io.vcf._numbers`."""
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
    """One VCF line behind the interface :meth:`_Calls.add` uses (see ``_PysamRecord``).

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
        return _numbers(raw, percent=percent)


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
                  calls: _Calls) -> None:
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


# --------------------------------------------------------------------------------------------
# Unindexed files: a vectorised scan of the whole text

#: First bytes of a contig name that Python's str.strip() could remove (ASCII and UTF-8 leads).
_STRIPPABLE = np.array([9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3],
                       dtype=np.uint8)
_ODD_FIRST = np.zeros(256, dtype=bool)
_ODD_FIRST[_STRIPPABLE] = True
_ODD_AFTER = _ODD_FIRST.copy()  # after a contig name: anything but the tab is checked by hand
_ODD_AFTER[9] = False
_ODD_FIRST[10] = False  # a blank line is no record (and millions of them must not be listed)
_COLUMNS11 = np.arange(11)
_POW10 = 10 ** np.arange(11, dtype=np.int64)


def _spellings(target: str) -> list[tuple[bytes, tuple[bool, ...]]]:
    """(name, case-insensitive per byte) of the contig names ``normalize_chrom`` maps to
    ``target`` (leading/trailing white space aside: those lines are checked one by one)."""
    if target == "MT":
        bodies = [("M", True), ("MT", True)]
    elif target in ("X", "Y"):
        bodies = [(target, True)]
    else:
        bodies = [(target, False)]
    out = []
    for body, ci in bodies:
        encoded = body.encode()
        letters = tuple(ci and chr(b).isalpha() for b in encoded)
        out.append((encoded, letters))
        out.append((b"chr" + encoded, (True, True, True, *letters)))
    return out


@dataclass
class _Piece:
    """What a worker found in one piece of the text."""

    head: bytes  # text before the piece's first newline (the end of a line begun earlier)
    tail: bytes  # text after its last newline (the start of a line that goes on)
    complete: bool  # the piece holds at least one newline
    n_lines: int = 0  # lines wholly inside the piece
    lines: list[bytes] = field(default_factory=list)  # candidate lines, in order
    # per target: (count, first index, last index, first pos, last pos, sorted)
    summary: dict[str, tuple[int, int, int, int, int, bool]] = field(default_factory=dict)


class _Scanner:
    """Finds, in a piece of text, the lines that may overlap the windows."""

    def __init__(self, windows: dict[str, list[tuple[int, int]]]) -> None:
        self.targets = []
        for target, wins in windows.items():
            starts = np.array([s for s, _ in wins], dtype=np.int64)
            ends = np.array([e for _, e in wins], dtype=np.int64)
            patterns = []
            for name, ci in _spellings(target):
                want = np.frombuffer(bytes(b | 32 if c else b for b, c in zip(name, ci,
                                                                               strict=True)),
                                     dtype=np.uint8)
                order = [len(name) - 1, *range(len(name) - 1)]
                patterns.append((len(name), want, ci, order))
            self.targets.append((target, starts, ends, patterns))

    def __call__(self, text: bytes) -> _Piece:
        first = text.find(b"\n")
        if first < 0:
            return _Piece(head=text, tail=b"", complete=False)
        last = text.rfind(b"\n")
        piece = _Piece(head=text[:first], tail=text[last + 1:], complete=True)
        if last == first:
            return piece
        body_start = first + 1
        if not text.isascii():
            try:
                text[body_start:last].decode("utf-8")
            except UnicodeDecodeError as exc:  # pysam names the line
                raise FastPathUnsupported("a line is not UTF-8 text") from exc
        a = np.frombuffer(text, dtype=np.uint8, count=last + 1 - body_start, offset=body_start)
        newlines = np.flatnonzero(a == 10)
        n_lines = len(newlines)
        piece.n_lines = n_lines
        starts = np.empty(n_lines, dtype=np.int64)
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
        size = len(a)
        first_bytes = a[starts]
        odd = [starts[_ODD_FIRST[first_bytes]]]  # checked one by one
        found: list[np.ndarray] = []
        for target, win_starts, win_ends, patterns in self.targets:
            matched_starts = []
            matched_pos = []
            for length, want, ci, order in patterns:
                sel = starts
                for k in order:
                    if k == 0 and sel is starts:
                        column = first_bytes
                    else:
                        column = a[np.minimum(sel + k, size - 1)]
                    if ci[k]:
                        column = column | 32
                    sel = sel[column == want[k]]
                    if not len(sel):
                        break
                if not len(sel):
                    continue
                terminal = a[np.minimum(sel + length, size - 1)]
                odd.append(sel[_ODD_AFTER[terminal]])  # "chr4 \t": white space
                sel = sel[terminal == 9]
                if not len(sel):
                    continue
                # POS, vectorised: up to 10 digits followed by a tab
                d = a[np.minimum(sel[:, None] + (length + 1) + _COLUMNS11, size - 1)]
                is_digit = (d >= 48) & (d <= 57)
                n_digits = np.argmin(is_digit, axis=1)
                ok = (n_digits > 0) & (d[np.arange(len(sel)), n_digits] == 9)
                odd.append(sel[~ok])
                sel, d, n_digits = sel[ok], d[ok], n_digits[ok]
                if not len(sel):
                    continue
                exponent = n_digits[:, None] - 1 - _COLUMNS11
                weights = np.where(exponent >= 0, _POW10[np.maximum(exponent, 0)], 0)
                pos = ((d.astype(np.int64) - 48) * weights).sum(axis=1)
                matched_starts.append(sel)
                matched_pos.append(pos)
            if not matched_starts:
                continue
            sel = np.concatenate(matched_starts)
            pos = np.concatenate(matched_pos)
            if len(matched_starts) > 1:
                order = np.argsort(sel, kind="stable")
                sel, pos = sel[order], pos[order]
            index = np.searchsorted(starts, sel)
            line_ends = newlines[index]
            piece.summary[target] = (
                len(sel), int(index[0]), int(index[-1]), int(pos[0]), int(pos[-1]),
                bool(np.all(pos[1:] >= pos[:-1])),
            )
            # the first window ending at or after POS; a record reaches it when its REF could
            # (a REF is shorter than its line) or when the line has an END= (checked exactly)
            w = np.searchsorted(win_ends, pos, side="left")
            inside = w < len(win_ends)
            w = np.minimum(w, len(win_ends) - 1)
            reach = inside & (pos + (line_ends - sel) >= win_starts[w])
            maybe = np.flatnonzero(inside & ~reach)
            if len(maybe):
                has_end = self._has_end(text, body_start, sel[maybe], line_ends[maybe])
                reach[maybe[has_end]] = True
            found.append(sel[reach])
        candidates = np.concatenate(found + odd) if found or odd else np.zeros(0, np.int64)
        if len(candidates):
            candidates = np.unique(candidates)
            ends = newlines[np.searchsorted(starts, candidates)]
            piece.lines = [text[body_start + int(s):body_start + int(e)]
                           for s, e in zip(candidates, ends, strict=True)]
        return piece

    @staticmethod
    def _has_end(text: bytes, offset: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which lines contain ``END=`` or ``<`` (a superset of those whose INFO/END or
        symbolic allele can make the record reach further than its REF)."""
        if len(starts) <= 64:
            return np.array([_SPAN_HINT.search(text, offset + int(s), offset + int(e))
                             is not None for s, e in zip(starts, ends, strict=True)], dtype=bool)
        lo, hi = offset + int(starts[0]), offset + int(ends[-1])
        hits = [m.start() - offset for m in _SPAN_HINT.finditer(text, lo, hi)]
        out = np.zeros(len(starts), dtype=bool)
        if hits:
            hit = np.array(hits, dtype=np.int64)
            line = np.searchsorted(starts, hit, side="right") - 1
            ok = (line >= 0) & (hit < ends[np.maximum(line, 0)])
            out[line[ok]] = True
        return out


def _read_streaming(path: Path, kind: str, windows: dict[str, list[tuple[int, int]]],
                    calls: _Calls, header_lines: int, stop_early: bool) -> None:
    """Every record of the windows, scanning the whole text (see the module docstring)."""
    scanner = _Scanner(windows)
    n_samples = len(calls.samples)
    types = calls.format_types
    total_lines = 0
    order = _Order(windows) if stop_early else None

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


@dataclass
class _Contig:
    """What the scan saw of one window contig's lines, in file order."""

    max_end: int  # end of its last window
    seen: bool = False
    left: bool = False  # a line of another contig came after its lines
    last_pos: int = -1
    last_line_is_it: bool = False  # the last line seen is one of its


class _Order:
    """Follows the window contigs' lines for ``stop_early``: done once each contig has been
    read past its last window (or its lines ended); broken when a contig's lines come back after
    another contig's or its positions go backwards."""

    def __init__(self, windows: dict[str, list[tuple[int, int]]]) -> None:
        self.contigs = {t: _Contig(max(e for _, e in wins)) for t, wins in windows.items()}

    @staticmethod
    def _run(state: _Contig, first_pos: int, last_pos: int) -> bool:
        """A run of the contig's lines; False when it breaks the order."""
        if state.left or (state.seen and not state.last_line_is_it) or first_pos < state.last_pos:
            return False
        state.seen = True
        state.last_pos = last_pos
        state.last_line_is_it = True
        return True

    @staticmethod
    def _other(state: _Contig) -> None:
        """A line of another contig."""
        if state.last_line_is_it:
            state.left = True
        state.last_line_is_it = False

    def follow(self, piece: _Piece, stitched: tuple[str, int] | None) -> bool:
        for target, state in self.contigs.items():
            if stitched is not None and stitched[0] == target:
                if not self._run(state, stitched[1], stitched[1]):
                    return False
            else:
                self._other(state)
            if not piece.n_lines:
                continue
            info = piece.summary.get(target)
            if info is None:
                self._other(state)
                continue
            count, first, last, first_pos, last_pos, in_order = info
            if not in_order or last - first + 1 != count:
                return False
            if first > 0:
                self._other(state)
            if not self._run(state, first_pos, last_pos):
                return False
            if last < piece.n_lines - 1:
                self._other(state)
        return True

    def done(self) -> bool:
        return all(s.seen and (s.left or s.last_pos > s.max_end) for s in self.contigs.values())


# --------------------------------------------------------------------------------------------
# Entry point


def _header_in(head: bytes, kind: str) -> bytes | None:
    """The header (up to the end of the #CHROM line) in a file's first bytes of text, as
    :func:`read_head` would read it, or None. (A plain gzip file's header is read by
    ``read_head`` from its first member only: not taken from ``head``.)"""
    if kind == "gzip":
        return None
    found = _marker_line_end(head, b"\n#CHROM")
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
    calls = _Calls(path, include_filtered, shown)
    if kind == "gzip":
        calls.notes["plain_gzip"] = PLAIN_GZIP_NOTE
    result = ReadResult(calls=None, samples=[])  # type: ignore[arg-type]  # set by finish()
    calls.read_header(fields, result)
    if not calls.samples:
        calls.notes["no_samples"] = NO_SAMPLES_NOTE
        return calls.finish(result)
    windows = _merge_windows(regions)
    if windows:
        try:
            if index is not None:
                _read_indexed(path, index, windows, calls)
            else:
                _read_streaming(path, kind, windows, calls, header_lines, stop_early)
        except OSError as exc:
            raise FastPathUnsupported(f"cannot read ({exc})") from exc
    return calls.finish(result)

