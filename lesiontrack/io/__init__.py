"""Readers of variant calls: one module per input family, all returning the same columns.

Every reader returns a :class:`~lesiontrack.io.result.ReadResult` whose ``calls`` frame has
exactly :data:`~lesiontrack.io.result.RAW_COLUMNS`, one row per (sample in the file, record, ALT
allele), alleles already in their minimal form (:func:`lesiontrack.variants.minimal`). Joining
with the sample sheet, the assembly, annotation and the ``detected`` call happen later, in
:mod:`lesiontrack.calls`.

The modules: :mod:`.compression` (the one gzip/BGZF check), :mod:`.sniff` (the file's family),
:mod:`.vcf` (:mod:`.vcf_header`, :mod:`.vcf_counts`, and the engines :mod:`.vcf_pysam` and
:mod:`.vcf_text` with :mod:`.vcf_scan`, :mod:`.textmap`, :mod:`.bgzf`, :mod:`.vcfindex`),
:mod:`.maf` and :mod:`.tsv` (with :mod:`.tablecalls`), :mod:`.result` (what every reader
returns), :mod:`.xmlsafe`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from .result import RAW_COLUMNS, ReadResult, clean_result

__all__ = ["RAW_COLUMNS", "ReadResult", "read_calls_file", "read_maf", "read_tsv", "read_vcf",
           "sniff_format"]

# The readers load on first use (PEP 562): importing a light module of this package
# (lesiontrack.output) must not import pysam and every reader.
_LAZY = {"read_vcf": "vcf", "read_maf": "maf", "read_tsv": "tsv", "sniff_format": "sniff"}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .maf import read_maf
    from .sniff import sniff_format
    from .tsv import read_tsv
    from .vcf import read_vcf


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lesiontrack.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def read_calls_file(
    path: Path,
    *,
    regions: list[tuple[str, int, int]] | None,
    include_filtered: bool = False,
    assume_sorted: bool = False,
) -> ReadResult:
    """Read one calls file of any supported family.

    ``regions`` are (normalised chrom, start, end) windows to read, or None for every record.
    Records outside the windows are not returned; FILTER values other than PASS/``.`` are dropped
    unless ``include_filtered``. ``assume_sorted``: an unindexed VCF may be read only up to the
    end of the windows' contig (a disorder seen in the part read falls back to a full scan).
    """
    # here, not at the top: pysam and the readers load when a file is read (see _LAZY)
    from . import maf, tsv, vcf
    from .sniff import sniff
    from .vcf_header import check_vcf_header

    kind, head = sniff(path)
    if kind == "vcf":
        check_vcf_header(path, head)
    if kind in ("vcf", "bcf"):
        return clean_result(path, vcf.read_vcf(path, regions=regions,
                                               include_filtered=include_filtered,
                                               stop_early=assume_sorted, head=head))
    if kind == "maf":
        return clean_result(path, maf.read_maf(path, regions=regions,
                                                   include_filtered=include_filtered))
    return clean_result(path, tsv.read_tsv(path, regions=regions,
                                               include_filtered=include_filtered))
