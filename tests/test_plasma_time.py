"""Liquid biopsy and time (issue 17): plasma thresholds, plasma as evidence and never a lesion,
repeated biopsies of one lesion (``lesion_history``), ``--at DATE`` and the patient timeline.

Each test writes a small cohort for itself (a dated sample sheet and one calls TSV, GRCh38).
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from scenarios import write_reads_cohort
from scipy import stats as sps

import lesiontrack as lt
from lesiontrack.cli import main
from lesiontrack.errors import OptionError, PatientTableError, SampleSheetError
from lesiontrack.evidence import detection_power, lesion_states, sample_states
from lesiontrack.outcomes import read_patients
from lesiontrack.patterns import lesion_table
from lesiontrack.timeline import lesion_statuses

W557 = ("chr4", 54727434, "CAGTGGA", "C")  # KIT p.W557_K558del, exon 11: the driver
V654A = ("chr4", 54728092, "T", "C")  # KIT exon 13, resistance site
D816V = ("chr4", 54733155, "A", "T")  # KIT exon 17
N822K = ("chr4", 54733174, "T", "G")  # KIT exon 17, resistance site



def key(site) -> str:
    _chrom, pos, ref, alt = site
    if len(ref) > 1 and ref[0] == alt[0]:
        return f"4:{pos + 1}:{ref[1:]}>{alt[1:] or '-'}"
    return f"4:{pos}:{ref}>{alt}"


def write_cohort(folder: Path, samples: list[tuple], reads: list[tuple],
                 patients: str | None = None) -> Path:
    """``samples``: (patient, lesion, sample, role, status, date); ``reads``: (sample, site,
    alt, depth). Writes calls.tsv, samplesheet.tsv (and patients.tsv)."""
    return write_reads_cohort(folder, samples, reads, "date", patients)


def analyse(sheet_path: Path, *, patients: pd.DataFrame | None = None,
            thresholds: lt.Thresholds | None = None):
    """(calls, sheet, states, origins, stats, per-sample states) of a written cohort."""
    sheet = lt.read_samplesheet(sheet_path)
    calls = lt.read_calls(sheet_path, thresholds=thresholds)
    per = sample_states(calls, sheet, thresholds=thresholds)
    states = lesion_states(calls, sheet, thresholds=thresholds, sample_states=per)
    origins = lt.classify(calls, sheet, thresholds=thresholds, states=states,
                          sample_states=per, patients=patients)
    stats = lt.test_clustering(origins, calls, samples=sheet, permutations=99, seed=1,
                               thresholds=thresholds, states=states)
    return calls, sheet, states, origins, stats, per


def origin(origins: pd.DataFrame, site, patient: str = "P") -> pd.Series:
    rows = origins[(origins["patient_id"] == patient) & (origins["variant_key"] == key(site))]
    assert len(rows) == 1, origins[["patient_id", "variant_key"]]
    return rows.iloc[0]


def two_lesions(plasma_reads=(), plasma_samples=(), secondary_in_l1=True):
    """L1 progressive and L2 controlled (both 2021-05-10), driver in both; V654A at 25% in L1
    when ``secondary_in_l1``; its site read deep in L2."""
    samples = [("P", "L1", "P_L1", "lesion", "PD", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "SD", "2021-05-10"), *plasma_samples]
    reads = [("P_L1", W557, 900, 2000), ("P_L1", V654A, 500 if secondary_in_l1 else 0, 2000),
             ("P_L2", W557, 800, 1800), ("P_L2", V654A, 0, 1800), *plasma_reads]
    return samples, reads


# ----------------------------------------------------------------------------------------------
# plasma thresholds
# ----------------------------------------------------------------------------------------------

def test_plasma_rows_use_the_plasma_thresholds_at_their_boundaries():
    t = lt.Thresholds()
    assert (t.plasma_min_vaf, t.plasma_min_alt, t.plasma_min_depth) == (0.001, 3, 500)
    alt = pd.Series([3, 2, 3, 3, 3, 3])
    depth = pd.Series([500, 500, 499, 3000, 3001, 500])
    role = pd.Series(["plasma"] * 5 + ["lesion"])
    got = [None if x is pd.NA else x
           for x in t.detect(alt, depth, pd.Series([None] * 6, dtype=float), role).tolist()]
    # 3/500 passes; 2 reads do not; depth 499 is not read; 3/3000 = 0.1% passes, 3/3001 does
    # not; the same 3/500 in tissue is 0.6% < 2%
    assert got == [True, False, None, True, False, False]


def test_plasma_thresholds_are_options(tmp_path):
    t = lt.Thresholds(plasma_min_vaf=0.005, plasma_min_alt=5, plasma_min_depth=1000)
    got = t.detect(pd.Series([5, 5, 4]), pd.Series([1000, 999, 1000]),
                   pd.Series([None] * 3, dtype=float), pd.Series(["plasma"] * 3))
    assert [None if x is pd.NA else x for x in got] == [True, None, False]
    with pytest.raises(OptionError):
        lt.Thresholds(plasma_min_alt=0)
    with pytest.raises(OptionError):
        lt.Thresholds(plasma_min_vaf=1.5)


def test_what_depth_a_tenth_of_a_percent_needs():
    t = lt.Thresholds().for_role("plasma")
    # at depth 500 the smallest detectable VAF with 3 ALT reads is 3/500 = 0.6%
    assert t.alt_needed(500) / 500 == pytest.approx(0.006)
    # 0.1% becomes detectable at depth 3,000 (3 reads = 0.1%); a mutation *at* 0.1% is then
    # seen with probability 0.58 only
    assert t.alt_needed(3000) / 3000 == pytest.approx(0.001)
    assert t.alt_needed(2999) / 2999 > 0.001
    power = detection_power([3000], [0.001], t)[0]
    assert power == pytest.approx(sps.binom.sf(2, 3000, 0.001)) and 0.57 < power < 0.58
    # an absence at 3,000x is evidence (power >= 0.95) for an expected VAF of 0.21% and above
    assert detection_power([3000], [0.0021], t)[0] >= 0.95 > detection_power([3000], [0.0020],
                                                                              t)[0]
    # above 3,000x min_vaf x depth grows with the depth: a mutation at exactly 0.1% stays near
    # a coin toss however deep
    assert detection_power([10_000], [0.001], t)[0] < 0.6


def test_plasma_absence_uses_the_ctdna_fraction_from_the_driver(tmp_path):
    # plasma: driver at 2% (ctDNA fraction 4%); V654A (CCF 0.56 in L1) expected at
    # 0.56 x 4% / 2 = 1.1%: 0/5000 is absent; a draw with the driver at 1% (expected 0.56%)
    # read at depth 600 has too little power
    samples, reads = two_lesions(
        plasma_samples=[("P", "plasma", "P_cf1", "plasma", "PD", "2021-05-01"),
                        ("P", "plasma2", "P_cf2", "plasma", "PD", "2021-05-02")],
        plasma_reads=[("P_cf1", W557, 100, 5000), ("P_cf1", V654A, 0, 5000),
                      ("P_cf2", W557, 6, 600), ("P_cf2", V654A, 0, 600)])
    *_, per = analyse(write_cohort(tmp_path, samples, reads))
    rows = per[(per["variant_key"] == key(V654A)) & (per["role"] == "plasma")].set_index(
        "sample_id")
    assert rows.loc["P_cf1", "tumour_content"] == pytest.approx(0.04)
    assert rows.loc["P_cf1", "tumour_content_source"].startswith("ctDNA fraction")
    assert rows.loc["P_cf1", "state"] == "absent"
    assert rows.loc["P_cf2", "state"] == "not_evaluable"
    assert "underpowered" in rows.loc["P_cf2", "reason"]


# ----------------------------------------------------------------------------------------------
# plasma is never a lesion
# ----------------------------------------------------------------------------------------------

def test_plasma_is_never_a_lesion(tmp_path):
    # a plasma sample written with status PD carrying the secondary: not in the 2x2, the
    # patterns or the confinement
    samples, reads = two_lesions(
        plasma_samples=[("P", "cfDNA", "P_cf", "plasma", "PD", "2021-05-01")],
        plasma_reads=[("P_cf", W557, 200, 5000), ("P_cf", V654A, 50, 5000)])
    calls, sheet, states, origins, stats, _ = analyse(write_cohort(tmp_path, samples, reads))
    table = lesion_table(origins, calls, sheet, states=states)
    assert list(table["lesion_id"]) == ["L1", "L2"]
    assert stats["lesion_table"]["progressive_with_secondary"] == 1
    assert stats["lesion_table"]["controlled_without"] == 1
    assert sum(stats["lesion_table"].values()) == 2
    patient = stats["patients"][0]
    assert (patient["n_progressive"], patient["n_controlled"]) == (1, 1)
    assert "cfDNA" not in patient["progressive_lesions"]
    assert patient["confinement"] == "confined"
    assert origin(origins, V654A).lesions_detected == "L1"


# ----------------------------------------------------------------------------------------------
# plasma_only and confinement
# ----------------------------------------------------------------------------------------------

def test_a_secondary_seen_only_in_plasma_is_flagged_and_confinement_not_assessable(tmp_path):
    samples, reads = two_lesions(
        secondary_in_l1=False,
        plasma_samples=[("P", "plasma", "P_cf", "plasma", "PD", "2021-05-01")],
        plasma_reads=[("P_cf", W557, 250, 5000), ("P_cf", V654A, 15, 5000)])
    _, _, _, origins, stats, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, V654A)
    assert row.origin == "secondary"
    assert "plasma_only" in row["flags"] and "P_cf 2021-05-01 VAF 0.3%" in row["flags"]
    assert row.lesions_detected == ""
    patient = stats["patients"][0]
    assert patient["confinement"] == "not_assessable"
    assert patient["secondary_confined_to_progressive"] is None


def test_a_plasma_only_secondary_makes_an_otherwise_confined_patient_not_assessable(tmp_path):
    samples, reads = two_lesions(
        plasma_samples=[("P", "plasma", "P_cf", "plasma", "PD", "2021-05-01")],
        plasma_reads=[("P_cf", W557, 250, 5000), ("P_cf", V654A, 100, 5000),
                      ("P_cf", N822K, 15, 5000)])
    reads += [("P_L1", N822K, 0, 2000), ("P_L2", N822K, 0, 1800)]
    _, _, _, origins, stats, _ = analyse(write_cohort(tmp_path, samples, reads))
    assert "plasma_only" not in origin(origins, V654A)["flags"]
    assert "plasma_only" in origin(origins, N822K)["flags"]
    assert stats["patients"][0]["confinement"] == "not_assessable"


def test_kit_d816v_only_in_plasma_at_low_vaf_may_come_from_blood_cells(tmp_path):
    samples, reads = two_lesions(
        plasma_samples=[("P", "plasma", "P_cf", "plasma", "PD", "2021-05-01")],
        plasma_reads=[("P_cf", W557, 250, 5000), ("P_cf", D816V, 20, 5000)])
    _, _, _, origins, _, _ = analyse(write_cohort(tmp_path, samples, reads))
    assert "possible haematopoietic origin" in origin(origins, D816V)["flags"]
    assert "role=normal" in origin(origins, D816V)["flags"]
    # seen in a lesion too: no such flag
    reads += [("P_L1", D816V, 300, 2000)]
    _, _, _, origins, _, _ = analyse(write_cohort(tmp_path / "b", samples, reads))
    assert "haematopoietic" not in origin(origins, D816V)["flags"]


# ----------------------------------------------------------------------------------------------
# pre-treatment plasma acts as a baseline
# ----------------------------------------------------------------------------------------------

PATIENTS = "patient_id\ttreatment_start_date\nP\t2019-01-15\n"


def test_plasma_before_treatment_start_is_a_baseline(tmp_path):
    # the pre-treatment draw carries the driver at 10% and not V654A (0/5000: absent)
    samples, reads = two_lesions(
        plasma_samples=[("P", "plasma", "P_cf0", "plasma", "unknown", "2019-01-10")],
        plasma_reads=[("P_cf0", W557, 500, 5000), ("P_cf0", V654A, 0, 5000)])
    path = write_cohort(tmp_path, samples, reads, PATIENTS)
    patients = read_patients(tmp_path / "patients.tsv", require_outcomes=False)
    assert patients["treatment_start_date"].tolist() == ["2019-01-15"]
    _, _, _, origins, _, _ = analyse(path, patients=patients)
    row = origin(origins, V654A)
    assert (row.origin, row.rule) == ("secondary", "baseline")
    assert "absent from baseline pre-treatment plasma P_cf0 (2019-01-10)" in row.evidence
    driver = origin(origins, W557)
    assert (driver.origin, driver.rule) == ("primary", "baseline")
    # without the treatment start the draw is not a baseline
    _, _, _, origins, _, _ = analyse(path)
    assert origin(origins, V654A).rule == "sharing"


def test_a_subclone_in_pre_treatment_plasma_is_a_pre_existing_resistant_subclone(tmp_path):
    # V654A at 0.2% under a driver at 10% in the pre-treatment draw (CCF 0.02), clonal in L1
    samples, reads = two_lesions(
        plasma_samples=[("P", "plasma", "P_cf0", "plasma", "unknown", "2019-01-10")],
        plasma_reads=[("P_cf0", W557, 500, 5000), ("P_cf0", V654A, 10, 5000)])
    reads[1] = ("P_L1", V654A, 880, 2000)
    path = write_cohort(tmp_path, samples, reads, PATIENTS)
    patients = read_patients(tmp_path / "patients.tsv", require_outcomes=False)
    _, _, _, origins, _, _ = analyse(path, patients=patients)
    row = origin(origins, V654A)
    assert (row.origin, row.rule) == ("secondary", "baseline")
    assert "pre-existing subclone in baseline (VAF 0.2%)" in row["flags"]


def test_treatment_start_date_is_validated(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("patient_id\ttreatment_start_date\nP\t2019-13-01\n")
    with pytest.raises(PatientTableError) as info:
        read_patients(bad, require_outcomes=False)
    assert (info.value.where, info.value.field) == (2, "treatment_start_date")
    late = tmp_path / "late.tsv"
    late.write_text("patient_id\tprogression_date\tpfs_censor_date\ttreatment_start_date\n"
                    "P\t2020-01-01\t2021-01-01\t2020-06-01\n")
    with pytest.raises(PatientTableError, match="after progression_date"):
        read_patients(late)


# ----------------------------------------------------------------------------------------------
# repeated biopsies: lesion_history, current date, --at
# ----------------------------------------------------------------------------------------------

def history_cohort(folder: Path, *, baseline_has_it: bool = False) -> Path:
    """L1 biopsied 2019-03-01 (controlled, V654A 0/800) and 2021-05-10 (progressive, V654A
    clonal); L2 controlled 2021-05-10 with V654A clonal too (so sharing would say primary)."""
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2019-03-01"),
               ("P", "L1", "P_L1b", "lesion", "PD", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "SD", "2021-05-10")]
    reads = [("P_L1a", W557, 360, 800), ("P_L1a", V654A, 0, 800),
             ("P_L1b", W557, 450, 1000), ("P_L1b", V654A, 440, 1000),
             ("P_L2", W557, 400, 900), ("P_L2", V654A, 390, 900)]
    if baseline_has_it:
        samples.append(("P", "B", "P_B", "baseline", "baseline", "2018-01-01"))
        reads += [("P_B", W557, 200, 450), ("P_B", V654A, 195, 450)]
    return write_cohort(folder, samples, reads)


def test_absent_in_the_earlier_biopsy_and_detected_later_is_secondary(tmp_path):
    _, _, states, origins, stats, _ = analyse(history_cohort(tmp_path))
    row = origin(origins, V654A)
    assert (row.origin, row.rule) == ("secondary", "lesion_history")
    assert "L1 absent on 2019-03-01 (P_L1a" in row.evidence
    assert "detected on 2021-05-10 (P_L1b, 440/1000 reads)" in row.evidence
    assert "sharing=primary" in row["flags"]
    # the 2x2 uses L1's current (progressive) date only
    l1 = states[(states["lesion_id"] == "L1") & (states["variant_key"] == key(V654A))].iloc[0]
    assert (l1.status, l1.sample_id) == ("progressive", "P_L1b")
    assert stats["lesion_table"]["progressive_with_secondary"] == 1
    assert stats["lesion_table"]["controlled_with_secondary"] == 1
    assert origin(origins, V654A).first_detected_date == "2021-05-10"
    assert origin(origins, V654A).first_detected_in == "P_L1b,P_L2"
    assert origin(origins, W557).first_detected_date == "2019-03-01"
    assert origin(origins, W557).first_detected_in == "P_L1a"


def test_lesion_history_disagreeing_with_the_baseline_is_flagged(tmp_path):
    _, _, _, origins, _, _ = analyse(history_cohort(tmp_path, baseline_has_it=True))
    row = origin(origins, V654A)
    assert row.rule == "lesion_history"
    assert "lesion_history disagrees with the baseline: baseline=primary" in row["flags"]


def test_at_evaluates_with_the_samples_dated_on_or_before(tmp_path, capsys):
    path = history_cohort(tmp_path)
    out = tmp_path / "origins.tsv"
    assert main(["-q", "classify", str(path), "--at", "2020-01-01", "-o", str(out)]) == 0
    early = pd.read_csv(out, sep="\t", keep_default_na=False)
    assert key(V654A) not in set(early["variant_key"])  # not yet detected then
    assert main(["-q", "classify", str(path), "--at", "2021-05-10", "-o", str(out)]) == 0
    late = pd.read_csv(out, sep="\t", keep_default_na=False)
    assert late.set_index("variant_key").loc[key(V654A), "rule"] == "lesion_history"
    assert main(["-q", "stats", str(path), "--json", "--at", "2020-01-01", "--permutations",
                 "99"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["patients"][0]["controlled_lesions"] == ["L1"]  # L1 was controlled then
    assert result["patients"][0]["progressive_lesions"] == []
    assert main(["classify", str(path), "--at", "2020-02-30"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--at" in err


def test_the_graph_carries_the_status_at_the_latest_date(tmp_path):
    path = history_cohort(tmp_path)
    out = tmp_path / "graph.graphml"
    assert main(["-q", "graph", str(path), "-o", str(out)]) == 0
    graph = nx.read_graphml(out)
    statuses = [v for u, v in graph.out_edges("lesion:P/L1") if v.startswith("status:")]
    assert statuses == ["status:progressive"]


# ----------------------------------------------------------------------------------------------
# sample sheet dates
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["2021-5-10", "10/05/2021", "2021-02-30", "soon"])
def test_a_bad_date_is_one_error_naming_line_and_field(tmp_path, bad, capsys):
    samples = [("P", "L1", "P_L1", "lesion", "PD", bad)]
    path = write_cohort(tmp_path, samples, [("P_L1", W557, 50, 100)])
    with pytest.raises(SampleSheetError) as info:
        lt.read_samplesheet(path)
    assert (info.value.where, info.value.field) == (2, "date")
    assert main(["classify", str(path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_undated_samples_of_a_dated_lesion_are_an_error(tmp_path):
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2019-03-01"),
               ("P", "L1", "P_L1b", "lesion", "PD", "")]
    path = write_cohort(tmp_path, samples, [("P_L1a", W557, 50, 100)])
    with pytest.raises(SampleSheetError, match="has no date") as info:
        lt.read_samplesheet(path)
    assert (info.value.where, info.value.field) == (3, "date")


def test_one_status_per_lesion_and_date(tmp_path):
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2021-05-10"),
               ("P", "L1", "P_L1b", "lesion", "PD", "2021-05-10")]
    path = write_cohort(tmp_path, samples, [("P_L1a", W557, 50, 100)])
    with pytest.raises(SampleSheetError, match="two statuses at one date"):
        lt.read_samplesheet(path)
    samples[0] = ("P", "L1", "P_L1a", "lesion", "SD", "2019-05-10")
    sheet = lt.read_samplesheet(write_cohort(tmp_path / "ok", samples,
                                             [("P_L1a", W557, 50, 100)]))
    assert sheet["date"].tolist() == ["2019-05-10", "2021-05-10"]


# ----------------------------------------------------------------------------------------------
# timeline
# ----------------------------------------------------------------------------------------------

def plasma_series(folder: Path) -> Path:
    """Four plasma draws, V654A emerging at 0.3% on 2021-01-15 before L1 is recorded
    progressive on 2021-05-10; L1 biopsied twice."""
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2019-03-01"),
               ("P", "L1", "P_L1b", "lesion", "PD", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "SD", "2021-05-10"),
               ("P", "plasma", "P_cf1", "plasma", "unknown", "2019-01-10"),
               ("P", "plasma", "P_cf2", "plasma", "SD", "2020-06-01"),
               ("P", "plasma", "P_cf3", "plasma", "SD", "2021-01-15"),
               ("P", "plasma", "P_cf4", "plasma", "PD", "2021-05-01")]
    reads = [("P_L1a", W557, 360, 800), ("P_L1a", V654A, 0, 800),
             ("P_L1b", W557, 450, 1000), ("P_L1b", V654A, 250, 1000),
             ("P_L2", W557, 400, 900), ("P_L2", V654A, 0, 900),
             ("P_cf1", W557, 400, 5000), ("P_cf1", V654A, 0, 5000),
             ("P_cf2", W557, 30, 6000), ("P_cf2", V654A, 0, 6000),
             ("P_cf3", W557, 80, 5000), ("P_cf3", V654A, 15, 5000),
             ("P_cf4", W557, 300, 6000), ("P_cf4", V654A, 90, 6000)]
    patients = ("patient_id\ttreatment_start_date\tpattern\n"
                "P\t2019-01-15\tfocal\n")
    return write_cohort(folder, samples, reads, patients)


def test_the_patient_json_has_the_timeline_and_the_lead_time(tmp_path):
    path = plasma_series(tmp_path / "in")
    out = tmp_path / "report"
    assert main(["-q", "report", str(path), "-o", str(out), "--patients",
                 str(tmp_path / "in" / "patients.tsv"), "--permutations", "99"]) == 0
    data = json.loads((out / "patients" / "P.json").read_text())
    timeline = data["timeline"]
    dates = [s["date"] for s in timeline["samples"]]
    assert dates == sorted(dates) and dates[0] == "2019-01-10"
    cf3 = next(s for s in timeline["samples"] if s["sample_id"] == "P_cf3")
    assert (cf3["role"], cf3["lesion_id"], cf3["status"]) == ("plasma", "plasma", "controlled")
    v654a = next(m for m in cf3["mutations"] if m["variant_key"] == key(V654A))
    assert v654a["state"] == "detected" and v654a["vaf"] == pytest.approx(0.003)
    assert timeline["treatment_start_date"] == "2019-01-15"
    assert timeline["progressive_dates"] == [{"lesion_id": "L1", "date": "2021-05-10"}]
    assert timeline["lead_times"] == [{
        "variant_key": key(V654A), "name": "KIT p.V654A", "first_plasma_date": "2021-01-15",
        "first_progressive_date": "2021-05-10", "lesion_id": "L1", "lead_days": 115}]
    page = (out / "patients" / "P.html").read_text()
    assert "Timeline: plasma and repeated biopsies" in page
    assert "115 days (3.8 months) before L1 was first recorded progressive" in page
    assert "<polyline" in page
    origins = pd.read_csv(out / "origins.tsv", sep="\t", keep_default_na=False)
    row = origins.set_index("variant_key").loc[key(V654A)]
    assert (row["first_detected_date"], row["first_detected_in"]) == ("2021-01-15", "P_cf3")
    # the pre-treatment draw is a baseline (the driver in it), and L1's history agrees
    assert row["rule"] == "lesion_history"
    assert "baseline=" not in row["flags"]


def test_at_works_on_calls_tables_which_carry_the_date(tmp_path):
    path = history_cohort(tmp_path)
    table = tmp_path / "table.tsv"
    assert main(["-q", "calls", str(path), "-o", str(table)]) == 0
    calls = pd.read_csv(table, sep="\t", dtype=str, keep_default_na=False)
    assert set(calls["date"]) == {"2019-03-01", "2021-05-10"}
    out = tmp_path / "origins.tsv"
    assert main(["-q", "classify", "--calls", str(table), "--at", "2020-01-01", "-o",
                 str(out)]) == 0
    assert key(V654A) not in set(pd.read_csv(out, sep="\t")["variant_key"])
    # a calls table written before the date column existed still reads (undated samples)
    old = tmp_path / "old.tsv"
    calls.drop(columns="date").to_csv(old, sep="\t", index=False)
    assert set(lt.read_calls_table(old)["date"]) == {""}


# ----------------------------------------------------------------------------------------------
# reviewer findings: plasma noise, history without the driver, plasma without a driver, dates
# ----------------------------------------------------------------------------------------------

NF1_R1000C = ("chr17", 31252085, "C", "T")  # NF1, no driver in the patient


def pre_treatment_plasma(folder: Path, v654a_alt: int) -> Path:
    """L1 progressive V654A 80/200, L2 controlled 0/200, driver in both; a pre-treatment
    plasma draw PL0 (2018-01-01, treatment from 2018-02-01) with the driver at 1% and V654A
    ``v654a_alt``/10000."""
    samples = [("P", "L1", "P_L1", "lesion", "PD", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "SD", "2021-05-10"),
               ("P", "plasma", "PL0", "plasma", "unknown", "2018-01-01")]
    reads = [("P_L1", W557, 90, 200), ("P_L1", V654A, 80, 200),
             ("P_L2", W557, 90, 200), ("P_L2", V654A, 0, 200),
             ("PL0", W557, 100, 10000), ("PL0", V654A, v654a_alt, 10000)]
    return write_cohort(folder, samples, reads,
                        "patient_id\ttreatment_start_date\nP\t2018-02-01\n")


def test_plasma_noise_uses_the_plasma_error_rate(tmp_path):
    assert lt.Thresholds().plasma_error_rate == 1e-4
    assert lt.Thresholds().for_role("plasma").error_rate == 1e-4
    assert lt.Thresholds().for_role("lesion").error_rate == 0.005
    path = pre_treatment_plasma(tmp_path, 9)
    patients = read_patients(tmp_path / "patients.tsv", require_outcomes=False)
    _, _, _, origins, _, per = analyse(path, patients=patients)
    pl0 = per[(per["sample_id"] == "PL0") & (per["variant_key"] == key(V654A))].iloc[0]
    # 9/10000 = 0.09% < 0.1%: not detected; far above a 0.01% error rate: low_level
    assert pl0.state == "low_level", pl0.reason
    row = origin(origins, V654A)
    assert "absent from baseline" not in row.evidence
    # 2/10000 is consistent with 1e-4 noise (p = 0.26): absent; at 5e-5 it is above noise
    path = pre_treatment_plasma(tmp_path / "two", 2)
    _, _, _, _, _, per = analyse(path, patients=patients)
    pl0 = per[(per["sample_id"] == "PL0") & (per["variant_key"] == key(V654A))].iloc[0]
    assert pl0.state == "absent", pl0.reason
    _, _, _, _, _, per = analyse(path, patients=patients,
                                 thresholds=lt.Thresholds(plasma_error_rate=1e-5))
    pl0 = per[(per["sample_id"] == "PL0") & (per["variant_key"] == key(V654A))].iloc[0]
    assert pl0.state == "low_level", pl0.reason
    # the option reaches the CLI's thresholds
    out = tmp_path / "origins.tsv"
    assert main(["classify", str(path), "--patients", str(tmp_path / "patients.tsv"),
                 "--plasma-error-rate", "0.00001", "-o", str(out)]) == 0
    rc = main(["classify", str(path), "--plasma-error-rate", "0", "-o", str(out)])
    assert rc == 2


def test_noise_level_alt_reads_do_not_stop_an_absence(tmp_path):
    """The noise test alone decides low_level: 3/10000 in plasma at a 1% error rate (as many
    reads as min_alt) is noise, so PL0 is absent where powered (9/10000 at the default 0.01% is
    low_level: test_plasma_noise_uses_the_plasma_error_rate)."""
    path = pre_treatment_plasma(tmp_path, 3)
    patients = read_patients(tmp_path / "patients.tsv", require_outcomes=False)
    _, _, _, _, _, per = analyse(path, patients=patients,
                                 thresholds=lt.Thresholds(plasma_error_rate=0.01))
    pl0 = per[(per["sample_id"] == "PL0") & (per["variant_key"] == key(V654A))].iloc[0]
    assert pl0.state == "absent", pl0.reason
    with pytest.raises(OptionError):
        lt.Thresholds(plasma_error_rate=0.0)


def test_an_earlier_biopsy_without_the_driver_is_not_history(tmp_path):
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2019-03-01"),
               ("P", "L1", "P_L1b", "lesion", "PD", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "SD", "2021-05-10")]
    reads = [("P_L1a", W557, 0, 800), ("P_L1a", V654A, 0, 800),
             ("P_L1b", W557, 450, 1000), ("P_L1b", V654A, 440, 1000),
             ("P_L2", W557, 400, 900), ("P_L2", V654A, 0, 900)]
    path = write_cohort(tmp_path, samples, reads)
    sheet = lt.read_samplesheet(path)
    sheet["purity"] = [0.6, None, None]
    calls = lt.read_calls(path)
    origins = lt.classify(calls, sheet)
    driver = origin(origins, W557)
    assert driver.rule != "lesion_history" and driver.origin != "secondary"
    row = origin(origins, V654A)
    assert row.rule != "lesion_history"
    assert "earlier biopsy uninformative/conflict (driver not detected)" in row["flags"]


def test_plasma_without_a_driver_is_not_evaluable(tmp_path):
    samples = [("P", "L1", "P_L1", "lesion", "PD", "2021-05-10"),
               ("P", "plasma", "PL0", "plasma", "unknown", "2018-01-01")]
    reads = [("P_L1", NF1_R1000C, 60, 300), ("PL0", NF1_R1000C, 0, 3000)]
    path = write_cohort(tmp_path, samples, reads,
                        "patient_id\ttreatment_start_date\nP\t2018-02-01\n")
    patients = read_patients(tmp_path / "patients.tsv", require_outcomes=False)
    sheet = lt.read_samplesheet(path)
    calls = lt.read_calls(path, genes="all")
    per = sample_states(calls, sheet)
    origins = lt.classify(calls, sheet, sample_states=per, patients=patients)
    pl0 = per[per["sample_id"] == "PL0"].iloc[0]
    assert pl0.state == "not_evaluable", pl0.reason
    assert "ctDNA fraction unknown" in pl0.reason
    l1 = per[per["sample_id"] == "P_L1"].iloc[0]
    assert l1.expected_vaf == pytest.approx(0.2)
    assert origins["variant_key"].tolist() == ["17:31252085:C>T"]
    assert origins["origin"].tolist() == ["undetermined"]
    assert "absent" not in origins["evidence"].iloc[0]


def test_a_later_biopsy_of_another_status_does_not_crash(tmp_path):
    samples = [("P", "L1", "P_L1a", "lesion", "SD", "2019-03-01"),
               ("P", "L1", "P_L1b", "lesion", "NE", "2021-05-10"),
               ("P", "L2", "P_L2", "lesion", "PD", "2021-05-10")]
    reads = [("P_L1a", W557, 360, 800), ("P_L1b", W557, 450, 1000), ("P_L2", W557, 400, 900)]
    path = write_cohort(tmp_path, samples, reads)
    statuses = lesion_statuses(lt.read_calls(path), lt.read_samplesheet(path))
    l1 = statuses[statuses["lesion_id"] == "L1"].iloc[0]
    assert l1.date == "2019-03-01"
    analyse(path)


def test_at_with_a_sheet_and_an_undated_calls_table_drops_the_later_samples(tmp_path):
    """The sheet dates the samples of a table written without dates: --at 2020-01-01 keeps the
    2019 biopsy only (the later samples were counted as undated, i.e. always)."""
    path = history_cohort(tmp_path)
    table = tmp_path / "table.tsv"
    assert main(["-q", "calls", str(path), "-o", str(table)]) == 0
    old = tmp_path / "old.tsv"
    pd.read_csv(table, sep="\t", dtype=str, keep_default_na=False).drop(columns="date").to_csv(
        old, sep="\t", index=False)
    out = tmp_path / "origins.tsv"
    assert main(["-q", "classify", str(path), "--calls", str(old), "--at", "2020-01-01", "-o",
                 str(out)]) == 0
    assert key(V654A) not in set(pd.read_csv(out, sep="\t")["variant_key"])
    assert main(["-q", "classify", str(path), "--calls", str(old), "--at", "2021-05-10", "-o",
                 str(out)]) == 0
    assert key(V654A) in set(pd.read_csv(out, sep="\t")["variant_key"])
