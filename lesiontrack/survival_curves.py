"""The Kaplan-Meier curves of one endpoint as numbers, for a figure to draw (computing only).

Per group: the survival steps, the 95% confidence band, the censored patients on the curve, the
median and the numbers at risk at the figure's tick times; per endpoint: the log-rank p. The
fits and the test are those of ``outcomes.json`` (:func:`lesiontrack.outcomes.kaplan_meier` and
:func:`~lesiontrack.outcomes.logrank` on the same :func:`~lesiontrack.outcomes.endpoint_frame`),
so a figure cannot drift from the summary; :mod:`lesiontrack.report.figures` draws them.
Tick times: every :data:`~lesiontrack.outcomes.AT_RISK_STEP` months (twice that beyond 5 years
of follow-up), from 0 to the first tick at or after the longest follow-up (at least two steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .outcomes import AT_RISK_STEP, endpoint_frame, group_order, kaplan_meier, logrank


@dataclass(frozen=True)
class GroupCurve:
    """One group's Kaplan-Meier curve (times in months)."""

    name: str
    n: int
    events: int
    #: Median survival (lifelines' ``median_survival_time_``): infinite when not reached.
    median: float
    #: The step function: S(t) is ``survival[i]`` from ``times[i]`` on.
    times: tuple[float, ...]
    survival: tuple[float, ...]
    #: The 95% confidence band (exponential Greenwood), a step function too.
    band_times: tuple[float, ...]
    band_low: tuple[float, ...]
    band_high: tuple[float, ...]
    #: The censored patients' times and S(t) at each (where the figure marks them).
    censored: tuple[float, ...]
    censored_survival: tuple[float, ...]
    #: Patients whose time is >= each tick time (:attr:`KMCurves.ticks`).
    at_risk: tuple[int, ...]


@dataclass(frozen=True)
class KMCurves:
    """The Kaplan-Meier curves of one endpoint, groups in display order."""

    endpoint: str
    by: str
    ticks: tuple[int, ...]
    x_max: int
    groups: tuple[GroupCurve, ...]
    logrank_p: float | None


def _group_curve(name: str, data: pd.DataFrame, ticks: list[int]) -> GroupCurve:
    kmf = kaplan_meier(data["time"], data["event"])
    curve = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_
    censored = data.loc[data["event"] == 0, "time"]
    return GroupCurve(
        name=name, n=len(data), events=int(data["event"].sum()),
        median=float(kmf.median_survival_time_),
        times=tuple(float(t) for t in curve.index), survival=tuple(curve.to_numpy().tolist()),
        band_times=tuple(float(t) for t in band.index),
        band_low=tuple(band.iloc[:, 0].to_numpy().tolist()),
        band_high=tuple(band.iloc[:, 1].to_numpy().tolist()),
        censored=tuple(censored.to_numpy().tolist()),
        censored_survival=tuple(float(curve[curve.index <= t].iloc[-1]) for t in censored),
        at_risk=tuple(int((data["time"] >= t).sum()) for t in ticks),
    )


def km_curves(patients: pd.DataFrame, groups: pd.DataFrame, endpoint: str, *,
              by: str | None = None) -> KMCurves:
    """The Kaplan-Meier curves of ``endpoint`` (``pfs``/``os``) per group of ``groups``
    (:func:`lesiontrack.outcomes.groups_from_stats`; ``by`` names the grouping, default
    ``groups.attrs["by"]``) and their log-rank p. Raises like
    :func:`lesiontrack.outcomes.outcomes`, but does not log the patients left out."""
    data = endpoint_frame(patients, groups, endpoint, warn=False)
    by = by or groups.attrs.get("by", "group")
    max_time = float(data["time"].max()) if len(data) else 0.0
    step = AT_RISK_STEP if max_time <= 60 else 2 * AT_RISK_STEP
    x_max = max(2 * step, step * math.ceil(max_time / step))
    ticks = list(range(0, x_max + 1, step))
    names = group_order(by, data["group"])
    return KMCurves(
        endpoint=endpoint, by=by, ticks=tuple(ticks), x_max=x_max,
        groups=tuple(_group_curve(name, data[data["group"] == name], ticks) for name in names),
        logrank_p=logrank(data),
    )


__all__ = ["GroupCurve", "KMCurves", "km_curves"]
