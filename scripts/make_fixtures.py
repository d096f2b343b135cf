"""Make the demo GIST cohort under ``fixtures/``: calls files, sample sheet, expected origins.

Usage: python scripts/make_fixtures.py [--out DIR]      (default: the repository's fixtures/)

Seven metastatic GIST patients on imatinib, written the way real somatic pipelines write their
output (GATK4 Mutect2 + FilterMutectCalls, Strelka2, VarScan2, Ensembl VEP, vcf2maf, FreeBayes).
Every primary KIT/PDGFRA driver is present in every lesion; secondary (acquired) KIT mutations sit
in progressive lesions only. The output is deterministic: fixed seeds, no clock, bgzip and tabix
through pysam (``tabix_compress``/``tabix_index``), so re-running reproduces identical bytes.

Positions come from the package's exon table (``lesiontrack/genome/data/exons.tsv``: on the +
strand c. = c_first + (pos - cds_start)); exon 11 deletions are placed and named from the KIT
exon 11 cDNA below (left-aligned for VCF, 3'-shifted for HGVS). Every generated position is checked
against the worked examples of the shared KIT reference facts before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pysam

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the package importable without installing
    sys.path.insert(0, str(ROOT))

from lesiontrack.variants import minimal, variant_key  # noqa: E402

EXONS_TSV = ROOT / "lesiontrack" / "genome" / "data" / "exons.tsv"
DEFAULT_OUT = ROOT / "fixtures"
SEED = 20080607  # any fixed value; per-file generators are seeded with f"{SEED}:{file name}"

# --------------------------------------------------------------------------------------------
# Reference facts
# --------------------------------------------------------------------------------------------

#: KIT exon 11 cDNA, codons 556-589 (Q556 ... L589); c.1666 is the first base of Q556.
KIT_EXON11_CDNA = (
    "CAGTGGAAGGTTGTTGAGGAGATAAATGGAAACAATTATGTTTACATAGACCCAACACAACTTCCTTATGATCACAAATGGGAGTTT"
    "CCCAGAAACAGGCTG"
)
KIT_EXON11_C_FIRST = 1666
#: Whole reference codons needed for VEP/MAF ``Codons`` outside that stretch (NM_000222.3 Y823,
#: NM_006206.4 D842).
KNOWN_CODONS = {("KIT", 823): "TAT", ("PDGFRA", 842): "GAC"}

#: Worked examples of the shared reference facts: (gene, c., assembly) -> VCF (pos, ref, alt).
WORKED_EXAMPLES = {
    ("KIT", "c.2447A>T", "GRCh37"): (55599321, "A", "T"),
    ("KIT", "c.2447A>T", "GRCh38"): (54733155, "A", "T"),
    ("KIT", "c.1961T>C", "GRCh37"): (55594258, "T", "C"),
    ("KIT", "c.1961T>C", "GRCh38"): (54728092, "T", "C"),
    ("KIT", "c.2009C>T", "GRCh37"): (55595519, "C", "T"),
    ("KIT", "c.2009C>T", "GRCh38"): (54729353, "C", "T"),
    ("KIT", "c.1669_1674del", "GRCh37"): (55593600, "CAGTGGA", "C"),
    ("KIT", "c.1669_1674del", "GRCh38"): (54727434, "CAGTGGA", "C"),
    ("KIT", "c.1504_1509dup", "GRCh37"): (55592178, "C", "CTGCCTA"),
    ("KIT", "c.1504_1509dup", "GRCh38"): (54726012, "C", "CTGCCTA"),
    ("PDGFRA", "c.2525A>T", "GRCh37"): (55152093, "A", "T"),
    ("PDGFRA", "c.2525A>T", "GRCh38"): (54285926, "A", "T"),
}

CHR4_LENGTH = {"GRCh38": 190_214_555, "GRCh37": 191_154_276}
#: Full contig lists as GATK/Strelka write them from the reference dictionary.
CONTIGS = {
    "GRCh38": [
        ("chr1", 248956422), ("chr2", 242193529), ("chr3", 198295559), ("chr4", 190214555),
        ("chr5", 181538259), ("chr6", 170805979), ("chr7", 159345973), ("chr8", 145138636),
        ("chr9", 138394717), ("chr10", 133797422), ("chr11", 135086622), ("chr12", 133275309),
        ("chr13", 114364328), ("chr14", 107043718), ("chr15", 101991189), ("chr16", 90338345),
        ("chr17", 83257441), ("chr18", 80373285), ("chr19", 58617616), ("chr20", 64444167),
        ("chr21", 46709983), ("chr22", 50818468), ("chrX", 156040895), ("chrY", 57227415),
        ("chrM", 16569),
    ],
    "GRCh37": [
        ("1", 249250621), ("2", 243199373), ("3", 198022430), ("4", 191154276),
        ("5", 180915260), ("6", 171115067), ("7", 159138663), ("8", 146364022),
        ("9", 141213431), ("10", 135534747), ("11", 135006516), ("12", 133851895),
        ("13", 115169878), ("14", 107349540), ("15", 102531392), ("16", 90354753),
        ("17", 81195210), ("18", 78077248), ("19", 59128983), ("20", 63025520),
        ("21", 48129895), ("22", 51304566), ("X", 155270560), ("Y", 59373566),
        ("MT", 16569),
    ],
}
CHROM = {"GRCh38": "chr4", "GRCh37": "4"}

GENE_INFO = {
    "KIT": {"entrez": "3815", "ensg": "ENSG00000157404", "hgnc": "HGNC:6342",
            "enst": "ENST00000288135", "enst_version": "6", "ensp": "ENSP00000288135.5",
            "refseq": "NM_000222.3", "swissprot": "P10721", "exons": 21, "utr5": 87},
    "PDGFRA": {"entrez": "5156", "ensg": "ENSG00000134853", "hgnc": "HGNC:8803",
               "enst": "ENST00000257290", "enst_version": "10", "ensp": "ENSP00000257290.5",
               "refseq": "NM_006206.4", "swissprot": "P16234", "exons": 23, "utr5": 331},
}

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES) for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)
}
AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
}


def read_exons(path: Path = EXONS_TSV) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["c_first"]]


EXONS = read_exons()


def c_to_genomic(gene: str, assembly: str, c: int) -> tuple[int, int]:
    """(genomic position, exon number) of coding position ``c`` (+ strand transcripts only)."""
    for row in EXONS:
        if (row["gene"], row["assembly"]) == (gene, assembly) and (
            int(row["c_first"]) <= c <= int(row["c_last"])
        ):
            return int(row["cds_start"]) + (c - int(row["c_first"])), int(row["exon"])
    raise ValueError(f"{gene} c.{c} is not coding on {assembly}")


def translate(cdna: str) -> str:
    return "".join(CODON_TABLE[cdna[i : i + 3]] for i in range(0, len(cdna) - 2, 3))


def three_letter(short: str) -> str:
    """``p.Y823D`` -> ``p.Tyr823Asp``; ``p.W557_K558del`` -> ``p.Trp557_Lys558del``."""
    text = re.sub(r"([A-Z*])(?=\d)", lambda m: AA3[m[1]], short[2:])
    return "p." + re.sub(r"(?<=\d)([A-Z*])$", lambda m: AA3[m[1]], text)


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One mutation, named once (HGVS, 3' rule) and placed on both builds as a caller writes it."""

    gene: str
    label: str  # the name used in the study text ("V559del")
    exon: int
    hgvsc: str
    hgvsp: str  # one-letter, HGVS 3' rule ("p.V560del")
    vcf: dict[str, tuple[int, str, str]]  # assembly -> (pos, ref, alt), left-aligned
    ref_codon: str = ""  # reference codon of an SNV, when known

    @property
    def hgvsp_long(self) -> str:
        return three_letter(self.hgvsp)

    @property
    def codon(self) -> int:
        return int(re.search(r"\d+", self.hgvsp)[0])

    @property
    def c_start(self) -> int:
        return int(re.search(r"\d+", self.hgvsc)[0])

    @property
    def is_snv(self) -> bool:
        _, ref, alt = self.vcf["GRCh38"]
        return len(ref) == len(alt) == 1

    @property
    def codons(self) -> str:
        """VEP ``Codons`` (``gTt/gAt``: the changed base upper case), SNVs with a known codon."""
        if not self.ref_codon:
            return ""
        offset = (self.c_start - 1) % 3
        lower = self.ref_codon.lower()
        _, ref, alt = self.vcf["GRCh38"]
        before, after = lower[:offset], lower[offset + 1 :]
        return f"{before}{ref}{after}/{before}{alt}{after}"


def substitution(gene: str, hgvsc: str, hgvsp: str, ref_codon: str = "") -> Mutation:
    """A coding SNV ``c.NNNX>Y``; a known ``ref_codon`` lets the amino-acid change be checked."""
    c, ref, alt = int(hgvsc[2:-3]), hgvsc[-3], hgvsc[-1]
    codon = math.ceil(c / 3)
    if int(hgvsp[3:-1]) != codon:
        raise ValueError(f"{hgvsc} is in codon {codon}, not in {hgvsp}")
    if ref_codon:
        offset = (c - 1) % 3
        mutated = ref_codon[:offset] + alt + ref_codon[offset + 1 :]
        if ref_codon[offset] != ref or (CODON_TABLE[ref_codon], CODON_TABLE[mutated]) != (
            hgvsp[2], hgvsp[-1]
        ):
            raise ValueError(f"{hgvsc}: {ref_codon}>{mutated} does not give {hgvsp}")
    vcf, exons = {}, set()
    for assembly in ("GRCh37", "GRCh38"):
        pos, exon = c_to_genomic(gene, assembly, c)
        vcf[assembly] = (pos, ref, alt)
        exons.add(exon)
    return Mutation(gene, hgvsp[2:], exons.pop(), hgvsc, hgvsp, vcf, ref_codon)


def exon11_codon(codon: int) -> str:
    start = (codon - 1) * 3 + 1 - KIT_EXON11_C_FIRST
    return KIT_EXON11_CDNA[start : start + 3]


def exon11_deletion(label: str, c_first: int, length: int) -> Mutation:
    """An in-frame KIT exon 11 deletion of ``length`` bases starting at ``c_first``.

    VCF: shifted 5' as far as the sequence allows, with the preceding base as anchor.
    HGVS: c. shifted 3' (``c.A_Bdel``); p. from the translated sequences, 3'-most deleted residues.
    """
    seq = KIT_EXON11_CDNA
    left = c_first - KIT_EXON11_C_FIRST  # 0-based index into seq
    deleted = seq[:left] + seq[left + length :]
    while left > 1 and seq[left - 1] == seq[left + length - 1]:
        left -= 1
    right = left
    while right + length < len(seq) and seq[right] == seq[right + length]:
        right += 1
    if (left == 1 and seq[0] == seq[length]) or right + length == len(seq):
        raise ValueError(f"{label}: shifting reached the end of the known exon 11 sequence")
    ref_protein, alt_protein = translate(seq), translate(deleted)
    prefix = 0
    while alt_protein[prefix] == ref_protein[prefix]:
        prefix += 1
    removed = len(ref_protein) - len(alt_protein)
    first = prefix + 556
    last = first + removed - 1
    name = f"{ref_protein[prefix]}{first}"
    if removed > 1:
        name += f"_{ref_protein[prefix + removed - 1]}{last}"
    c3 = right + KIT_EXON11_C_FIRST
    vcf = {}
    for assembly in ("GRCh37", "GRCh38"):
        anchor, _ = c_to_genomic("KIT", assembly, left - 1 + KIT_EXON11_C_FIRST)
        vcf[assembly] = (anchor, seq[left - 1 : left + length], seq[left - 1])
    return Mutation("KIT", label, 11, f"c.{c3}_{c3 + length - 1}del", f"p.{name}del", vcf)


def build_mutations() -> dict[str, Mutation]:
    w557r = substitution("KIT", "c.1669T>A", "p.W557R", exon11_codon(557))
    v560d = substitution("KIT", "c.1679T>A", "p.V560D", exon11_codon(560))
    dup = Mutation(
        "KIT", "A502_Y503dup", 9, "c.1504_1509dup", "p.A502_Y503dup",
        {a: WORKED_EXAMPLES[("KIT", "c.1504_1509dup", a)] for a in ("GRCh37", "GRCh38")},
    )
    found = {
        "W557_K558del": exon11_deletion("W557_K558del", 1669, 6),
        "V559del": exon11_deletion("V559del", 1675, 3),
        "W557R": w557r,
        "V560D": v560d,
        "A502_Y503dup": dup,
        "V654A": substitution("KIT", "c.1961T>C", "p.V654A"),
        "T670I": substitution("KIT", "c.2009C>T", "p.T670I"),
        "D816V": substitution("KIT", "c.2447A>T", "p.D816V"),
        "D820Y": substitution("KIT", "c.2458G>T", "p.D820Y"),
        "N822K": substitution("KIT", "c.2466T>G", "p.N822K"),
        "Y823D": substitution("KIT", "c.2467T>G", "p.Y823D", KNOWN_CODONS[("KIT", 823)]),
        "A829P": substitution("KIT", "c.2485G>C", "p.A829P"),
        "D842V": substitution("PDGFRA", "c.2525A>T", "p.D842V", KNOWN_CODONS[("PDGFRA", 842)]),
    }
    check_mutations(found)
    return found


def check_mutations(found: dict[str, Mutation]) -> None:
    """Every computed placement agrees with the worked examples and the build offsets."""
    by_c = {(m.gene, m.hgvsc): m for m in found.values()}
    for (gene, hgvsc, assembly), expected in WORKED_EXAMPLES.items():
        got = by_c[(gene, hgvsc)].vcf[assembly]
        if got != expected:
            raise AssertionError(f"{gene} {hgvsc} {assembly}: computed {got}, facts say {expected}")
    for m in found.values():
        offset = 866167 if m.gene == "PDGFRA" else 866166
        if m.vcf["GRCh37"][0] - m.vcf["GRCh38"][0] != offset:
            raise AssertionError(f"{m.label}: GRCh37-GRCh38 offset is not {offset}")
    if found["W557_K558del"].hgvsp != "p.W557_K558del":
        raise AssertionError(found["W557_K558del"].hgvsp)


MUTATIONS = build_mutations()

#: A record far outside KIT/PDGFRA (TET2 locus, GRCh37 4:106.2 Mb) that must never be read.
OFF_TARGET_GRCH37 = (106155185, "C", "T")


# --------------------------------------------------------------------------------------------
# Cohort
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    lesion_id: str
    sample_id: str
    role: str  # baseline / lesion
    status: str  # as written in the sheet
    site: str
    timepoint: str
    column: str = ""  # column / barcode in the calls file when it differs from sample_id
    date: str = ""  # ISO date of the sample (the sheet's date column; empty: undated)


@dataclass
class Patient:
    patient_id: str
    assembly: str
    pattern: str  # progression pattern: focal / generalized / none
    layout: str  # how the calls were made: a key of LAYOUTS
    story: str
    samples: list[Sample]
    normal: str  # the matched normal's id (a key of ``counts``)
    mutations: list[tuple[str, str]]  # (mutation label, expected origin)
    counts: dict[str, dict[str, tuple[int, int]]]  # sample/normal -> label -> (ref, alt) reads
    normal_column: str = ""  # the normal's column name when it differs from ``normal``
    sheet_assembly: bool = True  # write the assembly column (False: left to the file header)

    @property
    def chrom(self) -> str:
        return CHROM[self.assembly]

    @property
    def tumours(self) -> list[str]:
        return [s.sample_id for s in self.samples]

    def column(self, sample_id: str) -> str:
        """The sample's column name in the calls file (``vcf_sample`` or the id itself)."""
        if sample_id == self.normal:
            return self.normal_column or self.normal
        return next(s.column or s.sample_id for s in self.samples if s.sample_id == sample_id)


PRE = "pre-imatinib"


def cohort() -> list[Patient]:
    return [
        Patient(
            "GIST01", "GRCh38", "focal", "mutect2_joint",
            "Focal progression: one liver metastasis acquires V654A, the other lesions stay "
            "controlled. The baseline biopsy shows the site at depth with no V654A read; the "
            "stable liver lesion has a single V654A read (below threshold, and consistent with "
            "sequencing noise: absent, as the lesion is powered to see V654A).",
            [
                Sample("BL", "GIST01_BL", "baseline", "baseline", "stomach (primary tumour)", PRE),
                Sample("L1", "GIST01_L1", "lesion", "PD", "liver", "imatinib month 26"),
                Sample("L2", "GIST01_L2", "lesion", "SD", "liver", "imatinib month 26"),
                Sample("L3", "GIST01_L3", "lesion", "stable", "peritoneum", "imatinib month 26"),
            ],
            "GIST01_N",
            [("W557_K558del", "primary"), ("V654A", "secondary")],
            {
                "GIST01_BL": {"W557_K558del": (131, 97), "V654A": (180, 0)},
                "GIST01_L1": {"W557_K558del": (118, 102), "V654A": (167, 61)},
                "GIST01_L2": {"W557_K558del": (142, 88), "V654A": (150, 1)},
                "GIST01_L3": {"W557_K558del": (126, 93), "V654A": (143, 0)},
                "GIST01_N": {"W557_K558del": (156, 0), "V654A": (171, 0)},
            },
        ),
        Patient(
            "GIST02", "GRCh38", "focal", "strelka2_pairs",
            "Two secondary mutations (T670I and D816V) in the one progressive liver lesion; the "
            "stable lesion has the primary only. Strelka2 writes no record where nothing is "
            "called, so the absence of T670I/D816V in L2 is not evaluable from these files.",
            [
                Sample("L1", "GIST02_L1", "lesion", "progressive", "liver", "imatinib month 31",
                       "TUMOR"),
                Sample("L2", "GIST02_L2", "lesion", "SD", "liver", "imatinib month 31", "TUMOR"),
            ],
            "GIST02_N",
            [("V559del", "primary"), ("T670I", "secondary"), ("D816V", "secondary")],
            {
                "GIST02_L1": {"V559del": (96, 84), "T670I": (152, 47), "D816V": (171, 38)},
                "GIST02_L2": {"V559del": (109, 77)},
                "GIST02_N": {"V559del": (131, 0), "T670I": (122, 0), "D816V": (140, 0)},
            },
            normal_column="NORMAL",
        ),
        Patient(
            "GIST03", "GRCh38", "generalized", "varscan2_pairs",
            "Generalized progression of an exon 9 GIST: every lesion progresses, each with its "
            "own activation-loop secondary (N822K in L1, D820Y in L2, none found in L3). "
            "VarScan2 writes no record where nothing is called, but L1 and L2 have BAMs: each "
            "shows the other lesion's site at depth with no ALT read, so both are absent where "
            "the other is detected, and the patient is polyclonal across lesions (different "
            "secondaries in separate lesions). L3 has no BAM: not evaluable for either.",
            [
                Sample("L1", "GIST03_L1", "lesion", "PD", "peritoneum", "imatinib 800 mg month 14",
                       "TUMOR"),
                Sample("L2", "GIST03_L2", "lesion", "progression", "liver",
                       "imatinib 800 mg month 14", "TUMOR"),
                Sample("L3", "GIST03_L3", "lesion", "progressive", "omentum",
                       "imatinib 800 mg month 14", "TUMOR"),
            ],
            "GIST03_N",
            [("A502_Y503dup", "primary"), ("N822K", "secondary"), ("D820Y", "secondary")],
            {
                "GIST03_L1": {"A502_Y503dup": (140, 71), "N822K": (163, 44)},
                "GIST03_L2": {"A502_Y503dup": (133, 80), "D820Y": (171, 52)},
                "GIST03_L3": {"A502_Y503dup": (150, 66)},
                "GIST03_N": {"A502_Y503dup": (124, 0), "N822K": (131, 0), "D820Y": (127, 0)},
            },
            normal_column="NORMAL",
        ),
        Patient(
            "GIST04", "GRCh38", "focal", "mutect2_vep_joint",
            "A progressive liver lesion sampled in two regions: Y823D is clonal-looking in R1 "
            "(VAF ~0.25) and low in R2 (6 of 160 reads); the responding lesion has Y823D at depth "
            "with no alt read.",
            [
                Sample("L1", "GIST04_L1_R1", "lesion", "PD", "liver", "imatinib month 19"),
                Sample("L1", "GIST04_L1_R2", "lesion", "PD", "liver", "imatinib month 19"),
                Sample("L2", "GIST04_L2", "lesion", "PR", "peritoneum", "imatinib month 19"),
            ],
            "GIST04_N",
            [("V560D", "primary"), ("Y823D", "secondary")],
            {
                "GIST04_L1_R1": {"V560D": (121, 109), "Y823D": (138, 46)},
                "GIST04_L1_R2": {"V560D": (117, 96), "Y823D": (154, 6)},
                "GIST04_L2": {"V560D": (131, 84), "Y823D": (170, 0)},
                "GIST04_N": {"V560D": (148, 0), "Y823D": (162, 0)},
            },
        ),
        Patient(
            "GIST05", "GRCh38", "generalized", "vcf2maf",
            "PDGFRA D842V GIST (imatinib-resistant from the start): both lesions progress and no "
            "KIT secondary mutation is found.",
            [
                Sample("L1", "GIST05_L1", "lesion", "progressive", "liver", "imatinib month 4"),
                Sample("L2", "GIST05_L2", "lesion", "PD", "peritoneum", "imatinib month 4"),
            ],
            "GIST05_N",
            [("D842V", "primary")],
            {
                "GIST05_L1": {"D842V": (131, 81)},
                "GIST05_L2": {"D842V": (109, 78)},
                "GIST05_N": {"D842V": (150, 0)},
            },
        ),
        Patient(
            "GIST06", "GRCh38", "none", "freebayes_joint",
            "No progression: both lesions are controlled and carry the primary W557R only. The "
            "sheet leaves the assembly empty (the chr4 ##contig length tells) and the VCF columns "
            "use hyphens (vcf_sample).",
            [
                Sample("L1", "GIST06_L1", "lesion", "stable disease", "liver", "imatinib month 40",
                       "GIST06-L1"),
                Sample("L2", "GIST06_L2", "lesion", "partial response", "peritoneum",
                       "imatinib month 40", "GIST06-L2"),
            ],
            "GIST06_N",
            [("W557R", "primary")],
            {
                "GIST06_L1": {"W557R": (122, 91)},
                "GIST06_L2": {"W557R": (137, 64)},
                "GIST06_N": {"W557R": (140, 0)},
            },
            normal_column="GIST06-N",
            sheet_assembly=False,
        ),
        Patient(
            "GIST07", "GRCh37", "focal", "mutect2_single",
            "GRCh37 patient: A829P only in the progressive lesion. The baseline file holds A829P "
            "as a FilterMutectCalls weak_evidence record (1 read), read only with "
            "--include-filtered; the stable lesion's file has no record at A829P, so that lesion "
            "is not evaluable for it and is left out of the statistics (A829P is secondary by "
            "the knowledge rule); the L1 file also holds a PASS call in the TET2 locus, far "
            "outside KIT/PDGFRA, that the default gene regions must not read.",
            [
                Sample("BL", "GIST07_BL", "baseline", "baseline", "stomach (primary tumour)", PRE),
                Sample("L1", "GIST07_L1", "lesion", "Progressive", "liver", "imatinib month 22"),
                Sample("L2", "GIST07_L2", "lesion", "Stable", "liver", "imatinib month 22"),
            ],
            "GIST07_N",
            [("W557_K558del", "primary"), ("A829P", "secondary")],
            {
                "GIST07_BL": {"W557_K558del": (140, 85), "A829P": (212, 1)},
                "GIST07_L1": {"W557_K558del": (118, 77), "A829P": (149, 53), "OFF": (201, 39)},
                "GIST07_L2": {"W557_K558del": (127, 91)},
                "GIST07_N": {"W557_K558del": (133, 0), "A829P": (198, 0), "OFF": (180, 0)},
            },
        ),
    ] + time_patients()


TREATMENT_START = {"GIST08": "2015-02-01"}  # imatinib start (patients.tsv)


def time_patients() -> list[Patient]:
    """Liquid biopsy and time (issue 17): a plasma series and a lesion biopsied twice."""
    plasma = "blood (cfDNA)"
    return [
        Patient(
            "GIST08", "GRCh38", "focal", "mutect2_tissue_plasma",
            "Plasma series and a lesion biopsied twice: five plasma draws (a cfDNA panel called "
            "by Mutect2 at depth 5,000-10,000) follow the exon 11 driver from before imatinib "
            "(2015-01-20) through response; V654A appears in plasma at 0.3% on 2017-08-21, "
            "203 days before the liver lesion L1, stable at its first biopsy (2016-05-12, no "
            "V654A read), is biopsied again at progression (2018-03-12) carrying it "
            "(rule lesion_history). The draw before imatinib acts as a baseline with the "
            "patient table's treatment_start_date; the peritoneal lesion stays controlled.",
            [
                Sample("L1", "GIST08_L1a", "lesion", "SD", "liver", "imatinib month 15",
                       date="2016-05-12"),
                Sample("L1", "GIST08_L1b", "lesion", "PD", "liver", "imatinib month 37",
                       date="2018-03-12"),
                Sample("L2", "GIST08_L2", "lesion", "SD", "peritoneum", "imatinib month 37",
                       date="2018-03-12"),
                Sample("plasma", "GIST08_cf1", "plasma", "unknown", plasma, PRE,
                       date="2015-01-20"),
                Sample("plasma", "GIST08_cf2", "plasma", "unknown", plasma, "imatinib month 7",
                       date="2015-09-15"),
                Sample("plasma", "GIST08_cf3", "plasma", "unknown", plasma, "imatinib month 15",
                       date="2016-05-10"),
                Sample("plasma", "GIST08_cf4", "plasma", "unknown", plasma, "imatinib month 30",
                       date="2017-08-21"),
                Sample("plasma", "GIST08_cf5", "plasma", "unknown", plasma, "imatinib month 37",
                       date="2018-03-05"),
            ],
            "GIST08_N",
            [("W557_K558del", "primary"), ("V654A", "secondary")],
            {
                "GIST08_L1a": {"W557_K558del": (118, 80), "V654A": (190, 0)},
                "GIST08_L1b": {"W557_K558del": (110, 92), "V654A": (150, 58)},
                "GIST08_L2": {"W557_K558del": (130, 88), "V654A": (172, 0)},
                "GIST08_cf1": {"W557_K558del": (5640, 360), "V654A": (6000, 0)},
                "GIST08_cf2": {"W557_K558del": (5976, 24), "V654A": (6500, 0)},
                "GIST08_cf3": {"W557_K558del": (4985, 15), "V654A": (5000, 0)},
                "GIST08_cf4": {"W557_K558del": (7904, 96), "V654A": (7976, 24)},
                "GIST08_cf5": {"W557_K558del": (9600, 400), "V654A": (9850, 150)},
                "GIST08_N": {"W557_K558del": (3100, 0), "V654A": (3050, 0)},
            },
        ),
    ]


# --------------------------------------------------------------------------------------------
# Number formatting as the tools write it
# --------------------------------------------------------------------------------------------


def gatk_double(value: float) -> str:
    """htsjdk ``VCFEncoder.formatVCFDouble``: %.3e below 0.01, %.3f below 1, else %.2f."""
    if value < 1:
        if value < 0.01:
            return f"{value:.3e}" if abs(value) >= 1e-20 else "0.00"
        return f"{value:.3f}"
    return f"{value:.2f}"


def java_sci(value: float) -> str:
    """Java ``DecimalFormat("0.####E0")`` as VarScan2 writes p-values (``9.4655E-1``, ``1E0``)."""
    if value == 0:
        return "0E0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = f"{value / 10 ** exponent:.4f}".rstrip("0").rstrip(".")
    if mantissa == "10":
        mantissa, exponent = "1", exponent + 1
    return f"{mantissa}E{exponent}"


def percent(alt: int, total: int) -> str:
    """VarScan2 FREQ: ``48.7%``, ``0%``, ``30.77%``."""
    if total == 0:
        return "0%"
    return f"{100 * alt / total:.2f}".rstrip("0").rstrip(".") + "%"


def split(rng: random.Random, n: int) -> tuple[int, int]:
    """Reads of one allele split between two orientations / strands."""
    if n == 0:
        return 0, 0
    first = rng.randint(round(n * 0.42), round(n * 0.58))
    return first, n - first


def declare(kind: str, rows: list[tuple[str, str, str, str]]) -> list[str]:
    """``##INFO``/``##FORMAT`` lines from (ID, Number, Type, Description) rows."""
    return [f'##{kind}=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in rows]


def column_line(samples: list[str]) -> str:
    return "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                      *samples])


def contig_lines(assembly: str, full: bool = True) -> list[str]:
    contigs = CONTIGS[assembly] if full else [(CHROM[assembly], CHR4_LENGTH[assembly])]
    return [f"##contig=<ID={name},length={length}>" for name, length in contigs]


# --------------------------------------------------------------------------------------------
# Mutect2 (+ FilterMutectCalls, + optional VEP)
# --------------------------------------------------------------------------------------------

MUTECT2_FILTERS = [
    ("FAIL", "Fail the site if all alleles fail but for different reasons."),
    ("PASS", "Site contains at least one allele that passes filters"),
    ("base_qual", "alt median base quality"),
    ("clustered_events", "Clustered events observed in the tumor"),
    ("contamination", "contamination"),
    ("duplicate", "evidence for alt allele is overrepresented by apparent duplicates"),
    ("fragment", "abs(ref - alt) median fragment length"),
    ("germline", "Evidence indicates this site is germline, not somatic"),
    ("haplotype", "Variant near filtered variant on same haplotype."),
    ("low_allele_frac", "Allele fraction is below specified threshold"),
    ("map_qual", "ref - alt median mapping quality"),
    ("multiallelic", "Site filtered because too many alt alleles pass tumor LOD"),
    ("n_ratio", "Ratio of N to alt exceeds specified ratio"),
    ("normal_artifact", "artifact_in_normal"),
    ("orientation", "orientation bias detected by the orientation bias mixture model"),
    ("panel_of_normals", "Blacklisted site in panel of normals"),
    ("position", "median distance of alt variants from end of reads"),
    ("possible_numt", "Allele depth is below expected coverage of NuMT in autosome"),
    ("slippage", "Site filtered due to contraction of short tandem repeat region"),
    ("strand_bias", "Evidence for alt allele comes from one read direction only"),
    ("strict_strand", "Evidence for alt allele is not represented in both directions"),
    ("weak_evidence", "Mutation does not meet likelihood threshold"),
]
MUTECT2_FORMAT = [
    ("AD", "R", "Integer", "Allelic depths for the ref and alt alleles in the order listed"),
    ("AF", "A", "Float", "Allele fractions of alternate alleles in the tumor"),
    ("DP", "1", "Integer",
     "Approximate read depth (reads with MQ=255 or with bad mates are filtered)"),
    ("F1R2", "R", "Integer", "Count of reads in F1R2 pair orientation supporting each allele"),
    ("F2R1", "R", "Integer", "Count of reads in F2R1 pair orientation supporting each allele"),
    ("GQ", "1", "Integer", "Genotype Quality"),
    ("GT", "1", "String", "Genotype"),
    ("PL", "G", "Integer",
     "Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF specification"),
]
MUTECT2_INFO = [
    ("AS_FilterStatus", "A", "String",
     "Filter status for each allele, as assessed by ApplyRecalibration. Note that the VCF filter "
     "field will reflect the most lenient/sensitive status across all alleles."),
    ("AS_SB_TABLE", "1", "String",
     "Allele-specific forward/reverse read counts for strand bias tests. Includes the reference "
     "and alleles separated by |."),
    ("CONTQ", "1", "Float", "Phred-scaled qualities that alt allele are not due to contamination"),
    ("DP", "1", "Integer", "Approximate read depth; some reads may have been filtered"),
    ("ECNT", "1", "Integer", "Number of events in this haplotype"),
    ("GERMQ", "1", "Integer", "Phred-scaled quality that alt alleles are not germline variants"),
    ("MBQ", "R", "Integer", "median base quality"),
    ("MFRL", "R", "Integer", "median fragment length"),
    ("MMQ", "R", "Integer", "median mapping quality"),
    ("MPOS", "A", "Integer", "median distance from end of read"),
    ("NALOD", "A", "Float",
     "Negative log 10 odds of artifact in normal with same allele fraction as tumor"),
    ("NCount", "1", "Integer", "Count of N bases in the pileup"),
    ("NLOD", "A", "Float", "Normal log 10 likelihood ratio of diploid het or hom alt genotypes"),
    ("OCM", "1", "Integer",
     "Number of alt reads whose original alignment doesn't match the current contig."),
    ("PON", "0", "Flag", "site found in panel of normals"),
    ("POPAF", "A", "Float", "negative log 10 population allele frequencies of alt alleles"),
    ("ROQ", "1", "Float",
     "Phred-scaled qualities that alt allele are not due to read orientation artifact"),
    ("RPA", "R", "Integer",
     "Number of times tandem repeat unit is repeated, for each allele (including reference)"),
    ("RU", "1", "String", "Tandem repeat unit (bases)"),
    ("SEQQ", "1", "Integer", "Phred-scaled quality that alt alleles are not sequencing errors"),
    ("STR", "0", "Flag", "Variant is a short tandem repeat"),
    ("STRANDQ", "1", "Integer", "Phred-scaled quality of strand bias artifact"),
    ("STRQ", "1", "Integer",
     "Phred-scaled quality that alt alleles in STRs are not polymerase slippage errors"),
    ("TLOD", "A", "Float", "Log 10 likelihood ratio score of variant existing versus not existing"),
]

VEP_FIELDS = [
    "Allele", "Consequence", "IMPACT", "SYMBOL", "Gene", "Feature_type", "Feature", "BIOTYPE",
    "EXON", "INTRON", "HGVSc", "HGVSp", "cDNA_position", "CDS_position", "Protein_position",
    "Amino_acids", "Codons", "Existing_variation", "DISTANCE", "STRAND", "FLAGS", "VARIANT_CLASS",
    "SYMBOL_SOURCE", "HGNC_ID", "CANONICAL", "MANE_SELECT", "MANE_PLUS_CLINICAL", "TSL", "APPRIS",
    "CCDS", "ENSP", "SWISSPROT", "TREMBL", "UNIPARC", "UNIPROT_ISOFORM", "SIFT", "PolyPhen",
    "DOMAINS", "HGVS_OFFSET", "CLIN_SIG", "SOMATIC", "PHENO", "PUBMED",
]


@dataclass
class Site:
    """One record to write: where, what, and the reads of every sample column."""

    chrom: str
    pos: int
    ref: str
    alt: str
    reads: dict[str, tuple[int, int]]  # file column -> (ref, alt)
    mutation: Mutation | None = None  # None: the off-target record


def patient_sites(patient: Patient, columns: dict[str, str], labels: list[str]) -> list[Site]:
    """Sites for ``labels`` with the reads of each sample id under its ``columns`` name, sorted."""
    sites = []
    for label in labels:
        mutation = MUTATIONS.get(label)
        pos, ref, alt = mutation.vcf[patient.assembly] if mutation else OFF_TARGET_GRCH37
        reads = {column: patient.counts[sid][label] for sid, column in columns.items()}
        sites.append(Site(patient.chrom, pos, ref, alt, reads, mutation))
    return sorted(sites, key=lambda s: s.pos)


def mutect2_header(assembly: str, tumours: list[str], normal: str, columns: list[str],
                   extra: list[str] | None = None) -> list[str]:
    lines = ["##fileformat=VCFv4.2"]
    lines += [f'##FILTER=<ID={i},Description="{d}">' for i, d in MUTECT2_FILTERS]
    lines += declare("FORMAT", MUTECT2_FORMAT) + declare("INFO", MUTECT2_INFO)
    lines.append("##MutectVersion=2.2")
    lines += contig_lines(assembly)
    lines.append("##filtering_status=These calls have been filtered by FilterMutectCalls to label "
                 "false positives with a list of failed filters and true positives with PASS.")
    lines.append(f"##normal_sample={normal}")
    lines += ["##source=FilterMutectCalls", "##source=Mutect2"]
    lines += [f"##tumor_sample={t}" for t in tumours]
    lines += extra or []
    lines.append(column_line(columns))
    return lines


def mutect2_record(rng: random.Random, site: Site, tumours: list[str], normal: str,
                   columns: list[str], csq: str = "") -> str:
    cells, sb = [], [0, 0, 0, 0]
    depth_sum = 0
    for column in columns:
        ref, alt = site.reads[column]
        total = ref + alt
        depth = total + rng.randint(0, 4)
        depth_sum += depth
        ref_f1, ref_f2 = split(rng, ref)
        alt_f1, alt_f2 = split(rng, alt)
        ref_fw, ref_rv = split(rng, ref)
        alt_fw, alt_rv = split(rng, alt)
        sb = [sb[0] + ref_fw, sb[1] + ref_rv, sb[2] + alt_fw, sb[3] + alt_rv]
        fraction = (alt + 1) / (total + 2)  # Mutect2 reports a model estimate, never exactly 0
        genotype = "0/0" if column == normal else "0/1"
        cells.append(f"{genotype}:{ref},{alt}:{gatk_double(fraction)}:{depth}:"
                     f"{ref_f1},{alt_f1}:{ref_f2},{alt_f2}")
    tumour_alt = sum(site.reads[t][1] for t in tumours)
    normal_depth = sum(site.reads[normal])
    weak = all(site.reads[t][1] <= 1 for t in tumours)  # FilterMutectCalls: below the TLOD bar
    tlod = 1.6 + 1.1 * tumour_alt if weak else 3.2 * tumour_alt + rng.uniform(-4, 4)
    info = [
        f"AS_FilterStatus={'weak_evidence' if weak else 'SITE'}",
        f"AS_SB_TABLE={sb[0]},{sb[1]}|{sb[2]},{sb[3]}",
        f"CONTQ={93 if not weak else 8}",
        f"DP={depth_sum + rng.randint(0, 6)}",
        "ECNT=1",
        "GERMQ=93",
        f"MBQ={rng.randint(32, 35)},{rng.randint(30, 34)}",
        f"MFRL={rng.randint(160, 190)},{rng.randint(155, 195)}",
        "MMQ=60,60",
        f"MPOS={rng.randint(18, 36)}",
        f"NALOD={gatk_double(1.6 + normal_depth / 300)}",
        f"NLOD={gatk_double(0.3 * normal_depth + rng.uniform(-1, 1))}",
        "POPAF=6.00",
        f"ROQ={93 if not weak else 21}",
        f"SEQQ={93 if not weak else 1}",
        f"STRANDQ={93 if not weak else 34}",
        f"TLOD={gatk_double(tlod)}",
    ]
    if csq:
        info.append(f"CSQ={csq}")
    return "\t".join([site.chrom, str(site.pos), ".", site.ref, site.alt, ".",
                      "weak_evidence" if weak else "PASS", ";".join(info),
                      "GT:AD:AF:DP:F1R2:F2R1", *cells])


def vep_csq(mutation: Mutation) -> str:
    """VEP CSQ for a KIT SNV: the GNNK- isoform first, a retained-intron one, canonical last."""
    info = GENE_INFO[mutation.gene]
    c, codon = mutation.c_start, mutation.codon
    ref_aa, alt_aa = mutation.hgvsp[2], mutation.hgvsp[-1]
    alt = mutation.vcf["GRCh38"][2]
    kinase = mutation.codon >= 589
    domains = ("PROSITE_profiles:PS50011&Pfam:PF07714&SMART:SM00219&PANTHER:PTHR24416"
               if kinase else "PIRSF:PIRSF000615&PANTHER:PTHR24416&Gene3D:1.10.510.10")
    change = mutation.hgvsc[len(f"c.{c}"):]

    def entry(**values: str) -> str:
        row = dict.fromkeys(VEP_FIELDS, "")
        row.update(Allele=alt, IMPACT="MODERATE", SYMBOL=mutation.gene, Gene=info["ensg"],
                   Feature_type="Transcript", BIOTYPE="protein_coding", STRAND="1",
                   VARIANT_CLASS="SNV", SYMBOL_SOURCE="HGNC", HGNC_ID=info["hgnc"],
                   Consequence="missense_variant", SOMATIC="1", PHENO="1")
        row.update(values)
        return "|".join(row[f] for f in VEP_FIELDS)

    exon = f"{mutation.exon}/{info['exons']}"
    gnnk_minus = entry(
        Feature="ENST00000412167", EXON=exon, HGVSc=f"ENST00000412167.6:c.{c - 12}{change}",
        HGVSp=f"ENSP00000390987.2:p.{AA3[ref_aa]}{codon - 4}{AA3[alt_aa]}",
        cDNA_position=str(c - 12 + info["utr5"]), CDS_position=str(c - 12),
        Protein_position=str(codon - 4), Amino_acids=f"{ref_aa}/{alt_aa}", Codons=mutation.codons,
        TSL="1", APPRIS="A2", ENSP="ENSP00000390987", SWISSPROT=info["swissprot"],
        UNIPROT_ISOFORM="P10721-2", SIFT="deleterious(0)", PolyPhen="probably_damaging(0.998)",
        DOMAINS=domains,
    )
    retained = entry(
        Feature="ENST00000512959", BIOTYPE="retained_intron", IMPACT="MODIFIER",
        Consequence="non_coding_transcript_exon_variant", EXON=f"{mutation.exon - 7}/10",
        HGVSc=f"ENST00000512959.1:n.{c - 1290}{change}", cDNA_position=str(c - 1290), TSL="2",
    )
    canonical = entry(
        Feature=info["enst"], EXON=exon,
        HGVSc=f"{info['enst']}.{info['enst_version']}:{mutation.hgvsc}",
        HGVSp=f"{info['ensp']}:{mutation.hgvsp_long}",
        cDNA_position=str(c + info["utr5"]), CDS_position=str(c), Protein_position=str(codon),
        Amino_acids=f"{ref_aa}/{alt_aa}", Codons=mutation.codons, CANONICAL="YES",
        MANE_SELECT=info["refseq"], TSL="1", APPRIS="P3", CCDS="CCDS3496.1",
        ENSP=info["ensp"].split(".")[0], SWISSPROT=info["swissprot"],
        UNIPROT_ISOFORM="P10721-1", SIFT="deleterious(0)", PolyPhen="probably_damaging(1)",
        DOMAINS=domains, CLIN_SIG="pathogenic",
    )
    return ",".join([gnnk_minus, retained, canonical])


def write_mutect2(name: str, patient: Patient, order: list[str], labels: list[str],
                  vep: bool = False) -> str:
    """A FilterMutectCalls VCF with the columns of ``order`` (tumour ids and the normal id)."""
    rng = random.Random(f"{SEED}:{name}")
    columns = {sid: patient.column(sid) for sid in order}
    tumours = [columns[sid] for sid in order if sid != patient.normal]
    normal = columns[patient.normal]
    extra = []
    if vep:
        extra = [
            '##VEP="v110" cache="/data/vep_cache/homo_sapiens/110_GRCh38" ensembl=110.584a8f3 '
            'ensembl-variation=110.d34d25e ensembl-io=110.b1a0f7b assembly="GRCh38.p14" '
            'dbSNP="156" COSMIC="97" ClinVar="202305" gencode="GENCODE 44" genebuild="2014-07" '
            'polyphen="2.2.3" sift="sift5.2.2"',
            '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
            f'Ensembl VEP. Format: {"|".join(VEP_FIELDS)}">',
        ]
    lines = mutect2_header(patient.assembly, tumours, normal, list(columns.values()), extra)
    for site in patient_sites(patient, columns, labels):
        csq = vep_csq(site.mutation) if vep and site.mutation else ""
        lines.append(mutect2_record(rng, site, tumours, normal, list(columns.values()), csq))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Strelka2
# --------------------------------------------------------------------------------------------


def strelka_header(assembly: str, kind: str) -> list[str]:
    common_info = [
        ("NT", "1", "String", "Genotype of the normal in all data tiers, as used to classify "
         "somatic variants. One of {ref,het,hom,conflict}."),
        ("SGT", "1", "String", "Most likely somatic genotype excluding normal noise states"),
    ]
    if kind == "snvs":
        info = [
            ("QSS", "1", "Integer", "Quality score for any somatic snv, ie. for the ALT allele to "
             "be present at a significantly different frequency in the tumor and normal"),
            ("TQSS", "1", "Integer", "Data tier used to compute QSS"),
            common_info[0],
            ("QSS_NT", "1", "Integer",
             "Quality score reflecting the joint probability of a somatic variant and NT"),
            ("TQSS_NT", "1", "Integer", "Data tier used to compute QSS_NT"),
            common_info[1],
            ("SOMATIC", "0", "Flag", "Somatic mutation"),
            ("DP", "1", "Integer", "Combined depth across samples"),
            ("MQ", "1", "Float", "RMS Mapping Quality"),
            ("MQ0", "1", "Integer", "Total Mapping Quality Zero Reads"),
            ("ReadPosRankSum", "1", "Float",
             "Z-score from Wilcoxon rank sum test of Alt Vs. Ref read-position in the tumor"),
            ("SNVSB", "1", "Float", "Somatic SNV site strand bias"),
            ("SomaticEVS", "1", "Float", "Somatic Empirical Variant Score (EVS) expressing the "
             "phred-scaled probability of the call being a false positive observation."),
        ]
        fmt = [
            ("DP", "1", "Integer", "Read depth for tier1 (used+filtered)"),
            ("FDP", "1", "Integer", "Number of basecalls filtered from original read depth for "
             "tier1"),
            ("SDP", "1", "Integer", "Number of reads with deletions spanning this site at tier1"),
            ("SUBDP", "1", "Integer",
             "Number of reads below tier1 mapping quality threshold aligned across this site"),
            *[(f"{b}U", "2", "Integer", f"Number of '{b}' alleles used in tiers 1,2")
              for b in "ACGT"],
        ]
        filters = [("LowEVS", "Somatic Empirical Variant Score (SomaticEVS) is below threshold"),
                   ("LowDepth", "Tumor or normal sample read depth at this locus is below 2")]
        head = ["##content=strelka somatic snv calls", "##priorSomaticSnvRate=0.0001"]
    else:
        info = [
            ("QSI", "1", "Integer", "Quality score for any somatic variant, ie. for the ALT "
             "haplotype to be present at a significantly different frequency in the tumor and "
             "normal"),
            ("TQSI", "1", "Integer", "Data tier used to compute QSI"),
            common_info[0],
            ("QSI_NT", "1", "Integer",
             "Quality score reflecting the joint probability of a somatic variant and NT"),
            ("TQSI_NT", "1", "Integer", "Data tier used to compute QSI_NT"),
            common_info[1],
            ("RU", "1", "String", "Smallest repeating sequence unit in inserted or deleted "
             "sequence"),
            ("RC", "1", "Integer", "Number of times RU repeats in the reference allele"),
            ("IC", "1", "Integer", "Number of times RU repeats in the indel allele"),
            ("IHP", "1", "Integer",
             "Largest reference interrupted homopolymer length intersecting with the indel"),
            ("MQ", "1", "Float", "RMS Mapping Quality"),
            ("MQ0", "1", "Integer", "Total Mapping Quality Zero Reads"),
            ("SOMATIC", "0", "Flag", "Somatic mutation"),
            ("OVERLAP", "0", "Flag", "Somatic indel possibly overlaps a second indel."),
            ("SomaticEVS", "1", "Float", "Somatic Empirical Variant Score (EVS) expressing the "
             "phred-scaled probability of the call being a false positive observation."),
        ]
        fmt = [
            ("DP", "1", "Integer", "Read depth for tier1"),
            ("DP2", "1", "Integer", "Read depth for tier2"),
            ("TAR", "2", "Integer", "Reads strongly supporting alternate allele for tiers 1,2"),
            ("TIR", "2", "Integer", "Reads strongly supporting indel allele for tiers 1,2"),
            ("TOR", "2", "Integer", "Other reads (weak support or insufficient indel breakpoint "
             "overlap) for tiers 1,2"),
            ("DP50", "1", "Float", "Average tier1 read depth within 50 bases"),
            ("FDP50", "1", "Float", "Average tier1 number of basecalls filtered from original "
             "read depth within 50 bases"),
            ("SUBDP50", "1", "Float", "Average number of reads below tier1 mapping quality "
             "threshold aligned across sites within 50 bases"),
            ("BCN50", "1", "Float", "Fraction of filtered reads within 50 bases of the indel."),
        ]
        filters = [("LowEVS", "Somatic Empirical Variant Score (SomaticEVS) is below threshold"),
                   ("LowDepth", "Tumor or normal sample read depth at this locus is below 2"),
                   ("HighDepth", "Locus depth is greater than 3x the mean chromosome depth in "
                    "the normal sample")]
        head = ["##content=strelka somatic indel calls", "##priorSomaticIndelRate=1e-06"]
    lines = ["##fileformat=VCFv4.1", "##fileDate=20230314", "##source=strelka",
             "##source_version=2.9.10", "##reference=file:///data/ref/GRCh38_full_analysis_set.fa"]
    lines += contig_lines(assembly)
    lines += head
    lines += declare("INFO", info) + declare("FORMAT", fmt)
    lines += [f'##FILTER=<ID={i},Description="{d}">' for i, d in filters]
    lines.append(column_line(["NORMAL", "TUMOR"]))
    return lines


def strelka_snv(rng: random.Random, site: Site) -> str:
    cells = []
    for column in ("NORMAL", "TUMOR"):
        ref, alt = site.reads[column]
        filtered = rng.randint(0, 2)
        counts = {b: (0, 0) for b in "ACGT"}
        counts[site.ref] = (ref, ref + rng.randint(0, 3))
        counts[site.alt] = (alt, alt + (rng.randint(0, 2) if alt else 0))
        units = ":".join(f"{t1},{t2}" for t1, t2 in (counts[b] for b in "ACGT"))
        cells.append(f"{ref + alt + filtered}:{filtered}:0:0:{units}")
    tumour_alt = site.reads["TUMOR"][1]
    qss = min(3 * tumour_alt + rng.randint(0, 9), 250)
    depth = sum(site.reads["NORMAL"]) + sum(site.reads["TUMOR"])
    ref, alt = site.ref, site.alt
    info = (f"SOMATIC;QSS={qss};TQSS=1;NT=ref;QSS_NT={qss};TQSS_NT=1;SGT={ref}{ref}->{ref}{alt};"
            f"DP={depth + rng.randint(0, 5)};MQ=60.00;MQ0=0;"
            f"ReadPosRankSum={rng.uniform(-1.5, 1.5):.2f};SNVSB=0.00;"
            f"SomaticEVS={rng.uniform(14, 19):.2f}")
    return "\t".join([site.chrom, str(site.pos), ".", ref, alt, ".", "PASS", info,
                      "DP:FDP:SDP:SUBDP:AU:CU:GU:TU", *cells])


def strelka_indel(rng: random.Random, site: Site) -> str:
    cells = []
    for column in ("NORMAL", "TUMOR"):
        ref, alt = site.reads[column]
        other = rng.randint(0, 3)
        depth = ref + alt + other
        cells.append(f"{depth}:{depth}:{ref},{ref + rng.randint(1, 4)}:{alt},{alt}:"
                     f"{other},{other + rng.randint(0, 2)}:{depth + rng.uniform(-3, 3):.2f}:"
                     f"{rng.uniform(0, 0.6):.2f}:0.00:0.00")
    qsi = min(2 * site.reads["TUMOR"][1] + rng.randint(0, 9), 250)
    unit = site.ref[1:] if len(site.ref) > len(site.alt) else site.alt[1:]
    info = (f"SOMATIC;QSI={qsi};TQSI=1;NT=ref;QSI_NT={qsi};TQSI_NT=1;SGT=ref->het;MQ=60.00;"
            f"MQ0=0;RU={unit};RC=2;IC=1;IHP=2;SomaticEVS={rng.uniform(13, 18):.2f}")
    return "\t".join([site.chrom, str(site.pos), ".", site.ref, site.alt, ".", "PASS",
                      info, "DP:DP2:TAR:TIR:TOR:DP50:FDP50:SUBDP50:BCN50", *cells])


def pair_labels(patient: Patient, sample_id: str, snvs: bool) -> list[str]:
    """Mutations called in one tumour, SNVs or indels (callers that split them into two files)."""
    return [label for label in patient.counts[sample_id] if MUTATIONS[label].is_snv == snvs]


def pair_columns(patient: Patient, sample_id: str) -> dict[str, str]:
    return {patient.normal: "NORMAL", sample_id: "TUMOR"}


def write_strelka(name: str, patient: Patient, sample_id: str, kind: str) -> str:
    rng = random.Random(f"{SEED}:{name}")
    record = strelka_snv if kind == "snvs" else strelka_indel
    lines = strelka_header(patient.assembly, kind)
    labels = pair_labels(patient, sample_id, kind == "snvs")
    for site in patient_sites(patient, pair_columns(patient, sample_id), labels):
        lines.append(record(rng, site))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# VarScan2
# --------------------------------------------------------------------------------------------

VARSCAN_HEADER = [
    "##fileformat=VCFv4.1",
    "##source=VarScan2",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth of quality bases">',
    '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Indicates if record is a somatic '
    'mutation">',
    '##INFO=<ID=SS,Number=1,Type=String,Description="Somatic status of variant (0=Reference,'
    '1=Germline,2=Somatic,3=LOH, or 5=Unknown)">',
    '##INFO=<ID=SSC,Number=1,Type=String,Description="Somatic score in Phred scale (0-255) '
    'derived from somatic p-value">',
    '##INFO=<ID=GPV,Number=1,Type=Float,Description="Fisher\'s Exact Test P-value of tumor+normal '
    'versus no variant for Germline calls">',
    '##INFO=<ID=SPV,Number=1,Type=Float,Description="Fisher\'s Exact Test P-value of tumor versus '
    'normal for Somatic/LOH calls">',
    '##FILTER=<ID=str10,Description="Less than 10% or more than 90% of variant supporting reads '
    'on one strand">',
    '##FILTER=<ID=indelError,Description="Likely artifact due to indel reads at this position">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype Quality">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read Depth">',
    '##FORMAT=<ID=RD,Number=1,Type=Integer,Description="Depth of reference-supporting bases '
    '(reads1)">',
    '##FORMAT=<ID=AD,Number=1,Type=Integer,Description="Depth of variant-supporting bases '
    '(reads2)">',
    '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="Variant allele frequency">',
    '##FORMAT=<ID=DP4,Number=1,Type=String,Description="Strand read counts: ref/fwd, ref/rev, '
    'var/fwd, var/rev">',
]


def varscan_record(rng: random.Random, site: Site) -> str:
    cells, depth = [], 0
    for column in ("NORMAL", "TUMOR"):
        ref, alt = site.reads[column]
        dp = ref + alt + rng.randint(0, 3)  # DP counts quality bases of any allele
        depth += dp
        ref_fw, ref_rv = split(rng, ref)
        alt_fw, alt_rv = split(rng, alt)
        genotype = "0/1" if alt else "0/0"
        cells.append(f"{genotype}:.:{dp}:{ref}:{alt}:{percent(alt, ref + alt)}:"
                     f"{ref_fw},{ref_rv},{alt_fw},{alt_rv}")
    spv = 10 ** -(site.reads["TUMOR"][1] / 2.7 + rng.uniform(0, 1))
    ssc = min(255, int(-10 * math.log10(spv)))
    info = f"DP={depth};SOMATIC;SS=2;SSC={ssc};GPV=1E0;SPV={java_sci(spv)}"
    return "\t".join([site.chrom, str(site.pos), ".", site.ref, site.alt, ".", "PASS", info,
                      "GT:GQ:DP:RD:AD:FREQ:DP4", *cells])


def write_varscan(name: str, patient: Patient, sample_id: str, kind: str) -> str:
    rng = random.Random(f"{SEED}:{name}")
    # VarScan2 itself writes no ##contig line; the pipeline's reheader step added chr4's
    lines = [*VARSCAN_HEADER, *contig_lines(patient.assembly, full=False)]
    lines.append(column_line(["NORMAL", "TUMOR"]))
    labels = pair_labels(patient, sample_id, kind == "snp")
    for site in patient_sites(patient, pair_columns(patient, sample_id), labels):
        lines.append(varscan_record(rng, site))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# FreeBayes
# --------------------------------------------------------------------------------------------

FREEBAYES_INFO = [
    ("NS", "1", "Integer", "Number of samples with data"),
    ("DP", "1", "Integer", "Total read depth at the locus"),
    ("DPB", "1", "Float",
     "Total read depth per bp at the locus; bases in reads overlapping / bases in haplotype"),
    ("AC", "A", "Integer", "Total number of alternate alleles in called genotypes"),
    ("AN", "1", "Integer", "Total number of alleles in called genotypes"),
    ("AF", "A", "Float", "Estimated allele frequency in the range (0,1]"),
    ("RO", "1", "Integer", "Count of full observations of the reference haplotype."),
    ("AO", "A", "Integer", "Count of full observations of this alternate haplotype."),
    ("QR", "1", "Integer", "Reference allele quality sum in phred"),
    ("QA", "A", "Integer", "Alternate allele quality sum in phred"),
    ("SRF", "1", "Integer", "Number of reference observations on the forward strand"),
    ("SRR", "1", "Integer", "Number of reference observations on the reverse strand"),
    ("SAF", "A", "Integer", "Number of alternate observations on the forward strand"),
    ("SAR", "A", "Integer", "Number of alternate observations on the reverse strand"),
    ("AB", "A", "Float", "Allele balance at heterozygous sites: a number between 0 and 1 "
     "representing the ratio of reads showing the reference allele to all reads, considering "
     "only reads from individuals called as heterozygous"),
    ("RUN", "A", "Integer",
     "Run length: the number of consecutive repeats of the alternate allele in the reference "
     "genome"),
    ("MQM", "A", "Float", "Mean mapping quality of observed alternate alleles"),
    ("MQMR", "1", "Float", "Mean mapping quality of observed reference alleles"),
    ("ODDS", "1", "Float", "The log odds ratio of the best genotype combination to the "
     "second-best."),
    ("TYPE", "A", "String", "The type of allele, either snp, mnp, ins, del, or complex."),
    ("CIGAR", "A", "String", "The extended CIGAR representation of each alternate allele, with "
     "the exception that '=' is replaced by 'M' to ease VCF parsing.  Note that INDEL alleles do "
     "not have the first matched base (which is provided by default, per the spec) referred to "
     "by the CIGAR."),
    ("NUMALT", "1", "Integer",
     "Number of unique non-reference alleles in called genotypes at this position."),
    ("LEN", "A", "Integer", "allele length"),
]
FREEBAYES_FORMAT = [
    ("GT", "1", "String", "Genotype"),
    ("GQ", "1", "Float", "Genotype Quality, the Phred-scaled marginal (or unconditional) "
     "probability of the called genotype"),
    ("GL", "G", "Float", "Genotype Likelihood, log10-scaled likelihoods of the data given the "
     "called genotype for each possible genotype generated from the reference and alternate "
     "alleles given the sample ploidy"),
    ("DP", "1", "Integer", "Read Depth"),
    ("AD", "R", "Integer", "Number of observation for each allele"),
    ("RO", "1", "Integer", "Reference allele observation count"),
    ("QR", "1", "Integer", "Sum of quality of the reference observations"),
    ("AO", "A", "Integer", "Alternate allele observation count"),
    ("QA", "A", "Integer", "Sum of quality of the alternate observations"),
]


def write_freebayes(name: str, patient: Patient, order: list[str]) -> str:
    rng = random.Random(f"{SEED}:{name}")
    by_id = {sid: patient.column(sid) for sid in order}
    columns = list(by_id.values())
    lines = ["##fileformat=VCFv4.2", "##fileDate=20230921", "##source=freeBayes v1.3.6",
             "##reference=/data/ref/GRCh38_full_analysis_set.fa"]
    lines += contig_lines(patient.assembly)
    lines.append("##phasing=none")
    lines.append("##commandline=\"freebayes -f /data/ref/GRCh38_full_analysis_set.fa "
                 "--pooled-continuous --min-alternate-fraction 0.03 -t kit_pdgfra.bed "
                 + " ".join(f"{c}.bam" for c in columns) + '"')
    lines += declare("INFO", FREEBAYES_INFO) + declare("FORMAT", FREEBAYES_FORMAT)
    lines.append(column_line(columns))
    for site in patient_sites(patient, by_id, [label for label, _ in patient.mutations]):
        cells, ro_sum, ao_sum, qr_sum, qa_sum = [], 0, 0, 0, 0
        het_ref, het_total, called = 0, 0, 0
        for column in columns:
            ref, alt = site.reads[column]
            qr, qa = ref * rng.randint(36, 38), alt * rng.randint(36, 38)
            het = alt >= 2
            gl = (f"{-qa / 10:.4g},0,{-qr / 10:.4g}" if het
                  else f"0,{-(ref * 0.3):.4g},{-qr / 10:.4g}")
            gq = f"{min(160.0, 0.5 * (ref + alt)):.4g}"
            cells.append(f"{'0/1' if het else '0/0'}:{gq}:{gl}:{ref + alt}:{ref},{alt}:{ref}:{qr}"
                         f":{alt}:{qa}")
            ro_sum, ao_sum, qr_sum, qa_sum = ro_sum + ref, ao_sum + alt, qr_sum + qr, qa_sum + qa
            if het:
                het_ref, het_total, called = het_ref + ref, het_total + ref + alt, called + 1
        srf, srr = split(rng, ro_sum)
        saf, sar = split(rng, ao_sum)
        depth = ro_sum + ao_sum
        qual = 3.4 * ao_sum * 3.6 + rng.uniform(0, 5)
        info = {
            "AB": f"{het_ref / het_total:.6g}" if het_total else "0", "AC": str(called),
            "AF": f"{called / (2 * len(columns)):.6g}", "AN": str(2 * len(columns)),
            "AO": str(ao_sum), "CIGAR": "1X", "DP": str(depth), "DPB": str(depth), "LEN": "1",
            "MQM": "60", "MQMR": f"{rng.uniform(59.6, 60):.6g}", "NS": str(len(columns)),
            "NUMALT": "1", "ODDS": f"{rng.uniform(80, 160):.6g}",
            "QA": str(qa_sum), "QR": str(qr_sum), "RO": str(ro_sum),
            "RUN": "1", "SAF": str(saf), "SAR": str(sar), "SRF": str(srf), "SRR": str(srr),
            "TYPE": "snp",
        }
        lines.append("\t".join([
            site.chrom, str(site.pos), ".", site.ref, site.alt, f"{qual:.6g}", ".",
            ";".join(f"{k}={v}" for k, v in sorted(info.items())), "GT:GQ:GL:DP:AD:RO:QR:AO:QA",
            *cells,
        ]))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# vcf2maf MAF
# --------------------------------------------------------------------------------------------

MAF_COLUMNS = [
    "Hugo_Symbol", "Entrez_Gene_Id", "Center", "NCBI_Build", "Chromosome", "Start_Position",
    "End_Position", "Strand", "Variant_Classification", "Variant_Type", "Reference_Allele",
    "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "dbSNP_RS", "dbSNP_Val_Status",
    "Tumor_Sample_Barcode", "Matched_Norm_Sample_Barcode", "Match_Norm_Seq_Allele1",
    "Match_Norm_Seq_Allele2", "Tumor_Validation_Allele1", "Tumor_Validation_Allele2",
    "Match_Norm_Validation_Allele1", "Match_Norm_Validation_Allele2", "Verification_Status",
    "Validation_Status", "Mutation_Status", "Sequencing_Phase", "Sequence_Source",
    "Validation_Method", "Score", "BAM_File", "Sequencer", "Tumor_Sample_UUID",
    "Matched_Norm_Sample_UUID", "HGVSc", "HGVSp", "HGVSp_Short", "Transcript_ID", "Exon_Number",
    "t_depth", "t_ref_count", "t_alt_count", "n_depth", "n_ref_count", "n_alt_count",
    "all_effects", "Allele", "Gene", "Feature", "Feature_type", "Consequence", "cDNA_position",
    "CDS_position", "Protein_position", "Amino_acids", "Codons", "Existing_variation",
    "ALLELE_NUM", "DISTANCE", "STRAND_VEP", "SYMBOL", "SYMBOL_SOURCE", "HGNC_ID", "BIOTYPE",
    "CANONICAL", "CCDS", "ENSP", "SWISSPROT", "TREMBL", "UNIPARC", "RefSeq", "SIFT", "PolyPhen",
    "EXON", "INTRON", "DOMAINS", "AF", "AFR_AF", "AMR_AF", "ASN_AF", "EAS_AF", "EUR_AF", "SAS_AF",
    "AA_AF", "EA_AF", "CLIN_SIG", "SOMATIC", "PUBMED", "MOTIF_NAME", "MOTIF_POS", "HIGH_INF_POS",
    "MOTIF_SCORE_CHANGE", "IMPACT", "PICK", "VARIANT_CLASS", "TSL", "HGVS_OFFSET", "PHENO",
    "MINIMISED", "GENE_PHENO", "FILTER", "flanking_bps", "vcf_id", "vcf_qual", "gnomADe_AF",
    "gnomADe_AFR_AF", "gnomADe_AMR_AF", "gnomADe_ASJ_AF", "gnomADe_EAS_AF", "gnomADe_FIN_AF",
    "gnomADe_NFE_AF", "gnomADe_OTH_AF", "gnomADe_SAS_AF", "vcf_pos",
]


def write_maf(patient: Patient) -> str:
    """vcf2maf rows (one per tumour and mutation) for SNVs with a known reference codon."""
    lines = ["#version 2.4", "\t".join(MAF_COLUMNS)]
    normal_counts = patient.counts[patient.normal]
    for sample in patient.samples:
        for label, _ in patient.mutations:
            m = MUTATIONS[label]
            info = GENE_INFO[m.gene]
            pos, ref, alt = m.vcf[patient.assembly]
            t_ref, t_alt = patient.counts[sample.sample_id][label]
            n_ref, n_alt = normal_counts[label]
            if not (m.is_snv and m.ref_codon and (m.c_start - 1) % 3 == 1):
                raise ValueError(f"{label}: this MAF writer handles mid-codon SNVs only")
            row = dict.fromkeys(MAF_COLUMNS, "")
            row.update({
                "Hugo_Symbol": m.gene, "Entrez_Gene_Id": info["entrez"], "Center": ".",
                "NCBI_Build": patient.assembly, "Chromosome": patient.chrom,
                "Start_Position": str(pos), "End_Position": str(pos), "Strand": "+",
                "Variant_Classification": "Missense_Mutation", "Variant_Type": "SNP",
                "Reference_Allele": ref, "Tumor_Seq_Allele1": ref, "Tumor_Seq_Allele2": alt,
                "dbSNP_RS": "novel", "Tumor_Sample_Barcode": sample.column or sample.sample_id,
                "Matched_Norm_Sample_Barcode": patient.normal, "Match_Norm_Seq_Allele1": ref,
                "Match_Norm_Seq_Allele2": ref, "HGVSc": m.hgvsc, "HGVSp": m.hgvsp_long,
                "HGVSp_Short": m.hgvsp, "Transcript_ID": info["enst"],
                "Exon_Number": f"{m.exon}/{info['exons']}", "t_depth": str(t_ref + t_alt),
                "t_ref_count": str(t_ref), "t_alt_count": str(t_alt),
                "n_depth": str(n_ref + n_alt), "n_ref_count": str(n_ref),
                "n_alt_count": str(n_alt),
                "all_effects": (f"{m.gene},missense_variant,{m.hgvsp_long},{info['enst']},"
                                f"{info['refseq']};"),
                "Allele": alt, "Gene": info["ensg"], "Feature": info["enst"],
                "Feature_type": "Transcript", "Consequence": "missense_variant",
                "cDNA_position": str(m.c_start + info["utr5"]),
                "CDS_position": str(m.c_start), "Protein_position": str(m.codon),
                "Amino_acids": f"{m.hgvsp[2]}/{m.hgvsp[-1]}", "Codons": m.codons, "ALLELE_NUM": "1",
                "STRAND_VEP": "1", "SYMBOL": m.gene, "SYMBOL_SOURCE": "HGNC",
                "HGNC_ID": info["hgnc"], "BIOTYPE": "protein_coding", "CANONICAL": "YES",
                "ENSP": info["ensp"].split(".")[0], "SWISSPROT": info["swissprot"],
                "RefSeq": info["refseq"], "SIFT": "deleterious(0)",
                "PolyPhen": "probably_damaging(0.999)", "EXON": f"{m.exon}/{info['exons']}",
                "DOMAINS": "PROSITE_profiles:PS50011&Pfam:PF07714&SMART:SM00219",
                "CLIN_SIG": "pathogenic", "SOMATIC": "1", "IMPACT": "MODERATE", "PICK": "1",
                "VARIANT_CLASS": "SNV", "TSL": "1", "PHENO": "1", "GENE_PHENO": "1",
                "FILTER": "PASS", "flanking_bps": m.ref_codon, "vcf_id": ".",
                "vcf_qual": ".", "vcf_pos": str(pos),
            })
            lines.append("\t".join(row[c] for c in MAF_COLUMNS))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_bgzipped(text: str, target: Path, scratch: Path) -> list[Path]:
    """bgzip ``text`` to ``target`` (``.vcf.gz``) and tabix-index it, through pysam only."""
    plain = scratch / target.name.removesuffix(".gz")
    plain.write_text(text, encoding="utf-8")
    pysam.tabix_compress(str(plain), str(target), force=True)
    pysam.tabix_index(str(target), preset="vcf", force=True)
    return [target, Path(str(target) + ".tbi")]


#: Reads at the mutation sites of GIST02, whose Strelka2 calls cannot show absence: with these
#: BAMs lesiontrack counts reads itself, and the controlled lesion L2 becomes evaluable.
#: sample -> mutation label -> (REF reads, ALT reads).
BAM_READS = {
    "GIST02_L1": {"V559del": (96, 84), "T670I": (152, 47), "D816V": (171, 38)},
    "GIST02_L2": {"V559del": (109, 77), "T670I": (163, 0), "D816V": (158, 1)},
    # GIST03 (VarScan2): each progressive lesion read at depth at the other's secondary site,
    # so each secondary is absent, with power, where the other is detected (polyclonal).
    "GIST03_L1": {"N822K": (163, 44), "D820Y": (184, 0)},  # 391 reads cover D820
    "GIST03_L2": {"D820Y": (171, 52), "N822K": (176, 0)},  # 399 reads cover N822
}
READ_LENGTH = 100


def _reference_at_other_sites(seq: str, start: int, label: str,
                              reads: dict[str, tuple[int, int]], assembly: str) -> str:
    """``seq`` (all-match, from ``start``) with the REF base at every other substitution site of
    the BAM it covers: filler there could read as the other mutation (GIST03's D820 and N822
    are 8 bases apart)."""
    for other in sorted(reads):
        if other == label:
            continue
        pos, ref, alt = minimal(*MUTATIONS[other].vcf[assembly])
        offset = pos - start
        if "-" in (ref, alt) or offset < 0 or offset + len(ref) > len(seq):
            continue
        seq = seq[:offset] + ref + seq[offset + len(ref):]
    return seq


def write_bam(target: Path, sample_id: str, reads: dict[str, tuple[int, int]],
              assembly: str, seed: str) -> list[Path]:
    """A coordinate-sorted, indexed BAM with ``reads`` at each site (pysam only).

    Read bases away from the site are filler (no reference sequence is shipped); lesiontrack's
    counting needs the site's bases and the CIGAR only.
    """
    rng = random.Random(seed)
    chrom = CHROM[assembly]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": chrom, "LN": CHR4_LENGTH[assembly]}],
              "RG": [{"ID": f"{sample_id}.1", "SM": sample_id, "PL": "ILLUMINA"}]}
    records = []
    for label, (n_ref, n_alt) in sorted(reads.items()):
        pos, ref, alt = minimal(*MUTATIONS[label].vcf[assembly])
        for i in range(n_ref + n_alt):
            carries = i < n_alt
            start = pos - rng.randint(10, READ_LENGTH - 20)
            left = pos - start  # aligned bases before the site
            filler = "".join(rng.choice("ACGT") for _ in range(READ_LENGTH))
            if alt == "-" and carries:  # the deletion: left M, the deleted bases D, the rest M
                cigar = f"{left}M{len(ref)}D{READ_LENGTH - left}M"
                seq = filler
            else:  # REF or the substituted bases at the site, filler elsewhere
                cigar = f"{READ_LENGTH}M"
                site = alt if carries else ref
                seq = filler[:left] + site + filler[left + len(site):]
                seq = _reference_at_other_sites(seq, start, label, reads, assembly)
            records.append((start, f"{label}_{'alt' if carries else 'ref'}_{i:03d}", cigar, seq))
    records.sort()
    with pysam.AlignmentFile(str(target), "wb", header=header) as out:
        for start, name, cigar, seq in records:
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_name = name, chrom
            read.reference_start, read.cigarstring = start - 1, cigar
            read.query_sequence = seq
            read.query_qualities = pysam.qualitystring_to_array("F" * len(seq))
            read.mapping_quality, read.flag = 60, 0
            read.set_tag("RG", f"{sample_id}.1")
            out.write(read)
    pysam.index(str(target))
    return [target, Path(str(target) + ".bai")]


@dataclass(frozen=True)
class CallsFile:
    path: str  # relative to the sample sheet's folder
    sample_ids: tuple[str, ...]  # the sheet samples whose calls it holds
    text: str
    bgzip: bool  # bgzip + tabix (Mutect2, Strelka2, VEP, FreeBayes pipelines) or plain text


def mutect2_joint(patient: Patient, vep: bool = False) -> list[CallsFile]:
    """GATK4 multi-sample Mutect2 (all tumours + the normal in one VCF), optionally VEP'd."""
    name = f"{patient.patient_id}.mutect2{'.vep' if vep else ''}.vcf.gz"
    labels = [label for label, _ in patient.mutations]
    text = write_mutect2(name, patient, [*patient.tumours, patient.normal], labels, vep)
    return [CallsFile(f"vcf/{name}", tuple(patient.tumours), text, True)]


def mutect2_single(patient: Patient) -> list[CallsFile]:
    """One tumour/normal Mutect2 VCF per sample (normal column first)."""
    files = []
    for sid in patient.tumours:
        name = f"{sid}.mutect2.filtered.vcf.gz"
        text = write_mutect2(name, patient, [patient.normal, sid], list(patient.counts[sid]))
        files.append(CallsFile(f"vcf/{name}", (sid,), text, True))
    return files


def strelka2_pairs(patient: Patient) -> list[CallsFile]:
    files = []
    for sid in patient.tumours:
        for kind in ("snvs", "indels"):
            name = f"{sid}.strelka.somatic.{kind}.vcf.gz"
            files.append(CallsFile(f"vcf/{name}", (sid,), write_strelka(name, patient, sid, kind),
                                   True))
    return files


def varscan2_pairs(patient: Patient) -> list[CallsFile]:
    """VarScan2 somatic + processSomatic: plain-text SNP and indel VCFs per tumour."""
    files = []
    for sid in patient.tumours:
        for kind in ("snp", "indel"):
            name = f"{sid}.varscan.{kind}.Somatic.hc.vcf"
            files.append(CallsFile(f"vcf/{name}", (sid,), write_varscan(name, patient, sid, kind),
                                   False))
    return files


def vcf2maf(patient: Patient) -> list[CallsFile]:
    path = f"maf/{patient.patient_id}.vep.maf"
    return [CallsFile(path, tuple(patient.tumours), write_maf(patient), False)]


def freebayes_joint(patient: Patient) -> list[CallsFile]:
    name = f"{patient.patient_id}.freebayes.vcf.gz"
    text = write_freebayes(name, patient, [patient.normal, *patient.tumours])
    return [CallsFile(f"vcf/{name}", tuple(patient.tumours), text, True)]


def mutect2_tissue_plasma(patient: Patient) -> list[CallsFile]:
    """Mutect2 multi-sample VCFs: the tissue samples with the normal, and the plasma draws (a
    deep cfDNA panel) with the same (buffy-coat) normal."""
    tissue = [s.sample_id for s in patient.samples if s.role != "plasma"]
    plasma = [s.sample_id for s in patient.samples if s.role == "plasma"]
    labels = [label for label, _ in patient.mutations]
    files = []
    for name, ids in ((f"{patient.patient_id}.mutect2.vcf.gz", tissue),
                      (f"{patient.patient_id}_plasma.mutect2.vcf.gz", plasma)):
        text = write_mutect2(name, patient, [*ids, patient.normal], labels)
        files.append(CallsFile(f"vcf/{name}", tuple(ids), text, True))
    return files


LAYOUTS = {
    "mutect2_joint": mutect2_joint,
    "mutect2_tissue_plasma": mutect2_tissue_plasma,
    "mutect2_vep_joint": lambda patient: mutect2_joint(patient, vep=True),
    "mutect2_single": mutect2_single,
    "strelka2_pairs": strelka2_pairs,
    "varscan2_pairs": varscan2_pairs,
    "vcf2maf": vcf2maf,
    "freebayes_joint": freebayes_joint,
}
LAYOUT_NAMES = {
    "mutect2_joint": "GATK4 Mutect2 + FilterMutectCalls, one multi-sample VCF",
    "mutect2_tissue_plasma": "Mutect2 multi-sample VCFs, tissue and plasma (cfDNA panel)",
    "mutect2_vep_joint": "Mutect2 multi-sample VCF annotated by Ensembl VEP (INFO/CSQ)",
    "mutect2_single": "Mutect2 + FilterMutectCalls, one tumour/normal VCF per sample",
    "strelka2_pairs": "Strelka2 somatic, SNV and indel VCFs per tumour/normal pair",
    "varscan2_pairs": "VarScan2 somatic + processSomatic, plain SNP and indel VCFs per pair",
    "vcf2maf": "vcf2maf MAF 2.4 with VEP columns, both lesions in one file",
    "freebayes_joint": "FreeBayes multi-sample VCF (tumours + normal)",
}

SHEET_COLUMNS = ["patient_id", "lesion_id", "sample_id", "role", "status", "site", "timepoint",
                 "vcf_sample", "calls", "assembly", "bam", "date"]
ORIGIN_COLUMNS = ["patient_id", "chrom", "pos", "ref", "alt", "gene", "hgvsp", "expected_origin",
                  "hgvsc", "exon", "label", "variant_key", "expected_rule",
                  "expected_lesions_absent", "expected_lesions_not_evaluable"]

#: (patient, mutation) -> (deciding rule, lesions absent with power, lesions not evaluable), as
#: the evidence-aware rules (issue 13) derive them with the default options: an absence needs
#: ALT reads consistent with noise and P(detect) >= 0.95 at the expected VAF; a lesion without a
#: record at the site is not evaluable.
EXPECTED_EVIDENCE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("GIST01", "W557_K558del"): ("baseline", "", ""),
    ("GIST01", "V654A"): ("baseline", "L2,L3", ""),  # L2's one read is noise (p = 0.53)
    ("GIST02", "V559del"): ("sharing", "", ""),
    ("GIST02", "T670I"): ("sharing", "L2", ""),  # from the BAM: 0/163
    ("GIST02", "D816V"): ("sharing", "L2", ""),  # from the BAM: 1/159, noise
    ("GIST03", "A502_Y503dup"): ("sharing", "", ""),
    ("GIST03", "D820Y"): ("sharing", "L1", "L3"),  # L1 from its BAM: 0/391; L3 no record
    ("GIST03", "N822K"): ("sharing", "L2", "L3"),  # L2 from its BAM: 0/399
    ("GIST04", "V560D"): ("sharing", "", ""),
    ("GIST04", "Y823D"): ("sharing", "L2", ""),  # expected VAF 20.6% at depth 170: powered
    ("GIST05", "D842V"): ("sharing", "", ""),
    ("GIST06", "W557R"): ("sharing", "", ""),
    ("GIST07", "W557_K558del"): ("baseline", "", ""),
    ("GIST07", "A829P"): ("knowledge", "", "L2"),  # no record in L2's file: not evaluable
    # without --patients (no treatment start: no pre-treatment plasma baseline)
    ("GIST08", "W557_K558del"): ("sharing", "", ""),
    ("GIST08", "V654A"): ("lesion_history", "L2", ""),  # L1 0/190 on 2016-05-12, 58/208 later
}


def tsv(rows: list[list[str]], comments: list[str] = ()) -> bytes:
    text = "".join(f"# {c}\n" for c in comments)
    text += "".join("\t".join(str(v) for v in row) + "\n" for row in rows)
    return text.encode("utf-8")


def key_of(chrom: str, pos: int, ref: str, alt: str) -> str:
    return variant_key(chrom, *minimal(pos, ref, alt))


def origin_rows(patients: list[Patient]) -> list[list[str]]:
    rows = []
    for patient in patients:
        placed = []
        for label, origin in patient.mutations:
            m = MUTATIONS[label]
            pos, ref, alt = m.vcf[patient.assembly]
            placed.append([patient.patient_id, patient.chrom, pos, ref, alt, m.gene, m.hgvsp,
                           origin, m.hgvsc, m.exon, label, key_of(patient.chrom, pos, ref, alt),
                           *EXPECTED_EVIDENCE[(patient.patient_id, label)]])
        rows += sorted(placed, key=lambda row: row[2])
    return rows


def reads_text(patient: Patient, label: str) -> str:
    """Alt/total reads of a mutation in each tumour sample; ``no record`` where none was written."""
    parts = []
    for sample in patient.samples:
        reads = patient.counts[sample.sample_id].get(label)
        short = sample.sample_id.removeprefix(f"{patient.patient_id}_")
        bam = BAM_READS.get(sample.sample_id, {}).get(label)
        if reads:
            parts.append(f"{short} {reads[1]}/{sum(reads)}")
        elif bam:
            parts.append(f"{short} no record (BAM: {bam[1]} ALT reads)")
        else:
            parts.append(f"{short} no record")
    return "; ".join(parts)


README_INTRO = """\
# Demo GIST cohort (test fixtures)

Synthetic calls for eight metastatic GIST patients on imatinib, modelled on lesion-by-lesion
studies of secondary KIT mutations. For tests, documentation and the demo only; no real
patient data; research use, not clinical advice.

Re-make everything here (byte-identical: fixed seeds, no clock, bgzip/tabix through pysam):

    python scripts/make_fixtures.py            # writes fixtures/
    python scripts/make_fixtures.py --out DIR  # writes DIR/ instead

`tests/test_fixtures.py` re-runs the generator and compares every byte with this folder,
so edit the generator, never the files.

## The story the cohort tells

The primary driver (KIT exon 11 or 9, or PDGFRA D842V) is present in every sample of a
patient. Secondary (acquired, imatinib-resistance) KIT mutations are present in
progressive lesions only; controlled lesions (stable, partial response) keep the primary
alone.

With the evidence-aware rules (a mutation is absent from a lesion only where its ALT reads
are consistent with noise and the lesion, at its tumour content, was powered to show it),
two lesions are not evaluable and are left out of the statistics: GIST03's L3 (VarScan2 wrote
no record at D820/N822, and it has no BAM) and GIST07's stable L2 (no record at A829P).
Resistance is heterogeneous as Liegl et al. (2008) describe: GIST03 carries N822K in one
progressive lesion and D820Y in another, each absent with power where the other is found, and
GIST02's progressive L1 carries two secondaries (T670I and D816V) that no single drug is
reported to cover. The within-patient
permutation test then has four informative patients (GIST01, GIST02, GIST04, GIST08) and its
exact p is 1/3 x 1/2 x 1/2 x 1/2 = 0.042, the smallest this cohort allows; the pooled Fisher
test (p = 0.003) is descriptive only, since lesions of one patient are not independent.

GIST08 (issue 17) adds time: a plasma series and a liver lesion biopsied twice. Its sample
sheet rows carry dates; `patients.tsv` gives its `treatment_start_date`, so its first plasma
draw acts as a baseline (`--patients`); V654A is secondary by `lesion_history` (absent from
L1's first biopsy, present at progression) and was first seen in plasma 203 days before L1 was
recorded progressive.

| patient | build | progression | calls | what it exercises |
|---|---|---|---|---|
"""

README_VARIANTS = """
## Every variant

`key` is the project's variant key (`lesiontrack.variants.variant_key` of the minimal
alleles); `VCF` is the record as the caller writes it (left-aligned, anchor base for
indels); HGVS names follow the 3' rule on NM_000222.3 / NM_006206.4. Reads are alt/total
per tumour sample (`no record`: the caller wrote nothing there, so absence cannot be
judged). The same rows, machine-readable, are in `expected_origins.tsv`.

| patient | key | gene | exon | c. | p. | VCF | expected origin | reads |
|---|---|---|---|---|---|---|---|---|
"""

README_NOTES = """
## Files

- `bam/GIST02_L1.bam`, `bam/GIST02_L2.bam` (+ `.bai`): reads at GIST02's three mutation
  sites (the sheet's `bam` column). Strelka2 writes only what it calls, so without them the
  controlled lesion L2 is *not evaluable* for T670I and D816V; with them lesiontrack counts
  the reads itself (163 reads without T670I, 158 with one D816V read: below threshold) and the
  two mutations are secondary by the `sharing` rule. Read bases away from the sites are
  filler: no reference sequence is shipped.
- `bam/GIST03_L1.bam`, `bam/GIST03_L2.bam` (+ `.bai`): reads at GIST03's two secondary
  sites. VarScan2 writes no record at D820Y in L1 nor at N822K in L2; the BAMs show 391 and
  399 reads there (the two sites are 8 bases apart, so each site's reads cover the other)
  without an ALT read, so each secondary is absent (with power) from the
  lesion carrying the other: GIST03 is the demo's patient with different secondary mutations
  in separate lesions (`stats --json`: `heterogeneity`), and GIST02's L1 its lesion with two.
- `samplesheet.tsv`: one row per (sample, calls file); `calls` paths are relative to the
  sheet; `vcf_sample` is set only where the file's column (or MAF barcode) differs from
  `sample_id` (Strelka2 and VarScan2 write `NORMAL`/`TUMOR`; GIST06's FreeBayes columns
  use hyphens). Status words vary on purpose (`PD`, `progressive`, `progression`, `SD`,
  `stable`, `Stable`, `stable disease`, `PR`, `partial response`, `baseline`). GIST06
  leaves `assembly` empty: the chr4 `##contig` length (GRCh38 190,214,555; GRCh37
  191,154,276) tells the build.
- `expected_origins.tsv`: patient_id, chrom, pos, ref, alt (as in the calls file), gene,
  hgvsp, expected_origin (`primary`/`secondary`), then hgvsc, exon, label, variant_key,
  expected_rule, expected_lesions_absent (absent with power), expected_lesions_not_evaluable.
- `vcf/`, `maf/`: the calls. Bgzipped + `.tbi` where pipelines do that (Mutect2,
  Strelka2, VEP, FreeBayes); VarScan2 output is plain text, as VarScan2 writes it.

## How each format gives the numbers

- Mutect2: `FORMAT/AD` (ref,alt) and `DP`; every tumour column has GT `0/1` and a
  non-zero `AF` model estimate even with AD `143,0` (as Mutect2 writes multi-sample
  calls), so presence must come from the read counts, not GT or AF. `##tumor_sample`
  names the tumours, `##normal_sample` the normal. The GIST07 baseline file holds A829P
  as a `weak_evidence` record with one alt read.
- Strelka2: SNVs `{REF}U`/`{ALT}U` tier-1 counts, indels `TAR`/`TIR` tier-1 counts.
- VarScan2: `RD` ref reads, `AD` alt reads only, `FREQ` a percent string. The files
  carry one `##contig` line for chr4 (VarScan2 writes none; a reheader step added it).
- FreeBayes: `RO`, `AO` (Number=A) and `AD` (Number=R).
- MAF: `t_ref_count`, `t_alt_count`, `t_depth`; `Chromosome` is `chr4`.
- VEP `CSQ` (GIST04) lists three transcripts per variant with the canonical
  ENST00000288135 (MANE Select NM_000222.3) last; its HGVSp reads
  `ENSP00000288135.5:p.Tyr823Asp`.

## What is real and what is made up

Coordinates, REF bases and names come from the KIT/PDGFRA exon table
(`lesiontrack/genome/data/exons.tsv`), the shared worked examples and the KIT exon 11
cDNA (codons 556-589, c.1666 = GRCh38 4:54727434); the generator checks each against the
worked examples before writing. V559del (one GTT of the codon 559-560 VV stretch) is
written left-aligned in the VCF and named by the 3' rule, `c.1679_1681del` /
`p.V560del`. The off-target REF base (GRCh37 4:106155185 C) is taken from a public GATK
test VCF. Read counts follow the study design; caller qualities (TLOD, QSS, SSC, GL...),
dates, command lines, the VEP version line, SIFT/PolyPhen values and the two
non-canonical KIT transcript IDs in the CSQ (ENST00000412167, the GNNK- isoform with
codons shifted by 4, and ENST00000512959) are illustrative.
"""


README_COPY_NUMBER = """
## Copy number: the other roads to resistance

The sheet's `cnv` column names a copy-number segment file for five samples, each in the format
its pipeline writes (`cnv/`):

- GIST03 (VarScan2 pipeline): CNVkit `segment` output, `cnv/GIST03_L1.cns`, `cnv/GIST03_L2.cns`,
  `cnv/GIST03_L3.cns` (BED-like 0-based starts, log2 to a pooled reference, `probes`). L3, the
  progressive lesion where no secondary mutation was found, carries a focal KIT amplification:
  log2 1.503 over KIT, at tumour content 0.61 (2 x the exon 9 driver's VAF, 66/216) a copy number
  of 8 (pure, it would read 5.7: a gain). As in Liegl et al. (J Pathol 2008), where KIT
  amplification explained progressing metastases without a secondary mutation, its
  `progression_mechanism` is `KIT_amplification`; L1 and L2 are copy-neutral over KIT and
  `secondary_mutation` (N822K, D820Y).
- GIST05 (MAF): GATK `CallCopyRatioSegments` output, `cnv/GIST05_L1.called.seg` and
  `cnv/GIST05_L2.called.seg` (SAM header with the GRCh38 sequence dictionary, 1-based segments,
  `CALL` +/-/0). L1 is copy-neutral over KIT and PDGFRA and powered for a clonal mutation:
  `unexplained` (no acquired road is seen; the primary D842V itself resists imatinib). In L2 the
  segment over PDGFRA has 2 points: `not_evaluable`.

Both kinds carry the 14q and 22q losses common in GIST. The other patients have no copy-number
file: their progressive lesions are explained by their secondary mutations.
"""


def readme(patients: list[Patient], files: dict[str, list[CallsFile]]) -> str:
    out = [README_INTRO]
    for p in patients:
        paths = ", ".join(f"`{f.path}`" for f in files[p.patient_id])
        out.append(f"| {p.patient_id} | {p.assembly} | {p.pattern} | {LAYOUT_NAMES[p.layout]}: "
                   f"{paths} | {p.story} |\n")
    out.append(README_VARIANTS)
    by_id = {p.patient_id: p for p in patients}
    for row in origin_rows(patients):
        pid, chrom, pos, ref, alt, gene, hgvsp, origin, hgvsc, exon, label, key, *_ = row
        name = hgvsp if label == hgvsp[2:] else f'{hgvsp} ("{label}")'
        out.append(f"| {pid} | `{key}` | {gene} | {exon} | {hgvsc} | {name} | "
                   f"{chrom}:{pos} {ref}>{alt} | {origin} | {reads_text(by_id[pid], label)} |\n")
    off_pos, off_ref, off_alt = OFF_TARGET_GRCH37
    out.append(f"| GIST07 | `{key_of('4', off_pos, off_ref, off_alt)}` | (TET2 locus) | | | | "
               f"4:{off_pos} {off_ref}>{off_alt} | none: outside KIT/PDGFRA, must not be read | "
               f"{reads_text(by_id['GIST07'], 'OFF')} |\n")
    out.append(README_COPY_NUMBER)
    out.append(README_NOTES)
    return "".join(out)


# Outcome after salvage therapy, for `lesiontrack outcomes --patients` and the report's
# outcomes section: focal progression does better, as in the study behind the project.
OUTCOME_COMMENTS = [
    'lesiontrack demo cohort: outcome after salvage therapy (synthetic; no real patient data; research use only).',
    'One row per patient who progressed on imatinib. progression_date = the scan that showed progression = time zero, the start of salvage follow-up.',
    'PFS: pfs_event_date (progression on salvage therapy) or pfs_censor_date; a death_date on or before it is a PFS event (progression or death, whichever first). OS: death_date or last_followup_date. ISO dates; months = days / 30.4375.',
    'radiology_progressive / radiology_controlled: lesions on imaging at progression; they decide the pattern (the disease, not the sequenced subset): GIST02 had 2 lesions sequenced but 5 on imaging (1 progressing), GIST05 4 progressing of 5.',
    'pattern states the pattern outright (it wins over the counts): GIST07 has no imaging counts here. An empty cell derives the pattern from the counts, else from the sequenced lesions.',
    'GIST06 is not listed: all its lesions are controlled (pattern none), so it has no progression and no salvage follow-up; lesiontrack warns and leaves it out.',
    'Modelled on the focal vs generalized progression story (focal: median PFS 11.3 vs 2.5 months; median OS not reached vs 22.8 months).',
]
OUTCOME_ROWS = [
    ['patient_id', 'pattern', 'radiology_progressive', 'radiology_controlled', 'salvage', 'progression_date', 'pfs_event_date', 'pfs_censor_date', 'death_date', 'last_followup_date'],
    ['GIST01', '', '1', '4', 'resection of the progressing liver metastasis + imatinib 400 mg', '2009-03-16', '2010-04-16', '', '', '2013-03-22'],
    ['GIST02', '', '1', '4', 'resection of the progressing liver metastasis + imatinib 400 mg', '2010-06-02', '', '2013-11-01', '', '2013-11-01'],
    ['GIST03', '', '6', '0', 'sunitinib 50 mg (4 weeks on, 2 off)', '2008-11-24', '2009-07-07', '', '2011-03-11', ''],
    ['GIST04', '', '1', '2', 'radiofrequency ablation of the progressing liver metastasis + imatinib 400 mg', '2011-01-19', '2011-06-08', '', '2012-09-22', ''],
    ['GIST05', '', '4', '1', 'sunitinib 50 mg (4 weeks on, 2 off)', '2010-09-07', '2010-11-22', '', '2012-08-01', ''],
    ['GIST07', 'focal', '', '', 'imatinib 800 mg', '2011-08-29', '2012-08-07', '', '', '2014-09-07'],
]
# issue 17: GIST08 (plasma series, focal progression; progressed again 8 months after the
# resection, alive at last follow-up: the focal group's medians stay as they were) and the
# column treatment_start_date (imatinib start: a plasma draw before it is a baseline)
OUTCOME_ROWS.append(['GIST08', '', '1', '3', 'resection of the progressing liver metastasis + imatinib 400 mg', '2018-03-12', '2018-11-14', '', '', '2021-06-30'])
OUTCOME_ROWS = [[*row, "treatment_start_date" if row[0] == "patient_id"
                 else TREATMENT_START.get(row[0], "")] for row in OUTCOME_ROWS]
OUTCOME_COMMENTS.append(
    "treatment_start_date: imatinib start, where known (GIST08): plasma drawn before it acts as "
    "a baseline sample.")


# --------------------------------------------------------------------------------------------
# Copy number (the sheet's cnv column; issue 19)
# --------------------------------------------------------------------------------------------

#: GRCh38 primary-assembly lengths (GRC assembly report) of the contigs a GATK sequence
#: dictionary lists; chr4 190,214,555 tells GRCh38.
GRCH38_LENGTHS = [
    ("chr1", 248956422), ("chr2", 242193529), ("chr3", 198295559), ("chr4", 190214555),
    ("chr5", 181538259), ("chr6", 170805979), ("chr7", 159345973), ("chr8", 145138636),
    ("chr9", 138394717), ("chr10", 133797422), ("chr11", 135086622), ("chr12", 133275309),
    ("chr13", 114364328), ("chr14", 107043718), ("chr15", 101991189), ("chr16", 90338345),
    ("chr17", 83257441), ("chr18", 80373285), ("chr19", 58617616), ("chr20", 64444167),
    ("chr21", 46709983), ("chr22", 50818468), ("chrX", 156040895), ("chrY", 57227415),
]

#: CNVkit ``segment`` rows (chromosome, 0-based start, end, genes, log2, depth, probes, weight).
#: Panel bins cover KIT, PDGFRA, KDR and a genome-wide antitarget backbone. Chromosome 14 and
#: 22 losses are the commonest arm-level changes of GIST; GIST03's L3 carries a focal KIT
#: amplification (log2 1.503 at tumour content 0.61, from the exon 9 driver's VAF: CN 8).
CNVKIT_SEGMENTS = {
    "GIST03_L1": [
        ("chr1", 10000, 248946000, "Antitarget", "0.0121", "201.4", "3950", "1320.7"),
        ("chr4", 10000, 54650000, "PDGFRA,Antitarget", "-0.0184", "198.2", "912", "301.5"),
        ("chr4", 54650000, 54760000, "KIT,KDR", "0.0427", "1288.5", "41", "36.2"),
        ("chr4", 54760000, 190204000, "TMEM165,SRD5A3,Antitarget", "0.0093", "203.8", "2110",
         "702.4"),
        ("chr14", 18240000, 107033000, "Antitarget", "-0.3866", "151.2", "1406", "470.1"),
        ("chr22", 10510000, 50808000, "Antitarget", "-0.4127", "146.9", "634", "212.8"),
    ],
    "GIST03_L2": [
        ("chr1", 10000, 248946000, "Antitarget", "-0.0066", "207.9", "3950", "1318.2"),
        ("chr4", 10000, 54650000, "PDGFRA,Antitarget", "0.0211", "206.1", "912", "317.9"),
        ("chr4", 54650000, 54760000, "KIT,KDR", "0.0318", "1301.7", "41", "36.5"),
        ("chr4", 54760000, 190204000, "TMEM165,SRD5A3,Antitarget", "-0.0142", "199.5", "2110",
         "699.8"),
        ("chr14", 18240000, 107033000, "Antitarget", "-0.4419", "147.3", "1406", "468.6"),
        ("chr22", 10510000, 50808000, "Antitarget", "-0.4662", "143.0", "634", "211.0"),
    ],
    "GIST03_L3": [
        ("chr1", 10000, 248946000, "Antitarget", "0.0035", "204.6", "3950", "1321.9"),
        ("chr4", 10000, 54650000, "PDGFRA,Antitarget", "0.0273", "209.3", "912", "318.4"),
        ("chr4", 54650000, 54760000, "KIT,KDR", "1.5031", "3650.2", "41", "35.8"),
        ("chr4", 54760000, 190204000, "TMEM165,SRD5A3,Antitarget", "0.0178", "206.0", "2110",
         "701.1"),
        ("chr14", 18240000, 107033000, "Antitarget", "-0.3502", "155.8", "1406", "471.3"),
        ("chr22", 10510000, 50808000, "Antitarget", "-0.3981", "149.5", "634", "213.2"),
    ],
}
CNVKIT_HEADER = ["chromosome", "start", "end", "gene", "log2", "depth", "probes", "weight"]

#: GATK ``CallCopyRatioSegments`` rows (CONTIG, START, END, NUM_POINTS_COPY_RATIO,
#: MEAN_LOG2_COPY_RATIO, CALL), 1-based inclusive. GIST05's L1 is copy-neutral over KIT and
#: PDGFRA (unexplained: no secondary, no amplification); in L2 the segmenter split a 2-point
#: segment over PDGFRA (too few points for a call: not evaluable).
GATK_SEGMENTS = {
    "GIST05_L1": [
        ("chr1", "10001", "248946422", "4012", "0.004217", "0"),
        ("chr4", "10001", "54650000", "903", "-0.010364", "0"),
        ("chr4", "54650001", "54760000", "39", "0.052114", "0"),
        ("chr4", "54760001", "190204555", "2118", "0.006540", "0"),
        ("chr14", "18240001", "107033718", "1411", "-0.401265", "-"),
        ("chr22", "10510001", "50808468", "640", "-0.009925", "0"),
    ],
    "GIST05_L2": [
        ("chr1", "10001", "248946422", "4012", "-0.002904", "0"),
        ("chr4", "10001", "54200000", "880", "0.011876", "0"),
        ("chr4", "54200001", "54300000", "2", "0.240370", "0"),
        ("chr4", "54300001", "54650000", "21", "0.003125", "0"),
        ("chr4", "54650001", "54760000", "39", "0.048307", "0"),
        ("chr4", "54760001", "190204555", "2118", "-0.004412", "0"),
        ("chr14", "18240001", "107033718", "1411", "-0.388120", "-"),
        ("chr22", "10510001", "50808468", "640", "-0.012290", "0"),
    ],
}


def cnvkit_cns(sample_id: str) -> str:
    """A CNVkit ``segment`` output (``.cns``): BED-like 0-based starts, log2 to the reference."""
    rows = [CNVKIT_HEADER, *CNVKIT_SEGMENTS[sample_id]]
    return "".join("\t".join(map(str, row)) + "\n" for row in rows)


def gatk_called_seg(sample_id: str) -> str:
    """A GATK ``CallCopyRatioSegments`` output (``.called.seg``): SAM-style header (the
    sequence dictionary and the read group's sample), then 1-based segments with CALL +/-/0."""
    lines = ["@HD\tVN:1.6"]
    lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in GRCH38_LENGTHS]
    lines.append(f"@RG\tID:GATKCopyNumber\tSM:{sample_id}")
    lines.append("CONTIG\tSTART\tEND\tNUM_POINTS_COPY_RATIO\tMEAN_LOG2_COPY_RATIO\tCALL")
    lines += ["\t".join(row) for row in GATK_SEGMENTS[sample_id]]
    return "\n".join(lines) + "\n"


def copy_number_files() -> dict[str, tuple[str, str]]:
    """sample_id -> (path relative to the sheet, text) of every copy-number file."""
    files = {s: (f"cnv/{s}.cns", cnvkit_cns(s)) for s in CNVKIT_SEGMENTS}
    files.update({s: (f"cnv/{s}.called.seg", gatk_called_seg(s)) for s in GATK_SEGMENTS})
    return dict(sorted(files.items()))


def write_copy_number(out: Path, sheet: list[list[str]]) -> list[Path]:
    """Write the copy-number files and add the ``cnv`` column to ``sheet`` (header first)."""
    files = copy_number_files()
    (out / "cnv").mkdir(exist_ok=True)
    written = []
    for path, text in files.values():
        (out / path).write_bytes(text.encode("utf-8"))
        written.append(out / path)
    sample = sheet[0].index("sample_id")
    sheet[0] = [*sheet[0], "cnv"]
    for row in sheet[1:]:
        row.append(files.get(row[sample], ("", ""))[0])
    return written


def make_fixtures(out: Path) -> list[Path]:
    """Write the cohort under ``out``; returns the written files (sorted)."""
    out.mkdir(parents=True, exist_ok=True)
    patients = cohort()
    written: list[Path] = []
    files: dict[str, list[CallsFile]] = {}
    sheet = [SHEET_COLUMNS]
    with tempfile.TemporaryDirectory() as scratch:
        for patient in patients:
            files[patient.patient_id] = LAYOUTS[patient.layout](patient)
            for calls in files[patient.patient_id]:
                target = out / calls.path
                target.parent.mkdir(parents=True, exist_ok=True)
                if calls.bgzip:
                    written += write_bgzipped(calls.text, target, Path(scratch))
                else:
                    target.write_bytes(calls.text.encode("utf-8"))
                    written.append(target)
            for sample in patient.samples:
                bam = ""
                if sample.sample_id in BAM_READS:
                    bam = f"bam/{sample.sample_id}.bam"
                    (out / "bam").mkdir(exist_ok=True)
                    written += write_bam(out / bam, sample.sample_id, BAM_READS[sample.sample_id],
                                         patient.assembly, sample.sample_id)
                for calls in files[patient.patient_id]:
                    if sample.sample_id in calls.sample_ids:
                        sheet.append([
                            patient.patient_id, sample.lesion_id, sample.sample_id, sample.role,
                            sample.status, sample.site, sample.timepoint, sample.column,
                            calls.path, patient.assembly if patient.sheet_assembly else "", bam,
                            sample.date,
                        ])
    written += write_copy_number(out, sheet)
    comment = [
        "lesiontrack demo cohort: 8 metastatic GIST patients on imatinib (synthetic; see "
        "README.md). One row per (sample, calls file); calls paths are relative to this file. "
        "Made by scripts/make_fixtures.py.",
    ]
    outputs = {
        "samplesheet.tsv": tsv(sheet, comment),
        "expected_origins.tsv": tsv([ORIGIN_COLUMNS, *origin_rows(patients)]),
        "patients.tsv": tsv(OUTCOME_ROWS, OUTCOME_COMMENTS),
        "README.md": readme(patients, files).encode("utf-8"),
    }
    for name, data in outputs.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)}/)")
    args = parser.parse_args(argv)
    written = make_fixtures(args.out)
    total = sum(path.stat().st_size for path in written)
    print(f"wrote {len(written)} files ({total:,} bytes) under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
