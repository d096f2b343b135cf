"""Lesion phylogeny, the search: the character matrix, its score on a tree, and the search for
the best rooted tree (:mod:`lesiontrack.phylo_tree` places the mutations on it,
:mod:`lesiontrack.phylo` builds the matrices from the lesion states and writes the trees).

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
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import OptionError
from .options import DEFAULT_SEED

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
        columns = [self._column(mask) for mask, _ in topology_clades(topology)]
        best = self._np.minimum.reduce(columns)
        return int(best @ self.p.weights)


def tree_cost(matrix: CharacterMatrix, topology: Topology) -> int:
    """Contradictions (missing entries free) of ``matrix`` on a topology of leaf indices."""
    return _Scorer(_collapse(matrix)).score(topology)


# ----------------------------------------------------------------------------------------------
# Topologies


def leaf_mask(node: Topology) -> int:
    """The leaves below a node, as a bit mask (bit ``j``: leaf ``j``)."""
    if isinstance(node, int):
        return 1 << node
    return leaf_mask(node[0]) | leaf_mask(node[1])


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
    clades = np.array([[mask for mask, _ in topology_clades(t)] for t in trees], dtype=np.int64)
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
        if leaf_mask(left) == target:
            return right
        if leaf_mask(right) == target:
            return left
        if leaf_mask(left) & target:
            return (prune(left, target), right)
        return (left, prune(right, target))

    for sub in subtrees(tree):
        rest = prune(tree, leaf_mask(sub))
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


def topology_clades(topology: Topology) -> list[tuple[int, int]]:
    """(clade, parent clade) of every node, root first with parent 0, in pre-order."""
    out: list[tuple[int, int]] = []

    def walk(node: Topology, parent: int) -> None:
        mask = leaf_mask(node)
        out.append((mask, parent))
        if not isinstance(node, int):
            walk(node[0], mask)
            walk(node[1], mask)

    walk(topology, 0)
    return out


__all__ = ["DEFAULT_REPLICATES", "EXACT_MAX_LESIONS", "FALSE_NEGATIVE_COST",
           "FALSE_POSITIVE_COST", "MAX_LESIONS", "CharacterMatrix", "Topology", "canonical",
           "exhaustive_search", "leaf_mask", "rooted_topologies", "search", "topology_clades",
           "tree_cost"]
