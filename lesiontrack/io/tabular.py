"""MAF and plain TSV/CSV calls files, and MesKit clinical tables.

Both readers return a :class:`~lesiontrack.io.ReadResult` whose ``calls`` frame has the
:data:`~lesiontrack.io.RAW_COLUMNS`, one row per (sample, variant), alleles in their minimal form.

MAF flavours recognised (the ``caller`` of the result):

- ``maf_vcf2maf``: vcf2maf / GDC MAF 2.4 (``t_depth``, ``t_ref_count``, ``t_alt_count``, ``HGVSp_Short``,
  ``vcf_pos``); counts may be ``.``, empty or ``NA`` when unknown.
- ``maf_funcotator``: GATK Funcotator (``##`` comment block, ``Protein_Change``, ``tumor_f``,
  ``t_alt_count`` + ``t_ref_count`` and no ``t_depth``).
- ``maf_meskit``: MesKit input (``Ref_allele_depth``, ``Alt_allele_depth``, ``VAF``); rows with
  VAF 0 are sites that were read where the allele was not seen, and are kept (alt_count 0).
- ``maf``: any other MAF, e.g. TCGA WUSTL (``TumorRefReads_WU``, ``TumorVarReads_WU``,
  ``TumorVAF_WU`` in percent).

Number rules, per row: ``alt_count`` from the alt-count column; ``depth`` from ``t_depth``, else
ref + alt counts; ``vaf`` = alt_count / depth, else (a count unknown, or depth 0) the file's
fraction column; ``caller_vaf`` = the file's fraction column. A fraction column
holding percents (a value above 1 or a ``%`` suffix; ``TumorVAF_WU`` always) is divided by 100.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CallsFileError, SampleSheetError
from ..genome import normalize_assembly, normalize_chrom
from ..variants import minimal
from .annotations import short_hgvsp, strip_transcript
from .compression import COMPRESSION_ERRORS, open_text
from .result import RAW_COLUMNS, ReadResult, empty_calls

__all__ = ["read_maf", "read_meskit_clinical", "read_tsv"]

_LOG = logging.getLogger("lesiontrack")

Regions = Sequence[tuple[str, int, int]] | None

#: Cell values meaning "unknown" (after stripping), in the spellings met in the wild.
_MISSING = frozenset({
    "", ".", "NA", "na", "Na", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "Null", "None",
    "none", "NONE", "__UNKNOWN__",
})
#: Alleles accepted in a calls row: bases, or MAF's "-" for an empty allele.
_ALLELE = r"[ACGTNacgtn]+|-"
#: FILTER values that mean "passed".
_PASSING = frozenset({"pass", ".", ""})

_MAF_REQUIRED = (
    "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
)
#: (alt count, ref count, depth) column families, tried in this order.
_MAF_COUNT_FAMILIES = (
    ("t_alt_count", "t_ref_count", "t_depth"),  # vcf2maf, GDC, Funcotator (no t_depth)
    ("TumorVarReads_WU", "TumorRefReads_WU", None),  # TCGA WUSTL
    ("Alt_allele_depth", "Ref_allele_depth", None),  # MesKit
)
#: Fraction columns, tried in this order; the last one is percent by definition.
_MAF_FRACTION_COLUMNS = ("tumor_f", "VAF", "TumorVAF_WU")
_ALWAYS_PERCENT = frozenset({"tumorvaf_wu"})
#: Protein-change columns: (column, already one-letter?), tried in this order per row.
_MAF_HGVSP_COLUMNS = (
    ("HGVSp_Short", True), ("Protein_Change", True), ("HGVSp", False), ("amino_acid_change", True),
)
_MAF_HGVSC_COLUMNS = ("HGVSc", "cDNA_Change")

#: Plain TSV columns and their accepted aliases (matched case-insensitively), first match wins.
_TSV_ALIASES: dict[str, tuple[str, ...]] = {
    "chrom": ("chrom", "#chrom", "chromosome", "chr", "contig"),
    "pos": ("pos", "position", "start", "start_position"),
    "ref": ("ref", "reference", "ref_allele", "reference_allele"),
    "alt": ("alt", "alternate", "alt_allele", "alternate_allele", "alternative"),
    "alt_count": ("alt_count", "ad", "alt_depth", "alt_reads", "t_alt_count"),
    "ref_count": ("ref_count", "ref_depth", "ref_reads", "rd", "t_ref_count"),
    "depth": ("depth", "dp", "total_depth", "read_depth", "t_depth"),
    "vaf": ("vaf", "af", "allele_fraction", "tumor_f"),
    "sample": ("sample", "sample_id", "sample_name", "tumor_sample_barcode"),
    "filter": ("filter",),
    "gene": ("gene", "gene_symbol", "symbol", "hugo_symbol"),
    "hgvsp": ("hgvsp", "hgvsp_short", "protein_change"),
    "hgvsc": ("hgvsc", "cdna_change"),
    "consequence": ("consequence", "variant_classification"),
    "assembly": ("assembly", "ncbi_build", "build"),
}
_TSV_REQUIRED = ("chrom", "pos", "ref", "alt")

_CLINICAL_REQUIRED = ("Tumor_Sample_Barcode", "Tumor_ID", "Patient_ID")




# --------------------------------------------------------------------------------------------
# Loading a delimited table with exact line numbers


@dataclass
class _Table:
    """A delimited file read as strings, with the physical line number of every data row.

    Cells are kept as numpy object arrays of ``str`` (whatever string backend pandas uses), so
    that the per-row work below is plain Python on lists and fast for tens of thousands of rows.
    """

    path: Path
    frame: pd.DataFrame  # the table as read, columns named as written (stripped)
    lines: np.ndarray  # 1-based physical line number of each row
    header_line: int  # 1-based physical line number of the header
    comments: list[str]  # comment lines above the header
    decimal_comma: bool = False  # a ';'-separated file may write 0,25 for 0.25
    by_lower: dict[str, str] = field(default_factory=dict)  # lower-cased name -> column name
    _cells: dict[str, np.ndarray] = field(default_factory=dict)
    _text: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.names:
            self.by_lower.setdefault(name.lower(), name)

    @property
    def names(self) -> list[str]:
        return [str(name) for name in self.frame.columns]

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def column(self, name: str | None) -> str | None:
        """The column called ``name`` (case-insensitive), else None."""
        return self.by_lower.get(name.lower()) if name else None

    def first_column(self, names: Sequence[str]) -> str | None:
        return next((c for c in map(self.column, names) if c is not None), None)

    def cells(self, column: str) -> np.ndarray:
        """The cells of ``column`` as written, an object array of ``str`` ("" when empty)."""
        found = self._cells.get(column)
        if found is None:
            found = self.frame[column].to_numpy(dtype=object, na_value="")
            self._cells[column] = found
        return found

    def raw(self, column: str, row: int) -> str:
        return str(self.cells(column)[row])

    def text(self, column: str | None) -> np.ndarray:
        """Stripped cells of ``column``; missing markers (``.``, ``NA``...) become ``""``."""
        if column is None:
            return np.full(self.n_rows, "", dtype=object)
        found = self._text.get(column)
        if found is None:
            found = _objects([
                "" if (text := cell.strip()) in _MISSING else text for cell in self.cells(column)
            ])
            self._text[column] = found
        return found

    def line(self, row: int) -> int:
        return int(self.lines[row])

    def error(self, message: str, row: int | None = None, column: str | None = None,
              hint: str | None = None) -> CallsFileError:
        where = self.line(row) if row is not None else None
        return CallsFileError(message, file=self.path, where=where, field=column, hint=hint)


def _objects(values: Sequence[object]) -> np.ndarray:
    """A 1-d numpy object array (never a 2-d array of characters)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


#: No line of a MAF/TSV is longer than this (a longer one is a corrupt or foreign file).
MAX_LINE_CHARS = 16 * 1024 * 1024
#: A MAF/TSV calls file is held in memory to be read: at most this much (its non-blank lines,
#: each counted with :data:`LINE_OVERHEAD`; blank lines are only counted), so a compressed file
#: cannot inflate without bound.
MAX_TABLE_CHARS = 256 * 1024 * 1024
#: What holding one more line costs beyond its characters (the str object, its line number).
LINE_OVERHEAD = 96
#: A line holding something other than white space (``str.strip`` would leave something).
_NON_BLANK_LINE = re.compile(r"[^\n]*\S[^\n]*")


def _read_lines(path: Path) -> tuple[list[int], list[str]]:
    """(1-based line numbers, text) of the file's non-blank lines (any newline convention),
    read in blocks: a line longer than :data:`MAX_LINE_CHARS`, or more than
    :data:`MAX_TABLE_CHARS` of text, is refused as soon as it is seen, so memory stays bounded
    whatever the file inflates to (blank lines are counted, not kept)."""
    numbers: list[int] = []
    lines: list[str] = []
    pending = ""
    number = 0  # lines completed so far
    held = 0
    try:
        with open_text(path) as handle:
            while block := handle.read(1 << 20):
                text = pending + block
                cut = text.rfind("\n")
                if cut < 0:
                    pending = text
                    if len(pending) > MAX_LINE_CHARS:
                        raise _too_long(path, number + 1)
                    continue
                body, pending = text[:cut], text[cut + 1:]  # ``pending`` is in the block
                first = body.find("\n")
                if (first if first >= 0 else len(body)) > MAX_LINE_CHARS:
                    raise _too_long(path, number + 1)  # later lines are inside the block
                base, index, at = number, 0, 0
                for found in _NON_BLANK_LINE.finditer(body):  # blank lines: counted only
                    index += body.count("\n", at, found.start())
                    at = found.start()
                    line = found.group()
                    numbers.append(base + index + 1)
                    lines.append(line)
                    held += len(line) + LINE_OVERHEAD
                number = base + body.count("\n") + 1
                if held > MAX_TABLE_CHARS:
                    raise CallsFileError(
                        f"more than {MAX_TABLE_CHARS >> 20:,} MiB of rows to hold: too large "
                        "for a MAF/TSV calls file", file=path, where=number,
                        hint="split it, e.g. per sample, or give a bgzipped, indexed VCF",
                    )
    except UnicodeDecodeError as exc:
        raise CallsFileError(
            f"not UTF-8 text ({exc.reason})", file=path, where=_undecodable_line(path),
            hint="save the file as UTF-8 (plain or gzip)",
        ) from exc
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(f"the compressed file is truncated or corrupt ({exc})", file=path,
                             hint="copy the file again") from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc
    if pending.strip():
        numbers.append(number + 1)
        lines.append(pending)
    if numbers and numbers[0] == 1:
        lines[0] = lines[0].removeprefix("\ufeff")
        if not lines[0].strip():
            del numbers[0], lines[0]
    return numbers, lines


def _too_long(path: Path, number: int) -> CallsFileError:
    return CallsFileError(
        f"line longer than {MAX_LINE_CHARS:,} characters", file=path, where=number,
        hint="is the file corrupt, or not a MAF/TSV calls file?",
    )


def _undecodable_line(path: Path) -> int | None:
    """1-based line number (LF, CRLF or CR line ends) of the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    number, after_cr = 1, False
    try:
        with (gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")) as handle:
            while block := handle.read(1 << 16):
                for line in block.splitlines(keepends=True):
                    try:
                        decoder.decode(line)
                    except UnicodeDecodeError:
                        return number
                    if line.endswith(b"\r\n") or line.endswith(b"\n"):
                        if not (line == b"\n" and after_cr):
                            number += 1
                        after_cr = False
                    elif line.endswith(b"\r"):
                        number += 1
                        after_cr = True
                    else:
                        after_cr = False
    except (OSError, *COMPRESSION_ERRORS):
        return None
    return None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _sniff_delimiter(header: str) -> str:
    """Tab, comma or semicolon, whichever the header holds (in that order), else whitespace."""
    for delimiter in ("\t", ",", ";"):
        if delimiter in header:
            return delimiter
    return r"\s+" if len(header.split()) > 1 else "\t"


def _split(line: str, delimiter: str) -> list[str]:
    return line.split() if delimiter == r"\s+" else line.split(delimiter)


def _check_fields(path: Path, kind: str, header: str, delimiter: str, data_lines: list[str],
                  numbers: list[int]) -> None:
    """Every unquoted row has the header's number of fields; empty extra fields are trimmed."""
    if '"' in header and kind != "MAF":
        return
    expected = len(_split(header, delimiter))
    counter = (lambda line: len(line.split())) if delimiter == r"\s+" else (
        lambda line: line.count(delimiter) + 1)
    for i, line in enumerate(data_lines):
        found = counter(line)
        if found == expected or ('"' in line and kind != "MAF"):
            continue
        fields = _split(line, delimiter)
        if found > expected and not any(f.strip() for f in fields[expected:]):
            data_lines[i] = (" " if delimiter == r"\s+" else delimiter).join(fields[:expected])
            continue
        raise CallsFileError(
            f"malformed {kind} row: {found} fields where the header has {expected}",
            file=path, where=numbers[i],
            hint="every row needs as many fields as the header (a truncated or hand-edited file?)",
        )


def _load_table(
    path: Path,
    *,
    kind: str,
    header_in_comment: Callable[[str], bool] | None = None,
) -> _Table:
    """Read ``path`` as a delimited table of strings, keeping each row's physical line number.

    Lines starting with ``#`` above the header are comments (``#version 2.4``, ``##...``), and so
    are ``#`` lines and blank lines among the data. ``header_in_comment(line)`` may claim the last
    comment line above the data as the header (a TSV written ``#chrom<TAB>pos...``). A MAF is
    tab-separated and unquoted; a TSV's delimiter is sniffed from its header and cells may be
    quoted.
    """
    line_numbers, raw_lines = _read_lines(path)  # non-blank lines only
    header_index = next(
        (i for i, line in enumerate(raw_lines) if not line.startswith("#")), None
    )
    if header_index is None:
        raise CallsFileError(
            f"no {kind} header line (the file is empty or holds only comments)", file=path
        )
    data_start = header_index + 1
    if header_in_comment is not None and not header_in_comment(raw_lines[header_index]):
        last_comment = header_index - 1
        if last_comment >= 0 and header_in_comment(raw_lines[last_comment].lstrip("#")):
            header_index, data_start = last_comment, last_comment + 1
    comments = [line for line in raw_lines[:header_index] if line.startswith("#")]
    header = raw_lines[header_index].lstrip("#")  # "#chrom" when claimed from a comment
    data_lines: list[str] = []
    numbers: list[int] = []
    for number, line in zip(line_numbers[data_start:], raw_lines[data_start:], strict=True):
        if not line.startswith("#"):
            data_lines.append(line)
            numbers.append(number)
    header_line = line_numbers[header_index]
    del raw_lines, line_numbers
    delimiter = "\t" if kind == "MAF" else _sniff_delimiter(header)
    _check_fields(path, kind, header, delimiter, data_lines, numbers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO("\n".join([header, *data_lines])),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                index_col=False,
                quoting=csv.QUOTE_NONE if kind == "MAF" else csv.QUOTE_MINIMAL,
                skip_blank_lines=False,
                engine="c",
            )
    except pd.errors.ParserError as exc:
        message = str(exc)
        where: int | None = None
        found = re.search(r"line (\d+)", message)
        if found and 2 <= int(found.group(1)) <= len(numbers) + 1:
            where = numbers[int(found.group(1)) - 2]
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", message)
        detail = re.sub(r" in line \d+", "", detail)
        raise CallsFileError(
            f"malformed {kind} row: {detail}", file=path, where=where,
            hint="every row needs as many fields as the header",
        ) from exc
    except pd.errors.ParserWarning as exc:
        raise CallsFileError(
            f"malformed {kind} table: a row has more fields than the header", file=path,
            hint="check the quoting of cells that hold the delimiter",
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise CallsFileError(f"cannot parse the {kind} table: {exc}", file=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == len(numbers):
        lines = np.asarray(numbers, dtype=np.int64)
    else:  # quoted newlines inside cells: fall back to an approximate numbering
        lines = np.arange(len(frame), dtype=np.int64) + header_line + 1
    return _Table(path=path, frame=frame, lines=lines,
                  header_line=header_line, comments=comments,
                  decimal_comma=delimiter == ";")


# --------------------------------------------------------------------------------------------
# Cell parsing


def _note(warnings: list[str], path: Path, message: str) -> None:
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


def _numbers(table: _Table, column: str | None, *, what: str, percent: bool = False
             ) -> tuple[np.ndarray, bool]:
    """Floats of ``column`` (NaN when unknown) and whether a cell had a ``%`` suffix.

    Raises CallsFileError naming the line and column for a cell that is not a number.
    """
    if column is None:
        return np.full(table.n_rows, np.nan), False
    text = table.text(column)
    if table.decimal_comma:
        text = _objects([v.replace(",", ".") for v in text])
    suffix = False
    if percent:
        marked = np.fromiter((v.endswith("%") for v in text), dtype=bool, count=len(text))
        if marked.any():
            suffix = True
            text = _objects([v[:-1].strip() if m else v for v, m in zip(text, marked, strict=True)])
    values = _to_float(text)
    bad = (text != "") & ~np.isfinite(values)
    if bad.any():
        row = _first(bad)
        raise table.error(
            f"{what} is not a number: {table.raw(column, row)!r}", row, column,
            hint="use a number, or '.', 'NA' or an empty cell when unknown",
        )
    return values, suffix


def _check_counts(table: _Table, column: str | None, values: np.ndarray, what: str) -> None:
    if column is None:
        return
    negative = values < 0
    if negative.any():
        row = _first(negative)
        raise table.error(
            f"negative {what}: {table.raw(column, row)!r}", row, column,
            hint="read counts are 0 or more",
        )


def _fraction(table: _Table, column: str | None, warnings: list[str]) -> np.ndarray:
    """The fraction column as fractions: percents (a value > 1 or a % suffix) divided by 100."""
    values, suffix = _numbers(table, column, what="allele fraction", percent=True)
    if column is None:
        return values
    always = column.lower() in _ALWAYS_PERCENT
    if always or suffix or bool(np.nanmax(values, initial=0.0) > 1):
        if not always:
            _note(warnings, table.path,
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


def _read_numbers(
    table: _Table,
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


def _positions(table: _Table, column: str) -> np.ndarray:
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


def _chromosomes(table: _Table, column: str) -> np.ndarray:
    chrom = table.text(column)
    empty = chrom == ""
    if empty.any():
        raise table.error("empty chromosome", _first(empty), column)
    return chrom


def _pick_hgvsp(table: _Table, columns: Sequence[tuple[str | None, bool]]) -> np.ndarray:
    """Per row, the first non-empty protein change among ``columns`` ((name, one-letter?))."""
    out = [""] * table.n_rows
    for name, one_letter in columns:
        column = table.column(name)
        if column is None:
            continue
        convert = (lambda v: v.replace("%3D", "=")) if one_letter else short_hgvsp
        out = [o or (convert(v) if v else "") for o, v in zip(out, table.text(column), strict=True)]
    return _objects(out)


def _pick_hgvsc(table: _Table, columns: Sequence[str | None]) -> np.ndarray:
    out = [""] * table.n_rows
    for name in columns:
        column = table.column(name)
        if column is not None:
            out = [o or strip_transcript(v) for o, v in zip(out, table.text(column), strict=True)]
    return _objects(out)


def _assembly(table: _Table, column: str | None, warnings: list[str]
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
        _note(warnings, table.path, f"{column} value(s) {unknown} are not a known build; ignored")
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


def _unique(values: np.ndarray) -> list[str]:
    """Unique values in file order."""
    return list(dict.fromkeys(str(v) for v in values))


# --------------------------------------------------------------------------------------------
# Shared assembly of the calls frame


@dataclass
class _Rows:
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


def _build_calls(
    table: _Table,
    rows: _Rows,
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
        _note(warnings, table.path,
              f"skipped {len(bad)} row(s) without a usable variant allele in {allele_columns} "
              f"(first at line {table.line(first)}: {why})")
    keep = valid
    if not include_filtered:
        passing = _lookup(rows.filter, lambda v: v.lower() in _PASSING)
        dropped = int((keep & ~passing).sum())
        if dropped:
            _LOG.info("%s: %d row(s) with a FILTER other than PASS skipped", table.path, dropped)
        keep = keep & passing
    chrom_norm = _objects([_normalize_chrom_cached(c) for c in rows.chrom])
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
    ref_arr = _objects([m[1] for m in minimal_rows])
    alt_arr = _objects([m[2] for m in minimal_rows])
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
        "filter": _objects([f or "." for f in filters]),
        "caller": _objects([caller] * len(index)),
        "ann_gene": rows.gene[index],
        "ann_hgvsc": rows.hgvsc[index],
        "ann_hgvsp": rows.hgvsp[index],
        "ann_consequence": rows.consequence[index],
        "record": _objects([f"line {n}" for n in table.lines[index].tolist()]),
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


# --------------------------------------------------------------------------------------------
# MAF


def _maf_caller(table: _Table) -> str:
    has = table.column
    if has("Alt_allele_depth") and has("Ref_allele_depth") and not has("t_alt_count"):
        return "maf_meskit"
    if any("funcotator" in line.lower() for line in table.comments) or (
        has("Protein_Change") and has("tumor_f")
        and (has("Annotation_Transcript") or has("Genome_Change"))
    ):
        return "maf_funcotator"
    if any(has(c) for c in ("vcf_pos", "vcf_id", "vcf_qual", "flanking_bps")):
        return "maf_vcf2maf"
    return "maf"


def read_maf(
    path: str | Path,
    *,
    regions: Regions,
    include_filtered: bool = False,
) -> ReadResult:
    """Read a MAF (vcf2maf/GDC, Funcotator, TCGA WUSTL, MesKit) into raw calls.

    ``regions`` are (normalised chrom, start, end) windows to keep (a variant is kept when its
    span overlaps one), or None for every row. Rows whose FILTER is not PASS/``.`` are dropped
    unless ``include_filtered``. Raises :class:`CallsFileError` (with file, line and column) for
    missing required columns, a file with neither read counts nor an allele-fraction column,
    non-numeric or negative counts, alt count above depth, or several genome builds in one file.
    """
    path = Path(path)
    table = _load_table(path, kind="MAF")
    warnings: list[str] = []
    missing = [c for c in _MAF_REQUIRED if table.column(c) is None]
    if missing:
        raise CallsFileError(
            f"missing required MAF column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint=f"a MAF needs the columns {', '.join(_MAF_REQUIRED)}",
        )
    alt_col = ref_col = depth_col = None
    for alt_name, ref_name, depth_name in _MAF_COUNT_FAMILIES:
        if table.column(alt_name) is not None:
            alt_col, ref_col, depth_col = map(table.column, (alt_name, ref_name, depth_name))
            break
    fraction_col = table.first_column(_MAF_FRACTION_COLUMNS)
    if alt_col is None and fraction_col is None:
        raise CallsFileError(
            "no read counts and no allele-fraction column: expected t_alt_count with t_depth or "
            "t_ref_count (vcf2maf/GDC/Funcotator), TumorVarReads_WU + TumorRefReads_WU (TCGA WU), "
            "Alt_allele_depth + Ref_allele_depth (MesKit), or one of tumor_f, VAF, TumorVAF_WU",
            file=path, where=table.header_line, field="t_alt_count",
            hint="lesiontrack needs alt counts and depth, or an allele fraction, per row",
        )
    if alt_col is not None and ref_col is None and depth_col is None and fraction_col is None:
        _note(warnings, path,
              f"{alt_col} but no depth, reference count or fraction column: VAF unknown")
    alt, depth, vaf, fraction = _read_numbers(
        table, alt_col=alt_col, ref_col=ref_col, depth_col=depth_col, fraction_col=fraction_col,
        warnings=warnings,
    )
    reference = table.text(table.column("Reference_Allele"))
    alt_allele = table.text(table.column("Tumor_Seq_Allele2"))
    allele_columns = "Reference_Allele/Tumor_Seq_Allele2"
    allele1_col = table.column("Tumor_Seq_Allele1")
    if allele1_col is not None:  # Allele2 equal to the reference: the variant is in Allele1
        allele1 = table.text(allele1_col)
        alt_allele = _objects([
            a1 if a2.upper() == r.upper() else a2
            for r, a1, a2 in zip(reference, allele1, alt_allele, strict=True)
        ])
        allele_columns += "/Tumor_Seq_Allele1"
    barcodes = _objects([v.strip() for v in table.cells(table.column("Tumor_Sample_Barcode"))])
    filter_col = table.column("FILTER")
    gene = table.text(table.column("Hugo_Symbol"))
    rows = _Rows(
        sample=barcodes,
        chrom=_chromosomes(table, table.column("Chromosome")),
        pos=_positions(table, table.column("Start_Position")),
        ref=reference,
        alt=alt_allele,
        alt_count=alt,
        depth=depth,
        vaf=vaf,
        caller_vaf=fraction,
        filter=table.text(filter_col) if filter_col else np.full(table.n_rows, ".", dtype=object),
        gene=_objects(["" if g.lower() == "unknown" else g for g in gene]),
        hgvsc=_pick_hgvsc(table, _MAF_HGVSC_COLUMNS),
        hgvsp=_pick_hgvsp(table, _MAF_HGVSP_COLUMNS),
        consequence=table.text(table.column("Variant_Classification")),
    )
    assembly, evidence = _assembly(table, table.column("NCBI_Build"), warnings)
    caller = _maf_caller(table)
    calls = _build_calls(
        table, rows, allele_columns=allele_columns, regions=regions,
        include_filtered=include_filtered, caller=caller, warnings=warnings,
    )
    samples = _unique(barcodes)
    normal_col = table.column("Matched_Norm_Sample_Barcode")
    normals = [s for s in _unique(table.text(normal_col)) if s] if normal_col else []
    return ReadResult(
        calls=calls,
        samples=samples,
        tumor_sample=samples[0] if len(samples) == 1 else None,
        normal_sample=normals[0] if len(normals) == 1 else None,
        assembly_hint=assembly,
        assembly_evidence=f"MAF column {evidence}" if evidence else "",
        caller=caller,
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------
# Plain TSV / CSV


def _tsv_header_like(line: str) -> bool:
    fields = {f.strip().strip('"').lower() for f in re.split(r"[\t,;]", line)}
    return bool(fields & set(_TSV_ALIASES["chrom"])) and bool(fields & set(_TSV_ALIASES["pos"]))


def read_tsv(
    path: str | Path,
    *,
    regions: Regions,
    include_filtered: bool = False,
) -> ReadResult:
    """Read a plain TSV/CSV of calls into raw calls.

    Columns (case-insensitive, common aliases accepted): ``chrom, pos, ref, alt`` and
    ``alt_count`` with ``depth`` (or ``ref_count``), or ``vaf`` (fraction or percent); optional
    ``sample`` (else every row belongs to the sample ``""``, "the file's only sample"),
    ``filter``, ``gene``, ``hgvsp``, ``hgvsc``, ``assembly``. The delimiter (tab, comma,
    semicolon) is sniffed from the header; CRLF and CR-only line endings and ``#`` comment lines
    are accepted; a ``#chrom...`` comment line directly above the data is taken as the header.
    Alleles may be VCF-style (``CAGTGGA>C``) or MAF-style (``AGTGGA>-``).
    """
    path = Path(path)
    table = _load_table(path, kind="TSV", header_in_comment=_tsv_header_like)
    warnings: list[str] = []
    columns = {key: table.first_column(names) for key, names in _TSV_ALIASES.items()}
    missing = [key for key in _TSV_REQUIRED if columns[key] is None]
    if missing:
        raise CallsFileError(
            f"missing required TSV column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint="a TSV needs chrom, pos, ref, alt and alt_count + depth or vaf "
                 f"(found: {', '.join(table.names)})",
        )
    has_counts = columns["alt_count"] is not None and (
        columns["depth"] is not None or columns["ref_count"] is not None
    )
    if not has_counts and columns["vaf"] is None:
        absent = [k for k in ("alt_count", "depth", "vaf") if columns[k] is None]
        raise CallsFileError(
            f"no read counts and no allele fraction: missing column(s) {', '.join(absent)}",
            file=path, where=table.header_line, field=absent[0],
            hint="give alt_count and depth (or ref_count), or vaf",
        )
    alt, depth, vaf, fraction = _read_numbers(
        table, alt_col=columns["alt_count"], ref_col=columns["ref_count"],
        depth_col=columns["depth"], fraction_col=columns["vaf"], warnings=warnings,
    )
    if columns["sample"] is not None:
        samples_col = _objects([v.strip() for v in table.cells(columns["sample"])])
    else:
        samples_col = np.full(table.n_rows, "", dtype=object)
    rows = _Rows(
        sample=samples_col,
        chrom=_chromosomes(table, columns["chrom"]),
        pos=_positions(table, columns["pos"]),
        ref=table.text(columns["ref"]),
        alt=table.text(columns["alt"]),
        alt_count=alt,
        depth=depth,
        vaf=vaf,
        caller_vaf=fraction,
        filter=table.text(columns["filter"]) if columns["filter"] else np.full(
            table.n_rows, ".", dtype=object),
        gene=table.text(columns["gene"]),
        hgvsc=_pick_hgvsc(table, [columns["hgvsc"]]),
        hgvsp=_pick_hgvsp(table, [(columns["hgvsp"], False)]),
        consequence=table.text(columns["consequence"]),
    )
    assembly, evidence = _assembly(table, columns["assembly"], warnings)
    calls = _build_calls(
        table, rows, allele_columns=f"{columns['ref']}/{columns['alt']}", regions=regions, include_filtered=include_filtered, caller="tsv", warnings=warnings,
    )
    samples = _unique(samples_col) if columns["sample"] is not None else [""]
    return ReadResult(
        calls=calls,
        samples=samples,
        tumor_sample=None,
        assembly_hint=assembly,
        assembly_evidence=f"TSV column {evidence}" if evidence else "",
        caller="tsv",
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------
# MesKit clinical table


def read_meskit_clinical(path: str | Path) -> pd.DataFrame:
    """A MesKit clinical table as a sample-sheet-shaped frame.

    Input columns: ``Tumor_Sample_Barcode``, ``Tumor_ID``, ``Patient_ID`` (optional
    ``Tumor_Sample_Label``, not used). Returns the columns ``patient_id`` (Patient_ID),
    ``lesion_id`` (Tumor_ID), ``sample_id`` (Tumor_Sample_Barcode) and ``status`` (``unknown``:
    MesKit tables carry no response status), in file order. Raises :class:`SampleSheetError` for
    a missing column, an empty cell or a duplicated barcode.
    """
    path = Path(path)
    try:
        table = _load_table(path, kind="TSV")
    except CallsFileError as exc:
        raise SampleSheetError(exc.message, file=exc.file, where=exc.where, field=exc.field,
                               hint=exc.hint) from exc
    missing = [c for c in _CLINICAL_REQUIRED if table.column(c) is None]
    if missing:
        raise SampleSheetError(
            f"missing MesKit clinical column(s): {', '.join(missing)}", file=path,
            where=table.header_line, field=missing[0],
            hint="a MesKit clinical table has Tumor_Sample_Barcode, Tumor_ID and Patient_ID",
        )
    out = {}
    for name, target in (("Patient_ID", "patient_id"), ("Tumor_ID", "lesion_id"),
                         ("Tumor_Sample_Barcode", "sample_id")):
        column = table.column(name)
        values = [v.strip() for v in table.cells(column)]
        if "" in values:
            raise SampleSheetError("empty cell", file=path, where=table.line(values.index("")),
                                   field=column)
        out[target] = _objects(values)
    frame = pd.DataFrame(out).astype(object)
    duplicated = frame["sample_id"].duplicated().to_numpy()
    if duplicated.any():
        row = _first(duplicated)
        raise SampleSheetError(
            f"sample {frame['sample_id'].iloc[row]!r} is listed twice", file=path,
            where=table.line(row), field=table.column("Tumor_Sample_Barcode"),
        )
    frame["status"] = "unknown"
    return frame[["patient_id", "lesion_id", "sample_id", "status"]]
