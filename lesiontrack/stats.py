"""Do secondary mutations cluster in progressive lesions? Lesion-level tests and patterns.

Only lesions (``role == "lesion"``) whose status is ``progressive`` or ``controlled`` take part,
and only counted secondary mutations (``counted`` in the origins table). A lesion *has a
secondary* when one is detected in it, has none only when it is evaluable (see
:func:`lesion_table`); other lesions are left out and counted. Lesions of one patient are not
independent: the within-patient exact permutation test is the headline, the pooled Fisher test
is descriptive.

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
import warnings

import numpy as np
import pandas as pd

from .errors import PatientTableError
from .options import DEFAULT_FOCAL_MAX, DEFAULT_PERMUTATIONS, DEFAULT_SEED, Thresholds
from .order import natural_sorted

log = logging.getLogger("lesiontrack")

#: Above this many lesions the exact (conditional) odds-ratio interval, whose cost grows with
#: the table, gives way to the sample odds ratio with a Woolf interval (equal for large tables).
CONDITIONAL_CI_MAX_LESIONS = 2_000
#: Why the pooled lesion-level Fisher test is descriptive, not the headline.
DESCRIPTIVE_REASON = ("lesions of one patient are not independent, so the pooled lesion-level "
                      "test overstates the evidence; the within-patient permutation test is the "
                      "headline")

__all__ = [
    "CONFINEMENTS", "DEFAULT_FOCAL_MAX", "DEFAULT_PERMUTATIONS", "DEFAULT_SEED",
    "PATTERN_SOURCES", "RADIOLOGY_COLUMNS", "add_heterogeneity", "check_table_patients",
    "clonal_power", "clustering_from_tables", "decide_pattern", "informative_patients",
    "lesion_heterogeneity", "lesion_table", "mantel_haenszel", "parse_count",
    "patient_patterns", "pattern_from_counts", "permutation_distribution", "permutation_test",
    "shuffle_labels", "table_patterns", "test_clustering",
]


def lesion_table(origins: pd.DataFrame, calls: pd.DataFrame,
                 samples: pd.DataFrame | None = None, *, states: pd.DataFrame | None = None,
                 thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One row per progressive or controlled lesion: patient_id, lesion_id, status,
    has_secondary, secondary (the counted secondary mutations detected in it), evaluable,
    not_evaluable_reason and secondary_low_level (those seen in it below the detection
    thresholds but above noise: never "absent").

    A lesion is *with secondary* when a counted secondary mutation of its patient is detected
    in it; *without* only when it is absent (:func:`~lesiontrack.compare.lesion_states`) at
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
    mutation, from the lesion states (:func:`~lesiontrack.compare.lesion_states`); 0 where its
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


def _evaluable(table: pd.DataFrame) -> pd.DataFrame:
    """The lesions that enter the tests (a table without ``evaluable``: all of them)."""
    if "evaluable" not in table or table.empty:
        return table
    return table[table["evaluable"].astype(bool)]


def _fisher(a: int, b: int, c: int, d: int) -> dict:
    from scipy import stats as sps
    from scipy.stats.contingency import odds_ratio as _odds_ratio

    table = np.array([[a, b], [c, d]])
    if table.sum(axis=0).min() == 0 or table.sum(axis=1).min() == 0:
        return {"odds_ratio": None, "p_value": None, "ci_low": None, "ci_high": None,
                "descriptive": True, "descriptive_reason": DESCRIPTIVE_REASON,
                "note": "undefined: a row or column of the table is empty"}
    result = sps.fisher_exact(table, alternative="greater")
    exact = table.sum() <= CONDITIONAL_CI_MAX_LESIONS
    if exact:
        estimate = _odds_ratio(table, kind="conditional")
        interval = estimate.confidence_interval(confidence_level=0.95)
        low, high = interval.low, interval.high
        statistic = estimate.statistic
        estimator = "conditional maximum likelihood odds ratio"
        kind = "conditional MLE odds ratio with its exact two-sided 95% confidence interval"
    else:
        corrected = table + 0.5 if (table == 0).any() else table  # Haldane-Anscombe
        log_or = math.log(corrected[0, 0] * corrected[1, 1] / (corrected[0, 1] * corrected[1, 0]))
        half = 1.959963984540054 * math.sqrt((1.0 / corrected).sum())  # z(0.975) x SE
        low, high = math.exp(log_or - half), math.exp(log_or + half)
        statistic = math.exp(log_or)  # the estimate its own Woolf interval is centred on
        if corrected is not table:
            estimator = ("Haldane-Anscombe corrected sample odds ratio (0.5 added to every "
                         "cell: a cell is empty)")
        else:
            estimator = "sample odds ratio"
        kind = (f"{estimator} with a two-sided 95% Woolf (log) confidence interval"
                f" (more than {CONDITIONAL_CI_MAX_LESIONS:,} lesions)")
    return {
        "odds_ratio": _num(statistic), "sample_odds_ratio": _num(result.statistic),
        "p_value": _num(result.pvalue), "ci_low": _num(low), "ci_high": _num(high),
        "alternative": "greater", "estimator": estimator, "descriptive": True,
        "descriptive_reason": DESCRIPTIVE_REASON,
        "note": f"descriptive: {DESCRIPTIVE_REASON}; one-sided Fisher exact test; {kind}",
    }


def _num(value) -> float | str | None:
    """JSON-safe number: NaN -> None, an infinite odds ratio -> the string ``"inf"``."""
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _strata(table: pd.DataFrame) -> pd.DataFrame:
    """Per patient: n lesions, m with a secondary, k progressive, t progressive with one."""
    table = _evaluable(table)
    prog = table["status"] == "progressive"
    sec = table["has_secondary"].astype(bool)
    frame = pd.DataFrame({"patient_id": table["patient_id"], "n": 1, "m": sec.astype(int),
                          "k": prog.astype(int), "t": (prog & sec).astype(int)})
    return frame.groupby("patient_id").sum()


def permutation_distribution(strata: pd.DataFrame) -> np.ndarray:
    """Exact law of T under within-patient shuffling of status labels (pmf over 0..max).

    Shuffling a patient's labels makes its count of progressive lesions with a secondary
    hypergeometric(n, m, k); patients are independent, so T's law is their convolution.
    """
    from scipy import stats as sps

    pmf = np.array([1.0])
    for (n, m, k), count in strata.value_counts(["n", "m", "k"]).items():
        support = np.arange(0, min(m, k) + 1)
        law = sps.hypergeom.pmf(support, n, m, k)
        for _ in range(int(count)):
            pmf = np.convolve(pmf, law)
    return pmf


def permutation_test(table: pd.DataFrame, n_permutations: int = DEFAULT_PERMUTATIONS,
                     seed: int = DEFAULT_SEED) -> dict:
    """Permutation test of T = number of progressive lesions with a secondary mutation.

    Status labels are shuffled among the lesions of each patient. The N shuffles are drawn
    from the exact law of that shuffling (:func:`permutation_distribution`), which is the same
    as shuffling label vectors but costs nothing per lesion; ``exact_p_value`` is the limit
    N -> infinity. ``p_value = (1 + #{T_perm >= T_obs}) / (1 + N)``.
    """
    strata = _strata(table)
    observed = int(strata["t"].sum())
    pmf = permutation_distribution(strata)
    pmf = pmf / pmf.sum()
    rng = np.random.default_rng(seed)
    draws = rng.choice(len(pmf), size=int(n_permutations), p=pmf)
    exceed = int((draws >= observed).sum())
    return {
        "statistic": "progressive lesions with a secondary mutation",
        "observed": observed,
        "expected": float(np.dot(np.arange(len(pmf)), pmf)),
        "n_permutations": int(n_permutations), "seed": int(seed),
        "p_value": (1 + exceed) / (1 + int(n_permutations)),
        "exact_p_value": float(min(1.0, pmf[observed:].sum())),
        "informative_patients": informative_patients(strata),
    }


def informative_patients(strata: pd.DataFrame) -> int:
    """Patients whose count T can vary under shuffling: lesions of both statuses and lesions
    with and without a secondary mutation."""
    return int(((strata["m"] > 0) & (strata["m"] < strata["n"]) & (strata["k"] > 0)
                & (strata["k"] < strata["n"])).sum())


def shuffle_labels(table: pd.DataFrame, rng: np.random.Generator) -> int:
    """T after one literal shuffle of status labels within each patient (for checking)."""
    total = 0
    for _, group in _evaluable(table).groupby("patient_id"):
        status = rng.permutation(group["status"].to_numpy())
        total += int(((status == "progressive") & group["has_secondary"].to_numpy()).sum())
    return total


def mantel_haenszel(table: pd.DataFrame) -> dict:
    """Mantel-Haenszel odds ratio across patients (statsmodels), where defined."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    strata = _strata(table)
    a_, k, m, n = strata["t"], strata["k"], strata["m"], strata["n"]
    cells = np.stack([a_, k - a_, m - a_, n - k - m + a_], axis=1).astype(float)
    informative = (k > 0) & (k < n) & (m > 0) & (m < n)  # both statuses, both kinds of lesion
    tables = [row.reshape(2, 2) for row in cells[informative.to_numpy()]]
    if not tables:
        return {"odds_ratio": None, "p_value": None, "ci_low": None, "ci_high": None,
                "n_strata": 0, "note": "undefined: no patient has both statuses and both "
                                       "lesions with and without a secondary mutation"}
    st = StratifiedTable(tables)
    numerator = sum(t[0, 0] * t[1, 1] / t.sum() for t in tables)
    denominator = sum(t[0, 1] * t[1, 0] / t.sum() for t in tables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = st.test_null_odds(correction=True)
        if denominator == 0 or numerator == 0:
            ratio, low, high = (math.inf if numerator else 0.0), None, None
        else:
            ratio = float(st.oddsratio_pooled)
            low, high = (float(x) for x in st.oddsratio_pooled_confint())
    return {"odds_ratio": _num(ratio), "p_value": _num(test.pvalue),
            "ci_low": low, "ci_high": high, "n_strata": len(tables),
            "note": "Mantel-Haenszel pooled odds ratio over informative patients; "
                    "test of OR = 1 with continuity correction"}


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


def test_clustering(
    origins: pd.DataFrame,
    calls: pd.DataFrame,
    *,
    samples: pd.DataFrame | None = None,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    focal_max: int = DEFAULT_FOCAL_MAX,
    patients: pd.DataFrame | None = None,
    thresholds: Thresholds | None = None,
    states: pd.DataFrame | None = None,
    copy_number: pd.DataFrame | None = None,
) -> dict:
    """All clustering statistics as one JSON-ready dict: permutation (the within-patient exact
    test: the headline, first), lesion_table, mantel_haenszel, fisher (pooled, descriptive),
    informative_patients, patients (each with the resistance keys of
    :func:`lesiontrack.resistance.patient_resistance`), heterogeneity (last). Only counted
    secondary mutations and evaluable lesions enter the tests. ``patients``: the optional
    patient table whose ``pattern`` or radiology counts decide each patient's pattern
    (:func:`patient_patterns`); a patient of it not in the cohort raises :class:`~lesiontrack.errors.PatientTableError`. Each ``patients[]`` entry
    also gets its roads to resistance (:func:`lesiontrack.roads.patient_roads`:
    ``progression_mechanism`` per progressive lesion and ``controlled_amplifications``) from
    ``copy_number`` (:func:`lesiontrack.roads.read_sheet_copy_number`; None: copy number not
    evaluable)."""
    from .evidence import lesion_states
    from .resistance import resistance_table
    from .roads import patient_roads, roads_to_resistance, with_roads

    if states is None:
        states = lesion_states(calls, samples, thresholds=thresholds)
    table = lesion_table(origins, calls, samples, states=states, thresholds=thresholds)
    cohort = set(calls["patient_id"]) | set(table["patient_id"])
    if samples is not None:
        cohort |= set(samples["patient_id"])
    check_table_patients(patients, cohort)
    found = patient_patterns(table, origins, calls, focal_max, patients=patients)
    add_heterogeneity(found, lesion_heterogeneity(calls, origins, samples, states=states,
                                                  thresholds=thresholds))
    mechanisms, controlled = roads_to_resistance(origins, states, calls, samples, copy_number,
                                                 thresholds=thresholds)
    with_roads(found, patient_roads(mechanisms, controlled))
    return clustering_from_tables(table, found,
                                  n_patients=int(calls["patient_id"].nunique()),
                                  permutations=permutations, seed=seed,
                                  resistance=resistance_table(origins, samples, states=states))


def lesion_heterogeneity(calls: pd.DataFrame, origins: pd.DataFrame,
                         samples: pd.DataFrame | None = None, *,
                         states: pd.DataFrame | None = None,
                         thresholds: Thresholds | None = None) -> dict[str, dict]:
    """Per patient with two or more lesions: ``jaccard`` (per pair of lesions, over the
    mutations evaluable in both) and ``private_fraction`` (per lesion), as the lesion phylogeny
    computes them (:func:`lesiontrack.phylo.heterogeneity`: latest-date samples, germline
    mutations left out). ``states``: the lesion states of ``calls``, reused when no sample is
    left out for its date."""
    from .phylo import drops_samples, heterogeneity

    reuse = states is not None and not drops_samples(calls)
    return heterogeneity(calls, origins, samples, states=states if reuse else None,
                         thresholds=thresholds)


def add_heterogeneity(patients: list[dict], values: dict[str, dict]) -> list[dict]:
    """Set ``jaccard`` and ``private_fraction`` on each per-patient entry of ``patients`` (in
    place; a patient with fewer than two lesions gets ``[]`` and ``{}``); returns it."""
    for entry in patients:
        found = values.get(str(entry["patient_id"])) or {}
        entry["jaccard"] = found.get("jaccard", [])
        entry["private_fraction"] = found.get("private_fraction", {})
    return patients


def clustering_from_tables(table: pd.DataFrame, patients: list[dict], *, n_patients: int,
                           permutations: int = DEFAULT_PERMUTATIONS,
                           seed: int = DEFAULT_SEED,
                           resistance: pd.DataFrame | None = None) -> dict:
    """:func:`test_clustering` from its per-patient parts: the :func:`lesion_table` and the
    :func:`patient_patterns` of every patient (computed patient by patient, e.g. by a report
    that streams the cohort, and concatenated in patient order), the number of patients
    with calls, and the resistance table
    (:func:`lesiontrack.resistance.resistance_table`, concatenated the same way; None: no
    secondary mutation). Each patient's dict gets the keys of
    :func:`lesiontrack.resistance.patient_resistance` (appended), and the result the cohort's
    ``heterogeneity`` (:func:`lesiontrack.resistance.heterogeneity`)."""
    from .resistance import RESISTANCE_COLUMNS, heterogeneity, patient_resistance

    if resistance is None:
        resistance = pd.DataFrame(columns=[*RESISTANCE_COLUMNS, "drug_activity"])
    per_patient = patient_resistance(resistance, patients=[str(p["patient_id"])
                                                           for p in patients])
    patients = [{**p, **per_patient[str(p["patient_id"])]} for p in patients]
    tested = _evaluable(table)
    excluded = table.drop(tested.index) if len(tested) != len(table) else table.iloc[:0]
    prog = tested["status"] == "progressive"
    sec = tested["has_secondary"].astype(bool)
    counts = {
        "progressive_with_secondary": int((prog & sec).sum()),
        "progressive_without": int((prog & ~sec).sum()),
        "controlled_with_secondary": int((~prog & sec).sum()),
        "controlled_without": int((~prog & ~sec).sum()),
    }
    fisher = _fisher(*counts.values())
    counts["progressive_not_evaluable"] = int((excluded["status"] == "progressive").sum())
    counts["controlled_not_evaluable"] = int((excluded["status"] == "controlled").sum())
    permutation = permutation_test(tested, permutations, seed)
    return {
        "permutation": permutation,
        "lesion_table": counts,
        "mantel_haenszel": mantel_haenszel(tested),
        "fisher": fisher,
        "informative_patients": permutation["informative_patients"],
        "patients": patients,
        "n_patients": n_patients,
        "n_lesions_tested": len(tested),
        "n_lesions_not_evaluable": len(excluded),
        "heterogeneity": heterogeneity(resistance),
    }


test_clustering.__test__ = False  # not a pytest test despite its name
