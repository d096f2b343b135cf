"""The truncal driver of each patient and, from it, the tumour content of each sample.

The **truncal driver** of a patient is chosen from detection alone: a protein-altering (or
unknown-consequence) mutation in a known primary region of the knowledge table, detected in the
most lesions with the highest median VAF; else (no known driver, e.g. exome data) the mutation,
of any consequence, that is not at a knowledge-table site and is detected in the most lesions
(at least two, and more than half of them) with the highest median VAF; else none. **Tumour content**
of a sample: the sample sheet's ``purity``, else 2 x the driver's VAF there (clamped at 1); a
sample where the driver is not detected has an unknown (low) tumour content and is evidence of
absence for nothing. The lesion states (:mod:`lesiontrack.evidence`) read both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import genome
from .options import GERMLINE_MIN_VAF

#: Sample roles that are tumour (their lesions carry states used by the origin rules).
TUMOUR_ROLES = ("baseline", "lesion")


def protein_altering(consequence) -> bool | None:
    """True / False / None (unknown) through the genome module's classification."""
    return genome.is_protein_altering(consequence if isinstance(consequence, str) else None)


def polymorphism(gene, hgvsc) -> genome.GermlinePolymorphism | None:
    """The bundled germline polymorphism a (gene, c. name) is, else None."""
    return genome.germline_polymorphism(gene if isinstance(gene, str) else None,
                                        hgvsc if isinstance(hgvsc, str) else None)


def codon_number(value) -> int | None:
    """A codon cell as an int (None when missing)."""
    return None if value is None or pd.isna(value) else int(value)


@dataclass
class Driver:
    """A patient's truncal driver: its variant key and its name in words."""

    key: str
    name: str


def _name(gene, hgvsp, hgvsc, key) -> str:
    gene = gene if isinstance(gene, str) else ""
    for text in (hgvsp, hgvsc):
        if isinstance(text, str) and text:
            return f"{gene} {text}".strip()
    return f"{gene} {key}".strip()


def choose_drivers(frame: pd.DataFrame) -> dict[str, Driver]:
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
        if (patient, key) in normal_germline or polymorphism(gene, hgvsc):
            tier.append(0)
            continue
        hit = genome.knowledge_for(gene if isinstance(gene, str) else None, codon_number(codon))
        if hit is not None and hit.role == "primary" and protein_altering(consequence) is not False:
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
    return {p: Driver(k, _name(g, hp, hc, k)) for p, k, g, hp, hc in zip(
        best["patient_id"], best["variant_key"], best["gene"], best["hgvsp"], best["hgvsc"],
        strict=True)}


def tumour_content_from(purity: pd.Series, driver_vaf: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(tumour content, its source) of samples: the sheet's purity, else 2 x the driver's VAF
    (clamped at 1), else NaN with an empty source."""
    content = purity.where(purity.notna(), np.minimum(1.0, 2 * driver_vaf))
    source = np.where(purity.notna(), "purity column",
                      np.where(driver_vaf.notna(), "2 x driver VAF", ""))
    return content, source


def best_driver_rows(frame: pd.DataFrame, drivers: dict[str, Driver]) -> pd.DataFrame:
    """The truncal driver's best row in each sample (detected first, then most ALT reads)."""
    rows = frame[["patient_id", "variant_key", "sample_id", "_alt", "_depth", "_vaf", "_det"]]
    keep = np.array([drivers.get(p) is not None and drivers[p].key == k
                     for p, k in zip(rows["patient_id"], rows["variant_key"], strict=True)],
                    dtype=bool)
    rows = rows.loc[keep]
    rows = rows.sort_values(["_det", "_alt", "_depth"], ascending=False, kind="stable")
    return rows.drop_duplicates(["patient_id", "sample_id"])


__all__ = ["TUMOUR_ROLES", "Driver", "best_driver_rows", "choose_drivers", "codon_number",
           "polymorphism", "protein_altering", "tumour_content_from"]
