"""VCFs that went through a spreadsheet: recognised, and repaired into a private plain copy.

A spreadsheet round-trip (open a VCF in Excel/LibreOffice, save as tab-separated text) wraps
cells holding quotes or commas in double quotes (``"0|1:86,35:0.289"``, ``"##FORMAT=<...""x"">"``,
inner quotes doubled), pads short rows with empty cells (trailing tabs) and keeps any note typed
below the records (``#TruelyPresentSNVs ...``). htslib reads none of that. :func:`repaired_copy`
writes the repaired text into a private temporary folder (never next to the input), where both
VCF engines read it; the input is never modified. One warning per file says what was repaired.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CallsFileError, LesionTrackError
from .bounded import LineGuard, raw_chunks
from .compression import COMPRESSION_ERRORS

#: What a spreadsheet leaves in a VCF's first bytes: a line starting with a quote, a cell
#: starting with a quote, or a line ending in an empty cell (a tab before the line end).
_DAMAGE = re.compile(rb'(?:^|\n)"|\t"|\t\r?\n')
#: A VCF's first line, quoted or not.
_VCF_START = re.compile(rb'"?##fileformat=VCF')


def damaged(head: bytes) -> bool:
    """Whether a VCF's first bytes of text (its complete lines) show spreadsheet damage."""
    end = head.rfind(b"\n")
    if end < 0 or b"\x00" in head or not _VCF_START.match(head):
        return False
    return _DAMAGE.search(head, 0, end + 1) is not None


@dataclass
class Repaired:
    """A repaired copy of a VCF, and how to speak of it in terms of the original."""

    original: Path
    folder: Path
    path: Path
    quoted: int = 0  # cells unquoted
    trailing: int = 0  # lines whose trailing empty cells were dropped
    skipped: list[int] = field(default_factory=list)  # original numbers of lines skipped

    def message(self) -> str:
        """One line: what was repaired."""
        done = []
        if self.quoted:
            done.append(f"{self.quoted:,} quoted cell(s) unquoted")
        if self.trailing:
            done.append(f"trailing empty cells dropped on {self.trailing:,} line(s)")
        if self.skipped:
            shown = ", ".join(str(n) for n in self.skipped[:3])
            more = ", ..." if len(self.skipped) > 3 else ""
            done.append(f"{len(self.skipped):,} '#' comment or blank line(s) after the header "
                        f"skipped (line {shown}{more})")
        return ("the VCF went through a spreadsheet; read a repaired copy (" + "; ".join(done)
                + "); the file itself is unchanged: re-export it as plain text to silence this")

    def original_line(self, line: int) -> int:
        """The original file's number of line ``line`` of the repaired copy."""
        number = line
        for _ in range(len(self.skipped) + 1):  # skipped lines before it push it down
            moved = line + bisect.bisect_right(self.skipped, number)
            if moved == number:
                break
            number = moved
        return number

    def translate(self, exc: LesionTrackError) -> LesionTrackError:
        """``exc`` about the copy, re-said about the original (its path, its line numbers)."""
        where = exc.where
        if isinstance(where, int) and where > 0:
            where = self.original_line(where)
        message = exc.message.replace(str(self.path), str(self.original))
        out = type(exc)(message, file=self.original if exc.file is not None else None,
                        where=where, field=exc.field, hint=exc.hint)
        return out

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Repaired:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unquote(cell: bytes) -> tuple[bytes, bool]:
    if len(cell) >= 2 and cell[0] == 34 and cell[-1] == 34:  # "..."
        return cell[1:-1].replace(b'""', b'"'), True
    return cell, False


def repaired_copy(path: Path) -> Repaired:
    """Write the repaired text of ``path`` (plain or gzip) into a new private temporary folder:
    quoted cells unquoted (doubled quotes undone), trailing empty cells and trailing spaces
    dropped, ``#`` and blank lines after the ``#CHROM`` line skipped. Every line is held at most
    :data:`~lesiontrack.io.bounded.MAX_LINE_BYTES` long. The caller closes the result."""
    # the owning process in the name: a run killed before its clean-up can be told from a live one
    folder = Path(tempfile.mkdtemp(prefix=f"lesiontrack-repair-{os.getpid()}-"))
    out = Repaired(original=path, folder=folder, path=folder / "repaired.vcf")
    guard = LineGuard(path, what="VCF")
    try:
        with out.path.open("wb") as sink:
            number = 0
            in_body = False
            pending = b""

            def line_out(line: bytes) -> None:
                nonlocal in_body
                cells = line.split(b"\t")
                for i, cell in enumerate(cells):
                    cells[i], quoted = _unquote(cell)
                    out.quoted += quoted
                n = len(cells)
                while n > 1 and not cells[n - 1].strip(b" "):
                    n -= 1
                text = b"\t".join(cells[:n])
                if n < len(cells) or text != text.rstrip(b" "):
                    out.trailing += 1
                    text = text.rstrip(b" ")
                if in_body and (not text.strip() or (text.startswith(b"#"))):
                    out.skipped.append(number)
                    return
                if text.startswith(b"#CHROM"):
                    in_body = True
                sink.write(text + b"\n")

            for chunk in raw_chunks(path):
                guard.feed(chunk)
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    number += 1
                    line_out(line.removesuffix(b"\r"))
            if pending:
                number += 1
                line_out(pending.removesuffix(b"\r"))
    except LesionTrackError:
        out.close()
        raise
    except COMPRESSION_ERRORS as exc:
        out.close()
        raise CallsFileError(f"the compressed file is truncated or corrupt ({exc})", file=path,
                             hint="copy the file again") from exc
    except (OSError, ValueError) as exc:
        out.close()
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc
    except BaseException:
        out.close()
        raise
    return out
