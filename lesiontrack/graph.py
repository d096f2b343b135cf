"""The cohort graph: patients, lesions, progression status and mutations (a networkx DiGraph).

Nodes carry ``kind`` in {patient, lesion, status, mutation}. Edges: ``patient -> lesion``
(``has_lesion``), ``lesion -> status`` (``has_status``), ``lesion -> mutation`` (``carries``, only
where the mutation is detected, with the lesion's best sample's counts). Mutation nodes are per
patient. Every attribute is a string, int, float or bool, so GraphML opens in Cytoscape.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import networkx as nx
import pandas as pd

from .errors import OptionError
from .io.output import atomic_write

STATUSES = ("progressive", "controlled", "baseline", "unknown")


def patient_node(patient: str) -> str:
    """Node id of a patient."""
    return f"patient:{patient}"


def lesion_node(patient: str, lesion: str) -> str:
    """Node id of a lesion (lesion ids are unique within a patient only)."""
    return f"lesion:{patient}/{lesion}"


def status_node(status: str) -> str:
    """Node id of a status (shared by the cohort)."""
    return f"status:{status}"


def mutation_node(patient: str, variant_key: str) -> str:
    """Node id of a patient's mutation."""
    return f"mutation:{patient}/{variant_key}"


def _clean(value) -> str | int | float | bool:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def build_graph(calls: pd.DataFrame, origins: pd.DataFrame,
                samples: pd.DataFrame | None = None) -> nx.DiGraph:
    """Build the cohort graph from the calls table and the origins table."""
    graph = nx.DiGraph(name="lesiontrack cohort")
    for status in STATUSES:
        graph.add_node(status_node(status), kind="status", name=status, label=status)
    roster = calls[["patient_id", "lesion_id", "sample_id", "role", "status", "site"]]
    if samples is not None:
        roster = pd.concat([roster, samples[list(roster.columns)]])
    roster = roster.drop_duplicates(["patient_id", "lesion_id", "sample_id"])
    for (patient, lesion), rows in roster.groupby(["patient_id", "lesion_id"], sort=True):
        pnode = patient_node(patient)
        if pnode not in graph:
            graph.add_node(pnode, kind="patient", patient_id=patient, label=patient)
        first = rows.iloc[0]
        lnode = lesion_node(patient, lesion)
        graph.add_node(lnode, kind="lesion", patient_id=patient, lesion_id=lesion,
                       role=first["role"], status=first["status"], site=_clean(first["site"]),
                       samples=",".join(sorted(rows["sample_id"].unique())),
                       label=f"{patient} {lesion}")
        graph.add_edge(pnode, lnode, relation="has_lesion")
        graph.add_edge(lnode, status_node(first["status"]), relation="has_status")
    for row in origins.itertuples(index=False):
        mnode = mutation_node(row.patient_id, row.variant_key)
        name = f"{row.gene} {row.hgvsp}".strip() if row.hgvsp else f"{row.gene} {row.variant_key}"
        graph.add_node(mnode, kind="mutation", patient_id=row.patient_id,
                       variant_key=row.variant_key, gene=_clean(row.gene), exon=_clean(row.exon),
                       hgvsc=_clean(row.hgvsc), hgvsp=_clean(row.hgvsp), origin=row.origin,
                       rule=row.rule, flags=_clean(row.flags), label=name.strip())
    detected = calls[calls["detected"].astype("boolean").fillna(False).astype(bool)]
    detected = detected.sort_values(["alt_count", "depth"], ascending=False, kind="stable")
    best = detected.drop_duplicates(["patient_id", "lesion_id", "variant_key"])
    for row in best.itertuples(index=False):
        mnode = mutation_node(row.patient_id, row.variant_key)
        if mnode not in graph:
            continue
        graph.add_edge(lesion_node(row.patient_id, row.lesion_id), mnode, relation="carries",
                       vaf=_clean(row.vaf), alt_count=_clean(row.alt_count),
                       depth=_clean(row.depth), detected=True, sample_id=row.sample_id)
    return graph


def lesions_of(graph: nx.DiGraph, patient: str) -> list[str]:
    """Lesion nodes of a patient."""
    return sorted(n for n in graph.successors(patient_node(patient))
                  if graph.nodes[n]["kind"] == "lesion")


def lesions_carrying(graph: nx.DiGraph, mutation: str) -> list[str]:
    """Lesion nodes in which a mutation node is detected."""
    return sorted(graph.predecessors(mutation))


def secondary_by_status(graph: nx.DiGraph) -> dict[str, int]:
    """How many (lesion, secondary mutation) links fall in lesions of each status."""
    counts = dict.fromkeys(STATUSES, 0)
    for lesion, mutation in graph.edges():
        if graph.nodes[mutation].get("kind") == "mutation" and (
                graph.nodes[mutation]["origin"] == "secondary"):
            counts[graph.nodes[lesion]["status"]] += 1
    return counts


def graph_to_json(graph: nx.DiGraph) -> str:
    """Node-link JSON (deterministic: sorted nodes and links)."""
    data = nx.node_link_data(graph, edges="links")
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["links"] = sorted(data["links"], key=lambda e: (e["source"], e["target"]))
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def graph_to_graphml(graph: nx.DiGraph) -> str:
    """GraphML text (nodes and edges in sorted order, so output is deterministic)."""
    ordered = nx.DiGraph(**graph.graph)
    ordered.add_nodes_from(sorted(graph.nodes(data=True)))
    ordered.add_edges_from(sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])))
    return "\n".join(nx.generate_graphml(ordered, prettyprint=True)) + "\n"


def write_graph(graph: nx.DiGraph, path: str | os.PathLike[str]) -> Path:
    """Write the graph as GraphML (``.graphml``) or node-link JSON (``.json``), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        text = graph_to_graphml(graph)
    elif suffix == ".json":
        text = graph_to_json(graph)
    else:
        raise OptionError(f"unknown graph format {suffix or '(none)'!r}", file=path,
                          hint="name the output .graphml or .json")
    atomic_write(path, text)
    return path
