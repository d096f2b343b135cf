"""lesiontrack.io.vcfindex: where a region starts in a bgzipped VCF, read from its .tbi or .csi.

The answer must be where htslib's iterator would start: no record of the region before it (a
record missed), and on a record boundary. Pinned on a small file whose offsets are known, and
checked against pysam's own ``fetch`` on a larger file spanning many BGZF blocks.
"""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import pysam
import pytest

from lesiontrack.io.bgzf import FastPathUnsupported
from lesiontrack.io.vcfindex import VcfIndex, index_path

HEADER = [
    "##fileformat=VCFv4.2",
    *(f"##contig=<ID=chr{n},length=5000000>" for n in range(1, 6)),
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
]

#: the small file: (chrom, 1-based pos); windows of 2^14 bases: 16384 (1-based) is the last
#: base of window 0, 16385 the first of window 1
SMALL = [("chr1", 100), ("chr1", 16384), ("chr1", 16385), ("chr1", 40000), ("chr1", 100000),
         ("chr3", 500)]


def write_vcf(folder: Path, records: list[tuple[str, int, str]], kind: str,
              min_shift: int = 14) -> Path:
    """A bgzipped VCF of ``records`` (chrom, pos, ref) indexed as ``kind`` (tbi or csi)."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "calls.vcf"
    lines = [f"{chrom}\t{pos}\t.\t{ref}\t{'T' if ref[0] != 'T' else 'A'}\t.\tPASS\t."
             for chrom, pos, ref in records]
    plain.write_text("\n".join(HEADER + lines) + "\n")
    if kind == "csi":
        pysam.tabix_index(str(plain), preset="vcf", force=True, csi=True, min_shift=min_shift)
    else:
        pysam.tabix_index(str(plain), preset="vcf", force=True)
    return folder / "calls.vcf.gz"


def record_offsets(path: Path) -> list[tuple[str, int, int, int]]:
    """(chrom, 0-based start, 0-based end, virtual offset) of every record, in file order."""
    out = []
    with pysam.VariantFile(str(path)) as vcf:
        offset = vcf.tell()
        for record in vcf:
            out.append((record.chrom, record.start, record.stop, offset))
            offset = vcf.tell()
    return out


def open_index(path: Path) -> VcfIndex:
    found = index_path(path)
    assert found is not None
    return VcfIndex(found)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("small")
    records = [(chrom, pos, "A") for chrom, pos in SMALL]
    return {"tbi": write_vcf(root / "tbi", records, "tbi"),
            "csi": write_vcf(root / "csi", records, "csi"),
            "csi12": write_vcf(root / "csi12", records, "csi", min_shift=12)}


@pytest.fixture(scope="module")
def small_offsets(small) -> dict[int, int]:
    """1-based position of each chr1/chr3 record -> its virtual offset."""
    offsets = {start + 1: offset for _, start, _, offset in record_offsets(small["tbi"])}
    assert len(offsets) == len(SMALL)
    return offsets


# ----------------------------------------------------------------------------------------------
# finding the index, reading its head
# ----------------------------------------------------------------------------------------------

def test_index_path_prefers_tbi_then_csi(tmp_path):
    vcf = tmp_path / "a.vcf.gz"
    vcf.write_bytes(b"")
    assert index_path(vcf) is None
    Path(f"{vcf}.tbi").mkdir()  # a folder is not an index
    assert index_path(vcf) is None
    Path(f"{vcf}.csi").write_bytes(b"")
    assert index_path(vcf) == Path(f"{vcf}.csi")
    Path(f"{vcf}.tbi").rmdir()
    Path(f"{vcf}.tbi").write_bytes(b"")
    assert index_path(vcf) == Path(f"{vcf}.tbi")
    assert index_path(tmp_path / "a.vcf") is None  # the name as given, plus the suffix


@pytest.mark.parametrize("kind, csi, min_shift, levels", [
    ("tbi", False, 14, 5), ("csi", True, 14, 6), ("csi12", True, 12, 7)])
def test_the_head_of_an_index(small, kind, csi, min_shift, levels):
    index = open_index(small[kind])
    assert index.csi is csi
    assert index.names == ["chr1", "chr3"]  # contigs with records, in file order
    assert (index.min_shift, index.n_lvls) == (min_shift, levels)


def test_what_is_not_a_vcf_index_is_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"not an index at all")
    pysam.tabix_compress(str(raw), str(tmp_path / "raw.tbi"))
    with pytest.raises(FastPathUnsupported, match="not a tabix or CSI index"):
        VcfIndex(tmp_path / "raw.tbi")
    bed = tmp_path / "regions.bed"
    bed.write_text("chr1\t0\t100\nchr1\t200\t300\n")
    pysam.tabix_index(str(bed), preset="bed", force=True)
    with pytest.raises(FastPathUnsupported, match="the index is not a VCF index"):
        VcfIndex(Path(f"{bed}.gz.tbi"))
    # a CSI index without the tabix header (contig names) in its auxiliary data
    raw.write_bytes(b"CSI\x01" + struct.pack("<3i", 14, 5, 0) + struct.pack("<i", 0))
    pysam.tabix_compress(str(raw), str(tmp_path / "bare.csi"))
    with pytest.raises(FastPathUnsupported, match="CSI index without contig names"):
        VcfIndex(tmp_path / "bare.csi")


@pytest.mark.parametrize("kind", ["tbi", "csi"])
def test_a_contig_id_outside_the_index_is_refused(small, small_offsets, kind):
    with pytest.raises(FastPathUnsupported, match="contig id outside the index"):
        open_index(small[kind]).start_offsets({2: [(0, 10)]})  # two contigs: ids 0 and 1
    assert open_index(small[kind]).start_offsets({1: [(0, 10)]}) == {1: [small_offsets[500]]}
    assert open_index(small[kind]).start_offsets({}) == {}


# ----------------------------------------------------------------------------------------------
# pinned answers on the small file
# ----------------------------------------------------------------------------------------------

def test_tabix_starts_at_the_linear_index_entry_of_the_region(small, small_offsets):
    at = small_offsets
    regions = {  # 0-based start -> where reading starts
        0: at[100], 99: at[100], 16383: at[100],  # window 0 (its last base is 16383)
        16384: at[16385],  # window 1: the record at 16384 (0-based 16383) is skipped
        39999: at[40000], 40000: at[40000],  # window 2
        50000: at[100000],  # an empty window: the next record's
        99999: at[100000], 100000: at[100000],
        5_000_000: at[100000],  # past the last window: the last window's entry
    }
    index = open_index(small["tbi"])
    found = index.start_offsets({0: [(beg, beg + 1) for beg in regions], 1: [(0, 10), (499, 500)]})
    assert found == {0: list(regions.values()), 1: [at[500], at[500]]}


def test_csi_starts_at_the_first_chunk_of_the_regions_bins(small, small_offsets):
    at = small_offsets
    regions = {
        0: at[100], 16383: at[100], 16384: at[16385], 40000: at[40000],
        50000: None,  # no record can overlap: no bin of the region holds one
        98303: None,  # [98303, 98304) ends where window 6 starts: window 6 is not its bin
        99999: at[100000],
        5_000_000: None,
    }
    index = open_index(small["csi"])
    found = index.start_offsets({0: [(beg, beg + 1) for beg in regions], 1: [(499, 500)]})
    assert found == {0: list(regions.values()), 1: [at[500]]}


def test_csi_with_smaller_bins(small, small_offsets):
    at = small_offsets
    regions = {  # windows of 2^12 bases: 16384 (1-based) is in window 3, 16385 in window 4
        4095: at[100], 4096: None, 16383: at[16384], 16384: at[16385],
    }
    index = open_index(small["csi12"])
    found = index.start_offsets({0: [(beg, beg + 1) for beg in regions]})
    assert found == {0: list(regions.values())}


def test_an_empty_region_overlaps_nothing_in_csi(small, small_offsets):
    assert open_index(small["csi"]).start_offsets({0: [(99, 99)]}) == {0: [None]}


@pytest.fixture(scope="module")
def long_deletion(tmp_path_factory) -> dict[str, Path]:
    """chr1: a 40 kb deletion at 100 (in a bin of 2^17 bases), an SNV at 50000, then window 6
    (98305-114688) filled with records of random bases: more than 64 KB compressed, so htslib
    keeps the window's own bin instead of merging it into the deletion's."""
    rng = random.Random(6)

    def bases(n: int) -> str:
        return "".join(rng.choice("ACGT") for _ in range(n))

    records = [("chr1", 100, bases(40_000)), ("chr1", 50000, "A")]
    records += [("chr1", pos, bases(100)) for pos in range(98_400, 114_588, 6)]
    root = tmp_path_factory.mktemp("deletion")
    return {kind: write_vcf(root / kind, records, kind) for kind in ("tbi", "csi")}


@pytest.mark.parametrize("kind", ["tbi", "csi"])
def test_a_long_deletion_before_a_region_is_not_read_again(long_deletion, kind):
    records = record_offsets(long_deletion[kind])
    first_of_window_6 = records[2][3]
    assert records[2][1] == 98_399
    found = open_index(long_deletion[kind]).start_offsets({0: [(110_000, 110_001),
                                                                (120_000, 120_001)]})
    assert found[0][0] == first_of_window_6  # not the deletion's offset, records[0][3]
    # window 7 is empty: the .tbi's last window; the .csi finds no chunk after window 6's
    # first record (the nearest bin with records on the left, not the deletion's parent bin)
    with pysam.VariantFile(str(long_deletion[kind])) as vcf:
        assert list(vcf.fetch("chr1", 120_000, 120_001)) == []
    assert found[0][1] == (first_of_window_6 if kind == "tbi" else None)


def test_the_contigs_of_one_query_are_read_in_one_pass(small, small_offsets):
    index = open_index(small["csi"])
    assert index.start_offsets({1: [(499, 500)], 0: [(99, 100), (16384, 16385)]}) == {
        0: [small_offsets[100], small_offsets[16385]], 1: [small_offsets[500]]}


# ----------------------------------------------------------------------------------------------
# against pysam on a larger file
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def large(tmp_path_factory) -> dict[str, Path]:
    """Five contigs (chr2 declared but empty, chr4 with one record), about 6,000 records over
    2 Mb, a few long deletions spanning several windows; many BGZF blocks."""
    rng = random.Random(14)
    records = []
    for chrom, count in (("chr1", 2500), ("chr3", 2500), ("chr4", 1), ("chr5", 1000)):
        positions = sorted(rng.sample(range(1, 2_000_000), count))
        for pos in positions:
            length = rng.choice([1] * 200 + [2, 30, 40_000])  # some deletions span windows
            records.append((chrom, pos, "".join(rng.choice("ACGT") for _ in range(length))))
    root = tmp_path_factory.mktemp("large")
    first = write_vcf(root / "tbi", records, "tbi")
    out = {"tbi": first}
    for kind, min_shift in (("csi", 14), ("csi12", 12)):
        folder = root / kind
        folder.mkdir()
        shutil.copy(first, folder / first.name)
        pysam.tabix_index(str(folder / first.name), preset="vcf", force=True, csi=True,
                          min_shift=min_shift)
        out[kind] = folder / first.name
    return out


def regions_to_try(rng: random.Random) -> list[tuple[int, int]]:
    out = []
    for _ in range(150):
        beg = rng.randrange(0, 2_100_000)
        out.append((beg, beg + rng.choice([1, 10, 1000, 30_000])))
    out.append((0, 1))
    for window in (1, 5, 60, 121, 122):  # on and around window edges
        edge = window << 14
        out += [(edge - 1, edge), (edge, edge + 1), (edge - 1, edge + 1)]
    return out


@pytest.mark.parametrize("kind", ["tbi", "csi", "csi12"])
def test_no_record_of_a_region_lies_before_its_start(large, kind):
    records = record_offsets(large[kind])
    assert records[-1][3] >> 16 > 3 * 65536  # many BGZF blocks
    index = open_index(large[kind])
    rng = random.Random(kind)
    queries = {tid: regions_to_try(rng) for tid in range(len(index.names))}
    found = index.start_offsets(queries)
    assert sorted(found) == sorted(queries)
    by_key = {(chrom, start, stop): offset for chrom, start, stop, offset in records}
    starts = {offset for *_, offset in records}
    checked = 0
    with pysam.VariantFile(str(large[kind])) as vcf:
        for tid, regions in queries.items():
            name = index.names[tid]
            for (beg, end), start in zip(regions, found[tid], strict=True):
                wanted = [by_key[(r.chrom, r.start, r.stop)] for r in vcf.fetch(name, beg, end)]
                if wanted:
                    checked += 1
                    assert start is not None and start <= min(wanted), (name, beg, end)
                if start is not None:
                    assert start in starts  # on a record boundary
    assert checked > 100


def test_tabix_matches_the_linear_index_rule(large):
    """Every answer of the .tbi is the first record, in file order, that ends after the start
    of the region's 2^14 window (clamped to the contig's last window)."""
    records = record_offsets(large["tbi"])
    index = open_index(large["tbi"])
    rng = random.Random(7)
    queries = {tid: regions_to_try(rng) for tid in range(len(index.names))}
    found = index.start_offsets(queries)
    for tid, regions in queries.items():
        mine = [(start, stop, offset) for chrom, start, stop, offset in records
                if chrom == index.names[tid]]
        last_window = (max(stop for _, stop, _ in mine) - 1) >> 14
        for (beg, _), start in zip(regions, found[tid], strict=True):
            window_start = min(beg >> 14, last_window) << 14
            expected = next(offset for _, stop, offset in mine if stop > window_start)
            assert start == expected, (index.names[tid], beg)
