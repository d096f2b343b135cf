"""Resistance per patient and heterogeneity across the cohort, on small hand-counted tables."""

from __future__ import annotations

import pandas as pd
import pytest

from lesiontrack.errors import LesionTrackError
from lesiontrack.genome.drugs import DRUGS, activity_string, drug_activity
from lesiontrack.resistance import (
    RESISTANCE_COLUMNS,
    coverage_grid,
    heterogeneity,
    heterogeneity_words,
    patient_resistance,
    polyclonal_pairs,
)

# name -> (gene, codon, region) of the secondary mutations used below
SITES = {
    "V654A": ("KIT", 654, "ATP-binding pocket"),
    "T670I": ("KIT", 670, "ATP-binding pocket"),
    "D816V": ("KIT", 816, "activation loop"),
    "D816H": ("KIT", 816, "activation loop"),
    "D820Y": ("KIT", 820, "activation loop"),
    "N822K": ("KIT", 822, "activation loop"),
    "Y823D": ("KIT", 823, "activation loop"),
    "A829P": ("KIT", 829, "activation loop"),
}
STATE = {"+": "detected", "-": "absent", "?": "not_evaluable", "~": "low_level"}


def rows(patient: str, layout: dict[str, dict[str, str]],
         status: dict[str, str] | None = None) -> list[dict]:
    """One patient: {lesion: {mutation: '+' detected, '-' absent, '?' n.e., '~' low level}}."""
    out = []
    for lesion, marks in layout.items():
        for mutation, mark in marks.items():
            gene, codon, region = SITES[mutation]
            found = drug_activity(gene, codon, f"p.{mutation}", "missense")
            out.append({
                "patient_id": patient, "lesion_id": lesion,
                "status": (status or {}).get(lesion, "progressive"),
                "variant_key": f"4:{codon}:{mutation}", "name": f"{gene} p.{mutation}",
                "gene": gene, "region": region, "state": STATE[mark],
                "drug_activity": activity_string(found),
            })
    return out


def table(*patients: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for p in patients for r in p])


# ---- drug coverage ---------------------------------------------------------------------------

def test_v654a_in_one_lesion_and_d816v_in_another_is_covered_by_no_single_drug():
    t = table(rows("P1", {"L1": {"V654A": "+", "D816V": "-"},
                          "L2": {"V654A": "-", "D816V": "+"}}))
    got = patient_resistance(t)["P1"]
    assert got["drugs_covering_all_secondary_lesions"] == []
    cov = got["drug_coverage"]
    assert cov["imatinib"] == {"covered": [], "not_covered": ["L1", "L2"], "unknown": []}
    assert cov["sunitinib"] == {"covered": ["L1"], "not_covered": ["L2"], "unknown": []}
    assert cov["regorafenib"] == {"covered": [], "not_covered": ["L1"], "unknown": ["L2"]}
    assert cov["ripretinib"] == {"covered": ["L2"], "not_covered": ["L1"], "unknown": []}
    assert cov["avapritinib"] == {"covered": ["L2"], "not_covered": [], "unknown": ["L1"]}
    grid = coverage_grid(got)
    assert list(grid.index) == ["L1", "L2"] and list(grid.columns) == list(DRUGS)
    assert grid.loc["L1", "sunitinib"] == "covered" and grid.loc["L2", "sunitinib"] == (
        "not_covered")


def test_one_drug_covers_activation_loop_lesions_and_a_mixed_lesion_is_not_covered():
    t = table(rows("P1", {"L1": {"D820Y": "+"}, "L2": {"N822K": "+", "A829P": "+"}}),
              rows("P2", {"L1": {"V654A": "+", "D820Y": "+"}}))
    got = patient_resistance(t)
    assert got["P1"]["drugs_covering_all_secondary_lesions"] == ["regorafenib", "ripretinib"]
    # one resistant or reduced secondary in the lesion is enough to leave it uncovered
    mixed = got["P2"]["drug_coverage"]
    assert mixed["sunitinib"]["not_covered"] == ["L1"]
    assert mixed["ripretinib"]["not_covered"] == ["L1"]  # V654A: reduced
    assert got["P2"]["drugs_covering_all_secondary_lesions"] == []


def test_unknown_activity_leaves_the_lesion_unknown_not_covered():
    # D816H: regorafenib and avapritinib not established
    t = table(rows("P1", {"L1": {"D816H": "+"}}))
    cov = patient_resistance(t)["P1"]["drug_coverage"]
    assert cov["regorafenib"] == {"covered": [], "not_covered": [], "unknown": ["L1"]}
    assert cov["avapritinib"]["unknown"] == ["L1"]
    # no drug_activity column at all: every drug unknown
    bare = t.drop(columns="drug_activity")
    cov = patient_resistance(bare)["P1"]["drug_coverage"]
    assert all(cov[d]["unknown"] == ["L1"] for d in DRUGS)


def test_only_detected_secondaries_judge_a_lesion():
    # D816V low level in L1 does not make sunitinib uncovered there
    t = table(rows("P1", {"L1": {"V654A": "+", "D816V": "~"}}))
    got = patient_resistance(t)["P1"]
    assert got["drug_coverage"]["sunitinib"]["covered"] == ["L1"]
    assert got["n_distinct_secondaries"] == 1


# ---- per patient -------------------------------------------------------------------------------

def test_per_patient_counts_and_lists():
    t = table(rows("P1", {"L1": {"V654A": "+", "D816V": "+", "N822K": "-"},
                          "L2": {"V654A": "+", "D816V": "-", "N822K": "?"},
                          "L10": {"V654A": "-", "D816V": "-", "N822K": "+"},
                          "L3": {"V654A": "?", "D816V": "~", "N822K": "-"}}))
    got = patient_resistance(t, patients=["P0"])
    assert list(got) == ["P0", "P1"]
    p1 = got["P1"]
    assert p1["n_distinct_secondaries"] == 3
    assert p1["secondary_lesions"] == ["L1", "L2", "L10"]  # natural order, L3 carries none
    assert p1["n_lesions_with_two_or_more_secondaries"] == 1
    assert p1["recurrent_secondaries"] == ["KIT p.V654A"]
    assert p1["regions"] == ["ATP-binding pocket", "activation loop"]
    assert got["P0"] == {
        "n_distinct_secondaries": 0, "secondary_lesions": [],
        "n_lesions_with_two_or_more_secondaries": 0, "recurrent_secondaries": [],
        "regions": [], "drug_coverage": {d: {"covered": [], "not_covered": [], "unknown": []}
                                         for d in DRUGS},
        "drugs_covering_all_secondary_lesions": [],
    }


def test_several_samples_of_one_lesion_keep_the_strongest_state():
    t = table(rows("P1", {"L1": {"V654A": "-"}}), rows("P1", {"L1": {"V654A": "+"}}),
              rows("P1", {"L2": {"V654A": "+"}}))
    assert patient_resistance(t)["P1"]["recurrent_secondaries"] == ["KIT p.V654A"]


def test_a_secondary_without_region_is_other():
    t = table(rows("P1", {"L1": {"V654A": "+"}}))
    t["region"] = ""
    assert patient_resistance(t)["P1"]["regions"] == ["other"]
    assert heterogeneity(t)["secondaries_by_region"] == {"other": 1}


# ---- heterogeneity -----------------------------------------------------------------------------

def liegl_cohort() -> tuple[pd.DataFrame, list[str]]:
    """A cohort modelled on Liegl et al. 2008: 11 patients with a primary KIT mutation, 9 with
    secondary mutations, 6 with different secondaries in separate lesions, 3 with two in one
    lesion. The paper does not say whether the 6 and the 3 overlap: this cohort is built WITHOUT
    overlap (P1-P6 polyclonal across lesions, never two in one lesion; P7-P9 two in one lesion,
    never polyclonal across lesions). P10 and P11 have a primary and no secondary (no rows)."""
    return table(
        rows("P1", {"L1": {"V654A": "+", "D816V": "-"}, "L2": {"V654A": "-", "D816V": "+"}}),
        rows("P2", {"L1": {"V654A": "+", "D820Y": "-", "N822K": "-"},
                    "L2": {"V654A": "-", "D820Y": "+", "N822K": "-"},
                    "L3": {"V654A": "-", "D820Y": "-", "N822K": "+"}}),
        # five different secondaries, one per metastasis
        rows("P3", {f"L{i}": {m: ("+" if j == i else "-") for j, m in enumerate(
            ["V654A", "T670I", "D816H", "N822K", "Y823D"], start=1)} for i in range(1, 6)}),
        # T670I recurrent (L1, L3), N822K in L2 only
        rows("P4", {"L1": {"T670I": "+", "N822K": "-"}, "L2": {"T670I": "-", "N822K": "+"},
                    "L3": {"T670I": "+", "N822K": "?"}}),
        rows("P5", {"L1": {"V654A": "+", "D820Y": "-"}, "L2": {"V654A": "-", "D820Y": "+"},
                    "L3": {"V654A": "?", "D820Y": "+"}}),
        rows("P6", {"L1": {"Y823D": "+", "V654A": "-"}, "L2": {"Y823D": "-", "V654A": "+"}},
             status={"L2": "controlled"}),
        # two in one lesion, nowhere one without the other
        rows("P7", {"L1": {"V654A": "+", "D816V": "+"}, "L2": {"V654A": "-", "D816V": "-"}}),
        # two in L1; T670I also in L2 where N822K is only not evaluable: not polyclonal
        rows("P8", {"L1": {"T670I": "+", "N822K": "+"}, "L2": {"T670I": "+", "N822K": "?"}}),
        # two in each of two lesions
        rows("P9", {"L1": {"V654A": "+", "D820Y": "+"}, "L2": {"V654A": "+", "D820Y": "+"},
                    "L3": {"V654A": "-", "D820Y": "-"}}),
    ), [f"P{i}" for i in range(1, 12)]


def test_heterogeneity_matches_the_hand_counted_liegl_cohort():
    t, patients = liegl_cohort()
    got = heterogeneity(t)
    assert got == {
        "n_patients_with_secondary": 9,
        "n_patients_polyclonal_across_lesions": 6,
        "n_patients_two_in_one_lesion": 3,
        "n_lesions_with_two_or_more": 4,  # P7 L1, P8 L1, P9 L1 and L2
        # distinct secondaries per patient: ATP pocket P1 1, P2 1, P3 2, P4 1, P5 1, P6 1,
        # P7 1, P8 1, P9 1 = 10; activation loop P1 1, P2 2, P3 3, P4 1, P5 1, P6 1, P7 1,
        # P8 1, P9 1 = 12
        "secondaries_by_region": {"ATP-binding pocket": 10, "activation loop": 12},
    }
    assert heterogeneity_words(got) == (
        "6 of 9 patients with secondary mutations carry different ones in separate lesions; "
        "3 have two or more in one lesion (4 lesions).")
    per_patient = patient_resistance(t, patients=patients)
    assert len(per_patient) == 11
    assert sum(1 for p in per_patient.values() if p["n_distinct_secondaries"]) == 9
    assert [p for p, r in per_patient.items() if r["n_lesions_with_two_or_more_secondaries"]] == [
        "P7", "P8", "P9"]
    assert sorted(polyclonal_pairs(t)) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert polyclonal_pairs(t)["P1"] == [("KIT p.D816V", "L2", "KIT p.V654A", "L1")]


@pytest.mark.parametrize(("other_state", "polyclonal"), [
    ("-", 1),  # absent by the power rule
    ("?", 0),  # not evaluable: could be there
    ("~", 0),  # low level: reads above noise, not absent
])
def test_not_evaluable_is_not_absent_for_polyclonality(other_state, polyclonal):
    t = table(rows("P1", {"L1": {"V654A": "+", "D816V": other_state},
                          "L2": {"V654A": "-", "D816V": "+"}}))
    assert heterogeneity(t)["n_patients_polyclonal_across_lesions"] == polyclonal
    assert heterogeneity(t)["n_patients_with_secondary"] == 1


def test_two_in_one_lesion_needs_two_different_detected_secondaries():
    t = table(rows("P1", {"L1": {"V654A": "+", "D816V": "~"}}))
    got = heterogeneity(t)
    assert (got["n_patients_two_in_one_lesion"], got["n_lesions_with_two_or_more"]) == (0, 0)


def test_empty_cohort():
    empty = pd.DataFrame(columns=list(RESISTANCE_COLUMNS))
    got = heterogeneity(empty)
    assert got == {"n_patients_with_secondary": 0, "n_patients_polyclonal_across_lesions": 0,
                   "n_patients_two_in_one_lesion": 0, "n_lesions_with_two_or_more": 0,
                   "secondaries_by_region": {}}
    assert heterogeneity_words(got).startswith("No patient")
    assert patient_resistance(empty) == {}


# ---- bad input -------------------------------------------------------------------------------

def test_bad_tables_raise_one_line_errors():
    good = table(rows("P1", {"L1": {"V654A": "+"}}))
    with pytest.raises(LesionTrackError, match="lacks state") as info:
        heterogeneity(good.drop(columns="state"))
    assert "\n" not in str(info.value)
    bad = good.copy()
    bad.loc[0, "state"] = "present"
    with pytest.raises(LesionTrackError, match=r"field 'state'.*'present'"):
        patient_resistance(bad)
    bad = good.copy()
    bad.loc[0, "drug_activity"] = "imatinib=great"
    with pytest.raises(LesionTrackError, match="field 'drug_activity'"):
        patient_resistance(bad)


# ---- the cohort figure (drawing only) ------------------------------------------------------------

def test_heterogeneity_figure_marks_every_state_and_escapes_names():
    import xml.etree.ElementTree as ET

    from lesiontrack.report.resistance_figure import REGION_COLOURS, heterogeneity_svg

    t, _ = liegl_cohort()
    hostile = table(rows("<b>P</b>", {"L1": {"V654A": "+", "D816V": "?"},
                                      "L2": {"V654A": "~", "D816V": "+"}}))
    svg = str(heterogeneity_svg(pd.concat([t, hostile], ignore_index=True)))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    marks = [c for c in root.iter(f"{ns}circle") if c.get("r") == "7"]
    detected = pd.concat([t, hostile])
    detected = detected[detected["state"] == "detected"]
    assert len(marks) == len(detected)
    assert {c.get("fill") for c in marks} == set(REGION_COLOURS.values())
    assert len([c for c in root.iter(f"{ns}circle") if c.get("fill") == "none"]) == 1
    assert "&lt;b&gt;P&lt;/b&gt;" in svg and "<b>" not in svg
    assert svg == str(heterogeneity_svg(pd.concat([t, hostile], ignore_index=True)))
    empty = str(heterogeneity_svg(pd.DataFrame(columns=list(RESISTANCE_COLUMNS))))
    assert "No secondary mutation detected" in empty
    ET.fromstring(empty)


def test_resistance_table_from_an_origins_table():
    from lesiontrack.resistance import resistance_table

    def origin_row(key, hgvsp, origin, detected, absent, not_evaluable, counted=True):
        return {"patient_id": "P1", "variant_key": key, "gene": "KIT", "hgvsp": hgvsp,
                "consequence": "missense", "origin": origin, "counted": counted,
                "lesions_detected": detected, "lesions_absent": absent,
                "lesions_not_evaluable": not_evaluable}

    origins = pd.DataFrame([
        origin_row("k1", "p.V654A", "secondary", "L1", "L2", ""),
        origin_row("k2", "p.D816V", "secondary", "L2", "L1", "L3"),
        origin_row("k3", "p.W557R", "primary", "L1,L2,L3", "", ""),
        origin_row("k4", "p.N822K", "secondary", "L3", "", "", counted=False),
    ])
    sheet = pd.DataFrame({"patient_id": ["P1"] * 3, "lesion_id": ["L1", "L2", "L3"],
                          "status": ["progressive", "progressive", "controlled"]})
    t = resistance_table(origins, sheet)
    assert list(t.columns) == [*RESISTANCE_COLUMNS, "drug_activity"]
    assert sorted(zip(t["name"], t["lesion_id"], t["state"], strict=True)) == [
        ("KIT p.D816V", "L1", "absent"), ("KIT p.D816V", "L2", "detected"),
        ("KIT p.D816V", "L3", "not_evaluable"),
        ("KIT p.V654A", "L1", "detected"), ("KIT p.V654A", "L2", "absent")]
    assert set(t["region"]) == {"ATP-binding pocket", "activation loop"}
    assert heterogeneity(t)["n_patients_polyclonal_across_lesions"] == 1
    assert patient_resistance(t)["P1"]["drugs_covering_all_secondary_lesions"] == []
    assert resistance_table(origins[origins["origin"] == "primary"]).empty
