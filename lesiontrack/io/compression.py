"""What a file is compressed with, and its text opened whatever it is: the one gzip/BGZF check.

Every reader asks here: :func:`is_gzip` (gzip or BGZF: inflate it), :func:`compression` (BGZF,
plain gzip or none, by htslib's rule, so that both VCF engines agree on which files are blocked
and indexable and which are plain gzip streams), :func:`open_text`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

#: The first two bytes of every gzip (and so BGZF) file.
GZIP_MAGIC = b"\x1f\x8b"
#: Errors of a truncated or corrupt gzip/BGZF stream.
COMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def is_gzip(path: Path) -> bool:
    """The file starts with the gzip magic (gzip or BGZF)."""
    with Path(path).open("rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def compression(path: Path) -> str:
    """``bgzf``, ``gzip`` (plain, not blocked) or ``none``. Raises OSError when the file cannot
    be read."""
    with Path(path).open("rb") as probe:
        head = probe.read(18)
    if head[:2] != GZIP_MAGIC:
        return "none"
    # htslib takes a file for BGZF only with a well-formed "BC" extra subfield (SLEN 2)
    if len(head) >= 18 and head[3] & 4 and head[12:16] == b"BC\x02\x00":
        return "bgzf"
    return "gzip"


def open_text(path: Path):
    """Open a text file that may be plain, gzip or BGZF, as UTF-8 text with universal newlines."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="strict", newline=None)
    return path.open("r", encoding="utf-8", errors="strict", newline=None)
