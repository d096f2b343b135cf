"""Benchmark: classify + stats over a large calls table, and report over many patients.

Targets (issue: scale): classify + stats on 10,000 patients x 6 lesions x 5 mutations in
<= 20 s and <= 2 GB peak memory, doubling the cohort costing <= 2.2x the time; report for 1,000
patients in <= 60 s with --jobs 2, memory independent of cohort size.

    python benchmarks/cohort_analytics.py [--patients 10000] [--report-patients 1000]

Each measurement runs in a fresh subprocess (peak RSS from /proc/self/status VmHWM); the reference for the
ratios is the same job at half the cohort size, in the same session.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lesiontrack import CALLS_COLUMNS  # noqa: E402

# GRCh38 sites: two primary (exon 11, exon 9) and five secondary (resistance) candidates
PRIMARY = [("4", 54727435, "AGTGGA", "-", "KIT", "11", 556, "p.W557_K558del"),
           ("4", 54726012, "-", "TGCCTA", "KIT", "9", 501, "p.A502_Y503dup")]
SECONDARY = [("4", 54728092, "T", "C", "KIT", "13", 654, "p.V654A"),
             ("4", 54729353, "C", "T", "KIT", "14", 670, "p.T670I"),
             ("4", 54733155, "A", "T", "KIT", "17", 816, "p.D816V"),
             ("4", 54733166, "G", "T", "KIT", "17", 820, "p.D820Y"),
             ("4", 54733174, "T", "G", "KIT", "17", 822, "p.N822K")]


def make_table(n_patients: int, lesions: int = 6, mutations: int = 5, seed: int = 1
               ) -> pd.DataFrame:
    """A joint-called cohort: every mutation of a patient has a row in every lesion."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        patient = f"P{p:05d}"
        progressive = set(rng.choice(lesions, size=rng.integers(1, lesions), replace=False))
        sites = [PRIMARY[p % 2]] + [SECONDARY[i] for i in
                                    rng.choice(len(SECONDARY), mutations - 1, replace=False)]
        for lesion in range(lesions):
            status = "progressive" if lesion in progressive else "controlled"
            for k, (chrom, pos, ref, alt, gene, exon, codon, hgvsp) in enumerate(sites):
                present = k == 0 or (status == "progressive" and rng.random() < 0.4)
                depth = int(rng.integers(80, 400))
                alt_count = int(rng.binomial(depth, 0.3)) if present else int(rng.integers(0, 2))
                rows.append((patient, f"L{lesion + 1}", f"{patient}_L{lesion + 1}", "lesion",
                             status, status, "", "", "GRCh38", chrom, f"chr{chrom}", pos, ref,
                             alt, f"{chrom}:{pos}:{ref}>{alt}", gene, exon, codon, "", hgvsp,
                             "annotation", "", alt_count, depth, alt_count / depth, None, "PASS",
                             "mutect2", "cohort.vcf.gz", "", None))
    frame = pd.DataFrame(rows, columns=CALLS_COLUMNS)
    frame["detected"] = ""
    return frame


def run(argv: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one lesiontrack command in a fresh process."""
    # VmHWM, not getrusage: ru_maxrss survives execve, so a child would report its parent's peak
    code = ("import re, sys, time; from lesiontrack.cli import main; t = time.perf_counter(); "
            f"code = main({argv!r}); seconds = time.perf_counter() - t; "
            "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]); "
            "sys.stderr.write('BENCH %f %f\\n' % (seconds, hwm / 1024)); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    line = [x for x in done.stderr.splitlines() if x.startswith("BENCH")][-1]
    _, seconds, rss = line.split()
    return float(seconds), float(rss)


def median_run(argv: list[str], repeats: int) -> tuple[float, float]:
    results = [run(argv) for _ in range(repeats)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--report-patients", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report-sizes", metavar="N,N,...",
                        help="cohort sizes for the report (default: half and all of "
                             "--report-patients)")
    parser.add_argument("--report-jobs", default="1,2", metavar="J,J,...")
    parser.add_argument("--only-report", action="store_true",
                        help="skip classify + stats (the report's memory across sizes)")
    args = parser.parse_args()
    rows = []
    times: dict[str, float] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        if not args.only_report:
            _classify_and_stats(folder, args, rows, times, sizes)
        report_rows = []
        report_sizes = ([int(x) for x in args.report_sizes.split(",")] if args.report_sizes
                        else [args.report_patients // 2, args.report_patients])
        for n in report_sizes:
            table = folder / f"report_calls_{n}.parquet"
            make_table(n).to_parquet(table, index=False)
            for jobs in map(int, args.report_jobs.split(",")):
                out = folder / f"report_{n}_{jobs}"
                seconds, rss = median_run(["-q", "report", "--calls", str(table), "-o", str(out),
                                           "--jobs", str(jobs), "--force",
                                           "--permutations", "1000"], max(1, args.repeats - 1))
                report_rows.append((f"report, {n:,} patients, --jobs {jobs}", seconds, rss))
    print("| job | median seconds | peak RSS (MiB) |")
    print("|---|---:|---:|")
    for name, seconds, rss in rows + report_rows:
        print(f"| {name} | {seconds:.2f} | {rss:.0f} |")
    print()
    if times:
        print(f"doubling {sizes['full']:,} -> {sizes['double']:,} patients: "
              f"{times['double'] / times['full']:.2f}x the time; "
              f"{sizes['half']:,} -> {sizes['full']:,}: {times['full'] / times['half']:.2f}x")
        print(json.dumps({"times": times}))
    return 0


def _classify_and_stats(folder: Path, args, rows: list, times: dict, sizes: dict) -> None:
    """classify + stats at half, all and twice ``--patients`` (times by size name)."""
    sizes.update(half=args.patients // 2, full=args.patients, double=args.patients * 2)
    tables = {}
    for name, n in sizes.items():
        tables[name] = folder / f"calls_{n}.parquet"
        make_table(n).to_parquet(tables[name], index=False)
    for name, n in sizes.items():
        out = folder / f"stats_{n}.json"
        seconds, rss = median_run(["-q", "stats", "--calls", str(tables[name]), "--json",
                                   "-o", str(out), "--permutations", "10000"], args.repeats)
        times[name] = seconds
        rows.append((f"classify + stats, {n:,} patients x 6 lesions x 5 mutations",
                     seconds, rss))


if __name__ == "__main__":
    sys.exit(main())
