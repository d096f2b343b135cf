"""Plain TSV/CSV calls files read into raw calls (columns by name, common aliases accepted).

The number rules (``alt_count``, ``depth``, ``vaf``, ``caller_vaf``) are those of
:mod:`lesiontrack.io.tablecalls`.
"""

from __future__ import annotations

import re
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
    objects,
    pick_hgvsc,
    pick_hgvsp,
    positions,
    read_numbers,
    unique,
)

__all__ = ["read_tsv", "tsv_header_like"]

#: Plain TSV columns and their accepted aliases (matched case-insensitively), first match wins.
_TSV_ALIASES: dict[str, tuple[str, ...]] = {
    "chrom": ("chrom", "#chrom", "chromosome", "chr", "contig"),
    "pos": ("pos", "position", "start", "start_position"),
    "ref": ("ref", "reference", "ref_allele", "reference_allele"),
    "alt": ("alt", "alternate", "alt_allele", "alternate_allele", "alternative"),
    "alt_count": ("alt_count", "ad", "alt_depth", "alt_reads", "t_alt_count"),
    "ref_count": ("ref_count", "ref_depth", "ref_reads", "rd", "t_ref_count"),
    "depth": ("depth", "dp", "total_depth", "read_depth", "t_depth"),
    "vaf": ("vaf", "af", "allele_fraction", "tumor_f"),
    "sample": ("sample", "sample_id", "sample_name", "tumor_sample_barcode"),
    "filter": ("filter",),
    "gene": ("gene", "gene_symbol", "symbol", "hugo_symbol"),
    "hgvsp": ("hgvsp", "hgvsp_short", "protein_change"),
    "hgvsc": ("hgvsc", "cdna_change"),
    "consequence": ("consequence", "variant_classification"),
    "assembly": ("assembly", "ncbi_build", "build"),
}
_TSV_REQUIRED = ("chrom", "pos", "ref", "alt")


def tsv_header_like(line: str) -> bool:
    """Whether ``line`` reads as the header of a TSV/CSV calls file (a chrom and a pos column)."""
    fields = {f.strip().strip('"').lower() for f in re.split(r"[\t,;]", line)}
    return bool(fields & set(_TSV_ALIASES["chrom"])) and bool(fields & set(_TSV_ALIASES["pos"]))


def read_tsv(
    path: str | Path,
    *,
    regions: Regions,
    include_filtered: bool = False,
) -> ReadResult:
    """Read a plain TSV/CSV of calls into raw calls.

    Columns (case-insensitive, common aliases accepted): ``chrom, pos, ref, alt`` and
    ``alt_count`` with ``depth`` (or ``ref_count``), or ``vaf`` (fraction or percent); optional
    ``sample`` (else every row belongs to the sample ``""``, "the file's only sample"),
    ``filter``, ``gene``, ``hgvsp``, ``hgvsc``, ``assembly``. The delimiter (tab, comma,
    semicolon) is sniffed from the header; CRLF and CR-only line endings and ``#`` comment lines
    are accepted; a ``#chrom...`` comment line directly above the data is taken as the header.
    Alleles may be VCF-style (``CAGTGGA>C``) or MAF-style (``AGTGGA>-``).
    """
    path = Path(path)
    table = load_table(path, kind="TSV", header_in_comment=tsv_header_like,
                       into=CallsTable)
    warnings: list[str] = []
    columns = {key: table.first_column(names) for key, names in _TSV_ALIASES.items()}
    missing = [key for key in _TSV_REQUIRED if columns[key] is None]
    if missing:
        raise CallsFileError(
            f"missing required TSV column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint="a TSV needs chrom, pos, ref, alt and alt_count + depth or vaf "
                 f"(found: {', '.join(table.names)})",
        )
    has_counts = columns["alt_count"] is not None and (
        columns["depth"] is not None or columns["ref_count"] is not None
    )
    if not has_counts and columns["vaf"] is None:
        absent = [k for k in ("alt_count", "depth", "vaf") if columns[k] is None]
        raise CallsFileError(
            f"no read counts and no allele fraction: missing column(s) {', '.join(absent)}",
            file=path, where=table.header_line, field=absent[0],
            hint="give alt_count and depth (or ref_count), or vaf",
        )
    alt, depth, vaf, fraction = read_numbers(
        table, alt_col=columns["alt_count"], ref_col=columns["ref_count"],
        depth_col=columns["depth"], fraction_col=columns["vaf"], warnings=warnings,
    )
    if columns["sample"] is not None:
        samples_col = objects([v.strip() for v in table.cells(columns["sample"])])
    else:
        samples_col = np.full(table.n_rows, "", dtype=object)
    rows = Rows(
        sample=samples_col,
        chrom=chromosomes(table, columns["chrom"]),
        pos=positions(table, columns["pos"]),
        ref=table.text(columns["ref"]),
        alt=table.text(columns["alt"]),
        alt_count=alt,
        depth=depth,
        vaf=vaf,
        caller_vaf=fraction,
        filter=table.text(columns["filter"]) if columns["filter"] else np.full(
            table.n_rows, ".", dtype=object),
        gene=table.text(columns["gene"]),
        hgvsc=pick_hgvsc(table, [columns["hgvsc"]]),
        hgvsp=pick_hgvsp(table, [(columns["hgvsp"], False)]),
        consequence=table.text(columns["consequence"]),
    )
    assembly, evidence = assembly_hint(table, columns["assembly"], warnings)
    calls = build_calls(
        table, rows, allele_columns=f"{columns['ref']}/{columns['alt']}", regions=regions, include_filtered=include_filtered, caller="tsv", warnings=warnings,
    )
    samples = unique(samples_col) if columns["sample"] is not None else [""]
    return ReadResult(
        calls=calls,
        samples=samples,
        tumor_sample=None,
        assembly_hint=assembly,
        assembly_evidence=f"TSV column {evidence}" if evidence else "",
        caller="tsv",
        warnings=warnings,
    )

