"""Bundled KIT/PDGFRA transcript models and the GIST knowledge table, with small loaders.

Positions are 1-based and inclusive, as in VCF. Both bundled transcripts are on the + strand.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import pandas as pd

ASSEMBLIES: tuple[str, ...] = ("GRCh37", "GRCh38")
#: chr4 length of each build: the header's ``##contig`` line tells which build a file is on.
CHR4_LENGTH: dict[str, int] = {"GRCh38": 190_214_555, "GRCh37": 191_154_276}
#: Margin (bases) read around each gene by default.
DEFAULT_MARGIN = 1000

_ASSEMBLY_ALIASES = {
    "grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "37": "GRCh37", "hs37d5": "GRCh37",
    "grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38", "38": "GRCh38",
}


def normalize_chrom(name: str) -> str:
    """Contig name used for matching: ``chr4`` and ``4`` are both ``4``; ``chrM`` is ``MT``."""
    text = str(name).strip()
    if text[:3].lower() == "chr":
        text = text[3:]
    upper = text.upper()
    if upper in {"M", "MT"}:
        return "MT"
    if upper in {"X", "Y"}:
        return upper
    return text


def normalize_assembly(value: str | None) -> str | None:
    """``hg19``/``GRCh37``/``37``... -> ``GRCh37``; unknown or empty -> ``None``."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    text = text.split(".")[0]  # GRCh38.p13
    for prefix in ("ncbi_build=", "build"):
        text = text.removeprefix(prefix)
    return _ASSEMBLY_ALIASES.get(text)


def assembly_from_chr4_length(length: int | None) -> str | None:
    """The build whose chr4 has this length, else ``None``."""
    for assembly, known in CHR4_LENGTH.items():
        if length == known:
            return assembly
    return None


@functools.cache
def exon_table() -> pd.DataFrame:
    """The bundled exon table (one row per gene, build and exon)."""
    with resources.files(__package__).joinpath("data/exons.tsv").open() as handle:
        table = pd.read_csv(handle, sep="\t", dtype={"chrom": str})
    for column in ("c_first", "c_last", "cds_start", "cds_end", "codon_first", "codon_last"):
        table[column] = table[column].astype("Int64")
    return table


@functools.cache
def knowledge_table() -> pd.DataFrame:
    """The bundled knowledge table: known primary regions and imatinib-resistance sites."""
    with resources.files(__package__).joinpath("data/knowledge.tsv").open() as handle:
        return pd.read_csv(handle, sep="\t", dtype={"exon": str})


@functools.cache
def knowledge_sources() -> dict[str, str]:
    """Citations of the knowledge table's sources: id (``S1``...) -> citation."""
    with resources.files(__package__).joinpath("data/sources.tsv").open() as handle:
        table = pd.read_csv(handle, sep="\t", dtype=str)
    return dict(zip(table["id"], table["citation"], strict=True))


def bundled_genes() -> tuple[str, ...]:
    """Genes with a bundled transcript model."""
    return tuple(sorted(exon_table()["gene"].unique()))


@dataclass(frozen=True)
class Location:
    """Where a genomic position falls in a transcript."""

    gene: str
    exon: int | None  # exon number, None in an intron
    region: str  # 'cds', 'utr5', 'utr3', 'intron'
    c: str  # c. coordinate without the 'c.' prefix: '2447', '-12', '*5', '1504+3', '1505-2'
    c_pos: int | None  # numeric c. position for coding bases, else None
    codon: int | None  # codon number for coding bases, else None


class Transcript:
    """A + strand transcript model on one build: maps genomic positions to c. coordinates."""

    def __init__(self, gene: str, assembly: str, exons: pd.DataFrame) -> None:
        exons = exons.sort_values("start")
        self.gene = gene
        self.assembly = assembly
        self.chrom = str(exons["chrom"].iloc[0])
        self.transcript = str(exons["transcript"].iloc[0])
        self.exons = [
            (int(r.exon), int(r.start), int(r.end)) for r in exons.itertuples(index=False)
        ]
        self.start = self.exons[0][1]
        self.end = self.exons[-1][2]
        coding = exons.dropna(subset=["cds_start"])
        self.cds_length = int(coding["c_last"].max())
        first = coding.loc[coding["c_first"] == 1].iloc[0]
        self._c1_spliced = self._spliced(int(first.cds_start))
        self.coding_exons = [
            (int(r.exon), int(r.cds_start), int(r.cds_end), int(r.c_first))
            for r in coding.itertuples(index=False)
        ]

    def _spliced(self, pos: int) -> int:
        """0-based index of an exonic position in the spliced transcript."""
        offset = 0
        for _, start, end in self.exons:
            if start <= pos <= end:
                return offset + pos - start
            offset += end - start + 1
        raise ValueError(f"{pos} is not exonic")

    def _exonic_c(self, pos: int) -> tuple[str, int | None]:
        d = self._spliced(pos) - self._c1_spliced
        if d < 0:
            return str(d), None
        if d >= self.cds_length:
            return f"*{d - self.cds_length + 1}", None
        return str(d + 1), d + 1

    def contains(self, pos: int) -> bool:
        """True when ``pos`` lies within the transcript's span."""
        return self.start <= pos <= self.end

    def locate(self, pos: int) -> Location | None:
        """Where ``pos`` falls; ``None`` outside the transcript's span."""
        if not self.contains(pos):
            return None
        for number, start, end in self.exons:
            if start <= pos <= end:
                c, c_pos = self._exonic_c(pos)
                if c_pos is not None:
                    region = "cds"
                elif c.startswith("-"):
                    region = "utr5"
                else:
                    region = "utr3"
                codon = (c_pos + 2) // 3 if c_pos is not None else None
                return Location(self.gene, number, region, c, c_pos, codon)
        # Intronic: name it from the nearer exon boundary (the upstream one on a tie).
        for (_, _, prev_end), (_, next_start, _) in zip(
            self.exons, self.exons[1:], strict=False
        ):
            if prev_end < pos < next_start:
                up, down = pos - prev_end, next_start - pos
                if up <= down:
                    c, _ = self._exonic_c(prev_end)
                    return Location(self.gene, None, "intron", f"{c}+{up}", None, None)
                c, _ = self._exonic_c(next_start)
                return Location(self.gene, None, "intron", f"{c}-{down}", None, None)
        return None  # pragma: no cover - exons tile the span

    def cds_index(self, pos: int) -> int | None:
        """0-based index of a coding position in the CDS, else None."""
        for _, cds_start, cds_end, c_first in self.coding_exons:
            if cds_start <= pos <= cds_end:
                return c_first - 1 + pos - cds_start
        return None

    def cds_intervals(self) -> list[tuple[int, int]]:
        """Genomic (start, end) of every coding part of an exon, in order."""
        return [(s, e) for _, s, e, _ in self.coding_exons]


@functools.cache
def transcripts(assembly: str) -> dict[str, Transcript]:
    """The bundled transcripts of one build, by gene."""
    table = exon_table()
    table = table[table["assembly"] == assembly]
    return {gene: Transcript(gene, assembly, rows) for gene, rows in table.groupby("gene")}


def locate(assembly: str, chrom: str, pos: int) -> Location | None:
    """Locate a position in the bundled transcripts of ``assembly`` (None outside them)."""
    for transcript in transcripts(assembly).values():
        if normalize_chrom(chrom) == transcript.chrom and transcript.contains(pos):
            return transcript.locate(pos)
    return None


def gene_regions(
    genes: tuple[str, ...] | list[str], margin: int = DEFAULT_MARGIN
) -> list[tuple[str, int, int, str, str]]:
    """(chrom, start, end, gene, assembly) of each bundled gene in both builds, with a margin."""
    out = []
    for assembly in ASSEMBLIES:
        for gene, transcript in transcripts(assembly).items():
            if gene in genes:
                out.append(
                    (transcript.chrom, max(1, transcript.start - margin),
                     transcript.end + margin, gene, assembly)
                )
    return out


@dataclass(frozen=True)
class Knowledge:
    """One row of the knowledge table that matches a codon."""

    role: str  # 'primary' or 'resistance'
    region: str
    context: str
    source: str


@functools.cache
def _knowledge_rows() -> tuple[tuple[str, int, int, Knowledge], ...]:
    table = knowledge_table()
    return tuple(
        (str(r.gene), int(r.codon_first), int(r.codon_last),
         Knowledge(str(r.role), str(r.region), str(r.context), str(r.source)))
        for r in table.itertuples(index=False)
    )


@functools.lru_cache(maxsize=4096)
def knowledge_for(gene: str | None, codon: int | None) -> Knowledge | None:
    """The knowledge row for a gene and codon; a single-codon row wins over a region row."""
    if not gene or codon is None:
        return None
    matches = [(last - first, k) for g, first, last, k in _knowledge_rows()
               if g == gene and first <= codon <= last]
    return min(matches, key=lambda m: m[0])[1] if matches else None


# --- consequence vocabulary -------------------------------------------------------------------

#: The ``consequence`` vocabulary of the calls table, most severe first (the order used when an
#: input annotation gives several terms for one variant).
CONSEQUENCES: tuple[str, ...] = (
    "splice_acceptor", "splice_donor", "nonsense", "frameshift", "stop_lost", "start_lost",
    "inframe_insertion", "inframe_deletion", "delins", "missense", "splice_region",
    "synonymous", "UTR", "intronic", "unknown",
)

#: Consequences that change the protein (or its splicing at the canonical +/-1-2 sites).
PROTEIN_ALTERING: frozenset[str] = frozenset({
    "missense", "nonsense", "frameshift", "inframe_deletion", "inframe_insertion", "delins",
    "splice_donor", "splice_acceptor", "start_lost", "stop_lost",
})


def is_protein_altering(consequence: str | None) -> bool | None:
    """True/False for a known consequence; ``None`` for ``unknown``, empty or missing."""
    if not isinstance(consequence, str) or consequence in ("", "unknown"):
        return None
    return consequence in PROTEIN_ALTERING


# --- germline polymorphisms -------------------------------------------------------------------


@dataclass(frozen=True)
class GermlinePolymorphism:
    """A common germline polymorphism of a bundled gene (one row of ``data/germline.tsv``)."""

    gene: str
    hgvsc: str  # c. name without the transcript prefix: 'c.2472C>T'
    hgvsp: str  # one-letter p. name: 'p.V824='
    rsid: str  # dbSNP identifier: 'rs2228230'
    note: str
    sources: str  # source ids of sources.tsv, ';'-separated
    grade: str  # 'A' (two or more independent sources) or 'B' (one)


@functools.cache
def germline_table() -> pd.DataFrame:
    """The bundled list of common KIT/PDGFRA germline polymorphisms."""
    with resources.files(__package__).joinpath("data/germline.tsv").open() as handle:
        return pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)


@functools.cache
def _germline_index() -> dict[tuple[str, str], GermlinePolymorphism]:
    return {
        (str(r.gene).upper(), str(r.hgvsc)): GermlinePolymorphism(
            str(r.gene), str(r.hgvsc), str(r.hgvsp), str(r.rsid), str(r.note), str(r.sources),
            str(r.grade))
        for r in germline_table().itertuples(index=False)
    }


def germline_polymorphism(gene: str | None, hgvsc: str | None) -> GermlinePolymorphism | None:
    """The bundled polymorphism with this gene and c. name (``c.2472C>T``, a transcript prefix
    such as ``NM_006206.4:`` is ignored), else ``None``."""
    if not isinstance(gene, str) or not isinstance(hgvsc, str) or not hgvsc:
        return None
    name = hgvsc.strip().rsplit(":", 1)[-1]
    return _germline_index().get((gene.strip().upper(), name))


# --- hotspot alleles and hotspot-exon sequences -----------------------------------------------


@functools.cache
def hotspot_table() -> pd.DataFrame:
    """The bundled known GIST alleles (VCF style, both builds) with their protein change."""
    with resources.files(__package__).joinpath("data/hotspots.tsv").open() as handle:
        return pd.read_csv(handle, sep="\t", dtype={"chrom": str, "exon": str})


@functools.cache
def exon_windows() -> pd.DataFrame:
    """The bundled reference sequence of the hotspot exons (with flanking intron), both builds."""
    with resources.files(__package__).joinpath("data/exon_windows.tsv").open() as handle:
        return pd.read_csv(handle, sep="\t", dtype={"chrom": str, "exon": str})
