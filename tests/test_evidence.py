"""Evidence-aware origins (issue 13): absence with power, tumour content, consequence and
germline, and statistics that count only what was evaluated.

Each test writes a small cohort for itself (a sample sheet and one calls TSV, GRCh38) and reads
it the way a user does; the comments give the numbers a pathologist would check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scenarios import write_reads_cohort
from scipy import stats as sps

import lesiontrack as lt
from lesiontrack.cli import main
from lesiontrack.errors import SampleSheetError
from lesiontrack.evidence import detection_power, lesion_states

# GRCh38 sites (VCF-style alleles, as a caller writes them)
W557 = ("chr4", 54727434, "CAGTGGA", "C")  # KIT p.W557_K558del, exon 11: the driver
V654A = ("chr4", 54728092, "T", "C")  # KIT exon 13, resistance site
D816V = ("chr4", 54733155, "A", "T")  # KIT exon 17, resistance site
D816_SYN = ("chr4", 54733156, "C", "T")  # KIT c.2448C>T p.D816= (synonymous)
N822K = ("chr4", 54733174, "T", "G")  # KIT exon 17, resistance site
A829P = ("chr4", 54736498, "G", "C")  # KIT exon 18, resistance site (GRCh38)
V824_SYN = ("chr4", 54285873, "C", "T")  # PDGFRA c.2472C>T p.V824= (rs2228230)
INTRONIC = ("chr4", 54727600, "G", "A")  # KIT intron 11


def key(site) -> str:
    """The variant key of a site as the calls table writes it (minimal alleles)."""
    _chrom, pos, ref, alt = site
    if len(ref) > 1 and ref[0] == alt[0]:
        return f"4:{pos + 1}:{ref[1:]}>{alt[1:] or '-'}"
    return f"4:{pos}:{ref}>{alt}"


def write_cohort(folder: Path, samples: list[tuple], reads: list[tuple]) -> Path:
    """``samples``: (patient, lesion, sample, role, status[, purity]); ``reads``: (sample, site,
    alt, depth). Writes calls.tsv and samplesheet.tsv; returns the sheet's path."""
    return write_reads_cohort(folder, samples, reads, "purity")


def analyse(sheet_path: Path, *, thresholds: lt.Thresholds | None = None,
            count_all: bool = False):
    """(calls, sheet, states, origins, stats) of a written cohort."""
    sheet = lt.read_samplesheet(sheet_path)
    calls = lt.read_calls(sheet_path, thresholds=thresholds)
    states = lesion_states(calls, sheet, thresholds=thresholds)
    origins = lt.classify(calls, sheet, thresholds=thresholds, count_all=count_all,
                          states=states)
    stats = lt.test_clustering(origins, calls, samples=sheet, permutations=999, seed=1,
                               thresholds=thresholds, states=states)
    return calls, sheet, states, origins, stats


def origin(origins: pd.DataFrame, patient: str, site) -> pd.Series:
    rows = origins[(origins["patient_id"] == patient) & (origins["variant_key"] == key(site))]
    assert len(rows) == 1, origins[["patient_id", "variant_key"]]
    return rows.iloc[0]


def state(states: pd.DataFrame, patient: str, site, lesion: str) -> pd.Series:
    rows = states[(states["patient_id"] == patient) & (states["variant_key"] == key(site))
                  & (states["lesion_id"] == lesion)]
    assert len(rows) == 1
    return rows.iloc[0]


def focal(patient: str = "P", *, controlled_secondary=(0, 180), controlled_driver=(80, 180),
          extra_samples=(), extra_reads=()):
    """Driver everywhere, V654A at 25% in the progressive lesion, its site read in L2."""
    samples = [(patient, "L1", f"{patient}_L1", "lesion", "PD"),
               (patient, "L2", f"{patient}_L2", "lesion", "SD"), *extra_samples]
    reads = [(f"{patient}_L1", W557, 90, 200), (f"{patient}_L1", V654A, 50, 200),
             (f"{patient}_L2", W557, *controlled_driver),
             (f"{patient}_L2", V654A, *controlled_secondary), *extra_reads]
    return samples, reads


# ----------------------------------------------------------------------------------------------
# 1. absence is a measurement with power
# ----------------------------------------------------------------------------------------------

def test_four_states_with_their_reasons(tmp_path):
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD"),
               ("P", "L3", "L3", "lesion", "SD"), ("P", "L4", "L4", "lesion", "SD")]
    reads = [("L1", W557, 90, 200), ("L1", V654A, 50, 200),
             ("L2", W557, 80, 180), ("L2", V654A, 0, 180),  # absent
             ("L3", W557, 80, 180), ("L3", V654A, 5, 300),  # 5/300: above noise, < 2%
             ("L4", W557, 8, 15), ("L4", V654A, 0, 15)]  # depth 15
    _, _, states, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    assert state(states, "P", V654A, "L1").state == "detected"
    absent = state(states, "P", V654A, "L2")
    assert absent.state == "absent" and absent.power >= 0.95
    low = state(states, "P", V654A, "L3")
    assert low.state == "low_level" and "above noise" in low.reason
    shallow = state(states, "P", V654A, "L4")
    assert (shallow.state, shallow.reason) == ("not_evaluable", "depth 15")
    row = origin(origins, "P", V654A)
    assert row.lesions_absent == "L2" and row.lesions_not_evaluable == "L3,L4"


def test_two_alt_reads_are_noise_from_depth_72_at_a_half_percent_error_rate(tmp_path):
    # P(X >= 2 | Binomial(71, 0.005)) = 0.0495 < 0.05: above noise; at depth 72 it is 0.0508
    assert sps.binom.sf(1, 71, 0.005) < 0.05 < sps.binom.sf(1, 72, 0.005)
    samples, reads = focal(extra_samples=[("P", "L3", "P_L3", "lesion", "SD"),
                                          ("P", "L4", "P_L4", "lesion", "SD")],
                           extra_reads=[("P_L3", W557, 30, 71), ("P_L3", V654A, 2, 71),
                                        ("P_L4", W557, 30, 72), ("P_L4", V654A, 2, 72)])
    _, _, states, _, _ = analyse(write_cohort(tmp_path, samples, reads),
                                 thresholds=lt.Thresholds(min_power=0.5))
    assert state(states, "P", V654A, "L3").state == "low_level"
    assert state(states, "P", V654A, "L4").state == "absent"


def test_power_exactly_at_min_power_is_enough(tmp_path):
    samples, reads = focal(controlled_secondary=(0, 40), controlled_driver=(16, 40))
    path = write_cohort(tmp_path, samples, reads)
    _, _, states, _, _ = analyse(path)
    row = state(states, "P", V654A, "L2")
    # expected VAF = CCF in L1 (0.25/0.45) x tumour content of L2 (2 x 16/40) / 2
    assert row.expected_vaf == pytest.approx((50 / 200) / (90 / 200) * (2 * 16 / 40) / 2)
    power = float(detection_power([40], [row.expected_vaf], lt.Thresholds())[0])
    assert power == pytest.approx(sps.binom.sf(2, 40, row.expected_vaf))  # X >= max(3, 0.8)
    at = lt.Thresholds(min_power=power)
    above = lt.Thresholds(min_power=min(1.0, power + 1e-9))
    assert state(analyse(path, thresholds=at)[2], "P", V654A, "L2").state == "absent"
    over = state(analyse(path, thresholds=above)[2], "P", V654A, "L2")
    assert over.state == "not_evaluable" and over.reason.startswith("underpowered: P(detect) = ")


def test_power_is_zero_below_min_depth():
    assert detection_power([19, 20], [0.5, 0.5], lt.Thresholds(min_depth=20))[0] == 0.0
    assert detection_power([19, 20], [0.5, 0.5], lt.Thresholds(min_depth=20))[1] > 0.99


def test_the_driver_is_chosen_from_detection_alone(tmp_path):
    # the synonymous change at the D816 codon is in every lesion at high VAF but is not
    # protein-altering; the exon 11 deletion is the driver
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD")]
    reads = [("L1", W557, 60, 200), ("L2", W557, 50, 180),
             ("L1", D816_SYN, 100, 200), ("L2", D816_SYN, 90, 180)]
    _, _, states, _, _ = analyse(write_cohort(tmp_path, samples, reads))
    drivers = set(states.loc[states["is_driver"].astype(bool), "variant_key"])
    assert drivers == {key(W557)}


def test_without_a_known_driver_the_most_shared_mutation_is_the_driver(tmp_path):
    # exome-like data: no known primary region; the intronic change in every lesion is taken
    # as the truncal marker, the private one is not
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD"),
               ("P", "L3", "L3", "lesion", "SD")]
    reads = [("L1", INTRONIC, 80, 200), ("L2", INTRONIC, 70, 180), ("L3", INTRONIC, 60, 150),
             ("L1", V654A, 40, 200), ("L2", V654A, 0, 180), ("L3", V654A, 0, 150)]
    _, _, states, _, _ = analyse(write_cohort(tmp_path, samples, reads))
    drivers = set(states.loc[states["is_driver"].astype(bool), "variant_key"])
    assert drivers == {key(INTRONIC)}
    assert state(states, "P", V654A, "L2").tumour_content == pytest.approx(2 * 70 / 180)


def test_the_purity_column_gives_the_tumour_content(tmp_path):
    samples, reads = focal(controlled_driver=(80, 180))
    samples[1] = ("P", "L2", "P_L2", "lesion", "SD", 0.6)
    _, _, states, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = state(states, "P", V654A, "L2")
    assert (row.tumour_content, row.tumour_content_source) == (0.6, "purity column")
    assert row.expected_vaf == pytest.approx((50 / 200) / (90 / 200) * 0.6 / 2)
    assert "L2 60% (purity column)" in origin(origins, "P", V654A).evidence
    assert "L1 90% (2 x driver VAF)" in origin(origins, "P", V654A).evidence


@pytest.mark.parametrize("bad", ["1.5", "0", "-0.1", "sixty", "nan"])
def test_a_bad_purity_is_one_error_naming_line_and_field(tmp_path, bad, capsys):
    samples, reads = focal()
    samples[1] = ("P", "L2", "P_L2", "lesion", "SD", bad)
    path = write_cohort(tmp_path, samples, reads)
    with pytest.raises(SampleSheetError) as info:
        lt.read_samplesheet(path)
    assert (info.value.where, info.value.field) == (3, "purity")
    assert main(["classify", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "purity" in err


def test_ccf_above_1_2_is_flagged_and_clamped(tmp_path):
    # V654A at 60% while the driver is at 40%: CCF 1.5 (mutant-allele gain or wild-type loss)
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD")]
    reads = [("L1", W557, 80, 200), ("L1", V654A, 120, 200), ("L2", W557, 80, 200),
             ("L2", V654A, 0, 200)]
    _, _, states, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    assert state(states, "P", V654A, "L1").ccf == 1.0
    assert "CCF above 1.2 in L1 (1.50)" in origin(origins, "P", V654A)["flags"]


def test_without_driver_or_purity_the_expected_vaf_is_the_lowest_detected(tmp_path):
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "PD"),
               ("P", "L3", "L3", "lesion", "SD")]
    reads = [("L1", V654A, 40, 200), ("L2", V654A, 20, 200), ("L3", V654A, 0, 200)]
    _, _, states, _, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = state(states, "P", V654A, "L3")
    assert row.expected_vaf == pytest.approx(0.10) and row.state == "absent"
    assert row.tumour_content_source == "no driver, no purity"


def test_a_lesion_without_the_driver_is_evidence_of_absence_for_nothing(tmp_path):
    # controlled lesion with its driver at 2/150: nothing could have been seen there; the 25%
    # secondary elsewhere is not absent from it, and the lesion leaves the 2x2 table
    samples, reads = focal(controlled_secondary=(0, 150), controlled_driver=(2, 150))
    _, _, states, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    row = state(states, "P", V654A, "L2")
    assert row.state == "not_evaluable"
    assert row.reason == "low tumour content (driver KIT p.W557_K558del 2/150 reads)"
    assert state(states, "P", W557, "L2").reason.startswith("driver not detected here")
    assert origin(origins, "P", V654A).rule == "knowledge"  # sharing could not decide
    assert stats["lesion_table"]["controlled_not_evaluable"] == 1
    assert stats["lesion_table"]["controlled_without"] == 0


# ----------------------------------------------------------------------------------------------
# 2. origin rules that respect the states
# ----------------------------------------------------------------------------------------------

def test_a_low_tumour_content_baseline_does_not_make_the_driver_secondary(tmp_path):
    # the driver at 2/300 before treatment while every lesion has it at ~45%
    samples = [("P", "B", "B", "baseline", "baseline"), ("P", "L1", "L1", "lesion", "PD"),
               ("P", "L2", "L2", "lesion", "SD")]
    reads = [("B", W557, 2, 300), ("L1", W557, 90, 200), ("L2", W557, 88, 195),
             ("B", V654A, 0, 300), ("L1", V654A, 50, 200), ("L2", V654A, 0, 195)]
    _, _, states, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    driver = origin(origins, "P", W557)
    assert (driver.origin, driver.rule) == ("primary", "sharing")
    assert "baseline uninformative (low tumour content)" in driver["flags"]
    assert state(states, "P", W557, "B").state == "not_evaluable"
    secondary = origin(origins, "P", V654A)  # the baseline cannot say: sharing does
    assert (secondary.origin, secondary.rule) == ("secondary", "sharing")
    assert "baseline uninformative (low tumour content)" in secondary["flags"]


def test_a_powered_baseline_without_the_driver_is_a_conflict(tmp_path):
    samples = [("P", "B", "B", "baseline", "baseline", 0.8), ("P", "L1", "L1", "lesion", "PD"),
               ("P", "L2", "L2", "lesion", "SD")]
    reads = [("B", W557, 0, 300), ("L1", W557, 90, 200), ("L2", W557, 88, 195)]
    _, _, _, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", W557)
    assert (row.origin, row.rule) == ("primary", "sharing")
    assert row["flags"].startswith("baseline conflict: powered for the truncal driver and it is "
                                "absent (sample swap, or a driver that is not truncal)")


def test_a_subclone_present_before_treatment_that_expands_is_secondary(tmp_path):
    # baseline: driver 100/220 (45%), V654A 8/250 (3.2%, CCF ~0.07, interval far below 1);
    # progressive lesion: V654A at 40% beside a driver at 45% (CCF 0.89)
    samples = [("P", "B", "B", "baseline", "baseline"), ("P", "L1", "L1", "lesion", "PD"),
               ("P", "L2", "L2", "lesion", "SD")]
    reads = [("B", W557, 100, 220), ("B", V654A, 8, 250), ("L1", W557, 90, 200),
             ("L1", V654A, 80, 200), ("L2", W557, 80, 180), ("L2", V654A, 0, 180)]
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", V654A)
    assert (row.origin, row.rule, bool(row.counted)) == ("secondary", "baseline", True)
    assert "pre-existing subclone in baseline (VAF 3.2%)" in row["flags"]
    assert "CCF 0.89" in row.evidence
    assert stats["lesion_table"]["progressive_with_secondary"] == 1


def test_a_clonal_mutation_in_every_lesion_is_truncal(tmp_path):
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD")]
    reads = [("L1", W557, 90, 200), ("L1", D816V, 85, 200),
             ("L2", W557, 80, 180), ("L2", D816V, 76, 180)]
    _, _, _, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", D816V)
    assert (row.origin, row.rule) == ("primary", "sharing")
    assert "L1 (85/200 reads, CCF 0.94)" in row.evidence
    assert "knowledge=secondary" in row["flags"]


def test_subclonal_traces_in_a_controlled_lesion_are_flagged_not_truncal(tmp_path):
    # clonal in the progressive lesion; 5/300 reads (1.7%) in the controlled one: above a 0.5%
    # noise (p = 0.018) but below the 2% threshold, a low-level trace
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD")]
    reads = [("L1", W557, 90, 200), ("L1", D816V, 85, 200),
             ("L2", W557, 140, 300), ("L2", D816V, 5, 300)]
    _, _, states, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    assert state(states, "P", D816V, "L2").state == "low_level"
    row = origin(origins, "P", D816V)  # not silently truncal
    assert ("subclonal traces in controlled lesion(s) L2 under a clonal presence in "
            "progressive lesion(s)") in row["flags"]
    assert (row.origin, row.rule) == ("secondary", "knowledge")


# ----------------------------------------------------------------------------------------------
# 3. consequence and germline
# ----------------------------------------------------------------------------------------------

def test_a_synonymous_change_at_a_hotspot_codon_is_not_a_resistance_site(tmp_path):
    samples, reads = focal(extra_reads=[("P_L1", D816_SYN, 40, 200), ("P_L2", D816_SYN, 0, 180)])
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", D816_SYN)
    assert row.hgvsp == "p.D816=" and row.consequence == "synonymous"
    assert "resistance site" not in row.evidence and "knowledge" not in row["flags"]
    assert (bool(row.counted), row.not_counted_reason) == (False, "synonymous")
    # the lesion table names only the counted secondary
    assert stats["lesion_table"]["progressive_with_secondary"] == 1


def test_pdgfra_v824_synonymous_is_a_germline_polymorphism(tmp_path):
    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD")]
    reads = [("L1", V824_SYN, 100, 200), ("L2", V824_SYN, 92, 190),
             ("L1", W557, 90, 200), ("L2", W557, 80, 180)]
    _, _, _, origins, _ = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", V824_SYN)
    assert (row.origin, row.rule) == ("germline", "polymorphism")
    assert "rs2228230" in row.evidence
    assert (bool(row.counted), row.not_counted_reason) == (False, "germline")


@pytest.mark.parametrize(("alt", "germline"), [(25, True), (24, False)])
def test_a_matched_normal_from_vaf_25_percent_makes_germline(tmp_path, alt, germline):
    samples, reads = focal(extra_samples=[("P", "N", "P_N", "normal", "unknown")],
                           extra_reads=[("P_N", D816V, alt, 100), ("P_L1", D816V, 60, 200),
                                        ("P_L2", D816V, 55, 180)])
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", D816V)
    if germline:
        assert (row.origin, row.rule) == ("germline", "matched_normal")
        assert not row.counted
    else:
        assert row.origin != "germline"
        assert f"tumour-in-normal contamination (VAF {alt}% in normal N)" in row["flags"]
    # a normal sample is never a lesion
    assert stats["n_lesions_tested"] + stats["lesion_table"]["controlled_not_evaluable"] + (
        stats["lesion_table"]["progressive_not_evaluable"]) == 2


def test_a_private_intronic_variant_is_listed_but_not_counted(tmp_path):
    samples, reads = focal(extra_reads=[("P_L2", INTRONIC, 40, 180), ("P_L1", INTRONIC, 0, 200)])
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    row = origin(origins, "P", INTRONIC)
    assert row.consequence == "intronic" and row.origin == "secondary"
    assert (bool(row.counted), row.not_counted_reason) == (False, "intronic")
    assert stats["lesion_table"]["controlled_with_secondary"] == 0
    # --count-all restores counting everything
    _, _, _, everything, stats_all = analyse(write_cohort(tmp_path, samples, reads),
                                             count_all=True)
    assert bool(origin(everything, "P", INTRONIC).counted)
    assert stats_all["lesion_table"]["controlled_with_secondary"] == 1


def test_an_unknown_consequence_is_counted_and_flagged():
    from scenarios import V654A as V654A_ROW
    from scenarios import W557 as W557_ROW
    from scenarios import call, table

    rows = [call("P", "L1", "progressive", W557_ROW, 90, 200),
            call("P", "L1", "progressive", V654A_ROW, 50, 200),
            call("P", "L2", "controlled", W557_ROW, 80, 180),
            call("P", "L2", "controlled", V654A_ROW, 0, 180)]
    calls = table(rows)
    calls["consequence"] = "unknown"
    row = lt.classify(calls)
    row = row[row["hgvsp"] == "p.V654A"].iloc[0]
    assert bool(row.counted) and "consequence unknown" in row["flags"]


# ----------------------------------------------------------------------------------------------
# 4. statistics that count only what was evaluated
# ----------------------------------------------------------------------------------------------

def test_a_shallow_controlled_lesion_is_not_evaluable_and_left_out(tmp_path):
    samples, reads = focal(extra_samples=[("P", "L3", "P_L3", "lesion", "SD")],
                           extra_reads=[("P_L3", W557, 6, 12), ("P_L3", V654A, 0, 15)])
    _, _, states, _, stats = analyse(write_cohort(tmp_path, samples, reads))
    assert state(states, "P", V654A, "L3").reason == "depth 15"
    assert stats["lesion_table"] == {
        "progressive_with_secondary": 1, "progressive_without": 0,
        "controlled_with_secondary": 0, "controlled_without": 1,
        "progressive_not_evaluable": 0, "controlled_not_evaluable": 1}
    assert stats["n_lesions_tested"] == 2 and stats["n_lesions_not_evaluable"] == 1
    patient = stats["patients"][0]
    assert patient["confinement"] == "confined"
    assert patient["secondary_confined_to_progressive"] is True


def test_confinement_is_not_assessable_without_an_evaluable_controlled_lesion(tmp_path):
    samples, reads = focal(controlled_secondary=(0, 14))  # the only controlled lesion: depth 14
    _, _, _, _, stats = analyse(write_cohort(tmp_path, samples, reads))
    patient = stats["patients"][0]
    assert patient["confinement"] == "not_assessable"
    assert patient["secondary_confined_to_progressive"] is None


def test_a_secondary_seen_only_in_plasma_is_not_assessable(tmp_path):
    samples = [("P", "L1", "P_L1", "lesion", "PD"), ("P", "L2", "P_L2", "lesion", "SD"),
               ("P", "ctDNA", "P_ct", "plasma", "unknown")]
    reads = [("P_L1", W557, 90, 200), ("P_L2", W557, 80, 180), ("P_ct", W557, 20, 1000),
             ("P_ct", N822K, 25, 1000), ("P_L1", N822K, 0, 200), ("P_L2", N822K, 0, 180)]
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    assert origin(origins, "P", N822K).origin == "secondary"
    patient = stats["patients"][0]
    assert patient["confinement"] == "not_assessable"
    assert patient["secondary_confined_to_progressive"] is None


def test_a_patient_without_secondary_counts_lesions_powered_for_a_clonal_mutation(tmp_path):
    samples = [("Q", "L1", "Q_L1", "lesion", "PD"), ("Q", "L2", "Q_L2", "lesion", "SD"),
               ("Q", "L3", "Q_L3", "lesion", "SD")]
    reads = [("Q_L1", W557, 90, 200), ("Q_L2", W557, 80, 180), ("Q_L3", W557, 3, 30)]
    _, _, _, _, stats = analyse(write_cohort(tmp_path, samples, reads))
    # L3: tumour content 2 x 10% = 20%; a clonal mutation at 10% in 30 reads: P(>= 3) = 0.59
    assert stats["lesion_table"]["progressive_without"] == 1
    assert stats["lesion_table"]["controlled_without"] == 1
    assert stats["lesion_table"]["controlled_not_evaluable"] == 1
    assert stats["patients"][0]["confinement"] == "no_secondary"


def test_four_private_secondaries_in_one_patient_give_within_patient_p_1(tmp_path):
    # one patient, four progressive lesions each with its own secondary; another patient with
    # four controlled lesions: pooled Fisher p = 1/C(8,4) = 0.014, the honest answer p = 1
    sites = [V654A, D816V, N822K, A829P]
    samples, reads = [], []
    for number, site in enumerate(sites, start=1):
        sample = f"A_L{number}"
        samples.append(("A", f"L{number}", sample, "lesion", "PD"))
        reads.append((sample, W557, 90, 200))
        for other in sites:
            reads.append((sample, other, 50 if other == site else 0, 200))
    for number in range(1, 5):
        samples.append(("B", f"L{number}", f"B_L{number}", "lesion", "SD"))
        reads.append((f"B_L{number}", W557, 90, 200))
    _, _, _, origins, stats = analyse(write_cohort(tmp_path, samples, reads))
    assert set(origins.loc[origins["patient_id"] == "A", "origin"]) == {"primary", "secondary"}
    assert stats["fisher"]["p_value"] == pytest.approx(1 / 70)
    assert stats["permutation"]["exact_p_value"] == pytest.approx(1.0)
    assert stats["permutation"]["informative_patients"] == 0
    assert stats["informative_patients"] == 0
    assert next(iter(stats)) == "permutation"  # the headline first in the JSON
    assert stats["fisher"]["descriptive"] is True and "not independent" in stats["fisher"]["note"]
    text = json.dumps(stats)
    assert text.index('"permutation"') < text.index('"fisher"')


def test_the_stats_text_puts_the_within_patient_test_first(tmp_path, capsys):
    samples, reads = focal()
    path = write_cohort(tmp_path, samples, reads)
    assert main(["stats", str(path), "--permutations", "99"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Within-patient permutation test (the headline")
    fisher = next(line for line in lines if line.startswith("Fisher"))
    assert "descriptive" in fisher


# ----------------------------------------------------------------------------------------------
# 5. options
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["classify", "graph", "stats", "outcomes", "report"])
def test_every_classifying_command_takes_the_evidence_options(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "--error-rate" in text and "--min-power" in text and "--count-all" in text


def test_the_calls_command_does_not_take_them(capsys):
    with pytest.raises(SystemExit):
        main(["calls", "--help"])
    assert "--min-power" not in capsys.readouterr().out


def test_min_power_and_count_all_reach_the_result(tmp_path, capsys):
    samples, reads = focal(controlled_secondary=(0, 40), controlled_driver=(16, 40),
                           extra_reads=[("P_L2", INTRONIC, 40, 180), ("P_L1", INTRONIC, 0, 200)])
    path = write_cohort(tmp_path, samples, reads)
    assert main(["classify", str(path), "-o", str(tmp_path / "a.tsv")]) == 0
    assert main(["classify", str(path), "--min-power", "0.999", "--count-all",
                 "-o", str(tmp_path / "b.tsv")]) == 0
    a = pd.read_csv(tmp_path / "a.tsv", sep="\t", keep_default_na=False)
    b = pd.read_csv(tmp_path / "b.tsv", sep="\t", keep_default_na=False)
    v654a = key(V654A)
    assert a.set_index("variant_key").loc[v654a, "lesions_absent"] == "L2"
    assert b.set_index("variant_key").loc[v654a, "lesions_absent"] == ""
    assert not a.set_index("variant_key").loc[key(INTRONIC), "counted"]
    assert b.set_index("variant_key").loc[key(INTRONIC), "counted"]
    assert main(["classify", str(path), "--min-power", "1.5"]) == 2
    assert "min_power" in capsys.readouterr().err


def test_the_report_matrix_shows_the_decided_state_and_tells_low_level_apart(tmp_path):
    from lesiontrack.report.render import Lesion, _cell, _sample_calls, _states_of

    samples = [("P", "L1", "L1", "lesion", "PD"), ("P", "L2", "L2", "lesion", "SD"),
               ("P", "L3", "L3", "lesion", "SD")]
    reads = [("L1", W557, 90, 200), ("L1", D816V, 85, 200), ("L2", W557, 140, 300),
             ("L2", D816V, 5, 300), ("L3", W557, 80, 180), ("L3", D816V, 0, 180)]
    calls, _, states, _, _ = analyse(write_cohort(tmp_path, samples, reads))
    rows, decided = _sample_calls(calls), _states_of(states)
    cells = {}
    for lesion in ("L2", "L3"):
        spec = Lesion(lesion_id=lesion, role="lesion", status="controlled", status_raw="SD",
                      site="", timepoint="", samples=[lesion])
        cells[lesion] = _cell(spec, "secondary", rows[("P", key(D816V), lesion)],
                              decided[("P", key(D816V), lesion)])
    assert (cells["L2"].state, cells["L3"].state) == ("low_level", "absent")
    assert "cell-low" in cells["L2"].css and "cell-abs" not in cells["L2"].css
    assert cells["L3"].css == "cell-abs" and "P(detect) = 1.00" in cells["L3"].title
    assert cells["L2"].record("k")["state"] == "low_level"


def test_a_matched_normal_is_read_with_its_role_and_cannot_progress(tmp_path):
    samples, reads = focal(extra_samples=[("P", "N", "P_N", "normal", "unknown")],
                           extra_reads=[("P_N", W557, 0, 100)])
    sheet = lt.read_samplesheet(write_cohort(tmp_path / "ok", samples, reads))
    normal = sheet[sheet["sample_id"] == "P_N"].iloc[0]
    assert (normal.role, normal.status) == ("normal", "unknown")
    assert pd.isna(sheet.loc[sheet["sample_id"] == "P_L1", "purity"]).all()
    samples[-1] = ("P", "N", "P_N", "normal", "PD")
    with pytest.raises(SampleSheetError) as info:
        lt.read_samplesheet(write_cohort(tmp_path / "bad", samples, reads))
    assert (info.value.where, info.value.field) == (4, "status")
