"""A cohort analysed one batch of patients at a time: what the report shows, computed.

:func:`read_parts` reads the cohort in batches of patients (from the sample sheet's calls files
or from precomputed calls tables): each batch's calls, lesion and sample states, origins and
copy number, as a :class:`ReportPart`. :class:`CohortAnalysis` analyses the parts one at a time
(:class:`AnalysedPart`: resistance, roads to resistance, lesion table and patterns, lesion
trees, graph, timelines) and, once every part is analysed, gives the cohort statistics
(:func:`lesiontrack.stats.clustering_from_tables`). Memory follows the largest batch, not the
cohort; the results are the same for every way of cutting the cohort into parts.
:mod:`lesiontrack.report` only assembles and writes what this module computed::

    patients, parts = read_parts(sheet, thresholds=t, reading=r, analysis=a,
                                 read_calls=lambda rows: lt.build_calls(rows))
    cohort = CohortAnalysis(parts, patients=patients, thresholds=t, analysis=a)
    for part in cohort:
        ...
    stats = cohort.statistics()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .batches import patient_batches
from .calls import empty_calls_table
from .calls_tables import calls_table_batches
from .compare import empty_origins, states_and_origins
from .errors import OptionError
from .evidence import lesion_states, sample_states
from .graph import build_graph
from .options import BATCH_PATIENTS, AnalysisOptions, ReadOptions, Thresholds
from .patterns import check_table_patients, lesion_table, patient_patterns
from .phylo import Phylogeny, phylogeny, reusable_states
from .resistance import concat_resistance, heterogeneity, resistance_table
from .roads import patient_roads, roads_to_resistance, with_roads
from .stats import add_heterogeneity, clustering_from_tables
from .timeline import calls_at, patient_timelines

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class ReportPart:
    """A batch of patients (a part of the report): every sample-sheet row (or None), call and
    origin of each of them."""

    sheet: pd.DataFrame | None
    calls: pd.DataFrame
    origins: pd.DataFrame
    states: pd.DataFrame | None = None  # evidence.lesion_states of the part (computed if None)
    sample_states: pd.DataFrame | None = None  # evidence.sample_states (computed if None)
    copy_number: pd.DataFrame | None = None  # roads.read_sheet_copy_number of the part


@dataclass
class AnalysedPart:
    """A :class:`ReportPart` analysed: its tables and what is computed from them."""

    sheet: pd.DataFrame | None
    calls: pd.DataFrame
    origins: pd.DataFrame
    states: pd.DataFrame  # evidence.lesion_states
    copy_number: pd.DataFrame | None
    resistance: pd.DataFrame  # resistance.resistance_table
    mechanisms: pd.DataFrame  # roads.roads_to_resistance: progression mechanisms
    controlled: pd.DataFrame  # ... and controlled lesions with an amplification
    trees: Phylogeny  # phylo.phylogeny of the part's patients
    graph: nx.DiGraph  # graph.build_graph of the part
    timelines: dict[str, dict]  # timeline.patient_timelines
    lesion_table: pd.DataFrame | None = None  # patterns.lesion_table (None: statistics given)
    patterns: list[dict] | None = None  # patterns.patient_patterns with roads, heterogeneity


def read_parts(
    sheet: pd.DataFrame | None,
    *,
    thresholds: Thresholds,
    reading: ReadOptions,
    analysis: AnalysisOptions,
    read_calls: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    read_copy_number: Callable[[pd.DataFrame | None, pd.DataFrame], pd.DataFrame] | None = None,
    patient_table: pd.DataFrame | None = None,
    batch_size: int = BATCH_PATIENTS,
) -> tuple[list[str], Iterator[ReportPart]]:
    """(every patient, the cohort's parts): batches of about ``batch_size`` patients
    (:func:`lesiontrack.batches.patient_batches`), one read at a time, from ``sheet``'s calls
    files (``read_calls(rows)``: the calls table of those sheet rows) or, when
    ``reading.calls_tables``, from those tables (``analysis.at`` applied). Each part gets its
    sample and lesion states, its origins (:func:`~lesiontrack.classify` with
    ``analysis.count_all`` and ``patient_table``) and its copy number (``read_copy_number(rows,
    calls)``; None: none)."""
    at = analysis.at
    tables = reading.calls_tables
    if not tables and read_calls is None:
        raise OptionError("read_parts needs read_calls to read the sample sheet's calls files",
                          field="read_calls")
    known = [] if sheet is None else sorted(set(sheet["patient_id"]))
    if tables:
        patients, batches = calls_table_batches(list(tables), thresholds=thresholds,
                                                patients_per_batch=batch_size,
                                                also_patients=known)
    else:
        patients = known
        batches = ((batch, None) for batch in patient_batches(sheet, batch_size))

    def parts() -> Iterator[ReportPart]:
        for batch, calls in batches:
            rows = None if sheet is None else sheet[sheet["patient_id"].isin(batch)]
            if calls is None:
                calls = read_calls(rows.reset_index(drop=True))
            elif at is not None:
                calls = calls_at(calls, rows, at)
            states, origins, per_sample = states_and_origins(
                calls, rows, thresholds=thresholds, count_all=analysis.count_all,
                patients=patient_table)
            yield ReportPart(rows, calls, origins, states, per_sample,
                             copy_number=None if read_copy_number is None
                             else read_copy_number(rows, calls))
            del calls, rows, states, origins  # not held while the next batch is read

    return patients, parts()


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
    return phylogeny(calls, origins, sheet, states=reusable_states(calls, states),
                     thresholds=thresholds, seed=seed)


class CohortAnalysis:
    """The cohort of ``parts`` (:class:`ReportPart`, batches of patients in the plain sorted
    order of their identifiers), analysed one part at a time as it is iterated (once), then
    its statistics (:meth:`statistics`).

    ``patients``: every patient of the cohort. ``thresholds`` and ``analysis`` (``focal_max``,
    ``permutations``, ``seed``) decide; ``patient_table`` (the patient table) decides the
    patterns and dates the timelines. ``stats``: the statistics when already computed
    (:func:`~lesiontrack.clustering_test`): the parts then get no lesion table nor patterns.
    """

    def __init__(self, parts: Iterable[ReportPart], *, patients: Iterable[str],
                 thresholds: Thresholds | None = None, analysis: AnalysisOptions | None = None,
                 patient_table: pd.DataFrame | None = None, stats: dict | None = None) -> None:
        self.parts = parts
        self.patients = list(patients)
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        self.analysis = analysis if analysis is not None else AnalysisOptions()
        self.patient_table = patient_table
        self.given = stats
        self._tables: list[pd.DataFrame] = []
        self._patterns: list[dict] = []
        self._resistances: list[pd.DataFrame] = []
        self._n_patients = 0
        self._done = False
        self._resistance: pd.DataFrame | None = None
        self._stats: dict | None = None

    def __iter__(self) -> Iterator[AnalysedPart]:
        if not self.given:
            check_table_patients(self.patient_table, self.patients)
        for part in _at_least_one(self.parts):
            analysed = self.analyse(part)
            yield analysed
            del analysed, part  # not held while the next part is read
        self._done = True

    def analyse(self, part: ReportPart) -> AnalysedPart:
        """One part analysed (its lesion table and patterns kept for :meth:`statistics`)."""
        thresholds = self.thresholds
        calls, origins, sheet = part.calls, part.origins, part.sheet
        states = part.states if part.states is not None else lesion_states(
            calls, sheet, thresholds=thresholds)
        resistance = resistance_table(origins, sheet, states=states)
        self._resistances.append(resistance)
        mechanisms, controlled = roads_to_resistance(origins, states, calls, sheet,
                                                     part.copy_number, thresholds=thresholds)
        table = patterns = None
        if not self.given:
            table = lesion_table(origins, calls, sheet, states=states, thresholds=thresholds)
            patterns = patient_patterns(table, origins, calls, self.analysis.focal_max,
                                        patients=self.patient_table)
            with_roads(patterns, patient_roads(mechanisms, controlled))
            self._tables.append(table)
            self._patterns.extend(patterns)
            self._n_patients += int(calls["patient_id"].nunique())
        trees = _part_trees(calls, origins, sheet, states, thresholds, self.analysis.seed)
        if patterns is not None:
            add_heterogeneity(patterns, {p: t.heterogeneity() for p, t in trees.patients.items()})
        graph = build_graph(calls, origins, sheet, states=states, copy_number=part.copy_number)
        return AnalysedPart(
            sheet=sheet, calls=calls, origins=origins, states=states,
            copy_number=part.copy_number, resistance=resistance, mechanisms=mechanisms,
            controlled=controlled, trees=trees, graph=graph,
            timelines=_timelines(part, thresholds, self.patient_table),
            lesion_table=table, patterns=patterns)

    def _check_done(self) -> None:
        if not self._done:
            raise RuntimeError("the cohort's parts are not all analysed yet (iterate first)")

    def resistance(self) -> pd.DataFrame:
        """The resistance table of every part (:func:`lesiontrack.resistance.concat_resistance`),
        once every part is analysed."""
        self._check_done()
        if self._resistance is None:
            self._resistance = concat_resistance(self._resistances)
        return self._resistance

    def statistics(self) -> dict:
        """The statistics given, else :func:`~lesiontrack.clustering_test`'s result from the
        parts' lesion tables and patterns (:func:`lesiontrack.stats.clustering_from_tables`),
        once every part is analysed."""
        if self.given is not None:
            return self.given
        if self._stats is None:
            table = pd.concat(self._tables, ignore_index=True) if self._tables else (
                pd.DataFrame(columns=["patient_id", "lesion_id", "status", "secondary",
                                      "has_secondary"]))
            self._stats = clustering_from_tables(
                table, self._patterns, n_patients=self._n_patients,
                permutations=self.analysis.permutations, seed=self.analysis.seed,
                resistance=self.resistance())
        return self._stats

    def heterogeneity(self) -> dict:
        """The heterogeneity of resistance across the cohort: the statistics' own, else
        :func:`lesiontrack.resistance.heterogeneity` of :meth:`resistance`."""
        return self.statistics().get("heterogeneity") or heterogeneity(self.resistance())


def analyse_cohort(
    sheet: pd.DataFrame | None,
    *,
    thresholds: Thresholds,
    reading: ReadOptions,
    analysis: AnalysisOptions,
    read_calls: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    read_copy_number: Callable[[pd.DataFrame | None, pd.DataFrame], pd.DataFrame] | None = None,
    patient_table: pd.DataFrame | None = None,
    batch_size: int = BATCH_PATIENTS,
) -> CohortAnalysis:
    """:class:`CohortAnalysis` of :func:`read_parts`' parts (same arguments); its
    ``patients``: every patient of the cohort."""
    patients, parts = read_parts(sheet, thresholds=thresholds, reading=reading,
                                 analysis=analysis, read_calls=read_calls,
                                 read_copy_number=read_copy_number,
                                 patient_table=patient_table, batch_size=batch_size)
    return CohortAnalysis(parts, patients=patients, thresholds=thresholds, analysis=analysis,
                          patient_table=patient_table)


__all__ = ["AnalysedPart", "CohortAnalysis", "ReportPart", "analyse_cohort", "read_parts"]
