"""The ``lesiontrack`` command: parse options, call the API, print one-line errors.

Exit codes: 0 success, 2 bad input or options (one line on stderr), 1 a bug (traceback with
``--debug``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from . import __version__, progress
from .errors import LesionTrackError, OptionError
from .options import (
    DEFAULT_AMP_CN,
    DEFAULT_ERROR_RATE,
    DEFAULT_FOCAL_MAX,
    DEFAULT_GENES,
    DEFAULT_GROUPING,
    DEFAULT_JOBS,
    DEFAULT_MIN_ALT,
    DEFAULT_MIN_DEPTH,
    DEFAULT_MIN_POWER,
    DEFAULT_MIN_VAF,
    DEFAULT_PERMUTATIONS,
    DEFAULT_PLASMA_MIN_ALT,
    DEFAULT_PLASMA_MIN_DEPTH,
    DEFAULT_PLASMA_MIN_VAF,
    DEFAULT_SEED,
    GROUPINGS,
)
from .progress import wrote
from .text import plural, stats_text

log = logging.getLogger("lesiontrack")


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"lesiontrack: {record.levelname.lower()}: {' '.join(record.getMessage().split())}"


class _Once(logging.Filter):
    """Each distinct message once per command (a report reads its cohort in batches, and a
    batch's warning about the options would repeat)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2) that point at the subcommand's ``--help``."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"lesiontrack: error: {message} (see '{self.prog} --help')\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is not None:  # left over by a subcommand: its error
            sub = self._subparsers._group_actions[0].choices.get(getattr(parsed, "command", None))
            if sub is not None:
                sub.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _add_global_options_to(subparsers: argparse._SubParsersAction) -> None:
    """``--debug`` and ``--quiet`` are accepted after the subcommand too (their default is left
    to the main parser's, so an option given before the subcommand still counts)."""
    for sub in subparsers.choices.values():
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show tracebacks of internal errors")
        sub.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                         help="print errors only")


def _add_input_options(parser: argparse.ArgumentParser, precomputed: bool = True,
                       classifies: bool = True) -> None:
    if precomputed:
        parser.add_argument("samplesheet", type=Path, nargs="?",
                            help="sample sheet (TSV or CSV); optional with --calls")
    else:
        parser.add_argument("samplesheet", type=Path, help="sample sheet (TSV or CSV)")
    group = parser.add_argument_group("reading calls")
    if precomputed:
        group.add_argument("--calls", type=Path, nargs="+", metavar="FILE", dest="calls_tables",
                           help="precomputed calls tables from 'lesiontrack calls' (TSV or "
                                "Parquet; several are concatenated) instead of reading the "
                                "calls files again; detected is recomputed with this "
                                "command's thresholds")
    group.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                       help=f"worker processes for reading calls files (default {DEFAULT_JOBS}; results are "
                            "identical for every N)")
    group.add_argument("--reference", type=Path, metavar="FASTA",
                       help="reference FASTA: checks REF alleles, left-aligns indels and names "
                            "protein changes (HGVS 3' rule)")
    group.add_argument("--assembly", choices=["GRCh37", "GRCh38"],
                       help="genome build when neither the sample sheet nor the files say")
    group.add_argument("--genes", default=",".join(DEFAULT_GENES), metavar="LIST",
                       help="genes to read, comma-separated, or 'all' (default: "
                            f"{','.join(DEFAULT_GENES)})")
    group.add_argument("--min-depth", type=int, default=DEFAULT_MIN_DEPTH, metavar="N",
                       help=f"reads needed at a site (default {DEFAULT_MIN_DEPTH})")
    group.add_argument("--min-alt", type=int, default=DEFAULT_MIN_ALT, metavar="N",
                       help=f"ALT reads needed for a detection (default {DEFAULT_MIN_ALT})")
    group.add_argument("--min-vaf", type=float, default=DEFAULT_MIN_VAF, metavar="F",
                       help=f"allele fraction needed for a detection (default {DEFAULT_MIN_VAF})")
    _add_plasma_options(group)
    if classifies:
        _add_time_options(parser)
        evidence = parser.add_argument_group("evidence of absence and counting")
        evidence.add_argument(
            "--error-rate", type=float, default=DEFAULT_ERROR_RATE, metavar="F",
            help="sequencing error rate: ALT reads above it (one-sided binomial test, alpha "
                 f"0.05) are low-level, never absent (default {DEFAULT_ERROR_RATE})")
        evidence.add_argument(
            "--min-power", type=float, default=DEFAULT_MIN_POWER, metavar="P",
            help="probability of detection at the expected allele fraction an absence needs "
                 f"(default {DEFAULT_MIN_POWER})")
        evidence.add_argument(
            "--count-all", action="store_true",
            help="count germline, synonymous, intronic and UTR changes in the clustering "
                 "statistics too (default: only protein-altering, non-germline ones)")
    group.add_argument("--include-filtered", action="store_true",
                       help="keep records whose FILTER is not PASS or '.'")
    group.add_argument("--assume-sorted", action="store_true",
                       help="unindexed VCFs are coordinate-sorted: stop reading after the genes' "
                            "contig (a disorder seen in the part read falls back to a full read)")
    group.add_argument("--recount", action="store_true",
                       help="with a bam column: replace callers' counts by counts from the "
                            "reads everywhere (default: reads only fill sites without a record)")


def _add_plasma_options(group) -> None:
    """``--plasma-min-vaf``, ``--plasma-min-alt``, ``--plasma-min-depth``: detection in
    role=plasma samples (error-corrected cfDNA data assumed); ``--plasma-error-rate``: their
    noise test."""
    from .options import DEFAULT_PLASMA_ERROR_RATE

    group.add_argument("--plasma-min-vaf", type=float, default=DEFAULT_PLASMA_MIN_VAF,
                       metavar="F", help="allele fraction a detection in plasma needs (default "
                                         f"{DEFAULT_PLASMA_MIN_VAF}; assumes error-corrected, "
                                         "UMI data)")
    group.add_argument("--plasma-min-alt", type=int, default=DEFAULT_PLASMA_MIN_ALT,
                       metavar="N", help="ALT reads a detection in plasma needs (default "
                                         f"{DEFAULT_PLASMA_MIN_ALT})")
    group.add_argument("--plasma-min-depth", type=int, default=DEFAULT_PLASMA_MIN_DEPTH,
                       metavar="N", help="reads needed at a site in plasma (default "
                                         f"{DEFAULT_PLASMA_MIN_DEPTH})")
    group.add_argument("--plasma-error-rate", type=float, default=DEFAULT_PLASMA_ERROR_RATE,
                       metavar="F", help="error rate the ALT reads of an absence in plasma are "
                                         f"tested against (default {DEFAULT_PLASMA_ERROR_RATE}; "
                                         "UMI data)")


def _add_time_options(parser: argparse.ArgumentParser) -> None:
    """``--at DATE``: evaluate with the samples dated on or before DATE."""
    group = parser.add_argument_group("time")
    group.add_argument("--at", metavar="DATE",
                       help="evaluate everything (states, origins, statistics) with the samples "
                            "dated on or before DATE (YYYY-MM-DD); undated samples always count")


def _thresholds_of(args: argparse.Namespace):
    """The :class:`~lesiontrack.Thresholds` of a parsed command."""
    from .options import Thresholds

    return Thresholds(args.min_depth, args.min_alt, args.min_vaf,
                      getattr(args, "error_rate", DEFAULT_ERROR_RATE),
                      getattr(args, "min_power", DEFAULT_MIN_POWER),
                      getattr(args, "plasma_min_depth", DEFAULT_PLASMA_MIN_DEPTH),
                      getattr(args, "plasma_min_alt", DEFAULT_PLASMA_MIN_ALT),
                      getattr(args, "plasma_min_vaf", DEFAULT_PLASMA_MIN_VAF),
                      getattr(args, "plasma_error_rate", Thresholds.plasma_error_rate))


def _at(args: argparse.Namespace) -> str | None:
    """The command's ``--at`` date (validated), or None."""
    from .timeline import parse_at

    return parse_at(getattr(args, "at", None))


def _whole_number_at_least_one(text: str) -> int:
    """argparse type: a whole number >= 1 (a permutation test of 0 draws means nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_stats_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("statistics")
    group.add_argument("--permutations", type=_whole_number_at_least_one,
                       default=DEFAULT_PERMUTATIONS, metavar="N",
                       help=f"permutations of status labels (default {DEFAULT_PERMUTATIONS})")
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                       help=f"random seed of the permutation test (default {DEFAULT_SEED})")
    group.add_argument("--focal-max", type=int, default=DEFAULT_FOCAL_MAX, metavar="N",
                       help="most progressive lesions a focal progression may have "
                            f"(default {DEFAULT_FOCAL_MAX})")
    _add_copy_number_options(parser)


def _add_copy_number_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("copy number (the sample sheet's cnv column)")
    group.add_argument("--amp-cn", type=float, default=DEFAULT_AMP_CN, metavar="CN",
                       help="total copy number from which a gene is amplified (and at least "
                            f"2.5 x the tumour ploidy; default {DEFAULT_AMP_CN:g})")


def _copy_number(args: argparse.Namespace, sheet, calls, thresholds):
    """The copy-number table of the sheet's cnv files (no rows without any), with the
    command's --genes, --amp-cn and --assembly."""
    from .roads import read_sheet_copy_number

    return read_sheet_copy_number(sheet, calls, genes=args.genes,
                                  amp_cn=getattr(args, "amp_cn", DEFAULT_AMP_CN),
                                  assembly=args.assembly, thresholds=thresholds)


def _add_patients_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=Path, metavar="FILE",
                        help="patient table (TSV/CSV): patient_id and treatment_start_date "
                             "(plasma drawn before it acts as a baseline sample)")


def _states(calls, sheet, thresholds, args: argparse.Namespace, patients_table=None):
    """(lesion states, origins, sample states) of a parsed command."""
    from .compare import classify, lesion_states, sample_states

    per_sample = sample_states(calls, sheet, thresholds=thresholds)
    states = lesion_states(calls, sheet, thresholds=thresholds, sample_states=per_sample)
    origins = classify(calls, sheet, thresholds=thresholds, count_all=args.count_all,
                       states=states, sample_states=per_sample, patients=patients_table)
    return states, origins, per_sample


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lesiontrack`` command."""
    parser = _Parser(
        prog="lesiontrack",
        description="Track somatic mutations lesion by lesion: which mutations were there from "
                    "the start (primary) and which were acquired where the disease progresses "
                    "(secondary). For research use only, not for clinical decisions.",
    )
    parser.add_argument("--version", action="version", version=f"lesiontrack {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)

    p = sub.add_parser("calls", help="read every lesion's calls into one annotated table",
                       description="Read every lesion's calls named by the sample sheet into "
                                   "one table: one row per (sample, variant).")
    _add_input_options(p, precomputed=False, classifies=False)
    p.add_argument("--patient", nargs="+", metavar="ID", dest="only_patients",
                   help="read only these patients' rows of the sample sheet (to scatter a "
                        "cohort per patient)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="output TSV (.parquet for Parquet; missing folders are created; never "
                        "an input); default: standard output")

    p = sub.add_parser("classify", help="primary vs secondary origin of every mutation",
                       description="Give every (patient, mutation) an origin (primary, "
                                   "secondary, undetermined) with its rule and evidence.")
    _add_input_options(p)
    _add_patients_option(p)
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="output TSV (missing folders are created; never an input); default: "
                        "standard output")

    p = sub.add_parser("graph", help="the graph of patients, lesions, statuses and mutations",
                       description="Write the cohort graph as GraphML (Cytoscape) or "
                                   "node-link JSON.")
    _add_input_options(p)
    _add_patients_option(p)
    _add_copy_number_options(p)
    p.add_argument("-o", "--output", type=Path, metavar="FILE", required=True,
                   help="FILE.graphml or FILE.json (missing folders are created; never an "
                        "input)")

    p = sub.add_parser("stats", help="do secondary mutations cluster in progressive lesions?",
                       description="Lesion-level 2x2 table, one-sided Fisher test, "
                                   "within-patient permutation test, Mantel-Haenszel odds "
                                   "ratio and each patient's progression pattern.")
    _add_input_options(p)
    _add_stats_options(p)
    p.add_argument("--patients", type=Path, metavar="FILE",
                   help="patient table (TSV/CSV): patient_id and radiology_progressive + "
                        "radiology_controlled (lesion counts on imaging) and/or pattern, which "
                        "decide each patient's pattern (outcome columns are optional here)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a text summary")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE instead of standard output (missing folders are "
                        "created; never an input)")

    p = sub.add_parser(
        "outcomes", help="outcome after salvage therapy by progression pattern",
        description="Kaplan-Meier progression-free and overall survival after salvage therapy "
                    "per group, log-rank test and Cox hazard ratio. For research use only, not "
                    "for clinical decisions.")
    _add_input_options(p)
    p.add_argument("--patients", type=Path, required=True, metavar="FILE",
                   help="patient table (TSV/CSV): patient_id, progression_date, salvage, "
                        "pfs_event_date or pfs_censor_date, death_date or last_followup_date "
                        "(ISO dates); or pfs_months, pfs_event, os_months, os_event; optional "
                        "pattern, radiology_progressive and radiology_controlled")
    p.add_argument("--by", choices=GROUPINGS, default=DEFAULT_GROUPING,
                   help="group by progression pattern, by secondary mutations confined to "
                        f"progressive lesions, or by any secondary mutation (default: {DEFAULT_GROUPING})")
    p.add_argument("--focal-max", type=int, default=DEFAULT_FOCAL_MAX, metavar="N",
                   help="most progressive lesions a focal progression may have "
                        f"(default {DEFAULT_FOCAL_MAX})")
    p.add_argument("-o", "--outdir", type=Path, metavar="OUTDIR",
                   help="also write outcomes.json, outcomes.tsv, km_pfs.svg, km_os.svg into "
                        "this folder (created; must be new or empty; built beside it and "
                        "moved into place when complete)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing OUTDIR (only once the new one is complete)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a text summary")

    _add_phylogeny_parser(sub)
    from .report.cli import add_parsers

    add_parsers(sub, _add_input_options, _add_stats_options)
    _add_global_options_to(sub)
    return parser


def _add_phylogeny_parser(sub) -> None:
    p = sub.add_parser(
        "phylogeny", help="a rooted lesion tree per patient (exome or panel: --genes all)",
        description="Per patient with two or more lesions, a rooted lesion tree from the "
                    "mutations' evidence states (detected = present, powered absent = absent, "
                    "low-level or not evaluable = missing, never absent): each mutation gained "
                    "once and never lost, the tree with the fewest contradictions. Writes "
                    "trees/<patient>.nwk, mutations.tsv and phylogeny.json into OUTDIR. For "
                    "research use only, not for clinical decisions.")
    _add_input_options(p)
    group = p.add_argument_group("tree")
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                       help="random seed of the heuristic search (more than 7 lesions; "
                            f"default {DEFAULT_SEED})")
    group.add_argument("--all-dates", action="store_true",
                       help="merge every sample of a lesion (default: only its latest-date "
                            "samples, when the sample sheet has dates)")
    p.add_argument("-o", "--output", type=Path, metavar="OUTDIR", required=True,
                   help="folder to write into (created; must be new or empty)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing OUTDIR (only once the new one is complete)")


def _load_sheet(args: argparse.Namespace):
    """(sample sheet or None, thresholds) for a parsed command; ``--patient`` applied."""
    from .samplesheet import read_samplesheet
    from .timeline import at_date

    thresholds = _thresholds_of(args)
    at = _at(args)  # fail fast on a bad date
    tables = getattr(args, "calls_tables", None)
    if args.samplesheet is None and not tables:
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
    if sheet is not None and at is not None:
        sheet = at_date(sheet, at)
    return sheet, thresholds


#: Commands that write a folder, and the option naming it; the others write a file (-o).
_FOLDER_OUTPUTS = {"report": "output", "demo": "output", "outcomes": "outdir",
                   "phylogeny": "output"}


def _inputs(args: argparse.Namespace, sheet) -> list:
    """Every input of the parsed command as (role, path), index files included."""
    from .io.output import named_inputs

    return named_inputs(sheet_path=args.samplesheet, sheet=sheet,
                        calls_tables=getattr(args, "calls_tables", None),
                        reference=getattr(args, "reference", None),
                        patients=getattr(args, "patients", None))


def _refuse_inputs_as_outputs(args: argparse.Namespace, sheet) -> None:
    """OptionError when the command's output file is one of its inputs, or its output folder
    holds one (see :func:`lesiontrack.io.output.check_outputs`)."""
    from .io.output import check_outputs

    folder_option = _FOLDER_OUTPUTS.get(args.command)
    target = getattr(args, folder_option or "output", None)
    if target is None:
        return
    if folder_option:
        check_outputs(_inputs(args, sheet), folders=[target])
    else:
        check_outputs(_inputs(args, sheet), files=[target])


def _build_calls(args: argparse.Namespace, sheet, thresholds):
    """The calls table of ``sheet``'s samples, with the command's reading options."""
    from .calls import build_calls

    return build_calls(sheet, sheet_path=args.samplesheet, genes=args.genes,
                       thresholds=thresholds, include_filtered=args.include_filtered,
                       reference=args.reference, assembly=args.assembly, jobs=args.jobs,
                       recount=args.recount, assume_sorted=args.assume_sorted)


def _load(args: argparse.Namespace):
    """(sample sheet or None, calls table, thresholds) for a parsed command."""
    sheet, thresholds = _load_sheet(args)
    return sheet, _load_calls(args, sheet, thresholds), thresholds


def _load_calls(args: argparse.Namespace, sheet, thresholds):
    """The calls table: from ``--calls`` tables, else read from the sheet's calls files."""
    from .calls import read_calls_table

    tables = getattr(args, "calls_tables", None)
    if tables:
        from .timeline import calls_at

        return calls_at(read_calls_table(tables, thresholds=thresholds), sheet, _at(args))
    return _build_calls(args, sheet, thresholds)


def _emit(text: str, output: Path | None) -> None:
    from .io.output import atomic_write

    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text)


def _run_outcomes(args: argparse.Namespace) -> int:
    from .outcomes import analyse, outcomes_json, outcomes_text, write_outcomes
    from .patients import read_patients
    from .stats import test_clustering

    if args.outdir is not None:
        from .io.output import check_outdir

        check_outdir(args.outdir, args.force, _inputs(args, None))  # before the slow part
    patients = read_patients(args.patients)  # before the calls files: fail fast
    sheet, thresholds = _load_sheet(args)  # refuses an OUTDIR holding a file the sheet names
    calls = _load_calls(args, sheet, thresholds)
    states, origins, _ = _states(calls, sheet, thresholds, args, patients)
    clustering = test_clustering(origins, calls, samples=sheet, focal_max=args.focal_max,
                                 patients=patients, thresholds=thresholds, states=states)
    result, groups = analyse(patients, clustering["patients"], args.by,
                             focal_max=args.focal_max)
    if args.outdir is not None:
        from .report.figures import km_figures

        figures = km_figures(patients, groups, result)
        written = write_outcomes(args.outdir, result, figures, force=args.force,
                                 inputs=_inputs(args, sheet))
    sys.stdout.write(outcomes_json(result) if args.json else outcomes_text(result))
    if args.outdir is not None:
        wrote(f"wrote {', '.join(p.name for p in written)} into {args.outdir}",
              quiet=args.quiet)
    return 0


def _run_phylogeny(args: argparse.Namespace) -> int:
    """``lesiontrack phylogeny``: trees, mutations.tsv and phylogeny.json built in a folder
    beside OUTDIR and moved into place once complete (as the report)."""
    from .compare import classify, lesion_states
    from .io.output import building_folder, check_outdir
    from .phylo import drops_samples, phylogeny, write_phylogeny

    check_outdir(args.output, args.force, _inputs(args, None))  # before the slow part
    sheet, thresholds = _load_sheet(args)  # refuses an OUTDIR holding a file the sheet names
    calls = _load_calls(args, sheet, thresholds)
    states = lesion_states(calls, sheet, thresholds=thresholds)
    origins = classify(calls, sheet, thresholds=thresholds, count_all=args.count_all,
                       states=states)
    latest_only = not args.all_dates
    result = phylogeny(calls, origins, sheet, thresholds=thresholds, seed=args.seed,
                       latest_only=latest_only,
                       states=None if latest_only and drops_samples(calls) else states)
    with building_folder(args.output, force=args.force, inputs=_inputs(args, sheet)) as built:
        write_phylogeny(result, built)
    n, skipped = len(result.patients), len(result.skipped)
    note = (f"; {skipped} {plural(skipped, 'patient')} with one lesion skipped"
            if skipped else "")
    wrote(f"wrote {n} lesion {plural(n, 'tree')}, mutations.tsv and phylogeny.json into "
          f"{args.output}{note}", quiet=args.quiet)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one parsed command."""
    if args.command == "outcomes":
        return _run_outcomes(args)
    if args.command == "phylogeny":
        return _run_phylogeny(args)
    if args.command in ("report", "demo"):
        from .report.cli import run as run_report

        return run_report(args)
    from .io.output import frame_to_tsv, write_table

    if args.command == "calls":
        _, calls, _ = _load(args)
        if args.output is None:
            sys.stdout.write(frame_to_tsv(calls))
        else:
            write_table(calls, args.output)
            wrote(f"wrote {len(calls):,} {plural(len(calls), 'row')} (calls) to {args.output}",
                  quiet=args.quiet)
        return 0
    patients_table = None
    if getattr(args, "patients", None) is not None:
        from .patients import read_patients

        patients_table = read_patients(args.patients, require_outcomes=False)  # fail fast
    sheet, calls, thresholds = _load(args)
    states, origins, _ = _states(calls, sheet, thresholds, args, patients_table)
    if args.command == "classify":
        if args.output is None:
            sys.stdout.write(frame_to_tsv(origins))
        else:
            write_table(origins, args.output)
            wrote(f"wrote {len(origins):,} {plural(len(origins), 'row')} (origins of "
                  f"mutations) to {args.output}", quiet=args.quiet)
    elif args.command == "graph":
        from .graph import build_graph, write_graph

        graph = build_graph(calls, origins, sheet, states=states,
                            copy_number=_copy_number(args, sheet, calls, thresholds))
        write_graph(graph, args.output)
        wrote(f"wrote the cohort graph ({graph.number_of_nodes():,} nodes, "
              f"{graph.number_of_edges():,} edges) to {args.output}", quiet=args.quiet)
    elif args.command == "stats":
        from .stats import test_clustering

        result = test_clustering(origins, calls, samples=sheet, permutations=args.permutations,
                                 seed=args.seed, focal_max=args.focal_max,
                                 patients=patients_table, thresholds=thresholds,
                                 states=states,
                                 copy_number=_copy_number(args, sheet, calls, thresholds))
        text = (json.dumps(result, indent=2, sort_keys=False) + "\n") if args.json else (
            stats_text(result))
        _emit(text, args.output)
        if args.output is not None:
            wrote(f"wrote the statistics ({'JSON' if args.json else 'text'}) to {args.output}",
                  quiet=args.quiet)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lesiontrack`` console script."""
    previous = _on_terminate()  # first: SIGTERM at any later point gives the one line
    try:
        return _main(argv)
    except _Terminated:
        _unwinding()
        return _say_terminated()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            _stop_retrying()
            _TERMINATION.clear()
            _UNWINDING[0] = False


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    handler.addFilter(_Once())
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.ERROR if args.quiet else logging.WARNING)
    log.propagate = False
    try:
        with progress.enabled(not args.quiet):
            code = run(args)
        if _TERMINATION.is_set():  # asked to stop while finishing: say so
            _unwinding()
            raise _Terminated
        return code
    except _Terminated:
        progress.close_all()
        raise
    except BaseException as exc:
        progress.close_all()
        if _TERMINATION.is_set():  # e.g. the worker pool broken by the same SIGTERM
            _unwinding()
            raise _Terminated from None
        return _error_exit(exc, args.debug)
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def _error_exit(exc: BaseException, debug: bool) -> int:
    """The one line and exit code of an exception that ended a command."""
    from .io.output import WRITE_ONLY_ERRNOS, write_failure

    if isinstance(exc, OSError) and exc.errno in WRITE_ONLY_ERRNOS:
        failure = write_failure(exc, None if exc.filename else "output")  # a full disk
        if failure is not None:
            exc = failure
    if isinstance(exc, LesionTrackError):
        print(f"lesiontrack: error: {exc.one_line()}", file=sys.stderr)
        return 2
    if isinstance(exc, KeyboardInterrupt):
        print("lesiontrack: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):
        return 0
    if not isinstance(exc, Exception):  # SystemExit and the like
        raise exc
    if debug:
        raise exc
    print(f"lesiontrack: internal error: {type(exc).__name__}: {exc} "
          "(a bug: please report it; --debug shows the traceback)", file=sys.stderr)
    return 1


class _Terminated(BaseException):
    """SIGTERM (a batch system's kill, ``timeout``): unwinds like an error, so temporary
    folders and half-built reports are removed on the way out."""


#: Set once SIGTERM arrived: later exceptions are its consequences, and say "terminated".
_TERMINATION = threading.Event()
#: The process that installed the handler (a forked child before its reset is not it).
_OWNER = [os.getpid()]
#: Code that must not be interrupted by an exception: locks taken and released by hand, fork
#: hooks, worker-pool book-keeping. SIGTERM there is acted on as soon as it has left.
_DELICATE = tuple(os.path.join(os.path.dirname(threading.__file__), name) for name in (
    "threading.py", "logging", "concurrent", "multiprocessing", "queue.py", "weakref.py",
    "selectors.py", "subprocess.py", "tempfile.py", "shutil.py", "contextlib.py"))
_RETRY_SECONDS = 0.02


def _say_terminated() -> int:
    print("lesiontrack: terminated", file=sys.stderr)
    return 143


def _in_delicate_code(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith(_DELICATE):
            return True
        frame = frame.f_back
    return False


def _quiet_after_termination(args) -> None:
    """Threads and finalisers that fail once SIGTERM broke the worker pool stay silent (the
    hooks stay in place: the process is ending)."""


def _terminated(signum, frame):
    if os.getpid() != _OWNER[0]:  # a forked worker before its reset: die as by default
        os._exit(128 + signal.SIGTERM)
    if _UNWINDING[0]:  # already on the way out: one line, whatever else arrives
        return
    if not _TERMINATION.is_set():
        _TERMINATION.set()
        threading.excepthook = _quiet_after_termination  # e.g. InvalidStateError: CANCELLED
        sys.unraisablehook = _quiet_after_termination
    if hasattr(signal, "setitimer") and _RETRIES[0] < _MAX_RETRIES and _in_delicate_code(frame):
        # raising here could leave a lock held or a pool half-updated: look again shortly
        # (at most _MAX_RETRIES times: a wait for a result that never comes is safe to end)
        _RETRIES[0] += 1
        previous = signal.signal(signal.SIGALRM, _terminated)
        if previous is not _terminated:
            _SAVED_ALARM.append(previous)
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)
        return
    _unwinding()
    raise _Terminated


def _unwinding() -> None:
    """From here on the command ends as terminated: no second exception, no retry timer."""
    _UNWINDING[0] = True
    _stop_retrying()


_UNWINDING = [False]
_RETRIES = [0]
_MAX_RETRIES = 50  # 1 s


_SAVED_ALARM: list = []  # the SIGALRM handler replaced while SIGTERM waits for a safe point


def _stop_retrying() -> None:
    _RETRIES[0] = 0
    if _SAVED_ALARM:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, _SAVED_ALARM.pop())


def _default_sigterm_in_child() -> None:
    """After a fork: a worker process dies on SIGTERM at once, as by default (worker pools
    stop their workers with SIGTERM, and a Python-level handler could not run while a worker
    waits inside a C call: the pool would wait for it for ever)."""
    with contextlib.suppress(ValueError, OSError):  # not the main thread of the child
        if signal.getsignal(signal.SIGTERM) is _terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def _on_terminate():
    """Turn SIGTERM in this process into :class:`_Terminated`; returns the handler it replaced
    (None when signals cannot be set here: not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    _OWNER[0] = os.getpid()
    return signal.signal(signal.SIGTERM, _terminated)


if __name__ == "__main__":
    sys.exit(main())
