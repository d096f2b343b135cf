"""The cohort figure of resistance heterogeneity: per patient, lesions as columns and secondary
mutations as marks coloured by region.

Drawing never computes the science: it takes the table of :mod:`lesiontrack.resistance` (states
already decided) and only lays it out. Deterministic SVG text; every input text is escaped.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape

from ..evidence import ABSENT, DETECTED, LOW_LEVEL, NOT_EVALUABLE
from ..order import natural_key as _natural
from ..resistance import OTHER_REGION, REGION_ORDER
from .figures import INK, MUTED, STATUS_COLOURS, clip

#: Region colours (Okabe-Ito hues not used for origins or statuses).
REGION_COLOURS: dict[str, str] = {
    "ATP-binding pocket": "#56B4E9",  # sky blue
    "activation loop": "#E69F00",  # orange
}
OTHER_COLOUR = "#8C959F"
_STATUS_ORDER = ("progressive", "controlled", "baseline", "unknown")


def region_colour(region: str) -> str:
    """Colour of a region's marks (grey for any region without its own colour)."""
    return REGION_COLOURS.get(region, OTHER_COLOUR)


#: Most secondary mutations drawn per patient, and most patients drawn (an exome cohort has
#: hundreds of "secondary" passengers): the rest are counted in words under the figure.
MAX_MUTATIONS_PER_PATIENT = 12
MAX_PATIENTS = 30


def heterogeneity_svg(table: pd.DataFrame, *, max_mutations: int = MAX_MUTATIONS_PER_PATIENT,
                      max_patients: int = MAX_PATIENTS) -> Markup:
    """Per patient with a detected secondary: a small grid, lesions as columns (status bar
    below the name), secondary mutations as rows; a filled mark where detected (coloured by
    region), a ring where low-level, a dash where absent, "n.e." where not evaluable.

    At most ``max_patients`` patients (those with the most distinct secondary mutations) and
    ``max_mutations`` mutations a patient (known resistance regions first, then those detected
    in the most lesions) are drawn; a line says how many more there are.
    ``table``: :data:`lesiontrack.resistance.RESISTANCE_COLUMNS` rows. Returns inline SVG.
    """
    frame = table.copy()
    for column in ("patient_id", "lesion_id", "status", "variant_key", "name", "region", "state"):
        frame[column] = frame[column].fillna("").astype(str) if column in frame else ""
    frame["name"] = frame["name"].where(frame["name"] != "", frame["variant_key"])
    frame["region"] = frame["region"].where(frame["region"] != "", OTHER_REGION)
    detected = frame[frame["state"] == DETECTED]
    carrying = sorted(set(detected["patient_id"]), key=_natural)
    n_distinct = detected.drop_duplicates(["patient_id", "variant_key"])["patient_id"] \
        .value_counts().to_dict()
    hidden_patients = max(0, len(carrying) - max_patients)
    if hidden_patients:
        kept = set(sorted(carrying, key=lambda p: (-n_distinct[p], _natural(p)))[:max_patients])
        carrying = [p for p in carrying if p in kept]
    label_w, cell_w, row_h, head_h, gap, left = 190, 58, 24, 40, 18, 12
    blocks = []
    for patient in carrying:
        rows = frame[frame["patient_id"] == patient]
        status = dict(zip(rows["lesion_id"], rows["status"], strict=False))
        lesions = sorted(status, key=lambda x: (
            _STATUS_ORDER.index(status[x]) if status[x] in _STATUS_ORDER else len(_STATUS_ORDER),
            _natural(x)))
        hits = rows.loc[rows["state"] == DETECTED]
        spread = hits.groupby("variant_key")["lesion_id"].nunique().to_dict()
        keys = hits.drop_duplicates("variant_key")
        keys = sorted(zip(keys["variant_key"], keys["name"], keys["region"], strict=True),
                      key=lambda k: (REGION_ORDER.index(k[2]) if k[2] in REGION_ORDER
                                     else len(REGION_ORDER), -spread[k[0]], _natural(k[1]),
                                     k[0]))
        more = max(0, len(keys) - max_mutations)
        keys = keys[:max_mutations]
        states = {}
        for r in rows.itertuples(index=False):
            states.setdefault((r.lesion_id, r.variant_key), set()).add(r.state)
        blocks.append((patient, lesions, status, keys, states, more))
    width = max([480] + [left + label_w + cell_w * len(b[1]) + 12 for b in blocks])
    legend_h = 34
    height = (legend_h + sum(head_h + row_h * (len(b[3]) + (b[5] > 0)) + gap for b in blocks)
              + 8 + (row_h if hidden_patients else 0))
    if not blocks:
        height = legend_h + 40
    out = [f'<svg class="heterogeneity" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-labelledby="heterogeneity-title">',
           '<title id="heterogeneity-title">Secondary mutations per lesion of each patient, '
           'coloured by region</title>']
    x = left
    for region in (*REGION_ORDER, OTHER_REGION):
        out.append(f'<circle cx="{x + 6}" cy="16" r="6" fill="{region_colour(region)}" '
                   f'stroke="{INK}" stroke-width="0.6"/>')
        out.append(f'<text x="{x + 16}" y="20" font-size="11" fill="{INK}">{escape(region)}'
                   '</text>')
        x += 30 + 7 * len(region)
    out.append(f'<text x="{x}" y="20" font-size="11" fill="{MUTED}">ring: low-level; '
               '\u2013: absent; n.e.: not evaluable</text>')
    if not blocks:
        out.append(f'<text x="{left}" y="{legend_h + 24}" font-size="12" fill="{MUTED}">'
                   'No secondary mutation detected in a lesion.</text>')
    y = legend_h
    for patient, lesions, status, keys, states, more in blocks:
        out.append(f'<text x="{left}" y="{y + 14}" font-size="12" font-weight="bold" '
                   f'fill="{INK}">{escape(clip(patient, 30))}</text>')
        for i, lesion in enumerate(lesions):
            cx = left + label_w + cell_w * i + cell_w / 2
            colour = STATUS_COLOURS.get(status[lesion], STATUS_COLOURS["unknown"])
            out.append(f'<text x="{cx:.1f}" y="{y + 26}" font-size="10" text-anchor="middle" '
                       f'fill="{INK}">{escape(clip(lesion, 9))}'
                       f'<title>{escape(lesion)}: {escape(status[lesion])}</title></text>')
            out.append(f'<rect x="{cx - cell_w / 2 + 6:.1f}" y="{y + 30}" width="{cell_w - 12}" '
                       f'height="4" fill="{colour}"/>')
        y += head_h
        for key, name, region in keys:
            out.append(f'<text x="{left + 8}" y="{y + 16}" font-size="11" fill="{INK}">'
                       f'{escape(clip(name, 28))}<title>{escape(name)} ({escape(region)})'
                       '</title></text>')
            for i, lesion in enumerate(lesions):
                cx, cy = left + label_w + cell_w * i + cell_w / 2, y + row_h / 2
                found = states.get((lesion, key), set())
                state = next((s for s in (DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE)
                              if s in found), None)
                tip = f"<title>{escape(name)} in {escape(lesion)}: {escape(state or 'no data')}</title>"
                if state == DETECTED:
                    out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" '
                               f'fill="{region_colour(region)}" stroke="{INK}" '
                               f'stroke-width="0.6">{tip}</circle>')
                elif state == LOW_LEVEL:
                    out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="none" '
                               f'stroke="{region_colour(region)}" stroke-width="2">{tip}</circle>')
                elif state == ABSENT:
                    out.append(f'<text x="{cx:.1f}" y="{cy + 4:.1f}" font-size="12" '
                               f'text-anchor="middle" fill="{MUTED}">\u2013{tip}</text>')
                elif state == NOT_EVALUABLE:
                    out.append(f'<text x="{cx:.1f}" y="{cy + 3:.1f}" font-size="9" '
                               f'text-anchor="middle" fill="{MUTED}">n.e.{tip}</text>')
            y += row_h
        if more:
            out.append(f'<text x="{left + 8}" y="{y + 16}" font-size="11" fill="{MUTED}">'
                       f'and {more} more secondary mutation{"s" if more > 1 else ""} (see the '
                       'patient page)</text>')
            y += row_h
        y += gap
    if hidden_patients:
        out.append(f'<text x="{left}" y="{y + 14}" font-size="12" fill="{MUTED}">and '
                   f'{hidden_patients} more patient{"s" if hidden_patients > 1 else ""} with '
                   'secondary mutations (fewer distinct ones; see their pages)</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


__all__ = ["REGION_COLOURS", "heterogeneity_svg", "region_colour"]
