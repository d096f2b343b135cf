"""Tiny hand-made calls tables for the science tests (no files involved)."""

from __future__ import annotations

import pandas as pd

from lesiontrack import CALLS_COLUMNS, Thresholds

# GRCh38 keys of the worked examples
W557 = ("4", 54727435, "AGTGGA", "-", "KIT", "11", 556, "p.W557_K558del")
V654A = ("4", 54728092, "T", "C", "KIT", "13", 654, "p.V654A")
D816V = ("4", 54733155, "A", "T", "KIT", "17", 816, "p.D816V")
INTRONIC = ("4", 54727600, "G", "A", "KIT", "", None, "")  # no knowledge row
D842V = ("4", 54285926, "A", "T", "PDGFRA", "18", 842, "p.D842V")

ROLE_OF_STATUS = {"baseline": "baseline"}
#: Consequence of each worked example (what the annotation gives them).
CONSEQUENCE = {W557: "inframe_deletion", V654A: "missense", D816V: "missense",
               INTRONIC: "intronic", D842V: "missense"}


def call(patient, lesion, status, variant, alt, depth, *, sample=None, role=None):
    """One calls-table row; ``alt``/``depth`` None for unknown."""
    chrom, pos, ref, a, gene, exon, codon, hgvsp = variant
    return {
        "patient_id": patient, "lesion_id": lesion, "sample_id": sample or f"{patient}-{lesion}",
        "role": role or ROLE_OF_STATUS.get(status, "lesion"), "status": status,
        "status_raw": status, "site": "", "timepoint": "", "assembly": "GRCh38",
        "chrom": chrom, "chrom_raw": f"chr{chrom}", "pos": pos, "ref": ref, "alt": a,
        "variant_key": f"{chrom}:{pos}:{ref}>{a}", "gene": gene, "exon": exon, "codon": codon,
        "hgvsc": "", "hgvsp": hgvsp, "hgvsp_source": "annotation" if hgvsp else "",
        "role_hint": "", "alt_count": alt, "depth": depth,
        "vaf": (alt / depth) if (alt is not None and depth) else None, "caller_vaf": None,
        "filter": "PASS", "caller": "test", "source": "test.vcf", "record": "", "detected": None,
        "consequence": CONSEQUENCE.get(variant, "unknown"),
    }


def table(rows, thresholds: Thresholds | None = None) -> pd.DataFrame:
    columns = CALLS_COLUMNS + [c for c in ("consequence",) if c not in CALLS_COLUMNS]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in ("alt_count", "depth"):
        frame[column] = frame[column].astype("Float64").astype("Int64")
    frame["codon"] = frame["codon"].astype("Int64")
    frame["vaf"] = frame["vaf"].astype(float)
    frame["detected"] = (thresholds or Thresholds()).detect(
        frame["alt_count"].astype(float), frame["depth"].astype(float), frame["vaf"])
    return frame


def focal_patient(patient="P1"):
    """Baseline + L1 progressive with V654A + L2 stable: the study's story."""
    return [
        call(patient, "B", "baseline", W557, 60, 150),
        call(patient, "B", "baseline", V654A, 0, 180),
        call(patient, "L1", "progressive", W557, 70, 160),
        call(patient, "L1", "progressive", V654A, 30, 150),
        call(patient, "L2", "controlled", W557, 55, 140),
        call(patient, "L2", "controlled", V654A, 1, 150),
    ]


def write_reads_cohort(folder, samples, reads, extra: str, patients: str | None = None):
    """A cohort on disk: ``calls.tsv`` (one plain TSV: sample, site, alt_count, depth) and
    ``samplesheet.tsv`` whose last column is ``extra`` (e.g. ``purity`` or ``date``).

    ``samples``: (patient, lesion, sample, role, status[, value of ``extra``]); ``reads``:
    (sample, (chrom, pos, ref, alt), alt, depth); ``patients``: the text of a ``patients.tsv``
    to write beside them. Returns the sheet's path."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["sample\tchrom\tpos\tref\talt\talt_count\tdepth"]
    for sample, (chrom, pos, ref, alt), alt_count, depth in reads:
        lines.append(f"{sample}\t{chrom}\t{pos}\t{ref}\t{alt}\t{alt_count}\t{depth}")
    (folder / "calls.tsv").write_text("\n".join(lines) + "\n")
    rows = ["\t".join(["patient_id", "lesion_id", "sample_id", "role", "status", "calls",
                       "assembly", extra])]
    for patient, lesion, sample, role, status, *value in samples:
        rows.append("\t".join([patient, lesion, sample, role, status, "calls.tsv", "GRCh38",
                               str(value[0]) if value else ""]))
    (folder / "samplesheet.tsv").write_text("\n".join(rows) + "\n")
    if patients is not None:
        (folder / "patients.tsv").write_text(patients)
    return folder / "samplesheet.tsv"
