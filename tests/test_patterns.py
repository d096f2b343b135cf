"""The progression pattern describes the patient's disease, not the sequenced subset: a patient
table's ``pattern`` or radiology lesion counts decide it, else the sequenced lesions
(``unknown`` below two)."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from scenarios import V654A, W557, call, focal_patient, table

from lesiontrack import classify, test_clustering
from lesiontrack.cli import main
from lesiontrack.errors import PatientTableError
from lesiontrack.outcomes import groups_from_stats
from lesiontrack.output import frame_to_tsv
from lesiontrack.patients import read_patients
from lesiontrack.patterns import pattern_from_counts


def patterns(rows, patients=None, **kw):
    calls = table(rows)
    result = test_clustering(classify(calls), calls, patients=patients, **kw)
    return {p["patient_id"]: p for p in result["patients"]}


def radiology(*rows, pattern=None):
    """A patient table from (patient, radiology_progressive, radiology_controlled) rows."""
    frame = pd.DataFrame(rows, columns=["patient_id", "radiology_progressive",
                                        "radiology_controlled"])
    if pattern is not None:
        frame["pattern"] = pattern
    return frame


def one_progressive_lesion(patient="ONE"):
    return [call(patient, "L1", "progressive", W557, 40, 100),
            call(patient, "L1", "progressive", V654A, 30, 100)]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(("progressive", "controlled", "focal_max", "expected"), [
    (0, 3, 1, "none"),
    (0, 0, 1, "none"),
    (1, 1, 1, "focal"),
    (1, 0, 1, "generalized"),  # every lesion progressive
    (2, 4, 1, "generalized"),  # one more than --focal-max
    (2, 4, 2, "focal"),  # exactly --focal-max
    (3, 4, 2, "generalized"),
])
def test_pattern_from_counts_pins_the_focal_max_boundary(progressive, controlled, focal_max,
                                                         expected):
    assert pattern_from_counts(progressive, controlled, focal_max) == expected


def test_one_sequenced_progressive_lesion_is_unknown_not_generalized():
    found = patterns(one_progressive_lesion()
                     + [call("CTRL", "L1", "controlled", W557, 40, 100)]
                     + focal_patient("TWO"))
    assert found["ONE"]["pattern"] == "unknown"
    assert found["ONE"]["pattern_source"] == "sequenced lesions"
    assert found["CTRL"]["pattern"] == "unknown"  # one controlled lesion: cannot tell either
    assert found["TWO"]["pattern"] == "focal"  # two sequenced lesions suffice
    assert found["TWO"]["pattern_source"] == "sequenced lesions"
    assert found["TWO"]["radiology_progressive"] is None


def test_radiology_counts_decide_the_pattern_over_the_sequenced_lesions():
    # two lesions sequenced (one progressive, one controlled: focal by themselves), but five
    # progress on imaging
    found = patterns(focal_patient("P1") + one_progressive_lesion("P2"),
                     radiology(("P1", 5, 1), ("P2", 1, 3)))
    assert found["P1"]["pattern"] == "generalized"
    assert found["P1"]["pattern_source"] == "radiology"
    assert (found["P1"]["radiology_progressive"], found["P1"]["radiology_controlled"]) == (5, 1)
    assert (found["P1"]["n_progressive"], found["P1"]["n_controlled"]) == (1, 1)  # sequenced
    assert found["P2"]["pattern"] == "focal"  # one sequenced lesion, but 4 on imaging
    assert found["P2"]["pattern_source"] == "radiology"


def test_radiology_counts_follow_focal_max():
    rows = focal_patient("P1")
    table_ = radiology(("P1", 2, 3))
    assert patterns(rows, table_)["P1"]["pattern"] == "generalized"
    assert patterns(rows, table_, focal_max=2)["P1"]["pattern"] == "focal"


def test_a_stated_pattern_wins_and_a_disagreement_with_the_counts_is_logged(caplog):
    rows = focal_patient("P1") + focal_patient("P2") + focal_patient("P3")
    table_ = radiology(("P1", 5, 1), ("P2", 1, 4), ("P3", None, None),
                       pattern=["focal", "focal", "generalized"])
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        found = patterns(rows, table_)
    assert found["P1"]["pattern"] == "focal"
    assert found["P1"]["pattern_source"] == "patients table pattern"
    assert "P1" in caplog.text and "disagrees with its radiology counts" in caplog.text
    # the message names both patterns and the counts
    assert ("pattern 'focal' of the patient table disagrees with its radiology counts (5 "
            "progressive, 1 controlled: 'generalized' with --focal-max 1)") in caplog.text
    assert "P2" not in caplog.text  # agrees
    assert found["P3"]["pattern"] == "generalized"  # no counts: nothing to disagree with
    assert found["P3"]["pattern_source"] == "patients table pattern"
    assert "P3" not in caplog.text


def test_empty_cells_keep_the_derived_pattern():
    found = patterns(focal_patient("P1"), radiology(("P1", None, None), pattern=[""]))
    assert found["P1"]["pattern"] == "focal"
    assert found["P1"]["pattern_source"] == "sequenced lesions"


@pytest.mark.parametrize(("progressive", "controlled", "field"), [
    (-1, 2, "radiology_progressive"),
    (2.5, 2, "radiology_progressive"),
    (1, "many", "radiology_controlled"),
    (3, None, "radiology_controlled"),  # one count without the other
])
def test_bad_counts_in_an_api_table_name_the_row_and_field(progressive, controlled, field):
    table_ = radiology(("P1", progressive, controlled))
    with pytest.raises(PatientTableError) as info:
        patterns(focal_patient("P1"), table_)
    assert str(info.value).startswith(f"patient table:row 1: field '{field}'")


def test_a_table_patient_outside_the_cohort_is_an_error():
    with pytest.raises(PatientTableError, match="'PX' is not in the sample sheet"):
        patterns(focal_patient("P1"), radiology(("PX", 1, 1)))


def test_outcome_groups_follow_the_table_when_the_statistics_did_not():
    stats = [{"patient_id": "P1", "pattern": "focal", "pattern_source": "sequenced lesions",
              "n_secondary": 1, "secondary_confined_to_progressive": True},
             {"patient_id": "P2", "pattern": "focal", "pattern_source": "radiology",
              "n_secondary": 0, "secondary_confined_to_progressive": None}]
    groups = groups_from_stats(stats, "pattern", radiology(("P1", 4, 1), ("P2", 4, 1)))
    # P1's counts apply; P2's pattern was already decided by the table (kept as is)
    assert dict(zip(groups["patient_id"], groups["group"], strict=True)) == {
        "P1": "generalized", "P2": "focal"}


# --------------------------------------------------------------------------- the table file


def test_a_stats_table_may_hold_only_the_radiology_columns(tmp_path):
    path = tmp_path / "imaging.tsv"
    path.write_text("patient_id\tradiology_progressive\tradiology_controlled\nP1\t5\t1\nP2\t\t\n")
    frame = read_patients(path, require_outcomes=False)
    assert frame["radiology_progressive"].tolist()[0] == 5
    assert frame["radiology_progressive"].isna().tolist() == [False, True]
    assert frame.attrs["endpoints"] == [] and frame.attrs["style"] is None
    with pytest.raises(PatientTableError, match="no outcome columns"):
        read_patients(path)  # outcomes still need their survival columns


@pytest.mark.parametrize(("text", "line", "field", "what"), [
    ("patient_id\tradiology_progressive\tradiology_controlled\nP1\t2.5\t1\n", 2,
     "radiology_progressive", "not a lesion count: '2.5'"),
    ("patient_id\tradiology_progressive\tradiology_controlled\nP1\t1\t-1\n", 2,
     "radiology_controlled", "not a lesion count: '-1'"),
    ("patient_id\tradiology_progressive\tradiology_controlled\nP1\t1\t1\nP2\tfew\t1\n", 3,
     "radiology_progressive", "not a lesion count"),
    ("patient_id\tradiology_progressive\tradiology_controlled\nP1\t1\t\n", 2,
     "radiology_controlled", "without"),
    ("patient_id\tradiology_progressive\nP1\t1\n", 1, "radiology_controlled", "without"),
    ("patient_id\tsalvage\nP1\tx\n", 1, None, "no pattern, radiology or outcome columns"),
])
def test_bad_radiology_columns_name_file_line_and_field(tmp_path, text, line, field, what):
    path = tmp_path / "imaging.tsv"
    path.write_text(text)
    with pytest.raises(PatientTableError) as info:
        read_patients(path, require_outcomes=False)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:") and what in message and "\n" not in message
    if field:
        assert f"'{field}'" in message


# --------------------------------------------------------------------------- command line


@pytest.fixture
def calls_tsv(tmp_path):
    """A precomputed calls table: P1 two sequenced lesions (focal by themselves), P2 one."""
    path = tmp_path / "calls.tsv"
    path.write_text(frame_to_tsv(table(focal_patient("P1") + one_progressive_lesion("P2"))))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_patients_with_only_radiology_columns(capsys, tmp_path, calls_tsv):
    path = tmp_path / "imaging.tsv"
    path.write_text("patient_id\tradiology_progressive\tradiology_controlled\nP1\t5\t1\n")
    code, out, _ = run(capsys, "stats", "--calls", calls_tsv, "--patients", path, "--json",
                       "--permutations", "100")
    assert code == 0
    found = {p["patient_id"]: p for p in json.loads(out)["patients"]}
    assert (found["P1"]["pattern"], found["P1"]["pattern_source"]) == ("generalized",
                                                                       "radiology")
    assert (found["P2"]["pattern"], found["P2"]["pattern_source"]) == ("unknown",
                                                                       "sequenced lesions")
    code, out, _ = run(capsys, "stats", "--calls", calls_tsv, "--patients", path,
                       "--permutations", "100")
    assert code == 0
    assert "P1: generalized (radiology: 5 progressive, 1 controlled on imaging" in out
    assert "P2: unknown (1 progressive, 0 controlled sequenced)" in out


@pytest.mark.parametrize("cell", ["2.5", "-1", "five"])
def test_stats_refuses_a_bad_count_on_one_line(capsys, tmp_path, calls_tsv, cell):
    path = tmp_path / "imaging.tsv"
    path.write_text(f"patient_id\tradiology_progressive\tradiology_controlled\nP1\t{cell}\t1\n")
    code, out, err = run(capsys, "stats", "--calls", calls_tsv, "--patients", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"lesiontrack: error: {path}:2: field 'radiology_progressive': "
                          f"not a lesion count: '{cell}'")


def test_report_with_a_pattern_only_table_shows_the_source_and_no_outcomes(capsys, tmp_path,
                                                                           calls_tsv):
    path = tmp_path / "imaging.tsv"
    path.write_text("patient_id\tpattern\nP2\tfocal\n")
    out = tmp_path / "report"
    code, _, _ = run(capsys, "-q", "report", "--calls", calls_tsv, "--patients", path, "-o", out,
                     "--permutations", "100")
    assert code == 0
    stats = {p["patient_id"]: p for p in json.loads((out / "stats.json").read_text())["patients"]}
    assert stats["P2"]["pattern_source"] == "patients table pattern"
    assert stats["P1"]["pattern_source"] == "sequenced lesions"
    page = (out / "index.html").read_text()
    assert "from patients table pattern" in page and "from sequenced lesions" in page
    assert 'id="outcomes"' not in page and not (out / "outcomes.json").exists()
    patient = json.loads((out / "patients" / "P2.json").read_text())
    assert patient["pattern"]["pattern_source"] == "patients table pattern"
    assert "as stated in the patient table" in (out / "patients" / "P2.html").read_text()


@pytest.mark.parametrize(("value", "expected"), [
    (0, 0), (0.0, 0), (3, 3), (3.0, 3), ("0", 0), ("", None), (None, None),
])
def test_lesion_counts_accept_zero_and_whole_numbers(value, expected):
    from lesiontrack.patterns import parse_count

    assert parse_count(value) == expected


@pytest.mark.parametrize("value", [-1, -1.0, 2.5, "-1", "2.5", "many", True])
def test_lesion_counts_refuse_negatives_fractions_and_words(value):
    from lesiontrack.patterns import parse_count

    with pytest.raises(ValueError):
        parse_count(value)


def test_sequenced_lesions_follow_focal_max():
    from lesiontrack.patterns import decide_pattern

    # two progressive and one controlled lesion: focal only when --focal-max allows two
    assert decide_pattern("P", ["L1", "L2"], ["L3"], None, focal_max=2) == (
        "focal", "sequenced lesions")
    assert decide_pattern("P", ["L1", "L2"], ["L3"], None, focal_max=1) == (
        "generalized", "sequenced lesions")
    assert decide_pattern("P", ["L1", "L2"], [], None, focal_max=2) == (
        "generalized", "sequenced lesions")
