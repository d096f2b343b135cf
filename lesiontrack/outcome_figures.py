"""Kaplan-Meier figures of the outcome analysis, as inline SVG.

Drawing only: the curves come from :func:`lesiontrack.outcomes.kaplan_meier` and the log-rank
p from :func:`lesiontrack.outcomes.logrank`, the same numbers ``outcomes.json`` reports.
The SVG is deterministic (no date, fixed ``svg.hashsalt``, text kept as text) and starts at
``<svg``, ready to be inlined in HTML or written as a file.
"""

from __future__ import annotations

import html
import io
import math
import re

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from .outcomes import (
    AT_RISK_STEP,
    _order,
    endpoint_frame,
    kaplan_meier,
    logrank,
)

#: Okabe-Ito colours (colour-blind safe); groups not named here get grey tones.
GROUP_COLOURS: dict[str, str] = {
    "focal": "#0072B2", "generalized": "#D55E00",
    "confined": "#0072B2", "not confined": "#D55E00",
    "secondary": "#D55E00",
}
GREYS: tuple[str, ...] = ("#595959", "#8C8C8C", "#383838", "#A6A6A6")
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":")
ENDPOINT_TITLES = {"pfs": "Progression-free survival", "os": "Overall survival"}
BY_TITLES = {"pattern": "progression pattern",
             "confined": "secondary mutations confined to progressive lesions",
             "secondary": "secondary mutation found"}
CAPTION = "For research use only, not for clinical decisions."
SVG_HASHSALT = "lesiontrack-km"
#: Matplotlib settings of every figure: deterministic SVG, text kept as text.
RC_PARAMS = {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "none",
             "font.family": "DejaVu Sans", "font.size": 9,
             "axes.spines.top": False, "axes.spines.right": False}


def group_colours(names: list[str]) -> dict[str, str]:
    """Colour of each group: fixed for known groups, grey tones for the others, in order."""
    colours, greys = {}, iter(GREYS * (1 + len(names)))
    for name in names:
        colours[name] = GROUP_COLOURS.get(name) or next(greys)
    return colours


def _months(value: float | None) -> str:
    return "not reached" if value is None or not math.isfinite(value) else f"{value:.1f} mo"


def km_figure(patients: pd.DataFrame, groups: pd.DataFrame, endpoint: str, *,
              by: str | None = None, title: str | None = None) -> str:
    """Kaplan-Meier curves of ``endpoint`` (``pfs``/``os``) per group, as an SVG string.

    Censored patients are ticks on the curves; the numbers at risk every 6 months (12 beyond
    5 years of follow-up) are a table under the plot. ``by`` names the grouping in the title
    (default: ``groups.attrs["by"]``). Raises like :func:`lesiontrack.outcomes.outcomes`, but
    does not log the patients left out (``outcomes`` does).
    """
    data = endpoint_frame(patients, groups, endpoint, warn=False)
    by = by or groups.attrs.get("by", "group")
    title = title or (f"{ENDPOINT_TITLES.get(endpoint, endpoint.upper())} after salvage "
                      f"therapy, by {BY_TITLES.get(by, by)}")
    with matplotlib.rc_context(RC_PARAMS):
        fig = draw_km(data, _order(by, data["group"]), endpoint, title)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = scoped_ids(buffer.getvalue(), f"km-{endpoint}-{by}-")
    svg = svg[svg.index("<svg"):]
    # an accessible name for the inline SVG: <title> as the first child of <svg>
    head_end = svg.index(">") + 1
    return f"{svg[:head_end]}\n <title>{html.escape(title)}</title>{svg[head_end:]}"


def scoped_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` (and each ``url(#id)``, ``href="#id"`` naming it) prefixed by
    ``prefix``: matplotlib numbers its ids per figure (``figure_1``, ``line2d_1``, clip paths
    from a fixed hash salt), so two figures inlined in one page would share them."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    pattern = re.compile(rf'(\bid="|url\(#|href="#)({names})(?=[")])')
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


def draw_km(data: pd.DataFrame, names: list[str], endpoint: str, title: str) -> Figure:
    """The Figure of :func:`km_figure` from an :func:`endpoint_frame` (``names`` in display
    order); build it inside ``matplotlib.rc_context(RC_PARAMS)``."""
    colours = group_colours(names)
    max_time = float(data["time"].max()) if len(data) else 0.0
    step = AT_RISK_STEP if max_time <= 60 else 2 * AT_RISK_STEP
    x_max = max(2 * step, step * math.ceil(max_time / step))
    ticks = list(range(0, x_max + 1, step))
    n_rows = max(1, len(names))
    fig = Figure(figsize=(7.0, 4.6 + 0.22 * n_rows))
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.35 + 0.22 * n_rows], hspace=0.42,
                            left=0.16, right=0.97, top=0.92, bottom=0.11)
    ax = fig.add_subplot(grid[0])
    risk = fig.add_subplot(grid[1], sharex=ax)
    for i, name in enumerate(names):
        sub = data[data["group"] == name]
        kmf = kaplan_meier(sub["time"], sub["event"])
        curve = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_
        colour, style = colours[name], LINESTYLES[i % len(LINESTYLES)]
        events = int(sub["event"].sum())
        label = (f"{name} (n = {len(sub)}, {events} event{'s' * (events != 1)}; "
                 f"median {_months(kmf.median_survival_time_)})")
        ax.step(curve.index, curve.to_numpy(), where="post", color=colour, linestyle=style,
                linewidth=1.8, label=label)
        ax.fill_between(band.index, band.iloc[:, 0], band.iloc[:, 1], step="post",
                        color=colour, alpha=0.12, linewidth=0)
        censored = sub.loc[sub["event"] == 0, "time"]
        if len(censored):
            at = [float(curve[curve.index <= t].iloc[-1]) for t in censored]
            ax.plot(censored, at, linestyle="none", marker="|", markersize=10,
                    markeredgewidth=1.6, color=colour)
        for t in ticks:
            risk.text(t, n_rows - 1 - i, str(int((sub["time"] >= t).sum())), ha="center",
                      va="center", color=colour)
    ax.set_xlim(0, x_max)
    ax.set_ylim(-0.02, 1.04)
    ax.set_xticks(ticks)
    ax.set_ylabel(f"{ENDPOINT_TITLES.get(endpoint, endpoint.upper())} (probability)")
    ax.set_xlabel("Months since progression_date (progression on imatinib: start of salvage "
                  "follow-up)")
    ax.grid(axis="y", color="#E0E0E0", linewidth=0.6)
    if names:
        ax.legend(loc="upper right", frameon=False, fontsize=8)
    else:
        ax.text(x_max / 2, 0.5, "no patients", ha="center", va="center")
    ax.set_title(title, fontsize=10, loc="left")
    risk.set_ylim(-0.6, n_rows - 0.4)
    risk.set_yticks(range(n_rows), list(reversed(names)) or [""])
    for label, name in zip(risk.get_yticklabels(), reversed(names), strict=False):
        label.set_color(colours[name])
    risk.tick_params(axis="x", labelbottom=False, length=0)
    risk.tick_params(axis="y", length=0, pad=14)
    for side in ("top", "right", "bottom", "left"):
        risk.spines[side].set_visible(False)
    risk.set_title("Number at risk", fontsize=8, loc="left")
    p_value = logrank(data)
    stats = f"log-rank p = {p_value:.2g}" if p_value is not None else "log-rank p: n/a"
    fig.text(0.02, 0.012, f"Kaplan-Meier estimates, shaded 95% confidence bands, | = censored; "
                          f"{stats}.\n{CAPTION}", fontsize=7, color="#404040", va="bottom")
    return fig


__all__ = ["GROUP_COLOURS", "RC_PARAMS", "draw_km", "km_figure"]
