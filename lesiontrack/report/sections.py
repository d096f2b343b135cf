"""The patient page's sections beyond the matrix cells, as view models: the progression
pattern in words, the matrix split and its compact heatmap, the lesion tree, the timeline, the
resistance summary with its lesions x drugs grid, and the roads to resistance.

Each takes what :mod:`lesiontrack.cohort` computed (patterns, trees, timelines,
resistance entries, road records) and only words and draws it; lesions and mutations are the
:class:`~lesiontrack.report.views.Lesion` and :class:`~lesiontrack.report.views.Mutation` of
the page.
"""

from __future__ import annotations

from markupsafe import Markup

from ..order import natural_key as _natural
from ..text import as_number, plural
from . import figures, tree_figure

#: Genes always shown in detail on a patient page.
KEY_GENES = ("KIT", "PDGFRA")
#: Display order of the origins.
ORIGIN_ORDER = {"primary": 0, "secondary": 1, "undetermined": 2}
#: A patient with more mutations than this gets the detailed matrix for KIT/PDGFRA and counted
#: secondary mutations (up to this many rows) and a compact heatmap for the rest.
MAX_MATRIX_ROWS = 40


#: What each confinement means, in words.
CONFINEMENT_SENTENCES = {
    "confined": "Every counted secondary mutation is confined to progressive lesions (evaluable "
                "controlled lesions lack them).",
    "not_confined": "At least one counted secondary mutation is also detected in a controlled "
                    "lesion.",
    "no_secondary": "No counted secondary mutation was found.",
    "not_assessable": "Confinement is not assessable: no evaluable controlled lesion, or the "
                      "secondary mutations were seen only outside the lesions (e.g. plasma).",
}


def pattern_words(pattern: dict | None, focal_max: int) -> dict:
    if pattern is None:
        return {"name": "not assessed", "css": "unknown",
                "text": "No progressive or controlled lesion with calls: the progression pattern "
                        "was not assessed.", "confined": "", "source": ""}
    prog, ctrl = pattern["progressive_lesions"], pattern["controlled_lesions"]
    names = {"focal": "focal", "generalized": "generalized", "none": "none",
             "unknown": "unknown"}
    source = pattern.get("pattern_source", "sequenced lesions")
    n_prog, n_ctrl = len(prog), len(ctrl)
    prog_text = f"{n_prog} progressive {plural(n_prog, 'lesion')}"
    if prog:
        prog_text += f" ({', '.join(prog)})"
    ctrl_text = f"{n_ctrl} controlled {plural(n_ctrl, 'lesion')}"
    if source == "radiology":
        r_prog, r_ctrl = pattern["radiology_progressive"], pattern["radiology_controlled"]
        prog_text = f"{r_prog} progressive {plural(r_prog, 'lesion')} on imaging"
        n_ctrl = r_ctrl
        ctrl_text = f"{r_ctrl} controlled {plural(r_ctrl, 'lesion')}"
    sequenced = (f"Sequenced: {n_prog} progressive and {len(ctrl)} controlled "
                 f"{plural(len(ctrl), 'lesion')}.")
    if source == "patients table pattern":
        text = f"{pattern['pattern'].capitalize()}, as stated in the patient table."
        if pattern.get("radiology_progressive") is not None:
            text += (f" Imaging: {pattern['radiology_progressive']} progressive, "
                     f"{pattern['radiology_controlled']} controlled.")
        text += f" {sequenced}"
    elif pattern["pattern"] == "focal":
        text = (f"Focal progression: {prog_text} while {ctrl_text} "
                f"{plural(n_ctrl, 'stays', 'stay')} controlled (focal means at most "
                f"{focal_max} progressive {plural(focal_max, 'lesion')} with others controlled).")
    elif pattern["pattern"] == "generalized":
        text = (f"Generalized progression: {prog_text}"
                + (f" and {ctrl_text}." if n_ctrl else ", no controlled lesion."))
    elif pattern["pattern"] == "unknown":
        n_seq = n_prog + len(ctrl)
        text = (f"Pattern unknown: only {n_seq} sequenced {plural(n_seq, 'lesion')} with a "
                "progressive or controlled status, and no patient table gives its pattern or "
                "radiology lesion counts.")
    else:
        text = f"No progressive lesion ({ctrl_text})."
    if source == "radiology":
        text += f" {sequenced}"
    confinement = pattern.get("confinement") or {
        True: "confined", False: "not_confined", None: "no_secondary"}[
        pattern.get("secondary_confined_to_progressive")]
    confined_text = CONFINEMENT_SENTENCES.get(confinement, confinement)
    return {"name": names.get(pattern["pattern"], str(pattern["pattern"])),
            "css": pattern["pattern"], "text": text, "confined": confined_text,
            "source": f"from {source}"}


def split_matrix(mutations: list, limit: int = MAX_MATRIX_ROWS
                 ) -> tuple[list, list]:
    """(the mutations shown in the detailed matrix, the rest): all of them when there are at
    most ``limit``; else KIT/PDGFRA mutations, then counted secondary mutations (those detected
    in the most lesions first) up to ``limit`` rows. Both lists keep the page's order."""
    if len(mutations) <= limit:
        return list(mutations), []
    key = [m for m in mutations if m.gene in KEY_GENES]
    secondary = sorted((m for m in mutations
                        if m.gene not in KEY_GENES and m.origin == "secondary" and m.counted),
                       key=lambda m: (-m.pattern().count("+"), _natural(m.variant_key)))
    chosen = {m.anchor for m in key + secondary[:max(0, limit - len(key))]}
    return ([m for m in mutations if m.anchor in chosen],
            [m for m in mutations if m.anchor not in chosen])


def heatmap(lesions: list, rest: list) -> Markup | None:
    """The compact view of ``rest``: one thin row per mutation, sorted by origin, then by the
    lesions that carry it."""
    if not rest:
        return None
    ordered = sorted(rest, key=lambda m: (ORIGIN_ORDER.get(m.origin, 3),
                                          m.pattern().replace("+", "0").replace("-", "1")
                                          .replace(".", "2"), _natural(m.variant_key)))
    return figures.mutation_heatmap_svg(
        [figures.HeatLesion(x.lesion_id, x.status) for x in lesions],
        [(m.origin, m.pattern()) for m in ordered])


#: Order of the branches of the lesion tree in the compact heatmap.
BRANCH_ORDER = {"trunk": 0, "shared": 1, "private": 2}


def _tree_marks(rows: list[tuple], names: dict) -> dict[str, list]:
    """Per branch (its ``lesions`` text), the mutations marked on it: counted secondary
    mutations and mutations flagged convergent; convergent, then KIT/PDGFRA, first."""
    out: dict[str, list] = {}
    for row in rows:
        key, lesions, convergent, origin = row[1], row[3], bool(row[6]), row[9]
        mutation = names.get(key)
        counted = mutation.counted if mutation is not None else True
        if not convergent and not (origin == "secondary" and counted):
            continue
        label = mutation.name if mutation is not None else key
        gene = mutation.gene if mutation is not None else ""
        out.setdefault(lesions, []).append(
            (not convergent, gene not in KEY_GENES, _natural(label),
             tree_figure.TreeMark(label, str(origin), convergent)))
    return {k: [m[-1] for m in sorted(v, key=lambda m: m[:3])] for k, v in out.items()}


def tree_view(tree, lesions: list, mutations: list) -> dict | None:
    """The lesion tree section of a patient page from the patient's
    :class:`~lesiontrack.phylo_tree.PatientTree` (None without a tree)."""
    if tree is None:
        return None
    status = {x.lesion_id: x.status for x in lesions}
    marks = _tree_marks(tree.rows, {m.variant_key: m for m in mutations})
    names = tree.lesions

    def mask_of(node) -> int:
        return 1 << node if isinstance(node, int) else mask_of(node[0]) | mask_of(node[1])

    def build(node) -> tree_figure.TreeNode:
        mask = mask_of(node)
        text = ",".join(names[j] for j in range(len(names)) if mask >> j & 1)
        drawn = tree_figure.TreeNode(length=tree.branch_lengths.get(mask, 0),
                                     marks=marks.get(text, []))
        if isinstance(node, int):
            drawn.name, drawn.status = names[node], status.get(names[node], "unknown")
        else:
            drawn.children = [build(node[0]), build(node[1])]
        return drawn

    summary = tree.to_dict()
    heterogeneity = tree.heterogeneity()
    return {
        "svg": tree_figure.lesion_tree_svg(build(tree.topology), method=tree.method,
                                           contradictions=tree.contradictions),
        "method": tree.method, "contradictions": tree.contradictions,
        "n_mutations": tree.n_mutations, "branch": summary["branch"],
        "presence": summary["presence"], "convergent": summary["convergent"],
        "excluded": summary["excluded"],
        "unresolved": len(names) > 2 and summary["branch"]["shared"] == 0,
        "jaccard_svg": tree_figure.jaccard_svg(list(names), heterogeneity["jaccard"]),
        "private_svg": tree_figure.private_fraction_svg(
            [(x, status.get(x, "unknown")) for x in names], heterogeneity["private_fraction"]),
    }


def heatmap_by_branch(lesions: list, rest: list, tree) -> Markup | None:
    """The compact view of ``rest`` ordered by the branch of the lesion tree each mutation sits
    on (trunk, shared, private; mutations not placed last), then by the lesions below it, by
    origin and by the lesions that carry it."""
    if not rest:
        return None
    placed = {row[1]: (row[2], row[3]) for row in tree.rows}

    def order(m) -> tuple:
        branch, below = placed.get(m.variant_key, ("not placed", ""))
        return (BRANCH_ORDER.get(branch, 3), _natural(below), ORIGIN_ORDER.get(m.origin, 3),
                m.pattern().replace("+", "0").replace("-", "1").replace(".", "2"),
                _natural(m.variant_key))

    ordered = sorted(rest, key=order)
    return figures.mutation_heatmap_svg(
        [figures.HeatLesion(x.lesion_id, x.status) for x in lesions],
        [(m.origin, m.pattern()) for m in ordered],
        groups=[placed.get(m.variant_key, ("not placed", ""))[0] for m in ordered])


def timeline_view(timeline: dict | None) -> dict | None:
    """The timeline section of a patient page: its figure and the lead times in words (None
    when the patient has no dated sample)."""
    if not timeline or not any(s.get("date") for s in timeline.get("samples", [])):
        return None
    from .timeline_figure import timeline_svg

    leads = []
    for row in timeline.get("lead_times", []):
        days = int(row["lead_days"])
        when = (f"{days} days ({days / 30.4375:.1f} months) before" if days > 0 else
                "on the same day as" if days == 0 else f"{-days} days after")
        leads.append(f"{row['name']}: first detected in plasma on {row['first_plasma_date']}, "
                     f"{when} {row['lesion_id']} was first recorded progressive "
                     f"({row['first_progressive_date']})")
    return {"svg": timeline_svg(timeline), "leads": leads,
            "samples": [s for s in timeline.get("samples", [])]}


#: What the page's lesions x drugs grid says of each verdict.
COVERAGE_WORDS = {"covered": "covered", "not_covered": "not covered", "unknown": "unknown"}
#: Said beside every drug-coverage grid.
COVERAGE_NOTICE = ("This grid summarises published series (the drug-activity table and its "
                   "sources); it is not a treatment recommendation.")


def resistance_view(entry: dict | None) -> dict | None:
    """The patient page's resistance section from the patient's
    :func:`~lesiontrack.resistance.patient_resistance` entry: counts in words and the lesions x
    drugs grid (:func:`~lesiontrack.resistance.coverage_grid`); None without a secondary
    mutation detected in a lesion."""
    from ..resistance import coverage_grid

    if not entry or not entry.get("secondary_lesions"):
        return None
    lesions = entry["secondary_lesions"]
    n, n_two = entry["n_distinct_secondaries"], entry["n_lesions_with_two_or_more_secondaries"]
    parts = [f"{n} distinct counted secondary {plural(n, 'mutation')} in "
             f"{len(lesions)} {plural(len(lesions), 'lesion')} ({', '.join(lesions)})",
             f"{n_two} {plural(n_two, 'lesion carries', 'lesions carry')} two or more"]
    recurrent = entry["recurrent_secondaries"]
    parts.append(f"in two or more lesions: {', '.join(recurrent)}" if recurrent
                 else "none is detected in two or more lesions")
    if entry["regions"]:
        parts.append(f"{plural(len(entry['regions']), 'region')}: "
                     f"{', '.join(entry['regions'])}")
    covering = entry["drugs_covering_all_secondary_lesions"]
    coverage = (f"Drugs covering every lesion with a secondary mutation: "
                f"{', '.join(covering)}." if covering else
                "No single drug covers every lesion with a secondary mutation.")
    grid = coverage_grid(entry)
    rows = [{"lesion": lesion,
             "cells": [{"drug": drug, "verdict": grid.loc[lesion, drug],
                        "words": COVERAGE_WORDS.get(grid.loc[lesion, drug], "unknown")}
                       for drug in grid.columns]}
            for lesion in grid.index]
    return {"sentence": "; ".join(parts) + ".", "coverage": coverage,
            "drugs": list(grid.columns), "rows": rows, "notice": COVERAGE_NOTICE}


# ----------------------------------------------------------------------------------------------
# roads to resistance (copy number and the progression mechanism; lesiontrack.roads)
# ----------------------------------------------------------------------------------------------

#: Words for the progression mechanisms on the pages.
MECHANISM_WORDS = {
    "secondary_mutation": "a secondary KIT/PDGFRA mutation",
    "KIT_amplification": "KIT amplification",
    "PDGFRA_amplification": "PDGFRA amplification",
    "unexplained": "unexplained: neither a secondary mutation nor an amplification",
    "not_evaluable": "not evaluable",
}


def mechanism_words(mechanism: str) -> str:
    """A progression mechanism (or ``a+b``) in words."""
    if mechanism in MECHANISM_WORDS:
        return MECHANISM_WORDS[mechanism]
    return " and ".join(MECHANISM_WORDS.get(part, part) for part in mechanism.split("+"))


def _copy_number_text(value) -> str:
    number = as_number(value)
    return "—" if number is None else f"{number:.1f}"


def roads_view(roads: dict | None, lesions: list) -> dict:
    """The patient page's roads section: the mechanism of each progressive lesion and the
    copy-number track (one row per lesion, KIT and PDGFRA), in the page's lesion order."""
    roads = roads or {}
    order = {x.lesion_id: i for i, x in enumerate(lesions)}
    status = {x.lesion_id: x.status for x in lesions}
    mechanisms = sorted(roads.get("mechanisms", []),
                        key=lambda r: order.get(str(r["lesion_id"]), len(order)))
    rows = [{"lesion_id": str(r["lesion_id"]), "mechanism": r["progression_mechanism"],
             "words": mechanism_words(r["progression_mechanism"]),
             "secondary": r["secondary"], "copy_number": r["copy_number"],
             "reason": r["reason"]} for r in mechanisms]
    track: dict[str, dict] = {}
    for r in roads.get("track", []):
        entry = track.setdefault(str(r["lesion_id"]), {"lesion_id": str(r["lesion_id"]),
                                                        "status": status.get(str(r["lesion_id"]),
                                                                             ""),
                                                        "genes": {}})
        entry["genes"][r["gene"]] = {"cn": _copy_number_text(r["copy_number"]),
                                     "call": r["call"], "reason": r["reason"],
                                     "samples": r["samples"]}
    track_rows = sorted(track.values(), key=lambda e: order.get(e["lesion_id"], len(order)))
    controlled = [{"lesion_id": str(r["lesion_id"]), "evidence": r["evidence"]}
                  for r in roads.get("controlled", [])]
    return {"mechanisms": rows, "track": track_rows if roads.get("has_copy_number") else [],
            "genes": list(KEY_GENES), "controlled": controlled}


def roads_json(roads: dict | None) -> dict:
    """The patient JSON's ``progression_mechanism`` ({lesion_id: mechanism}, as in
    stats.json), ``roads_to_resistance`` (the mechanism rows with their reasons),
    ``copy_number`` (the KIT/PDGFRA track per lesion) and ``controlled_amplifications``."""
    roads = roads or {}
    mechanisms = roads.get("mechanisms", [])
    keep = ("lesion_id", "status", "progression_mechanism", "secondary", "copy_number", "reason")
    return {
        "progression_mechanism": {str(r["lesion_id"]): r["progression_mechanism"]
                                  for r in mechanisms},
        "roads_to_resistance": [{k: r[k] for k in keep} for r in mechanisms],
        "copy_number": ([{k: v for k, v in r.items() if k != "patient_id"}
                         for r in roads.get("track", [])] if roads.get("has_copy_number")
                        else []),
        "controlled_amplifications": [{k: v for k, v in r.items() if k != "patient_id"}
                                      for r in roads.get("controlled", [])],
    }

