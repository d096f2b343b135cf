"""The cohort graph: node kinds, edges, GraphML/JSON exports."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from scenarios import V654A, W557, call, focal_patient, table

from lesiontrack import build_graph, classify, graph_to_json, write_graph
from lesiontrack.graph import (
    lesion_node,
    lesions_carrying,
    lesions_lacking,
    mutation_node,
    secondary_by_status,
)


def demo_graph():
    calls = table(focal_patient("P1"))
    return build_graph(calls, classify(calls))


def test_nodes_and_edges_follow_the_design():
    graph = demo_graph()
    kinds = nx.get_node_attributes(graph, "kind")
    assert set(kinds.values()) == {"patient", "lesion", "status", "mutation"}
    v654a = mutation_node("P1", "4:54728092:T>C")
    assert graph.nodes[v654a]["origin"] == "secondary"
    assert graph.nodes[v654a]["hgvsp"] == "p.V654A"
    # carried only where detected: L1, not L2 (one read) nor the baseline
    assert lesions_carrying(graph, v654a) == [lesion_node("P1", "L1")]
    assert graph.edges[lesion_node("P1", "L1"), v654a]["alt_count"] == 30
    # absent with power from the baseline and L2: an `absent` edge, not "no edge"
    assert lesions_lacking(graph, v654a) == [lesion_node("P1", "B"), lesion_node("P1", "L2")]
    edge = graph.edges[lesion_node("P1", "L2"), v654a]
    assert (edge["relation"], edge["detected"]) == ("absent", False)
    assert edge["power"] >= 0.95 and edge["expected_vaf"] == pytest.approx(0.18, abs=0.01)
    assert graph.has_edge(lesion_node("P1", "B"), "status:baseline")
    assert graph.nodes["status:progressive"]["name"] == "progressive"


def test_a_lesion_not_evaluable_for_a_mutation_has_no_edge():
    rows = focal_patient("P1") + [call("P1", "L3", "controlled", W557, 40, 100),
                                  call("P1", "L3", "controlled", V654A, 0, 12)]  # depth 12
    calls = table(rows)
    graph = build_graph(calls, classify(calls))
    v654a = mutation_node("P1", "4:54728092:T>C")
    assert not graph.has_edge(lesion_node("P1", "L3"), v654a)
    assert graph.has_edge(lesion_node("P1", "L2"), v654a)
    assert secondary_by_status(graph)["progressive"] == 1
    assert secondary_by_status(graph)["controlled"] == 0


def test_graphml_round_trips_without_none_values(tmp_path):
    path = write_graph(demo_graph(), tmp_path / "cohort.graphml")
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == demo_graph().number_of_nodes()
    for _, data in back.nodes(data=True):
        assert all(v is not None and not isinstance(v, dict | list) for v in data.values())
    text = path.read_text()
    assert "None" not in text


def test_json_is_node_link_and_deterministic(tmp_path):
    first = graph_to_json(demo_graph())
    assert first == graph_to_json(demo_graph())
    data = json.loads(first)
    assert {"nodes", "links"} <= set(data)
    nx.node_link_graph(data, edges="links")


def test_graphml_escapes_identifiers_and_keeps_types(tmp_path):
    from scenarios import call, table

    from lesiontrack.graph import graph_to_graphml

    d816v = ("4", 54733155, "A", "T", "KIT", "17", 816, "p.D816V")
    rows = [call('P<&>"1', "L1", "progressive", d816v, 30, 100)]
    calls = table(rows)
    graph = build_graph(calls, classify(calls))
    path = write_graph(graph, tmp_path / "g.graphml")
    back = nx.read_graphml(path)
    assert 'patient:P<&>"1' in back.nodes
    edge = next(d for _, _, d in back.edges(data=True) if d["relation"] == "carries")
    assert edge["alt_count"] == 30 and edge["detected"] is True
    assert isinstance(edge["vaf"], float)
    assert graph_to_graphml(graph) == path.read_text()


def test_the_graph_the_report_and_the_lesion_state_name_the_same_sample():
    """One rule decides which sample speaks for a lesion (evidence.deciding_samples): the
    graph's edge and the report's cell show the sample behind the lesion state's reason.

    Lesion L: three samples with the same reads (a tie on ALT, power and depth), listed S2,
    S1, S10: the state takes the first sample_id (S1); the graph used to take the first row
    (S2) and the report the reversed characters (S10). Lesion M: M_a absent (0/500), M_b
    not evaluable (1/15, depth below 20): the report used to show M_b's 1/15 reads beside
    M_a's reason."""
    from lesiontrack.evidence import deciding_samples, lesion_states
    from lesiontrack.report.views import Lesion, lesion_cell, sample_calls, states_of

    rows = [call("P", "L", "progressive", variant, alt, 200, sample=sample)
            for sample in ("S2", "S1", "S10") for variant, alt in ((W557, 80), (V654A, 40))]
    rows += [call("P", "M", "controlled", W557, 200, 500, sample="M_a"),
             call("P", "M", "controlled", V654A, 0, 500, sample="M_a"),
             call("P", "M", "controlled", W557, 6, 15, sample="M_b"),
             call("P", "M", "controlled", V654A, 1, 15, sample="M_b")]
    calls = table(rows)
    states = lesion_states(calls)
    v654a = "4:54728092:T>C"
    decided = deciding_samples(states)
    assert decided[("P", v654a, "L")] == "S1"
    assert decided[("P", v654a, "M")] == "M_a"
    graph = build_graph(calls, classify(calls, states=states), states=states)
    edges = {lesion: graph.edges[lesion_node("P", lesion), mutation_node("P", v654a)]
             for lesion in ("L", "M")}
    assert (edges["L"]["relation"], edges["L"]["sample_id"]) == ("carries", "S1")
    assert (edges["M"]["relation"], edges["M"]["sample_id"]) == ("absent", "M_a")
    reads, given = sample_calls(calls), states_of(states)
    for lesion, samples, shown in (("L", ["S1", "S10", "S2"], "S1"),
                                   ("M", ["M_a", "M_b"], "M_a")):
        spec = Lesion(lesion_id=lesion, role="lesion", status="", status_raw="", site="",
                      timepoint="", samples=samples)
        cell = lesion_cell(spec, "secondary", reads[("P", v654a, lesion)],
                           given[("P", v654a, lesion)])
        assert cell.sample_id == shown
    assert (cell.state, cell.alt, cell.depth) == ("absent", 0, 500)


def test_an_edge_follows_the_lesion_state_at_its_current_date():
    """L1 carried V654A in 2019 (L1a, 40/200) and not in 2021 (L1b, 0/1000): its state (the
    current date) is absent, and so is its edge, from L1b; the graph used to overwrite that
    absent edge with the 2019 record's `carries` (keeping the absent edge's power)."""
    rows = [call("P", "L1", "controlled", W557, 80, 200, sample="L1a"),
            call("P", "L1", "controlled", V654A, 40, 200, sample="L1a"),
            call("P", "L1", "progressive", W557, 450, 1000, sample="L1b"),
            call("P", "L1", "progressive", V654A, 0, 1000, sample="L1b"),
            call("P", "L2", "progressive", W557, 80, 200, sample="L2"),
            call("P", "L2", "progressive", V654A, 40, 200, sample="L2")]
    calls = table(rows)
    calls["date"] = ["2019-03-01"] * 2 + ["2021-05-10"] * 4
    graph = build_graph(calls, classify(calls))
    edge = graph.edges[lesion_node("P", "L1"), mutation_node("P", "4:54728092:T>C")]
    assert (edge["relation"], edge["detected"], edge["sample_id"]) == ("absent", False, "L1b")
    assert lesions_carrying(graph, mutation_node("P", "4:54728092:T>C")) == [
        lesion_node("P", "L2")]
