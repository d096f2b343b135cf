"""lesiontrack.cohort: the cohort analysed one batch of patients at a time gives what the
single-table API computes on the whole cohort."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import FIXTURES

import lesiontrack as lt
from lesiontrack.cohort import CohortAnalysis, ReportPart, analyse_cohort
from lesiontrack.options import AnalysisOptions, ReadOptions, Thresholds

SHEET = FIXTURES / "samplesheet.tsv"

pytestmark = pytest.mark.skipif(not SHEET.exists(), reason="demo fixtures not generated")


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_parts_and_statistics_equal_the_single_table_api():
    sheet = lt.read_samplesheet(SHEET)
    thresholds, analysis = Thresholds(), AnalysisOptions(permutations=200)
    cohort = analyse_cohort(sheet, thresholds=thresholds, reading=ReadOptions(),
                            analysis=analysis, batch_size=1,
                            read_calls=lambda rows: lt.build_calls(rows, sheet_path=SHEET))
    parts = list(cohort)
    assert len(parts) > 1  # several batches

    calls = lt.build_calls(sheet, sheet_path=SHEET)
    states = lt.lesion_states(calls, sheet)
    origins = lt.classify(calls, sheet, states=states)
    keys = ["patient_id", "sample_id", "variant_key"]
    got_calls = pd.concat([p.calls for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(_sorted(got_calls, keys), _sorted(calls, keys))
    got_origins = pd.concat([p.origins for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(_sorted(got_origins, ["patient_id", "variant_key"]),
                                  _sorted(origins, ["patient_id", "variant_key"]))

    trees = lt.phylogeny(calls, origins, sheet)
    got_trees = {p: t for part in parts for p, t in part.trees.patients.items()}
    assert {p: t.newick() for p, t in got_trees.items()} == {
        p: t.newick() for p, t in trees.patients.items()}

    stats = lt.clustering_test(calls, origins, sheet, states=states, permutations=200)
    assert cohort.statistics() == stats
    assert cohort.heterogeneity() == stats["heterogeneity"]


def test_given_statistics_are_kept_and_the_parts_get_no_patterns():
    sheet = lt.read_samplesheet(SHEET)
    calls = lt.build_calls(sheet, sheet_path=SHEET)
    origins = lt.classify(calls, sheet)
    given = {"patients": []}
    cohort = CohortAnalysis([ReportPart(sheet, calls, origins)], patients=[], stats=given)
    (part,) = list(cohort)
    assert part.patterns is None and part.lesion_table is None
    assert cohort.statistics() is given
    assert set(part.trees.patients) == set(lt.phylogeny(calls, origins, sheet).patients)


def test_statistics_wait_for_every_part():
    cohort = CohortAnalysis([], patients=[])
    with pytest.raises(RuntimeError):
        cohort.statistics()
    assert len(list(cohort)) == 1  # an empty cohort is one empty part
    assert cohort.statistics()["n_patients"] == 0
