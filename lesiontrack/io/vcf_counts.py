"""Per-caller allele counting, shared by both VCF engines: one row per (sample column, record,
ALT allele). Each engine (:mod:`.vcf_pysam`, :mod:`.vcf_text`) feeds its records to
:meth:`Calls.add`, so that the caller rules live here only. Per-sample allele counts follow the
caller's own FORMAT fields:

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

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CallsFileError
from ..variants import is_simple_allele, minimal
from .annotations import EMPTY, Annotation, AnnotationFormat, choose
from .result import NUMERIC_COLUMNS, RAW_COLUMNS, ReadResult, cached_empty_calls, raw_frame
from .vcf_header import (
    HeaderFields,
    af_number,
    annotation_formats,
    detect_caller,
    header_assembly,
    sample_roles,
)

log = logging.getLogger("lesiontrack")

NAN = float("nan")
Values = list[float | None]
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


def numbers(raw: object, percent: bool = False) -> Values:
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


class Calls:
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
        """Take the header's facts: those the counting rules need, and the file's in ``result``."""
        self.samples = list(fields.samples)
        self.declared_formats = set(fields.formats)
        self.format_types = {key: kind for key, (_, kind) in fields.formats.items()}
        self.format_numbers = {key: number for key, (number, _) in fields.formats.items()}
        self.declared_contigs = {name for name, _ in fields.contigs}
        self.af_number = af_number(fields)
        self.ann_formats = annotation_formats(fields)
        result.samples = list(self.samples)
        result.tumor_sample, result.normal_sample = sample_roles(fields)
        result.assembly_hint, result.assembly_evidence = header_assembly(fields)

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
        """Add the rows of one record (a pysam record or a text record, behind the same small interface)."""
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
        """The rows collected so far, as a frame of :data:`~.result.RAW_COLUMNS`."""
        cols = self.columns
        n = len(cols["pos"])
        if not n:
            return cached_empty_calls()
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
        return raw_frame(arrays, n)

    def finish_notes(self) -> list[str]:
        """The file's notes (one line each), each also logged as a warning."""
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
