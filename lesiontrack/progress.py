"""Progress bars on a terminal and the closing "wrote ..." line, for the command line only.

Library functions never draw anything unless the ``lesiontrack`` command turned progress on
(:func:`enabled`); even then a bar is drawn only when stderr is a terminal (tqdm, on stderr:
stdout stays for data).
"""

from __future__ import annotations

import contextlib
import sys
import weakref
from collections.abc import Iterator

__all__ = ["bar", "close_all", "enabled", "is_on", "wrote"]

_ON = False
_OPEN: weakref.WeakSet = weakref.WeakSet()  # bars drawn and not yet closed


@contextlib.contextmanager
def enabled(on: bool = True) -> Iterator[None]:
    """Within this block, :func:`bar` draws bars (when stderr is a terminal)."""
    global _ON
    before, _ON = _ON, bool(on)
    try:
        yield
    finally:
        _ON = before


def is_on() -> bool:
    """Whether bars are drawn now: turned on by the command and stderr is a terminal."""
    stream = sys.stderr
    return _ON and stream is not None and hasattr(stream, "isatty") and stream.isatty()


def bar(total: int | None, desc: str, unit: str = "it"):
    """A tqdm bar on stderr (removed when closed), or None when bars are off: callers do
    ``if b is not None: b.update(n)`` and ``b.close()``."""
    if not is_on():
        return None
    from tqdm import tqdm

    drawn = tqdm(desc=desc, unit=unit, total=total, file=sys.stderr, leave=False,
                 dynamic_ncols=True)
    _OPEN.add(drawn)
    return drawn


def close_all() -> None:
    """Close every bar still drawn (before an error line, so that it stands on its own)."""
    for drawn in list(_OPEN):
        with contextlib.suppress(Exception):
            drawn.close()
    _OPEN.clear()


def wrote(message: str, quiet: bool = False) -> None:
    """The one closing line on stderr saying what a command wrote (``lesiontrack: wrote
    ...``); nothing with ``--quiet``. For the command line: library functions never call it."""
    close_all()
    if not quiet:
        print(f"lesiontrack: {message}", file=sys.stderr)
