"""Lesion phylogeny, one patient's tree: where each mutation sits on the tree found by
:mod:`lesiontrack.phylo_search`, its classes, convergence and the lesions' heterogeneity
(:class:`PatientTree`, written in Newick).

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
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .options import DEFAULT_SEED
from .phylo_search import (
    DEFAULT_REPLICATES,
    EXACT_MAX_LESIONS,
    FALSE_NEGATIVE_COST,
    FALSE_POSITIVE_COST,
    CharacterMatrix,
    Topology,
    leaf_mask,
    search,
    topology_clades,
)

if TYPE_CHECKING:
    import pandas as pd
    from Bio.Phylo.BaseTree import Tree

#: Columns of the mutations table, in order.
MUTATION_COLUMNS: list[str] = [
    "patient_id", "variant_key", "branch", "lesions", "presence", "contradictions", "convergent",
    "region", "gene", "origin", "detected_in", "absent_in", "not_evaluable_in",
]
#: The root of every tree (every mutation absent).
ROOT_NAME = "germline"


# ----------------------------------------------------------------------------------------------
# Placement, classes, convergence, heterogeneity


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
            mask = leaf_mask(node)
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
    clades = topology_clades(topology)
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


__all__ = ["MUTATION_COLUMNS", "ROOT_NAME", "PatientTree", "branch_kind", "heterogeneity_entry",
           "infer_tree", "jaccard", "place", "presence_class", "private_fraction", "region_of"]
