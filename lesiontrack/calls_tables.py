"""Precomputed calls tables (``--calls``): the TSV or Parquet tables written by
``lesiontrack calls``, read whole (:func:`read_calls_table`) or a batch of patients at a time
(:func:`calls_table_batches`), checked, typed, and given ``detected`` under the command's own
thresholds."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from . import genome
from .annotate import annotate_variant, consequence_from_hgvsp
from .calls import CALLS_COLUMNS, SHEET_COLUMNS, empty_calls_table
from .errors import CallsFileError
from .io.bounded import GuardedReader
from .io.compression import COMPRESSION_ERRORS
from .io.xmlsafe import (
    ILLEGAL_CHARACTERS,
    REPLACEMENT,
    character_name,
    illegal_rows,
    replace_illegal,
)
from .options import BATCH_PATIENTS, Thresholds, check_whole

log = logging.getLogger("lesiontrack")


def read_calls_table(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Read calls tables written by ``lesiontrack calls`` (TSV or Parquet; several are
    concatenated), e.g. scattered per patient by a workflow and gathered here.

    ``detected`` is recomputed from the counts with ``thresholds`` (the defaults when None),
    so every command applies its own thresholds. Raises :class:`CallsFileError` for a missing
    column or a value of the wrong kind, naming the file, line and column.
    """
    warned: set[Path] = set()
    parts = [_typed_calls(chunk, path, first_line, warned)
             for path in _table_paths(paths) for chunk, first_line in _table_chunks(path)]
    if not parts:
        return empty_calls_table()
    return _finish_table(pd.concat(parts, ignore_index=True), thresholds)


#: Rows of a calls table read at a time by :func:`calls_table_batches`.
TABLE_CHUNK_ROWS = 10_000


def _table_paths(paths) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out = [Path(p) for p in paths]
    for path in out:
        if not path.is_file():
            raise CallsFileError("calls table not found", file=path, field="--calls")
    return out


def _table_chunks(path: Path, columns: list[str] | None = None,
                  rows: int | None = None) -> Iterator[tuple[pd.DataFrame, int]]:
    """(rows as text or as stored, file line of the first) of a TSV or Parquet calls table,
    ``rows`` at a time (all at once when None); ``columns``: only these."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if rows is None:
                yield pd.read_parquet(path, columns=columns), 2
                return
            source = pq.ParquetFile(path)
            line = 2
            empty = True
            for batch in source.iter_batches(batch_size=rows, columns=columns):
                schema = source.schema_arrow if columns is None else batch.schema
                frame = pa.Table.from_batches([batch], schema=schema).to_pandas()
                empty = False
                yield frame, line
                line += len(frame)
            if empty:
                yield source.schema_arrow.empty_table().to_pandas(), 2
            return
        # through a guard: decompression bounded, no line longer than MAX_LINE_BYTES held
        with GuardedReader(path, what="calls table") as source:
            reader = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False,
                                 na_values=[], usecols=columns, chunksize=rows)
            if rows is None:
                yield reader, 2
                return
            line = 2
            with reader:
                for frame in reader:
                    yield frame, line
                    line += len(frame)
        if line == 2:  # a header and no rows: its columns are still checked
            with GuardedReader(path, what="calls table") as source:
                yield pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False,
                                  na_values=[], usecols=columns, nrows=0), 2
    except ImportError as exc:
        raise CallsFileError("reading Parquet needs pyarrow", file=path,
                             hint="pip install 'lesiontrack[parquet]'") from exc
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(f"the compressed file is truncated or corrupt ({exc})", file=path,
                             field="--calls", hint="copy the file again") from exc
    except (ValueError, OSError, UnicodeDecodeError, KeyError) as exc:
        missing = _missing_from_header(path)
        if missing:  # e.g. a sample sheet or patient table given to --calls
            raise CallsFileError(
                f"not a calls table: missing column(s) {', '.join(missing[:5])}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""), file=path,
                where=1, field=missing[0], hint="write it with 'lesiontrack calls'") from exc
        raise CallsFileError(f"not a calls table: {exc}", file=path, where=1) from exc


def _missing_from_header(path: Path) -> list[str]:
    """The calls-table columns missing from the first line of a text table ([] when it cannot
    be read as one)."""
    try:
        with GuardedReader(path, what="calls table") as source:
            start = source.read(1 << 16)
    except Exception:  # the original error is the one reported
        return []
    lines = [x for x in start.decode("utf-8", "replace").splitlines()[:-1] or [""]
             if x.strip() and not x.startswith("#")]
    header = set((lines[0] if lines else "").split("\t"))
    return [c for c in CALLS_COLUMNS if c not in header and c not in _COMPUTED_COLUMNS
            and c != "date"]


def _finish_table(calls: pd.DataFrame, thresholds: Thresholds | None) -> pd.DataFrame:
    """The gathered rows of calls tables: checked for repeats, ``detected`` recomputed, sorted."""
    repeated = calls.duplicated(["patient_id", "sample_id", "variant_key"])
    if repeated.any():
        row = calls[repeated].iloc[0]
        raise CallsFileError(
            f"sample {row.sample_id!r} of patient {row.patient_id!r} has {row.variant_key} in "
            "two calls tables", field="--calls", hint="give each sample's rows once",
        )
    calls["detected"] = (thresholds or Thresholds()).detect_calls(calls)
    return calls.sort_values(["patient_id", "lesion_id", "sample_id", "chrom", "pos", "ref",
                              "alt"], kind="stable").reset_index(drop=True)


def _table_patients(path: Path) -> set[str]:
    """The patient identifiers of a calls table (read alone; a table without the column gets
    the error the full reading gives)."""
    try:
        return {str(p) for chunk, _ in _table_chunks(path, ["patient_id"], TABLE_CHUNK_ROWS)
                for p in chunk["patient_id"].astype(object).fillna("")}
    except CallsFileError:
        for chunk, first_line in _table_chunks(path, rows=TABLE_CHUNK_ROWS):
            _typed_calls(chunk, path, first_line)  # names the missing column
            break
        raise


def calls_table_batches(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    thresholds: Thresholds | None = None,
    patients_per_batch: int = BATCH_PATIENTS,
    also_patients: Iterable[str] = (),
) -> tuple[list[str], Iterator[tuple[list[str], pd.DataFrame]]]:
    """:func:`read_calls_table` in batches of patients, for cohorts whose calls table should
    not be held whole: (every patient, in plain sorted order, with ``also_patients``; an
    iterator of (the batch's patients, their calls table)). Each batch's table is that of
    :func:`read_calls_table` restricted to its patients. The tables are read twice (their
    patient column, then ``TABLE_CHUNK_ROWS`` rows at a time into per-batch spill files in a
    temporary folder); memory follows the largest batch."""
    check_whole(patients_per_batch, "patients_per_batch", 1)
    tables = _table_paths(paths)
    patients = set(also_patients)
    for path in tables:
        patients |= _table_patients(path)
    order = sorted(patients)
    batches = [order[i:i + patients_per_batch] for i in range(0, len(order), patients_per_batch)]
    return order, _spilled_batches(tables, batches, thresholds)


def _spilled_batches(tables: list[Path], batches: list[list[str]],
                     thresholds: Thresholds | None) -> Iterator[tuple[list[str], pd.DataFrame]]:
    import pickle
    import shutil

    from .output import output_errors, private_folder

    batch_of = {p: i for i, batch in enumerate(batches) for p in batch}
    folder = private_folder("calls")  # lesiontrack-calls-<pid>-...: stale ones are removed
    try:
        spills = [folder / f"batch-{i:06d}.pickle" for i in range(len(batches))]
        warned: set[Path] = set()
        for path in tables:
            for chunk, first_line in _table_chunks(path, rows=TABLE_CHUNK_ROWS):
                typed = _typed_calls(chunk, path, first_line, warned)
                index = typed["patient_id"].map(batch_of)
                if index.isna().any():  # pragma: no cover - the first reading saw them all
                    raise RuntimeError(f"{path}: a patient the first reading did not see")
                for number, piece in typed.groupby(index.to_numpy(), sort=True):
                    # opened per piece: one open file at a time, however many batches
                    with output_errors(folder), spills[int(number)].open("ab") as handle:
                        pickle.dump(piece, handle, protocol=pickle.HIGHEST_PROTOCOL)
        for number, batch in enumerate(batches):
            pieces = []
            if spills[number].exists():
                with spills[number].open("rb") as handle:
                    while True:
                        try:
                            pieces.append(pickle.load(handle))
                        except EOFError:
                            break
                spills[number].unlink()
            calls = (_finish_table(pd.concat(pieces, ignore_index=True), thresholds)
                     if pieces else empty_calls_table())
            del pieces
            yield batch, calls
            del calls  # not held while the next batch is read
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _typed_calls(frame: pd.DataFrame, path: Path, first_line: int = 2,
                 warned: set[Path] | None = None) -> pd.DataFrame:
    """The columns of a calls table, typed; ``first_line``: the file line of the first row.
    Characters XML cannot hold are refused in the sample sheet's columns and replaced in the
    others, with a warning (once per file in ``warned``: the files already warned about)."""
    missing = [c for c in CALLS_COLUMNS if c not in frame.columns and c not in _COMPUTED_COLUMNS
               and c not in _OPTIONAL_TABLE_COLUMNS]
    if missing:
        raise CallsFileError(f"missing column(s) {', '.join(missing)}", file=path, where=1,
                             field=missing[0], hint="write it with 'lesiontrack calls'")
    frame = frame[[c for c in CALLS_COLUMNS if c in frame.columns]].copy()
    numeric = {"pos": "int64", "codon": "Int64", "alt_count": "Int64", "depth": "Int64",
               "vaf": "float64", "caller_vaf": "float64"}
    for column, dtype in numeric.items():
        values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        bad = values.isna() & frame[column].astype(str).ne("") & frame[column].notna()
        if column == "pos":
            bad |= values.isna()
        if bad.any():
            index = int(bad.to_numpy().nonzero()[0][0])
            raise CallsFileError(f"not a number: {frame[column].iloc[index]!r}", file=path,
                                 where=index + first_line, field=column)
        frame[column] = values.round().astype(dtype) if dtype != "float64" else values
    # calls.tsv writes floats to 6 significant digits: where the VAF is the counts' ratio, take
    # the exact ratio back, so gathered tables give the numbers of the direct run (tumour
    # content and expected VAFs are computed from it)
    ratio = frame["alt_count"].astype(float) / frame["depth"].astype(float).where(
        frame["depth"].astype(float) > 0)
    rounded = np.isclose(frame["vaf"].to_numpy(dtype=float), ratio.to_numpy(), rtol=1e-5,
                         atol=0.0)
    frame.loc[rounded, "vaf"] = ratio[rounded]
    for column in CALLS_COLUMNS:
        if column not in numeric and column != "detected" and column in frame.columns:
            frame[column] = frame[column].astype(object).fillna("").astype(str)
    for column in _OPTIONAL_TABLE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    for column in SHEET_COLUMNS:  # the sample sheet's text: refused, as in the sheet
        rows = illegal_rows(frame[column])
        if len(rows):
            char = ILLEGAL_CHARACTERS.search(frame[column].iloc[rows[0]]).group()
            raise CallsFileError(
                f"character {character_name(char)} is not allowed", file=path,
                where=int(rows[0]) + first_line, field=column,
                hint="control characters and U+FFFE/U+FFFF cannot be written to the "
                     "XML/GraphML outputs: remove it",
            )
    changed, char = replace_illegal(frame, [c for c in CALLS_COLUMNS if c not in numeric
                                            and c not in SHEET_COLUMNS and c != "detected"
                                            and c in frame.columns])
    if changed and (warned is None or path not in warned):
        log.warning("%s: value(s) hold characters XML cannot hold (first %s); replaced by "
                    "U+FFFD", path, character_name(char or REPLACEMENT))
        if warned is not None:
            warned.add(path)
    if any(c not in frame.columns for c in _COMPUTED_COLUMNS):
        frame = _add_consequence(frame)
    return frame[CALLS_COLUMNS]


#: Columns of :data:`CALLS_COLUMNS` that a calls table written before they existed may lack:
#: they are computed on reading (:func:`_add_consequence`).
_COMPUTED_COLUMNS = ("consequence", "consequence_source")
#: Columns a calls table written before they existed may lack, read as empty (undated samples).
_OPTIONAL_TABLE_COLUMNS = ("date",)


def _add_consequence(frame: pd.DataFrame) -> pd.DataFrame:
    """``consequence`` and ``consequence_source`` of a calls table that lacks them, from the
    table's own columns: a p. name from the input's annotation counts as the annotation's, and
    the rest is annotated again without a reference (bundled sequences, then the model)."""
    keys = ["assembly", "chrom", "pos", "ref", "alt", "hgvsp", "hgvsp_source"]
    sites = frame[keys].drop_duplicates()
    found = []
    for row in sites.itertuples(index=False):
        out = {"consequence": "unknown", "consequence_source": ""}
        if row.assembly in genome.ASSEMBLIES:
            given = row.hgvsp if row.hgvsp_source == "annotation" else ""
            out = annotate_variant(row.assembly, row.chrom, int(row.pos), row.ref, row.alt,
                                   ann_hgvsp=given)
        if out["consequence"] == "unknown" and row.hgvsp:  # e.g. computed from a reference
            named = consequence_from_hgvsp(row.hgvsp, row.ref, row.alt)
            if named:
                out = {"consequence": named, "consequence_source": row.hgvsp_source}
        found.append((out["consequence"], out["consequence_source"]))
    sites = sites.assign(consequence=[f[0] for f in found],
                         consequence_source=[f[1] for f in found])
    frame = frame.drop(columns=[c for c in _COMPUTED_COLUMNS if c in frame.columns])
    return frame.merge(sites, on=keys, how="left", validate="m:1")

