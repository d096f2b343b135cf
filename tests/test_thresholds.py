"""Detection thresholds: every boundary is pinned (a value equal to a threshold passes it)."""

from __future__ import annotations

import pandas as pd
import pytest

from lesiontrack import Thresholds
from lesiontrack.errors import OptionError


def detect(alt, depth, vaf=None, **thresholds) -> object:
    """``Thresholds(**thresholds).detect`` on one call; returns True, False or None (unknown)."""
    if vaf is None and alt is not None and depth:
        vaf = alt / depth
    out = Thresholds(**thresholds).detect(
        pd.Series([alt], dtype="float"), pd.Series([depth], dtype="float"),
        pd.Series([vaf], dtype="float"))
    value = out.iloc[0]
    return None if pd.isna(value) else bool(value)


def test_depth_equal_to_min_depth_is_read_and_one_below_is_not():
    # 3/20 = 15%: passes min_alt and min_vaf; only depth decides
    assert detect(3, 20, min_depth=20) is True
    assert detect(3, 19, min_depth=20) is None
    # below the ALT threshold, the site still counts as read at depth == min_depth
    assert detect(0, 20, min_depth=20) is False
    assert detect(0, 19, min_depth=20) is None


def test_alt_equal_to_min_alt_is_detected_and_one_below_is_not():
    assert detect(3, 100, min_alt=3) is True
    assert detect(2, 100, min_alt=3) is False
    assert detect(5, 100, min_alt=5) is True
    assert detect(4, 100, min_alt=5) is False


def test_vaf_equal_to_min_vaf_is_detected_and_just_below_is_not():
    # 4/200 = 0.02 exactly (binary floating point: 0.02 == 4 / 200)
    assert detect(4, 200, min_vaf=0.02) is True
    assert detect(4, 201, min_vaf=0.02) is False
    assert detect(10, 100, vaf=0.1, min_vaf=0.1) is True
    assert detect(10, 100, vaf=0.0999, min_vaf=0.1) is False


def test_missing_alt_count_is_estimated_from_vaf_and_depth():
    # round(0.03 * 100) = 3 reads >= min_alt 3
    assert detect(None, 100, vaf=0.03) is True
    # round(0.025 * 100) = 2 (banker's rounding of 2.5) < 3: read, but below
    assert detect(None, 100, vaf=0.025) is False
    assert detect(None, None, vaf=0.5) is None


def test_zero_min_depth_reads_every_site_with_a_depth():
    assert detect(0, 0, vaf=0.0, min_depth=0) is False
    assert detect(3, 3, min_depth=0) is True


@pytest.mark.parametrize(("field", "value"), [
    ("min_depth", -1), ("min_depth", 2.5), ("min_alt", 0), ("min_alt", 1.5),
    ("min_vaf", -0.01), ("min_vaf", 1.01),
])
def test_impossible_thresholds_are_refused(field, value):
    with pytest.raises(OptionError) as caught:
        Thresholds(**{field: value})
    assert caught.value.field == field


@pytest.mark.parametrize(("field", "value"), [
    ("min_depth", 0), ("min_alt", 1), ("min_vaf", 0.0), ("min_vaf", 1.0),
])
def test_threshold_limits_themselves_are_allowed(field, value):
    assert getattr(Thresholds(**{field: value}), field) == value


def test_missing_vaf_is_computed_from_the_counts():
    # 4/200 = 2% passes min_vaf 0.02, 3/200 = 1.5% does not, whatever the ALT threshold
    assert detect(4, 200, vaf=float("nan"), min_alt=1) is True
    assert detect(3, 200, vaf=float("nan"), min_alt=1) is False
    # depth 1 is a depth: 1/1 = 100%
    assert detect(1, 1, vaf=float("nan"), min_depth=0, min_alt=1, min_vaf=0.5) is True


def test_result_keeps_the_index_and_is_a_nullable_boolean():
    index = pd.Index([7, 3, 11])
    out = Thresholds().detect(pd.Series([5, 0, None], index=index, dtype="Int64"),
                              pd.Series([100, 100, None], index=index, dtype="Int64"),
                              pd.Series([None, None, None], index=index, dtype="object"))
    assert str(out.dtype) == "boolean"
    assert list(out.index) == [7, 3, 11]
    assert out.tolist() == [True, False, pd.NA]


# --- the typed options: one guard each, boundaries pinned ------------------------------------

@pytest.mark.parametrize(("kwargs", "field"), [
    ({"jobs": 0}, "jobs"), ({"jobs": -1}, "jobs"), ({"jobs": 1.5}, "jobs"), ({"jobs": True}, "jobs"),
])
def test_read_options_refuse_a_bad_jobs(kwargs, field):
    from lesiontrack.options import ReadOptions

    with pytest.raises(OptionError) as info:
        ReadOptions(**kwargs)
    assert info.value.field == field


def test_read_options_accept_the_least_jobs_and_keep_the_defaults():
    from lesiontrack.options import DEFAULT_GENES, DEFAULT_JOBS, ReadOptions

    assert ReadOptions(jobs=1).jobs == 1
    assert ReadOptions().jobs == DEFAULT_JOBS and ReadOptions().genes == ",".join(DEFAULT_GENES)


@pytest.mark.parametrize(("kwargs", "ok"), [
    ({"focal_max": 0}, True), ({"focal_max": -1}, False),
    ({"permutations": 1}, True), ({"permutations": 0}, False),
    ({"by": "confined"}, True), ({"by": "status"}, False),
])
def test_analysis_options_boundaries(kwargs, ok):
    from lesiontrack.options import AnalysisOptions

    if ok:
        assert getattr(AnalysisOptions(**kwargs), next(iter(kwargs))) == next(iter(kwargs.values()))
    else:
        with pytest.raises(OptionError) as info:
            AnalysisOptions(**kwargs)
        assert info.value.field == next(iter(kwargs))


def test_build_calls_checks_jobs_with_the_same_guard(tmp_path):
    from lesiontrack import build_calls

    with pytest.raises(OptionError, match="jobs must be at least 1, not 0"):
        build_calls(None, sheet_path=tmp_path / "sheet.tsv", jobs=0)


def test_alt_needed_is_where_detect_starts_to_pass_for_numbers_and_arrays():
    """The one formula of the ALT reads a detection needs: detection power counts from it, so
    it must be exactly where ``detect`` turns True (one read below it, False)."""
    import numpy as np

    t = Thresholds(min_depth=20, min_alt=3, min_vaf=0.02)
    depths = np.array([20, 149, 150, 151, 1000])
    need = t.alt_needed(depths)
    assert [t.alt_needed(int(d)) for d in depths] == need.astype(int).tolist() == [3, 3, 3, 4, 20]
    at = t.detect(pd.Series(need), pd.Series(depths), pd.Series(need / depths))
    below = t.detect(pd.Series(need - 1), pd.Series(depths), pd.Series((need - 1) / depths))
    assert at.tolist() == [True] * 5 and below.tolist() == [False] * 5
