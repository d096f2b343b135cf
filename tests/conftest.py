"""Shared test helpers: paths, a synthetic KIT/PDGFRA reference excerpt, small file writers."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from lesiontrack import genome

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = REPO / "fixtures"

#: Codons known from the KIT/PDGFRA reference facts (codon number -> bases); every other codon of
#: the synthetic reference is filler. Only the sites tests name are real.
KNOWN_CODONS = {
    "KIT": {501: "TCT", 502: "GCC", 503: "TAT", 504: "TTC", 556: "CAG", 557: "TGG", 558: "AAG",
            559: "GTT", 560: "GTT", 561: "GAG", 562: "GAG", 654: "GTA", 670: "ACA", 816: "GAC",
            820: "GAT", 822: "AAT", 823: "TAT", 829: "GCC"},
    "PDGFRA": {842: "GAC"},
}
_FILLER = [c for c in (a + b + d for a in "ACGT" for b in "ACGT" for d in "ACGT")
           if c not in ("TAA", "TAG", "TGA")]


def synthetic_cds(gene: str, length: int, seed: int = 7) -> str:
    """A coding sequence that translates cleanly (ATG ... stop) with the known codons in place."""
    rng = random.Random(f"{gene}-{seed}")
    codons = ["ATG"] + [rng.choice(_FILLER) for _ in range(length // 3 - 2)] + ["TGA"]
    for number, bases in KNOWN_CODONS.get(gene, {}).items():
        codons[number - 1] = bases
    return "".join(codons)


def write_synthetic_reference(path: Path, assembly: str = "GRCh38", chrom: str = "chr4") -> Path:
    """A FASTA excerpt (``samtools faidx`` style contigs) covering KIT and PDGFRA on one build.

    Coding bases come from :func:`synthetic_cds`; introns and UTRs are filled with a fixed
    non-repetitive pattern so indel shifting stops at exon borders.
    """
    rng = random.Random(assembly)
    with path.open("w") as out:
        for gene, transcript in sorted(genome.transcripts(assembly).items()):
            start, end = transcript.start - 1000, transcript.end + 1000
            seq = [rng.choice("ACGT") for _ in range(end - start + 1)]
            cds = synthetic_cds(gene, transcript.cds_length)
            for s, e in transcript.cds_intervals():
                for p in range(s, e + 1):
                    seq[p - start] = cds[transcript.cds_index(p)]
            out.write(f">{chrom}:{start}-{end}\n")
            text = "".join(seq)
            for i in range(0, len(text), 60):
                out.write(text[i : i + 60] + "\n")
    pysam.faidx(str(path))
    return path


@pytest.fixture(scope="session")
def grch38_reference(tmp_path_factory) -> Path:
    return write_synthetic_reference(tmp_path_factory.mktemp("ref") / "kit_grch38.fa")


@pytest.fixture(scope="session")
def grch37_reference(tmp_path_factory) -> Path:
    return write_synthetic_reference(tmp_path_factory.mktemp("ref37") / "kit_grch37.fa", "GRCh37")
