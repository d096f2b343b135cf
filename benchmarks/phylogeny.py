"""Lesion phylogeny: accuracy on simulated patients, agreement with MesKit and Treeomics, time.

    python3 benchmarks/phylogeny.py accuracy --patients 200      # known trees, 4-8 lesions
    python3 benchmarks/phylogeny.py cutoff                       # exact search time by lesions
    python3 benchmarks/phylogeny.py external                     # MesKit CRC_HZ, Treeomics example
    python3 benchmarks/phylogeny.py time --patients 1000         # 1,000 x 6 lesions x 300

Every run is seeded; each prints Markdown tables (the figures in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lesiontrack import phylo as ph  # noqa: E402
from lesiontrack import phylo_search as ps  # noqa: E402
from lesiontrack import phylo_tree as pt  # noqa: E402

SHARED = ROOT.parent.parent / "shared" if (ROOT.parent.parent / "shared").exists() else \
    ROOT.parent / "shared"


# ----------------------------------------------------------------------------------------------
# Simulated patients


def random_topology(n: int, rng: random.Random) -> ps.Topology:
    """A uniformly random rooted binary topology: each leaf joins a uniformly random branch."""
    tree: ps.Topology = (0, 1)
    for leaf in range(2, n):
        choices = list(ps._insertions(tree, leaf))
        tree = rng.choice(choices)
    labels = list(range(n))
    rng.shuffle(labels)

    def relabel(node):
        return labels[node] if isinstance(node, int) else (relabel(node[0]), relabel(node[1]))

    return ps.canonical(relabel(tree))


def simulate(rng: random.Random, n: int | None = None, m: int | None = None,
             missing: float | None = None, false_negative: float = 0.02):
    """(true topology, observed 1/0/? rows) of one simulated patient."""
    n = n or rng.randint(4, 8)
    m = m or rng.randint(50, 500)
    missing = rng.uniform(0.05, 0.20) if missing is None else missing
    topology = random_topology(n, rng)
    clades = [mask for mask, _ in ps.topology_clades(topology)]  # root (trunk) first
    weights = [rng.expovariate(1.0) for _ in clades[1:]]
    trunk = sum(weights) * rng.uniform(0.3, 1.0)
    weights = [trunk, *weights]
    rows = {}
    for i, clade in enumerate(rng.choices(clades, weights=weights, k=m)):
        text = []
        for j in range(n):
            if rng.random() < missing:
                text.append("?")
            elif clade >> j & 1:
                text.append("0" if rng.random() < false_negative else "1")
            else:
                text.append("0")
        if "1" in text:
            rows[f"m{i}"] = "".join(text)
    return topology, ps.CharacterMatrix.from_strings([f"L{j}" for j in range(n)], rows)


def _nontrivial(topology: ps.Topology, n: int) -> set[int]:
    full = (1 << n) - 1
    return {mask for mask, _ in ps.topology_clades(topology) if mask != full and mask & (mask - 1)}


def _supported(tree: pt.PatientTree) -> set[int]:
    n = len(tree.lesions)
    return {mask for mask in _nontrivial(tree.topology, n) if tree.branch_lengths.get(mask, 0)}


def _library_clades(matrix: ps.CharacterMatrix) -> set[int]:
    """Bio.Phylo's ParsimonyTreeConstructor (Fitch, NNI) with missing read as absent, rooted on
    an all-absent germline sequence."""
    from Bio.Align import MultipleSeqAlignment
    from Bio.Phylo.TreeConstruction import (
        NNITreeSearcher,
        ParsimonyScorer,
        ParsimonyTreeConstructor,
    )
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord

    n = len(matrix.lesions)
    columns = [matrix.row(i).replace("?", "0") for i in range(len(matrix.mutations))]
    records = [SeqRecord(Seq("".join(c[j] for c in columns)), id=matrix.lesions[j])
               for j in range(n)]
    records.append(SeqRecord(Seq("0" * len(columns)), id="germline"))
    constructor = ParsimonyTreeConstructor(NNITreeSearcher(ParsimonyScorer()))
    tree = constructor.build_tree(MultipleSeqAlignment(records))
    tree.root_with_outgroup("germline")
    index = {name: j for j, name in enumerate(matrix.lesions)}
    out = set()
    full = (1 << n) - 1
    for clade in tree.find_clades():
        names = {t.name for t in clade.get_terminals()}
        if "germline" in names:
            continue
        mask = sum(1 << index[x] for x in names)
        if mask != full and mask & (mask - 1):
            out.add(mask)
    return out


def _missing_as_absent(matrix: ps.CharacterMatrix) -> ps.CharacterMatrix:
    full = (1 << len(matrix.lesions)) - 1
    return ps.CharacterMatrix(matrix.lesions, matrix.mutations, matrix.present,
                              tuple(full & ~p for p in matrix.present))


# ----------------------------------------------------------------------------------------------
# Strict Camin-Sokal (count gains), the score lesiontrack tried first: kept here for comparison.
# The gains of a mutation on a tree = its maximal clean clades (no absent lesion, parent has one)
# holding a detected lesion; a sum over edges, so the best tree comes from a DP over subsets.


def _cs_collapse(matrix):
    n = len(matrix.lesions)
    counts = {}
    constant = 0
    for p, a in zip(matrix.present, matrix.absent, strict=True):
        if not p:
            continue
        if a == 0 or p & (p - 1) == 0:
            constant += 1
            continue
        counts[(p, a)] = counts.get((p, a), 0) + 1
    patterns = sorted(counts)
    clean = [0] * n
    hit = [0] * n
    planes = [0] * max(1, max(counts.values(), default=1).bit_length())
    for k, (p, a) in enumerate(patterns):
        bit = 1 << k
        for j in range(n):
            if not a >> j & 1:
                clean[j] |= bit
            if p >> j & 1:
                hit[j] |= bit
        for b in range(len(planes)):
            if counts[(p, a)] >> b & 1:
                planes[b] |= bit
    return n, clean, hit, planes, (1 << len(patterns)) - 1, constant


def gains_search(matrix) -> ps.Topology:
    """The tree with the fewest gains (strict Camin-Sokal, missing free), exactly."""
    n, clean_leaf, hit_leaf, planes, all_patterns, _ = _cs_collapse(matrix)

    def weigh(bits):
        return sum((bits & plane).bit_count() << b for b, plane in enumerate(planes))

    size = 1 << n
    clean = [all_patterns] * size
    hit = [0] * size
    for mask in range(1, size):
        low = mask & -mask
        j = low.bit_length() - 1
        clean[mask] = clean[mask ^ low] & clean_leaf[j]
        hit[mask] = hit[mask ^ low] | hit_leaf[j]
    best = [0] * size
    split = [0] * size
    for mask in range(1, size):
        if mask & (mask - 1) == 0:
            continue
        low = mask & -mask
        rest = mask ^ low
        dirty = ~clean[mask]
        best_cost, sub = -1, rest
        while sub:
            sub = (sub - 1) & rest
            x = low | sub
            y = mask ^ x
            cost = (best[x] + best[y] + weigh(clean[x] & hit[x] & dirty)
                    + weigh(clean[y] & hit[y] & dirty))
            if best_cost < 0 or cost < best_cost:
                best_cost, split[mask] = cost, x
        best[mask] = best_cost

    def rebuild(mask):
        if mask & (mask - 1) == 0:
            return mask.bit_length() - 1
        return (rebuild(split[mask]), rebuild(mask ^ split[mask]))

    return ps.canonical(rebuild(size - 1))


def accuracy(args) -> None:
    rng = random.Random(args.seed)
    methods = ["exact", "heuristic", "exact, missing read as absent",
               "strict Camin-Sokal (fewest gains), exact", "library (Bio.Phylo)"]
    found = dict.fromkeys(methods, 0)
    inferred = dict.fromkeys(methods, 0)
    false = dict.fromkeys(methods, 0)
    sup_found = sup_total = sup_false = 0
    total = identifiable = 0
    heuristic_optimal = 0
    seconds = dict.fromkeys(methods, 0.0)
    by_n: dict[int, list[float]] = {}
    for _ in range(args.patients):
        truth, matrix = simulate(rng, false_negative=args.false_negative)
        n = len(matrix.lesions)
        true = _nontrivial(truth, n)
        total += len(true)
        true_lengths = {}
        for p, a in zip(matrix.present, matrix.absent, strict=True):
            clade, _, _ = pt.place(p, a, ps.topology_clades(truth))
            true_lengths[clade] = true_lengths.get(clade, 0) + 1
        identifiable += sum(1 for c in true if true_lengths.get(c))
        results = {}
        t0 = time.perf_counter()
        exact = pt.infer_tree(matrix, exact_max_lesions=8)
        seconds["exact"] += time.perf_counter() - t0
        results["exact"] = _nontrivial(exact.topology, n)
        t0 = time.perf_counter()
        heuristic = pt.infer_tree(matrix, exact_max_lesions=0)
        seconds["heuristic"] += time.perf_counter() - t0
        results["heuristic"] = _nontrivial(heuristic.topology, n)
        heuristic_optimal += heuristic.contradictions == exact.contradictions
        t0 = time.perf_counter()
        absent = pt.infer_tree(_missing_as_absent(matrix))
        seconds["exact, missing read as absent"] += time.perf_counter() - t0
        results["exact, missing read as absent"] = _nontrivial(absent.topology, n)
        t0 = time.perf_counter()
        results["strict Camin-Sokal (fewest gains), exact"] = _nontrivial(gains_search(matrix), n)
        seconds["strict Camin-Sokal (fewest gains), exact"] += time.perf_counter() - t0
        if not args.no_library:
            t0 = time.perf_counter()
            results["library (Bio.Phylo)"] = _library_clades(matrix)
            seconds["library (Bio.Phylo)"] += time.perf_counter() - t0
        for method, clades in results.items():
            found[method] += len(clades & true)
            inferred[method] += len(clades)
            false[method] += len(clades - true)
        supported = _supported(exact)
        sup_found += len(supported & true)
        sup_total += len(supported)
        sup_false += len(supported - true)
        by_n.setdefault(n, []).append(len(results["exact"] & true) / len(true) if true else 1.0)
    print(f"{args.patients} simulated patients (seed {args.seed}): 4-8 lesions, 50-500 "
          f"mutations, 5-20% of entries not evaluable, {args.false_negative:.0%} of present "
          f"entries read as absent (false negatives); {total} true clades, {identifiable} of "
          f"them carrying at least one observed mutation.\n")
    print("| search | bipartitions recovered | of identifiable | wrong clades / inferred "
          "| seconds per patient |")
    print("|---|---:|---:|---:|---:|")
    for method in methods:
        if not inferred[method]:
            continue
        print(f"| {method} | {found[method] / total:.3f} | {found[method] / identifiable:.3f} "
              f"| {false[method] / inferred[method]:.3f} "
              f"| {seconds[method] / args.patients:.4f} |")
    print(f"| exact, branches with >= 1 mutation only | {sup_found / total:.3f} | "
          f"{sup_found / identifiable:.3f} | {sup_false / max(sup_total, 1):.3f} | |")
    print(f"\nheuristic reached the exact optimum (same score) in {heuristic_optimal} of "
          f"{args.patients} patients.\n")
    print("| lesions | patients | exact: mean fraction recovered |")
    print("|---:|---:|---:|")
    for n in sorted(by_n):
        print(f"| {n} | {len(by_n[n])} | {statistics.mean(by_n[n]):.3f} |")


def cutoff(args) -> None:
    rng = random.Random(args.seed)
    print("| lesions | rooted trees | listing the trees (once), s | exact, s per patient "
          "| every tree scored one by one, s | heuristic, s | heuristic = optimum |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in range(4, args.max_lesions + 1):
        trees = 1
        for k in range(3, 2 * n - 2, 2):
            trees *= k
        exact_s = brute_s = heur_s = 0.0
        same = 0
        t0 = time.perf_counter()
        ps._all_trees(n)
        listing = time.perf_counter() - t0
        for _ in range(args.repeats):
            _, matrix = simulate(rng, n=n, m=300, missing=0.1)
            t0 = time.perf_counter()
            _, gains, _ = ps.search(matrix, exact_max_lesions=n)
            exact_s += time.perf_counter() - t0
            if n <= 7:
                t0 = time.perf_counter()
                _, brute = ps.exhaustive_search(matrix)
                brute_s += time.perf_counter() - t0
                assert brute == gains
            t0 = time.perf_counter()
            _, hgains, _ = ps.search(matrix, exact_max_lesions=0)
            heur_s += time.perf_counter() - t0
            same += hgains == gains
        r = args.repeats
        brute_text = f"{brute_s / r:.3f}" if n <= 7 else "-"
        print(f"| {n} | {trees:,} | {listing:.2f} | {exact_s / r:.3f} | {brute_text} "
              f"| {heur_s / r:.3f} "
              f"| {same}/{r} |")


# ----------------------------------------------------------------------------------------------
# External data


def _meskit_classes(maf: pd.DataFrame, level: str) -> pd.Series:
    """MesKit's Public/Shared/Private (present = a MAF row with VAF > 0) per (patient, key)."""
    present = maf[maf["VAF"] > 0]
    unit = "Tumor_Sample_Barcode" if level == "sample" else "Tumor_ID"
    totals = maf.groupby("Patient_ID")[unit].nunique()
    counts = present.groupby(["Patient_ID", "key"])[unit].nunique()
    counts.index = counts.index.set_names(["patient_id", "variant_key"])
    total = totals.reindex(counts.index.get_level_values(0)).to_numpy()
    out = np.where(counts.to_numpy() == total, "public",
                   np.where(counts.to_numpy() == 1, "private", "shared"))
    return pd.DataFrame({"meskit": out, "meskit_n": counts.to_numpy()}, index=counts.index)


def external(args) -> None:
    from lesiontrack import build_calls
    from lesiontrack.options import Thresholds
    from lesiontrack.samplesheet import read_meskit_clinical

    meskit = SHARED / "external-data" / "meskit_crc_hz"
    clin = read_meskit_clinical(meskit / "CRC_HZ.clin.txt")
    maf = pd.read_csv(meskit / "CRC_HZ.maf", sep="\t", dtype={"Chromosome": str})
    info = pd.read_csv(meskit / "CRC_HZ.clin.txt", sep="\t")
    maf = maf.merge(info[["Tumor_Sample_Barcode", "Tumor_ID", "Patient_ID"]],
                    on="Tumor_Sample_Barcode")
    maf["key"] = (maf["Chromosome"] + ":" + maf["Start_Position"].astype(str) + ":"
                  + maf["Reference_Allele"] + ">" + maf["Tumor_Seq_Allele2"])
    print("### MesKit CRC_HZ: presence classes\n")
    print("| leaves | thresholds | mutations (MesKit) | same class | agreement | "
          "not detected by lesiontrack | detected in fewer units | other differences |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for level in ("sample", "lesion"):
        sheet = clin.copy()
        if level == "sample":
            sheet["lesion_id"] = sheet["sample_id"]
        sheet = sheet.assign(role="lesion", status_raw="unknown", site="", timepoint="",
                             vcf_sample="", calls="CRC_HZ.maf",
                             calls_path=str(meskit / "CRC_HZ.maf"), bam="", bam_path="",
                             assembly="GRCh37", line=range(2, len(sheet) + 2))
        calls = build_calls(sheet, sheet_path=meskit / "CRC_HZ.clin.txt", genes="all")
        reference = _meskit_classes(maf, level)
        for label, thresholds in (
                ("matched (alt >= 1, VAF > 0, any depth)", Thresholds(0, 1, 0.0)),
                ("lesiontrack defaults (depth 20, alt 3, VAF 2%)", Thresholds())):
            frame = calls.copy()
            frame["detected"] = thresholds.detect(frame["alt_count"], frame["depth"],
                                                  frame["vaf"])
            result = ph.phylogeny(frame, None, sheet)
            mine = result.mutations().set_index(["patient_id", "variant_key"])
            mine = pd.DataFrame({"lesiontrack": mine["presence"],
                                 "n": mine["detected_in"].str.count(",") + 1})
            joined = reference.join(mine)
            same = int((joined["meskit"] == joined["lesiontrack"]).sum())
            absent = int(joined["lesiontrack"].isna().sum())
            differ = joined[(joined["meskit"] != joined["lesiontrack"])
                            & joined["lesiontrack"].notna()]
            fewer = int((differ["n"] < differ["meskit_n"]).sum())
            print(f"| {level}s | {label} | {len(joined)} | {same} | {same / len(joined):.4f} "
                  f"| {absent} | {fewer} | {len(differ) - fewer} |")
    print()
    _treeomics()


def _treeomics() -> None:
    from lesiontrack.options import Thresholds

    path = SHARED / "external-data" / "treeomics_example" / "expected_example_6_variants.csv"
    table = pd.read_csv(path)
    samples = [f"Met{i}" for i in range(1, 7)]
    table["key"] = (table["Chromosome"].astype(str) + ":" + table["StartPosition"].astype(str)
                    + ":" + table["RefAllele"] + ">" + table["AltAllele"])
    theirs_class = table["BISharingStatus"].map(
        {"Trunk": "public", "UntrMetShared": "shared", "UntrMetPrivate": "private"})
    theirs_present = (table[[f"p1_{s}" for s in samples]] >= 0.5).to_numpy()
    print("### Treeomics example_6 (310 variants; parsed from its variants CSV)\n")
    print("| thresholds | trunk / shared / private (branch) | public / shared / private "
          "(presence) | presence class = Treeomics | branch = Treeomics | entries = "
          "Treeomics | tree clades shared with Treeomics |")
    print("|---|---|---|---:|---:|---:|---|")
    treeomics_clades = set()
    for name in table["BranchName"]:
        members = name.split("__")
        if 1 < len(members) < 6:
            treeomics_clades.add(frozenset(members))
    for label, thresholds in (("lesiontrack defaults (depth 20, alt 3, VAF 2%)", Thresholds()),
                              ("VAF 5% (Treeomics' af=0.05)", Thresholds(20, 3, 0.05))):
        rows = []
        for s in samples:
            det = thresholds.detect(table[f"var_{s}"], table[f"cov_{s}"], table[f"VAF_{s}"])
            state = np.where(det.fillna(False).to_numpy(dtype=bool), "detected",
                             np.where(det.isna().to_numpy(), "not_evaluable", "absent"))
            rows.append(pd.DataFrame({"patient_id": "example", "variant_key": table["key"],
                                      "lesion_id": s, "state": state}))
        states = pd.concat(rows)
        matrix = ph.matrices_from_states(states, {"example": samples})["example"]
        tree = pt.infer_tree(matrix, patient_id="example")
        mine = tree.mutations().set_index("variant_key")
        joined = table.set_index("key")
        branch_theirs = theirs_class.to_numpy()
        presence = mine["presence"].reindex(joined.index)
        branch = mine["branch"].reindex(joined.index).map(
            {"trunk": "public", "shared": "shared", "private": "private"})
        same_presence = int((presence.to_numpy() == branch_theirs).sum())
        same_branch = int((branch.to_numpy() == branch_theirs).sum())
        mine_present = np.zeros_like(theirs_present)
        for i, key in enumerate(joined.index):
            if key in mine.index:
                lesions = set(mine.loc[key, "detected_in"].split(","))
                mine_present[i] = [s in lesions for s in samples]
        entries = float((mine_present == theirs_present).mean())
        counts_b = mine["branch"].value_counts()
        counts_p = mine["presence"].value_counts()
        mine_clades = {frozenset(tree.lesions[j] for j in range(6) if mask >> j & 1)
                       for mask in _supported(tree)}
        print(f"| {label} | {counts_b.get('trunk', 0)} / {counts_b.get('shared', 0)} / "
              f"{counts_b.get('private', 0)} | {counts_p.get('public', 0)} / "
              f"{counts_p.get('shared', 0)} / {counts_p.get('private', 0)} | "
              f"{same_presence}/{len(table)} ({same_presence / len(table):.3f}) | "
              f"{same_branch}/{len(table)} ({same_branch / len(table):.3f}) | {entries:.4f} | "
              f"{len(mine_clades & treeomics_clades)} of Treeomics' "
              f"{len(treeomics_clades)}; {tree.newick()} |")
    print("\nTreeomics: 63 trunk / 14 shared / 233 private; clades "
          + ", ".join(sorted("+".join(sorted(c)) for c in treeomics_clades)))


# ----------------------------------------------------------------------------------------------
# Time


def make_cohort(patients: int, lesions: int, mutations: int, seed: int) -> pd.DataFrame:
    """A calls table in memory: one row per (lesion sample, mutation), with counts."""
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    parts = []
    for p in range(patients):
        topology = random_topology(lesions, prng)
        clades = [mask for mask, _ in ps.topology_clades(topology)]
        weights = rng.exponential(1.0, len(clades))
        weights[0] = weights[1:].sum() * 0.5
        chosen = rng.choice(len(clades), size=mutations, p=weights / weights.sum())
        masks = np.array(clades, dtype=np.int64)[chosen]
        leaf = np.arange(lesions)
        carries = (masks[:, None] >> leaf[None, :]) & 1
        depth = rng.integers(10, 200, size=carries.shape)
        alt = np.where(carries == 1, rng.binomial(depth, 0.3), rng.binomial(depth, 0.002))
        parts.append(pd.DataFrame({
            "patient_id": f"P{p:04d}",
            "lesion_id": np.tile([f"L{j + 1}" for j in range(lesions)], mutations),
            "variant_key": np.repeat([f"1:{p * 100_000 + i + 1}:A>T" for i in range(mutations)],
                                     lesions),
            "alt_count": alt.ravel(), "depth": depth.ravel(),
        }))
    calls = pd.concat(parts, ignore_index=True)
    calls["sample_id"] = calls["patient_id"] + "_" + calls["lesion_id"]
    calls["role"] = "lesion"
    calls["vaf"] = calls["alt_count"] / calls["depth"]
    calls["gene"] = "GENE" + (calls.index % 5000).astype(str)
    calls["exon"] = pd.NA
    calls["codon"] = pd.NA
    from lesiontrack.options import Thresholds

    calls["detected"] = Thresholds().detect(calls["alt_count"], calls["depth"], calls["vaf"])
    return calls


def _clock(function):
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def timing(args) -> None:
    import os

    from lesiontrack.evidence import lesion_states

    t0 = time.perf_counter()
    calls = make_cohort(args.patients, args.lesions, args.mutations, args.seed)
    made = time.perf_counter() - t0
    runs = [_clock(lambda: ph.phylogeny(calls)) for _ in range(args.repeats)]
    result = runs[0][0]
    states, states_wall, states_cpu = _clock(lambda: lesion_states(calls))
    _, trees_wall, trees_cpu = _clock(lambda: ph.phylogeny(calls, states=states))
    methods = {t.method for t in result.patients.values()}
    load = os.getloadavg()[0]
    print(f"{args.patients} patients x {args.lesions} lesions x {args.mutations} mutations "
          f"({len(calls):,} calls rows, made in {made:.1f} s), one process, load average "
          f"{load:.1f} on {os.cpu_count()} CPUs:\n")
    print("| step | wall seconds | CPU seconds |")
    print("|---|---:|---:|")
    print(f"| `phylogeny(calls)`, median of {args.repeats} "
          f"| {statistics.median(r[1] for r in runs):.1f} "
          f"| {statistics.median(r[2] for r in runs):.1f} |")
    print(f"| of which lesion states (`evidence.lesion_states`) | {states_wall:.1f} "
          f"| {states_cpu:.1f} |")
    print(f"| of which matrices, trees ({', '.join(sorted(methods))}), placement, heterogeneity "
          f"| {trees_wall:.1f} | {trees_cpu:.1f} |")
    print(f"\n{len(result.mutations()):,} mutation rows; {len(result.patients)} trees.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("--patients", type=int, default=200)
    a.add_argument("--seed", type=int, default=18)
    a.add_argument("--false-negative", type=float, default=0.02)
    a.add_argument("--no-library", action="store_true")
    c = sub.add_parser("cutoff")
    c.add_argument("--max-lesions", type=int, default=8)
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--seed", type=int, default=18)
    sub.add_parser("external")
    t = sub.add_parser("time")
    t.add_argument("--patients", type=int, default=1000)
    t.add_argument("--lesions", type=int, default=6)
    t.add_argument("--mutations", type=int, default=300)
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    {"accuracy": accuracy, "cutoff": cutoff, "external": external, "time": timing}[
        args.command](args)


if __name__ == "__main__":
    main()
