"""Benchmark: force-calling cost per site per sample, against plain pysam ``count_coverage``.

Builds a realistic, seeded BAM in a temporary folder: 2x150-bp read pairs (fragments of about
260 bp, so many mates overlap) at about 500x over every KIT coding exon (GRCh38, 100-bp
margins), 0.5% sequencing errors, a mix of base qualities, 4% duplicates and 2% low-MAPQ
reads, and ALT reads at 20% for every site benchmarked. Then, for 1, 10 and 40 sites (mostly
SNVs, plus the exon 11 deletion and the exon 9 duplication), times

- ``lesiontrack.io.bam.count_alleles`` on the file (opening and header checks included), and
- a reference run of ``pysam.AlignmentFile.count_coverage`` over the same site windows (the
  site's bases, or an indel's two flanking bases and what lies between; one call per site,
  ``quality_threshold=20``, ``read_callback="all"``; opening the file included),

each the median of 5 runs in the same process, and prints a markdown table.

    python benchmarks/bam_counting.py [--depth 500] [--runs 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pysam

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from bamtools import (  # noqa: E402
    DUPLICATE,
    ReadSpec,
    make_test_bam,
    mates,
)

from lesiontrack import genome  # noqa: E402
from lesiontrack.io.bam import count_alleles  # noqa: E402

READ_LENGTH = 150
MARGIN = 100
EXON11_DEL = (54727435, "AGTGGA", "-")
EXON9_DUP = (54726012, "-", "TGCCTA")


class Genome:
    """A seeded random sequence over the KIT span, standing in for GRCh38 chr4."""

    def __init__(self, start: int, end: int, rng: random.Random) -> None:
        self.start = start
        self.seq = "".join(rng.choice("ACGT") for _ in range(end - start + 1))

    def fetch(self, chrom: str, first: int, last: int) -> str:
        return self.seq[first - self.start : last - self.start + 1]


def haplotype(genome_: Genome, start: int, variant, length: int) -> tuple[str, str]:
    """Sequence and CIGAR of a read starting at ``start`` carrying ``variant`` (or None)."""
    if variant is None:
        return genome_.fetch("chr4", start, start + length - 1), f"{length}M"
    pos, ref, alt = variant
    if not start < pos < start + length - len(alt) - 1:
        return genome_.fetch("chr4", start, start + length - 1), f"{length}M"
    if ref == "-":
        left = genome_.fetch("chr4", start, pos)
        rest = length - len(left) - len(alt)
        return left + alt + genome_.fetch("chr4", pos + 1, pos + rest), (
            f"{len(left)}M{len(alt)}I{rest}M")
    left = genome_.fetch("chr4", start, pos - 1)
    if alt == "-":
        rest = length - len(left)
        return left + genome_.fetch("chr4", pos + len(ref), pos + len(ref) + rest - 1), (
            f"{len(left)}M{len(ref)}D{rest}M")
    rest = length - len(left) - len(alt)
    return left + alt + genome_.fetch("chr4", pos + len(ref), pos + len(ref) + rest - 1), (
        f"{length}M")


def build(folder: Path, depth: int, seed: int) -> tuple[Path, list[tuple[int, str, str]]]:
    """Write the BAM; return it and the candidate sites (SNVs first, then the two indels)."""
    rng = random.Random(seed)
    kit = genome.transcripts("GRCh38")["KIT"]
    exons = [(s - MARGIN, e + MARGIN) for s, e in kit.cds_intervals()]
    ref = Genome(exons[0][0] - 1000, exons[-1][1] + 1000, rng)
    # the indel sites need their reference alleles
    ref.seq = (ref.seq[: EXON11_DEL[0] - ref.start] + "AGTGGA"
               + ref.seq[EXON11_DEL[0] + 6 - ref.start :])
    snvs = []
    for start, end in exons:
        for pos in rng.sample(range(start + MARGIN, end - MARGIN), 3):
            base = ref.fetch("chr4", pos, pos)
            snvs.append((pos, base, rng.choice([b for b in "ACGT" if b != base])))
    rng.shuffle(snvs)
    sites = [*snvs[:38], EXON11_DEL, EXON9_DUP]
    by_exon = {}
    for site in sites:
        for exon in exons:
            if exon[0] <= site[0] <= exon[1]:
                by_exon.setdefault(exon, []).append(site)
    reads: list[ReadSpec] = []
    n = 0
    for start, end in exons:
        fragments = depth * (end - start + 1) // (2 * READ_LENGTH)
        for _ in range(fragments):
            size = max(READ_LENGTH, int(rng.gauss(260, 40)))
            left = rng.randint(start - size + 50, end - 50)
            variant = None
            if rng.random() < 0.2:
                near = [s for s in by_exon.get((start, end), []) if left < s[0] < left + size]
                variant = rng.choice(near) if near else None
            pair = []
            for mate_start in (left, left + size - READ_LENGTH):
                seq, cigar = haplotype(ref, mate_start, variant, READ_LENGTH)
                seq = "".join(rng.choice("ACGT") if rng.random() < 0.005 else b for b in seq)
                quals = [rng.choice((37, 37, 37, 32, 25, 12)) for _ in seq]
                pair.append(ReadSpec(f"frag{n}", mate_start, seq, cigar=cigar, qual=quals))
            n += 1
            flag = DUPLICATE if rng.random() < 0.04 else 0
            mapq = 5 if rng.random() < 0.02 else 60
            reads += [r.with_(flag=r.flag | flag, mapq=mapq) for r in mates(*pair)]
    bam = make_test_bam(folder / "kit_500x.bam", reads)
    return bam, sites


def site_window(pos: int, ref: str, alt: str) -> tuple[int, int]:
    """Bases a read must cover to tell the alleles apart (no repeat widening): 1-based."""
    if ref == "-":
        return pos, pos + 1
    if alt == "-":
        return pos - 1, pos + len(ref)
    return pos, pos + len(ref) - 1


def median_seconds(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        bam, candidates = build(Path(tmp), args.depth, args.seed)
        with pysam.AlignmentFile(str(bam)) as handle:
            n_reads = handle.mapped
        print(f"BAM: {n_reads} reads, ~{args.depth}x over the KIT coding exons, built in "
              f"{time.perf_counter() - start:.1f} s; pysam {pysam.__version__}; "
              f"median of {args.runs} runs\n")
        print("| sites | count_alleles (ms) | per site (ms) | count_coverage (ms) "
              "| per site (ms) | ratio |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n_sites in (1, 10, 40):
            chosen = candidates[-n_sites:] if n_sites >= 2 else candidates[:1]
            table = pd.DataFrame([("chr4", p, r, a) for p, r, a in chosen],
                                 columns=["chrom", "pos", "ref", "alt"])

            def ours(table=table):
                return count_alleles(bam, table)

            def plain(chosen=chosen):
                with pysam.AlignmentFile(str(bam)) as handle:
                    for pos, ref, alt in chosen:
                        first, last = site_window(pos, ref, alt)
                        handle.count_coverage("chr4", first - 1, last, quality_threshold=20,
                                              read_callback="all")

            ours()  # warm-up (imports, caches)
            t_ours = median_seconds(ours, args.runs)
            t_plain = median_seconds(plain, args.runs)
            print(f"| {n_sites} | {t_ours * 1e3:.1f} | {t_ours * 1e3 / n_sites:.2f} "
                  f"| {t_plain * 1e3:.1f} | {t_plain * 1e3 / n_sites:.2f} "
                  f"| {t_ours / t_plain:.1f}x |")
        example = count_alleles(bam, pd.DataFrame(
            [("chr4", p, r, a) for p, r, a in candidates[-3:]],
            columns=["chrom", "pos", "ref", "alt"]))
        print("\nlast three sites:\n")
        print(example.to_markdown(index=False) if _has_tabulate() else example.to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
