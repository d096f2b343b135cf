"""Time and peak memory of big sample sheets (seeded, generated data).

Writes one small single-sample VCF (two KIT records, GRCh38; ``--records 1``: one) and sample
sheets that point every
row at it, then runs each stage in a fresh Python process and reports its wall time and peak
resident memory (``VmHWM`` of that process, read from ``/proc/self/status``: Linux only; the
growth is the peak less the ``VmHWM`` after the imports, ~107 MiB of Python, numpy and pandas):

``sheet``  ``lesiontrack.read_samplesheet`` only (reading, validation, consistency checks);
``calls``  the ``lesiontrack calls SHEET -o calls.tsv`` command (the sheet, the join of the calls
           file's rows to every sheet row, annotation, the TSV).

Two shapes: ``lesions`` (one patient with N lesions, one sample each) and ``patients`` (N
patients with one lesion each). Figures are per sheet row and as a ratio of the peak to the
sheet's size, so that runs of different sizes (and machines) compare.

``--before DIR`` also runs each stage with the lesiontrack package found in DIR (e.g. an older
commit exported with ``git archive <commit> lesiontrack | tar -x -C DIR``), right after the
current one, and adds the ratios current / before: the machine may be shared and noisy, and only
figures measured together compare.

Usage: ``python3 benchmarks/sheet_scale.py [--rows 1000000] [--shapes lesions,patients]
[--stages sheet,calls] [--folder DIR] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

VCF = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr4,length=190214555>\n"
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    "chr4\t54728092\t.\tT\tC\t.\tPASS\t.\tAD\t100,20\n"
    "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tAD\t100,30\n"
)

#: Run in a fresh process: the stage, then its peak memory (VmHWM, KiB) and its baseline (the
#: VmHWM after the imports, before the stage).
_CHILD = r"""
import sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
stage, sheet = sys.argv[1], sys.argv[2]
import lesiontrack, lesiontrack.calls, lesiontrack.cli  # noqa: E401
base = hwm()
start = time.perf_counter()
if stage == "sheet":
    frame = lesiontrack.read_samplesheet(sheet)
    n = len(frame)
else:
    code = lesiontrack.cli.main(["--quiet", "calls", sheet, "-o", sheet + ".calls.tsv"])
    n = code
print(time.perf_counter() - start, hwm(), base, n)
"""


def write_sheet(folder: Path, rows: int, shape: str, records: int = 2) -> Path:
    """A sheet of ``rows`` rows of one shape, every row naming the TUMOR column of a VCF of
    ``records`` (1 or 2) records."""
    vcf = f"tumor{records}.vcf"
    (folder / vcf).write_text("".join(VCF.splitlines(keepends=True)[:4 + records]))
    path = folder / f"sheet_{shape}_{rows}_{records}.tsv"
    with path.open("w") as out:
        out.write("patient_id\tlesion_id\tsample_id\tstatus\tsite\tvcf_sample\tcalls\n")
        status = ("PD", "SD")
        for i in range(rows):
            if shape == "lesions":
                out.write(f"P000001\tL{i:07d}\tP000001_L{i:07d}\t{status[i % 2]}\tliver\t"
                          f"TUMOR\t{vcf}\n")
            else:
                out.write(f"P{i:07d}\tL1\tP{i:07d}_L1\t{status[i % 2]}\tliver\tTUMOR\t"
                          f"{vcf}\n")
    return path


def measure(stage: str, sheet: Path, code: Path | None = None) -> tuple[float, int, int, str]:
    """(seconds, peak KiB, baseline KiB, result) of one stage in a fresh process, with the
    lesiontrack package of ``code`` (default: this checkout)."""
    code = code or Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", _CHILD, stage, str(sheet)], env=env,
                          cwd=sheet.parent,  # not this checkout: "-c" puts the cwd first
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{stage} on {sheet} failed: {done.stderr.strip()[-2000:]}")
    seconds, peak, base, result = done.stdout.split()
    return float(seconds), int(peak), int(base), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated row counts")
    parser.add_argument("--shapes", default="lesions,patients")
    parser.add_argument("--stages", default="sheet,calls")
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--records", type=int, choices=(1, 2), default=2,
                        help="records in the VCF: calls rows per sheet row")
    parser.add_argument("--before", type=Path, default=None,
                        help="a folder holding an older lesiontrack package to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lesiontrack-sheet-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print("| shape | rows | sheet MB | stage | code | seconds | us/row | peak MiB "
              "| growth MiB | bytes/row (growth) | peak / sheet size | growth / sheet size |")
        print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for shape in args.shapes.split(","):
            for rows in (int(r) for r in args.rows.split(",")):
                sheet = write_sheet(folder, rows, shape, args.records)
                size = sheet.stat().st_size
                for stage in args.stages.split(","):
                    runs = [("current", None)] + ([("before", args.before)] if args.before
                                                  else [])
                    results = []
                    for label, code in runs:
                        seconds, peak, base, _ = measure(stage, sheet, code)
                        growth = (peak - base) * 1024
                        results.append((seconds, peak))
                        print(f"| {shape} | {rows:,} | {size / 1e6:.1f} | {stage} | {label} "
                              f"| {seconds:.2f} | {seconds / rows * 1e6:.1f} | {peak / 1024:.0f} "
                              f"| {growth / 2**20:.0f} | {growth / rows:.0f} "
                              f"| {peak * 1024 / size:.1f}x | {growth / size:.1f}x |",
                              flush=True)
                    if len(results) == 2:
                        (t1, p1), (t0, p0) = results
                        print(f"| {shape} | {rows:,} | | {stage} | current / before "
                              f"| {t1 / t0:.2f} | | {p1 / p0:.2f} | | | | |", flush=True)


if __name__ == "__main__":
    main()
