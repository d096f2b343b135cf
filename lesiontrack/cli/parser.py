"""The ``lesiontrack`` command line: every sub-command's options, and their typed values.

The defaults come from :mod:`lesiontrack.options`; :func:`thresholds_of`, :func:`reading_of` and
:func:`analysis_of` turn a parsed command into the typed options the API takes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..options import (
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
    DEFAULT_PLASMA_ERROR_RATE,
    DEFAULT_PLASMA_MIN_ALT,
    DEFAULT_PLASMA_MIN_DEPTH,
    DEFAULT_PLASMA_MIN_VAF,
    DEFAULT_SEED,
    GROUPINGS,
    AnalysisOptions,
    ReadOptions,
    Thresholds,
)
from ..version import __version__


class Parser(argparse.ArgumentParser):
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
    group.add_argument("--jobs", type=_whole_number_at_least_one, default=DEFAULT_JOBS,
                       metavar="N",
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


def thresholds_of(args: argparse.Namespace) -> Thresholds:
    """The :class:`~lesiontrack.Thresholds` of a parsed command."""
    return Thresholds(args.min_depth, args.min_alt, args.min_vaf,
                      getattr(args, "error_rate", DEFAULT_ERROR_RATE),
                      getattr(args, "min_power", DEFAULT_MIN_POWER),
                      getattr(args, "plasma_min_depth", DEFAULT_PLASMA_MIN_DEPTH),
                      getattr(args, "plasma_min_alt", DEFAULT_PLASMA_MIN_ALT),
                      getattr(args, "plasma_min_vaf", DEFAULT_PLASMA_MIN_VAF),
                      getattr(args, "plasma_error_rate", DEFAULT_PLASMA_ERROR_RATE))


def at_of(args: argparse.Namespace) -> str | None:
    """The command's ``--at`` date (validated), or None."""
    from ..timeline import parse_at

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


def _add_patients_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=Path, metavar="FILE",
                        help="patient table (TSV/CSV): patient_id and treatment_start_date "
                             "(plasma drawn before it acts as a baseline sample)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lesiontrack`` command."""
    parser = Parser(
        prog="lesiontrack",
        description="Track somatic mutations lesion by lesion: which mutations were there from "
                    "the start (primary) and which were acquired where the disease progresses "
                    "(secondary). For research use only, not for clinical decisions.",
    )
    parser.add_argument("--version", action="version", version=f"lesiontrack {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=Parser)

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
    _add_report_parsers(sub)
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




def _add_report_parsers(sub) -> None:
    """The ``report`` and ``demo`` sub-commands."""
    p = sub.add_parser(
        "report", help="write the HTML report of a cohort (cohort page + one page per patient)",
        description="Write a self-contained HTML report into OUTDIR: the cohort page (clustering "
                    "statistics, where secondary mutations fall, recurrent mutations), one page "
                    "per patient (lesion x mutation matrix, lesion graph, evidence of every "
                    "origin call), the tables (calls.tsv, origins.tsv), stats.json, "
                    "cohort.graphml and provenance.json. For research use only, not for "
                    "clinical decisions.")
    _add_input_options(p)
    _add_stats_options(p)
    _add_output_options(p)
    group = p.add_argument_group("outcomes")
    group.add_argument("--patients", type=Path, metavar="FILE",
                       help="patient table: its pattern or radiology_progressive + "
                            "radiology_controlled decide each patient's pattern; with outcome "
                            "columns it adds an outcomes section to the cohort page (see "
                            "'lesiontrack outcomes --help')")
    group.add_argument("--by", choices=GROUPINGS, default=DEFAULT_GROUPING,
                       help=f"grouping of the outcomes section (default: {DEFAULT_GROUPING})")
    p.set_defaults(report_command="report")

    d = sub.add_parser(
        "demo", help="write the report of the bundled demo cohort",
        description="Run the report on the bundled demo GIST cohort and print the path of its "
                    "index.html.")
    _add_output_options(d)
    d.set_defaults(report_command="demo", **_option_defaults())


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, metavar="OUTDIR", required=True,
                        help="folder to write the report into (created with its parents; must "
                             "be new or empty, and hold no input)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing OUTDIR (only once the new report is complete)")


def _option_defaults() -> dict:
    """The default of every input and statistics option (the demo runs with them)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_input_options(parser)
    _add_stats_options(parser)
    defaults = vars(parser.parse_args(["samplesheet.tsv"]))
    defaults.pop("samplesheet", None)
    return defaults


def reading_of(args: argparse.Namespace) -> ReadOptions:
    """The typed reading options of a parsed command."""
    tables = getattr(args, "calls_tables", None) or ()
    return ReadOptions(genes=args.genes, assembly=args.assembly,
                       reference=None if args.reference is None else os.fspath(args.reference),
                       jobs=args.jobs, include_filtered=args.include_filtered,
                       assume_sorted=args.assume_sorted, recount=args.recount,
                       calls_tables=tuple(os.fspath(t) for t in tables))


def analysis_of(args: argparse.Namespace) -> AnalysisOptions:
    """The typed analysis options of a parsed command (a command without an option gets its
    default)."""
    defaults = AnalysisOptions()
    return AnalysisOptions(
        at=at_of(args), count_all=bool(getattr(args, "count_all", False)),
        **{name: getattr(args, name, getattr(defaults, name))
           for name in ("focal_max", "permutations", "seed", "amp_cn", "by")})


#: Options that are plumbing of the command line, not options of the run.
_PLUMBING = {"func", "handler"}


def recorded_options(args: argparse.Namespace) -> dict:
    """The exact options of this run, as JSON-ready values (the report's provenance)."""
    out = {}
    for key, value in sorted(vars(args).items()):
        if key in _PLUMBING or callable(value):
            continue
        out[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return out
