"""Errors raised by lesiontrack.

Every error about an input names the file, the line or record, and the field, so that the
command line can print it on one line: ``lesiontrack: error: <file>:<where>: <field>: <what>``.
"""

from __future__ import annotations

import os


class LesionTrackError(Exception):
    """Base class of every error lesiontrack raises on bad input or bad options."""

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        where: str | int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = os.fspath(file) if file is not None else None
        self.where = where
        self.field = field
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line: ``file:where: field: message (hint)``."""
        location = ""
        if self.file is not None:
            location = self.file
            if self.where is not None and self.where != "":
                where = str(self.where)
                location += f":{where}"
        parts = [p for p in (location, f"field '{self.field}'" if self.field else "") if p]
        text = ": ".join([*parts, self.message])
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())  # guaranteed one line


class SampleSheetError(LesionTrackError):
    """The sample sheet is malformed: a missing column, an unknown status, a missing file."""


class CallsFileError(LesionTrackError):
    """A calls file (VCF, BCF, MAF, TSV) cannot be read or holds an impossible value."""


class ReferenceMismatchError(LesionTrackError):
    """The reference genome disagrees with the calls (wrong build) or cannot be read."""


class OptionError(LesionTrackError):
    """A command-line or API option has an impossible value."""


class PatientTableError(LesionTrackError):
    """The patient table (outcomes, radiology counts, pattern) is malformed or disagrees with
    the sample sheet."""


class OutputError(LesionTrackError):
    """An output cannot be written: a read-only or full file system, a name too long, no
    permission. The user's environment, not a bug: ``<path>: cannot write (<reason>)``."""


__all__ = [
    "CallsFileError",
    "LesionTrackError",
    "OptionError",
    "OutputError",
    "PatientTableError",
    "ReferenceMismatchError",
    "SampleSheetError",
]
