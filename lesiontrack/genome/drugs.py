"""Drug activity by KIT/PDGFRA mutation site: the bundled ``drugs.tsv`` and its loader.

``drugs.tsv`` is built by ``scripts/build_genome_data.py`` from the project's fact sheet
(``kit-reference/drugs.md``): one row per (site, drug), with the activity class (``sensitive``,
``reduced``, ``resistant``, ``unknown``), the evidence grade (A: two or more sources agree; B: one),
an in-vitro note and source ids (``D0``... in ``drug_sources.tsv``; ``S1``... in ``sources.tsv``).
What the sheet calls "not established" is ``unknown``: never a claim.

It summarises published series; it is not a treatment recommendation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd
from Bio.SeqUtils import seq1

from . import is_protein_altering, knowledge_sources

DRUGS: tuple[str, ...] = ("imatinib", "sunitinib", "regorafenib", "ripretinib", "avapritinib")
ACTIVITIES: tuple[str, ...] = ("sensitive", "reduced", "resistant", "unknown")


@dataclass(frozen=True)
class DrugCall:
    """What the sources say of one drug at one site."""

    activity: str  # one of ACTIVITIES
    grade: str | None  # 'A' or 'B'; None when unknown
    in_vitro: str | None  # 'in vitro only', 'in vitro and clinical' or None
    sources: tuple[str, ...]  # source ids; empty when unknown
    evidence: str  # the sheet's words for this call


@dataclass(frozen=True)
class DrugActivity:
    """The drugs.tsv row set that matches one mutation: its site, region and one call per drug."""

    gene: str
    site: str  # 'p.D816V', 'codon 816' or 'codons 550-592'
    region: str  # 'ATP-binding pocket', 'activation loop', 'juxtamembrane domain', ...
    label: str  # the class of the sheet's table ('secondary activation loop: ...')
    calls: dict[str, DrugCall] = field(hash=False)


@functools.cache
def drug_table() -> pd.DataFrame:
    """The bundled drug-activity table (one row per site and drug)."""
    with resources.files(__package__).joinpath("data/drugs.tsv").open() as handle:
        return pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)


@functools.cache
def drug_sources() -> dict[str, str]:
    """Citations of every source id drugs.tsv uses (``D0``..., and the knowledge table's ``S``)."""
    with resources.files(__package__).joinpath("data/drug_sources.tsv").open() as handle:
        table = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
    return {**knowledge_sources(), **dict(zip(table["id"], table["citation"], strict=True))}


@functools.cache
def _sites() -> tuple[tuple[str, int, int, str, DrugActivity], ...]:
    out = []
    for (gene, first, last, change), rows in drug_table().groupby(
        ["gene", "codon_first", "codon_last", "protein_change"], sort=False
    ):
        calls = {
            r.drug: DrugCall(r.activity, r.grade or None, r.in_vitro or None,
                             tuple(s for s in r.sources.split(";") if s), r.evidence)
            for r in rows.itertuples(index=False)
        }
        if change:
            site = change
        elif first == last:
            site = f"codon {first}"
        else:
            site = f"codons {first}-{last}"
        first_row = rows.iloc[0]
        out.append((gene, int(first), int(last), change,
                    DrugActivity(gene, site, first_row["region"], first_row["class"], calls)))
    return tuple(out)


_THREE_LETTER = re.compile(r"(Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|"
                           r"Thr|Trp|Tyr|Val|Ter|Sec|Pyl)")


def short_protein_change(hgvsp: str | None) -> str:
    """``p.D816V`` from ``p.D816V``, ``p.(D816V)``, ``p.Asp816Val`` or ``D816V``; '' if empty."""
    if not isinstance(hgvsp, str) or not hgvsp.strip():
        return ""
    text = hgvsp.strip().split(":")[-1].removeprefix("p.").strip("()")
    text = _THREE_LETTER.sub(lambda m: "*" if m.group(1) == "Ter" else seq1(m.group(1)), text)
    return f"p.{text}"


def drug_activity(
    gene: str | None, codon: int | None, hgvsp: str | None, consequence: str | None
) -> DrugActivity | None:
    """The sourced drug activity of a protein-altering change, most specific match first.

    A row naming the protein change (``p.D816V``) wins over a codon row (``codon 816``), which
    wins over a wider codon range (``codons 550-592``). ``None`` when nothing matches, and for
    any change not known to alter the protein (:func:`lesiontrack.genome.is_protein_altering`
    not True: synonymous, intronic, UTR, splice region, ``unknown``).
    """
    if not gene or is_protein_altering(consequence) is not True:
        return None
    change = short_protein_change(hgvsp)
    if codon is None or pd.isna(codon):
        number = re.search(r"\d+", change)
        if number is None:
            return None
        codon = int(number.group(0))
    codon = int(codon)
    best: tuple[int, DrugActivity] | None = None
    for row_gene, first, last, row_change, activity in _sites():
        if row_gene != gene:
            continue
        if row_change:
            rank = -1 if row_change == change else None
        else:
            rank = last - first if first <= codon <= last else None
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, activity)
    return best[1] if best else None


def activity_string(activity: DrugActivity | None) -> str:
    """``imatinib=resistant;sunitinib=sensitive;...`` (TSV and GraphML); '' for ``None``."""
    if activity is None:
        return ""
    return ";".join(f"{drug}={activity.calls[drug].activity}" for drug in DRUGS)


def parse_activity_string(text: str | None) -> dict[str, str]:
    """The inverse of :func:`activity_string`: ``{drug: activity}`` (empty for '' or NaN)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    out = {}
    for item in text.split(";"):
        drug, _, activity = item.partition("=")
        if drug.strip() not in DRUGS or activity.strip() not in ACTIVITIES:
            raise ValueError(f"not a drug activity: {item!r} (expected drug=activity)")
        out[drug.strip()] = activity.strip()
    return out


def activity_json(activity: DrugActivity | None) -> dict[str, dict] | None:
    """``{drug: {"activity", "grade", "in_vitro", "sources"}}`` for JSON; ``None`` for ``None``."""
    if activity is None:
        return None
    return {
        drug: {"activity": call.activity, "grade": call.grade, "in_vitro": call.in_vitro,
               "sources": list(call.sources)}
        for drug, call in ((d, activity.calls[d]) for d in DRUGS)
    }


def drug_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (calls or origins) with ``region`` and ``drug_activity`` columns.

    Reads ``gene``, ``hgvsp``, ``consequence`` and, when present, ``codon`` (else the codon of the
    p. name); ``drug_activity`` is :func:`activity_string`'s form, '' (and ``region`` '') where no
    row applies.
    """
    out = frame.copy()
    regions, strings = [], []
    codons = out["codon"] if "codon" in out.columns else pd.Series(None, index=out.index)
    consequences = (out["consequence"] if "consequence" in out.columns
                    else pd.Series(None, index=out.index))
    for gene, codon, hgvsp, consequence in zip(out["gene"], codons, out["hgvsp"], consequences,
                                               strict=True):
        found = drug_activity(gene if isinstance(gene, str) else None,
                              None if codon is None or pd.isna(codon) else int(codon),
                              hgvsp if isinstance(hgvsp, str) else None,
                              consequence if isinstance(consequence, str) else None)
        regions.append(found.region if found else "")
        strings.append(activity_string(found))
    out["region"] = regions
    out["drug_activity"] = strings
    return out


__all__ = ["ACTIVITIES", "DRUGS", "DrugActivity", "DrugCall",
           "activity_json", "activity_string", "drug_activity", "drug_columns", "drug_sources",
           "drug_table", "parse_activity_string", "short_protein_change"]
