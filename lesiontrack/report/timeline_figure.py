"""The patient's timeline figure: allele fraction over time (log scale), plasma draws as lines,
tissue samples as points, and the dates that matter as vertical lines (a lesion first recorded
progressive, the patient table's treatment start and progression dates).

Drawing never computes the science: it takes the ``timeline`` of
:func:`lesiontrack.timeline.patient_timelines` (states already decided) and lays it out.
Deterministic SVG text; every input text is escaped.
"""

from __future__ import annotations

import datetime as dt
import math

from markupsafe import Markup, escape

from .figures import INK, MUTED, ORIGIN_COLOURS

#: The VAF axis (log scale): from 0.05% to 100%.
VAF_FLOOR, VAF_CEILING = 0.0005, 1.0
_TICKS = (0.001, 0.01, 0.1, 1.0)
#: Colours of the vertical date lines.
PROGRESSIVE_LINE = "#CF222E"
TABLE_LINE = "#57606A"


def _days(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def timeline_svg(timeline: dict | None) -> Markup | None:
    """Inline SVG of a patient's timeline, or None when fewer than two dated samples or no
    detected allele fraction can be placed."""
    if not timeline:
        return None
    samples = [s for s in timeline.get("samples", []) if s.get("date")]
    if len({s["date"] for s in samples}) < 2:
        return None
    marks = []  # (date, vaf, name, origin, role, lesion)
    for s in samples:
        for m in s["mutations"]:
            if m["state"] == "detected" and m.get("vaf"):
                marks.append((s["date"], float(m["vaf"]), m["name"], m.get("origin", ""),
                              s["role"], s["lesion_id"]))
    if not marks:
        return None
    lines = [("progressive " + x["lesion_id"], x["date"], PROGRESSIVE_LINE)
             for x in timeline.get("progressive_dates", [])]
    for column, label in (("treatment_start_date", "treatment start"),
                          ("progression_date", "progression (table)")):
        if timeline.get(column):
            lines.append((label, timeline[column], TABLE_LINE))
    every = [d for d, *_ in marks] + [d for _, d, _ in lines] + [s["date"] for s in samples]
    first, last = _days(min(every)), _days(max(every))
    span = max(1, last - first)
    left, right, top, bottom, width, height = 64, 180, 28, 40, 720, 300
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(date: str) -> float:
        return left + plot_w * (_days(date) - first) / span

    def y_of(vaf: float) -> float:
        v = min(max(vaf, VAF_FLOOR), VAF_CEILING)
        share = (math.log10(v) - math.log10(VAF_FLOOR)) / (
            math.log10(VAF_CEILING) - math.log10(VAF_FLOOR))
        return top + plot_h * (1 - share)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="allele fraction over '
           'time">']
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
               f'stroke="{MUTED}" stroke-width="0.5"/>')
    for tick in _TICKS:
        y = y_of(tick)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#D0D7DE" stroke-width="0.5"/>')
        label = f"{100 * tick:g}%"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                   f'fill="{INK}">{label}</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="11" fill="{INK}" '
               f'transform="rotate(-90 14 {top + plot_h / 2:.1f})" text-anchor="middle">VAF '
               '(log scale)</text>')
    shown_at = -1e9  # a date label closer than ~62 px to the last one shown is left out
    for date in sorted({s["date"] for s in samples}):
        if x_of(date) - shown_at < 62:
            continue
        shown_at = x_of(date)
        out.append(f'<text x="{x_of(date):.1f}" y="{top + plot_h + 16}" font-size="10" '
                   f'text-anchor="middle" fill="{MUTED}">{escape(date)}<title>'
                   f'{escape(date)}</title></text>')
    for number, (label, date, colour) in enumerate(lines):
        x = x_of(date)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
                   f'stroke="{colour}" stroke-dasharray="4 3" stroke-width="1"><title>'
                   f'{escape(label)}: {escape(date)}</title></line>')
        # a label that would run past the plot's right edge ends at its line instead
        ends = x + 3 + 5.6 * len(label) > left + plot_w
        out.append(f'<text x="{x - 3 if ends else x + 3:.1f}" '
                   f'y="{top + 10 + 11 * (number % 3)}" font-size="10" '
                   f'text-anchor="{"end" if ends else "start"}" fill="{colour}">'
                   f'{escape(label)}</text>')
    names = sorted({(m[2], m[3]) for m in marks})
    for row, (name, origin) in enumerate(names):
        colour = ORIGIN_COLOURS.get(origin, ORIGIN_COLOURS["undetermined"])
        plasma = sorted((d, v) for d, v, n, _, role, _ in marks if n == name and role == "plasma")
        if len(plasma) >= 2:
            points = " ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in plasma)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                       f'stroke-width="2"><title>{escape(name)} in plasma</title></polyline>')
        for d, v in plasma:
            out.append(f'<circle cx="{x_of(d):.1f}" cy="{y_of(v):.1f}" r="2.5" '
                       f'fill="{colour}"><title>{escape(name)} plasma {escape(d)}: VAF '
                       f'{100 * v:.2g}%</title></circle>')
        for d, v, n, _, role, lesion in marks:
            if n != name or role == "plasma":
                continue
            out.append(f'<rect x="{x_of(d) - 4:.1f}" y="{y_of(v) - 4:.1f}" width="8" '
                       f'height="8" fill="white" stroke="{colour}" stroke-width="2"><title>'
                       f'{escape(name)} {escape(lesion)} {escape(d)}: VAF {100 * v:.2g}%'
                       '</title></rect>')
        y = top + 6 + 16 * row
        out.append(f'<line x1="{width - right + 12}" x2="{width - right + 30}" y1="{y}" '
                   f'y2="{y}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{width - right + 34}" y="{y + 4}" font-size="11" '
                   f'fill="{INK}">{escape(name[:26])}</text>')
    legend_y = top + 6 + 16 * len(names) + 8
    out.append(f'<text x="{width - right + 12}" y="{legend_y + 4}" font-size="10" '
               f'fill="{MUTED}">lines: plasma; squares: tissue</text>')
    out.append("</svg>")
    return Markup("".join(out))
