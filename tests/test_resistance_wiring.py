"""Drug activity and resistance heterogeneity reach the outputs: origins.tsv, the graph
(GraphML and node-link JSON), `stats --json` and its text, and the report (issue 16)."""

from __future__ import annotations

import json

import networkx as nx
import pandas as pd
import pytest
from scenarios import D816V, V654A, W557, call, focal_patient, table

from lesiontrack import (
    ORIGIN_COLUMNS,
    build_graph,
    classify,
    graph_to_json,
    lesion_states,
    test_clustering,
    write_graph,
)
from lesiontrack.graph import mutation_node
from lesiontrack.resistance import PATIENT_KEYS, resistance_table
from lesiontrack.text import stats_text

V654A_ACTIVITY = ("imatinib=resistant;sunitinib=sensitive;regorafenib=reduced;"
                  "ripretinib=reduced;avapritinib=unknown")
HETEROGENEITY_KEYS = ["n_patients_with_secondary", "n_patients_polyclonal_across_lesions",
                      "n_patients_two_in_one_lesion", "n_lesions_with_two_or_more",
                      "secondaries_by_region"]


def two_lesions(patient="P1", *, other_depth=180):
    """V654A in progressive L1, D816V in progressive L2, each read at ``other_depth`` (no ALT
    read) in the other lesion; a controlled L3 with neither."""
    return [
        call(patient, "L1", "progressive", W557, 80, 170),
        call(patient, "L1", "progressive", V654A, 45, 190),
        call(patient, "L1", "progressive", D816V, 0, other_depth),
        call(patient, "L2", "progressive", W557, 75, 160),
        call(patient, "L2", "progressive", D816V, 40, 175),
        call(patient, "L2", "progressive", V654A, 0, other_depth),
        call(patient, "L3", "controlled", W557, 70, 150),
        call(patient, "L3", "controlled", V654A, 0, 170),
        call(patient, "L3", "controlled", D816V, 0, 165),
    ]


def test_origins_append_region_and_drug_activity_for_protein_altering_changes_only():
    silent = ("4", 54728093, "C", "T", "KIT", "13", 654, "p.V654=")  # synonymous at V654
    rows = focal_patient("P1") + [call("P1", "L1", "progressive", silent, 40, 150)]
    calls = table(rows)
    calls.loc[calls["hgvsp"] == "p.V654=", "consequence"] = "synonymous"
    origins = classify(calls)
    assert ORIGIN_COLUMNS[-2:] == ["region", "drug_activity"]
    assert list(origins.columns) == ORIGIN_COLUMNS
    origins = origins.set_index("hgvsp")
    assert origins.loc["p.V654A", "region"] == "ATP-binding pocket"
    assert origins.loc["p.V654A", "drug_activity"] == V654A_ACTIVITY
    assert origins.loc["p.W557_K558del", "drug_activity"].startswith("imatinib=sensitive;")
    assert origins.loc["p.V654=", "region"] == "" and origins.loc["p.V654=", "drug_activity"] == ""


def test_graph_mutation_nodes_carry_the_string_in_graphml_and_the_json_form_in_node_link(
        tmp_path):
    calls = table(focal_patient("P1"))
    graph = build_graph(calls, classify(calls))
    node = mutation_node("P1", "4:54728092:T>C")
    assert graph.nodes[node]["drug_activity"] == V654A_ACTIVITY
    assert graph.nodes[node]["region"] == "ATP-binding pocket"
    back = nx.read_graphml(write_graph(graph, tmp_path / "g.graphml"))
    assert back.nodes[node]["drug_activity"] == V654A_ACTIVITY
    data = json.loads(graph_to_json(graph))
    found = {n["id"]: n for n in data["nodes"]}
    assert found[node]["drug_activity"]["sunitinib"] == {
        "activity": "sensitive", "grade": "A", "in_vitro": None, "sources": ["D1", "D4"]}
    assert set(found[node]["drug_activity"]) == {
        "imatinib", "sunitinib", "regorafenib", "ripretinib", "avapritinib"}
    # the graph itself keeps the string (the JSON form is made for the export only)
    assert graph.nodes[node]["drug_activity"] == V654A_ACTIVITY


def test_stats_json_v654a_and_d816v_in_separate_lesions_no_drug_covers_both():
    calls = table(two_lesions())
    result = test_clustering(classify(calls), calls, permutations=100)
    patient = result["patients"][0]
    assert list(patient)[-len(PATIENT_KEYS):] == list(PATIENT_KEYS)
    assert patient["n_distinct_secondaries"] == 2
    assert patient["secondary_lesions"] == ["L1", "L2"]
    assert patient["n_lesions_with_two_or_more_secondaries"] == 0
    assert patient["recurrent_secondaries"] == []
    assert patient["regions"] == ["ATP-binding pocket", "activation loop"]
    assert patient["drug_coverage"]["sunitinib"] == {
        "covered": ["L1"], "not_covered": ["L2"], "unknown": []}
    assert patient["drug_coverage"]["ripretinib"] == {
        "covered": ["L2"], "not_covered": ["L1"], "unknown": []}
    assert patient["drugs_covering_all_secondary_lesions"] == []
    assert list(result["heterogeneity"]) == HETEROGENEITY_KEYS
    assert result["heterogeneity"] == {
        "n_patients_with_secondary": 1, "n_patients_polyclonal_across_lesions": 1,
        "n_patients_two_in_one_lesion": 0, "n_lesions_with_two_or_more": 0,
        "secondaries_by_region": {"ATP-binding pocket": 1, "activation loop": 1}}
    json.dumps(result)  # JSON-ready
    text = stats_text(result)
    assert ("heterogeneity of resistance: 1 of 1 patient with secondary mutations carries "
            "different ones in separate lesions; 0 have two or more in one lesion (0 lesions).") \
        in text
    assert "in 1 of 1 patient with secondary mutations no single drug" in text
    assert "None" not in text and "nan" not in text


def test_polyclonal_needs_absence_by_the_power_rule_not_a_shallow_miss():
    """The same two lesions read at depth 12 at the other's site: not evaluable, so the two
    secondaries are not known to be in separate lesions."""
    calls = table(two_lesions(other_depth=12))
    states = lesion_states(calls)
    origins = classify(calls, states=states)
    shallow = states[(states["lesion_id"] == "L1") & (states["variant_key"] == "4:54733155:A>T")]
    assert shallow["state"].tolist() == ["not_evaluable"]
    result = test_clustering(origins, calls, permutations=100, states=states)
    assert result["heterogeneity"]["n_patients_with_secondary"] == 1
    assert result["heterogeneity"]["n_patients_polyclonal_across_lesions"] == 0
    # one read more of depth is not the point: at 180 reads it is absent and counts
    deep = table(two_lesions(other_depth=180))
    assert test_clustering(classify(deep), deep, permutations=100)["heterogeneity"][
        "n_patients_polyclonal_across_lesions"] == 1


def test_two_secondaries_in_one_lesion_and_uncounted_ones_are_left_out():
    rows = [
        call("P2", "L1", "progressive", W557, 80, 170),
        call("P2", "L1", "progressive", V654A, 45, 190),
        call("P2", "L1", "progressive", D816V, 40, 175),
        call("P2", "L2", "controlled", W557, 70, 150),
        call("P2", "L2", "controlled", V654A, 0, 170),
        call("P2", "L2", "controlled", D816V, 0, 165),
    ]
    calls = table(rows)
    origins = classify(calls)
    result = test_clustering(origins, calls, permutations=100)
    assert result["patients"][0]["n_lesions_with_two_or_more_secondaries"] == 1
    assert result["heterogeneity"]["n_patients_two_in_one_lesion"] == 1
    assert result["heterogeneity"]["n_lesions_with_two_or_more"] == 1
    assert result["heterogeneity"]["n_patients_polyclonal_across_lesions"] == 0
    # not counted (e.g. said silent): neither in the table nor in the counts
    origins.loc[origins["hgvsp"] == "p.D816V", "counted"] = False
    assert set(resistance_table(origins, states=lesion_states(calls))["name"]) == {
        "KIT p.V654A"}


def test_resistance_table_from_states_keeps_low_level_and_the_states_status():
    rows = two_lesions()
    rows[2] = call("P1", "L1", "progressive", D816V, 15, 1000)  # above noise, below 2%: low
    calls = table(rows)
    states = lesion_states(calls)
    t = resistance_table(classify(calls, states=states), states=states)
    got = {(r.name, r.lesion_id): (r.state, r.status) for r in t.itertuples()}
    assert got[("KIT p.D816V", "L1")] == ("low_level", "progressive")
    assert got[("KIT p.V654A", "L3")] == ("absent", "controlled")


def test_a_cohort_without_secondary_mutations_has_zero_heterogeneity():
    calls = table([call("P9", "L1", "controlled", W557, 60, 150),
                   call("P9", "L2", "controlled", W557, 50, 140)])
    result = test_clustering(classify(calls), calls, permutations=10)
    assert result["heterogeneity"]["n_patients_with_secondary"] == 0
    assert result["heterogeneity"]["secondaries_by_region"] == {}
    assert result["patients"][0]["drugs_covering_all_secondary_lesions"] == []
    assert "No patient has a secondary mutation detected in a lesion." in stats_text(result)


def test_report_shows_the_grid_the_cohort_sentence_and_the_json_keys(tmp_path):
    from lesiontrack.report import write_report

    calls = table(two_lesions("P1") + focal_patient("P2"))
    states = lesion_states(calls)
    origins = classify(calls, states=states)
    stats = test_clustering(origins, calls, permutations=100, states=states)
    out = write_report(tmp_path / "rep", sheet=None, calls=calls, origins=origins, stats=stats,
                       sheet_path=None, options={}, progress=False).parent
    page = " ".join((out / "patients" / "P1.html").read_text().split())
    assert '<table class="coverage">' in page
    assert ("This grid summarises published series (the drug-activity table and its sources); "
            "it is not a treatment recommendation.") in page
    assert "No single drug covers every lesion with a secondary mutation." in page
    assert 'title="sunitinib in L2: not covered">not covered</td>' in page
    assert 'title="sunitinib in L1: covered">covered</td>' in page
    cohort = " ".join((out / "index.html").read_text().split())
    assert '<h2 id="heterogeneity">Heterogeneity of resistance</h2>' in cohort
    assert ("1 of 2 patients with secondary mutations carries different ones in separate "
            "lesions") in cohort
    assert '<svg class="heterogeneity"' in cohort
    data = json.loads((out / "patients" / "P1.json").read_text())
    for key in PATIENT_KEYS:
        assert key in data and key not in data["pattern"]
    assert data["drugs_covering_all_secondary_lesions"] == []
    by_name = {o["hgvsp"]: o for o in data["origins"]}
    assert by_name["p.D816V"]["drug_activity"]["avapritinib"]["in_vitro"] == "in vitro only"
    assert by_name["p.D816V"]["region"] == "activation loop"
    origins_tsv = pd.read_csv(out / "origins.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(origins_tsv.columns[-2:]) == ["region", "drug_activity"]
    assert json.loads((out / "stats.json").read_text())["heterogeneity"][
        "n_patients_polyclonal_across_lesions"] == 1


@pytest.mark.parametrize("command", ["classify"])
def test_classify_command_writes_the_two_columns(tmp_path, command):
    from pathlib import Path

    from lesiontrack.cli import main

    sheet = Path(__file__).resolve().parents[1] / "fixtures" / "samplesheet.tsv"
    if not sheet.exists():
        pytest.skip("demo fixtures not generated")
    out = tmp_path / "origins.tsv"
    assert main(["-q", command, str(sheet), "-o", str(out)]) == 0
    origins = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    assert list(origins.columns) == ORIGIN_COLUMNS
    d820y = origins[origins["hgvsp"] == "p.D820Y"].iloc[0]
    assert d820y["region"] == "activation loop"
    assert d820y["drug_activity"] == ("imatinib=resistant;sunitinib=resistant;"
                                      "regorafenib=sensitive;ripretinib=sensitive;"
                                      "avapritinib=unknown")
