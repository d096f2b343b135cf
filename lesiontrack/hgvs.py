"""HGVS names of a variant in a bundled transcript: the c. name (from the transcript model; an
indel also needs the reference) and the one-letter protein change (``p.D816V``), computed from a
reference FASTA or the bundled hotspot-exon sequences by translating the coding sequence before
and after the change. :mod:`lesiontrack.annotate` decides which source names a call.
"""

from __future__ import annotations

import functools
import logging

from . import genome
from .reference import SequenceSource
from .variants import variant_type

log = logging.getLogger("lesiontrack")


def _c_range(transcript: genome.Transcript, first: int, last: int) -> str:
    a = transcript.locate(first)
    b = transcript.locate(last)
    if a is None or b is None:
        return ""
    return a.c if first == last else f"{a.c}_{b.c}"


def hgvsc_name(
    transcript: genome.Transcript, pos: int, ref: str, alt: str,
    reference: SequenceSource | None,
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
def _coding_sequence(reference: SequenceSource, assembly: str, gene: str) -> str | None:
    """The gene's coding sequence; from a partial sequence (the bundled windows) the exons it
    does not hold are ``N`` (they translate to ``X``)."""
    transcript = genome.transcripts(assembly)[gene]
    parts = []
    for start, end in transcript.cds_intervals():
        seq = reference.fetch(transcript.chrom, start, end)
        if seq is None:
            if not reference.partial:
                return None
            seq = "N" * (end - start + 1)
        parts.append(seq)
    cds = "".join(parts)
    if reference.partial:
        return cds if cds.strip("N") else None
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


@functools.cache
def _codon_table() -> dict[str, str]:
    """Codon -> one-letter amino acid (``*`` for a stop): Biopython's standard table, imported
    only when a protein is translated."""
    from Bio.Data import CodonTable

    table = CodonTable.unambiguous_dna_by_id[1]
    return {**table.forward_table, **dict.fromkeys(table.stop_codons, "*")}


@functools.lru_cache(maxsize=64)
def _translate(seq: str) -> str:
    """Protein of a coding sequence (standard code); a codon with another base than A, C, G, T
    (the ``N`` of the parts a partial sequence does not hold) is ``X``; a last partial codon is
    dropped."""
    table = _codon_table()
    return "".join(table.get(seq[i:i + 3], "X") for i in range(0, len(seq) - 2, 3))


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
        unread = alt_full.find("X", prefix)  # bases not known: the new stop cannot be counted
        if unread >= 0 and (stop < 0 or unread < stop):
            stop = -1
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


@functools.lru_cache(maxsize=4096)
def hgvsp_from_reference(
    reference: SequenceSource, assembly: str, gene: str, pos: int, ref: str, alt: str
) -> str:
    """One-letter p. name computed from the reference (or the bundled windows), or "" when it
    cannot be computed. A synonymous substitution is named by its codon (``p.D816=``)."""
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
    name = protein_change(cds, mutated)
    if "X" in name:  # touches a codon the partial sequence does not hold
        return ""
    if name == "p.(=)" and len(ref) == len(alt) == 1 and ref != "-":
        first = transcript.cds_index(pos)
        if first is not None:
            codon = first // 3
            return f"p.{_translate(cds[codon * 3:codon * 3 + 3])}{codon + 1}="
    return name


__all__ = ["hgvsc_name", "hgvsp_from_reference", "protein_change"]
