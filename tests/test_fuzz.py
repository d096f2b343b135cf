"""Fuzzing harness (hypothesis): readers given arbitrary or damaged bytes raise only
:class:`~lesiontrack.LesionTrackError`, and what they do return is sane.

Inputs are raw bytes (``st.binary()``) and mutations of real fixture text: byte flips, random
bytes, truncations, deleted or duplicated spans, inserted tabs, newlines, quotes, numbers and
non-UTF-8 bytes, swapped lines. Targets: the sample-sheet reader, the VCF reader through
``lesiontrack.io.read_calls_file`` (plain text, and bgzipped bytes), the MAF and TSV readers, and
the whole command on a damaged sample sheet.

``LESIONTRACK_FUZZ_EXAMPLES`` sets the examples per target (default 200: the file runs in well
under a minute); see ``tests/README.md`` for long runs. ``LESIONTRACK_FUZZ_STRICT=1`` also fails
on the known bugs of the VCF reader listed in :data:`KNOWN_VCF_BUGS`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import re
import traceback
from pathlib import Path

import numpy as np
import pysam
import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesiontrack.cli import main
from lesiontrack.errors import LesionTrackError
from lesiontrack.io import RAW_COLUMNS, read_calls_file
from lesiontrack.io.maf import read_maf
from lesiontrack.io.tsv import read_tsv
from lesiontrack.samplesheet import read_samplesheet

EXAMPLES = int(os.environ.get("LESIONTRACK_FUZZ_EXAMPLES", "200"))
STRICT = os.environ.get("LESIONTRACK_FUZZ_STRICT", "") not in ("", "0")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Known bugs of the VCF reader (lesiontrack/io/vcf.py and the modules of its rewrite, which
#: others are editing): (exception type, message pattern, file of the innermost lesiontrack
#: frame). Each has a strict xfail test in test_bad_inputs.py; remove the entry when it is fixed.
KNOWN_VCF_BUGS: list[tuple[type[BaseException], str, str]] = [
    # none open. Found so far, each now a regression test in test_bad_inputs.py:
    # (IndexError, r"^Invalid sample index$", "vcf.py") - record cut after 8 columns;
    # (IndexError, r"^index 0 is out of bounds", "fastvcf.py") - CR inside a record;
    # (UnicodeDecodeError, r"^'utf-8' codec can't decode", "vcf.py") - non-UTF-8 record bytes;
    # (NotImplementedError, r"^seek not implemented", "vcf.py") - damaged BGZF block header.
]
KIT_AND_PDGFRA = [("4", 54656928, 54741715), ("4", 54228097, 54299245),
                  ("4", 55523095, 55607881), ("4", 55094264, 55165412)]

# ---- seed corpus: real fixture text -------------------------------------------------------


def _vcf_text(name: str, keep_contigs: tuple[str, ...] = ("chr4",)) -> bytes:
    data = (FIXTURES / "vcf" / name).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    lines = data.splitlines(keepends=True)
    return b"".join(line for line in lines if not line.startswith(b"##contig")
                    or any(f"ID={c}," in line.decode() for c in keep_contigs))


VCF_SEEDS = [
    _vcf_text("GIST01.mutect2.vcf.gz"),  # Mutect2, 5 samples, multi-allelic, AF
    _vcf_text("GIST04.mutect2.vep.vcf.gz"),  # VEP CSQ annotation
    _vcf_text("GIST02_L1.strelka.somatic.snvs.vcf.gz"),  # Strelka2 AU/CU/GU/TU
    _vcf_text("GIST02_L1.strelka.somatic.indels.vcf.gz"),  # Strelka2 TAR/TIR
    _vcf_text("GIST03_L1.varscan.snp.Somatic.hc.vcf"),  # VarScan2 RD/AD/FREQ%
    _vcf_text("GIST06.freebayes.vcf.gz"),  # FreeBayes RO/AO
]
BGZF_SEEDS = [(FIXTURES / "vcf" / n).read_bytes() for n in (
    "GIST01.mutect2.vcf.gz", "GIST06.freebayes.vcf.gz")]
def _rows(template: str, n: int = 24) -> bytes:
    """``n`` data rows from a template with {pos}, {alt}, {ref}, {depth}, {frac}, {pct}, {i}."""
    return "".join(template.format(pos=54727000 + 37 * i, i=i, alt=i % 9, ref=60 + 3 * i,
                                   depth=60 + 4 * i, frac=f"{(i % 9) / (60 + 4 * i):.3f}",
                                   pct=f"{100 * (i % 9) / (60 + 4 * i):.2f}")
                   for i in range(n)).encode()


MAF_SEEDS = [
    (FIXTURES / "maf" / "GIST05.vep.maf").read_bytes(),  # vcf2maf + VEP, t_depth
    (b"#version 2.4\nHugo_Symbol\tChromosome\tStart_Position\tReference_Allele\t"
     b"Tumor_Seq_Allele1\tTumor_Seq_Allele2\tTumor_Sample_Barcode\tNCBI_Build\t"
     b"TumorRefReads_WU\tTumorVarReads_WU\tTumorVAF_WU\n"
     + _rows("KIT\t4\t{pos}\tA\tA\tT\tTCGA-AB-{i}\t37\t{ref}\t{alt}\t{pct}\n")
     + b"KIT\t4\t55589774\tGTGT\tGTGT\t-\tTCGA-AB-1\t37\tNA\tNA\tNA\n"),  # TCGA WUSTL
    (b"Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
     b"Tumor_Sample_Barcode\tRef_allele_depth\tAlt_allele_depth\tVAF\n"
     + _rows("KIT\tchr4\t{pos}\tA\tT\tL{i}\t{ref}\t{alt}\t{frac}\n")),  # MesKit
]
TSV_SEEDS = [
    (b"chrom\tpos\tref\talt\talt_count\tdepth\tvaf\tsample\tgene\thgvsp\n"
     + _rows("chr4\t{pos}\tA\tT\t{alt}\t{depth}\t{frac}\tT1\tKIT\tp.D816V\n")
     + b"chr4\t54727434\tCAGTGGA\tC\t12\t100\t12%\tT1\tKIT\t\n"
     b"chr4\t54728092\tT\tC\t.\t.\tNA\tT2\tKIT\tp.V654A\n"),
    (b"# made by hand\n#chrom,pos,ref,alt,ref_count,alt_count,filter,assembly\n"
     + _rows('chr4,{pos},A,T,{ref},{alt},PASS,GRCh38\r\n"chr4",{pos},T,C,{ref},"{alt}",.,GRCh38'
             "\r\n")),
    (b"Chromosome;Position;Ref;Alt;VAF\n"
     + _rows("4;{pos};A;T;{frac}\n").replace(b"0.", b"0,")),
]
SHEET_SEED = (FIXTURES / "samplesheet.tsv").read_bytes()

# ---- mutations ----------------------------------------------------------------------------

TOKENS = [b"\t", b"\n", b"\r", b"\r\n", b",", b";", b'"', b"#", b"##", b"-", b"-1", b".", b"NA",
          b"nan", b"inf", b"-inf", b"1e400", b"99999999999999999999", b"0", b"\x00", b"\xff",
          b"\xe9", "\u00e9".encode(), b"\xef\xbb\xbf", b"chr4", b"<DEL>", b"*", b",", b"|",
          b"%", b"0/1", b":", b"=", b" ", b"PASS", b"GRCh37", b"hg19"]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A seed with 1-6 mutations. Positions come from a random generator that hypothesis seeds:
    uniform over the file (hypothesis' own integers favour small values, which would mostly
    damage the first bytes and stop every input at format sniffing)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    rng = draw(st.randoms(use_true_random=True))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "delete", "duplicate",
                                   "swap_lines"]))
        at = rng.randrange(len(data)) if data else 0
        if op == "flip" and data:
            data[at] ^= 1 << rng.randrange(8)
        elif op == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + rng.randint(1, 64)]
        elif op == "duplicate" and data:
            start = rng.randrange(len(data))
            data[at:at] = data[start:start + rng.randint(1, 200)]
        elif op == "swap_lines":
            lines = bytes(data).split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def fuzz_input(seeds: list[bytes]):
    """Raw bytes (one in five) or a mutation of a seed."""
    return st.one_of(st.binary(max_size=4096), mutated(seeds), mutated(seeds), mutated(seeds),
                     mutated(seeds))


# ---- checks -------------------------------------------------------------------------------


def _known_vcf_bug(exc: BaseException) -> bool:
    if STRICT:
        return False
    frames = [f.filename.replace(os.sep, "/") for f in traceback.extract_tb(exc.__traceback__)]
    ours = [f for f in frames if "/lesiontrack/" in f]
    if not ours or not any(f.endswith("lesiontrack/io/vcf.py") for f in ours):
        return False  # not raised while the VCF reader runs
    innermost = ours[-1].rsplit("/", 1)[-1]
    return any(isinstance(exc, kind) and re.search(pattern, str(exc)) and innermost == where
               for kind, pattern, where in KNOWN_VCF_BUGS)


def only_lesiontrack_errors(read, *, vcf: bool = False):
    """Run ``read()``; a LesionTrackError is fine (one line, naming the file); any other
    exception escapes, except a known VCF-reader bug (not in strict mode)."""
    try:
        return read()
    except LesionTrackError as exc:
        assert "\n" not in exc.one_line()
        assert exc.file, exc.one_line()
        return None
    except Exception as exc:
        if vcf and _known_vcf_bug(exc):
            return None
        raise


def check_raw_calls(result) -> None:
    """What a reader returns: the raw columns, and no impossible number."""
    calls = result.calls
    assert list(calls.columns) == RAW_COLUMNS
    assert calls["pos"].dtype == np.int64
    alt, depth = calls["alt_count"].to_numpy(float), calls["depth"].to_numpy(float)
    assert not (alt < 0).any() and not (depth < 0).any()
    both = ~np.isnan(alt) & ~np.isnan(depth)
    assert not (alt[both] > depth[both]).any()
    assert set(calls["ref"]).isdisjoint({""}) and set(calls["alt"]).isdisjoint({""})


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder where the fixtures' calls files are reachable as vcf/... and maf/...
    (so that a damaged copy of the demo sample sheet gets past the file checks)."""
    path = tmp_path_factory.mktemp("fuzz")
    for sub in ("vcf", "maf", "bam"):
        (path / sub).symlink_to(FIXTURES / sub, target_is_directory=True)
    return path


@pytest.fixture(autouse=True)
def quiet_logger():
    """Readers' warnings are not what is tested here; keep the output short."""
    logger = logging.getLogger("lesiontrack")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


# ---- the targets --------------------------------------------------------------------------


@FUZZ
@given(data=fuzz_input([SHEET_SEED]))
def test_fuzz_samplesheet(folder, data):
    path = folder / "sheet.tsv"
    path.write_bytes(data)
    sheet = only_lesiontrack_errors(lambda: read_samplesheet(path))
    if sheet is not None:
        assert not sheet.empty
        assert set(sheet["status"]) <= {"progressive", "controlled", "baseline", "unknown"}
        assert all(Path(p).is_file() for p in sheet["calls_path"])


@FUZZ
@given(data=fuzz_input(VCF_SEEDS), regions=st.sampled_from([None, KIT_AND_PDGFRA]))
def test_fuzz_vcf_text(folder, data, regions):
    path = folder / "calls.vcf"
    path.write_bytes(data)
    result = only_lesiontrack_errors(lambda: read_calls_file(path, regions=regions), vcf=True)
    if result is not None:
        check_raw_calls(result)


@settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))
@given(data=mutated(BGZF_SEEDS), regions=st.sampled_from([None, KIT_AND_PDGFRA]),
       index=st.booleans())
def test_fuzz_vcf_bgzip_bytes(folder, data, regions, index):
    path = folder / "calls.vcf.gz"
    path.write_bytes(data)
    tbi = folder / "calls.vcf.gz.tbi"
    tbi.unlink(missing_ok=True)
    if index:  # the fixture's index, valid for the undamaged file only
        with contextlib.suppress(OSError):
            tbi.write_bytes((FIXTURES / "vcf" / "GIST01.mutect2.vcf.gz.tbi").read_bytes())
    previous = pysam.set_verbosity(0)
    try:
        result = only_lesiontrack_errors(lambda: read_calls_file(path, regions=regions),
                                         vcf=True)
    finally:
        pysam.set_verbosity(previous)
    if result is not None:
        check_raw_calls(result)


@FUZZ
@given(data=fuzz_input(MAF_SEEDS), through=st.sampled_from(["read_maf", "read_calls_file"]))
def test_fuzz_maf(folder, data, through):
    path = folder / "calls.maf"
    path.write_bytes(data)
    reader = read_maf if through == "read_maf" else read_calls_file
    result = only_lesiontrack_errors(lambda: reader(path, regions=None), vcf=True)
    if result is not None:
        check_raw_calls(result)
        known = ~np.isnan(result.calls["vaf"].to_numpy(float))
        assert ((result.calls["vaf"].to_numpy(float)[known] >= 0)
                & (result.calls["vaf"].to_numpy(float)[known] <= 1)).all()


@FUZZ
@given(data=fuzz_input(TSV_SEEDS), through=st.sampled_from(["read_tsv", "read_calls_file"]))
def test_fuzz_tsv(folder, data, through):
    path = folder / "calls.tsv"
    path.write_bytes(data)
    reader = read_tsv if through == "read_tsv" else read_calls_file
    result = only_lesiontrack_errors(lambda: reader(path, regions=None), vcf=True)
    if result is not None:
        check_raw_calls(result)
        vaf = result.calls["vaf"].to_numpy(float)
        assert ((vaf[~np.isnan(vaf)] >= 0) & (vaf[~np.isnan(vaf)] <= 1)).all()


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 1))
@given(data=mutated([SHEET_SEED]))
def test_fuzz_command_on_a_damaged_sample_sheet(folder, data):
    """The whole command: exit 0, or exit 2 with one error line; never exit 1 (a bug)."""
    path = folder / "sheet.tsv"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["classify", str(path), "--genes", "KIT,PDGFRA"])
    errors = [line for line in err.getvalue().splitlines() if "error" in line]
    assert code in (0, 2), err.getvalue()
    if code == 2:
        assert len(errors) == 1 and errors[0].startswith("lesiontrack: error: "), errors
    else:
        assert errors == [] and out.getvalue().startswith("patient_id\t")
