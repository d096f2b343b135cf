"""BGZF and gzip reading for the fast VCF path: whole blocks, on demand, without htslib.

A BGZF file is a series of gzip members ("blocks") of at most 64 KiB of text each; every block
says how long it is, compressed (BSIZE in its header) and uncompressed (ISIZE in its trailer).
That lets this module

- walk a file's blocks without inflating them, and inflate them in worker threads in any order
  (:func:`text_chunks`, used to scan a whole unindexed file on both cores);
- read from a *virtual offset* (compressed offset of a block << 16 | offset in the block), the
  unit of tabix/CSI indexes (:func:`lines_from`);
- skip over parts of a small BGZF file (an index) without inflating them (:class:`BlockStream`).

Decompression uses ``isal`` (Intel ISA-L, 2-3x faster than zlib) when it is installed and
``zlib`` otherwise; both release the GIL. Anything unexpected raises :class:`FastPathUnsupported`:
the caller then reads the file with pysam, which names the problem.
"""

from __future__ import annotations

import os
import queue
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .bounded import MAX_LINE_BYTES, LineGuard

try:  # pragma: no cover - depends on the environment
    from isal import isal_zlib as _inflater

    INFLATE_BACKEND = "isal"
except ImportError:  # pragma: no cover - depends on the environment
    _inflater = zlib
    INFLATE_BACKEND = "zlib"

_inflate = _inflater.decompress
_ERRORS = (zlib.error, getattr(_inflater, "error", zlib.error), ValueError, IndexError)

#: The 28-byte empty block that ends every complete BGZF file.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BGZF_HEAD = b"\x1f\x8b\x08\x04"
R = TypeVar("R")
#: Text handed to the scanner at a time (whole lines): big enough that per-chunk costs vanish.
CHUNK_BYTES = 4 << 20
#: Compressed bytes below which an unindexed file is inflated in the calling thread only.
THREADS_FROM_BYTES = 4 << 20


class FastPathUnsupported(Exception):
    """The fast path cannot read this file exactly as pysam would: read it with pysam."""


def compression(path: Path) -> str:
    """``bgzf``, ``gzip`` (plain, not blocked) or ``none``."""
    with path.open("rb") as probe:
        head = probe.read(18)
    if head[:2] != b"\x1f\x8b":
        return "none"
    if len(head) >= 18 and head[:4] == _BGZF_HEAD and head[12:16] == b"BC\x02\x00":
        return "bgzf"
    if len(head) >= 14 and head[3] & 4 and _bsize_offset(head, 0) is not None:
        return "bgzf"
    return "gzip"


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
    except _ERRORS as exc:
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
        except _ERRORS as exc:
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
                while len(data) - pos < 18 or _block_incomplete(data, pos):
                    more = handle.read(1 << 18)
                    if not more:
                        raise FastPathUnsupported("no #CHROM line")
                    data = data[pos:] + more
                    pos = 0
                p0, p1, isize, nxt = block_at(data, pos)
                parts.append(inflate(data, p0, p1, isize))
                pos = nxt
                text = b"".join(parts) if len(parts) > 1 else parts[0]
                found = _marker_line_end(text, marker)
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
                found = _marker_line_end(out, marker)
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
            found = _marker_line_end(out, marker)
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
                if not started and pending[:2] != b"\x1f\x8b":
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
    except _ERRORS as exc:
        raise FastPathUnsupported(f"corrupt gzip ({exc})") from exc
    return b"".join(parts)


def _block_incomplete(data: bytes, pos: int) -> bool:
    at = _bsize_offset(data, pos) if len(data) - pos >= 18 else None
    if at is None or at + 2 > len(data):
        return True
    return pos + (data[at] | (data[at + 1] << 8)) + 1 > len(data)


def _marker_line_end(text: bytes, marker: bytes) -> int:
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
            if len(data) - pos < 18 or _block_incomplete(data, pos):
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


# --------------------------------------------------------------------------------------------
# Whole-file streaming (unindexed files)


#: Compressed bytes of an unindexed BGZF file held at a time by the whole-file scan (the file
#: is read window by window: memory does not follow its size).
WINDOW_BYTES = 8 << 20


def _block_list(data: memoryview, final: bool) -> tuple[list[tuple[int, int, int]], int]:
    """((payload start, payload end, isize) of every whole block in ``data``, where the first
    incomplete block starts); with ``final`` (the end of the file) an incomplete block is a
    truncated file."""
    blocks = []
    pos = 0
    n = len(data)
    append = blocks.append
    while pos + 18 <= n:
        # the usual layout, parsed inline: this loop sees every block of the file
        if data[pos + 12] == 66 and data[pos + 13] == 67 and data[pos] == 0x1F:
            nxt = pos + (data[pos + 16] | (data[pos + 17] << 8)) + 1
            if nxt > n:
                break
            isize = data[nxt - 4] | data[nxt - 3] << 8 | data[nxt - 2] << 16 | data[nxt - 1] << 24
            append((pos + 18, nxt - 8, isize))
            pos = nxt
        else:
            try:
                p0, p1, isize, nxt = block_at(data, pos)
            except FastPathUnsupported:
                if not final and _block_incomplete(data, pos):
                    break
                raise
            append((p0, p1, isize))
            pos = nxt
    if final and pos != n:
        raise FastPathUnsupported("truncated BGZF file")
    return blocks, pos


def _bgzf_batches(path: Path) -> Iterator[tuple[memoryview, list[tuple[int, int, int]]]]:
    """(a window of the compressed file, a run of its whole blocks holding about
    :data:`CHUNK_BYTES` of text), front to back, :data:`WINDOW_BYTES` read at a time. Raises
    if the file does not end with the BGZF end-of-file block (a truncated copy: pysam reports
    it)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 28))
        if size < 28 or handle.read(28) != BGZF_EOF:
            raise FastPathUnsupported("no BGZF end-of-file block")
        handle.seek(0)
        tail = b""
        while True:
            more = handle.read(WINDOW_BYTES)
            final = handle.tell() >= size or not more
            data = memoryview(tail + more if tail else more)
            blocks, end = _block_list(data, final)
            batch: list[tuple[int, int, int]] = []
            text = 0
            for block in blocks:
                batch.append(block)
                text += block[2]
                if text >= CHUNK_BYTES:
                    yield data, batch
                    batch, text = [], 0
            if batch:
                yield data, batch
            if final:
                return
            tail = bytes(data[end:])


def _inflate_batch(data: memoryview, batch: list[tuple[int, int, int]]) -> bytes:
    return b"".join(inflate(data, p0, p1, isize) for p0, p1, isize in batch)


def _bgzf_results(path: Path, work: Callable[[bytes], R], threads: int) -> Iterator[R]:
    batches = _bgzf_batches(path)
    if threads <= 1 or path.stat().st_size < THREADS_FROM_BYTES:
        for data, batch in batches:
            yield work(_inflate_batch(data, batch))
        return

    def task(data: memoryview, batch: list[tuple[int, int, int]]) -> R:
        return work(_inflate_batch(data, batch))

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lesiontrack-bgzf")
    pending: deque[Future[R]] = deque()
    try:
        for data, batch in batches:  # at most 2 x threads batches in flight
            pending.append(pool.submit(task, data, batch))
            if len(pending) >= 2 * threads:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(batches, None)
            if nxt is not None:
                pending.append(pool.submit(task, *nxt))
            yield result
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        batches.close()


def _gzip_stream(path: Path) -> Iterator[bytes]:
    """The text of a plain gzip file (one or more members), about :data:`CHUNK_BYTES` at a
    time. Inflation is bounded: never more than ``CHUNK_BYTES`` of text is inflated and pending,
    whatever the compressed data inflates to (a gzip "bomb" streams by in bounded memory)."""
    with path.open("rb") as handle:
        inflater = _inflater.decompressobj(31)
        raw = handle.read(1 << 20)
        if not raw:
            return
        pending: list[bytes] = []
        size = 0
        while True:
            try:  # raw may be empty: then what zlib still holds comes out
                out = inflater.decompress(raw, CHUNK_BYTES - size)
            except _ERRORS as exc:
                raise FastPathUnsupported(f"corrupt gzip file ({exc})") from exc
            if out:
                pending.append(out)
                size += len(out)
                if size >= CHUNK_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
            if inflater.eof:  # end of a member: another may follow
                raw = inflater.unused_data or handle.read(1 << 20)
                if not raw:
                    break
                inflater = _inflater.decompressobj(31)
                continue
            raw = inflater.unconsumed_tail or handle.read(1 << 20)
            if not raw and not out:  # the stream stops inside a member: pysam reports it
                raise FastPathUnsupported("truncated gzip file")
        if pending:
            yield b"".join(pending)


def _gzip_pieces(path: Path, threaded: bool) -> Iterator[bytes]:
    """Plain gzip (one or more members): one stream, inflated in a thread when ``threaded``
    (at most four pieces waiting for the reader)."""
    if not threaded:
        yield from _gzip_stream(path)
        return
    channel: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    failure: list[BaseException] = []

    def put(piece: bytes | None) -> bool:
        while not stop.is_set():
            try:
                channel.put(piece, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for piece in _gzip_stream(path):
                if not put(piece):
                    return
        except BaseException as exc:  # handed to the reading thread
            failure.append(exc)
        finally:
            put(None)

    worker = threading.Thread(target=run, name="lesiontrack-gzip", daemon=True)
    worker.start()
    try:
        while True:
            piece = channel.get()
            if piece is None:
                break
            yield piece
        if failure:
            raise failure[0]
    finally:
        stop.set()
        worker.join()


def _plain_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(CHUNK_BYTES):
            yield piece


def usable_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def map_text(path: Path, kind: str, work: Callable[[bytes], R],
             threads: int | None = None) -> Iterator[R]:
    """``work`` applied to the whole text of a file, piece by piece, results in file order.

    Pieces are consecutive and cover the text exactly, but cut anywhere (not at line ends).
    For BGZF, pieces are inflated *and* handed to ``work`` in up to ``threads`` worker threads
    (default: the usable CPUs, at most 2); a plain-gzip stream is inflated in one thread while
    the calling thread runs ``work``. Stopping the iteration early stops the workers.
    """
    if threads is None:
        threads = min(2, usable_cpus())
    if kind == "bgzf":
        yield from _bgzf_results(path, work, threads)
        return
    if kind == "gzip":
        pieces = _gzip_pieces(path, threads > 1 and path.stat().st_size >= THREADS_FROM_BYTES)
    else:
        pieces = _plain_pieces(path)
    try:
        for piece in pieces:
            yield work(piece)
    finally:
        pieces.close()
