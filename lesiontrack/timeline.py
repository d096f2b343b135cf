"""Time: sample dates, each lesion's current samples, ``--at DATE``, first detections and the
patient timeline (plasma series and repeated biopsies of one lesion).

Dates are ISO 8601 calendar dates (``YYYY-MM-DD``) from the sample sheet's ``date`` column;
an empty date is *undated* and counts as "always" (kept by ``--at``, current in its lesion).

**Current samples.** A lesion may be sampled at several dates, each row carrying the lesion's
status at that date. The 2x2 table, the sharing rule and the patterns use each lesion's samples
of its *latest date with a progressive or controlled status* (the latest date of any status when
it has none); earlier samples are the lesion's own history (the ``lesion_history`` rule of
:mod:`lesiontrack.compare`). Baseline, plasma and normal samples are always current.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import OptionError
from .order import natural_key as _natural

#: Statuses that make a date a lesion's current date (the latest one wins).
RESPONSE_STATUSES: tuple[str, ...] = ("progressive", "controlled")

__all__ = ["RESPONSE_STATUSES", "at_date", "calls_at", "current_mask", "first_detections",
           "lesion_statuses", "parse_at", "patient_timelines", "with_dates"]


def parse_at(text: str | None) -> str | None:
    """The ``--at`` option as an ISO date string (None when not given); raises
    :class:`OptionError` for anything but ``YYYY-MM-DD``."""
    if text is None or text == "":
        return None
    from .samplesheet import parse_iso_date

    try:
        return parse_iso_date(str(text)).isoformat()
    except ValueError:
        raise OptionError(f"not a date: {text!r}", field="--at",
                          hint="write an ISO 8601 date, YYYY-MM-DD") from None


def _dates(frame: pd.DataFrame) -> pd.Series:
    if "date" not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame["date"].astype(object).where(frame["date"].notna(), "").astype(str)


def with_dates(frame: pd.DataFrame, samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` (rows with patient_id and sample_id) with a ``date`` column: the sample
    sheet's date of the sample where the sheet has one, else the frame's own, else empty."""
    out = frame.copy()
    own = _dates(out)
    if samples is not None and len(samples) and "date" in samples:
        sheet = samples.assign(_date=_dates(samples))
        sheet = sheet[sheet["_date"] != ""].drop_duplicates(["patient_id", "sample_id"])
        lookup = dict(zip(zip(sheet["patient_id"], sheet["sample_id"], strict=True),
                          sheet["_date"], strict=True))
        given = [lookup.get(k, "") for k in zip(out["patient_id"], out["sample_id"], strict=True)]
        own = pd.Series(np.where(np.array(given, dtype=object) != "", given, own),
                        index=out.index, dtype=object)
    out["date"] = own
    return out


def at_date(frame: pd.DataFrame, date: str | None) -> pd.DataFrame:
    """The rows of ``frame`` dated on or before ``date`` (ISO), and the undated ones."""
    if date is None or frame is None or "date" not in frame:
        return frame
    dates = _dates(frame)
    return frame[(dates == "") | (dates <= date)].reset_index(drop=True)


def calls_at(calls: pd.DataFrame, sheet: pd.DataFrame | None, date: str | None) -> pd.DataFrame:
    """The rows of a calls table (from ``--calls``) at ``--at DATE``: dated by the sample sheet
    where it dates the sample, else by their own ``date``; with a sheet, which ``--at`` has
    already cut to the samples dated on or before ``date``, the rows of samples it no longer
    holds go too (a table written without dates would otherwise count them as undated, i.e.
    always)."""
    if date is None:
        return calls
    out = at_date(with_dates(calls, sheet), date)
    if sheet is not None and len(out):
        kept = pd.MultiIndex.from_frame(sheet[["patient_id", "sample_id"]].astype(str))
        rows = pd.MultiIndex.from_frame(out[["patient_id", "sample_id"]].astype(str))
        out = out[rows.isin(kept)].reset_index(drop=True)
    return out


def current_mask(frame: pd.DataFrame) -> pd.Series:
    """True for the rows (patient_id, lesion_id, role, status, date) at their lesion's current
    date (see the module); rows of other roles, and undated rows, are always current."""
    dates = _dates(frame)
    lesion = (frame["role"] == "lesion").to_numpy() & (dates != "").to_numpy()
    out = pd.Series(True, index=frame.index)
    if not lesion.any():
        return out
    sub = frame[lesion]
    sub_dates = dates[lesion]
    keys = [sub["patient_id"], sub["lesion_id"]]
    # "" (not NaN) off the response statuses: max over an object column mixing strings and
    # NaN fails; a lesion without a response status falls back to its latest date of any status
    responding = sub_dates.where(sub["status"].isin(RESPONSE_STATUSES).to_numpy(), "")
    latest = responding.groupby(keys).transform("max")
    latest = latest.where(latest != "", sub_dates.groupby(keys).transform("max"))
    out[lesion] = (sub_dates == latest).to_numpy()
    return out


def lesion_statuses(calls: pd.DataFrame, samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (patient, lesion): ``patient_id``, ``lesion_id``, ``role``, ``status`` (the
    status at the lesion's current date), ``date`` (that date, empty when undated) and
    ``samples`` (its current samples, comma-separated)."""
    columns = ["patient_id", "lesion_id", "sample_id", "role", "status"]
    parts = []
    if samples is not None and len(samples):
        if "sample_id" not in samples:  # a sheet of lesions only: one sample per lesion
            samples = samples.assign(sample_id=samples["lesion_id"])
        parts.append(with_dates(samples[[*columns, *(["date"] if "date" in samples else [])]]))
    if calls is not None and len(calls):
        own = calls[[*columns, *(["date"] if "date" in calls else [])]]
        parts.append(with_dates(own.drop_duplicates(["patient_id", "sample_id"]), samples))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*columns[:2], "role",
                                                                  "status", "date", "samples"]})
    roster = pd.concat(parts, ignore_index=True).drop_duplicates(["patient_id", "sample_id"])
    roster = roster[current_mask(roster).to_numpy()]
    grouped = roster.groupby(["patient_id", "lesion_id"], sort=False)
    out = grouped.agg(role=("role", "first"), status=("status", "first"), date=("date", "max"),
                      samples=("sample_id", lambda s: ",".join(sorted(set(map(str, s)),
                                                                      key=_natural))))
    return out.reset_index()


def first_detections(grid: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """Per (patient, mutation): (first_detected_date, first_detected_in) from the sample-level
    states (:func:`lesiontrack.evidence.sample_states`): the earliest date at which a
    non-normal sample detects it and those samples; without a dated detection, an empty date and
    the undated samples that detect it."""
    if grid is None or grid.empty:
        return {}
    det = grid[(grid["state"] == "detected") & (grid["role"] != "normal")]
    det = det.assign(_date=_dates(det))
    out = {}
    for (patient, key), rows in det.groupby(["patient_id", "variant_key"], sort=False):
        dated = rows[rows["_date"] != ""]
        if len(dated):
            first = dated["_date"].min()
            chosen = dated[dated["_date"] == first]
        else:
            first, chosen = "", rows
        names = sorted(set(map(str, chosen["sample_id"])), key=_natural)
        out[(str(patient), str(key))] = (first, ",".join(names))
    return out


def _num(value) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def patient_timelines(grid: pd.DataFrame, origins: pd.DataFrame,
                      samples: pd.DataFrame | None = None, calls: pd.DataFrame | None = None,
                      patients: pd.DataFrame | None = None) -> dict[str, dict]:
    """Per patient: its ``timeline`` (JSON-ready): every sample (dated first, in date order)
    with date, role, lesion, status and each mutation's VAF and state; the patient table's
    dates; the dates at which a lesion was first recorded progressive; and the lead time of each
    secondary mutation from its first detection in plasma to the first date a lesion carrying it
    is recorded progressive (when both are known).

    ``grid``: :func:`lesiontrack.evidence.sample_states`; ``samples``: the sample sheet;
    ``patients``: the patient table (``treatment_start_date``, ``progression_date``)."""
    roster_parts = []
    cols = ["patient_id", "lesion_id", "sample_id", "role", "status", "timepoint"]
    for frame in (samples, calls):
        if frame is not None and len(frame):
            roster_parts.append(with_dates(frame.reindex(columns=[*cols, "date"]), samples))
    if not roster_parts:
        return {}
    roster = pd.concat(roster_parts, ignore_index=True).drop_duplicates(
        ["patient_id", "sample_id"])
    roster = roster.astype(object).where(roster.notna(), "")
    names = {}
    origin_of = {}
    if origins is not None and len(origins):
        for patient, key, gene, hgvsp, origin in zip(
                origins["patient_id"], origins["variant_key"], origins["gene"].fillna(""),
                origins["hgvsp"].fillna(""), origins["origin"], strict=True):
            names[(patient, key)] = f"{gene} {hgvsp}".strip() if hgvsp else f"{gene} {key}".strip()
            origin_of[(patient, key)] = origin
    table_dates: dict[str, dict[str, str]] = {}
    if patients is not None and len(patients):
        for column in ("treatment_start_date", "progression_date"):
            if column not in patients:
                continue
            for pid, value in zip(patients["patient_id"], patients[column], strict=True):
                if isinstance(value, str) and value:
                    table_dates.setdefault(str(pid), {})[column] = value
    by_sample: dict[tuple[str, str], list[dict]] = {}
    if grid is not None and len(grid):
        for row in grid.itertuples(index=False):
            key = (row.patient_id, row.variant_key)
            by_sample.setdefault((row.patient_id, row.sample_id), []).append({
                "variant_key": row.variant_key, "name": names.get(key, row.variant_key),
                "origin": origin_of.get(key, ""), "state": row.state, "reason": row.reason,
                "vaf": _num(row.vaf), "alt_count": _num(row.alt_count), "depth": _num(row.depth),
            })
    out: dict[str, dict] = {}
    for patient, rows in roster.groupby("patient_id", sort=False):
        rows = rows.assign(_undated=rows["date"] == "", _order=rows["sample_id"].map(_natural))
        rows = rows.sort_values(["_undated", "date", "_order"], kind="stable")
        entries = []
        for row in rows.itertuples(index=False):
            muts = sorted(by_sample.get((patient, row.sample_id), []),
                          key=lambda m: _natural(m["variant_key"]))
            entries.append({"sample_id": row.sample_id, "date": row.date or None,
                            "role": row.role, "lesion_id": row.lesion_id,
                            "status": row.status, "timepoint": row.timepoint,
                            "mutations": muts})
        progressive = {}
        for row in rows.itertuples(index=False):
            if (row.role == "lesion" and row.status == "progressive" and row.date
                    and (row.lesion_id not in progressive
                         or row.date < progressive[row.lesion_id])):
                progressive[row.lesion_id] = row.date
        out[str(patient)] = {
            "samples": entries,
            "treatment_start_date": table_dates.get(str(patient), {}).get(
                "treatment_start_date"),
            "progression_date": table_dates.get(str(patient), {}).get("progression_date"),
            "progressive_dates": [{"lesion_id": k, "date": v} for k, v in sorted(
                progressive.items(), key=lambda kv: (kv[1], _natural(kv[0])))],
            "lead_times": _lead_times(patient, entries, progressive, origin_of, names),
        }
    return out


def _lead_times(patient, entries: list[dict], progressive: dict[str, str], origin_of: dict,
                names: dict) -> list[dict]:
    """Per secondary mutation first detected in plasma: the days from that draw to the first
    date a lesion carrying it is recorded progressive (negative: plasma came later)."""
    import datetime as dt

    first_plasma: dict[str, str] = {}
    carriers: dict[str, set[str]] = {}
    for entry in entries:
        for m in entry["mutations"]:
            if m["state"] != "detected":
                continue
            key = m["variant_key"]
            if entry["role"] == "plasma" and entry["date"]:
                if key not in first_plasma or entry["date"] < first_plasma[key]:
                    first_plasma[key] = entry["date"]
            elif entry["role"] == "lesion":
                carriers.setdefault(key, set()).add(entry["lesion_id"])
    out = []
    for key, plasma_date in sorted(first_plasma.items(), key=lambda kv: _natural(kv[0])):
        if origin_of.get((patient, key)) != "secondary":
            continue
        dates = sorted((progressive[x], x) for x in carriers.get(key, ()) if x in progressive)
        if not dates:
            continue
        prog_date, lesion = dates[0]
        days = (dt.date.fromisoformat(prog_date) - dt.date.fromisoformat(plasma_date)).days
        out.append({"variant_key": key, "name": names.get((patient, key), key),
                    "first_plasma_date": plasma_date, "first_progressive_date": prog_date,
                    "lesion_id": lesion, "lead_days": days})
    return out
