"""The ``lesiontrack`` command: parse options, call the API, print one-line errors.

Exit codes: 0 success, 2 bad input or options (one line on stderr), 1 a bug (traceback with
``--debug``), 130 interrupted, 143 terminated. The sub-commands' options are in
:mod:`lesiontrack.cli.parser`, what each does in :mod:`lesiontrack.cli.commands`.
"""

from __future__ import annotations

import logging
import signal
import sys

from .. import progress
from ..errors import LesionTrackError
from . import terminate
from .commands import run
from .parser import build_parser

__all__ = ["build_parser", "main", "run"]

log = logging.getLogger("lesiontrack")


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"lesiontrack: {record.levelname.lower()}: {' '.join(record.getMessage().split())}"


class _Once(logging.Filter):
    """Each distinct message once per command (a report reads its cohort in batches, and a
    batch's warning about the options would repeat)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lesiontrack`` console script."""
    previous = terminate.on_terminate()  # first: SIGTERM at any later point gives the one line
    try:
        return _main(argv)
    except terminate.Terminated:
        terminate.unwinding()
        return terminate.say_terminated()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            terminate.reset()


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    handler.addFilter(_Once())
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.ERROR if args.quiet else logging.WARNING)
    log.propagate = False
    try:
        with progress.enabled(not args.quiet):
            code = run(args)
        if terminate.TERMINATION.is_set():  # asked to stop while finishing: say so
            terminate.unwinding()
            raise terminate.Terminated
        return code
    except terminate.Terminated:
        progress.close_all()
        raise
    except BaseException as exc:
        progress.close_all()
        if terminate.TERMINATION.is_set():  # e.g. the worker pool broken by the same SIGTERM
            terminate.unwinding()
            raise terminate.Terminated from None
        return _error_exit(exc, args.debug)
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def _error_exit(exc: BaseException, debug: bool) -> int:
    """The one line and exit code of an exception that ended a command."""
    from ..output import WRITE_ONLY_ERRNOS, write_failure

    if isinstance(exc, OSError) and exc.errno in WRITE_ONLY_ERRNOS:
        failure = write_failure(exc, None if exc.filename else "output")  # a full disk
        if failure is not None:
            exc = failure
    if isinstance(exc, LesionTrackError):
        print(f"lesiontrack: error: {exc.one_line()}", file=sys.stderr)
        return 2
    if isinstance(exc, KeyboardInterrupt):
        print("lesiontrack: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):
        return 0
    if not isinstance(exc, Exception):  # SystemExit and the like
        raise exc
    if debug:
        raise exc
    print(f"lesiontrack: internal error: {type(exc).__name__}: {exc} "
          "(a bug: please report it; --debug shows the traceback)", file=sys.stderr)
    return 1


