"""MAF files (vcf2maf/GDC, Funcotator, TCGA WUSTL, MesKit) read into raw calls.

:func:`read_maf` returns a :class:`~lesiontrack.io.ReadResult` whose ``calls`` frame has the
:data:`~lesiontrack.io.RAW_COLUMNS`, one row per (sample, variant), alleles in their minimal form.

MAF flavours recognised (the ``caller`` of the result):

- ``maf_vcf2maf``: vcf2maf / GDC MAF 2.4 (``t_depth``, ``t_ref_count``, ``t_alt_count``, ``HGVSp_Short``,
  ``vcf_pos``); counts may be ``.``, empty or ``NA`` when unknown.
- ``maf_funcotator``: GATK Funcotator (``##`` comment block, ``Protein_Change``, ``tumor_f``,
  ``t_alt_count`` + ``t_ref_count`` and no ``t_depth``).
- ``maf_meskit``: MesKit input (``Ref_allele_depth``, ``Alt_allele_depth``, ``VAF``); rows with
  VAF 0 are sites that were read where the allele was not seen, and are kept (alt_count 0).
- ``maf``: any other MAF, e.g. TCGA WUSTL (``TumorRefReads_WU``, ``TumorVarReads_WU``,
  ``TumorVAF_WU`` in percent).

The number rules (``alt_count``, ``depth``, ``vaf``, ``caller_vaf``) are those of
:mod:`lesiontrack.io.tablecalls`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CallsFileError
from ..textfiles import load_table
from .result import ReadResult
from .tablecalls import (
    CallsTable,
    Regions,
    Rows,
    assembly_hint,
    build_calls,
    chromosomes,
    note,
    objects,
    pick_hgvsc,
    pick_hgvsp,
    positions,
    read_numbers,
    unique,
)

__all__ = ["read_maf"]

_MAF_REQUIRED = (
    "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
)
#: (alt count, ref count, depth) column families, tried in this order.
_MAF_COUNT_FAMILIES = (
    ("t_alt_count", "t_ref_count", "t_depth"),  # vcf2maf, GDC, Funcotator (no t_depth)
    ("TumorVarReads_WU", "TumorRefReads_WU", None),  # TCGA WUSTL
    ("Alt_allele_depth", "Ref_allele_depth", None),  # MesKit
)
#: Fraction columns, tried in this order; the last one is percent by definition.
_MAF_FRACTION_COLUMNS = ("tumor_f", "VAF", "TumorVAF_WU")
#: Protein-change columns: (column, already one-letter?), tried in this order per row.
_MAF_HGVSP_COLUMNS = (
    ("HGVSp_Short", True), ("Protein_Change", True), ("HGVSp", False), ("amino_acid_change", True),
)
_MAF_HGVSC_COLUMNS = ("HGVSc", "cDNA_Change")


def _maf_caller(table: CallsTable) -> str:
    has = table.column
    if has("Alt_allele_depth") and has("Ref_allele_depth") and not has("t_alt_count"):
        return "maf_meskit"
    if any("funcotator" in line.lower() for line in table.comments) or (
        has("Protein_Change") and has("tumor_f")
        and (has("Annotation_Transcript") or has("Genome_Change"))
    ):
        return "maf_funcotator"
    if any(has(c) for c in ("vcf_pos", "vcf_id", "vcf_qual", "flanking_bps")):
        return "maf_vcf2maf"
    return "maf"


def read_maf(
    path: str | Path,
    *,
    regions: Regions,
    include_filtered: bool = False,
) -> ReadResult:
    """Read a MAF (vcf2maf/GDC, Funcotator, TCGA WUSTL, MesKit) into raw calls.

    ``regions`` are (normalised chrom, start, end) windows to keep (a variant is kept when its
    span overlaps one), or None for every row. Rows whose FILTER is not PASS/``.`` are dropped
    unless ``include_filtered``. Raises :class:`CallsFileError` (with file, line and column) for
    missing required columns, a file with neither read counts nor an allele-fraction column,
    non-numeric or negative counts, alt count above depth, or several genome builds in one file.
    """
    path = Path(path)
    table = load_table(path, kind="MAF", into=CallsTable)
    warnings: list[str] = []
    missing = [c for c in _MAF_REQUIRED if table.column(c) is None]
    if missing:
        raise CallsFileError(
            f"missing required MAF column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint=f"a MAF needs the columns {', '.join(_MAF_REQUIRED)}",
        )
    alt_col = ref_col = depth_col = None
    for alt_name, ref_name, depth_name in _MAF_COUNT_FAMILIES:
        if table.column(alt_name) is not None:
            alt_col, ref_col, depth_col = map(table.column, (alt_name, ref_name, depth_name))
            break
    fraction_col = table.first_column(_MAF_FRACTION_COLUMNS)
    if alt_col is None and fraction_col is None:
        raise CallsFileError(
            "no read counts and no allele-fraction column: expected t_alt_count with t_depth or "
            "t_ref_count (vcf2maf/GDC/Funcotator), TumorVarReads_WU + TumorRefReads_WU (TCGA WU), "
            "Alt_allele_depth + Ref_allele_depth (MesKit), or one of tumor_f, VAF, TumorVAF_WU",
            file=path, where=table.header_line, field="t_alt_count",
            hint="lesiontrack needs alt counts and depth, or an allele fraction, per row",
        )
    if alt_col is not None and ref_col is None and depth_col is None and fraction_col is None:
        note(warnings, path,
              f"{alt_col} but no depth, reference count or fraction column: VAF unknown")
    alt, depth, vaf, fraction = read_numbers(
        table, alt_col=alt_col, ref_col=ref_col, depth_col=depth_col, fraction_col=fraction_col,
        warnings=warnings,
    )
    reference = table.text(table.column("Reference_Allele"))
    alt_allele = table.text(table.column("Tumor_Seq_Allele2"))
    allele_columns = "Reference_Allele/Tumor_Seq_Allele2"
    allele1_col = table.column("Tumor_Seq_Allele1")
    if allele1_col is not None:  # Allele2 equal to the reference: the variant is in Allele1
        allele1 = table.text(allele1_col)
        alt_allele = objects([
            a1 if a2.upper() == r.upper() else a2
            for r, a1, a2 in zip(reference, allele1, alt_allele, strict=True)
        ])
        allele_columns += "/Tumor_Seq_Allele1"
    barcodes = objects([v.strip() for v in table.cells(table.column("Tumor_Sample_Barcode"))])
    filter_col = table.column("FILTER")
    gene = table.text(table.column("Hugo_Symbol"))
    rows = Rows(
        sample=barcodes,
        chrom=chromosomes(table, table.column("Chromosome")),
        pos=positions(table, table.column("Start_Position")),
        ref=reference,
        alt=alt_allele,
        alt_count=alt,
        depth=depth,
        vaf=vaf,
        caller_vaf=fraction,
        filter=table.text(filter_col) if filter_col else np.full(table.n_rows, ".", dtype=object),
        gene=objects(["" if g.lower() == "unknown" else g for g in gene]),
        hgvsc=pick_hgvsc(table, _MAF_HGVSC_COLUMNS),
        hgvsp=pick_hgvsp(table, _MAF_HGVSP_COLUMNS),
        consequence=table.text(table.column("Variant_Classification")),
    )
    assembly, evidence = assembly_hint(table, table.column("NCBI_Build"), warnings)
    caller = _maf_caller(table)
    calls = build_calls(
        table, rows, allele_columns=allele_columns, regions=regions,
        include_filtered=include_filtered, caller=caller, warnings=warnings,
    )
    samples = unique(barcodes)
    normal_col = table.column("Matched_Norm_Sample_Barcode")
    normals = [s for s in unique(table.text(normal_col)) if s] if normal_col else []
    return ReadResult(
        calls=calls,
        samples=samples,
        tumor_sample=samples[0] if len(samples) == 1 else None,
        normal_sample=normals[0] if len(normals) == 1 else None,
        assembly_hint=assembly,
        assembly_evidence=f"MAF column {evidence}" if evidence else "",
        caller=caller,
        warnings=warnings,
    )

