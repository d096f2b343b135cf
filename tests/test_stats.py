"""Clustering statistics: hand-computable tables, permutation law, patterns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scenarios import D816V, V654A, W557, call, focal_patient, table

from lesiontrack import classify, test_clustering
from lesiontrack.patterns import lesion_table
from lesiontrack.stats import permutation_test, shuffle_labels


def lesions(rows):
    """A lesion table from (patient, lesion, status, has_secondary) tuples."""
    return pd.DataFrame(rows, columns=["patient_id", "lesion_id", "status", "has_secondary"])


def run(rows, **kw):
    calls = table(rows)
    return test_clustering(classify(calls), calls, **kw)


def test_focal_story_counts_and_fisher():
    rows = focal_patient("P1") + focal_patient("P2")
    result = run(rows)
    assert result["lesion_table"] == {"progressive_with_secondary": 2, "progressive_without": 0,
                                      "controlled_with_secondary": 0, "controlled_without": 2,
                                      "progressive_not_evaluable": 0,
                                      "controlled_not_evaluable": 0}
    # one-sided Fisher on [[2,0],[0,2]]: only the observed table is as extreme: 1/C(4,2)
    assert result["fisher"]["p_value"] == pytest.approx(1 / 6)
    assert result["fisher"]["odds_ratio"] == "inf"


def test_permutation_exact_law_matches_hand_computation_and_literal_shuffles():
    table_ = lesions([("P", "A", "progressive", True), ("P", "B", "progressive", True),
                      ("P", "C", "controlled", False), ("P", "D", "controlled", False)])
    result = permutation_test(table_, n_permutations=20_000, seed=1)
    assert result["observed"] == 2
    assert result["exact_p_value"] == pytest.approx(1 / 6)  # C(2,2)*C(2,0)/C(4,2)
    assert result["p_value"] == pytest.approx(1 / 6, abs=0.015)
    rng = np.random.default_rng(5)
    literal = np.array([shuffle_labels(table_, rng) for _ in range(3000)])
    assert (literal >= 2).mean() == pytest.approx(1 / 6, abs=0.025)


def test_permutation_is_deterministic_for_a_seed_and_counts_ties_as_extreme():
    table_ = lesions([("P", "A", "progressive", False), ("P", "B", "controlled", True),
                      ("Q", "A", "progressive", False), ("Q", "B", "controlled", False)])
    first = permutation_test(table_, 999, seed=3)
    assert first == permutation_test(table_, 999, seed=3)
    # T_obs = 0 is the smallest value: every permutation ties or exceeds it
    assert first["observed"] == 0
    assert first["p_value"] == 1.0 and first["exact_p_value"] == pytest.approx(1.0)


def test_permutation_scales_to_large_cohorts():
    # 2,000 patients x 5 lesions, one progressive and one with a secondary mutation each: a
    # patient's T is Bernoulli(1/5) under shuffling, so the cohort's T is Binomial(2000, 1/5).
    from scipy import stats as sps

    rows = []
    hits = 430  # observed: 430 patients whose progressive lesion carries the secondary (mean 400)
    for i in range(2_000):
        carrier = 0 if i < hits else 1  # the secondary sits in the progressive lesion L0 or not
        rows += [(f"P{i}", f"L{j}", "progressive" if j == 0 else "controlled", j == carrier)
                 for j in range(5)]
    result = permutation_test(lesions(rows), 10_000, seed=1)
    assert result["observed"] == hits and result["n_permutations"] == 10_000
    assert result["expected"] == pytest.approx(400.0)
    exact = float(sps.binom.sf(hits - 1, 2_000, 0.2))  # P(T >= 430)
    assert result["exact_p_value"] == pytest.approx(exact, rel=1e-6)
    # the Monte Carlo p-value of 10,000 draws is within 4 standard errors of the exact one
    assert abs(result["p_value"] - exact) < 4 * math.sqrt(exact * (1 - exact) / 10_000) + 1e-4


def test_mantel_haenszel_pooled_odds_ratio():
    rows = []
    for patient in ("A", "B"):
        rows += [(patient, "1", "progressive", True), (patient, "2", "progressive", True),
                 (patient, "3", "progressive", False), (patient, "4", "controlled", True),
                 (patient, "5", "controlled", False), (patient, "6", "controlled", False)]
    from lesiontrack.stats import mantel_haenszel

    result = mantel_haenszel(lesions(rows))
    # per patient [[2,1],[1,2]]: sum(ad/n) / sum(bc/n) = (4/6 * 2) / (1/6 * 2) = 4
    assert result["odds_ratio"] == pytest.approx(4.0)
    assert result["n_strata"] == 2


def test_patterns_and_confinement():
    rows = focal_patient("FOCAL") + [
        call("GEN", "L1", "progressive", W557, 40, 100), call("GEN", "L2", "progressive", W557, 40, 100),
        call("GEN", "L1", "progressive", D816V, 30, 100), call("GEN", "L2", "progressive", D816V, 0, 100),
        call("NONE", "L1", "controlled", W557, 40, 100),
        call("LEAK", "L1", "progressive", W557, 40, 100), call("LEAK", "L2", "controlled", W557, 40, 100),
        call("LEAK", "L3", "controlled", W557, 40, 100),
        call("LEAK", "L1", "progressive", V654A, 30, 100), call("LEAK", "L2", "controlled", V654A, 20, 100),
        call("LEAK", "L3", "controlled", V654A, 0, 100),
    ]
    patients = {p["patient_id"]: p for p in run(rows)["patients"]}
    assert patients["FOCAL"]["pattern"] == "focal"
    assert patients["FOCAL"]["secondary_confined_to_progressive"] is True
    assert patients["FOCAL"]["confinement"] == "confined"
    assert patients["GEN"]["pattern"] == "generalized"
    # every lesion progressive: whether secondaries stay out of controlled lesions is unknown
    assert patients["GEN"]["confinement"] == "not_assessable"
    assert patients["GEN"]["secondary_confined_to_progressive"] is None
    assert patients["NONE"]["pattern"] == "unknown"  # one sequenced lesion: cannot tell
    assert patients["NONE"]["secondary_confined_to_progressive"] is None
    assert patients["NONE"]["confinement"] == "no_secondary"
    assert patients["LEAK"]["secondary_confined_to_progressive"] is False
    assert patients["LEAK"]["confinement"] == "not_confined"
    assert patients["LEAK"]["progressive_lesions"] == ["L1"]
    wider = {p["patient_id"]: p for p in run(rows, focal_max=2)["patients"]}
    assert wider["GEN"]["pattern"] == "generalized"  # every lesion progressive


def test_lesion_table_names_the_secondary_mutations():
    calls = table(focal_patient())
    out = lesion_table(classify(calls), calls)
    assert list(out["lesion_id"]) == ["L1", "L2"]  # baseline samples are not tested
    assert out.loc[out["lesion_id"] == "L1", "secondary"].item() == "KIT p.V654A"


def test_result_is_json_ready():
    import json

    text = json.dumps(run(focal_patient()), allow_nan=False)
    assert "NaN" not in text and not math.isnan(json.loads(text)["permutation"]["p_value"])


def test_large_tables_use_the_woolf_interval_and_stay_finite():
    from lesiontrack.stats import CONDITIONAL_CI_MAX_LESIONS, _fisher

    big = CONDITIONAL_CI_MAX_LESIONS
    a, b, c, d = big // 4, big // 4, 0, big
    result = _fisher(a, b, c, d)  # an empty cell
    assert "Woolf" in result["note"] and "Haldane" in result["estimator"]
    assert 0 < result["ci_low"] < result["ci_high"] < math.inf
    # the estimate is the Haldane-corrected odds ratio the interval is centred on
    haldane = (a + .5) * (d + .5) / ((b + .5) * (c + .5))
    assert result["odds_ratio"] == pytest.approx(haldane)
    assert result["ci_low"] < result["odds_ratio"] < result["ci_high"]
    assert result["odds_ratio"] == pytest.approx(math.sqrt(result["ci_low"] * result["ci_high"]))
    full = _fisher(a, b, 1, d)  # no empty cell: the plain sample odds ratio
    assert full["estimator"] == "sample odds ratio"
    assert full["odds_ratio"] == pytest.approx(a * d / b)
    small = _fisher(3, 1, 1, 3)
    assert "conditional MLE" in small["note"]


def test_json_numbers_for_infinite_and_undefined_values():
    from lesiontrack.stats import _num

    assert _num(float("inf")) == "inf" and _num(float("-inf")) == "-inf"
    assert _num(float("nan")) is None and _num(2) == 2.0


def test_a_literal_shuffle_adds_every_patients_count():
    # every lesion progressive and carrying a secondary: any shuffle keeps T = all 5 lesions
    rows = [("A", f"L{i}", "progressive", True) for i in range(3)]
    rows += [("B", f"L{i}", "progressive", True) for i in range(2)]
    assert shuffle_labels(lesions(rows), np.random.default_rng(1)) == 5


def test_permutation_result_keys_and_seed_dependence():
    table_ = lesions([(p, f"L{i}", "progressive" if i < 2 else "controlled", i in (0, 2))
                      for p in ("P", "Q", "R") for i in range(4)])
    result = permutation_test(table_, 999, seed=7)
    assert set(result) == {"statistic", "observed", "expected", "n_permutations", "seed",
                           "p_value", "exact_p_value", "informative_patients"}
    assert result["statistic"] == "progressive lesions with a secondary mutation"
    assert result["seed"] == 7
    assert 0.2 < result["exact_p_value"] < 0.8  # a p-value that the draws can move
    assert permutation_test(table_, 999, seed=7) == result
    others = {permutation_test(table_, 999, seed=s)["p_value"] for s in range(8, 14)}
    assert len(others | {result["p_value"]}) > 1


def test_confinement_without_an_evaluable_column_takes_every_lesion_as_evaluable():
    from lesiontrack.patterns import _confinement

    rows = pd.DataFrame({"status": ["progressive", "controlled"],
                         "has_secondary": [True, False]})
    assert _confinement(rows, 1) == "confined"
    assert _confinement(rows.assign(evaluable=[True, False]), 1) == "not_assessable"


def test_a_low_level_trace_in_a_controlled_lesion_makes_confinement_not_assessable():
    """V654A clonal in L1 (progressive), absent from L2 (controlled) but 5/300 reads in L3
    (controlled: above noise, below the thresholds): 'confined' would ignore the trace."""
    rows = [call("P", "L1", "progressive", W557, 75, 160), call("P", "L1", "progressive", V654A, 30, 150),
            call("P", "L2", "controlled", W557, 140, 300), call("P", "L2", "controlled", V654A, 0, 300),
            call("P", "L3", "controlled", W557, 140, 300), call("P", "L3", "controlled", V654A, 5, 300)]
    calls = table(rows)
    result = test_clustering(classify(calls), calls, permutations=99)
    patient = result["patients"][0]
    assert patient["confinement"] == "not_assessable"
    assert patient["secondary_confined_to_progressive"] is None
    # without the trace (L3 at 0/300) it is confined
    rows[-1] = call("P", "L3", "controlled", V654A, 0, 300)
    calls = table(rows)
    patient = test_clustering(classify(calls), calls, permutations=99)["patients"][0]
    assert patient["confinement"] == "confined"
