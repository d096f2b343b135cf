"""Lesion phylogeny: how a patient's lesions are related, from their mutations' evidence states.

:func:`phylogeny` gives a rooted lesion tree per patient with two or more lesions and
:func:`write_phylogeny` writes them (Newick), the mutations table and ``phylogeny.json``.
The leaves, the lesion states and the germline exclusion are decided here; the model and the
search are in :mod:`lesiontrack.phylo_search`, the placement of the mutations, their classes
and the heterogeneity of the lesions in :mod:`lesiontrack.phylo_tree`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OptionError
from .options import DEFAULT_SEED
from .phylo_search import DEFAULT_REPLICATES, EXACT_MAX_LESIONS, MAX_LESIONS, CharacterMatrix
from .phylo_tree import MUTATION_COLUMNS, PatientTree, heterogeneity_entry, infer_tree, region_of

if TYPE_CHECKING:
    import pandas as pd

    from .options import Thresholds

#: Columns of the pairwise Jaccard table.
JACCARD_COLUMNS: list[str] = ["patient_id", "lesion_a", "lesion_b", "jaccard", "n_evaluable"]
_LEAF_ROLES = ("baseline", "lesion")


# ----------------------------------------------------------------------------------------------
# From the calls table


def matrices_from_states(
    states: pd.DataFrame, leaves: Mapping[str, Sequence[str]]
) -> dict[str, CharacterMatrix]:
    """Per patient, the matrix of a lesion-states table (the one adapter from the lesion states).

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


def reusable_states(calls: pd.DataFrame, states: pd.DataFrame | None, *,
                    latest_only: bool = True) -> pd.DataFrame | None:
    """The ``states`` argument of :func:`phylogeny` and :func:`heterogeneity` for ``states``,
    the lesion states of all of ``calls``' samples: ``states`` when the tree step may reuse
    them, None (derive them again) when ``latest_only`` leaves some samples out
    (:func:`drops_samples`)."""
    return None if latest_only and drops_samples(calls) else states


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
        from .evidence import lesion_states

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
    from ``calls`` (:func:`lesiontrack.evidence.lesion_states`, for the patients with two or
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
    from .filenames import safe_names
    from .output import atomic_write, write_table

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


__all__ = ["JACCARD_COLUMNS", "MODEL_TEXT", "Phylogeny", "drops_samples", "heterogeneity",
           "matrices_from_states", "phylogeny", "phylogeny_json", "phylogeny_payload",
           "reusable_states", "write_phylogeny"]
