"""SIGTERM (a batch system's kill, ``timeout``) ends a command like an error: temporary folders
and half-built reports are removed on the way out, and the command says ``terminated`` once."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading


def reset() -> None:
    """Forget a termination (after a command, so the next one in this process starts clean)."""
    stop_retrying()
    TERMINATION.clear()
    UNWINDING[0] = False


class Terminated(BaseException):
    """SIGTERM (a batch system's kill, ``timeout``): unwinds like an error, so temporary
    folders and half-built reports are removed on the way out."""


#: Set once SIGTERM arrived: later exceptions are its consequences, and say "terminated".
TERMINATION = threading.Event()
#: The process that installed the handler (a forked child before its reset is not it).
_OWNER = [os.getpid()]
#: Code that must not be interrupted by an exception: locks taken and released by hand, fork
#: hooks, worker-pool book-keeping. SIGTERM there is acted on as soon as it has left.
_DELICATE = tuple(os.path.join(os.path.dirname(threading.__file__), name) for name in (
    "threading.py", "logging", "concurrent", "multiprocessing", "queue.py", "weakref.py",
    "selectors.py", "subprocess.py", "tempfile.py", "shutil.py", "contextlib.py"))
_RETRY_SECONDS = 0.02


def say_terminated() -> int:
    print("lesiontrack: terminated", file=sys.stderr)
    return 143


def _in_delicate_code(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith(_DELICATE):
            return True
        frame = frame.f_back
    return False


def _quiet_after_termination(args) -> None:
    """Threads and finalisers that fail once SIGTERM broke the worker pool stay silent (the
    hooks stay in place: the process is ending)."""


def terminated(signum, frame):
    if os.getpid() != _OWNER[0]:  # a forked worker before its reset: die as by default
        os._exit(128 + signal.SIGTERM)
    if UNWINDING[0]:  # already on the way out: one line, whatever else arrives
        return
    if not TERMINATION.is_set():
        TERMINATION.set()
        threading.excepthook = _quiet_after_termination  # e.g. InvalidStateError: CANCELLED
        sys.unraisablehook = _quiet_after_termination
    if hasattr(signal, "setitimer") and _RETRIES[0] < _MAX_RETRIES and _in_delicate_code(frame):
        # raising here could leave a lock held or a pool half-updated: look again shortly
        # (at most _MAX_RETRIES times: a wait for a result that never comes is safe to end)
        _RETRIES[0] += 1
        previous = signal.signal(signal.SIGALRM, terminated)
        if previous is not terminated:
            _SAVED_ALARM.append(previous)
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)
        return
    unwinding()
    raise Terminated


def unwinding() -> None:
    """From here on the command ends as terminated: no second exception, no retry timer."""
    UNWINDING[0] = True
    stop_retrying()


UNWINDING = [False]
_RETRIES = [0]
_MAX_RETRIES = 50  # 1 s


_SAVED_ALARM: list = []  # the SIGALRM handler replaced while SIGTERM waits for a safe point


def stop_retrying() -> None:
    _RETRIES[0] = 0
    if _SAVED_ALARM:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, _SAVED_ALARM.pop())


def _default_sigterm_in_child() -> None:
    """After a fork: a worker process dies on SIGTERM at once, as by default (worker pools
    stop their workers with SIGTERM, and a Python-level handler could not run while a worker
    waits inside a C call: the pool would wait for it for ever)."""
    with contextlib.suppress(ValueError, OSError):  # not the main thread of the child
        if signal.getsignal(signal.SIGTERM) is terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def on_terminate():
    """Turn SIGTERM in this process into :class:`Terminated`; returns the handler it replaced
    (None when signals cannot be set here: not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    _OWNER[0] = os.getpid()
    return signal.signal(signal.SIGTERM, terminated)

