"""What each sub-command does: read the inputs named by its typed options, call the API's
steps, write the outputs. No rule lives here; every decision is the API's.

The heavy modules (pandas, the readers, the report) are imported inside the functions, so that
``lesiontrack --help`` stays quick.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import OptionError
from ..options import BATCH_PATIENTS, DEFAULT_GROUPING, AnalysisOptions, ReadOptions, Thresholds
from ..progress import wrote
from ..text import plural, stats_text
from .parser import analysis_of, reading_of, recorded_options, thresholds_of


@dataclass(frozen=True)
class Run:
    """A parsed command with its typed options."""

    args: argparse.Namespace
    thresholds: Thresholds
    reading: ReadOptions
    analysis: AnalysisOptions

    @classmethod
    def of(cls, args: argparse.Namespace) -> Run:
        """The typed options of ``args`` (validated: a bad value is an OptionError)."""
        return cls(args, thresholds_of(args), reading_of(args), analysis_of(args))

    @property
    def quiet(self) -> bool:
        return bool(getattr(self.args, "quiet", False))


#: Commands that write a folder, and the option naming it; the others write a file (-o).
_FOLDER_OUTPUTS = {"report": "output", "demo": "output", "outcomes": "outdir",
                   "phylogeny": "output"}


def _inputs(args: argparse.Namespace, sheet) -> list:
    """Every input of the parsed command as (role, path), index files included."""
    from ..output import named_inputs

    return named_inputs(sheet_path=args.samplesheet, sheet=sheet,
                        calls_tables=getattr(args, "calls_tables", None),
                        reference=getattr(args, "reference", None),
                        patients=getattr(args, "patients", None))


def _refuse_inputs_as_outputs(args: argparse.Namespace, sheet) -> None:
    """OptionError when the command's output file is one of its inputs, or its output folder
    holds one (see :func:`lesiontrack.output.check_outputs`)."""
    from ..output import check_outputs

    folder_option = _FOLDER_OUTPUTS.get(args.command)
    target = getattr(args, folder_option or "output", None)
    if target is None:
        return
    if folder_option:
        check_outputs(_inputs(args, sheet), folders=[target])
    else:
        check_outputs(_inputs(args, sheet), files=[target])


def _load_sheet(run: Run):
    """The sample sheet (or None with only --calls tables); ``--patient`` and ``--at``
    applied."""
    from ..samplesheet import read_samplesheet
    from ..timeline import at_date

    args = run.args
    if args.samplesheet is None and not run.reading.calls_tables:
        raise OptionError("give a sample sheet, or precomputed calls tables with --calls",
                          field="samplesheet")
    sheet = read_samplesheet(args.samplesheet) if args.samplesheet is not None else None
    _refuse_inputs_as_outputs(args, sheet)  # the whole sheet's files, before --patient
    wanted = getattr(args, "only_patients", None)
    if wanted:
        unknown = sorted(set(wanted) - set(sheet["patient_id"]))
        if unknown:
            raise OptionError(f"patient {unknown[0]!r} is not in the sample sheet",
                              file=args.samplesheet, field="--patient")
        sheet = sheet[sheet["patient_id"].isin(wanted)].reset_index(drop=True)
    if sheet is not None and run.analysis.at is not None:
        sheet = at_date(sheet, run.analysis.at)
    return sheet


def _build_calls(run: Run, sheet):
    """The calls table of ``sheet``'s samples, read from their calls files."""
    from ..calls import build_calls

    r = run.reading
    return build_calls(sheet, sheet_path=run.args.samplesheet, genes=r.genes,
                       thresholds=run.thresholds, include_filtered=r.include_filtered,
                       reference=r.reference, assembly=r.assembly, jobs=r.jobs,
                       recount=r.recount, assume_sorted=r.assume_sorted)


def _load_calls(run: Run, sheet):
    """The calls table: from ``--calls`` tables, else read from the sheet's calls files."""
    if run.reading.calls_tables:
        from ..calls_tables import read_calls_table
        from ..timeline import calls_at

        calls = read_calls_table(list(run.reading.calls_tables), thresholds=run.thresholds)
        return calls_at(calls, sheet, run.analysis.at)
    return _build_calls(run, sheet)


def _copy_number(run: Run, sheet, calls):
    """The copy-number table of the sheet's cnv files (no rows without any)."""
    from ..roads import read_sheet_copy_number

    return read_sheet_copy_number(sheet, calls, genes=run.reading.genes,
                                  amp_cn=run.analysis.amp_cn, assembly=run.reading.assembly,
                                  thresholds=run.thresholds)


def _states(run: Run, calls, sheet, patients_table=None):
    """(lesion states, origins, sample states)."""
    from ..compare import states_and_origins

    return states_and_origins(calls, sheet, thresholds=run.thresholds,
                              count_all=run.analysis.count_all, patients=patients_table)


def _patient_table(args: argparse.Namespace, require_outcomes: bool = False):
    """The ``--patients`` table, or None (read before the calls files: fail fast)."""
    if getattr(args, "patients", None) is None:
        return None
    from ..patients import read_patients

    return read_patients(args.patients, require_outcomes=require_outcomes)


def _emit(text: str, output: Path | None) -> None:
    from ..output import atomic_write

    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text)


def _write_frame(frame, output: Path | None, what: str, quiet: bool) -> None:
    from ..output import frame_to_tsv, write_table

    if output is None:
        sys.stdout.write(frame_to_tsv(frame))
    else:
        write_table(frame, output)
        wrote(f"wrote {len(frame):,} {plural(len(frame), 'row')} ({what}) to {output}",
              quiet=quiet)


def _calls(run: Run) -> int:
    sheet = _load_sheet(run)
    _write_frame(_load_calls(run, sheet), run.args.output, "calls", run.quiet)
    return 0


def _classify(run: Run) -> int:
    patients_table = _patient_table(run.args)
    sheet = _load_sheet(run)
    _, origins, _ = _states(run, _load_calls(run, sheet), sheet, patients_table)
    _write_frame(origins, run.args.output, "origins of mutations", run.quiet)
    return 0


def _graph(run: Run) -> int:
    from ..graph import build_graph, write_graph

    patients_table = _patient_table(run.args)
    sheet = _load_sheet(run)
    calls = _load_calls(run, sheet)
    states, origins, _ = _states(run, calls, sheet, patients_table)
    graph = build_graph(calls, origins, sheet, states=states,
                        copy_number=_copy_number(run, sheet, calls))
    write_graph(graph, run.args.output)
    wrote(f"wrote the cohort graph ({graph.number_of_nodes():,} nodes, "
          f"{graph.number_of_edges():,} edges) to {run.args.output}", quiet=run.quiet)
    return 0


def _stats(run: Run) -> int:
    from ..stats import clustering_test

    args, a = run.args, run.analysis
    patients_table = _patient_table(args)
    sheet = _load_sheet(run)
    calls = _load_calls(run, sheet)
    states, origins, _ = _states(run, calls, sheet, patients_table)
    result = clustering_test(calls, origins, sheet, permutations=a.permutations,
                             seed=a.seed, focal_max=a.focal_max, patients=patients_table,
                             thresholds=run.thresholds, states=states,
                             copy_number=_copy_number(run, sheet, calls))
    text = (json.dumps(result, indent=2, sort_keys=False) + "\n") if args.json else (
        stats_text(result))
    _emit(text, args.output)
    if args.output is not None:
        wrote(f"wrote the statistics ({'JSON' if args.json else 'text'}) to {args.output}",
              quiet=run.quiet)
    return 0


def _outcomes(run: Run) -> int:
    from ..outcomes import analyse, outcomes_json, write_outcomes
    from ..stats import clustering_test
    from ..text import outcomes_text

    args, a = run.args, run.analysis
    if args.outdir is not None:
        from ..output import check_outdir

        check_outdir(args.outdir, args.force, _inputs(args, None))  # before the slow part
    patients = _patient_table(args, require_outcomes=True)  # before the calls files
    sheet = _load_sheet(run)  # refuses an OUTDIR holding a file the sheet names
    calls = _load_calls(run, sheet)
    states, origins, _ = _states(run, calls, sheet, patients)
    clustering = clustering_test(calls, origins, sheet, focal_max=a.focal_max,
                                 patients=patients, thresholds=run.thresholds, states=states)
    result, groups = analyse(patients, clustering["patients"], a.by, focal_max=a.focal_max)
    if args.outdir is not None:
        from ..report.figures import km_figures

        figures = km_figures(patients, groups, result)
        written = write_outcomes(args.outdir, result, figures, force=args.force,
                                 inputs=_inputs(args, sheet))
    sys.stdout.write(outcomes_json(result) if args.json else outcomes_text(result))
    if args.outdir is not None:
        wrote(f"wrote {', '.join(p.name for p in written)} into {args.outdir}",
              quiet=run.quiet)
    return 0


def _phylogeny(run: Run) -> int:
    """Trees, mutations.tsv and phylogeny.json built in a folder beside OUTDIR and moved into
    place once complete (as the report)."""
    from ..compare import classify
    from ..evidence import lesion_states
    from ..output import building_folder, check_outdir
    from ..phylo import phylogeny, reusable_states, write_phylogeny

    args = run.args
    check_outdir(args.output, args.force, _inputs(args, None))  # before the slow part
    sheet = _load_sheet(run)  # refuses an OUTDIR holding a file the sheet names
    calls = _load_calls(run, sheet)
    states = lesion_states(calls, sheet, thresholds=run.thresholds)
    origins = classify(calls, sheet, thresholds=run.thresholds,
                       count_all=run.analysis.count_all, states=states)
    latest_only = not args.all_dates
    result = phylogeny(calls, origins, sheet, thresholds=run.thresholds, seed=run.analysis.seed,
                       latest_only=latest_only,
                       states=reusable_states(calls, states, latest_only=latest_only))
    with building_folder(args.output, force=args.force, inputs=_inputs(args, sheet)) as built:
        write_phylogeny(result, built)
    n, skipped = len(result.patients), len(result.skipped)
    note = (f"; {skipped} {plural(skipped, 'patient')} with one lesion skipped"
            if skipped else "")
    wrote(f"wrote {n} lesion {plural(n, 'tree')}, mutations.tsv and phylogeny.json into "
          f"{args.output}{note}", quiet=run.quiet)
    return 0


@contextlib.contextmanager
def demo_samplesheet() -> Iterator[Path]:
    """The bundled demo cohort's sample sheet (``lesiontrack.demo``, which an installed package
    maps to the repository's ``fixtures/``; an editable install finds ``fixtures/`` directly)."""
    from importlib import resources  # here, not at import: it costs every --help ~7 ms

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


def _analysed_cohort(run: Run, sheet, patients_table=None):
    """The report's cohort (:class:`lesiontrack.cohort.CohortAnalysis`): one batch of patients
    at a time, read from the sample sheet's calls files or from --calls tables; ``--at``
    applied."""
    from ..cohort import analyse_cohort

    return analyse_cohort(sheet, thresholds=run.thresholds, reading=run.reading,
                          analysis=run.analysis, read_calls=lambda rows: _build_calls(run, rows),
                          read_copy_number=lambda rows, calls: _copy_number(run, rows, calls),
                          patient_table=patients_table, batch_size=BATCH_PATIENTS)


def _write_report(run: Run) -> tuple[Path, int]:
    """Write the report: (its index.html, the number of patients)."""
    from ..output import check_outdir
    from ..report.build import write_report_parts

    args = run.args
    check_outdir(Path(os.path.abspath(args.output)), args.force, _inputs(args, None))
    patients_table = _patient_table(args)
    sheet = _load_sheet(run)
    cohort = _analysed_cohort(run, sheet, patients_table)

    def outcomes(stats: dict) -> dict | None:
        if patients_table is None or not patients_table.attrs.get("endpoints"):
            return None
        from ..outcomes import analyse
        from ..report.figures import km_figures

        result, groups = analyse(patients_table, stats["patients"], run.analysis.by,
                                 focal_max=run.analysis.focal_max)
        return {"result": result, "figures": km_figures(patients_table, groups, result),
                "by": run.analysis.by}

    index = write_report_parts(args.output, parts=cohort, patients=cohort.patients,
                               sheet=sheet, sheet_path=args.samplesheet,
                               options=recorded_options(args), reading=run.reading,
                               force=args.force, outcomes=outcomes,
                               progress=False if run.quiet else None)
    return index, len(cohort.patients)


def _report(run: Run) -> int:
    index, n_patients = _write_report(run)
    wrote(f"wrote the report of {n_patients} {plural(n_patients, 'patient')}: {index}",
          quiet=run.quiet)
    return 0


def _demo(args: argparse.Namespace) -> int:
    log = logging.getLogger("lesiontrack")
    level = log.level
    with demo_samplesheet() as sheet:
        args.samplesheet = sheet
        patients = sheet.parent / "patients.tsv"
        args.patients = patients if patients.is_file() else None
        args.by = DEFAULT_GROUPING
        log.setLevel(logging.ERROR)  # the demo's known gaps
        try:
            index, n_patients = _write_report(Run.of(args))
        finally:
            log.setLevel(level)
    sys.stdout.write(f"{index}\n")
    wrote(f"wrote the demo report ({n_patients} patients) into {index.parent}: open "
          "index.html", quiet=getattr(args, "quiet", False))
    return 0


_COMMANDS = {"calls": _calls, "classify": _classify, "graph": _graph, "stats": _stats,
             "outcomes": _outcomes, "phylogeny": _phylogeny, "report": _report}


def run(args: argparse.Namespace) -> int:
    """Run one parsed command; returns the exit code (errors raise LesionTrackError)."""
    if args.command == "demo":
        return _demo(args)
    command = _COMMANDS.get(args.command)
    if command is None:
        raise OptionError(f"unknown command {args.command!r}")
    return command(Run.of(args))
