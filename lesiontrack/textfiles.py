"""Delimited text, read one way: the sample sheet, patient tables, MAF and TSV calls files and
the MesKit clinical table all come through here.

The rules every table shares, each written once:

- **encoding**: UTF-8 (a BOM is dropped), plain or gzip/BGZF (:func:`open_text`); a byte that is
  not UTF-8 is refused naming its line (:func:`line_number`, :func:`undecodable_line`);
- **delimiter**: sniffed from the header line by :func:`sniff_delimiter` (TAB, comma, semicolon);
- **line limits**: no line longer than a limit, no file larger than one, refused as soon as the
  bytes are seen, so memory stays bounded whatever a file holds or inflates to;
- **bad lines**: errors name the file, the physical line (LF, CRLF or CR line ends) and the field.

Two shapes of table: :func:`read_table_columns` reads a small table strictly, once (a pipe works),
column by column (the sample sheet, the patient table); :func:`load_table` streams a large one
(MAF/TSV calls, MesKit clinical tables, maybe gzipped) into a frame of strings with the line
number of every row.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
import pandas as pd

from .errors import CallsFileError, LesionTrackError
from .io.compression import COMPRESSION_ERRORS, is_gzip, open_text
from .io.xmlsafe import ILLEGAL_CHARACTERS, character_name

#: A sample sheet (or patient table) larger than this is refused: a regular file before it is
#: read, a pipe or device as soon as this many bytes have come (memory stays bounded).
MAX_SHEET_BYTES = 64 * 1024 * 1024
#: No sample-sheet (or patient-table) line is longer than this.
MAX_SHEET_LINE_BYTES = 1024 * 1024
#: Bytes read at a time (never more than :data:`MAX_SHEET_LINE_BYTES`: see :func:`read_capped`).
_BLOCK = 1024 * 1024

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

#: Identifier columns that must not start like a spreadsheet formula.
ID_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "sample_id", "vcf_sample")
#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection), refused at the
#: start of an identifier. ``-`` is not among them: see the README (*Errors and guarantees*).
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


# --------------------------------------------------------------------------------------------
# Which line is bad


def line_number(data: bytes | bytearray | str, end: int) -> int:
    """The line (1-based) holding offset ``end`` of ``data``: LF, CRLF and CR end lines."""
    lf, cr = ("\n", "\r") if isinstance(data, str) else (b"\n", b"\r")
    head = data[:end]
    return head.count(lf) + head.count(cr) - head.count(cr + lf) + 1


def _first_undecodable(blocks: Iterable[bytes]) -> int | None:
    """The line (1-based, as :func:`line_number` counts) of the first byte of the text given in
    ``blocks`` that is not UTF-8, or None when every byte is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    ended, after_cr = 0, False  # lines ended before the block; the last block ended in CR
    for block in blocks:
        held = decoder.getstate()[0]  # the start of a character cut by the block's start
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:  # exc.start: an offset into held + block
            data = held + block
            split_crlf = after_cr and exc.start > 0 and data[:1] == b"\n"
            return ended + line_number(data, exc.start) - split_crlf
        ended += line_number(block, len(block)) - 1 - (after_cr and block[:1] == b"\n")
        after_cr = block[-1:] == b"\r"
    return None


def undecodable_line(path: Path) -> int | None:
    """The line (1-based, as :func:`line_number` counts) of the first byte of a plain or gzip
    file's text that is not UTF-8; None when every byte is, or the file cannot be read."""
    def blocks() -> Iterable[bytes]:
        with (gzip.open(path, "rb") if is_gzip(path) else path.open("rb")) as handle:
            while block := handle.read(1 << 16):
                yield block

    try:
        return _first_undecodable(blocks())
    except (OSError, *COMPRESSION_ERRORS):
        return None


#: :func:`sniff_delimiter`'s answer for a table whose cells are separated by runs of white space.
WHITESPACE = r"\s+"


def sniff_delimiter(header: str, *, whitespace: bool = False) -> str:
    """The delimiter of a table, from its header line: TAB when the header holds one, else comma
    or semicolon (comma when both; a quoted cell holding the other one does not count), else
    ``","``; with ``whitespace``, :data:`WHITESPACE` (a header of several words) or TAB instead.
    """
    if "\t" in header:
        return "\t"
    try:
        return csv.Sniffer().sniff(header, delimiters=",;").delimiter
    except csv.Error:
        if not whitespace:
            return ","
        return WHITESPACE if len(header.split()) > 1 else "\t"


# --------------------------------------------------------------------------------------------
# Small tables read strictly, once: the sample sheet, the patient table


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
                block = handle.read(min(_BLOCK, MAX_SHEET_LINE_BYTES))
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


def _decode(path: Path, data: bytes | bytearray, error: type[LesionTrackError],
            what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # exc.start counts from after a BOM
        start = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        raise error(
            f"not UTF-8 text (byte 0x{data[start]:02x})", file=path,
            where=line_number(data, start), hint=f"save the {what} as UTF-8",
        ) from None


class Table(NamedTuple):
    """A small delimited table read by :func:`read_table_columns`, column by column."""

    header_line: int
    header: list[str]  # lower case, as in the file ("" for an unnamed column)
    columns: dict[str, list[str]]  # named columns only, values stripped
    lines: list[int]  # the line number of each row
    regular: bool  # a regular file (not a pipe or device)


def _first_illegal(text: str, lines: list[str]) -> tuple[int, str] | None:
    """(line number, character) of the first XML-illegal character outside comment lines."""
    position, number, counted = 0, 1, 0  # ``number``: the line of offset ``counted``
    while match := ILLEGAL_CHARACTERS.search(text, position):
        number += text.count("\n", counted, match.start())
        counted = match.start()
        line = lines[number - 1].lstrip()
        if line and not line.startswith("#"):
            return number, match.group()
        position = text.find("\n", match.start())  # the next line
        if position < 0:
            return None
    return None


def _split_line(path: Path, error: type[LesionTrackError], number: int, line: str,
           delimiter: str, header: list[str] | None) -> list[str]:
    """The fields of one line, not stripped; quoted cells through :mod:`csv` (one line at a
    time: a stray quote must not swallow the following lines, nor shift every line number);
    an identifier whose cell starts with a TAB or CR (only possible quoted, or in a CSV) is
    refused here, before stripping would hide it."""
    if '"' not in line and (delimiter == "\t" or "\t" not in line):
        return line.split(delimiter)
    try:
        fields = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise error(f"cannot read the line: {exc}", file=path, where=number) from None
    for name, value in zip(header or (), fields, strict=False):
        if name in ID_COLUMNS and value.startswith(("\t", "\r")):
            _formula(path, error, number, name, value)
    return fields


def _formula(path: Path, error: type[LesionTrackError], number: int, column: str,
             value: str) -> None:
    raise error(
        f"an identifier must not start with {value[:1]!r}: {value!r} would be a formula in a "
        "spreadsheet", file=path, where=number, field=column,
        hint="identifiers may not start with =, +, @, TAB or CR",
    )


def read_table_columns(path: str | os.PathLike[str], error: type[LesionTrackError],
                       what: str) -> Table:
    """Read a small delimited table strictly (sample sheet, patient table), once.

    TSV or CSV (sniffed from the header line), ``#`` comment lines, any newline convention,
    UTF-8, at most :data:`MAX_SHEET_BYTES` (pipes work: see :func:`read_capped`). Refused with
    ``error`` (a :class:`LesionTrackError` subclass) naming the file, line and field: a
    character of :data:`ILLEGAL_CHARACTERS` outside comment lines, a row with another number of
    fields than the header, a repeated column, an identifier (:data:`ID_COLUMNS`) starting with
    one of :data:`FORMULA_STARTS`.
    """
    path = Path(path)
    data, regular = read_capped(path, error, what)
    text = _decode(path, data, error, what)
    del data
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    illegal = _first_illegal(text, lines)
    del text
    header_index = next((i for i, line in enumerate(lines)
                         if (s := line.lstrip()) and not s.startswith("#")), None)
    if header_index is None:
        raise error(f"the {what} is empty", file=path, where=1)
    header_line = header_index + 1
    delimiter = sniff_delimiter(lines[header_index])
    header = [h.strip().lower() for h in _split_line(path, error, header_line, lines[header_index],
                                                 delimiter, None)]
    if illegal is not None:
        number, char = illegal
        field = None
        if number > header_line:
            fields = _split_line(path, error, number, lines[number - 1], delimiter, header)
            field = next((h for h, f in zip(header, fields, strict=False) if char in f), None)
        raise error(f"character {character_name(char)} is not allowed", file=path,
                    where=number, field=field or None,
                    hint="control characters and U+FFFE/U+FFFF cannot be written to the "
                         "XML/GraphML outputs: remove it")
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise error(f"column {duplicated[0]} appears twice", file=path, where=header_line,
                    field=duplicated[0])
    width = len(header)
    values: list[list[str]] = [[] for _ in header]
    # equal values share one string (a patient's id on a million rows is one object); a
    # column whose values are mostly distinct stops sharing (the dictionary would cost more)
    shared: list[dict[str, str] | None] = [{} for _ in header]
    numbers: list[int] = []
    for index in range(header_index + 1, len(lines)):
        line = lines[index]
        start = line.lstrip()
        if not start or start[0] == "#":
            continue
        fields = _split_line(path, error, index + 1, line, delimiter, header)
        if len(fields) != width:
            shown = "TAB" if delimiter == "\t" else repr(delimiter)
            raise error(f"{len(fields)} fields where the header has {width}", file=path,
                        where=index + 1, hint=f"is the delimiter {shown} used throughout?")
        numbers.append(index + 1)
        for column, cache, field in zip(values, shared, fields, strict=True):
            field = field.strip()
            column.append(field if cache is None else cache.setdefault(field, field))
        if len(numbers) % 65536 == 0:
            shared = [None if c is not None and len(c) > len(numbers) // 2 else c
                      for c in shared]
    del lines
    columns = {h: v for h, v in zip(header, values, strict=True) if h}
    for name in ID_COLUMNS:
        for row, value in enumerate(columns.get(name, ())):
            if value.startswith(FORMULA_STARTS):
                _formula(path, error, numbers[row], name, value)
    return Table(header_line, header, columns, numbers, regular)


def read_table_rows(
    path: Path, error: type[LesionTrackError], what: str
) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """:func:`read_table_columns` row by row: (header line number, lower-case header,
    [(line number, {column: value})])."""
    table = read_table_columns(path, error, what)
    names = list(table.columns)
    rows = [(number, dict(zip(names, values, strict=True)))
            for number, *values in zip(table.lines, *table.columns.values(), strict=True)]
    return table.header_line, table.header, rows


# --------------------------------------------------------------------------------------------
# Large tables, streamed: MAF/TSV calls files, MesKit clinical tables


def _read_lines(path: Path) -> tuple[list[int], list[str]]:
    """(1-based line numbers, text) of the file's non-blank lines (any newline convention),
    read in blocks: a line longer than :data:`MAX_TABLE_LINE_CHARS`, or more than
    :data:`MAX_TABLE_CHARS` of text, is refused as soon as it is seen, so memory stays bounded
    whatever the file inflates to (blank lines are counted, not kept)."""
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
                        raise _too_long(path, number + 1)
                    continue
                body, pending = text[:cut], text[cut + 1:]  # ``pending`` is in the block
                first = body.find("\n")
                if (first if first >= 0 else len(body)) > MAX_TABLE_LINE_CHARS:
                    raise _too_long(path, number + 1)  # later lines are inside the block
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
    except UnicodeDecodeError as exc:
        raise CallsFileError(
            f"not UTF-8 text ({exc.reason})", file=path, where=undecodable_line(path),
            hint="save the file as UTF-8 (plain or gzip)",
        ) from exc
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


def _too_long(path: Path, number: int) -> CallsFileError:
    return CallsFileError(
        f"line longer than {MAX_TABLE_LINE_CHARS:,} characters", file=path, where=number,
        hint="is the file corrupt, or not a MAF/TSV calls file?",
    )


def _split(line: str, delimiter: str) -> list[str]:
    return line.split() if delimiter == WHITESPACE else line.split(delimiter)


def _check_fields(path: Path, kind: str, header: str, delimiter: str, data_lines: list[str],
                  numbers: list[int]) -> None:
    """Every unquoted row has the header's number of fields; empty extra fields are trimmed."""
    if '"' in header and kind != "MAF":
        return
    expected = len(_split(header, delimiter))
    counter = (lambda line: len(line.split())) if delimiter == WHITESPACE else (
        lambda line: line.count(delimiter) + 1)
    for i, line in enumerate(data_lines):
        found = counter(line)
        if found == expected or ('"' in line and kind != "MAF"):
            continue
        fields = _split(line, delimiter)
        if found > expected and not any(f.strip() for f in fields[expected:]):
            data_lines[i] = (" " if delimiter == WHITESPACE else delimiter).join(fields[:expected])
            continue
        raise CallsFileError(
            f"malformed {kind} row: {found} fields where the header has {expected}",
            file=path, where=numbers[i],
            hint="every row needs as many fields as the header (a truncated or hand-edited file?)",
        )


@dataclass
class DelimitedTable:
    """A delimited file read as strings by :func:`load_table`, with the physical line number of
    every data row.

    Cells are kept as numpy object arrays of ``str`` (whatever string backend pandas uses), so
    that the per-row work of a reader is plain Python on lists and fast for tens of thousands of
    rows.
    """

    path: Path
    frame: pd.DataFrame  # the table as read, columns named as written (stripped)
    lines: np.ndarray  # 1-based physical line number of each row
    header_line: int  # 1-based physical line number of the header
    comments: list[str]  # comment lines above the header
    decimal_comma: bool = False  # a ';'-separated file may write 0,25 for 0.25
    by_lower: dict[str, str] = field(default_factory=dict)  # lower-cased name -> column name
    _cells: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.names:
            self.by_lower.setdefault(name.lower(), name)

    @property
    def names(self) -> list[str]:
        """The column names as written (stripped)."""
        return [str(name) for name in self.frame.columns]

    @property
    def n_rows(self) -> int:
        """The number of data rows."""
        return len(self.lines)

    def column(self, name: str | None) -> str | None:
        """The column called ``name`` (case-insensitive), else None."""
        return self.by_lower.get(name.lower()) if name else None

    def first_column(self, names: Sequence[str]) -> str | None:
        """The first of ``names`` the table has (case-insensitive), else None."""
        return next((c for c in map(self.column, names) if c is not None), None)

    def cells(self, column: str) -> np.ndarray:
        """The cells of ``column`` as written, an object array of ``str`` ("" when empty)."""
        found = self._cells.get(column)
        if found is None:
            found = self.frame[column].to_numpy(dtype=object, na_value="")
            self._cells[column] = found
        return found

    def raw(self, column: str, row: int) -> str:
        """The cell of ``column`` in data row ``row``, as written."""
        return str(self.cells(column)[row])

    def line(self, row: int) -> int:
        """The physical line number of data row ``row``."""
        return int(self.lines[row])


T = TypeVar("T", bound=DelimitedTable)


def load_table(
    path: Path,
    *,
    kind: str,
    header_in_comment: Callable[[str], bool] | None = None,
    into: type[T] = DelimitedTable,
) -> T:
    """Read ``path`` as a delimited table of strings (a ``into``, by default a
    :class:`DelimitedTable`), keeping each row's physical line number; errors name the file as a
    ``kind`` (``MAF``, ``TSV``) and raise :class:`CallsFileError`.

    Lines starting with ``#`` above the header are comments (``#version 2.4``, ``##...``), and so
    are ``#`` lines and blank lines among the data. ``header_in_comment(line)`` may claim the last
    comment line above the data as the header (a TSV written ``#chrom<TAB>pos...``). A MAF is
    tab-separated and unquoted; a TSV's delimiter is sniffed from its header and cells may be
    quoted.
    """
    line_numbers, raw_lines = _read_lines(path)  # non-blank lines only
    header_index = next(
        (i for i, line in enumerate(raw_lines) if not line.startswith("#")), None
    )
    if header_index is None:
        raise CallsFileError(
            f"no {kind} header line (the file is empty or holds only comments)", file=path
        )
    data_start = header_index + 1
    if header_in_comment is not None and not header_in_comment(raw_lines[header_index]):
        last_comment = header_index - 1
        if last_comment >= 0 and header_in_comment(raw_lines[last_comment].lstrip("#")):
            header_index, data_start = last_comment, last_comment + 1
    comments = [line for line in raw_lines[:header_index] if line.startswith("#")]
    header = raw_lines[header_index].lstrip("#")  # "#chrom" when claimed from a comment
    data_lines: list[str] = []
    numbers: list[int] = []
    for number, line in zip(line_numbers[data_start:], raw_lines[data_start:], strict=True):
        if not line.startswith("#"):
            data_lines.append(line)
            numbers.append(number)
    header_line = line_numbers[header_index]
    del raw_lines, line_numbers
    delimiter = "\t" if kind == "MAF" else sniff_delimiter(header, whitespace=True)
    _check_fields(path, kind, header, delimiter, data_lines, numbers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO("\n".join([header, *data_lines])),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                index_col=False,
                quoting=csv.QUOTE_NONE if kind == "MAF" else csv.QUOTE_MINIMAL,
                skip_blank_lines=False,
                engine="c",
            )
    except pd.errors.ParserError as exc:
        message = str(exc)
        where: int | None = None
        found = re.search(r"line (\d+)", message)
        if found and 2 <= int(found.group(1)) <= len(numbers) + 1:
            where = numbers[int(found.group(1)) - 2]
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", message)
        detail = re.sub(r" in line \d+", "", detail)
        raise CallsFileError(
            f"malformed {kind} row: {detail}", file=path, where=where,
            hint="every row needs as many fields as the header",
        ) from exc
    except pd.errors.ParserWarning as exc:
        raise CallsFileError(
            f"malformed {kind} table: a row has more fields than the header", file=path,
            hint="check the quoting of cells that hold the delimiter",
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise CallsFileError(f"cannot parse the {kind} table: {exc}", file=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == len(numbers):
        lines = np.asarray(numbers, dtype=np.int64)
    else:  # quoted newlines inside cells: fall back to an approximate numbering
        lines = np.arange(len(frame), dtype=np.int64) + header_line + 1
    return into(path=path, frame=frame, lines=lines, header_line=header_line,
                comments=comments, decimal_comma=delimiter == ";")
