"""The per-patient and cohort report: self-contained HTML pages, tables, JSON and provenance.

    import lesiontrack as lt
    from lesiontrack.report import write_report
    index = write_report("report", sheet=sheet, calls=calls, origins=origins, stats=stats,
                         sheet_path="samplesheet.tsv", options={"min_depth": 20},
                         thresholds=lt.Thresholds(min_depth=20))

For research use only, not for clinical decisions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = ["NOTICE", "ReportPart", "write_report", "write_report_parts"]

if TYPE_CHECKING:  # pragma: no cover
    from ..cohort import ReportPart
    from .build import write_report, write_report_parts
    from .outdir import NOTICE


def __getattr__(name: str):
    # build (jinja2, pandas, matplotlib) loads on first use, so `lesiontrack --help` stays quick
    if name in __all__:
        home = {"NOTICE": ".outdir", "ReportPart": "..cohort"}.get(name, ".build")
        value = getattr(importlib.import_module(home, __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lesiontrack.report' has no attribute {name!r}")
