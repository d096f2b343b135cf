"""Raw calls from a delimited table: the rules the MAF (:mod:`.maf`) and TSV (:mod:`.tsv`)
readers share, from the cells of a :class:`~lesiontrack.textfiles.DelimitedTable` to the
:data:`~lesiontrack.io.RAW_COLUMNS` frame.

Number rules, per row: ``alt_count`` from the alt-count column; ``depth`` from ``t_depth``, else
ref + alt counts; ``vaf`` = alt_count / depth, else (a count unknown, or depth 0) the file's
fraction column; ``caller_vaf`` = the file's fraction column. A fraction column
holding percents (a value above 1 or a ``%`` suffix; ``TumorVAF_WU`` always) is divided by 100.

Cells ``.``, ``NA``, empty (and the other spellings of :data:`MISSING`) mean "unknown". Rows
whose alleles are not base strings (MAF's ``-`` for an empty allele is one) are skipped with
one warning; rows whose FILTER is not PASS/``.`` are dropped unless asked for; alleles are
minimised (:func:`lesiontrack.variants.minimal`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CallsFileError
from ..genome import normalize_assembly, normalize_chrom
from ..textfiles import DelimitedTable
from ..variants import minimal
from .annotations import short_hgvsp, strip_transcript
from .result import RAW_COLUMNS, empty_calls

_LOG = logging.getLogger("lesiontrack")

#: (normalised chrom, start, end) windows to keep, or None for every row.
Regions = Sequence[tuple[str, int, int]] | None

#: Cell values meaning "unknown" (after stripping), in the spellings met in the wild.
MISSING = frozenset({
    "", ".", "NA", "na", "Na", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "Null", "None",
    "none", "NONE", "__UNKNOWN__",
})
#: Alleles accepted in a calls row: bases, or MAF's "-" for an empty allele.
_ALLELE = r"[ACGTNacgtn]+|-"
#: FILTER values that mean "passed".
_PASSING = frozenset({"pass", ".", ""})
#: Fraction columns that hold percents by definition (lower case).
_ALWAYS_PERCENT = frozenset({"tumorvaf_wu"})


@dataclass
class CallsTable(DelimitedTable):
    """A calls file's :class:`~lesiontrack.textfiles.DelimitedTable`, with its cells as text
    (missing markers read as ``""``) and errors naming the file, line and column."""

    _text: dict[str, np.ndarray] = field(default_factory=dict)

    def text(self, column: str | None) -> np.ndarray:
        """Stripped cells of ``column``; missing markers (``.``, ``NA``...) become ``""``."""
        if column is None:
            return np.full(self.n_rows, "", dtype=object)
        found = self._text.get(column)
        if found is None:
            found = objects([
                "" if (text := cell.strip()) in MISSING else text for cell in self.cells(column)
            ])
            self._text[column] = found
        return found

    def error(self, message: str, row: int | None = None, column: str | None = None,
              hint: str | None = None) -> CallsFileError:
        """A :class:`CallsFileError` naming the file, the line of ``row`` and ``column``."""
        where = self.line(row) if row is not None else None
        return CallsFileError(message, file=self.path, where=where, field=column, hint=hint)



def objects(values: Sequence[object]) -> np.ndarray:
    """A 1-d numpy object array (never a 2-d array of characters)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def note(warnings: list[str], path: Path, message: str) -> None:
    """Record a recoverable oddity: logged once with the file name, kept for the ReadResult."""
    _LOG.warning("%s: %s", path, message)
    warnings.append(message)


def _to_float(text: np.ndarray) -> np.ndarray:
    """Floats of stripped cells; ``""`` and unparsable cells become NaN."""
    try:  # fast path: every cell is a number or empty
        return np.where(text == "", "nan", text).astype(float)
    except (ValueError, TypeError):
        series = pd.Series(text, dtype=object)
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, copy=True)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _numbers(table: CallsTable, column: str | None, *, what: str, percent: bool = False
             ) -> tuple[np.ndarray, bool]:
    """Floats of ``column`` (NaN when unknown) and whether a cell had a ``%`` suffix.

    Raises CallsFileError naming the line and column for a cell that is not a number.
    """
    if column is None:
        return np.full(table.n_rows, np.nan), False
    text = table.text(column)
    if table.decimal_comma:
        text = objects([v.replace(",", ".") for v in text])
    suffix = False
    if percent:
        marked = np.fromiter((v.endswith("%") for v in text), dtype=bool, count=len(text))
        if marked.any():
            suffix = True
            text = objects([v[:-1].strip() if m else v for v, m in zip(text, marked, strict=True)])
    values = _to_float(text)
    bad = (text != "") & ~np.isfinite(values)
    if bad.any():
        row = _first(bad)
        raise table.error(
            f"{what} is not a number: {table.raw(column, row)!r}", row, column,
            hint="use a number, or '.', 'NA' or an empty cell when unknown",
        )
    return values, suffix


def _check_counts(table: CallsTable, column: str | None, values: np.ndarray, what: str) -> None:
    if column is None:
        return
    negative = values < 0
    if negative.any():
        row = _first(negative)
        raise table.error(
            f"negative {what}: {table.raw(column, row)!r}", row, column,
            hint="read counts are 0 or more",
        )


def _fraction(table: CallsTable, column: str | None, warnings: list[str]) -> np.ndarray:
    """The fraction column as fractions: percents (a value > 1 or a % suffix) divided by 100."""
    values, suffix = _numbers(table, column, what="allele fraction", percent=True)
    if column is None:
        return values
    always = column.lower() in _ALWAYS_PERCENT
    if always or suffix or bool(np.nanmax(values, initial=0.0) > 1):
        if not always:
            note(warnings, table.path,
                  f"column '{column}' holds percentages (a value above 1 or a '%' suffix); "
                  "it was divided by 100")
        values = values / 100
    bad = (values < 0) | (values > 1)
    if bad.any():
        row = _first(bad)
        raise table.error(
            f"allele fraction out of range: {table.raw(column, row)!r}", row, column,
            hint="a fraction is between 0 and 1, a percent between 0 and 100",
        )
    return values


def read_numbers(
    table: CallsTable,
    *,
    alt_col: str | None,
    ref_col: str | None,
    depth_col: str | None,
    fraction_col: str | None,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(alt_count, depth, vaf, caller_vaf) per row, by the rules in the module docstring."""
    alt, _ = _numbers(table, alt_col, what="alt read count")
    ref, _ = _numbers(table, ref_col, what="reference read count")
    depth, _ = _numbers(table, depth_col, what="depth")
    _check_counts(table, alt_col, alt, "alt read count")
    _check_counts(table, ref_col, ref, "reference read count")
    _check_counts(table, depth_col, depth, "depth")
    from_column = np.isfinite(depth)
    depth = np.where(from_column, depth, ref + alt)
    over = np.isfinite(alt) & np.isfinite(depth) & (alt > depth)
    if over.any():
        row = _first(over)
        source = depth_col if from_column[row] else f"{ref_col} + {alt_col}"
        raise table.error(
            f"alt read count {alt[row]:g} is above the depth {depth[row]:g} ({source})",
            row, alt_col, hint="the alt count cannot exceed the reads at the site",
        )
    fraction = _fraction(table, fraction_col, warnings)
    usable = np.isfinite(alt) & np.isfinite(depth) & (depth > 0)
    # Depth 0 falls back to the file's fraction as the VCF reader does; such a site is not
    # evaluable downstream whatever its VAF.
    with np.errstate(divide="ignore", invalid="ignore"):
        vaf = np.where(usable, alt / np.where(usable, depth, 1.0), fraction)
    return alt, depth, vaf, fraction


#: Largest position accepted (VCF/BCF positions are 32-bit; no contig is longer).
MAX_POSITION = 2**31 - 1


def positions(table: CallsTable, column: str) -> np.ndarray:
    values = _to_float(table.text(column))
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        row = _first(bad)
        raise table.error(
            f"position is not a whole number: {table.raw(column, row)!r}", row, column,
            hint="positions are 1-based integers",
        )
    # a 20-digit number is a whole float too, but would wrap around in int64
    huge = values > MAX_POSITION
    if huge.any():
        row = _first(huge)
        raise table.error(
            f"position out of range: {table.raw(column, row)!r}", row, column,
            hint=f"positions are at most {MAX_POSITION:,}",
        )
    return values.astype(np.int64)


def chromosomes(table: CallsTable, column: str) -> np.ndarray:
    chrom = table.text(column)
    empty = chrom == ""
    if empty.any():
        raise table.error("empty chromosome", _first(empty), column)
    return chrom


def pick_hgvsp(table: CallsTable, columns: Sequence[tuple[str | None, bool]]) -> np.ndarray:
    """Per row, the first non-empty protein change among ``columns`` ((name, one-letter?))."""
    out = [""] * table.n_rows
    for name, one_letter in columns:
        column = table.column(name)
        if column is None:
            continue
        convert = (lambda v: v.replace("%3D", "=")) if one_letter else short_hgvsp
        out = [o or (convert(v) if v else "") for o, v in zip(out, table.text(column), strict=True)]
    return objects(out)


def pick_hgvsc(table: CallsTable, columns: Sequence[str | None]) -> np.ndarray:
    out = [""] * table.n_rows
    for name in columns:
        column = table.column(name)
        if column is not None:
            out = [o or strip_transcript(v) for o, v in zip(out, table.text(column), strict=True)]
    return objects(out)


def assembly_hint(table: CallsTable, column: str | None, warnings: list[str]
              ) -> tuple[str | None, str]:
    """Assembly hint from a build column; several builds in one file -> CallsFileError."""
    if column is None:
        return None, ""
    first_rows: dict[str, int] = {}
    for row, value in enumerate(table.text(column)):
        if value and value not in first_rows:
            first_rows[value] = row
    seen: dict[str, tuple[str, int]] = {}  # normalised -> (as written, first row)
    unknown = sorted(raw for raw in first_rows if normalize_assembly(raw) is None)
    for raw, row in first_rows.items():
        build = normalize_assembly(raw)
        if build is not None:
            seen.setdefault(build, (raw, row))
    if unknown:
        note(warnings, table.path, f"{column} value(s) {unknown} are not a known build; ignored")
    if len(seen) > 1:
        (first, (raw1, _)), (second, (raw2, row2)) = sorted(
            seen.items(), key=lambda item: item[1][1])[:2]
        raise table.error(
            f"several genome builds in one file: {raw1!r} ({first}) and {raw2!r} ({second})",
            row2, column, hint="split the file by build, or lift it over to one build",
        )
    if not seen:
        return None, ""
    build, (raw, _) = next(iter(seen.items()))
    return build, f"{column}={raw}"


def unique(values: np.ndarray) -> list[str]:
    """Unique values in file order."""
    return list(dict.fromkeys(str(v) for v in values))


# --------------------------------------------------------------------------------------------
# Shared assembly of the calls frame


@dataclass
class Rows:
    """Per-row arrays common to MAF and TSV, before alleles are minimised."""

    sample: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    alt_count: np.ndarray
    depth: np.ndarray
    vaf: np.ndarray
    caller_vaf: np.ndarray
    filter: np.ndarray
    gene: np.ndarray
    hgvsc: np.ndarray
    hgvsp: np.ndarray
    consequence: np.ndarray


def _lookup(values: np.ndarray, test: Callable[[str], bool]) -> np.ndarray:
    """``test`` of every value, computed once per distinct value."""
    answers = {v: test(v) for v in set(values.tolist())}
    return np.fromiter((answers[v] for v in values), dtype=bool, count=len(values))


def build_calls(
    table: CallsTable,
    rows: Rows,
    *,
    allele_columns: str,
    regions: Regions,
    include_filtered: bool,
    caller: str,
    warnings: list[str],
) -> pd.DataFrame:
    """Validate alleles, drop filtered / out-of-region rows, minimise alleles, build the frame."""
    n = table.n_rows
    if n == 0:
        return empty_calls()
    is_allele = _ALLELE_PATTERN.fullmatch
    same = np.fromiter((r.upper() == a.upper() for r, a in zip(rows.ref, rows.alt, strict=True)),
                       dtype=bool, count=n)
    valid = (_lookup(rows.ref, lambda v: bool(is_allele(v)))
             & _lookup(rows.alt, lambda v: bool(is_allele(v))) & ~same)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        first = int(bad[0])
        why = "REF equals ALT" if same[first] else (
            f"allele {rows.ref[first]!r}>{rows.alt[first]!r} is not a base string"
        )
        note(warnings, table.path,
              f"skipped {len(bad)} row(s) without a usable variant allele in {allele_columns} "
              f"(first at line {table.line(first)}: {why})")
    keep = valid
    if not include_filtered:
        passing = _lookup(rows.filter, lambda v: v.lower() in _PASSING)
        dropped = int((keep & ~passing).sum())
        if dropped:
            _LOG.info("%s: %d row(s) with a FILTER other than PASS skipped", table.path, dropped)
        keep = keep & passing
    chrom_norm = objects([_normalize_chrom_cached(c) for c in rows.chrom])
    if regions is not None:
        wanted = {normalize_chrom(r[0]) for r in regions}
        keep = keep & _lookup(chrom_norm, wanted.__contains__)
    index = np.flatnonzero(keep)
    minimal_rows = [
        _minimal_cached(pos, ref, alt)
        for pos, ref, alt in zip(rows.pos[index].tolist(), rows.ref[index], rows.alt[index],
                                 strict=True)
    ]
    pos_arr = np.fromiter((m[0] for m in minimal_rows), dtype=np.int64, count=len(index))
    ref_arr = objects([m[1] for m in minimal_rows])
    alt_arr = objects([m[2] for m in minimal_rows])
    if regions is not None and len(index):
        lengths = np.fromiter((len(r) for r in ref_arr), dtype=np.int64, count=len(index))
        span_end = np.where(ref_arr == "-", pos_arr + 1, pos_arr + lengths - 1)
        chroms = chrom_norm[index]
        inside = np.zeros(len(index), dtype=bool)
        for region in regions:
            chrom, start, end = normalize_chrom(region[0]), int(region[1]), int(region[2])
            inside |= (chroms == chrom) & (pos_arr <= end) & (span_end >= start)
        index, pos_arr, ref_arr, alt_arr = (
            index[inside], pos_arr[inside], ref_arr[inside], alt_arr[inside])
    if len(index) == 0:
        return empty_calls()
    filters = rows.filter[index]
    frame = pd.DataFrame({
        "file_sample": rows.sample[index],
        "chrom_raw": rows.chrom[index],
        "pos": pos_arr,
        "ref": ref_arr,
        "alt": alt_arr,
        "alt_count": rows.alt_count[index],
        "depth": rows.depth[index],
        "vaf": rows.vaf[index],
        "caller_vaf": rows.caller_vaf[index],
        "filter": objects([f or "." for f in filters]),
        "caller": objects([caller] * len(index)),
        "ann_gene": rows.gene[index],
        "ann_hgvsc": rows.hgvsc[index],
        "ann_hgvsp": rows.hgvsp[index],
        "ann_consequence": rows.consequence[index],
        "record": objects([f"line {n}" for n in table.lines[index].tolist()]),
    })
    numeric = ("alt_count", "depth", "vaf", "caller_vaf")
    for column in RAW_COLUMNS:
        if column == "pos":
            frame[column] = frame[column].astype("int64")
        elif column in numeric:
            frame[column] = frame[column].astype(float)
        else:  # the same dtype as empty_calls(), whatever pandas' default string dtype is
            frame[column] = frame[column].astype(object)
    return frame[RAW_COLUMNS]


_ALLELE_PATTERN = re.compile(_ALLELE)
_CHROM_CACHE: dict[str, str] = {}
_MINIMAL_CACHE: dict[tuple[int, str, str], tuple[int, str, str]] = {}


def _normalize_chrom_cached(name: str) -> str:
    found = _CHROM_CACHE.get(name)
    if found is None:
        if len(_CHROM_CACHE) > 10_000:
            _CHROM_CACHE.clear()
        found = _CHROM_CACHE[name] = normalize_chrom(name)
    return found


def _minimal_cached(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    key = (pos, ref, alt)
    found = _MINIMAL_CACHE.get(key)
    if found is None:
        if len(_MINIMAL_CACHE) > 200_000:
            _MINIMAL_CACHE.clear()
        found = _MINIMAL_CACHE[key] = minimal(pos, ref, alt)
    return found

