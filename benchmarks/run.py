"""Time lesiontrack's VCF reading against bcftools on the data of ``make_data.py``.

Every lesiontrack job is timed in the same session as its bcftools reference, repetitions
interleaved (reference, job, reference, job...), and the ratio of the medians is reported: the
machine is shared and noisy, only ratios measured together mean something.

Usage::

    python3 benchmarks/make_data.py /tmp/lesiontrack-bench      # once (a few minutes)
    python3 benchmarks/run.py /tmp/lesiontrack-bench [--repeats 3] [--only 1,2] [--full]

Targets (ratios of medians, lower is better):

1. ``build_calls`` over the 1,000-lesion sample sheet vs a shell loop of
   ``bcftools view -r chr4:KIT | bcftools query`` over the same files: <= 0.25 (goal 0.15 with
   two worker processes).
2. One 2M-record bgzipped VCF without an index vs ``bcftools view -t chr4:KIT | bcftools
   query``: <= 0.25 (goal 0.1); with an index vs ``bcftools view -r``: <= 2.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

import lesiontrack.io.vcf as vcf_module
from lesiontrack.calls import build_calls, gene_windows
from lesiontrack.io.bgzf import INFLATE_BACKEND
from lesiontrack.samplesheet import read_samplesheet

KIT_REGION = "chr4:54656928-54741715"  # GRCh38 KIT window (gene + 1 kb margins)
QUERY = "%CHROM\\t%POS\\t%REF\\t%ALT\\t%FILTER[\\t%AD]\\n"
WINDOWS = gene_windows(("KIT", "PDGFRA"))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def shell(command: str) -> Callable[[], object]:
    def run() -> None:
        subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)

    return run


def measure(reference_name: str, reference: Callable[[], object],
            jobs: list[tuple[str, Callable[[], object], str]], repeats: int) -> list[dict]:
    """Time a reference and its jobs ``repeats`` times, interleaved (reference, job 1, job 2...,
    reference, job 1...); each job's median against the reference's median."""
    reference()  # warm-up: the page cache holds the files, as for every run after it
    ref_times: list[float] = []
    job_times: list[list[float]] = [[] for _ in jobs]
    for _ in range(repeats):
        ref_times.append(timed(reference))
        for times, (_, job, _) in zip(job_times, jobs, strict=True):
            times.append(timed(job))
    ref_median = statistics.median(ref_times)
    print(f"  {reference_name}: {ref_median:.3f} s", file=sys.stderr, flush=True)
    rows = []
    for times, (name, _, target) in zip(job_times, jobs, strict=True):
        median = statistics.median(times)
        rows.append({"job": name, "median_s": median, "reference": reference_name,
                     "reference_median_s": ref_median, "ratio": median / ref_median,
                     "target": target, "runs": repeats})
        print(f"  {name}: {median:.3f} s -> {median / ref_median:.3f}", file=sys.stderr,
              flush=True)
    return rows


# --------------------------------------------------------------------------------------------
# Target 1: many small indexed files


def _pysam_engine() -> None:
    """Make every read use the pysam engine (the reader before the fast path)."""
    vcf_module.read_vcf = functools.partial(_ORIGINAL_READ_VCF, engine="pysam")


def _text_engine() -> None:
    vcf_module.read_vcf = _ORIGINAL_READ_VCF


_ORIGINAL_READ_VCF = vcf_module.read_vcf


def _calls_chunk(args: tuple[str, pd.DataFrame]) -> int:
    """Worker: build_calls over a chunk of the sample sheet (what ``--jobs`` does per file)."""
    sheet_path, chunk = args
    return len(build_calls(chunk, sheet_path=sheet_path))


def calls_in_pool(sheet: pd.DataFrame, sheet_path: str, workers: int) -> int:
    """build_calls over chunks of files in a pool of ``workers`` processes."""
    chunks = [sheet.iloc[i::workers * 4] for i in range(workers * 4)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_calls_chunk, [(sheet_path, c) for c in chunks]))


def target1(data: Path, repeats: int, lesions: int | None, full: bool) -> list[dict]:
    sheet_path = data / "samplesheet.tsv"
    if lesions:  # a smaller sample sheet beside the full one (same relative paths)
        lines = sheet_path.read_text().splitlines()
        sheet_path = data / f"samplesheet_{lesions}.tsv"
        sheet_path.write_text("\n".join(lines[:lesions + 1]) + "\n")
    sheet = read_samplesheet(sheet_path)
    files = [str(p) for p in sheet["calls_path"]]
    listing = data / "files.txt"
    listing.write_text("\n".join(files) + "\n")
    loop = (f"while read -r f; do bcftools view -r {KIT_REGION} \"$f\" | "
            f"bcftools query -f '{QUERY}'; done < {shlex.quote(str(listing))}")
    xargs = (f"xargs -P2 -I{{}} sh -c \"bcftools view -r {KIT_REGION} {{}} | "
             f"bcftools query -f '{QUERY}'\" < {shlex.quote(str(listing))}")
    n = len(files)
    has_jobs = "jobs" in inspect.signature(build_calls).parameters

    def single() -> None:
        _text_engine()
        build_calls(sheet, sheet_path=sheet_path)

    def pooled() -> None:
        _text_engine()
        if has_jobs:
            build_calls(sheet, sheet_path=sheet_path, jobs=2)
        else:
            calls_in_pool(sheet, str(sheet_path), 2)

    def before() -> None:
        _pysam_engine()
        try:
            build_calls(sheet, sheet_path=sheet_path)
        finally:
            _text_engine()

    def read_only() -> None:
        for path in sheet["calls_path"]:
            _ORIGINAL_READ_VCF(Path(path), regions=WINDOWS)

    cli = [sys.executable, "-m", "lesiontrack.cli", "calls", str(sheet_path), "-o",
           str(data / "calls.tsv")]
    jobs_option = ["--jobs", "2"] if has_jobs else []
    jobs = [(f"build_calls, {n} files, 1 process, pysam engine (before)", before, "")] \
        if full else []
    jobs += [
        (f"build_calls, {n} files, 1 process", single, "<= 0.25"),
        (f"build_calls, {n} files, 2 processes", pooled, "goal 0.15"),
    ]
    jobs += [
        (f"read_vcf only (text engine), {n} files, 1 process", read_only, ""),
        (f"bcftools loop with xargs -P2, {n} files", shell(xargs), ""),
    ]
    if full:
        jobs.append((f"`lesiontrack calls` command, {n} files (incl. start-up)",
                     shell(shlex.join(cli)), ""))
    if full and has_jobs:
        jobs.append((f"`lesiontrack calls --jobs 2` command, {n} files (incl. start-up)",
                      shell(shlex.join(cli + jobs_option)), ""))
    return measure("bcftools view -r | query loop", shell(loop), jobs, repeats)


# --------------------------------------------------------------------------------------------
# Target 2: one big file


def target2(data: Path, repeats: int, full: bool) -> list[dict]:
    big = data / "big.vcf.gz"
    indexed = data / "big_indexed.vcf.gz"
    query = f"bcftools query -f '{QUERY}'"
    stream_jobs = [
        ("2M-record VCF, no index: read_vcf (whole-file scan, default)",
         lambda: vcf_module.read_vcf(big, regions=WINDOWS), "<= 0.25 (goal 0.1)"),
        ("2M-record VCF, no index: read_vcf(stop_early=True)",
         lambda: vcf_module.read_vcf(big, regions=WINDOWS, stop_early=True), "opt-in"),
        ("2M-record VCF, no index: `bgzip -@2 -dc` (decompression floor)",
         shell(f"bgzip -@2 -dc {big} > /dev/null"), ""),
    ]
    if full:
        stream_jobs.append(("2M-record VCF, no index: read_vcf, pysam engine (before)",
                            lambda: vcf_module.read_vcf(big, regions=WINDOWS, engine="pysam"),
                            ""))
    rows = measure("bcftools view -t | query", shell(f"bcftools view -t {KIT_REGION} {big} | "
                                                     f"{query}"), stream_jobs, repeats)
    index_jobs = [
        ("2M-record VCF, indexed: read_vcf", lambda: vcf_module.read_vcf(indexed,
                                                                        regions=WINDOWS), "<= 2"),
        ("2M-record VCF, indexed: read_vcf, pysam engine (before)",
         lambda: vcf_module.read_vcf(indexed, regions=WINDOWS, engine="pysam"), ""),
    ]
    rows += measure("bcftools view -r | query", shell(f"bcftools view -r {KIT_REGION} "
                                                      f"{indexed} | {query}"), index_jobs,
                    repeats)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| job | median (s) | reference | reference median (s) | ratio | target |",
             "|---|---:|---|---:|---:|---|"]
    for r in rows:
        reference = r["reference"].replace("|", "\\|")
        lines.append(f"| {r['job']} | {r['median_s']:.3f} | {reference} | "
                     f"{r['reference_median_s']:.3f} | {r['ratio']:.3f} | {r['target']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default="/tmp/lesiontrack-bench", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lesions", type=int, default=None,
                        help="use only the first N lesions of the sample sheet")
    parser.add_argument("--only", default="1,2", help="targets to run: 1, 2 or 1,2")
    parser.add_argument("--full", action="store_true",
                        help="also time the pysam engine (before) and the `lesiontrack calls` "
                             "command (about 6 minutes instead of 3)")
    args = parser.parse_args(argv)
    if not (args.data / "samplesheet.tsv").exists():
        parser.error(f"no benchmark data in {args.data}: run benchmarks/make_data.py first")
    wanted = {t.strip() for t in args.only.split(",")}
    print(f"# inflate backend: {INFLATE_BACKEND}; CPUs: {len(os.sched_getaffinity(0))}",
          file=sys.stderr)
    rows: list[dict] = []
    if "1" in wanted:
        rows += target1(args.data, args.repeats, args.lesions, args.full)
    if "2" in wanted:
        rows += target2(args.data, args.repeats, args.full)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
