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
from .io.output import atomic_path, atomic_write

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


_GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


def _graphml_keys(items, kind: str) -> dict[str, tuple[str, str]]:
    """attr name -> (key id, GraphML type) over every element's attributes; an attribute whose
    values mix types is written as a string (ints and floats mixed: a double)."""
    types: dict[str, set[type]] = {}
    for data in items:
        for name, value in data.items():
            types.setdefault(name, set()).add(type(value))
    out = {}
    for name in sorted(types):
        found = types[name]
        if len(found) == 1 and next(iter(found)) in _GRAPHML_TYPES:
            kind_ = _GRAPHML_TYPES[next(iter(found))]
        elif found <= {int, float}:
            kind_ = "double"
        else:
            kind_ = "string"
        out[name] = (f"{kind[0]}_{name}", kind_)
    return out


def _graphml_value(value, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        return repr(float(value))
    return str(value)


def write_graphml_stream(graph: nx.DiGraph, handle) -> None:
    """Write GraphML element by element (memory: the graph only, not an XML tree of it), nodes
    and edges in sorted order so output is deterministic. Opens in networkx and Cytoscape."""
    from xml.sax.saxutils import escape, quoteattr

    node_keys = _graphml_keys((d for _, d in graph.nodes(data=True)), "node")
    edge_keys = _graphml_keys((d for _, _, d in graph.edges(data=True)), "edge")
    write = handle.write
    write("<?xml version='1.0' encoding='utf-8'?>\n"
          '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
          'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    for target, keys in (("node", node_keys), ("edge", edge_keys)):
        for name, (key, kind) in keys.items():
            write(f'  <key id={quoteattr(key)} for="{target}" attr.name={quoteattr(name)} '
                  f'attr.type="{kind}" />\n')
    write('  <graph edgedefault="directed">\n')

    def data_lines(data: dict, keys: dict[str, tuple[str, str]]) -> str:
        return "".join(
            f'      <data key={quoteattr(keys[name][0])}>'
            f"{escape(_graphml_value(data[name], keys[name][1]))}</data>\n"
            for name in sorted(data))

    for node in sorted(graph.nodes):
        write(f"    <node id={quoteattr(str(node))}>\n"
              f"{data_lines(graph.nodes[node], node_keys)}    </node>\n")
    for source, target in sorted(graph.edges):
        write(f"    <edge source={quoteattr(str(source))} target={quoteattr(str(target))}>\n"
              f"{data_lines(graph.edges[source, target], edge_keys)}    </edge>\n")
    write("  </graph>\n</graphml>\n")


def graph_to_graphml(graph: nx.DiGraph) -> str:
    """GraphML text (nodes and edges in sorted order, so output is deterministic)."""
    import io

    buffer = io.StringIO()
    write_graphml_stream(graph, buffer)
    return buffer.getvalue()


def write_graph(graph: nx.DiGraph, path: str | os.PathLike[str]) -> Path:
    """Write the graph as GraphML (``.graphml``) or node-link JSON (``.json``), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
            write_graphml_stream(graph, handle)
        return path
    if suffix == ".json":
        text = graph_to_json(graph)
    else:
        raise OptionError(f"unknown graph format {suffix or '(none)'!r}", file=path,
                          hint="name the output .graphml or .json")
    atomic_write(path, text)
    return path
