"""Allele counts read from each sample's BAM/CRAM (the sheet's ``bam`` column): a row filled in
where a sample has no record of a site detected elsewhere in its patient, and, with ``recount``,
the callers' counts replaced by the reads'. The pileup counting itself is :mod:`lesiontrack.io.bam`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .options import Thresholds
from .reference import Reference
from .samplesheet import relative_to_sheet


def add_read_counts(calls: pd.DataFrame, sheet: pd.DataFrame, sheet_path: Path,
                    thresholds: Thresholds, reference: Reference | None,
                    recount: bool) -> pd.DataFrame:
    """Counts from each sample's BAM/CRAM at every site detected anywhere in its patient.

    A sample without a record of a site gets a row with ``source`` = ``reads``; a caller's
    record is kept as it is unless ``recount``, which replaces its counts by the read counts.
    """
    from .io.bam import count_alleles

    with_bam = sheet[sheet["bam_path"] != ""].drop_duplicates(["patient_id", "sample_id"])
    if with_bam.empty or calls.empty:
        return calls
    detected = thresholds.detect_calls(calls)
    hits = calls[detected.fillna(False).astype(bool)]
    site_columns = ["variant_key", "chrom_raw", "pos", "ref", "alt", "assembly"]
    added, recounted = [], {}
    for row in with_bam.itertuples(index=False):
        sites = hits.loc[hits["patient_id"] == row.patient_id, site_columns].drop_duplicates(
            "variant_key").reset_index(drop=True)
        if sites.empty:
            continue
        counts = count_alleles(
            row.bam_path, sites.rename(columns={"chrom_raw": "chrom"}), reference=reference,
            expected_assembly=sites["assembly"].iloc[0],
            expected_sample=[n for n in (row.sample_id, row.vcf_sample) if n],
        )
        counts["vaf"] = counts["alt_count"] / counts["depth"].where(counts["depth"] > 0)
        mine = calls[(calls["patient_id"] == row.patient_id)
                     & (calls["sample_id"] == row.sample_id)]
        called = set(mine["variant_key"])
        bam_shown = relative_to_sheet(row.bam_path, sheet_path)
        for site, count in zip(sites.itertuples(index=False), counts.itertuples(index=False),
                               strict=True):
            values = (float(count.alt_count), float(count.depth), count.vaf)
            if site.variant_key in called:
                if recount:
                    recounted[(row.patient_id, row.sample_id, site.variant_key)] = (
                        *values, bam_shown)
                continue
            added.append({
                "patient_id": row.patient_id, "lesion_id": row.lesion_id,
                "sample_id": row.sample_id, "role": row.role, "status": row.status,
                "status_raw": row.status_raw, "site": row.site, "timepoint": row.timepoint,
                "date": getattr(row, "date", ""), "assembly": site.assembly, "file_sample": row.vcf_sample or row.sample_id,
                "chrom_raw": site.chrom_raw, "pos": site.pos, "ref": site.ref, "alt": site.alt,
                "variant_key": site.variant_key, "alt_count": values[0], "depth": values[1],
                "vaf": values[2], "caller_vaf": float("nan"), "filter": "", "caller": "reads",
                "ann_gene": "", "ann_hgvsc": "", "ann_hgvsp": "", "ann_consequence": "",
                "record": bam_shown,
                "source": "reads",
            })
    if recounted:
        keys = list(zip(calls["patient_id"], calls["sample_id"], calls["variant_key"],
                        strict=True))
        for index, key in enumerate(keys):
            if key in recounted:
                alt, depth, vaf, shown = recounted[key]
                calls.iloc[index, calls.columns.get_indexer(
                    ["alt_count", "depth", "vaf", "source", "record"])] = [
                    alt, depth, vaf, "reads", shown]
    if added:
        calls = pd.concat([calls, pd.DataFrame.from_records(added)], ignore_index=True)
    return calls

