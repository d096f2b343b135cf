"""Atomic output: every file is written to a temporary name beside it, then renamed into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import OptionError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    if not path.parent.exists():
        raise OptionError(f"the output folder {path.parent} does not exist", file=path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically (UTF-8, LF newlines)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a table as TSV, or Parquet when the name ends in ``.parquet``, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".parquet":
            try:
                frame.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise OptionError("writing Parquet needs pyarrow", file=path,
                                  hint="pip install 'lesiontrack[parquet]'") from exc
        else:
            frame_to_tsv(frame, tmp)


def frame_to_tsv(frame: pd.DataFrame, path: str | os.PathLike[str] | None = None, *,
                 header: bool = True) -> str | None:
    """TSV with empty cells for missing values and True/False for booleans (``header=False``:
    the rows only, to append a part of a table)."""
    return frame.to_csv(path, sep="\t", index=False, na_rep="", lineterminator="\n",
                        float_format="%.6g", header=header)
