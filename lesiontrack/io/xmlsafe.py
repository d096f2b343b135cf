"""Characters XML 1.0 cannot hold: which they are, how messages name them, and how text read
from calls files is cleaned of them (so that GraphML, HTML and JSON outputs stay well-formed).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Characters XML 1.0 cannot hold (C0 controls other than TAB, LF and CR; U+FFFE, U+FFFF):
#: refused in the sample sheet and the patient table, replaced by :data:`REPLACEMENT` in text
#: read from calls files (so that GraphML, HTML and JSON outputs stay well-formed).
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: What an illegal character of a calls file becomes.
REPLACEMENT = "\ufffd"

_CHARACTER_NAMES = {"\x00": "NUL", "\x0b": "vertical tab", "\x0c": "form feed",
                    "\x1b": "escape", "\x08": "backspace", "\x07": "bell",
                    "\ufffe": "a non-character", "\uffff": "a non-character"}


def character_name(char: str) -> str:
    """``U+000B (vertical tab)``: how errors and warnings name a character."""
    return f"U+{ord(char):04X} ({_CHARACTER_NAMES.get(char, 'a control character')})"


def illegal_rows(values: pd.Series) -> np.ndarray:
    """Positions of the values holding a character of :data:`ILLEGAL_CHARACTERS` (one regular
    expression search over the distinct values when there are none)."""
    distinct = [v for v in pd.unique(values) if isinstance(v, str)]
    if not ILLEGAL_CHARACTERS.search("\n".join(distinct)):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero([isinstance(v, str) and ILLEGAL_CHARACTERS.search(v) is not None
                           for v in values])


def replace_illegal(frame: pd.DataFrame, columns) -> tuple[int, str | None]:
    """Replace :data:`ILLEGAL_CHARACTERS` by :data:`REPLACEMENT` in ``frame``'s ``columns``
    (in place); (values changed, the first character replaced or None)."""
    changed, first = 0, None
    for column in columns:
        if column not in frame.columns or frame[column].dtype != object:
            continue
        rows = illegal_rows(frame[column])
        if not len(rows):
            continue
        values = frame[column].to_numpy(dtype=object).copy()
        if first is None:
            first = ILLEGAL_CHARACTERS.search(values[rows[0]]).group()
        values[rows] = [ILLEGAL_CHARACTERS.sub(REPLACEMENT, v) for v in values[rows]]
        frame[column] = values
        changed += len(rows)
    return changed, first
