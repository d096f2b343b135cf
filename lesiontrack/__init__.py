"""lesiontrack: track somatic mutations lesion by lesion in metastatic cancer.

Reads per-lesion variant calls (VCF, BCF, MAF, TSV) named by a sample sheet, separates each
patient's primary (original) mutations from secondary (acquired) ones, builds a graph of
patients, lesions, progression status and mutations, and tests whether secondary mutations
cluster in progressive lesions. For research use only, not for clinical decisions.

    import lesiontrack as lt
    calls = lt.read_calls("samplesheet.tsv")
    origins = lt.classify(calls, lt.read_samplesheet("samplesheet.tsv"))
    graph = lt.build_graph(calls, origins)
    result = lt.test_clustering(origins, calls)
    trees = lt.phylogeny(calls, origins)  # lesion trees (module lesiontrack.phylo)
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from .errors import (
    CallsFileError,
    LesionTrackError,
    OptionError,
    OutputError,
    ReferenceMismatchError,
    SampleSheetError,
)
from .version import __version__

# The rest of the public API is imported on first use (PEP 562), so that `import lesiontrack`
# and `lesiontrack --help` stay quick: pandas, scipy and matplotlib load only when needed.
_LAZY = {
    "CALLS_COLUMNS": "calls", "build_calls": "calls", "read_calls": "calls",
    "read_calls_table": "calls_tables", "calls_table_batches": "calls_tables", "ORIGIN_COLUMNS": "compare", "classify": "compare",
    "lesion_states": "evidence",
    "build_graph": "graph", "graph_to_graphml": "graph", "graph_to_json": "graph",
    "write_graph": "graph", "read_samplesheet": "samplesheet", "lesion_table": "patterns",
    "permutation_test": "stats", "test_clustering": "stats",
    "clustering_from_tables": "stats", "patient_patterns": "patterns", "Thresholds": "options",
    "phylogeny": "phylo", "write_phylogeny": "phylo",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .calls import CALLS_COLUMNS, build_calls, read_calls
    from .calls_tables import calls_table_batches, read_calls_table
    from .compare import ORIGIN_COLUMNS, classify
    from .evidence import lesion_states
    from .graph import build_graph, graph_to_graphml, graph_to_json, write_graph
    from .options import Thresholds
    from .patterns import lesion_table, patient_patterns
    from .phylo import phylogeny, write_phylogeny
    from .samplesheet import read_samplesheet
    from .stats import clustering_from_tables, permutation_test, test_clustering


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lesiontrack' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


logging.getLogger("lesiontrack").addHandler(logging.NullHandler())

__all__ = [
    "CALLS_COLUMNS",
    "ORIGIN_COLUMNS",
    "CallsFileError",
    "LesionTrackError",
    "OptionError",
    "OutputError",
    "ReferenceMismatchError",
    "SampleSheetError",
    "Thresholds",
    "__version__",
    "build_calls",
    "build_graph",
    "calls_table_batches",
    "classify",
    "clustering_from_tables",
    "graph_to_graphml",
    "graph_to_json",
    "lesion_states",
    "lesion_table",
    "patient_patterns",
    "permutation_test",
    "phylogeny",
    "read_calls",
    "read_calls_table",
    "read_samplesheet",
    "test_clustering",
    "write_graph",
    "write_phylogeny",
]
