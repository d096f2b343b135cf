"""The numbers behind the lesion states, checked against scipy directly at their edges: the noise
test, the detection power and the VAF interval (NaN, zero depth, alt above depth, nullable
integer columns as pipelines give them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from lesiontrack import Thresholds
from lesiontrack.evidence import detection_power, noise_p_value, vaf_interval


def test_noise_p_value_is_the_binomial_tail_and_one_where_nothing_was_seen():
    alt = pd.array([0, 1, 2, None, 3, 1], dtype="Int64")  # nullable, as read from a table
    depth = pd.array([100, 100, 100, 100, None, 1], dtype="Int64")
    got = noise_p_value(alt, depth, 0.005)
    assert got[0] == 1.0  # no ALT read: nothing to explain
    assert got[1] == pytest.approx(1 - 0.995 ** 100)  # P(X >= 1)
    assert got[2] == pytest.approx(sps.binom.sf(1, 100, 0.005))
    assert got[3] == 1.0 and got[4] == 1.0  # unknown counts: never evidence of a signal
    assert got[5] == pytest.approx(0.005)  # depth 1 is a depth


def test_detection_power_at_its_edges():
    limits = Thresholds(min_depth=20, min_alt=3, min_vaf=0.02)
    depth = pd.array([19, 20, 200, 20, None], dtype="Int64")
    vaf = np.array([0.5, 0.5, 0.25, np.nan, 0.5])
    got = detection_power(depth, vaf, limits)
    assert got[0] == 0.0  # below min_depth: no power at all
    assert got[1] == pytest.approx(sps.binom.sf(2, 20, 0.5))  # needs 3 reads
    assert got[2] == pytest.approx(sps.binom.sf(3, 200, 0.25))  # needs ceil(0.02 x 200) = 4
    assert got[3] == 0.0 and got[4] == 0.0  # unknown expected VAF or depth


def test_vaf_interval_is_clopper_pearson_and_nan_where_impossible():
    alt = pd.array([0, 5, 100, 7, None, 3], dtype="Int64")
    depth = pd.array([100, 100, 100, 5, 100, 0], dtype="Int64")
    low, high = vaf_interval(alt, depth)
    assert low[0] == 0.0 and high[0] == pytest.approx(sps.beta.ppf(0.975, 1, 100))
    assert low[1] == pytest.approx(sps.beta.ppf(0.025, 5, 96))
    assert high[1] == pytest.approx(sps.beta.ppf(0.975, 6, 95))
    assert high[2] == 1.0 and low[2] == pytest.approx(sps.beta.ppf(0.025, 100, 1))
    assert np.isnan(low[3:]).all() and np.isnan(high[3:]).all()  # alt > depth, unknown, depth 0
