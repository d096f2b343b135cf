"""Resistance per patient and its heterogeneity across the cohort: pure functions over one table.

The input (:data:`RESISTANCE_COLUMNS`) has one row per (patient_id, lesion_id, variant_key) for
the *counted* secondary mutations of each patient (protein-altering, not germline), in every
tumour lesion where the mutation has a state:

- ``patient_id``, ``lesion_id``, ``status`` (the lesion's response; carried for the page, it does
  not change any count);
- ``variant_key``, ``name`` (what lists show, e.g. ``KIT p.V654A``; the key when empty),
  ``gene``, ``region`` (``ATP-binding pocket``, ``activation loop``...; empty -> ``other``);
- ``state``: ``detected``, ``low_level``, ``absent`` or ``not_evaluable`` (the lesion states of
  ``compare``); a lesion *carries* a mutation only when it is ``detected``; ``absent`` is the
  power rule's absence, never a mere miss; ``low_level`` is neither;
- optional ``drug_activity``: ``imatinib=resistant;sunitinib=sensitive;...`` (the origins.tsv
  column, :func:`lesiontrack.genome.drugs.activity_string`); missing or empty = all unknown.

Several rows for one (patient, lesion, mutation) (several samples) keep the strongest state:
detected, then low_level, absent, not_evaluable. Drug coverage summarises published series; it is
not a treatment recommendation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pandas as pd

from .errors import LesionTrackError
from .genome.drugs import DRUGS, parse_activity_string
from .order import natural_key as _natural

RESISTANCE_COLUMNS: tuple[str, ...] = (
    "patient_id", "lesion_id", "status", "variant_key", "name", "gene", "region", "state",
)
#: Keys of each patient's :func:`patient_resistance` entry, in order.
PATIENT_KEYS: tuple[str, ...] = (
    "n_distinct_secondaries", "secondary_lesions", "n_lesions_with_two_or_more_secondaries",
    "recurrent_secondaries", "regions", "drug_coverage", "drugs_covering_all_secondary_lesions",
)
DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE = "detected", "low_level", "absent", "not_evaluable"
STATES: tuple[str, ...] = (DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE)
#: Region word for a secondary mutation outside every region of the drug table.
OTHER_REGION = "other"
#: Regions listed first (the two classes of secondary KIT mutations), the rest alphabetically.
REGION_ORDER: tuple[str, ...] = ("ATP-binding pocket", "activation loop")
_RANK = {state: rank for rank, state in enumerate(STATES)}


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _checked(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in RESISTANCE_COLUMNS if c not in table.columns]
    if missing:
        raise LesionTrackError(
            f"the resistance table lacks {', '.join(missing)}", field=missing[0],
            hint=f"columns: {', '.join(RESISTANCE_COLUMNS)}")
    frame = table.copy()
    for column in (*RESISTANCE_COLUMNS, "drug_activity"):
        if column in frame.columns:
            frame[column] = frame[column].map(_text)
        else:
            frame[column] = ""
    bad = frame.index[~frame["state"].isin(STATES)]
    if len(bad):
        row = frame.loc[bad[0]]
        raise LesionTrackError(
            f"state {row['state']!r} of {row['variant_key']} in {row['lesion_id']}",
            where=f"row {bad[0]}", field="state", hint=f"one of {', '.join(STATES)}")
    for i, text in frame["drug_activity"].items():
        try:
            parse_activity_string(text)
        except ValueError as error:
            raise LesionTrackError(str(error), where=f"row {i}", field="drug_activity",
                                   hint="drug=activity;... as origins.tsv writes it") from None
    frame["name"] = frame["name"].where(frame["name"] != "", frame["variant_key"])
    frame["region"] = frame["region"].where(frame["region"] != "", OTHER_REGION)
    frame["_rank"] = frame["state"].map(_RANK)
    frame = frame.sort_values("_rank", kind="stable")
    return frame.drop_duplicates(["patient_id", "lesion_id", "variant_key"]).drop(columns="_rank")


def _region_key(region: str) -> tuple:
    return (REGION_ORDER.index(region) if region in REGION_ORDER else len(REGION_ORDER),
            region == OTHER_REGION, region)


def _coverage(activities: list[dict[str, str]], drug: str) -> str:
    calls = [a.get(drug, "unknown") for a in activities]
    if any(c in ("resistant", "reduced") for c in calls):
        return "not_covered"
    if calls and all(c == "sensitive" for c in calls):
        return "covered"
    return "unknown"


def _polyclonal_pairs(rows: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """(mutation a, lesion where a is detected and b absent, b, lesion for b against a)."""
    state = {(r.lesion_id, r.variant_key): r.state for r in rows.itertuples(index=False)}
    names = dict(zip(rows["variant_key"], rows["name"], strict=False))
    lesions = sorted(set(rows["lesion_id"]), key=_natural)
    keys = sorted(set(rows.loc[rows["state"] == DETECTED, "variant_key"]),
                  key=lambda k: (_natural(names[k]), k))
    out = []
    for a, b in itertools.combinations(keys, 2):
        a_not_b = [x for x in lesions if state.get((x, a)) == DETECTED
                   and state.get((x, b)) == ABSENT]
        b_not_a = [x for x in lesions if state.get((x, b)) == DETECTED
                   and state.get((x, a)) == ABSENT]
        if a_not_b and b_not_a:
            out.append((names[a], a_not_b[0], names[b], b_not_a[0]))
    return out


def _one_patient(rows: pd.DataFrame) -> dict:
    carried = rows[rows["state"] == DETECTED]
    lesions = sorted(set(carried["lesion_id"]), key=_natural)
    per_lesion = {x: carried[carried["lesion_id"] == x] for x in lesions}
    lesions_per_key = carried.groupby("variant_key")["lesion_id"].nunique()
    names = dict(zip(carried["variant_key"], carried["name"], strict=False))
    activity = {}
    for key, text in zip(rows["variant_key"], rows["drug_activity"], strict=True):
        if text and key not in activity:
            activity[key] = parse_activity_string(text)
    coverage = {drug: {"covered": [], "not_covered": [], "unknown": []} for drug in DRUGS}
    for lesion, here in per_lesion.items():
        calls = [activity.get(k, {}) for k in dict.fromkeys(here["variant_key"])]
        for drug in DRUGS:
            coverage[drug][_coverage(calls, drug)].append(lesion)
    return {
        "n_distinct_secondaries": int(carried["variant_key"].nunique()),
        "secondary_lesions": lesions,
        "n_lesions_with_two_or_more_secondaries": sum(
            1 for here in per_lesion.values() if here["variant_key"].nunique() >= 2),
        "recurrent_secondaries": sorted(
            (names[k] for k, n in lesions_per_key.items() if n >= 2), key=_natural),
        "regions": sorted(set(carried["region"]), key=_region_key),
        "drug_coverage": coverage,
        "drugs_covering_all_secondary_lesions": [
            drug for drug in DRUGS if lesions and len(coverage[drug]["covered"]) == len(lesions)],
    }


def resistance_table(origins: pd.DataFrame, sheet: pd.DataFrame | None = None, *,
                     states: pd.DataFrame | None = None) -> pd.DataFrame:
    """The input table from an origins table (:func:`lesiontrack.classify`).

    Rows: the ``secondary`` mutations (only those with ``counted`` True when the column exists),
    one per tumour lesion (``role`` ``lesion``). With ``states``
    (:func:`lesiontrack.evidence.lesion_states` of the same inputs: the one home of the states,
    and the only way to keep ``low_level``), each lesion's ``state`` and ``status`` come from
    it; without, from the origins' ``lesions_detected`` (``detected``), ``lesions_absent``
    (``absent``) and ``lesions_not_evaluable`` (``not_evaluable``) lists, and ``status`` is the
    lesion's status in ``sheet`` (``unknown`` without one). ``region`` and ``drug_activity``
    are the origins' columns when present, else from
    :func:`lesiontrack.genome.drugs.drug_columns` (protein-altering changes only).
    """
    from .genome.drugs import drug_columns

    columns = [*RESISTANCE_COLUMNS, "drug_activity"]
    chosen = origins[origins["origin"] == "secondary"]
    if "counted" in chosen.columns:
        chosen = chosen[chosen["counted"].astype("boolean").fillna(False).astype(bool)]
    if chosen.empty:
        return pd.DataFrame(columns=columns)
    if not {"region", "drug_activity"} <= set(chosen.columns):
        chosen = drug_columns(chosen)
    status: dict[tuple[str, str], str] = {}
    if sheet is not None and {"patient_id", "lesion_id", "status"} <= set(sheet.columns):
        for patient, lesion, value in zip(sheet["patient_id"], sheet["lesion_id"],
                                          sheet["status"], strict=True):
            status[(str(patient), str(lesion))] = _text(value) or "unknown"
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    if states is not None:
        tumour = states[states["role"] == "lesion"] if len(states) else states
        for patient, key, lesion, state, value in zip(
                tumour["patient_id"], tumour["variant_key"], tumour["lesion_id"],
                tumour["state"], tumour["status"], strict=True):
            found.setdefault((_text(patient), _text(key)), []).append(
                (_text(lesion), _text(state), _text(value) or "unknown"))
    out = []
    for row in chosen.to_dict("records"):
        patient, key = _text(row["patient_id"]), _text(row["variant_key"])
        gene, hgvsp = _text(row.get("gene")), _text(row.get("hgvsp"))
        name = f"{gene} {hgvsp}".strip() if hgvsp else key
        if states is not None:
            lesions = found.get((patient, key), [])
        else:
            lesions = [(lesion, state, status.get((patient, lesion), "unknown"))
                       for column, state in (("lesions_detected", DETECTED),
                                             ("lesions_absent", ABSENT),
                                             ("lesions_not_evaluable", NOT_EVALUABLE))
                       for lesion in _text(row.get(column)).split(",") if lesion]
        for lesion, state, lesion_status in lesions:
            out.append({"patient_id": patient, "lesion_id": lesion, "status": lesion_status,
                        "variant_key": key, "name": name, "gene": gene,
                        "region": _text(row["region"]), "state": state,
                        "drug_activity": _text(row["drug_activity"])})
    return pd.DataFrame(out, columns=columns)


def patient_resistance(
    table: pd.DataFrame, patients: Iterable[str] | None = None
) -> dict[str, dict]:
    """Per patient: secondary mutations by lesion, recurrence, regions and drug coverage.

    Keys: ``n_distinct_secondaries``, ``secondary_lesions``,
    ``n_lesions_with_two_or_more_secondaries``, ``recurrent_secondaries``, ``regions``,
    ``drug_coverage`` (``{drug: {"covered", "not_covered", "unknown"}}`` over the lesions carrying
    a secondary: covered when every secondary detected there is ``sensitive``, not covered when
    any is ``resistant`` or ``reduced``, unknown otherwise) and
    ``drugs_covering_all_secondary_lesions`` (empty when none, or when no lesion carries one).
    ``patients`` adds patients without rows (all zeros and empty lists). Raises
    :class:`LesionTrackError` on a missing column, an unknown state or a malformed drug activity.
    """
    frame = _checked(table)
    groups = {str(p): rows for p, rows in frame.groupby("patient_id", sort=False)}
    names = set(groups) | {str(p) for p in (patients or ())}
    return {patient: _one_patient(groups.get(patient, frame.iloc[:0]))
            for patient in sorted(names, key=_natural)}


def polyclonal_pairs(table: pd.DataFrame) -> dict[str, list[tuple[str, str, str, str]]]:
    """Per patient, the pairs of different secondaries each detected in a lesion where the other
    is absent: ``(a, lesion, b, lesion)``, with the first such lesion of each. Only patients with
    a pair are listed."""
    frame = _checked(table)
    out = {}
    for patient in sorted(set(frame["patient_id"]), key=_natural):
        pairs = _polyclonal_pairs(frame[frame["patient_id"] == patient])
        if pairs:
            out[patient] = pairs
    return out


def heterogeneity(table: pd.DataFrame) -> dict:
    """Heterogeneity of resistance across the cohort (the Liegl 2008 picture).

    ``n_patients_with_secondary`` (a counted secondary detected in at least one lesion),
    ``n_patients_polyclonal_across_lesions`` (two different secondaries, each detected in a lesion
    where the other is ``absent``; ``not_evaluable`` or ``low_level`` is not absent),
    ``n_patients_two_in_one_lesion`` (a lesion carrying two or more), ``n_lesions_with_two_or_more``
    (such lesions, cohort-wide) and ``secondaries_by_region`` (distinct secondaries per patient,
    counted by region).
    """
    frame = _checked(table)
    carried = frame[frame["state"] == DETECTED]
    per_lesion = carried.groupby(["patient_id", "lesion_id"])["variant_key"].nunique()
    crowded = per_lesion[per_lesion >= 2]
    distinct = carried.drop_duplicates(["patient_id", "variant_key"])
    by_region = distinct["region"].value_counts()
    return {
        "n_patients_with_secondary": int(carried["patient_id"].nunique()),
        "n_patients_polyclonal_across_lesions": len(polyclonal_pairs(frame)),
        "n_patients_two_in_one_lesion": int(crowded.index.get_level_values(0).nunique()),
        "n_lesions_with_two_or_more": len(crowded),
        "secondaries_by_region": {region: int(by_region[region])
                                  for region in sorted(by_region.index, key=_region_key)},
    }


def heterogeneity_words(result: dict) -> str:
    """The cohort sentence: "6 of 9 patients with secondary mutations carry different ones in
    separate lesions; 3 have two or more in one lesion (4 lesions)"."""
    total = result["n_patients_with_secondary"]
    if total == 0:
        return "No patient has a secondary mutation detected in a lesion."
    poly, two = (result["n_patients_polyclonal_across_lesions"],
                 result["n_patients_two_in_one_lesion"])
    lesions = result["n_lesions_with_two_or_more"]
    noun = "patient" if total == 1 else "patients"
    verb_poly = "carries" if poly == 1 else "carry"
    verb_two = "has" if two == 1 else "have"
    lesion_word = "lesion" if lesions == 1 else "lesions"
    return (f"{poly} of {total} {noun} with secondary mutations {verb_poly} different ones in "
            f"separate lesions; {two} {verb_two} two or more in one lesion "
            f"({lesions} {lesion_word}).")


def coverage_grid(resistance: dict) -> pd.DataFrame:
    """Lesions x drugs of one patient's :func:`patient_resistance` entry: ``covered``,
    ``not_covered`` or ``unknown`` (for the page's grid)."""
    lesions = resistance["secondary_lesions"]
    grid = pd.DataFrame(index=pd.Index(lesions, name="lesion_id"), columns=list(DRUGS),
                        dtype=object)
    for drug, groups in resistance["drug_coverage"].items():
        for verdict, where in groups.items():
            grid.loc[where, drug] = verdict
    return grid


__all__ = ["ABSENT", "DETECTED", "LOW_LEVEL", "NOT_EVALUABLE", "OTHER_REGION", "PATIENT_KEYS",
           "RESISTANCE_COLUMNS", "STATES", "coverage_grid", "heterogeneity",
           "heterogeneity_words", "patient_resistance", "polyclonal_pairs", "resistance_table"]
