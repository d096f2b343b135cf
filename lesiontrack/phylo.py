"""Lesion phylogeny: how a patient's lesions are related, from their mutations' evidence states.

The model
---------
Each patient gives a binary character matrix: one row per mutation detected in at least one of
its lesions, one column per lesion (the leaves: a lesion's regions merged; the baseline is a leaf
like the others; plasma and normal samples are not leaves). An entry is *present* (detected),
*absent* (the lesion was evaluable at the site and the mutation was not there) or *missing*
(low level, not evaluable): missing is never read as absent.

The tree is rooted at the germline (every mutation absent). The model is Camin-Sokal-like
(irreversible) under infinite sites: each mutation is *gained once*, on one branch, and is then
present in every lesion below that branch and in no other: *never lost*, never gained twice.
Observations that contradict a mutation's branch are errors of the data: an *absent* lesion
below the branch (a false negative, or a loss the model does not allow) or a *detected* lesion
outside it (a false positive, or a second gain), each costing :data:`FALSE_NEGATIVE_COST` /
:data:`FALSE_POSITIVE_COST` (1 and 1). A missing entry costs nothing and is never read as
absent. A mutation sits on the branch where it contradicts the fewest observations; the tree is
the one with the fewest contradictions in total (a perfect phylogeny scores 0).

(Counting *gains* instead, as strict Camin-Sokal parsimony does, lets a truncal mutation missed
in one lesion vote for a clade of the others: on the simulated patients of
``benchmarks/phylogeny.py`` it recovered 0.856 of the true clades, against 0.906 for this
score; see benchmarks/README.md "Phylogeny".)

The search
----------
Identical patterns are collapsed (with their counts); a mutation detected in one lesion, or
absent from none, fits every tree and is left out of the search. The contradictions of every
distinct pattern on every possible clade (leaf subset, as a bit mask) are tabulated once.

- **exact** (up to :data:`EXACT_MAX_LESIONS` lesions): every rooted binary topology
  ((2n-3)!!: 945 for 6 lesions, 10,395 for 7) is scored from that table in blocks. The
  cut-off was chosen by measurement (benchmarks/README.md "Phylogeny"): at 7 lesions ~0.05 s a
  patient; at 8 (135,135 trees) ~1 s a patient after 10 s to list the trees, while the heuristic
  found the same optimum on every simulated 8-lesion patient in ~0.1 s.
- **heuristic** (above): stepwise addition in several seeded orders, each followed by
  subtree-prune-and-regraft (SPR, which contains NNI) hill climbing; the best tree is kept.

Ties between equally good trees are broken deterministically (enumeration order; the same input
and seed always give the same tree). An internal branch of length 0 carries no mutation: read it
as unresolved.

Placement and classes
---------------------
Each mutation is placed on the branch whose clade contradicts the fewest observations (ties
go to the smaller clade, so a mutation that fits the tree sits above the most recent common
ancestor of the lesions where it is detected); ``contradictions`` says how many entries disagree.
``branch`` is ``trunk`` (the branch from the germline to the tumour's common ancestor),
``shared`` (an internal branch) or ``private`` (a lesion's own branch). ``presence`` is MesKit's
count-based class: ``public`` (detected in every lesion), ``shared`` (in several, not all),
``private`` (in one); it differs from ``branch`` when data are missing. ``convergent`` marks
mutations of one gene region (the knowledge table's functional region, e.g. ``KIT activation
loop``; else gene and exon) hit on two separate branches (neither below the other), and a mutation at a known site detected
in lesions that no single clean clade of the tree holds (the same hotspot acquired twice).

Heterogeneity
-------------
``jaccard`` (per pair of lesions): mutations detected in both / detected in either, among the
mutations evaluable (detected or absent) in both. ``private_fraction`` (per lesion): of the
mutations detected in the lesion and decidable, the fraction absent from every other lesion
(decidable: detected in another lesion, or absent from all others; a mutation not detected
elsewhere but missing somewhere is left out).
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OptionError
from .options import DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd
    from Bio.Phylo.BaseTree import Tree

    from .options import Thresholds

#: Largest number of lesions searched exactly (every topology scored; measured in
#: benchmarks/README.md "Phylogeny"); above, the heuristic.
EXACT_MAX_LESIONS = 7
#: Cost of an absent lesion below a mutation's branch (a false negative).
FALSE_NEGATIVE_COST = 1
#: Cost of a detected lesion outside a mutation's branch (a false positive).
FALSE_POSITIVE_COST = 1
#: Most lesions in one tree (clades are 64-bit masks in the search).
MAX_LESIONS = 62
#: Stepwise-addition orders tried by the heuristic search (the first is the lesions' order).
DEFAULT_REPLICATES = 10

#: Columns of the mutations table, in order.
MUTATION_COLUMNS: list[str] = [
    "patient_id", "variant_key", "branch", "lesions", "presence", "contradictions", "convergent",
    "region", "gene", "origin", "detected_in", "absent_in", "not_evaluable_in",
]
#: Columns of the pairwise Jaccard table.
JACCARD_COLUMNS: list[str] = ["patient_id", "lesion_a", "lesion_b", "jaccard", "n_evaluable"]

ROOT_NAME = "germline"
_LEAF_ROLES = ("baseline", "lesion")

Topology = int | tuple  # a leaf index, or a pair of topologies


# ----------------------------------------------------------------------------------------------
# The character matrix


@dataclass(frozen=True)
class CharacterMatrix:
    """One patient's lesions x mutations matrix as bit masks over the lesions.

    ``present[i]`` / ``absent[i]`` are the lesions (bit ``j`` = ``lesions[j]``) where mutation
    ``mutations[i]`` is detected / absent; every other lesion is missing for it.
    """

    lesions: tuple[str, ...]
    mutations: tuple[str, ...]
    present: tuple[int, ...]
    absent: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.mutations) == len(self.present) == len(self.absent):
            raise OptionError("mutations, present and absent differ in length", field="present")
        if len(set(self.lesions)) != len(self.lesions):
            raise OptionError("a lesion is named twice", field="lesions")
        full = (1 << len(self.lesions)) - 1
        for key, p, a in zip(self.mutations, self.present, self.absent, strict=True):
            if p & a or (p | a) & ~full or p < 0 or a < 0:
                raise OptionError(f"mutation {key!r}: present and absent overlap or name an "
                                  "unknown lesion", field="present")

    @classmethod
    def from_strings(cls, lesions: Sequence[str], rows: Mapping[str, str]) -> CharacterMatrix:
        """A matrix from one string per mutation: ``1`` present, ``0`` absent, ``?`` missing.

        ``CharacterMatrix.from_strings(["L1", "L2", "L3"], {"m1": "110", "m2": "1?0"})``.
        """
        present, absent = [], []
        for key, text in rows.items():
            if len(text) != len(lesions) or set(text) - set("10?"):
                raise OptionError(f"mutation {key!r}: {text!r} is not one of 1/0/? per lesion",
                                  field=str(key))
            present.append(sum(1 << j for j, c in enumerate(text) if c == "1"))
            absent.append(sum(1 << j for j, c in enumerate(text) if c == "0"))
        return cls(tuple(lesions), tuple(rows), tuple(present), tuple(absent))

    def row(self, index: int) -> str:
        """The mutation's states as a ``1``/``0``/``?`` string in lesion order."""
        p, a = self.present[index], self.absent[index]
        return "".join("1" if p >> j & 1 else "0" if a >> j & 1 else "?"
                       for j in range(len(self.lesions)))


# ----------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class _Patterns:
    """The informative patterns of a matrix, collapsed, with their counts."""

    n: int  # leaves
    present: Any  # numpy int64 bit masks, one per distinct informative pattern
    absent: Any
    weights: Any  # numpy int64 counts


def _collapse(matrix: CharacterMatrix) -> _Patterns:
    """Distinct informative patterns: a mutation detected in one lesion, or absent from none,
    fits every tree without contradiction and is left out of the search."""
    import numpy as np

    counts: dict[tuple[int, int], int] = {}
    for p, a in zip(matrix.present, matrix.absent, strict=True):
        if p & (p - 1) and a:
            counts[(p, a)] = counts.get((p, a), 0) + 1
    keys = sorted(counts)
    return _Patterns(len(matrix.lesions),
                     np.array([k[0] for k in keys], dtype=np.int64),
                     np.array([k[1] for k in keys], dtype=np.int64),
                     np.array([counts[k] for k in keys], dtype=np.int64))


def _contradictions(patterns: _Patterns, masks: Any) -> Any:
    """Contradictions of each pattern if gained on each clade of ``masks``: a K x len(masks)
    array of (absent lesions inside the clade) + (detected lesions outside it)."""
    import numpy as np

    masks = np.asarray(masks, dtype=np.int64)
    inside = np.bitwise_count(patterns.absent[:, None] & masks[None, :])
    outside = np.bitwise_count(patterns.present[:, None] & ~masks[None, :])
    return (FALSE_NEGATIVE_COST * inside + FALSE_POSITIVE_COST * outside).astype(np.int32)


class _Scorer:
    """Contradictions of rooted topologies over one matrix's collapsed patterns."""

    def __init__(self, patterns: _Patterns) -> None:
        import numpy as np

        self.p = patterns
        self._columns: dict[int, Any] = {}
        self._np = np

    def _column(self, mask: int) -> Any:
        column = self._columns.get(mask)
        if column is None:
            column = _contradictions(self.p, [mask])[:, 0]
            self._columns[mask] = column
        return column

    def score(self, topology: Topology) -> int:
        """Total contradictions of the matrix on this topology (each mutation on its best clade)."""
        if not len(self.p.weights):
            return 0
        columns = [self._column(mask) for mask, _ in _clades(topology)]
        best = self._np.minimum.reduce(columns)
        return int(best @ self.p.weights)


def tree_cost(matrix: CharacterMatrix, topology: Topology) -> int:
    """Contradictions (missing entries free) of ``matrix`` on a topology of leaf indices."""
    return _Scorer(_collapse(matrix)).score(topology)


# ----------------------------------------------------------------------------------------------
# Topologies


def _leaf_mask(node: Topology) -> int:
    if isinstance(node, int):
        return 1 << node
    return _leaf_mask(node[0]) | _leaf_mask(node[1])


def _min_leaf(node: Topology) -> int:
    while not isinstance(node, int):
        node = node[0]
    return node


def canonical(node: Topology) -> Topology:
    """The same topology with each pair ordered by its smallest leaf (a unique form)."""
    if isinstance(node, int):
        return node
    left, right = canonical(node[0]), canonical(node[1])
    return (left, right) if _min_leaf(left) < _min_leaf(right) else (right, left)


def _insertions(tree: Topology, new: Topology) -> Iterator[Topology]:
    """Every tree made by attaching ``new`` on a branch of ``tree`` (above the root included)."""
    yield (tree, new)
    if not isinstance(tree, int):
        left, right = tree
        for t in _insertions(left, new):
            yield (t, right)
        for t in _insertions(right, new):
            yield (left, t)


def rooted_topologies(n: int) -> Iterator[Topology]:
    """Every rooted binary topology on leaves ``0..n-1``: (2n-3)!! of them (945 for n = 6)."""
    if n < 1:
        return
    if n == 1:
        yield 0
        return

    def grow(tree: Topology, k: int) -> Iterator[Topology]:
        if k == n:
            yield tree
            return
        for bigger in _insertions(tree, k):
            yield from grow(bigger, k + 1)

    yield from grow((0, 1), 2)


@functools.lru_cache(maxsize=16)
def _all_trees(n: int) -> tuple[list[Topology], Any]:
    """Every topology on n leaves (canonical) and a (trees x clades) array of their clades."""
    import numpy as np

    trees = [canonical(t) for t in rooted_topologies(n)]
    clades = np.array([[mask for mask, _ in _clades(t)] for t in trees], dtype=np.int64)
    return trees, clades


def _exact(patterns: _Patterns) -> tuple[Topology, int]:
    """The best of every rooted binary topology, scored in blocks (ties: enumeration order)."""
    import numpy as np

    trees, clades = _all_trees(patterns.n)
    if not len(patterns.weights):
        return trees[0], 0
    table = _contradictions(patterns, np.arange(1 << patterns.n))  # K x 2^n
    weights = patterns.weights.astype(np.int64)
    block = max(256, 4_000_000 // max(1, len(weights) * clades.shape[1]))
    best_cost, best_index = -1, 0
    for start in range(0, len(trees), block):
        chunk = table[:, clades[start:start + block]].min(axis=2)  # K x trees
        costs = weights @ chunk
        i = int(np.argmin(costs))
        if best_cost < 0 or costs[i] < best_cost:
            best_cost, best_index = int(costs[i]), start + i
    return trees[best_index], best_cost


def _spr_neighbours(tree: Topology) -> Iterator[Topology]:
    """Every tree one subtree-prune-and-regraft away (NNI moves included)."""

    def subtrees(node: Topology) -> Iterator[Topology]:
        if not isinstance(node, int):
            for child in node:
                yield child
                yield from subtrees(child)

    def prune(node: Topology, target: int) -> Topology:
        left, right = node
        if _leaf_mask(left) == target:
            return right
        if _leaf_mask(right) == target:
            return left
        if _leaf_mask(left) & target:
            return (prune(left, target), right)
        return (left, prune(right, target))

    for sub in subtrees(tree):
        rest = prune(tree, _leaf_mask(sub))
        yield from _insertions(rest, sub)


def _heuristic(patterns: _Patterns, seed: int, replicates: int) -> tuple[Topology, int]:
    """Stepwise addition (seeded orders) + SPR hill climbing; the best of ``replicates`` runs."""
    n = patterns.n
    scorer = _Scorer(patterns)
    rng = random.Random(seed)
    best: tuple[int, Topology] | None = None
    for replicate in range(max(1, replicates)):
        order = list(range(n))
        if replicate:
            rng.shuffle(order)
        tree: Topology = (order[0], order[1])
        for leaf in order[2:]:
            tree = min(_insertions(tree, leaf), key=scorer.score)
        cost = scorer.score(tree)
        while True:
            candidate = min(_spr_neighbours(tree), key=scorer.score)
            candidate_cost = scorer.score(candidate)
            if candidate_cost >= cost:
                break
            tree, cost = candidate, candidate_cost
        tree = canonical(tree)
        if best is None or cost < best[0] or (cost == best[0] and repr(tree) < repr(best[1])):
            best = (cost, tree)
    assert best is not None
    return best[1], best[0]


def search(
    matrix: CharacterMatrix,
    *,
    exact_max_lesions: int = EXACT_MAX_LESIONS,
    seed: int = DEFAULT_SEED,
    replicates: int = DEFAULT_REPLICATES,
) -> tuple[Topology, int, str]:
    """The best rooted topology found: (topology, contradictions, ``exact``/``heuristic``).

    The topology is nested pairs of lesion indices (``((0, 1), 2)``); raises
    :class:`OptionError` for fewer than two lesions.
    """
    n = len(matrix.lesions)
    if n < 2:
        raise OptionError("a lesion tree needs at least two lesions", field="lesions")
    if n > MAX_LESIONS:
        raise OptionError(f"a lesion tree takes at most {MAX_LESIONS} lesions, not {n}",
                          field="lesions", hint="merge regions or samples into fewer lesions")
    patterns = _collapse(matrix)
    if n <= exact_max_lesions:
        topology, cost = _exact(patterns)
        return topology, cost, "exact"
    topology, cost = _heuristic(patterns, seed, replicates)
    return topology, cost, "heuristic"


def exhaustive_search(matrix: CharacterMatrix) -> tuple[Topology, int]:
    """The best topology by scoring every rooted binary tree one by one (for checks only)."""
    scorer = _Scorer(_collapse(matrix))
    best = min(rooted_topologies(len(matrix.lesions)), key=scorer.score)
    return canonical(best), scorer.score(best)


# ----------------------------------------------------------------------------------------------
# Placement, classes, convergence, heterogeneity


def _clades(topology: Topology) -> list[tuple[int, int]]:
    """(clade, parent clade) of every node, root first with parent 0, in pre-order."""
    out: list[tuple[int, int]] = []

    def walk(node: Topology, parent: int) -> None:
        mask = _leaf_mask(node)
        out.append((mask, parent))
        if not isinstance(node, int):
            walk(node[0], mask)
            walk(node[1], mask)

    walk(topology, 0)
    return out


def place(present: int, absent: int,
          clades: Sequence[tuple[int, int]]) -> tuple[int, int, int]:
    """(clade, contradictions, gains) of one mutation: the clade contradicting the fewest
    observations (ties: the smaller, then the earlier in pre-order), how many it contradicts,
    and how many separate gains the mutation would need on the tree to contradict none."""
    best_key: tuple[int, int, int] | None = None
    best_clade = 0
    gains = 0
    for index, (clade, parent) in enumerate(clades):
        if clade & present and not clade & absent and (parent == 0 or parent & absent):
            gains += 1
        key = (FALSE_NEGATIVE_COST * (absent & clade).bit_count()
               + FALSE_POSITIVE_COST * (present & ~clade).bit_count(),
               clade.bit_count(), index)
        if best_key is None or key < best_key:
            best_key, best_clade = key, clade
    assert best_key is not None
    return best_clade, best_key[0], gains


def branch_kind(clade: int, n: int) -> str:
    """``trunk`` (every lesion), ``private`` (one lesion) or ``shared``."""
    if clade == (1 << n) - 1:
        return "trunk"
    return "private" if clade & (clade - 1) == 0 else "shared"


def presence_class(n_detected: int, n_lesions: int) -> str:
    """MesKit's class: ``public`` (detected in all), ``private`` (in one), ``shared`` (some)."""
    if n_detected >= n_lesions:
        return "public"
    return "private" if n_detected == 1 else "shared"


def _pattern_counts(matrix: CharacterMatrix) -> list[tuple[int, int, int]]:
    counts: dict[tuple[int, int], int] = {}
    for p, a in zip(matrix.present, matrix.absent, strict=True):
        counts[(p, a)] = counts.get((p, a), 0) + 1
    return [(p, a, w) for (p, a), w in counts.items()]


def jaccard(matrix: CharacterMatrix) -> list[tuple[str, str, float | None, int]]:
    """(lesion_a, lesion_b, Jaccard, n_evaluable) per pair, over mutations evaluable in both."""
    out = []
    lesions = matrix.lesions
    patterns = _pattern_counts(matrix)
    for i in range(len(lesions)):
        for j in range(i + 1, len(lesions)):
            pair = 1 << i | 1 << j
            both = either = evaluable = 0
            for p, a, w in patterns:
                if (p | a) & pair != pair:
                    continue
                evaluable += w
                if p & pair == pair:
                    both += w
                if p & pair:
                    either += w
            out.append((lesions[i], lesions[j], both / either if either else None, evaluable))
    return out


def private_fraction(matrix: CharacterMatrix) -> dict[str, float | None]:
    """Per lesion: detected mutations absent from every other lesion / decidable ones."""
    full = (1 << len(matrix.lesions)) - 1
    patterns = _pattern_counts(matrix)
    out: dict[str, float | None] = {}
    for j, lesion in enumerate(matrix.lesions):
        me = 1 << j
        others = full ^ me
        private = decided = 0
        for p, a, w in patterns:
            if not p & me:
                continue
            if p & others:
                decided += w
            elif a & others == others:
                decided += w
                private += w
        out[lesion] = private / decided if decided else None
    return out


def _domain(region: str) -> str:
    """``KIT exon 17, activation loop (D816)`` -> ``activation loop``;
    ``PDGFRA exon 14 (kinase domain, e.g. N659K)`` -> ``kinase domain``."""
    head, _, tail = region.partition(",")
    if tail and "(" not in head:  # "KIT exon 13, ATP-binding pocket (V654)"
        return re.sub(r"\s*\(.*\)\s*$", "", tail).strip()
    inner = re.search(r"\(([^)]*)\)", region)
    if inner:  # "KIT exon 11 (juxtamembrane domain)"
        return re.split(r",\s*e\.g\.", inner.group(1))[0].strip()
    return region.strip()


@functools.lru_cache(maxsize=4096)
def region_of(gene: str | None, exon: Any, codon: Any) -> tuple[str | None, bool]:
    """(region, known site) of a mutation: the knowledge table's functional region
    (``KIT activation loop``) when its codon is in the table, else ``GENE exon N``, else None."""
    from . import genome

    if not isinstance(gene, str) or not gene:
        return None, False
    codon_number = _as_int(codon)
    row = genome.knowledge_for(gene, codon_number) if codon_number is not None else None
    if row is not None:
        return f"{gene} {_domain(row.region)}", True
    exon_number = _as_int(exon)
    if exon_number is not None:
        return f"{gene} exon {exon_number}", False
    return None, False


def _as_int(value: Any) -> int | None:
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            return None
        return int(value)
    except (TypeError, ValueError):
        return None


def _convergent(clades: list[int], regions: list[tuple[str | None, bool]],
                gains: list[int]) -> list[bool]:
    flags = [known and g >= 2 for (_, known), g in zip(regions, gains, strict=True)]
    by_region: dict[str, list[int]] = {}
    for i, (region, _) in enumerate(regions):
        if region is not None:
            by_region.setdefault(region, []).append(i)
    for members in by_region.values():
        for x in members:
            if any(not clades[x] & clades[y] for y in members if y != x):
                flags[x] = True
    return flags


# ----------------------------------------------------------------------------------------------
# One patient's tree


@dataclass
class PatientTree:
    """One patient's lesion tree and the placement of its mutations."""

    patient_id: str
    lesions: tuple[str, ...]
    topology: Topology
    method: str  # "exact" or "heuristic"
    contradictions: int  # total entries contradicting the placements (0: a perfect fit)
    n_mutations: int
    rows: list[tuple] = field(repr=False)  # MUTATION_COLUMNS rows
    branch_lengths: dict[int, int] = field(repr=False)  # clade mask -> mutations placed
    jaccard: list[tuple[str, str, float | None, int]] = field(repr=False)
    private_fraction: dict[str, float | None] = field(repr=False)
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def tree(self) -> Tree:
        """The tree as a :class:`Bio.Phylo.BaseTree.Tree`: root ``germline``, one child (the
        tumour's common ancestor, on the trunk branch), leaves named by lesion; branch lengths
        are the numbers of mutations placed on each branch."""
        from Bio.Phylo.BaseTree import Clade, Tree

        def build(node: Topology) -> Clade:
            mask = _leaf_mask(node)
            length = self.branch_lengths.get(mask, 0)
            if isinstance(node, int):
                return Clade(branch_length=length, name=self.lesions[node])
            return Clade(branch_length=length, clades=[build(node[0]), build(node[1])])

        return Tree(root=Clade(name=ROOT_NAME, clades=[build(self.topology)]), rooted=True)

    def newick(self) -> str:
        """The tree in Newick (one line, ending in ``;``)."""
        import io

        from Bio import Phylo

        handle = io.StringIO()
        Phylo.write(self.tree, handle, "newick")
        return handle.getvalue().strip()

    def mutations(self) -> pd.DataFrame:
        """The :data:`MUTATION_COLUMNS` table of this patient."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=MUTATION_COLUMNS)

    def heterogeneity(self) -> dict[str, Any]:
        """``jaccard`` (per pair of lesions) and ``private_fraction`` (per lesion), JSON-ready
        (as :func:`heterogeneity_entry`)."""
        return _heterogeneity(self.jaccard, self.private_fraction)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (tree in Newick, counts, heterogeneity)."""
        branch = {"trunk": 0, "shared": 0, "private": 0}
        presence = {"public": 0, "shared": 0, "private": 0}
        convergent = []
        for row in self.rows:
            branch[row[2]] += 1
            presence[row[4]] += 1
            if row[6]:
                convergent.append({"variant_key": row[1], "region": row[7], "lesions": row[3]})
        return {
            "patient_id": self.patient_id, "lesions": list(self.lesions), "method": self.method,
            "contradictions": self.contradictions, "n_mutations": self.n_mutations,
            "newick": self.newick(),
            "branch": branch, "presence": presence, "convergent": convergent,
            **self.heterogeneity(),
            "excluded": dict(self.excluded),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def infer_tree(
    matrix: CharacterMatrix,
    *,
    patient_id: str = "",
    regions: Mapping[str, tuple[str | None, bool]] | None = None,
    genes: Mapping[str, str] | None = None,
    origins: Mapping[str, str] | None = None,
    exact_max_lesions: int = EXACT_MAX_LESIONS,
    seed: int = DEFAULT_SEED,
    replicates: int = DEFAULT_REPLICATES,
) -> PatientTree:
    """Tree, placement, classes and heterogeneity of one patient's matrix.

    ``regions`` maps a variant key to (region, known site) (see :func:`region_of`); ``genes``
    and ``origins`` only fill the table's columns. Mutations detected in no lesion are left out.
    """
    regions = regions or {}
    genes = genes or {}
    origins = origins or {}
    keep = [i for i, p in enumerate(matrix.present) if p]
    if len(keep) < len(matrix.mutations):
        matrix = CharacterMatrix(matrix.lesions, tuple(matrix.mutations[i] for i in keep),
                                 tuple(matrix.present[i] for i in keep),
                                 tuple(matrix.absent[i] for i in keep))
    topology, cost, method = search(matrix, exact_max_lesions=exact_max_lesions, seed=seed,
                                     replicates=replicates)
    n = len(matrix.lesions)
    clades = _clades(topology)
    full = (1 << n) - 1
    names: dict[int, str] = {}

    def named(mask: int) -> str:
        text = names.get(mask)
        if text is None:
            text = names[mask] = ",".join(matrix.lesions[j] for j in range(n) if mask >> j & 1)
        return text

    by_pattern: dict[tuple[int, int], tuple] = {}  # identical patterns are placed once
    placed: list[int] = []
    each_gains: list[int] = []
    columns: list[tuple] = []
    for p, a in zip(matrix.present, matrix.absent, strict=True):
        known = by_pattern.get((p, a))
        if known is None:
            clade, c, g = place(p, a, clades)
            known = by_pattern[(p, a)] = (
                clade, g, (branch_kind(clade, n), named(clade), presence_class(p.bit_count(), n),
                           c), (named(p), named(a), named(full & ~(p | a))))
        placed.append(known[0])
        each_gains.append(known[1])
        columns.append(known)
    mutation_regions = [regions.get(k, (None, False)) for k in matrix.mutations]
    flags = _convergent(placed, mutation_regions, each_gains)
    lengths: dict[int, int] = {}
    rows = []
    for i, key in enumerate(matrix.mutations):
        clade, _, head, tail = columns[i]
        lengths[clade] = lengths.get(clade, 0) + 1
        rows.append((patient_id, key, *head, flags[i], mutation_regions[i][0], genes.get(key),
                     origins.get(key), *tail))
    return PatientTree(
        patient_id=patient_id, lesions=matrix.lesions, topology=topology, method=method,
        contradictions=cost, n_mutations=len(matrix.mutations), rows=rows, branch_lengths=lengths,
        jaccard=jaccard(matrix), private_fraction=private_fraction(matrix),
    )


# ----------------------------------------------------------------------------------------------
# From the calls table


def matrices_from_states(
    states: pd.DataFrame, leaves: Mapping[str, Sequence[str]]
) -> dict[str, CharacterMatrix]:
    """Per patient, the matrix of a lesion-states table (the one adapter from compare's states).

    ``states`` has columns ``patient_id``, ``variant_key``, ``lesion_id``, ``state``:
    ``detected`` is present, ``absent`` is absent, anything else (``low_level``,
    ``not_evaluable``) is missing, as is a (lesion, mutation) without a row. ``leaves`` gives
    each patient's lesions in order; rows of other lesions (plasma, normal) are ignored. A lesion
    both detected and absent in repeated rows is detected. Only mutations detected in at least
    one leaf are kept, in first-seen order.
    """
    import numpy as np
    import pandas as pd

    _require(states, "states", ("patient_id", "variant_key", "lesion_id", "state"))
    roster = pd.DataFrame(
        [(p, lesion, j) for p, ls in leaves.items() for j, lesion in enumerate(ls)],
        columns=["patient_id", "lesion_id", "_leaf"])
    frame = states[["patient_id", "variant_key", "lesion_id", "state"]].merge(
        roster, on=["patient_id", "lesion_id"], how="inner", sort=False)
    frame = frame[frame["state"].isin(["detected", "absent"]).to_numpy()].drop_duplicates(
        ["patient_id", "variant_key", "lesion_id", "state"])
    wide = max((len(ls) for ls in leaves.values()), default=0) > MAX_LESIONS
    leaf = frame["_leaf"].to_numpy()
    bit = (np.array([1 << int(j) for j in leaf], dtype=object) if wide
           else np.left_shift(np.int64(1), leaf.astype(np.int64)))
    is_present = (frame["state"] == "detected").to_numpy()
    frame = frame.assign(_p=np.where(is_present, bit, 0), _a=np.where(is_present, 0, bit))
    masks = frame.groupby(["patient_id", "variant_key"], sort=False)[["_p", "_a"]].sum()
    masks = masks[masks["_p"].to_numpy() != 0]
    # one pass over plain lists (a pandas group per patient costs ~0.1 ms each)
    groups: dict[str, tuple[list, list, list]] = {}
    for patient, key, p, a in zip(masks.index.get_level_values(0).tolist(),
                                  masks.index.get_level_values(1).tolist(),
                                  masks["_p"].tolist(), masks["_a"].tolist(), strict=True):
        keys, present, absent = groups.setdefault(patient, ([], [], []))
        keys.append(key)
        present.append(int(p))
        absent.append(int(a) & ~int(p))
    out = {}
    for patient, lesions in leaves.items():
        keys, present, absent = groups.get(patient, ([], [], []))
        out[patient] = CharacterMatrix(tuple(lesions), tuple(keys), tuple(present),
                                       tuple(absent))
    return out


_CALLS_NEEDED = ("patient_id", "lesion_id", "sample_id", "role", "status", "variant_key", "gene",
                 "exon", "alt_count", "depth", "vaf", "detected")


def _require(table: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise OptionError(f"the {name} table has no column {', '.join(missing)}",
                          field=missing[0], hint=f"{name} needs {', '.join(columns)}")


def _leaf_roster(calls: pd.DataFrame, sheet: pd.DataFrame | None) -> dict[str, list[str]]:
    import pandas as pd

    parts = [calls[["patient_id", "lesion_id", "role"]]]
    if sheet is not None:
        parts.append(sheet[["patient_id", "lesion_id", "role"]])
    roster = pd.concat(parts)
    roster = roster[roster["role"].isin(_LEAF_ROLES)].drop_duplicates(["patient_id", "lesion_id"])
    out: dict[str, list[str]] = {}
    for patient, lesion in zip(roster["patient_id"], roster["lesion_id"], strict=True):
        out.setdefault(str(patient), []).append(str(lesion))
    from .order import natural_key

    return {p: sorted(ls, key=natural_key) for p, ls in sorted(out.items(),
                                                                key=lambda x: natural_key(x[0]))}


def _latest_samples(calls: pd.DataFrame) -> pd.DataFrame:
    """Only each lesion's latest-date samples, when the calls table has a ``date`` column."""
    if "date" not in calls.columns:
        return calls
    dates = calls["date"].astype("string").fillna("").str.strip()
    if not (dates != "").any():
        return calls
    latest = dates.groupby([calls["patient_id"], calls["lesion_id"]]).transform("max")
    return calls[(dates == latest).to_numpy()]


@dataclass
class Phylogeny:
    """Per-patient lesion trees of a cohort."""

    patients: dict[str, PatientTree]
    skipped: dict[str, str]  # patient -> reason

    def mutations(self) -> pd.DataFrame:
        """Every patient's :data:`MUTATION_COLUMNS` rows, in patient order."""
        import pandas as pd

        rows = [row for tree in self.patients.values() for row in tree.rows]
        return pd.DataFrame.from_records(rows, columns=MUTATION_COLUMNS)

    def jaccard(self) -> pd.DataFrame:
        """Every patient's pairwise Jaccard rows (:data:`JACCARD_COLUMNS`)."""
        import pandas as pd

        rows = [(p, *row) for p, tree in self.patients.items() for row in tree.jaccard]
        return pd.DataFrame.from_records(rows, columns=JACCARD_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the model, one entry per patient, the patients skipped."""
        return phylogeny_payload({p: tree.to_dict() for p, tree in self.patients.items()},
                                 self.skipped)


#: The model in words (``phylogeny.json``'s ``model``).
MODEL_TEXT = ("rooted at the germline; each mutation gained once on one branch, never lost "
              "(Camin-Sokal-like, infinite sites); the tree has the fewest contradictions "
              "(absent below a mutation's branch or detected outside it, 1 each); missing "
              "entries cost nothing")


def phylogeny_payload(patients: Mapping[str, dict], skipped: Mapping[str, str]) -> dict[str, Any]:
    """The ``phylogeny.json`` dict from per-patient :meth:`PatientTree.to_dict` entries and the
    patients skipped (both in the order given)."""
    return {"model": MODEL_TEXT, "patients": dict(patients), "skipped": dict(skipped)}


def phylogeny_json(payload: Mapping[str, Any]) -> str:
    """``phylogeny.json``'s text (indented, ending in a newline)."""
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"


def _check_tables(calls, origins, sheet, states) -> None:
    _require(calls, "calls", _CALLS_NEEDED)
    if sheet is not None:
        _require(sheet, "sample sheet", ("patient_id", "lesion_id", "role"))
    if origins is not None:
        _require(origins, "origins", ("patient_id", "variant_key", "origin"))
    if states is not None:
        _require(states, "states", ("patient_id", "variant_key", "lesion_id", "state"))


def drops_samples(calls: pd.DataFrame) -> bool:
    """Whether keeping only each lesion's latest-date samples leaves any row of ``calls`` out
    (when it does not, the lesion states of all the samples are those of the latest ones)."""
    return len(_latest_samples(calls)) != len(calls)


def _matrices(calls, origins, sheet, states, latest_only, thresholds):
    """(leaves of every patient, matrices of the patients with two or more leaves with their
    germline mutations left out, per patient the germline count left out)."""
    import pandas as pd

    if thresholds is not None and states is None:  # given states already decided detection
        calls = calls.copy()
        calls["detected"] = thresholds.detect_calls(calls)
    leaves = _leaf_roster(calls, sheet)
    tree_leaves = {p: ls for p, ls in leaves.items() if len(ls) >= 2}
    if states is None:
        from .compare import lesion_states

        # only the patients that get a tree: a cohort of single-lesion patients costs nothing
        wanted = calls["patient_id"].astype(str).isin(list(tree_leaves)).to_numpy()
        chosen = calls[wanted] if not wanted.all() else calls
        rows = None if sheet is None else sheet[
            sheet["patient_id"].astype(str).isin(list(tree_leaves)).to_numpy()]
        states = (lesion_states(_latest_samples(chosen) if latest_only else chosen, rows,
                                thresholds=thresholds, current_only=latest_only) if len(chosen)
                  else pd.DataFrame(columns=["patient_id", "variant_key", "lesion_id", "state"]))
    germline: dict[str, set[str]] = {}
    if origins is not None and len(origins):
        marked = origins[(origins["origin"] == "germline").to_numpy()]
        for patient, key in zip(marked["patient_id"], marked["variant_key"], strict=True):
            germline.setdefault(str(patient), set()).add(key)
    matrices = matrices_from_states(states, tree_leaves)
    excluded: dict[str, dict[str, int]] = {}
    for patient, matrix in matrices.items():
        excluded[patient] = {}
        drop = germline.get(patient)
        if drop:
            keep = [i for i, k in enumerate(matrix.mutations) if k not in drop]
            if len(keep) < len(matrix.mutations):
                excluded[patient]["germline"] = len(matrix.mutations) - len(keep)
                matrices[patient] = CharacterMatrix(
                    matrix.lesions, tuple(matrix.mutations[i] for i in keep),
                    tuple(matrix.present[i] for i in keep), tuple(matrix.absent[i] for i in keep))
    return leaves, matrices, excluded


def heterogeneity_entry(matrix: CharacterMatrix) -> dict[str, Any]:
    """``{"jaccard": [{lesion_a, lesion_b, jaccard, n_evaluable}, ...], "private_fraction":
    {lesion: fraction}}`` of one patient's matrix (values rounded to 4 decimals, as in
    ``phylogeny.json``)."""
    return _heterogeneity(jaccard(matrix), private_fraction(matrix))


def _heterogeneity(pairs: Sequence[tuple[str, str, float | None, int]],
                   private: Mapping[str, float | None]) -> dict[str, Any]:
    return {
        "jaccard": [{"lesion_a": a, "lesion_b": b, "jaccard": _round(j), "n_evaluable": e}
                    for a, b, j, e in pairs],
        "private_fraction": {k: _round(v) for k, v in private.items()},
    }


def heterogeneity(
    calls: pd.DataFrame,
    origins: pd.DataFrame | None = None,
    sheet: pd.DataFrame | None = None,
    *,
    states: pd.DataFrame | None = None,
    latest_only: bool = True,
    thresholds: Thresholds | None = None,
) -> dict[str, dict[str, Any]]:
    """Per patient with two or more lesions, :func:`heterogeneity_entry` (pairwise Jaccard and
    private fraction per lesion), without searching a tree: the same values as
    :func:`phylogeny` (same leaves, states and germline exclusion). Arguments as for
    :func:`phylogeny`."""
    _check_tables(calls, origins, sheet, states)
    _, matrices, _ = _matrices(calls, origins, sheet, states, latest_only, thresholds)
    return {p: heterogeneity_entry(m) for p, m in matrices.items()}


def phylogeny(
    calls: pd.DataFrame,
    origins: pd.DataFrame | None = None,
    sheet: pd.DataFrame | None = None,
    *,
    states: pd.DataFrame | None = None,
    latest_only: bool = True,
    exact_max_lesions: int = EXACT_MAX_LESIONS,
    seed: int = DEFAULT_SEED,
    replicates: int = DEFAULT_REPLICATES,
    thresholds: Thresholds | None = None,
) -> Phylogeny:
    """A rooted lesion tree per patient with two or more lesions.

    Leaves are the ``baseline`` and ``lesion`` lesions of ``calls`` and ``sheet`` (a lesion's
    samples merged; with ``latest_only`` and a ``date`` column, only its latest-date samples);
    plasma and normal samples are not leaves. The lesion states come from ``states`` (columns
    ``patient_id``, ``variant_key``, ``lesion_id``, ``state``; used as given) or are derived
    from ``calls`` (:func:`lesiontrack.compare.lesion_states`, for the patients with two or
    more lesions only). Mutations whose ``origin`` in ``origins`` is ``germline`` are left
    out; ``origins`` also fills the ``origin`` column. With ``thresholds``, ``detected`` is
    recomputed from the counts (as :func:`lesiontrack.classify` does). Raises
    :class:`OptionError` for a table without a column it needs.
    """
    _check_tables(calls, origins, sheet, states)
    leaves, matrices, excluded = _matrices(calls, origins, sheet, states, latest_only,
                                           thresholds)
    origin_of: dict[str, dict[str, str]] = {}
    if origins is not None and len(origins):
        for patient, key, origin in zip(origins["patient_id"], origins["variant_key"],
                                        origins["origin"], strict=True):
            origin_of.setdefault(patient, {})[key] = origin
    wanted = calls["patient_id"].astype(str).isin(list(matrices)).to_numpy()
    info = calls[wanted].drop_duplicates(["patient_id", "variant_key"])
    gene_of: dict[str, dict[str, Any]] = {}
    region_by: dict[str, dict[str, tuple[str | None, bool]]] = {}
    codons = info["codon"] if "codon" in info.columns else [None] * len(info)
    for patient, key, gene, exon, codon in zip(
            info["patient_id"], info["variant_key"], info["gene"], info["exon"], codons,
            strict=True):
        gene = gene if isinstance(gene, str) and gene else None
        gene_of.setdefault(patient, {})[key] = gene
        region_by.setdefault(patient, {})[key] = region_of(gene, exon, codon)
    patients: dict[str, PatientTree] = {}
    skipped = {p: f"{len(ls)} lesion (a tree needs two)" for p, ls in leaves.items()
               if len(ls) < 2}
    for patient, matrix in matrices.items():
        tree = infer_tree(
            matrix, patient_id=patient, regions=region_by.get(patient),
            genes=gene_of.get(patient), origins=origin_of.get(patient),
            exact_max_lesions=exact_max_lesions, seed=seed, replicates=replicates,
        )
        tree.excluded = excluded.get(patient, {})
        patients[patient] = tree
    return Phylogeny(patients=patients, skipped=skipped)


# ----------------------------------------------------------------------------------------------
# Outputs


def write_phylogeny(result: Phylogeny, outdir: str | os.PathLike[str]) -> list[Path]:
    """Write ``trees/<patient>.nwk`` (safe file names), ``mutations.tsv`` and
    ``phylogeny.json`` into ``outdir`` (created if needed), each file atomically."""
    from .io.output import atomic_write, write_table
    from .report.render import safe_names

    outdir = Path(outdir)
    trees = outdir / "trees"
    trees.mkdir(parents=True, exist_ok=True)
    names = safe_names(result.patients)
    written = []
    for patient, tree in result.patients.items():
        path = trees / f"{names[patient]}.nwk"
        atomic_write(path, tree.newick() + "\n")
        written.append(path)
    path = outdir / "mutations.tsv"
    write_table(result.mutations(), path)
    written.append(path)
    payload = result.to_dict()
    for patient, entry in payload["patients"].items():
        entry["newick_file"] = f"trees/{names[patient]}.nwk"
    path = outdir / "phylogeny.json"
    atomic_write(path, phylogeny_json(payload))
    written.append(path)
    return written

