"""Reading a calls file's first bytes: the sniffed head, the end of a VCF header, the header
facts. Each fast way is checked against the plain way it replaces (``gzip``, a line loop)."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lesiontrack.errors import CallsFileError
from lesiontrack.io import vcf_header
from lesiontrack.io.bgzf import FastPathUnsupported, gunzip_prefix
from lesiontrack.io.sniff import SNIFF_BYTES, VCF_HEAD_BYTES, sniff
from lesiontrack.io.vcf_header import _header_over, check_vcf_header, header_end

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "vcf"


def _text(n_lines: int, width: int = 60) -> bytes:
    return b"".join(b"line %06d " % i + b"x" * width + b"\n" for i in range(n_lines))


def _bgzip(path: Path, data: bytes) -> Path:
    plain = path.with_suffix("")
    plain.write_bytes(data)
    pysam.tabix_compress(str(plain), str(path), force=True)
    return path


# --------------------------------------------------------------------------------------------
# gunzip_prefix: the same bytes as gzip, or a refusal


@pytest.mark.parametrize("size", [1, 100, 16384, 65536, 10**6])
@pytest.mark.parametrize("layout", ["bgzf", "one member", "members", "empty members"])
def test_gunzip_prefix_gives_gzip_bytes(tmp_path, size, layout):
    data = _text(3000)  # ~210 kB: several BGZF blocks
    path = tmp_path / "f.gz"
    if layout == "bgzf":
        _bgzip(path, data)
    elif layout == "one member":
        path.write_bytes(gzip.compress(data))
    elif layout == "members":
        path.write_bytes(b"".join(gzip.compress(data[i:i + 7000])
                                  for i in range(0, len(data), 7000)))
    else:
        path.write_bytes(gzip.compress(b"") + gzip.compress(data[:5000]) + gzip.compress(b"")
                         + gzip.compress(data[5000:]))
    with gzip.open(path, "rb") as handle:
        expected = handle.read(size)
    assert gunzip_prefix(path, size) == expected


@pytest.mark.parametrize("damage", ["truncated", "garbage after", "corrupt", "crc"])
def test_gunzip_prefix_refuses_what_gzip_would_name(tmp_path, damage):
    data = gzip.compress(_text(200))
    path = tmp_path / "f.gz"
    if damage == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "garbage after":
        path.write_bytes(data + b"not a gzip member")
    elif damage == "corrupt":
        path.write_bytes(data[:20] + bytes(b ^ 0x55 for b in data[20:60]) + data[60:])
    else:
        path.write_bytes(data[:-8] + bytes(b ^ 1 for b in data[-8:-4]) + data[-4:])
    with pytest.raises(FastPathUnsupported):
        gunzip_prefix(path, 10**6)
    # and the sniffer then reads with gzip, which names the trouble
    with pytest.raises(CallsFileError, match="truncated or corrupt"):
        sniff(path)


def test_sniffed_head_is_a_prefix_of_the_text(tmp_path):
    header = b"##fileformat=VCFv4.2\n" + b"".join(
        b"##contig=<ID=chr%d,length=1000>\n" % i for i in range(2000))  # ~60 kB of header
    chrom = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    for body, expected_length in ((header[:300] + chrom, None),  # the whole file
                                  (header[:9000] + chrom + _text(2000), VCF_HEAD_BYTES),
                                  (header + chrom + _text(2000), SNIFF_BYTES),
                                  (b"chrom\tpos\tref\talt\tvaf\n" + _text(2000), SNIFF_BYTES)):
        path = _bgzip(tmp_path / "f.vcf.gz", body)
        kind, head = sniff(path)
        assert kind in ("vcf", "tsv")
        assert head == body[:len(head)]
        assert len(head) == (expected_length or len(body))


# --------------------------------------------------------------------------------------------
# The end of the header: two counts for the usual header, a regular expression otherwise


def _header_end_by_lines(head: bytes) -> int:
    """The definition: past the first complete line that ends the header, else -1."""
    at = 0
    for line in head.split(b"\n")[:-1]:
        at += len(line) + 1
        if _header_over(line):
            return at
    return -1


LINES = st.sampled_from([
    b"##fileformat=VCFv4.2", b"##contig=<ID=chr4>", b"#CHROM\tPOS", b"#CHROM", b"", b" ",
    b"\r", b"\t\x0b", b"##", b"#", b"#x", b"chr4\t1\t.\tA\tC", b"  #CHROM", b"##\r",
    b"#CHROMOSOME", b"x##",
])


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(LINES, max_size=12), tail=st.sampled_from([b"", b"\n", b"#CHR", b"##"]))
def test_header_end_matches_the_line_loop(lines, tail):
    head = b"\n".join(lines) + (b"\n" if lines else b"") + tail
    assert header_end(head) == _header_end_by_lines(head)


def test_header_check_names_the_line_that_is_not_utf8(tmp_path):
    path = tmp_path / "bad.vcf"
    path.write_bytes(b"##fileformat=VCFv4.2\n##source=caf\xe9\n#CHROM\tPOS\tID\tREF\tALT\tQUAL"
                     b"\tFILTER\tINFO\n")
    with pytest.raises(CallsFileError, match=r"bad\.vcf:2: .*not UTF-8.*0xe9"):
        check_vcf_header(path, path.read_bytes())


# --------------------------------------------------------------------------------------------
# parse_header: the run of contig lines taken whole gives the facts of the line loop


def _facts(raw: bytes):
    fields, n_lines = vcf_header.parse_header(raw)
    attributes = {name: fields.contig_attributes(name) for name, _ in fields.contigs}
    return (fields.samples, fields.formats, fields.info_descriptions, fields.contigs,
            fields.generic, attributes, n_lines)


def _headers() -> list[bytes]:
    out = []
    for path in sorted(FIXTURES.iterdir()):
        if path.name.endswith((".vcf", ".vcf.gz")):
            with (gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")) as h:
                text = h.read()
            end = re.search(rb"^#CHROM[^\n]*\n", text, re.M)
            out.append(text[:end.end()])
    contigs = b"".join(b"##contig=<ID=chr%d,length=%d>\n" % (i, 1000 + i) for i in range(1, 6))
    cut = contigs.index(b"\n", 60) + 1  # after the third contig line
    base = b"##fileformat=VCFv4.2\n##source=x\n"
    chrom = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
    out += [
        base + contigs + chrom,  # one run
        base + contigs[:cut] + b"##INFO=<ID=DP,Number=1,Type=Integer,Description=\"d\">\n"
        + contigs[cut:] + chrom,  # interleaved: the line loop
        base + contigs + b"##contig=<ID=chr1,length=5>\n" + chrom,  # a repeated contig
        base + chrom,  # none
    ]
    return out


@pytest.mark.parametrize("raw", _headers(), ids=lambda r: str(len(r)))
def test_contig_run_gives_the_facts_of_the_line_loop(raw, monkeypatch):
    fast = _facts(raw)
    monkeypatch.setattr(vcf_header, "_contig_lines", lambda text: ("", text))
    assert fast == _facts(raw)


def test_zlib_backend_gives_the_same_prefix(tmp_path, monkeypatch):
    from lesiontrack.io import bgzf

    path = _bgzip(tmp_path / "f.gz", _text(3000))
    expected = gunzip_prefix(path, 100_000)
    monkeypatch.setattr(bgzf, "_inflater", zlib)
    monkeypatch.setattr(bgzf, "INFLATE_ERRORS", (zlib.error, ValueError, IndexError))
    assert gunzip_prefix(path, 100_000) == expected
