"""The road to resistance of each progressive lesion: a counted secondary mutation, an
amplification of KIT or PDGFRA (:mod:`lesiontrack.copynumber`), both, neither, or not evaluable.

Pure functions over tables; :mod:`lesiontrack.roads` feeds them what a run knows.

Progression mechanism (per progressive lesion)
    ``secondary_mutation``, ``KIT_amplification``, ``PDGFRA_amplification`` or a combination
    joined by ``+`` in that order (``secondary_mutation+KIT_amplification``,
    ``KIT_amplification+PDGFRA_amplification``, ...); ``unexplained`` when both roads were
    evaluable and neither is seen; else ``not_evaluable`` (with the road that could not be
    excluded in ``reason``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .copynumber import MECHANISM_GENES, lesion_copy_number
from .errors import OptionError
from .evidence import STATES

__all__ = [
    "MECHANISM_COLUMNS",
    "STATE_COLUMNS",
    "controlled_amplifications",
    "mechanism_by_patient",
    "mechanism_counts",
    "progression_mechanism",
]

#: Columns of the per-(lesion, counted secondary) state table :func:`progression_mechanism` reads.
STATE_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "status", "variant_key", "state")
_STATES = frozenset(STATES)
#: Columns of :func:`progression_mechanism`, in order.
MECHANISM_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "status", "progression_mechanism", "secondary", "copy_number",
    "reason",
]


def _lesions(lesions: pd.DataFrame) -> pd.DataFrame:
    frame = lesions
    if "role" in frame.columns:
        frame = frame[frame["role"] == "lesion"]
    missing = [c for c in ("patient_id", "lesion_id", "status") if c not in frame.columns]
    if missing:
        raise OptionError(f"the lesions table lacks column(s) {', '.join(missing)}",
                          field=missing[0])
    return frame.drop_duplicates(["patient_id", "lesion_id"])


def _secondary_road(states: pd.DataFrame, has_secondary: bool,
                    powered: object) -> tuple[str, bool]:
    """(summary word, excluded?) for one lesion's counted secondaries."""
    if not has_secondary:
        if powered is True or (powered is not None and not pd.isna(powered) and bool(powered)):
            return "none_known", True
        return "none_known_unpowered", False
    found = set(states["state"]) if len(states) else set()
    if "detected" in found:
        return "detected", False
    if found == {"absent"}:
        return "absent", True
    if "low_level" in found:
        return "low_level", False
    return "not_evaluable", False


def progression_mechanism(
    copy_number: pd.DataFrame,
    states: pd.DataFrame,
    lesions: pd.DataFrame,
    *,
    genes: Sequence[str] = MECHANISM_GENES,
) -> pd.DataFrame:
    """One row per progressive lesion: :data:`MECHANISM_COLUMNS`.

    Inputs:

    - ``copy_number``: :func:`copy_number_table` (a lesion is amplified for a gene when any of
      its samples is; evaluable for copy number when every gene of ``genes`` has an evaluable
      sample);
    - ``states``: one row per (lesion, counted secondary mutation of its patient) with
      :data:`STATE_COLUMNS`, ``state`` in detected / absent / low_level / not_evaluable;
    - ``lesions``: one row per lesion (the sample sheet will do) with ``patient_id``,
      ``lesion_id``, ``status`` and, for patients with no counted secondary, a boolean
      ``powered``: whether the lesion would have shown a clonal mutation at its sites.

    ``secondary`` is ``detected``, ``absent`` (every counted secondary absent), ``low_level``,
    ``not_evaluable``, ``none_known`` (the patient has none, the lesion was powered) or
    ``none_known_unpowered``; a low-level secondary neither explains a lesion nor lets it be
    ``unexplained``. ``copy_number`` names the amplified genes, ``none`` or ``not_evaluable``.
    Raises :class:`OptionError` for a missing column or an unknown state.
    """
    missing = [c for c in STATE_COLUMNS if c not in states.columns]
    if missing:
        raise OptionError(f"the states table lacks column(s) {', '.join(missing)}",
                          field=missing[0])
    unknown = set(states["state"].dropna()) - _STATES
    if unknown:
        raise OptionError(f"unknown lesion state(s) {', '.join(sorted(map(str, unknown)))}",
                          field="state", hint=f"accepted: {', '.join(sorted(_STATES))}")
    table = _lesions(lesions)
    patients_with_secondary = set(states["patient_id"])
    state_groups = {k: g for k, g in states.groupby(["patient_id", "lesion_id"], sort=False)}
    per_lesion = lesion_copy_number(copy_number) if len(copy_number) else None
    cn_groups = ({k: g for k, g in per_lesion.groupby(["patient_id", "lesion_id"], sort=False)}
                 if per_lesion is not None else {})
    empty_states = states.iloc[0:0]
    rows = []
    for lesion in table.itertuples(index=False):
        if lesion.status != "progressive":
            continue
        key = (lesion.patient_id, lesion.lesion_id)
        secondary, secondary_excluded = _secondary_road(
            state_groups.get(key, empty_states), lesion.patient_id in patients_with_secondary,
            getattr(lesion, "powered", None),
        )
        cn = cn_groups.get(key)
        amplified = []
        unevaluable = []
        for gene in genes:
            rows_gene = cn[cn["gene"] == gene] if cn is not None else None
            if rows_gene is None or rows_gene.empty:
                unevaluable.append(gene)
                continue
            call = rows_gene["call"].iloc[0]
            if call == "amplification":
                amplified.append(gene)
            elif call == "not_evaluable":
                unevaluable.append(gene)
        copy_word = "+".join(amplified) if amplified else (
            "not_evaluable" if unevaluable else "none")
        roads = (["secondary_mutation"] if secondary == "detected" else []) + [
            f"{g}_amplification" for g in amplified]
        if roads:
            mechanism = "+".join(roads)
            reason = _explained_reason(secondary, amplified)
        elif secondary_excluded and not unevaluable:
            mechanism = "unexplained"
            reason = ("no counted secondary mutation detected where it would have been seen, "
                      f"and no amplification of {', '.join(genes)}")
        else:
            mechanism = "not_evaluable"
            open_roads = []
            if not secondary_excluded:
                open_roads.append({
                    "low_level": "a counted secondary mutation is present at a low level",
                    "not_evaluable": "a counted secondary mutation is not evaluable here",
                    "none_known_unpowered": ("the lesion was not powered to see a clonal "
                                             "mutation"),
                }.get(secondary, "the secondary sites are not evaluable"))
            if unevaluable:
                open_roads.append(f"no evaluable copy number for {', '.join(unevaluable)}")
            reason = "; ".join(open_roads)
        rows.append({"patient_id": lesion.patient_id, "lesion_id": lesion.lesion_id,
                     "status": lesion.status, "progression_mechanism": mechanism,
                     "secondary": secondary, "copy_number": copy_word, "reason": reason})
    return pd.DataFrame(rows, columns=MECHANISM_COLUMNS)


def _explained_reason(secondary: str, amplified: list[str]) -> str:
    parts = []
    if secondary == "detected":
        parts.append("a counted secondary mutation is detected")
    if amplified:
        parts.append(f"{' and '.join(amplified)} amplified")
    return "; ".join(parts)


def mechanism_by_patient(mechanisms: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{patient_id: {lesion_id: mechanism}}``: the ``patients[].progression_mechanism`` of the
    stats JSON."""
    out: dict[str, dict[str, str]] = {}
    for row in mechanisms.itertuples(index=False):
        out.setdefault(str(row.patient_id), {})[str(row.lesion_id)] = row.progression_mechanism
    return out


def mechanism_counts(mechanisms: pd.DataFrame) -> pd.DataFrame:
    """How many progressive lesions each road explains: ``progression_mechanism``, ``lesions``
    (sorted by count, then name; for the cohort page)."""
    counts = mechanisms["progression_mechanism"].value_counts()
    frame = counts.rename_axis("progression_mechanism").reset_index(name="lesions")
    return frame.sort_values(["lesions", "progression_mechanism"],
                             ascending=[False, True]).reset_index(drop=True)


def controlled_amplifications(copy_number: pd.DataFrame, lesions: pd.DataFrame,
                              *, genes: Sequence[str] = ("KIT",)) -> pd.DataFrame:
    """Controlled lesions with an amplification of ``genes`` (KIT by default): the same flag as a
    secondary mutation in a controlled lesion. Columns ``patient_id``, ``lesion_id``,
    ``sample_id``, ``gene``, ``copy_number``, ``flag`` (``amplification_in_controlled_lesion``),
    ``evidence``."""
    table = _lesions(lesions)
    controlled = table.loc[table["status"] == "controlled", ["patient_id", "lesion_id"]]
    hits = copy_number[(copy_number["call"] == "amplification")
                       & copy_number["gene"].isin(list(genes))]
    hits = hits.merge(controlled, on=["patient_id", "lesion_id"])
    out = hits[["patient_id", "lesion_id", "sample_id", "gene", "copy_number"]].copy()
    out["flag"] = "amplification_in_controlled_lesion"
    out["evidence"] = [f"{g} copy number {c:.2f} in a controlled lesion (sample {s})"
                       for g, c, s in zip(out["gene"], out["copy_number"], out["sample_id"],
                                          strict=True)]
    return out.reset_index(drop=True)
