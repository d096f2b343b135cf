"""File names from identifiers: a patient's or lesion's id becomes a file name that is safe on
every file system (``[A-Za-z0-9._-]``, never hidden, never a name Windows refuses, unique even where
case is ignored)."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}
_MAX_NAME = 64



def _base_name(identifier: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", identifier)
    name = re.sub(r"^\.", "_", name)  # never hidden, never "." or ".."
    if not name:
        name = "_"
    if name.split(".")[0].upper() in _RESERVED:  # names Windows refuses
        name = "_" + name
    return name[:_MAX_NAME]


def _hashed(identifier: str, base: str, length: int = 8) -> str:
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:length]
    return f"{base[:_MAX_NAME - length - 1]}-{digest}"


def safe_names(identifiers: Iterable[str]) -> dict[str, str]:
    """File names (without suffix) for identifiers: only ``[A-Za-z0-9._-]``, never empty, never
    hidden, unique even on case-insensitive file systems.

    An identifier whose safe form is unique keeps it. On a collision, an identifier that is
    already safe keeps its name (of several that differ only in case, the first in sorted
    order) and every other identifier gets a short hash of itself appended, so two
    identifiers never share a file and names depend only on the set of identifiers, never on
    their order.
    """
    ids = sorted({str(i) for i in identifiers})
    groups: dict[str, list[str]] = defaultdict(list)
    for identifier in ids:
        groups[_base_name(identifier).lower()].append(identifier)
    names: dict[str, str] = {}
    for members in groups.values():
        # alone: keeps its safe form; colliding: the first already-safe id keeps it, rest hashed
        keeper = members[0] if len(members) == 1 else next(
            (m for m in members if _base_name(m) == m), None)
        for member in members:
            base = _base_name(member)
            names[member] = base if member == keeper else _hashed(member, base)
    length = 8
    while len({n.lower() for n in names.values()}) < len(names):  # pragma: no cover - hash clash
        length += 8
        seen: set[str] = set()
        for member in ids:
            if names[member].lower() in seen:
                names[member] = _hashed(member, _base_name(member), length)
            seen.add(names[member].lower())
    return names
