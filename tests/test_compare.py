"""Origin rules: baseline, sharing, knowledge, none, with flags and evidence."""

from __future__ import annotations

import pandas as pd
from scenarios import D816V, INTRONIC, V654A, W557, call, focal_patient, table

from lesiontrack import Thresholds, classify


def origin_of(origins: pd.DataFrame, patient: str, variant) -> pd.Series:
    key = f"{variant[0]}:{variant[1]}:{variant[2]}>{variant[3]}"
    rows = origins[(origins["patient_id"] == patient) & (origins["variant_key"] == key)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_mutation_absent_from_baseline_and_seen_in_progressive_lesion_is_secondary():
    origins = classify(table(focal_patient()))
    row = origin_of(origins, "P1", V654A)
    assert (row.origin, row.rule) == ("secondary", "baseline")
    assert row.evidence.startswith(
        "absent from baseline B (0/180 reads; P(detect) = 1.00 at expected VAF 18.3%); "
        "detected in L1 (30/150 reads, CCF 0.46)")
    assert "tumour content: B 80% (2 x driver VAF)" in row.evidence
    assert row.lesions_detected == "L1"
    assert row.lesions_absent == "L2"  # one read in L2 is below min-alt: absent, evaluable
    assert row["flags"] == ""  # sharing and knowledge agree


def test_mutation_in_baseline_is_primary():
    row = origin_of(classify(table(focal_patient())), "P1", W557)
    assert (row.origin, row.rule) == ("primary", "baseline")
    assert row.evidence.startswith("detected in baseline B (60/150 reads, CCF 1.00)")
    assert row.lesions_detected == "L1,L2"


def test_known_resistance_site_present_before_treatment_is_primary_and_flagged():
    rows = [call("P", "B", "baseline", D816V, 40, 150), call("P", "L1", "progressive", D816V, 50, 150)]
    row = origin_of(classify(table(rows)), "P", D816V)
    assert (row.origin, row.rule) == ("primary", "baseline")
    assert "knowledge=secondary" in row["flags"]


def test_baseline_not_evaluable_falls_through_to_sharing():
    rows = [
        call("P", "B", "baseline", V654A, 0, 5),  # too shallow to count as absence
        call("P", "L1", "progressive", V654A, 30, 150),
        call("P", "L2", "controlled", V654A, 0, 150),
    ]
    row = origin_of(classify(table(rows)), "P", V654A)
    assert (row.origin, row.rule) == ("secondary", "sharing")
    assert "baseline B (depth 5) not evaluable" in row.evidence


def test_mutation_in_every_lesion_is_truncal_primary_by_sharing():
    rows = [call("P", "L1", "progressive", W557, 50, 100),
            call("P", "L2", "controlled", W557, 40, 100)]
    row = origin_of(classify(table(rows)), "P", W557)
    assert (row.origin, row.rule, row["flags"]) == ("primary", "sharing", "")
    assert row.evidence.startswith(
        "detected in every lesion: L1 (50/100 reads, CCF 1.00), L2 (40/100 reads, CCF 1.00)")


def test_sharing_disagreeing_with_knowledge_is_flagged():
    # a resistance-site mutation in every lesion, clonal: sharing says primary, knowledge not
    rows = [call("P", "L1", "progressive", D816V, 50, 100),
            call("P", "L2", "controlled", D816V, 40, 120)]
    row = origin_of(classify(table(rows)), "P", D816V)
    assert (row.origin, row.rule) == ("primary", "sharing")
    assert row["flags"].startswith("knowledge=secondary")


def test_a_driver_missing_from_a_lesion_is_low_tumour_content_not_secondary():
    # the truncal driver absent from one lesion says the lesion's tumour content is low (or a
    # swap): it is evidence of absence for nothing, and the driver stays primary
    rows = [call("P", "L1", "progressive", W557, 50, 100),
            call("P", "L2", "controlled", W557, 0, 120)]
    row = origin_of(classify(table(rows)), "P", W557)
    assert (row.origin, row.rule) == ("primary", "knowledge")
    assert row.lesions_not_evaluable == "L2"
    assert "driver not detected here (0/120 reads): low tumour content or a sample swap" in (
        row.evidence)


def test_unevaluable_lesion_sends_the_call_to_knowledge():
    # single-sample callers: L2 has no record of V654A at all -> not evaluable
    rows = [call("P", "L1", "progressive", V654A, 30, 150),
            call("P", "L1", "progressive", W557, 50, 150),
            call("P", "L2", "controlled", W557, 50, 150)]
    row = origin_of(classify(table(rows)), "P", V654A)
    assert (row.origin, row.rule) == ("secondary", "knowledge")
    assert row.lesions_not_evaluable == "L2"
    assert "known imatinib-resistance site" in row.evidence
    assert "not evaluable in L2" in row.evidence


def test_no_rule_decides_an_intronic_private_mutation_without_evidence():
    rows = [call("P", "L1", "progressive", INTRONIC, 30, 150),
            call("P", "L2", "controlled", W557, 50, 150)]
    row = origin_of(classify(table(rows)), "P", INTRONIC)
    assert (row.origin, row.rule) == ("undetermined", "none")


def test_single_lesion_patient_uses_knowledge_only():
    rows = [call("P", "L1", "progressive", V654A, 30, 150),
            call("P", "L1", "progressive", INTRONIC, 30, 150)]
    origins = classify(table(rows))
    assert origin_of(origins, "P", V654A).rule == "knowledge"
    assert origin_of(origins, "P", INTRONIC).origin == "undetermined"


def test_multi_region_lesion_detects_when_any_region_does():
    rows = [
        call("P", "L1", "progressive", V654A, 0, 150, sample="R1"),
        call("P", "L1", "progressive", V654A, 12, 160, sample="R2"),
        call("P", "L2", "controlled", V654A, 0, 150),
    ]
    row = origin_of(classify(table(rows)), "P", V654A)
    assert (row.origin, row.rule) == ("secondary", "sharing")
    assert "L1 (1 of 2 samples; best 12/160 reads)" in row.evidence


def test_undetected_mutations_get_no_row():
    rows = [call("P", "L1", "progressive", V654A, 1, 150), call("P", "L2", "controlled", W557, 40, 150)]
    origins = classify(table(rows))
    assert list(origins["variant_key"]) == ["4:54727435:AGTGGA>-"]


def test_lesions_without_calls_come_from_the_sample_sheet():
    rows = [call("P", "L1", "progressive", V654A, 30, 150)]
    sheet = pd.DataFrame({"patient_id": ["P", "P"], "lesion_id": ["L1", "L2"],
                          "role": ["lesion", "lesion"]})
    row = origin_of(classify(table(rows), sheet), "P", V654A)
    assert row.lesions_not_evaluable == "L2"


def test_thresholds_are_parameters():
    rows = [call("P", "L1", "progressive", V654A, 4, 100), call("P", "L2", "controlled", V654A, 0, 100)]
    assert len(classify(table(rows))) == 1
    assert classify(table(rows), thresholds=Thresholds(min_alt=5)).empty


def test_row_order_and_unrelated_patients_change_nothing():
    base = focal_patient("P1") + [call("P2", "L1", "progressive", D816V, 30, 100),
                                  call("P2", "L2", "controlled", D816V, 0, 100)]
    extra = [call("P3", "L1", "progressive", V654A, 20, 100)]
    first = classify(table(base))
    shuffled = classify(table(list(reversed(base)) + extra))
    shuffled = shuffled[shuffled["patient_id"] != "P3"].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, shuffled)
