"""Re-make lesiontrack/genome/data/exons.tsv from the shared KIT/PDGFRA transcript facts.

Usage: python scripts/build_genome_data.py [../shared/kit-reference/exons.tsv]

The shared table is the source of the facts; the package ships its own copy in a stable,
typed layout (one row per exon and build, integer columns, empty cells for non-coding exons).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "kit-reference" / "exons.tsv"
TARGET = HERE.parent / "lesiontrack" / "genome" / "data" / "exons.tsv"
COLUMNS = [
    "gene", "transcript", "assembly", "exon", "chrom", "start", "end", "strand",
    "c_first", "c_last", "cds_start", "cds_end", "codon_first", "codon_last",
]


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise SystemExit(f"{source}: missing columns {missing}")
    rows.sort(key=lambda r: (r["gene"], r["assembly"], int(r["exon"])))
    with TARGET.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row[c].strip() for c in COLUMNS])
    print(f"wrote {len(rows)} exons to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
