"""Read and validate the sample sheet: which sample belongs to which lesion, and its status.

The sample sheet is TSV or CSV (sniffed from the header line), with ``#`` comment lines, and any of
LF, CRLF or CR-only line endings. One row per (sample, calls file): a sample may have several rows
(Strelka2 writes SNVs and indels to separate files) and a lesion several samples (regions). A
MesKit clinical table is a sheet too (:func:`read_meskit_clinical`). The text itself is read by
:mod:`lesiontrack.textfiles`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CallsFileError, SampleSheetError
from .genome import normalize_assembly
from .textfiles import Table, load_table, read_table_columns

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


# --------------------------------------------------------------------------------------------
# MesKit clinical table

_CLINICAL_REQUIRED = ("Tumor_Sample_Barcode", "Tumor_ID", "Patient_ID")


def read_meskit_clinical(path: str | Path) -> pd.DataFrame:
    """A MesKit clinical table as a sample-sheet-shaped frame.

    Input columns: ``Tumor_Sample_Barcode``, ``Tumor_ID``, ``Patient_ID`` (optional
    ``Tumor_Sample_Label``, not used). Returns the columns ``patient_id`` (Patient_ID),
    ``lesion_id`` (Tumor_ID), ``sample_id`` (Tumor_Sample_Barcode) and ``status`` (``unknown``:
    MesKit tables carry no response status), in file order. Raises :class:`SampleSheetError` for
    a missing column, an empty cell or a duplicated barcode.
    """
    path = Path(path)
    try:
        table = load_table(path, kind="TSV")
    except CallsFileError as exc:
        raise SampleSheetError(exc.message, file=exc.file, where=exc.where, field=exc.field,
                               hint=exc.hint) from exc
    missing = [c for c in _CLINICAL_REQUIRED if table.column(c) is None]
    if missing:
        raise SampleSheetError(
            f"missing MesKit clinical column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint="a MesKit clinical table has Tumor_Sample_Barcode, Tumor_ID and Patient_ID",
        )
    out = {}
    for name, target in (("Patient_ID", "patient_id"), ("Tumor_ID", "lesion_id"),
                         ("Tumor_Sample_Barcode", "sample_id")):
        column = table.column(name)
        values = [v.strip() for v in table.cells(column)]
        if "" in values:
            raise SampleSheetError("empty cell", file=path, where=table.line(values.index("")),
                                   field=column)
        out[target] = np.array(values, dtype=object)
    frame = pd.DataFrame(out).astype(object)
    duplicated = frame["sample_id"].duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise SampleSheetError(
            f"sample {frame['sample_id'].iloc[row]!r} is listed twice", file=path,
            where=table.line(row), field=table.column("Tumor_Sample_Barcode"),
        )
    frame["status"] = "unknown"
    return frame[["patient_id", "lesion_id", "sample_id", "status"]]
