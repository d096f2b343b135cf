"""Read somatic VCF/BCF calls: one row per (sample column, record, ALT allele).

Handles plain, bgzipped (indexed or not) and plain-gzip VCF and BCF. Two engines feed the same
counting code (:class:`_Calls`): ``pysam`` reads records through htslib (every file, every
record); the text path (:mod:`lesiontrack.io.fastvcf`, used by default when gene windows are
given) reads only the windows' lines of a VCF, through its tabix/CSI index or with one
vectorised scan of the file, and gives exactly the same rows and notes. Per-sample allele counts
follow the caller's own FORMAT fields:

============================  =============  ==================  ============================
caller (FORMAT keys)          alt_count      depth               vaf / caller_vaf
============================  =============  ==================  ============================
mutect2 (AD, AF Number=A)     AD[i]          sum(AD)             alt/depth; caller_vaf AF[i-1]
mutect1 (AD, FA)              AD[i]          sum(AD)             alt/depth; caller_vaf FA
radia (AD, AF Number=.)       AD[i]          sum(AD)             alt/depth; caller_vaf AF[i]
generic_ad (AD)               AD[i]          sum(AD)             alt/depth
strelka2_snv (AU,CU,GU,TU)    {ALT}U[0]      {REF}U[0]+{ALT}U[0] alt/depth
strelka2_indel (TAR, TIR)     TIR[0]         TAR[0]+TIR[0]       alt/depth
varscan2 (RD, AD, FREQ)       AD             RD+AD               alt/depth; caller_vaf FREQ/100
freebayes (RO, AO)            AO[i-1]        RO+sum(AO)          alt/depth
deepvariant (AD, DP, VAF)     AD[i]          DP                  VAF[i-1] (also caller_vaf)
============================  =============  ==================  ============================

``i`` is the allele index (1 for the first ALT). When a count the depth is built from is missing
(``AD=.,21``) the depth falls back to FORMAT/DP; a missing value is NaN, never 0.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from ..errors import CallsFileError
from ..genome import assembly_from_chr4_length, normalize_assembly
from ..genome import normalize_chrom as _normalize_chrom
from ..variants import is_simple_allele, minimal
from . import (
    COMPRESSION_ERRORS,
    NUMERIC_COLUMNS,
    RAW_COLUMNS,
    ReadResult,
    empty_calls,
    open_text,
)
from .annotations import (
    EMPTY,
    SNPEFF_FIELDS,
    Annotation,
    AnnotationFormat,
    choose,
    formats_from_header,
)
from .bgzf import BGZF_EOF
from .vcfindex import index_path

log = logging.getLogger("lesiontrack")

#: Contig names repeat from file to file: remember their normalised form.
normalize_chrom = functools.lru_cache(maxsize=1 << 16)(_normalize_chrom)
NAN = float("nan")
Region = tuple[str, int, int]
Values = list[float | None]

#: Build names that a ``##reference=`` line may mention.
_REFERENCE_BUILD = re.compile(
    r"(?<![a-z0-9])(hg19|hg38|grch37|grch38|b37|b38|hs37d5|hs38dh|g1k_v37|assembly19|assembly38)"
    r"(?![0-9])",
    re.IGNORECASE,
)
_EXTRA_BUILDS = {"hs38dh": "GRCh38", "g1k_v37": "GRCh37", "assembly19": "GRCh37",
                 "assembly38": "GRCh38"}
_TUMOR_COLUMNS = ("TUMOR", "TUMOR_SAMPLE")
_NORMAL_COLUMNS = ("NORMAL", "NORMAL_SAMPLE")
PLAIN_GZIP_NOTE = (
    "plain gzip (not bgzip): read as a stream without an index; recompress with "
    "'bgzip' and index with 'tabix -p vcf' to read only the gene regions"
)
NO_SAMPLES_NOTE = "no sample columns (sites-only VCF): no per-sample allele counts to read"
#: Most ALT alleles one record may have (real records have a handful; thousands are a corrupt
#: or hostile file).
MAX_ALT_ALLELES = 1000
#: FORMAT fields holding read counts: negative values are impossible.
_COUNT_KEYS = frozenset({"AD", "DP", "RD", "RO", "AO", "TAR", "TIR", "AU", "CU", "GU", "TU"})


# --------------------------------------------------------------------------------------------
# Small helpers


def _compression(path: Path) -> str:
    """``bgzf``, ``gzip`` (plain, not blocked) or ``none``."""
    try:
        with path.open("rb") as probe:
            head = probe.read(18)
    except FileNotFoundError as exc:
        raise CallsFileError("file not found", file=path) from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc
    if head[:2] != b"\x1f\x8b":
        return "none"
    # htslib takes a file for BGZF only with a well-formed "BC" extra subfield (SLEN 2)
    if len(head) >= 18 and head[3] & 4 and head[12:16] == b"BC\x02\x00":
        return "bgzf"
    return "gzip"


def _numbers(raw: object, percent: bool = False) -> Values:
    """A pysam FORMAT value (number, tuple, or text for undeclared tags) as a list of floats.

    Missing values (``.``) are None. Raises ValueError on text that is not a number.
    """
    items = raw if isinstance(raw, tuple) else (raw,)
    out: Values = []
    for item in items:
        if item is None:
            out.append(None)
        elif isinstance(item, str):
            for piece in item.split(","):
                piece = piece.strip()
                if piece in ("", "."):
                    out.append(None)
                else:
                    out.append(float(piece[:-1] if percent and piece.endswith("%") else piece))
        elif isinstance(item, float):
            out.append(float(f"{item:.7g}"))  # pysam gives float32 values: 0.998 not 0.99800002
        else:
            out.append(float(item))
    return out


def _first(values: Values | None) -> float | None:
    return values[0] if values else None


def _total(values: list[float | None]) -> float | None:
    """Sum of the values, None when any is missing."""
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def _fraction(values: Values | None, j: int, n_alleles: int) -> float | None:
    """The ALT ``j`` (0-based) entry of a per-ALT (Number=A) or per-allele (REF first) list."""
    if not values:
        return None
    if len(values) == n_alleles - 1:
        return values[j]
    if len(values) == n_alleles:
        return values[j + 1]
    return None


def _merge_windows(regions: list[Region]) -> dict[str, list[tuple[int, int]]]:
    """Windows by normalised contig, sorted and with overlapping/adjacent ones merged."""
    by_chrom: dict[str, list[tuple[int, int]]] = {}
    for chrom, start, end in regions:
        by_chrom.setdefault(normalize_chrom(chrom), []).append((int(start), int(end)))
    merged: dict[str, list[tuple[int, int]]] = {}
    for chrom, windows in by_chrom.items():
        out: list[tuple[int, int]] = []
        for start, end in sorted(windows):
            if out and start <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[chrom] = out
    return merged


def _record_span(rec: pysam.VariantRecord) -> tuple[int, int]:
    """1-based (first, last) base of the record: its REF span (or INFO/END when longer)."""
    start = rec.pos
    return start, max(start + len(rec.ref or "N") - 1, rec.stop)


def detect_caller(keys: set[str] | frozenset[str], af_number: str | None = None) -> str:
    """The caller / count convention of a record from its FORMAT keys."""
    if "TAR" in keys and "TIR" in keys:
        return "strelka2_indel"
    if {"AU", "CU", "GU", "TU"} <= keys:
        return "strelka2_snv"
    if "RD" in keys and "FREQ" in keys:
        return "varscan2"
    if "RO" in keys and "AO" in keys:
        return "freebayes"
    if "VAF" in keys:
        return "deepvariant"
    if "FA" in keys and "AD" in keys:
        return "mutect1"
    if "AF" in keys and "AD" in keys:
        return "radia" if af_number == "." else "mutect2"
    if "AD" in keys:
        return "generic_ad"
    return "unknown"


class _TextPipe:
    """A VCF's text (plain, gzip or BGZF) pumped by a thread into a pipe pysam reads as a stream,
    through a :class:`~lesiontrack.io.bounded.LineGuard`: decompression is bounded (1 MiB at a
    time) and a line longer than :data:`~lesiontrack.io.bounded.MAX_LINE_BYTES` stops the
    stream with an error, before htslib would hold it whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: BaseException | None = None
        read_fd, write_fd = os.pipe()
        self.handle = os.fdopen(read_fd, "rb")
        self._thread = threading.Thread(target=self._pump, args=(write_fd,), daemon=True)
        self._thread.start()

    def _pump(self, write_fd: int) -> None:
        from .bounded import LineGuard, open_binary

        guard = LineGuard(self.path, what="VCF")
        try:
            with os.fdopen(write_fd, "wb") as sink, open_binary(self.path) as source:
                while chunk := source.read(1 << 20):
                    guard.feed(chunk)
                    sink.write(chunk)
        except BrokenPipeError:  # the reader stopped early: not an error of the file
            pass
        except Exception as exc:  # truncated or corrupt gzip, a line too long: for the reader
            self.error = exc

    def stop(self) -> BaseException | None:
        """Close the reading end, wait for the thread; the pump's error, if any."""
        self.handle.close()
        self._thread.join()
        return self.error


def _bounded_lines(handle) -> Iterator:
    """The lines of a text or binary handle, each read at most
    :data:`~lesiontrack.io.bounded.MAX_LINE_BYTES` (+1) long; stops at a longer one (these
    loops only look for where an error is)."""
    from .bounded import MAX_LINE_BYTES

    while line := handle.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:
            return
        yield line


def _is_bcf(path: Path) -> bool:
    from .bounded import open_binary

    try:
        with open_binary(path) as handle:
            return handle.read(4) == b"BCF\x02"
    except (OSError, EOFError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# What the reader takes from the header (the same from pysam's header or the fast text parser)


@dataclass
class HeaderFields:
    """The header facts the reader uses, whichever parser read them."""

    samples: list[str]
    formats: dict[str, tuple[str, str]]  # FORMAT ID -> (Number, Type), first definition wins
    info_descriptions: dict[str, str]  # INFO ID -> Description ("" when none)
    contigs: list[tuple[str, int | None]]  # (ID, length) in header order
    generic: list[tuple[str, str]]  # every ``##key=value`` line that is not ``<...>``
    contig_attributes: Callable[[str], dict[str, str]]  # a contig's ``<...>`` attributes


def header_fields_from_pysam(header: pysam.VariantHeader) -> HeaderFields:
    """:class:`HeaderFields` of a header htslib has parsed."""
    contigs = header.contigs

    def attributes(name: str) -> dict[str, str]:
        try:
            return dict(contigs[name].header_record)
        except (AttributeError, TypeError, ValueError, KeyError):  # pragma: no cover - defensive
            return {}

    return HeaderFields(
        samples=list(header.samples),
        formats={key: (str(meta.number), str(meta.type)) for key, meta in header.formats.items()},
        info_descriptions={key: (meta.description or "") for key, meta in header.info.items()},
        contigs=[(name, contig.length) for name, contig in contigs.items()],
        generic=[(str(r.key), str(r.value)) for r in header.records if r.type == "GENERIC"],
        contig_attributes=attributes,
    )


def _assembly(fields: HeaderFields) -> tuple[str | None, str]:
    """The build the header names: chr4 ``##contig`` length, ``##reference``, contig assembly."""
    # chr4 first (as written: "4", "chr4"...), then the others in header order
    fours = [(n, length) for n, length in fields.contigs if "4" in n and normalize_chrom(n) == "4"]
    for name, length in fours:
        assembly = assembly_from_chr4_length(length)
        if assembly:
            return assembly, f"##contig {name} length {length}"
    for key, value in fields.generic:
        if key != "reference":
            continue
        match = _REFERENCE_BUILD.search(value)
        if match:
            token = match.group(1).lower()
            assembly = _EXTRA_BUILDS.get(token) or normalize_assembly(token)
            if assembly:
                return assembly, f"##reference={value}"
    names = [n for n, _ in fours]
    names += [n for n, _ in fields.contigs if not ("4" in n and normalize_chrom(n) == "4")]
    for name in names:
        attributes = fields.contig_attributes(name)
        assembly = normalize_assembly(attributes.get("assembly"))
        if assembly:
            return assembly, f"##contig {name} assembly={attributes['assembly']}"
    return None, ""


# --------------------------------------------------------------------------------------------
# One record, as the counting code sees it


class _PysamRecord:
    """A pysam record behind the small interface :meth:`_Calls.add` uses."""

    __slots__ = ("alts", "chrom", "filter_text", "pos", "rec", "ref")

    def __init__(self, rec: pysam.VariantRecord) -> None:
        self.rec = rec
        filters = list(rec.filter.keys())
        self.filter_text = ";".join(filters) if filters else "."
        self.chrom = rec.chrom
        self.pos = rec.pos
        self.ref = rec.ref or ""
        self.alts = rec.alts or ()

    def format_keys(self) -> tuple[str, ...]:
        return tuple(self.rec.format.keys())

    def info(self, tag: str) -> object:
        """The raw INFO value, None when absent or unreadable."""
        rec = self.rec
        if tag not in rec.info:
            return None
        try:
            return rec.info[tag]
        except (KeyError, ValueError):
            return None

    def numbers(self, index: int, key: str, percent: bool) -> Values:
        """A sample's FORMAT value as floats (None for missing); ValueError/TypeError if not."""
        return _numbers(self.rec.samples[index][key], percent=percent)


# --------------------------------------------------------------------------------------------
# The rows of one file: header facts, the per-caller counting rules, notes


class _Calls:
    """Collects rows from records of one file. Every engine feeds records through :meth:`add`
    so that the caller rules live in one place."""

    def __init__(self, path: Path, include_filtered: bool, shown: Path | None = None) -> None:
        self.path = path
        self.shown = shown or path  # the file named in the log: the input, for a repaired copy
        self.include_filtered = include_filtered
        self.n_read = 0  # records read from the file (any > 0 is what the notes need)
        self.notes: dict[str, str] = {}
        self.invalid_alts: Counter[str] = Counter()
        self.bad_ad_records: list[str] = []
        self.undeclared_formats: set[str] = set()
        self.undeclared_contigs: set[str] = set()
        self._format_cache: dict[tuple[str, ...], str] = {}
        self.columns: dict[str, list] = {c: [] for c in RAW_COLUMNS}
        self.samples: list[str] = []
        self.declared_formats: set[str] = set()
        self.format_types: dict[str, str] = {}
        self.format_numbers: dict[str, str] = {}
        self.declared_contigs: set[str] = set()
        self.af_number: str | None = None
        self.ann_formats: list[AnnotationFormat] = []

    # -- header ------------------------------------------------------------------------------

    def read_header(self, fields: HeaderFields, result: ReadResult) -> None:
        self.samples = list(fields.samples)
        self.declared_formats = set(fields.formats)
        self.format_types = {key: kind for key, (_, kind) in fields.formats.items()}
        self.format_numbers = {key: number for key, (number, _) in fields.formats.items()}
        self.declared_contigs = {name for name, _ in fields.contigs}
        self.af_number = fields.formats["AF"][0] if "AF" in fields.formats else None
        generic = fields.generic
        sources = " ".join(v for k, v in generic if k == "source")
        if "RADIA" in sources.upper() and self.af_number in (".", None):
            self.af_number = "."
        self.ann_formats = formats_from_header(fields.info_descriptions)
        if not any(spec.tag == "ANN" for spec in self.ann_formats):  # undeclared ANN: fixed order
            spec = AnnotationFormat.from_fields("ANN", SNPEFF_FIELDS)
            if spec is not None:
                self.ann_formats.append(spec)

        result.samples = list(self.samples)
        values = dict(reversed(generic))  # first occurrence wins
        result.tumor_sample = values.get("tumor_sample")
        result.normal_sample = values.get("normal_sample")
        upper = {s.upper(): s for s in self.samples}
        if result.tumor_sample is None:
            result.tumor_sample = next((upper[n] for n in _TUMOR_COLUMNS if n in upper), None)
        if result.normal_sample is None:
            result.normal_sample = next((upper[n] for n in _NORMAL_COLUMNS if n in upper), None)
        result.assembly_hint, result.assembly_evidence = _assembly(fields)

    # -- one record ----------------------------------------------------------------------------

    def _caller(self, keys: tuple[str, ...]) -> str:
        caller = self._format_cache.get(keys)
        if caller is None:
            caller = detect_caller(frozenset(keys), self.af_number)
            self._format_cache[keys] = caller
            self.undeclared_formats.update(k for k in keys if k not in self.declared_formats)
            if caller == "unknown" and keys and "unknown_counts" not in self.notes:
                self.notes["unknown_counts"] = (
                    f"no allele-count FORMAT fields recognised (FORMAT {':'.join(keys)}); "
                    "alt_count and vaf are unknown"
                )
        return caller

    def _annotations(self, rec, ref: str, alts: tuple[str, ...]) -> list[Annotation] | None:
        result: list[Annotation] | None = None
        for spec in self.ann_formats:
            raw = rec.info(spec.tag)
            if raw is None:
                continue
            chosen = choose(spec, raw, rec.pos, ref, alts)
            if result is None:
                result = chosen
            else:
                result = [a if a != EMPTY else b for a, b in zip(result, chosen, strict=True)]
        return result

    def add(self, rec) -> None:
        """Add the rows of one record (a :class:`_PysamRecord` or a fast-path text record)."""
        filter_text = rec.filter_text
        if filter_text not in ("PASS", ".") and not self.include_filtered:
            return
        alts = rec.alts
        if not alts:
            return
        ref = rec.ref
        chrom = rec.chrom
        if len(alts) > MAX_ALT_ALLELES:
            raise CallsFileError(
                f"{len(alts):,} ALT alleles in one record (at most {MAX_ALT_ALLELES:,})",
                file=self.path, where=f"record {chrom}:{rec.pos}", field="ALT",
                hint="is the file corrupt?",
            )
        if self.declared_contigs and chrom not in self.declared_contigs:
            self.undeclared_contigs.add(chrom)
        alleles = []
        for j, alt in enumerate(alts):
            if not (is_simple_allele(alt) and is_simple_allele(ref)):
                self.invalid_alts[alt if is_simple_allele(ref) else f"{ref}>{alt}"] += 1
                continue
            if alt.upper() == ref.upper():
                continue
            mpos, mref, malt = minimal(rec.pos, ref, alt)
            if mref == malt:
                continue
            alleles.append((j, mpos, mref, malt, alt.upper()))
        if not alleles:
            return
        keys = rec.format_keys()
        caller = self._caller(keys)
        annotations = self._annotations(rec, ref, alts) if self.ann_formats else None
        where = f"record {chrom}:{rec.pos}"
        n_alleles = len(alts) + 1
        key_set = frozenset(keys)
        ref_upper = ref.upper()
        cols = self.columns
        for index, sample in enumerate(self.samples):
            cache: dict[str, Values | None] = {}

            def get(
                key: str, *, percent: bool = False, total: bool = False, index=index,
                cache=cache, sample=sample
            ) -> Values | None:
                if total:  # the sum of the values (None when one is missing), once per sample
                    name = key + "+"
                    if name not in cache:
                        values = get(key)
                        cache[name] = None if values is None else _total(values)
                    return cache[name]
                if key in cache:
                    return cache[key]
                values = None
                if key in key_set:
                    try:
                        values = rec.numbers(index, key, percent)
                    except (ValueError, TypeError, KeyError) as exc:
                        raise CallsFileError(
                            f"FORMAT value is not a number ({exc})", file=self.path,
                            where=where, field=key, hint=f"sample {sample}",
                        ) from exc
                    if key in _COUNT_KEYS:
                        for value in values:
                            if value is not None and value < 0:
                                raise CallsFileError(
                                    f"negative read count {value:g} for sample {sample}",
                                    file=self.path, where=where, field=key,
                                )
                cache[key] = values
                return values

            for j, mpos, mref, malt, alt_upper in alleles:
                alt_count, depth, caller_vaf, vaf, fields = self._counts(
                    caller, get, j, n_alleles, ref_upper, alt_upper, where
                )
                if alt_count is not None and depth is not None and alt_count > depth:
                    raise CallsFileError(
                        f"alt count {alt_count:g} is larger than the depth {depth:g} "
                        f"({fields[0]} vs {fields[1]}) for sample {sample}",
                        file=self.path, where=where, field=fields[0],
                    )
                if vaf is None:
                    vaf = alt_count / depth if alt_count is not None and depth else caller_vaf
                ann = annotations[j] if annotations is not None else EMPTY
                cols["file_sample"].append(sample)
                cols["chrom_raw"].append(chrom)
                cols["pos"].append(mpos)
                cols["ref"].append(mref)
                cols["alt"].append(malt)
                cols["alt_count"].append(NAN if alt_count is None else alt_count)
                cols["depth"].append(NAN if depth is None else depth)
                cols["vaf"].append(NAN if vaf is None else vaf)
                cols["caller_vaf"].append(NAN if caller_vaf is None else caller_vaf)
                cols["filter"].append(filter_text)
                cols["caller"].append(caller)
                cols["ann_gene"].append(ann.gene)
                cols["ann_hgvsc"].append(ann.hgvsc)
                cols["ann_hgvsp"].append(ann.hgvsp)
                cols["ann_consequence"].append(ann.consequence)
                cols["record"].append(where)

    def _counts(
        self,
        caller: str,
        get: Callable[..., Values | None],
        j: int,
        n_alleles: int,
        ref: str,
        alt: str,
        where: str,
    ) -> tuple[float | None, float | None, float | None, float | None, tuple[str, str]]:
        """(alt_count, depth, caller_vaf, vaf or None to compute, (alt field, depth field))."""
        if caller == "strelka2_snv":
            if len(ref) != 1 or len(alt) != 1:
                return None, None, None, None, ("", "")
            alt_count = _first(get(f"{alt}U"))
            depth = _total([_first(get(f"{ref}U")), alt_count])
            if depth is None:
                depth = _first(get("DP"))
            return alt_count, depth, None, None, (f"{alt}U", f"{ref}U+{alt}U")
        if caller == "strelka2_indel":
            alt_count = _first(get("TIR"))
            depth = _total([_first(get("TAR")), alt_count])
            if depth is None:
                depth = _first(get("DP"))
            return alt_count, depth, None, None, ("TIR", "TAR+TIR")
        if caller == "varscan2":
            ad = get("AD")  # alt-only counts, one per ALT
            if ad and len(ad) == n_alleles - 1:
                alt_count = ad[j]
                depth = _total([_first(get("RD")), get("AD", total=True)])
            else:
                alt_count = depth = None
            if depth is None:
                depth = _first(get("DP"))
            freq = get("FREQ", percent=True)
            caller_vaf = _fraction(freq, j, n_alleles)
            if caller_vaf is None and freq and len(freq) == 1:
                caller_vaf = freq[0]
            return (alt_count, depth, None if caller_vaf is None else caller_vaf / 100, None,
                    ("AD", "RD+AD"))
        if caller == "freebayes":
            ao = get("AO")
            alt_count = ao[j] if ao and len(ao) == n_alleles - 1 else None
            depth = _total([_first(get("RO")), get("AO", total=True) if ao else None])
            if depth is None:
                depth = _first(get("DP"))
            return alt_count, depth, None, None, ("AO", "RO+AO")
        if caller == "unknown":
            return None, _first(get("DP")), None, None, ("", "DP")

        # AD-based callers
        ad = get("AD")
        dp = _first(get("DP"))
        alt_count: float | None = None
        depth: float | None = dp
        depth_field = "DP"
        if ad and any(v is not None for v in ad):
            declared = self.format_numbers.get("AD")
            if len(ad) == n_alleles:
                alt_count = ad[j + 1]
                total = get("AD", total=True)
                if total is not None:
                    depth, depth_field = total, "AD"
                if declared not in (None, "R", ".") and "ad_number" not in self.notes:
                    self.notes["ad_number"] = (
                        f"FORMAT/AD is declared Number={declared} but written with one value "
                        "per allele (REF first); read as Number=R"
                    )
            elif len(ad) == 1 and n_alleles == 2 and declared in ("1", "A"):
                alt_count = ad[0]  # alt-only AD, as its declaration says
            else:
                self.bad_ad_records.append(where)
        if caller == "deepvariant":
            if dp is not None:
                depth, depth_field = dp, "DP"
            vaf = _fraction(get("VAF"), j, n_alleles)
            return alt_count, depth, vaf, vaf, ("AD", depth_field)
        caller_vaf = None
        if caller in ("mutect2", "radia"):
            caller_vaf = _fraction(get("AF"), j, n_alleles)
        elif caller == "mutect1":
            caller_vaf = _fraction(get("FA"), j, n_alleles)
        return alt_count, depth, caller_vaf, None, ("AD", depth_field)

    # -- result ------------------------------------------------------------------------------

    def frame(self) -> pd.DataFrame:
        cols = self.columns
        n = len(cols["pos"])
        if not n:
            return _empty_frame()
        arrays: list[np.ndarray] = []
        for column in RAW_COLUMNS:
            values = cols[column]
            if column == "pos":
                arrays.append(np.array(values, dtype=np.int64))
            elif column in NUMERIC_COLUMNS:
                arrays.append(np.array(values, dtype=np.float64))
            else:
                array = np.empty(n, dtype=object)
                array[:] = values
                arrays.append(array)
        return _frame(arrays, n)

    def finish_notes(self) -> list[str]:
        if not self.declared_contigs and self.n_read:
            self.notes["no_contigs"] = "the header has no ##contig lines"
        if self.undeclared_contigs:
            names = ", ".join(sorted(self.undeclared_contigs))
            self.notes["undeclared_contigs"] = f"contig(s) not declared in the header: {names}"
        if self.undeclared_formats:
            names = ", ".join(sorted(self.undeclared_formats))
            self.notes["undeclared_formats"] = (
                f"FORMAT tag(s) not declared in the header: {names} (values parsed from text)"
            )
        if self.invalid_alts:
            total = sum(self.invalid_alts.values())
            examples = ", ".join(repr(a) for a, _ in self.invalid_alts.most_common(3))
            self.notes["invalid_alts"] = (
                f"skipped {total} ALT allele(s) that are not plain bases (e.g. {examples})"
            )
        if self.bad_ad_records:
            self.notes["ad_length"] = (
                f"FORMAT/AD does not have one value per allele in {len(self.bad_ad_records)} "
                f"sample value(s) (first at {self.bad_ad_records[0]}); alt counts left unknown"
            )
        for message in self.notes.values():
            log.warning("%s: %s", self.shown, message)
        return list(self.notes.values())

    def finish(self, result: ReadResult) -> ReadResult:
        """Fill ``result`` with the rows, the file's caller and the notes."""
        result.calls = self.frame()
        callers = Counter(self.columns["caller"])
        if callers:
            result.caller = callers.most_common(1)[0][0]
        else:
            result.caller = detect_caller(frozenset(self.declared_formats), self.af_number)
        result.warnings = self.finish_notes()
        return result


def _frame(arrays: list[np.ndarray], n: int) -> pd.DataFrame:
    """A frame of :data:`RAW_COLUMNS` from one typed array per column, built from its three
    blocks (text, floats, positions) directly: pandas' constructors check and convert every
    column again, which costs more than reading a small indexed region. Falls back to the
    public constructor if pandas' internals differ."""
    try:
        return _frame_from_blocks(arrays, n)
    except Exception:  # pragma: no cover - another pandas: the slow, public way
        return pd.DataFrame(dict(zip(RAW_COLUMNS, arrays, strict=True)), columns=RAW_COLUMNS)


_OBJECT_AT = [i for i, c in enumerate(RAW_COLUMNS) if c != "pos" and c not in NUMERIC_COLUMNS]
_FLOAT_AT = [i for i, c in enumerate(RAW_COLUMNS) if c in NUMERIC_COLUMNS]
_POS_AT = [RAW_COLUMNS.index("pos")]
_COLUMNS_INDEX = pd.Index(RAW_COLUMNS)


def _frame_from_blocks(arrays: list[np.ndarray], n: int) -> pd.DataFrame:
    from pandas._libs.internals import BlockPlacement
    from pandas.core.internals import BlockManager
    from pandas.core.internals.blocks import new_block

    text = np.empty((len(_OBJECT_AT), n), dtype=object)
    for row, i in enumerate(_OBJECT_AT):
        text[row] = arrays[i]
    numbers = np.vstack([arrays[i] for i in _FLOAT_AT])
    blocks = (
        new_block(text, BlockPlacement(_OBJECT_AT), ndim=2),
        new_block(numbers, BlockPlacement(_FLOAT_AT), ndim=2),
        new_block(arrays[_POS_AT[0]].reshape(1, n), BlockPlacement(_POS_AT), ndim=2),
    )
    manager = BlockManager(blocks, [_COLUMNS_INDEX, pd.RangeIndex(n)], verify_integrity=False)
    return pd.DataFrame._from_mgr(manager, axes=manager.axes)


_EMPTY_FRAME: pd.DataFrame | None = None


def _empty_frame() -> pd.DataFrame:
    """:func:`empty_calls`, built once and copied (building it takes longer than reading a
    small indexed region)."""
    global _EMPTY_FRAME
    if _EMPTY_FRAME is None:
        _EMPTY_FRAME = empty_calls()
    return _EMPTY_FRAME.copy(deep=False)  # no rows to share: a new frame, same dtypes


# --------------------------------------------------------------------------------------------
# The pysam engine


class _VcfReader(_Calls):
    """Reads records with pysam/htslib: every file htslib reads, with its error messages."""

    def __init__(self, path: Path, regions: list[Region] | None, include_filtered: bool,
                 shown: Path | None = None) -> None:
        super().__init__(path, include_filtered, shown)
        self.regions = regions
        self.vf: pysam.VariantFile | None = None
        self.pipe: _TextPipe | None = None
        self.compression = "none"
        self.streaming = True  # records read in file order (line numbers are meaningful)
        self.last = ""  # last record returned, "chrom:pos"

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> pysam.VariantFile:
        self.compression = _compression(self.path)
        if self.compression == "gzip":
            self.notes["plain_gzip"] = PLAIN_GZIP_NOTE
        if self._piped():
            self.pipe = _TextPipe(self.path)
        try:
            source = self.pipe.handle if self.pipe is not None else str(self.path)
            self.vf = pysam.VariantFile(source)
        except (OSError, ValueError, TypeError) as exc:  # TypeError: pysam naming a stream
            raise self._open_error(exc) from exc
        return self.vf

    def _piped(self) -> bool:
        """Whether htslib reads the text through a :class:`_TextPipe` (every VCF read whole,
        in file order: plain gzip always, plain text and BGZF unless an index serves the
        windows) rather than the file itself (an indexed query, a BCF)."""
        if self.compression == "gzip":
            return True
        if self.regions is not None and index_path(self.path) is not None:
            return False
        if self.compression == "bgzf":
            if _is_bcf(self.path):
                return False
            with self.path.open("rb") as handle:  # htslib's check, kept: a cut copy is named
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 28))
                if handle.read(28) != BGZF_EOF:
                    raise CallsFileError(
                        "the compressed file is truncated (no BGZF end-of-file block)",
                        file=self.path,
                        hint="the copy or the pipeline step that wrote it was interrupted",
                    )
        return self.compression in ("bgzf", "none")

    def close(self) -> None:
        if self.vf is not None:
            self.vf.close()
        if self.pipe is not None:
            self.pipe.stop()

    def _gzip_failure(self) -> CallsFileError | None:
        """After a failure: the piped stream's own error, if that is the cause."""
        if self.pipe is None:
            return None
        if self.vf is not None:
            self.vf.close()
        error = self.pipe.stop()
        if error is None:
            return None
        if isinstance(error, CallsFileError):
            return error
        where = f"after record {self.last}" if self.last else None
        if self.compression == "none":
            return CallsFileError(f"cannot read the file ({error})", file=self.path, where=where)
        if self.compression == "bgzf":
            return CallsFileError(
                f"the compressed file is truncated or corrupt ({error})", file=self.path,
                where=where, hint="the copy or the pipeline step that wrote it was interrupted",
            )
        return CallsFileError(
            f"truncated or corrupt gzip file ({error})", file=self.path, where=where,
            hint="check the copy of the file; recompress it with bgzip",
        )

    def _open_error(self, exc: Exception) -> CallsFileError:
        gz = self._gzip_failure()
        if gz is not None:
            return gz
        text = str(exc)
        if "EOF marker" in text or "truncated" in text:
            return CallsFileError(
                "the compressed file is truncated (no BGZF end-of-file block)", file=self.path,
                hint="the copy or the pipeline step that wrote it was interrupted",
            )
        line_no, first_line = self._first_body_line()
        if line_no == 0 and first_line == "":
            return CallsFileError(
                "no #CHROM header line (the file is empty or has only ## meta lines)",
                file=self.path, hint="the VCF header must end with the #CHROM line",
            )
        if first_line is None:
            return CallsFileError(
                "not a VCF or BCF file (htslib cannot read it)", file=self.path, where=1,
                hint="give a VCF (plain or bgzipped) or BCF file",
            )
        if not first_line.startswith("##") and not first_line.startswith("#CHROM"):
            if line_no == 1 and not first_line.startswith("#"):
                return CallsFileError(
                    "not a VCF file (no ##fileformat=VCF header)", file=self.path, where=1,
                    hint="give a VCF (plain or bgzipped) or BCF file",
                )
            chrom_line = self._chrom_line_after(line_no)
            if chrom_line:  # the header goes on: this line is what breaks it
                shown = first_line if len(first_line) <= 60 else first_line[:57] + "..."
                return CallsFileError(
                    f"a header line that is neither a ## meta line nor the #CHROM line (which "
                    f"is at line {chrom_line}): {shown!r}", file=self.path, where=line_no,
                    hint="every line above #CHROM must start with '##'",
                )
            return CallsFileError(
                "no #CHROM header line before the first record", file=self.path, where=line_no,
                hint="the VCF header must end with the #CHROM POS ID REF ALT ... line",
            )
        return CallsFileError(
            f"invalid VCF header ({text})", file=self.path,
            hint="check the ##INFO/##FORMAT/##contig lines of the header",
        )

    def _first_body_line(self) -> tuple[int, str | None]:
        """(line number, text) of the first line that is not a ``##`` meta line, or (0, None)
        when the file cannot be read as text."""
        try:
            with open_text(self.path) as handle:
                for number, line in enumerate(_bounded_lines(handle), start=1):
                    if not line.startswith("##") or number > 100_000:
                        return number, line.rstrip("\n")
                return 0, ""
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            return 0, None

    def _chrom_line_after(self, after: int) -> int:
        """Number of the #CHROM line when it comes after line ``after`` (among the first 100,000
        lines), else 0."""
        try:
            with open_text(self.path) as handle:
                for number, line in enumerate(_bounded_lines(handle), start=1):
                    if number > after and line.startswith("#CHROM"):
                        return number
                    if number > 100_000:
                        break
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            pass
        return 0

    # -- records -----------------------------------------------------------------------------

    def records(self) -> Iterator[pysam.VariantRecord]:
        assert self.vf is not None
        if self.regions is None:
            yield from self._stream(None)
            return
        windows = _merge_windows(self.regions)
        if not windows:
            return
        if self.vf.index is not None:
            self.streaming = False
            yield from self._fetch(windows)
        else:
            yield from self._stream(windows)

    def _next(self, iterator: Iterator[pysam.VariantRecord]) -> pysam.VariantRecord | None:
        try:
            rec = next(iterator)
        except StopIteration:
            return None
        except (OSError, ValueError) as exc:
            raise self._parse_error(exc) from exc
        self.n_read += 1
        try:
            self.last = f"{rec.chrom}:{rec.pos}"
            rec.ref, rec.alts  # noqa: B018 - decoded here: the window test reads REF
        except UnicodeDecodeError as exc:
            raise self.record_error("the record is not UTF-8 text") from exc
        return rec

    def record_error(self, detail: str) -> CallsFileError:
        """An error in the record read last, named by its line when the file is read in order."""
        if self.streaming:
            line_no = self._line_of_record(self.n_read)
            if line_no:
                return CallsFileError(f"cannot parse the VCF record: {detail}", file=self.path,
                                      where=line_no)
        where = f"record {self.last}" if self.last else "first record"
        return CallsFileError(f"cannot parse the VCF record: {detail}", file=self.path,
                              where=where)

    def _line_of_record(self, number: int) -> int:
        """Line number of the ``number``-th record (bytes: the line may not be UTF-8), or 0."""
        try:
            opener = gzip.open if self.compression != "none" else open
            with opener(self.path, "rb") as handle:
                records = 0
                in_body = False  # htslib reads every line after #CHROM as a record
                for line_no, line in enumerate(_bounded_lines(handle), start=1):
                    if not in_body:
                        in_body = line.startswith(b"#CHROM")
                        continue
                    records += 1
                    if records == number:
                        return line_no
        except (OSError, EOFError, ValueError):
            return 0
        return 0

    def _stream(
        self, windows: dict[str, list[tuple[int, int]]] | None
    ) -> Iterator[pysam.VariantRecord]:
        assert self.vf is not None
        iterator = iter(self.vf)
        chrom_windows: dict[str, list[tuple[int, int]]] = {}
        while (rec := self._next(iterator)) is not None:
            if windows is not None:
                contig = rec.chrom
                wins = chrom_windows.get(contig)
                if wins is None:
                    wins = chrom_windows[contig] = windows.get(normalize_chrom(contig), [])
                if not wins:
                    continue
                first, last = _record_span(rec)
                if not any(start <= last and first <= end for start, end in wins):
                    continue
            yield rec

    def _fetch(self, windows: dict[str, list[tuple[int, int]]]) -> Iterator[pysam.VariantRecord]:
        assert self.vf is not None and self.vf.index is not None
        for contig in list(self.vf.index.keys()):
            wins = windows.get(normalize_chrom(contig))
            if not wins:
                continue
            previous_end: int | None = None
            for start, end in wins:
                try:
                    iterator = self.vf.fetch(contig, start - 1, end)
                except (OSError, ValueError) as exc:
                    raise CallsFileError(
                        f"cannot read region {contig}:{start}-{end} through the index ({exc})",
                        file=self.path, hint="re-create the index with 'tabix -p vcf'",
                    ) from exc
                while (rec := self._next(iterator)) is not None:
                    first, last = _record_span(rec)
                    if not (start <= last and first <= end):
                        continue
                    if previous_end is not None and first <= previous_end:
                        continue  # already returned by the previous window
                    yield rec
                previous_end = end

    def _parse_error(self, exc: Exception) -> CallsFileError:
        gz = self._gzip_failure()
        if gz is not None:
            return gz
        text = str(exc)
        if "truncated" in text.lower() and self.compression == "bgzf":
            detail = "the compressed file is truncated or corrupt"
        else:
            detail = f"htslib: {text}"
        after = f" (after record {self.last})" if self.last else " (first record)"
        if self.streaming and self.compression != "gzip":
            line_no, diagnosis = self._diagnose_line()
            if line_no:
                return CallsFileError(
                    f"cannot parse the VCF record{after}: {diagnosis or detail}",
                    file=self.path, where=line_no,
                )
        where = f"record after {self.last}" if self.last else "first record"
        return CallsFileError(f"cannot parse the VCF record: {detail}", file=self.path,
                              where=where)

    def _diagnose_line(self) -> tuple[int, str]:
        """Line number and a reason for the record htslib failed on (text files only)."""
        try:
            with open_text(self.path) as handle:
                number = 0
                records = 0
                in_body = False  # htslib reads every line after #CHROM as a record
                for line in _bounded_lines(handle):
                    number += 1
                    if not in_body:
                        in_body = line.startswith("#CHROM")
                        continue
                    records += 1
                    if records == self.n_read + 1:
                        return number, self._diagnose(line.rstrip("\n"))
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            return 0, ""
        return 0, ""

    def _diagnose(self, line: str) -> str:
        if line.startswith("#"):
            return ("a '#' line after the #CHROM line (a VCF has no comment lines among its "
                    "records: remove it)")
        if not line.strip():
            return "a blank line among the records (remove it)"
        fields = line.split("\t")
        if len(fields) < 8:
            return f"{len(fields)} tab-separated column(s), a VCF record needs at least 8"
        if not fields[1].strip().isdigit():
            return f"POS {fields[1]!r} is not a number"
        expected = 9 + len(self.samples) if self.samples else 8
        if self.samples and len(fields) != expected:
            return f"{len(fields)} columns where the #CHROM line has {expected}"
        if self.samples:
            keys = fields[8].split(":")
            for sample, value in zip(self.samples, fields[9:], strict=False):
                for key, item in zip(keys, value.split(":"), strict=False):
                    if self.format_types.get(key) not in ("Integer", "Float"):
                        continue
                    for piece in item.split(","):
                        if piece in ("", "."):
                            continue
                        try:
                            float(piece)
                        except ValueError:
                            return f"FORMAT/{key} value {item!r} of sample {sample} is not a number"
        return ""


# --------------------------------------------------------------------------------------------
# Entry point

#: ``engine`` values of :func:`read_vcf`.
ENGINES = ("auto", "text", "pysam")


def _read_with_pysam(path: Path, regions: list[Region] | None,
                     include_filtered: bool, shown: Path | None = None) -> ReadResult:
    reader = _VcfReader(path, regions, include_filtered, shown)
    previous = pysam.set_verbosity(0)
    try:
        vf = reader.open()
        result = ReadResult(calls=None, samples=[])  # type: ignore[arg-type]  # set by finish()
        reader.read_header(header_fields_from_pysam(vf.header), result)
        if not reader.samples:
            reader.notes["no_samples"] = NO_SAMPLES_NOTE
        else:
            n_samples = len(reader.samples)
            for rec in reader.records():
                if len(rec.samples) != n_samples:  # a record cut after its fixed columns
                    raise reader.record_error(
                        f"no sample columns (the #CHROM line names {n_samples} sample(s))"
                    )
                try:
                    reader.add(_PysamRecord(rec))
                except UnicodeDecodeError as exc:
                    raise reader.record_error("the record is not UTF-8 text") from exc
            failure = reader._gzip_failure()
            if failure is not None:
                raise failure
        return reader.finish(result)
    finally:
        with contextlib.suppress(Exception):
            reader.close()
        pysam.set_verbosity(previous)


def read_vcf(
    path: Path,
    *,
    regions: list[Region] | None,
    include_filtered: bool = False,
    engine: str = "auto",
    stop_early: bool = False,
    head: bytes | None = None,
) -> ReadResult:
    """Read a VCF/BCF (plain, bgzipped, indexed or not, or plain gzip) into raw calls.

    ``regions`` are (normalised chrom, start, end) 1-based inclusive windows, or None for every
    record; a record whose REF span overlaps a window is kept. Records whose FILTER is not PASS
    or ``.`` are dropped unless ``include_filtered``.

    ``engine``: ``"pysam"`` reads every record through htslib; ``"text"`` reads a VCF's windows
    as text (:mod:`lesiontrack.io.fastvcf`: the index, or one vectorised scan of the file), and
    raises :class:`~lesiontrack.io.bgzf.FastPathUnsupported` for a file it cannot read exactly
    as pysam does; ``"auto"`` (default) uses the text path with windows and pysam otherwise, or
    when the text path declines the file or finds an error (pysam then names the problem). Both
    engines give identical rows and notes. ``stop_early`` (text path, unindexed files) stops
    reading a coordinate-sorted file after the windows' contigs; see ``fastvcf``. ``head``: the
    file's first bytes of text when already read (spares the text path reading the header).
    """
    path = Path(path)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    repair = _spreadsheet_repair(path, head)
    if repair is None:
        return _read_vcf(path, regions, include_filtered, engine, stop_early, head, None)
    with repair:
        message = repair.message()
        log.warning("%s: %s", path, message)
        try:
            result = _read_vcf(repair.path, regions, include_filtered, engine, stop_early, None,
                               path)
        except CallsFileError as exc:
            raise repair.translate(exc) from None
    result.warnings.insert(0, message)
    return result


def _spreadsheet_repair(path: Path, head: bytes | None):
    """A repaired private copy of a VCF that went through a spreadsheet (see
    :mod:`lesiontrack.io.spreadsheet`), or None for any other file (BCF included)."""
    from .bounded import raw_chunks
    from .spreadsheet import damaged, repaired_copy

    if head is None:
        try:
            head = next(raw_chunks(path, 1 << 16), b"")
        except (OSError, ValueError, *COMPRESSION_ERRORS):
            return None  # the reader names the problem
    if head.startswith(b"BCF") or not damaged(head):
        return None
    return repaired_copy(path)


def _read_vcf(path: Path, regions: list[Region] | None, include_filtered: bool, engine: str,
              stop_early: bool, head: bytes | None, shown: Path | None) -> ReadResult:
    if engine != "pysam" and regions is not None:
        from .bounded import LineTooLongError
        from .fastvcf import FastPathUnsupported, read_vcf_text

        try:
            return read_vcf_text(path, regions=regions, include_filtered=include_filtered,
                                 stop_early=stop_early, head=head, shown=shown)
        except FastPathUnsupported as exc:
            if engine == "text":
                raise
            log.debug("%s: read with pysam (%s)", shown or path, exc)
        except LineTooLongError:
            raise  # final: pysam would hold the line in memory
        except CallsFileError:
            if engine == "text":
                raise
    return _read_with_pysam(path, regions, include_filtered, shown)
