"""Generate the benchmark data set (seeded, reproducible).

Writes to the folder given on the command line (default ``/tmp/lesiontrack-bench``):

``lesions/P0001_L1.vcf.gz`` (+ ``.tbi``), ... -- 1,000 Mutect2/FilterMutectCalls-style tumour/normal
    VCFs, bgzipped and tabix-indexed, 2,000-10,000 records each spread over the GRCh38 genome, a
    realistic header (195 ``##contig`` lines, FILTER/INFO/FORMAT declarations, GATK command
    lines), and a few records in the KIT and PDGFRA windows (some filtered, some multi-allelic,
    some deletions that start before the KIT window and reach into it).
``samplesheet.tsv`` -- one row per lesion file (250 patients x 4 lesions).
``big.vcf.gz`` -- one 2,000,000-record bgzipped VCF without an index (compact Mutect2-style
    records, coordinate-sorted).
``big_indexed.vcf.gz`` (+ ``.tbi``) -- the same bytes with a tabix index.

Usage: ``python3 benchmarks/make_data.py [OUT] [--lesions 1000] [--big-records 2000000]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pysam

SEED = 20240607
#: GRCh38 KIT / PDGFRA read windows (lesiontrack.genome.gene_regions, margin 1000).
KIT = (54656928, 54741715)
PDGFRA = (54228097, 54299245)
#: Known GIST sites on GRCh38: (pos, ref, alt).
KIT_SITES = [
    (54733155, "A", "T"),  # D816V
    (54728092, "T", "C"),  # V654A
    (54729353, "C", "T"),  # T670I
    (54727434, "CAGTGGA", "C"),  # W557_K558del
    (54726012, "C", "CTGCCTA"),  # A502_Y503dup
]
PDGFRA_SITES = [(54285926, "A", "T")]  # D842V

# FilterMutectCalls' FILTER declarations and GATK's GRCh38 contig dictionary: the same lists
# the demo fixtures declare.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_fixtures import CONTIGS, MUTECT2_INFO  # noqa: E402
from make_fixtures import MUTECT2_FILTERS as FILTERS  # noqa: E402

GRCH38 = CONTIGS["GRCh38"]

FORMATS = [
    ("AD", "R", "Integer", "Allelic depths for the ref and alt alleles in the order listed"),
    ("AF", "A", "Float", "Allele fractions of alternate alleles in the tumor"),
    ("DP", "1", "Integer", "Approximate read depth (reads with MQ=255 or with bad mates are "
     "filtered)"),
    ("F1R2", "R", "Integer", "Count of reads in F1R2 pair orientation supporting each allele"),
    ("F2R1", "R", "Integer", "Count of reads in F2R1 pair orientation supporting each allele"),
    ("FAD", "R", "Integer", "Count of fragments supporting each allele."),
    ("GQ", "1", "Integer", "Genotype Quality"),
    ("GT", "1", "String", "Genotype"),
    ("PGT", "1", "String", "Physical phasing haplotype information"),
    ("PID", "1", "String", "Physical phasing ID information"),
    ("PL", "G", "Integer", "Normalized, Phred-scaled likelihoods for genotypes"),
    ("PS", "1", "Integer", "Phasing set (typically the position of the first variant in the set)"),
    ("SB", "4", "Integer", "Per-sample component statistics which comprise the Fisher's Exact "
     "Test to detect strand bias."),
]
INFOS = MUTECT2_INFO  # the same INFO declarations as the demo fixtures


def contigs(rng: random.Random) -> list[tuple[str, int]]:
    """The 195 contigs of a GRCh38 no-alt analysis set: primaries, then unplaced/random, EBV."""
    out = list(GRCH38)
    for i in range(169):
        chrom = rng.choice(["chr1", "chr2", "chr3", "chr5", "chr9", "chr14", "chr17", "chr22",
                            "chrUn"])
        name = f"{chrom}_KI{270300 + i * 7}v1" + ("" if chrom == "chrUn" else "_random")
        out.append((name, rng.randint(1000, 200000)))
    out.append(("chrEBV", 171823))
    return out


def header(tumor: str, normal: str, contig_list: list[tuple[str, int]]) -> str:
    lines = ["##fileformat=VCFv4.2"]
    lines += [f'##FILTER=<ID={i},Description="{d}">' for i, d in FILTERS]
    lines += [f'##FORMAT=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in FORMATS]
    lines.append(
        '##GATKCommandLine=<ID=FilterMutectCalls,CommandLine="FilterMutectCalls --output '
        f"{tumor}.filtered.vcf.gz --contamination-table {tumor}.contamination.table "
        f"--tumor-segmentation {tumor}.segments.table --ob-priors {tumor}.read-orientation-model"
        f".tar.gz --variant {tumor}.unfiltered.vcf.gz --reference /ref/Homo_sapiens_assembly38"
        '.fasta --threshold-strategy OPTIMAL_F_SCORE --f-score-beta 1.0",Version="4.2.6.1",'
        'Date="March 3, 2023 10:41:12 AM UTC">'
    )
    lines.append(
        '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --normal-sample '
        f"{normal} --germline-resource /ref/af-only-gnomad.hg38.vcf.gz --panel-of-normals "
        f"/ref/1000g_pon.hg38.vcf.gz --f1r2-tar-gz {tumor}.f1r2.tar.gz --output "
        f"{tumor}.unfiltered.vcf.gz --input {tumor}.bam --input {normal}.bam --reference "
        '/ref/Homo_sapiens_assembly38.fasta --genotype-germline-sites false",'
        'Version="4.2.6.1",Date="March 3, 2023 08:02:55 AM UTC">'
    )
    lines += [f'##INFO=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in INFOS]
    lines.append("##MutectVersion=2.2")
    lines += [f"##contig=<ID={c},length={n}>" for c, n in contig_list]
    lines.append("##filtering_status=These calls have been filtered by FilterMutectCalls to "
                 "label false positives with a list of failed filters and true positives with "
                 "PASS.")
    lines.append(f"##normal_sample={normal}")
    lines.append("##reference=file:///ref/Homo_sapiens_assembly38.fasta")
    lines.append("##source=FilterMutectCalls")
    lines.append(f"##tumor_sample={tumor}")
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", tumor, normal]))
    return "\n".join(lines) + "\n"


def _alt(rng: random.Random, ref: str) -> str:
    return rng.choice([b for b in "ACGT" if b != ref])


def mutect2_line(rng: random.Random, chrom: str, pos: int, ref: str, alts: list[str],
                 filt: str, depth: int, alt_reads: list[int]) -> str:
    """One FilterMutectCalls-style record, tumour then normal column."""
    n_alt = len(alts)
    ref_reads = max(0, depth - sum(alt_reads))
    t_ad = [ref_reads, *alt_reads]
    n_depth = rng.randint(15, 60)
    n_ad = [n_depth] + [0] * n_alt
    af = ",".join(f"{(a + 1) / (depth + 2):.3f}" for a in alt_reads)
    n_af = ",".join(f"{1 / (n_depth + 2):.3f}" for _ in alts)
    status = ",".join(["SITE" if filt == "PASS" else filt.split(";")[0]] * n_alt)
    info = (
        f"AS_FilterStatus={status};AS_SB_TABLE={ref_reads // 2},{ref_reads - ref_reads // 2}|"
        f"{alt_reads[0] // 2},{alt_reads[0] - alt_reads[0] // 2};DP={depth + n_depth};ECNT=1;"
        f"GERMQ={rng.randint(1, 93)};MBQ={','.join(['20'] * (n_alt + 1))};"
        f"MFRL={','.join(str(rng.randint(150, 250)) for _ in range(n_alt + 1))};"
        f"MMQ={','.join(['60'] * (n_alt + 1))};MPOS={','.join(['25'] * n_alt)};"
        f"NALOD={','.join(['1.23'] * n_alt)};NLOD={','.join(['4.51'] * n_alt)};"
        f"POPAF={','.join(['6.00'] * n_alt)};TLOD={','.join(f'{a * 2.1:.2f}' for a in alt_reads)}"
    )
    gt = "/".join(str(i) for i in range(n_alt + 1))
    half = [x // 2 for x in t_ad]
    t_col = (f"{gt}:{','.join(map(str, t_ad))}:{af}:{depth}:{','.join(map(str, half))}:"
             f"{','.join(str(x - h) for x, h in zip(t_ad, half, strict=True))}:"
             f"{','.join(map(str, t_ad))}:{ref_reads // 2},{ref_reads - ref_reads // 2},"
             f"{alt_reads[0] // 2},{alt_reads[0] - alt_reads[0] // 2}")
    n_gt = "/".join(["0"] * 2)
    n_col = (f"{n_gt}:{','.join(map(str, n_ad))}:{n_af}:{n_depth}:{n_depth // 2}"
             f"{',0' * n_alt}:{n_depth - n_depth // 2}{',0' * n_alt}:{','.join(map(str, n_ad))}:"
             f"{n_depth // 2},{n_depth - n_depth // 2},0,0")
    return (f"{chrom}\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\t{filt}\t{info}\t"
            "GT:AD:AF:DP:F1R2:F2R1:FAD:SB\t" f"{t_col}\t{n_col}")


def _record_pool(rng: random.Random, size: int = 3000) -> list[tuple[str, str]]:
    """(REF, the record from its ALT on) of ``size`` random genome-wide records: the files'
    records are drawn from it (writing every record from scratch is what made the data slow to
    generate)."""
    pool = []
    for _ in range(size):
        ref = rng.choice("ACGT")
        roll = rng.random()
        if roll < 0.06:  # deletion
            ref += "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 8)))
            alts = [ref[0]]
        elif roll < 0.11:  # insertion
            alts = [ref + "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 6)))]
        elif roll < 0.13:  # multi-allelic
            alts = list(dict.fromkeys([_alt(rng, ref), ref + "T"]))
        else:
            alts = [_alt(rng, ref)]
        filt = "PASS" if rng.random() < 0.15 else rng.choice(
            ["weak_evidence", "germline", "weak_evidence;strand_bias", "normal_artifact",
             "panel_of_normals", "clustered_events;haplotype"])
        depth = rng.randint(20, 300)
        alt_reads = [rng.randint(1, max(1, depth // 3)) for _ in alts]
        line = mutect2_line(rng, "X", 1, ref, alts, filt, depth, alt_reads)
        pool.append((ref, line.split("\t", 4)[4]))
    return pool


@functools.cache
def _shared_pool() -> list[tuple[str, str]]:
    return _record_pool(random.Random(SEED), 20000)


def lesion_records(rng: random.Random, n: int) -> list[tuple[int, int, str]]:
    """(contig index, pos, line) of one lesion file, sorted."""
    weights = [length for _, length in GRCH38]
    picks = rng.choices(range(len(GRCH38)), weights=weights, k=n)
    pool = _shared_pool()
    out = []
    for ci, (ref, rest) in zip(picks, rng.choices(pool, k=n), strict=True):
        chrom, length = GRCH38[ci]
        pos = rng.randint(10_000, length - 10_000) if length > 30_000 else rng.randint(1, length)
        out.append((ci, pos, f"{chrom}\t{pos}\t.\t{ref}\t{rest}"))
    # a few records in the gene windows
    for _ in range(rng.randint(1, 4)):
        pos, ref, alt = rng.choice(KIT_SITES)
        depth = rng.randint(40, 400)
        filt = "PASS" if rng.random() < 0.8 else "weak_evidence"
        out.append((3, pos, mutect2_line(rng, "chr4", pos, ref, [alt], filt, depth,
                                         [rng.randint(2, depth // 2)])))
    if rng.random() < 0.4:
        pos, ref, alt = PDGFRA_SITES[0]
        out.append((3, pos, mutect2_line(rng, "chr4", pos, ref, [alt], "PASS", 150, [40])))
    if rng.random() < 0.1:  # deletion starting before the KIT window, reaching into it
        pos = KIT[0] - 6
        ref = "".join(rng.choice("ACGT") for _ in range(12))
        out.append((3, pos, mutect2_line(rng, "chr4", pos, ref, [ref[0]], "PASS", 90, [12])))
    if rng.random() < 0.1:  # multi-allelic KIT record
        out.append((3, 54733155, mutect2_line(rng, "chr4", 54733155, "A", ["T", "C"], "PASS",
                                              200, [40, 7])))
    # unique positions (the generator may draw a site twice); sorted like GATK output
    seen: dict[tuple[int, int], tuple[int, int, str]] = {}
    for item in out:
        seen.setdefault(item[:2], item)
    return sorted(seen.values(), key=lambda item: item[:2])


def make_lesion(job: tuple[Path, str, str, int]) -> None:
    path, tumor, normal, seed = job
    rng = random.Random(seed)
    contig_list = contigs(random.Random(SEED))
    n = rng.randint(2000, 10000)
    text = path.with_suffix("")  # .vcf
    with text.open("w") as out:
        out.write(header(tumor, normal, contig_list))
        for _, _, line in lesion_records(rng, n):
            out.write(line)
            out.write("\n")
    pysam.tabix_index(str(text), preset="vcf", force=True)  # -> .vcf.gz + .tbi, text removed


def make_lesions(out: Path, n_lesions: int, workers: int) -> None:
    lesions = out / "lesions"
    lesions.mkdir(parents=True, exist_ok=True)
    rows = ["patient_id\tlesion_id\tsample_id\trole\tstatus\tvcf_sample\tcalls"]
    jobs = []
    for i in range(n_lesions):
        patient = f"P{i // 4 + 1:04d}"
        lesion = f"L{i % 4 + 1}"
        tumor = f"{patient}_{lesion}"
        normal = f"{patient}_N"
        path = lesions / f"{tumor}.vcf.gz"
        status = "PD" if i % 3 == 0 else "SD"
        rows.append(f"{patient}\t{lesion}\t{tumor}\tlesion\t{status}\t{tumor}\t"
                    f"lesions/{path.name}")
        jobs.append((path, tumor, normal, SEED + i))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(make_lesion, jobs, chunksize=8))
    (out / "samplesheet.tsv").write_text("\n".join(rows) + "\n")


def _big_chunk(job: tuple[int, int, int]) -> bytes:
    """The compact records of one contig (sorted), as bytes."""
    ci, n, seed = job
    rng = random.Random(seed)
    chrom, length = GRCH38[ci]
    positions = sorted(set(rng.randrange(1, length) for _ in range(n)))
    lines = []
    bases = "ACGT"
    for pos in positions:
        ref = bases[rng.randrange(4)]
        alt = bases[(bases.index(ref) + 1 + rng.randrange(3)) % 4]
        depth = rng.randint(20, 200)
        alt_reads = rng.randint(1, depth // 2)
        filt = "PASS" if rng.random() < 0.3 else "weak_evidence"
        lines.append(
            f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t{filt}\tDP={depth + 30};TLOD={alt_reads * 2.1:.2f}"
            f"\tGT:AD:AF:DP\t0/1:{depth - alt_reads},{alt_reads}:{alt_reads / depth:.3f}:{depth}"
            f"\t0/0:30,0:0.031:30"
        )
    if chrom == "chr4":  # a deletion starting before the KIT window and reaching into it
        lines.append(f"chr4\t{KIT[0] - 5}\tKITDEL\tACGTACGTACGT\tA\t.\tPASS\tDP=120\t"
                     "GT:AD:AF:DP\t0/1:80,10:0.11:90\t0/0:30,0:0.031:30")
        lines.sort(key=lambda line: int(line.split("\t", 2)[1]))
    return ("\n".join(lines) + "\n").encode()


def make_big(out: Path, n_records: int, workers: int) -> None:
    total = sum(length for _, length in GRCH38)
    contig_list = contigs(random.Random(SEED))
    text = out / "big.vcf"
    jobs = [(ci, max(1, round(n_records * length / total)), SEED * 7 + ci)
            for ci, (_, length) in enumerate(GRCH38)]
    with text.open("wb") as handle:
        handle.write(header("TUMOR", "NORMAL", contig_list).encode())
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk in pool.map(_big_chunk, jobs):
                handle.write(chunk)
    big = out / "big.vcf.gz"
    if shutil.which("bgzip"):
        subprocess.run(["bgzip", "-f", "-@", str(workers), str(text)], check=True)
    else:
        pysam.tabix_compress(str(text), str(big), force=True)
        text.unlink()
    indexed = out / "big_indexed.vcf.gz"
    if indexed.exists() or indexed.is_symlink():
        indexed.unlink()
    os.link(big, indexed)
    pysam.tabix_index(str(indexed), preset="vcf", force=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="/tmp/lesiontrack-bench", type=Path)
    parser.add_argument("--lesions", type=int, default=1000)
    parser.add_argument("--big-records", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", choices=["lesions", "big"], default=None)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.only in (None, "lesions"):
        make_lesions(args.out, args.lesions, args.workers)
        print(f"{args.lesions} lesion VCFs in {args.out / 'lesions'} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.only in (None, "big"):
        make_big(args.out, args.big_records, args.workers)
        print(f"big VCF {args.out / 'big.vcf.gz'} ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
