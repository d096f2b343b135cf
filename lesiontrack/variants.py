"""Allele normalisation shared by every reader: minimal alleles and the variant key.

A variant is written in its *minimal* form: common leading and trailing bases are trimmed
(trailing first, so a left-aligned VCF record stays left-aligned), an empty allele is written
``-`` as in MAF, and the position follows the MAF convention:

- substitution / MNV / complex: the first changed base;
- deletion (``ref=AGT, alt=-``): the first deleted base;
- insertion (``ref=-, alt=TG``): the base *before* the insertion.

With these rules a VCF record ``4:55593600 CAGTGGA>C`` and the MAF row ``Start=55593601
Ref=AGTGGA Alt=-`` share the key ``4:55593601:AGTGGA>-``.
"""

from __future__ import annotations

import re

from .genome import normalize_chrom

_BASES = re.compile(r"[ACGTN]+")


def is_simple_allele(allele: str) -> bool:
    """True for a plain base string (no symbolic ``<DEL>``, ``*``, ``.``, breakend)."""
    return bool(_BASES.fullmatch(allele.upper()))


def minimal(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Trim ``ref``/``alt`` to their minimal form; see the module docstring for the position.

    Input is VCF-style (both alleles start at ``pos``) or MAF-style with ``-`` for an empty
    allele (a MAF insertion's ``pos`` is already the base before the inserted bases).
    """
    if ref in ("-", "") and alt not in ("-", ""):
        return pos, "-", alt.upper()
    ref, alt = ref.upper().replace("-", ""), alt.upper().replace("-", "")
    while len(ref) > 0 and len(alt) > 0 and ref[-1] == alt[-1] and (len(ref) > 1 or len(alt) > 1):
        ref, alt = ref[:-1], alt[:-1]
    prefix = 0
    while prefix < len(ref) and prefix < len(alt) and ref[prefix] == alt[prefix]:
        prefix += 1
    ref, alt = ref[prefix:], alt[prefix:]
    if not ref:  # insertion: position of the base before the inserted bases
        return pos + prefix - 1, "-", alt
    return pos + prefix, ref, alt or "-"


def variant_key(chrom: str, pos: int, ref: str, alt: str) -> str:
    """``chrom:pos:ref>alt`` with a normalised contig name (``chr4`` -> ``4``)."""
    return f"{normalize_chrom(chrom)}:{int(pos)}:{ref}>{alt}"


def variant_type(ref: str, alt: str) -> str:
    """``SNV``, ``MNV``, ``DEL``, ``INS`` or ``DELINS`` of minimal alleles."""
    if ref == "-":
        return "INS"
    if alt == "-":
        return "DEL"
    if len(ref) == len(alt):
        return "SNV" if len(ref) == 1 else "MNV"
    return "DELINS"


def span(pos: int, ref: str) -> tuple[int, int]:
    """Genomic bases (start, end) a minimal variant touches; an insertion touches its two flanks."""
    if ref == "-":
        return pos, pos + 1
    return pos, pos + len(ref) - 1
