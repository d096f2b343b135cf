"""Re-make the package's genome data files from the shared KIT/PDGFRA reference facts.

Usage: python scripts/build_genome_data.py [FOLDER]   (default ../shared/kit-reference)

Writes, in lesiontrack/genome/data/:

- ``exons.tsv`` from ``exons.tsv`` (transcript models, both builds);
- ``hotspots.tsv`` from ``hotspots.tsv`` (known GIST alleles, VCF style), source ids renamed to
  the package's ``sources.tsv`` ids;
- ``exon_windows.tsv`` from ``exon-sequences.tsv`` (reference sequence of the hotspot exons with
  flanking intron), after checking each window against the exon table (canonical AG...GT splice
  sites at the exon boundaries, the same bases on both builds);
- ``drugs.tsv`` and ``drug_sources.tsv`` from ``drugs.md`` (drug activity by site and drug, and
  the sources it cites; :func:`build_drugs`, :func:`build_drug_sources`).

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


# --- drug activity (drugs.tsv, drug_sources.tsv from drugs.md) ---------------------------------

DRUGS = ("imatinib", "sunitinib", "regorafenib", "ripretinib", "avapritinib")
DRUG_COLUMNS = ["gene", "exon", "codon_first", "codon_last", "protein_change", "region", "class",
                "drug", "activity", "grade", "in_vitro", "sources", "evidence"]
DRUG_SOURCE_COLUMNS = ["id", "citation"]
#: Words of drugs.md -> activity class; the first such word in a cell (or clause) decides.
ACTIVITY_WORDS = (
    ("not established", "unknown"),
    ("sensitive", "sensitive"), ("active", "sensitive"), ("potent", "sensitive"),
    ("inhibits", "sensitive"), ("approved", "sensitive"),
    ("reduced", "reduced"), ("weak", "reduced"), ("higher dose", "reduced"),
    ("inferior", "reduced"),
    ("resistant", "resistant"),
)
_ACTIVITY_RE = re.compile(r"\b(" + "|".join(w for w, _ in ACTIVITY_WORDS) + r")\b", re.I)
_GRADE_RE = re.compile(r"\(([AB])[):]")
#: The sites of each row of drugs.md's table (matched by the start of its first cell):
#: (gene, exon, site, region, clause) where site is ``"exon"`` (every codon of the exon),
#: a codon number or a one-letter protein change; clause maps a drug to the index of the
#: ``"; "``-separated clause of its cell that speaks of this site (default: the whole cell).
_AL = {"regorafenib": 0, "avapritinib": 1}  # activation loop, not D816
_AL_D816 = {"regorafenib": 1, "avapritinib": 1}
DRUG_SITES: tuple[tuple[str, tuple[tuple[str, str, object, str, dict[str, int]], ...]], ...] = (
    ("KIT exon 11 primary", (("KIT", "11", "exon", "juxtamembrane domain", {}),)),
    ("KIT exon 9 primary", (("KIT", "9", "exon", "extracellular domain", {}),)),
    ("KIT exon 13 K642E", (("KIT", "13", "K642E", "kinase domain", {}),)),
    ("secondary ATP-binding pocket", (
        ("KIT", "13", 654, "ATP-binding pocket", {}),
        ("KIT", "14", 670, "ATP-binding pocket", {}),
    )),
    ("secondary activation loop", (
        ("KIT", "17", 816, "activation loop", _AL_D816),
        ("KIT", "17", "D816V", "activation loop", {"regorafenib": 1, "avapritinib": 0}),
        ("KIT", "17", 820, "activation loop", _AL),
        ("KIT", "17", 822, "activation loop", _AL),
        ("KIT", "17", 823, "activation loop", _AL),
        ("KIT", "18", "A829P", "activation loop", _AL),
    )),
    ("PDGFRA exon 18 D842V", (("PDGFRA", "18", "D842V", "activation loop", {}),)),
    ("PDGFRA exon 12 V561D", (("PDGFRA", "12", "V561D", "juxtamembrane domain", {}),)),
)
#: Which source backs each call that is not ``unknown`` (ids of drug_sources.tsv, D1... in the
#: order of drugs.md's source list; S1 is the knowledge table's sources.tsv): (class, drug) ->
#: ids, and (class, drug, site) for a site with a source of its own.
DRUG_CALL_SOURCES: dict[tuple, str] = {
    ("KIT exon 11 primary", "imatinib"): "S1",
    ("KIT exon 11 primary", "sunitinib"): "D1",
    ("KIT exon 11 primary", "ripretinib"): "D8",
    ("KIT exon 9 primary", "imatinib"): "S1",
    ("KIT exon 9 primary", "sunitinib"): "D1",
    ("KIT exon 13 K642E", "imatinib"): "D0",
    ("secondary ATP-binding pocket", "imatinib"): "D1;D2",
    ("secondary ATP-binding pocket", "sunitinib"): "D1;D4",
    ("secondary ATP-binding pocket", "regorafenib"): "D3",
    ("secondary ATP-binding pocket", "ripretinib"): "D4;D5",
    ("secondary activation loop", "imatinib"): "D1;D2",
    ("secondary activation loop", "sunitinib"): "D1;D4",
    ("secondary activation loop", "sunitinib", 816): "D1;D4;D7",
    ("secondary activation loop", "sunitinib", "D816V"): "D1;D4;D7",
    ("secondary activation loop", "regorafenib"): "D3",
    ("secondary activation loop", "ripretinib"): "D4;D5",
    ("secondary activation loop", "avapritinib"): "D6",
    ("PDGFRA exon 18 D842V", "imatinib"): "D6;D8",
    ("PDGFRA exon 18 D842V", "sunitinib"): "D6",
    ("PDGFRA exon 18 D842V", "regorafenib"): "D6",
    ("PDGFRA exon 18 D842V", "ripretinib"): "D5",
    ("PDGFRA exon 18 D842V", "avapritinib"): "D6;D8",
    ("PDGFRA exon 12 V561D", "imatinib"): "S1",
}
#: Source ids -> a word their citation in drugs.md must contain (guards against a reordered list).
DRUG_SOURCE_CHECK = {"D1": "Clin Oncol 2008", "D2": "Liegl", "D3": "Serrano", "D4": "INTRIGUE",
                     "D5": "Smith", "D6": "Evans", "D7": "Gajiwala", "D8": "NAVIGATOR"}
#: A call drugs.md grades without naming a publication cites the sheet itself.
DRUG_SHEET_SOURCE = ("D0", "lesiontrack kit-reference fact sheet drugs.md: the call and grade as "
                     "stated there; the sheet names no publication for it")


def _markdown_section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def drug_table_rows(text: str) -> list[list[str]]:
    """Cells of each row of the "Activity by class" table of drugs.md (header first)."""
    rows = [line for line in _markdown_section(text, "## Activity by class")
            if line.startswith("|")]
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in rows]
    return [row for row in cells if not set("".join(row)) <= set("-: ")]


def activity_of(words: str) -> str:
    """Activity class of a cell or clause of drugs.md: its first activity word decides."""
    match = _ACTIVITY_RE.search(words)
    if match is None:
        raise SystemExit(f"drugs.md: no activity word in {words!r}")
    return dict(ACTIVITY_WORDS)[match.group(1).lower()]


def _exon_codons(folder: Path) -> dict[tuple[str, str], tuple[str, str]]:
    with (folder / "exons.tsv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")
                if r["assembly"] == "GRCh38" and r["codon_first"].strip()]
    return {(r["gene"], r["exon"]): (r["codon_first"].strip(), r["codon_last"].strip())
            for r in rows}


def build_drugs(folder: Path) -> str:
    """Text of the package's drugs.tsv: one row per (site, drug) from drugs.md's table."""
    table = drug_table_rows((folder / "drugs.md").read_text(encoding="utf-8"))
    header, body = table[0], table[1:]
    if [h.lower() for h in header[1:]] != list(DRUGS):
        raise SystemExit(f"drugs.md: drug columns {header[1:]}, expected {list(DRUGS)}")
    exons = _exon_codons(folder)
    out = []
    for label, sites in DRUG_SITES:
        found = [row for row in body if row[0].startswith(label)]
        if len(found) != 1:
            raise SystemExit(f"drugs.md: {len(found)} table rows start with {label!r}")
        cells = dict(zip(DRUGS, found[0][1:], strict=True))
        for gene, exon, site, region, clauses in sites:
            if site == "exon":
                first, last = exons[(gene, exon)]
                change = ""
            elif isinstance(site, int):
                first = last = str(site)
                change = ""
            else:
                first = last = re.sub(r"\D", "", str(site))
                change = f"p.{site}"
            for drug in DRUGS:
                cell = cells[drug].replace("**", "")
                if drug in clauses:
                    cell = cell.split("; ")[clauses[drug]]
                activity = activity_of(cell)
                grade = in_vitro = sources = ""
                if activity != "unknown":
                    grade_match = _GRADE_RE.search(cell)
                    if grade_match is None:
                        raise SystemExit(f"drugs.md: no grade in {cell!r}")
                    grade = grade_match.group(1)
                    if "in vitro" in cell:
                        in_vitro = ("in vitro and clinical" if re.search(r"clinical|ORR", cell)
                                    else "in vitro only")
                    sources = DRUG_CALL_SOURCES.get((label, drug, site),
                                                    DRUG_CALL_SOURCES.get((label, drug), ""))
                    if not sources:
                        raise SystemExit(f"no source for {label} / {drug}")
                out.append({"gene": gene, "exon": exon, "codon_first": first, "codon_last": last,
                            "protein_change": change, "region": region, "class": found[0][0],
                            "drug": drug, "activity": activity, "grade": grade,
                            "in_vitro": in_vitro, "sources": sources, "evidence": cell})
    lines = ["\t".join(DRUG_COLUMNS)] + ["\t".join(r[c] for c in DRUG_COLUMNS) for r in out]
    return "\n".join(lines) + "\n"


def build_drug_sources(folder: Path) -> str:
    """Text of the package's drug_sources.tsv: D0 (the sheet) and drugs.md's source list."""
    lines = _markdown_section((folder / "drugs.md").read_text(encoding="utf-8"), "## Sources")
    citations: list[str] = []
    for line in lines:
        if line.startswith("- "):
            citations.append(line[2:].strip())
        elif line.startswith("  ") and line.strip() and citations:  # a wrapped item
            citations[-1] += " " + line.strip()
    rows = [DRUG_SHEET_SOURCE] + [(f"D{i}", c) for i, c in enumerate(citations, start=1)]
    for key, word in DRUG_SOURCE_CHECK.items():
        if word not in dict(rows).get(key, ""):
            raise SystemExit(f"drugs.md: source {key} should be the one citing {word!r}")
    return "\n".join("\t".join(r) for r in [tuple(DRUG_SOURCE_COLUMNS), *rows]) + "\n"


#: Package file -> the function that makes its text from the shared folder.
BUILDERS = {"exons.tsv": build_exons, "hotspots.tsv": build_hotspots,
            "exon_windows.tsv": build_windows, "drugs.tsv": build_drugs,
            "drug_sources.tsv": build_drug_sources}


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
