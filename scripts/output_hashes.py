#!/usr/bin/env python3
"""Hash the machine-readable outputs of every command, to prove a refactoring changed nothing.

Runs the CLI (``python -m lesiontrack.cli``) under default options on the bundled fixtures (the
demo report, ``calls``, ``classify``, ``graph``, ``stats``, ``outcomes``, ``phylogeny``, BAM
recount, copy number) and, when ``../shared`` is there, on MesKit's CRC_HZ and Treeomics'
example. Every TSV/JSON/GraphML/Newick file written and every command's standard output is
hashed (SHA-256), with the paths of the temporary folder, the checkout and ../shared replaced and ``provenance.json``'s
``run_time`` and Python/pandas versions left out. HTML pages are hashed only
with ``--html`` (their embedded figures depend on the matplotlib version).

    python scripts/output_hashes.py > before.tsv        # on the old tree
    python scripts/output_hashes.py --check before.tsv  # on the new tree: exit 1 on a difference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared" / "external-data"
HASHED = {".tsv", ".json", ".graphml", ".nwk", ".txt", ".csv"}


def _commands(work: Path) -> list[tuple[str, list[str]]]:
    sheet = str(FIXTURES / "samplesheet.tsv")
    patients = str(FIXTURES / "patients.tsv")
    runs = [
        ("demo", ["demo", "-o", str(work / "demo")]),
        ("calls", ["calls", sheet]),
        ("calls-all-genes", ["calls", sheet, "--genes", "all"]),
        ("calls-filtered", ["calls", sheet, "--include-filtered"]),
        ("calls-recount", ["calls", sheet, "--recount"]),
        ("classify", ["classify", sheet]),
        ("classify-count-all", ["classify", sheet, "--count-all"]),
        ("classify-patients", ["classify", sheet, "--patients", patients]),
        ("graph-graphml", ["graph", sheet, "-o", str(work / "graph.graphml")]),
        ("graph-json", ["graph", sheet, "-o", str(work / "graph.json")]),
        ("stats", ["stats", sheet]),
        ("stats-json", ["stats", sheet, "--json", "--permutations", "2000"]),
        ("stats-patients", ["stats", sheet, "--json", "--patients", patients]),
        ("outcomes", ["outcomes", sheet, "--patients", patients, "--json"]),
        ("outcomes-confined", ["outcomes", sheet, "--patients", patients, "--by", "confined", "--json"]),
        ("outcomes-dir", ["outcomes", sheet, "--patients", patients, "-o", str(work / "outcomes")]),
        ("phylogeny", ["phylogeny", sheet, "-o", str(work / "phylogeny")]),
        ("report", ["report", sheet, "--patients", patients, "-o", str(work / "report")]),
    ]
    meskit = SHARED / "meskit_crc_hz"
    if (meskit / "CRC_HZ.maf").exists():
        rows = ["patient_id\tlesion_id\tsample_id\tstatus\tcalls\tassembly"]
        for line in (meskit / "CRC_HZ.clin.txt").read_text().splitlines()[1:]:
            barcode, tumour, patient = line.split("\t")[:3]
            rows.append(f"{patient}\t{tumour}\t{barcode}\tunknown\t{meskit / 'CRC_HZ.maf'}\tGRCh37")
        (work / "meskit.tsv").write_text("\n".join(rows) + "\n")
        runs += [
            ("meskit-classify", ["classify", str(work / "meskit.tsv"), "--genes", "all"]),
            ("meskit-phylogeny", ["phylogeny", str(work / "meskit.tsv"), "--genes", "all",
                                  "-o", str(work / "meskit-phylogeny")]),
        ]
    treeomics = SHARED / "treeomics_example" / "example.vcf"
    if treeomics.exists():
        samples = ["Met1", "Met2", "Met3", "Met4", "Met5", "Met6"]
        rows = ["patient_id\tlesion_id\tsample_id\tstatus\tcalls\tvcf_sample\tassembly"]
        rows += [f"example\t{s}\t{s}\tunknown\t{treeomics}\t{s}\tGRCh37" for s in samples]
        (work / "treeomics.tsv").write_text("\n".join(rows) + "\n")
        runs.append(("treeomics-calls", ["calls", str(work / "treeomics.tsv"), "--genes", "all",
                                         "--min-vaf", "0.05"]))
    return runs


def _digest(data: bytes, work: Path, provenance: bool = False) -> str:
    for folder, name in ((work, b"WORK"), (SHARED, b"SHARED"), (ROOT, b"ROOT")):  # they vary
        data = data.replace(str(folder).encode(), name)
    if provenance:
        record = json.loads(data)
        for key in ("run_time", "python", "pandas"):  # the machine's, not the run's
            record.pop(key, None)
        data = json.dumps(record, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def hashes(html: bool = False) -> dict[str, str]:
    """``{name: sha256}`` of every output of every run."""
    out: dict[str, str] = {}
    suffixes = HASHED | ({".html"} if html else set())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, argv in _commands(work):
            done = subprocess.run([sys.executable, "-m", "lesiontrack.cli", "--quiet", *argv],
                                  capture_output=True, env=env, cwd=work)
            if done.returncode != 0:
                raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
            out[f"{name}:stdout"] = _digest(done.stdout, work)
        for path in sorted(work.rglob("*")):
            if path.is_file() and path.suffix in suffixes and path.name not in {"meskit.tsv", "treeomics.tsv"}:
                out[str(path.relative_to(work))] = _digest(path.read_bytes(), work,
                                                           path.name == "provenance.json")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", metavar="FILE", help="compare with hashes written before")
    parser.add_argument("--html", action="store_true", help="hash the HTML pages too")
    args = parser.parse_args()
    now = hashes(html=args.html)
    if not args.check:
        for name, digest in now.items():
            print(f"{name}\t{digest}")
        return 0
    before = dict(line.split("\t") for line in Path(args.check).read_text().splitlines() if line)
    changed = sorted(k for k in before.keys() & now.keys() if before[k] != now[k])
    missing, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
    for label, names in (("changed", changed), ("missing", missing), ("new", new)):
        for name in names:
            print(f"{label}: {name}", file=sys.stderr)
    print(f"{len(now)} outputs hashed; {len(changed)} changed, {len(missing)} missing, {len(new)} new",
          file=sys.stderr)
    return 1 if changed or missing or new else 0


if __name__ == "__main__":
    raise SystemExit(main())
