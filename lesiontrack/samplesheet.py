"""Read and validate the sample sheet: which sample belongs to which lesion, and its status.

The sample sheet is TSV or CSV (sniffed from the header line), with ``#`` comment lines, and any of
LF, CRLF or CR-only line endings. One row per (sample, calls file): a sample may have several rows
(Strelka2 writes SNVs and indels to separate files) and a lesion several samples (regions).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pandas as pd

from .errors import LesionTrackError, SampleSheetError
from .genome import normalize_assembly

#: A sample sheet larger than this is refused before it is read (memory stays bounded).
MAX_SHEET_BYTES = 64 * 1024 * 1024
#: No sample-sheet line is longer than this.
MAX_LINE_CHARS = 1024 * 1024
_NEWLINES = re.compile(rb"(\r\n|\r|\n)")

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


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + data[: exc.start].count(b"\r") - data[
            : exc.start
        ].count(b"\r\n") + 1
        raise SampleSheetError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=path, where=line,
            hint="save the sample sheet as UTF-8",
        ) from exc


def _check_line_lengths(path: Path, error: type[LesionTrackError], what: str) -> None:
    """Raise ``error`` for a line longer than :data:`MAX_LINE_CHARS` bytes, reading the file in
    blocks so that memory stays bounded whatever the file holds. LF, CRLF and CR end lines."""
    number, length, after_cr = 1, 0, False
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            for piece in _NEWLINES.split(block):
                if piece in (b"\r\n", b"\r", b"\n"):
                    if not (piece == b"\n" and after_cr):  # a CRLF split across two blocks
                        number += 1
                    length, after_cr = 0, piece == b"\r"
                    continue
                if piece:
                    after_cr = False
                length += len(piece)
                if length > MAX_LINE_CHARS:
                    raise error(
                        f"line longer than {MAX_LINE_CHARS:,} bytes: not a {what}",
                        file=path, where=number,
                        hint=f"is this a calls file or a binary file given in place of the "
                             f"{what}?",
                    )


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of non-blank, non-comment lines; any newline convention."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise SampleSheetError(f"line of {len(line):,} characters is too long for a sample "
                                   "sheet", where=number)
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append((number, line))
    return out


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


def read_table_rows(
    path: Path, error: type[LesionTrackError], what: str
) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """Read a small delimited table strictly (sample sheet, patient table).

    TSV or CSV (sniffed from the header line), ``#`` comment lines, any newline convention,
    UTF-8. Returns (header line number, lower-case header, [(line number, {column: value})]).
    Raises ``error`` (a :class:`LesionTrackError` subclass) naming the file and line.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", file=path) from exc
    if size > MAX_SHEET_BYTES:
        raise error(
            f"{size:,} bytes is too large for a {what} (limit {MAX_SHEET_BYTES:,})",
            file=path, where=1, hint=f"is this a calls file given in place of the {what}?",
        )
    try:
        _check_line_lengths(path, error, what)  # before loading: bounded memory on any file
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", file=path) from exc
    if b"\x00" in data[:65536]:
        raise error("not a text file (binary content)", file=path, where=1)
    try:
        lines = _lines(_decode(path, data))
    except SampleSheetError as exc:
        raise error(exc.message, file=path, where=exc.where,
                    hint=f"save the {what} as UTF-8" if "UTF-8" in exc.message else exc.hint,
                    ) from None
    if not lines:
        raise error(f"the {what} is empty", file=path, where=1)
    header_line, header_text = lines[0]
    delimiter = _delimiter(header_text)
    # one line at a time: a stray quote must not swallow the following lines (nor shift every
    # line number); no cell of these small tables spans lines
    parsed = [next(csv.reader([text], delimiter=delimiter), []) for _, text in lines]
    header = [h.strip().lower() for h in parsed[0]]
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise error(f"column {duplicated[0]} appears twice", file=path, where=header_line,
                    field=duplicated[0])
    rows = []
    for (number, _), fields in zip(lines[1:], parsed[1:], strict=True):
        if len(fields) != len(header):
            shown = "TAB" if delimiter == "\t" else repr(delimiter)
            raise error(f"{len(fields)} fields where the header has {len(header)}", file=path,
                        where=number, hint=f"is the delimiter {shown} used throughout?")
        rows.append((number, {h: f.strip() for h, f in zip(header, fields, strict=True) if h}))
    return header_line, header, rows


def read_samplesheet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a sample sheet; one row per (sample, calls file).

    Returns :data:`SAMPLESHEET_COLUMNS`: ``status`` is normalised (``progressive``,
    ``controlled``, ``baseline``, ``unknown``) with the raw word kept in ``status_raw``;
    ``calls_path``/``bam_path`` are absolute paths (relative ones resolved against the sheet's
    folder); ``line`` is the row's line number in the file.
    Raises :class:`SampleSheetError` naming the line and field of the first problem.
    """
    path = Path(path)
    header_line, header, rows = read_table_rows(path, SampleSheetError, "sample sheet")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SampleSheetError(
            f"missing required column(s) {', '.join(missing)}", file=path, where=header_line,
            field=missing[0], hint=f"found: {', '.join(h for h in header if h) or 'nothing'}",
        )
    folder = path.resolve().parent
    records = [_validate_row(path, folder, number, row) for number, row in rows]
    if not records:
        raise SampleSheetError("the sample sheet has a header but no samples", file=path,
                               where=header_line)
    frame = pd.DataFrame.from_records(records, columns=SAMPLESHEET_COLUMNS)
    _check_consistency(path, frame)
    return frame


def _validate_row(path: Path, folder: Path, number: int, row: dict[str, str]) -> dict:
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


def _purity(path: Path, number: int, text: str) -> float | None:
    """The optional ``purity`` cell: a tumour fraction in (0, 1], empty for unknown."""
    if not text or text.upper() in ("NA", "."):
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:  # NaN fails too
        raise SampleSheetError(f"purity {text!r} is not a tumour fraction", file=path,
                               where=number, field="purity",
                               hint="write a fraction between 0 and 1 (e.g. 0.6), or leave it "
                                    "empty")
    return value


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
