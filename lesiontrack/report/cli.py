"""The ``report`` and ``demo`` commands (wired into ``lesiontrack.cli`` by :func:`add_parsers`).

``lesiontrack report SAMPLESHEET -o OUTDIR [--force]`` writes the HTML report, tables and
provenance; ``lesiontrack demo -o OUTDIR`` does the same for the bundled demo cohort and prints the
path of its ``index.html``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from ..errors import OptionError
from ..options import BATCH_PATIENTS, DEFAULT_GROUPING, GROUPINGS
from ..progress import wrote
from ..text import plural

#: Namespace keys that are plumbing, not options (left out of provenance.json).
_PLUMBING = {"func", "handler"}


def add_parsers(
    subparsers: argparse._SubParsersAction,
    add_input_options: Callable[[argparse.ArgumentParser], None],
    add_stats_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``report`` and ``demo`` sub-commands to the ``lesiontrack`` parser."""
    p = subparsers.add_parser(
        "report", help="write the HTML report of a cohort (cohort page + one page per patient)",
        description="Write a self-contained HTML report into OUTDIR: the cohort page (clustering "
                    "statistics, where secondary mutations fall, recurrent mutations), one page "
                    "per patient (lesion x mutation matrix, lesion graph, evidence of every "
                    "origin call), the tables (calls.tsv, origins.tsv), stats.json, "
                    "cohort.graphml and provenance.json. For research use only, not for "
                    "clinical decisions.")
    add_input_options(p)
    add_stats_options(p)
    _add_output_options(p)
    group = p.add_argument_group("outcomes")
    group.add_argument("--patients", type=Path, metavar="FILE",
                       help="patient table: its pattern or radiology_progressive + "
                            "radiology_controlled decide each patient's pattern; with outcome "
                            "columns it adds an outcomes section to the cohort page (see "
                            "'lesiontrack outcomes --help')")
    group.add_argument("--by", choices=GROUPINGS, default=DEFAULT_GROUPING,
                       help="grouping of the outcomes section (default: pattern)")
    p.set_defaults(report_command="report")

    d = subparsers.add_parser(
        "demo", help="write the report of the bundled demo cohort",
        description="Run the report on the bundled demo GIST cohort and print the path of its "
                    "index.html.")
    _add_output_options(d)
    d.set_defaults(report_command="demo", **_option_defaults(add_input_options,
                                                             add_stats_options))


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, metavar="OUTDIR", required=True,
                        help="folder to write the report into (created with its parents; must "
                             "be new or empty, and hold no input)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing OUTDIR (only once the new report is complete)")


def _option_defaults(add_input_options, add_stats_options) -> dict:
    """The default of every input and statistics option (the demo runs with them)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_input_options(parser)
    add_stats_options(parser)
    defaults = vars(parser.parse_args(["samplesheet.tsv"]))
    defaults.pop("samplesheet", None)
    return defaults


def _options(args: argparse.Namespace) -> dict:
    """The exact options of this run, as JSON-ready values."""
    out = {}
    for key, value in sorted(vars(args).items()):
        if key in _PLUMBING or callable(value):
            continue
        out[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return out


@contextlib.contextmanager
def demo_samplesheet() -> Iterator[Path]:
    """The bundled demo cohort's sample sheet (``lesiontrack.demo``, which an installed package
    maps to the repository's ``fixtures/``; an editable install finds ``fixtures/`` directly)."""
    checkout = Path(__file__).resolve().parents[2] / "fixtures" / "samplesheet.tsv"
    try:
        sheet = resources.files("lesiontrack.demo") / "samplesheet.tsv"
    except ModuleNotFoundError as exc:
        if checkout.is_file():
            yield checkout
            return
        raise OptionError("the demo cohort is not installed (no lesiontrack.demo package)",
                          hint="reinstall lesiontrack, or run 'lesiontrack report' on your own "
                               "sample sheet") from exc
    if not sheet.is_file():
        raise OptionError("the demo cohort's samplesheet.tsv is missing",
                          hint="reinstall lesiontrack")
    with resources.as_file(sheet) as path:
        yield Path(path)


#: Patients read, classified and written at a time by ``report``: its memory follows this
#: many patients, not the cohort (the report is the same for every value).
def patient_batches(sheet, size: int) -> list[list[str]]:
    """The sheet's patients in plain sorted order, cut into batches of at least ``size`` (the
    last may be smaller), never between patients that share a calls file or a BAM: a file is
    read once, and its checks see all of its rows."""
    order = sorted(set(sheet["patient_id"]))
    position = {p: i for i, p in enumerate(order)}
    reach = list(range(len(order)))  # the last position that must share i's batch
    for column in ("calls_path", "bam_path"):
        if column not in sheet:
            continue
        for path, rows in sheet.groupby(column, sort=False)["patient_id"]:
            if not path:
                continue
            spots = [position[p] for p in rows]
            reach[min(spots)] = max(reach[min(spots)], max(spots))
    batches: list[list[str]] = []
    current: list[str] = []
    end = -1
    for i, patient in enumerate(order):
        current.append(patient)
        end = max(end, reach[i])
        if i >= end and len(current) >= size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def _parts(args: argparse.Namespace, sheet, thresholds, patients_table=None):
    """(every patient, the report's parts: one batch of patients at a time, read from the
    sample sheet's calls files or from --calls tables; ``--at`` applied)."""
    from ..calls import calls_table_batches
    from ..cli import _at, _build_calls
    from ..compare import classify, lesion_states, sample_states
    from ..timeline import calls_at
    from .build import ReportPart

    at = _at(args)

    tables = getattr(args, "calls_tables", None)
    known = [] if sheet is None else sorted(set(sheet["patient_id"]))
    if tables:
        patients, batches = calls_table_batches(tables, thresholds=thresholds,
                                                patients_per_batch=BATCH_PATIENTS,
                                                also_patients=known)
    else:
        patients = known
        batches = ((batch, None) for batch in patient_batches(sheet, BATCH_PATIENTS))

    def parts():
        for batch, calls in batches:
            rows = None if sheet is None else sheet[sheet["patient_id"].isin(batch)]
            if calls is None:
                calls = _build_calls(args, rows.reset_index(drop=True), thresholds)
            elif at is not None:
                calls = calls_at(calls, rows, at)
            per_sample = sample_states(calls, rows, thresholds=thresholds)
            states = lesion_states(calls, rows, thresholds=thresholds, sample_states=per_sample)
            origins = classify(calls, rows, thresholds=thresholds,
                               count_all=bool(getattr(args, "count_all", False)), states=states,
                               sample_states=per_sample, patients=patients_table)
            yield ReportPart(rows, calls, origins, states, per_sample,
                             copy_number=_part_copy_number(args, rows, calls, thresholds))
            del calls, rows, states, origins  # not held while the next batch is read

    return patients, parts()


def _part_copy_number(args: argparse.Namespace, rows, calls, thresholds):
    """The copy-number table of one batch's samples (the sheet's cnv files; no rows without
    any), with the run's --genes, --amp-cn and --assembly."""
    from ..cli import _copy_number

    return _copy_number(args, rows, calls, thresholds)


def _report(args: argparse.Namespace) -> tuple[Path, int]:
    """Write the report of ``args``: (its index.html, the number of patients)."""
    from ..cli import _at, _inputs, _load_sheet
    from ..io.output import check_outdir
    from ..options import DEFAULT_AMP_CN, AnalysisOptions, ReadOptions
    from .build import write_report_parts

    # fail before the slow part (and before reading the sheet; once read, an OUTDIR holding
    # any file it names is refused too)
    check_outdir(Path(os.path.abspath(args.output)), args.force, _inputs(args, None))
    patients_table = None
    if getattr(args, "patients", None) is not None:
        from ..patients import read_patients

        # fail fast, before reading the calls; outcome columns are optional here
        patients_table = read_patients(args.patients, require_outcomes=False)
    sheet, thresholds = _load_sheet(args)
    analysis = AnalysisOptions(at=_at(args), count_all=bool(getattr(args, "count_all", False)),
                               focal_max=args.focal_max, permutations=args.permutations,
                               seed=args.seed, amp_cn=getattr(args, "amp_cn", DEFAULT_AMP_CN),
                               by=args.by)
    tables = getattr(args, "calls_tables", None)
    reading = ReadOptions(
        genes=args.genes, assembly=args.assembly,
        reference=None if args.reference is None else os.fspath(args.reference),
        jobs=args.jobs, include_filtered=args.include_filtered,
        assume_sorted=args.assume_sorted, recount=args.recount,
        calls_tables=tuple(os.fspath(t) for t in tables or ()))
    patients, parts = _parts(args, sheet, thresholds, patients_table)

    def outcomes(stats: dict) -> dict | None:
        if patients_table is None or not patients_table.attrs.get("endpoints"):
            return None
        from ..outcomes import analyse
        from .figures import km_figures

        result, groups = analyse(patients_table, stats["patients"], analysis.by,
                                 focal_max=analysis.focal_max)
        return {"result": result, "figures": km_figures(patients_table, groups, result),
                "by": analysis.by}

    index = write_report_parts(args.output, parts=parts, patients=patients, sheet=sheet,
                               sheet_path=args.samplesheet, options=_options(args),
                               thresholds=thresholds, analysis=analysis, reading=reading,
                               force=args.force, outcomes=outcomes,
                               patient_table=patients_table,
                               progress=False if getattr(args, "quiet", False) else None)
    return index, len(patients)


def run(args: argparse.Namespace) -> int:
    """Run ``report`` or ``demo``; returns the exit code (errors raise LesionTrackError)."""
    command = getattr(args, "report_command", None) or getattr(args, "command", None)
    if command == "demo":
        with demo_samplesheet() as sheet:
            args.samplesheet = sheet
            patients = sheet.parent / "patients.tsv"
            args.patients = patients if patients.is_file() else None
            args.by = "pattern"
            logging.getLogger("lesiontrack").setLevel(logging.ERROR)  # the demo's known gaps
            index, n_patients = _report(args)
        sys.stdout.write(f"{index}\n")
        wrote(f"wrote the demo report ({n_patients} patients) into {index.parent}: open "
              "index.html", quiet=getattr(args, "quiet", False))
        return 0
    if command == "report":
        index, n_patients = _report(args)
        wrote(f"wrote the report of {n_patients} {plural(n_patients, 'patient')}: {index}",
              quiet=getattr(args, "quiet", False))
        return 0
    raise OptionError(f"unknown report command {command!r}")
