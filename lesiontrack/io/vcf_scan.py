"""The fast VCF path's scan of an unindexed file: which lines of a piece of text may overlap
the gene windows (:class:`Scanner`, vectorised with numpy: only those lines are parsed), and
whether the part read so far is coordinate-sorted (:class:`Order`, for ``stop_early``).
See :mod:`lesiontrack.io.vcf_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .bgzf import FastPathUnsupported

#: What can make a record reach further than its REF: INFO/END, symbolic alleles (SVLEN, LEN).
_SPAN_HINT = re.compile(rb"END=|<")
#: First bytes of a contig name that Python's str.strip() could remove (ASCII and UTF-8 leads).
_STRIPPABLE = np.array([9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3],
                       dtype=np.uint8)
_ODD_FIRST = np.zeros(256, dtype=bool)
_ODD_FIRST[_STRIPPABLE] = True
_ODD_AFTER = _ODD_FIRST.copy()  # after a contig name: anything but the tab is checked by hand
_ODD_AFTER[9] = False
_ODD_FIRST[10] = False  # a blank line is no record (and millions of them must not be listed)
_COLUMNS11 = np.arange(11)
_POW10 = 10 ** np.arange(11, dtype=np.int64)


def _spellings(target: str) -> list[tuple[bytes, tuple[bool, ...]]]:
    """(name, case-insensitive per byte) of the contig names ``normalize_chrom`` maps to
    ``target`` (leading/trailing white space aside: those lines are checked one by one)."""
    if target == "MT":
        bodies = [("M", True), ("MT", True)]
    elif target in ("X", "Y"):
        bodies = [(target, True)]
    else:
        bodies = [(target, False)]
    out = []
    for body, ci in bodies:
        encoded = body.encode()
        letters = tuple(ci and chr(b).isalpha() for b in encoded)
        out.append((encoded, letters))
        out.append((b"chr" + encoded, (True, True, True, *letters)))
    return out


@dataclass
class Piece:
    """What a worker found in one piece of the text."""

    head: bytes  # text before the piece's first newline (the end of a line begun earlier)
    tail: bytes  # text after its last newline (the start of a line that goes on)
    complete: bool  # the piece holds at least one newline
    n_lines: int = 0  # lines wholly inside the piece
    lines: list[bytes] = field(default_factory=list)  # candidate lines, in order
    # per target: (count, first index, last index, first pos, last pos, sorted)
    summary: dict[str, tuple[int, int, int, int, int, bool]] = field(default_factory=dict)


class Scanner:
    """Finds, in a piece of text, the lines that may overlap the windows."""

    def __init__(self, windows: dict[str, list[tuple[int, int]]]) -> None:
        self.targets = []
        for target, wins in windows.items():
            starts = np.array([s for s, _ in wins], dtype=np.int64)
            ends = np.array([e for _, e in wins], dtype=np.int64)
            patterns = []
            for name, ci in _spellings(target):
                want = np.frombuffer(bytes(b | 32 if c else b for b, c in zip(name, ci,
                                                                               strict=True)),
                                     dtype=np.uint8)
                order = [len(name) - 1, *range(len(name) - 1)]
                patterns.append((len(name), want, ci, order))
            self.targets.append((target, starts, ends, patterns))

    def __call__(self, text: bytes) -> Piece:
        first = text.find(b"\n")
        if first < 0:
            return Piece(head=text, tail=b"", complete=False)
        last = text.rfind(b"\n")
        piece = Piece(head=text[:first], tail=text[last + 1:], complete=True)
        if last == first:
            return piece
        body_start = first + 1
        if not text.isascii():
            try:
                text[body_start:last].decode("utf-8")
            except UnicodeDecodeError as exc:  # pysam names the line
                raise FastPathUnsupported("a line is not UTF-8 text") from exc
        a = np.frombuffer(text, dtype=np.uint8, count=last + 1 - body_start, offset=body_start)
        newlines = np.flatnonzero(a == 10)
        n_lines = len(newlines)
        piece.n_lines = n_lines
        starts = np.empty(n_lines, dtype=np.int64)
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
        size = len(a)
        first_bytes = a[starts]
        odd = [starts[_ODD_FIRST[first_bytes]]]  # checked one by one
        found: list[np.ndarray] = []
        for target, win_starts, win_ends, patterns in self.targets:
            matched_starts = []
            matched_pos = []
            for length, want, ci, order in patterns:
                sel = starts
                for k in order:
                    if k == 0 and sel is starts:
                        column = first_bytes
                    else:
                        column = a[np.minimum(sel + k, size - 1)]
                    if ci[k]:
                        column = column | 32
                    sel = sel[column == want[k]]
                    if not len(sel):
                        break
                if not len(sel):
                    continue
                terminal = a[np.minimum(sel + length, size - 1)]
                odd.append(sel[_ODD_AFTER[terminal]])  # "chr4 \t": white space
                sel = sel[terminal == 9]
                if not len(sel):
                    continue
                # POS, vectorised: up to 10 digits followed by a tab
                d = a[np.minimum(sel[:, None] + (length + 1) + _COLUMNS11, size - 1)]
                is_digit = (d >= 48) & (d <= 57)
                n_digits = np.argmin(is_digit, axis=1)
                ok = (n_digits > 0) & (d[np.arange(len(sel)), n_digits] == 9)
                odd.append(sel[~ok])
                sel, d, n_digits = sel[ok], d[ok], n_digits[ok]
                if not len(sel):
                    continue
                exponent = n_digits[:, None] - 1 - _COLUMNS11
                weights = np.where(exponent >= 0, _POW10[np.maximum(exponent, 0)], 0)
                pos = ((d.astype(np.int64) - 48) * weights).sum(axis=1)
                matched_starts.append(sel)
                matched_pos.append(pos)
            if not matched_starts:
                continue
            sel = np.concatenate(matched_starts)
            pos = np.concatenate(matched_pos)
            if len(matched_starts) > 1:
                order = np.argsort(sel, kind="stable")
                sel, pos = sel[order], pos[order]
            index = np.searchsorted(starts, sel)
            line_ends = newlines[index]
            piece.summary[target] = (
                len(sel), int(index[0]), int(index[-1]), int(pos[0]), int(pos[-1]),
                bool(np.all(pos[1:] >= pos[:-1])),
            )
            # the first window ending at or after POS; a record reaches it when its REF could
            # (a REF is shorter than its line) or when the line has an END= (checked exactly)
            w = np.searchsorted(win_ends, pos, side="left")
            inside = w < len(win_ends)
            w = np.minimum(w, len(win_ends) - 1)
            reach = inside & (pos + (line_ends - sel) >= win_starts[w])
            maybe = np.flatnonzero(inside & ~reach)
            if len(maybe):
                has_end = self._has_end(text, body_start, sel[maybe], line_ends[maybe])
                reach[maybe[has_end]] = True
            found.append(sel[reach])
        candidates = np.concatenate(found + odd) if found or odd else np.zeros(0, np.int64)
        if len(candidates):
            candidates = np.unique(candidates)
            ends = newlines[np.searchsorted(starts, candidates)]
            piece.lines = [text[body_start + int(s):body_start + int(e)]
                           for s, e in zip(candidates, ends, strict=True)]
        return piece

    @staticmethod
    def _has_end(text: bytes, offset: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which lines contain ``END=`` or ``<`` (a superset of those whose INFO/END or
        symbolic allele can make the record reach further than its REF)."""
        if len(starts) <= 64:
            return np.array([_SPAN_HINT.search(text, offset + int(s), offset + int(e))
                             is not None for s, e in zip(starts, ends, strict=True)], dtype=bool)
        lo, hi = offset + int(starts[0]), offset + int(ends[-1])
        hits = [m.start() - offset for m in _SPAN_HINT.finditer(text, lo, hi)]
        out = np.zeros(len(starts), dtype=bool)
        if hits:
            hit = np.array(hits, dtype=np.int64)
            line = np.searchsorted(starts, hit, side="right") - 1
            ok = (line >= 0) & (hit < ends[np.maximum(line, 0)])
            out[line[ok]] = True
        return out


@dataclass
class _Contig:
    """What the scan saw of one window contig's lines, in file order."""

    max_end: int  # end of its last window
    seen: bool = False
    left: bool = False  # a line of another contig came after its lines
    last_pos: int = -1
    last_line_is_it: bool = False  # the last line seen is one of its


class Order:
    """Follows the window contigs' lines for ``stop_early``: done once each contig has been
    read past its last window (or its lines ended); broken when a contig's lines come back after
    another contig's or its positions go backwards."""

    def __init__(self, windows: dict[str, list[tuple[int, int]]]) -> None:
        self.contigs = {t: _Contig(max(e for _, e in wins)) for t, wins in windows.items()}

    @staticmethod
    def _run(state: _Contig, first_pos: int, last_pos: int) -> bool:
        """A run of the contig's lines; False when it breaks the order."""
        if state.left or (state.seen and not state.last_line_is_it) or first_pos < state.last_pos:
            return False
        state.seen = True
        state.last_pos = last_pos
        state.last_line_is_it = True
        return True

    @staticmethod
    def _other(state: _Contig) -> None:
        """A line of another contig."""
        if state.last_line_is_it:
            state.left = True
        state.last_line_is_it = False

    def follow(self, piece: Piece, stitched: tuple[str, int] | None) -> bool:
        """Take in a scanned piece (and the line stitched across its start); False when the
        order is broken."""
        for target, state in self.contigs.items():
            if stitched is not None and stitched[0] == target:
                if not self._run(state, stitched[1], stitched[1]):
                    return False
            else:
                self._other(state)
            if not piece.n_lines:
                continue
            info = piece.summary.get(target)
            if info is None:
                self._other(state)
                continue
            count, first, last, first_pos, last_pos, in_order = info
            if not in_order or last - first + 1 != count:
                return False
            if first > 0:
                self._other(state)
            if not self._run(state, first_pos, last_pos):
                return False
            if last < piece.n_lines - 1:
                self._other(state)
        return True

    def done(self) -> bool:
        """Every window contig has been read past its last window."""
        return all(s.seen and (s.left or s.last_pos > s.max_end) for s in self.contigs.values())

