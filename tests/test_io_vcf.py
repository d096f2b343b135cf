"""Tests of the VCF/BCF reader (lesiontrack.io.vcf) and the CSQ/ANN annotation helpers."""

from __future__ import annotations

import gzip
import logging
import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pysam
import pytest

from lesiontrack.calls import gene_windows
from lesiontrack.errors import CallsFileError
from lesiontrack.io import RAW_COLUMNS, read_calls_file
from lesiontrack.io.annotations import short_hgvsp, strip_transcript
from lesiontrack.io.vcf import read_vcf

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vcf-examples"
CHR4_GRCH37 = "##contig=<ID={name},length=191154276>"
CHR4_GRCH38 = "##contig=<ID={name},length=190214555>"

FMT = {
    "GT": '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "AD": '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    "DP": '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    "AF": '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">',
}


def write_vcf(
    path: Path,
    meta: list[str],
    samples: list[str],
    records: list[str],
    *,
    compress: str = "none",
) -> Path:
    """Write a VCF (records given tab-separated or with single spaces), optionally compressed:
    ``bgzip`` (no index), ``tabix`` (bgzip + .tbi index) or ``gzip`` (plain gzip)."""
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if samples:
        columns += ["FORMAT", *samples]
    lines = ["##fileformat=VCFv4.2", *meta, "\t".join(columns)]
    lines += [r if "\t" in r else r.replace(" ", "\t") for r in records]
    path.write_text("\n".join(lines) + "\n")
    if compress == "tabix":
        return Path(pysam.tabix_index(str(path), preset="vcf", force=True))
    if compress == "bgzip":
        out = path.with_name(path.name + ".gz")
        pysam.tabix_compress(str(path), str(out), force=True)
        return out
    if compress == "gzip":
        out = path.with_name(path.name + ".gz")
        with path.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out
    return path


def rows(result, sample: str | None = None) -> list[tuple]:
    """(sample, pos, ref, alt, alt_count, depth, vaf rounded) of each row."""
    frame = result.calls
    if sample is not None:
        frame = frame[frame["file_sample"] == sample]
    return [
        (r.file_sample, r.pos, r.ref, r.alt, _num(r.alt_count), _num(r.depth), _num(r.vaf, 4))
        for r in frame.itertuples(index=False)
    ]


def _num(value: float, digits: int = 6):
    return None if math.isnan(value) else round(float(value), digits)


def one(result, sample: str, **where):
    frame = result.calls[result.calls["file_sample"] == sample]
    for key, value in where.items():
        frame = frame[frame[key] == value]
    assert len(frame) == 1, frame
    return frame.iloc[0]


# --------------------------------------------------------------------------------------------
# One test per caller rule


def test_mutect2_ad_af_and_header(tmp_path):
    path = write_vcf(
        tmp_path / "m2.vcf",
        [
            CHR4_GRCH37.format(name="4"), FMT["GT"], FMT["AD"], FMT["AF"], FMT["DP"],
            "##source=Mutect2", "##tumor_sample=T1", "##normal_sample=N1",
        ],
        ["N1", "T1"],
        ["4 55599321 . A T . PASS DP=200 GT:AD:AF:DP 0/0:80,0:0.012:81 0/1:60,40:0.398:101"],
    )
    result = read_vcf(path, regions=None)
    assert list(result.calls.columns) == RAW_COLUMNS
    assert result.samples == ["N1", "T1"]
    assert (result.tumor_sample, result.normal_sample) == ("T1", "N1")
    assert result.caller == "mutect2"
    assert result.assembly_hint == "GRCh37"
    assert result.assembly_evidence == "##contig 4 length 191154276"
    tumor = one(result, "T1")
    assert (tumor.alt_count, tumor.depth) == (40.0, 100.0)  # depth = sum(AD), not DP=101
    assert tumor.vaf == pytest.approx(0.4)
    assert tumor.caller_vaf == pytest.approx(0.398)
    assert (tumor.chrom_raw, tumor.pos, tumor.ref, tumor.alt) == ("4", 55599321, "A", "T")
    assert tumor.record == "record 4:55599321"
    assert tumor["filter"] == "PASS"
    normal = one(result, "N1")
    assert (normal.alt_count, normal.depth, normal.vaf) == (0.0, 80.0, 0.0)
    assert result.calls["pos"].dtype == "int64"
    assert result.calls["alt_count"].dtype == float


def test_mutect2_multiallelic_rows(tmp_path):
    path = write_vcf(
        tmp_path / "multi.vcf",
        [FMT["GT"], FMT["AD"], FMT["AF"], FMT["DP"], "##contig=<ID=2,length=243199373>"],
        ["TUMOR", "NORMAL"],
        [
            "2 25962238 . GTT G,GT,GTTT . . . GT:AD:AF:DP "
            "0/1/2/3:203,2,21,21:0.015,0.098,0.095:247 0/0:1171,8,48,52:0.0068,0.038,0.039:1279"
        ],
    )
    result = read_vcf(path, regions=None)
    assert rows(result, "TUMOR") == [
        ("TUMOR", 25962239, "TT", "-", 2.0, 247.0, 0.0081),
        ("TUMOR", 25962239, "T", "-", 21.0, 247.0, 0.085),
        ("TUMOR", 25962238, "-", "T", 21.0, 247.0, 0.085),
    ]
    caller_vafs = result.calls[result.calls.file_sample == "TUMOR"]["caller_vaf"].tolist()
    assert caller_vafs == pytest.approx([0.015, 0.098, 0.095])
    assert len(result.calls) == 6


def test_strelka2_snv_tier1_counts(tmp_path):
    meta = [
        f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="{b} tier1,2">' for b in "ACGT"
    ] + [FMT["DP"], CHR4_GRCH38.format(name="chr4"), "##source=strelka"]
    path = write_vcf(
        tmp_path / "strelka.snvs.vcf", meta, ["NORMAL", "TUMOR"],
        ["chr4 54733155 . A T . PASS SOMATIC DP:AU:CU:GU:TU 40:38,40:0,0:1,1:0,0 "
         "70:41,44:0,0:2,2:25,27"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "strelka2_snv"
    assert (result.tumor_sample, result.normal_sample) == ("TUMOR", "NORMAL")
    assert result.assembly_hint == "GRCh38"
    assert rows(result) == [
        ("NORMAL", 54733155, "A", "T", 0.0, 38.0, 0.0),
        ("TUMOR", 54733155, "A", "T", 25.0, 66.0, 0.3788),  # TU[0] / (AU[0] + TU[0])
    ]


def test_strelka2_indel_tar_tir(tmp_path):
    meta = [
        '##FORMAT=<ID=TAR,Number=2,Type=Integer,Description="ref tiers">',
        '##FORMAT=<ID=TIR,Number=2,Type=Integer,Description="indel tiers">',
        FMT["DP"],
    ]
    path = write_vcf(
        tmp_path / "strelka.indels.vcf", meta, ["NORMAL_SAMPLE", "TUMOR_SAMPLE"],
        ["chr4 54727441 . GAAGGTTGTTGTTGAA G . PASS SOMATIC DP:TAR:TIR 30:30,31:0,0 "
         "53:39,50:14,16"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "strelka2_indel"
    assert result.tumor_sample == "TUMOR_SAMPLE"
    tumor = one(result, "TUMOR_SAMPLE")
    assert (tumor.pos, tumor.ref, tumor.alt) == (54727442, "AAGGTTGTTGTTGAA", "-")
    assert (tumor.alt_count, tumor.depth) == (14.0, 53.0)
    assert tumor.vaf == pytest.approx(14 / 53)


def test_varscan2_freq_percent_and_invalid_alt(tmp_path, caplog):
    meta = [
        FMT["GT"], FMT["DP"],
        '##FORMAT=<ID=RD,Number=1,Type=Integer,Description="ref reads">',
        '##FORMAT=<ID=AD,Number=1,Type=Integer,Description="alt reads">',
        '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="Variant allele frequency">',
        "##source=VarScan2",
    ]
    path = write_vcf(
        tmp_path / "varscan.vcf", meta, ["NORMAL", "TUMOR"],
        [
            "4 55599321 . A T . PASS DP=208 GT:DP:RD:AD:FREQ 0/0:50:50:0:0% 0/1:117:59:56:48.7%",
            "4 55599400 . G A/T . PASS DP=164 GT:DP:RD:AD:FREQ 0/1:64:0:27:100% 0/1:10:0:5:100%",
            "4 55599500 . G C/T . PASS DP=164 GT:DP:RD:AD:FREQ 0/1:64:0:27:100% 0/1:10:0:5:100%",
        ],
    )
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_vcf(path, regions=None)
    assert result.caller == "varscan2"
    tumor = one(result, "TUMOR")
    assert (tumor.alt_count, tumor.depth) == (56.0, 115.0)  # RD + AD, not DP=117
    assert tumor.vaf == pytest.approx(56 / 115)
    assert tumor.caller_vaf == pytest.approx(0.487)
    assert len(result.calls) == 2  # the A/T and C/T records are skipped
    invalid = [w for w in result.warnings if "not plain bases" in w]
    assert len(invalid) == 1 and "skipped 2" in invalid[0]
    logged = [r for r in caplog.records if "not plain bases" in r.getMessage()]
    assert len(logged) == 1


def test_freebayes_ro_ao_multiallelic(tmp_path):
    meta = [
        FMT["GT"], FMT["DP"], FMT["AD"],
        '##FORMAT=<ID=RO,Number=1,Type=Integer,Description="Reference allele observation count">',
        '##FORMAT=<ID=AO,Number=A,Type=Integer,Description="Alternate allele observation count">',
        "##source=freeBayes v1.3.10",
    ]
    path = write_vcf(
        tmp_path / "fb.vcf", meta, ["S1"],
        ["4 4010 . C A,T 8.2 . AO=2,3 GT:DP:AD:RO:AO 0/1:40:30,2,3:30:2,3"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "freebayes"
    assert rows(result) == [
        ("S1", 4010, "C", "A", 2.0, 35.0, 0.0571),  # RO + sum(AO) = 35, not DP = 40
        ("S1", 4010, "C", "T", 3.0, 35.0, 0.0857),
    ]


def test_deepvariant_vaf_and_dp(tmp_path):
    meta = [
        FMT["GT"], FMT["DP"], FMT["AD"],
        '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="Variant allele fractions.">',
        "##contig=<ID=chr20,length=64444167>",
    ]
    path = write_vcf(
        tmp_path / "dv.vcf", meta, ["NA12878"],
        ["chr20 10009879 . A G 26.7 PASS . GT:DP:AD:VAF 1/1:48:0,47:0.979167"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "deepvariant"
    row = one(result, "NA12878")
    assert (row.alt_count, row.depth) == (47.0, 48.0)  # depth = DP
    assert row.vaf == pytest.approx(0.979167)
    assert row.caller_vaf == pytest.approx(0.979167)


def test_mutect1_fa_and_ad_number_dot(tmp_path):
    meta = [
        '##FORMAT=<ID=AD,Number=.,Type=Integer,Description="Allelic depths">',
        FMT["DP"], FMT["GT"],
        '##FORMAT=<ID=FA,Number=A,Type=Float,Description="Allele fraction">',
        "##reference=file:///srv/Homo_sapiens.GRCh37.74.dna.primary_assembly.fa",
    ]
    path = write_vcf(
        tmp_path / "mutect1.vcf", meta, ["NORMAL", "TUMOR"],
        ["4 55599321 . A T . PASS SOMATIC GT:AD:DP:FA 0:43,0:43:0.00 0/1:39,3:42:0.071"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "mutect1"
    assert result.assembly_hint == "GRCh37"
    assert result.assembly_evidence.startswith("##reference=")
    tumor = one(result, "TUMOR")
    assert (tumor.alt_count, tumor.depth) == (3.0, 42.0)
    assert tumor.caller_vaf == pytest.approx(0.071)


def test_radia_af_holds_ref_and_alt(tmp_path):
    meta = [
        FMT["GT"], FMT["DP"],
        '##FORMAT=<ID=AD,Number=.,Type=Integer,Description="Depth of reads supporting alleles">',
        '##FORMAT=<ID=AF,Number=.,Type=Float,Description="Fraction of reads supporting alleles">',
        '##source="RADIA pipeline v1.1.5"',
    ]
    path = write_vcf(
        tmp_path / "radia.vcf", meta, ["DNA_NORMAL", "DNA_TUMOR"],
        ["4 55599321 . A T 0 PASS SOMATIC GT:DP:AD:AF 0/0:117:117,0:1.0,0.0 "
         "0/1:106:95,11:0.9,0.1"],
    )
    result = read_vcf(path, regions=None)
    assert result.caller == "radia"
    tumor = one(result, "DNA_TUMOR")
    assert (tumor.alt_count, tumor.depth) == (11.0, 106.0)
    assert tumor.caller_vaf == pytest.approx(0.1)  # AF[1], not AF[0] = 0.9


def test_generic_ad_quirks(tmp_path, caplog, capfd):
    """AD Number=G, AD=.,21, AD=.,. with DP=0, DP != sum(AD), undeclared FORMAT tags, a Number=A
    tag written per allele, an empty INFO column, no ##contig lines."""
    meta = [
        '##FORMAT=<ID=AD,Number=G,Type=Integer,Description="Allelic Depths">',
        FMT["DP"], FMT["GT"],
        '##FORMAT=<ID=MMQ,Number=A,Type=Integer,Description="median mapping quality">',
    ]
    path = write_vcf(
        tmp_path / "edge.vcf", meta, ["TUMOR", "NORMAL"],
        [
            "4\t100\t.\tA\tC\t.\t.\t\tGT:AD:DP:MMQ\t0/1:.,21:54:60,60\t0/0:.,.:0:60,60",
            "4\t200\t.\tC\tT\t.\t.\t\tGT:AD:DP\t0/1:778,123:1000\t0/0:482,0:482",
            "4\t300\t.\tG\tA\t.\t.\t.\tGT:AD:DP:XC\t0/1:10,5:15:7,8\t0/0:9,0:9:1,2",
        ],
    )
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_vcf(path, regions=None)
    assert result.caller == "generic_ad"
    assert rows(result) == [
        ("TUMOR", 100, "A", "C", 21.0, 54.0, 0.3889),  # ref missing: depth = DP
        ("NORMAL", 100, "A", "C", None, 0.0, None),  # AD=.,. -> unknown, never 0
        ("TUMOR", 200, "C", "T", 123.0, 901.0, 0.1365),  # depth = sum(AD), not DP
        ("NORMAL", 200, "C", "T", 0.0, 482.0, 0.0),
        ("TUMOR", 300, "G", "A", 5.0, 15.0, 0.3333),
        ("NORMAL", 300, "G", "A", 0.0, 9.0, 0.0),
    ]
    assert any("no ##contig" in w for w in result.warnings)
    assert any("XC" in w and "not declared" in w for w in result.warnings)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no ##contig" in m for m in messages) == 1
    assert len(messages) == len(result.warnings)
    assert capfd.readouterr().err == ""  # htslib silenced


def test_undeclared_strelka_indel_tags_are_parsed(tmp_path):
    meta = [
        f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="{b} tier1,2">' for b in "ACGT"
    ] + [FMT["DP"]]
    path = write_vcf(
        tmp_path / "merged.vcf", meta, ["NORMAL", "TUMOR"],
        [
            "4 100 . C T . PASS SOMATIC DP:AU:CU:GU:TU 96:0,0:96,96:0,0:0,0 73:1,1:33,33:0,0:39,39",
            "4 200 . CG C . PASS SOMATIC DP:TAR:TIR 91:87,89:0,0 89:19,19:57,58",
            "4 300 . CG C . PASS SOMATIC DP:TAR:TIR 91:87,89:0,0 89:19,19:57,58",
        ],
    )
    result = read_vcf(path, regions=None)
    assert set(result.calls["caller"]) == {"strelka2_snv", "strelka2_indel"}
    assert result.caller == "strelka2_indel"  # the most common
    tumor = result.calls[(result.calls.file_sample == "TUMOR") & (result.calls.pos == 201)]
    assert tumor[["alt_count", "depth"]].values.tolist() == [[57.0, 76.0]]


def test_minimal_alleles_symbolic_and_ref_equal_alt(tmp_path):
    path = write_vcf(
        tmp_path / "alleles.vcf", [FMT["GT"], FMT["AD"]], ["S"],
        [
            "4 100 . A A,C,* . PASS . GT:AD 0/2:10,0,5,1",
            "4 200 . A <DEL> . PASS . GT:AD 0/1:10,5",
            "4 300 . CAGT CAGA . PASS . GT:AD 0/1:10,5",
        ],
    )
    result = read_vcf(path, regions=None)
    assert rows(result) == [
        ("S", 100, "A", "C", 5.0, 16.0, 0.3125),
        ("S", 303, "T", "A", 5.0, 15.0, 0.3333),
    ]
    assert any("skipped 2 ALT" in w for w in result.warnings)


def test_filtered_records(tmp_path):
    path = write_vcf(
        tmp_path / "filt.vcf",
        [FMT["GT"], FMT["AD"], '##FILTER=<ID=weak_evidence,Description="x">',
         '##FILTER=<ID=germline,Description="x">'],
        ["T"],
        [
            "4 100 . A C . PASS . GT:AD 0/1:10,5",
            "4 200 . A C . . . GT:AD 0/1:10,5",
            "4 300 . A C . weak_evidence;germline . GT:AD 0/1:10,5",
        ],
    )
    kept = read_vcf(path, regions=None)
    assert kept.calls["filter"].tolist() == ["PASS", "."]
    everything = read_vcf(path, regions=None, include_filtered=True)
    assert everything.calls["filter"].tolist() == ["PASS", ".", "weak_evidence;germline"]


# --------------------------------------------------------------------------------------------
# Regions, index, compression, BCF

REGION_RECORDS = [
    "{c} 54727400 . A C . PASS . GT:AD 0/1:10,1",
    # deletion starting 10 bases before the window and reaching into it
    "{c} 54727420 . " + "G" + "A" * 15 + " G . PASS . GT:AD 0/1:10,2",
    "{c} 54733155 . A T . PASS . GT:AD 0/1:60,40",
    "{c} 54733300 . C T . PASS . GT:AD 0/1:60,3",
    "{c} 55000000 . C T . PASS . GT:AD 0/1:60,4",
]
WINDOWS = [("4", 54727430, 54727500), ("4", 54733100, 54733200)]


def _region_file(tmp_path: Path, chrom: str, compress: str) -> Path:
    meta = [FMT["GT"], FMT["AD"], CHR4_GRCH38.format(name=chrom)]
    name = f"{chrom}_{compress}.vcf"
    records = [r.format(c=chrom) for r in REGION_RECORDS]
    return write_vcf(tmp_path / name, meta, ["T"], records, compress=compress)


@pytest.mark.parametrize("chrom", ["4", "chr4"])
@pytest.mark.parametrize("compress", ["none", "bgzip", "tabix", "gzip"])
def test_region_filter_on_every_path(tmp_path, chrom, compress):
    path = _region_file(tmp_path, chrom, compress)
    if compress == "tabix":
        assert Path(str(path) + ".tbi").exists()
    result = read_vcf(path, regions=WINDOWS)
    assert result.calls["record"].tolist() == [
        f"record {chrom}:54727420",  # POS before the window, REF span overlaps it
        f"record {chrom}:54733155",
    ]
    assert set(result.calls["chrom_raw"]) == {chrom}
    assert result.calls["alt_count"].tolist() == [2.0, 40.0]


def test_indexed_and_unindexed_give_the_same_rows(tmp_path):
    plain = read_vcf(_region_file(tmp_path, "chr4", "none"), regions=WINDOWS)
    indexed = read_vcf(_region_file(tmp_path, "chr4", "tabix"), regions=WINDOWS)
    pd.testing.assert_frame_equal(plain.calls, indexed.calls)
    everything_plain = read_vcf(_region_file(tmp_path, "chr4", "none"), regions=None)
    everything_indexed = read_vcf(_region_file(tmp_path, "chr4", "tabix"), regions=None)
    pd.testing.assert_frame_equal(everything_plain.calls, everything_indexed.calls)
    assert len(everything_plain.calls) == 5


def test_overlapping_windows_do_not_duplicate_records(tmp_path):
    path = _region_file(tmp_path, "chr4", "tabix")
    windows = [("4", 54727300, 54727430), ("4", 54727425, 54727500), ("4", 54727433, 54727600)]
    assert read_vcf(path, regions=windows).calls["pos"].tolist() == [54727400, 54727421]
    # two disjoint windows that both overlap the 15-base deletion
    windows = [("4", 54727421, 54727422), ("4", 54727430, 54727431)]
    for compress in ("tabix", "none"):
        result = read_vcf(_region_file(tmp_path, "chr4", compress), regions=windows)
        assert result.calls["record"].tolist() == ["record chr4:54727420"]


def test_empty_region_list_and_other_contig(tmp_path):
    path = _region_file(tmp_path, "chr4", "tabix")
    assert read_vcf(path, regions=[]).calls.empty
    assert read_vcf(path, regions=[("5", 1, 10_000_000)]).calls.empty


def test_plain_gzip_is_read_with_one_warning(tmp_path, caplog):
    path = _region_file(tmp_path, "chr4", "gzip")
    with caplog.at_level(logging.WARNING, logger="lesiontrack"):
        result = read_vcf(path, regions=None)
    assert len(result.calls) == 5
    assert sum("plain gzip" in w for w in result.warnings) == 1
    assert sum("plain gzip" in r.getMessage() for r in caplog.records) == 1


def _write_bcf(source: Path, target: Path) -> Path:
    with pysam.VariantFile(str(source)) as vin, pysam.VariantFile(
        str(target), "wb", header=vin.header
    ) as vout:
        for rec in vin:
            vout.write(rec)
    return target


def test_bcf(tmp_path):
    source = _region_file(tmp_path, "chr4", "none")
    bcf = _write_bcf(source, tmp_path / "calls.bcf")
    expected = read_vcf(source, regions=None).calls
    pd.testing.assert_frame_equal(read_vcf(bcf, regions=None).calls, expected)
    result = read_calls_file(bcf, regions=WINDOWS)
    assert result.calls["pos"].tolist() == [54727421, 54733155]


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_indexed_bcf_fetch(tmp_path):
    bcf = _write_bcf(_region_file(tmp_path, "chr4", "none"), tmp_path / "calls.bcf")
    subprocess.run(["bcftools", "index", str(bcf)], check=True)
    assert Path(str(bcf) + ".csi").exists()
    assert read_vcf(bcf, regions=WINDOWS).calls["pos"].tolist() == [54727421, 54733155]


# --------------------------------------------------------------------------------------------
# Annotation: VEP CSQ and SnpEff ANN

CSQ_FORMAT = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|"
    "HGVSp|CANONICAL|MANE_SELECT"
)


def _csq(allele, symbol, feature, hgvsc, hgvsp, canonical="", mane=""):
    return "|".join([allele, "missense_variant", "MODERATE", symbol, "ENSG", "Transcript",
                     feature, "protein_coding", "17/21", "", hgvsc, hgvsp, canonical, mane])


def test_vep_csq_prefers_the_kit_canonical_transcript(tmp_path):
    entries = ",".join([
        _csq("T", "KIT", "ENST00000412167", "ENST00000412167.6:c.2435A>T",
             "ENSP00000390987.2:p.Asp812Val"),
        _csq("T", "KIT-AS", "ENST00000999999", "", "", canonical="YES"),
        _csq("T", "KIT", "ENST00000288135", "ENST00000288135.6:c.2447A>T",
             "ENSP00000288135.6:p.Asp816Val"),
    ])
    deletion = ",".join([
        _csq("-", "KIT", "ENST00000412167", "ENST00000412167.6:c.1667_1672del",
             "ENSP00000390987.2:p.Trp557_Lys558del"),
        _csq("-", "KIT", "ENST00000288135", "ENST00000288135.6:c.1669_1674del",
             "ENSP00000288135.6:p.Trp557_Lys558del", canonical="YES"),
    ])
    insertion = _csq("C", "PDGFRA", "ENST00000257290", "ENST00000257290.10:c.1A>AC",
                     "ENSP00000257290.5:p.Pro5%3D")
    meta = [
        FMT["GT"], FMT["AD"],
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        f'Ensembl VEP. Format: {CSQ_FORMAT}">',
    ]
    path = write_vcf(
        tmp_path / "vep.vcf", meta, ["T"],
        [
            f"4\t55599321\t.\tA\tT\t.\tPASS\tCSQ={entries}\tGT:AD\t0/1:60,40",
            f"4\t55593580\t.\tCTGGAAG\tC\t.\tPASS\tCSQ={deletion}\tGT:AD\t0/1:60,20",
            f"4\t55141050\t.\tA\tAC\t.\tPASS\tCSQ={insertion}\tGT:AD\t0/1:60,10",
        ],
    )
    result = read_vcf(path, regions=None)
    calls = result.calls
    assert calls[["ann_gene", "ann_hgvsc", "ann_hgvsp"]].values.tolist() == [
        ["KIT", "c.2447A>T", "p.D816V"],
        ["KIT", "c.1669_1674del", "p.W557_K558del"],
        ["PDGFRA", "c.1A>AC", "p.P5="],
    ]


def test_vep_csq_multiallelic_matches_each_allele(tmp_path):
    entries = ",".join([
        _csq("C", "KIT", "ENST00000288135", "c.2447A>C", "p.Asp816Ala"),
        _csq("T", "KIT", "ENST00000412167", "c.2435A>T", "p.Asp812Val", canonical="YES"),
        _csq("T", "KIT", "ENST00000288135", "c.2447A>T", "p.Asp816Val"),
    ])
    meta = [
        FMT["GT"], FMT["AD"],
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Format: {CSQ_FORMAT}">',
    ]
    path = write_vcf(tmp_path / "vep2.vcf", meta, ["T"],
                     [f"4\t55599321\t.\tA\tC,T\t.\tPASS\tCSQ={entries}\tGT:AD\t0/1/2:60,5,40"])
    calls = read_vcf(path, regions=None).calls
    assert calls[["alt", "ann_hgvsp"]].values.tolist() == [["C", "p.D816A"], ["T", "p.D816V"]]


def test_snpeff_ann_canonical_refseq_and_frameshift(tmp_path):
    ann_header = (
        "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | "
        "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
        "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | "
        "CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">"
    )
    ann = ",".join([
        "CT|frameshift_variant|HIGH|KIT|KIT|transcript|NM_001093772.1|protein_coding|11/21|"
        "c.1661dupT|p.Lys554AsnfsTer5|1700/5000|1661/2919|554/972||",
        "CT|frameshift_variant|HIGH|KIT|KIT|transcript|NM_000222.2|protein_coding|11/21|"
        "c.1673dupT|p.Lys558AsnfsTer5|1712/5084|1673/2931|558/976||",
    ])
    path = write_vcf(
        tmp_path / "snpeff.vcf", [FMT["GT"], FMT["AD"], ann_header], ["T"],
        [f"4\t55593600\t.\tC\tCT\t.\tPASS\tANN={ann}\tGT:AD\t0/1:30,10"],
    )
    row = read_vcf(path, regions=None).calls.iloc[0]
    assert (row.ann_gene, row.ann_hgvsc, row.ann_hgvsp) == ("KIT", "c.1673dupT", "p.K558Nfs*5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p.Asp816Val", "p.D816V"),
        ("ENSP00000288135.6:p.Asp816Val", "p.D816V"),
        ("p.(Asp816Val)", "p.D816V"),
        ("p.Trp557_Lys558del", "p.W557_K558del"),
        ("p.Ala502_Tyr503dup", "p.A502_Y503dup"),
        ("p.Lys558AsnfsTer5", "p.K558Nfs*5"),
        ("p.Trp557Ter", "p.W557*"),
        ("p.Pro5%3D", "p.P5="),
        ("p.Lys550_Lys558delinsAsn", "p.K550_K558delinsN"),
        ("p.D816V", "p.D816V"),
        ("", ""),
        (".", ""),
    ],
)
def test_short_hgvsp(text, expected):
    assert short_hgvsp(text) == expected


def test_strip_transcript():
    assert strip_transcript("ENST00000288135.6:c.2447A>T") == "c.2447A>T"
    assert strip_transcript("NM_000222.2:c.1669_1674del") == "c.1669_1674del"
    assert strip_transcript("c.2447A>T") == "c.2447A>T"
    assert strip_transcript("") == ""


# --------------------------------------------------------------------------------------------
# Errors and empty files


def _assert_error(path: Path, *, contains: str = "", where: str = "") -> CallsFileError:
    with pytest.raises(CallsFileError) as info:
        read_vcf(path, regions=None)
    text = str(info.value)
    assert path.name in text
    assert "\n" not in text
    assert contains in text
    assert where in text
    return info.value


def test_truncated_bgzip(tmp_path):
    path = _region_file(tmp_path, "chr4", "bgzip")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    _assert_error(path, contains="truncated")


def test_truncated_plain_gzip(tmp_path):
    path = _region_file(tmp_path, "chr4", "gzip")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_error(path, contains="gzip")


def test_garbage_and_text_files(tmp_path):
    binary = tmp_path / "garbage.vcf"
    binary.write_bytes(bytes(range(256)) * 8)
    _assert_error(binary, contains="not a VCF")
    text = tmp_path / "notes.vcf"
    text.write_text("hello\nthis is not a vcf\n")
    _assert_error(text, contains="not a VCF")
    empty = tmp_path / "empty.vcf"
    empty.write_text("")
    _assert_error(empty, contains="#CHROM")


def test_missing_chrom_line(tmp_path):
    path = tmp_path / "nochrom.vcf"
    path.write_text("##fileformat=VCFv4.2\n##source=x\n4\t100\t.\tA\tC\t.\tPASS\t.\n")
    error = _assert_error(path, contains="#CHROM")
    assert error.where == 3


def test_record_parse_error_names_the_line(tmp_path):
    path = write_vcf(
        tmp_path / "bad.vcf", [FMT["GT"], FMT["AD"]], ["T"],
        ["4 100 . A C . PASS . GT:AD 0/1:10,5", "4 1x1 . A C . PASS . GT:AD 0/1:10,5"],
    )
    error = _assert_error(path, contains="POS '1x1'")
    assert error.where == 6
    assert "4:100" in str(error)


def test_record_error_in_fetch_mode(tmp_path):
    path = write_vcf(
        tmp_path / "badad.vcf", [FMT["GT"], FMT["AD"]], ["T"],
        ["4 100 . A C . PASS . GT:AD 0/1:10,5", "4 200 . A C . PASS . GT:AD 0/1:1x,5"],
        compress="tabix",
    )
    with pytest.raises(CallsFileError) as info:
        read_vcf(path, regions=[("4", 1, 1000)])
    assert path.name in str(info.value) and "4:100" in str(info.value)


@pytest.mark.parametrize(
    ("sample_value", "field", "message"),
    [
        ("0/1:10,-5:15", "AD", "negative"),
        ("0/1:10,50:40", "AD", "larger than the depth"),
    ],
)
def test_impossible_counts(tmp_path, sample_value, field, message):
    meta = [FMT["GT"], FMT["AD"], FMT["DP"],
            '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="x">']
    fmt = "GT:AD:DP" if message == "negative" else "GT:AD:DP:VAF"
    value = sample_value if message == "negative" else sample_value + ":0.9"
    path = write_vcf(tmp_path / "impossible.vcf", meta, ["T"],
                     [f"4 55599321 . A T . PASS . {fmt} {value}"])
    error = _assert_error(path, contains=message, where="record 4:55599321")
    assert error.field == field


def test_undeclared_tag_with_text_value(tmp_path):
    path = write_vcf(
        tmp_path / "text.vcf",
        ['##FORMAT=<ID=TAR,Number=2,Type=Integer,Description="x">'], ["T"],
        ["4 100 . AG A . PASS . TAR:TIR 10,10:abc"],
    )
    error = _assert_error(path, where="record 4:100")
    assert error.field == "TIR"


def test_header_only_and_sites_only(tmp_path):
    header_only = write_vcf(tmp_path / "empty_body.vcf", [FMT["GT"]], ["T", "N"], [])
    result = read_vcf(header_only, regions=None)
    assert result.calls.empty and list(result.calls.columns) == RAW_COLUMNS
    assert result.samples == ["T", "N"] and result.warnings == []
    sites = write_vcf(tmp_path / "sites.vcf", [], [], ["4 100 . A C . PASS ."])
    result = read_vcf(sites, regions=None)
    assert result.calls.empty and result.samples == []
    assert any("no sample columns" in w for w in result.warnings)


# --------------------------------------------------------------------------------------------
# The real caller output excerpts in ../shared/vcf-examples


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.vcf")) if EXAMPLES.is_dir() else []


def _example(name: str) -> Path:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.mark.parametrize("path", _examples() or [None], ids=lambda p: p.name if p else "none")
def test_every_example_file_reads(path, capfd):
    if path is None:
        pytest.skip("shared/vcf-examples not available")
    result = read_vcf(path, regions=None, include_filtered=True)
    assert list(result.calls.columns) == RAW_COLUMNS
    assert not result.calls.empty
    assert result.caller != "unknown"
    assert set(result.calls["file_sample"]) <= set(result.samples)
    assert capfd.readouterr().err == ""


def test_example_deepvariant():
    result = read_vcf(_example("deepvariant_somatic_tumor_golden.vcf"), regions=None)
    row = one(result, "NA12878", pos=10009879)
    assert (row.alt_count, row.depth) == (47.0, 48.0)
    assert row.vaf == pytest.approx(47 / 48, abs=1e-6)


def test_example_varscan_freq_percent():
    result = read_vcf(_example("varscan2_somatic.vcf"), regions=None)
    assert result.caller == "varscan2"
    normal = one(result, "NORMAL", pos=1991014)
    assert normal.caller_vaf == pytest.approx(0.487)
    assert (normal.alt_count, normal.depth) == (56.0, 115.0)
    assert 106715342 not in set(result.calls["pos"])  # ALT 'A/T' skipped
    assert (result.tumor_sample, result.normal_sample) == ("TUMOR", "NORMAL")


def test_example_radia_af_alt():
    result = read_vcf(_example("radia_af_ref_and_alt.vcf"), regions=None)
    tumor = one(result, "DNA_TUMOR", pos=29651735)
    assert tumor.caller_vaf == pytest.approx(0.1)
    assert (tumor.alt_count, tumor.depth) == (11.0, 106.0)


def test_example_mutect2_multiallelic():
    result = read_vcf(_example("mutect2_unfiltered_tumor_normal.vcf"), regions=None)
    assert (result.tumor_sample, result.normal_sample) == ("TUMOR", "NORMAL")
    assert result.assembly_hint == "GRCh37"
    calls = result.calls
    site = calls[(calls.record == "record 2:25956924") & (calls.file_sample == "TUMOR")]
    assert site[["pos", "ref", "alt", "alt_count", "depth"]].values.tolist() == [
        [25956925, "T", "-", 298.0, 534.0],
        [25956924, "-", "T", 18.0, 534.0],
    ]
    assert site["caller_vaf"].tolist() == pytest.approx([0.537, 0.044])
    assert len(calls[calls.record == "record 2:25962238"]) == 6  # 3 ALTs x 2 samples


def test_example_ad_ref_missing():
    result = read_vcf(_example("edge_ad_partial_missing_dp_mismatch.vcf"), regions=None)
    tumor = one(result, "TUMOR", pos=34792292)
    assert (tumor.alt_count, tumor.depth) == (21.0, 54.0)
    assert tumor.vaf == pytest.approx(21 / 54)
    normal = one(result, "NORMAL", pos=34792292)
    assert math.isnan(normal.alt_count) and math.isnan(normal.vaf) and normal.depth == 0
    assert one(result, "TUMOR", pos=34792478).depth == 901.0  # sum(AD), DP says 901 too


def test_example_mito_filters_and_triallelic():
    path = _example("mutect2_filtermutectcalls_mito.vcf")
    passing = read_vcf(path, regions=None)
    assert 301 not in set(passing.calls["pos"])
    everything = read_vcf(path, regions=None, include_filtered=True)
    assert one(everything, "NA12878", pos=301)["filter"] == (
        "low_allele_frac;possible_numt;weak_evidence"
    )
    site = passing.calls[passing.calls.record == "record chrM:302"]
    assert site[["ref", "alt", "alt_count", "depth"]].values.tolist() == [
        ["-", "C", 401.0, 522.0], ["A", "C", 67.0, 522.0], ["-", "CC", 49.0, 522.0],
    ]


def test_example_strelka_merged_and_unsorted():
    merged = read_vcf(_example("strelka1_snv_indel_merged_no_contigs.vcf"), regions=None)
    tumor = one(merged, "TUMOR", pos=102626147)
    assert tumor.caller == "strelka2_indel"
    assert (tumor.alt_count, tumor.depth) == (57.0, 76.0)
    assert one(merged, "TUMOR", pos=1957788).alt_count == 39.0
    snvs = read_vcf(_example("strelka2_somatic_snvs.vcf"), regions=[("7", 821000, 822000)])
    assert rows(snvs, "TUMOR_SAMPLE") == [("TUMOR_SAMPLE", 821479, "T", "A", 24.0, 45.0, 0.5333)]
    assert snvs.assembly_hint == "GRCh38"


def test_example_annotations_and_assembly():
    snpeff = read_vcf(_example("mutect2_filtermutectcalls_snpeff_tumor_normal.vcf"),
                      regions=[("4", 55346270, 55346280)])
    assert snpeff.assembly_hint == "GRCh38"
    assert (snpeff.tumor_sample, snpeff.normal_sample) == ("syn3_tumor", "syn3_normal")
    tumor = one(snpeff, "syn3_tumor")
    assert (tumor.ann_gene, tumor.ann_hgvsc) == ("SRD5A3", "c.-60_-55delTCTTCC")
    assert (tumor.alt_count, tumor.depth) == (19.0, 49.0)
    vep = read_vcf(_example("vep_csq_pindel.vcf"), regions=None)
    assert vep.assembly_hint == "GRCh37" and vep.assembly_evidence == "##reference=HG19"
    row = one(vep, "TUMOR", pos=27553788)
    assert (row.ann_gene, row.ann_hgvsc) == ("ARNTL2", "c.1160+86dupT")  # CANONICAL=YES entry
    assert (row.alt_count, row.depth) == (4.0, 45.0)


@pytest.mark.parametrize("engine", ["pysam", "text"])
def test_per_record_work_is_linear_in_the_alt_alleles(tmp_path, monkeypatch, engine):
    """A record with 1,000 ALTs sums its AD once per sample, not once per ALT (quadratic: N=1e5
    did not finish in a minute); 1,001 ALTs are refused naming the record and ALT."""
    import itertools

    import lesiontrack.io.vcf_counts as counts_module

    def record(n: int) -> str:
        bases = ("".join(p) for k in range(1, 8) for p in itertools.product("ACGT", repeat=k))
        alts = ",".join("A" + b for b in itertools.islice(bases, n))
        ad = ",".join(["100"] + ["1"] * n)
        return (f"chr4\t54733155\t.\tA\t{alts}\t.\tPASS\t.\tAD\t{ad}\t{ad}\n")

    head = ("##fileformat=VCFv4.2\n##contig=<ID=chr4,length=190214555>\n"
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="d">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\tT2\n")
    calls = []
    real_total = counts_module._total
    monkeypatch.setattr(counts_module, "_total",
                        lambda values: calls.append(len(values)) or real_total(values))
    path = tmp_path / "many.vcf"
    path.write_text(head + record(1000))
    result = read_vcf(path, regions=gene_windows(("KIT",)), engine=engine)
    assert len(result.calls) == 2000
    assert set(result.calls["depth"]) == {1100.0}
    assert calls == [1001, 1001]  # one sum of the 1,001 AD values per sample
    path.write_text(head + record(1001))
    with pytest.raises(CallsFileError) as info:
        read_vcf(path, regions=gene_windows(("KIT",)), engine=engine)
    assert str(info.value) == (f"{path}:record chr4:54733155: field 'ALT': 1,001 ALT alleles in "
                               "one record (at most 1,000) (is the file corrupt?)")
