"""The demo cohort in fixtures/ is exactly what scripts/make_fixtures.py writes, and it reads."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SCRIPT = REPO / "scripts" / "make_fixtures.py"

#: chr4 length of each build, as the ##contig line gives it.
CHR4_LENGTH = {190_214_555: "GRCh38", 191_154_276: "GRCh37"}
#: KIT transcript span (whole gene) per build.
KIT_SPAN = {"GRCh38": (54_657_918, 54_740_715), "GRCh37": (55_524_085, 55_606_881)}

VCFS = sorted([*FIXTURES.glob("vcf/*.vcf.gz"), *FIXTURES.glob("vcf/*.vcf")])
BGZIPPED = [path for path in VCFS if path.name.endswith(".gz")]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def chr4(header: pysam.VariantHeader) -> tuple[str, str]:
    """(contig name, assembly) of the file's chr4 ``##contig`` line."""
    for name, contig in header.contigs.items():
        if name in ("chr4", "4"):
            return name, CHR4_LENGTH[contig.length]
    raise AssertionError("no ##contig line for chr4")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True,
                   capture_output=True, text=True)
    return out


def test_the_committed_fixtures_are_what_the_generator_writes(regenerated: Path) -> None:
    made = files_under(regenerated)
    assert "samplesheet.tsv" in made and "expected_origins.tsv" in made
    committed = set(files_under(FIXTURES))
    missing = [name for name in made if name not in committed]
    assert not missing, f"not in fixtures/ (run python scripts/make_fixtures.py): {missing}"
    differ = [name for name in made
              if (regenerated / name).read_bytes() != (FIXTURES / name).read_bytes()]
    assert not differ, f"fixtures/ differs from the generator's output: {differ}"


def test_no_stale_cohort_file_is_left_in_fixtures(regenerated: Path) -> None:
    made = set(files_under(regenerated))
    stale = [name for name in files_under(FIXTURES)
             if name.startswith(("vcf/GIST", "maf/GIST")) and name not in made]
    assert not stale, f"cohort files the generator no longer writes: {stale}"


def test_the_generator_is_deterministic(regenerated: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    assert files_under(tmp_path) == files_under(regenerated)
    for name in files_under(tmp_path):
        assert (tmp_path / name).read_bytes() == (regenerated / name).read_bytes(), name


def test_every_calls_path_in_the_sample_sheet_exists() -> None:
    rows = read_tsv(FIXTURES / "samplesheet.tsv")
    assert {row["patient_id"] for row in rows} >= {f"GIST0{i}" for i in range(1, 8)}
    for row in rows:
        assert (FIXTURES / row["calls"]).is_file(), row["calls"]


def test_the_sample_sheet_starts_with_a_comment_and_has_the_documented_columns() -> None:
    lines = (FIXTURES / "samplesheet.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1].split("\t") == ["patient_id", "lesion_id", "sample_id", "role", "status",
                                    "site", "timepoint", "vcf_sample", "calls", "assembly", "bam",
                                    "date", "cnv"]


def test_vcf_sample_names_a_column_of_the_calls_file() -> None:
    for row in read_tsv(FIXTURES / "samplesheet.tsv"):
        path = FIXTURES / row["calls"]
        column = row["vcf_sample"] or row["sample_id"]
        if ".vcf" in path.name:
            with pysam.VariantFile(str(path)) as vcf:
                assert column in vcf.header.samples, (row["calls"], column)
        else:
            barcodes = {r["Tumor_Sample_Barcode"] for r in read_tsv(path)}
            assert column in barcodes, (row["calls"], column)


@pytest.mark.parametrize("path", VCFS, ids=lambda p: p.name)
def test_every_vcf_opens_is_sorted_and_names_its_build(path: Path) -> None:
    with pysam.VariantFile(str(path)) as vcf:
        contig, _ = chr4(vcf.header)
        order = list(vcf.header.contigs)
        records = list(vcf)
    keys = [(order.index(r.chrom), r.pos) for r in records]
    assert keys == sorted(keys)
    assert all(r.chrom == contig for r in records)


def test_the_folder_has_compressed_and_plain_vcfs() -> None:
    assert BGZIPPED and len(BGZIPPED) < len(VCFS)
    for path in VCFS:
        head = path.read_bytes()[:2]
        assert (head == b"\x1f\x8b") == path.name.endswith(".gz"), path.name


@pytest.mark.parametrize("path", BGZIPPED, ids=lambda p: p.name)
def test_the_tabix_index_fetches_the_kit_region(path: Path) -> None:
    assert Path(f"{path}.tbi").is_file()
    with pysam.VariantFile(str(path)) as vcf:
        contig, assembly = chr4(vcf.header)
        start, end = KIT_SPAN[assembly]
        expected = [(r.pos, r.ref, r.alts) for r in vcf if start <= r.pos <= end]
        fetched = [(r.pos, r.ref, r.alts) for r in vcf.fetch(contig, start - 1, end)]
    assert fetched == expected


def test_the_off_target_record_is_outside_the_kit_fetch() -> None:
    path = FIXTURES / "vcf" / "GIST07_L1.mutect2.filtered.vcf.gz"
    with pysam.VariantFile(str(path)) as vcf:
        everything = [r.pos for r in vcf]
        in_kit = [r.pos for r in vcf.fetch("4", KIT_SPAN["GRCh37"][0] - 1, KIT_SPAN["GRCh37"][1])]
    assert 106_155_185 in everything and 106_155_185 not in in_kit


def test_every_expected_origin_is_a_record_of_its_patients_calls() -> None:
    sheet = read_tsv(FIXTURES / "samplesheet.tsv")
    for row in read_tsv(FIXTURES / "expected_origins.tsv"):
        assert row["expected_origin"] in ("primary", "secondary")
        site = (row["chrom"], int(row["pos"]), row["ref"], row["alt"])
        found = set()
        for calls in {r["calls"] for r in sheet if r["patient_id"] == row["patient_id"]}:
            path = FIXTURES / calls
            if ".vcf" in path.name:
                with pysam.VariantFile(str(path)) as vcf:
                    found |= {(r.chrom, r.pos, r.ref, alt) for r in vcf for alt in r.alts}
            else:
                found |= {(r["Chromosome"], int(r["Start_Position"]), r["Reference_Allele"],
                           r["Tumor_Seq_Allele2"]) for r in read_tsv(path)}
        assert site in found, row


def test_the_fixtures_folder_stays_small() -> None:
    assert sum((FIXTURES / name).stat().st_size for name in files_under(FIXTURES)) < 1_000_000


def test_the_demo_bams_make_gist02_l2_evaluable() -> None:
    from lesiontrack import classify, read_calls

    calls = read_calls(FIXTURES / "samplesheet.tsv")
    reads = calls[calls["source"] == "reads"]
    assert set(reads["sample_id"]) == {"GIST02_L2", "GIST03_L1", "GIST03_L2"}
    gist02 = reads[reads["sample_id"] == "GIST02_L2"]
    assert sorted(zip(gist02["hgvsc"], gist02["alt_count"], gist02["depth"], strict=True)) == [
        ("c.2009C>T", 0, 163), ("c.2447A>T", 1, 159)]
    origins = classify(calls).set_index(["patient_id", "hgvsc"])
    assert origins.loc[("GIST02", "c.2447A>T"), "rule"] == "sharing"


def test_the_demo_has_a_polyclonal_patient_and_a_lesion_with_two_secondaries() -> None:
    """GIST03: N822K in L1 and D820Y in L2, each absent with power (its BAM: 0 ALT reads at
    depth) where the other is detected; GIST02's L1 carries T670I and D816V."""
    from lesiontrack import classify, lesion_states, read_calls, read_samplesheet
    from lesiontrack.resistance import heterogeneity, polyclonal_pairs, resistance_table

    sheet = read_samplesheet(FIXTURES / "samplesheet.tsv")
    calls = read_calls(FIXTURES / "samplesheet.tsv")
    reads = calls[(calls["source"] == "reads") & calls["sample_id"].str.startswith("GIST03")]
    assert sorted(zip(reads["sample_id"], reads["hgvsp"], reads["alt_count"], reads["depth"],
                      strict=True)) == [("GIST03_L1", "p.D820Y", 0, 391),
                                        ("GIST03_L2", "p.N822K", 0, 399)]
    states = lesion_states(calls, sheet)
    origins = classify(calls, sheet, states=states)
    table = resistance_table(origins, sheet, states=states)
    assert polyclonal_pairs(table) == {"GIST03": [("KIT p.D820Y", "L2", "KIT p.N822K", "L1")]}
    found = heterogeneity(table)
    assert found["n_patients_polyclonal_across_lesions"] == 1
    assert found["n_patients_two_in_one_lesion"] == 1
    assert found["n_lesions_with_two_or_more"] == 1
    assert found["n_patients_with_secondary"] == 6  # with issue 17's GIST08
