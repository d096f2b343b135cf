"""Write the report folder: a cohort page, one page per patient, tables, JSON and provenance.

Everything is built in a temporary folder beside OUTDIR and moved into place at the end, so an
error never leaves a half-written report. Same inputs and options give byte-identical TSV, JSON,
GraphML and HTML; only ``provenance.json`` records the run time.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from .. import __version__, genome
from .. import progress as progress_bars
from ..evidence import ABSENT, DETECTED, LOW_LEVEL, NOT_EVALUABLE  # the one home of states
from ..genome import drugs
from ..graph import GraphmlSpool, build_graph, lesion_node, mutation_node
from ..io.output import building_folder, frame_to_tsv, named_inputs
from ..options import (
    DEFAULT_FOCAL_MAX,
    DEFAULT_MIN_ALT,
    DEFAULT_MIN_DEPTH,
    DEFAULT_MIN_VAF,
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
)
from ..order import natural_key as _natural
from ..samplesheet import sheet_folder
from ..text import (
    clustering_lines,
    format_ci,
    format_count,
    format_months,
    format_ratio,
    format_share,
    p_phrase,
    plural,
    undefined_because,
)
from ..text import format_percent as _percent
from ..text import is_missing as _missing
from . import figures, tree_figure

#: Shown prominently on every page (and written into every JSON file).
NOTICE = ("For research use only, not for clinical decisions. This report has not been "
          "validated for diagnosis or treatment; drug-class notes summarise published research "
          "series and are not treatment advice.")

STATUS_ORDER = {"baseline": 0, "progressive": 1, "controlled": 2, "unknown": 3}
ORIGIN_ORDER = {"primary": 0, "secondary": 1, "undetermined": 2}
RULE_WORDS = {
    "baseline": "decided by the pre-treatment (baseline) sample",
    "sharing": "decided by sharing across lesions",
    "knowledge": "decided by the curated KIT/PDGFRA table only (the lesions could not decide)",
    "none": "no rule could decide",
}
#: Beyond this many rows, a cohort figure or table shows the rows with the most lesions or
#: patients and says how many more there are (``--genes all`` on an exome cohort).
MAX_ROWS = 30
#: A patient with more mutations than this gets the detailed matrix for KIT/PDGFRA and counted
#: secondary mutations (up to this many rows) and a compact heatmap for the rest.
MAX_MATRIX_ROWS = 40
#: Mutation names listed per patient in the cohort page's patients table.
MAX_NAMES = 8
#: Genes always shown in detail on a patient page.
KEY_GENES = ("KIT", "PDGFRA")
#: Options that do not change the results (how, not what): not shown on the pages.
_HIDDEN_OPTIONS = {"output", "force", "debug", "quiet", "command", "report_command", "jobs"}
#: Options that name files: pages show only their names (provenance.json has the details).
_PATH_OPTIONS = {"samplesheet", "reference", "patients", "calls_tables"}
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}
_MAX_NAME = 64


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------

def _text(value) -> str:
    return "" if _missing(value) else str(value)


def _int(value) -> int | None:
    return None if _missing(value) else int(value)


def _float(value) -> float | None:
    if _missing(value):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def jsonable(value):
    """Plain JSON values: NA/NaN -> None, numpy scalars -> Python, paths -> str, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def dumps(value) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, no NaN), ending in a newline."""
    return json.dumps(jsonable(value), indent=2, sort_keys=True, allow_nan=False,
                      ensure_ascii=False) + "\n"


def mutation_name(gene, hgvsp, variant_key, hgvsc="", exon="") -> str:
    """``KIT p.V654A``; else ``KIT c.1961T>C``; else a description from the alleles
    (``KIT exon 11 6-bp deletion``, never a guessed HGVS name); else the variant key."""
    gene, hgvsp, hgvsc, exon = _text(gene), _text(hgvsp), _text(hgvsc), _text(exon)
    if hgvsp or hgvsc:
        return f"{gene} {hgvsp or hgvsc}".strip()
    try:
        _, _, alleles = variant_key.split(":", 2)
        ref, alt = alleles.split(">")
    except ValueError:
        return f"{gene} {variant_key}".strip()
    where = f"{gene} exon {exon}" if exon else gene
    if ref == "-":
        kind = f"{len(alt)}-bp insertion"
    elif alt == "-":
        kind = f"{len(ref)}-bp deletion"
    elif len(ref) != len(alt):
        kind = f"{len(ref)}-bp deletion-insertion"
    else:
        return f"{gene} {variant_key}".strip()
    return f"{where} {kind}".strip()


def exon_label(gene, exon) -> str:
    gene, exon = _text(gene), _text(exon)
    if exon:
        return f"{gene} exon {exon}".strip()
    return f"{gene} (outside a coding exon)".strip() if gene else "unknown gene"


# ----------------------------------------------------------------------------------------------
# file names from identifiers
# ----------------------------------------------------------------------------------------------

def _base_name(identifier: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", identifier)
    name = re.sub(r"^\.", "_", name)  # never hidden, never "." or ".."
    if not name:
        name = "_"
    if name.split(".")[0].upper() in _RESERVED:  # names Windows refuses
        name = "_" + name
    return name[:_MAX_NAME]


def _hashed(identifier: str, base: str, length: int = 8) -> str:
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:length]
    return f"{base[:_MAX_NAME - length - 1]}-{digest}"


def safe_names(identifiers: Iterable[str]) -> dict[str, str]:
    """File names (without suffix) for identifiers: only ``[A-Za-z0-9._-]``, never empty, never
    hidden, unique even on case-insensitive file systems.

    An identifier whose safe form is unique keeps it. On a collision, an identifier that is
    already safe keeps its name (of several that differ only in case, the first in sorted
    order) and every other identifier gets a short hash of itself appended, so two
    identifiers never share a file and names depend only on the set of identifiers, never on
    their order.
    """
    ids = sorted({str(i) for i in identifiers})
    groups: dict[str, list[str]] = defaultdict(list)
    for identifier in ids:
        groups[_base_name(identifier).lower()].append(identifier)
    names: dict[str, str] = {}
    for members in groups.values():
        # alone: keeps its safe form; colliding: the first already-safe id keeps it, rest hashed
        keeper = members[0] if len(members) == 1 else next(
            (m for m in members if _base_name(m) == m), None)
        for member in members:
            base = _base_name(member)
            names[member] = base if member == keeper else _hashed(member, base)
    length = 8
    while len({n.lower() for n in names.values()}) < len(names):  # pragma: no cover - hash clash
        length += 8
        seen: set[str] = set()
        for member in ids:
            if names[member].lower() in seen:
                names[member] = _hashed(member, _base_name(member), length)
            seen.add(names[member].lower())
    return names


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


def _roster(sheet: pd.DataFrame | None, calls: pd.DataFrame) -> dict[str, list[Lesion]]:
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

        def first_text(column: str, rows=rows) -> str:
            values = [str(v) for v in rows[column] if str(v)]
            return values[0] if values else ""

        lesions[str(patient)].append(Lesion(
            lesion_id=str(lesion), role=str(first["role"]) or "lesion",
            status=str(first["status"]) or "unknown",
            status_raw=first_text("status_raw") or str(first["status"]),
            site=first_text("site"), timepoint=first_text("timepoint"),
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
class _SampleCall:
    sample_id: str
    detected: bool | None
    alt: int | None
    depth: int | None
    vaf: float | None
    from_reads: bool = False  # counted from the sample's BAM/CRAM, not a caller's record


def _sample_calls(calls: pd.DataFrame) -> dict[tuple[str, str, str], list[_SampleCall]]:
    """(patient, variant_key, lesion) -> the rows of its samples."""
    out: dict[tuple[str, str, str], list[_SampleCall]] = defaultdict(list)
    if calls.empty:
        return out
    frame = calls[["patient_id", "variant_key", "lesion_id", "sample_id", "alt_count", "depth",
                   "vaf", "detected", "source"]]
    for row in frame.itertuples(index=False):
        alt, depth, vaf = _int(row.alt_count), _int(row.depth), _float(row.vaf)
        if vaf is None and alt is not None and depth:
            vaf = alt / depth
        detected = None if _missing(row.detected) else bool(row.detected)
        out[(str(row.patient_id), str(row.variant_key), str(row.lesion_id))].append(
            _SampleCall(str(row.sample_id), detected, alt, depth, vaf, row.source == "reads"))
    return out


@dataclass
class Cell:
    """One lesion x mutation cell of the matrix."""

    lesion_id: str
    state: str  # detected / low_level / absent / not_evaluable (from compare.lesion_states)
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


def _states_of(states: pd.DataFrame | None) -> dict[tuple[str, str, str], dict]:
    """(patient, variant_key, lesion) -> its row of :func:`~lesiontrack.compare.lesion_states`."""
    if states is None or states.empty:
        return {}
    columns = ["state", "reason", "expected_vaf", "power"]
    return {(str(p), str(k), str(lesion)): dict(zip(columns, values, strict=True))
            for p, k, lesion, *values in zip(states["patient_id"], states["variant_key"],
                                             states["lesion_id"],
                                             *(states[c] for c in columns), strict=True)}


def _cell(lesion: Lesion, origin: str, rows: list[_SampleCall], state: dict | None) -> Cell:
    """One matrix cell: the state decided by :func:`~lesiontrack.compare.lesion_states`
    (never re-derived here), shown with the lesion's best sample's reads."""
    n_samples = max(len(lesion.samples), len({r.sample_id for r in rows}))
    state = state or {"state": NOT_EVALUABLE, "reason": "the site was not read in this "
                                                         "lesion's files"}
    kind, reason = state["state"], str(state.get("reason") or "")

    def best(items: list[_SampleCall]) -> _SampleCall:
        return max(items, key=lambda r: (r.alt if r.alt is not None else -1,
                                         r.depth if r.depth is not None else -1,
                                         tuple(-ord(c) for c in r.sample_id)))

    name = lesion.lesion_id
    hits = [r for r in rows if r.detected is True]
    if kind == DETECTED and hits:
        top = best(hits)
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
    read = [r for r in rows if r.depth is not None]
    top = best(read) if read else None
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


def _knowledge_sources() -> dict[str, str]:
    """Source ids of the knowledge table (S1, S2, ...) -> citation."""
    return genome.knowledge_sources()


def _drug_view(gene: str, codon: int | None, hgvsp: str, consequence: object,
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


def _pattern_words(pattern: dict | None, focal_max: int) -> dict:
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


@dataclass
class _Context:
    """Everything the page builders share."""

    calls: pd.DataFrame
    origins: pd.DataFrame
    stats: dict
    roster: dict[str, list[Lesion]]
    cells: dict[tuple[str, str, str], list[_SampleCall]]
    codons: dict[tuple[str, str], int]
    patterns: dict[str, dict]
    files: dict[str, str]
    graph: object
    states: dict[tuple[str, str, str], dict]
    min_depth: int
    focal_max: int
    sources: dict[str, str]
    timelines: dict[str, dict] = field(default_factory=dict)  # lesiontrack.timeline
    resistance: dict[str, dict] = field(default_factory=dict)  # resistance.patient_resistance
    roads: dict[str, dict] = field(default_factory=dict)  # per patient: _roads_by_patient
    trees: dict = field(default_factory=dict)  # patient -> phylo.PatientTree (2+ lesions)


def _mutations(ctx: _Context, patient: str) -> list[Mutation]:
    rows = ctx.origins[ctx.origins["patient_id"] == patient]
    order = sorted(range(len(rows)),
                   key=lambda i: (ORIGIN_ORDER.get(rows.iloc[i]["origin"], 3), i))
    lesions = ctx.roster.get(patient, [])
    out = []
    for number, i in enumerate(order, start=1):
        row = rows.iloc[i]
        key, origin = str(row["variant_key"]), str(row["origin"])
        gene = _text(row["gene"])
        cells = [_cell(lesion, origin, ctx.cells.get((patient, key, lesion.lesion_id), []),
                       ctx.states.get((patient, key, lesion.lesion_id))) for lesion in lesions]
        rule = _text(row["rule"])
        out.append(Mutation(
            anchor=f"m{number}", variant_key=key, name=mutation_name(gene, row["hgvsp"], key, row["hgvsc"], row["exon"]),
            gene=gene, exon=_text(row["exon"]), hgvsc=_text(row["hgvsc"]),
            hgvsp=_text(row["hgvsp"]), origin=origin, rule=rule,
            rule_words=RULE_WORDS.get(rule, rule),
            flags=[f for f in _text(row["flags"]).split("; ") if f],
            evidence=_text(row["evidence"]),
            knowledge=(None if genome.is_protein_altering(
                row.get("consequence")) is False
                else _knowledge(gene, ctx.codons.get((patient, key)), ctx.sources)),
            cells=cells,
            counted=bool(row["counted"]) if "counted" in rows and not _missing(row["counted"])
            else True,
        ))
        out[-1].drugs = _drug_view(gene, ctx.codons.get((patient, key)), _text(row["hgvsp"]),
                                   row.get("consequence"), origin)
    return out


def _graph_svg(ctx: _Context, patient: str, mutations: list[Mutation]) -> Markup:
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
                vaf = _float(data.get("vaf")) if data.get("vaf") != "" else None
                reads = ""
                if data.get("alt_count") != "" and data.get("depth") != "":
                    reads = f" ({data.get('alt_count')}/{data.get('depth')} reads)"
                edges.append(figures.GraphEdge(
                    lesion.lesion_id, mutation.variant_key, vaf,
                    f"{lesion.lesion_id} carries {names[mutation.variant_key]}: VAF "
                    f"{_percent(vaf) or 'unknown'}{reads}"))
    return figures.lesion_graph_svg(nodes, muts, edges)


def split_matrix(mutations: list[Mutation], limit: int = MAX_MATRIX_ROWS
                 ) -> tuple[list[Mutation], list[Mutation]]:
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


def _heatmap(lesions: list[Lesion], rest: list[Mutation]) -> Markup | None:
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


def _part_trees(calls: pd.DataFrame, origins: pd.DataFrame, sheet: pd.DataFrame | None,
                states: pd.DataFrame | None, thresholds, seed: int):
    """The lesion trees of one part's patients (:class:`~lesiontrack.phylo.Phylogeny`, as
    ``lesiontrack phylogeny`` builds them: a patient's tree depends on its rows only)."""
    from ..phylo import Phylogeny, drops_samples, phylogeny

    if calls.empty:
        return Phylogeny(patients={}, skipped={})
    reuse = states is not None and not drops_samples(calls)
    return phylogeny(calls, origins, sheet, states=states if reuse else None,
                     thresholds=thresholds, seed=seed)


class _PhylogenyFolder:
    """The report's ``phylogeny/`` folder, filled part by part: the same files as ``lesiontrack
    phylogeny`` (``trees/<page name>.nwk``, ``mutations.tsv``, ``phylogeny.json``), patients in
    natural order whatever the parts. Each patient's mutation rows wait in a spool file until
    the end; only the small JSON entries are held."""

    def __init__(self, folder: Path, files: dict[str, str]) -> None:
        self.folder = folder / "phylogeny"
        (self.folder / "trees").mkdir(parents=True)
        self.spool = folder / ".phylogeny-rows"
        self.spool.mkdir()
        self.files = files
        self.entries: dict[str, dict] = {}
        self.skipped: dict[str, str] = {}

    def add(self, result) -> None:
        for patient, tree in result.patients.items():
            name = self.files.get(patient) or safe_names([patient])[patient]
            _write(self.folder / "trees" / f"{name}.nwk", tree.newick() + "\n")
            _write(self.spool / f"{name}.tsv", frame_to_tsv(tree.mutations(), header=False))
            entry = tree.to_dict()
            entry["newick_file"] = f"trees/{name}.nwk"
            self.entries[patient] = entry
        self.skipped.update(result.skipped)

    def close(self) -> None:
        from ..phylo import phylogeny_json, phylogeny_payload
        from ..phylo_tree import MUTATION_COLUMNS

        order = sorted(self.entries, key=_natural)
        with (self.folder / "mutations.tsv").open("w", encoding="utf-8", newline="\n") as out:
            out.write(frame_to_tsv(pd.DataFrame(columns=MUTATION_COLUMNS)))
            for patient in order:
                name = self.entries[patient]["newick_file"][len("trees/"):-len(".nwk")]
                part = self.spool / f"{name}.tsv"
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()
        self.spool.rmdir()
        payload = phylogeny_payload({p: self.entries[p] for p in order},
                                    {p: self.skipped[p] for p in sorted(self.skipped,
                                                                        key=_natural)})
        _write(self.folder / "phylogeny.json", phylogeny_json(payload))


def _tree_marks(rows: list[tuple], names: dict[str, Mutation]) -> dict[str, list]:
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


def _tree_view(ctx: _Context, patient: str, lesions: list[Lesion],
               mutations: list[Mutation]) -> dict | None:
    """The lesion tree section of a patient page (None without a tree)."""
    tree = ctx.trees.get(patient)
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


def _heatmap_by_branch(lesions: list[Lesion], rest: list[Mutation], tree) -> Markup | None:
    """The compact view of ``rest`` ordered by the branch of the lesion tree each mutation sits
    on (trunk, shared, private; mutations not placed last), then by the lesions below it, by
    origin and by the lesions that carry it."""
    if not rest:
        return None
    placed = {row[1]: (row[2], row[3]) for row in tree.rows}

    def order(m: Mutation) -> tuple:
        branch, below = placed.get(m.variant_key, ("not placed", ""))
        return (BRANCH_ORDER.get(branch, 3), _natural(below), ORIGIN_ORDER.get(m.origin, 3),
                m.pattern().replace("+", "0").replace("-", "1").replace(".", "2"),
                _natural(m.variant_key))

    ordered = sorted(rest, key=order)
    return figures.mutation_heatmap_svg(
        [figures.HeatLesion(x.lesion_id, x.status) for x in lesions],
        [(m.origin, m.pattern()) for m in ordered],
        groups=[placed.get(m.variant_key, ("not placed", ""))[0] for m in ordered])


def _patient_view(ctx: _Context, patient: str) -> dict:
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
        "heatmap": (_heatmap_by_branch(lesions, rest, ctx.trees[patient])
                    if patient in ctx.trees else _heatmap(lesions, rest)),
        "heatmap_by_branch": patient in ctx.trees,
        "tree": _tree_view(ctx, patient, lesions, mutations),
        "rest_counts": {o: sum(m.origin == o for m in rest) for o in ORIGIN_ORDER},
        "counts": counts, "pattern": _pattern_words(ctx.patterns.get(patient), ctx.focal_max),
        "graph_svg": _graph_svg(ctx, patient, detailed),
        "timeline": _timeline_view(ctx.timelines.get(patient)),
        "any_flags": any(m.flags for m in mutations),
        "has_knowledge": any(m.knowledge or m.drugs for m in detailed),
        "resistance": _resistance_view(ctx.resistance.get(patient)),
        "roads": _roads_view(ctx.roads.get(patient), lesions),
    }


def _timeline_view(timeline: dict | None) -> dict | None:
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


def _resistance_view(entry: dict | None) -> dict | None:
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


def _origin_records(ctx: _Context, patient: str, rows: pd.DataFrame) -> list[dict]:
    """The patient's origins rows for JSON: ``drug_activity`` in its JSON form
    (``{drug: {"activity", "grade", "in_vitro", "sources"}}``, null where none)."""
    out = []
    for _, row in rows.iterrows():
        record = {c: row[c] for c in rows.columns}
        if "drug_activity" in record:
            found = drugs.drug_activity(
                _text(row["gene"]) or None, ctx.codons.get((patient, str(row["variant_key"]))),
                _text(row["hgvsp"]) or None, _text(row.get("consequence")) or None)
            record["drug_activity"] = (drugs.activity_json(found)
                                       if _text(row["drug_activity"]) else None)
        out.append(record)
    return out


def _patient_json(ctx: _Context, patient: str, view: dict) -> str:
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
        **_roads_json(ctx.roads.get(patient)),
        "notice": NOTICE,
        "version": __version__,
    })


def _stats_view(stats: dict) -> dict:
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
    if _float(fisher.get("p_value")) is None:
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


def _cohort_part(view: dict, pattern: dict | None) -> dict:
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


def _mechanism_words(mechanism: str) -> str:
    if mechanism in MECHANISM_WORDS:
        return MECHANISM_WORDS[mechanism]
    return " and ".join(MECHANISM_WORDS.get(part, part) for part in mechanism.split("+"))


def _roads_by_patient(mechanisms: pd.DataFrame, controlled: pd.DataFrame,
                      copy_number: pd.DataFrame | None) -> dict[str, dict]:
    """Per patient of a part: its mechanism rows, its copy-number track (KIT/PDGFRA per
    lesion) and its controlled lesions with an amplification, as records."""
    from ..roads import lesion_track

    out: dict[str, dict] = defaultdict(lambda: {"mechanisms": [], "track": [],
                                                "controlled": [], "has_copy_number": False})
    for row in mechanisms.to_dict("records"):
        out[str(row["patient_id"])]["mechanisms"].append(row)
    track = lesion_track(copy_number, KEY_GENES)
    for row in track.to_dict("records"):
        out[str(row["patient_id"])]["track"].append(row)
    if copy_number is not None and len(copy_number):
        for patient in set(copy_number.loc[copy_number["format"] != "", "patient_id"]):
            out[str(patient)]["has_copy_number"] = True
    for row in controlled.to_dict("records"):
        out[str(row["patient_id"])]["controlled"].append(row)
    return dict(out)


def _copy_number_text(value) -> str:
    number = _float(value)
    return "—" if number is None else f"{number:.1f}"


def _roads_view(roads: dict | None, lesions: list[Lesion]) -> dict:
    """The patient page's roads section: the mechanism of each progressive lesion and the
    copy-number track (one row per lesion, KIT and PDGFRA), in the page's lesion order."""
    roads = roads or {}
    order = {x.lesion_id: i for i, x in enumerate(lesions)}
    status = {x.lesion_id: x.status for x in lesions}
    mechanisms = sorted(roads.get("mechanisms", []),
                        key=lambda r: order.get(str(r["lesion_id"]), len(order)))
    rows = [{"lesion_id": str(r["lesion_id"]), "mechanism": r["progression_mechanism"],
             "words": _mechanism_words(r["progression_mechanism"]),
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


def _roads_json(roads: dict | None) -> dict:
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


def _roads_cohort_view(stats: dict, files: dict[str, str]) -> dict:
    """The cohort page's "Roads to resistance": how many progressive lesions each road
    explains (:func:`lesiontrack.copynumber.mechanism_counts` of the statistics'
    ``progression_mechanism``), the unexplained lesions, and the controlled lesions with a KIT
    amplification."""
    from ..mechanism import MECHANISM_COLUMNS, mechanism_counts

    rows = [{"patient_id": str(p["patient_id"]), "lesion_id": str(lesion),
             "progression_mechanism": mechanism}
            for p in stats.get("patients", [])
            for lesion, mechanism in (p.get("progression_mechanism") or {}).items()]
    frame = pd.DataFrame(rows, columns=MECHANISM_COLUMNS)
    counts = [{"mechanism": r["progression_mechanism"],
               "words": _mechanism_words(r["progression_mechanism"]), "lesions": r["lesions"]}
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


def _names(mutations: list[Mutation], origin: str, limit: int = MAX_NAMES) -> dict:
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


class _CohortSummary:
    """The cohort page's data, gathered patient by patient (:func:`_cohort_part`)."""

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
            "stats": _stats_view(stats), "exon_rows": exon_rows, "exons_more": exons_more,
            "exon_svg": figures.secondary_by_exon_svg(exon_rows) if exon_rows else None,
            "recurrent": recurrent, "recurrent_more": recurrent_more, "counts": self.counts, "n_lesions": self.n_lesions,
            "roads": _roads_cohort_view(stats, {r["id"]: r["file"] for r in self.rows}),
        }


# ----------------------------------------------------------------------------------------------
# provenance
# ----------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _input_files(sheet: pd.DataFrame | None, sheet_path, options: dict) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    if sheet_path is not None:
        files.append(("samplesheet", Path(sheet_path)))
    if sheet is not None and not sheet.empty:
        for column, role in (("calls_path", "calls"), ("bam_path", "alignments"),
                             ("cnv_path", "copy_number")):
            if column in sheet:
                for value in sorted({str(v) for v in sheet[column].dropna() if str(v)}):
                    files.append((role, Path(value)))
    for table in options.get("calls_tables") or []:
        files.append(("calls_table", Path(table)))
    for key, role in (("reference", "reference"), ("patients", "patients")):
        if options.get(key):
            files.append((role, Path(options[key])))
    return files


def _shown(path: Path, base: Path | None) -> str:
    if base is None:
        return os.fspath(path)
    try:
        return Path(os.path.relpath(path.resolve(), base)).as_posix()
    except ValueError:  # another drive
        return os.fspath(path)


def _provenance(sheet, sheet_path, options: dict) -> str:
    base = sheet_folder(sheet_path) if sheet_path is not None else None
    inputs = []
    for role, path in _input_files(sheet, sheet_path, options):
        try:
            regular = path.is_file()
        except (OSError, ValueError):
            regular = False
        if not regular and path.exists():  # a pipe (<(...), /dev/stdin): read once, not again
            inputs.append({"role": role, "path": _shown(path, base), "sha256": None,
                           "note": "not a regular file (a pipe?): read once, not checksummed"})
            continue
        digest = _sha256(path)
        entry = {"role": role, "path": _shown(path, base), "sha256": digest}
        if digest is None:
            entry["note"] = "could not be read when the report was written"
        else:
            entry["bytes"] = path.stat().st_size
        inputs.append(entry)
    return dumps({
        "tool": "lesiontrack", "version": __version__,
        "options": options,
        "run_time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "pandas": pd.__version__,
        "inputs": inputs,
        "paths_relative_to": "the folder of the sample sheet",
        "notice": NOTICE,
    })


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lesiontrack.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals.update(
        version=__version__, notice=NOTICE, origin_colours=figures.ORIGIN_COLOURS,
        status_colours=figures.STATUS_COLOURS,
        css=Markup(env.loader.get_source(env, "report.css")[0]),  # static, no input text
    )
    env.filters["percent"] = _percent
    env.filters["breakable"] = breakable
    return env


def breakable(text) -> Markup:
    """Escaped text with line-break opportunities after ``_ . / - :`` (long identifiers)."""
    return Markup(re.sub(r"([_./:-])", r"\1<wbr>", str(escape(_text(text)))))


def _progress_bar(enabled: bool | None, total: int):
    """A progress bar of ``total`` patients on stderr, only when stderr is a terminal (or
    ``enabled``); else None."""
    if enabled is None:
        enabled = sys.stderr is not None and sys.stderr.isatty()
    if not enabled:
        return None
    with progress_bars.enabled(True):
        return progress_bars.bar(total, "report", "patient")


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _options_shown(options: dict) -> list[tuple[str, str]]:
    shown = []
    for key in sorted(options):
        if key in _HIDDEN_OPTIONS or key.startswith("_"):
            continue
        shown.append((key.replace("_", "-"), _option_text(key, options[key])))
    return shown


def _option_text(key: str, value) -> str:
    """An option's value for people: yes/no, lists comma-separated, file names without their
    folders (pages travel, paths leak), nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_option_text(key, v) for v in value)
    if key in _PATH_OPTIONS and value:
        return Path(value).name
    return str(value)


_WORKER: tuple | None = None  # (patient_dir, ctx, page) inherited by forked workers


def _render_one(patient_dir: Path, ctx: _Context, page: dict, patient: str,
                template=None) -> dict:
    """Write one patient's HTML, TSV and JSON; return the view without its heavy parts."""
    template = template or _environment().get_template("patient.html")
    view = _patient_view(ctx, patient)
    name = ctx.files[patient]
    rows = ctx.origins[ctx.origins["patient_id"] == patient]
    _write(patient_dir / f"{name}.html", template.render(page=page, p=view, root="../"))
    _write(patient_dir / f"{name}.tsv", frame_to_tsv(rows))
    _write(patient_dir / f"{name}.json", _patient_json(ctx, patient, view))
    return _cohort_part(view, ctx.patterns.get(patient))


def _render_chunk(patients: list[str]) -> list[tuple[str, dict]]:
    patient_dir, ctx, page = _WORKER
    template = _environment().get_template("patient.html")
    return [(p, _render_one(patient_dir, ctx, page, p, template)) for p in patients]


def _render_patients(patient_dir: Path, patients: list[str], ctx: _Context, page: dict,
                     jobs: int, bar=None) -> dict[str, dict]:
    """Every patient's pages, in ``jobs`` forked worker processes when jobs > 1 (pages are
    the same for every ``jobs``); returns what the cohort page needs of each patient
    (:func:`_cohort_part`).
    ``bar``: a progress bar to advance, or None."""
    global _WORKER
    import multiprocessing

    done: dict[str, dict] = {}
    if jobs > 1 and len(patients) > 1 and "fork" in multiprocessing.get_all_start_methods():
        size = max(1, min(50, len(patients) // (jobs * 4) or 1))
        chunks = [patients[i:i + size] for i in range(0, len(patients), size)]
        _WORKER = (patient_dir, ctx, page)
        from concurrent.futures import ProcessPoolExecutor

        from ..workers import stop_worker_pool

        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                try:
                    for chunk in pool.map(_render_chunk, chunks):
                        done.update(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                except BaseException:  # an error or SIGTERM: never wait for the workers
                    stop_worker_pool(pool)
                    raise
        finally:
            _WORKER = None
        return done
    template = _environment().get_template("patient.html")
    for patient in patients:
        done[patient] = _render_one(patient_dir, ctx, page, patient, template)
        if bar is not None:
            bar.update(1)
    return done


def _outcomes_view(outcomes: dict | None) -> dict | None:
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
    return {"by": outcomes.get("by", "pattern"), "endpoints": endpoints}


@dataclass
class ReportPart:
    """A batch of patients for :func:`write_report_parts`: every sample-sheet row (or None),
    call and origin of each of them."""

    sheet: pd.DataFrame | None
    calls: pd.DataFrame
    origins: pd.DataFrame
    states: pd.DataFrame | None = None  # compare.lesion_states of the part (computed if None)
    sample_states: pd.DataFrame | None = None  # compare.sample_states (computed if None)
    copy_number: pd.DataFrame | None = None  # roads.read_sheet_copy_number of the part


def _part_patients(part: ReportPart, roster: dict, patterns: dict) -> list[str]:
    return sorted(set(roster) | {str(p) for p in part.origins["patient_id"]} | set(patterns),
                  key=_natural)


def _codons(calls: pd.DataFrame) -> dict[tuple[str, str], int]:
    if calls.empty or "codon" not in calls:
        return {}
    known = calls.dropna(subset=["codon"]).drop_duplicates(["patient_id", "variant_key"])
    return {(str(p), str(k)): int(c) for p, k, c in
            zip(known["patient_id"], known["variant_key"], known["codon"], strict=True)}


def _at_least_one(parts: Iterable[ReportPart]) -> Iterator[ReportPart]:
    """``parts``, or one empty part when there is none (an empty cohort still gets its tables'
    headers and the graph's status nodes)."""
    empty = True
    for part in parts:
        empty = False
        yield part
    if empty:
        from ..calls import empty_calls_table
        from ..compare import empty_origins

        yield ReportPart(None, empty_calls_table(), empty_origins())


def _timelines(part: ReportPart, thresholds, patient_table) -> dict[str, dict]:
    """Each patient's timeline (:func:`lesiontrack.timeline.patient_timelines`) of a part."""
    from ..evidence import sample_states
    from ..timeline import patient_timelines

    if part.calls.empty and part.sheet is None:
        return {}
    grid = part.sample_states
    if grid is None:
        grid = sample_states(part.calls, part.sheet, thresholds=thresholds)
    return patient_timelines(grid, part.origins, part.sheet, part.calls, patient_table)


def _concat_resistance(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' resistance tables as one (the same rows for every cut of the cohort)."""
    from ..resistance import RESISTANCE_COLUMNS

    columns = [*RESISTANCE_COLUMNS, "drug_activity"]
    kept = [t for t in tables if len(t)]
    return (pd.concat(kept, ignore_index=True)[columns] if kept
            else pd.DataFrame(columns=columns))


def _heterogeneity_view(stats: dict, resistance: pd.DataFrame) -> dict:
    """The cohort page's "Heterogeneity of resistance" section: the sentence
    (:func:`~lesiontrack.resistance.heterogeneity_words`), the counts by region and the figure
    (:func:`~lesiontrack.report.resistance_figure.heterogeneity_svg`)."""
    from ..resistance import heterogeneity, heterogeneity_words
    from .resistance_figure import heterogeneity_svg

    found = stats.get("heterogeneity") or heterogeneity(resistance)
    regions = found.get("secondaries_by_region") or {}
    return {"sentence": heterogeneity_words(found),
            "regions": [{"region": r, "n": n} for r, n in regions.items()],
            "svg": heterogeneity_svg(resistance) if found["n_patients_with_secondary"] else None,
            "notice": COVERAGE_NOTICE}


def _thresholds(options: dict):
    """The run's :class:`~lesiontrack.Thresholds` from its recorded options."""
    from ..options import Thresholds

    values = {k: options[k] for k in ("min_depth", "min_alt", "min_vaf", "error_rate",
                                      "min_power", "plasma_min_depth", "plasma_min_alt",
                                      "plasma_min_vaf") if options.get(k) is not None}
    return Thresholds(**values)


def _build(folder: Path, *, parts: Iterable[ReportPart], patients: list[str],
           stats: dict | None, options: dict, progress, outcomes=None,
           patient_table: pd.DataFrame | None = None) -> None:
    """Write the report from ``parts`` (batches of patients, in the plain sorted order of
    their identifiers; one part holding everything is a batch too). Holds one part at a time:
    the calls and origins tables are appended part by part, the graph spooled to disk, and of
    each patient only what the cohort page shows is kept. ``stats`` None: computed from the
    parts' lesion tables and patterns at the end (``outcomes``: a function of those stats;
    ``patient_table``: the patient table deciding the patterns)."""
    from ..evidence import lesion_states
    from ..patterns import check_table_patients, lesion_table, patient_patterns
    from ..resistance import patient_resistance, resistance_table
    from ..roads import patient_roads, roads_to_resistance, with_roads
    from ..stats import add_heterogeneity, clustering_from_tables

    min_depth = int(options.get("min_depth") or DEFAULT_MIN_DEPTH)
    thresholds = _thresholds(options)
    focal_max = int(options["focal_max"]) if options.get("focal_max") is not None else (
        DEFAULT_FOCAL_MAX)
    seed = int(options["seed"]) if options.get("seed") is not None else DEFAULT_SEED
    given = {str(p["patient_id"]): p for p in stats.get("patients", [])} if stats else None
    if given is None:
        check_table_patients(patient_table, patients)
    files = safe_names(patients)
    sources = _knowledge_sources()
    env = _environment()
    page = {
        "options": _options_shown(options), "focal_max": focal_max,
        "thresholds": {"min_depth": options.get("min_depth", DEFAULT_MIN_DEPTH),
                       "min_alt": options.get("min_alt", DEFAULT_MIN_ALT),
                       "min_vaf": options.get("min_vaf", DEFAULT_MIN_VAF),
                       "error_rate": thresholds.error_rate, "min_power": thresholds.min_power},
    }
    patient_dir = folder / "patients"
    patient_dir.mkdir()
    spool_dir = folder / ".graph-runs"
    spool_dir.mkdir()
    spool = GraphmlSpool(spool_dir)
    jobs = max(1, int(options.get("jobs") or 1))
    bar = _progress_bar(progress, len(patients))
    summary = _CohortSummary()
    phylogeny_folder = _PhylogenyFolder(folder, files)
    tables: list[pd.DataFrame] = []
    resistances: list[pd.DataFrame] = []
    patterns: list[dict] = []
    n_patients = 0
    with (folder / "calls.tsv").open("w", encoding="utf-8", newline="\n") as calls_out, \
            (folder / "origins.tsv").open("w", encoding="utf-8", newline="\n") as origins_out:
        for number, part in enumerate(_at_least_one(parts)):
            calls, origins = part.calls, part.origins
            states = part.states if part.states is not None else lesion_states(
                calls, part.sheet, thresholds=thresholds)
            roster = _roster(part.sheet, calls)
            resistance = resistance_table(origins, part.sheet, states=states)
            resistances.append(resistance)
            mechanisms, controlled = roads_to_resistance(origins, states, calls, part.sheet,
                                                         part.copy_number,
                                                         thresholds=thresholds)
            if given is not None:  # the given stats' patterns of this part's patients
                found = {p: given[p] for p in _part_patients(part, roster, {}) if p in given}
            else:
                table = lesion_table(origins, calls, part.sheet, states=states,
                                     thresholds=thresholds)
                part_patterns = patient_patterns(table, origins, calls, focal_max,
                                                 patients=patient_table)
                with_roads(part_patterns, patient_roads(mechanisms, controlled))
                tables.append(table)
                patterns.extend(part_patterns)
                n_patients += int(calls["patient_id"].nunique())
                found = {str(p["patient_id"]): p for p in part_patterns}
            phylogeny = _part_trees(calls, origins, part.sheet, states, thresholds, seed)
            trees = phylogeny.patients
            phylogeny_folder.add(phylogeny)
            if given is None:
                add_heterogeneity(part_patterns, {p: t.heterogeneity() for p, t in trees.items()})
            graph = build_graph(calls, origins, part.sheet, states=states,
                                copy_number=part.copy_number)
            spool.add(graph)
            calls_out.write(frame_to_tsv(calls, header=number == 0))
            origins_out.write(frame_to_tsv(origins, header=number == 0))
            ctx = _Context(
                calls=calls, origins=origins, stats={}, roster=roster,
                cells=_sample_calls(calls), codons=_codons(calls), patterns=found, files=files,
                graph=graph, states=_states_of(states), min_depth=min_depth,
                focal_max=focal_max, sources=sources,
                timelines=_timelines(part, thresholds, patient_table),
                resistance=patient_resistance(resistance, patients=_part_patients(
                    part, roster, found)),
                roads=_roads_by_patient(mechanisms, controlled, part.copy_number), trees=trees,
            )
            done = _render_patients(patient_dir, _part_patients(part, roster, found), ctx, page,
                                    jobs, bar)
            for patient, cohort_part in done.items():
                summary.add(patient, cohort_part)
            del ctx, graph, roster, calls, origins, states, part, done, trees, phylogeny
    if bar is not None:
        bar.close()
    phylogeny_folder.close()
    resistance = _concat_resistance(resistances)
    if stats is None:
        table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
            columns=["patient_id", "lesion_id", "status", "secondary", "has_secondary"])
        stats = clustering_from_tables(
            table, patterns, n_patients=n_patients,
            permutations=int(options["permutations"]) if options.get("permutations") is not None
            else DEFAULT_PERMUTATIONS,
            seed=int(options["seed"]) if options.get("seed") is not None else DEFAULT_SEED,
            resistance=resistance)
    if callable(outcomes):
        outcomes = outcomes(stats)
    _write(folder / "stats.json", dumps(stats))
    with (folder / "cohort.graphml").open("w", encoding="utf-8", newline="\n") as handle:
        spool.write(handle)  # merged from the parts' sorted runs
    spool_dir.rmdir()
    cohort = summary.view(stats)
    cohort["heterogeneity"] = _heterogeneity_view(stats, resistance)
    cohort["outcomes"] = _outcomes_view(outcomes)
    if outcomes:
        from ..outcomes import outcomes_json, outcomes_table

        _write(folder / "outcomes.json", outcomes_json(outcomes["result"]))
        _write(folder / "outcomes.tsv", frame_to_tsv(outcomes_table(outcomes["result"])))
    _write(folder / "index.html",
           env.get_template("index.html").render(page=page, c=cohort, root=""))


def write_report(
    outdir: str | os.PathLike[str],
    *,
    sheet: pd.DataFrame | None,
    calls: pd.DataFrame,
    origins: pd.DataFrame,
    stats: dict,
    sheet_path: str | os.PathLike[str] | None,
    options: dict,
    force: bool = False,
    progress: bool | None = None,
    outcomes: dict | None = None,
    patient_table: pd.DataFrame | None = None,
    copy_number: pd.DataFrame | None = None,
) -> Path:
    """Write the HTML report, tables and provenance into ``outdir``; return ``index.html``'s path.

    ``copy_number`` (optional): the copy-number table of the sheet's ``cnv`` files
    (:func:`lesiontrack.roads.read_sheet_copy_number`, also given to
    :func:`~lesiontrack.test_clustering`), for the roads to resistance and the graph's
    ``amplified`` edges.

    ``outcomes`` (optional): ``{"result": ..., "figures": {endpoint: svg}, "by": grouping}`` from
    :func:`lesiontrack.outcomes.analyse`, shown as an outcomes section on the cohort page and
    written as ``outcomes.json``/``outcomes.tsv``.

    ``sheet`` is the sample sheet (:func:`~lesiontrack.read_samplesheet`), ``calls`` the calls
    table, ``origins`` the origins table (:func:`~lesiontrack.classify`), ``stats`` the dict of
    :func:`~lesiontrack.test_clustering`; ``options`` are recorded as given in
    ``provenance.json``. An existing non-empty ``outdir`` is refused with
    :class:`~lesiontrack.OptionError` unless ``force``; with ``force`` the old contents are
    replaced only once the new report is complete. ``progress``: a progress bar on stderr
    (default: only when stderr is a terminal). ``patient_table``: the patient table (its
    treatment start and progression dates are drawn on the timelines).
    """
    roster = _roster(sheet, calls)
    patients = sorted(set(roster) | {str(p) for p in origins["patient_id"]}
                      | {str(p["patient_id"]) for p in stats.get("patients", [])}, key=_natural)
    return write_report_parts(outdir, parts=[ReportPart(sheet, calls, origins,
                                                        copy_number=copy_number)],
                              patients=patients, sheet=sheet, sheet_path=sheet_path,
                              options=options, force=force, progress=progress, stats=stats,
                              outcomes=outcomes, patient_table=patient_table)


def write_report_parts(
    outdir: str | os.PathLike[str],
    *,
    parts: Iterable[ReportPart],
    patients: Iterable[str],
    sheet: pd.DataFrame | None,
    sheet_path: str | os.PathLike[str] | None,
    options: dict,
    force: bool = False,
    progress: bool | None = None,
    stats: dict | None = None,
    outcomes=None,
    patient_table: pd.DataFrame | None = None,
) -> Path:
    """:func:`write_report` from batches of patients (:class:`ReportPart`, in the plain sorted
    order of the patient identifiers), read one at a time: memory follows the largest batch,
    not the cohort. ``patients``: every patient of the cohort (their page file names are
    settled first). ``stats`` None: :func:`~lesiontrack.test_clustering`'s result is computed
    from the parts (with ``options``' permutations, seed and focal_max, and the patterns
    decided by ``patient_table``, the patient table, when given); ``outcomes`` may then
    be a function of those stats returning the ``outcomes`` dict of :func:`write_report`.
    The report is the same for every way of cutting the cohort into parts."""
    outdir = Path(os.path.abspath(outdir))
    options = jsonable(dict(options))
    inputs = named_inputs(sheet_path=sheet_path, sheet=sheet,
                          calls_tables=options.get("calls_tables"),
                          reference=options.get("reference"), patients=options.get("patients"))
    with building_folder(outdir, force=force, inputs=inputs) as built:
        _build(built, parts=parts, patients=sorted(set(patients), key=_natural), stats=stats,
               options=options, progress=progress, outcomes=outcomes,
               patient_table=patient_table)
        _write(built / "provenance.json", _provenance(sheet, sheet_path, options))
    return outdir / "index.html"
