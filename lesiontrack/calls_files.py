"""Read the sample sheet's calls files, in worker processes when asked: each file once, its rows
returned in tasks of consecutive files, its warnings emitted once, by the gathering process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .errors import LesionTrackError
from .io import ReadResult, read_calls_file
from .workers import stop_worker_pool

log = logging.getLogger("lesiontrack")


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
    result and the log records the reader emitted, held back (see :func:`emit_read_logs`)."""
    path, windows, include_filtered, assume_sorted = job
    held = _Held()
    log.addFilter(held)
    try:
        result = read_calls_file(Path(path), regions=windows, include_filtered=include_filtered,
                                 assume_sorted=assume_sorted)
    finally:
        log.removeFilter(held)
    return result, held.records


def emit_read_logs(result: ReadResult, records: list[logging.LogRecord], path: Path) -> None:
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


class FileRead(NamedTuple):
    """One file of a task: its result (rows held in the task's frame), its held log records,
    its number of rows, or the error that refused it (raised when the gathering reaches it)."""

    result: ReadResult | None
    logs: list[logging.LogRecord]
    n_rows: int
    error: LesionTrackError | None


def _read_task(job: tuple[list[str], list | None, bool, bool]
               ) -> tuple[pd.DataFrame | None, list[FileRead]]:
    """Read a task's files in order (a top-level function so worker processes can run it):
    (their rows as one frame, or None without rows; one :class:`FileRead` per file read). A file
    refused ends the task: it is the last entry, its error in it."""
    paths, windows, include_filtered, assume_sorted = job
    frames: list[pd.DataFrame] = []
    reads: list[FileRead] = []
    for path in paths:
        try:
            result, logs = _read_one((path, windows, include_filtered, assume_sorted))
        except LesionTrackError as exc:
            reads.append(FileRead(None, [], 0, exc))
            break
        n_rows = len(result.calls)
        if n_rows:
            frames.append(result.calls)
        result.calls = None  # type: ignore[assignment]  # its rows are in the task's frame
        reads.append(FileRead(result, logs, n_rows, None))
    if not frames:
        return None, reads
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), reads


def read_files(paths: list[str], windows: list[tuple[str, int, int]] | None,
               include_filtered: bool, jobs: int, assume_sorted: bool = False
               ) -> Iterator[tuple[pd.DataFrame | None, list[FileRead]]]:
    """(frame or None, [FileRead, ...]) per task of consecutive files, in the order of ``paths``;
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

