"""The pysam engine of the VCF reader: every VCF/BCF htslib reads (plain, bgzipped, indexed or
not, plain gzip), every record, with htslib's checks; a failure is named by the file's line
where one can be found. Records go to the shared counting (:class:`~.vcf_counts.Calls`).

A VCF read whole is pumped as text through a pipe (:class:`~.bounded.TextPipe`), so that decompression is
bounded and an over-long line is refused before htslib would hold it; an index query or a BCF is
read by htslib from the file itself.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pysam

from ..errors import CallsFileError
from .bgzf import BGZF_EOF
from .bounded import TextPipe, bounded_lines, open_binary
from .compression import compression, open_text
from .result import ReadResult
from .vcf_counts import NO_SAMPLES_NOTE, PLAIN_GZIP_NOTE, Calls, Values, numbers
from .vcf_header import HeaderFields
from .vcfindex import index_path
from .windows import Region, merge_windows, normalize_chrom


def _compression(path: Path) -> str:
    """:func:`~lesiontrack.io.compression.compression`; a file that cannot be read is an error."""
    try:
        return compression(path)
    except FileNotFoundError as exc:
        raise CallsFileError("file not found", file=path) from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc


def _record_span(rec: pysam.VariantRecord) -> tuple[int, int]:
    """1-based (first, last) base of the record: its REF span (or INFO/END when longer)."""
    start = rec.pos
    return start, max(start + len(rec.ref or "N") - 1, rec.stop)


def _is_bcf(path: Path) -> bool:
    try:
        with open_binary(path) as handle:
            return handle.read(4) == b"BCF\x02"
    except (OSError, EOFError, ValueError):
        return False


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


class _PysamRecord:
    """A pysam record behind the small interface :meth:`~.vcf_counts.Calls.add` uses."""

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
        return numbers(self.rec.samples[index][key], percent=percent)



class _VcfReader(Calls):
    """Reads records with pysam/htslib: every file htslib reads, with its error messages."""

    def __init__(self, path: Path, regions: list[Region] | None, include_filtered: bool,
                 shown: Path | None = None) -> None:
        super().__init__(path, include_filtered, shown)
        self.regions = regions
        self.vf: pysam.VariantFile | None = None
        self.pipe: TextPipe | None = None
        self.compression = "none"
        self.streaming = True  # records read in file order (line numbers are meaningful)
        self.last = ""  # last record returned, "chrom:pos"

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> pysam.VariantFile:
        self.compression = _compression(self.path)
        if self.compression == "gzip":
            self.notes["plain_gzip"] = PLAIN_GZIP_NOTE
        if self._piped():
            self.pipe = TextPipe(self.path)
        try:
            source = self.pipe.handle if self.pipe is not None else str(self.path)
            self.vf = pysam.VariantFile(source)
        except (OSError, ValueError, TypeError) as exc:  # TypeError: pysam naming a stream
            raise self._open_error(exc) from exc
        return self.vf

    def _piped(self) -> bool:
        """Whether htslib reads the text through a :class:`~.bounded.TextPipe` (every VCF read whole,
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
                for number, line in enumerate(bounded_lines(handle), start=1):
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
                for number, line in enumerate(bounded_lines(handle), start=1):
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
        windows = merge_windows(self.regions)
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
                for line_no, line in enumerate(bounded_lines(handle), start=1):
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
                for line in bounded_lines(handle):
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



def read_vcf_pysam(path: Path, regions: list[Region] | None, include_filtered: bool,
                   shown: Path | None = None) -> ReadResult:
    """Read a VCF/BCF with pysam: the contract of :func:`~lesiontrack.io.vcf.read_vcf`.
    ``shown``: the file to name in warnings (the input, when ``path`` is a repaired copy)."""
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

