"""BGZF and gzip reading for the fast VCF path: whole blocks, on demand, without htslib.

A BGZF file is a series of gzip members ("blocks") of at most 64 KiB of text each; every block
says how long it is, compressed (BSIZE in its header) and uncompressed (ISIZE in its trailer).
That lets this module

- walk a file's blocks without inflating them, and inflate them in worker threads in any order
  (:func:`block_at`, :func:`inflate`: :mod:`.textmap` scans a whole unindexed file on both cores);
- read from a *virtual offset* (compressed offset of a block << 16 | offset in the block), the
  unit of tabix/CSI indexes (:func:`lines_from`);
- skip over parts of a small BGZF file (an index) without inflating them (:class:`BlockStream`).

Decompression uses ``isal`` (Intel ISA-L, 2-3x faster than zlib) when it is installed and
``zlib`` otherwise; both release the GIL. Anything unexpected raises :class:`FastPathUnsupported`:
the caller then reads the file with pysam, which names the problem.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .bounded import MAX_LINE_BYTES, LineGuard
from .compression import GZIP_MAGIC

try:  # pragma: no cover - depends on the environment
    from isal import isal_zlib as _inflater

    INFLATE_BACKEND = "isal"
except ImportError:  # pragma: no cover - depends on the environment
    _inflater = zlib
    INFLATE_BACKEND = "zlib"

#: Errors of the inflate backend on corrupt data.
INFLATE_ERRORS = (zlib.error, getattr(_inflater, "error", zlib.error), ValueError, IndexError)

#: The 28-byte empty block that ends every complete BGZF file.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class FastPathUnsupported(Exception):
    """The fast path cannot read this file exactly as pysam would: read it with pysam."""


def _bsize_offset(data: bytes | memoryview, start: int) -> int | None:
    """Offset of the BSIZE field in the gzip extra field of the block at ``start``, if any."""
    xlen = data[start + 10] | (data[start + 11] << 8)
    p = start + 12
    end = p + xlen
    while p + 4 <= end:
        sub_len = data[p + 2] | (data[p + 3] << 8)
        if data[p] == 66 and data[p + 1] == 67 and sub_len == 2:  # "BC"
            return p + 4
        p += 4 + sub_len
    return None


def decompressor(wbits: int) -> Any:
    """A decompression object of the inflate backend (``isal`` when installed, else ``zlib``)."""
    return _inflater.decompressobj(wbits)


def block_at(data: bytes | memoryview, start: int) -> tuple[int, int, int, int]:
    """(payload start, payload end, uncompressed size, next block) of the block at ``start``."""
    if len(data) - start < 18:
        raise FastPathUnsupported("truncated BGZF block")
    if data[start + 12] == 66 and data[start + 13] == 67 and data[start + 3] & 4:
        at = start + 16  # the usual layout: XLEN 6, one "BC" subfield
    else:
        if data[start] != 0x1F or data[start + 1] != 0x8B or not data[start + 3] & 4:
            raise FastPathUnsupported("not a BGZF block")
        found = _bsize_offset(data, start)
        if found is None:
            raise FastPathUnsupported("gzip member without a BGZF block size")
        at = found
    nxt = start + (data[at] | (data[at + 1] << 8)) + 1
    if nxt > len(data):
        raise FastPathUnsupported("truncated BGZF block")
    xlen = data[start + 10] | (data[start + 11] << 8)
    isize = int.from_bytes(data[nxt - 4:nxt], "little")
    return start + 12 + xlen, nxt - 8, isize, nxt


def inflate(data: bytes | memoryview, payload_start: int, payload_end: int, isize: int) -> bytes:
    """The text of one block: never more than its ISIZE (at most 64 KiB) is inflated, whatever
    the deflate data would give."""
    try:
        inflater = _inflater.decompressobj(-15)
        out = inflater.decompress(data[payload_start:payload_end], isize + 1)
        complete = inflater.eof
    except INFLATE_ERRORS as exc:
        raise FastPathUnsupported(f"corrupt BGZF block ({exc})") from exc
    if len(out) != isize or not complete:
        raise FastPathUnsupported("BGZF block size mismatch")
    return out


class BlockStream:
    """The uncompressed bytes of a small BGZF file held in memory, read front to back.

    Blocks are inflated only as far as the reads need (``max_length``), and :meth:`skip` jumps
    over whole blocks using their ISIZE without inflating them: reading one contig's part of a
    tabix index touches a few kilobytes of it.
    """

    #: Bytes inflated beyond what a read asks for (fewer calls for small sequential reads).
    STEP = 8192

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.next_block = 0
        self.buf = b""
        self.off = 0
        self._inflater = None  # the block being inflated, while it has more to give
        self._left = 0  # its bytes not inflated yet

    def _start_block(self) -> tuple[int, int, int]:
        """Start inflating the next block: (payload start, payload end, uncompressed size)."""
        if self.next_block >= len(self.data):
            raise FastPathUnsupported("unexpected end of a BGZF file")
        p0, p1, isize, nxt = block_at(self.data, self.next_block)
        self.next_block = nxt
        return p0, p1, isize

    def _inflate(self, source, want: int) -> bytes:
        inflater = self._inflater
        try:
            out = inflater.decompress(source, max(want, 1))
        except INFLATE_ERRORS as exc:
            raise FastPathUnsupported(f"corrupt BGZF block ({exc})") from exc
        self._left -= len(out)
        if self._left <= 0 or not out:
            if self._left != 0:
                raise FastPathUnsupported("BGZF block size mismatch")
            self._inflater = None
        return out

    def _more(self, want: int) -> bytes:
        """Some more bytes (at least one, about ``want``) of the stream."""
        if self._inflater is not None:
            return self._inflate(self._inflater.unconsumed_tail, want)
        p0, p1, isize = self._start_block()
        if isize == 0:
            return b""
        self._inflater = _inflater.decompressobj(-15)
        self._left = isize
        return self._inflate(self.data[p0:p1], want)

    def need(self, n: int) -> None:
        """Make at least ``n`` bytes available at ``self.buf[self.off:]``."""
        have = len(self.buf) - self.off
        if have >= n:
            return
        parts = [self.buf[self.off:]]
        while have < n:
            part = self._more(n - have + self.STEP)
            parts.append(part)
            have += len(part)
        self.buf = b"".join(parts)
        self.off = 0

    def read(self, n: int) -> bytes:
        self.need(n)
        out = self.buf[self.off:self.off + n]
        self.off += n
        return out

    def skip(self, n: int) -> None:
        avail = len(self.buf) - self.off
        if n <= avail:
            self.off += n
            return
        n -= avail
        self.buf, self.off = b"", 0
        if self._inflater is not None:
            if n >= self._left:  # the rest of this block is skipped without inflating it
                n -= self._left
                self._inflater = None
            else:
                while n:
                    n -= len(self._inflate(self._inflater.unconsumed_tail, n))
                return
        while n:
            if self.next_block >= len(self.data):
                raise FastPathUnsupported("unexpected end of a BGZF file")
            p0, p1, isize, nxt = block_at(self.data, self.next_block)
            if n >= isize:  # the whole block is skipped: no need to inflate it
                n -= isize
                self.next_block = nxt
                continue
            self.next_block = nxt
            self._inflater = _inflater.decompressobj(-15)
            self._left = isize
            source = self.data[p0:p1]
            while n:
                got = self._inflate(source, n)
                n -= len(got)
                source = self._inflater.unconsumed_tail if self._inflater else b""


def read_head(path: Path, kind: str, marker: bytes = b"\n#CHROM", limit: int = 64 << 20) -> bytes:
    """The first bytes of the text of a file, up to and including the line holding ``marker``
    (the VCF header). Raises FastPathUnsupported when the marker line is not found."""
    with path.open("rb") as handle:
        if kind == "bgzf":
            data = handle.read(1 << 16)
            parts: list[bytes] = []
            pos = 0
            text = b""
            while True:
                while len(data) - pos < 18 or block_incomplete(data, pos):
                    more = handle.read(1 << 18)
                    if not more:
                        raise FastPathUnsupported("no #CHROM line")
                    data = data[pos:] + more
                    pos = 0
                p0, p1, isize, nxt = block_at(data, pos)
                parts.append(inflate(data, p0, p1, isize))
                pos = nxt
                text = b"".join(parts) if len(parts) > 1 else parts[0]
                found = marker_line_end(text, marker)
                if found >= 0:
                    return text[:found]
                if len(text) > limit:
                    raise FastPathUnsupported("header too long")
        if kind == "gzip":
            inflater = zlib.decompressobj(31)
            out = b""
            while True:
                raw = inflater.unconsumed_tail or handle.read(1 << 16)
                if not raw:
                    raise FastPathUnsupported("no #CHROM line")
                try:  # at most 1 MiB more at a time, whatever the data inflates to
                    out += inflater.decompress(raw, 1 << 20)
                except zlib.error as exc:
                    raise FastPathUnsupported(f"corrupt gzip ({exc})") from exc
                found = marker_line_end(out, marker)
                if found >= 0:
                    return out[:found]
                if inflater.eof or len(out) > limit:
                    raise FastPathUnsupported("no #CHROM line in the first gzip member")
        out = b""
        while True:
            raw = handle.read(1 << 16)
            if not raw:
                raise FastPathUnsupported("no #CHROM line")
            out += raw
            found = marker_line_end(out, marker)
            if found >= 0:
                return out[:found]
            if len(out) > limit:
                raise FastPathUnsupported("header too long")


def gunzip_prefix(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the text of a gzip file (BGZF or plain, any number of
    members), inflated member by member with ``isal`` when installed. Raises
    FastPathUnsupported on anything unusual (corrupt data, a truncated member, bytes after a
    member that do not start another): the caller then reads with :mod:`gzip`, which names it."""
    parts: list[bytes] = []
    n = 0
    try:
        with path.open("rb") as handle:
            pending = handle.read(1 << 16)
            inflater = _inflater.decompressobj(31)
            started = False  # the current member has been given bytes
            while n < size:
                if not pending:
                    pending = handle.read(1 << 16)
                    if not pending:
                        if started:
                            raise FastPathUnsupported("truncated gzip member")
                        break
                if not started and pending[:2] != GZIP_MAGIC:
                    if len(pending) < 2:  # a magic split across reads: not worth handling
                        raise FastPathUnsupported("short gzip member header")
                    raise FastPathUnsupported("bytes after a gzip member")
                started = True
                out = inflater.decompress(pending, size - n)
                parts.append(out)
                n += len(out)
                if inflater.eof:
                    pending = inflater.unused_data
                    inflater = _inflater.decompressobj(31)
                    started = False
                else:
                    tail = inflater.unconsumed_tail
                    if not out and tail and len(tail) == len(pending):
                        raise FastPathUnsupported("gzip data that inflates to nothing")
                    pending = tail
    except INFLATE_ERRORS as exc:
        raise FastPathUnsupported(f"corrupt gzip ({exc})") from exc
    return b"".join(parts)


def block_incomplete(data: bytes | memoryview, pos: int) -> bool:
    """Whether the block at ``pos`` is not wholly in ``data`` (or its size cannot be read yet)."""
    at = _bsize_offset(data, pos) if len(data) - pos >= 18 else None
    if at is None or at + 2 > len(data):
        return True
    return pos + (data[at] | (data[at + 1] << 8)) + 1 > len(data)


def marker_line_end(text: bytes, marker: bytes) -> int:
    """Index just past the newline ending the line that starts with ``marker``[1:], else -1."""
    if text.startswith(marker[1:]):
        at = 0
    else:
        at = text.find(marker)
        if at < 0:
            return -1
        at += 1
    end = text.find(b"\n", at)
    return -1 if end < 0 else end + 1


def lines_from(path: Path, voffset: int) -> Iterator[tuple[int, bytes]]:
    """(compressed offset of the block the line starts in, line without its newline) of the
    lines of a BGZF file from a virtual offset to the end."""
    coffset, uoffset = voffset >> 16, voffset & 0xFFFF
    with path.open("rb") as handle:
        handle.seek(coffset)
        base = coffset  # file offset of data[0]
        data = handle.read(1 << 16)
        pos = 0
        carry = b""
        carry_block = coffset
        first = True
        while True:
            if len(data) - pos < 18 or block_incomplete(data, pos):
                more = handle.read(1 << 18)
                if not more:
                    if len(data) - pos:
                        raise FastPathUnsupported("truncated BGZF file")
                    break
                base += pos
                data = data[pos:] + more
                pos = 0
                continue
            block = base + pos
            p0, p1, isize, nxt = block_at(data, pos)
            text = inflate(data, p0, p1, isize)
            pos = nxt
            if first:
                text = text[uoffset:]
                first = False
            if not text:
                continue
            lines = text.split(b"\n")
            if len(lines) == 1:
                if not carry:
                    carry_block = block
                carry += lines[0]
                if len(carry) > MAX_LINE_BYTES:  # never held whole: the line is refused
                    raise LineGuard(path, what="VCF").fail(f"the line starting in the BGZF block at byte "
                                               f"{carry_block}")
                continue
            yield (carry_block if carry else block), carry + lines[0]
            carry = lines.pop()
            carry_block = block
            for line in lines[1:]:
                yield block, line
        if carry:
            yield carry_block, carry
