"""Lesion states and origins: the one place where "detected", "absent" and "not evaluable" are
decided, and where every (patient, mutation) gets its origin, rule, flags and evidence.

**States** (per sample and mutation, then per lesion from its samples):

- ``detected``: the call passes the detection thresholds (the calls table's ``detected``);
- ``low_level``: ALT reads above sequencing noise (one-sided binomial test against
  ``error_rate``, ``plasma_error_rate`` in plasma, at alpha 0.05) but below the thresholds:
  never absent, never evaluable. The noise test alone decides: at 5,000x a 0.5% error rate
  gives ~25 ALT reads of noise, which must not make deep tissue unevaluable;
- ``absent``: ALT reads consistent with noise *and* the mutation would have been detected with
  probability >= ``min_power`` at the allele fraction expected in that sample:
  power = P(X >= max(min_alt, ceil(min_vaf x d))), X ~ Binomial(d, expected VAF), 0 if d < min_depth;
- ``not_evaluable``: anything else, with the reason in words.

The **truncal driver** of a patient is chosen from detection alone: a protein-altering (or
unknown-consequence) mutation in a known primary region of the knowledge table, detected in the
most lesions with the highest median VAF; else (no known driver, e.g. exome data) the mutation,
of any consequence, that is not at a knowledge-table site and is detected in the most lesions
(at least two, and more than half of them) with the highest median VAF; else none. **Tumour content**
of a sample: the sample sheet's ``purity``, else 2 x the driver's VAF there (clamped at 1); a
sample where the driver is not detected has an unknown (low) tumour content and is evidence of
absence for nothing. **Cancer-cell fraction** (CCF) where detected: VAF / driver VAF in that
sample, else 2 x VAF / purity; clamped at 1, values above 1.2 flagged; its interval is the
95% Clopper-Pearson interval of the VAF over that of the driver's VAF (or scaled by 2 / purity):
at least 95%, as the driver's sampling error widens it. **Expected VAF** of a mutation in a
sample: its lowest CCF among the lesions where it is detected (a lesion's CCF: its best
sample's) x tumour content / 2 (a heterozygous mutation); without driver and purity, its own
lowest detected VAF.

**Origins**, rules tried in order (the first that decides wins; later rules that would answer
otherwise are named in ``flags``): germline (``matched_normal``: detected in a ``role=normal``
sample at VAF >= 0.25; ``polymorphism``: the bundled list, tumour-only) -> ``baseline`` (only when
informative: the driver is detected there) -> ``sharing`` (present in every lesion and clonal ->
primary; detected in some and absent in another -> secondary) -> ``knowledge`` (protein-altering
change at a known primary region or resistance site) -> ``none`` (undetermined).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import genome
from .options import (
    CCF_FLAG_ABOVE,
    GERMLINE_MIN_VAF,
    HAEMATOPOIETIC_MAX_VAF,
    NOISE_ALPHA,
    Thresholds,
)
from .order import natural_key as _natural

log = logging.getLogger("lesiontrack")

DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE = "detected", "low_level", "absent", "not_evaluable"
#: The role of plasma (cell-free DNA) samples: evidence, never a lesion.
PLASMA = "plasma"
STATES: tuple[str, ...] = (DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE)
#: Sample roles that are tumour (their lesions carry states used by the origin rules).
TUMOUR_ROLES = ("baseline", "lesion")

#: Columns of the origins table, in order (columns are appended, never renamed).
ORIGIN_COLUMNS: list[str] = [
    "patient_id", "variant_key", "chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp",
    "origin", "rule", "flags", "evidence", "lesions_detected", "lesions_absent",
    "lesions_not_evaluable", "consequence", "counted", "not_counted_reason", "region",
    "drug_activity", "first_detected_date", "first_detected_in",
]

#: Columns of :func:`lesion_states`, in order.
STATE_COLUMNS: list[str] = [
    "patient_id", "variant_key", "lesion_id", "role", "status", "state", "reason", "sample_id",
    "alt_count", "depth", "vaf", "expected_vaf", "power", "tumour_content",
    "tumour_content_source", "ccf", "ccf_low", "ccf_high", "is_driver", "samples",
    "samples_detected",
]


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------

def _protein_altering(consequence) -> bool | None:
    """True / False / None (unknown) through the genome module's classification."""
    return genome.is_protein_altering(consequence if isinstance(consequence, str) else None)


def _polymorphism(gene, hgvsc) -> genome.GermlinePolymorphism | None:
    """The bundled germline polymorphism a (gene, c. name) is, else None."""
    return genome.germline_polymorphism(gene if isinstance(gene, str) else None,
                                        hgvsc if isinstance(hgvsc, str) else None)


def _codon(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _percent(value: float) -> str:
    """0.045 -> '4.5%', 0.25 -> '25%'."""
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _reads(alt, depth) -> str:
    if depth is None or pd.isna(depth):
        return "depth unknown"
    if alt is None or pd.isna(alt):
        return f"depth {int(depth)}"
    return f"{int(alt)}/{int(depth)} reads"


def detection_power(depth: np.ndarray, expected_vaf: np.ndarray,
                    thresholds: Thresholds) -> np.ndarray:
    """P(X >= max(min_alt, ceil(min_vaf x d))) with X ~ Binomial(d, expected VAF); 0 when
    d < min_depth or the expected VAF is unknown (NaN)."""
    from scipy import stats as sps

    d = np.asarray(depth, dtype=float)
    p = np.asarray(expected_vaf, dtype=float)
    ok = np.isfinite(d) & np.isfinite(p) & (d >= thresholds.min_depth)
    need = np.maximum(thresholds.min_alt, np.ceil(thresholds.min_vaf * np.where(ok, d, 0) - 1e-9))
    out = np.zeros(len(d))
    if ok.any():
        out[ok] = sps.binom.sf(need[ok] - 1, d[ok], np.clip(p[ok], 0.0, 1.0))
    return out


def noise_p_value(alt: np.ndarray, depth: np.ndarray, error_rate: float) -> np.ndarray:
    """One-sided binomial p-value P(X >= alt), X ~ Binomial(depth, error_rate); 1 for alt = 0."""
    from scipy import stats as sps

    a = np.asarray(alt, dtype=float)
    d = np.asarray(depth, dtype=float)
    out = np.ones(len(a))
    ok = np.isfinite(a) & np.isfinite(d) & (a > 0) & (d > 0)
    if ok.any():
        out[ok] = sps.binom.sf(a[ok] - 1, d[ok], error_rate)
    return out


def vaf_interval(alt: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided 95% Clopper-Pearson interval of alt / depth (NaN where unknown)."""
    from scipy import stats as sps

    a = np.asarray(alt, dtype=float)
    d = np.asarray(depth, dtype=float)
    low = np.full(len(a), np.nan)
    high = np.full(len(a), np.nan)
    ok = np.isfinite(a) & np.isfinite(d) & (d > 0) & (a <= d)
    if ok.any():
        aa, dd = a[ok], d[ok]
        lo = np.where(aa > 0, sps.beta.ppf(0.025, aa, dd - aa + 1), 0.0)
        hi = np.where(aa < dd, sps.beta.ppf(0.975, aa + 1, dd - aa), 1.0)
        low[ok], high[ok] = lo, hi
    return low, high


# ----------------------------------------------------------------------------------------------
# lesion states
# ----------------------------------------------------------------------------------------------

def _prepared(calls: pd.DataFrame, thresholds: Thresholds | None) -> pd.DataFrame:
    frame = calls.copy()
    if thresholds is not None:
        frame["detected"] = thresholds.detect_calls(frame)
    frame["_alt"] = frame["alt_count"].astype(float)
    frame["_depth"] = frame["depth"].astype(float)
    vaf = frame["vaf"].astype(float)
    frame["_alt"] = frame["_alt"].where(frame["_alt"].notna(), np.round(vaf * frame["_depth"]))
    frame["_vaf"] = vaf.where(vaf.notna(), frame["_alt"] / frame["_depth"].where(
        frame["_depth"] > 0))
    det = frame["detected"].astype("boolean")
    frame["_det"] = det.fillna(False).astype(bool)
    if "consequence" not in frame:
        frame["consequence"] = "unknown"
    return frame


def _roster(calls: pd.DataFrame, samples: pd.DataFrame | None) -> pd.DataFrame:
    """(patient, lesion, sample, role, status, purity, date, current) of every sample, calls
    and sheet (``current``: at its lesion's current date, :mod:`lesiontrack.timeline`)."""
    from .timeline import current_mask, with_dates

    columns = ["patient_id", "lesion_id", "sample_id", "role", "status"]
    parts = [calls[columns].assign(purity=np.nan)]
    if samples is not None and len(samples):
        sheet = samples.copy()
        for column in ("sample_id", "status"):
            if column not in sheet:
                sheet[column] = sheet["lesion_id"] if column == "sample_id" else "unknown"
        purity = sheet.get("purity", np.nan)
        parts.insert(0, sheet[columns].assign(purity=pd.to_numeric(purity, errors="coerce")))
    roster = pd.concat(parts, ignore_index=True)
    roster = roster.sort_values("purity", na_position="last", kind="stable")
    roster = roster.drop_duplicates(["patient_id", "sample_id"]).reset_index(drop=True)
    own = calls.drop_duplicates(["patient_id", "sample_id"]) if "date" in calls else None
    roster = with_dates(roster, samples if samples is not None and "date" in samples else own)
    roster["current"] = current_mask(roster).to_numpy()
    return roster


@dataclass
class _Driver:
    key: str
    name: str


def _name(gene, hgvsp, hgvsc, key) -> str:
    gene = gene if isinstance(gene, str) else ""
    for text in (hgvsp, hgvsc):
        if isinstance(text, str) and text:
            return f"{gene} {text}".strip()
    return f"{gene} {key}".strip()


def _choose_drivers(frame: pd.DataFrame) -> dict[str, _Driver]:
    """The truncal driver of each patient, from detection alone."""
    tumour = frame[frame["_det"] & frame["role"].isin(TUMOUR_ROLES)]
    if tumour.empty:
        return {}
    normals = frame[frame["_det"] & (frame["role"] == "normal")
                    & (frame["_vaf"] >= GERMLINE_MIN_VAF)]
    normal_germline = set(zip(normals["patient_id"], normals["variant_key"], strict=True))
    summary = tumour.groupby(["patient_id", "variant_key"], sort=False).agg(
        n_lesions=("lesion_id", "nunique"), median_vaf=("_vaf", "median"),
        gene=("gene", "first"), codon=("codon", "first"), hgvsc=("hgvsc", "first"),
        hgvsp=("hgvsp", "first"), consequence=("consequence", "first"), pos=("pos", "first"))
    lesions = frame[frame["role"].isin(TUMOUR_ROLES)].groupby("patient_id")["lesion_id"].nunique()
    summary = summary.reset_index()
    patients, keys = summary["patient_id"].tolist(), summary["variant_key"].tolist()
    n_lesions = summary["n_lesions"].to_numpy()
    n_all = lesions.reindex(patients).fillna(0).to_numpy()
    tier = []  # 2: known primary region, 1: fallback, 0: not a candidate
    for patient, key, gene, codon, hgvsc, consequence, n, total in zip(
            patients, keys, summary["gene"], summary["codon"], summary["hgvsc"],
            summary["consequence"], n_lesions, n_all, strict=True):
        if (patient, key) in normal_germline or _polymorphism(gene, hgvsc):
            tier.append(0)
            continue
        hit = genome.knowledge_for(gene if isinstance(gene, str) else None, _codon(codon))
        if hit is not None and hit.role == "primary" and _protein_altering(consequence) is not False:
            tier.append(2)
        elif hit is None and n >= 2 and 2 * n > total:
            tier.append(1)
        else:
            tier.append(0)
    summary["_tier"] = tier
    summary["_vaf"] = summary["median_vaf"].fillna(-1.0)
    pool = summary[summary["_tier"] > 0].sort_values(
        ["patient_id", "_tier", "n_lesions", "_vaf", "pos", "variant_key"],
        ascending=[True, False, False, False, True, True], kind="stable")
    best = pool.drop_duplicates("patient_id")
    return {p: _Driver(k, _name(g, hp, hc, k)) for p, k, g, hp, hc in zip(
        best["patient_id"], best["variant_key"], best["gene"], best["hgvsp"], best["hgvsc"],
        strict=True)}


def _tumour_content(purity: pd.Series, driver_vaf: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(tumour content, its source) of samples: the sheet's purity, else 2 x the driver's VAF
    (clamped at 1), else NaN with an empty source."""
    content = purity.where(purity.notna(), np.minimum(1.0, 2 * driver_vaf))
    source = np.where(purity.notna(), "purity column",
                      np.where(driver_vaf.notna(), "2 x driver VAF", ""))
    return content, source


def _driver_rows(frame: pd.DataFrame, drivers: dict[str, _Driver]) -> pd.DataFrame:
    """The truncal driver's best row in each sample (detected first, then most ALT reads)."""
    rows = frame[["patient_id", "variant_key", "sample_id", "_alt", "_depth", "_vaf", "_det"]]
    keep = np.array([drivers.get(p) is not None and drivers[p].key == k
                     for p, k in zip(rows["patient_id"], rows["variant_key"], strict=True)],
                    dtype=bool)
    rows = rows.loc[keep]
    rows = rows.sort_values(["_det", "_alt", "_depth"], ascending=False, kind="stable")
    return rows.drop_duplicates(["patient_id", "sample_id"])


#: Columns of :func:`sample_tumour_content`, in order.
TUMOUR_CONTENT_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "role", "tumour_content", "tumour_content_source",
]


def sample_tumour_content(calls: pd.DataFrame, samples: pd.DataFrame | None = None, *,
                          thresholds: Thresholds | None = None) -> pd.DataFrame:
    """The tumour content of every sample, as :func:`lesion_states` uses it: the sample sheet's
    ``purity``, else 2 x the truncal driver's VAF where the driver is detected in the sample
    (clamped at 1), else NaN (source ``""``). One row per sample: :data:`TUMOUR_CONTENT_COLUMNS`
    (``tumour_content_source`` ``purity column`` / ``2 x driver VAF`` / ``""``). With
    ``thresholds``, ``detected`` is recomputed from the counts."""
    if calls.empty and (samples is None or samples.empty):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TUMOUR_CONTENT_COLUMNS})
    frame = _prepared(calls, thresholds)
    roster = _roster(calls, samples)
    drivers = _choose_drivers(frame) if len(frame) else {}
    best = _driver_rows(frame, drivers).set_index(["patient_id", "sample_id"])
    keys = list(zip(roster["patient_id"], roster["sample_id"], strict=True))
    dvaf = best["_vaf"].where(best["_det"]).reindex(keys) if len(best) else pd.Series(
        np.nan, index=range(len(keys)))
    dvaf = pd.Series(dvaf.to_numpy(dtype=float), index=roster.index)
    content, source = _tumour_content(roster["purity"].astype(float), dvaf)
    lesions = _lesion_ids(calls, samples)
    out = pd.DataFrame({
        "patient_id": roster["patient_id"], "sample_id": roster["sample_id"],
        "role": roster["role"], "tumour_content": content, "tumour_content_source": source,
    })
    out.insert(1, "lesion_id", [lesions.get((p, s), "") for p, s in keys])
    return out[TUMOUR_CONTENT_COLUMNS].reset_index(drop=True)


def _lesion_ids(calls: pd.DataFrame, samples: pd.DataFrame | None) -> dict[tuple, str]:
    parts = [calls[["patient_id", "sample_id", "lesion_id"]]]
    if samples is not None and len(samples) and "sample_id" in samples:
        parts.append(samples[["patient_id", "sample_id", "lesion_id"]])
    frame = pd.concat(parts, ignore_index=True).drop_duplicates(["patient_id", "sample_id"])
    return dict(zip(zip(frame["patient_id"], frame["sample_id"], strict=True),
                    frame["lesion_id"], strict=True))


def _sample_states(frame: pd.DataFrame, roster: pd.DataFrame, drivers: dict[str, _Driver],
                   thresholds: Thresholds) -> pd.DataFrame:
    """One row per (patient, detected mutation, sample of the patient)."""
    detected_keys = frame.loc[frame["_det"], ["patient_id", "variant_key"]].drop_duplicates()
    grid = detected_keys.merge(roster, on="patient_id")
    if grid.empty:
        return grid
    cols = ["patient_id", "variant_key", "sample_id", "_alt", "_depth", "_vaf", "_det"]
    rows = frame[cols].sort_values(["_det", "_alt", "_depth"], ascending=False, kind="stable")
    rows = rows.drop_duplicates(["patient_id", "variant_key", "sample_id"])
    grid = grid.merge(rows, on=["patient_id", "variant_key", "sample_id"], how="left")
    grid["_has_row"] = grid["_det"].notna()
    grid["_det"] = grid["_det"].astype("boolean").fillna(False).astype(bool)
    grid["is_driver"] = [drivers.get(p) is not None and drivers[p].key == k
                         for p, k in zip(grid["patient_id"], grid["variant_key"], strict=True)]

    # the driver in each sample: its VAF where detected, its reads where not
    drv = grid[grid["is_driver"]].set_index(["patient_id", "sample_id"])
    drv_vaf = drv["_vaf"].where(drv["_det"])
    keys = list(zip(grid["patient_id"], grid["sample_id"], strict=True))
    grid["_driver_vaf"] = drv_vaf.reindex(keys).to_numpy() if len(drv) else np.nan
    drv_reads = {k: _reads(a, d) for k, a, d in zip(drv.index, drv["_alt"], drv["_depth"],
                                                   strict=True)}
    purity = grid["purity"].astype(float)
    dvaf = grid["_driver_vaf"].astype(float)
    tumour_content, source = _tumour_content(purity, dvaf)
    grid["tumour_content"] = tumour_content
    source = np.where((grid["role"] == PLASMA).to_numpy() & (source == "2 x driver VAF"),
                      "ctDNA fraction: 2 x driver plasma VAF", source)
    grid["tumour_content_source"] = source
    grid.loc[grid["role"] == "normal", ["tumour_content", "tumour_content_source"]] = [
        0.0, "matched normal"]

    # CCF where detected
    low, high = vaf_interval(grid["_alt"].to_numpy(), grid["_depth"].to_numpy())
    scale = np.where(dvaf.notna(), 1.0 / dvaf, np.where(purity.notna() & (purity > 0),
                                                         2.0 / purity, np.nan))
    scale = np.where(grid["_det"] & grid["role"].isin(TUMOUR_ROLES + ("plasma",)), scale, np.nan)
    grid["_ccf_raw"] = grid["_vaf"].to_numpy() * scale
    grid.loc[grid["is_driver"] & grid["_det"], "_ccf_raw"] = 1.0
    grid["ccf"] = np.minimum(grid["_ccf_raw"], 1.0)
    # the interval: the mutation's VAF interval over the driver's (both Clopper-Pearson), so
    # the driver's own sampling error widens it; with a purity, scaled by 2 / purity
    d_low, d_high = vaf_interval(drv["_alt"].to_numpy(), drv["_depth"].to_numpy())
    d_low = pd.Series(d_low, index=drv.index).where(drv["_det"]).reindex(keys).to_numpy()
    d_high = pd.Series(d_high, index=drv.index).where(drv["_det"]).reindex(keys).to_numpy()
    use_driver = np.isfinite(scale) & dvaf.notna().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        grid["ccf_low"] = np.minimum(np.where(use_driver, low / d_high, low * scale), 1.0)
        grid["ccf_high"] = np.where(use_driver, high / d_low, high * scale)
    driver_rows = (grid["is_driver"] & grid["_det"]).to_numpy()
    grid.loc[driver_rows, ["ccf_low", "ccf_high"]] = [1.0, 1.0]

    # the expected VAF of each mutation: lowest CCF where detected in a lesion (else in any
    # tumour sample), x tumour content / 2; without driver and purity its own lowest VAF
    det = grid[grid["_det"]]
    # a lesion's CCF is that of its best sample (a region with a subclonal share does not make
    # the lesion's presence smaller); the lowest over lesions is the conservative choice
    per_lesion = det.groupby(["patient_id", "variant_key", "lesion_id", "role"])["ccf"].max()
    per_lesion = per_lesion.reset_index()
    lesion_ccf = per_lesion[per_lesion["role"] == "lesion"].groupby(
        ["patient_id", "variant_key"])["ccf"].min()
    any_ccf = per_lesion[per_lesion["role"] != "normal"].groupby(
        ["patient_id", "variant_key"])["ccf"].min()
    # the own-lowest-VAF fallback comes from tissue: a plasma VAF is diluted by an unknown
    # ctDNA fraction
    low_vaf = det[det["role"].isin(TUMOUR_ROLES)].groupby(["patient_id", "variant_key"])[
        "_vaf"].min()
    pk = list(zip(grid["patient_id"], grid["variant_key"], strict=True))
    min_ccf = lesion_ccf.reindex(pk).to_numpy()
    min_ccf = np.where(np.isnan(min_ccf), any_ccf.reindex(pk).to_numpy(), min_ccf)
    grid["_min_ccf"] = min_ccf
    own = low_vaf.reindex(pk).to_numpy()
    has_driver = np.array([p in drivers for p in grid["patient_id"]])
    tc = grid["tumour_content"].to_numpy(dtype=float)
    expected = np.where(np.isfinite(tc) & np.isfinite(min_ccf), min_ccf * tc / 2, np.nan)
    # detected only where no CCF could be computed: its own lowest VAF
    expected = np.where(np.isfinite(tc) & ~np.isfinite(min_ccf), own, expected)
    expected = np.where(grid["is_driver"] & np.isfinite(purity.to_numpy()),
                        purity.to_numpy() / 2, expected)
    no_content = ~has_driver & ~np.isfinite(purity.to_numpy())
    expected = np.where(no_content | (~np.isfinite(expected) & ~has_driver), own, expected)
    expected = np.where(grid["role"] == "normal", 0.5, expected)  # germline heterozygous
    # plasma: only from a ctDNA fraction and a CCF (never a tissue VAF); else unknown
    plasma = (grid["role"] == PLASMA).to_numpy()
    expected = np.where(plasma & ~(np.isfinite(tc) & np.isfinite(min_ccf)), np.nan, expected)
    grid["expected_vaf"] = expected
    grid.loc[grid["tumour_content_source"].eq("") & ~has_driver & ~np.isfinite(
        purity.to_numpy()), "tumour_content_source"] = "no driver, no purity"

    # states
    depth = grid["_depth"].to_numpy(dtype=float)
    alt = grid["_alt"].to_numpy(dtype=float)
    noise_p = noise_p_value(alt, depth, thresholds.error_rate)
    power = detection_power(depth, expected, thresholds)
    min_depth = np.full(len(grid), float(thresholds.min_depth))
    min_alt = np.full(len(grid), float(thresholds.min_alt))
    if plasma.any():  # plasma rows: the plasma thresholds (detection and noise)
        cf = thresholds.for_role(PLASMA)
        noise_p = np.where(plasma, noise_p_value(alt, depth, cf.error_rate), noise_p)
        power = np.where(plasma, detection_power(depth, expected, cf), power)
        min_depth[plasma] = float(cf.min_depth)
        min_alt[plasma] = float(cf.min_alt)
    grid["power"] = np.where(np.isfinite(expected), power, np.nan)
    states, reasons = [], []
    det_flags = grid["_det"].to_numpy()
    has_row = grid["_has_row"].to_numpy()
    for i, row in enumerate(grid[["patient_id", "sample_id", "is_driver"]].itertuples(
            index=False)):
        if det_flags[i]:
            states.append(DETECTED)
            reasons.append(_reads(alt[i], depth[i]))
            continue
        if not has_row[i]:
            states.append(NOT_EVALUABLE)
            reasons.append("no record at the site: not read")
            continue
        if not np.isfinite(depth[i]):
            states.append(NOT_EVALUABLE)
            reasons.append("depth unknown")
            continue
        if alt[i] > 0 and noise_p[i] < NOISE_ALPHA:
            states.append(LOW_LEVEL)
            reasons.append(f"{_reads(alt[i], depth[i])}: ALT reads above noise but below the "
                           "detection thresholds")
            continue
        if depth[i] < min_depth[i]:
            states.append(NOT_EVALUABLE)
            reasons.append(f"depth {int(depth[i])}")
            continue
        if not np.isfinite(expected[i]):
            driver = drivers.get(row.patient_id)
            reads = drv_reads.get((row.patient_id, row.sample_id), "not read")
            states.append(NOT_EVALUABLE)
            if plasma[i] and not row.is_driver:
                reasons.append(f"ctDNA fraction unknown (driver {driver.name} {reads})"
                               if driver else "ctDNA fraction unknown (no truncal driver)")
            elif row.is_driver:
                reasons.append(f"driver not detected here ({reads}): low tumour content or a "
                               "sample swap")
            else:
                reasons.append(f"low tumour content (driver {driver.name if driver else ''} "
                               f"{reads})".replace("  ", " "))
            continue
        if power[i] < thresholds.min_power:
            states.append(NOT_EVALUABLE)
            reasons.append(f"underpowered: P(detect) = {power[i]:.2f} at expected VAF "
                           f"{_percent(expected[i])} (depth {int(depth[i])})")
            continue
        states.append(ABSENT)
        reasons.append(f"{_reads(alt[i], depth[i])}; P(detect) = {power[i]:.2f} at expected VAF "
                       f"{_percent(expected[i])}")
    grid["state"] = states
    grid["reason"] = reasons
    return grid


_STATE_RANK = {DETECTED: 0, LOW_LEVEL: 1, ABSENT: 2, NOT_EVALUABLE: 3}


def _lesion_level(grid: pd.DataFrame) -> pd.DataFrame:
    """Per (patient, mutation, lesion): detected if any sample is, else low_level, else absent,
    else not evaluable; the deciding sample's numbers."""
    frame = grid.copy()
    frame["_rank"] = frame["state"].map(_STATE_RANK)
    frame["_a"] = frame["_alt"].fillna(-1.0)
    frame["_d"] = frame["_depth"].fillna(-1.0)
    frame["_p"] = frame["power"].fillna(-1.0)
    frame = frame.sort_values(["_rank", "_a", "_p", "_d", "sample_id"],
                              ascending=[True, False, False, False, True], kind="stable")
    keys = ["patient_id", "variant_key", "lesion_id"]
    grouped = frame.groupby(keys, sort=False)
    best = grouped.head(1).set_index(keys)
    counts = grouped.agg(samples=("sample_id", "nunique"), samples_detected=("_det", "sum"))
    best = best.join(counts)
    best = best.rename(columns={"_alt": "alt_count", "_depth": "depth", "_vaf": "vaf"})
    out = best.reset_index()
    out["samples_detected"] = out["samples_detected"].astype(int)
    out["is_driver"] = out["is_driver"].astype(bool)
    out["ccf_raw"] = out["_ccf_raw"]
    return out


def sample_states(
    calls: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """State of every mutation detected in a patient, in every *sample* of that patient (all
    dates): the rows :func:`lesion_states` summarises per lesion, with ``date`` and ``current``
    (at its lesion's current date, :mod:`lesiontrack.timeline`) besides the columns of
    :data:`STATE_COLUMNS` that are per sample (``alt_count``, ``depth``, ``vaf``, ``state``,
    ``reason``, ``expected_vaf``, ``power``, ``tumour_content``, ``ccf``...). Plasma rows use the
    plasma thresholds. Columns starting with ``_`` are internal."""
    if calls.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS})
    thresholds_ = thresholds or Thresholds()
    frame = _prepared(calls, thresholds)
    roster = _roster(calls, samples)
    drivers = _choose_drivers(frame)
    grid = _sample_states(frame, roster, drivers, thresholds_)
    if grid.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS})
    return grid.assign(alt_count=grid["_alt"], depth=grid["_depth"], vaf=grid["_vaf"],
                       ccf_raw=grid["_ccf_raw"])


_sample_grid = sample_states  # lesion_states' parameter of that name hides the function


def lesion_states(
    calls: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    sample_states: pd.DataFrame | None = None,
    current_only: bool = True,
) -> pd.DataFrame:
    """State of every mutation detected in a patient, in every lesion of that patient.

    One row per (patient, mutation detected in at least one of its samples, lesion): ``state``
    in :data:`STATES` with ``reason`` in words, the deciding sample's reads, ``expected_vaf``
    and ``power``, ``tumour_content`` and ``tumour_content_source``, ``ccf`` (clamped at 1) with
    its 95% interval, ``is_driver``. Lesions of every role are listed (``role`` says which);
    ``samples`` (the sample sheet) adds lesions without calls and gives ``purity`` and
    ``date``. A lesion sampled at several dates is summarised from its samples of its current
    date (:mod:`lesiontrack.timeline`); ``status`` is its status then. With ``thresholds``,
    ``detected`` is recomputed from the counts. ``sample_states``: :func:`sample_states`
    already computed with the same inputs. ``current_only=False`` merges every date of a lesion.
    """
    grid = sample_states if sample_states is not None else _sample_grid(
        calls, samples, thresholds=thresholds)
    if grid.empty or "_alt" not in grid:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS})
    if current_only:
        grid = grid[grid["current"].astype(bool)]
    grid = grid.drop(columns=["alt_count", "depth", "vaf", "ccf_raw"])
    out = _lesion_level(grid)
    out["_order"] = out["lesion_id"].map(_natural)
    out = out.sort_values(["patient_id", "variant_key", "_order"], kind="stable")
    extra = ["ccf_raw", "_min_ccf"]
    return out[STATE_COLUMNS + extra].rename(columns={"_min_ccf": "min_ccf"}).reset_index(
        drop=True)


# ----------------------------------------------------------------------------------------------
# origins
# ----------------------------------------------------------------------------------------------

@dataclass
class _Lesion:
    lesion_id: str
    role: str
    status: str
    state: str
    reason: str
    vaf: float | None = None
    alt: float | None = None
    depth: float | None = None
    ccf: float | None = None
    ccf_low: float | None = None
    ccf_high: float | None = None
    ccf_raw: float | None = None
    tumour_content: float | None = None
    tc_source: str = ""
    samples: int = 1
    samples_detected: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clonal(self) -> bool | None:
        """Whether the CCF's 95% interval reaches 1 (None: no CCF)."""
        if self.ccf_high is None or not np.isfinite(self.ccf_high):
            return None
        return self.ccf_high >= 1.0

    def text(self) -> str:
        name = self.lesion_id
        if self.state == DETECTED:
            reads = _reads(self.alt, self.depth)
            if self.samples > 1:
                reads = f"{self.samples_detected} of {self.samples} samples; best {reads}"
            if self.ccf is not None and np.isfinite(self.ccf):
                reads += f", CCF {self.ccf:.2f}"
            return f"{name} ({reads})"
        return f"{name} ({self.reason})"


def _join(items: list[_Lesion]) -> str:
    return ", ".join(i.text() for i in items)


def _knowledge(gene, codon, altering: bool | None) -> tuple[str | None, str]:
    row = genome.knowledge_for(gene if isinstance(gene, str) else None, _codon(codon))
    if row is None:
        return None, ""
    if altering is False:
        return None, f"not protein-altering at {row.region}: the knowledge table does not apply"
    if row.role == "primary":
        return "primary", f"known primary region: {row.region}"
    return "secondary", f"known imatinib-resistance site: {row.region}"


def _content_text(lesions: list[_Lesion]) -> str:
    parts = []
    for x in lesions:
        if x.role not in TUMOUR_ROLES:
            continue
        if x.tumour_content is not None and np.isfinite(x.tumour_content):
            parts.append(f"{x.lesion_id} {_percent(x.tumour_content)} ({x.tc_source})")
        else:
            parts.append(f"{x.lesion_id} unknown ({x.tc_source or 'driver not detected'})")
    return "tumour content: " + ", ".join(parts) if parts else ""


def _decide(lesions: list[_Lesion], driver_lesions: dict[str, _Lesion] | None, is_driver: bool,
            gene, codon, altering: bool | None,
            history: tuple[str | None, str, list[str]] = (None, "", []),
            plasma_later: list[_Lesion] | None = None) -> tuple[str, str, list[str], str]:
    """(origin, rule, flags, evidence) for one patient's tumour mutation. ``history``: the
    ``lesion_history`` verdict (answer or None, evidence, flags); ``plasma_later``: its detections in
    plasma drawn after the start of treatment (or undated), evidence of presence for the
    baseline rule. Pre-treatment plasma draws come in ``lesions`` with role ``baseline``."""
    plasma_later = plasma_later or []
    base = [x for x in lesions if x.role == "baseline"]
    mets = [x for x in lesions if x.role == "lesion"]
    det = [x for x in mets if x.state == DETECTED]
    low = [x for x in mets if x.state == LOW_LEVEL]
    absent = [x for x in mets if x.state == ABSENT]
    unknown = [x for x in mets if x.state == NOT_EVALUABLE]
    verdicts: list[tuple[str, str | None, str]] = []  # (rule, answer or None, evidence)
    notes: list[str] = []  # flags that are not disagreements
    verdicts.append(("lesion_history", *history[:2]))  # 0. the same lesion sampled earlier
    notes += history[2]

    # 1. baseline, only when informative: the truncal driver is detected there
    answer, text = None, ""
    if base:
        informative = True
        if driver_lesions is not None:
            drv = [driver_lesions.get(x.lesion_id) for x in base]
            drv = [d for d in drv if d is not None]
            if not any(d.state == DETECTED for d in drv):
                informative = False
                if any(d.state == ABSENT for d in drv):
                    notes.append("baseline conflict: powered for the truncal driver and it is "
                                 "absent (sample swap, or a driver that is not truncal)")
                else:
                    notes.append("baseline uninformative (low tumour content)")
                reasons = "; ".join(f"{d.lesion_id} {d.reason}" for d in drv) or "not read"
                text = f"baseline without the truncal driver ({reasons})"
        if informative:
            b_det = [x for x in base if x.state == DETECTED]
            b_abs = [x for x in base if x.state == ABSENT]
            if b_det:
                answer, text = "primary", f"detected in baseline {_join(b_det)}"
                top = max(b_det, key=lambda x: x.ccf if x.ccf is not None else -1)
                prog = [x for x in det if x.status == "progressive" and x.ccf is not None]
                if (not is_driver and top.clonal is False
                        and any(x.ccf > top.ccf_high for x in prog)):
                    grown = [x for x in prog if x.ccf > top.ccf_high]
                    answer = "secondary"
                    notes.append(f"pre-existing subclone in baseline (VAF {_percent(top.vaf)})")
                    text = (f"subclonal in baseline {_join([top])} (CCF 95% interval "
                            f"{top.ccf_low:.2f}-{top.ccf_high:.2f}); expanded in progressive "
                            f"{_join(grown)}")
            elif b_abs and (det or plasma_later):
                answer = "secondary"
                text = (f"absent from baseline {_join(b_abs)}; detected in "
                        f"{_join(det + plasma_later)}")
            else:
                text = f"baseline {_join(base)} not evaluable at the site"
    verdicts.append(("baseline", answer, text))

    # 2. sharing
    answer, text = None, ""
    if len(mets) >= 2 and det:
        present = det + low
        if len(present) == len(mets):
            subclonal = low + [x for x in det if x.clonal is False]
            if not subclonal:
                answer = "primary"
                text = f"detected in every lesion: {_join(det)}"
                if any(x.clonal is None for x in det):
                    text += " (clonality not assessable: no driver or purity)"
            else:
                text = (f"present in every lesion but subclonal or low-level in "
                        f"{_join(subclonal)}")
                prog = [x for x in det if x.status == "progressive"]
                if (prog and all(x.clonal for x in prog)
                        and all(x.status == "controlled" for x in subclonal)):
                    notes.append(f"subclonal traces in controlled lesion(s) "
                                 f"{', '.join(x.lesion_id for x in subclonal)} under a clonal "
                                 "presence in progressive lesion(s)")
        elif absent:
            answer = "secondary"
            text = f"detected in {_join(det)}; absent from {_join(absent)}"
        else:
            text = f"detected in {_join(det)}; not evaluable in {_join(unknown + low)}"
    verdicts.append(("sharing", answer, text))

    # 3. knowledge
    answer, text = _knowledge(gene, codon, altering)
    verdicts.append(("knowledge", answer, text))

    for index, (rule, answer, text) in enumerate(verdicts):
        if answer is None:
            continue
        flags = [("lesion_history disagrees with the baseline: " if rule == "lesion_history"
                  and later == "baseline" else "") + f"{later}={other} ({why})"
                 for later, other, why in verdicts[index + 1:]
                 if other is not None and other != answer]
        undecided = [why for earlier, other, why in verdicts[:index] if other is None and why]
        return answer, rule, notes + flags, "; ".join([text, *undecided])
    texts = [why for _, _, why in verdicts if why]
    if not texts and det:
        texts = [f"detected in {_join(det)}; only one lesion and no baseline sample"]
    return "undetermined", "none", notes, "; ".join(texts) or "no rule could decide"


def _germline(lesions: list[_Lesion], gene, hgvsc) -> tuple[str | None, str, list[str]]:
    """(rule or None, evidence, flags) of the germline filter."""
    normals = [x for x in lesions if x.role == "normal"]
    flags = []
    for x in normals:
        if x.state == DETECTED and x.vaf is not None and x.vaf >= GERMLINE_MIN_VAF:
            return ("matched_normal", f"detected in the matched normal {x.lesion_id} at VAF "
                    f"{_percent(x.vaf)} (>= {_percent(GERMLINE_MIN_VAF)}): germline", [])
        if x.state in (DETECTED, LOW_LEVEL):
            vaf = f"VAF {_percent(x.vaf)}" if x.vaf is not None and np.isfinite(x.vaf) else (
                x.reason)
            flags.append(f"tumour-in-normal contamination ({vaf} in normal {x.lesion_id})")
    if not any(x.state in (ABSENT, DETECTED, LOW_LEVEL) for x in normals):
        hit = _polymorphism(gene, hgvsc)
        if hit is not None:
            words = " ".join(x for x in (hit.gene, hit.hgvsc, hit.hgvsp, hit.rsid) if x)
            return "polymorphism", (f"common germline polymorphism {words} (bundled list, "
                                    f"source {hit.sources}); no matched normal read at the "
                                    "site"), flags
    return None, "", flags


# ----------------------------------------------------------------------------------------------
# time and plasma: the evidence of samples that are not a lesion's current one
# ----------------------------------------------------------------------------------------------

def _num(value) -> float | None:
    return None if value is None or value is pd.NA or pd.isna(value) else float(value)


def _sample_lesion(row, name: str, role: str, status: str) -> _Lesion:
    """One sample's state (a row of :func:`sample_states`) as a :class:`_Lesion` named
    ``name`` (e.g. a pre-treatment plasma draw acting as a baseline)."""
    return _Lesion(name, role, status, row.state, row.reason, _num(row.vaf), _num(row.alt_count),
                   _num(row.depth), _num(row.ccf), _num(row.ccf_low), _num(row.ccf_high),
                   _num(row.ccf_raw), _num(row.tumour_content), row.tumour_content_source, 1,
                   int(row.state == DETECTED))


def _treatment_starts(patients: pd.DataFrame | None) -> dict[str, str]:
    """patient -> ``treatment_start_date`` (ISO) of the patient table, where given."""
    if patients is None or "treatment_start_date" not in patients:
        return {}
    return {str(p): str(d) for p, d in zip(patients["patient_id"],
                                           patients["treatment_start_date"], strict=True)
            if isinstance(d, str) and d}


def _history_verdicts(grid: pd.DataFrame
                      ) -> dict[tuple[str, str], tuple[str | None, str, list[str]]]:
    """The ``lesion_history`` verdict per (patient, mutation): a lesion sampled at several
    dates, absent (power rule) at an earlier date and detected at a later one -> secondary,
    the evidence naming both dates; (answer or None, evidence, flags). Like a baseline, an
    earlier date counts only where the truncal driver is detected (in a patient with one);
    otherwise it is flagged and the next rule decides. The driver is never secondary by
    history."""
    dated = grid[(grid["role"] == "lesion") & (grid["date"].astype(str) != "")]
    if dated.empty:
        return {}
    if "is_driver" in dated:
        is_driver = dated["is_driver"].fillna(False).astype(bool)
    else:
        is_driver = pd.Series(False, index=dated.index)
    with_driver = set(dated.loc[is_driver, "patient_id"])
    drv = dated[is_driver]
    drv_rank = drv.assign(_rank=drv["state"].map(_STATE_RANK)).sort_values("_rank", kind="stable")
    drv_rank = drv_rank.drop_duplicates(["patient_id", "lesion_id", "date"])  # best sample
    drv_best = {(p, lesion, d): (state, reason) for p, lesion, d, state, reason in zip(
        drv_rank["patient_id"], drv_rank["lesion_id"], drv_rank["date"], drv_rank["state"],
        drv_rank["reason"], strict=True)}
    dated = dated.assign(_rank=dated["state"].map(_STATE_RANK),
                         _p=dated["power"].astype(float).fillna(-1.0), _drv=is_driver)
    dated = dated.sort_values(["_rank", "_p"], ascending=[True, False], kind="stable")
    best = dated.drop_duplicates(["patient_id", "variant_key", "lesion_id", "date"])
    out: dict[tuple[str, str], tuple[str | None, str, list[str]]] = {}
    for (patient, key), rows in best.groupby(["patient_id", "variant_key"], sort=False):
        if rows["_drv"].any():
            continue
        found, pending, flags = [], [], []
        for lesion, steps in rows.groupby("lesion_id", sort=False):
            if steps["date"].nunique() < 2:
                continue
            steps = steps.sort_values("date", kind="stable")
            detected = steps[steps["state"] == DETECTED]
            if detected.empty:
                continue
            first = detected.iloc[0]
            before = steps[steps["date"] < first["date"]]
            if patient in with_driver:
                informative = []
                for step in before.itertuples(index=False):
                    state, reason = drv_best.get((patient, lesion, step.date),
                                                 (NOT_EVALUABLE, "not read"))
                    informative.append(state == DETECTED)
                    if state != DETECTED:
                        flags.append(f"earlier biopsy uninformative/conflict (driver not "
                                     f"detected): {lesion} on {step.date} ({step.sample_id}, "
                                     f"driver {state.replace('_', ' ')}: {reason})")
                before = before[np.array(informative, dtype=bool)]
            absent = before[before["state"] == ABSENT]
            later = (f"detected on {first['date']} ({first['sample_id']}, "
                     f"{_reads(first['alt_count'], first['depth'])})")
            if len(absent):
                gone = absent.iloc[-1]
                found.append(f"lesion history: {lesion} absent on {gone['date']} "
                             f"({gone['sample_id']}, {gone['reason']}); {later}")
            elif len(before):
                seen_step = before.iloc[-1]
                pending.append(f"lesion history: {lesion} "
                               f"{seen_step['state'].replace('_', ' ')} on "
                               f"{seen_step['date']} ({seen_step['reason']}); {later}")
        if found:
            out[(patient, key)] = ("secondary", "; ".join(found), flags)
        elif pending or flags:
            out[(patient, key)] = (None, "; ".join(pending), flags)
    return out


def _plasma_evidence(grid: pd.DataFrame, starts: dict[str, str]
                     ) -> tuple[dict, dict, dict]:
    """Per (patient, mutation): pre-treatment plasma draws as baseline entries (every state),
    later (or undated) plasma detections as entries, and the facts the plasma flags need
    (plasma detections, whether a tumour sample detects it, whether a normal sample reads
    it)."""
    pre: dict[tuple[str, str], list[_Lesion]] = {}
    later: dict[tuple[str, str], list[_Lesion]] = {}
    facts: dict[tuple[str, str], dict] = {}
    if grid.empty:
        return pre, later, facts
    for row in grid.itertuples(index=False):
        key = (row.patient_id, row.variant_key)
        fact = facts.setdefault(key, {"plasma": [], "tumour": False, "normal_read": False})
        if row.role in TUMOUR_ROLES and row.state == DETECTED:
            fact["tumour"] = True
        if row.role == "normal" and row.state in (DETECTED, LOW_LEVEL, ABSENT):
            fact["normal_read"] = True
        if row.role != PLASMA:
            continue
        date = str(row.date or "")
        if row.state == DETECTED:
            fact["plasma"].append((row.sample_id, date, _num(row.vaf)))
        start = starts.get(str(row.patient_id))
        when = f" ({date})" if date else ""
        if start and date and date < start:
            pre.setdefault(key, []).append(_sample_lesion(
                row, f"pre-treatment plasma {row.sample_id}{when}", "baseline", "baseline"))
        elif row.state == DETECTED:
            later.setdefault(key, []).append(_sample_lesion(
                row, f"plasma {row.sample_id}{when}", PLASMA, row.status))
    return pre, later, facts


def _plasma_flags(fact: dict | None, origin: str, gene, hgvsp) -> list[str]:
    """``plasma_only`` (a secondary detected in plasma and in no biopsied lesion) and the
    possible haematopoietic origin of KIT D816V seen only in plasma at low VAF."""
    if not fact or not fact["plasma"] or fact["tumour"]:
        return []
    draws = ", ".join(f"{s}{' ' + d if d else ''} VAF {_percent(v) if v is not None else '?'}"
                      for s, d, v in fact["plasma"])
    flags = []
    if origin == "secondary":
        flags.append(f"plasma_only: detected in plasma ({draws}) and in no biopsied lesion: "
                     "likely from a lesion that was not sampled")
    top = max((v for _, _, v in fact["plasma"] if v is not None), default=None)
    if (gene == "KIT" and hgvsp == "p.D816V" and top is not None
            and top < HAEMATOPOIETIC_MAX_VAF and not fact["normal_read"]):
        flags.append(f"possible haematopoietic origin: KIT D816V only in plasma at VAF "
                     f"{_percent(top)} can come from blood cells (mast-cell or clonal "
                     "haematopoiesis); sequence a buffy-coat sample as role=normal")
    return flags


def classify(
    calls: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    count_all: bool = False,
    states: pd.DataFrame | None = None,
    sample_states: pd.DataFrame | None = None,
    patients: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Origin (primary / secondary / germline / undetermined) of every mutation detected in each
    patient, with whether it counts in the clustering statistics.

    ``calls`` is the calls table; ``samples`` (the sample sheet) adds lesions without calls and
    the ``purity`` column. With ``thresholds``, ``detected`` is recomputed from the counts and
    ``error_rate``/``min_power`` decide absences. ``count_all`` counts germline and silent
    changes too. ``states``: :func:`lesion_states` already computed with the same inputs;
    ``sample_states``: likewise :func:`sample_states` (earlier samples of a lesion, plasma
    draws). ``patients``: the patient table, whose ``treatment_start_date`` makes plasma drawn
    before it act as a baseline sample.
    Returns :data:`ORIGIN_COLUMNS`, one row per (patient, mutation detected in at least one
    sample), sorted by patient and position; ``region`` and ``drug_activity`` (the string form
    of :func:`lesiontrack.genome.drugs.activity_string`) are filled for protein-altering changes
    that a drug-table row applies to, else ''.
    """
    if calls.empty:
        return _empty_origins()
    grid = sample_states if sample_states is not None else _sample_grid(
        calls, samples, thresholds=thresholds)
    if states is None:
        states = lesion_states(calls, samples, thresholds=thresholds, sample_states=grid)
    if states.empty:
        return _empty_origins()
    if grid.empty or "_alt" not in grid:
        grid = pd.DataFrame(columns=["patient_id", "variant_key", "sample_id", "role", "state",
                                     "date", "lesion_id", "power"])
    from .timeline import first_detections

    history = _history_verdicts(grid)
    pre_plasma, later_plasma, plasma_facts = _plasma_evidence(grid, _treatment_starts(patients))
    firsts_detected = first_detections(grid)
    frame = calls if "consequence" in calls else calls.assign(consequence="unknown")
    info_columns = ["chrom", "pos", "ref", "alt", "gene", "exon", "hgvsc", "hgvsp", "codon",
                    "consequence"]
    firsts = frame.drop_duplicates(["patient_id", "variant_key"])
    info_of = {(p, k): dict(zip(info_columns, values, strict=True)) for p, k, *values in zip(
        firsts["patient_id"], firsts["variant_key"], *(firsts[c] for c in info_columns),
        strict=True)}
    driver_of: dict[str, str] = {}
    lesions_of: dict[tuple[str, str], list[_Lesion]] = {}
    for row in states.itertuples(index=False):
        if row.is_driver:
            driver_of[row.patient_id] = row.variant_key

        def num(value):
            return None if value is None or pd.isna(value) else float(value)

        lesions_of.setdefault((row.patient_id, row.variant_key), []).append(_Lesion(
            row.lesion_id, row.role, row.status, row.state, row.reason, num(row.vaf),
            num(row.alt_count), num(row.depth), num(row.ccf), num(row.ccf_low),
            num(row.ccf_high), num(row.ccf_raw), num(row.tumour_content),
            row.tumour_content_source, int(row.samples), int(row.samples_detected)))
    rows = []
    for key, lesions in lesions_of.items():
        patient, vkey = key
        info = info_of[key]
        consequence = info["consequence"] if isinstance(info["consequence"], str) and info[
            "consequence"] else "unknown"
        altering = _protein_altering(consequence)
        rule, evidence, flags = _germline(lesions, info["gene"], info["hgvsc"])
        if rule is not None:
            origin = "germline"
        else:
            dkey = driver_of.get(patient)
            driver_lesions = ({x.lesion_id: x for x in lesions_of[(patient, dkey)]
                               + pre_plasma.get((patient, dkey), [])}
                              if dkey is not None else None)
            origin, rule, more, evidence = _decide(
                lesions + pre_plasma.get(key, []), driver_lesions, dkey == vkey,
                info["gene"], info["codon"], altering, history.get(key, (None, "", [])),
                later_plasma.get(key, []))
            flags = flags + more
            if dkey == vkey:
                evidence += "; the patient's truncal driver"
        flags += _plasma_flags(plasma_facts.get(key), origin, info["gene"], info["hgvsp"])
        high = [x for x in lesions if x.state == DETECTED and x.ccf_raw is not None
                and x.ccf_raw > CCF_FLAG_ABOVE]
        if high:
            flags.append("CCF above 1.2 in " + ", ".join(
                f"{x.lesion_id} ({x.ccf_raw:.2f})" for x in high)
                + ": loss of wild-type KIT or gain of the mutant allele; clamped at 1")
        content = _content_text(lesions)
        if content:
            evidence += f"; {content}"
        if count_all:
            counted, reason = True, ""
        elif origin == "germline":
            counted, reason = False, "germline"
        elif altering is False:
            counted, reason = False, consequence
        else:
            counted, reason = True, ""
        if altering is None and origin != "germline":
            flags.append("consequence unknown")
        mets = [x for x in lesions if x.role == "lesion"]
        rows.append({
            "patient_id": patient, "variant_key": vkey, "chrom": info["chrom"],
            "pos": int(info["pos"]), "ref": info["ref"], "alt": info["alt"],
            "gene": info["gene"], "exon": info["exon"], "hgvsc": info["hgvsc"],
            "hgvsp": info["hgvsp"], "origin": origin, "rule": rule, "flags": "; ".join(flags),
            "evidence": evidence,
            "lesions_detected": ",".join(x.lesion_id for x in mets if x.state == DETECTED),
            "lesions_absent": ",".join(x.lesion_id for x in mets if x.state == ABSENT),
            "lesions_not_evaluable": ",".join(
                x.lesion_id for x in mets if x.state in (NOT_EVALUABLE, LOW_LEVEL)),
            "consequence": consequence, "counted": counted, "not_counted_reason": reason,
            **_drug_fields(info["gene"], info["codon"], info["hgvsp"], consequence),
            "first_detected_date": firsts_detected.get(key, ("", ""))[0],
            "first_detected_in": firsts_detected.get(key, ("", ""))[1],
        })
    if not rows:
        return _empty_origins()
    out = pd.DataFrame.from_records(rows, columns=ORIGIN_COLUMNS)
    out["_chrom"] = out["chrom"].map(_natural)
    out = out.sort_values(["patient_id", "_chrom", "pos", "ref", "alt"], kind="stable")
    return out.drop(columns="_chrom").reset_index(drop=True)


def _drug_fields(gene, codon, hgvsp, consequence: str) -> dict[str, str]:
    """``region`` and ``drug_activity`` (string form) of a protein-altering change, else ''."""
    from .genome.drugs import activity_string, drug_activity

    found = drug_activity(gene if isinstance(gene, str) else None, _codon(codon),
                          hgvsp if isinstance(hgvsp, str) else None, consequence)
    return {"region": found.region if found else "", "drug_activity": activity_string(found)}


def _empty_origins() -> pd.DataFrame:
    """An origins table without rows, with the dtypes of a table with rows (``pos`` int64)."""
    dtypes = {"pos": "int64", "counted": "bool"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in ORIGIN_COLUMNS})


__all__ = ["ABSENT", "DETECTED", "LOW_LEVEL", "NOT_EVALUABLE", "ORIGIN_COLUMNS", "PLASMA",
           "STATES", "STATE_COLUMNS", "TUMOUR_CONTENT_COLUMNS", "classify", "detection_power",
           "lesion_states", "noise_p_value", "sample_states", "sample_tumour_content",
           "vaf_interval"]
