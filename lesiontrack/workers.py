"""Process-pool plumbing shared by the commands that fan work out to worker processes."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def stop_worker_pool(pool: ProcessPoolExecutor) -> None:
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

