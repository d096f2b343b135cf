"""lesiontrack: track somatic mutations lesion by lesion in metastatic cancer.

Reads per-lesion variant calls (VCF, BCF, MAF, TSV) named by a sample sheet, separates each
patient's primary (original) mutations from secondary (acquired) ones, builds a graph of
patients, lesions, progression status and mutations, and tests whether secondary mutations
cluster in progressive lesions. For research use only, not for clinical decisions.

The root holds the user's steps, in the order of the flow (one argument order: calls, origins,
sheet)::

    import lesiontrack as lt
    sheet = lt.read_samplesheet("samplesheet.tsv")
    calls = lt.read_calls("samplesheet.tsv")             # read and annotated (lt.annotate_calls)
    states = lt.lesion_states(calls, sheet)               # detected / absent / not evaluable
    origins = lt.classify(calls, sheet, states=states)    # primary / secondary
    graph = lt.build_graph(calls, origins, sheet, states=states)
    result = lt.clustering_test(calls, origins, sheet, states=states)
    trees = lt.phylogeny(calls, origins, sheet)
    table = lt.read_patients("patients.tsv")
    outcome = lt.survival(table, result, by="pattern")    # Kaplan-Meier, log-rank, Cox
    lt.write_report("report", calls=calls, origins=origins, sheet=sheet, stats=result)

Batch plumbing for cohorts too large to hold lives in the submodules (``lt.calls_tables``,
``lt.patterns``, ``lt.stats``, ``lt.report``), which load on first use.
"""

from __future__ import annotations

import functools
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
    # the steps
    "read_samplesheet": "samplesheet", "read_calls": "calls", "build_calls": "calls",
    "read_calls_table": "calls_tables", "annotate_calls": "annotate",
    "lesion_states": "evidence", "classify": "compare", "build_graph": "graph",
    "clustering_test": "stats", "test_clustering": "stats", "phylogeny": "phylo",
    "read_patients": "patients", "survival": "outcomes", "write_report": "report.build",
    # their outputs
    "write_graph": "graph", "graph_to_graphml": "graph", "graph_to_json": "graph",
    "write_phylogeny": "phylo",
    # tables' columns and the typed options
    "CALLS_COLUMNS": "calls", "ORIGIN_COLUMNS": "compare", "Thresholds": "options",
    "ReadOptions": "options", "AnalysisOptions": "options",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .annotate import annotate_calls
    from .calls import CALLS_COLUMNS, build_calls, read_calls
    from .calls_tables import read_calls_table
    from .compare import ORIGIN_COLUMNS, classify
    from .evidence import lesion_states
    from .graph import build_graph, graph_to_graphml, graph_to_json, write_graph
    from .options import AnalysisOptions, ReadOptions, Thresholds
    from .outcomes import survival
    from .patients import read_patients
    from .phylo import phylogeny, write_phylogeny
    from .report.build import write_report
    from .samplesheet import read_samplesheet
    from .stats import clustering_test, test_clustering


@functools.cache
def _submodules() -> frozenset[str]:
    """The package's modules and subpackages, reachable as attributes (``lt.stats``) and
    imported on first use; read from the package folder, so none is left out."""
    import pkgutil

    return frozenset(m.name for m in pkgutil.iter_modules(__path__))


def __getattr__(name: str):
    if name in _submodules():
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lesiontrack' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _submodules())


logging.getLogger("lesiontrack").addHandler(logging.NullHandler())

__all__ = [
    "CALLS_COLUMNS",
    "ORIGIN_COLUMNS",
    "AnalysisOptions",
    "CallsFileError",
    "LesionTrackError",
    "OptionError",
    "OutputError",
    "ReadOptions",
    "ReferenceMismatchError",
    "SampleSheetError",
    "Thresholds",
    "__version__",
    "annotate_calls",
    "build_calls",
    "build_graph",
    "classify",
    "clustering_test",
    "graph_to_graphml",
    "graph_to_json",
    "lesion_states",
    "phylogeny",
    "read_calls",
    "read_calls_table",
    "read_patients",
    "read_samplesheet",
    "survival",
    "test_clustering",
    "write_graph",
    "write_phylogeny",
    "write_report",
]
