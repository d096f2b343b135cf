"""What every reader of calls returns: a :class:`ReadResult` whose ``calls`` frame has exactly
:data:`RAW_COLUMNS`, one row per (sample in the file, record, ALT allele), alleles already in
their minimal form (:func:`lesiontrack.variants.minimal`); and the cleaning every result gets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .xmlsafe import ILLEGAL_CHARACTERS, REPLACEMENT, character_name, replace_illegal

#: Columns of a reader's raw calls frame.
RAW_COLUMNS: list[str] = [
    "file_sample",  # the sample's column name / Tumor_Sample_Barcode in the file
    "chrom_raw",  # contig as written in the file ("chr4" or "4")
    "pos",  # int, minimal-form position (see lesiontrack.variants)
    "ref",  # minimal REF ("-" for an insertion)
    "alt",  # minimal ALT ("-" for a deletion)
    "alt_count",  # float or NaN: reads supporting ALT
    "depth",  # float or NaN: reads at the site (per the caller rule)
    "vaf",  # float or NaN: alt_count / depth, or the caller's fraction when counts are missing
    "caller_vaf",  # float or NaN: the caller's own allele-fraction estimate (Mutect2 AF, FREQ...)
    "filter",  # FILTER as written ("PASS", ".", "weak_evidence;...")
    "caller",  # detected caller/format: mutect2, strelka2_snv, strelka2_indel, varscan2, ...
    "ann_gene",  # gene symbol from the file's own annotation (CSQ/ANN/Hugo_Symbol), else ""
    "ann_hgvsc",  # c. name from the file's own annotation, without transcript prefix, else ""
    "ann_hgvsp",  # one-letter p. name from the file's own annotation (p.D816V), else ""
    "ann_consequence",  # the annotation's consequence terms (VEP/SnpEff SO terms, MAF class), else ""
    "record",  # where the row came from, for messages: "line 57" or "record 4:55599321"
]

#: Readers' numeric columns (floats so that "unknown" is NaN).
NUMERIC_COLUMNS = ("alt_count", "depth", "vaf", "caller_vaf")
#: The raw columns holding text read from a calls file.
TEXT_COLUMNS = ("file_sample", "chrom_raw", "ref", "alt", "filter", "caller", "ann_gene",
                "ann_hgvsc", "ann_hgvsp", "record")

log = logging.getLogger("lesiontrack")


@dataclass
class ReadResult:
    """What a reader found in one calls file."""

    calls: pd.DataFrame  # RAW_COLUMNS
    samples: list[str]  # every sample column (VCF) or Tumor_Sample_Barcode (MAF) in the file
    tumor_sample: str | None = None  # from ##tumor_sample, when the file names one
    normal_sample: str | None = None  # from ##normal_sample / a normal column, when known
    assembly_hint: str | None = None  # GRCh37/GRCh38 from the header or NCBI_Build, else None
    assembly_evidence: str = ""  # how the hint was found, for messages
    caller: str = ""  # detected caller / format of the whole file
    warnings: list[str] = field(default_factory=list)  # one line per recoverable oddity


def empty_calls() -> pd.DataFrame:
    """An empty raw calls frame with the right columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RAW_COLUMNS})
    for column in NUMERIC_COLUMNS:
        frame[column] = frame[column].astype(float)
    frame["pos"] = frame["pos"].astype("int64")
    return frame


def clean_result(path: Path, result: ReadResult) -> ReadResult:
    """``result`` with the illegal characters of its text replaced, and one warning."""
    changed, first = replace_illegal(result.calls, TEXT_COLUMNS)
    for name in ("tumor_sample", "normal_sample"):
        value = getattr(result, name)
        if value and (match := ILLEGAL_CHARACTERS.search(value)):
            first, changed = first or match.group(), changed + 1
            setattr(result, name, ILLEGAL_CHARACTERS.sub(REPLACEMENT, value))
    for i, value in enumerate(result.samples):
        if match := ILLEGAL_CHARACTERS.search(value):
            first, changed = first or match.group(), changed + 1
            result.samples[i] = ILLEGAL_CHARACTERS.sub(REPLACEMENT, value)
    if changed:
        log.warning("%s: %d value(s) hold characters XML cannot hold (first %s); replaced by "
                    "U+FFFD", path, changed, character_name(first or REPLACEMENT))
    return result


def raw_frame(arrays: list[np.ndarray], n: int) -> pd.DataFrame:
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


def cached_empty_calls() -> pd.DataFrame:
    """:func:`empty_calls`, built once and copied (building it takes longer than reading a
    small indexed region)."""
    global _EMPTY_FRAME
    if _EMPTY_FRAME is None:
        _EMPTY_FRAME = empty_calls()
    return _EMPTY_FRAME.copy(deep=False)  # no rows to share: a new frame, same dtypes

