"""Primary vs secondary origin of every (patient, mutation), with the rule and the evidence.

Rules, tried in order (the first that can decide wins; later rules that would have answered
otherwise are named in ``flags``):

1. ``baseline`` - detected in a pre-treatment sample -> primary; absent there (evaluable) and
   detected in a lesion -> secondary; not evaluable there -> next rule.
2. ``sharing`` - at least two lesions: detected in every lesion -> primary (truncal); detected in
   some and absent (evaluable) in another -> secondary; otherwise -> next rule.
3. ``knowledge`` - the bundled table: known primary region -> primary; known imatinib-resistance
   site -> secondary.
4. ``none`` - undetermined.

A lesion *detects* a mutation when any of its samples does; it is *absent* when none does and at
least one sample was read at the site (depth >= min_depth); otherwise it is *not evaluable*.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import genome
from .order import natural_key as _natural
from .thresholds import Thresholds

DETECTED, ABSENT, NOT_EVALUABLE = "detected", "absent", "not_evaluable"

#: Columns of the origins table, in order.
ORIGIN_COLUMNS: list[str] = [
    "patient_id", "variant_key", "chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp",
    "origin", "rule", "flags", "evidence", "lesions_detected", "lesions_absent",
    "lesions_not_evaluable",
]


@dataclass
class _Lesion:
    lesion_id: str
    role: str
    state: str
    text: str  # e.g. "L1 (30/150 reads)"


def _reads(alt, depth) -> str:
    if pd.isna(depth):
        return "depth unknown"
    if pd.isna(alt):
        return f"depth {int(depth)}"
    return f"{int(alt)}/{int(depth)} reads"


def _lesion_states(calls: pd.DataFrame) -> pd.DataFrame:
    """One row per (patient, variant, lesion) that has any row: its state and a short text."""
    frame = calls[["patient_id", "variant_key", "lesion_id", "sample_id", "alt_count", "depth",
                   "detected"]].copy()
    det = frame["detected"].astype("boolean")
    frame["is_true"] = det.fillna(False).astype(bool)
    frame["is_false"] = (~det).fillna(False).astype(bool)
    frame["_alt"] = frame["alt_count"].astype(float).fillna(-1.0)
    frame["_depth"] = frame["depth"].astype(float).fillna(-1.0)
    # the most telling sample of each lesion: detected first, then the deepest
    frame = frame.sort_values(["is_true", "_alt", "_depth"], ascending=False, kind="stable")
    keys = ["patient_id", "variant_key", "lesion_id"]
    grouped = frame.groupby(keys, sort=False)
    best = grouped.head(1).set_index(keys)
    summary = grouped.agg(n_true=("is_true", "sum"), n_false=("is_false", "sum"),
                          n_samples=("sample_id", "nunique"))
    summary = summary.join(best[["alt_count", "depth"]])
    summary["state"] = NOT_EVALUABLE
    summary.loc[summary["n_false"] > 0, "state"] = ABSENT
    summary.loc[summary["n_true"] > 0, "state"] = DETECTED
    return summary.reset_index()


def _state_text(lesion: str, row) -> str:
    reads = _reads(row.alt_count, row.depth)
    if row.state == DETECTED:
        if row.n_samples > 1:
            return f"{lesion} ({int(row.n_true)} of {int(row.n_samples)} samples; best {reads})"
        return f"{lesion} ({reads})"
    if row.state == ABSENT:
        return f"{lesion} (depth {int(row.depth)})" if not pd.isna(row.depth) else lesion
    return lesion


def _join(items: list[_Lesion]) -> str:
    return ", ".join(i.text for i in items)


def _knowledge(gene, codon) -> tuple[str | None, str]:
    codon = None if pd.isna(codon) else int(codon)
    row = genome.knowledge_for(gene if isinstance(gene, str) else None, codon)
    if row is None:
        return None, ""
    if row.role == "primary":
        return "primary", f"known primary region: {row.region}"
    return "secondary", f"known imatinib-resistance site: {row.region}"


def _decide(lesions: list[_Lesion], gene, codon) -> tuple[str, str, str, str]:
    """(origin, rule, flags, evidence) for one patient's mutation."""
    base = [x for x in lesions if x.role == "baseline"]
    mets = [x for x in lesions if x.role == "lesion"]
    det = [x for x in mets if x.state == DETECTED]
    absent = [x for x in mets if x.state == ABSENT]
    unknown = [x for x in mets if x.state == NOT_EVALUABLE]
    verdicts: list[tuple[str, str | None, str]] = []  # (rule, answer or None, evidence)

    # 1. baseline
    answer, text = None, ""
    if base:
        b_det = [x for x in base if x.state == DETECTED]
        b_abs = [x for x in base if x.state == ABSENT]
        if b_det:
            answer, text = "primary", f"detected in baseline {_join(b_det)}"
        elif b_abs and det:
            answer = "secondary"
            text = f"absent from baseline {_join(b_abs)}; detected in {_join(det)}"
        else:
            text = f"baseline {_join(base)} not evaluable at the site"
    verdicts.append(("baseline", answer, text))

    # 2. sharing
    answer, text = None, ""
    if len(mets) >= 2:
        if det and len(det) == len(mets):
            answer, text = "primary", f"detected in every lesion: {_join(det)}"
        elif det and absent:
            answer = "secondary"
            text = f"detected in {_join(det)}; absent from {_join(absent)}"
        elif det:
            text = f"detected in {_join(det)}; not evaluable in {_join(unknown)}"
    verdicts.append(("sharing", answer, text))

    # 3. knowledge
    answer, text = _knowledge(gene, codon)
    verdicts.append(("knowledge", answer, text))

    for index, (rule, answer, text) in enumerate(verdicts):
        if answer is None:
            continue
        flags = [f"{later}={other} ({why})" for later, other, why in verdicts[index + 1:]
                 if other is not None and other != answer]
        undecided = [why for earlier, other, why in verdicts[:index] if other is None and why]
        evidence = "; ".join([text, *undecided])
        return answer, rule, "; ".join(flags), evidence
    notes = [why for _, _, why in verdicts if why]
    if not notes and det:
        notes = [f"detected in {_join(det)}; only one lesion and no baseline sample"]
    return "undetermined", "none", "", "; ".join(notes) or "no rule could decide"


def classify(
    calls: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Origin (primary / secondary / undetermined) of every mutation detected in each patient.

    ``calls`` is the calls table; ``samples`` (the sample sheet) adds lesions that have no calls
    at all, so that they count as not evaluable. With ``thresholds``, ``detected`` is recomputed
    from the counts. Returns :data:`ORIGIN_COLUMNS`, one row per (patient, mutation detected in
    at least one sample), sorted by patient and position.
    """
    if thresholds is not None:
        calls = calls.copy()
        calls["detected"] = thresholds.detect(calls["alt_count"], calls["depth"], calls["vaf"])
    if calls.empty:
        return _empty_origins()
    roster = calls[["patient_id", "lesion_id", "role"]]
    if samples is not None:
        roster = pd.concat([roster, samples[["patient_id", "lesion_id", "role"]]])
    roster = roster[roster["role"].isin(["baseline", "lesion"])].drop_duplicates(
        ["patient_id", "lesion_id"])
    lesions_of = {p: list(zip(g["lesion_id"], g["role"], strict=True))
                  for p, g in roster.groupby("patient_id", sort=False)}
    states = _lesion_states(calls)
    # plain Python structures: one pass over each table, no per-group pandas indexing
    by_variant: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for row in states.itertuples(index=False):
        by_variant.setdefault((row.patient_id, row.variant_key), {})[row.lesion_id] = (
            row.state, _state_text(row.lesion_id, row))
    info_columns = ["chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp", "codon"]
    firsts = calls.drop_duplicates(["patient_id", "variant_key"])
    info_of = {(p, k): dict(zip(info_columns, values, strict=True)) for p, k, *values in zip(
        firsts["patient_id"], firsts["variant_key"], *(firsts[c] for c in info_columns),
        strict=True)}
    ordered = {p: sorted(ls, key=lambda x: _natural(x[0])) for p, ls in lesions_of.items()}
    rows = []
    for key, seen in by_variant.items():
        if not any(state == DETECTED for state, _ in seen.values()):
            continue
        patient, vkey = key
        lesions = [
            _Lesion(lesion_id, role, *seen.get(lesion_id, (NOT_EVALUABLE, lesion_id)))
            for lesion_id, role in ordered.get(patient, [])
        ]
        info = info_of[key]
        origin, rule, flags, evidence = _decide(lesions, info["gene"], info["codon"])
        mets = [x for x in lesions if x.role == "lesion"]
        rows.append({
            "patient_id": patient, "variant_key": vkey, "chrom": info["chrom"],
            "pos": int(info["pos"]), "ref": info["ref"], "alt": info["alt"],
            "gene": info["gene"], "exon": info["exon"], "hgvsc": info["hgvsc"],
            "hgvsp": info["hgvsp"], "origin": origin, "rule": rule, "flags": flags,
            "evidence": evidence,
            "lesions_detected": ",".join(x.lesion_id for x in mets if x.state == DETECTED),
            "lesions_absent": ",".join(x.lesion_id for x in mets if x.state == ABSENT),
            "lesions_not_evaluable": ",".join(
                x.lesion_id for x in mets if x.state == NOT_EVALUABLE),
        })
    if not rows:
        return _empty_origins()
    out = pd.DataFrame.from_records(rows, columns=ORIGIN_COLUMNS)
    out["_chrom"] = out["chrom"].map(_natural)
    out = out.sort_values(["patient_id", "_chrom", "pos", "ref", "alt"], kind="stable")
    return out.drop(columns="_chrom").reset_index(drop=True)


def _empty_origins() -> pd.DataFrame:
    """An origins table without rows, with the dtypes of a table with rows (``pos`` int64)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "pos" else "object")
                         for c in ORIGIN_COLUMNS})

