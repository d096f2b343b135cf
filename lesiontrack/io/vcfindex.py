"""Where a region starts in a bgzipped VCF, from its tabix (``.tbi``) or CSI (``.csi``) index.

htslib loads a whole index before the first query; for a genome-wide somatic VCF the ``.tbi``
is mostly the linear index of every contig (~1.6 MB inflated for a few thousand records), and
loading it is most of the cost of reading one small region. Here only what the query needs is
read: the header and contig names, the bins of the contigs before the wanted one (skipped with a
vectorised check), and one entry of the wanted contig's linear index. The blocks holding the
linear indexes of the other contigs are skipped without inflating them.

The answer is the virtual offset from which htslib's iterator would start reading (the same
``min_off`` rule as ``hts_itr_query``): every record overlapping the region lies at or after it,
in a coordinate-sorted file (which an index implies).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .bgzf import BlockStream, FastPathUnsupported

_TBX_VCF = 2
_CSI_ENTRY = np.dtype([("bin", "<u4"), ("loff", "<u8"), ("n", "<i4"), ("beg", "<u8"),
                       ("end", "<u8")])


def index_path(path: Path) -> Path | None:
    """The index htslib would use for ``path`` (``.tbi`` first, then ``.csi``), or None."""
    for suffix in (".tbi", ".csi"):
        candidate = Path(str(path) + suffix)
        if candidate.is_file():
            return candidate
    return None


def _bin_first(level: int) -> int:
    return ((1 << (3 * level)) - 1) // 7


def _bin_parent(b: int) -> int:
    return (b - 1) >> 3


class VcfIndex:
    """A tabix or CSI index of a bgzipped VCF, read lazily front to back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stream = BlockStream(path.read_bytes())
        magic = self.stream.read(4)
        if magic == b"TBI\x01":
            self.csi = False
            n_ref, fmt, col_seq, col_beg, _col_end, _meta, _skip, l_nm = struct.unpack(
                "<8i", self.stream.read(32)
            )
            names = self.stream.read(l_nm)
            self.min_shift, self.n_lvls = 14, 5
        elif magic == b"CSI\x01":
            self.csi = True
            self.min_shift, self.n_lvls, l_aux = struct.unpack("<3i", self.stream.read(12))
            aux = self.stream.read(l_aux)
            if l_aux < 28:
                raise FastPathUnsupported("CSI index without contig names")
            fmt, col_seq, col_beg, _col_end, _meta, _skip, l_nm = struct.unpack("<7i", aux[:28])
            names = aux[28:28 + l_nm]
            (n_ref,) = struct.unpack("<i", self.stream.read(4))
        else:
            raise FastPathUnsupported("not a tabix or CSI index")
        if (fmt & 0xFFFF) != _TBX_VCF or col_seq != 1 or col_beg != 2:
            raise FastPathUnsupported("the index is not a VCF index")
        try:
            self.names = [n.decode() for n in names.split(b"\x00")[:n_ref]]
        except UnicodeDecodeError as exc:
            raise FastPathUnsupported("contig names are not UTF-8") from exc
        if len(self.names) != n_ref:
            raise FastPathUnsupported("malformed index contig names")
        self._next_tid = 0

    # -- walking the per-contig sections ------------------------------------------------------

    def _bins(self, n_bin: int, collect: bool) -> tuple[np.ndarray, ...] | None:
        """Read (or skip) ``n_bin`` bins; with ``collect`` (CSI), arrays of the bins' ids and
        loffsets, and of every chunk's bin id, begin and end."""
        stream = self.stream
        head = 16 if self.csi else 8  # bin [+ loffset] + n_chunk
        word = 3 if self.csi else 1  # n_chunk's int32 position in an entry
        size = head + 16  # an entry with one chunk, by far the most common
        parts: list[tuple[np.ndarray, ...]] = []
        remaining = n_bin
        while remaining:
            stream.need(size * remaining)
            words = np.frombuffer(stream.buf, dtype="<i4", count=size * remaining // 4,
                                  offset=stream.off)
            irregular = np.flatnonzero(words[word::size // 4] != 1)
            regular = int(irregular[0]) if len(irregular) else remaining
            if collect and regular:
                entries = np.frombuffer(stream.buf, dtype=_CSI_ENTRY, count=regular,
                                        offset=stream.off)
                ids = entries["bin"].astype(np.int64)
                parts.append((ids, entries["loff"], ids, entries["beg"], entries["end"]))
            stream.off += size * regular
            remaining -= regular
            if remaining:  # one entry with another number of chunks (tabix's pseudo-bin)
                entry = stream.read(head)
                (n_chunk,) = struct.unpack_from("<i", entry, head - 4)
                if n_chunk < 0:
                    raise FastPathUnsupported("malformed index")
                chunks = stream.read(16 * n_chunk)
                if collect:
                    b, loff = struct.unpack_from("<IQ", entry)
                    offsets = np.frombuffer(chunks, dtype="<u8")
                    parts.append((np.array([b], dtype=np.int64), np.array([loff], np.uint64),
                                  np.full(n_chunk, b, dtype=np.int64), offsets[0::2],
                                  offsets[1::2]))
                remaining -= 1
        if not collect:
            return None
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.uint64), empty, empty.astype(np.uint64), \
                empty.astype(np.uint64)
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(5))

    def start_offsets(self, queries: dict[int, list[tuple[int, int]]]
                      ) -> dict[int, list[int | None]]:
        """For each contig id, the virtual offset to start reading each region (0-based
        start, end); None when no record can overlap it."""
        out: dict[int, list[int | None]] = {}
        if not queries:
            return out
        last = max(queries)
        if last >= len(self.names):
            raise FastPathUnsupported("contig id outside the index")
        stream = self.stream
        while self._next_tid <= last:
            tid = self._next_tid
            self._next_tid += 1
            wanted = queries.get(tid)
            (n_bin,) = struct.unpack("<i", stream.read(4))
            if n_bin < 0:
                raise FastPathUnsupported("malformed index")
            bins = self._bins(n_bin, collect=self.csi and wanted is not None)
            if self.csi:
                if wanted is not None:
                    out[tid] = [self._csi_start(bins, beg, end) for beg, end in wanted]
                continue
            (n_intv,) = struct.unpack("<i", stream.read(4))
            if n_intv < 0:
                raise FastPathUnsupported("malformed index")
            if wanted is None:
                stream.skip(8 * n_intv)
                continue
            if n_bin == 0 or n_intv == 0:
                out[tid] = [None] * len(wanted)
                stream.skip(8 * n_intv)
                continue
            # read only the linear-index entries the regions start in
            entries = [min(beg >> self.min_shift, n_intv - 1) for beg, _ in wanted]
            found: dict[int, int] = {}
            at = 0
            for entry in sorted(set(entries)):
                stream.skip(8 * (entry - at))
                (found[entry],) = struct.unpack("<Q", stream.read(8))
                at = entry + 1
            stream.skip(8 * (n_intv - at))
            out[tid] = [found[entry] for entry in entries]
        return out

    def _reg2bins(self, beg: int, end: int) -> list[int]:
        """The bins overlapping [beg, end) (htslib's ``reg2bins``)."""
        shift = self.min_shift + 3 * self.n_lvls
        if beg >= end:
            return []
        end = min(end, 1 << shift) - 1
        out: list[int] = []
        first = 0
        for level in range(self.n_lvls + 1):
            out.extend(range(first + (beg >> shift), first + (end >> shift) + 1))
            first += 1 << (3 * level)
            shift -= 3
        return out

    def _csi_start(self, bins, beg: int, end: int) -> int | None:
        """Where htslib's iterator starts for [beg, end): the first chunk of the bins overlapping
        the region that ends after the region's ``min_off`` (from the bins' loffsets)."""
        ids, loffs, chunk_bins, chunk_begs, chunk_ends = bins
        if not len(ids):
            return None
        lookup = dict(zip(ids.tolist(), loffs.tolist(), strict=True))
        b = _bin_first(self.n_lvls) + (beg >> self.min_shift)
        min_off = 0
        while b:
            if b in lookup:
                min_off = lookup[b]
                break
            first = (_bin_parent(b) << 3) + 1
            b = b - 1 if b > first else _bin_parent(b)
        else:
            min_off = lookup.get(0, 0)
        keep = np.isin(chunk_bins, self._reg2bins(beg, end)) & (chunk_ends > min_off)
        if not keep.any():
            return None
        return int(chunk_begs[keep].min())
