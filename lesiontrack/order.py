"""The one natural order of identifiers (lesions, samples, patients, contigs).

Digit runs compare as numbers, so ``L2`` sorts before ``L10`` and contig ``4`` before ``10``;
identifiers equal as numbers (``P1``, ``P01``, ``P001``) are ordered by their raw text, so the
order never depends on the order items come in.
"""

from __future__ import annotations

import re

__all__ = ["natural_key", "natural_sorted"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: object) -> tuple:
    """Sort key of ``text`` (anything, compared as ``str(text)``): digit runs as numbers,
    other runs as text, a prefix first (``L2 < L2a``), ties broken by the raw text
    (``P001 < P01 < P1``)."""
    text = str(text)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                  for p in _DIGITS.split(text) if p)
    return (*parts, (-1, 0, text))  # ends before any longer id: L2 < L2a


def natural_sorted(items, key=None) -> list:
    """``items`` sorted by :func:`natural_key` (of ``key(item)`` when ``key`` is given)."""
    if key is None:
        return sorted(items, key=natural_key)
    return sorted(items, key=lambda item: natural_key(key(item)))
