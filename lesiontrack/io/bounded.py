"""Bounded reading of text inputs: memory never follows what a compressed file inflates to.

Two rules hold for every text input of lesiontrack (calls files, ``--calls`` tables, sheets):

- **decompression is streamed** with a cap on pending output (:func:`raw_chunks` hands out at
  most ``size`` bytes of text at a time, whatever a gzip/BGZF member inflates to);
- **no line is longer than** :data:`MAX_LINE_BYTES`: :class:`LineGuard` follows the text as it
  streams by and refuses the first longer line with one error naming the file and the line,
  long before the line is held in memory.

Tables read whole have their own caps, refused as soon as the bytes are seen: a sample sheet or
patient table is read once (:func:`read_capped`: :data:`MAX_SHEET_BYTES`, lines of at most
:data:`MAX_SHEET_LINE_BYTES`), a MAF/TSV line by line (:func:`read_table_lines`:
:data:`MAX_TABLE_CHARS` held, lines of at most :data:`MAX_TABLE_LINE_CHARS`). Lines are numbered
by one rule, :func:`line_number` (LF, CRLF and CR end a line).
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import CallsFileError, LesionTrackError
from .compression import COMPRESSION_ERRORS, GZIP_MAGIC, open_text

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


# ----------------------------------------------------------------------------------------------
# Tables read whole: a sample sheet or patient table (bytes, once), a MAF/TSV (its lines)

#: A sample sheet (or patient table) larger than this is refused: a regular file before it is
#: read, a pipe or device as soon as this many bytes have come (memory stays bounded).
MAX_SHEET_BYTES = 64 * 1024 * 1024
#: No sample-sheet (or patient-table) line is longer than this.
MAX_SHEET_LINE_BYTES = 1024 * 1024
#: Bytes read at a time (never more than :data:`MAX_SHEET_LINE_BYTES`: see :func:`read_capped`).
_SHEET_BLOCK = 1024 * 1024

#: No line of a MAF/TSV is longer than this (a longer one is a corrupt or foreign file).
MAX_TABLE_LINE_CHARS = 16 * 1024 * 1024
#: A MAF/TSV calls file is held in memory to be read: at most this much (its non-blank lines,
#: each counted with :data:`LINE_OVERHEAD`; blank lines are only counted), so a compressed file
#: cannot inflate without bound.
MAX_TABLE_CHARS = 256 * 1024 * 1024
#: What holding one more line costs beyond its characters (the str object, its line number).
LINE_OVERHEAD = 96
#: A line holding something other than white space (``str.strip`` would leave something).
_NON_BLANK_LINE = re.compile(r"[^\n]*\S[^\n]*")


def line_number(data: bytes | bytearray | str, end: int) -> int:
    """The line (1-based) holding offset ``end`` of ``data``: LF, CRLF and CR end lines."""
    lf, cr = ("\n", "\r") if isinstance(data, str) else (b"\n", b"\r")
    head = data[:end]
    return head.count(lf) + head.count(cr) - head.count(cr + lf) + 1


def read_capped(path: Path, error: type[LesionTrackError], what: str) -> tuple[bytearray, bool]:
    """(the bytes of ``path``, whether it is a regular file), read ONCE, so that a pipe
    (``<(cat sheet.tsv)``, ``/dev/stdin``) works.

    Memory stays bounded whatever the file holds: a regular file over :data:`MAX_SHEET_BYTES`
    is refused before it is read, a pipe or device as soon as more bytes have come (an endless
    stream); a NUL byte (binary content) and a line over :data:`MAX_SHEET_LINE_BYTES` bytes are
    refused in the block that holds them. Raises ``error`` naming the file and line.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", file=path) from exc
    with handle:
        try:
            regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
            size = os.fstat(handle.fileno()).st_size if regular else 0
        except OSError as exc:
            raise error(f"cannot read the {what}: {exc.strerror}", file=path) from exc
        if size > MAX_SHEET_BYTES:
            raise error(
                f"{size:,} bytes is too large for a {what} (limit {MAX_SHEET_BYTES:,})",
                file=path, where=1, hint=f"is this a calls file given in place of the {what}?",
            )
        data = bytearray()
        run = 0  # bytes of the line the data read so far ends in
        while True:
            try:
                # a block never holds a whole line longer than the limit: only a line running
                # across blocks can be, and ``run`` follows it
                block = handle.read(min(_SHEET_BLOCK, MAX_SHEET_LINE_BYTES))
            except OSError as exc:
                raise error(f"cannot read the {what}: {exc.strerror}", file=path) from exc
            if not block:
                return data, regular
            if len(data) + len(block) > MAX_SHEET_BYTES:
                raise error(
                    f"more than {MAX_SHEET_BYTES:,} bytes: too large for a {what}", file=path,
                    hint=f"is this an endless stream, or a calls file given in place of the "
                         f"{what}?",
                )
            if b"\x00" in block:
                at = len(data) + block.index(b"\x00")
                data += block
                raise error("not a text file (binary content)", file=path,
                            where=line_number(data, at))
            last = max(block.rfind(b"\n"), block.rfind(b"\r"))
            if last < 0:
                run += len(block)
            else:
                first = min(p for p in (block.find(b"\n"), block.find(b"\r")) if p >= 0)
                if run + first > MAX_SHEET_LINE_BYTES:
                    _line_too_long(path, error, what, data, len(data) - run)
                run = len(block) - last - 1
            data += block
            if run > MAX_SHEET_LINE_BYTES:
                _line_too_long(path, error, what, data, len(data) - run)


def _line_too_long(path: Path, error: type[LesionTrackError], what: str, data: bytearray,
              start: int) -> None:
    raise error(f"line longer than {MAX_SHEET_LINE_BYTES:,} bytes: not a {what}", file=path,
                where=line_number(data, start),
                hint=f"is this a calls file or a binary file given in place of the {what}?")



def read_table_lines(path: Path) -> tuple[list[int], list[str]]:
    """(1-based line numbers, text) of a MAF/TSV's non-blank lines (any newline convention),
    read in blocks: a line longer than :data:`MAX_TABLE_LINE_CHARS`, or more than
    :data:`MAX_TABLE_CHARS` of text, is refused as soon as it is seen, so memory stays bounded
    whatever the file inflates to (blank lines are counted, not kept). Raises
    :class:`CallsFileError`; a byte that is not UTF-8 raises :class:`UnicodeDecodeError`."""
    numbers: list[int] = []
    lines: list[str] = []
    pending = ""
    number = 0  # lines completed so far
    held = 0
    try:
        with open_text(path) as handle:
            while block := handle.read(1 << 20):
                text = pending + block
                cut = text.rfind("\n")
                if cut < 0:
                    pending = text
                    if len(pending) > MAX_TABLE_LINE_CHARS:
                        raise _table_line_too_long(path, number + 1)
                    continue
                body, pending = text[:cut], text[cut + 1:]  # ``pending`` is in the block
                first = body.find("\n")
                if (first if first >= 0 else len(body)) > MAX_TABLE_LINE_CHARS:
                    raise _table_line_too_long(path, number + 1)  # later lines are inside the block
                base, index, at = number, 0, 0
                for found in _NON_BLANK_LINE.finditer(body):  # blank lines: counted only
                    index += body.count("\n", at, found.start())
                    at = found.start()
                    line = found.group()
                    numbers.append(base + index + 1)
                    lines.append(line)
                    held += len(line) + LINE_OVERHEAD
                number = base + body.count("\n") + 1
                if held > MAX_TABLE_CHARS:
                    raise CallsFileError(
                        f"more than {MAX_TABLE_CHARS >> 20:,} MiB of rows to hold: too large "
                        "for a MAF/TSV calls file", file=path, where=number,
                        hint="split it, e.g. per sample, or give a bgzipped, indexed VCF",
                    )
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(f"the compressed file is truncated or corrupt ({exc})", file=path,
                             hint="copy the file again") from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc
    if pending.strip():
        numbers.append(number + 1)
        lines.append(pending)
    if numbers and numbers[0] == 1:
        lines[0] = lines[0].removeprefix("\ufeff")
        if not lines[0].strip():
            del numbers[0], lines[0]
    return numbers, lines


def _table_line_too_long(path: Path, number: int) -> CallsFileError:
    return CallsFileError(
        f"line longer than {MAX_TABLE_LINE_CHARS:,} characters", file=path, where=number,
        hint="is the file corrupt, or not a MAF/TSV calls file?",
    )

