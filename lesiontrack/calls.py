"""Build the calls table (the spine): one row per (sample, variant), annotated, with ``detected``.

Reads every calls file named by the sample sheet once, finds each sample's column in it, settles
the genome build, normalises alleles (left-aligned when a reference is given), annotates, and
applies the detection thresholds.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import genome, progress
from .annotate import annotate_variant, consequence_from_hgvsp
from .errors import (
    CallsFileError,
    LesionTrackError,
    OptionError,
    ReferenceMismatchError,
    SampleSheetError,
)
from .io import REPLACEMENT, ReadResult, illegal_rows, read_calls_file, replace_illegal
from .io.bounded import GuardedReader
from .options import BATCH_PATIENTS, DEFAULT_GENES, DEFAULT_JOBS, Thresholds
from .reference import Reference
from .samplesheet import read_samplesheet, sheet_folder
from .textfiles import COMPRESSION_ERRORS, ILLEGAL_CHARACTERS, character_name
from .variants import span, variant_key

log = logging.getLogger("lesiontrack")

#: Columns of the calls table, in order. Stable API: add columns, never rename.
CALLS_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "role", "status", "status_raw", "site", "timepoint",
    "assembly", "chrom", "chrom_raw", "pos", "ref", "alt", "variant_key",
    "gene", "exon", "codon", "hgvsc", "hgvsp", "hgvsp_source", "consequence",
    "consequence_source", "role_hint", "alt_count", "depth", "vaf", "caller_vaf", "filter", "caller", "source", "record",
    "detected", "date",
]


def parse_genes(genes: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"KIT,PDGFRA"`` or a list -> upper-case tuple; ``"all"`` -> None (every gene)."""
    if genes is None:
        return DEFAULT_GENES
    items = [g.strip() for g in (genes.split(",") if isinstance(genes, str) else genes)]
    items = [g for g in items if g]
    if not items:
        raise OptionError("--genes needs at least one gene name, or 'all'", field="genes")
    if any(g.lower() == "all" for g in items):
        return None
    return tuple(dict.fromkeys(g.upper() for g in items))


def _windows(genes: tuple[str, ...] | None) -> list[tuple[str, int, int]] | None:
    """Read windows for the bundled genes; None (read everything) when any gene is not bundled."""
    if genes is None or not set(genes) <= set(genome.bundled_genes()):
        return None
    return [(c, s, e) for c, s, e, _, _ in genome.gene_regions(list(genes))]


def _resolve_sample(result: ReadResult, n_rows: int, wanted: str, path: Path, sheet: Path,
                    line: int) -> str | None:
    """The file's column for a sample-sheet sample (see the README for the rule); None when the
    file is a MAF/TSV without a single row (no calls for anyone, which is not an error)."""
    if wanted in result.samples:
        return wanted
    if not result.samples:
        if not n_rows and result.caller.startswith(("maf", "tsv")):
            return None
        raise CallsFileError(
            f"no sample columns (a sites-only VCF): no allele counts for sample {wanted!r} "
            f"(sample sheet line {line})", file=path, field="FORMAT",
            hint="give the caller's VCF with the tumour sample's column, not a sites-only or "
                 "annotation-only VCF",
        )
    tumours = [s for s in result.samples if s != result.normal_sample]
    if result.tumor_sample in result.samples:
        tumours = [result.tumor_sample]
    if len(tumours) == 1 and len(result.samples) <= 2:
        if tumours[0] == "":  # a TSV without a sample column: its rows are the sample's
            log.warning("%s: %s has no sample column; its rows are taken as those of "
                        "sample %r", sheet, path.name, wanted)
        else:
            log.warning("%s: sample %r not found in %s; using its only tumour sample %r",
                        sheet, wanted, path.name, tumours[0])
        return tumours[0]
    shown = ", ".join(repr(s) for s in result.samples[:10]) or "none"
    raise SampleSheetError(
        f"sample {wanted!r} is not in {path} (its samples: {shown})", file=sheet, where=line,
        field="vcf_sample", hint="set the vcf_sample column to the sample's name in the file",
    )


def _assembly(rows: list[dict], result: ReadResult, option: str | None, path: Path,
              sheet: Path | None = None) -> str:
    """The build of one calls file: the sheet's rows for it, else --assembly, else the file."""
    declared = {r["assembly"] for r in rows if r["assembly"]} or ({option} if option else set())
    if len(declared) > 1:
        first = next(r["assembly"] for r in rows if r["assembly"])
        later = next(r for r in rows if r["assembly"] and r["assembly"] != first)
        raise SampleSheetError(
            f"{path} is given two assemblies in the sample sheet ({first} and "
            f"{later['assembly']})", file=sheet, where=int(later["line"]), field="assembly",
        )
    if declared:
        assembly = declared.pop()
        if result.assembly_hint and result.assembly_hint != assembly:
            raise CallsFileError(
                f"the file is {result.assembly_hint} ({result.assembly_evidence}) but the "
                f"sample sheet or --assembly says {assembly}", file=path, field="assembly",
            )
        return assembly
    if result.assembly_hint:
        return result.assembly_hint
    raise CallsFileError(
        "cannot tell the genome build: no assembly column, no --assembly, no chr4 ##contig "
        "length, ##reference or NCBI_Build", file=path, field="assembly",
        hint="give --assembly GRCh37 or GRCh38",
    )


def _base(sheet: Path) -> str:
    """The folder the sample sheet's paths are shown relative to."""
    return str(sheet_folder(sheet))


def _display(path: str, sheet: Path, base: str | None = None) -> str:
    """``path`` relative to the sample sheet's folder (``base``, when already known)."""
    try:
        return os.path.relpath(path, base if base is not None else _base(sheet))
    except ValueError:  # another drive
        return path


class _Held(logging.Filter):
    """Holds what a reader logs, so that it is emitted once, by the process that gathers."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = record.getMessage(), None  # picklable, formatted once
        record.exc_info = record.exc_text = None
        self.records.append(record)
        return False


def _read_one(job: tuple[str, list | None, bool, bool]
              ) -> tuple[ReadResult, list[logging.LogRecord]]:
    """Read one calls file (a top-level function so worker processes can run it); returns the
    result and the log records the reader emitted, held back (see :func:`_emit_read_logs`)."""
    path, windows, include_filtered, assume_sorted = job
    held = _Held()
    log.addFilter(held)
    try:
        result = read_calls_file(Path(path), regions=windows, include_filtered=include_filtered,
                                 assume_sorted=assume_sorted)
    finally:
        log.removeFilter(held)
    return result, held.records


def _emit_read_logs(result: ReadResult, records: list[logging.LogRecord], path: Path) -> None:
    """Each of a file's warnings exactly once: the reader's own records, then any warning of
    ``result.warnings`` the reader did not log itself."""
    logged = []
    for record in records:
        logged.append(record.getMessage())
        if log.isEnabledFor(record.levelno):
            log.handle(record)
    for message in result.warnings:
        if not any(message in text for text in logged):
            log.warning("%s: %s", path, message)


#: Most files one task reads; their rows travel back as one frame (one concatenation and one
#: pickle per task, not per file).
_TASK_FILES = 64


class _Read(NamedTuple):
    """One file of a task: its result (rows held in the task's frame), its held log records,
    its number of rows, or the error that refused it (raised when the gathering reaches it)."""

    result: ReadResult | None
    logs: list[logging.LogRecord]
    n_rows: int
    error: LesionTrackError | None


def _read_task(job: tuple[list[str], list | None, bool, bool]
               ) -> tuple[pd.DataFrame | None, list[_Read]]:
    """Read a task's files in order (a top-level function so worker processes can run it):
    (their rows as one frame, or None without rows; one :class:`_Read` per file read). A file
    refused ends the task: it is the last entry, its error in it."""
    paths, windows, include_filtered, assume_sorted = job
    frames: list[pd.DataFrame] = []
    reads: list[_Read] = []
    for path in paths:
        try:
            result, logs = _read_one((path, windows, include_filtered, assume_sorted))
        except LesionTrackError as exc:
            reads.append(_Read(None, [], 0, exc))
            break
        n_rows = len(result.calls)
        if n_rows:
            frames.append(result.calls)
        result.calls = None  # type: ignore[assignment]  # its rows are in the task's frame
        reads.append(_Read(result, logs, n_rows, None))
    if not frames:
        return None, reads
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), reads


def _read_all(paths: list[str], windows, include_filtered: bool, jobs: int,
              assume_sorted: bool = False):
    """(frame or None, [_Read, ...]) per task of consecutive files, in the order of ``paths``;
    ``jobs`` > 1 reads the tasks in worker processes, whose warnings are then emitted by the
    gathering process, once, like those of ``jobs`` = 1."""
    per_task = max(1, min(_TASK_FILES, -(-len(paths) // (max(jobs, 1) * 8))))
    tasks = [(paths[i:i + per_task], windows, include_filtered, assume_sorted)
             for i in range(0, len(paths), per_task)]
    if jobs <= 1 or len(tasks) < 2:
        yield from map(_read_task, tasks)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        try:
            yield from pool.map(_read_task, tasks)
        except BaseException:  # an error or SIGTERM while gathering: read no more files
            stop_worker_pool(pool)
            raise


def stop_worker_pool(pool) -> None:
    """Stop a worker pool at once, never waiting for it: cancel the tasks not started, end the
    workers, and close this process's end of the result pipe. A worker killed while sending a
    result (SIGTERM to the process group) leaves a partial message, and the pool's reader
    would wait for the rest for ever, also at exit; with no writer left it sees the end of the
    pipe instead, and the pool ends as broken."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    _quiet_cancelled_futures(getattr(pool, "_executor_manager_thread", None))
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    with contextlib.suppress(Exception):
        results._writer.close()


def _quiet_cancelled_futures(manager) -> None:
    """The pool's manager thread, finding its workers gone, sets an error on every pending
    future, and fails with ``InvalidStateError: CANCELLED`` on those already cancelled (a
    CPython race); that thread's traceback would break the one-line errors: drop it (only
    that error, only from that thread)."""
    if manager is None:
        return
    import threading
    from concurrent.futures import InvalidStateError

    previous = threading.excepthook

    def hook(args) -> None:
        if args.thread is manager and issubclass(args.exc_type, InvalidStateError):
            return
        previous(args)

    threading.excepthook = hook


_SHEET_COLUMNS = ("patient_id", "lesion_id", "sample_id", "role", "status", "status_raw", "site",
                  "timepoint", "date")


def _gather(sheet: pd.DataFrame, sheet_path: Path, windows, include_filtered: bool,
            assembly: str | None, jobs: int = DEFAULT_JOBS, assume_sorted: bool = False) -> pd.DataFrame:
    """Every sheet sample's rows from its calls files, with the sheet's columns added.

    Reads each file once (in ``jobs`` processes), then does the pandas work once for the whole
    cohort: one concatenation, one ``take`` of the samples' rows, one ``repeat`` per column.
    Per file, the checks and the sample lookup run once per distinct patient and sample name,
    not once per sheet row (a sheet of a million rows naming one file).
    """
    positions = sheet.groupby("calls_path", sort=False).indices  # path -> sheet rows, in order
    paths = list(positions)
    patient_ids = sheet["patient_id"].to_numpy(dtype=object)
    lines = sheet["line"].to_numpy()
    assemblies = sheet["assembly"].to_numpy(dtype=object)
    written = sheet["calls"].to_numpy(dtype=object)  # the paths as the sheet wrote them
    vcf_samples = sheet["vcf_sample"].to_numpy(dtype=object)
    wanted_all = np.where(vcf_samples != "", vcf_samples, sheet["sample_id"].to_numpy(
        dtype=object))
    base = _base(sheet_path)
    builds: dict[str, tuple[str, Path, int]] = {}  # patient -> (build, first file, its line)
    frames: list[pd.DataFrame] = []
    takes: list[np.ndarray] = []  # row numbers in the concatenation of ``frames``, per file
    sheet_rows: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    per_file: list[tuple[str, str, int]] = []  # (assembly, source, sheet rows with calls)
    offset = 0
    files = iter(paths)
    shown = progress.bar(len(paths), "reading calls files", "file") if len(paths) > 1 else None
    for frame, reads in _read_all(paths, windows, include_filtered, jobs, assume_sorted):
        if shown is not None:
            shown.update(len(reads))
        all_samples = frame["file_sample"].to_numpy() if frame is not None else None
        start = offset  # this file's first row in the concatenation
        # ``reads`` first: zip stops at its end without taking the next path from ``files``
        for (result, logs, n_rows, error), calls_path in zip(reads, files, strict=False):
            if error is not None:
                raise error
            path = Path(calls_path)
            index = positions[calls_path]
            this_assembly = _assembly(_first_rows(assemblies[index], lines[index]), result,
                                      assembly, path, sheet_path)
            codes, names = pd.factorize(wanted_all[index])
            columns = _file_columns(result, n_rows, names, codes, index, patient_ids, lines,
                                    builds, this_assembly, path, sheet_path)
            # the file is usable: now its warnings (a file refused gets its one error line only)
            _emit_read_logs(result, logs, path)
            if n_rows:
                samples = all_samples[start - offset:start - offset + n_rows]
                wanted_takes = [np.flatnonzero(samples == c) if c is not None else
                                np.empty(0, dtype=np.int64) for c in columns]
                sizes = np.array([len(t) for t in wanted_takes], dtype=np.int64)
                row_sizes = sizes[codes]
                keep = row_sizes > 0
                if keep.any():
                    kept_codes, kept_sizes = codes[keep], row_sizes[keep]
                    joined = np.concatenate(wanted_takes)
                    starts = (np.cumsum(sizes) - sizes)[kept_codes]
                    ends = np.cumsum(kept_sizes)
                    within = np.arange(ends[-1]) - np.repeat(ends - kept_sizes, kept_sizes)
                    takes.append(joined[np.repeat(starts, kept_sizes) + within] + start)
                    sheet_rows.append(index[keep])
                    counts.append(kept_sizes)
                    # the path as the sheet wrote it (its first row naming the file; a sheet
                    # read from elsewhere: relative to its folder)
                    shown_as = written[index[keep][0]] or _display(calls_path, sheet_path, base)
                    per_file.append((this_assembly, shown_as, int(keep.sum())))
            start += n_rows
        if frame is not None:
            frames.append(frame)
            offset += len(frame)
    if shown is not None:
        shown.close()
    if not takes:
        return pd.DataFrame()
    calls = pd.concat(frames, ignore_index=True).take(np.concatenate(takes))
    calls = calls.reset_index(drop=True)
    rows = np.concatenate(sheet_rows)
    repeat = np.concatenate(counts)
    for name in _SHEET_COLUMNS:
        column = sheet[name] if name in sheet else pd.Series("", index=sheet.index)
        calls[name] = np.repeat(column.to_numpy(dtype=object)[rows], repeat)
    for name, position in (("assembly", 0), ("source", 1)):
        values = np.empty(len(per_file), dtype=object)
        values[:] = [f[position] for f in per_file]
        calls[name] = np.repeat(np.repeat(values, [f[2] for f in per_file]), repeat)
    return calls


def _first_rows(values: np.ndarray, lines: np.ndarray) -> list[dict]:
    """``{"assembly", "line"}`` of the first sheet row of each distinct assembly value, in
    sheet order (all :func:`_assembly` needs to name the first conflict)."""
    first = np.flatnonzero(~pd.Index(values).duplicated())
    return [{"assembly": values[i], "line": int(lines[i])} for i in first]


def _file_columns(result: ReadResult, n_rows: int, names: np.ndarray, codes: np.ndarray,
                  index: np.ndarray, patient_ids: np.ndarray, lines: np.ndarray,
                  builds: dict[str, tuple[str, Path, int]], build: str, path: Path,
                  sheet_path: Path) -> list[str | None]:
    """The file's column of each distinct wanted sample name (``names``; ``codes`` maps the
    file's sheet rows ``index`` to them), after the one-build-per-patient check. The error
    raised is the one the first offending sheet row meets (build before sample, as per row)."""
    firsts = np.flatnonzero(~pd.Index(codes).duplicated())  # first row of each name, in order
    columns: list[str | None] = []
    sample_error: tuple[int, LesionTrackError] | None = None
    for code, first in enumerate(firsts):
        try:
            columns.append(_resolve_sample(result, n_rows, names[code], path, sheet_path,
                                           int(lines[index[first]])))
        except LesionTrackError as exc:
            sample_error = (int(first), exc)
            break
    patients = patient_ids[index]
    for first in np.flatnonzero(~pd.Index(patients).duplicated()):
        if sample_error is not None and first > sample_error[0]:
            break
        _check_patient_build(builds, patients[first], build, path, int(lines[index[first]]),
                             sheet_path)
    if sample_error is not None:
        raise sample_error[1]
    return columns


def _check_patient_build(builds: dict[str, tuple[str, Path, int]], patient: str, build: str,
                         path: Path, line: int, sheet: Path) -> None:
    """One genome build per patient, whether or not its files hold calls in the genes read."""
    first = builds.setdefault(patient, (build, path, line))
    if first[0] != build:
        raise CallsFileError(
            f"patient {patient!r} mixes genome builds: this file is {build} but "
            f"{_display(str(first[1]), sheet)} (sample sheet line {first[2]}) is {first[0]}",
            file=path,
            field="assembly", hint="lift all of a patient's calls to one build",
        )


def _by_value(values: pd.Series, func) -> pd.Series:
    """``values.map(func)``, calling ``func`` once per distinct value."""
    return values.map({value: func(value) for value in values.unique()})


def _keep_genes(calls: pd.DataFrame, genes: tuple[str, ...] | None) -> pd.Series:
    """Rows inside a bundled gene's window of their build, or annotated with a wanted gene."""
    if genes is None:
        return pd.Series(True, index=calls.index)
    keep = calls["ann_gene"].isin(genes)
    chrom = _by_value(calls["chrom_raw"], genome.normalize_chrom)
    ends = [span(p, r)[1] for p, r in zip(calls["pos"], calls["ref"], strict=True)]
    ends = pd.Series(ends, index=calls.index)
    bundled = [g for g in genes if g in genome.bundled_genes()]
    for c, start, end, _gene, build in genome.gene_regions(bundled):
        keep |= (calls["assembly"] == build) & (chrom == c) & (ends >= start) & (
            calls["pos"] <= end
        )
    return keep


def _warn_unknown_genes(genes: tuple[str, ...] | None, calls: pd.DataFrame) -> None:
    """One warning naming the wanted genes that have no bundled model and that no call read is
    annotated with: nothing can be found for them (a typo, or an unannotated input)."""
    if genes is None:
        return
    bundled = set(genome.bundled_genes())
    annotated = set(calls["ann_gene"].dropna()) if "ann_gene" in calls else set()
    unknown = [g for g in genes if g not in bundled and g not in annotated]
    if unknown:
        log.warning("--genes %s: no bundled gene model (bundled: %s) and no call of the input "
                    "is annotated with %s; no rows for %s", ", ".join(unknown),
                    ", ".join(sorted(bundled)), "it" if len(unknown) == 1 else "them",
                    "it" if len(unknown) == 1 else "them")


def _check_builds(calls: pd.DataFrame) -> None:
    builds = calls.groupby("patient_id")["assembly"].nunique()
    mixed = builds[builds > 1]
    if not mixed.empty:
        patient = mixed.index[0]
        rows = calls[calls["patient_id"] == patient].drop_duplicates("assembly")
        described = "; ".join(f"{r.source} is {r.assembly}" for r in rows.itertuples())
        raise CallsFileError(f"patient {patient!r} mixes genome builds: {described}",
                             field="assembly", hint="lift all of a patient's calls to one build")


def _check_reference_readable(reference: Reference) -> None:
    """Raise ReferenceMismatchError unless every contig of the FASTA can be read to its end:
    a FASTA truncated or edited after its ``.fai`` index was made would fail only later, in the
    middle of the work (pysam's ValueError, htslib's messages on stderr)."""
    import pysam

    name = None
    previous = pysam.set_verbosity(0)
    try:
        with pysam.FastaFile(str(reference.fasta_path)) as fasta:
            for name, length in zip(fasta.references, fasta.lengths, strict=True):
                if length and len(fasta.fetch(name, length - 1, length)) != 1:
                    raise ValueError("short read")
    except (OSError, ValueError) as exc:
        where = f" (contig {name})" if name else ""
        raise ReferenceMismatchError(
            f"the reference FASTA cannot be read{where}: the file is truncated or its .fai "
            f"index does not match it ({exc})", file=reference.path,
            hint="re-create the index with 'samtools faidx', or copy the FASTA again",
        ) from exc
    finally:
        pysam.set_verbosity(previous)


def _normalise_with_reference(calls: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    for build in calls["assembly"].unique():
        reference.check_assembly(build, "the calls")
    _check_reference_readable(reference)
    sites = calls.drop_duplicates(["chrom_raw", "pos", "ref", "alt"])
    moved: dict[tuple, tuple[int, str, str]] = {}
    for row in sites.itertuples(index=False):
        if row.ref != "-":
            bases = reference.fetch(row.chrom_raw, row.pos, row.pos + len(row.ref) - 1)
            if bases is not None and bases != row.ref:
                raise CallsFileError(
                    f"REF {row.ref} does not match the reference ({bases}) at "
                    f"{row.chrom_raw}:{row.pos}", file=row.source, where=row.record, field="REF",
                    hint="is the reference FASTA of another genome build?",
                )
        if row.ref == "-" or row.alt == "-":
            moved[(row.chrom_raw, row.pos, row.ref, row.alt)] = reference.left_align(
                row.chrom_raw, row.pos, row.ref, row.alt
            )
    if moved:
        keys = list(zip(calls["chrom_raw"], calls["pos"], calls["ref"], calls["alt"],
                        strict=True))
        new = [moved.get(k, k[1:]) for k in keys]
        calls["pos"] = [n[0] for n in new]
        calls["ref"] = [n[1] for n in new]
        calls["alt"] = [n[2] for n in new]
    return calls


def _add_read_counts(calls: pd.DataFrame, sheet: pd.DataFrame, sheet_path: Path,
                     thresholds: Thresholds, reference: Reference | None,
                     recount: bool) -> pd.DataFrame:
    """Counts from each sample's BAM/CRAM at every site detected anywhere in its patient.

    A sample without a record of a site gets a row with ``source`` = ``reads``; a caller's
    record is kept as it is unless ``recount``, which replaces its counts by the read counts.
    """
    from .io.bam import count_alleles

    with_bam = sheet[sheet["bam_path"] != ""].drop_duplicates(["patient_id", "sample_id"])
    if with_bam.empty or calls.empty:
        return calls
    detected = thresholds.detect(calls["alt_count"], calls["depth"], calls["vaf"], calls["role"])
    hits = calls[detected.fillna(False).astype(bool)]
    site_columns = ["variant_key", "chrom_raw", "pos", "ref", "alt", "assembly"]
    added, recounted = [], {}
    for row in with_bam.itertuples(index=False):
        sites = hits.loc[hits["patient_id"] == row.patient_id, site_columns].drop_duplicates(
            "variant_key").reset_index(drop=True)
        if sites.empty:
            continue
        counts = count_alleles(
            row.bam_path, sites.rename(columns={"chrom_raw": "chrom"}), reference=reference,
            expected_assembly=sites["assembly"].iloc[0],
            expected_sample=[n for n in (row.sample_id, row.vcf_sample) if n],
        )
        counts["vaf"] = counts["alt_count"] / counts["depth"].where(counts["depth"] > 0)
        mine = calls[(calls["patient_id"] == row.patient_id)
                     & (calls["sample_id"] == row.sample_id)]
        called = set(mine["variant_key"])
        bam_shown = _display(row.bam_path, sheet_path)
        for site, count in zip(sites.itertuples(index=False), counts.itertuples(index=False),
                               strict=True):
            values = (float(count.alt_count), float(count.depth), count.vaf)
            if site.variant_key in called:
                if recount:
                    recounted[(row.patient_id, row.sample_id, site.variant_key)] = (
                        *values, bam_shown)
                continue
            added.append({
                "patient_id": row.patient_id, "lesion_id": row.lesion_id,
                "sample_id": row.sample_id, "role": row.role, "status": row.status,
                "status_raw": row.status_raw, "site": row.site, "timepoint": row.timepoint,
                "date": getattr(row, "date", ""), "assembly": site.assembly, "file_sample": row.vcf_sample or row.sample_id,
                "chrom_raw": site.chrom_raw, "pos": site.pos, "ref": site.ref, "alt": site.alt,
                "variant_key": site.variant_key, "alt_count": values[0], "depth": values[1],
                "vaf": values[2], "caller_vaf": float("nan"), "filter": "", "caller": "reads",
                "ann_gene": "", "ann_hgvsc": "", "ann_hgvsp": "", "ann_consequence": "",
                "record": bam_shown,
                "source": "reads",
            })
    if recounted:
        keys = list(zip(calls["patient_id"], calls["sample_id"], calls["variant_key"],
                        strict=True))
        for index, key in enumerate(keys):
            if key in recounted:
                alt, depth, vaf, shown = recounted[key]
                calls.iloc[index, calls.columns.get_indexer(
                    ["alt_count", "depth", "vaf", "source", "record"])] = [
                    alt, depth, vaf, "reads", shown]
    if added:
        calls = pd.concat([calls, pd.DataFrame.from_records(added)], ignore_index=True)
    return calls


def _annotate(calls: pd.DataFrame, reference: Reference | None) -> pd.DataFrame:
    """Annotation columns for every row: per (patient, build, variant) from the first non-empty
    annotation of the patient's own rows, computed once per distinct set of arguments."""
    keys = ["patient_id", "assembly", "variant_key"]
    group = calls.groupby(keys, sort=False).ngroup().to_numpy()
    ann = ["ann_gene", "ann_hgvsc", "ann_hgvsp", "ann_consequence"]
    given = ["assembly", "chrom", "pos", "ref", "alt", *ann]
    narrow = calls[given].replace({c: {"": None} for c in ann})
    firsts = narrow.groupby(group, sort=True).first()  # the first non-empty value per group
    firsts[ann] = firsts[ann].fillna("")
    codes = firsts.groupby(given, sort=False).ngroup().to_numpy()
    distinct = firsts.drop_duplicates(given)  # the same order as ``codes``
    records = [annotate_variant(row.assembly, row.chrom, int(row.pos), row.ref, row.alt,
                                ann_gene=row.ann_gene, ann_hgvsc=row.ann_hgvsc,
                                ann_hgvsp=row.ann_hgvsp, ann_consequence=row.ann_consequence,
                                reference=reference)
               for row in distinct.itertuples(index=False)]
    annotation = pd.DataFrame.from_records(records)
    rows = codes[group]
    for column in annotation.columns:
        calls[column] = annotation[column].to_numpy()[rows]
    calls["codon"] = calls["codon"].astype("Int64")
    return calls


def empty_calls_table() -> pd.DataFrame:
    """A calls table with no rows and the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in CALLS_COLUMNS})


def build_calls(
    sheet: pd.DataFrame,
    *,
    sheet_path: str | os.PathLike[str] = "samplesheet",
    genes: str | Iterable[str] | None = None,
    thresholds: Thresholds | None = None,
    include_filtered: bool = False,
    reference: str | os.PathLike[str] | Reference | None = None,
    assembly: str | None = None,
    jobs: int = DEFAULT_JOBS,
    recount: bool = False,
    assume_sorted: bool = False,
) -> pd.DataFrame:
    """The calls table for an already-read sample sheet (see :func:`read_calls`).

    ``jobs`` > 1 reads calls files in that many worker processes; the result is identical.
    Samples with a ``bam`` in the sheet get read counts at every site detected anywhere in
    their patient (``source`` = ``reads``); ``recount`` also replaces callers' counts.
    ``assume_sorted``: unindexed VCFs are read only up to the end of the windows' contig (a
    disorder seen in the part read falls back to reading the whole file).
    """
    if jobs < 1:
        raise OptionError(f"jobs must be at least 1, not {jobs}", field="jobs")
    thresholds = thresholds or Thresholds()
    wanted = parse_genes(genes)
    if assembly is not None and genome.normalize_assembly(assembly) is None:
        raise OptionError(f"unknown assembly {assembly!r}", field="assembly",
                          hint="use GRCh37 or GRCh38")
    assembly = genome.normalize_assembly(assembly)
    if reference is not None and not isinstance(reference, Reference):
        import pysam

        previous = pysam.set_verbosity(0)  # htslib's own lines would break the one-line errors
        try:
            reference = Reference(reference)
        finally:
            pysam.set_verbosity(previous)
    calls = _gather(sheet, Path(sheet_path), _windows(wanted), include_filtered, assembly, jobs,
                    assume_sorted)
    _warn_unknown_genes(wanted, calls)
    if calls.empty:
        return empty_calls_table()
    keep = _keep_genes(calls, wanted).to_numpy()
    if not keep.all():  # one copy of the table, and only when rows go
        calls = calls.take(np.flatnonzero(keep))
        calls.index = pd.RangeIndex(len(calls))
    if calls.empty:
        return empty_calls_table()
    _check_builds(calls)
    if reference is not None:
        calls = _normalise_with_reference(calls, reference)
    calls["chrom"] = _by_value(calls["chrom_raw"], genome.normalize_chrom)
    keys: dict[tuple, str] = {}  # one string per distinct variant, however many rows carry it
    calls["variant_key"] = [keys.get(k) or keys.setdefault(k, variant_key(*k)) for k in
                            zip(calls["chrom"], calls["pos"], calls["ref"], calls["alt"],
                                strict=True)]
    if "bam_path" in sheet and (sheet["bam_path"] != "").any():
        calls = _add_read_counts(calls, sheet, Path(sheet_path), thresholds, reference, recount)
        calls["chrom"] = _by_value(calls["chrom_raw"], genome.normalize_chrom)
    calls = _annotate(calls, reference)
    known = calls["alt_count"].notna() & calls["depth"].notna() & (calls["depth"] > 0)
    calls["vaf"] = np.where(known, calls["alt_count"] / calls["depth"].where(known, 1.0),
                            calls["vaf"])
    # one row per (sample, variant): a sample's files may repeat a record; keep the deepest.
    # The order is worked out on a few columns, then the table is taken once (each sort or
    # selection of the whole table would copy it)
    calls.index = pd.RangeIndex(len(calls))
    order = calls["depth"].sort_values(ascending=False, na_position="last",
                                       kind="stable").index.to_numpy()
    repeated = calls[["patient_id", "sample_id", "variant_key"]].take(order).duplicated(
        ).to_numpy()
    if repeated.any():
        log.warning("%d call(s) appear in more than one calls file of the same sample; "
                    "kept the record with the greatest depth", int(repeated.sum()))
        order = order[~repeated]
    keys = ["patient_id", "lesion_id", "sample_id", "chrom", "pos", "ref", "alt"]
    final = calls[keys].take(order).reset_index(drop=True).sort_values(
        keys, kind="stable").index.to_numpy()
    calls = calls[[c for c in CALLS_COLUMNS if c != "detected"]]
    calls = calls.take(order[final])  # two statements: never three copies at once
    calls.index = pd.RangeIndex(len(calls))
    calls.insert(CALLS_COLUMNS.index("detected"), "detected",  # in place: no copy
                 thresholds.detect(calls["alt_count"], calls["depth"], calls["vaf"],
                                   calls["role"]))
    for column in ("alt_count", "depth"):
        calls[column] = calls[column].round().astype("Int64")
    return calls


def read_calls(
    samplesheet: str | os.PathLike[str],
    *,
    genes: str | Iterable[str] | None = None,
    thresholds: Thresholds | None = None,
    min_depth: int | None = None,
    min_alt: int | None = None,
    min_vaf: float | None = None,
    include_filtered: bool = False,
    reference: str | os.PathLike[str] | None = None,
    assembly: str | None = None,
    jobs: int = DEFAULT_JOBS,
    recount: bool = False,
    assume_sorted: bool = False,
) -> pd.DataFrame:
    """Read every lesion's calls named by a sample sheet into one calls table.

    Returns :data:`CALLS_COLUMNS`, one row per (sample, variant): below-threshold calls are kept
    with ``detected`` False; ``detected`` is NA where the site's depth is unknown.
    ``genes`` defaults to KIT and PDGFRA (``"all"`` reads every record); thresholds default to
    :class:`Thresholds` (``min_depth`` 20, ``min_alt`` 3, ``min_vaf`` 0.02).
    Raises :class:`~lesiontrack.LesionTrackError` on bad input, naming file, record and field.
    """
    thresholds = _thresholds(thresholds, min_depth, min_alt, min_vaf)
    sheet = read_samplesheet(samplesheet)
    return build_calls(sheet, sheet_path=samplesheet, genes=genes, thresholds=thresholds,
                       include_filtered=include_filtered, reference=reference,
                       assembly=assembly, jobs=jobs, recount=recount,
                       assume_sorted=assume_sorted)


def _thresholds(thresholds: Thresholds | None, min_depth, min_alt, min_vaf) -> Thresholds:
    base = thresholds or Thresholds()
    return Thresholds(
        min_depth=base.min_depth if min_depth is None else min_depth,
        min_alt=base.min_alt if min_alt is None else min_alt,
        min_vaf=base.min_vaf if min_vaf is None else min_vaf,
    )


_BOOLEAN_WORDS = {"true": True, "false": False, "": pd.NA, "nan": pd.NA, "<na>": pd.NA}


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
    calls["detected"] = (thresholds or Thresholds()).detect(
        calls["alt_count"].astype(float), calls["depth"].astype(float), calls["vaf"],
        calls["role"])
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
    if patients_per_batch < 1:
        raise OptionError("patients_per_batch must be at least 1", field="patients_per_batch")
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

    from .io.output import output_errors, private_folder

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
    for column in _SHEET_COLUMNS:  # the sample sheet's text: refused, as in the sheet
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
                                            and c not in _SHEET_COLUMNS and c != "detected"
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
