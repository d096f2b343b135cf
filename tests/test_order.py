"""One natural order of lesion, sample and patient ids, shared by every module."""

from __future__ import annotations

import random

import pytest
from scenarios import D816V, V654A, W557, call, table

import lesiontrack.compare as compare
import lesiontrack.evidence as evidence
import lesiontrack.report.render as render
from lesiontrack import classify, test_clustering
from lesiontrack.order import natural_key, natural_sorted


def test_numbers_compare_as_numbers():
    assert natural_sorted(["L10", "L2", "L1"]) == ["L1", "L2", "L10"]
    assert natural_key("L2") < natural_key("L10")
    assert natural_sorted(["10", "4", "X", "2"]) == ["2", "4", "10", "X"]  # contigs


def test_ties_are_broken_by_the_raw_id_whatever_the_input_order():
    ids = ["P1", "P01", "P001", "P2", "P02"]
    expected = ["P001", "P01", "P1", "P02", "P2"]
    for seed in range(5):
        shuffled = ids[:]
        random.Random(seed).shuffle(shuffled)
        assert natural_sorted(shuffled) == expected


def test_a_prefix_comes_first():
    assert natural_sorted(["L2a", "L2", "L10", ""]) == ["", "L2", "L2a", "L10"]


def test_natural_sorted_with_a_key():
    rows = [{"id": "L10"}, {"id": "L9"}]
    assert [r["id"] for r in natural_sorted(rows, key=lambda r: r["id"])] == ["L9", "L10"]


def test_compare_and_the_report_use_the_same_function():
    assert compare._natural is natural_key
    assert evidence._natural is natural_key
    assert render._natural is natural_key


@pytest.fixture
def ten_lesions():
    """L2 and L10 both progressive and carrying D816V: every list of lesions must say L2 first."""
    rows = []
    for lesion, status in (("L10", "progressive"), ("L2", "progressive"), ("L3", "controlled")):
        rows.append(call("P1", lesion, status, W557, 60, 150))
        rows.append(call("P1", lesion, status, V654A, 0, 150))
        rows.append(call("P1", lesion, status, D816V, 40 if status == "progressive" else 0, 150))
    return table(rows)


def test_origins_list_lesions_in_natural_order(ten_lesions):
    origins = classify(ten_lesions)
    d816v = origins[origins["variant_key"].str.contains(":54733155:")].iloc[0]
    assert d816v["lesions_detected"] == "L2,L10"
    assert d816v["evidence"].index("L2") < d816v["evidence"].index("L10")


def test_patterns_list_lesions_in_natural_order(ten_lesions):
    result = test_clustering(classify(ten_lesions), ten_lesions, permutations=10)
    assert result["patients"][0]["progressive_lesions"] == ["L2", "L10"]


def test_report_columns_are_in_natural_order(ten_lesions):
    roster = render._roster(None, ten_lesions)
    progressive = [x.lesion_id for x in roster["P1"] if x.status == "progressive"]
    assert progressive == ["L2", "L10"]
