"""Copy-number segment files, in the formats pipelines write, picked from the header.

=============  ==============================================================  ===========  ========
format         header (columns used)                                           coordinates  value
=============  ==============================================================  ===========  ========
``cnvkit``     ``chromosome start end gene log2 ... [cn] ... [probes]``        0-based,     log2 (or
               (CNVkit ``.cns``; ``.call.cns`` adds ``cn``)                    half-open    ``cn``)
``gatk``       ``@`` SAM header lines, then ``CONTIG START END                 1-based,     log2
               NUM_POINTS_COPY_RATIO MEAN_LOG2_COPY_RATIO [CALL]``             inclusive
               (GATK ``CallCopyRatioSegments`` ``.called.seg``; the
               ``ModelSegments`` ``.cr.seg`` without ``CALL`` too)
``facets``     ``chrom ... start end ... tcn.em lcn.em`` (``fit$cncf``;        1-based,     absolute
               facets-suite writes ``loc.start loc.end``; chrom 23 = X,        inclusive
               24 = Y); probes from ``num.mark``
``ascat``      ``sample chr startpos endpos nMajor nMinor``                    1-based,     absolute
               (``ascat.output$segments``; CN = nMajor + nMinor)               inclusive
``plain``      ``chrom start end log2`` or ``chrom start end copy_number``     1-based,     log2 or
               (``chromosome``/``chr`` and ``cn`` accepted; optional           inclusive    absolute
               ``probes``)
=============  ==============================================================  ===========  ========

Tables written by R's ``write.table`` are read as written: quoted cells, and the row names of
``row.names = TRUE`` (one more cell per row than the header). Every reader returns :class:`Segments`: one row per segment with 1-based inclusive ``start`` and
``end`` (CNVkit's 0-based starts get +1), ``chrom`` without ``chr``, ``log2`` (NaN when the
format has none), ``cn`` (absolute total copy number, NaN for log2-only files), ``probes`` (NaN
when the format gives no count) and ``line`` (the physical line in the file). A CNVkit
``.call.cns`` ``cn`` is used as written: CNVkit rescales it for purity only when ``call`` was
given ``--purity``; give the ``.cns`` (log2 only) to let lesiontrack adjust for tumour content.

Bad files raise :class:`CopyNumberFileError` naming file, line and field: a header of no known
format, a missing column, a non-numeric value, ``start > end``, segments out of order or
overlapping within a chromosome (and sample). :func:`check_build` compares the segments with a
genome build (the lead calls it with the build of the sample's calls).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import LesionTrackError, ReferenceMismatchError
from ..genome import assembly_from_chr4_length, normalize_chrom
from ..textfiles import undecodable_line
from .compression import COMPRESSION_ERRORS, open_text

__all__ = [
    "CHROM_LENGTHS",
    "COPY_NUMBER_SEGMENT_COLUMNS",
    "FORMATS",
    "SEGMENT_COLUMNS",
    "CopyNumberFileError",
    "Segments",
    "check_build",
    "read_copy_number",
    "read_segments",
    "select_sample",
]

#: Formats recognised, in the order the header is tested.
FORMATS: tuple[str, ...] = ("gatk", "cnvkit", "facets", "ascat", "plain")
#: Columns of :attr:`Segments.frame`, in order.
SEGMENT_COLUMNS: list[str] = ["sample", "chrom", "start", "end", "log2", "cn", "probes", "line"]
#: No line of a segment file is longer than this (a longer one is a foreign or corrupt file).
MAX_LINE_CHARS = 1024 * 1024

#: Primary-assembly chromosome lengths (GRC assembly reports of GRCh37 and GRCh38).
CHROM_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {
        "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "4": 191_154_276,
        "5": 180_915_260, "6": 171_115_067, "7": 159_138_663, "8": 146_364_022,
        "9": 141_213_431, "10": 135_534_747, "11": 135_006_516, "12": 133_851_895,
        "13": 115_169_878, "14": 107_349_540, "15": 102_531_392, "16": 90_354_753,
        "17": 81_195_210, "18": 78_077_248, "19": 59_128_983, "20": 63_025_520,
        "21": 48_129_895, "22": 51_304_566, "X": 155_270_560, "Y": 59_373_566,
    },
    "GRCh38": {
        "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "4": 190_214_555,
        "5": 181_538_259, "6": 170_805_979, "7": 159_345_973, "8": 145_138_636,
        "9": 138_394_717, "10": 133_797_422, "11": 135_086_622, "12": 133_275_309,
        "13": 114_364_328, "14": 107_043_718, "15": 101_991_189, "16": 90_338_345,
        "17": 83_257_441, "18": 80_373_285, "19": 58_617_616, "20": 64_444_167,
        "21": 46_709_983, "22": 50_818_468, "X": 156_040_895, "Y": 57_227_415,
    },
}

_MISSING = frozenset({"", ".", "NA", "na", "N/A", "NaN", "nan", "null", "NULL", "None"})
#: FACETS numbers chromosomes; 23 and 24 are X and Y (``nX = 23`` for human).
_FACETS_CHROM = {"23": "X", "24": "Y"}


class CopyNumberFileError(LesionTrackError):
    """A copy-number segment file cannot be read or holds an impossible value."""


@dataclass
class Segments:
    """The segments of one copy-number file.

    ``kind`` is ``log2`` (a ratio to the sample's own average: needs tumour content and ploidy to
    become a copy number) or ``absolute`` (a total copy number the tool already estimated).
    ``assembly`` is the build the file's header proves (GATK ``@SQ`` chr4 length), else None.
    ``contig_lengths`` are the header's ``@SQ`` lengths (normalised names), if any.
    """

    path: Path
    format: str
    kind: str
    frame: pd.DataFrame
    assembly: str | None = None
    contig_lengths: dict[str, int] = field(default_factory=dict)

    @property
    def samples(self) -> list[str]:
        """Sample names the file holds (``""`` for single-sample formats)."""
        return list(dict.fromkeys(self.frame["sample"]))


# --------------------------------------------------------------------------------------------
# Reading lines


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty line; ``@`` and ``#`` lines come as one cell."""
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if len(line) > MAX_LINE_CHARS:
                    raise CopyNumberFileError(
                        f"line longer than {MAX_LINE_CHARS} characters", file=path, where=number,
                        hint="is this a copy-number segment file?",
                    )
                text = line.rstrip("\r\n")
                if not text.strip():
                    continue
                if text.startswith(("@", "#")):
                    yield number, [text]
                    continue
                cells = next(csv.reader([text], delimiter="\t"))
                yield number, [c.strip() for c in cells]
    except UnicodeDecodeError as exc:
        raise CopyNumberFileError(
            "not a text file (bytes that are not UTF-8)", file=path,
            where=undecodable_line(Path(path)), hint="is this a copy-number segment file?",
        ) from exc
    except COMPRESSION_ERRORS as exc:
        raise CopyNumberFileError(f"the compressed file is truncated or corrupt ({exc})",
                                  file=path) from exc
    except OSError as exc:
        raise CopyNumberFileError(f"cannot read the file: {exc}", file=path) from exc


@dataclass(frozen=True)
class _Layout:
    """Which columns of a recognised header hold what."""

    format: str
    kind: str
    chrom: str
    start: str
    end: str
    log2: str | None = None
    cn: tuple[str, ...] = ()  # summed: ASCAT nMajor + nMinor
    probes: str | None = None
    sample: str | None = None
    zero_based: bool = False


def _first(names: dict[str, str], *candidates: str) -> str | None:
    return next((names[c] for c in candidates if c in names), None)


def _layout(path: Path, header: list[str], where: int) -> _Layout:
    """The format of a header line, or a one-line error naming what is missing."""
    names = {h.lower(): h for h in header if h}
    exact = set(header)

    def need(fmt: str, *columns: str) -> None:
        missing = [c for c in columns if c.lower() not in names]
        if missing:
            raise CopyNumberFileError(
                f"{fmt} segment file without column(s) {', '.join(missing)}", file=path,
                where=where, field=missing[0], hint=f"header: {' '.join(header)}",
            )

    if "CONTIG" in exact or "MEAN_LOG2_COPY_RATIO" in exact:
        need("GATK", "CONTIG", "START", "END", "MEAN_LOG2_COPY_RATIO")
        return _Layout("gatk", "log2", "CONTIG", "START", "END", log2="MEAN_LOG2_COPY_RATIO",
                       probes=_first(names, "num_points_copy_ratio"))
    if "chromosome" in names and "gene" in names:
        need("CNVkit", "chromosome", "start", "end", "log2")
        cn = names.get("cn")
        return _Layout("cnvkit", "absolute" if cn else "log2", names["chromosome"],
                       names["start"], names["end"], log2=names["log2"],
                       cn=(cn,) if cn else (), probes=names.get("probes"), zero_based=True)
    if "tcn.em" in names or "lcn.em" in names:
        start = _first(names, "start", "loc.start")
        end = _first(names, "end", "loc.end")
        need("FACETS", "chrom", start or "start", end or "end", "tcn.em")
        return _Layout("facets", "absolute", names["chrom"], start, end, cn=(names["tcn.em"],),
                       probes=names.get("num.mark"), sample=_first(names, "id", "sid", "sample"))
    if "nmajor" in names or "startpos" in names:
        need("ASCAT", "sample", "chr", "startpos", "endpos", "nMajor", "nMinor")
        return _Layout("ascat", "absolute", names["chr"], names["startpos"], names["endpos"],
                       cn=(names["nmajor"], names["nminor"]), sample=names["sample"])
    chrom = _first(names, "chrom", "#chrom", "chromosome", "chr", "contig")
    value_log2 = _first(names, "log2", "log2_ratio", "log2ratio")
    value_cn = _first(names, "copy_number", "cn", "total_cn", "tcn")
    if chrom and (value_log2 or value_cn):
        need("plain", "start", "end")
        return _Layout("plain", "absolute" if value_cn else "log2", chrom, names["start"],
                       names["end"], log2=value_log2, cn=(value_cn,) if value_cn else (),
                       probes=_first(names, "probes", "num_probes", "num.mark", "n_probes"),
                       sample=_first(names, "sample", "sample_id"))
    raise CopyNumberFileError(
        "not a copy-number segment file of a known format", file=path, where=where,
        hint=(f"header: {' '.join(header)[:200]}; expected CNVkit .cns, GATK .called.seg, "
              f"FACETS cncf, ASCAT segments or 'chrom start end log2|copy_number'"),
    )


def _number(path: Path, line: int, column: str, text: str, *, integer: bool = False) -> float:
    if text in _MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
        ok = False
    else:
        ok = math.isfinite(value) or column.lower() in {"log2", "mean_log2_copy_ratio"}
    if not ok or (integer and value != int(value)):
        kind = "a whole number" if integer else "a number"
        raise CopyNumberFileError(f"{text!r} is not {kind}", file=path, where=line, field=column)
    return value


def read_segments(path: str | os.PathLike[str]) -> Segments:
    """Read one copy-number segment file (format from its header; see the module doc).

    Raises :class:`CopyNumberFileError` naming the file, line and field of the first problem.
    """
    path = Path(path)
    contig_lengths: dict[str, int] = {}
    layout: _Layout | None = None
    header: list[str] = []
    records: list[tuple] = []
    for number, cells in _rows(path):
        if layout is None:
            if len(cells) == 1 and cells[0].startswith("@"):
                _sam_header_line(cells[0], contig_lengths)
                continue
            if len(cells) == 1 and cells[0].startswith("#") and "\t" not in cells[0]:
                continue
            if cells[0].startswith("#"):  # '#chrom\tstart...' header
                cells = next(csv.reader([cells[0]], delimiter="\t"))
            header = [c.strip() for c in cells]
            layout = _layout(path, header, number)
            index = {name: i for i, name in enumerate(header)}
            row_names: bool | None = None
            continue
        if cells[0].startswith(("@", "#")):
            continue
        if row_names is None:
            # R's write.table(row.names = TRUE) writes one more cell per row than the header
            row_names = len(cells) == len(header) + 1
            if row_names:
                index = {name: i + 1 for i, name in enumerate(header)}
        if len(cells) < len(header) + row_names:
            missing = header[max(len(cells) - row_names, 0)]
            raise CopyNumberFileError(
                f"{len(cells)} cells where the header has {len(header)}", file=path,
                where=number, field=missing, hint="a truncated line or a wrong delimiter (tabs)",
            )
        records.append(_record(path, number, cells, layout, index))
    if layout is None:
        raise CopyNumberFileError("empty file: no header line", file=path,
                                  hint="expected a copy-number segment file")
    frame = pd.DataFrame.from_records(records, columns=SEGMENT_COLUMNS)
    frame = frame.astype({"start": "int64", "end": "int64", "line": "int64",
                          "log2": "float64", "cn": "float64", "probes": "float64"})
    _check_order(path, frame)
    assembly = None
    if "4" in contig_lengths:
        assembly = assembly_from_chr4_length(contig_lengths["4"])
    return Segments(path, layout.format, layout.kind, frame, assembly, contig_lengths)


def _sam_header_line(text: str, lengths: dict[str, int]) -> None:
    fields = text.split("\t")
    if fields[0] != "@SQ":
        return
    tags = dict(f.split(":", 1) for f in fields[1:] if ":" in f)
    if "SN" in tags and tags.get("LN", "").isdigit():
        lengths[normalize_chrom(tags["SN"])] = int(tags["LN"])


def _record(path: Path, number: int, cells: list[str], layout: _Layout,
            index: dict[str, int]) -> tuple:
    def cell(column: str) -> str:
        return cells[index[column]]

    chrom_raw = cell(layout.chrom)
    if not chrom_raw:
        raise CopyNumberFileError("empty chromosome", file=path, where=number, field=layout.chrom)
    chrom = normalize_chrom(chrom_raw)
    if layout.format == "facets":
        chrom = _FACETS_CHROM.get(chrom, chrom)
    start = _number(path, number, layout.start, cell(layout.start), integer=True)
    end = _number(path, number, layout.end, cell(layout.end), integer=True)
    for column, value in ((layout.start, start), (layout.end, end)):
        if math.isnan(value) or value < 0:
            raise CopyNumberFileError("missing or negative coordinate", file=path, where=number,
                                      field=column)
    if layout.zero_based:
        start += 1
    if start > end:
        raise CopyNumberFileError(
            f"segment starts after it ends ({int(start)} > {int(end)})", file=path, where=number,
            field=layout.start,
        )
    log2 = _number(path, number, layout.log2, cell(layout.log2)) if layout.log2 else math.nan
    cn = math.nan
    if layout.cn:
        parts = [_number(path, number, c, cell(c)) for c in layout.cn]
        cn = math.nan if any(math.isnan(p) for p in parts) else sum(parts)
        if cn < 0:
            raise CopyNumberFileError(f"negative copy number {cn:g}", file=path, where=number,
                                      field=layout.cn[0])
    probes = (_number(path, number, layout.probes, cell(layout.probes), integer=True)
              if layout.probes else math.nan)
    sample = cell(layout.sample) if layout.sample else ""
    return sample, chrom, int(start), int(end), log2, cn, probes, number


def _check_order(path: Path, frame: pd.DataFrame) -> None:
    """Within a sample, each chromosome is one block of segments sorted by start, not
    overlapping (the way every segmenter writes them)."""
    last: dict[tuple[str, str], tuple[int, int, int]] = {}  # (sample, chrom) -> (start, end, line)
    current: dict[str, str] = {}  # sample -> chromosome of the previous row
    for sample, chrom, start, end, line in zip(
        frame["sample"], frame["chrom"], frame["start"], frame["end"], frame["line"], strict=True
    ):
        key = (sample, chrom)
        if key in last and current.get(sample) != chrom:
            raise CopyNumberFileError(
                f"chromosome {chrom} appears again after other chromosomes "
                f"(first block ends on line {last[key][2]})", file=path, where=int(line),
                field="chrom", hint="segments must be grouped by chromosome and sorted",
            )
        if key in last:
            previous_start, previous_end, previous_line = last[key]
            if start <= previous_end:
                what = "unsorted" if start <= previous_start else "overlapping"
                raise CopyNumberFileError(
                    f"{what} segments: starts at {start}, the segment on line {previous_line} "
                    f"ends at {previous_end}", file=path, where=int(line), field="start",
                    hint="segments of a chromosome must be sorted by start and not overlap",
                )
        last[key] = (int(start), int(end), int(line))
        current[sample] = chrom


def select_sample(segments: Segments, sample: str) -> pd.DataFrame:
    """The rows of ``sample`` in a multi-sample file (ASCAT, FACETS ``ID``); a file holding one
    sample is returned whole whatever its name. Raises :class:`CopyNumberFileError`."""
    names = segments.samples
    if len(names) <= 1:
        return segments.frame
    if sample in names:
        return segments.frame[segments.frame["sample"] == sample]
    raise CopyNumberFileError(
        f"the file holds {len(names)} samples and none is called {sample!r}",
        file=segments.path, field="sample", hint=f"samples: {', '.join(names[:10])}",
    )


def check_build(segments: Segments, assembly: str, *, what: str = "the sample's calls") -> None:
    """Raise :class:`ReferenceMismatchError` when the segments cannot be on ``assembly``.

    What can be checked: (1) the header's ``@SQ`` chr4 length (GATK) names a build; (2) a
    segment of chromosome 1-22/X/Y ends beyond that chromosome's length in ``assembly``. What
    cannot: a file without ``@SQ`` lines whose segments all fit both builds (most files; the
    builds differ by at most ~2.5 Mb per chromosome) is accepted.
    """
    if segments.assembly and segments.assembly != assembly:
        raise ReferenceMismatchError(
            f"the copy-number file is on {segments.assembly} (its @SQ chr4 length) but "
            f"{what} are on {assembly}", file=segments.path, field="assembly",
            hint="use the segments of the same build as the calls",
        )
    lengths = CHROM_LENGTHS.get(assembly)
    if lengths is None:
        return
    frame = segments.frame
    limit = frame["chrom"].map(lengths)
    beyond = frame[limit.notna() & (frame["end"] > limit)]
    if len(beyond):
        row = beyond.iloc[0]
        other = next((a for a, ls in CHROM_LENGTHS.items()
                      if a != assembly and row["end"] <= ls.get(row["chrom"], 0)), None)
        hint = f"it fits {other}: use the segments of the calls' build" if other else None
        raise ReferenceMismatchError(
            f"segment end {int(row['end'])} lies beyond chr{row['chrom']} of {assembly} "
            f"({lengths[row['chrom']]} bp), the build of {what}", file=segments.path,
            where=int(row["line"]), field="end", hint=hint,
        )


#: Columns of :func:`read_copy_number`, in order.
COPY_NUMBER_SEGMENT_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "cnv_path", "format", "kind", "chrom", "start", "end",
    "log2", "cn", "probes", "line",
]


def read_copy_number(sheet: pd.DataFrame, *,
                     assembly: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """The segments of every sample's ``cnv`` file: :data:`COPY_NUMBER_SEGMENT_COLUMNS`.

    ``sheet`` is :func:`lesiontrack.read_samplesheet` (``cnv_path`` absolute; samples without a
    ``cnv`` file give no rows). A multi-sample file gives the rows of the sample named like the
    ``sample_id`` (or ``vcf_sample``). When the build of the sample's calls is known
    (``assembly``: one build or a mapping by sample_id, e.g. from the calls table; else the
    sheet's ``assembly``), :func:`check_build` runs. Raises :class:`CopyNumberFileError`,
    :class:`~lesiontrack.errors.ReferenceMismatchError` or
    :class:`~lesiontrack.errors.SampleSheetError` (two different cnv files for one sample).
    """
    from ..errors import SampleSheetError

    if "cnv_path" not in sheet.columns:
        return pd.DataFrame(columns=COPY_NUMBER_SEGMENT_COLUMNS)
    frames = []
    seen: dict[str, str] = {}
    cache: dict[str, Segments] = {}
    for row in sheet.itertuples(index=False):
        path = getattr(row, "cnv_path", "") or ""
        if not isinstance(path, str) or not path:
            continue
        sid = str(row.sample_id)
        if sid in seen:
            if seen[sid] != path:
                raise SampleSheetError(
                    f"sample {sid!r} has two copy-number files", field="cnv",
                    where=getattr(row, "line", None), hint="one cnv file per sample",
                )
            continue
        seen[sid] = path
        segments = cache.get(path) or read_segments(path)
        cache[path] = segments
        build = assembly.get(sid) if isinstance(assembly, Mapping) else assembly
        build = build or (getattr(row, "assembly", "") or None)
        if build:
            check_build(segments, str(build), what=f"the calls of sample {sid}")
        names = segments.samples
        name = sid
        vcf_sample = str(getattr(row, "vcf_sample", "") or "")
        if len(names) > 1 and sid not in names and vcf_sample in names:
            name = vcf_sample
        rows = select_sample(segments, name).drop(columns="sample").copy()
        rows.insert(0, "kind", segments.kind)
        rows.insert(0, "format", segments.format)
        rows.insert(0, "cnv_path", path)
        rows.insert(0, "sample_id", sid)
        rows.insert(0, "lesion_id", row.lesion_id)
        rows.insert(0, "patient_id", row.patient_id)
        frames.append(rows)
    if not frames:
        return pd.DataFrame(columns=COPY_NUMBER_SEGMENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[COPY_NUMBER_SEGMENT_COLUMNS]
