"""Read and validate the sample sheet: which sample belongs to which lesion, and its status.

The sample sheet is TSV or CSV (sniffed from the header line), with ``#`` comment lines, and any of
LF, CRLF or CR-only line endings. One row per (sample, calls file): a sample may have several rows
(Strelka2 writes SNVs and indels to separate files) and a lesion several samples (regions).
"""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import LesionTrackError, SampleSheetError
from .genome import normalize_assembly
from .io.xmlsafe import ILLEGAL_CHARACTERS, character_name

#: A sample sheet (or patient table) larger than this is refused: a regular file before it is
#: read, a pipe or device as soon as this many bytes have come (memory stays bounded).
MAX_SHEET_BYTES = 64 * 1024 * 1024
#: No sample-sheet line is longer than this.
MAX_LINE_CHARS = 1024 * 1024
#: Bytes read at a time (never more than :data:`MAX_LINE_CHARS`: see :func:`read_capped`).
_BLOCK = 1024 * 1024

#: Identifier columns that must not start like a spreadsheet formula.
ID_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "sample_id", "vcf_sample")
#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection), refused at the
#: start of an identifier. ``-`` is not among them: see the README (*Errors and guarantees*).
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")

REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "sample_id", "status", "calls")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "role", "site", "timepoint", "vcf_sample", "bam", "assembly",
    "cnv",  # copy-number segment file (lesiontrack.io.cnv), relative to the sheet like calls
    "purity",
    "date",  # ISO 8601 date of the sample (YYYY-MM-DD): orders a patient's samples in time
)
#: ``normal`` is a matched normal (germline reference): it belongs to the patient, never a lesion.
ROLES: tuple[str, ...] = ("baseline", "lesion", "plasma", "normal")

#: Accepted status words (case-insensitive) and the status they mean.
STATUS_WORDS: dict[str, str] = {
    "progressive": "progressive", "pd": "progressive", "progression": "progressive",
    "progressing": "progressive", "progressive disease": "progressive",
    "stable": "controlled", "sd": "controlled", "stable disease": "controlled",
    "responding": "controlled", "response": "controlled", "pr": "controlled",
    "partial response": "controlled", "complete": "controlled", "cr": "controlled",
    "complete response": "controlled", "controlled": "controlled",
    "baseline": "baseline",
    "unknown": "unknown", "ne": "unknown", "not evaluable": "unknown",
}

#: Columns of the frame returned by :func:`read_samplesheet`, in order.
SAMPLESHEET_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "role", "status", "status_raw", "site", "timepoint",
    "vcf_sample", "calls", "calls_path", "bam", "bam_path", "assembly", "line",
    "cnv", "cnv_path", "purity", "date",
]


def _line_number(data: bytes | bytearray | str, end: int) -> int:
    """The line (1-based) holding offset ``end`` of ``data``: LF, CRLF and CR end lines."""
    lf, cr = ("\n", "\r") if isinstance(data, str) else (b"\n", b"\r")
    head = data[:end]
    return head.count(lf) + head.count(cr) - head.count(cr + lf) + 1


def _decode(path: Path, data: bytes | bytearray) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleSheetError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=path,
            where=_line_number(data, exc.start), hint="save the sample sheet as UTF-8",
        ) from exc


def read_capped(path: Path, error: type[LesionTrackError], what: str) -> tuple[bytearray, bool]:
    """(the bytes of ``path``, whether it is a regular file), read ONCE, so that a pipe
    (``<(cat sheet.tsv)``, ``/dev/stdin``) works.

    Memory stays bounded whatever the file holds: a regular file over :data:`MAX_SHEET_BYTES`
    is refused before it is read, a pipe or device as soon as more bytes have come (an endless
    stream); a NUL byte (binary content) and a line over :data:`MAX_LINE_CHARS` bytes are
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
                block = handle.read(min(_BLOCK, MAX_LINE_CHARS))
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
                            where=_line_number(data, at))
            last = max(block.rfind(b"\n"), block.rfind(b"\r"))
            if last < 0:
                run += len(block)
            else:
                first = min(p for p in (block.find(b"\n"), block.find(b"\r")) if p >= 0)
                if run + first > MAX_LINE_CHARS:
                    _too_long(path, error, what, data, len(data) - run)
                run = len(block) - last - 1
            data += block
            if run > MAX_LINE_CHARS:
                _too_long(path, error, what, data, len(data) - run)


def _too_long(path: Path, error: type[LesionTrackError], what: str, data: bytearray,
              start: int) -> None:
    raise error(f"line longer than {MAX_LINE_CHARS:,} bytes: not a {what}", file=path,
                where=_line_number(data, start),
                hint=f"is this a calls file or a binary file given in place of the {what}?")


def _delimiter(header: str) -> str:
    if "\t" in header:
        return "\t"
    try:
        return csv.Sniffer().sniff(header, delimiters=",;").delimiter
    except csv.Error:
        return ","


def normalize_status(raw: str) -> str | None:
    """The status a word means (``progressive``, ``controlled``, ``baseline``, ``unknown``)."""
    return STATUS_WORDS.get(" ".join(str(raw).strip().lower().replace("_", " ").split()))


def _accepted_words() -> str:
    return ", ".join(sorted(STATUS_WORDS))


def _is_file(sheet: Path, number: int, column: str, path: Path) -> bool:
    """Whether ``path`` is a file; a path the system cannot even look up is an error."""
    try:
        return path.is_file()
    except (OSError, ValueError) as exc:  # e.g. ENAMETOOLONG, which is_file() does not swallow
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SampleSheetError(f"cannot look up the file: {reason}", file=sheet, where=number,
                               field=column) from exc


def _resolve(folder: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else folder / path


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


def _split(path: Path, error: type[LesionTrackError], number: int, line: str,
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
    try:
        text = _decode(path, data)
    except SampleSheetError as exc:
        raise error(exc.message, file=path, where=exc.where, hint=f"save the {what} as UTF-8",
                    ) from None
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
    delimiter = _delimiter(lines[header_index])
    header = [h.strip().lower() for h in _split(path, error, header_line, lines[header_index],
                                                 delimiter, None)]
    if illegal is not None:
        number, char = illegal
        field = None
        if number > header_line:
            fields = _split(path, error, number, lines[number - 1], delimiter, header)
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
        fields = _split(path, error, index + 1, line, delimiter, header)
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


def sheet_folder(path: str | os.PathLike[str], regular: bool | None = None) -> Path:
    """The folder a sheet's relative paths are resolved against and shown relative to: the
    sheet's own folder, or the current directory when the sheet is not a regular file (a pipe
    such as ``<(cat sheet.tsv)``, ``/dev/stdin``)."""
    path = Path(path)
    if regular is None:
        try:
            regular = path.is_file()
        except (OSError, ValueError):
            regular = False
    return path.resolve().parent if regular else Path.cwd()


def relative_to_sheet(path: str, sheet: str | os.PathLike[str], base: str | None = None) -> str:
    """``path`` shown relative to the sample sheet's folder (:func:`sheet_folder`; ``base``,
    when already known); as it is when on another drive."""
    try:
        return os.path.relpath(path, base if base is not None else str(sheet_folder(sheet)))
    except ValueError:  # another drive
        return path


def read_samplesheet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a sample sheet; one row per (sample, calls file).

    Returns :data:`SAMPLESHEET_COLUMNS`: ``status`` is normalised (``progressive``,
    ``controlled``, ``baseline``, ``unknown``) with the raw word kept in ``status_raw``;
    ``calls_path``/``bam_path`` are absolute paths (relative ones resolved against the sheet's
    folder, or the current directory when the sheet is a pipe); ``line`` is the row's line
    number in the file. The file is read once (a pipe works).
    Raises :class:`SampleSheetError` naming the line and field of the first problem.
    """
    path = Path(path)
    table = read_table_columns(path, SampleSheetError, "sample sheet")
    header = table.header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SampleSheetError(
            f"missing required column(s) {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint=f"found: {', '.join(h for h in header if h) or 'nothing'}",
        )
    if not table.lines:
        raise SampleSheetError("the sample sheet has a header but no samples", file=path,
                               where=table.header_line)
    frame = _validate(path, sheet_folder(path, table.regular), table)
    _check_consistency(path, frame)
    return frame


def _validate(path: Path, folder: Path, table: Table) -> pd.DataFrame:
    """The sheet's frame, every row checked at once: each check runs on the distinct values of
    its columns; the first row any check refuses is handed to :func:`_validate_row`, which
    raises the error naming it (the same error a row-by-row reading gives)."""
    n = len(table.lines)
    empty = [""] * n
    column = {c: table.columns.get(c, empty) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    bad = np.zeros(n, dtype=bool)
    for name in REQUIRED_COLUMNS:
        bad |= np.fromiter((not v for v in column[name]), dtype=bool, count=n)
    kinds = {pair: _role_status(*pair) for pair in set(zip(column["role"], column["status"],
                                                            strict=True))}
    calls = {v: _checked_path(folder, v) for v in set(column["calls"])}
    bams = {v: _checked_path(folder, v) if v else "" for v in set(column["bam"])}
    assemblies = {v: normalize_assembly(v) or None if v else "" for v in set(column["assembly"])}
    cnvs = {v: _checked_path(folder, v) if v else "" for v in set(column["cnv"])}
    purities = {v: _purity_or_bad(v) for v in set(column["purity"])}
    dates = {v: _date_or_bad(v) for v in set(column["date"])}
    role_status = [kinds[pair] for pair in zip(column["role"], column["status"], strict=True)]
    calls_path = [calls[v] for v in column["calls"]]
    bam_path = [bams[v] for v in column["bam"]]
    cnv_path = [cnvs[v] for v in column["cnv"]]
    purity = [purities[v] for v in column["purity"]]
    assembly = [assemblies[v] for v in column["assembly"]]
    for values in (role_status, calls_path, bam_path, cnv_path, assembly):
        bad |= np.fromiter((v is None for v in values), dtype=bool, count=n)
    bad |= np.fromiter((v is _BAD for v in purity), dtype=bool, count=n)
    date = [dates[v] for v in column["date"]]
    bad |= np.fromiter((v is _BAD for v in date), dtype=bool, count=n)
    if bad.any():
        row = int(np.argmax(bad))
        _validate_row(path, folder, table.lines[row], {c: v[row] for c, v in column.items()})
        raise AssertionError(f"line {table.lines[row]} was refused but passes")  # pragma: no cover
    return pd.DataFrame({
        "patient_id": column["patient_id"], "lesion_id": column["lesion_id"],
        "sample_id": column["sample_id"], "role": [k[0] for k in role_status],
        "status": [k[1] for k in role_status], "status_raw": column["status"],
        "site": column["site"], "timepoint": column["timepoint"],
        "vcf_sample": column["vcf_sample"], "calls": column["calls"], "calls_path": calls_path,
        "bam": column["bam"], "bam_path": bam_path, "assembly": assembly,
        "line": np.array(table.lines, dtype=np.int64), "cnv": column["cnv"],
        "cnv_path": cnv_path,
        "purity": np.array([np.nan if v is None else v for v in purity], dtype=float),
        "date": date,
    }, columns=SAMPLESHEET_COLUMNS)


def _role_status(role_raw: str, status_raw: str) -> tuple[str, str] | None:
    """(role, status) of a row, or None when :func:`_validate_row` refuses the pair."""
    status = normalize_status(status_raw)
    role = role_raw.lower() or ("baseline" if status == "baseline" else "lesion")
    if status is None or role not in ROLES:
        return None
    if role == "normal":
        return (role, "unknown") if status in ("baseline", "unknown") else None
    if role == "baseline":
        return (role, "baseline") if status in ("baseline", "unknown") else None
    return None if status == "baseline" else (role, status)


def _checked_path(folder: Path, value: str) -> str | None:
    """The absolute path of an existing file, or None."""
    resolved = _resolve(folder, value)
    try:
        return str(resolved) if resolved.is_file() else None
    except (OSError, ValueError):
        return None


def _validate_row(path: Path, folder: Path, number: int, row: dict[str, str]) -> dict:
    """One row checked and completed; raises :class:`SampleSheetError` naming its problem."""
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            raise SampleSheetError("empty value", file=path, where=number, field=column)
    status_raw = row["status"]
    status = normalize_status(status_raw)
    if status is None:
        raise SampleSheetError(
            f"unknown status {status_raw!r}", file=path, where=number, field="status",
            hint=f"accepted (any case): {_accepted_words()}",
        )
    role = (row.get("role") or "").lower()
    if not role:
        role = "baseline" if status == "baseline" else "lesion"
    if role not in ROLES:
        raise SampleSheetError(f"unknown role {row.get('role')!r}", file=path, where=number,
                               field="role", hint=f"accepted: {', '.join(ROLES)}")
    if role == "normal":
        if status not in ("baseline", "unknown"):
            raise SampleSheetError(
                f"a matched normal sample cannot have status {status_raw!r}", file=path,
                where=number, field="status", hint="write status 'unknown' for a normal sample",
            )
        status = "unknown"
    elif role == "baseline":
        if status not in ("baseline", "unknown"):
            raise SampleSheetError(
                f"a baseline (pre-treatment) sample cannot have status {status_raw!r}",
                file=path, where=number, field="status", hint="write status 'baseline'",
            )
        status = "baseline"
    elif status == "baseline":
        raise SampleSheetError(
            f"status 'baseline' on a sample whose role is {role!r}", file=path, where=number,
            field="role", hint="pre-treatment samples need role 'baseline'",
        )
    purity = _purity(path, number, row.get("purity", ""))
    date = _date(path, number, row.get("date", ""))
    calls_path = _resolve(folder, row["calls"])
    if not _is_file(path, number, "calls", calls_path):
        raise SampleSheetError(f"calls file not found: {row['calls']}", file=path, where=number,
                               field="calls", hint="paths are relative to the sample sheet")
    bam = row.get("bam", "")
    bam_path = ""
    if bam:
        resolved = _resolve(folder, bam)
        if not _is_file(path, number, "bam", resolved):
            raise SampleSheetError(f"BAM/CRAM file not found: {bam}", file=path, where=number,
                                   field="bam")
        bam_path = str(resolved)
    cnv = row.get("cnv", "")
    cnv_path = str(_resolve(folder, cnv)) if cnv else ""
    if cnv and not _is_file(path, number, "cnv", Path(cnv_path)):
        raise SampleSheetError(f"copy-number file not found: {cnv}", file=path, where=number,
                               field="cnv", hint="paths are relative to the sample sheet")
    assembly_raw = row.get("assembly", "")
    assembly = normalize_assembly(assembly_raw) if assembly_raw else None
    if assembly_raw and assembly is None:
        raise SampleSheetError(f"unknown assembly {assembly_raw!r}", file=path, where=number,
                               field="assembly", hint="use GRCh37 or GRCh38")
    return {
        "patient_id": row["patient_id"], "lesion_id": row["lesion_id"],
        "sample_id": row["sample_id"], "role": role, "status": status,
        "status_raw": status_raw, "site": row.get("site", ""),
        "timepoint": row.get("timepoint", ""), "vcf_sample": row.get("vcf_sample", ""),
        "calls": row["calls"], "calls_path": str(calls_path), "bam": bam, "bam_path": bam_path,
        "assembly": assembly or "", "line": number, "cnv": cnv, "cnv_path": cnv_path,
        "purity": purity, "date": date,
    }


def parse_iso_date(text: str):
    """A ``YYYY-MM-DD`` date (ISO 8601 calendar date) as :class:`datetime.date`; raises
    ValueError for anything else."""
    import datetime as dt
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _date(path: Path, number: int, text: str) -> str:
    """The optional ``date`` cell, validated; empty for undated."""
    if not text:
        return ""
    try:
        return parse_iso_date(text).isoformat()
    except ValueError:
        raise SampleSheetError(f"not a date: {text!r}", file=path, where=number, field="date",
                               hint="write ISO 8601 dates, YYYY-MM-DD (e.g. 2021-03-15), or "
                                    "leave it empty") from None


#: A cell :func:`_validate` refuses (handed to :func:`_validate_row` for the error).
_BAD = object()


def _purity_value(text: str) -> float | None:
    """A ``purity`` cell as a tumour fraction in (0, 1], None when empty; ValueError else."""
    if not text or text.upper() in ("NA", "."):
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:  # NaN fails too
        raise ValueError(text)
    return value


def _date_or_bad(text: str) -> str | object:
    """A ``date`` cell as an ISO date string ("" when empty), or :data:`_BAD`."""
    if not text:
        return ""
    try:
        return parse_iso_date(text).isoformat()
    except ValueError:
        return _BAD


def _purity_or_bad(text: str) -> float | object | None:
    try:
        return _purity_value(text)
    except ValueError:
        return _BAD


def _purity(path: Path, number: int, text: str) -> float | None:
    """The optional ``purity`` cell: a tumour fraction in (0, 1], empty for unknown."""
    try:
        return _purity_value(text)
    except ValueError:
        raise SampleSheetError(f"purity {text!r} is not a tumour fraction", file=path,
                               where=number, field="purity",
                               hint="write a fraction between 0 and 1 (e.g. 0.6), or leave it "
                                    "empty") from None


def _check_consistency(path: Path, frame: pd.DataFrame) -> None:
    """One status per lesion and date, one role, lesion and date per sample, no repeated rows;
    a lesion with a dated sample has no undated one."""
    repeated = frame.duplicated(["patient_id", "sample_id", "calls_path"], keep="first")
    if repeated.any():
        row = frame[repeated].iloc[0]
        raise SampleSheetError(
            f"sample {row.sample_id!r} of patient {row.patient_id!r} is listed twice with the "
            f"same calls file", file=path, where=int(row.line), field="sample_id",
        )
    checks = [
        (["patient_id", "sample_id"], "lesion_id", "sample {sample_id!r} is in two lesions"),
        (["sample_id"], "patient_id", "sample {sample_id!r} belongs to two patients"),
        (["patient_id", "sample_id"], "role", "sample {sample_id!r} has two roles"),
        (["patient_id", "lesion_id", "date"], "status",
         "lesion {lesion_id!r} of patient {patient_id!r} has two statuses"
         + " at one date"),
        (["patient_id", "sample_id"], "date", "sample {sample_id!r} has two dates"),
    ]
    for keys, column, message in checks:
        counts = frame.groupby(keys, sort=False)[column].transform("nunique")
        if (counts > 1).any():
            bad = frame[counts > 1]
            first = bad.iloc[0]
            later = bad[bad[column] != first[column]].iloc[0]
            raise SampleSheetError(
                message.format(**first.to_dict())
                + f" ({first[column]!r} on line {first.line}, {later[column]!r})",
                file=path, where=int(later.line), field=column,
            )
    _check_dated_lesions(path, frame)


def _check_dated_lesions(path: Path, frame: pd.DataFrame) -> None:
    """Undated samples of a lesion that has dated ones cannot be placed in time: an error."""
    lesions = frame[frame["role"] == "lesion"]
    dated = lesions["date"] != ""
    mixed = dated.groupby([lesions["patient_id"], lesions["lesion_id"]]).transform("nunique") > 1
    if mixed.any():
        bad = lesions[mixed & ~dated].iloc[0]
        other = lesions[mixed & dated].iloc[0]
        raise SampleSheetError(
            f"sample {bad.sample_id!r} of lesion {bad.lesion_id!r} has no date while sample "
            f"{other.sample_id!r} of that lesion is dated {other.date}", file=path,
            where=int(bad.line), field="date",
            hint="date every sample of a lesion sampled at several dates, or none",
        )
