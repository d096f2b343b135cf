"""The patient table of the outcome analysis: reading and validating it (:func:`read_patients`).

A *patient table* (TSV or CSV, read like the sample sheet: sniffed delimiter, ``#`` comments,
any line ending, UTF-8) gives, per patient, the follow-up that starts at progression on
imatinib (the start of salvage therapy) in one of two styles; one table uses one style:

* dates (ISO ``YYYY-MM-DD``): ``progression_date`` (time zero), ``salvage`` (free text),
  ``pfs_event_date`` *or* ``pfs_censor_date`` (progression-free survival),
  ``death_date`` *or* ``last_followup_date`` (overall survival). Times are
  ``days / 30.4375`` months;
* months: ``pfs_months`` + ``pfs_event`` (0 = censored, 1 = event), ``os_months`` +
  ``os_event``.

Time zero is ``progression_date``: the scan that showed progression on imatinib, the start of
salvage follow-up (``pfs_months``/``os_months`` count from it too).

An endpoint (``pfs``, ``os``) is absent when none of its columns are present. Optional columns
decide the progression pattern (see :func:`lesiontrack.stats.decide_pattern`): ``pattern``
(``focal``, ``generalized``, ``none``; empty = derive), else ``radiology_progressive`` and
``radiology_controlled`` (lesion counts on imaging, whole numbers >= 0, both or neither).
``read_patients(..., require_outcomes=False)`` reads a table with only these (``stats``).

Rules, stated once:

* PFS is progression **or death**, whichever comes first. Date style: the PFS event date is
  the earlier of ``pfs_event_date`` and ``death_date``; a ``death_date`` on or before
  ``pfs_censor_date`` is an event at the death (a row with a ``death_date`` and no PFS date
  is an event at the death too); a death after ``pfs_censor_date`` leaves PFS censored there.
  Month style: ``pfs_event`` stands as given (the user applied the definition).
* censoring: a patient with an event date (or ``*_event = 1``) had the event at that time;
  otherwise the patient is right-censored at the censor / last follow-up date. Every
  patient needs exactly one of the two, and no date may precede ``progression_date``;
  progression-free survival cannot outlast overall survival follow-up.

The analysis of the table is :mod:`lesiontrack.outcomes`. For research use only, not for
clinical decisions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .errors import PatientTableError
from .patterns import RADIOLOGY_COLUMNS, TABLE_PATTERNS, parse_count
from .textfiles import read_table_rows

log = logging.getLogger("lesiontrack")

#: Days per month used to turn dates into months (365.25 / 12).
DAYS_PER_MONTH = 30.4375
ENDPOINTS: tuple[str, ...] = ("pfs", "os")
#: Patterns a patient table may state.
PATTERNS: tuple[str, ...] = TABLE_PATTERNS

#: Per endpoint: (event date, censor date) of the date style, (months, event) of the month style.
DATE_COLUMNS = {"pfs": ("pfs_event_date", "pfs_censor_date"),
                "os": ("death_date", "last_followup_date")}
MONTH_COLUMNS = {"pfs": ("pfs_months", "pfs_event"), "os": ("os_months", "os_event")}
KNOWN_COLUMNS: tuple[str, ...] = (
    "patient_id", "pattern", *RADIOLOGY_COLUMNS, "salvage", "progression_date",
    "treatment_start_date",
    *(c for pair in DATE_COLUMNS.values() for c in pair),
    *(c for pair in MONTH_COLUMNS.values() for c in pair),
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_patients(path: str | os.PathLike[str], *, require_outcomes: bool = True
                  ) -> pd.DataFrame:
    """Read and validate a patient table; one row per patient.

    Returns ``patient_id``, ``pattern`` (stated pattern or ``None``), ``radiology_progressive``
    and ``radiology_controlled`` (Int64 lesion counts, NA when not given), ``salvage``, then
    for each endpoint present ``<endpoint>_months`` (float) and ``<endpoint>_event`` (0/1),
    the date columns as written (date style), and ``line`` (the row's line in the file). The
    file path, style (``dates``/``months``/None) and endpoints are kept in ``frame.attrs``.
    ``require_outcomes=False`` (``stats``): survival columns are optional, but the table must
    give a pattern or radiology counts when it has none.
    Raises :class:`PatientTableError` naming the file, line and column of the first problem.
    """
    path = Path(path)
    header_line, header, rows = read_table_rows(path, PatientTableError, "patient table")
    style, endpoints = _check_header(path, header_line, header, require_outcomes)
    records: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        record = _parse_row(path, number, row, style, endpoints)
        pid = record["patient_id"]
        if pid in seen:
            raise PatientTableError(f"patient {pid!r} is listed twice (first on line "
                                    f"{seen[pid]})", file=path, where=number, field="patient_id")
        seen[pid] = number
        records.append(record)
    if not records:
        raise PatientTableError("the patient table has a header but no patients", file=path,
                                where=header_line)
    columns = ["patient_id", "pattern", *RADIOLOGY_COLUMNS, "salvage", "treatment_start_date"]
    for endpoint in endpoints:
        columns += [f"{endpoint}_months", f"{endpoint}_event"]
    if style == "dates":
        columns += ["progression_date"] + [c for e in endpoints for c in DATE_COLUMNS[e]]
    frame = pd.DataFrame.from_records(records, columns=[*columns, "line"])
    for endpoint in endpoints:
        frame[f"{endpoint}_months"] = frame[f"{endpoint}_months"].astype(float)
        frame[f"{endpoint}_event"] = frame[f"{endpoint}_event"].astype(int)
    for column in RADIOLOGY_COLUMNS:
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame.attrs["path"] = str(path)
    frame.attrs["style"] = style
    frame.attrs["endpoints"] = list(endpoints)
    return frame


def _check_header(path: Path, line: int, header: list[str], require_outcomes: bool = True
                  ) -> tuple[str | None, list[str]]:
    """The table's style (``dates``/``months``, None without outcome columns when they are not
    required) and its endpoints, or a header error."""
    if "patient_id" not in header:
        raise PatientTableError("missing required column patient_id", file=path, where=line,
                                field="patient_id",
                                hint=f"found: {', '.join(h for h in header if h) or 'nothing'}")
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise PatientTableError(f"column {duplicated[0]} appears twice", file=path, where=line,
                                field=duplicated[0])
    date_cols = [h for h in header if h == "progression_date"
                 or any(h in pair for pair in DATE_COLUMNS.values())]
    month_cols = [h for h in header if any(h in pair for pair in MONTH_COLUMNS.values())]
    if date_cols and month_cols:
        raise PatientTableError(
            f"mixes date columns ({', '.join(date_cols)}) and month columns "
            f"({', '.join(month_cols)})", file=path, where=line, field=month_cols[0],
            hint="one table uses one style: dates or months",
        )
    radiology = [c for c in RADIOLOGY_COLUMNS if c in header]
    if len(radiology) == 1:
        missing = next(c for c in RADIOLOGY_COLUMNS if c not in radiology)
        raise PatientTableError(f"column {radiology[0]} without {missing}", file=path,
                                where=line, field=missing,
                                hint="the two lesion counts on imaging go together")
    if not date_cols and not month_cols and not require_outcomes:
        if not radiology and "pattern" not in header and "treatment_start_date" not in header:
            raise PatientTableError(
                "no pattern, radiology or outcome columns", file=path, where=line,
                hint="give pattern, or radiology_progressive and radiology_controlled (or "
                     "treatment_start_date alone for classify)",
            )
        _warn_unknown(path, header)
        return None, []
    if not date_cols and not month_cols:
        raise PatientTableError(
            "no outcome columns", file=path, where=line,
            hint="give progression_date with pfs_event_date/pfs_censor_date and/or "
                 "death_date/last_followup_date, or pfs_months+pfs_event and/or "
                 "os_months+os_event",
        )
    style = "dates" if date_cols else "months"
    columns = DATE_COLUMNS if style == "dates" else MONTH_COLUMNS
    endpoints = [e for e in ENDPOINTS if any(c in header for c in columns[e])]
    if not endpoints:
        raise PatientTableError(
            "progression_date but no outcome dates", file=path, where=line,
            field="progression_date",
            hint="add pfs_event_date/pfs_censor_date and/or death_date/last_followup_date",
        )
    if style == "dates" and "progression_date" not in header:
        raise PatientTableError("missing column progression_date (the start of follow-up)",
                                file=path, where=line, field="progression_date")
    if style == "months":
        for endpoint in endpoints:
            for column in MONTH_COLUMNS[endpoint]:
                if column not in header:
                    raise PatientTableError(f"missing column {column}", file=path, where=line,
                                            field=column,
                                            hint=f"{' and '.join(MONTH_COLUMNS[endpoint])} "
                                                 "go together")
    _warn_unknown(path, header)
    return style, endpoints


def _warn_unknown(path: Path, header: list[str]) -> None:
    unknown = [h for h in header if h and h not in KNOWN_COLUMNS]
    if unknown:
        log.warning("%s: ignoring column(s) %s of the patient table", path, ", ".join(unknown))


def _parse_date(path: Path, line: int, column: str, value: str) -> dt.date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PatientTableError(f"not a date: {value!r}", file=path, where=line, field=column,
                                hint="write ISO dates, YYYY-MM-DD") from None


def _treatment_start(path: Path, line: int, row: dict[str, str]) -> str:
    """The optional ``treatment_start_date`` (imatinib start; plasma drawn before it acts as a
    baseline sample), validated: an ISO date, not after ``progression_date``; "" if empty."""
    text = row.get("treatment_start_date", "")
    if not text:
        return ""
    start = _parse_date(path, line, "treatment_start_date", text)
    progression = row.get("progression_date", "")
    if progression and _ISO_DATE.fullmatch(progression):
        with contextlib.suppress(ValueError):  # a bad progression_date gets its own error
            if start > dt.date.fromisoformat(progression):
                raise PatientTableError(
                    f"treatment_start_date {text} is after progression_date {progression}",
                    file=path, where=line, field="treatment_start_date",
                    hint="progression on imatinib comes after its start")
    return start.isoformat()


def _parse_count(path: Path, line: int, column: str, value: str) -> int | None:
    try:
        return parse_count(value)
    except ValueError:
        raise PatientTableError(
            f"not a lesion count: {value!r}", file=path, where=line, field=column,
            hint="the number of lesions on imaging, a whole number >= 0, or empty",
        ) from None


def _parse_row(path: Path, line: int, row: dict[str, str], style: str | None,
               endpoints: Iterable[str]) -> dict:
    pid = row["patient_id"]
    if not pid:
        raise PatientTableError("empty patient id", file=path, where=line, field="patient_id")
    pattern = row.get("pattern", "").lower() or None
    if pattern is not None and pattern not in PATTERNS:
        raise PatientTableError(f"unknown pattern {row['pattern']!r}", file=path, where=line,
                                field="pattern",
                                hint=f"accepted: {', '.join(PATTERNS)}, or empty")
    record: dict = {"patient_id": pid, "pattern": pattern, "salvage": row.get("salvage", ""),
                    "line": line}
    for column in RADIOLOGY_COLUMNS:
        record[column] = _parse_count(path, line, column, row.get(column, ""))
    given = [c for c in RADIOLOGY_COLUMNS if record[c] is not None]
    if len(given) == 1:
        missing = next(c for c in RADIOLOGY_COLUMNS if c not in given)
        raise PatientTableError(f"{given[0]} without {missing}", file=path, where=line,
                                field=missing, hint="give both lesion counts, or neither")
    record["treatment_start_date"] = _treatment_start(path, line, row)
    ends: dict[str, tuple[str, float]] = {}  # endpoint -> (column, months) of the end of follow-up
    if style == "dates":
        start_text = row.get("progression_date", "")
        record["progression_date"] = start_text
        if not start_text:
            raise PatientTableError("empty progression date (the start of follow-up)",
                                    file=path, where=line, field="progression_date")
        start = _parse_date(path, line, "progression_date", start_text)
        death_text = row.get("death_date", "")
        for endpoint in endpoints:
            event_col, censor_col = DATE_COLUMNS[endpoint]
            event_text, censor_text = row.get(event_col, ""), row.get(censor_col, "")
            record[event_col], record[censor_col] = event_text, censor_text
            if event_text and censor_text:
                raise PatientTableError(
                    f"both {event_col} and {censor_col} are given", file=path, where=line,
                    field=censor_col, hint=f"a patient with {event_col} is not censored: "
                                           f"leave {censor_col} empty",
                )
            if not event_text and not censor_text and not (endpoint == "pfs" and death_text):
                raise PatientTableError(
                    f"missing follow-up: neither {event_col} nor {censor_col} is given",
                    file=path, where=line, field=censor_col if not event_text else event_col,
                )
            dates = {}
            for column, text in ((event_col, event_text), (censor_col, censor_text)):
                if text:
                    dates[column] = _parse_date(path, line, column, text)
                    if dates[column] < start:
                        raise PatientTableError(
                            f"{column} {text} is before progression_date {start_text}",
                            file=path, where=line, field=column,
                        )
            column = event_col if event_text else censor_col
            end, event = dates.get(column), bool(event_text)
            if endpoint == "pfs" and death_text:  # progression or death, whichever first
                death = _parse_date(path, line, "death_date", death_text)
                if death < start:
                    raise PatientTableError(
                        f"death_date {death_text} is before progression_date {start_text}",
                        file=path, where=line, field="death_date",
                    )
                if end is None or death <= end:
                    if event_text and death < end:
                        log.warning("%s:%s: pfs_event_date %s is after death_date %s: the "
                                    "PFS event is the death", path, line, event_text,
                                    death_text)
                    column, end, event = "death_date", death, True
            months = (end - start).days / DAYS_PER_MONTH
            record[f"{endpoint}_months"] = months
            record[f"{endpoint}_event"] = int(event)
            ends[endpoint] = (column, months)
    else:
        for endpoint in endpoints:
            months_col, event_col = MONTH_COLUMNS[endpoint]
            months = _parse_months(path, line, months_col, row.get(months_col, ""))
            event_text = row.get(event_col, "")
            if event_text not in ("0", "1"):
                raise PatientTableError(
                    "empty event" if not event_text else f"event must be 0 or 1, not "
                    f"{event_text!r}", file=path, where=line, field=event_col,
                    hint="1 = event, 0 = censored",
                )
            record[f"{endpoint}_months"] = months
            record[f"{endpoint}_event"] = int(event_text)
            ends[endpoint] = (months_col, months)
    if "pfs" in ends and "os" in ends and ends["pfs"][1] > ends["os"][1] + 1e-9:
        column = ends["pfs"][0]
        raise PatientTableError(
            f"progression-free survival ({ends['pfs'][1]:.1f} months) ends after the overall "
            f"survival follow-up ({ends['os'][1]:.1f} months, {ends['os'][0]})", file=path,
            where=line, field=column,
        )
    return record


def _parse_months(path: Path, line: int, column: str, value: str) -> float:
    if not value:
        raise PatientTableError("missing follow-up: empty time", file=path, where=line,
                                field=column)
    try:
        months = float(value)
    except ValueError:
        raise PatientTableError(f"not a number: {value!r}", file=path, where=line, field=column,
                                hint="months as a decimal number with a '.'") from None
    if not math.isfinite(months):
        raise PatientTableError(f"not a finite number: {value!r}", file=path, where=line,
                                field=column)
    if months < 0:
        raise PatientTableError(f"negative time {value}", file=path, where=line, field=column)
    return months


__all__ = ["DATE_COLUMNS", "DAYS_PER_MONTH", "ENDPOINTS", "KNOWN_COLUMNS", "MONTH_COLUMNS",
           "PATTERNS", "PatientTableError", "read_patients"]
