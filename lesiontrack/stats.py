"""Do secondary mutations cluster in progressive lesions? The lesion-level tests.

Only lesions (``role == "lesion"``) whose status is ``progressive`` or ``controlled`` take part,
and only counted secondary mutations (``counted`` in the origins table): the lesion table and
the patients' progression patterns come from :mod:`lesiontrack.patterns`; lesions that are
not evaluable are left out and counted. Lesions of one patient are not independent: the
within-patient exact permutation test is the headline, the pooled Fisher test is descriptive.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .options import DEFAULT_FOCAL_MAX, DEFAULT_PERMUTATIONS, DEFAULT_SEED, Thresholds
from .patterns import check_table_patients, lesion_table, patient_patterns

#: Above this many lesions the exact (conditional) odds-ratio interval, whose cost grows with
#: the table, gives way to the sample odds ratio with a Woolf interval (equal for large tables).
CONDITIONAL_CI_MAX_LESIONS = 2_000
#: Why the pooled lesion-level Fisher test is descriptive, not the headline.
DESCRIPTIVE_REASON = ("lesions of one patient are not independent, so the pooled lesion-level "
                      "test overstates the evidence; the within-patient permutation test is the "
                      "headline")

__all__ = [
    "DEFAULT_FOCAL_MAX",
    "DEFAULT_PERMUTATIONS",
    "DEFAULT_SEED",
    "add_heterogeneity",
    "clustering_from_tables",
    "clustering_test",
    "informative_patients",
    "lesion_heterogeneity",
    "mantel_haenszel",
    "permutation_distribution",
    "permutation_test",
    "shuffle_labels",
    "test_clustering",
]


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


def clustering_test(
    calls: pd.DataFrame,
    origins: pd.DataFrame,
    sheet: pd.DataFrame | None = None,
    *,
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
    evaluable). ``sheet``: the sample sheet (lesion statuses; None: the calls table's own)."""
    from .evidence import lesion_states
    from .resistance import resistance_table
    from .roads import patient_roads, roads_to_resistance, with_roads

    if states is None:
        states = lesion_states(calls, sheet, thresholds=thresholds)
    table = lesion_table(origins, calls, sheet, states=states, thresholds=thresholds)
    cohort = set(calls["patient_id"]) | set(table["patient_id"])
    if sheet is not None:
        cohort |= set(sheet["patient_id"])
    check_table_patients(patients, cohort)
    found = patient_patterns(table, origins, calls, focal_max, patients=patients)
    add_heterogeneity(found, lesion_heterogeneity(calls, origins, sheet, states=states,
                                                  thresholds=thresholds))
    mechanisms, controlled = roads_to_resistance(origins, states, calls, sheet, copy_number,
                                                 thresholds=thresholds)
    with_roads(found, patient_roads(mechanisms, controlled))
    return clustering_from_tables(table, found,
                                  n_patients=int(calls["patient_id"].nunique()),
                                  permutations=permutations, seed=seed,
                                  resistance=resistance_table(origins, sheet, states=states))


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
    """:func:`clustering_test` under its first name and argument order (``origins, calls,
    samples=``), kept for existing callers; the keyword options are the same."""
    return clustering_test(calls, origins, samples, permutations=permutations, seed=seed,
                           focal_max=focal_max, patients=patients, thresholds=thresholds,
                           states=states, copy_number=copy_number)



def lesion_heterogeneity(calls: pd.DataFrame, origins: pd.DataFrame,
                         samples: pd.DataFrame | None = None, *,
                         states: pd.DataFrame | None = None,
                         thresholds: Thresholds | None = None) -> dict[str, dict]:
    """Per patient with two or more lesions: ``jaccard`` (per pair of lesions, over the
    mutations evaluable in both) and ``private_fraction`` (per lesion), as the lesion phylogeny
    computes them (:func:`lesiontrack.phylo.heterogeneity`: latest-date samples, germline
    mutations left out). ``states``: the lesion states of ``calls``, reused when no sample is
    left out for its date."""
    from .phylo import heterogeneity, reusable_states

    return heterogeneity(calls, origins, samples, states=reusable_states(calls, states),
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
