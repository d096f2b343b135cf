"""The cohort graph: patients, lesions, progression status and mutations (a networkx DiGraph).

Nodes carry ``kind`` in {patient, lesion, status, mutation}. Edges: ``patient -> lesion``
(``has_lesion``), ``lesion -> status`` (``has_status``), ``lesion -> mutation``: ``carries`` where
the mutation is detected, ``absent`` where it is absent with power (with expected VAF and power):
the lesion state of :func:`~lesiontrack.evidence.lesion_states`, with the counts of the sample
that decided it (:func:`~lesiontrack.evidence.deciding_samples`); no edge where it is
low-level or not evaluable. Mutation nodes are per patient and carry ``consequence``, ``region``
and ``drug_activity`` (``imatinib=resistant;sunitinib=sensitive;...`` in GraphML; the node-link
JSON gives ``{drug: {"activity", "grade", "in_vitro", "sources"}}``, ``null`` where none). With a
copy-number table, each amplification adds ``lesion -> gene:<GENE>`` (``amplified``, with
``copy_number`` and ``sample_id``; gene nodes, ``kind`` gene, are shared by the cohort). Every
attribute is a string, int, float or bool, so GraphML opens in Cytoscape.
"""

from __future__ import annotations

import heapq
import json
import os
from pathlib import Path

import networkx as nx
import pandas as pd

from .errors import OptionError
from .order import natural_sorted
from .output import atomic_path, atomic_write

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


_STATUS_PREFIX = status_node("")


def gene_node(gene: str) -> str:
    """Node id of a gene (shared by the cohort: the target of ``amplified`` edges)."""
    return f"gene:{gene}"


_GENE_PREFIX = gene_node("")
#: Node ids shared by every part of a cohort graph (written once by :class:`GraphmlSpool`).
_SHARED_PREFIXES = (_STATUS_PREFIX, _GENE_PREFIX)


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


def codon_map(calls: pd.DataFrame) -> dict[tuple[str, str], int]:
    """``{(patient_id, variant_key): codon}`` of the calls whose codon is known (the first
    row of each mutation)."""
    if calls.empty or "codon" not in calls:
        return {}
    known = calls.dropna(subset=["codon"]).drop_duplicates(["patient_id", "variant_key"])
    return {(str(p), str(k)): int(c) for p, k, c in
            zip(known["patient_id"], known["variant_key"], known["codon"], strict=True)}


def _drug_attributes(row, codon: int | None) -> dict:
    """A mutation node's ``consequence``, ``codon`` (when known), ``region`` and
    ``drug_activity`` (the string form, :func:`lesiontrack.genome.drugs.activity_string`)."""
    from .genome.drugs import activity_string, drug_activity

    consequence = _clean(getattr(row, "consequence", ""))
    if hasattr(row, "drug_activity"):
        region, activity = _clean(row.region), _clean(row.drug_activity)
    else:
        found = drug_activity(row.gene if isinstance(row.gene, str) else None, codon,
                              row.hgvsp if isinstance(row.hgvsp, str) else None,
                              consequence or None)
        region, activity = (found.region if found else ""), activity_string(found)
    return {"consequence": consequence, **({"codon": codon} if codon is not None else {}),
            "region": region, "drug_activity": activity}


def _drug_json(data: dict) -> dict | None:
    """The JSON form of a mutation node's drug activity (``None`` where it has none)."""
    from .genome.drugs import activity_json, drug_activity

    if not data.get("drug_activity"):
        return None
    found = drug_activity(data.get("gene") or None, data.get("codon"),
                          data.get("hgvsp") or None, data.get("consequence") or None)
    return activity_json(found)


def build_graph(calls: pd.DataFrame, origins: pd.DataFrame,
                sheet: pd.DataFrame | None = None, *, states: pd.DataFrame | None = None,
                thresholds=None, copy_number: pd.DataFrame | None = None) -> nx.DiGraph:
    """Build the cohort graph from the calls table, the origins table and the lesion states
    (``states``: :func:`~lesiontrack.evidence.lesion_states`, computed with ``thresholds`` when
    not given); ``copy_number`` (:func:`lesiontrack.copynumber.copy_number_table`) adds the
    ``amplified`` edges (:func:`add_amplifications`)."""
    graph = nx.DiGraph(name="lesiontrack cohort")
    for status in STATUSES:
        graph.add_node(status_node(status), kind="status", name=status, label=status)
    roster = calls[["patient_id", "lesion_id", "sample_id", "role", "status", "site"]]
    if sheet is not None:
        roster = pd.concat([roster, sheet[list(roster.columns)]])
    roster = roster.drop_duplicates(["patient_id", "lesion_id", "sample_id"])
    from .timeline import lesion_statuses

    latest = lesion_statuses(calls, sheet)  # the lesion -> status edge: its latest status
    latest_status = dict(zip(zip(latest["patient_id"], latest["lesion_id"], strict=True),
                             latest["status"], strict=True))
    for (patient, lesion), rows in roster.groupby(["patient_id", "lesion_id"], sort=True):
        pnode = patient_node(patient)
        if pnode not in graph:
            graph.add_node(pnode, kind="patient", patient_id=patient, label=patient)
        first = rows.iloc[0].copy()
        first["status"] = latest_status.get((patient, lesion), first["status"])
        lnode = lesion_node(patient, lesion)
        graph.add_node(lnode, kind="lesion", patient_id=patient, lesion_id=lesion,
                       role=first["role"], status=first["status"], site=_clean(first["site"]),
                       samples=",".join(natural_sorted(rows["sample_id"].unique())),
                       label=f"{patient} {lesion}")
        graph.add_edge(pnode, lnode, relation="has_lesion")
        graph.add_edge(lnode, status_node(first["status"]), relation="has_status")
    codons = codon_map(calls)
    for row in origins.itertuples(index=False):
        mnode = mutation_node(row.patient_id, row.variant_key)
        name = f"{row.gene} {row.hgvsp}".strip() if row.hgvsp else f"{row.gene} {row.variant_key}"
        graph.add_node(mnode, kind="mutation", patient_id=row.patient_id,
                       variant_key=row.variant_key, gene=_clean(row.gene), exon=_clean(row.exon),
                       hgvsc=_clean(row.hgvsc), hgvsp=_clean(row.hgvsp), origin=row.origin,
                       rule=row.rule, flags=_clean(row.flags), label=name.strip(),
                       **({"counted": bool(row.counted)} if hasattr(row, "counted") else {}),
                       **_drug_attributes(row, codons.get((row.patient_id, row.variant_key))))
    from .evidence import deciding_samples, lesion_states

    if states is None:
        states = lesion_states(calls, sheet, thresholds=thresholds)
    absent = states[states["state"] == "absent"] if len(states) else states
    for row in absent.itertuples(index=False):
        mnode = mutation_node(row.patient_id, row.variant_key)
        lnode = lesion_node(row.patient_id, row.lesion_id)
        if mnode not in graph or lnode not in graph:
            continue
        graph.add_edge(lnode, mnode, relation="absent", state="absent", detected=False,
                       alt_count=_clean(row.alt_count), depth=_clean(row.depth),
                       expected_vaf=_clean(row.expected_vaf), power=_clean(row.power),
                       sample_id=_clean(row.sample_id))
    # carries: where the lesion state is detected, with the record of the sample that decided
    # it (evidence.deciding_samples; the most reads among that sample's records)
    speaks = deciding_samples(states[states["state"] == "detected"] if len(states) else states)
    speaking = pd.Series([speaks.get((str(p), str(k), str(lesion))) == str(s)
                          for p, k, lesion, s in zip(calls["patient_id"], calls["variant_key"],
                                                     calls["lesion_id"], calls["sample_id"],
                                                     strict=True)], index=calls.index, dtype=bool)
    records = calls[speaking].assign(
        _det=calls["detected"].astype("boolean").fillna(False).astype(bool))
    records = records.sort_values(["_det", "alt_count", "depth"], ascending=False, kind="stable")
    best = records.drop_duplicates(["patient_id", "lesion_id", "variant_key"])
    for row in best.itertuples(index=False):
        mnode = mutation_node(row.patient_id, row.variant_key)
        if mnode not in graph:
            continue
        graph.add_edge(lesion_node(row.patient_id, row.lesion_id), mnode, relation="carries",
                       state="detected", vaf=_clean(row.vaf), alt_count=_clean(row.alt_count),
                       depth=_clean(row.depth), detected=True, sample_id=row.sample_id)
    if copy_number is not None and len(copy_number):
        add_amplifications(graph, copy_number)
    return graph


def add_amplifications(graph: nx.DiGraph, copy_number: pd.DataFrame) -> nx.DiGraph:
    """Add ``lesion -> gene:<GENE>`` (``relation="amplified"``, ``copy_number``, ``sample_id``:
    the lesion's sample with the highest copy number) for every gene amplified in a lesion of
    the graph (:func:`lesiontrack.copynumber.lesion_copy_number`); gene nodes have ``kind``
    gene. Returns ``graph``."""
    from .copynumber import lesion_copy_number

    per_lesion = lesion_copy_number(copy_number)
    amplified = per_lesion[per_lesion["call"] == "amplification"]
    for row in amplified.itertuples(index=False):
        lnode = lesion_node(row.patient_id, row.lesion_id)
        if lnode not in graph:
            continue
        gnode = gene_node(str(row.gene))
        if gnode not in graph:
            graph.add_node(gnode, kind="gene", name=str(row.gene), label=str(row.gene))
        graph.add_edge(lnode, gnode, relation="amplified", copy_number=float(row.copy_number),
                       sample_id=str(row.sample_id))
    return graph


def lesions_of(graph: nx.DiGraph, patient: str) -> list[str]:
    """Lesion nodes of a patient."""
    return sorted(n for n in graph.successors(patient_node(patient))
                  if graph.nodes[n]["kind"] == "lesion")


def lesions_carrying(graph: nx.DiGraph, mutation: str) -> list[str]:
    """Lesion nodes in which a mutation node is detected."""
    return sorted(n for n in graph.predecessors(mutation)
                  if graph.edges[n, mutation].get("relation") == "carries")


def lesions_lacking(graph: nx.DiGraph, mutation: str) -> list[str]:
    """Lesion nodes from which a mutation node is absent with power (an ``absent`` edge)."""
    return sorted(n for n in graph.predecessors(mutation)
                  if graph.edges[n, mutation].get("relation") == "absent")


def secondary_by_status(graph: nx.DiGraph) -> dict[str, int]:
    """How many (lesion, secondary mutation) links fall in lesions of each status."""
    counts = dict.fromkeys(STATUSES, 0)
    for lesion, mutation, relation in graph.edges(data="relation"):
        if relation == "carries" and graph.nodes[mutation].get("kind") == "mutation" and (
                graph.nodes[mutation]["origin"] == "secondary"):
            counts[graph.nodes[lesion]["status"]] += 1
    return counts


def graph_to_json(graph: nx.DiGraph) -> str:
    """Node-link JSON (deterministic: sorted nodes and links)."""
    data = nx.node_link_data(graph, edges="links")
    for node in data["nodes"]:
        if node.get("kind") == "mutation" and "drug_activity" in node:
            node["drug_activity"] = _drug_json(node)
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["links"] = sorted(data["links"], key=lambda e: (e["source"], e["target"]))
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


_GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


def _attribute_types(items) -> dict[str, set[type]]:
    types: dict[str, set[type]] = {}
    for data in items:
        for name, value in data.items():
            types.setdefault(name, set()).add(type(value))
    return types


def _graphml_keys(types: dict[str, set[type]], kind: str) -> dict[str, tuple[str, str]]:
    """attr name -> (key id, GraphML type) from the types each attribute's values have; an
    attribute whose values mix types is written as a string (ints and floats mixed: a double)."""
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


def _graphml_head(node_keys: dict, edge_keys: dict) -> str:
    from xml.sax.saxutils import quoteattr

    lines = ["<?xml version='1.0' encoding='utf-8'?>\n"
             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
             'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n']
    for target, keys in (("node", node_keys), ("edge", edge_keys)):
        for name, (key, kind) in keys.items():
            lines.append(f'  <key id={quoteattr(key)} for="{target}" attr.name={quoteattr(name)} '
                         f'attr.type="{kind}" />\n')
    lines.append('  <graph edgedefault="directed">\n')
    return "".join(lines)


_GRAPHML_TAIL = "  </graph>\n</graphml>\n"


def _data_lines(data: dict, keys: dict[str, tuple[str, str]]) -> str:
    from xml.sax.saxutils import escape, quoteattr

    return "".join(f"      <data key={quoteattr(keys[name][0])}>"
                   f"{escape(_graphml_value(data[name], keys[name][1]))}</data>\n"
                   for name in sorted(data))


def _node_element(node: str, data: dict, keys: dict) -> str:
    from xml.sax.saxutils import quoteattr

    return f"    <node id={quoteattr(node)}>\n{_data_lines(data, keys)}    </node>\n"


def _edge_element(source: str, target: str, data: dict, keys: dict) -> str:
    from xml.sax.saxutils import quoteattr

    return (f"    <edge source={quoteattr(source)} target={quoteattr(target)}>\n"
            f"{_data_lines(data, keys)}    </edge>\n")


def write_graphml_stream(graph: nx.DiGraph, handle) -> None:
    """Write GraphML element by element (memory: the graph only, not an XML tree of it), nodes
    and edges in sorted order so output is deterministic. Opens in networkx and Cytoscape."""
    node_keys = _graphml_keys(_attribute_types(d for _, d in graph.nodes(data=True)), "node")
    edge_keys = _graphml_keys(_attribute_types(d for _, _, d in graph.edges(data=True)), "edge")
    handle.write(_graphml_head(node_keys, edge_keys))
    for node in sorted(graph.nodes):
        handle.write(_node_element(str(node), graph.nodes[node], node_keys))
    for source, target in sorted(graph.edges):
        handle.write(_edge_element(str(source), str(target), graph.edges[source, target],
                                   edge_keys))
    handle.write(_GRAPHML_TAIL)


class GraphmlSpool:
    """The GraphML of a cohort graph given in parts, one part per batch of patients, written
    as :func:`write_graphml_stream` writes the whole graph, without holding the whole graph.

    Each part's nodes and edges go to a sorted run file in ``folder`` (JSON lines); the
    attribute types are collected as they come; :meth:`write` merges the runs in order. The
    parts are disjoint but for the status nodes (``status:...``, the known ones in every part,
    an unknown status wherever a lesion has it) and the gene nodes (``gene:...``, wherever a
    lesion has an amplification): those are written once.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.runs: list[Path] = []
        self.node_types: dict[str, set[type]] = {}
        self.edge_types: dict[str, set[type]] = {}
        self.status_nodes: dict[str, dict] = {}

    def add(self, graph: nx.DiGraph) -> None:
        """Spool one part."""
        for name, found in _attribute_types(d for _, d in graph.nodes(data=True)).items():
            self.node_types.setdefault(name, set()).update(found)
        for name, found in _attribute_types(d for _, _, d in graph.edges(data=True)).items():
            self.edge_types.setdefault(name, set()).update(found)
        run = self.folder / f"graph-run-{len(self.runs):06d}.jsonl"
        with run.open("w", encoding="utf-8") as handle:
            for node in sorted(graph.nodes):
                data = graph.nodes[node]
                if str(node).startswith(_SHARED_PREFIXES):  # in several parts: once
                    self.status_nodes.setdefault(str(node), dict(data))
                    continue
                handle.write(json.dumps([0, str(node), "", data]) + "\n")
            for source, target in sorted(graph.edges):
                handle.write(json.dumps([1, str(source), str(target),
                                         graph.edges[source, target]]) + "\n")
        self.runs.append(run)

    #: Runs merged at once (more are first merged in groups: few files open at a time).
    FAN_IN = 64

    def _merged(self, runs: list[Path]):
        """The entries of ``runs`` in order, their files open only while they are read."""
        files = [run.open(encoding="utf-8") for run in runs]
        try:
            yield from heapq.merge(*(map(json.loads, f) for f in files), key=lambda e: e[:3])
        finally:
            for f in files:
                f.close()

    def write(self, handle) -> None:
        """Write the GraphML of every part spooled, then remove the runs."""
        runs = list(self.runs)
        try:
            while len(runs) > self.FAN_IN:  # merge groups of runs into longer runs first
                group, runs = runs[:self.FAN_IN], runs[self.FAN_IN:]
                merged = self.folder / f"graph-run-{len(self.runs):06d}.jsonl"
                self.runs.append(merged)
                with merged.open("w", encoding="utf-8") as out:
                    for entry in self._merged(group):
                        out.write(json.dumps(entry) + "\n")
                for run in group:
                    run.unlink()
                runs.append(merged)
            node_keys = _graphml_keys(self.node_types, "node")
            edge_keys = _graphml_keys(self.edge_types, "edge")
            handle.write(_graphml_head(node_keys, edge_keys))
            statuses = [[0, node, "", data] for node, data in sorted(self.status_nodes.items())]
            for kind, first, second, data in heapq.merge(self._merged(runs), iter(statuses),
                                                         key=lambda e: e[:3]):
                if kind == 0:
                    handle.write(_node_element(first, data, node_keys))
                else:
                    handle.write(_edge_element(first, second, data, edge_keys))
            handle.write(_GRAPHML_TAIL)
        finally:
            for run in self.runs:
                run.unlink(missing_ok=True)


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
