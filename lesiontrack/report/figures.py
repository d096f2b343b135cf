"""Figures of the report, as SVG text ready to inline in a page (the Kaplan-Meier figures are
also the files ``lesiontrack outcomes -o`` writes).

Drawing never computes the science: each function takes rows the renderer already prepared;
the Kaplan-Meier curves, bands, numbers at risk and log-rank p come from
:func:`lesiontrack.survival_curves.km_curves` (the fits and test of ``outcomes.json``).
Output is deterministic (no dates, a fixed hash salt, sorted inputs), and every piece of text that
comes from the inputs is escaped.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup, escape

from ..survival_curves import KMCurves, km_curves

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Colour-blind-safe palette (Okabe-Ito). Origin of a mutation ...
ORIGIN_COLOURS: dict[str, str] = {
    "primary": "#0072B2",  # blue
    "secondary": "#D55E00",  # vermillion
    "undetermined": "#999999",  # grey
}
#: ... and response status of a lesion (never the same hues as the origins).
STATUS_COLOURS: dict[str, str] = {
    "baseline": "#E6D000",  # yellow (darkened a little so its border shows on white)
    "progressive": "#CC79A7",  # reddish purple
    "controlled": "#009E73",  # bluish green
    "unknown": "#BBBBBB",
}
INK = "#1B1F24"
MUTED = "#57606A"


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 0 is white, 1 the colour itself."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - c) * amount) for c in (red, green, blue))
    return "#" + "".join(f"{c:02X}" for c in mixed)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


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


# ----------------------------------------------------------------------------------------------
# Where secondary mutations fall (cohort page): matplotlib, grouped horizontal bars
# ----------------------------------------------------------------------------------------------

def secondary_by_exon_svg(rows: Sequence[dict]) -> Markup:
    """Grouped horizontal bars: lesions carrying a secondary mutation per exon and status.

    ``rows``: dicts with ``label`` (e.g. "KIT exon 17"), ``progressive`` and ``controlled``
    (counts of lesions), in display order (top to bottom). Returns inline SVG (no XML header).
    """
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    style = {
        "svg.hashsalt": "lesiontrack", "svg.fonttype": "none", "font.size": 10,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
        "axes.edgecolor": "#8C959F", "axes.labelcolor": INK, "xtick.color": MUTED,
        "ytick.color": INK, "text.color": INK,
    }
    n = len(rows)
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(7.2, 1.0 + (0.62 if n <= 12 else 0.4) * n), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        height = 0.36
        positions = list(range(n))
        top = max([1] + [max(r["progressive"], r["controlled"]) for r in rows])
        for offset, status in ((-height / 2, "progressive"), (height / 2, "controlled")):
            values = [r[status] for r in rows]
            bars = axes.barh([p + offset for p in positions], values, height=height,
                             color=STATUS_COLOURS[status], edgecolor=INK, linewidth=0.6,
                             label=f"{status} lesions", zorder=2)
            for bar, value in zip(bars, values, strict=True):
                axes.text(bar.get_width() + top * 0.015, bar.get_y() + bar.get_height() / 2,
                          str(value), va="center", ha="left", fontsize=9, color=INK)
        axes.set_yticks(positions, [r["label"] for r in rows])
        axes.invert_yaxis()
        axes.set_xlim(0, top * 1.15 + 0.2)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_xlabel("lesions carrying a secondary mutation in the exon")
        axes.grid(axis="x", color="#D0D7DE", linewidth=0.6, zorder=0)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(loc="lower right", frameon=False, fontsize=9)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = scoped_ids(buffer.getvalue(), "exon-")
    start = text.index("<svg")
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", text[start:], flags=re.S).strip()
    svg = svg.replace("*{stroke-linejoin", "svg.figure *{stroke-linejoin")  # keep it scoped
    svg = svg.replace("<svg ", '<svg role="img" aria-labelledby="fig-exon-title" '
                      'class="figure" ', 1)
    head_end = svg.index(">") + 1
    title = ('<title id="fig-exon-title">Lesions carrying a secondary mutation, by exon and '
             'lesion status</title>')
    return Markup(svg[:head_end] + title + svg[head_end:])


# ----------------------------------------------------------------------------------------------
# The lesion graph of one patient (patient page): hand-built SVG
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphLesion:
    """A lesion node: id, status group, a second line of text (site), a tooltip."""

    key: str
    label: str
    detail: str
    status: str


@dataclass(frozen=True)
class GraphMutation:
    """A mutation node: key, label (gene + protein change), detail (exon), origin."""

    key: str
    label: str
    detail: str
    origin: str


@dataclass(frozen=True)
class GraphEdge:
    """A lesion carries a mutation (detected), with its allele fraction and a tooltip."""

    lesion: str
    mutation: str
    vaf: float | None
    title: str


_STATUS_HEADINGS = {"baseline": "Baseline (pre-treatment)", "progressive": "Progressive",
                    "controlled": "Controlled", "unknown": "Status unknown"}
_ORIGIN_HEADINGS = {"primary": "Primary", "secondary": "Secondary (acquired)",
                    "undetermined": "Undetermined"}


def lesion_graph_svg(lesions: Sequence[GraphLesion], mutations: Sequence[GraphMutation],
                     edges: Sequence[GraphEdge]) -> Markup:
    """Two columns: lesions grouped by status (left), mutations grouped by origin (right),
    a curve wherever a lesion carries a mutation. Input order is kept within each group."""
    width, node_w, node_h, row = 860, 250, 34, 44
    left_x, right_x = 24, width - 24 - node_w
    group_gap, heading_h, top = 14, 22, 16

    def place(items, group_of, order, headings):
        y = top
        spots, labels = {}, []
        for group in order:
            members = [i for i in items if group_of(i) == group]
            if not members:
                continue
            labels.append((y + 14, headings.get(group, group)))
            y += heading_h
            for item in members:
                spots[item.key] = y
                y += row
            y += group_gap
        return spots, labels, y

    status_order = [*_STATUS_HEADINGS, *sorted({x.status for x in lesions} - set(_STATUS_HEADINGS))]
    origin_order = [*_ORIGIN_HEADINGS,
                    *sorted({m.origin for m in mutations} - set(_ORIGIN_HEADINGS))]
    lesion_y, lesion_heads, left_end = place(lesions, lambda x: x.status, status_order,
                                             _STATUS_HEADINGS)
    mutation_y, mutation_heads, right_end = place(mutations, lambda m: m.origin, origin_order,
                                                  _ORIGIN_HEADINGS)
    height = max(left_end, right_end, 90) + 4
    out = [f'<svg class="lesion-graph" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-labelledby="graph-title">',
           '<title id="graph-title">Lesions (left, grouped by status) and the mutations they '
           'carry (right, coloured by origin); a line means detected</title>']
    for y, text in lesion_heads:
        out.append(f'<text x="{left_x}" y="{y}" class="g-head">{escape(text)}</text>')
    for y, text in mutation_heads:
        out.append(f'<text x="{right_x}" y="{y}" class="g-head">{escape(text)}</text>')
    if not mutations:
        out.append(f'<text x="{right_x}" y="{top + 40}" class="g-detail">no mutation detected'
                   '</text>')
    # edges first, so that nodes sit on top of them
    for edge in sorted(edges, key=lambda e: (lesion_y.get(e.lesion, 0),
                                             mutation_y.get(e.mutation, 0))):
        if edge.lesion not in lesion_y or edge.mutation not in mutation_y:
            continue
        origin = next(m.origin for m in mutations if m.key == edge.mutation)
        colour = ORIGIN_COLOURS.get(origin, ORIGIN_COLOURS["undetermined"])
        x1, y1 = left_x + node_w, lesion_y[edge.lesion] + node_h / 2
        x2, y2 = right_x, mutation_y[edge.mutation] + node_h / 2
        middle = (x1 + x2) / 2
        stroke = 1.6 + 4.0 * min(max(edge.vaf or 0.0, 0.0), 1.0)
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="{colour}" stroke-width="{stroke:.1f}" '
            f'stroke-opacity="0.75"><title>{escape(edge.title)}</title></path>')
    for lesion in lesions:
        y = lesion_y[lesion.key]
        colour = STATUS_COLOURS.get(lesion.status, STATUS_COLOURS["unknown"])
        out.append(_node(left_x, y, node_w, node_h, colour, lesion.label, lesion.detail,
                         f"{lesion.label}: {lesion.status}"
                         + (f", {lesion.detail}" if lesion.detail else "")))
    for mutation in mutations:
        y = mutation_y[mutation.key]
        colour = ORIGIN_COLOURS.get(mutation.origin, ORIGIN_COLOURS["undetermined"])
        out.append(_node(right_x, y, node_w, node_h, colour, mutation.label, mutation.detail,
                         f"{mutation.label}: {mutation.origin}"))
    out.append("</svg>")
    return Markup("\n".join(out))


def _node(x: float, y: float, w: float, h: float, colour: str, label: str, detail: str,
          title: str) -> str:
    text = escape(clip(label, 24))
    extra = escape(clip(detail, 30 - min(len(label), 24) // 2)) if detail else ""
    return (
        f'<g class="g-node"><title>{escape(title)}</title>'
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{tint(colour, 0.22)}" '
        f'stroke="{colour}" stroke-width="1.5"/>'
        f'<rect x="{x}" y="{y}" width="7" height="{h}" rx="3" fill="{colour}"/>'
        f'<text x="{x + 16}" y="{y + h / 2 + 4.5:.1f}" class="g-label">{text}'
        + (f'<tspan class="g-detail" dx="8">{extra}</tspan>' if extra else "")
        + "</text></g>"
    )


# ----------------------------------------------------------------------------------------------
# The compact view of a patient's many mutations (patient page, --genes all): hand-built SVG
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HeatLesion:
    """A column of the heatmap: a lesion and its status."""

    key: str
    status: str


#: Fill of a heatmap cell that is not detected: absent (read, not seen) or not evaluable.
HEAT_ABSENT = "#FFFFFF"
HEAT_NOT_EVALUABLE = "#D0D7DE"
#: Most pixels the rows of the heatmap take together (rows get thinner beyond).
HEAT_MAX_HEIGHT = 600


def mutation_heatmap_svg(lesions: Sequence[HeatLesion],
                         rows: Sequence[tuple[str, str]],
                         groups: Sequence[str] | None = None) -> Markup:
    """One thin row per mutation, one column per lesion: detected cells coloured by origin,
    absent cells white, not-evaluable cells grey. ``rows``: (origin, states) in display order,
    states one character per lesion (``+`` detected, ``-`` absent, ``.`` not evaluable).
    Neighbouring rows with the same origin and states are drawn as one band (its tooltip says
    how many mutations), so the size follows the number of distinct patterns, not of rows.
    ``groups`` (one label per row, rows of a group together, e.g. the branch of the lesion
    tree: trunk, shared, private): the sections headed; default: the origins."""
    n = len(rows)
    row_h = min(4.0, max(HEAT_MAX_HEIGHT / max(n, 1), 0.25))
    label_w, col_w, head_h, pad = 170, 46, 46, 8
    width = label_w + col_w * max(len(lesions), 1) + pad
    height = head_h + row_h * n + pad
    out = [f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
           f'aria-labelledby="heatmap-title">',
           f'<title id="heatmap-title">{n} further {"mutation" if n == 1 else "mutations"}, one '
           'thin row each (coloured: detected, by origin; white: absent; grey: not '
           'evaluable)</title>']
    for i, lesion in enumerate(lesions):
        x = label_w + i * col_w
        colour = STATUS_COLOURS.get(lesion.status, STATUS_COLOURS["unknown"])
        out.append(f'<g><title>{escape(lesion.key)}: {escape(lesion.status)}</title>'
                   f'<rect x="{x + 2}" y="{head_h - 10}" width="{col_w - 4}" height="6" '
                   f'fill="{colour}"/><text x="{x + col_w / 2}" y="{head_h - 16}" '
                   f'text-anchor="middle" class="g-detail">{escape(clip(lesion.key, 7))}'
                   '</text></g>')
    labels = list(groups) if groups is not None else [origin for origin, _ in rows]
    bands: list[tuple[str, str, int, int]] = []  # origin, states, first row, rows
    for index, (origin, states) in enumerate(rows):
        if (bands and bands[-1][:2] == (origin, states)
                and labels[index] == labels[bands[-1][2]]):
            bands[-1] = (origin, states, bands[-1][2], bands[-1][3] + 1)
        else:
            bands.append((origin, states, index, 1))
    words = {"+": "detected", "-": "absent", ".": "not evaluable"}
    first_of: dict[str, int] = {}
    for index, label in enumerate(labels):
        first_of.setdefault(label, index)
    for origin, states, first, count in bands:
        y = head_h + first * row_h
        h = count * row_h
        parts = []
        for state in "+-.":
            names = [lesions[i].key for i, s in enumerate(states) if s == state and i < len(lesions)]
            if names:
                parts.append(f"{words[state]} in {', '.join(names)}")
        title = (f"{count} {origin} {'mutation' if count == 1 else 'mutations'}: "
                 + ("; ".join(parts) or "no lesion"))
        cells = []
        for i, state in enumerate(states[:len(lesions)]):
            fill = (ORIGIN_COLOURS.get(origin, ORIGIN_COLOURS["undetermined"]) if state == "+"
                    else HEAT_ABSENT if state == "-" else HEAT_NOT_EVALUABLE)
            cells.append(f'<rect x="{label_w + i * col_w + 2}" y="{y:.2f}" '
                         f'width="{col_w - 4}" height="{h:.2f}" fill="{fill}"/>')
        out.append(f"<g><title>{escape(title)}</title>{''.join(cells)}</g>")
    totals: dict[str, int] = {}
    for label in labels:
        totals[label] = totals.get(label, 0) + 1
    for label, first in first_of.items():
        y = head_h + first * row_h
        out.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y:.2f}" y2="{y:.2f}" '
                   f'stroke="{MUTED}" stroke-width="0.6"/>'
                   f'<text x="{pad}" y="{y + 12:.2f}" class="g-head">'
                   f'{escape(label)}: {totals[label]:,}</text>')
    out.append(f'<rect x="{label_w}" y="{head_h}" width="{col_w * len(lesions)}" '
               f'height="{row_h * n:.2f}" fill="none" stroke="{MUTED}" stroke-width="0.6"/>')
    out.append("</svg>")
    return Markup("\n".join(out))


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier curves of the outcome analysis (cohort page, lesiontrack outcomes -o)
# ----------------------------------------------------------------------------------------------

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
    curves = km_curves(patients, groups, endpoint, by=by)
    by = curves.by
    title = title or (f"{ENDPOINT_TITLES.get(endpoint, endpoint.upper())} after salvage "
                      f"therapy, by {BY_TITLES.get(by, by)}")
    import matplotlib

    with matplotlib.rc_context(RC_PARAMS):
        fig = draw_km(curves, title)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = scoped_ids(buffer.getvalue(), f"km-{endpoint}-{by}-")
    svg = svg[svg.index("<svg"):]
    # an accessible name for the inline SVG: <title> as the first child of <svg>
    head_end = svg.index(">") + 1
    return f"{svg[:head_end]}\n <title>{html.escape(title)}</title>{svg[head_end:]}"


def draw_km(curves: KMCurves, title: str) -> Figure:
    """The Figure of :func:`km_figure` from :func:`~lesiontrack.survival_curves.km_curves`
    (drawing only); build it inside ``matplotlib.rc_context(RC_PARAMS)``."""
    from matplotlib.figure import Figure

    endpoint, names = curves.endpoint, [g.name for g in curves.groups]
    colours = group_colours(names)
    x_max, ticks = curves.x_max, list(curves.ticks)
    n_rows = max(1, len(names))
    fig = Figure(figsize=(7.0, 4.6 + 0.22 * n_rows))
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.35 + 0.22 * n_rows], hspace=0.42,
                            left=0.16, right=0.97, top=0.92, bottom=0.11)
    ax = fig.add_subplot(grid[0])
    risk = fig.add_subplot(grid[1], sharex=ax)
    for i, group in enumerate(curves.groups):
        colour, style = colours[group.name], LINESTYLES[i % len(LINESTYLES)]
        label = (f"{group.name} (n = {group.n}, {group.events} "
                 f"event{'s' * (group.events != 1)}; median {_months(group.median)})")
        ax.step(group.times, group.survival, where="post", color=colour, linestyle=style,
                linewidth=1.8, label=label)
        ax.fill_between(group.band_times, group.band_low, group.band_high, step="post",
                        color=colour, alpha=0.12, linewidth=0)
        if group.censored:
            ax.plot(group.censored, group.censored_survival, linestyle="none", marker="|",
                    markersize=10, markeredgewidth=1.6, color=colour)
        for t, n in zip(ticks, group.at_risk, strict=True):
            risk.text(t, n_rows - 1 - i, str(n), ha="center", va="center", color=colour)
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
    p_value = curves.logrank_p
    stats = f"log-rank p = {p_value:.2g}" if p_value is not None else "log-rank p: n/a"
    fig.text(0.02, 0.012, f"Kaplan-Meier estimates, shaded 95% confidence bands, | = censored; "
                          f"{stats}.\n{CAPTION}", fontsize=7, color="#404040", va="bottom")
    return fig


def km_figures(patients: pd.DataFrame, groups: pd.DataFrame, result: dict) -> dict[str, str]:
    """``{endpoint: SVG}``: the Kaplan-Meier figure (:func:`km_figure`) of every endpoint of
    ``result`` (:func:`lesiontrack.outcomes.analyse`, whose ``groups`` these are)."""
    return {endpoint: km_figure(patients, groups, endpoint) for endpoint in result}
