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
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

from .calls import CALLS_COLUMNS, build_calls, read_calls, read_calls_table
from .compare import ORIGIN_COLUMNS, classify
from .errors import (
    CallsFileError,
    LesionTrackError,
    OptionError,
    ReferenceMismatchError,
    SampleSheetError,
)
from .graph import build_graph, graph_to_graphml, graph_to_json, write_graph
from .samplesheet import read_samplesheet
from .stats import lesion_table, permutation_test, test_clustering
from .thresholds import Thresholds

logging.getLogger("lesiontrack").addHandler(logging.NullHandler())

__all__ = [
    "CALLS_COLUMNS",
    "ORIGIN_COLUMNS",
    "CallsFileError",
    "LesionTrackError",
    "OptionError",
    "ReferenceMismatchError",
    "SampleSheetError",
    "Thresholds",
    "__version__",
    "build_calls",
    "build_graph",
    "classify",
    "graph_to_graphml",
    "graph_to_json",
    "lesion_table",
    "permutation_test",
    "read_calls",
    "read_calls_table",
    "read_samplesheet",
    "test_clustering",
    "write_graph",
]
