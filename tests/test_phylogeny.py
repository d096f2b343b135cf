"""Lesion phylogeny: the model, the searches, placement, classes, heterogeneity and outputs."""

from __future__ import annotations

import io
import json
import random

import pandas as pd
import pytest
from Bio import Phylo
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from lesiontrack import OptionError
from lesiontrack import phylo as ph
from lesiontrack import phylo_search as ps
from lesiontrack import phylo_tree as pt

M = ps.CharacterMatrix.from_strings


def clades_of(tree: pt.PatientTree) -> set[frozenset[str]]:
    """Non-trivial clades (2..n-1 lesions) as sets of lesion names."""
    n = len(tree.lesions)
    full = (1 << n) - 1
    return {frozenset(tree.lesions[j] for j in range(n) if mask >> j & 1)
            for mask, _ in ps.topology_clades(tree.topology) if mask != full and mask & (mask - 1)}


def simulated(rng: random.Random, n: int, m: int = 80, missing: float = 0.1,
              false_negative: float = 0.03) -> ps.CharacterMatrix:
    tree: ps.Topology = (0, 1)
    for leaf in range(2, n):
        tree = rng.choice(list(ps._insertions(tree, leaf)))
    clades = [mask for mask, _ in ps.topology_clades(tree)]
    rows = {}
    for i in range(m):
        clade = rng.choice(clades)
        text = "".join("?" if rng.random() < missing else
                       ("0" if rng.random() < false_negative else "1") if clade >> j & 1 else "0"
                       for j in range(n))
        if "1" in text:
            rows[f"m{i}"] = text
    return M([f"L{j}" for j in range(n)], rows)


# ---------------------------------------------------------------------------------------------
# Hand-checkable trees


def test_four_lesions_two_pairs_by_hand():
    matrix = M(["A", "B", "C", "D"], {
        "t1": "1111", "t2": "1111",  # trunk
        "ab1": "1100", "ab2": "1100",  # the (A, B) branch
        "cd": "0011",  # the (C, D) branch
        "a": "1000", "c": "0010",  # private
    })
    tree = pt.infer_tree(matrix, patient_id="P1")
    assert tree.method == "exact"
    assert clades_of(tree) == {frozenset("AB"), frozenset("CD")}
    assert tree.contradictions == 0
    table = tree.mutations().set_index("variant_key")
    assert table.loc["t1", "branch"] == "trunk" and table.loc["t1", "lesions"] == "A,B,C,D"
    assert table.loc["ab1", "branch"] == "shared" and table.loc["ab1", "lesions"] == "A,B"
    assert table.loc["a", "branch"] == "private" and table.loc["a", "lesions"] == "A"
    assert list(table["presence"]) == ["public", "public", "shared", "shared", "shared",
                                       "private", "private"]
    assert tree.newick() == "(((A:1,B:0):2,(C:1,D:0):1):2)germline:0;"


def test_three_lesions_baseline_joins_near_the_root():
    # baseline B shares only the trunk; the two metastases share a branch of their own
    matrix = M(["B", "L1", "L2"], {"t": "111", "u": "111", "m": "011", "n": "011", "n2": "011",
                                   "b": "100", "l1": "010"})
    tree = pt.infer_tree(matrix)
    assert tree.topology == (0, (1, 2))
    assert tree.newick() == "((B:1,(L1:1,L2:0):3):2)germline:0;"


def test_a_conflicting_mutation_sits_where_it_contradicts_least():
    matrix = M(["A", "B", "C"], {"ab": "110", "ab2": "110", "x": "101"})
    tree = pt.infer_tree(matrix)
    assert clades_of(tree) == {frozenset("AB")}
    row = tree.mutations().set_index("variant_key").loc["x"]
    assert row["contradictions"] == 1  # one observation disagrees with any single branch
    assert tree.contradictions == 1


def test_a_placement_tie_goes_to_the_smaller_clade():
    # detected in A only, missing elsewhere: fits A's own branch and the trunk; A's is smaller
    clade, cost, gains = pt.place(0b001, 0b000, ps.topology_clades((0, (1, 2))))
    assert (clade, cost, gains) == (0b001, 0, 1)


# ---------------------------------------------------------------------------------------------
# Missing is never absent


def test_missing_entries_cost_nothing_where_absent_ones_do():
    clades = ps.topology_clades(((0, 1), 2))
    assert pt.place(0b011, 0b000, clades)[1] == 0  # C missing: fits (A, B) and the trunk
    assert pt.place(0b111, 0b000, clades)[:2] == (0b111, 0)
    assert pt.place(0b011, 0b100, clades)[:2] == (0b011, 0)  # C absent: only (A, B) fits
    # A, B, C detected, D missing: trunk fits; with D absent, the trunk costs one
    four = ps.topology_clades(((0, 1), (2, 3)))
    assert pt.place(0b0111, 0b0000, four)[1] == 0
    assert pt.place(0b0111, 0b1000, four)[1] == 1


def test_missing_data_is_not_read_as_absence():
    # A and C carry three mutations that B was not evaluable for; A and B share two
    rows = {"ac1": "1?10", "ac2": "1?10", "ac3": "1?10", "ab1": "1100", "ab2": "1100",
            "t": "1111", "d": "0001"}
    tree = pt.infer_tree(M(list("ABCD"), rows))
    assert clades_of(tree) == {frozenset("AB"), frozenset("ABC")}  # B may carry them: 0 cost
    assert tree.contradictions == 0
    placed = tree.mutations().set_index("variant_key")
    assert placed.loc["ac1", "lesions"] == "A,B,C"
    assert placed.loc["ac1", "not_evaluable_in"] == "B"
    assert placed.loc["ac1", "presence"] == "shared"  # count-based class ignores the tree
    # read as absent, the same entries would pair A with C
    as_absent = pt.infer_tree(M(list("ABCD"), {k: v.replace("?", "0") for k, v in rows.items()}))
    assert frozenset("AC") in clades_of(as_absent)
    assert as_absent.contradictions == 2


def test_adapter_reads_low_level_and_not_evaluable_as_missing():
    states = pd.DataFrame({
        "patient_id": ["P"] * 7,
        "variant_key": ["v1", "v1", "v1", "v2", "v2", "v2", "v1"],
        "lesion_id": ["L1", "L2", "L3", "L1", "L2", "L3", "plasma1"],
        "state": ["detected", "low_level", "absent", "detected", "not_evaluable", "detected",
                  "detected"],
    })
    matrix = ph.matrices_from_states(states, {"P": ["L1", "L2", "L3", "L4"]})["P"]
    assert matrix.mutations == ("v1", "v2")
    assert matrix.row(0) == "1?0?"  # L4 has no row at all: missing, not absent
    assert matrix.row(1) == "1?1?"


def test_adapter_repeated_rows_detected_wins():
    states = pd.DataFrame({"patient_id": ["P"] * 4, "variant_key": ["v"] * 4,
                           "lesion_id": ["L1", "L1", "L1", "L2"],
                           "state": ["absent", "detected", "detected", "absent"]})
    assert ph.matrices_from_states(states, {"P": ["L1", "L2"]})["P"].row(0) == "10"


def test_adapter_drops_mutations_detected_in_no_leaf():
    states = pd.DataFrame({"patient_id": ["P", "P", "P"], "variant_key": ["v", "v", "w"],
                           "lesion_id": ["plasma", "L1", "L1"],
                           "state": ["detected", "absent", "detected"]})
    matrix = ph.matrices_from_states(states, {"P": ["L1", "L2"]})["P"]
    assert matrix.mutations == ("w",)


# ---------------------------------------------------------------------------------------------
# Searches


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_exact_search_equals_scoring_every_tree(n):
    rng = random.Random(n)
    for _ in range(4):
        rows = {f"m{i}": "".join(rng.choice("1100?") for _ in range(n)) for i in range(40)}
        rows = {k: v for k, v in rows.items() if "1" in v}
        matrix = M([f"L{j}" for j in range(n)], rows)
        topology, cost, method = ps.search(matrix)
        brute_topology, brute_cost = ps.exhaustive_search(matrix)
        assert method == "exact"
        assert cost == brute_cost == ps.tree_cost(matrix, topology)
        assert ps.tree_cost(matrix, brute_topology) == brute_cost


def test_rooted_topology_counts():
    assert [sum(1 for _ in ps.rooted_topologies(n)) for n in range(2, 8)] == [
        1, 3, 15, 105, 945, 10395]
    assert len({ps.canonical(t) for t in ps.rooted_topologies(6)}) == 945


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_heuristic_finds_the_optimum_on_simulated_patients(n):
    rng = random.Random(100 + n)
    for _ in range(3):
        matrix = simulated(rng, n)
        _, exact_cost, _ = ps.search(matrix)
        _, heuristic_cost, method = ps.search(matrix, exact_max_lesions=0)
        assert method == "heuristic"
        assert heuristic_cost == exact_cost


def test_the_cut_off_decides_the_method_at_its_boundary():
    rng = random.Random(5)
    matrix = simulated(rng, ps.EXACT_MAX_LESIONS + 1, m=60)
    assert ps.search(matrix)[2] == "heuristic"
    small = simulated(rng, ps.EXACT_MAX_LESIONS, m=30)
    assert ps.search(small)[2] == "exact"


def test_output_is_deterministic_for_a_seed():
    matrix = simulated(random.Random(9), 9, m=120)
    first = pt.infer_tree(matrix, seed=3, exact_max_lesions=0)
    again = pt.infer_tree(matrix, seed=3, exact_max_lesions=0)
    assert first.newick() == again.newick()
    assert first.mutations().equals(again.mutations())


def test_one_lesion_is_refused():
    with pytest.raises(OptionError, match="at least two lesions"):
        ps.search(M(["A"], {"m": "1"}))


def test_more_lesions_than_the_search_takes_are_refused():
    lesions = [f"L{j}" for j in range(ps.MAX_LESIONS + 1)]
    with pytest.raises(OptionError, match="at most 62 lesions"):
        ps.search(M(lesions, {"m": "1" * len(lesions)}))


def test_a_malformed_row_is_refused():
    with pytest.raises(OptionError, match="1/0/\\?"):
        M(["A", "B"], {"m": "1x"})
    with pytest.raises(OptionError):
        ps.CharacterMatrix(("A", "B"), ("m",), (0b01,), (0b01,))  # present and absent


# ---------------------------------------------------------------------------------------------
# Newick


def test_newick_round_trips_through_bio_phylo():
    lesions = ["L 1", "L(2)", "L:3", "L'4"]
    matrix = M(lesions, {"t": "1111", "a": "1100", "b": "1100", "c": "0011", "p": "0001"})
    tree = pt.infer_tree(matrix)
    back = Phylo.read(io.StringIO(tree.newick()), "newick")
    assert sorted(t.name for t in back.get_terminals()) == sorted(lesions)
    assert back.root.name == pt.ROOT_NAME
    assert back.total_branch_length() == len(matrix.mutations)
    assert back.find_any(name="L:3").branch_length == 0
    assert back.find_any(name="L'4").branch_length == 1
    assert back.common_ancestor("L 1", "L(2)").branch_length == 2


# ---------------------------------------------------------------------------------------------
# Classes, convergence, heterogeneity


@pytest.mark.parametrize(("detected", "total", "expected"), [
    (4, 4, "public"), (3, 4, "shared"), (2, 4, "shared"), (1, 4, "private"), (2, 2, "public"),
    (1, 2, "private")])
def test_presence_class_boundaries(detected, total, expected):
    assert pt.presence_class(detected, total) == expected


def test_region_of_groups_activation_loop_sites():
    assert pt.region_of("KIT", 17, 816) == ("KIT activation loop", True)
    assert pt.region_of("KIT", 18, 829) == ("KIT activation loop", True)
    assert pt.region_of("KIT", 13, 654) == ("KIT ATP-binding pocket", True)
    assert pt.region_of("KIT", 11, 557) == ("KIT juxtamembrane domain", True)
    assert pt.region_of("PDGFRA", 18, 842) == ("PDGFRA activation loop", True)
    assert pt.region_of("TP53", 5, 175) == ("TP53 exon 5", False)
    assert pt.region_of("TP53", None, None) == (None, False)


def _convergence_tree(rows):
    regions = {"d816v": ("KIT activation loop", True), "d820y": ("KIT activation loop", True),
               "v654a": ("KIT ATP-binding pocket", True)}
    return pt.infer_tree(M(["A", "B", "C", "D"], rows), regions=regions)


def test_convergent_when_one_region_is_hit_on_two_separate_branches():
    base = {"t": "1111", "ab": "1100", "ab2": "1100", "cd": "0011", "cd2": "0011"}
    tree = _convergence_tree({**base, "d816v": "1000", "d820y": "0010", "v654a": "0100"})
    flags = tree.mutations().set_index("variant_key")["convergent"]
    assert flags["d816v"] and flags["d820y"]
    assert not flags["v654a"] and not flags["t"]
    assert {c["variant_key"] for c in tree.to_dict()["convergent"]} == {"d816v", "d820y"}


def test_not_convergent_when_one_hit_is_below_the_other():
    base = {"t": "1111", "ab": "1100", "ab2": "1100", "cd": "0011", "cd2": "0011"}
    tree = _convergence_tree({**base, "d816v": "1100", "d820y": "1000"})
    assert not tree.mutations()["convergent"].any()


def test_the_same_hotspot_in_two_separated_lesions_is_convergent():
    base = {"t": "1111", "ab": "1100", "ab2": "1100", "cd": "0011", "cd2": "0011"}
    tree = _convergence_tree({**base, "d816v": "1010"})
    assert tree.mutations().set_index("variant_key").loc["d816v", "convergent"]


def test_jaccard_and_private_fraction_by_hand():
    matrix = M(["A", "B", "C"], {
        "m1": "111",  # in all
        "m2": "110",
        "m3": "100",  # private to A (absent from B and C)
        "m4": "1?0",  # A; B missing: left out of A-B Jaccard, undecided for A's privacy
        "m5": "011",
    })
    pairs = {(a, b): (j, e) for a, b, j, e in pt.jaccard(matrix)}
    # A-B: evaluable m1, m2, m3, m5 -> both {m1, m2}, either {m1, m2, m3, m5}
    assert pairs[("A", "B")] == (0.5, 4)
    # A-C: all five evaluable -> both {m1}, either all five
    assert pairs[("A", "C")] == (0.2, 5)
    # B-C: m1, m2, m3, m5 -> both {m1, m5}, either {m1, m2, m5}
    assert pairs[("B", "C")] == (pytest.approx(2 / 3), 4)
    fractions = pt.private_fraction(matrix)
    assert fractions["A"] == pytest.approx(1 / 3)  # m3 private; m1, m2 shared; m4 undecided
    assert fractions["B"] == 0.0
    assert fractions["C"] == 0.0


def test_jaccard_without_shared_evidence_is_none():
    matrix = M(["A", "B"], {"m": "1?"})
    assert pt.jaccard(matrix) == [("A", "B", None, 0)]
    assert pt.private_fraction(matrix) == {"A": None, "B": None}


# ---------------------------------------------------------------------------------------------
# From a calls table, and the writers


def _calls() -> pd.DataFrame:
    rows = []
    carriers = {  # variant -> lesions where detected (others read at depth 200 without it)
        "4:55594221:A>T": ("B", "L1", "L2", "L3"),  # truncal KIT exon 11
        "4:55599321:A>T": ("L1",),  # KIT D816 (codon 816)
        "4:55599333:A>T": ("L3",),  # KIT D820 (codon 820)
        "1:100:C>T": ("L1", "L2", "L3"),
        "1:200:C>T": ("L1", "L2", "L3"),
        "1:300:C>T": ("L1", "L2"),
        "1:400:C>T": ("L1", "L2"),
        "1:500:G>A": ("B", "L1", "L2", "L3"),  # germline by origins
    }
    genes = {"4:55594221:A>T": ("KIT", 11, 557), "4:55599321:A>T": ("KIT", 17, 816),
             "4:55599333:A>T": ("KIT", 17, 820)}
    samples = [("B", "B", "baseline"), ("L1", "L1a", "lesion"), ("L1", "L1b", "lesion"),
               ("L2", "L2", "lesion"), ("L3", "L3", "lesion"), ("plasma", "cf1", "plasma")]
    for key, where in carriers.items():
        gene, exon, codon = genes.get(key, (None, None, None))
        for lesion, sample, role in samples:
            hit = lesion in where or (role == "plasma" and key == "1:300:C>T")
            if sample == "L1b":
                hit = False  # a second region of L1 without the mutation: regions merge
            rows.append({"patient_id": "P/1", "lesion_id": lesion, "sample_id": sample,
                         "role": role, "variant_key": key, "alt_count": 60 if hit else 0,
                         "depth": 200, "detected": hit, "gene": gene, "exon": exon,
                         "codon": codon, "vaf": (60 if hit else 0) / 200,
                         "status": {"baseline": "baseline", "plasma": "unknown"}.get(
                             role, "progressive")})
    rows.append({"patient_id": "P2", "lesion_id": "L1", "sample_id": "P2L1", "role": "lesion",
                 "variant_key": "1:1:A>C", "alt_count": 9, "depth": 30, "detected": True,
                 "gene": None, "exon": None, "codon": None, "vaf": 0.3,
                 "status": "progressive"})
    frame = pd.DataFrame(rows)
    parts = frame["variant_key"].str.extract(r"^(\w+):(\d+):(\w+)>(\w+)$")
    frame["chrom"], frame["ref"], frame["alt"] = parts[0], parts[2], parts[3]
    frame["pos"] = parts[1].astype(int)
    from lesiontrack import CALLS_COLUMNS

    return frame.reindex(columns=[*CALLS_COLUMNS, *(c for c in frame if c not in CALLS_COLUMNS)])


def test_phylogeny_from_a_calls_table():
    calls = _calls()
    origins = pd.DataFrame({"patient_id": ["P/1", "P/1"],
                            "variant_key": ["1:500:G>A", "4:55599321:A>T"],
                            "origin": ["germline", "secondary"]})
    result = ph.phylogeny(calls, origins)
    assert result.skipped == {"P2": "1 lesion (a tree needs two)"}
    tree = result.patients["P/1"]
    assert tree.lesions == ("B", "L1", "L2", "L3")  # plasma is not a leaf
    assert tree.excluded == {"germline": 1}
    assert clades_of(tree) >= {frozenset({"L1", "L2", "L3"}), frozenset({"L1", "L2"})}
    table = result.mutations().set_index("variant_key")
    assert "1:500:G>A" not in table.index
    assert table.loc["4:55594221:A>T", "branch"] == "trunk"
    assert table.loc["4:55599321:A>T", "origin"] == "secondary"
    assert table.loc["4:55599321:A>T", "region"] == "KIT activation loop"
    assert table.loc["4:55599321:A>T", "convergent"]
    assert table.loc["4:55599333:A>T", "convergent"]
    assert table.loc["1:300:C>T", "detected_in"] == "L1,L2"  # the plasma detection is ignored


def test_phylogeny_takes_a_states_table():
    calls = _calls()
    states = pd.DataFrame({"patient_id": ["P/1"] * 3, "variant_key": ["1:100:C>T"] * 3,
                           "lesion_id": ["L1", "L2", "L3"],
                           "state": ["detected", "detected", "low_level"]})
    tree = ph.phylogeny(calls, states=states).patients["P/1"]
    assert tree.mutations()["detected_in"].tolist() == ["L1,L2"]
    assert tree.mutations()["not_evaluable_in"].tolist() == ["B,L3"]


def test_latest_date_samples_only():
    calls = _calls()
    calls["date"] = "2024-01-01"
    later = calls[calls["sample_id"] == "L2"].assign(sample_id="L2late", date="2025-01-01",
                                                     detected=False, alt_count=0, vaf=0.0)
    calls = pd.concat([calls, later], ignore_index=True)
    latest = ph.phylogeny(calls).patients["P/1"].mutations().set_index("variant_key")
    merged = ph.phylogeny(calls, latest_only=False).patients["P/1"].mutations().set_index(
        "variant_key")
    assert "L2" not in latest.loc["1:300:C>T", "detected_in"]
    assert "L2" in merged.loc["1:300:C>T", "detected_in"]


def test_thresholds_recompute_detection():
    calls = _calls()
    calls.loc[calls["variant_key"] == "1:300:C>T", "alt_count"] = (
        calls.loc[calls["variant_key"] == "1:300:C>T", "alt_count"].clip(upper=4))
    calls["vaf"] = calls["alt_count"] / calls["depth"]
    from lesiontrack.options import Thresholds

    # 4/200 reads: 2% VAF detected at min_vaf 0.02, not at 0.025
    kept = ph.phylogeny(calls, thresholds=Thresholds(min_vaf=0.02)).mutations()
    assert "1:300:C>T" in set(kept["variant_key"])
    gone = ph.phylogeny(calls, thresholds=Thresholds(min_vaf=0.025)).mutations()
    assert "1:300:C>T" not in set(gone["variant_key"])


@pytest.mark.parametrize(("table", "column"), [("calls", "variant_key"), ("states", "state"),
                                                ("origins", "origin")])
def test_a_table_without_a_needed_column_is_refused(table, column):
    calls = _calls()
    tables = {"calls": calls,
              "states": pd.DataFrame({"patient_id": [], "variant_key": [], "lesion_id": [],
                                      "state": []}),
              "origins": pd.DataFrame({"patient_id": [], "variant_key": [], "origin": []})}
    tables[table] = tables[table].drop(columns=column)
    with pytest.raises(OptionError, match=f"the {table} table has no column {column}") as caught:
        ph.phylogeny(tables["calls"], tables["origins"], states=tables["states"])
    assert caught.value.field == column


def test_writers(tmp_path):
    result = ph.phylogeny(_calls())
    written = ph.write_phylogeny(result, tmp_path / "out")
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert names == ["mutations.tsv", "phylogeny.json", "trees/P_1.nwk"]
    newick = (tmp_path / "out" / "trees" / "P_1.nwk").read_text()
    assert newick == result.patients["P/1"].newick() + "\n"
    table = pd.read_csv(tmp_path / "out" / "mutations.tsv", sep="\t")
    assert list(table.columns[:5]) == ["patient_id", "variant_key", "branch", "lesions",
                                       "presence"]
    assert list(table.columns) == pt.MUTATION_COLUMNS
    payload = json.loads((tmp_path / "out" / "phylogeny.json").read_text())
    entry = payload["patients"]["P/1"]
    assert entry["newick_file"] == "trees/P_1.nwk"
    assert entry["method"] == "exact"
    assert set(entry["private_fraction"]) == {"B", "L1", "L2", "L3"}
    assert payload["skipped"] == {"P2": "1 lesion (a tree needs two)"}


# ---------------------------------------------------------------------------------------------
# Treeomics' example (skipped without ../shared)

TREEOMICS = SHARED / "external-data" / "treeomics_example" / "expected_example_6_variants.csv"


@pytest.mark.skipif(not TREEOMICS.exists(), reason="shared Treeomics example not available")
def test_treeomics_example_tree_and_classes():
    import numpy as np

    from lesiontrack.options import Thresholds

    table = pd.read_csv(TREEOMICS)
    samples = [f"Met{i}" for i in range(1, 7)]
    parts = []
    for s in samples:
        det = Thresholds().detect(table[f"var_{s}"], table[f"cov_{s}"], table[f"VAF_{s}"])
        state = np.where(det.fillna(False).to_numpy(dtype=bool), "detected",
                         np.where(det.isna().to_numpy(), "not_evaluable", "absent"))
        parts.append(pd.DataFrame({"patient_id": "x", "variant_key": table.index.astype(str),
                                   "lesion_id": s, "state": state}))
    matrix = ph.matrices_from_states(pd.concat(parts), {"x": samples})["x"]
    tree = pt.infer_tree(matrix)
    # Treeomics' tree has the clades (Met1, Met3) and (Met4, Met5)
    assert {frozenset({"Met1", "Met3"}), frozenset({"Met4", "Met5"})} <= clades_of(tree)
    branch = tree.mutations()["branch"].value_counts()
    assert branch["trunk"] == 63


MESKIT = SHARED / "external-data" / "meskit_crc_hz"


@pytest.mark.skipif(not (MESKIT / "CRC_HZ.maf").exists(), reason="shared MesKit data not available")
def test_meskit_presence_classes_match_at_meskits_threshold():
    from lesiontrack import build_calls
    from lesiontrack.options import Thresholds
    from lesiontrack.samplesheet import read_meskit_clinical

    sheet = read_meskit_clinical(MESKIT / "CRC_HZ.clin.txt")
    sheet = sheet.assign(role="lesion", status_raw="unknown", site="", timepoint="",
                         vcf_sample="", calls="CRC_HZ.maf", calls_path=str(MESKIT / "CRC_HZ.maf"),
                         bam="", bam_path="", assembly="GRCh37", line=range(2, len(sheet) + 2))
    calls = build_calls(sheet, sheet_path=MESKIT / "CRC_HZ.clin.txt", genes="all")
    # MesKit: present = a MAF row with VAF > 0; classes per tumour (classByTumor)
    result = ph.phylogeny(calls, None, sheet, thresholds=Thresholds(0, 1, 0.0))
    maf = pd.read_csv(MESKIT / "CRC_HZ.maf", sep="\t", dtype={"Chromosome": str})
    maf = maf.merge(sheet[["sample_id", "patient_id", "lesion_id"]],
                    left_on="Tumor_Sample_Barcode", right_on="sample_id")
    maf["variant_key"] = (maf["Chromosome"] + ":" + maf["Start_Position"].astype(str) + ":"
                          + maf["Reference_Allele"] + ">" + maf["Tumor_Seq_Allele2"])
    tumours = maf.groupby("patient_id")["lesion_id"].nunique()
    seen = maf[maf["VAF"] > 0].groupby(["patient_id", "variant_key"])["lesion_id"].nunique()
    expected = {key: "public" if n == tumours[key[0]] else "private" if n == 1 else "shared"
                for key, n in seen.items()}
    mine = result.mutations().set_index(["patient_id", "variant_key"])["presence"].to_dict()
    assert len(expected) == 3990
    assert mine == expected



@settings(max_examples=60, deadline=None)
@given(st.integers(3, 6).flatmap(lambda n: st.lists(
    st.text(alphabet="10?", min_size=n, max_size=n).filter(lambda t: "1" in t),
    min_size=1, max_size=25)), st.integers(0, 2**32 - 1))
def test_filling_a_missing_entry_never_lowers_the_score(rows, seed):
    n = len(rows[0])
    matrix = M([f"L{j}" for j in range(n)], {f"m{i}": r for i, r in enumerate(rows)})
    rng = random.Random(seed)
    filled = M(list(matrix.lesions), {k: "".join(rng.choice("10") if c == "?" else c for c in r)
                                      for k, r in zip(matrix.mutations, rows, strict=True)})
    topology, cost, _ = ps.search(matrix)
    assert ps.tree_cost(filled, topology) >= cost  # a missing entry is free, a filled one not
    assert ps.search(filled)[1] >= cost
    assert cost == ps.exhaustive_search(matrix)[1]
