"""What a patient page shows: its lesions, the lesion x mutation cells, its mutations (names,
origin rules, knowledge and drug notes), the whole page's view and the patient's JSON.

Nothing here decides a state, an origin or a pattern: cells show the state of
:func:`lesiontrack.evidence.lesion_states`, mutations the rows of
:func:`lesiontrack.compare.classify`, and the sections (:mod:`.sections`) what
:mod:`lesiontrack.cohort` computed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from .. import genome
from ..evidence import ABSENT, DETECTED, LOW_LEVEL, NOT_EVALUABLE  # the one home of states
from ..genome import drugs
from ..graph import lesion_node, mutation_node
from ..order import natural_key as _natural
from ..text import as_number, as_text, mutation_name, plural
from ..text import format_percent as _percent
from ..text import is_missing as _missing
from ..version import __version__
from . import figures
from .outdir import NOTICE, dumps
from .sections import (
    ORIGIN_ORDER,
    heatmap,
    heatmap_by_branch,
    pattern_words,
    resistance_view,
    roads_json,
    roads_view,
    split_matrix,
    timeline_view,
    tree_view,
)

STATUS_ORDER = {"baseline": 0, "progressive": 1, "controlled": 2, "unknown": 3}
RULE_WORDS = {
    "baseline": "decided by the pre-treatment (baseline) sample",
    "sharing": "decided by sharing across lesions",
    "knowledge": "decided by the curated KIT/PDGFRA table only (the lesions could not decide)",
    "none": "no rule could decide",
}


def _int(value) -> int | None:
    return None if _missing(value) else int(value)


# ----------------------------------------------------------------------------------------------
# the roster of lesions and the lesion x mutation cells
# ----------------------------------------------------------------------------------------------

@dataclass
class Lesion:
    """A lesion of a patient, as shown on the pages."""

    lesion_id: str
    role: str
    status: str
    status_raw: str
    site: str
    timepoint: str
    samples: list[str]

    def sort_key(self) -> tuple:
        rank = STATUS_ORDER.get(self.status, 4) + (10 if self.role in ("plasma", "normal") else 0)
        return (rank, _natural(self.lesion_id))

    def record(self) -> dict:
        return {"lesion_id": self.lesion_id, "role": self.role, "status": self.status,
                "status_raw": self.status_raw, "site": self.site, "timepoint": self.timepoint,
                "samples": self.samples}


def roster(sheet: pd.DataFrame | None, calls: pd.DataFrame) -> dict[str, list[Lesion]]:
    """Each patient's lesions (from the sheet and the calls), in page order: baseline,
    progressive, controlled, unknown, then plasma and normal samples; natural order within."""
    columns = ["patient_id", "lesion_id", "sample_id", "role", "status", "status_raw", "site",
               "timepoint"]
    parts = []
    if sheet is not None and not sheet.empty:
        parts.append(sheet.reindex(columns=columns))
    if not calls.empty:
        parts.append(calls.reindex(columns=columns))
    if not parts:
        return {}
    frame = pd.concat(parts, ignore_index=True).astype(object)
    frame = frame.where(frame.notna(), "")
    frame = _current_first(frame, sheet, calls)
    lesions: dict[str, list[Lesion]] = defaultdict(list)
    for (patient, lesion), rows in frame.groupby(["patient_id", "lesion_id"], sort=False):
        first = rows.iloc[0]

        def firstas_text(column: str, rows=rows) -> str:
            values = [str(v) for v in rows[column] if str(v)]
            return values[0] if values else ""

        lesions[str(patient)].append(Lesion(
            lesion_id=str(lesion), role=str(first["role"]) or "lesion",
            status=str(first["status"]) or "unknown",
            status_raw=firstas_text("status_raw") or str(first["status"]),
            site=firstas_text("site"), timepoint=firstas_text("timepoint"),
            samples=sorted({str(s) for s in rows["sample_id"] if str(s)}, key=_natural),
        ))
    return {p: sorted(v, key=Lesion.sort_key) for p, v in lesions.items()}


def _current_first(frame: pd.DataFrame, sheet: pd.DataFrame | None,
                   calls: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each lesion's rows of its current date first (a lesion biopsied at
    several dates shows its latest status, :mod:`lesiontrack.timeline`)."""
    import numpy as np

    from ..timeline import current_mask, with_dates

    samples = frame.drop_duplicates(["patient_id", "sample_id"])
    dated = with_dates(samples, sheet if sheet is not None and "date" in sheet else
                       calls.drop_duplicates(["patient_id", "sample_id"])
                       if "date" in calls else None)
    if not (dated["date"] != "").any():
        return frame
    stale = {k for k, current in zip(zip(dated["patient_id"], dated["sample_id"], strict=True),
                                     current_mask(dated), strict=True) if not current}
    order = np.array([k in stale for k in zip(frame["patient_id"], frame["sample_id"],
                                              strict=True)], dtype=int)
    return frame.iloc[np.argsort(order, kind="stable")]


@dataclass
class SampleCall:
    sample_id: str
    detected: bool | None
    alt: int | None
    depth: int | None
    vaf: float | None
    from_reads: bool = False  # counted from the sample's BAM/CRAM, not a caller's record


def sample_calls(calls: pd.DataFrame) -> dict[tuple[str, str, str], list[SampleCall]]:
    """(patient, variant_key, lesion) -> the rows of its samples."""
    out: dict[tuple[str, str, str], list[SampleCall]] = defaultdict(list)
    if calls.empty:
        return out
    frame = calls[["patient_id", "variant_key", "lesion_id", "sample_id", "alt_count", "depth",
                   "vaf", "detected", "source"]]
    for row in frame.itertuples(index=False):
        alt, depth, vaf = _int(row.alt_count), _int(row.depth), as_number(row.vaf)
        if vaf is None and alt is not None and depth:
            vaf = alt / depth
        detected = None if _missing(row.detected) else bool(row.detected)
        out[(str(row.patient_id), str(row.variant_key), str(row.lesion_id))].append(
            SampleCall(str(row.sample_id), detected, alt, depth, vaf, row.source == "reads"))
    return out


@dataclass
class Cell:
    """One lesion x mutation cell of the matrix."""

    lesion_id: str
    state: str  # detected / low_level / absent / not_evaluable (from evidence.lesion_states)
    css: str
    main: str
    sub: str
    title: str
    alt: int | None = None
    depth: int | None = None
    vaf: float | None = None
    sample_id: str = ""
    samples_detected: int = 0
    samples: int = 0
    from_reads: bool = False
    reason: str = ""

    def record(self, variant_key: str) -> dict:
        return {"variant_key": variant_key, "lesion_id": self.lesion_id, "state": self.state,
                "alt_count": self.alt, "depth": self.depth, "vaf": self.vaf,
                "best_sample": self.sample_id, "samples_detected": self.samples_detected,
                "samples": self.samples, "from_reads": self.from_reads, "reason": self.reason}


def _reads(alt: int | None, depth: int | None) -> str:
    if depth is None:
        return ""
    return f"{alt}/{depth}" if alt is not None else f"depth {depth}"


def states_of(states: pd.DataFrame | None) -> dict[tuple[str, str, str], dict]:
    """(patient, variant_key, lesion) -> its row of :func:`~lesiontrack.evidence.lesion_states`."""
    if states is None or states.empty:
        return {}
    columns = ["state", "reason", "expected_vaf", "power", "sample_id"]
    return {(str(p), str(k), str(lesion)): dict(zip(columns, values, strict=True))
            for p, k, lesion, *values in zip(states["patient_id"], states["variant_key"],
                                             states["lesion_id"],
                                             *(states[c] for c in columns), strict=True)}


def lesion_cell(lesion: Lesion, origin: str, rows: list[SampleCall],
                state: dict | None) -> Cell:
    """One matrix cell: the state decided by :func:`~lesiontrack.evidence.lesion_states`
    (never re-derived here), shown with the reads of the sample that decided it (its
    ``sample_id``, :func:`~lesiontrack.evidence.deciding_samples`; none without one)."""
    n_samples = max(len(lesion.samples), len({r.sample_id for r in rows}))
    state = state or {"state": NOT_EVALUABLE, "reason": "the site was not read in this "
                                                         "lesion's files"}
    kind, reason = state["state"], str(state.get("reason") or "")
    speaks = state.get("sample_id")

    def best(items: list[SampleCall]) -> SampleCall | None:
        """The deciding sample's record (the most reads among its records)."""
        own = [r for r in items if not _missing(speaks) and r.sample_id == str(speaks)]
        return max(own, key=lambda r: (r.alt if r.alt is not None else -1,
                                       r.depth if r.depth is not None else -1), default=None)

    name = lesion.lesion_id
    hits = [r for r in rows if r.detected is True]
    top = best(hits) if kind == DETECTED else None
    if top is not None:
        reads = _reads(top.alt, top.depth)
        sub = reads
        if n_samples > 1:
            sub = f"{reads} · {len(hits)}/{n_samples} samples".strip(" ·")
        title = (f"{name}: detected ({origin}); VAF {_percent(top.vaf) or 'unknown'}"
                 + (f", {reads} reads" if reads else "") + f" in sample {top.sample_id}")
        if top.from_reads:
            sub, title = f"{sub} · reads".strip(" ·"), title + " (counted from the reads)"
        return Cell(name, DETECTED, f"cell-det origin-{origin}", _percent(top.vaf) or "detected",
                    sub, title, top.alt, top.depth, top.vaf, top.sample_id, len(hits), n_samples,
                    top.from_reads, reason)
    top = best([r for r in rows if r.depth is not None])
    reads = _reads(top.alt, top.depth) if top else ""
    alt, depth, vaf, sample = ((top.alt, top.depth, top.vaf, top.sample_id) if top
                               else (None, None, None, ""))
    from_reads = bool(top and top.from_reads)
    suffix = " (counted from the reads)" if from_reads else ""
    if kind == LOW_LEVEL:
        return Cell(name, LOW_LEVEL, "cell-low cell-below", reads or "low", "low-level",
                    f"{name}: low-level, not absent: {reason}{suffix}", alt, depth, vaf, sample,
                    0, n_samples, from_reads, reason)
    if kind == ABSENT:
        return Cell(name, ABSENT, "cell-abs", reads or "0", "absent",
                    f"{name}: absent: {reason}{suffix}", alt, depth, vaf, sample, 0, n_samples,
                    from_reads, reason)
    sub = f"depth {depth}" if reason.startswith("depth") and depth is not None else (
        "underpowered" if reason.startswith("underpowered") else
        "low tumour content" if "tumour content" in reason else "")
    return Cell(name, NOT_EVALUABLE, "cell-ne", "n.e.", sub,
                f"{name}: not evaluable ({reason}){suffix}", alt, depth, vaf, sample, 0,
                n_samples, from_reads, reason)


# ----------------------------------------------------------------------------------------------
# view models
# ----------------------------------------------------------------------------------------------

@dataclass
class Mutation:
    """One origins row of a patient, ready for the templates."""

    anchor: str
    variant_key: str
    name: str
    gene: str
    exon: str
    hgvsc: str
    hgvsp: str
    origin: str
    rule: str
    rule_words: str
    flags: list[str]
    evidence: str
    knowledge: dict | None
    cells: list[Cell] = field(default_factory=list)
    drugs: dict | None = None  # sourced drug activity of the change (genome.drugs)
    counted: bool = True  # counts in the clustering statistics (origins' ``counted``)

    def pattern(self) -> str:
        """The lesion states in one word: ``+`` detected, ``-`` absent, ``.`` not evaluable."""
        return "".join({DETECTED: "+", ABSENT: "-"}.get(c.state, ".") for c in self.cells)


def _knowledge(gene: str, codon: int | None, sources: dict[str, str]) -> dict | None:
    row = genome.knowledge_for(gene or None, codon)
    if row is None:
        return None
    ids = [s.strip() for s in row.source.split(";") if s.strip()]
    return {"role": row.role, "region": row.region, "context": row.context,
            "sources": [{"id": s, "text": sources.get(s, "")} for s in ids]}


def drug_view(gene: str, codon: int | None, hgvsp: str, consequence: object,
               origin: str) -> dict | None:
    """Drug activity of the change from the bundled drug table, with its sources, or why not."""
    found = drugs.drug_activity(gene or None, codon, hgvsp,
                                consequence if isinstance(consequence, str) else None)
    if found is None:
        if genome.is_protein_altering(
                consequence if isinstance(consequence, str) else None) is not None:
            return None  # known consequence: no row, or not protein-altering
        probe = drugs.drug_activity(gene or None, codon, hgvsp, "missense")
        if probe is None:
            return None
        return {"site": probe.site, "region": probe.region, "calls": [],
                "note": "not looked up: the consequence of this change is not known, and drug "
                        "activity is shown for protein-altering changes only"}
    cited = drugs.drug_sources()
    calls = [{"drug": drug, "activity": call.activity, "grade": call.grade,
              "in_vitro": call.in_vitro,
              "sources": [{"id": s, "text": cited.get(s, "")} for s in call.sources]}
             for drug, call in ((d, found.calls[d]) for d in drugs.DRUGS)]
    role = {"primary": "here it is the primary mutation",
            "secondary": "here it was acquired (secondary)"}.get(origin, "")
    note = "Reported for the change, whatever its origin" + (f"; {role}" if role else "") + "."
    return {"site": found.site, "region": found.region, "calls": calls, "note": note}


@dataclass
class PatientContext:
    """Everything the pages of one part's patients share (computed by
    :mod:`lesiontrack.cohort`, gathered by :mod:`lesiontrack.report.build`)."""

    calls: pd.DataFrame
    origins: pd.DataFrame
    roster: dict[str, list[Lesion]]
    cells: dict[tuple[str, str, str], list[SampleCall]]
    codons: dict[tuple[str, str], int]
    patterns: dict[str, dict]
    files: dict[str, str]
    graph: object
    states: dict[tuple[str, str, str], dict]
    focal_max: int
    sources: dict[str, str]
    timelines: dict[str, dict] = field(default_factory=dict)  # lesiontrack.timeline
    resistance: dict[str, dict] = field(default_factory=dict)  # resistance.patient_resistance
    roads: dict[str, dict] = field(default_factory=dict)  # per patient: roads.road_records
    trees: dict = field(default_factory=dict)  # patient -> phylo_tree.PatientTree (2+ lesions)


def _mutations(ctx: PatientContext, patient: str) -> list[Mutation]:
    rows = ctx.origins[ctx.origins["patient_id"] == patient]
    order = sorted(range(len(rows)),
                   key=lambda i: (ORIGIN_ORDER.get(rows.iloc[i]["origin"], 3), i))
    lesions = ctx.roster.get(patient, [])
    out = []
    for number, i in enumerate(order, start=1):
        row = rows.iloc[i]
        key, origin = str(row["variant_key"]), str(row["origin"])
        gene = as_text(row["gene"])
        cells = [lesion_cell(lesion, origin, ctx.cells.get((patient, key, lesion.lesion_id), []),
                       ctx.states.get((patient, key, lesion.lesion_id))) for lesion in lesions]
        rule = as_text(row["rule"])
        out.append(Mutation(
            anchor=f"m{number}", variant_key=key, name=mutation_name(gene, row["hgvsp"], key, row["hgvsc"], row["exon"]),
            gene=gene, exon=as_text(row["exon"]), hgvsc=as_text(row["hgvsc"]),
            hgvsp=as_text(row["hgvsp"]), origin=origin, rule=rule,
            rule_words=RULE_WORDS.get(rule, rule),
            flags=[f for f in as_text(row["flags"]).split("; ") if f],
            evidence=as_text(row["evidence"]),
            knowledge=(None if genome.is_protein_altering(
                row.get("consequence")) is False
                else _knowledge(gene, ctx.codons.get((patient, key)), ctx.sources)),
            cells=cells,
            counted=bool(row["counted"]) if "counted" in rows and not _missing(row["counted"])
            else True,
        ))
        out[-1].drugs = drug_view(gene, ctx.codons.get((patient, key)), as_text(row["hgvsp"]),
                                   row.get("consequence"), origin)
    return out


def _graph_svg(ctx: PatientContext, patient: str, mutations: list[Mutation]) -> Markup:
    lesions = ctx.roster.get(patient, [])
    nodes = [figures.GraphLesion(key=x.lesion_id, label=x.lesion_id,
                                 detail=x.site + (" (plasma)" if x.role == "plasma" else ""),
                                 status=x.status) for x in lesions]
    muts = [figures.GraphMutation(key=m.variant_key, label=m.name,
                                  detail=f"exon {m.exon}" if m.exon else "", origin=m.origin)
            for m in mutations]
    names = {m.variant_key: m.name for m in mutations}
    edges = []
    graph = ctx.graph
    for lesion in lesions:
        node = lesion_node(patient, lesion.lesion_id)
        for mutation in mutations:
            target = mutation_node(patient, mutation.variant_key)
            if graph.has_edge(node, target):
                data = graph.edges[node, target]
                vaf = as_number(data.get("vaf")) if data.get("vaf") != "" else None
                reads = ""
                if data.get("alt_count") != "" and data.get("depth") != "":
                    reads = f" ({data.get('alt_count')}/{data.get('depth')} reads)"
                edges.append(figures.GraphEdge(
                    lesion.lesion_id, mutation.variant_key, vaf,
                    f"{lesion.lesion_id} carries {names[mutation.variant_key]}: VAF "
                    f"{_percent(vaf) or 'unknown'}{reads}"))
    return figures.lesion_graph_svg(nodes, muts, edges)


def patient_view(ctx: PatientContext, patient: str) -> dict:
    """Everything ``patient.html`` shows of ``patient``."""
    mutations = _mutations(ctx, patient)
    lesions = ctx.roster.get(patient, [])
    counts = {o: sum(m.origin == o for m in mutations) for o in ORIGIN_ORDER}
    roles = {role: sum(x.role == role for x in lesions) for role in ("lesion", "baseline", "plasma")}
    parts = [f"{roles['lesion']} {plural(roles['lesion'], 'lesion')}"]
    if roles["baseline"]:
        parts.append(f"{roles['baseline']} pre-treatment (baseline) "
                     f"{plural(roles['baseline'], 'biopsy', 'biopsies')}")
    if roles["plasma"]:
        parts.append(f"{roles['plasma']} plasma {plural(roles['plasma'], 'sample')}")
    total = len(mutations)
    detailed, rest = split_matrix(mutations)
    summary = (", ".join(parts) + f"; {total} {plural(total, 'mutation')}: "
               f"{counts['primary']} primary, {counts['secondary']} secondary, "
               f"{counts['undetermined']} undetermined.")
    return {
        "summary": summary,
        "id": patient, "file": ctx.files[patient], "lesions": lesions, "mutations": mutations,
        "detailed": detailed, "rest": rest,
        "heatmap": (heatmap_by_branch(lesions, rest, ctx.trees[patient])
                    if patient in ctx.trees else heatmap(lesions, rest)),
        "heatmap_by_branch": patient in ctx.trees,
        "tree": tree_view(ctx.trees.get(patient), lesions, mutations),
        "rest_counts": {o: sum(m.origin == o for m in rest) for o in ORIGIN_ORDER},
        "counts": counts, "pattern": pattern_words(ctx.patterns.get(patient), ctx.focal_max),
        "graph_svg": _graph_svg(ctx, patient, detailed),
        "timeline": timeline_view(ctx.timelines.get(patient)),
        "any_flags": any(m.flags for m in mutations),
        "has_knowledge": any(m.knowledge or m.drugs for m in detailed),
        "resistance": resistance_view(ctx.resistance.get(patient)),
        "roads": roads_view(ctx.roads.get(patient), lesions),
    }


def _origin_records(ctx: PatientContext, patient: str, rows: pd.DataFrame) -> list[dict]:
    """The patient's origins rows for JSON: ``drug_activity`` in its JSON form
    (``{drug: {"activity", "grade", "in_vitro", "sources"}}``, null where none)."""
    out = []
    for _, row in rows.iterrows():
        record = {c: row[c] for c in rows.columns}
        if "drug_activity" in record:
            found = drugs.drug_activity(
                as_text(row["gene"]) or None, ctx.codons.get((patient, str(row["variant_key"]))),
                as_text(row["hgvsp"]) or None, as_text(row.get("consequence")) or None)
            record["drug_activity"] = (drugs.activity_json(found)
                                       if as_text(row["drug_activity"]) else None)
        out.append(record)
    return out


def patient_json(ctx: PatientContext, patient: str, view: dict) -> str:
    """The patient's JSON file: lesions, origins, matrix, pattern, resistance, timeline, roads."""
    from ..resistance import PATIENT_KEYS, RESISTANCE_COLUMNS, patient_resistance
    from ..roads import ROAD_KEYS

    rows = ctx.origins[ctx.origins["patient_id"] == patient]
    resistance = ctx.resistance.get(patient) or patient_resistance(
        pd.DataFrame(columns=list(RESISTANCE_COLUMNS)), patients=[patient])[patient]
    pattern = ctx.patterns.get(patient)
    if pattern is not None:  # the resistance keys are given once, at the top
        pattern = {k: v for k, v in pattern.items() if k not in PATIENT_KEYS
                   and k not in ROAD_KEYS}
    return dumps({
        "patient_id": patient,
        "lesions": [x.record() for x in view["lesions"]],
        "origins": _origin_records(ctx, patient, rows),
        "matrix": [c.record(m.variant_key) for m in view["mutations"] for c in m.cells],
        "pattern": pattern,
        **resistance,
        "timeline": ctx.timelines.get(patient),
        **roads_json(ctx.roads.get(patient)),
        "notice": NOTICE,
        "version": __version__,
    })

