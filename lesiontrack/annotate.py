"""Annotation of calls: gene, exon, codon, c. and p. names, and the knowledge-table hint.

Names come from the bundled KIT/PDGFRA transcript models. The protein change (``hgvsp``, one-letter
short form such as ``p.D816V``) comes from the input's own annotation when it has one (VEP CSQ,
SnpEff ANN, MAF HGVSp_Short), else is computed from a reference FASTA. Without either it is left
empty: a protein change is never guessed.
"""

from __future__ import annotations

import functools
import logging

from . import genome
from .reference import Reference
from .variants import variant_type

log = logging.getLogger("lesiontrack")

#: Columns added by :func:`annotate_variant`.
ANNOTATION_COLUMNS = ("gene", "exon", "codon", "hgvsc", "hgvsp", "hgvsp_source", "role_hint")


def _c_range(transcript: genome.Transcript, first: int, last: int) -> str:
    a = transcript.locate(first)
    b = transcript.locate(last)
    if a is None or b is None:
        return ""
    return a.c if first == last else f"{a.c}_{b.c}"


def hgvsc_name(
    transcript: genome.Transcript, pos: int, ref: str, alt: str, reference: Reference | None
) -> str:
    """c. name of a minimal variant (no transcript prefix); indels need the reference."""
    kind = variant_type(ref, alt)
    if kind == "SNV":
        loc = transcript.locate(pos)
        return f"c.{loc.c}{ref}>{alt}" if loc else ""
    if reference is None:
        return ""
    chrom = transcript.chrom
    if kind in ("MNV", "DELINS"):
        name = _c_range(transcript, pos, pos + len(ref) - 1)
        return f"c.{name}delins{alt}" if name else ""
    pos, ref, alt = reference.right_align(chrom, pos, ref, alt)
    if kind == "DEL":
        name = _c_range(transcript, pos, pos + len(ref) - 1)
        return f"c.{name}del" if name else ""
    # insertion after `pos`: a duplication when the inserted bases repeat the preceding ones
    size = len(alt)
    before = reference.fetch(chrom, pos - size + 1, pos)
    if before == alt:
        name = _c_range(transcript, pos - size + 1, pos)
        return f"c.{name}dup" if name else ""
    name = _c_range(transcript, pos, pos + 1)
    return f"c.{name}ins{alt}" if name else ""


@functools.lru_cache(maxsize=16)
def _coding_sequence(reference: Reference, assembly: str, gene: str) -> str | None:
    transcript = genome.transcripts(assembly)[gene]
    parts = []
    for start, end in transcript.cds_intervals():
        seq = reference.fetch(transcript.chrom, start, end)
        if seq is None:
            return None
        parts.append(seq)
    cds = "".join(parts)
    protein = _translate(cds)
    if "N" in cds or not protein.startswith("M") or protein.find("*") != len(protein) - 1:
        log.warning(
            "%s: the %s coding sequence of %s does not translate to one open reading frame; "
            "protein changes are not computed from it (is it the %s build?)",
            reference.path, gene, assembly, assembly,
        )
        return None
    return cds


def _mutate_cds(
    transcript: genome.Transcript, cds: str, pos: int, ref: str, alt: str
) -> str | None:
    """The coding sequence with the variant applied, or None if it leaves the CDS."""
    if ref == "-":
        i, j = transcript.cds_index(pos), transcript.cds_index(pos + 1)
        if i is None or j != i + 1:
            return None
        return cds[: i + 1] + alt + cds[i + 1 :]
    i, j = transcript.cds_index(pos), transcript.cds_index(pos + len(ref) - 1)
    if i is None or j != i + len(ref) - 1 or cds[i : j + 1] != ref:
        return None
    return cds[:i] + ("" if alt == "-" else alt) + cds[j + 1 :]


def _translate(seq: str) -> str:
    """Protein of a coding sequence (Biopython, imported only when a reference is used)."""
    from Bio.Seq import Seq

    return str(Seq(seq).translate())


def _aa_range(protein: str, first: int, last: int) -> str:
    """``W557`` or ``W557_K558`` for 0-based residue indexes first..last."""
    if first == last:
        return f"{protein[first]}{first + 1}"
    return f"{protein[first]}{first + 1}_{protein[last]}{last + 1}"


def protein_change(ref_cds: str, alt_cds: str) -> str:
    """One-letter HGVS protein change between two coding sequences (3' rule applied)."""
    ref_p = _translate(ref_cds)
    ref_p = ref_p[: ref_p.index("*") + 1] if "*" in ref_p else ref_p
    alt_full = _translate(alt_cds[: len(alt_cds) // 3 * 3])
    alt_p = alt_full[: alt_full.index("*") + 1] if "*" in alt_full else alt_full
    prefix = 0
    while prefix < min(len(ref_p), len(alt_p)) and ref_p[prefix] == alt_p[prefix]:
        prefix += 1
    if ref_p == alt_p:
        return "p.(=)"
    if prefix == 0:
        return "p.M1?"
    if (len(alt_cds) - len(ref_cds)) % 3:
        if prefix < len(alt_p) and alt_p[prefix] == "*":
            return f"p.{ref_p[prefix]}{prefix + 1}*"
        aa = alt_p[prefix] if prefix < len(alt_p) else ""
        stop = alt_full.find("*", prefix)
        tail = f"fs*{stop - prefix + 1}" if stop >= 0 else "fs"
        return f"p.{ref_p[prefix]}{prefix + 1}{aa}{tail}"
    # in frame: compare whole translations so a new stop reads as a change, not a deletion
    alt_p = alt_full
    suffix = 0
    while (
        suffix < min(len(ref_p), len(alt_p)) - prefix
        and ref_p[len(ref_p) - 1 - suffix] == alt_p[len(alt_p) - 1 - suffix]
    ):
        suffix += 1
    deleted = ref_p[prefix : len(ref_p) - suffix]
    inserted = alt_p[prefix : len(alt_p) - suffix]
    if deleted.endswith("*") or prefix >= len(ref_p):
        return f"p.*{len(ref_p)}{inserted[:1] or '?'}ext*?"
    if inserted.startswith("*"):
        return f"p.{ref_p[prefix]}{prefix + 1}*"
    first, last = prefix, prefix + len(deleted) - 1
    if len(deleted) == 1 and len(inserted) == 1:
        return f"p.{deleted}{prefix + 1}{inserted}"
    if deleted and not inserted:
        return f"p.{_aa_range(ref_p, first, last)}del"
    if inserted and not deleted:
        size = len(inserted)
        if prefix >= size and ref_p[prefix - size : prefix] == inserted:
            return f"p.{_aa_range(ref_p, prefix - size, prefix - 1)}dup"
        return f"p.{_aa_range(ref_p, prefix - 1, prefix)}ins{inserted}"
    return f"p.{_aa_range(ref_p, first, last)}delins{inserted}"


def hgvsp_from_reference(
    reference: Reference, assembly: str, gene: str, pos: int, ref: str, alt: str
) -> str:
    """One-letter p. name computed from the reference, or "" when it cannot be computed."""
    transcript = genome.transcripts(assembly).get(gene)
    if transcript is None:
        return ""
    cds = _coding_sequence(reference, assembly, gene)
    if cds is None:
        return ""
    if ref != "-" and alt != "-":  # substitutions are not shifted
        mutated = _mutate_cds(transcript, cds, pos, ref, alt)
    else:
        pos3, ref3, alt3 = reference.right_align(transcript.chrom, pos, ref, alt)
        mutated = _mutate_cds(transcript, cds, pos3, ref3, alt3)
        if mutated is None:
            mutated = _mutate_cds(transcript, cds, pos, ref, alt)
    if mutated is None:
        return ""
    return protein_change(cds, mutated)


def annotate_variant(
    assembly: str,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    *,
    ann_gene: str = "",
    ann_hgvsc: str = "",
    ann_hgvsp: str = "",
    reference: Reference | None = None,
) -> dict[str, object]:
    """Annotation of one minimal variant: :data:`ANNOTATION_COLUMNS` as a dict."""
    location = genome.locate(assembly, chrom, pos)
    if location is None and ref not in ("-",):  # a deletion starting just before an exon
        location = genome.locate(assembly, chrom, pos + max(len(ref), 1) - 1)
    gene = location.gene if location else (ann_gene or "")
    out: dict[str, object] = {
        "gene": gene, "exon": "", "codon": None, "hgvsc": ann_hgvsc or "",
        "hgvsp": ann_hgvsp or "", "hgvsp_source": "annotation" if ann_hgvsp else "",
        "role_hint": "",
    }
    if location is None:
        return out
    transcript = genome.transcripts(assembly)[location.gene]
    out["exon"] = str(location.exon) if location.exon is not None else ""
    codon = location.codon
    if codon is None and ref != "-":  # first coding base of a multi-base variant
        for offset in range(1, len(ref)):
            inner = transcript.locate(pos + offset)
            if inner and inner.codon:
                codon = inner.codon
                break
    out["codon"] = codon
    computed = hgvsc_name(transcript, pos, ref, alt, reference)
    if computed:
        out["hgvsc"] = computed
    if not out["hgvsp"] and reference is not None:
        name = hgvsp_from_reference(reference, assembly, location.gene, pos, ref, alt)
        if name:
            out["hgvsp"], out["hgvsp_source"] = name, "reference"
    knowledge = genome.knowledge_for(location.gene, codon)
    if knowledge is not None:
        out["role_hint"] = "known_primary_region" if knowledge.role == "primary" else (
            "known_resistance_site"
        )
    return out
