"""Build the calls table (the spine): one row per (sample, variant), annotated, with ``detected``.

Reads every calls file named by the sample sheet once (:mod:`lesiontrack.calls_files`), finds each
sample's column in it and joins the sheet's columns, settles the genome build, keeps the genes
asked for, checks REF and left-aligns indels on a reference when given
(:func:`lesiontrack.reference.normalise_calls`), fills in or recounts allele counts from BAMs
(:mod:`lesiontrack.readcounts`), annotates (:func:`lesiontrack.annotate.annotate_calls`), keeps one
row per (sample, variant), and decides ``detected`` (:meth:`Thresholds.detect_calls`). Tables
written by ``lesiontrack calls`` are read back by :mod:`lesiontrack.calls_tables`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from . import genome, progress
from .annotate import annotate_calls
from .calls_files import emit_read_logs, read_files
from .errors import CallsFileError, LesionTrackError, OptionError, SampleSheetError
from .io.result import ReadResult
from .options import DEFAULT_GENES, DEFAULT_JOBS, Thresholds, check_whole
from .readcounts import add_read_counts
from .reference import Reference, normalise_calls
from .samplesheet import read_samplesheet, relative_to_sheet, sheet_folder
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


def gene_windows(genes: tuple[str, ...] | None) -> list[tuple[str, int, int]] | None:
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


#: Columns of the calls table that come from the sample sheet.
SHEET_COLUMNS: tuple[str, ...] = ("patient_id", "lesion_id", "sample_id", "role", "status",
                                  "status_raw", "site", "timepoint", "date")


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
    base = str(sheet_folder(sheet_path))
    builds: dict[str, tuple[str, Path, int]] = {}  # patient -> (build, first file, its line)
    frames: list[pd.DataFrame] = []
    takes: list[np.ndarray] = []  # row numbers in the concatenation of ``frames``, per file
    sheet_rows: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    per_file: list[tuple[str, str, int]] = []  # (assembly, source, sheet rows with calls)
    offset = 0
    files = iter(paths)
    shown = progress.bar(len(paths), "reading calls files", "file") if len(paths) > 1 else None
    for frame, reads in read_files(paths, windows, include_filtered, jobs, assume_sorted):
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
            emit_read_logs(result, logs, path)
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
                    shown_as = written[index[keep][0]] or relative_to_sheet(
                        calls_path, sheet_path, base)
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
    for name in SHEET_COLUMNS:
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
            f"{relative_to_sheet(str(first[1]), sheet)} (sample sheet line {first[2]}) is "
            f"{first[0]}",
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
    check_whole(jobs, "jobs", 1)
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
    calls = _gather(sheet, Path(sheet_path), gene_windows(wanted), include_filtered, assembly,
                    jobs, assume_sorted)
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
        calls = normalise_calls(calls, reference)
    calls["chrom"] = _by_value(calls["chrom_raw"], genome.normalize_chrom)
    keys: dict[tuple, str] = {}  # one string per distinct variant, however many rows carry it
    calls["variant_key"] = [keys.get(k) or keys.setdefault(k, variant_key(*k)) for k in
                            zip(calls["chrom"], calls["pos"], calls["ref"], calls["alt"],
                                strict=True)]
    if "bam_path" in sheet and (sheet["bam_path"] != "").any():
        calls = add_read_counts(calls, sheet, Path(sheet_path), thresholds, reference, recount)
        calls["chrom"] = _by_value(calls["chrom_raw"], genome.normalize_chrom)
    calls = annotate_calls(calls, reference, inplace=True)
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
                 thresholds.detect_calls(calls))
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

