"""What the cohort page shows: the clustering statistics in words, the patients table, where
secondary mutations fall (by exon and status), recurrent mutations, the roads to resistance,
the heterogeneity of resistance and the outcomes section.

Gathered patient by patient (:func:`cohort_part`, :class:`CohortSummary`) so the report never
holds every patient's page; the statistics and resistance come computed from
:mod:`lesiontrack.cohort`, the outcomes from :mod:`lesiontrack.outcomes`, through
:mod:`lesiontrack.report.build`.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from markupsafe import Markup

from ..evidence import DETECTED
from ..options import DEFAULT_GROUPING
from ..order import natural_key as _natural
from ..text import (
    as_number,
    clustering_lines,
    exon_label,
    format_ci,
    format_count,
    format_months,
    format_ratio,
    format_share,
    p_phrase,
    plural,
    undefined_because,
)
from ..text import is_missing as _missing
from . import figures
from .sections import COVERAGE_NOTICE, KEY_GENES, mechanism_words

#: Beyond this many rows, a cohort figure or table shows the rows with the most lesions or
#: patients and says how many more there are (``--genes all`` on an exome cohort).
MAX_ROWS = 30
#: Mutation names listed per patient in the cohort page's patients table.
MAX_NAMES = 8


def stats_view(stats: dict) -> dict:
    """The clustering statistics (:func:`~lesiontrack.test_clustering`) in a sentence, its
    2x2 lesion table and the detail lines."""
    table = stats.get("lesion_table", {})
    a = int(table.get("progressive_with_secondary", 0))
    b = int(table.get("progressive_without", 0))
    c = int(table.get("controlled_with_secondary", 0))
    d = int(table.get("controlled_without", 0))
    fisher = stats.get("fisher", {})
    perm = stats.get("permutation", {})
    parts = []
    if perm:
        n_perm = int(perm.get("n_permutations", 0))
        informative = int(perm.get("informative_patients", 0))
        parts.append(f"Shuffling progression labels within each patient (the headline test: "
                     f"lesions of one patient are not independent), "
                     f"{p_phrase(perm.get('p_value'))} ({format_count(n_perm)} "
                     f"{plural(n_perm, 'permutation')}; {informative} informative "
                     f"{plural(informative, 'patient')})")
    parts.append(f"{a} of {a + b} evaluable progressive {plural(a + b, 'lesion')} "
                 f"{plural(a, 'carries', 'carry')} a secondary mutation, against {c} of {c + d} "
                 f"evaluable controlled {plural(c + d, 'lesion')}")
    n_prog_ne = int(table.get("progressive_not_evaluable", 0))
    n_ctrl_ne = int(table.get("controlled_not_evaluable", 0))
    if n_prog_ne or n_ctrl_ne:
        parts.append(f"left out as not evaluable: {n_prog_ne} progressive and {n_ctrl_ne} "
                     f"controlled {plural(n_prog_ne + n_ctrl_ne, 'lesion')}")
    if as_number(fisher.get("p_value")) is None:
        why = undefined_because(fisher.get("note")) or "the table cannot be tested"
        parts.append(f"the pooled Fisher exact test (descriptive) is undefined ({why})")
    else:
        parts.append(f"pooled one-sided Fisher exact (descriptive only) "
                     f"{p_phrase(fisher['p_value'])}")
    sentence = "; ".join(parts) + "."
    details = clustering_lines(stats)
    return {"a": a, "b": b, "c": c, "d": d, "sentence": sentence, "details": details,
            "n_tested": int(stats.get("n_lesions_tested", a + b + c + d)),
            "progressive_not_evaluable": n_prog_ne, "controlled_not_evaluable": n_ctrl_ne}


def cohort_part(view: dict, pattern: dict | None) -> dict:
    """What the cohort page needs of one patient's page view: its row in the patients table,
    its secondary hits by exon and status, its secondary mutations (for the recurrent table),
    counts. Small: a patient's rendered graph, evidence and cells are not kept."""
    pattern = pattern or {}
    lesions = {x.lesion_id: x for x in view["lesions"]}
    exon_hits: set[tuple[str, str, str, str]] = set()  # (gene, exon, status, lesion)
    recurrent: dict[tuple[str, str], dict] = {}
    for mutation in view["mutations"]:
        if mutation.origin != "secondary":
            continue
        group = recurrent.setdefault((mutation.gene, mutation.hgvsp or mutation.variant_key),
                                     {"name": mutation.name, "exon": mutation.exon,
                                      "progressive": 0, "controlled": 0, "other": 0})
        for cell in mutation.cells:
            lesion = lesions[cell.lesion_id]
            if cell.state != DETECTED or lesion.role != "lesion":
                continue
            if lesion.status in ("progressive", "controlled"):
                if mutation.counted:  # the figure shows what the statistics count
                    exon_hits.add((mutation.gene, mutation.exon, lesion.status,
                                   lesion.lesion_id))
                group[lesion.status] += 1
            else:
                group["other"] += 1
    confined = pattern.get("secondary_confined_to_progressive")
    mutations = view["mutations"]
    row = {
        "file": view["file"], "pattern": view["pattern"],
        "n_lesions": sum(x.role == "lesion" for x in view["lesions"]),
        "n_progressive": pattern.get("n_progressive", 0),
        "n_controlled": pattern.get("n_controlled", 0),
        "has_baseline": any(x.role == "baseline" for x in view["lesions"]),
        **_names(mutations, "primary"), **_names(mutations, "secondary"),
        **_names(mutations, "undetermined"),
        "confined": {True: "yes", False: "no"}.get(
            confined, "not assessable" if pattern.get("confinement") == "not_assessable"
            else "—"),
        "flags": sum(bool(m.flags) for m in mutations),
    }
    counts: dict[str, int] = defaultdict(int)
    for m in mutations:
        counts[m.origin] += 1
    return {"row": row, "exon_hits": sorted(exon_hits), "recurrent": recurrent,
            "counts": dict(counts)}


def _roads_cohort_view(stats: dict, files: dict[str, str]) -> dict:
    """The cohort page's "Roads to resistance": how many progressive lesions each road
    explains (:func:`lesiontrack.mechanism.mechanism_counts` of the statistics'
    ``progression_mechanism``), the unexplained lesions, and the controlled lesions with a KIT
    amplification."""
    from ..mechanism import MECHANISM_COLUMNS, mechanism_counts

    rows = [{"patient_id": str(p["patient_id"]), "lesion_id": str(lesion),
             "progression_mechanism": mechanism}
            for p in stats.get("patients", [])
            for lesion, mechanism in (p.get("progression_mechanism") or {}).items()]
    frame = pd.DataFrame(rows, columns=MECHANISM_COLUMNS)
    counts = [{"mechanism": r["progression_mechanism"],
               "words": mechanism_words(r["progression_mechanism"]), "lesions": r["lesions"]}
              for r in mechanism_counts(frame).to_dict("records")] if len(frame) else []
    unexplained = sorted(({"patient": r["patient_id"], "lesion": r["lesion_id"],
                           "file": files.get(r["patient_id"], "")}
                          for r in rows if r["progression_mechanism"] == "unexplained"),
                         key=lambda r: (_natural(r["patient"]), _natural(r["lesion"])))
    controlled = sorted(({"patient": str(p["patient_id"]), "file": files.get(
        str(p["patient_id"]), ""), **flag}
        for p in stats.get("patients", []) for flag in p.get("controlled_amplifications") or []),
        key=lambda r: (_natural(r["patient"]), _natural(r["lesion_id"])))
    shown_unexplained, unexplained_more = top_rows(unexplained)
    return {"counts": counts, "n_progressive": len(rows), "unexplained": shown_unexplained,
            "unexplained_more": unexplained_more, "n_unexplained": len(unexplained),
            "controlled": controlled[:MAX_ROWS],
            "controlled_more": max(0, len(controlled) - MAX_ROWS)}


def _names(mutations: list, origin: str, limit: int = MAX_NAMES) -> dict:
    """``{origin: the first names (KIT/PDGFRA first), origin_more: how many more}``."""
    names = [m.name for m in mutations if m.origin == origin and m.gene in KEY_GENES]
    names += [m.name for m in mutations if m.origin == origin and m.gene not in KEY_GENES]
    return {origin: names[:limit], f"{origin}_more": max(0, len(names) - limit)}


def top_rows(rows: list[dict], limit: int = MAX_ROWS) -> tuple[list[dict], int]:
    """(at most ``limit`` exon rows: all in their order when they fit, else those with the
    most lesions, most first; how many more there are)."""
    if len(rows) <= limit:
        return rows, 0
    ranked = sorted(range(len(rows)), key=lambda i: (
        -(rows[i]["progressive"] + rows[i]["controlled"]), -rows[i]["progressive"], i))
    return [rows[i] for i in ranked[:limit]], len(rows) - limit


class CohortSummary:
    """The cohort page's data, gathered patient by patient (:func:`cohort_part`)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.exons: dict[tuple[str, str], dict[str, int]] = {}
        self.groups: dict[tuple[str, str], dict] = {}
        self.named_by: dict[tuple[str, str], tuple] = {}  # the patient a group's name is from
        self.counts: dict[str, int] = defaultdict(int)
        self.n_lesions = 0

    def add(self, patient: str, part: dict) -> None:
        self.rows.append({"id": patient, **part["row"]})
        self.n_lesions += part["row"]["n_lesions"]
        for gene, exon, status, _ in part["exon_hits"]:
            found = self.exons.setdefault((gene, exon), {"progressive": 0, "controlled": 0})
            found[status] += 1
        for key, mine in part["recurrent"].items():
            group = self.groups.setdefault(key, {"name": mine["name"], "exon": mine["exon"],
                                                 "patients": {}, "progressive": 0,
                                                 "controlled": 0, "other": 0})
            first = self.named_by.get(key)
            if first is None or _natural(patient) < first:  # whatever order patients come in
                self.named_by[key] = _natural(patient)
                group["name"], group["exon"] = mine["name"], mine["exon"]
            group["patients"][patient] = part["row"]["file"]
            for bucket in ("progressive", "controlled", "other"):
                group[bucket] += mine[bucket]
        for origin, n in part["counts"].items():
            self.counts[origin] += n

    def view(self, stats: dict) -> dict:
        exon_rows = [{"label": exon_label(gene, exon), **self.exons[(gene, exon)]}
                     for gene, exon in sorted(self.exons, key=lambda k: (k[0], _natural(k[1])))]
        exon_rows, exons_more = top_rows(exon_rows)
        recurrent = []
        for key in sorted(self.groups, key=lambda k: (-len(self.groups[k]["patients"]), k)):
            group = dict(self.groups[key])
            if len(group["patients"]) >= 2:
                group["patients"] = [{"id": p, "file": f} for p, f in
                                     sorted(group["patients"].items(),
                                            key=lambda x: _natural(x[0]))]
                recurrent.append(group)
        recurrent_more = max(0, len(recurrent) - MAX_ROWS)
        recurrent = recurrent[:MAX_ROWS]
        return {
            "patients": sorted(self.rows, key=lambda r: _natural(r["id"])),
            "stats": stats_view(stats), "exon_rows": exon_rows, "exons_more": exons_more,
            "exon_svg": figures.secondary_by_exon_svg(exon_rows) if exon_rows else None,
            "recurrent": recurrent, "recurrent_more": recurrent_more, "counts": self.counts, "n_lesions": self.n_lesions,
            "roads": _roads_cohort_view(stats, {r["id"]: r["file"] for r in self.rows}),
        }


def outcomes_view(outcomes: dict | None) -> dict | None:
    """The outcomes section of the cohort page (figures as inline SVG, one row per group)."""
    if not outcomes:
        return None
    from ..outcomes import outcomes_table

    names = {"pfs": "Progression-free survival", "os": "Overall survival"}

    def months(value) -> str:
        return format_months(value)

    def share(value) -> str:
        return format_share(value, missing="")

    endpoints = []
    for endpoint, summary in outcomes["result"].items():
        rows = []
        for row in outcomes_table({endpoint: summary}).to_dict("records"):
            low, high = row.get("median_ci_low"), row.get("median_ci_high")
            ci = "" if low is None or _missing(low) else f"{months(low)} to {months(high)}"
            rows.append({"group": row["group"], "patients": row["n"], "events": row["events"],
                         "median (months)": months(row.get("median_months")),
                         "95% CI": ci, "at 6 months": share(row.get("survival_6m")),
                         "at 12 months": share(row.get("survival_12m"))})
        hazard = ""
        if not _missing(summary.get("hazard_ratio")):
            low, high = summary.get("hazard_ratio_ci") or (None, None)
            ci = format_ci(low, high)
            hazard = format_ratio(summary["hazard_ratio"]) + (f" ({ci})" if ci else "")
        endpoints.append({"name": names.get(endpoint, endpoint), "key": endpoint,
                          "svg": Markup(outcomes["figures"].get(endpoint, "")),
                          "rows": rows, "logrank": p_phrase(summary.get("logrank_p")),
                          "hazard_ratio": hazard, "reference_group": summary.get("reference_group"),
                          "note": summary.get("note", "")})
    return {"by": outcomes.get("by", DEFAULT_GROUPING), "endpoints": endpoints}


def heterogeneity_view(found: dict, resistance: pd.DataFrame) -> dict:
    """The cohort page's "Heterogeneity of resistance" section from the cohort's
    :func:`~lesiontrack.resistance.heterogeneity` (``found``) and resistance table: the sentence
    (:func:`~lesiontrack.resistance.heterogeneity_words`), the counts by region and the figure
    (:func:`~lesiontrack.report.resistance_figure.heterogeneity_svg`)."""
    from ..resistance import heterogeneity_words
    from .resistance_figure import heterogeneity_svg

    regions = found.get("secondaries_by_region") or {}
    return {"sentence": heterogeneity_words(found),
            "regions": [{"region": r, "n": n} for r, n in regions.items()],
            "svg": heterogeneity_svg(resistance) if found["n_patients_with_secondary"] else None,
            "notice": COVERAGE_NOTICE}
