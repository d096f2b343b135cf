"""Write the report folder: a cohort page, one page per patient, tables, JSON and provenance.

Everything is built in a temporary folder beside OUTDIR and moved into place at the end, so an
error never leaves a half-written report. Same inputs and options give byte-identical TSV, JSON,
GraphML and HTML; only ``provenance.json`` records the run time.

This module assembles and computes nothing: it takes each analysed batch of patients
(:class:`lesiontrack.cohort.AnalysedPart` of a :class:`lesiontrack.cohort.CohortAnalysis`: lesion
states, patterns, resistance, roads, trees, graph, timelines) and, at the end, the cohort
statistics, writes the tables, graph and trees, and hands the rest to the views (:mod:`.views`,
:mod:`.sections`, :mod:`.cohort`) and the renderer (:mod:`.render`). The recorded ``options``
dict only goes to ``provenance.json`` and the pages' list of options.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .. import genome
from ..cohort import AnalysedPart, CohortAnalysis, ReportPart
from ..errors import OptionError
from ..filenames import safe_names
from ..graph import GraphmlSpool, codon_map
from ..options import AnalysisOptions, ReadOptions, Thresholds
from ..order import natural_key as _natural
from ..output import building_folder, frame_to_tsv, named_inputs
from ..phylo import Phylogeny, phylogeny_json, phylogeny_payload
from ..phylo_tree import MUTATION_COLUMNS
from ..resistance import patient_resistance
from ..roads import road_records
from .cohort import CohortSummary, heterogeneity_view, outcomes_view
from .outdir import dumps, jsonable, options_shown, provenance, write_text
from .render import environment, progress_bar, render_patients
from .sections import KEY_GENES
from .views import PatientContext, roster, sample_calls, states_of


def _part_patients(part: AnalysedPart, lesions: dict, patterns: dict) -> list[str]:
    return sorted(set(lesions) | {str(p) for p in part.origins["patient_id"]} | set(patterns),
                  key=_natural)


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


def build(folder: Path, *, cohort: CohortAnalysis, patients: list[str], options: Mapping,
          jobs: int, progress: bool | None, outcomes=None) -> None:
    """Write the report into ``folder`` from ``cohort``'s analysed parts (batches of patients,
    in the plain sorted order of their identifiers; one part holding everything is a batch
    too) and its statistics. Holds one part at a time: the calls and origins tables are
    appended part by part, the graph spooled to disk, and of each patient only what the cohort
    page shows is kept. ``outcomes``: the outcomes dict, or a function of the statistics
    returning it. The cohort's thresholds and ``focal_max`` are shown; ``options`` (as
    recorded) is only listed on the pages; ``jobs`` worker processes write the patient
    pages."""
    thresholds, focal_max = cohort.thresholds, cohort.analysis.focal_max
    stats = cohort.given
    given = {str(p["patient_id"]): p for p in stats.get("patients", [])} if stats else None
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
    with (folder / "calls.tsv").open("w", encoding="utf-8", newline="\n") as calls_out, \
            (folder / "origins.tsv").open("w", encoding="utf-8", newline="\n") as origins_out:
        for number, part in enumerate(cohort):
            calls, origins = part.calls, part.origins
            lesions = roster(part.sheet, calls)
            if given is not None:  # the given stats' patterns of this part's patients
                found = {p: given[p] for p in _part_patients(part, lesions, {}) if p in given}
            else:
                found = {str(p["patient_id"]): p for p in part.patterns}
            phylogeny_folder.add(part.trees)
            spool.add(part.graph)
            calls_out.write(frame_to_tsv(calls, header=number == 0))
            origins_out.write(frame_to_tsv(origins, header=number == 0))
            ctx = PatientContext(
                calls=calls, origins=origins, roster=lesions, cells=sample_calls(calls),
                codons=codon_map(calls), patterns=found, files=files, graph=part.graph,
                states=states_of(part.states), focal_max=focal_max, sources=sources,
                timelines=part.timelines,
                resistance=patient_resistance(part.resistance, patients=_part_patients(
                    part, lesions, found)),
                roads=road_records(part.mechanisms, part.controlled, part.copy_number,
                                   KEY_GENES),
                trees=part.trees.patients,
            )
            done = render_patients(patient_dir, _part_patients(part, lesions, found), ctx, page,
                                   jobs, bar)
            for patient, cohort_part in done.items():
                summary.add(patient, cohort_part)
            del ctx, lesions, calls, origins, part, done
    if bar is not None:
        bar.close()
    phylogeny_folder.close()
    resistance = cohort.resistance()
    stats = cohort.statistics()
    if callable(outcomes):
        outcomes = outcomes(stats)
    write_text(folder / "stats.json", dumps(stats))
    with (folder / "cohort.graphml").open("w", encoding="utf-8", newline="\n") as handle:
        spool.write(handle)  # merged from the parts' sorted runs
    spool_dir.rmdir()
    view = summary.view(stats)
    view["heterogeneity"] = heterogeneity_view(cohort.heterogeneity(), resistance)
    view["outcomes"] = outcomes_view(outcomes)
    if outcomes:
        from ..outcomes import outcomes_json, outcomes_table

        write_text(folder / "outcomes.json", outcomes_json(outcomes["result"]))
        write_text(folder / "outcomes.tsv", frame_to_tsv(outcomes_table(outcomes["result"])))
    write_text(folder / "index.html",
               env.get_template("index.html").render(page=page, c=view, root=""))


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
    parts: Iterable[ReportPart] | CohortAnalysis,
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
    settled first). The parts are analysed by :class:`lesiontrack.cohort.CohortAnalysis` with
    ``thresholds``, ``analysis`` and ``patient_table`` (the patient table); ``parts`` may also
    be such an analysis, which then holds those options and the statistics (the arguments are
    then left None). ``stats`` None: :func:`~lesiontrack.test_clustering`'s result is computed
    from the parts (with ``analysis``' permutations, seed and focal_max, and the patterns
    decided by ``patient_table``, when given); ``outcomes`` may then be a function of those
    stats returning the ``outcomes`` dict of :func:`write_report`. The report is the same for
    every way of cutting the cohort into parts."""
    outdir = Path(os.path.abspath(outdir))
    options = jsonable(dict(options))
    everyone = sorted(set(patients), key=_natural)
    if isinstance(parts, CohortAnalysis):
        given = [name for name, value in (("thresholds", thresholds), ("analysis", analysis),
                                          ("stats", stats), ("patient_table", patient_table))
                 if value is not None]
        if given:
            raise OptionError(f"{given[0]} is given with the CohortAnalysis, not to "
                              "write_report_parts", field=given[0])
        cohort = parts
    else:
        cohort = CohortAnalysis(parts, patients=everyone, thresholds=thresholds,
                                analysis=analysis, patient_table=patient_table, stats=stats)
    reading = reading if reading is not None else ReadOptions()
    inputs = named_inputs(sheet_path=sheet_path, sheet=sheet,
                          calls_tables=options.get("calls_tables"),
                          reference=options.get("reference"), patients=options.get("patients"))
    with building_folder(outdir, force=force, inputs=inputs) as built:
        build(built, cohort=cohort, patients=everyone, options=options, jobs=reading.jobs,
              progress=progress, outcomes=outcomes)
        write_text(built / "provenance.json", provenance(sheet, sheet_path, options))
    return outdir / "index.html"
