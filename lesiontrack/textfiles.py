"""Delimited text, read one way: the sample sheet, patient tables, MAF and TSV calls files and
the MesKit clinical table all come through here.

The rules every table shares, each written once:

- **encoding**: UTF-8 (a BOM is dropped), plain or gzip/BGZF; a byte that is not UTF-8 is
  refused naming its line (:func:`undecodable_line`, by
  :func:`lesiontrack.io.bounded.line_number`'s count);
- **delimiter**: sniffed from the header line by :func:`sniff_delimiter` (TAB, comma, semicolon);
- **line limits**: no line longer than a limit, no file larger than one, refused as soon as the
  bytes are seen (:mod:`lesiontrack.io.bounded`: :func:`~lesiontrack.io.bounded.read_capped`,
  :func:`~lesiontrack.io.bounded.read_table_lines`), so memory stays bounded whatever a file
  holds or inflates to;
- **bad lines**: errors name the file, the physical line (LF, CRLF or CR line ends) and the field.

Two shapes of table: :func:`read_table_columns` reads a small table strictly, once (a pipe works),
column by column (the sample sheet, the patient table); :func:`load_table` streams a large one
(MAF/TSV calls, MesKit clinical tables, maybe gzipped) into a frame of strings with the line
number of every row.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
import pandas as pd

from .errors import CallsFileError, LesionTrackError
from .io.bounded import line_number, open_binary, read_capped, read_table_lines
from .io.compression import COMPRESSION_ERRORS
from .io.xmlsafe import ILLEGAL_CHARACTERS, character_name

#: Identifier columns that must not start like a spreadsheet formula.
ID_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "sample_id", "vcf_sample")
#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection), refused at the
#: start of an identifier. ``-`` is not among them: see the README (*Errors and guarantees*).
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


# --------------------------------------------------------------------------------------------
# Which line is bad



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
        with open_binary(path) as handle:
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
    UTF-8, at most :data:`~lesiontrack.io.bounded.MAX_SHEET_BYTES` (pipes work: see
    :func:`~lesiontrack.io.bounded.read_capped`). Refused with
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
    try:
        line_numbers, raw_lines = read_table_lines(path)  # non-blank lines only
    except UnicodeDecodeError as exc:
        raise CallsFileError(
            f"not UTF-8 text ({exc.reason})", file=path, where=undecodable_line(path),
            hint="save the file as UTF-8 (plain or gzip)",
        ) from exc
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
