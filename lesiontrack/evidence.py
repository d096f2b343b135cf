"""Lesion states: the one place where "detected", "absent" and "not evaluable" are decided,
per sample and mutation, then per lesion from its samples.

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

**Cancer-cell fraction** (CCF) where detected: VAF / driver VAF in that
sample, else 2 x VAF / purity; clamped at 1, values above 1.2 flagged; its interval is the
95% Clopper-Pearson interval of the VAF over that of the driver's VAF (or scaled by 2 / purity):
at least 95%, as the driver's sampling error widens it. **Expected VAF** of a mutation in a
sample: its lowest CCF among the lesions where it is detected (a lesion's CCF: its best
sample's) x tumour content / 2 (a heterozygous mutation); without driver and purity, its own
lowest detected VAF. The truncal driver and the tumour content: :mod:`lesiontrack.drivers`;
the origins decided from the states: :mod:`lesiontrack.compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drivers import (
    TUMOUR_ROLES,
    Driver,
    best_driver_rows,
    choose_drivers,
    tumour_content_from,
)
from .options import NOISE_ALPHA, Thresholds
from .order import natural_key as _natural

DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE = "detected", "low_level", "absent", "not_evaluable"
#: The role of plasma (cell-free DNA) samples: evidence, never a lesion.
PLASMA = "plasma"
STATES: tuple[str, ...] = (DETECTED, LOW_LEVEL, ABSENT, NOT_EVALUABLE)
#: Order of the states when several samples (or dates) of a lesion disagree: the first wins.
STATE_RANK = {DETECTED: 0, LOW_LEVEL: 1, ABSENT: 2, NOT_EVALUABLE: 3}

#: Columns of :func:`lesion_states`, in order.
STATE_COLUMNS: list[str] = [
    "patient_id", "variant_key", "lesion_id", "role", "status", "state", "reason", "sample_id",
    "alt_count", "depth", "vaf", "expected_vaf", "power", "tumour_content",
    "tumour_content_source", "ccf", "ccf_low", "ccf_high", "is_driver", "samples",
    "samples_detected",
]


# ----------------------------------------------------------------------------------------------
# small helpers and the binomial evidence
# ----------------------------------------------------------------------------------------------

def percent_text(value: float) -> str:
    """0.045 -> '4.5%', 0.25 -> '25%'."""
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def reads_text(alt, depth) -> str:
    """``12/400 reads``, ``depth 400`` (ALT unknown) or ``depth unknown``."""
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
    need = thresholds.alt_needed(np.where(ok, d, 0))
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


#: Columns of :func:`sample_tumour_content`, in order.
TUMOUR_CONTENT_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "role", "tumour_content", "tumour_content_source",
]


def sample_tumour_content(calls: pd.DataFrame, sheet: pd.DataFrame | None = None, *,
                          thresholds: Thresholds | None = None) -> pd.DataFrame:
    """The tumour content of every sample, as :func:`lesion_states` uses it: the sample sheet's
    ``purity``, else 2 x the truncal driver's VAF where the driver is detected in the sample
    (clamped at 1), else NaN (source ``""``). One row per sample: :data:`TUMOUR_CONTENT_COLUMNS`
    (``tumour_content_source`` ``purity column`` / ``2 x driver VAF`` / ``""``). With
    ``thresholds``, ``detected`` is recomputed from the counts."""
    if calls.empty and (sheet is None or sheet.empty):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TUMOUR_CONTENT_COLUMNS})
    frame = _prepared(calls, thresholds)
    roster = _roster(calls, sheet)
    drivers = choose_drivers(frame) if len(frame) else {}
    best = best_driver_rows(frame, drivers).set_index(["patient_id", "sample_id"])
    keys = list(zip(roster["patient_id"], roster["sample_id"], strict=True))
    dvaf = best["_vaf"].where(best["_det"]).reindex(keys) if len(best) else pd.Series(
        np.nan, index=range(len(keys)))
    dvaf = pd.Series(dvaf.to_numpy(dtype=float), index=roster.index)
    content, source = tumour_content_from(roster["purity"].astype(float), dvaf)
    lesions = _lesion_ids(calls, sheet)
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


def _sample_states(frame: pd.DataFrame, roster: pd.DataFrame, drivers: dict[str, Driver],
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
    drv_reads = {k: reads_text(a, d) for k, a, d in zip(drv.index, drv["_alt"], drv["_depth"],
                                                   strict=True)}
    purity = grid["purity"].astype(float)
    dvaf = grid["_driver_vaf"].astype(float)
    tumour_content, source = tumour_content_from(purity, dvaf)
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
    if plasma.any():  # plasma rows: the plasma thresholds (detection and noise)
        cf = thresholds.for_role(PLASMA)
        noise_p = np.where(plasma, noise_p_value(alt, depth, cf.error_rate), noise_p)
        power = np.where(plasma, detection_power(depth, expected, cf), power)
        min_depth[plasma] = float(cf.min_depth)
    grid["power"] = np.where(np.isfinite(expected), power, np.nan)
    states, reasons = [], []
    det_flags = grid["_det"].to_numpy()
    has_row = grid["_has_row"].to_numpy()
    for i, row in enumerate(grid[["patient_id", "sample_id", "is_driver"]].itertuples(
            index=False)):
        if det_flags[i]:
            states.append(DETECTED)
            reasons.append(reads_text(alt[i], depth[i]))
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
            reasons.append(f"{reads_text(alt[i], depth[i])}: ALT reads above noise but below the "
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
                           f"{percent_text(expected[i])} (depth {int(depth[i])})")
            continue
        states.append(ABSENT)
        reasons.append(f"{reads_text(alt[i], depth[i])}; P(detect) = {power[i]:.2f} at "
                       f"expected VAF {percent_text(expected[i])}")
    grid["state"] = states
    grid["reason"] = reasons
    return grid


def _lesion_level(grid: pd.DataFrame) -> pd.DataFrame:
    """Per (patient, mutation, lesion): detected if any sample is, else low_level, else absent,
    else not evaluable; the deciding sample's numbers."""
    frame = grid.copy()
    frame["_rank"] = frame["state"].map(STATE_RANK)
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
    sheet: pd.DataFrame | None = None,
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
    roster = _roster(calls, sheet)
    drivers = choose_drivers(frame)
    grid = _sample_states(frame, roster, drivers, thresholds_)
    if grid.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS})
    return grid.assign(alt_count=grid["_alt"], depth=grid["_depth"], vaf=grid["_vaf"],
                       ccf_raw=grid["_ccf_raw"])


_sample_grid = sample_states  # lesion_states' parameter of that name hides the function


def lesion_states(
    calls: pd.DataFrame,
    sheet: pd.DataFrame | None = None,
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
    ``sheet`` (the sample sheet) adds lesions without calls and gives ``purity`` and
    ``date``. A lesion sampled at several dates is summarised from its samples of its current
    date (:mod:`lesiontrack.timeline`); ``status`` is its status then. With ``thresholds``,
    ``detected`` is recomputed from the counts. ``sample_states``: :func:`sample_states`
    already computed with the same inputs. ``current_only=False`` merges every date of a lesion.
    """
    grid = sample_states if sample_states is not None else _sample_grid(
        calls, sheet, thresholds=thresholds)
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


__all__ = ["ABSENT", "DETECTED", "LOW_LEVEL", "NOT_EVALUABLE", "PLASMA", "STATES", "STATE_COLUMNS",
           "STATE_RANK", "TUMOUR_CONTENT_COLUMNS", "detection_power", "lesion_states",
           "noise_p_value", "percent_text", "reads_text", "sample_states",
           "sample_tumour_content", "vaf_interval"]
