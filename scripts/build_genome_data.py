"""Re-make the package's genome data files from the shared KIT/PDGFRA reference facts.

Usage: python scripts/build_genome_data.py [FOLDER]   (default ../shared/kit-reference)

Writes, in lesiontrack/genome/data/:

- ``exons.tsv`` from ``exons.tsv`` (transcript models, both builds);
- ``hotspots.tsv`` from ``hotspots.tsv`` (known GIST alleles, VCF style), source ids renamed to
  the package's ``sources.tsv`` ids;
- ``exon_windows.tsv`` from ``exon-sequences.tsv`` (reference sequence of the hotspot exons with
  flanking intron), after checking each window against the exon table (canonical AG...GT splice
  sites at the exon boundaries, the same bases on both builds).

The shared tables are the source of the facts; the package ships its own copies in a stable
layout. Running the script again re-makes the files byte for byte (a test checks this).
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: ``shared/kit-reference`` beside the repository (or beside a folder holding it, as for a git
#: worktree); None when there is none.
DEFAULT_SOURCE = next((p / "shared" / "kit-reference" for p in HERE.parents[1:]
                       if (p / "shared" / "kit-reference").is_dir()), None)
TARGET = HERE.parent / "lesiontrack" / "genome" / "data"
COLUMNS = [
    "gene", "transcript", "assembly", "exon", "chrom", "start", "end", "strand",
    "c_first", "c_last", "cds_start", "cds_end", "codon_first", "codon_last",
]
HOTSPOT_COLUMNS = ["gene", "protein_change", "assembly", "chrom", "pos", "ref", "alt", "exon",
                   "source"]
WINDOW_COLUMNS = ["gene", "exon", "assembly", "chrom", "start", "end", "sequence"]
#: Source ids of the shared hotspot table -> ids of the package's sources.tsv.
SOURCE_IDS = {"S2": "S4", "S4": "S5", "S5": "S6", "S6": "S7", "S7": "S8", "S9": "S9"}
_SOURCE_ID = re.compile(r"^S\d+")


def _read(path: Path, columns: list[str]) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    missing = [c for c in columns if not rows or c not in rows[0]]
    if missing:
        raise SystemExit(f"{path}: missing columns {missing}")
    return [{c: (row[c] or "").strip() for c in columns} for row in rows]


def _tsv(columns: list[str], rows: list[dict[str, str]]) -> str:
    lines = ["\t".join(columns)] + ["\t".join(row[c] for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def build_exons(folder: Path) -> str:
    """Text of the package's exons.tsv."""
    rows = _read(folder / "exons.tsv", COLUMNS)
    rows.sort(key=lambda r: (r["gene"], r["assembly"], int(r["exon"])))
    return _tsv(COLUMNS, rows)


def _renamed_sources(text: str) -> str:
    out = []
    for item in text.split(";"):
        match = _SOURCE_ID.match(item)
        if match is None or match.group(0) not in SOURCE_IDS:
            raise SystemExit(f"hotspots.tsv: unknown source id in {text!r}")
        out.append(SOURCE_IDS[match.group(0)] + item[match.end():])
    return ";".join(out)


def build_hotspots(folder: Path) -> str:
    """Text of the package's hotspots.tsv."""
    rows = _read(folder / "hotspots.tsv", HOTSPOT_COLUMNS)
    for row in rows:
        row["source"] = _renamed_sources(row["source"])
    rows.sort(key=lambda r: (r["gene"], r["assembly"], int(r["pos"]), r["ref"], r["alt"]))
    return _tsv(HOTSPOT_COLUMNS, rows)


def build_windows(folder: Path) -> str:
    """Text of the package's exon_windows.tsv, each window checked against the exon table."""
    rows = _read(folder / "exon-sequences.tsv", WINDOW_COLUMNS)
    exons = {(r["gene"], r["assembly"], r["exon"]): r for r in _read(folder / "exons.tsv", COLUMNS)}
    by_window: dict[tuple[str, str], str] = {}
    for row in rows:
        start, end, seq = int(row["start"]), int(row["end"]), row["sequence"].upper()
        where = f"{row['gene']} exon {row['exon']} {row['assembly']}"
        if len(seq) != end - start + 1 or set(seq) - set("ACGT"):
            raise SystemExit(f"exon-sequences.tsv: {where}: sequence length or bases wrong")
        exon = exons[(row["gene"], row["assembly"], row["exon"])]
        first, last = int(exon["start"]), int(exon["end"])
        if not (start + 2 <= first and last + 2 <= end):
            raise SystemExit(f"exon-sequences.tsv: {where}: the window does not hold the exon")
        acceptor = seq[first - 2 - start:first - start]
        donor = seq[last + 1 - start:last + 3 - start]
        if (acceptor, donor) != ("AG", "GT"):
            raise SystemExit(f"exon-sequences.tsv: {where}: splice sites {acceptor}...{donor}")
        if by_window.setdefault((row["gene"], row["exon"]), seq) != seq:
            raise SystemExit(f"exon-sequences.tsv: {where}: the builds' sequences differ")
        row["sequence"] = seq
    rows.sort(key=lambda r: (r["gene"], r["assembly"], int(r["exon"])))
    return _tsv(WINDOW_COLUMNS, rows)


#: Package file -> the function that makes its text from the shared folder.
BUILDERS = {"exons.tsv": build_exons, "hotspots.tsv": build_hotspots,
            "exon_windows.tsv": build_windows}


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if folder is None:
        raise SystemExit("no shared/kit-reference folder found: give its path")
    for name, build in BUILDERS.items():
        text = build(folder)
        (TARGET / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {text.count(chr(10)) - 1} rows to {TARGET / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
