"""The per-patient and cohort report: self-contained HTML pages, tables, JSON and provenance.

    import lesiontrack as lt
    from lesiontrack.report import write_report
    index = write_report("report", sheet=sheet, calls=calls, origins=origins, stats=stats,
                         sheet_path="samplesheet.tsv", options={"min_depth": 20})

For research use only, not for clinical decisions.
"""

from __future__ import annotations

from .render import NOTICE, safe_names, write_report

__all__ = ["NOTICE", "safe_names", "write_report"]
