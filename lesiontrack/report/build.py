"""Write the report folder: a cohort page, one page per patient, tables, JSON and provenance.

Everything is built in a temporary folder beside OUTDIR and moved into place at the end, so an
error never leaves a half-written report. Same inputs and options give byte-identical TSV, JSON,
GraphML and HTML; only ``provenance.json`` records the run time.

This module assembles: it takes each batch of patients (:class:`ReportPart`) through the
computing functions of :mod:`lesiontrack.compare`, :mod:`~lesiontrack.resistance`,
:mod:`~lesiontrack.roads`, :mod:`~lesiontrack.stats`, :mod:`~lesiontrack.phylo`,
:mod:`~lesiontrack.timeline` and :mod:`~lesiontrack.graph`, with the run's typed options
(:class:`~lesiontrack.Thresholds`, :class:`~lesiontrack.options.AnalysisOptions`,
:class:`~lesiontrack.options.ReadOptions`), and hands their results to the views
(:mod:`.views`, :mod:`.sections`, :mod:`.cohort`) and the renderer (:mod:`.render`). It decides
nothing itself; the recorded ``options`` dict only goes to ``provenance.json`` and the pages'
list of options.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import genome
from ..calls import empty_calls_table
from ..compare import empty_origins
from ..evidence import lesion_states, sample_states
from ..filenames import safe_names
from ..graph import GraphmlSpool, build_graph, codon_map
from ..options import AnalysisOptions, ReadOptions, Thresholds
from ..order import natural_key as _natural
from ..output import building_folder, frame_to_tsv, named_inputs
from ..patterns import check_table_patients, lesion_table, patient_patterns
from ..phylo import (
    Phylogeny,
    drops_samples,
    phylogeny,
    phylogeny_json,
    phylogeny_payload,
)
from ..phylo_tree import MUTATION_COLUMNS
from ..resistance import concat_resistance, heterogeneity, patient_resistance, resistance_table
from ..roads import patient_roads, road_records, roads_to_resistance, with_roads
from ..stats import add_heterogeneity, clustering_from_tables
from ..timeline import patient_timelines
from .cohort import CohortSummary, heterogeneity_view, outcomes_view
from .outdir import dumps, jsonable, options_shown, provenance, write_text
from .render import environment, progress_bar, render_patients
from .sections import KEY_GENES
from .views import PatientContext, roster, sample_calls, states_of


@dataclass
class ReportPart:
    """A batch of patients for :func:`write_report_parts`: every sample-sheet row (or None),
    call and origin of each of them."""

    sheet: pd.DataFrame | None
    calls: pd.DataFrame
    origins: pd.DataFrame
    states: pd.DataFrame | None = None  # evidence.lesion_states of the part (computed if None)
    sample_states: pd.DataFrame | None = None  # evidence.sample_states (computed if None)
    copy_number: pd.DataFrame | None = None  # roads.read_sheet_copy_number of the part


def _part_patients(part: ReportPart, lesions: dict, patterns: dict) -> list[str]:
    return sorted(set(lesions) | {str(p) for p in part.origins["patient_id"]} | set(patterns),
                  key=_natural)


def _at_least_one(parts: Iterable[ReportPart]) -> Iterator[ReportPart]:
    """``parts``, or one empty part when there is none (an empty cohort still gets its tables'
    headers and the graph's status nodes)."""
    empty = True
    for part in parts:
        empty = False
        yield part
    if empty:
        yield ReportPart(None, empty_calls_table(), empty_origins())


def _timelines(part: ReportPart, thresholds: Thresholds, patient_table) -> dict[str, dict]:
    """Each patient's timeline (:func:`lesiontrack.timeline.patient_timelines`) of a part."""
    if part.calls.empty and part.sheet is None:
        return {}
    grid = part.sample_states
    if grid is None:
        grid = sample_states(part.calls, part.sheet, thresholds=thresholds)
    return patient_timelines(grid, part.origins, part.sheet, part.calls, patient_table)


def _part_trees(calls: pd.DataFrame, origins: pd.DataFrame, sheet: pd.DataFrame | None,
                states: pd.DataFrame | None, thresholds: Thresholds, seed: int) -> Phylogeny:
    """The lesion trees of one part's patients (:class:`~lesiontrack.phylo.Phylogeny`, as
    ``lesiontrack phylogeny`` builds them: a patient's tree depends on its rows only)."""
    if calls.empty:
        return Phylogeny(patients={}, skipped={})
    reuse = states is not None and not drops_samples(calls)
    return phylogeny(calls, origins, sheet, states=states if reuse else None,
                     thresholds=thresholds, seed=seed)


class PhylogenyFolder:
    """The report's ``phylogeny/`` folder, filled part by part: the same files as ``lesiontrack
    phylogeny`` (``trees/<page name>.nwk``, ``mutations.tsv``, ``phylogeny.json``), patients in
    natural order whatever the parts. Each patient's mutation rows wait in a spool file until
    the end; only the small JSON entries are held."""

    def __init__(self, folder: Path, files: dict[str, str]) -> None:
        self.folder = folder / "phylogeny"
        (self.folder / "trees").mkdir(parents=True)
        self.spool = folder / ".phylogeny-rows"
        self.spool.mkdir()
        self.files = files
        self.entries: dict[str, dict] = {}
        self.skipped: dict[str, str] = {}

    def add(self, result: Phylogeny) -> None:
        """Write the trees of one part's patients and spool their mutation rows."""
        for patient, tree in result.patients.items():
            name = self.files.get(patient) or safe_names([patient])[patient]
            write_text(self.folder / "trees" / f"{name}.nwk", tree.newick() + "\n")
            write_text(self.spool / f"{name}.tsv", frame_to_tsv(tree.mutations(), header=False))
            entry = tree.to_dict()
            entry["newick_file"] = f"trees/{name}.nwk"
            self.entries[patient] = entry
        self.skipped.update(result.skipped)

    def close(self) -> None:
        """Write ``mutations.tsv`` and ``phylogeny.json`` of every patient added."""
        order = sorted(self.entries, key=_natural)
        with (self.folder / "mutations.tsv").open("w", encoding="utf-8", newline="\n") as out:
            out.write(frame_to_tsv(pd.DataFrame(columns=MUTATION_COLUMNS)))
            for patient in order:
                name = self.entries[patient]["newick_file"][len("trees/"):-len(".nwk")]
                part = self.spool / f"{name}.tsv"
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()
        self.spool.rmdir()
        payload = phylogeny_payload({p: self.entries[p] for p in order},
                                    {p: self.skipped[p] for p in sorted(self.skipped,
                                                                        key=_natural)})
        write_text(self.folder / "phylogeny.json", phylogeny_json(payload))


def build(folder: Path, *, parts: Iterable[ReportPart], patients: list[str],
          stats: dict | None, options: Mapping, thresholds: Thresholds,
          analysis: AnalysisOptions, jobs: int, progress: bool | None, outcomes=None,
          patient_table: pd.DataFrame | None = None) -> None:
    """Write the report into ``folder`` from ``parts`` (batches of patients, in the plain sorted
    order of their identifiers; one part holding everything is a batch too). Holds one part at
    a time: the calls and origins tables are appended part by part, the graph spooled to disk,
    and of each patient only what the cohort page shows is kept. ``stats`` None: computed from
    the parts' lesion tables and patterns at the end (``outcomes``: a function of those stats;
    ``patient_table``: the patient table deciding the patterns). ``thresholds`` and
    ``analysis`` (``focal_max``, ``permutations``, ``seed``) decide; ``options`` (as recorded)
    is only listed on the pages; ``jobs`` worker processes write the patient pages."""
    focal_max, seed = analysis.focal_max, analysis.seed
    given = {str(p["patient_id"]): p for p in stats.get("patients", [])} if stats else None
    if given is None:
        check_table_patients(patient_table, patients)
    files = safe_names(patients)
    sources = genome.knowledge_sources()
    env = environment()
    page = {
        "options": options_shown(options), "focal_max": focal_max,
        "thresholds": {"min_depth": thresholds.min_depth, "min_alt": thresholds.min_alt,
                       "min_vaf": thresholds.min_vaf, "error_rate": thresholds.error_rate,
                       "min_power": thresholds.min_power},
    }
    patient_dir = folder / "patients"
    patient_dir.mkdir()
    spool_dir = folder / ".graph-runs"
    spool_dir.mkdir()
    spool = GraphmlSpool(spool_dir)
    bar = progress_bar(progress, len(patients))
    summary = CohortSummary()
    phylogeny_folder = PhylogenyFolder(folder, files)
    tables: list[pd.DataFrame] = []
    resistances: list[pd.DataFrame] = []
    patterns: list[dict] = []
    n_patients = 0
    with (folder / "calls.tsv").open("w", encoding="utf-8", newline="\n") as calls_out, \
            (folder / "origins.tsv").open("w", encoding="utf-8", newline="\n") as origins_out:
        for number, part in enumerate(_at_least_one(parts)):
            calls, origins = part.calls, part.origins
            states = part.states if part.states is not None else lesion_states(
                calls, part.sheet, thresholds=thresholds)
            lesions = roster(part.sheet, calls)
            resistance = resistance_table(origins, part.sheet, states=states)
            resistances.append(resistance)
            mechanisms, controlled = roads_to_resistance(origins, states, calls, part.sheet,
                                                         part.copy_number,
                                                         thresholds=thresholds)
            if given is not None:  # the given stats' patterns of this part's patients
                found = {p: given[p] for p in _part_patients(part, lesions, {}) if p in given}
            else:
                table = lesion_table(origins, calls, part.sheet, states=states,
                                     thresholds=thresholds)
                part_patterns = patient_patterns(table, origins, calls, focal_max,
                                                 patients=patient_table)
                with_roads(part_patterns, patient_roads(mechanisms, controlled))
                tables.append(table)
                patterns.extend(part_patterns)
                n_patients += int(calls["patient_id"].nunique())
                found = {str(p["patient_id"]): p for p in part_patterns}
            trees = _part_trees(calls, origins, part.sheet, states, thresholds, seed)
            phylogeny_folder.add(trees)
            if given is None:
                add_heterogeneity(part_patterns, {p: t.heterogeneity()
                                                  for p, t in trees.patients.items()})
            graph = build_graph(calls, origins, part.sheet, states=states,
                                copy_number=part.copy_number)
            spool.add(graph)
            calls_out.write(frame_to_tsv(calls, header=number == 0))
            origins_out.write(frame_to_tsv(origins, header=number == 0))
            ctx = PatientContext(
                calls=calls, origins=origins, roster=lesions, cells=sample_calls(calls),
                codons=codon_map(calls), patterns=found, files=files, graph=graph,
                states=states_of(states), focal_max=focal_max, sources=sources,
                timelines=_timelines(part, thresholds, patient_table),
                resistance=patient_resistance(resistance, patients=_part_patients(
                    part, lesions, found)),
                roads=road_records(mechanisms, controlled, part.copy_number, KEY_GENES),
                trees=trees.patients,
            )
            done = render_patients(patient_dir, _part_patients(part, lesions, found), ctx, page,
                                   jobs, bar)
            for patient, cohort_part in done.items():
                summary.add(patient, cohort_part)
            del ctx, graph, lesions, calls, origins, states, part, done, trees
    if bar is not None:
        bar.close()
    phylogeny_folder.close()
    resistance = concat_resistance(resistances)
    if stats is None:
        table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
            columns=["patient_id", "lesion_id", "status", "secondary", "has_secondary"])
        stats = clustering_from_tables(table, patterns, n_patients=n_patients,
                                       permutations=analysis.permutations, seed=seed,
                                       resistance=resistance)
    if callable(outcomes):
        outcomes = outcomes(stats)
    write_text(folder / "stats.json", dumps(stats))
    with (folder / "cohort.graphml").open("w", encoding="utf-8", newline="\n") as handle:
        spool.write(handle)  # merged from the parts' sorted runs
    spool_dir.rmdir()
    cohort = summary.view(stats)
    cohort["heterogeneity"] = heterogeneity_view(
        stats.get("heterogeneity") or heterogeneity(resistance), resistance)
    cohort["outcomes"] = outcomes_view(outcomes)
    if outcomes:
        from ..outcomes import outcomes_json, outcomes_table

        write_text(folder / "outcomes.json", outcomes_json(outcomes["result"]))
        write_text(folder / "outcomes.tsv", frame_to_tsv(outcomes_table(outcomes["result"])))
    write_text(folder / "index.html",
               env.get_template("index.html").render(page=page, c=cohort, root=""))


def write_report(
    outdir: str | os.PathLike[str],
    *,
    sheet: pd.DataFrame | None,
    calls: pd.DataFrame,
    origins: pd.DataFrame,
    stats: dict,
    sheet_path: str | os.PathLike[str] | None = None,
    options: Mapping | None = None,
    thresholds: Thresholds | None = None,
    analysis: AnalysisOptions | None = None,
    reading: ReadOptions | None = None,
    force: bool = False,
    progress: bool | None = None,
    outcomes: dict | None = None,
    patient_table: pd.DataFrame | None = None,
    copy_number: pd.DataFrame | None = None,
) -> Path:
    """Write the HTML report, tables and provenance into ``outdir``; return ``index.html``'s path.

    ``thresholds`` (:class:`~lesiontrack.Thresholds`), ``analysis``
    (:class:`~lesiontrack.options.AnalysisOptions`: ``focal_max``, ``seed``) and ``reading``
    (:class:`~lesiontrack.options.ReadOptions`: ``jobs`` worker processes write the pages) are
    the options the report is computed with (their defaults when None: pass those the tables
    were made with). ``options`` are only recorded, as given, in ``provenance.json`` and listed
    on the pages (None: none recorded); ``sheet_path`` names the sample sheet there.

    ``copy_number`` (optional): the copy-number table of the sheet's ``cnv`` files
    (:func:`lesiontrack.roads.read_sheet_copy_number`, also given to
    :func:`~lesiontrack.test_clustering`), for the roads to resistance and the graph's
    ``amplified`` edges.

    ``outcomes`` (optional): ``{"result": ..., "figures": {endpoint: svg}, "by": grouping}``:
    the result of :func:`lesiontrack.outcomes.analyse` and its Kaplan-Meier figures
    (:func:`lesiontrack.report.figures.km_figures`), shown as an outcomes section on the cohort
    page and written as ``outcomes.json``/``outcomes.tsv``.

    ``sheet`` is the sample sheet (:func:`~lesiontrack.read_samplesheet`), ``calls`` the calls
    table, ``origins`` the origins table (:func:`~lesiontrack.classify`), ``stats`` the dict of
    :func:`~lesiontrack.test_clustering`. An existing non-empty ``outdir`` is refused with
    :class:`~lesiontrack.OptionError` unless ``force``; with ``force`` the old contents are
    replaced only once the new report is complete. ``progress``: a progress bar on stderr
    (default: only when stderr is a terminal). ``patient_table``: the patient table (its
    treatment start and progression dates are drawn on the timelines).
    """
    lesions = roster(sheet, calls)
    patients = sorted(set(lesions) | {str(p) for p in origins["patient_id"]}
                      | {str(p["patient_id"]) for p in stats.get("patients", [])}, key=_natural)
    return write_report_parts(outdir, parts=[ReportPart(sheet, calls, origins,
                                                        copy_number=copy_number)],
                              patients=patients, sheet=sheet, sheet_path=sheet_path,
                              options={} if options is None else options,
                              thresholds=thresholds, analysis=analysis,
                              reading=reading, force=force, progress=progress, stats=stats,
                              outcomes=outcomes, patient_table=patient_table)


def write_report_parts(
    outdir: str | os.PathLike[str],
    *,
    parts: Iterable[ReportPart],
    patients: Iterable[str],
    sheet: pd.DataFrame | None,
    sheet_path: str | os.PathLike[str] | None,
    options: Mapping,
    thresholds: Thresholds | None = None,
    analysis: AnalysisOptions | None = None,
    reading: ReadOptions | None = None,
    force: bool = False,
    progress: bool | None = None,
    stats: dict | None = None,
    outcomes=None,
    patient_table: pd.DataFrame | None = None,
) -> Path:
    """:func:`write_report` from batches of patients (:class:`ReportPart`, in the plain sorted
    order of the patient identifiers), read one at a time: memory follows the largest batch,
    not the cohort. ``patients``: every patient of the cohort (their page file names are
    settled first). ``stats`` None: :func:`~lesiontrack.test_clustering`'s result is computed
    from the parts (with ``analysis``' permutations, seed and focal_max, and the patterns
    decided by ``patient_table``, the patient table, when given); ``outcomes`` may then
    be a function of those stats returning the ``outcomes`` dict of :func:`write_report`.
    The report is the same for every way of cutting the cohort into parts."""
    outdir = Path(os.path.abspath(outdir))
    options = jsonable(dict(options))
    thresholds = thresholds if thresholds is not None else Thresholds()
    analysis = analysis if analysis is not None else AnalysisOptions()
    reading = reading if reading is not None else ReadOptions()
    inputs = named_inputs(sheet_path=sheet_path, sheet=sheet,
                          calls_tables=options.get("calls_tables"),
                          reference=options.get("reference"), patients=options.get("patients"))
    with building_folder(outdir, force=force, inputs=inputs) as built:
        build(built, parts=parts, patients=sorted(set(patients), key=_natural), stats=stats,
              options=options, thresholds=thresholds, analysis=analysis, jobs=reading.jobs,
              progress=progress, outcomes=outcomes, patient_table=patient_table)
        write_text(built / "provenance.json", provenance(sheet, sheet_path, options))
    return outdir / "index.html"
