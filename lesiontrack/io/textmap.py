"""A file's whole text, mapped piece by piece in worker threads: the scan of an unindexed VCF.

:func:`map_text` hands consecutive pieces of the text (BGZF blocks inflated in worker threads,
a plain-gzip stream inflated in a thread, or plain text) to a function and yields its results in
file order; memory does not follow the file's size. Anything unexpected raises
:class:`~lesiontrack.io.bgzf.FastPathUnsupported`: the caller then reads the file with pysam.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .bgzf import (
    BGZF_EOF,
    INFLATE_ERRORS,
    FastPathUnsupported,
    block_at,
    block_incomplete,
    decompressor,
    inflate,
)

R = TypeVar("R")
#: Text handed to the scanner at a time (whole lines): big enough that per-chunk costs vanish.
CHUNK_BYTES = 4 << 20
#: Compressed bytes below which an unindexed file is inflated in the calling thread only.
THREADS_FROM_BYTES = 4 << 20
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
                if not final and block_incomplete(data, pos):
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
        inflater = decompressor(31)
        raw = handle.read(1 << 20)
        if not raw:
            return
        pending: list[bytes] = []
        size = 0
        while True:
            try:  # raw may be empty: then what zlib still holds comes out
                out = inflater.decompress(raw, CHUNK_BYTES - size)
            except INFLATE_ERRORS as exc:
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
                inflater = decompressor(31)
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
