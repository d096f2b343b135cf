"""Roads to resistance of a run: the copy number of the sample sheet's ``cnv`` files and the
progression mechanism of every progressive lesion.

The science is in :mod:`lesiontrack.copynumber` and :mod:`lesiontrack.mechanism` (pure functions
over tables); this module feeds them what the run knows: the genome build of each sample's calls, the tumour content of each
sample (:func:`lesiontrack.evidence.sample_tumour_content`: the sheet's ``purity``, else 2 x the
truncal driver's VAF), the lesion states of the counted secondary mutations and, for patients
without one, whether each lesion was powered to show a clonal mutation
(:func:`lesiontrack.patterns.clonal_power`). ``stats``, ``report`` and ``graph`` call it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .copynumber import (
    COPY_NUMBER_COLUMNS,
    MECHANISM_GENES,
    copy_number_table,
    lesion_copy_number,
)
from .mechanism import (
    MECHANISM_COLUMNS,
    STATE_COLUMNS,
    controlled_amplifications,
    progression_mechanism,
)
from .options import DEFAULT_AMP_CN, Thresholds

__all__ = [
    "ROAD_KEYS",
    "copy_number_genes",
    "empty_copy_number",
    "lesion_roster",
    "lesion_track",
    "patient_roads",
    "read_sheet_copy_number",
    "roads_to_resistance",
    "secondary_states",
    "with_roads",
]

#: Keys every ``patients[]`` entry of the statistics gets from :func:`patient_roads`.
ROAD_KEYS: tuple[str, ...] = ("progression_mechanism", "controlled_amplifications")


def empty_copy_number() -> pd.DataFrame:
    """A copy-number table without rows (:data:`~lesiontrack.copynumber.COPY_NUMBER_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COPY_NUMBER_COLUMNS})


def copy_number_genes(genes: str | Iterable[str] | None) -> tuple[str, ...]:
    """The genes whose copy number is computed for ``--genes``: those of the list that have a
    bundled transcript model (``"all"``: every bundled gene)."""
    from .calls import parse_genes
    from .genome import bundled_genes

    wanted = parse_genes(genes)
    bundled = tuple(bundled_genes())
    if wanted is None:
        return bundled
    return tuple(g for g in wanted if g in bundled)


def _builds(calls: pd.DataFrame, sheet: pd.DataFrame, assembly: str | None) -> dict[str, str]:
    """Build of each sample: its calls' build, else the sheet's, else its patient's calls',
    else ``assembly`` (``--assembly``)."""
    out: dict[str, str] = {}
    by_patient: dict[str, str] = {}
    if "assembly" in calls and len(calls):
        known = calls.loc[calls["assembly"].fillna("").astype(str) != "",
                          ["sample_id", "patient_id", "assembly"]].drop_duplicates("sample_id")
        for sample, patient, build in zip(known["sample_id"], known["patient_id"],
                                          known["assembly"], strict=True):
            out.setdefault(str(sample), str(build))
            by_patient.setdefault(str(patient), str(build))
    for row in sheet.itertuples(index=False):
        sid = str(row.sample_id)
        if sid in out:
            continue
        build = str(getattr(row, "assembly", "") or "") or by_patient.get(str(row.patient_id))
        build = build or assembly
        if build:
            out[sid] = build
    return out


def read_sheet_copy_number(
    sheet: pd.DataFrame | None,
    calls: pd.DataFrame,
    *,
    genes: str | Iterable[str] | None = ",".join(MECHANISM_GENES),
    amp_cn: float = DEFAULT_AMP_CN,
    assembly: str | None = None,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """The copy-number table (:func:`~lesiontrack.copynumber.copy_number_table`, one row per
    tumour sample and gene) of the sheet's samples, when at least one has a ``cnv`` file; else
    a table without rows. The build of each sample comes from its calls (checked against the
    segments), the tumour content of log2 files from :func:`~lesiontrack.evidence.
    sample_tumour_content`. Raises :class:`~lesiontrack.io.cnv.CopyNumberFileError`,
    :class:`~lesiontrack.errors.ReferenceMismatchError` or
    :class:`~lesiontrack.errors.OptionError` (a bad ``amp_cn``, a sample with a ``cnv`` file
    whose build is unknown)."""
    from .errors import OptionError
    from .evidence import sample_tumour_content
    from .io.cnv import read_copy_number

    if amp_cn <= 0:
        raise OptionError(f"--amp-cn must be > 0 (got {amp_cn:g})", field="--amp-cn")
    if sheet is None or "cnv_path" not in sheet or not (
            sheet["cnv_path"].fillna("").astype(str) != "").any():
        return empty_copy_number()
    tumour = sheet[sheet["role"].isin(["lesion", "baseline"])] if "role" in sheet else sheet
    builds = _builds(calls, tumour, assembly)
    has_file = tumour["cnv_path"].fillna("").astype(str) != ""
    unknown = tumour[~tumour["sample_id"].astype(str).isin(builds.keys())]
    if (has_file & tumour.index.isin(unknown.index)).any():
        sid = tumour.loc[has_file & tumour.index.isin(unknown.index), "sample_id"].iloc[0]
        raise OptionError(f"the genome build of sample {sid!r} (with a cnv file) is unknown",
                          field="assembly", hint="give --assembly or the sheet's assembly column")
    tumour = tumour.drop(unknown.index)  # no build and no cnv file: nothing to say
    segments = read_copy_number(tumour, assembly=builds)
    content = sample_tumour_content(calls, tumour, thresholds=thresholds)
    purity = {str(s): float(t) for s, t in zip(content["sample_id"], content["tumour_content"],
                                                strict=True) if pd.notna(t)}
    chosen = copy_number_genes(genes)
    if not chosen:
        return empty_copy_number()
    return copy_number_table(segments, tumour, genes=list(chosen), assembly=builds,
                             purity=purity, amp_cn=amp_cn)


def secondary_states(origins: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """The lesion states of the counted secondary mutations, in lesions (``role == lesion``):
    :data:`~lesiontrack.mechanism.STATE_COLUMNS`."""
    chosen = origins["origin"] == "secondary"
    if "counted" in origins:
        chosen &= origins["counted"].astype("boolean").fillna(True).astype(bool)
    keys = origins.loc[chosen, ["patient_id", "variant_key"]].drop_duplicates()
    if states.empty or keys.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS})
    rows = states[states["role"] == "lesion"] if "role" in states else states
    return rows.merge(keys, on=["patient_id", "variant_key"])[list(STATE_COLUMNS)]


def lesion_roster(calls: pd.DataFrame, sheet: pd.DataFrame | None, states: pd.DataFrame,
                  thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One row per lesion (``role == lesion``) of the calls and the sheet: ``patient_id``,
    ``lesion_id``, ``status`` (at the lesion's current date: a lesion biopsied when stable and
    again when progressing is progressive), ``powered`` (whether it would show a clonal heterozygous mutation
    with probability >= min_power: :func:`~lesiontrack.patterns.clonal_power`; None without
    states)."""
    from .patterns import clonal_power
    from .timeline import lesion_statuses

    thresholds = thresholds or Thresholds()
    roster = lesion_statuses(calls, sheet)  # each lesion's status at its current date
    roster = roster[roster["role"] == "lesion"]
    power = clonal_power(states, thresholds)
    roster = roster.sort_values(["patient_id", "lesion_id"], kind="stable").reset_index(drop=True)
    roster["powered"] = [None if (p, x) not in power else power[(p, x)] >= thresholds.min_power
                         for p, x in zip(roster["patient_id"], roster["lesion_id"], strict=True)]
    return roster[["patient_id", "lesion_id", "status", "powered"]]


def roads_to_resistance(
    origins: pd.DataFrame,
    states: pd.DataFrame,
    calls: pd.DataFrame,
    sheet: pd.DataFrame | None = None,
    copy_number: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the progression mechanism of every progressive lesion:
    :data:`~lesiontrack.mechanism.MECHANISM_COLUMNS`; the controlled lesions with a KIT
    amplification: :func:`~lesiontrack.mechanism.controlled_amplifications`). ``copy_number``
    None or without rows: copy number is not evaluable anywhere. The mechanism genes are KIT
    and PDGFRA as far as the copy-number table has them."""
    copy_number = empty_copy_number() if copy_number is None else copy_number
    lesions = lesion_roster(calls, sheet, states, thresholds)
    if lesions.empty:
        return (pd.DataFrame(columns=MECHANISM_COLUMNS),
                controlled_amplifications(copy_number, lesions.assign(role="lesion")))
    present = set(copy_number["gene"]) if len(copy_number) else set(MECHANISM_GENES)
    genes = [g for g in MECHANISM_GENES if g in present] or list(MECHANISM_GENES)
    mechanisms = progression_mechanism(copy_number, secondary_states(origins, states), lesions,
                                       genes=genes)
    return mechanisms, controlled_amplifications(copy_number, lesions)


def patient_roads(mechanisms: pd.DataFrame, controlled: pd.DataFrame) -> dict[str, dict]:
    """``{patient_id: {"progression_mechanism": {lesion_id: mechanism},
    "controlled_amplifications": [{lesion_id, sample_id, gene, copy_number, evidence}]}}``:
    the keys :data:`ROAD_KEYS` of the statistics' ``patients[]`` (a patient without either
    gets ``{}`` and ``[]`` from :func:`with_roads`)."""
    from .mechanism import mechanism_by_patient

    out: dict[str, dict] = {}
    for patient, lesions in mechanism_by_patient(mechanisms).items():
        out.setdefault(patient, {"progression_mechanism": {}, "controlled_amplifications": []})
        out[patient]["progression_mechanism"] = lesions
    for row in controlled.itertuples(index=False):
        entry = out.setdefault(str(row.patient_id), {"progression_mechanism": {},
                                                     "controlled_amplifications": []})
        entry["controlled_amplifications"].append({
            "lesion_id": str(row.lesion_id), "sample_id": str(row.sample_id),
            "gene": str(row.gene), "copy_number": float(row.copy_number),
            "evidence": str(row.evidence)})
    return out


def with_roads(patients: list[dict], roads: dict[str, dict]) -> list[dict]:
    """``patients`` (the statistics' per-patient dicts) with :data:`ROAD_KEYS` added in place."""
    for entry in patients:
        found = roads.get(str(entry["patient_id"]), {})
        entry["progression_mechanism"] = found.get("progression_mechanism", {})
        entry["controlled_amplifications"] = found.get("controlled_amplifications", [])
    return patients


def lesion_track(copy_number: pd.DataFrame, genes: Iterable[str] = MECHANISM_GENES
                 ) -> pd.DataFrame:
    """The copy-number track of the patient page and JSON: one row per (lesion, gene) of
    ``genes`` (:func:`~lesiontrack.copynumber.lesion_copy_number`)."""
    if copy_number is None or copy_number.empty:
        return lesion_copy_number(empty_copy_number())
    wanted = list(genes)
    return lesion_copy_number(copy_number[copy_number["gene"].isin(wanted)])
