"""Gene windows of a VCF read: (chrom, start, end), 1-based inclusive, by normalised contig."""

from __future__ import annotations

import functools

from ..genome import normalize_chrom as _normalize_chrom

#: Contig names repeat from file to file: remember their normalised form.
normalize_chrom = functools.lru_cache(maxsize=1 << 16)(_normalize_chrom)
Region = tuple[str, int, int]


def merge_windows(regions: list[Region]) -> dict[str, list[tuple[int, int]]]:
    """Windows by normalised contig, sorted and with overlapping/adjacent ones merged."""
    by_chrom: dict[str, list[tuple[int, int]]] = {}
    for chrom, start, end in regions:
        by_chrom.setdefault(normalize_chrom(chrom), []).append((int(start), int(end)))
    merged: dict[str, list[tuple[int, int]]] = {}
    for chrom, windows in by_chrom.items():
        out: list[tuple[int, int]] = []
        for start, end in sorted(windows):
            if out and start <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[chrom] = out
    return merged
