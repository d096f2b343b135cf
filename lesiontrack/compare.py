"""Origins: where every (patient, mutation) gets its origin, rule, flags and evidence.

:func:`classify` reads the lesion states of :mod:`lesiontrack.evidence` (the one place where
"detected", "absent" and "not evaluable" are decided), adds the evidence of samples that are not
a lesion's current one (earlier biopsies of a lesion, for ``lesion_history``; plasma draws,
acting as a baseline when drawn before treatment) and applies the origin rules of
:mod:`lesiontrack.origin_rules` (germline -> ``lesion_history`` -> ``baseline`` -> ``sharing``
-> ``knowledge`` -> ``none``) to each mutation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drivers import TUMOUR_ROLES, codon_number, protein_altering
from .evidence import (
    ABSENT,
    DETECTED,
    LOW_LEVEL,
    NOT_EVALUABLE,
    PLASMA,
    STATE_RANK,
    lesion_states,
    percent_text,
    reads_text,
)
from .evidence import sample_states as _sample_grid  # classify's parameter hides the name
from .options import CCF_FLAG_ABOVE, HAEMATOPOIETIC_MAX_VAF, Thresholds
from .order import natural_key as _natural
from .origin_rules import LesionEvidence, content_text, decide, germline_rule

#: Columns of the origins table, in order (columns are appended, never renamed).
ORIGIN_COLUMNS: list[str] = [
    "patient_id", "variant_key", "chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp",
    "origin", "rule", "flags", "evidence", "lesions_detected", "lesions_absent",
    "lesions_not_evaluable", "consequence", "counted", "not_counted_reason", "region",
    "drug_activity", "first_detected_date", "first_detected_in",
]


# ----------------------------------------------------------------------------------------------
# time and plasma: the evidence of samples that are not a lesion's current one
# ----------------------------------------------------------------------------------------------

def _num(value) -> float | None:
    return None if value is None or value is pd.NA or pd.isna(value) else float(value)


def _sample_lesion(row, name: str, role: str, status: str) -> LesionEvidence:
    """One sample's state (a row of :func:`lesiontrack.evidence.sample_states`) as a
    :class:`~lesiontrack.origin_rules.LesionEvidence` named ``name`` (e.g. a pre-treatment
    plasma draw acting as a baseline)."""
    return LesionEvidence(name, role, status, row.state, row.reason, _num(row.vaf),
                          _num(row.alt_count), _num(row.depth), _num(row.ccf),
                          _num(row.ccf_low), _num(row.ccf_high), _num(row.ccf_raw),
                          _num(row.tumour_content), row.tumour_content_source, 1,
                          int(row.state == DETECTED))


def _treatment_starts(patients: pd.DataFrame | None) -> dict[str, str]:
    """patient -> ``treatment_start_date`` (ISO) of the patient table, where given."""
    if patients is None or "treatment_start_date" not in patients:
        return {}
    return {str(p): str(d) for p, d in zip(patients["patient_id"],
                                           patients["treatment_start_date"], strict=True)
            if isinstance(d, str) and d}


def _history_verdicts(grid: pd.DataFrame
                      ) -> dict[tuple[str, str], tuple[str | None, str, list[str]]]:
    """The ``lesion_history`` verdict per (patient, mutation): a lesion sampled at several
    dates, absent (power rule) at an earlier date and detected at a later one -> secondary,
    the evidence naming both dates; (answer or None, evidence, flags). Like a baseline, an
    earlier date counts only where the truncal driver is detected (in a patient with one);
    otherwise it is flagged and the next rule decides. The driver is never secondary by
    history."""
    dated = grid[(grid["role"] == "lesion") & (grid["date"].astype(str) != "")]
    if dated.empty:
        return {}
    if "is_driver" in dated:
        is_driver = dated["is_driver"].fillna(False).astype(bool)
    else:
        is_driver = pd.Series(False, index=dated.index)
    with_driver = set(dated.loc[is_driver, "patient_id"])
    drv = dated[is_driver]
    drv_rank = drv.assign(_rank=drv["state"].map(STATE_RANK)).sort_values("_rank", kind="stable")
    drv_rank = drv_rank.drop_duplicates(["patient_id", "lesion_id", "date"])  # best sample
    drv_best = {(p, lesion, d): (state, reason) for p, lesion, d, state, reason in zip(
        drv_rank["patient_id"], drv_rank["lesion_id"], drv_rank["date"], drv_rank["state"],
        drv_rank["reason"], strict=True)}
    dated = dated.assign(_rank=dated["state"].map(STATE_RANK),
                         _p=dated["power"].astype(float).fillna(-1.0), _drv=is_driver)
    dated = dated.sort_values(["_rank", "_p"], ascending=[True, False], kind="stable")
    best = dated.drop_duplicates(["patient_id", "variant_key", "lesion_id", "date"])
    out: dict[tuple[str, str], tuple[str | None, str, list[str]]] = {}
    for (patient, key), rows in best.groupby(["patient_id", "variant_key"], sort=False):
        if rows["_drv"].any():
            continue
        found, pending, flags = [], [], []
        for lesion, steps in rows.groupby("lesion_id", sort=False):
            if steps["date"].nunique() < 2:
                continue
            steps = steps.sort_values("date", kind="stable")
            detected = steps[steps["state"] == DETECTED]
            if detected.empty:
                continue
            first = detected.iloc[0]
            before = steps[steps["date"] < first["date"]]
            if patient in with_driver:
                informative = []
                for step in before.itertuples(index=False):
                    state, reason = drv_best.get((patient, lesion, step.date),
                                                 (NOT_EVALUABLE, "not read"))
                    informative.append(state == DETECTED)
                    if state != DETECTED:
                        flags.append(f"earlier biopsy uninformative/conflict (driver not "
                                     f"detected): {lesion} on {step.date} ({step.sample_id}, "
                                     f"driver {state.replace('_', ' ')}: {reason})")
                before = before[np.array(informative, dtype=bool)]
            absent = before[before["state"] == ABSENT]
            later = (f"detected on {first['date']} ({first['sample_id']}, "
                     f"{reads_text(first['alt_count'], first['depth'])})")
            if len(absent):
                gone = absent.iloc[-1]
                found.append(f"lesion history: {lesion} absent on {gone['date']} "
                             f"({gone['sample_id']}, {gone['reason']}); {later}")
            elif len(before):
                seen_step = before.iloc[-1]
                pending.append(f"lesion history: {lesion} "
                               f"{seen_step['state'].replace('_', ' ')} on "
                               f"{seen_step['date']} ({seen_step['reason']}); {later}")
        if found:
            out[(patient, key)] = ("secondary", "; ".join(found), flags)
        elif pending or flags:
            out[(patient, key)] = (None, "; ".join(pending), flags)
    return out


def _plasma_evidence(grid: pd.DataFrame, starts: dict[str, str]
                     ) -> tuple[dict, dict, dict]:
    """Per (patient, mutation): pre-treatment plasma draws as baseline entries (every state),
    later (or undated) plasma detections as entries, and the facts the plasma flags need
    (plasma detections, whether a tumour sample detects it, whether a normal sample reads
    it)."""
    pre: dict[tuple[str, str], list[LesionEvidence]] = {}
    later: dict[tuple[str, str], list[LesionEvidence]] = {}
    facts: dict[tuple[str, str], dict] = {}
    if grid.empty:
        return pre, later, facts
    for row in grid.itertuples(index=False):
        key = (row.patient_id, row.variant_key)
        fact = facts.setdefault(key, {"plasma": [], "tumour": False, "normal_read": False})
        if row.role in TUMOUR_ROLES and row.state == DETECTED:
            fact["tumour"] = True
        if row.role == "normal" and row.state in (DETECTED, LOW_LEVEL, ABSENT):
            fact["normal_read"] = True
        if row.role != PLASMA:
            continue
        date = str(row.date or "")
        if row.state == DETECTED:
            fact["plasma"].append((row.sample_id, date, _num(row.vaf)))
        start = starts.get(str(row.patient_id))
        when = f" ({date})" if date else ""
        if start and date and date < start:
            pre.setdefault(key, []).append(_sample_lesion(
                row, f"pre-treatment plasma {row.sample_id}{when}", "baseline", "baseline"))
        elif row.state == DETECTED:
            later.setdefault(key, []).append(_sample_lesion(
                row, f"plasma {row.sample_id}{when}", PLASMA, row.status))
    return pre, later, facts


def _plasma_flags(fact: dict | None, origin: str, gene, hgvsp) -> list[str]:
    """``plasma_only`` (a secondary detected in plasma and in no biopsied lesion) and the
    possible haematopoietic origin of KIT D816V seen only in plasma at low VAF."""
    if not fact or not fact["plasma"] or fact["tumour"]:
        return []
    draws = ", ".join(f"{s}{' ' + d if d else ''} VAF {percent_text(v) if v is not None else '?'}"
                      for s, d, v in fact["plasma"])
    flags = []
    if origin == "secondary":
        flags.append(f"plasma_only: detected in plasma ({draws}) and in no biopsied lesion: "
                     "likely from a lesion that was not sampled")
    top = max((v for _, _, v in fact["plasma"] if v is not None), default=None)
    if (gene == "KIT" and hgvsp == "p.D816V" and top is not None
            and top < HAEMATOPOIETIC_MAX_VAF and not fact["normal_read"]):
        flags.append(f"possible haematopoietic origin: KIT D816V only in plasma at VAF "
                     f"{percent_text(top)} can come from blood cells (mast-cell or clonal "
                     "haematopoiesis); sequence a buffy-coat sample as role=normal")
    return flags


def classify(
    calls: pd.DataFrame,
    sheet: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    count_all: bool = False,
    states: pd.DataFrame | None = None,
    sample_states: pd.DataFrame | None = None,
    patients: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Origin (primary / secondary / germline / undetermined) of every mutation detected in each
    patient, with whether it counts in the clustering statistics.

    ``calls`` is the calls table; ``sheet`` (the sample sheet) adds lesions without calls and
    the ``purity`` column. With ``thresholds``, ``detected`` is recomputed from the counts and
    ``error_rate``/``min_power`` decide absences. ``count_all`` counts germline and silent
    changes too. ``states``: :func:`lesiontrack.evidence.lesion_states` already computed with
    the same inputs; ``sample_states``: likewise :func:`lesiontrack.evidence.sample_states`
    (earlier samples of a lesion, plasma draws). ``patients``: the patient table, whose
    ``treatment_start_date`` makes plasma drawn before it act as a baseline sample.
    Returns :data:`ORIGIN_COLUMNS`, one row per (patient, mutation detected in at least one
    sample), sorted by patient and position; ``region`` and ``drug_activity`` (the string form
    of :func:`lesiontrack.genome.drugs.activity_string`) are filled for protein-altering changes
    that a drug-table row applies to, else ''.
    """
    if calls.empty:
        return empty_origins()
    grid = sample_states if sample_states is not None else _sample_grid(
        calls, sheet, thresholds=thresholds)
    if states is None:
        states = lesion_states(calls, sheet, thresholds=thresholds, sample_states=grid)
    if states.empty:
        return empty_origins()
    if grid.empty or "_alt" not in grid:
        grid = pd.DataFrame(columns=["patient_id", "variant_key", "sample_id", "role", "state",
                                     "date", "lesion_id", "power"])
    from .timeline import first_detections

    history = _history_verdicts(grid)
    pre_plasma, later_plasma, plasma_facts = _plasma_evidence(grid, _treatment_starts(patients))
    firsts_detected = first_detections(grid)
    frame = calls if "consequence" in calls else calls.assign(consequence="unknown")
    info_columns = ["chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp", "codon",
                    "consequence"]
    firsts = frame.drop_duplicates(["patient_id", "variant_key"])
    info_of = {(p, k): dict(zip(info_columns, values, strict=True)) for p, k, *values in zip(
        firsts["patient_id"], firsts["variant_key"], *(firsts[c] for c in info_columns),
        strict=True)}
    driver_of: dict[str, str] = {}
    lesions_of: dict[tuple[str, str], list[LesionEvidence]] = {}
    for row in states.itertuples(index=False):
        if row.is_driver:
            driver_of[row.patient_id] = row.variant_key

        def num(value):
            return None if value is None or pd.isna(value) else float(value)

        lesions_of.setdefault((row.patient_id, row.variant_key), []).append(LesionEvidence(
            row.lesion_id, row.role, row.status, row.state, row.reason, num(row.vaf),
            num(row.alt_count), num(row.depth), num(row.ccf), num(row.ccf_low),
            num(row.ccf_high), num(row.ccf_raw), num(row.tumour_content),
            row.tumour_content_source, int(row.samples), int(row.samples_detected)))
    rows = []
    for key, lesions in lesions_of.items():
        patient, vkey = key
        info = info_of[key]
        consequence = info["consequence"] if isinstance(info["consequence"], str) and info[
            "consequence"] else "unknown"
        altering = protein_altering(consequence)
        rule, evidence, flags = germline_rule(lesions, info["gene"], info["hgvsc"])
        if rule is not None:
            origin = "germline"
        else:
            dkey = driver_of.get(patient)
            driver_lesions = ({x.lesion_id: x for x in lesions_of[(patient, dkey)]
                               + pre_plasma.get((patient, dkey), [])}
                              if dkey is not None else None)
            origin, rule, more, evidence = decide(
                lesions + pre_plasma.get(key, []), driver_lesions, dkey == vkey,
                info["gene"], info["codon"], altering, history.get(key, (None, "", [])),
                later_plasma.get(key, []))
            flags = flags + more
            if dkey == vkey:
                evidence += "; the patient's truncal driver"
        flags += _plasma_flags(plasma_facts.get(key), origin, info["gene"], info["hgvsp"])
        high = [x for x in lesions if x.state == DETECTED and x.ccf_raw is not None
                and x.ccf_raw > CCF_FLAG_ABOVE]
        if high:
            flags.append("CCF above 1.2 in " + ", ".join(
                f"{x.lesion_id} ({x.ccf_raw:.2f})" for x in high)
                + ": loss of wild-type KIT or gain of the mutant allele; clamped at 1")
        content = content_text(lesions)
        if content:
            evidence += f"; {content}"
        if count_all:
            counted, reason = True, ""
        elif origin == "germline":
            counted, reason = False, "germline"
        elif altering is False:
            counted, reason = False, consequence
        else:
            counted, reason = True, ""
        if altering is None and origin != "germline":
            flags.append("consequence unknown")
        mets = [x for x in lesions if x.role == "lesion"]
        rows.append({
            "patient_id": patient, "variant_key": vkey, "chrom": info["chrom"],
            "pos": int(info["pos"]), "ref": info["ref"], "alt": info["alt"],
            "gene": info["gene"], "exon": info["exon"], "hgvsc": info["hgvsc"],
            "hgvsp": info["hgvsp"], "origin": origin, "rule": rule, "flags": "; ".join(flags),
            "evidence": evidence,
            "lesions_detected": ",".join(x.lesion_id for x in mets if x.state == DETECTED),
            "lesions_absent": ",".join(x.lesion_id for x in mets if x.state == ABSENT),
            "lesions_not_evaluable": ",".join(
                x.lesion_id for x in mets if x.state in (NOT_EVALUABLE, LOW_LEVEL)),
            "consequence": consequence, "counted": counted, "not_counted_reason": reason,
            **_drug_fields(info["gene"], info["codon"], info["hgvsp"], consequence),
            "first_detected_date": firsts_detected.get(key, ("", ""))[0],
            "first_detected_in": firsts_detected.get(key, ("", ""))[1],
        })
    if not rows:
        return empty_origins()
    out = pd.DataFrame.from_records(rows, columns=ORIGIN_COLUMNS)
    out["_chrom"] = out["chrom"].map(_natural)
    out = out.sort_values(["patient_id", "_chrom", "pos", "ref", "alt"], kind="stable")
    return out.drop(columns="_chrom").reset_index(drop=True)


def _drug_fields(gene, codon, hgvsp, consequence: str) -> dict[str, str]:
    """``region`` and ``drug_activity`` (string form) of a protein-altering change, else ''."""
    from .genome.drugs import activity_string, drug_activity

    found = drug_activity(gene if isinstance(gene, str) else None, codon_number(codon),
                          hgvsp if isinstance(hgvsp, str) else None, consequence)
    return {"region": found.region if found else "", "drug_activity": activity_string(found)}


def states_and_origins(calls: pd.DataFrame, sheet: pd.DataFrame | None = None, *,
                       thresholds: Thresholds | None = None, count_all: bool = False,
                       patients: pd.DataFrame | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(lesion states, origins, sample states): the sample states computed once and shared by
    :func:`~lesiontrack.evidence.lesion_states` and :func:`classify` (the commands and each
    batch of a cohort take all three)."""
    per_sample = _sample_grid(calls, sheet, thresholds=thresholds)
    states = lesion_states(calls, sheet, thresholds=thresholds, sample_states=per_sample)
    origins = classify(calls, sheet, thresholds=thresholds, count_all=count_all, states=states,
                       sample_states=per_sample, patients=patients)
    return states, origins, per_sample


def empty_origins() -> pd.DataFrame:
    """An origins table without rows, with the dtypes of a table with rows (``pos`` int64)."""
    dtypes = {"pos": "int64", "counted": "bool"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in ORIGIN_COLUMNS})


__all__ = ["ORIGIN_COLUMNS", "classify", "empty_origins", "states_and_origins"]
