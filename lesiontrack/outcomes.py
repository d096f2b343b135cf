"""Outcome after salvage therapy by progression pattern: Kaplan-Meier, log-rank, Cox.

Computing only: the patient table (and its rules, such as PFS = progression or death) is
:mod:`lesiontrack.patients`; the curves of the Kaplan-Meier figures (from the same fits and
log-rank test) are :func:`lesiontrack.survival_curves.km_curves`, and
:mod:`lesiontrack.report.figures` only draws them.
Rules, stated once:

* Kaplan-Meier (lifelines): median = first time S(t) <= 0.5, ``null`` when not reached; its
  95% CI from the exponential Greenwood band (``median_survival_times`` of
  ``confidence_interval_``), a ``null`` bound is unbounded. ``survival_6m``/``survival_12m``
  are S(t) at 6/12 months, ``null`` when the group's follow-up ends (censored) before then.
  ``at_risk`` counts patients whose time is >= t, every 6 months up to the longest follow-up
  (at least 0, 6, 12).
* log-rank (``multivariate_logrank_test``): when >= 2 groups and >= 1 event, else ``null``.
* Cox hazard ratio (``CoxPHFitter`` on a 0/1 group indicator, Efron ties): only when there
  are exactly two groups, >= 2 events in total, >= 1 event in each group, and the partial
  likelihood has a finite maximum (it has none when, at every event of one group, no patient
  of the other group is still at risk: the estimate would be 0 or infinite); else ``null``
  with the reason in ``note``. The ratio is the hazard of the other group relative to
  ``reference_group`` (the first group in :data:`GROUP_ORDER`: focal, confined, none).
* ``unknown`` (the pattern could not be told: fewer than two sequenced lesions with a status
  and no radiology counts or pattern in the table) is a group of its own under ``by=pattern``.

For research use only, not for clinical decisions.
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import OptionError, PatientTableError
from .options import DEFAULT_FOCAL_MAX, DEFAULT_GROUPING, GROUPINGS
from .output import building_folder, frame_to_tsv
from .patients import ENDPOINTS, PATTERNS
from .patterns import PATTERN_SOURCES, decide_pattern, table_patterns

log = logging.getLogger("lesiontrack")

#: Spacing of the numbers at risk, in months.
AT_RISK_STEP = 6
#: Landmarks of ``survival_6m`` and ``survival_12m``, in months.
LANDMARKS = (6, 12)
#: The group of patients without a secondary mutation, under ``--by confined`` and ``secondary``.
NO_SECONDARY = "no secondary"
#: Display order of each grouping's groups; the first present group is the Cox reference.
GROUP_ORDER: dict[str, tuple[str, ...]] = {
    "pattern": ("focal", "generalized", "none", "unknown"),
    "confined": ("confined", "not confined", NO_SECONDARY, "not assessable"),
    "secondary": (NO_SECONDARY, "secondary"),
}
#: Time zero of every endpoint, as said in ``outcomes.json`` (``time_zero``).
TIME_ZERO = ("progression_date: the scan that showed progression on imatinib, the start of "
             "salvage follow-up")
#: What counts as an event, per endpoint and table style (``event_definition``).
EVENT_DEFINITIONS = {
    ("pfs", "dates"): "progression or death, whichever comes first (the earlier of "
                      "pfs_event_date and death_date; a death on or before pfs_censor_date "
                      "is an event)",
    ("pfs", "months"): "pfs_event as given in the patient table (progression or death, "
                       "whichever comes first, is the standard definition)",
    ("os", "dates"): "death (death_date; censored at last_followup_date)",
    ("os", "months"): "os_event as given in the patient table (death)",
}


# --------------------------------------------------------------------------- groups

def groups_from_stats(stats_patients: list[dict], by: str = DEFAULT_GROUPING,
                      overrides: pd.DataFrame | Mapping[str, str | None] | None = None,
                      *, focal_max: int = DEFAULT_FOCAL_MAX) -> pd.DataFrame:
    """Each patient's group from ``test_clustering(...)["patients"]``.

    ``by``: ``pattern`` (focal / generalized / none / unknown), ``confined`` (``confined``
    when the secondary mutations are confined to progressive lesions, ``not confined``, ``no
    secondary``, ``not assessable``: the patient's ``confinement``) or ``secondary``
    (``secondary`` when any, else ``no secondary``). ``overrides`` (the patient table, or a
    mapping patient -> pattern) decides the pattern for ``by="pattern"`` of patients whose
    pattern the statistics took from the sequenced lesions (its ``pattern``, else its radiology
    counts with ``focal_max``; a warning names each change); patterns the statistics already
    took from the table are kept. Returns ``patient_id``, ``group`` with
    ``attrs["by"]`` set.
    """
    if by not in GROUPINGS:
        raise OptionError(f"unknown grouping {by!r}", field="by",
                          hint=f"accepted: {', '.join(GROUPINGS)}")
    rows = []
    for patient in stats_patients:
        if by == "pattern":
            group = patient["pattern"]
        elif by == "confined":  # stats' confinement; older results: the boolean alone
            confinement = patient.get("confinement") or {
                True: "confined", False: "not_confined", None: "no_secondary"}[
                patient["secondary_confined_to_progressive"]]
            group = confinement.replace("_", " ")
        else:
            group = "secondary" if patient["n_secondary"] > 0 else NO_SECONDARY
        rows.append((str(patient["patient_id"]), group))
    frame = pd.DataFrame(rows, columns=["patient_id", "group"])
    if by == "pattern" and overrides is not None:
        if isinstance(overrides, pd.DataFrame):
            given = table_patterns(overrides)
        else:
            given = {}
            for pid, value in dict(overrides).items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    value = ""
                value = str(value).strip().lower()
                if value and value not in PATTERNS:
                    raise OptionError(f"unknown pattern {value!r} for patient {pid!r}",
                                      field="pattern", hint=f"accepted: {', '.join(PATTERNS)}")
                given[str(pid)] = {"pattern": value or None}
        for i, patient in enumerate(stats_patients):
            if patient.get("pattern_source", PATTERN_SOURCES[-1]) != PATTERN_SOURCES[-1]:
                continue  # the statistics already took it from the patient table
            pid, derived = frame.loc[i, "patient_id"], frame.loc[i, "group"]
            row = given.get(pid)
            if not row or (row.get("pattern") is None
                           and row.get("radiology_progressive") is None):
                continue
            value, source = decide_pattern(pid, [], [], row, focal_max)
            if value != derived:
                log.warning("patient %s: pattern %r from the patient table (%s) replaces %r "
                            "from the lesions", pid, value, source, derived)
            frame.loc[i, "group"] = value
    frame.attrs["by"] = by
    return frame


def group_order(by: str, names: Iterable[str]) -> list[str]:
    """Groups in display order: the grouping's canonical order, then the rest sorted."""
    names = set(names)
    canonical = GROUP_ORDER.get(by, ())
    return [g for g in canonical if g in names] + sorted(names - set(canonical))


def endpoint_frame(patients: pd.DataFrame, groups: pd.DataFrame, endpoint: str,
                   *, warn: bool = True) -> pd.DataFrame:
    """``patient_id``, ``group``, ``time`` (months), ``event`` (0/1) of one endpoint.

    Patients of the table unknown to ``groups`` (the sample sheet) raise
    :class:`PatientTableError` naming the row; patients of ``groups`` missing from the table
    are left out (a warning lists them when ``warn``).
    """
    source = patients.attrs.get("path", "patient table")
    time_col, event_col = f"{endpoint}_months", f"{endpoint}_event"
    if endpoint not in ENDPOINTS:
        raise OptionError(f"unknown endpoint {endpoint!r}",
                          hint=f"accepted: {', '.join(ENDPOINTS)}")
    if time_col not in patients or event_col not in patients:
        raise OptionError(f"the patient table has no {endpoint.upper()} columns", file=source)
    if "patient_id" not in groups or "group" not in groups:
        raise OptionError("groups need the columns patient_id and group")
    if groups["patient_id"].duplicated().any():
        pid = groups.loc[groups["patient_id"].duplicated(), "patient_id"].iloc[0]
        raise OptionError(f"patient {pid!r} has two groups")
    known = set(groups["patient_id"])
    lines = patients["line"] if "line" in patients else pd.Series(
        [f"row {i + 1}" for i in range(len(patients))], index=patients.index)
    for pid, line in zip(patients["patient_id"], lines, strict=True):
        if pid not in known:
            raise PatientTableError(f"patient {pid!r} is not in the sample sheet", file=source,
                                    where=line, field="patient_id",
                                    hint="every patient of the table needs lesions in the "
                                         "sample sheet")
    missing = sorted(known - set(patients["patient_id"]))
    if missing and warn:
        log.warning("%d patient(s) of the sample sheet are not in the patient table and are "
                    "left out of the outcome analysis: %s", len(missing), ", ".join(missing))
    data = patients[["patient_id", time_col, event_col]].merge(groups[["patient_id", "group"]],
                                                               on="patient_id", how="inner")
    data = data.rename(columns={time_col: "time", event_col: "event"})
    time = pd.to_numeric(data["time"], errors="coerce")
    event = pd.to_numeric(data["event"], errors="coerce")
    bad = ~(np.isfinite(time) & (time >= 0) & event.isin([0, 1]))
    if bad.any():
        pid = data.loc[bad, "patient_id"].iloc[0]
        raise PatientTableError(f"patient {pid!r}: {endpoint} time must be a number >= 0 and "
                                "its event 0 or 1", file=source, field=time_col)
    data["time"], data["event"] = time.astype(float), event.astype(int)
    return data[["patient_id", "group", "time", "event"]].reset_index(drop=True)


# --------------------------------------------------------------------------- statistics

def _num(value) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def at_risk_times(max_time: float, step: int = AT_RISK_STEP) -> list[int]:
    """0, step, 2*step, ... up to the longest follow-up (at least up to 12 months)."""
    last = max(max(LANDMARKS), math.floor(max_time / step) * step if max_time > 0 else 0)
    return list(range(0, last + 1, step))


def kaplan_meier(time: Iterable[float], event: Iterable[int]):
    """A fitted lifelines ``KaplanMeierFitter``."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(np.asarray(list(time), dtype=float),
                                   np.asarray(list(event), dtype=int))


def survival_at(kmf, t: float) -> float | None:
    """S(t) of a fitted Kaplan-Meier; None beyond the last follow-up when it was censored."""
    curve = kmf.survival_function_.iloc[:, 0]
    last_time = float(kmf.durations.max())
    value = float(curve[curve.index <= t].iloc[-1])
    if t > last_time and value > 0:
        return None
    return value


def _group_summary(data: pd.DataFrame, times: list[int]) -> dict:
    from lifelines.utils import median_survival_times

    kmf = kaplan_meier(data["time"], data["event"])
    ci = median_survival_times(kmf.confidence_interval_)
    lower = next(c for c in ci.columns if "lower" in c)
    upper = next(c for c in ci.columns if "upper" in c)
    return {
        "n": len(data),
        "events": int(data["event"].sum()),
        "median": _num(kmf.median_survival_time_),
        "median_ci": [_num(ci[lower].iloc[0]), _num(ci[upper].iloc[0])],
        "survival_6m": survival_at(kmf, 6),
        "survival_12m": survival_at(kmf, 12),
        "at_risk": {str(t): int((data["time"] >= t).sum()) for t in times},
    }


def logrank(data: pd.DataFrame) -> float | None:
    """p of the log-rank test across groups; None with fewer than 2 groups or no event."""
    from lifelines.statistics import multivariate_logrank_test

    if data["group"].nunique() < 2 or data["event"].sum() == 0:
        return None
    result = multivariate_logrank_test(data["time"], data["group"], data["event"])
    return _num(result.p_value)


def _monotone(data: pd.DataFrame, indicator: pd.Series) -> bool:
    """True when the Cox partial likelihood has no finite maximum (binary covariate).

    It increases for ever when every event of the reference group (x = 0) happens with no
    patient of the other group (x = 1) at risk, and decreases for ever in the mirror case.
    """
    time, event, x = data["time"].to_numpy(), data["event"].to_numpy(), indicator.to_numpy()

    def never_meets(value: int) -> bool:
        for t in time[(event == 1) & (x == value)]:
            if ((time >= t) & (x != value)).any():
                return False
        return True

    return never_meets(0) or never_meets(1)


def cox_hazard_ratio(data: pd.DataFrame, reference: str) -> dict:
    """Hazard ratio of the non-reference group vs ``reference`` (two groups), by the rule of
    the module docstring; ``{"hazard_ratio", "hazard_ratio_ci", "note"}``."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    empty = {"hazard_ratio": None, "hazard_ratio_ci": None}
    names = sorted(set(data["group"]))
    if len(names) != 2:
        return {**empty, "note": f"no hazard ratio: {len(names)} group(s), the Cox model here "
                                 "compares exactly two"}
    events = data.groupby("group")["event"].sum()
    if events.sum() < 2 or (events < 1).any():
        return {**empty, "note": "no hazard ratio: needs >= 2 events in total and >= 1 in "
                                 "each group"}
    other = next(n for n in names if n != reference)
    indicator = (data["group"] == other).astype(int)
    if _monotone(data, indicator):
        return {**empty, "note": "no hazard ratio: the groups' follow-up does not overlap at "
                                 "the events (monotone likelihood, the estimate is 0 or "
                                 "infinite)"}
    frame = pd.DataFrame({"time": data["time"], "event": data["event"], "x": indicator})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            cph = CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    except (ConvergenceError, ConvergenceWarning) as exc:
        return {**empty, "note": f"no hazard ratio: the Cox fit did not converge ({exc})"}
    row = cph.summary.loc["x"]
    ratio = _num(row["exp(coef)"])
    ci = [_num(row["exp(coef) lower 95%"]), _num(row["exp(coef) upper 95%"])]
    if ratio is None or None in ci:
        return {**empty, "note": "no hazard ratio: the Cox estimate is not finite"}
    return {"hazard_ratio": ratio, "hazard_ratio_ci": ci,
            "note": f"Cox proportional hazards (Efron ties): hazard of {other!r} relative to "
                    f"{reference!r}, Wald 95% CI"}


def endpoint_summary(data: pd.DataFrame, by: str) -> dict:
    """Kaplan-Meier per group, log-rank and Cox of one endpoint's frame
    (:func:`endpoint_frame`)."""
    order = group_order(by, data["group"])
    times = at_risk_times(float(data["time"].max()) if len(data) else 0.0)
    groups = {name: _group_summary(data[data["group"] == name], times) for name in order}
    reference = order[0] if order else None
    if reference is None:
        cox = {"hazard_ratio": None, "hazard_ratio_ci": None, "note": "no patients"}
    else:
        cox = cox_hazard_ratio(data, reference)
    return {
        "by": by, "groups": groups, "logrank_p": logrank(data) if len(data) else None,
        "hazard_ratio": cox["hazard_ratio"], "hazard_ratio_ci": cox["hazard_ratio_ci"],
        "reference_group": reference if len(order) == 2 else None,
        "time_unit": "months", "note": cox["note"],
    }


def endpoints_of(patients: pd.DataFrame) -> list[str]:
    """The endpoints whose columns the patient table has."""
    return [e for e in ENDPOINTS
            if f"{e}_months" in patients and f"{e}_event" in patients]


def outcomes(patients: pd.DataFrame, groups: pd.DataFrame, by: str = DEFAULT_GROUPING) -> dict:
    """Outcome per group of every endpoint the patient table has.

    ``patients``: :func:`lesiontrack.patients.read_patients` (or any frame with ``patient_id``
    and ``<endpoint>_months``/``<endpoint>_event``); ``groups``: ``patient_id``, ``group``
    (:func:`groups_from_stats`). Returns ``{"pfs": E, "os": E}`` (JSON-safe: no NaN or
    infinity), E = ``{"by", "groups": {name: {"n", "events", "median", "median_ci",
    "survival_6m", "survival_12m", "at_risk"}}, "logrank_p", "hazard_ratio",
    "hazard_ratio_ci", "reference_group", "time_unit", "note", "time_zero",
    "event_definition"}`` (time zero: ``progression_date``; the PFS event: progression or
    death, whichever first, in date style; as given in month style).
    Raises :class:`PatientTableError` for a patient of the table not in the sample sheet.
    """
    endpoints = endpoints_of(patients)
    if not endpoints:
        raise OptionError("the patient table has no outcome columns",
                          file=patients.attrs.get("path"))
    style = patients.attrs.get("style") or "months"
    result = {}
    for i, endpoint in enumerate(endpoints):
        data = endpoint_frame(patients, groups, endpoint, warn=i == 0)
        result[endpoint] = {**endpoint_summary(data, by), "time_zero": TIME_ZERO,
                            "event_definition": EVENT_DEFINITIONS[(endpoint, style)]}
    return _json_safe(result)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value)
    return value


OUTCOMES_TABLE_COLUMNS: list[str] = [
    "endpoint", "by", "group", "n", "events", "median_months", "median_ci_low",
    "median_ci_high", "survival_6m", "survival_12m", "at_risk", "logrank_p", "reference_group",
    "hazard_ratio", "hazard_ratio_ci_low", "hazard_ratio_ci_high", "note",
]


def outcomes_table(result: dict) -> pd.DataFrame:
    """One row per (endpoint, group) of :func:`outcomes`. The endpoint's log-rank p is on every
    row; the hazard ratio on the non-reference group's row (``note`` says why it is empty);
    ``at_risk`` reads ``0:9;6:7;...``."""
    rows = []
    for endpoint, summary in result.items():
        for name, g in summary["groups"].items():
            is_other = summary["reference_group"] is not None and name != summary[
                "reference_group"]
            ci = summary["hazard_ratio_ci"] if is_other and summary["hazard_ratio_ci"] else [
                None, None]
            rows.append({
                "endpoint": endpoint, "by": summary["by"], "group": name, "n": g["n"],
                "events": g["events"], "median_months": g["median"],
                "median_ci_low": g["median_ci"][0], "median_ci_high": g["median_ci"][1],
                "survival_6m": g["survival_6m"], "survival_12m": g["survival_12m"],
                "at_risk": ";".join(f"{t}:{n}" for t, n in g["at_risk"].items()),
                "logrank_p": summary["logrank_p"], "reference_group": summary["reference_group"],
                "hazard_ratio": summary["hazard_ratio"] if is_other else None,
                "hazard_ratio_ci_low": ci[0], "hazard_ratio_ci_high": ci[1],
                "note": summary.get("note"),
            })
    frame = pd.DataFrame.from_records(rows, columns=OUTCOMES_TABLE_COLUMNS)
    for column in ("n", "events"):
        frame[column] = frame[column].astype(int)
    return frame


def outcomes_json(result: dict) -> str:
    """The result as indented JSON (raises ValueError on any NaN or infinity)."""
    return json.dumps(result, indent=2, allow_nan=False) + "\n"


def write_outcomes(outdir: str | os.PathLike[str], result: dict,
                   svgs: Mapping[str, str], *, force: bool = False,
                   inputs: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> list[Path]:
    """Write ``outcomes.json``, ``outcomes.tsv`` and ``km_<endpoint>.svg`` (one per SVG given)
    into ``outdir`` (parents created), built beside it and moved into place when complete, as
    a report is. A non-empty ``outdir`` is refused unless ``force`` (then replaced whole), as
    is one that holds any of ``inputs`` (``(role, path)``). Returns the paths written."""
    unknown = [e for e in svgs if e not in ENDPOINTS]
    if unknown:
        raise OptionError(f"unknown endpoint {unknown[0]!r}",
                          hint=f"accepted: {', '.join(ENDPOINTS)}")
    outdir = Path(outdir)
    names = ["outcomes.json", "outcomes.tsv", *(f"km_{e}.svg" for e in svgs)]
    with building_folder(outdir, force=force, inputs=inputs) as built:
        (built / names[0]).write_text(outcomes_json(result), encoding="utf-8", newline="\n")
        frame_to_tsv(outcomes_table(result), built / names[1])
        for name, svg in zip(names[2:], svgs.values(), strict=True):
            (built / name).write_text(svg if svg.endswith("\n") else svg + "\n",
                                      encoding="utf-8", newline="\n")
    return [outdir / name for name in names]


__all__ = [
    "GROUPINGS",
    "PatientTableError",
    "analyse",
    "endpoint_frame",
    "group_order",
    "groups_from_stats",
    "outcomes",
    "outcomes_json",
    "outcomes_table",
    "survival",
    "write_outcomes",
]


def survival(patients: pd.DataFrame, clustering: dict | list[dict], by: str = DEFAULT_GROUPING, *,
             focal_max: int = DEFAULT_FOCAL_MAX) -> dict:
    """Outcome after salvage therapy per group of patients (:func:`outcomes`'s result):
    ``patients`` the patient table (:func:`lesiontrack.patients.read_patients`),
    ``clustering`` the result of :func:`lesiontrack.stats.clustering_test` (or its
    ``patients`` list), ``by`` one of :data:`~lesiontrack.options.GROUPINGS`."""
    stats_patients = clustering["patients"] if isinstance(clustering, dict) else clustering
    return analyse(patients, stats_patients, by, focal_max=focal_max)[0]


def analyse(patients: pd.DataFrame, stats_patients: list[dict], by: str = DEFAULT_GROUPING, *,
            focal_max: int = DEFAULT_FOCAL_MAX) -> tuple[dict, pd.DataFrame]:
    """Outcomes by group: (result of :func:`outcomes`, each patient's group of
    :func:`groups_from_stats`). The Kaplan-Meier figures of the result are
    :func:`lesiontrack.report.figures.km_figures` of the same patients and groups (drawing
    :func:`lesiontrack.survival_curves.km_curves`).

    ``stats_patients`` is ``test_clustering(...)["patients"]`` (best computed with
    ``patients=`` the same table, so that its patterns follow the table); ``patients`` the
    patient table (:func:`lesiontrack.patients.read_patients`).
    """
    groups = groups_from_stats(stats_patients, by, patients, focal_max=focal_max)
    return outcomes(patients, groups, by), groups
