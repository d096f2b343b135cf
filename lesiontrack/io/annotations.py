"""Functional annotation carried inside a VCF: Ensembl VEP ``INFO/CSQ`` and SnpEff ``INFO/ANN``.

For every ALT allele of a record one annotation entry is chosen:

1. the entries that belong to the allele: VEP's ``ALLELE_NUM`` when present, else the entry's
   ``Allele`` equal to the ALT as written, to VEP's trimmed ALT (``C`` for ``A>AC``, ``-`` for a
   deletion) or to the minimal ALT; a bi-allelic record takes every entry;
2. among them the canonical KIT (ENST00000288135 / NM_000222) or PDGFRA (ENST00000257290 /
   NM_006206) transcript, else VEP ``CANONICAL=YES`` or ``MANE_SELECT``, else the first entry.

Names are returned without the transcript prefix (``c.2447A>T``) and the protein change in the
one-letter short form (``p.D816V``), see :func:`short_hgvsp`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..variants import is_simple_allele, minimal

#: Canonical transcripts of the genes lesiontrack follows (version-less identifiers).
CANONICAL_TRANSCRIPTS: dict[str, str] = {
    "ENST00000288135": "KIT",
    "NM_000222": "KIT",
    "ENST00000257290": "PDGFRA",
    "NM_006206": "PDGFRA",
}

#: SnpEff ``ANN`` sub-fields, in the order the ANN specification fixes.
SNPEFF_FIELDS: tuple[str, ...] = (
    "Allele", "Annotation", "Annotation_Impact", "Gene_Name", "Gene_ID", "Feature_Type",
    "Feature_ID", "Transcript_BioType", "Rank", "HGVS.c", "HGVS.p", "cDNA.pos / cDNA.length",
    "CDS.pos / CDS.length", "AA.pos / AA.length", "Distance", "ERRORS / WARNINGS / INFO",
)

_THREE_LETTER = re.compile(
    "Ala|Arg|Asn|Asp|Asx|Cys|Gln|Glu|Glx|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Pyl|Sec|Ser|Thr|Trp"
    "|Tyr|Val|Xaa|Xle|Ter"
)
_SNPEFF_CANCER_ALLELE = re.compile(r"^[A-Z]+-[A-Z]+$")  # SnpEff -cancer "ALT-REF" comparisons


def strip_transcript(hgvs: str) -> str:
    """``ENST00000288135.6:c.2447A>T`` -> ``c.2447A>T``; VEP's ``%3D`` becomes ``=``."""
    if not isinstance(hgvs, str):
        return ""
    text = hgvs.strip().replace("%3D", "=").replace("%3d", "=")
    return text.rsplit(":", 1)[1] if ":" in text else text


def short_hgvsp(text: str) -> str:
    """A protein change in the one-letter short form.

    ``p.Asp816Val`` -> ``p.D816V``, ``ENSP..:p.(Asp816Val)`` -> ``p.D816V``, ``p.Pro5%3D`` ->
    ``p.P5=``, ``p.Lys558AsnfsTer5`` -> ``p.K558Nfs*5``, ``p.Trp557_Lys558del`` ->
    ``p.W557_K558del``. An empty or missing value gives ``""``; a value already in the short
    form is returned unchanged.
    """
    text = strip_transcript(text)
    if not text or text in (".", "-"):
        return ""
    if not text.startswith("p."):
        return text
    body = text[2:]
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    from Bio.SeqUtils import seq1  # here: Biopython's codon tables cost ~60 ms to import

    return "p." + _THREE_LETTER.sub(lambda match: seq1(match.group(0)), body)


@dataclass(frozen=True)
class Annotation:
    """The annotation chosen for one ALT allele."""

    gene: str = ""
    hgvsc: str = ""
    hgvsp: str = ""
    feature: str = ""
    consequence: str = ""  # VEP Consequence / SnpEff Annotation, as written


EMPTY = Annotation()


@dataclass(frozen=True)
class AnnotationFormat:
    """Where the useful sub-fields sit in one INFO annotation tag (``CSQ`` or ``ANN``)."""

    tag: str
    allele: int
    gene: int | None
    hgvsc: int | None
    hgvsp: int | None
    feature: int | None
    canonical: int | None = None  # VEP CANONICAL (YES)
    mane: int | None = None  # VEP MANE_SELECT / MANE
    allele_num: int | None = None  # VEP ALLELE_NUM (1-based ALT index)
    consequence: int | None = None  # VEP Consequence / SnpEff Annotation

    @classmethod
    def from_fields(cls, tag: str, fields: Sequence[str]) -> AnnotationFormat | None:
        """Build from the sub-field names; ``None`` without an ``Allele`` field."""
        index = {name.strip(): i for i, name in enumerate(fields)}

        def first(*names: str) -> int | None:
            for name in names:
                if name in index:
                    return index[name]
            return None

        allele = first("Allele")
        if allele is None:
            return None
        return cls(
            tag=tag,
            allele=allele,
            gene=first("SYMBOL", "Gene_Name", "Hugo_Symbol"),
            hgvsc=first("HGVSc", "HGVS.c"),
            hgvsp=first("HGVSp", "HGVS.p"),
            feature=first("Feature", "Feature_ID"),
            canonical=first("CANONICAL"),
            mane=first("MANE_SELECT", "MANE"),
            allele_num=first("ALLELE_NUM"),
            consequence=first("Consequence", "Annotation"),
        )


def vep_fields(description: str) -> list[str] | None:
    """Sub-field names from a VEP CSQ header description (``... Format: Allele|Consequence|...``)."""
    if "Format:" not in description:
        return None
    text = description.split("Format:", 1)[1].strip().strip("'\"").strip()
    fields = [f.strip() for f in text.split("|")]
    return fields if "Allele" in fields else None


def snpeff_fields(description: str) -> list[str]:
    """Sub-field names from a SnpEff ANN description, else the standard ANN order."""
    match = re.search(r"'([^']*\|[^']*)'", description or "")
    if match:
        fields = [f.strip() for f in match.group(1).split("|")]
        if fields and fields[0] == "Allele":
            return fields
    return list(SNPEFF_FIELDS)


def formats_from_header(info_descriptions: dict[str, str]) -> list[AnnotationFormat]:
    """The annotation tags a VCF header declares (CSQ first, then ANN), with their layout."""
    out = []
    if "CSQ" in info_descriptions:
        fields = vep_fields(info_descriptions["CSQ"] or "")
        spec = AnnotationFormat.from_fields("CSQ", fields) if fields else None
        if spec is not None:
            out.append(spec)
    if "ANN" in info_descriptions:
        spec = AnnotationFormat.from_fields("ANN", snpeff_fields(info_descriptions["ANN"]))
        if spec is not None:
            out.append(spec)
    return out


def _field(parts: list[str], index: int | None) -> str:
    if index is None or index >= len(parts):
        return ""
    return parts[index].strip()


def _rank(spec: AnnotationFormat, parts: list[str]) -> int:
    feature = _field(parts, spec.feature).split(".")[0]
    if feature in CANONICAL_TRANSCRIPTS:
        return 0
    if _field(parts, spec.canonical).upper() == "YES" or _field(parts, spec.mane):
        return 1
    return 2


def choose(
    spec: AnnotationFormat, entries: Sequence[str] | str, pos: int, ref: str, alts: Sequence[str]
) -> list[Annotation]:
    """One :class:`Annotation` per ALT of a record from its raw CSQ/ANN entries."""
    if isinstance(entries, str):
        entries = entries.split(",")
    n = len(alts)
    ref = ref.upper()
    upper = [a.upper() for a in alts]
    shared_first = all(a[:1] == ref[:1] for a in upper) and all(is_simple_allele(a) for a in upper)
    trimmed = [(a[1:] or "-") if shared_first else a for a in upper]
    minimal_alts = [
        minimal(pos, ref, a)[2] if is_simple_allele(a) and is_simple_allele(ref) else a
        for a in upper
    ]
    buckets: list[list[list[str]]] = [[] for _ in range(n)]
    for entry in entries:
        if not entry:
            continue
        parts = entry.split("|")
        allele = _field(parts, spec.allele).upper()
        if _SNPEFF_CANCER_ALLELE.match(allele):
            continue
        target = None
        number = _field(parts, spec.allele_num)
        if number.isdigit() and 1 <= int(number) <= n:
            target = int(number) - 1
        elif n == 1:
            target = 0
        else:
            for candidates in (upper, trimmed, minimal_alts):
                if candidates.count(allele) == 1:
                    target = candidates.index(allele)
                    break
        if target is not None:
            buckets[target].append(parts)
    out = []
    for bucket in buckets:
        if not bucket:
            out.append(EMPTY)
            continue
        best = min(bucket, key=lambda parts: _rank(spec, parts))  # first of the lowest rank
        out.append(
            Annotation(
                gene=_field(best, spec.gene),
                hgvsc=strip_transcript(_field(best, spec.hgvsc)),
                hgvsp=short_hgvsp(_field(best, spec.hgvsp)),
                feature=_field(best, spec.feature),
                consequence=_field(best, spec.consequence),
            )
        )
    return out


__all__ = [
    "CANONICAL_TRANSCRIPTS",
    "SNPEFF_FIELDS",
    "Annotation",
    "AnnotationFormat",
    "choose",
    "formats_from_header",
    "short_hgvsp",
    "snpeff_fields",
    "strip_transcript",
    "vep_fields",
]
