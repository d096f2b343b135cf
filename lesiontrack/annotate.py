"""Annotation of calls: gene, exon, codon, c. and p. names, consequence and the knowledge hint.

Names come from the bundled KIT/PDGFRA transcript models. The protein change (``hgvsp``, one-letter
short form such as ``p.D816V``) comes from the input's own annotation when it has one (VEP CSQ,
SnpEff ANN, MAF HGVSp_Short), else is computed from a reference FASTA, else from the bundled
hotspot-exon sequences (KIT exons 8, 9, 11, 13, 17, 18; PDGFRA 12, 14, 18) or an exact match in
the bundled hotspot allele table (the names themselves are computed in :mod:`lesiontrack.hgvs`).
Without any of them it is left empty: a protein change is never guessed.

The ``consequence`` (one of :data:`lesiontrack.genome.CONSEQUENCES`) comes, in order, from the
input's annotation (VEP ``Consequence``, SnpEff ``Annotation``, MAF ``Variant_Classification``,
else the shape of its p. name), the reference FASTA, the bundled sequences and hotspot table, and
last the transcript model alone (intronic, UTR, splice sites, indel frame); ``unknown`` otherwise.
``consequence_source`` says which: ``annotation``, ``reference``, ``bundled``, ``model`` or ``""``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from typing import TYPE_CHECKING

from . import genome
from .hgvs import hgvsc_name, hgvsp_from_reference
from .reference import Excerpts, Reference, SequenceSource
from .variants import minimal, span, variant_type

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("lesiontrack")

#: Columns added by :func:`annotate_variant`.
ANNOTATION_COLUMNS = ("gene", "exon", "codon", "hgvsc", "hgvsp", "hgvsp_source", "consequence",
                      "consequence_source", "role_hint")


# --- consequence ------------------------------------------------------------------------------

#: Sequence Ontology terms (Ensembl VEP ``Consequence``, SnpEff ``Annotation``) -> consequence.
#: Terms not listed (``coding_sequence_variant``, ``upstream_gene_variant``...) say nothing here.
SO_TERMS: dict[str, str] = {
    "splice_acceptor_variant": "splice_acceptor",
    "splice_donor_variant": "splice_donor",
    "stop_gained": "nonsense",
    "frameshift_variant": "frameshift",
    "stop_lost": "stop_lost",
    "start_lost": "start_lost",
    "inframe_insertion": "inframe_insertion",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "inframe_deletion": "inframe_deletion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "protein_altering_variant": "delins",
    "missense_variant": "missense",
    "splice_region_variant": "splice_region",
    "splice_donor_5th_base_variant": "splice_region",
    "splice_donor_region_variant": "splice_region",
    "splice_polypyrimidine_tract_variant": "splice_region",
    "synonymous_variant": "synonymous",
    "stop_retained_variant": "synonymous",
    "start_retained_variant": "synonymous",
    "5_prime_UTR_variant": "UTR",
    "3_prime_UTR_variant": "UTR",
    "5_prime_UTR_premature_start_codon_gain_variant": "UTR",
    "intron_variant": "intronic",
}

#: MAF ``Variant_Classification`` -> consequence. ``Splice_Site`` is donor or acceptor by
#: position (the transcript model); classes not listed (flanks, IGR, RNA) say nothing here.
MAF_CLASSES: dict[str, str] = {
    "Missense_Mutation": "missense",
    "Nonsense_Mutation": "nonsense",
    "Frame_Shift_Del": "frameshift",
    "Frame_Shift_Ins": "frameshift",
    "In_Frame_Del": "inframe_deletion",
    "In_Frame_Ins": "inframe_insertion",
    "Splice_Region": "splice_region",
    "Silent": "synonymous",
    "Intron": "intronic",
    "3'UTR": "UTR",
    "5'UTR": "UTR",
    "De_novo_Start_InFrame": "UTR",
    "De_novo_Start_OutOfFrame": "UTR",
    "Translation_Start_Site": "start_lost",
    "Nonstop_Mutation": "stop_lost",
}

_SEVERITY = {name: rank for rank, name in enumerate(genome.CONSEQUENCES)}
_SUBSTITUTION = re.compile(r"^p\.\(?[A-Z]\d+[A-Z]\)?$")


def consequence_from_terms(terms: str) -> str:
    """The most severe consequence named by an annotation's terms (VEP/SnpEff ``&``- or
    ``,``-separated Sequence Ontology terms, or a MAF ``Variant_Classification``), else ``""``.
    A MAF ``Splice_Site`` gives ``splice_site``, resolved by position in :func:`annotate_variant`."""
    if not isinstance(terms, str):
        return ""
    found = []
    for term in re.split(r"[&,]", terms):
        term = term.strip()
        if term == "Splice_Site":
            found.append("splice_site")
        elif term in MAF_CLASSES or term in SO_TERMS:
            found.append(MAF_CLASSES.get(term) or SO_TERMS[term])
    if not found:
        return ""
    return min(found, key=lambda c: _SEVERITY.get(c, -1))


def consequence_from_hgvsp(hgvsp: str, ref: str = "", alt: str = "") -> str:
    """The consequence a one-letter p. name implies (``p.D816V`` -> ``missense``), else ``""``.

    With the alleles, an indel whose length is not a multiple of 3 is a ``frameshift`` whatever
    the name says."""
    name = hgvsp.strip() if isinstance(hgvsp, str) else ""
    if not name.startswith("p."):
        return ""
    if ref and alt and variant_type(ref, alt) in ("DEL", "INS", "DELINS"):
        change = len(alt.strip("-")) - len(ref.strip("-"))
        if change % 3:
            return "frameshift"
    body = name[2:].strip("()")
    if body in ("=", "?", "0", ""):
        return "synonymous" if body == "=" else ""
    if body.endswith("="):
        return "synonymous"
    if re.match(r"M1(?!\d)", body):  # any change of the initiator methionine
        return "start_lost"
    if "ext" in body:
        return "stop_lost"
    if "fs" in body:
        return "frameshift"
    if "delins" in body:
        return "delins"
    if body.endswith("*") or body.endswith("Ter"):
        return "nonsense"
    if body.endswith("dup") or "ins" in body:
        return "inframe_insertion"
    if body.endswith("del"):
        return "inframe_deletion"
    if _SUBSTITUTION.match(name):
        return "missense"
    return ""


def _splice_sites(transcript: genome.Transcript) -> tuple[dict[int, str], dict[int, int]]:
    """(canonical site base -> 'splice_acceptor'/'splice_donor', splice-region base -> 1) of a
    transcript: the +/-1-2 intronic bases; intronic +/-3-8 and the exonic 3 bases at each
    internal exon boundary."""
    return _splice_maps(transcript.gene, transcript.assembly)


@functools.cache
def _splice_maps(gene: str, assembly: str) -> tuple[dict[int, str], dict[int, int]]:
    transcript = genome.transcripts(assembly)[gene]
    sites: dict[int, str] = {}
    region: dict[int, int] = {}
    exons = transcript.exons
    for index, (_, start, end) in enumerate(exons):
        if index > 0:  # acceptor before the exon
            sites.update({start - 2: "splice_acceptor", start - 1: "splice_acceptor"})
            region.update({p: 1 for p in range(start - 8, start - 2)})
            region.update({p: 1 for p in range(start, min(start + 3, end + 1))})
        if index < len(exons) - 1:  # donor after the exon
            sites.update({end + 1: "splice_donor", end + 2: "splice_donor"})
            region.update({p: 1 for p in range(end + 3, end + 9)})
            region.update({p: 1 for p in range(max(end - 2, start), end + 1)})
    return sites, region


def _key_bases(transcript: genome.Transcript, first: int, last: int) -> list[int]:
    """Bases of ``first..last`` that tell every region it touches: all of a short span; of a
    long one its ends and the bases either side of each exon and coding boundary inside it."""
    if last - first < 64:
        return list(range(first, last + 1))
    points = {first, last}
    for _, start, end in transcript.exons:
        points |= {start - 1, start, end, end + 1}
    for start, end in transcript.cds_intervals():
        points |= {start - 1, start, end, end + 1}
    return sorted(p for p in points if first <= p <= last)


def consequence_from_position(
    transcript: genome.Transcript, pos: int, ref: str, alt: str,
    sequence: SequenceSource | None = None,
) -> str:
    """Consequence of a minimal variant in a transcript, ``""`` when it cannot be told.

    Splice sites, introns, UTRs and the frame of coding indels come from the transcript model;
    the amino-acid effect of a coding change needs ``sequence`` (a reference, or the bundled
    windows): without it a coding substitution is ``""``.
    """
    first, last = span(pos, ref)  # an insertion: its two flanking bases
    kind = variant_type(ref, alt)
    sites, region = _splice_sites(transcript)
    hit = [site for base, site in sites.items() if first <= base <= last]
    if kind == "INS":  # an insertion disrupts a site only between its two bases
        site = hit[0] if len(hit) == 2 and hit[0] == hit[1] else ""
    else:
        site = min(hit, key=_SEVERITY.__getitem__) if hit else ""
    if site:
        return site
    if kind == "INS":
        near_splice = first in region and last in region
    else:
        near_splice = any(first <= base <= last for base in region)
    locations = [transcript.locate(b) for b in _key_bases(transcript, first, last)]
    if any(loc is None for loc in locations):
        return ""
    coding = [loc.c_pos for loc in locations if loc.region == "cds"]
    if not coding:
        if near_splice:
            return "splice_region"
        regions = {loc.region for loc in locations}
        if regions <= {"utr5", "utr3"}:
            return "UTR"
        if regions == {"intron"}:
            return "intronic"
        return "UTR"  # UTR and intron without reaching a splice site
    stop_codon = transcript.cds_length - 2
    if (min(coding) <= 3) if kind != "INS" else (len(coding) == 2 and max(coding) <= 3):
        return "start_lost"
    name = ""
    if sequence is not None:
        name = hgvsp_from_reference(sequence, transcript.assembly, transcript.gene, pos, ref,
                                    alt)
    if name:
        found = consequence_from_hgvsp(name, ref, alt)
        if found == "synonymous" and near_splice:
            return "splice_region"
        if found:
            return found
    if max(coding) >= stop_codon and kind != "INS":
        return "" if kind in ("SNV", "MNV") else "stop_lost"
    if kind in ("DEL", "INS", "DELINS"):
        change = len(alt.strip("-")) - len(ref.strip("-"))
        if change % 3:
            return "frameshift"
        if kind == "DEL":
            return "inframe_deletion"
        return "inframe_insertion" if kind == "INS" else "delins"
    return ""


@functools.cache
def bundled_sequence(assembly: str) -> Excerpts:
    """The bundled hotspot-exon windows of one build, usable like a reference excerpt."""
    table = genome.exon_windows()
    table = table[table["assembly"] == assembly]
    return Excerpts(f"bundled {assembly} hotspot-exon sequences",
                    [(str(r.chrom), int(r.start), str(r.sequence))
                     for r in table.itertuples(index=False)])


@functools.cache
def _hotspot_index() -> dict[tuple[str, str, int, str, str], tuple[str, str]]:
    out = {}
    for r in genome.hotspot_table().itertuples(index=False):
        pos, ref, alt = minimal(int(r.pos), str(r.ref), str(r.alt))
        out[(str(r.assembly), genome.normalize_chrom(str(r.chrom)), pos, ref, alt)] = (
            str(r.gene), f"p.{r.protein_change}")
    return out


def hotspot_allele(assembly: str, chrom: str, pos: int, ref: str, alt: str
                   ) -> tuple[str, str] | None:
    """(gene, one-letter p. name) of a bundled hotspot allele (minimal alleles), else None."""
    return _hotspot_index().get((assembly, genome.normalize_chrom(chrom), pos, ref, alt))


def _covers(sequence: SequenceSource, chrom: str, pos: int, ref: str) -> bool:
    """True when the sequence holds the variant's bases and one base either side."""
    first, last = span(pos, ref)
    return sequence.fetch(chrom, first - 1, last + 1) is not None


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
    ann_consequence: str = "",
    reference: Reference | None = None,
) -> dict[str, object]:
    """Annotation of one minimal variant: :data:`ANNOTATION_COLUMNS` as a dict.

    ``ann_consequence``: the input's own consequence terms (VEP/SnpEff/MAF), if any.
    """
    location = genome.locate(assembly, chrom, pos)
    if location is None and ref not in ("-",):  # a deletion starting just before an exon
        location = genome.locate(assembly, chrom, pos + max(len(ref), 1) - 1)
    gene = location.gene if location else (ann_gene or "")
    consequence = consequence_from_terms(ann_consequence) or consequence_from_hgvsp(
        ann_hgvsp, ref, alt)
    out: dict[str, object] = {
        "gene": gene, "exon": "", "codon": None, "hgvsc": ann_hgvsc or "",
        "hgvsp": ann_hgvsp or "", "hgvsp_source": "annotation" if ann_hgvsp else "",
        "consequence": consequence, "consequence_source": "annotation" if consequence else "",
        "role_hint": "",
    }
    if location is None:
        if consequence == "splice_site":
            out["consequence"], out["consequence_source"] = "", ""
        out["consequence"] = out["consequence"] or "unknown"
        return out
    transcript = genome.transcripts(assembly)[location.gene]
    exon, codon = location.exon, location.codon
    if ref != "-":  # a deletion from an intron into an exon: its first exonic / coding base
        for base in _key_bases(transcript, pos + 1, pos + len(ref) - 1):
            if exon is not None and codon is not None:
                break
            inner = transcript.locate(base)
            if inner is not None:
                exon = inner.exon if exon is None else exon
                codon = inner.codon if codon is None else codon
    out["exon"] = str(exon) if exon is not None else ""
    out["codon"] = codon
    # sequences to compute names and consequence from, in order: the reference, the bundled windows
    sequences: list[tuple[SequenceSource, str]] = []
    if reference is not None and _covers(reference, transcript.chrom, pos, ref):
        sequences.append((reference, "reference"))
    bundled = bundled_sequence(assembly)
    if _covers(bundled, transcript.chrom, pos, ref):
        bases = bundled.fetch(transcript.chrom, pos, pos + len(ref) - 1) if ref != "-" else "-"
        if bases in ("-", ref):
            sequences.append((bundled, "bundled"))
        else:
            log.info("REF %s at %s:%d is %s in the bundled %s sequence of %s exon %s: no "
                     "protein change or consequence is computed from it (another build?)",
                     ref, chrom, pos, bases, assembly, location.gene, out["exon"])
    computed = hgvsc_name(transcript, pos, ref, alt, sequences[0][0] if sequences else None)
    if computed:
        out["hgvsc"] = computed
    if not out["hgvsp"]:
        for sequence, source in sequences:
            name = hgvsp_from_reference(sequence, assembly, location.gene, pos, ref, alt)
            if name:
                out["hgvsp"], out["hgvsp_source"] = name, source
                break
    hotspot = hotspot_allele(assembly, transcript.chrom, pos, ref, alt)
    if not out["hgvsp"] and hotspot is not None and hotspot[0] == location.gene:
        out["hgvsp"], out["hgvsp_source"] = hotspot[1], "bundled"
    if consequence == "splice_site":  # MAF Splice_Site: donor or acceptor by position
        found = consequence_from_position(transcript, pos, ref, alt)
        consequence = found if found in ("splice_donor", "splice_acceptor") else ""
        out["consequence_source"] = "annotation" if consequence else ""
    if not consequence:
        for sequence, source in sequences:
            consequence = consequence_from_position(transcript, pos, ref, alt, sequence)
            if consequence:  # a non-coding change is told by the model alone
                out["consequence_source"] = source if codon is not None else "model"
                break
    if not consequence and hotspot is not None and hotspot[0] == location.gene:
        consequence = consequence_from_hgvsp(hotspot[1], ref, alt)
        out["consequence_source"] = "bundled" if consequence else ""
    if not consequence:
        consequence = consequence_from_position(transcript, pos, ref, alt)
        out["consequence_source"] = "model" if consequence else ""
    out["consequence"] = consequence or "unknown"
    knowledge = genome.knowledge_for(location.gene, codon)
    if knowledge is not None and genome.is_protein_altering(out["consequence"]) is not False:
        out["role_hint"] = "known_primary_region" if knowledge.role == "primary" else (
            "known_resistance_site"
        )
    return out


def annotate_calls(calls: pd.DataFrame, reference: Reference | str | os.PathLike[str] | None = None,
                   *, inplace: bool = False) -> pd.DataFrame:
    """The annotation step: :data:`ANNOTATION_COLUMNS` (gene, exon, codon, HGVS c./p.,
    consequence, role hint) for every row of a calls table, per (patient, build, variant) from
    the first non-empty annotation of the patient's own rows (the caller's annotation, in the
    ``ann_*`` columns of a table being read), else from the bundled
    KIT/PDGFRA model and ``reference`` (a FASTA path or :class:`~lesiontrack.reference.Reference`),
    computed once per distinct variant. Needs ``patient_id``, ``assembly``, ``chrom``, ``pos``,
    ``ref``, ``alt`` and ``variant_key``; returns a copy unless ``inplace``."""
    import pandas as pd

    from .errors import OptionError

    needed = ["patient_id", "assembly", "chrom", "pos", "ref", "alt", "variant_key"]
    missing = [c for c in needed if c not in calls.columns]
    if missing:
        raise OptionError(f"the calls table has no {missing[0]!r} column", field=missing[0],
                          hint=f"annotate_calls needs {', '.join(needed)}")
    if not inplace:
        calls = calls.copy()
    if reference is not None and not isinstance(reference, Reference):
        reference = Reference(reference)
    added = [c for c in ("ann_gene", "ann_hgvsc", "ann_hgvsp", "ann_consequence")
             if c not in calls.columns]
    for column in added:  # no caller annotation given: the model's alone
        calls[column] = ""
    keys = ["patient_id", "assembly", "variant_key"]
    group = calls.groupby(keys, sort=False).ngroup().to_numpy()
    ann = ["ann_gene", "ann_hgvsc", "ann_hgvsp", "ann_consequence"]
    given = ["assembly", "chrom", "pos", "ref", "alt", *ann]
    narrow = calls[given].replace({c: {"": None} for c in ann})
    firsts = narrow.groupby(group, sort=True).first()  # the first non-empty value per group
    firsts[ann] = firsts[ann].fillna("")
    codes = firsts.groupby(given, sort=False).ngroup().to_numpy()
    distinct = firsts.drop_duplicates(given)  # the same order as ``codes``
    records = [annotate_variant(row.assembly, row.chrom, int(row.pos), row.ref, row.alt,
                                ann_gene=row.ann_gene, ann_hgvsc=row.ann_hgvsc,
                                ann_hgvsp=row.ann_hgvsp, ann_consequence=row.ann_consequence,
                                reference=reference)
               for row in distinct.itertuples(index=False)]
    annotation = pd.DataFrame.from_records(records)
    rows = codes[group]
    for column in annotation.columns:
        calls[column] = annotation[column].to_numpy()[rows]
    calls["codon"] = calls["codon"].astype("Int64")
    return calls.drop(columns=added) if added else calls

