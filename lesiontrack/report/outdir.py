"""The report folder's files: JSON text, provenance and the options shown.

Patients' page files are named by :func:`lesiontrack.filenames.safe_names`; :func:`provenance`
records the tool, the options as given and a checksum of every input. The
folder itself is built beside OUTDIR and swapped into place by
:func:`lesiontrack.output.building_folder`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..samplesheet import sheet_folder
from ..text import is_missing as _missing
from ..version import __version__

#: Shown prominently on every page (and written into every JSON file).
NOTICE = ("For research use only, not for clinical decisions. This report has not been "
          "validated for diagnosis or treatment; drug-class notes summarise published research "
          "series and are not treatment advice.")
#: Options that do not change the results (how, not what): not shown on the pages.
_HIDDEN_OPTIONS = {"output", "force", "debug", "quiet", "command", "report_command", "jobs"}
#: Options that name files: pages show only their names (provenance.json has the details).
_PATH_OPTIONS = {"samplesheet", "reference", "patients", "calls_tables"}


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with ``\n`` line ends."""
    path.write_text(text, encoding="utf-8", newline="\n")


def jsonable(value):
    """Plain JSON values: NA/NaN -> None, numpy scalars -> Python, paths -> str, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def dumps(value) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, no NaN), ending in a newline."""
    return json.dumps(jsonable(value), indent=2, sort_keys=True, allow_nan=False,
                      ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------------------
# provenance and the options shown
# ----------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _input_files(sheet: pd.DataFrame | None, sheet_path, options: dict) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    if sheet_path is not None:
        files.append(("samplesheet", Path(sheet_path)))
    if sheet is not None and not sheet.empty:
        for column, role in (("calls_path", "calls"), ("bam_path", "alignments"),
                             ("cnv_path", "copy_number")):
            if column in sheet:
                for value in sorted({str(v) for v in sheet[column].dropna() if str(v)}):
                    files.append((role, Path(value)))
    for table in options.get("calls_tables") or []:
        files.append(("calls_table", Path(table)))
    for key, role in (("reference", "reference"), ("patients", "patients")):
        if options.get(key):
            files.append((role, Path(options[key])))
    return files


def _shown(path: Path, base: Path | None) -> str:
    if base is None:
        return os.fspath(path)
    try:
        return Path(os.path.relpath(path.resolve(), base)).as_posix()
    except ValueError:  # another drive
        return os.fspath(path)


def provenance(sheet, sheet_path, options: dict) -> str:
    """``provenance.json``'s text: the tool, ``options`` as given, the run time and a checksum
    of every input (paths relative to the sample sheet's folder)."""
    base = sheet_folder(sheet_path) if sheet_path is not None else None
    inputs = []
    for role, path in _input_files(sheet, sheet_path, options):
        try:
            regular = path.is_file()
        except (OSError, ValueError):
            regular = False
        if not regular and path.exists():  # a pipe (<(...), /dev/stdin): read once, not again
            inputs.append({"role": role, "path": _shown(path, base), "sha256": None,
                           "note": "not a regular file (a pipe?): read once, not checksummed"})
            continue
        digest = _sha256(path)
        entry = {"role": role, "path": _shown(path, base), "sha256": digest}
        if digest is None:
            entry["note"] = "could not be read when the report was written"
        else:
            entry["bytes"] = path.stat().st_size
        inputs.append(entry)
    return dumps({
        "tool": "lesiontrack", "version": __version__,
        "options": options,
        "run_time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "pandas": pd.__version__,
        "inputs": inputs,
        "paths_relative_to": "the folder of the sample sheet",
        "notice": NOTICE,
    })


def options_shown(options: dict) -> list[tuple[str, str]]:
    """The recorded options the pages show, as (name, value for people), sorted: not those
    that change how rather than what, file options by their names only."""
    shown = []
    for key in sorted(options):
        if key in _HIDDEN_OPTIONS or key.startswith("_"):
            continue
        shown.append((key.replace("_", "-"), _option_text(key, options[key])))
    return shown


def _option_text(key: str, value) -> str:
    """An option's value for people: yes/no, lists comma-separated, file names without their
    folders (pages travel, paths leak), nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_option_text(key, v) for v in value)
    if key in _PATH_OPTIONS and value:
        return Path(value).name
    return str(value)
