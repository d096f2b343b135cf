"""The fast VCF path (lesiontrack.io.vcf_text) gives exactly the rows of the pysam engine.

Every test reads the same file with ``engine="pysam"`` (htslib records, the reference) and with
``engine="text"`` (which raises instead of falling back to pysam, so a silent fallback cannot
hide a difference), and compares the frames with ``assert_frame_equal`` and the header facts and
notes with ``==``.
"""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesiontrack.calls import gene_windows
from lesiontrack.genome import normalize_chrom
from lesiontrack.io import bgzf, textmap
from lesiontrack.io.bgzf import FastPathUnsupported
from lesiontrack.io.compression import open_text
from lesiontrack.io.vcf import read_vcf

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "vcf"
EXAMPLES = ROOT.parent / "shared" / "vcf-examples"
GENE_WINDOWS = gene_windows(("KIT", "PDGFRA"))

FMT = [
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">',
    '##FILTER=<ID=weak_evidence,Description="weak">',
]
RESULT_FIELDS = ("samples", "tumor_sample", "normal_sample", "assembly_hint",
                 "assembly_evidence", "caller", "warnings")


def assert_same(path: Path, regions, *, include_filtered: bool = False,
                stop_early: bool = False, may_decline: bool = False) -> pd.DataFrame:
    """The text engine's result equals the pysam engine's; the rows. With ``may_decline`` the
    text engine may refuse the file (then the default engine must still match pysam)."""
    expected = read_vcf(path, regions=regions, include_filtered=include_filtered,
                        engine="pysam")
    auto = read_vcf(path, regions=regions, include_filtered=include_filtered,
                    stop_early=stop_early)
    pd.testing.assert_frame_equal(auto.calls, expected.calls)
    try:
        got = read_vcf(path, regions=regions, include_filtered=include_filtered, engine="text",
                       stop_early=stop_early)
    except FastPathUnsupported:
        if may_decline:
            return expected.calls
        raise
    pd.testing.assert_frame_equal(got.calls, expected.calls)
    for name in RESULT_FIELDS:
        assert getattr(got, name) == getattr(expected, name), name
    # as read_calls_file reads it: the header taken from the bytes sniffed first
    headed = read_vcf(path, regions=regions, include_filtered=include_filtered, engine="text",
                      stop_early=stop_early, head=sniffed_head(path))
    pd.testing.assert_frame_equal(headed.calls, expected.calls)
    for name in RESULT_FIELDS:
        assert getattr(headed, name) == getattr(expected, name), name
    return expected.calls


def sniffed_head(path: Path) -> bytes:
    """The first bytes of a file's text as ``read_calls_file`` sniffs them."""
    from lesiontrack.io.sniff import sniff

    return sniff(path)[1]


def covering_windows(path: Path) -> list[tuple[str, int, int]]:
    """Small windows around every record of a file (some starting inside a record's REF)."""
    windows = []
    with open_text(path) as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref = line.split("\t")[:4]
            pos = int(pos)
            windows.append((normalize_chrom(chrom), max(1, pos - 3), pos + 2))
            if len(ref) > 2:  # starts after POS, inside the REF
                windows.append((normalize_chrom(chrom), pos + 2, pos + 2))
    return windows


def write_vcf(path: Path, records: list[str], *, meta: list[str] | None = None,
              samples: tuple[str, ...] = ("TUMOR", "NORMAL"), compress: str = "none") -> Path:
    """A VCF with the given tab- or space-separated records: ``none``, ``gzip``, ``bgzip``,
    ``tabix`` (bgzip + .tbi) or ``csi`` (bgzip + .csi)."""
    meta = meta if meta is not None else [
        *FMT, "##contig=<ID=chr4,length=190214555>", "##contig=<ID=chr7,length=159345973>",
        "##tumor_sample=TUMOR",
    ]
    header = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if samples:
        header += ["FORMAT", *samples]
    lines = ["##fileformat=VCFv4.2", *meta, "\t".join(header)]
    lines += [r if "\t" in r else r.replace(" ", "\t") for r in records]
    path.write_text("\n".join(lines) + "\n")
    return compress_as(path, compress)


def compress_as(path: Path, compress: str) -> Path:
    if compress == "none":
        return path
    if compress == "gzip":
        out = Path(str(path) + ".gz")
        with path.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out
    out = Path(str(path) + ".gz")
    pysam.tabix_compress(str(path), str(out), force=True)
    if compress == "tabix":
        pysam.tabix_index(str(out), preset="vcf", force=True)
    elif compress == "csi":
        pysam.tabix_index(str(out), preset="vcf", force=True, csi=True)
    return out


COMPRESSIONS = ["none", "gzip", "bgzip", "tabix", "csi"]


# --------------------------------------------------------------------------------------------
# Real files: the demo fixtures and the shared caller excerpts


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.name.endswith((".vcf", ".vcf.gz")))


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("include_filtered", [False, True])
def test_demo_fixtures(path, include_filtered):
    assert_same(path, GENE_WINDOWS, include_filtered=include_filtered)
    assert_same(path, covering_windows(path), include_filtered=include_filtered)


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.vcf")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", _examples() or [None], ids=lambda p: p.name if p else "none")
@pytest.mark.parametrize("compress", COMPRESSIONS)
def test_shared_examples(path, compress, tmp_path):
    if path is None:
        pytest.skip("shared/vcf-examples not available")
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    try:
        target = compress_as(copy, compress)
    except OSError:  # tabix refuses an unsorted file: nothing to index
        pytest.skip("the file is not sorted: no index")
    for include_filtered in (False, True):
        assert_same(target, GENE_WINDOWS, include_filtered=include_filtered)
        rows = assert_same(target, covering_windows(copy), include_filtered=include_filtered)
        if include_filtered:
            assert not rows.empty


# --------------------------------------------------------------------------------------------
# Generated files: windows, spans, contig names, order


def _kit_records(chrom: str) -> list[str]:
    return [
        f"{chrom} 1000 . A C . PASS . GT:AD:DP:AF 0/1:10,2:12:0.2 0/0:9,0:9:0.01",
        # a deletion starting before the KIT window (54656928) and reaching into it
        f"{chrom} 54656920 . {'G' + 'A' * 14} G . PASS . GT:AD:DP:AF 0/1:10,2:12:0.167 "
        "0/0:9,0:9:0.01",
        # multi-allelic, a filtered one, an insertion
        f"{chrom} 54733155 . A T,C . PASS . GT:AD:DP:AF 0/1/2:60,40,7:107:0.37,0.07 "
        "0/0:50,0,0:50:0.01,0.01",
        f"{chrom} 54733300 . C T . weak_evidence . GT:AD:DP:AF 0/1:60,3:63:0.05 0/0:40,0:40:0.01",
        f"{chrom} 54733400 . C CTT . PASS . GT:AD:DP:AF 0/1:60,9:69:0.13 0/0:40,0:40:0.01",
        # INFO/END reaching into PDGFRA's GRCh37 window from before it (REF does not)
        f"{chrom} 55094000 . A C . PASS END=55094300 GT:AD:DP:AF 0/1:30,5:35:0.14 "
        "0/0:30,0:30:0.01",
        f"{chrom} 55599321 . A T . PASS . GT:AD:DP:AF 0/1:60,40:100:0.398 0/0:80,0:80:0.012",
        f"{chrom} 100000000 . G A . PASS . GT:AD:DP:AF 0/1:60,4:64:0.06 0/0:80,0:80:0.01",
    ]


@pytest.mark.parametrize("chrom", ["chr4", "4", "CHR4"])
@pytest.mark.parametrize("compress", COMPRESSIONS)
def test_windows_and_spans_on_every_path(tmp_path, chrom, compress):
    records = [r.replace("chr7", chrom) for r in
               ["chr7 500 . A C . PASS . GT:AD:DP:AF 0/1:5,5:10:0.5 0/0:9,0:9:0.01"]]
    records = _kit_records(chrom) + [r for r in records if chrom != "chr7"]
    path = write_vcf(tmp_path / f"{chrom}.vcf", sorted(records, key=lambda r: int(r.split()[1])),
                     compress=compress)
    for include_filtered in (False, True):
        rows = assert_same(path, GENE_WINDOWS, include_filtered=include_filtered)
        assert f"record {chrom}:54656920" in set(rows["record"])  # POS before the window
        assert f"record {chrom}:55094000" in set(rows["record"])  # INFO/END into a window
        assert_same(path, covering_windows(path), include_filtered=include_filtered)
        if compress != "tabix" and compress != "csi":
            assert_same(path, GENE_WINDOWS, include_filtered=include_filtered, stop_early=True)


def test_windows_next_to_each_other_and_overlapping(tmp_path):
    path = write_vcf(tmp_path / "w.vcf", _kit_records("chr4"), compress="tabix")
    for windows in (
        [("4", 54656921, 54656922), ("4", 54656930, 54656931)],  # both inside one deletion
        [("4", 54656900, 54656925), ("4", 54656926, 54733200), ("4", 54733150, 54733160)],
        [("4", 1, 1000), ("4", 54733155, 54733155), ("7", 1, 10)],
        [("4", 200_000_000, 200_000_010)],
        [("5", 1, 1_000_000)],
        [],
    ):
        assert_same(path, windows)
        assert_same(Path(str(path)), windows)


def test_end_shorter_than_ref_and_odd_end_values(tmp_path):
    """INFO/END before the REF's last base, END=. and a non-number: the index query (tabix's
    span) and the kept records (htslib's span) follow htslib on every path."""
    records = [
        "chr4 54656900 . " + "C" * 40 + " C . PASS END=54656905 GT:AD 0/1:5,5 0/0:9,0",
        "chr4 54656910 . " + "G" * 30 + " G . PASS END=. GT:AD 0/1:5,5 0/0:9,0",
        "chr4 54656915 . " + "T" * 30 + " T . PASS END=abc GT:AD 0/1:5,5 0/0:9,0",
        "chr4 54656916 . A C . PASS XEND=54656999;DP=3 GT:AD 0/1:5,5 0/0:9,0",
        "chr4 54656917 . A C . PASS END=54656999x GT:AD 0/1:5,5 0/0:9,0",
    ]
    for compress in COMPRESSIONS:
        path = write_vcf(tmp_path / f"end_{compress}.vcf", records, compress=compress)
        for windows in (GENE_WINDOWS, [("4", 54656930, 54656940)], covering_windows(path)):
            assert_same(path, windows, include_filtered=True)


@pytest.mark.parametrize("compress", ["none", "gzip", "bgzip"])
def test_unsorted_files_lose_no_record(tmp_path, compress):
    """An unsorted file: chr4 records before and after other contigs, positions going back.
    The scan reads the whole file; stop_early sees the disorder and reads on."""
    records = [
        "chr4 54733155 . A T . PASS . GT:AD 0/1:60,40 0/0:80,0",
        "chr7 1000 . A T . PASS . GT:AD 0/1:60,40 0/0:80,0",
        "chr4 54656930 . A G . PASS . GT:AD 0/1:60,5 0/0:80,0",  # contig seen again
        "chr4 54656929 . A C . PASS . GT:AD 0/1:60,6 0/0:80,0",  # position going back
        "chr1 1000 . A T . PASS . GT:AD 0/1:60,40 0/0:80,0",
        "chr4 55599321 . A T . PASS . GT:AD 0/1:60,7 0/0:80,0",
    ]
    path = write_vcf(tmp_path / "unsorted.vcf", records, compress=compress)
    for stop_early in (False, True):
        rows = assert_same(path, GENE_WINDOWS, stop_early=stop_early)
        assert sorted(set(rows["pos"])) == [54656929, 54656930, 54733155, 55599321]


def test_stop_early_reads_a_sorted_file_only_to_its_windows(tmp_path, monkeypatch):
    """Pieces inflated one at a time (no read-ahead): the scan stops after chr4, rows identical."""
    monkeypatch.setattr(textmap, "CHUNK_BYTES", 2000)
    monkeypatch.setattr(textmap, "THREADS_FROM_BYTES", 1 << 40)
    rng = random.Random(7)
    records = []
    for chrom in ("chr1", "chr4", "chr7"):
        for pos in sorted(rng.sample(range(54_600_000, 55_700_000), 1500)):
            records.append(f"{chrom} {pos} . A C . PASS . GT:AD:DP:AF 0/1:{pos % 50},3:60:0.1 "
                           "0/0:50,0:50:0.01")
    path = write_vcf(tmp_path / "sorted.vcf", records, compress="bgzip")
    inflated: list[int] = []
    original = textmap._inflate_batch

    def counting(data, batch):
        inflated.append(len(batch))
        return original(data, batch)

    monkeypatch.setattr(textmap, "_inflate_batch", counting)
    counts = {}
    for stop_early in (False, True):
        inflated.clear()
        rows = assert_same(path, GENE_WINDOWS, stop_early=stop_early)
        counts[stop_early] = sum(inflated)
        assert len(rows) > 0
        assert_same(path, [("7", 54_700_000, 54_800_000), ("1", 1, 2)], stop_early=stop_early)
    assert counts[True] < counts[False]  # chr7 was not read


@pytest.mark.parametrize("compress", ["none", "gzip", "bgzip"])
def test_small_pieces_and_threads(tmp_path, monkeypatch, compress):
    """Lines cut across pieces, pieces inflated and scanned in worker threads."""
    monkeypatch.setattr(textmap, "CHUNK_BYTES", 333)
    monkeypatch.setattr(textmap, "THREADS_FROM_BYTES", 0)
    records = []
    for i, chrom in enumerate(["chr1", "chr4", "4", "chr4", "chrX", "chr4_KI270706v1_random"]):
        for j in range(40):
            pos = 54656900 + 137 * j + i
            records.append(f"{chrom} {pos} . AC A . PASS . GT:AD:DP:AF 0/1:{j},3:60:0.1 "
                           "0/0:50,0:50:0.01")
    path = write_vcf(tmp_path / "pieces.vcf", records, compress=compress)
    assert_same(path, GENE_WINDOWS, include_filtered=True)
    assert_same(path, GENE_WINDOWS + [("X", 54656900, 54660000)], include_filtered=True)


def test_contig_spellings_and_white_space(tmp_path):
    records = [
        "chr4 54733155 . A T . PASS . GT:AD 0/1:60,40 0/0:80,0",
        "Chr4 54733156 . A T . PASS . GT:AD 0/1:60,41 0/0:80,0",
        "4 54733157 . A T . PASS . GT:AD 0/1:60,42 0/0:80,0",
        "chr4_random 54733158 . A T . PASS . GT:AD 0/1:60,43 0/0:80,0",
        "chr14 54733159 . A T . PASS . GT:AD 0/1:60,44 0/0:80,0",
        "chrM 302 . A C . PASS . GT:AD 0/1:60,45 0/0:80,0",
        "MT 303 . A C . PASS . GT:AD 0/1:60,46 0/0:80,0",
        "x 10 . A C . PASS . GT:AD 0/1:60,47 0/0:80,0",
    ]
    for compress in ("none", "bgzip"):
        path = write_vcf(tmp_path / f"names_{compress}.vcf", records, meta=FMT, compress=compress)
        rows = assert_same(path, GENE_WINDOWS + [("MT", 300, 305), ("X", 1, 20)])
        assert set(rows["chrom_raw"]) == {"chr4", "Chr4", "4", "chrM", "MT", "x"}


def test_float32_values_and_text_values(tmp_path):
    """Float FORMAT values as htslib stores them (float32, then 7 digits); String and undeclared
    tags read from text the same way."""
    meta = [*FMT,
            '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="percent">',
            '##FORMAT=<ID=RD,Number=1,Type=Integer,Description="ref reads">',
            '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="vaf">',
            '##source=VarScan2']
    records = [
        "4 54733155 . A T . PASS . GT:AD:DP:AF 0/1:47,1:48:0.97916667 0/0:10,0:10:1e-3",
        "4 54733156 . A T . PASS . GT:DP:RD:AD:FREQ 0/1:117:59:56:48.72% 0/0:50:50:0:0%",
        "4 54733157 . A T . PASS . GT:DP:AD:VAF:XX 0/1:48:1,47:0.979166666:1,2 0/0:9:9,0:.:.",
        "4 54733158 . A C,G . PASS . GT:AD:AF 0/1:10,.,3:.,0.123456789 .:.:.",
        "4 54733159 . A C . PASS . GT:AD:DP 0/1:10,3 0/0:9,0:9",
    ]
    path = write_vcf(tmp_path / "values.vcf", records, meta=meta, compress="tabix")
    rows = assert_same(path, GENE_WINDOWS, include_filtered=True)
    assert len(rows) == 12  # 6 records (one with two ALTs) x 2 samples


def test_header_quirks(tmp_path):
    """Descriptions with trailing spaces, quoted assembly, repeated definitions, CSQ layout."""
    csq = "Allele|Consequence|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL"
    meta = [
        *FMT,
        '##FORMAT=<ID=AD,Number=1,Type=Float,Description="repeated: the first one wins">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP. Format: {csq} ">',
        '##contig=<ID=4,assembly="b37",md5=abc>',
        '##contig=<ID=4,length=1>',
        '##reference=file:///ref/hs37d5.fa',
        '##normal_sample=N',
    ]
    entry = "T|missense_variant|KIT|ENST00000288135|ENST00000288135.6:c.2447A>T|" \
            "ENSP00000288135.6:p.Asp816Val|YES"
    records = [f"4 55599321 . A T . PASS CSQ={entry} GT:AD 0/1:60,40 0/0:80,0"]
    path = write_vcf(tmp_path / "quirks.vcf", records, meta=meta, samples=("T", "N"))
    assert_same(path, GENE_WINDOWS)
    result = read_vcf(path, regions=GENE_WINDOWS, engine="text")
    assert result.calls["ann_hgvsp"].tolist() == ["p.D816V", "p.D816V"]
    assert result.assembly_hint == "GRCh37"


def test_sites_only_header_only_and_empty_windows(tmp_path):
    sites = write_vcf(tmp_path / "sites.vcf", ["4 54733155 . A T . PASS ."], samples=())
    assert_same(sites, GENE_WINDOWS)
    empty = write_vcf(tmp_path / "empty.vcf", [], compress="tabix")
    assert_same(empty, GENE_WINDOWS)
    path = write_vcf(tmp_path / "x.vcf", _kit_records("chr4"))
    assert_same(path, [])


def test_plain_gzip_note(tmp_path):
    path = write_vcf(tmp_path / "g.vcf", _kit_records("chr4"), compress="gzip")
    result = read_vcf(path, regions=GENE_WINDOWS, engine="text")
    assert sum("plain gzip" in w for w in result.warnings) == 1


def test_one_bgzf_rule_for_both_engines(tmp_path):
    """A gzip member whose "BC" subfield is not the first of its extra field is plain gzip for
    htslib, so for both engines (the text path's own BGZF test once took it for BGZF and
    failed with IndexError reading the subfield past the 18 bytes it had read)."""
    import struct
    import zlib

    from lesiontrack.io.bgzf import BGZF_EOF
    from lesiontrack.io.compression import compression

    text = write_vcf(tmp_path / "t.vcf", _kit_records("chr4")).read_bytes()
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = deflate.compress(text) + deflate.flush()
    extra = b"XY\x02\x00ab" + b"BC\x02\x00" + struct.pack("<H", 12 + 12 + len(payload) + 8 - 1)
    member = (b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack("<H", len(extra)) + extra
              + payload + struct.pack("<II", zlib.crc32(text), len(text)))
    path = tmp_path / "odd.vcf.gz"
    path.write_bytes(member + BGZF_EOF)
    assert gzip.decompress(path.read_bytes()) == text
    assert compression(path) == "gzip"
    rows = assert_same(path, GENE_WINDOWS)
    assert len(rows) > 0
    result = read_vcf(path, regions=GENE_WINDOWS, engine="text")
    assert sum("plain gzip" in w for w in result.warnings) == 1


# --------------------------------------------------------------------------------------------
# Files the text path leaves to pysam


def test_declines_what_it_cannot_read_exactly(tmp_path):
    crlf = tmp_path / "crlf.vcf"
    write_vcf(crlf, _kit_records("chr4"))
    crlf.write_bytes(crlf.read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(FastPathUnsupported):
        read_vcf(crlf, regions=GENE_WINDOWS, engine="text")
    expected = read_vcf(crlf, regions=GENE_WINDOWS, engine="pysam")
    pd.testing.assert_frame_equal(read_vcf(crlf, regions=GENE_WINDOWS).calls, expected.calls)

    odd = write_vcf(tmp_path / "plus.vcf",
                    ["chr4 54733155 . A T . PASS . GT:AD:DP 0/1:60,40:+100 0/0:80,0:80"])
    with pytest.raises(FastPathUnsupported):
        read_vcf(odd, regions=GENE_WINDOWS, engine="text")
    pd.testing.assert_frame_equal(read_vcf(odd, regions=GENE_WINDOWS).calls,
                                  read_vcf(odd, regions=GENE_WINDOWS, engine="pysam").calls)


def test_truncated_bgzip_is_left_to_pysam(tmp_path):
    path = write_vcf(tmp_path / "t.vcf", _kit_records("chr4"), compress="bgzip")
    data = path.read_bytes()
    path.write_bytes(data[:-28])  # no end-of-file block
    with pytest.raises(FastPathUnsupported):
        read_vcf(path, regions=GENE_WINDOWS, engine="text")


def test_errors_are_pysam_errors(tmp_path):
    from lesiontrack.errors import CallsFileError

    path = write_vcf(tmp_path / "bad.vcf",
                     ["chr4 54733155 . A T . PASS . GT:AD:DP 0/1:60,-5:100 0/0:80,0:80"])
    with pytest.raises(CallsFileError) as pysam_error:
        read_vcf(path, regions=GENE_WINDOWS, engine="pysam")
    with pytest.raises(CallsFileError) as auto_error:
        read_vcf(path, regions=GENE_WINDOWS)
    assert str(auto_error.value) == str(pysam_error.value)


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_csi_index_from_bcftools(tmp_path):
    path = write_vcf(tmp_path / "b.vcf", _kit_records("chr4"), compress="bgzip")
    subprocess.run(["bcftools", "index", "--csi", str(path)], check=True)
    assert Path(str(path) + ".csi").exists()
    assert_same(path, GENE_WINDOWS, include_filtered=True)


# --------------------------------------------------------------------------------------------
# Property test: random files, random windows


@st.composite
def random_vcf(draw):
    contigs = draw(st.lists(st.sampled_from(["chr4", "4", "chr7", "chr1", "chrX"]), min_size=1,
                            max_size=3, unique=True))
    records = []
    for contig in contigs:
        positions = sorted(draw(st.lists(st.integers(1, 400), min_size=0, max_size=12)))
        for pos in positions:
            ref = draw(st.sampled_from(["A", "C", "AC", "ACGTACGTAC", "G" * 25]))
            alts = draw(st.sampled_from(["T", "A,T", "ACG", "<DEL>", "*"]))
            filt = draw(st.sampled_from(["PASS", ".", "weak_evidence"]))
            info = draw(st.sampled_from([".", "END=420", "DP=5", "END=3"]))
            n_alt = alts.count(",") + 1
            ad = ",".join(str(draw(st.integers(0, 30))) for _ in range(n_alt + 1))
            af = ",".join(draw(st.sampled_from(["0.5", "0.123456789", "."])) for _ in range(n_alt))
            records.append(f"{contig}\t{pos}\t.\t{ref}\t{alts}\t.\t{filt}\t{info}\tGT:AD:AF\t"
                           f"0/1:{ad}:{af}\t0/0:{ad}:{af}")
    shuffled = draw(st.booleans())
    if shuffled:
        records = draw(st.permutations(records))
    windows = draw(st.lists(st.tuples(st.sampled_from(["4", "7", "1", "X"]), st.integers(1, 420),
                                      st.integers(0, 60)), max_size=4))
    return records, [(c, s, s + w) for c, s, w in windows], shuffled


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=random_vcf(), compress=st.sampled_from(["none", "gzip", "bgzip", "tabix"]))
def test_random_files(tmp_path_factory, case, compress):
    records, windows, shuffled = case
    if shuffled and compress == "tabix":
        compress = "bgzip"  # tabix refuses an unsorted file
    folder = tmp_path_factory.mktemp("random")
    path = write_vcf(folder / "r.vcf", records, meta=FMT, compress=compress)
    symbolic = any("<" in r.split("\t")[4] for r in records)
    for stop_early in (False, True):
        assert_same(path, windows, include_filtered=True, stop_early=stop_early,
                    may_decline=symbolic)


def test_quick_frame_matches_the_public_constructor():
    """The reader builds its frame from pandas blocks directly; it equals pandas' own frame."""
    import numpy as np

    from lesiontrack.io.result import RAW_COLUMNS, cached_empty_calls, empty_calls, raw_frame

    arrays = []
    for column in RAW_COLUMNS:
        if column == "pos":
            arrays.append(np.array([5, 6, 7], dtype=np.int64))
        elif column in ("alt_count", "depth", "vaf", "caller_vaf"):
            arrays.append(np.array([1.0, float("nan"), 0.5]))
        else:
            values = np.empty(3, dtype=object)
            values[:] = [column, "", "x"]
            arrays.append(values)
    expected = pd.DataFrame(dict(zip(RAW_COLUMNS, arrays, strict=True)), columns=RAW_COLUMNS)
    got = raw_frame(arrays, 3)
    pd.testing.assert_frame_equal(got, expected)
    got.loc[0, "ref"] = "T"  # a frame of its own, writable
    pd.testing.assert_frame_equal(cached_empty_calls(), empty_calls())
    first = cached_empty_calls()
    first["extra"] = 1
    assert "extra" not in cached_empty_calls().columns


@pytest.mark.parametrize("backend", ["zlib", "installed"])
def test_both_inflate_backends_give_the_same_rows(monkeypatch, tmp_path, backend):
    """CI may run with or without isal: the zlib fallback must give the same rows."""
    import zlib

    if backend == "zlib":
        monkeypatch.setattr(bgzf, "_inflater", zlib)
    source = FIXTURES / "GIST01.mutect2.vcf.gz"
    unindexed = tmp_path / "copy.vcf.gz"
    shutil.copyfile(source, unindexed)  # no .tbi beside it: the streaming scan
    assert_same(unindexed, GENE_WINDOWS)
