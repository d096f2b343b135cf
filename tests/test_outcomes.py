"""Outcome after salvage therapy: hand-computed Kaplan-Meier, log-rank and Cox; the patient
table's validation; groups; JSON, TSV and SVG output."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

from lesiontrack.errors import LesionTrackError, OptionError, PatientTableError
from lesiontrack.outcomes import (
    groups_from_stats,
    kaplan_meier,
    outcomes,
    outcomes_table,
    write_outcomes,
)
from lesiontrack.patients import DAYS_PER_MONTH, read_patients
from lesiontrack.report.figures import km_figure
from lesiontrack.text import outcomes_text

REPO = Path(__file__).resolve().parents[1]
#: The demo cohort's patient table.
DRAFT = REPO / "fixtures" / "patients.tsv"
Z95 = sps.norm.ppf(0.975)


def months_table(rows, endpoint="pfs"):
    """A month-style patient table from (patient, group, time, event) rows, and its groups."""
    patients = pd.DataFrame([(p, t, e) for p, _, t, e in rows],
                            columns=["patient_id", f"{endpoint}_months", f"{endpoint}_event"])
    groups = pd.DataFrame([(p, g) for p, g, _, _ in rows], columns=["patient_id", "group"])
    return patients, groups


def one_group(times, events):
    return months_table([(f"P{i}", "all", t, e)
                         for i, (t, e) in enumerate(zip(times, events, strict=True))])


def write(tmp_path, text, name="patients.tsv", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def stats_patient(pid, pattern="focal", confined=True, n_secondary=1):
    return {"patient_id": pid, "pattern": pattern, "n_secondary": n_secondary,
            "secondary_confined_to_progressive": confined}


# --------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_steps_and_median_by_hand():
    # times 1..5, events 1,1,0,1,0. At t=1: 5 at risk, 1 event: S = 4/5 = 0.8.
    # t=2: 4 at risk, 1 event: S = 0.8 * 3/4 = 0.6. t=3 censored: no step.
    # t=4: 2 at risk, 1 event: S = 0.6 * 1/2 = 0.3. t=5 censored. Median: first S <= 0.5: 4.
    kmf = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 0])
    curve = kmf.survival_function_.iloc[:, 0]
    assert list(curve.index) == [0, 1, 2, 3, 4, 5]
    assert list(curve) == pytest.approx([1, 0.8, 0.6, 0.6, 0.3, 0.3])
    patients, groups = one_group([1, 2, 3, 4, 5], [1, 1, 0, 1, 0])
    group = outcomes(patients, groups, "all")["pfs"]["groups"]["all"]
    assert group["median"] == 4
    assert (group["n"], group["events"]) == (5, 3)


def test_landmarks_at_risk_and_median_ci_by_hand():
    # the same data in months x 2: S(6) = 0.6; 12 months is after the last follow-up (10,
    # censored) so S(12) is unknown; at risk = patients whose time >= t.
    patients, groups = one_group([2, 4, 6, 8, 10], [1, 1, 0, 1, 0])
    group = outcomes(patients, groups, "all")["pfs"]["groups"]["all"]
    assert group["median"] == 8
    assert group["survival_6m"] == pytest.approx(0.6)
    assert group["survival_12m"] is None
    assert group["at_risk"] == {"0": 5, "6": 3, "12": 0}
    # exponential Greenwood band at t=2: var sum d/(n(n-d)) = 1/20; se of log(-log S)
    # = sqrt(1/20) / |log 0.8|; lower = exp(-exp(log(-log 0.8) + 1.96 se)) = 0.2038 <= 0.5,
    # so the median's lower bound is 2; the upper band never falls to 0.5: unbounded (null).
    se = math.sqrt(1 / 20) / abs(math.log(0.8))
    lower = math.exp(-math.exp(math.log(-math.log(0.8)) + Z95 * se))
    assert lower == pytest.approx(0.20381, abs=1e-4)
    assert group["median_ci"] == [2, None]


def test_survival_after_last_follow_up_is_zero_when_the_last_patient_had_the_event():
    patients, groups = one_group([2, 4], [1, 1])
    group = outcomes(patients, groups, "all")["pfs"]["groups"]["all"]
    assert group["survival_6m"] == 0 and group["survival_12m"] == 0
    assert group["median"] == 2


def test_median_not_reached_is_null_not_infinity():
    patients, groups = one_group([3, 5, 7, 9], [1, 0, 0, 0])
    result = outcomes(patients, groups, "all")
    assert result["pfs"]["groups"]["all"]["median"] is None
    assert result["pfs"]["groups"]["all"]["median_ci"][1] is None
    json.dumps(result, allow_nan=False)


# --------------------------------------------------------------------------- log-rank, Cox


@pytest.mark.parametrize(("rows", "chi_square"), [
    # A: 1, 3 (events); B: 2 (event), 4 (censored). Per event time, O and E of group A and
    # the hypergeometric variance nA nB d (n-d) / (n^2 (n-1)):
    #   t=1: nA=2 nB=2 d=1 (A)  E=2/4=1/2  V=2*2*1*3/(16*3)=1/4
    #   t=2: nA=1 nB=2 d=1 (B)  E=1/3      V=1*2*1*2/(9*2)=2/9
    #   t=3: nA=1 nB=1 d=1 (A)  E=1/2      V=1/4
    # O-E = 2 - 4/3 = 2/3, V = 13/18, chi2 = (4/9)/(13/18) = 8/13.
    ([("a1", "A", 1, 1), ("a2", "A", 3, 1), ("b1", "B", 2, 1), ("b2", "B", 4, 0)], 8 / 13),
    # with a tie: A: 1, 2 (events), 3 (censored); B: 2, 2, 4 (events).
    #   t=1: nA=3 nB=3 d=1 (A)    E=1/2  V=3*3*1*5/(36*5)=1/4
    #   t=2: nA=2 nB=3 d=3 (1 A)  E=6/5  V=2*3*3*2/(25*4)=9/25
    #   t=4: nA=0 nB=1 d=1 (B)    E=0    V=0
    # O-E = 2 - 17/10 = 3/10, V = 61/100, chi2 = 0.09/0.61 = 9/61.
    ([("a1", "A", 1, 1), ("a2", "A", 2, 1), ("a3", "A", 3, 0),
      ("b1", "B", 2, 1), ("b2", "B", 2, 1), ("b3", "B", 4, 1)], 9 / 61),
])
def test_logrank_matches_the_observed_expected_table(rows, chi_square):
    patients, groups = months_table(rows)
    result = outcomes(patients, groups, "arm")["pfs"]
    assert result["logrank_p"] == pytest.approx(sps.chi2.sf(chi_square, 1), rel=1e-9)


def test_cox_hazard_ratio_matches_the_partial_likelihood_by_hand():
    # Same data as the first log-rank case, x = 1 for B, u = exp(beta). Partial likelihood:
    #   L = 1/(2 + 2u) * u/(1 + 2u) * 1/(1 + u)
    # Score = 0  <=>  1 - 2u/(1+u) - 2u/(1+2u) = 0  <=>  4u^2 + u - 1 = 0  =>  u = (sqrt(17)-1)/8
    # Information I = u/(1+u)^2 + 2u/(1+2u)^2 + u/(1+u)^2; Wald CI exp(beta +- 1.96/sqrt(I)).
    rows = [("a1", "A", 1, 1), ("a2", "A", 3, 1), ("b1", "B", 2, 1), ("b2", "B", 4, 0)]
    result = outcomes(*months_table(rows), "arm")["pfs"]
    u = (math.sqrt(17) - 1) / 8
    info = 2 * u / (1 + u) ** 2 + 2 * u / (1 + 2 * u) ** 2
    half = Z95 / math.sqrt(info)
    assert result["reference_group"] == "A"
    assert result["hazard_ratio"] == pytest.approx(u, rel=1e-5)
    assert result["hazard_ratio_ci"] == pytest.approx([u * math.exp(-half), u * math.exp(half)],
                                                      rel=1e-4)


@pytest.mark.parametrize(("rows", "reason"), [
    ([("a1", "A", 1, 1), ("b1", "B", 2, 1), ("c1", "C", 3, 1), ("c2", "C", 4, 1)], "3 group"),
    ([("a1", "A", 1, 1), ("a2", "A", 3, 1), ("b1", "B", 2, 0), ("b2", "B", 4, 0)],
     ">= 1 in each group"),
    ([("a1", "A", 1, 1), ("a2", "A", 3, 0), ("b1", "B", 2, 0)], ">= 2 events"),
    # every B event happens after the last A patient left: the likelihood never peaks
    ([("a1", "A", 1, 1), ("a2", "A", 2, 1), ("b1", "B", 3, 1), ("b2", "B", 4, 1)], "monotone"),
])
def test_no_hazard_ratio_outside_the_rule(rows, reason):
    result = outcomes(*months_table(rows), "arm")["pfs"]
    assert result["hazard_ratio"] is None and result["hazard_ratio_ci"] is None
    assert reason in result["note"]


def test_no_logrank_with_one_group_or_no_event():
    assert outcomes(*one_group([1, 2], [1, 1]), "all")["pfs"]["logrank_p"] is None
    rows = [("a1", "A", 1, 0), ("b1", "B", 2, 0)]
    assert outcomes(*months_table(rows), "arm")["pfs"]["logrank_p"] is None


# --------------------------------------------------------------------------- the patient table

DATES_HEADER = ("patient_id\tsalvage\tprogression_date\tpfs_event_date\tpfs_censor_date\t"
                "death_date\tlast_followup_date")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_dates_become_months(tmp_path, newline):
    text = (f"# outcome\n{DATES_HEADER}\n"
            "P1\tsunitinib\t2020-01-01\t2020-01-31\t\t\t2021-01-01\n"
            "# a comment\n"
            "P2\timatinib 800 mg\t2020-03-01\t\t2020-03-01\t2020-09-01\t\n")
    frame = read_patients(write(tmp_path, text, newline=newline))
    assert list(frame["line"]) == [3, 5]
    assert frame["pfs_months"].tolist() == pytest.approx([30 / DAYS_PER_MONTH, 0.0])
    assert frame["pfs_event"].tolist() == [1, 0]
    # 2020 is a leap year: 366 days to 2021-01-01; 184 days from March to September
    assert frame["os_months"].tolist() == pytest.approx([366 / 30.4375, 184 / 30.4375])
    assert frame["os_event"].tolist() == [0, 1]
    assert frame["salvage"].tolist() == ["sunitinib", "imatinib 800 mg"]
    assert frame["pattern"].isna().all()


def test_csv_months_style_and_an_absent_endpoint(tmp_path):
    text = 'patient_id,os_months,os_event,pattern,salvage\nP1,12.5,1,Focal,"resection, then imatinib"\n'
    frame = read_patients(write(tmp_path, text, "patients.csv"))
    assert frame.loc[0, "pattern"] == "focal"
    assert frame.loc[0, "salvage"] == "resection, then imatinib"
    assert "pfs_months" not in frame
    groups = pd.DataFrame({"patient_id": ["P1"], "group": ["focal"]})
    assert list(outcomes(frame, groups, "pattern")) == ["os"]


P1 = "P1\tx\t2020-01-01"


@pytest.mark.parametrize(("text", "line", "column", "what"), [
    (f"{DATES_HEADER}\n{P1}\t2019-12-31\t\t\t2021-01-01\n", 2, "pfs_event_date", "before"),
    (f"{DATES_HEADER}\n{P1}\t\t2019-06-01\t\t2021-01-01\n", 2, "pfs_censor_date", "before"),
    (f"{DATES_HEADER}\n{P1}\t2020-05-01\t\t2019-01-01\t\n", 2, "death_date", "before"),
    (f"{DATES_HEADER}\n{P1}\t\t\t\t2021-01-01\n", 2, "pfs_censor_date", "missing follow-up"),
    (f"{DATES_HEADER}\n{P1}\t2020-05-01\t\t\t\n", 2, "last_followup_date", "missing follow-up"),
    (f"{DATES_HEADER}\n{P1}\t2020-05-01\t2020-06-01\t\t2021-01-01\n", 2, "pfs_censor_date",
     "both"),
    (f"{DATES_HEADER}\n{P1}\t2020-05-01\t\t2020-06-01\t2021-01-01\n", 2, "last_followup_date",
     "both"),
    (f"{DATES_HEADER}\n{P1}\t2020-13-01\t\t\t2021-01-01\n", 2, "pfs_event_date", "not a date"),
    (f"{DATES_HEADER}\n{P1}\t2020-02-30\t\t\t2021-01-01\n", 2, "pfs_event_date", "not a date"),
    (f"{DATES_HEADER}\n{P1}\t05/01/2020\t\t\t2021-01-01\n", 2, "pfs_event_date", "not a date"),
    (f"{DATES_HEADER}\n{P1}\t20200501\t\t\t2021-01-01\n", 2, "pfs_event_date", "not a date"),
    (f"{DATES_HEADER}\nP1\tx\t01.01.2020\t2020-05-01\t\t\t2021-01-01\n", 2, "progression_date",
     "not a date"),
    (f"{DATES_HEADER}\nP1\tx\t\t2020-05-01\t\t\t2021-01-01\n", 2, "progression_date", "empty"),
    (f"{DATES_HEADER}\n{P1}\t2021-05-01\t\t\t2021-01-01\n", 2, "pfs_event_date",
     "ends after the overall survival"),
    (f"# c\n{DATES_HEADER}\n{P1}\t2020-05-01\t\t\t2021-01-01\n{P1}\t2020-05-01\t\t\t2021-01-01\n",
     4, "patient_id", "listed twice"),
    (f"{DATES_HEADER}\n\tx\t2020-01-01\t2020-05-01\t\t\t2021-01-01\n", 2, "patient_id", "empty"),
    ("patient_id\tpfs_months\tpfs_event\nP1\tabc\t1\n", 2, "pfs_months", "not a number"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t1,5\t1\n", 2, "pfs_months", "not a number"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t-0.5\t1\n", 2, "pfs_months", "negative"),
    ("patient_id\tpfs_months\tpfs_event\nP1\tnan\t1\n", 2, "pfs_months", "finite"),
    ("patient_id\tpfs_months\tpfs_event\nP1\tinf\t1\n", 2, "pfs_months", "finite"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t\t1\n", 2, "pfs_months", "missing follow-up"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t3\t2\n", 2, "pfs_event", "0 or 1"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t3\tyes\n", 2, "pfs_event", "0 or 1"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t3\t\n", 2, "pfs_event", "empty event"),
    ("patient_id\tpfs_months\tpfs_event\tos_months\tos_event\nP1\t9\t1\t8\t1\n", 2, "pfs_months",
     "ends after"),
    ("patient_id\tpfs_months\tpfs_event\tpattern\nP1\t3\t1\tmixed\n", 2, "pattern",
     "unknown pattern"),
    ("patient_id\tpfs_months\tpfs_event\nP1\t3\n", 2, None, "fields"),
    # header problems name the header line
    ("# c\npatient\tpfs_months\tpfs_event\nP1\t3\t1\n", 2, "patient_id", "missing"),
    ("patient_id\tpfs_months\tpfs_event\tpfs_event\nP1\t3\t1\t1\n", 1, "pfs_event", "twice"),
    ("patient_id\tpfs_months\nP1\t3\n", 1, "pfs_event", "missing column"),
    ("patient_id\tpfs_months\tpfs_event\tdeath_date\nP1\t3\t1\t2020-01-01\n", 1, "pfs_months",
     "mixes"),
    ("patient_id\tpfs_event_date\nP1\t2020-01-01\n", 1, "progression_date", "missing column"),
    ("patient_id\tprogression_date\nP1\t2020-01-01\n", 1, "progression_date", "no outcome"),
    ("patient_id\tsalvage\nP1\tx\n", 1, None, "no outcome"),
    ("patient_id\tpfs_months\tpfs_event\n", 1, None, "no patients"),
    ("# only a comment\n", 1, None, "empty"),
])
def test_validation_errors_name_file_line_and_column(tmp_path, text, line, column, what):
    path = write(tmp_path, text)
    with pytest.raises(PatientTableError) as info:
        read_patients(path)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{path}:{line}:")
    if column:
        assert f"'{column}'" in message
    assert what in message
    assert isinstance(info.value, LesionTrackError)


def test_not_utf8_and_binary_are_refused(tmp_path):
    path = tmp_path / "patients.tsv"
    path.write_bytes(b"patient_id\tpfs_months\tpfs_event\nP\xe91\t3\t1\n")
    with pytest.raises(PatientTableError, match=r"patients.tsv:2: not UTF-8 .*patient table"):
        read_patients(path)
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(PatientTableError, match="binary"):
        read_patients(path)
    with pytest.raises(PatientTableError, match="cannot read"):
        read_patients(tmp_path / "absent.tsv")


def test_unknown_columns_are_ignored_with_a_warning(tmp_path, caplog):
    path = write(tmp_path, "patient_id\tpfs_months\tpfs_event\tage\nP1\t3\t1\t61\n")
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        frame = read_patients(path)
    assert "age" not in frame and "ignoring column(s) age" in caplog.text


# --------------------------------------------------------------------------- groups

STATS = [
    stats_patient("P1", "focal", True, 1),
    stats_patient("P2", "focal", False, 2),
    stats_patient("P3", "generalized", None, 0),
    stats_patient("P4", "none", None, 0),
]


def test_groups_by_pattern_confined_and_secondary():
    def grouped(by, overrides=None):
        frame = groups_from_stats(STATS, by, overrides)
        assert frame.attrs["by"] == by
        return dict(zip(frame["patient_id"], frame["group"], strict=True))

    assert grouped("pattern") == {"P1": "focal", "P2": "focal", "P3": "generalized",
                                  "P4": "none"}
    assert grouped("confined") == {"P1": "confined", "P2": "not confined",
                                   "P3": "no secondary", "P4": "no secondary"}
    assert grouped("secondary") == {"P1": "secondary", "P2": "secondary", "P3": "no secondary",
                                    "P4": "no secondary"}
    # the patient table's pattern column overrides the lesions for "pattern" only
    table = pd.DataFrame({"patient_id": ["P2", "P3"], "pattern": ["generalized", None]})
    assert grouped("pattern", table)["P2"] == "generalized"
    assert grouped("pattern", table)["P3"] == "generalized"
    assert grouped("confined", table)["P2"] == "not confined"
    with pytest.raises(OptionError, match="unknown grouping"):
        groups_from_stats(STATS, "arm")
    # a patient whose confinement cannot be assessed is its own group, not "no secondary"
    assessed = [dict(STATS[0], confinement="confined"),
                dict(STATS[2], n_secondary=1, confinement="not_assessable")]
    frame = groups_from_stats(assessed, "confined")
    assert list(frame["group"]) == ["confined", "not assessable"]


def test_override_that_disagrees_with_the_lesions_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        groups_from_stats(STATS, "pattern", {"P1": "generalized"})
    assert "P1" in caplog.text and "replaces 'focal'" in caplog.text


def test_patient_unknown_to_the_sample_sheet_is_an_error_naming_its_row(tmp_path):
    path = write(tmp_path, "patient_id\tpfs_months\tpfs_event\nP1\t3\t1\n# c\nPX\t4\t1\n")
    patients = read_patients(path)
    groups = groups_from_stats(STATS, "pattern")
    with pytest.raises(PatientTableError) as info:
        outcomes(patients, groups, "pattern")
    assert str(info.value).startswith(f"{path}:4: field 'patient_id': patient 'PX'")


def test_sheet_patients_missing_from_the_table_are_left_out_with_a_warning(tmp_path, caplog):
    path = write(tmp_path, "patient_id\tpfs_months\tpfs_event\tos_months\tos_event\n"
                           "P1\t3\t1\t5\t0\nP3\t4\t1\t6\t1\n")
    patients = read_patients(path)
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = outcomes(patients, groups_from_stats(STATS, "pattern"), "pattern")
    assert "2 patient(s)" in caplog.text and "P2, P4" in caplog.text
    assert caplog.text.count("left out") == 1  # once, not once per endpoint
    assert {g: v["n"] for g, v in result["pfs"]["groups"].items()} == {"focal": 1,
                                                                       "generalized": 1}


# --------------------------------------------------------------------------- output

def demo_like():
    """Four focal and three generalized patients, month style, both endpoints."""
    rows = [("F1", 4.6, 1, 20.1, 1), ("F2", 11.3, 1, 36.3, 0), ("F3", 13.0, 1, 48.2, 0),
            ("F4", 41.0, 0, 41.0, 0), ("G1", 2.5, 1, 22.8, 1), ("G2", 7.4, 1, 27.5, 1),
            ("G3", 3.1, 1, 14.0, 0)]
    patients = pd.DataFrame(rows, columns=["patient_id", "pfs_months", "pfs_event",
                                           "os_months", "os_event"])
    stats = [stats_patient(p, "focal" if p[0] == "F" else "generalized") for p, *_ in rows]
    return patients, groups_from_stats(stats, "pattern")


def test_result_is_json_safe_and_written_atomically(tmp_path):
    patients, groups = demo_like()
    result = outcomes(patients, groups, "pattern")
    assert set(result) == {"pfs", "os"}
    os_ = result["os"]
    assert os_["groups"]["focal"]["median"] is None  # not reached
    assert os_["reference_group"] == "focal" and os_["hazard_ratio"] > 1
    text = json.dumps(result, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    svgs = {e: km_figure(patients, groups, e) for e in result}
    written = write_outcomes(tmp_path / "out", result, svgs)
    assert sorted(p.name for p in written) == ["km_os.svg", "km_pfs.svg", "outcomes.json",
                                               "outcomes.tsv"]
    assert json.loads((tmp_path / "out" / "outcomes.json").read_text()) == result
    assert not list((tmp_path / "out").glob(".*.tmp"))
    table = pd.read_csv(tmp_path / "out" / "outcomes.tsv", sep="\t")
    assert list(zip(table["endpoint"], table["group"], strict=True)) == [
        ("pfs", "focal"), ("pfs", "generalized"), ("os", "focal"), ("os", "generalized")]
    assert table["hazard_ratio"].isna().tolist() == [True, False, True, False]
    assert (tmp_path / "out" / "km_pfs.svg").read_text().startswith("<svg")


def test_outcomes_table_one_row_per_endpoint_and_group():
    patients, groups = demo_like()
    table = outcomes_table(outcomes(patients, groups, "pattern"))
    assert len(table) == 4
    focal_pfs = table[(table["endpoint"] == "pfs") & (table["group"] == "focal")].iloc[0]
    assert focal_pfs["at_risk"].startswith("0:4;6:3;12:2")
    assert focal_pfs["n"] == 4 and focal_pfs["events"] == 3


def test_text_summary_names_groups_medians_and_the_hazard_ratio():
    patients, groups = demo_like()
    text = outcomes_text(outcomes(patients, groups, "pattern"))
    assert "Progression-free survival by pattern" in text and "Overall survival" in text
    assert "median not reached" in text
    assert "hazard ratio generalized vs focal" in text
    assert text.endswith("For research use only, not for clinical decisions.\n")


def test_figure_is_a_deterministic_svg():
    patients, groups = demo_like()
    first = km_figure(patients, groups, "pfs")
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert first == km_figure(patients, groups, "pfs")
    assert "For research use only" in first
    assert "<title>Progression-free survival" in first
    assert "#0072b2" in first.lower() and "#d55e00" in first.lower()
    assert "Number at risk" in first
    other = km_figure(patients, groups, "os")
    assert other != first and "Overall survival" in other


def test_the_figure_draws_the_curves_of_the_summary():
    """The figure's numbers (km_curves) are those of outcomes.json: same medians, log-rank p
    and numbers at risk, from one fit; the figure only draws them."""
    from lesiontrack.survival_curves import km_curves

    patients, groups = demo_like()
    result = outcomes(patients, groups, "pattern")
    for endpoint, summary in result.items():
        curves = km_curves(patients, groups, endpoint)
        assert (curves.endpoint, curves.by) == (endpoint, "pattern")
        assert [g.name for g in curves.groups] == list(summary["groups"])
        assert curves.logrank_p == summary["logrank_p"]
        for group in curves.groups:
            given = summary["groups"][group.name]
            assert (group.n, group.events) == (given["n"], given["events"])
            median = group.median if math.isfinite(group.median) else None
            assert median == given["median"]
            at_risk = dict(zip(curves.ticks, group.at_risk, strict=True))
            assert all(at_risk[int(t)] == n for t, n in given["at_risk"].items()
                       if int(t) in at_risk)
            assert group.survival[0] == 1.0 and len(group.times) == len(group.survival)
            assert len(group.censored) == group.n - group.events
    assert curves.ticks[0] == 0 and curves.x_max == curves.ticks[-1]


def test_figure_greys_for_other_groups_and_refuses_an_absent_endpoint():
    patients, groups = months_table([("a", "x", 1, 1), ("b", "y", 2, 0)])
    svg = km_figure(patients, groups, "pfs", by="arm")
    assert "#595959" in svg.lower()
    with pytest.raises(OptionError, match="no OS columns"):
        km_figure(patients, groups, "os")


# --------------------------------------------------------------------------- demo cohort


@pytest.mark.skipif(not DRAFT.exists(), reason="the demo patient table is not in place")
def test_demo_patient_table_tells_the_focal_story(caplog):
    patients = read_patients(DRAFT)
    assert patients["pfs_months"].notna().all() and patients["os_months"].notna().all()
    stats = [stats_patient(p, pattern) for p, pattern in [
        ("GIST01", "focal"), ("GIST02", "focal"), ("GIST03", "generalized"),
        ("GIST04", "focal"), ("GIST05", "generalized"), ("GIST06", "none"),
        ("GIST07", "focal"), ("GIST08", "focal")]]
    groups = groups_from_stats(stats, "pattern", patients)
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = outcomes(patients, groups, "pattern")
    assert "GIST06" in caplog.text  # no progression, so no salvage follow-up
    assert "replaces" not in caplog.text  # the explicit patterns agree with the lesions
    for endpoint in ("pfs", "os"):
        focal = result[endpoint]["groups"]["focal"]
        generalized = result[endpoint]["groups"]["generalized"]
        assert focal["median"] is None or focal["median"] > generalized["median"]
        assert result[endpoint]["hazard_ratio"] > 1  # generalized vs focal
    assert result["pfs"]["groups"]["focal"]["median"] == pytest.approx(11.3, abs=0.05)
    assert result["pfs"]["groups"]["generalized"]["median"] == pytest.approx(2.5, abs=0.05)
    assert result["os"]["groups"]["generalized"]["median"] == pytest.approx(22.8, abs=0.05)


# --------------------------------------------------------------------------- PFS: progression or death


def pfs_of(tmp_path, pfs_event="", pfs_censor="", death="", followup=""):
    """(pfs_months, pfs_event) of one dated patient whose time zero is 2020-01-01."""
    path = write(tmp_path, f"{DATES_HEADER}\n{P1}\t{pfs_event}\t{pfs_censor}\t{death}\t"
                           f"{followup}\n")
    frame = read_patients(path)
    return frame.loc[0, "pfs_months"], frame.loc[0, "pfs_event"]


def test_a_death_before_any_progression_is_a_pfs_event(tmp_path):
    # censored for progression at the last scan, died before it was due: event at the death
    months, event = pfs_of(tmp_path, pfs_censor="2020-12-01", death="2020-06-01")
    assert event == 1 and months == pytest.approx(152 / DAYS_PER_MONTH)
    # no PFS date at all, a death: event at the death
    months, event = pfs_of(tmp_path, death="2020-03-01")
    assert event == 1 and months == pytest.approx(60 / DAYS_PER_MONTH)


def test_the_earlier_of_progression_and_death_is_the_pfs_event(tmp_path):
    months, event = pfs_of(tmp_path, pfs_event="2020-04-10", death="2021-01-01")
    assert event == 1 and months == pytest.approx(100 / DAYS_PER_MONTH)


def test_a_death_after_the_pfs_censor_date_leaves_pfs_censored(tmp_path):
    months, event = pfs_of(tmp_path, pfs_censor="2020-06-01", death="2020-06-02")
    assert event == 0 and months == pytest.approx(152 / DAYS_PER_MONTH)


def test_a_death_on_the_pfs_censor_day_is_an_event(tmp_path):
    months, event = pfs_of(tmp_path, pfs_censor="2020-06-01", death="2020-06-01")
    assert event == 1 and months == pytest.approx(152 / DAYS_PER_MONTH)


def test_without_a_death_the_censoring_stands(tmp_path):
    months, event = pfs_of(tmp_path, pfs_censor="2020-06-01", followup="2020-09-01")
    assert event == 0 and months == pytest.approx(152 / DAYS_PER_MONTH)


def test_month_style_keeps_the_users_pfs_event(tmp_path):
    path = write(tmp_path, "patient_id\tpfs_months\tpfs_event\tos_months\tos_event\n"
                           "P1\t4\t0\t4\t1\n")
    frame = read_patients(path)
    assert frame.loc[0, "pfs_event"] == 0  # a death at 4 months, but the user said censored
    groups = pd.DataFrame({"patient_id": ["P1"], "group": ["focal"]})
    result = outcomes(frame, groups, "pattern")
    assert "as given" in result["pfs"]["event_definition"]


def test_time_zero_is_said_in_the_json_text_and_figure(tmp_path):
    path = write(tmp_path, f"{DATES_HEADER}\n{P1}\t2020-05-01\t\t\t2021-01-01\n")
    patients = read_patients(path)
    groups = pd.DataFrame({"patient_id": ["P1"], "group": ["focal"]})
    result = outcomes(patients, groups, "pattern")
    for endpoint in ("pfs", "os"):
        assert result[endpoint]["time_zero"].startswith("progression_date")
    assert result["pfs"]["event_definition"].startswith("progression or death")
    assert json.loads(json.dumps(result))["os"]["time_zero"] == result["os"]["time_zero"]
    assert "months since progression_date" in outcomes_text(result)
    assert "Months since progression_date" in km_figure(patients, groups, "pfs")


def test_unknown_is_a_group_of_outcomes_by_pattern():
    patients, _ = months_table([("F1", "", 10, 1), ("F2", "", 20, 0), ("G1", "", 3, 1),
                                ("U1", "", 6, 1), ("U2", "", 8, 0)])
    stats = [stats_patient("F1", "focal"), stats_patient("F2", "focal"),
             stats_patient("G1", "generalized"), stats_patient("U1", "unknown"),
             stats_patient("U2", "unknown")]
    result = outcomes(patients, groups_from_stats(stats, "pattern"), "pattern")
    assert list(result["pfs"]["groups"]) == ["focal", "generalized", "unknown"]
    assert result["pfs"]["groups"]["unknown"]["n"] == 2
    assert result["pfs"]["hazard_ratio"] is None  # three groups: no two-group Cox model
    assert "unknown" in set(outcomes_table(result)["group"])
    from lesiontrack.report.cohort import outcomes_view

    view = outcomes_view({"result": result, "figures": {}, "by": "pattern"})
    assert [row["group"] for row in view["endpoints"][0]["rows"]] == [
        "focal", "generalized", "unknown"]
