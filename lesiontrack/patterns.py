"""Which lesions carry a secondary mutation, and each patient's progression pattern.

:func:`lesion_table`: one row per progressive or controlled lesion (``role == "lesion"``), with
whether a counted secondary mutation (``counted`` in the origins table) is detected in it. A
lesion *has a secondary* when one is detected in it, has none only when it is evaluable (see
:func:`lesion_table`); other lesions are left out of the tests (:mod:`lesiontrack.stats`) and
counted.

A patient's progression *pattern* describes the disease, not the sequenced subset: a patient
table's ``pattern`` decides it, else its radiology lesion counts (``radiology_progressive``,
``radiology_controlled``), else the sequenced lesions (every sequenced lesion with a status,
evaluable or not), ``unknown`` when fewer than two with a progressive or controlled status were
sequenced (:func:`decide_pattern`).
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np
import pandas as pd

from .errors import PatientTableError
from .options import DEFAULT_FOCAL_MAX, Thresholds
from .order import natural_sorted

log = logging.getLogger("lesiontrack")

__all__ = [
    "CONFINEMENTS", "PATTERN_SOURCES", "RADIOLOGY_COLUMNS", "TABLE_PATTERNS",
    "check_table_patients", "clonal_power", "decide_pattern", "lesion_table", "parse_count",
    "patient_patterns", "pattern_from_counts", "table_patterns",
]


def lesion_table(origins: pd.DataFrame, calls: pd.DataFrame,
                 samples: pd.DataFrame | None = None, *, states: pd.DataFrame | None = None,
                 thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One row per progressive or controlled lesion: patient_id, lesion_id, status,
    has_secondary, secondary (the counted secondary mutations detected in it), evaluable,
    not_evaluable_reason and secondary_low_level (those seen in it below the detection
    thresholds but above noise: never "absent").

    A lesion is *with secondary* when a counted secondary mutation of its patient is detected
    in it; *without* only when it is absent (:func:`~lesiontrack.evidence.lesion_states`) at
    every counted secondary site of its patient, or, for a patient without one, when it is
    powered for a clonal heterozygous mutation at its tumour content (at the depth of its
    best-read mutation); otherwise it is not evaluable and left out of the tests. ``states``:
    the lesion states already computed from the same inputs and ``thresholds``.
    """
    from .evidence import ABSENT, DETECTED, LOW_LEVEL, lesion_states

    thresholds = thresholds or Thresholds()
    from .timeline import lesion_statuses

    roster = lesion_statuses(calls, samples)  # each lesion's status at its current date
    roster = roster[(roster["role"] == "lesion")
                    & roster["status"].isin(["progressive", "controlled"])]
    columns = ["patient_id", "lesion_id", "status", "has_secondary", "secondary", "evaluable",
               "not_evaluable_reason", "secondary_low_level"]
    if roster.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if states is None:
        states = lesion_states(calls, samples, thresholds=thresholds)
    chosen = origins["origin"] == "secondary"
    if "counted" in origins:
        chosen &= origins["counted"].astype("boolean").fillna(True).astype(bool)
    secondary = origins.loc[chosen, ["patient_id", "variant_key", "hgvsp", "gene"]]
    names: dict[str, dict[str, str]] = {}
    for patient, key, gene, hgvsp in zip(secondary["patient_id"], secondary["variant_key"],
                                         secondary["gene"].fillna(""),
                                         secondary["hgvsp"].fillna(""), strict=True):
        names.setdefault(patient, {})[key] = f"{gene} {hgvsp}".strip() if hgvsp else key
    state_of = {(p, k, x): (s, r) for p, k, x, s, r in zip(
        states["patient_id"], states["variant_key"], states["lesion_id"], states["state"],
        states["reason"], strict=True)}
    clonal = clonal_power(states, thresholds)
    rows = []
    for patient, lesion, status in zip(roster["patient_id"], roster["lesion_id"],
                                       roster["status"], strict=True):
        keys = names.get(patient, {})
        found = sorted({keys[k] for k in keys
                        if state_of.get((patient, k, lesion), ("",))[0] == DETECTED})
        traces = sorted({keys[k] for k in keys
                         if state_of.get((patient, k, lesion), ("",))[0] == LOW_LEVEL})
        reason = ""
        if found:
            evaluable = True
        elif keys:
            missing = [(keys[k], state_of.get((patient, k, lesion),
                                              ("not_evaluable", "no calls in this lesion")))
                       for k in sorted(keys, key=keys.get)]
            bad = [f"{name}: {why}" for name, (state, why) in missing if state != ABSENT]
            evaluable = not bad
            reason = "; ".join(bad)
        else:
            p = clonal.get((patient, lesion))
            evaluable = p is not None and p >= thresholds.min_power
            if not evaluable:
                reason = ("no secondary mutation; tumour content unknown" if p is None else
                          f"no secondary mutation; P(detect) = {p:.2f} for a clonal "
                          "heterozygous mutation at its tumour content")
        rows.append({"patient_id": patient, "lesion_id": lesion, "status": status,
                     "has_secondary": bool(found), "secondary": ", ".join(found),
                     "evaluable": evaluable, "not_evaluable_reason": reason,
                     "secondary_low_level": ", ".join(traces)})
    table = pd.DataFrame.from_records(rows, columns=columns)
    return table.sort_values(["patient_id", "lesion_id"]).reset_index(drop=True)


def clonal_power(states: pd.DataFrame,
                 thresholds: Thresholds | None = None) -> dict[tuple[str, str], float]:
    """``{(patient_id, lesion_id): P(detect)}``: how well each lesion would show a clonal
    heterozygous mutation (expected VAF = tumour content / 2) at the depth of its best-read
    mutation, from the lesion states (:func:`~lesiontrack.evidence.lesion_states`); 0 where its
    tumour content is unknown, no entry for a lesion without states. The "without secondary" test of
    :func:`lesion_table` and the ``powered`` of the progression mechanism read this."""
    from .evidence import detection_power

    thresholds = thresholds or Thresholds()
    out: dict[tuple[str, str], float] = {}
    if states.empty:
        return out
    tc = states["tumour_content"].astype(float).to_numpy()
    depth = states["depth"].astype(float).to_numpy()
    power = detection_power(depth, tc / 2, thresholds)
    for patient, lesion, p in zip(states["patient_id"], states["lesion_id"], power,
                                  strict=True):
        if p > out.get((patient, lesion), -1.0):
            out[(patient, lesion)] = float(p)
    return out

#: Where a patient's pattern comes from, in order of precedence.
PATTERN_SOURCES: tuple[str, ...] = ("patients table pattern", "radiology", "sequenced lesions")
#: Patterns a patient table may state (``unknown`` is only ever derived).
TABLE_PATTERNS: tuple[str, ...] = ("focal", "generalized", "none")
#: The patient table's radiology columns: lesion counts on imaging at progression.
RADIOLOGY_COLUMNS: tuple[str, str] = ("radiology_progressive", "radiology_controlled")
_COUNT = re.compile(r"\d+")


def pattern_from_counts(n_progressive: int, n_controlled: int,
                        focal_max: int = DEFAULT_FOCAL_MAX) -> str:
    """``none`` without a progressive lesion; ``focal`` with 1 to ``focal_max`` progressive
    lesions and at least one controlled; else ``generalized``."""
    if n_progressive == 0:
        return "none"
    if n_progressive <= focal_max and n_controlled >= 1:
        return "focal"
    return "generalized"


def parse_count(value) -> int | None:
    """A lesion count from a table cell: a non-negative integer, or None when empty.
    Raises ValueError for anything else (``2.5``, ``-1``, ``many``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        raise ValueError(value)
    if isinstance(value, int | np.integer):
        if value < 0:
            raise ValueError(value)
        return int(value)
    if isinstance(value, float | np.floating):
        if value < 0 or not float(value).is_integer():
            raise ValueError(value)
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if not _COUNT.fullmatch(text):
        raise ValueError(value)
    return int(text)


def table_patterns(patients: pd.DataFrame | None) -> dict[str, dict]:
    """Per patient of a patient table (:func:`lesiontrack.outcomes.read_patients`, or any frame
    with ``patient_id`` and optional ``pattern``, ``radiology_progressive``,
    ``radiology_controlled``, ``line``): ``{"pattern", "radiology_progressive",
    "radiology_controlled", "line"}`` (None where not given). Raises
    :class:`~lesiontrack.errors.PatientTableError` naming the file, row and field of a bad
    value (a count that is not a non-negative integer, one count without the other, an unknown
    pattern)."""
    if patients is None:
        return {}
    source = patients.attrs.get("path", "patient table")
    if "patient_id" not in patients:
        raise PatientTableError("missing required column patient_id", file=source,
                                field="patient_id")
    lines = (list(patients["line"]) if "line" in patients
             else [f"row {i + 1}" for i in range(len(patients))])
    out: dict[str, dict] = {}
    for i, pid in enumerate(patients["patient_id"]):
        pid, line = str(pid), lines[i]
        counts = {}
        for column in RADIOLOGY_COLUMNS:
            value = patients[column].iloc[i] if column in patients else None
            try:
                counts[column] = parse_count(value)
            except ValueError:
                raise PatientTableError(
                    f"not a lesion count: {value!r}", file=source, where=line, field=column,
                    hint="the number of lesions on imaging, a whole number >= 0, or empty",
                ) from None
        given = [c for c in RADIOLOGY_COLUMNS if counts[c] is not None]
        if len(given) == 1:
            missing = next(c for c in RADIOLOGY_COLUMNS if c not in given)
            raise PatientTableError(f"{given[0]} without {missing}", file=source, where=line,
                                    field=missing, hint="give both lesion counts, or neither")
        pattern = patients["pattern"].iloc[i] if "pattern" in patients else None
        if pattern is None or pattern is pd.NA or (isinstance(pattern, float)
                                                   and math.isnan(pattern)):
            pattern = None
        else:
            pattern = str(pattern).strip().lower() or None
        if pattern is not None and pattern not in TABLE_PATTERNS:
            raise PatientTableError(f"unknown pattern {pattern!r}", file=source, where=line,
                                    field="pattern",
                                    hint=f"accepted: {', '.join(TABLE_PATTERNS)}, or empty")
        out[pid] = {"pattern": pattern, **counts, "line": line}
    return out


def check_table_patients(patients: pd.DataFrame | None, known) -> None:
    """Raise :class:`~lesiontrack.errors.PatientTableError` (naming the row) for a patient of
    the patient table that is not in the cohort (``known``: the cohort's patient ids)."""
    if patients is None:
        return
    known = {str(p) for p in known}
    source = patients.attrs.get("path", "patient table")
    lines = (list(patients["line"]) if "line" in patients
             else [f"row {i + 1}" for i in range(len(patients))])
    for pid, line in zip(patients["patient_id"], lines, strict=True):
        if str(pid) not in known:
            raise PatientTableError(f"patient {pid!r} is not in the sample sheet", file=source,
                                    where=line, field="patient_id",
                                    hint="every patient of the table needs lesions in the "
                                         "sample sheet")


def decide_pattern(patient: str, progressive: list[str], controlled: list[str],
                   given: dict | None, focal_max: int = DEFAULT_FOCAL_MAX) -> tuple[str, str]:
    """(pattern, pattern_source) of one patient: the patient table's ``pattern``, else its
    radiology counts, else the sequenced lesions (``unknown`` below two with a progressive or
    controlled status). A stated pattern that disagrees with the radiology counts wins, with a
    warning."""
    given = given or {}
    radiology = None
    if given.get("radiology_progressive") is not None:
        radiology = pattern_from_counts(given["radiology_progressive"],
                                        given["radiology_controlled"], focal_max)
    stated = given.get("pattern")
    if stated is not None:
        if radiology is not None and radiology != stated:
            log.warning("patient %s: pattern %r of the patient table disagrees with its "
                        "radiology counts (%d progressive, %d controlled: %r with --focal-max "
                        "%d); the stated pattern is used", patient, stated,
                        given["radiology_progressive"], given["radiology_controlled"],
                        radiology, focal_max)
        return stated, PATTERN_SOURCES[0]
    if radiology is not None:
        return radiology, PATTERN_SOURCES[1]
    if len(progressive) + len(controlled) < 2:
        return "unknown", PATTERN_SOURCES[2]
    return pattern_from_counts(len(progressive), len(controlled), focal_max), PATTERN_SOURCES[2]


#: Whether a patient's secondary mutations stay in its progressive lesions
#: (:func:`patient_patterns`' ``confinement``).
CONFINEMENTS: tuple[str, ...] = ("confined", "not_confined", "no_secondary", "not_assessable")


def _confinement(rows: pd.DataFrame, n_secondary: int) -> str:
    """confined / not_confined / no_secondary / not_assessable for one patient's lesion table:
    not assessable when no counted secondary is detected in a lesion (e.g. only in plasma), no
    controlled lesion is evaluable, or a controlled lesion shows one of them at a low level
    (reads above noise but below the thresholds: neither present nor absent)
    (:func:`patient_patterns` also makes a patient with a ``plasma_only`` secondary not
    assessable)."""
    if not n_secondary:
        return "no_secondary"
    has = rows["has_secondary"].astype(bool)
    controlled = rows["status"] == "controlled"
    evaluable = rows["evaluable"].astype(bool) if "evaluable" in rows else pd.Series(
        True, index=rows.index)
    if not has.any():
        return "not_assessable"
    if (has & controlled).any():
        return "not_confined"
    if not (controlled & evaluable).any():
        return "not_assessable"
    if "secondary_low_level" in rows and (
            controlled & rows["secondary_low_level"].fillna("").astype(bool)).any():
        return "not_assessable"
    return "confined"


def _plasma_only_patients(origins: pd.DataFrame, chosen: pd.Series) -> set:
    """Patients with a counted secondary mutation flagged ``plasma_only`` (detected in plasma
    and in no biopsied lesion)."""
    if "flags" not in origins:
        return set()
    flagged = origins["flags"].fillna("").astype(str).str.contains("plasma_only", regex=False)
    return set(origins.loc[chosen & flagged, "patient_id"])


def patient_patterns(table: pd.DataFrame, origins: pd.DataFrame, calls: pd.DataFrame,
                     focal_max: int = DEFAULT_FOCAL_MAX, *,
                     patients: pd.DataFrame | None = None) -> list[dict]:
    """Per patient: progression pattern (with its ``pattern_source``, see
    :func:`decide_pattern`; ``patients`` is the optional patient table) and whether secondary
    mutations stay in progressive lesions."""
    given = table_patterns(patients)
    lesions: dict[str, dict[str, list[str]]] = {}
    status_of: dict[tuple[str, str], str] = {}
    for patient, lesion, status in zip(table["patient_id"], table["lesion_id"],
                                       table["status"], strict=True):
        lesions.setdefault(patient, {}).setdefault(status, []).append(lesion)
        status_of[(patient, lesion)] = status
    chosen = origins["origin"] == "secondary"
    if "counted" in origins:
        chosen &= origins["counted"].astype("boolean").fillna(True).astype(bool)
    secondary = origins.loc[chosen, ["patient_id", "variant_key"]]
    keys: dict[str, set[str]] = {}
    for patient, key in zip(secondary["patient_id"], secondary["variant_key"], strict=True):
        keys.setdefault(patient, set()).add(key)
    plasma_only = _plasma_only_patients(origins, chosen)
    by_patient = {p: rows for p, rows in table.groupby("patient_id", sort=False)}
    out = []
    for patient in sorted(set(calls["patient_id"]) | set(table["patient_id"])):
        prog = natural_sorted(lesions.get(patient, {}).get("progressive", []))
        ctrl = natural_sorted(lesions.get(patient, {}).get("controlled", []))
        row = given.get(str(patient), {})
        pattern, source = decide_pattern(str(patient), prog, ctrl, row, focal_max)
        n_secondary = len(keys.get(patient, ()))
        confinement = _confinement(by_patient.get(patient, table.iloc[:0]), n_secondary)
        if patient in plasma_only and confinement in ("confined", "not_confined"):
            # a secondary seen only in plasma comes from a lesion nobody biopsied: whether it
            # sits in a progressive lesion cannot be told
            confinement = "not_assessable"
        confined = {"confined": True, "not_confined": False}.get(confinement)
        out.append({"patient_id": patient, "pattern": pattern, "pattern_source": source,
                    "radiology_progressive": row.get("radiology_progressive"),
                    "radiology_controlled": row.get("radiology_controlled"),
                    "progressive_lesions": prog,
                    "controlled_lesions": ctrl, "n_progressive": len(prog),
                    "n_controlled": len(ctrl), "n_secondary": n_secondary,
                    "secondary_confined_to_progressive": confined,
                    "confinement": confinement})
    return out
