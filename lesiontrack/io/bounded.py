"""Bounded reading of text inputs: memory never follows what a compressed file inflates to.

Two rules hold for every text input of lesiontrack (calls files, ``--calls`` tables, sheets):

- **decompression is streamed** with a cap on pending output (:func:`raw_chunks` hands out at
  most ``size`` bytes of text at a time, whatever a gzip/BGZF member inflates to);
- **no line is longer than** :data:`MAX_LINE_BYTES`: :class:`LineGuard` follows the text as it
  streams by and refuses the first longer line with one error naming the file and the line,
  long before the line is held in memory.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import CallsFileError, LesionTrackError
from .compression import GZIP_MAGIC

#: No line of a calls file or table may be longer than this (a longer one is a corrupt file, a
#: foreign file, or a decompression bomb; a VCF record with thousands of samples stays far below).
MAX_LINE_BYTES = 16 * 1024 * 1024
#: Text read (and inflated) at a time.
CHUNK_BYTES = 1 << 20


class LineTooLongError(CallsFileError):
    """A line of a calls file is longer than :data:`MAX_LINE_BYTES`: final, never retried by
    another engine (which would hold the line in memory)."""


def open_binary(path: Path):
    """The file as a binary stream of its text: plain, or gzip/BGZF (bzip2, xz: tables pandas
    wrote) inflated on demand (these modules inflate at most what each ``read(n)`` asks for)."""
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(6)
    if magic[:2] == GZIP_MAGIC:
        return gzip.open(path, "rb")
    if magic[:3] == b"BZh":
        import bz2

        return bz2.open(path, "rb")
    if magic == b"\xfd7zXZ\x00":
        import lzma

        return lzma.open(path, "rb")
    return path.open("rb")


def raw_chunks(path: Path, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The text of a plain or gzip/BGZF file, at most ``size`` bytes at a time."""
    with open_binary(path) as handle:
        while chunk := handle.read(size):
            yield chunk


class LineGuard:
    """Follows a stream of text chunks and raises ``error`` at the first line longer than
    ``limit`` bytes, naming the file and the line (LF, CRLF or CR end a line)."""

    def __init__(self, path: Path, *, limit: int = MAX_LINE_BYTES,
                 error: type[LesionTrackError] = LineTooLongError, what: str = "calls file",
                 first_line: int = 1) -> None:
        self.path = path
        self.limit = limit
        self.error = error
        self.what = what
        self.line = first_line  # number of the line being read
        self.run = 0  # its bytes so far
        self._after_cr = False

    def fail(self, line: int | str | None = None) -> LesionTrackError:
        """The error for the current (or the given) line."""
        return self.error(
            f"line longer than {self.limit:,} bytes", file=self.path,
            where=self.line if line is None else line,
            hint=f"is this a corrupt or foreign file, or not a {self.what}?",
        )

    def feed(self, chunk: bytes) -> None:
        """Account for the next chunk of text; raises the error on an over-long line."""
        if not chunk:
            return
        first = _first_break(chunk)
        if first < 0:
            self.run += len(chunk)
            self._after_cr = False
            if self.run > self.limit:
                raise self.fail()
            return
        if self.run + first > self.limit:
            raise self.fail()
        if len(chunk) > self.limit:  # lines inside the chunk may be long: look at each
            self._feed_lines(chunk)
            return
        breaks = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        if self._after_cr and chunk[0] == 10:
            breaks -= 1  # a CRLF split between two chunks
        self.line += breaks
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self.run = len(chunk) - last - 1
        self._after_cr = chunk[-1] == 13

    def _feed_lines(self, chunk: bytes) -> None:
        for piece in chunk.splitlines(keepends=True):
            ends = piece.endswith((b"\n", b"\r"))
            body = len(piece.rstrip(b"\r\n"))
            if self.run + body > self.limit:
                raise self.fail()
            if piece == b"\n" and self._after_cr:
                self._after_cr = False
                continue
            if ends:
                self.line += 1
                self.run = 0
                self._after_cr = piece.endswith(b"\r")
            else:
                self.run += body
                self._after_cr = False


def _first_break(chunk: bytes) -> int:
    lf, cr = chunk.find(b"\n"), chunk.find(b"\r")
    if lf < 0:
        return cr
    return lf if cr < 0 else min(lf, cr)


class GuardedReader:
    """A binary file-like object over a file's text (plain or gzip/BGZF) whose reads go through
    a :class:`LineGuard`: hand it to a parser (``pandas.read_csv``) that would otherwise hold an
    over-long line whole."""

    def __init__(self, path: Path, *, limit: int = MAX_LINE_BYTES,
                 error: type[LesionTrackError] = LineTooLongError,
                 what: str = "calls table") -> None:
        self._handle = open_binary(path)
        self._guard = LineGuard(path, limit=limit, error=error, what=what)
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > CHUNK_BYTES:
            size = CHUNK_BYTES  # never more than a chunk at a time: parsers read in a loop
        chunk = self._handle.read(size)
        self._guard.feed(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
            self.closed = True

    def __enter__(self) -> GuardedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TextPipe:
    """A VCF's text (plain, gzip or BGZF) pumped by a thread into a pipe pysam reads as a stream,
    through a :class:`LineGuard`: decompression is bounded (1 MiB at a time) and a line longer
    than :data:`MAX_LINE_BYTES` stops the stream with an error, before htslib would hold it
    whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: BaseException | None = None
        read_fd, write_fd = os.pipe()
        self.handle = os.fdopen(read_fd, "rb")
        self._thread = threading.Thread(target=self._pump, args=(write_fd,), daemon=True)
        self._thread.start()

    def _pump(self, write_fd: int) -> None:
        guard = LineGuard(self.path, what="VCF")
        try:
            with os.fdopen(write_fd, "wb") as sink, open_binary(self.path) as source:
                while chunk := source.read(1 << 20):
                    guard.feed(chunk)
                    sink.write(chunk)
        except BrokenPipeError:  # the reader stopped early: not an error of the file
            pass
        except Exception as exc:  # truncated or corrupt gzip, a line too long: for the reader
            self.error = exc

    def stop(self) -> BaseException | None:
        """Close the reading end, wait for the thread; the pump's error, if any."""
        self.handle.close()
        self._thread.join()
        return self.error


def bounded_lines(handle) -> Iterator:
    """The lines of a text or binary handle, each read at most :data:`MAX_LINE_BYTES` (+1)
    long; stops at a longer one (for loops that only look for where an error is)."""
    while line := handle.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:
            return
        yield line
