"""Allele counts at given sites from an indexed BAM or CRAM ("force-calling").

A secondary mutation is only secondary if the other lesions were *looked at* and it was not
there. A VCF lists what a caller called, not where it looked, so :func:`count_alleles` counts
reads itself at every site in every sample. The rules, applied to every read:

Input
    BAM or CRAM with an index (``.bai``, ``.csi`` or ``.crai``). A CRAM needs its reference
    FASTA (``reference``); the FASTA must hold the CRAM's contigs under the same names. When
    ``expected_assembly`` is given, a file whose ``@SQ`` chr4 length belongs to the other build
    is refused; when ``expected_sample`` (a name, or several accepted names) is given and the file's ``@RG`` lines carry ``SM``
    tags, a file without that sample is refused, and in a file with several samples only the
    reads of that sample's read groups are counted.

Reads
    Fetched through the index, region by region: sites closer than :data:`MERGE_GAP` bases
    share one fetch, so the cost grows with the number of sites, not with the file's size.
    Excluded: unmapped, secondary, supplementary, duplicate and QC-fail reads
    (:data:`EXCLUDED_FLAGS`) and reads with mapping quality below ``min_mapq``
    (:data:`DEFAULT_MIN_MAPQ`). A read without base qualities (QUAL ``*``) counts as if every
    base passed.

Overlapping mates
    Reads sharing a ``query_name`` (the two mates of a fragment) count once per site. When both
    are informative, the one with the higher evidence quality (below) is kept, whatever allele
    it shows; on a tie the first one fetched (the leftmost) is kept.

Substitutions (SNV, MNV)
    The read must align (M/=/X, or D) over every base of the site. The aligned read bases at
    the site must all have base quality >= ``min_baseq`` (:data:`DEFAULT_MIN_BASEQ`); they are
    the evidence quality. Equal to ALT -> alt, equal to REF -> ref, anything else -> other. A
    deletion at the site, or an insertion between two bases of an MNV, makes the read "other"
    (judged on the read bases on both sides of that indel).

Deletions (``pos, ref=XYZ, alt=-``) and insertions (``pos, ref=-, alt=SEQ``)
    Read from the CIGAR. With a ``reference`` covering the site, the site's *equivalence
    window* is every position the same event can be written at along a repeat (from
    :meth:`Reference.left_align` to :meth:`Reference.right_align`); without one, the site's own
    position only, and the *span* below is the short one.

    - alt: the read has a D operation of exactly ``len(ref)`` bases whose first deleted base
      is in the window (deletion), or an I operation right after a window position inserting
      exactly the SEQ rotated to that position (insertion). An indel of another length or
      sequence is never ALT. Without a reference, a same-length indel elsewhere (within
      :data:`MAX_SHIFT` bases) is checked with the site's REF and the read's own aligned bases
      standing in for the reference: an insertion shown equivalent -> alt; shown different ->
      ignored; undecidable -> other, never ref. A shifted deletion is always undecidable (some
      bases that would tell are the ones deleted in the read) unless shown different, so give
      a reference to count deletions in repeats.
    - ref: the read has aligned bases (M/=/X) at every reference position of the *span*, from
      its left flank to its right flank, with no insertion between them. Deletion: left flank =
      the base before the window's leftmost deleted base, right flank = the base after its
      rightmost one (without a reference: ``pos-1 .. pos+len(ref)``). Insertion: left flank =
      the window's leftmost base-before-insertion, right flank = the base after its rightmost
      one (without a reference: ``pos .. pos+1``). A read that ends inside the span could show
      either allele and is not informative.
    - other: the read covers both flanks (in reference coordinates) and carries another indel
      or skipped region (N) touching the span; with a reference, each read indel is first
      spread over all its own equivalent placements, so one event touches the same sites
      wherever the aligner wrote it. A read whose indel does not touch the span is judged by
      the ref rule.

    Evidence quality: for a read with an indel (ALT or other), the read bases right before and
    right after each such indel operation; for a ref read, the read bases at the two flanks.
    Every one must have base quality >= ``min_baseq``, else the read is not counted.

Complex (DELINS, e.g. ``ref=AG, alt=T``)
    The read must align bases at ``pos-1`` and ``pos+len(ref)``; the read sequence between them
    is compared with ALT (alt), REF (ref) or anything else (other); every base of it and both
    flanks must pass ``min_baseq``. Shifted representations are not matched.

``depth`` is ref + alt + other: the reads informative at the site.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pysam

from ..errors import CallsFileError, OptionError, ReferenceMismatchError
from ..genome import CHR4_LENGTH, assembly_from_chr4_length, normalize_assembly, normalize_chrom
from ..reference import Reference, indexed_fasta
from ..variants import is_simple_allele, variant_type
from .compression import GZIP_MAGIC

log = logging.getLogger("lesiontrack")

#: Reads with a mapping quality below this are not counted.
DEFAULT_MIN_MAPQ = 20
#: Evidence bases (see the module docstring) with a base quality below this are not counted.
DEFAULT_MIN_BASEQ = 20
#: Unmapped (0x4), secondary (0x100), QC-fail (0x200), duplicate (0x400), supplementary (0x800).
EXCLUDED_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
#: Without a reference, a same-kind, same-length indel this close (bases) to an indel site is
#: checked for being the site's event shifted along a repeat (see the module docstring).
MAX_SHIFT = 100
#: Sites whose read windows are closer than this (bases) are fetched as one region.
MERGE_GAP = 300
#: Columns ``sites`` must have, and the columns :func:`count_alleles` adds.
SITE_COLUMNS: tuple[str, ...] = ("chrom", "pos", "ref", "alt")
COUNT_COLUMNS: tuple[str, ...] = ("ref_count", "alt_count", "depth")

REF, ALT, OTHER = 0, 1, 2
_MATCH, _INS, _DEL, _SKIP = 0, 1, 2, 3
#: CIGAR operation -> block kind: M, =, X are aligned; I inserted; D deleted; N skipped.
_CIGAR_KIND = {0: _MATCH, 7: _MATCH, 8: _MATCH, 1: _INS, 2: _DEL, 3: _SKIP}

Block = tuple[int, int, int, int]  # (kind, 0-based reference start, query start, length)


# --------------------------------------------------------------------------------------------
# Sites


@dataclass(eq=False)
class _Site:
    """One distinct site to count, with its read window and its per-fragment evidence."""

    contig: str  # contig name in the alignment file
    kind: str  # "sub", "del", "ins" or "complex"
    pos: int
    ref: str
    alt: str
    lo: int  # first reference base (1-based) a read must touch to be informative
    hi: int  # last reference base (1-based) a read must touch to be informative
    eq_lo: int = 0  # deletion: first deleted base, leftmost equivalent position
    eq_hi: int = 0  # deletion: first deleted base, rightmost equivalent position
    ins_seqs: dict[int, str] = field(default_factory=dict)  # insertion: base-before -> SEQ
    resolved: bool = False  # indel: the equivalence window comes from the reference
    chrom: str = ""  # contig as the sites name it, for reference look-ups
    reference: Reference | None = None  # set when resolved
    spans: dict[tuple[str, int, int, int, str], tuple[int, int]] | None = None  # shared cache
    best: dict[str, tuple[int, int]] = field(default_factory=dict)  # read name -> (qual, class)

    def counts(self) -> tuple[int, int, int]:
        """(ref_count, alt_count, depth)."""
        classes = [cls for _, cls in self.best.values()]
        return classes.count(REF), classes.count(ALT), len(classes)


def _site_error(message: str, row: object) -> OptionError:
    return OptionError(f"sites row {row}: {message}", field="sites",
                       hint="sites need chrom, pos and minimal ref/alt alleles ('-' if empty)")


def _make_site(
    contig: str, chrom: str, pos: int, ref: str, alt: str, reference: Reference | None
) -> _Site:
    kind = {"SNV": "sub", "MNV": "sub", "DEL": "del", "INS": "ins"}.get(
        variant_type(ref, alt), "complex"
    )
    if reference is not None and ref != "-":
        seq = reference.fetch(chrom, pos, pos + len(ref) - 1)
        if seq is not None and "N" not in seq and seq != ref:
            raise ReferenceMismatchError(
                f"site {chrom}:{pos}:{ref}>{alt} has REF {ref} but the reference has {seq}",
                file=reference.path, field="ref",
                hint="are the sites, the alignments and the reference on the same build?",
            )
    if kind == "sub":
        return _Site(contig, kind, pos, ref, alt, pos, pos + len(ref) - 1)
    if kind == "complex":
        return _Site(contig, kind, pos, ref, alt, pos - 1, pos + len(ref))
    covered = reference is not None and reference.fetch(chrom, pos - 1, pos + 1) is not None
    if kind == "del":
        eq_lo = eq_hi = pos
        if covered:
            eq_lo = reference.left_align(chrom, pos, ref, alt)[0]
            eq_hi = reference.right_align(chrom, pos, ref, alt)[0]
        return _Site(contig, kind, pos, ref, alt, eq_lo - 1, eq_hi + len(ref), eq_lo, eq_hi,
                     resolved=covered, chrom=chrom, reference=reference if covered else None)
    # insertion after `pos`: every equivalent base-before position with its rotated sequence
    seqs = {pos: alt}
    if covered:
        p, _, seq = reference.left_align(chrom, pos, ref, alt)
        seqs = {p: seq}
        while True:
            base = reference.base(chrom, p + 1)
            if base is None or base != seq[0]:
                break
            seq, p = seq[1:] + seq[0], p + 1
            seqs[p] = seq
    return _Site(contig, kind, pos, ref, alt, min(seqs), max(seqs) + 1, ins_seqs=seqs,
                 resolved=covered, chrom=chrom, reference=reference if covered else None)


# --------------------------------------------------------------------------------------------
# Per-read classification


def _blocks(cigartuples: list[tuple[int, int]], start: int) -> tuple[list[Block], int, int]:
    """Alignment blocks of a read, and the query range [first, end) that is not soft-clipped."""
    if len(cigartuples) == 1 and cigartuples[0][0] in (0, 7, 8):  # the common all-M read
        n = cigartuples[0][1]
        return [(_MATCH, start, 0, n)], 0, n
    blocks: list[Block] = []
    r = start
    q = 0
    first = -1
    end = 0
    for op, n in cigartuples:
        kind = _CIGAR_KIND.get(op)
        if kind is None:
            if op == 4:  # soft clip
                q += n
            continue  # hard clip, padding
        if first < 0:
            first = q
        blocks.append((kind, r, q, n))
        if kind != _INS:
            r += n
        if kind <= _INS:  # match or insertion consumes the query
            q += n
            end = q
    return blocks, max(first, 0), end


def _op_quality(block: Block, quals, first: int, end: int) -> int:
    """Lower quality of the read bases right before and right after an indel block, or -1."""
    kind, _, q0, n = block
    after = q0 + n if kind == _INS else q0
    if q0 - 1 < first or after >= end:
        return -1
    return min(quals[q0 - 1], quals[after])


def _classify_sub(site: _Site, blocks, seq, quals, first, end, min_bq):
    start0 = site.pos - 1
    if len(site.ref) == 1:  # fast path for an SNV: the one block holding the site decides
        for block in blocks:
            kind, r0, q0, n = block
            if kind == _INS or r0 + n <= start0:
                continue
            if r0 > start0:
                return None
            if kind == _MATCH:
                qp = q0 + start0 - r0
                qual = quals[qp]
                if qual < min_bq:
                    return None
                base = seq[qp]
                return qual, (ALT if base == site.alt else REF if base == site.ref else OTHER)
            if kind == _DEL:
                qual = _op_quality(block, quals, first, end)
                return (qual, OTHER) if qual >= min_bq else None
            return None
        return None
    end0 = start0 + len(site.ref)
    bases = []
    qual = 255
    covered = 0
    indel = False
    for block in blocks:
        kind, r0, q0, n = block
        if kind == _INS:
            if start0 < r0 < end0:
                indel = True
                qual = min(qual, _op_quality(block, quals, first, end))
            continue
        r1 = r0 + n
        if r1 <= start0:
            continue
        if r0 >= end0:
            break
        lo = max(r0, start0)
        hi = min(r1, end0)
        covered += hi - lo
        if kind == _MATCH:
            for qp in range(q0 + lo - r0, q0 + hi - r0):
                qual = min(qual, quals[qp])
                bases.append(seq[qp])
        elif kind == _DEL:
            indel = True
            qual = min(qual, _op_quality(block, quals, first, end))
        else:
            return None
    if covered < end0 - start0 or qual < min_bq:
        return None
    if indel:
        return qual, OTHER
    allele = "".join(bases)
    return qual, (ALT if allele == site.alt else REF if allele == site.ref else OTHER)


def _read_base(blocks: list[Block], seq: str, pos: int) -> str | None:
    """The read base aligned (M/=/X) at 1-based reference position ``pos``, else None."""
    pos0 = pos - 1
    for kind, r0, q0, n in blocks:
        if kind != _INS and r0 <= pos0 < r0 + n:
            return seq[q0 + pos0 - r0] if kind == _MATCH else None
    return None


def _unresolved_insertion(site: _Site, after: int, inserted: str, blocks, seq) -> int | None:
    """Is an insertion of ``inserted`` after ``after`` the site's, with no reference?

    The read's own aligned bases between the two positions stand in for the reference when
    rotating SEQ along the repeat. ALT: the same event; None: another event; OTHER: cannot tell.
    """
    pos, unit = site.pos, site.alt
    if after == pos:
        return ALT if inserted == unit else None
    if abs(after - pos) > MAX_SHIFT:
        return None
    steps = range(pos + 1, after + 1) if after > pos else range(pos, after, -1)
    for k in steps:
        base = _read_base(blocks, seq, k)
        if base is None:
            return OTHER
        if after > pos:
            if base != unit[0]:
                return None
            unit = unit[1:] + unit[0]
        else:
            if base != unit[-1]:
                return None
            unit = unit[-1] + unit[:-1]
    return ALT if inserted == unit else None


def _unresolved_deletion(site: _Site, start: int, blocks, seq) -> int | None:
    """Is a same-length deletion starting at ``start`` the site's, with no reference?

    Two deletions of length L are the same event when the bases between them repeat with
    period L. Bases come from the site's REF allele and the read's aligned bases; ALT: the same
    position; None: shown different; OTHER: cannot tell (some of those bases are deleted in the
    read, which is always the case for a shifted deletion that is not shown different).
    """
    pos, length = site.pos, len(site.ref)
    if start == pos:
        return ALT
    if abs(start - pos) > MAX_SHIFT:
        return None

    def known(x: int) -> str | None:
        if pos <= x < pos + length:
            return site.ref[x - pos]
        return _read_base(blocks, seq, x)

    unknown = False
    for k in range(min(pos, start), max(pos, start)):
        a, b = known(k), known(k + length)
        if a is None or b is None:
            unknown = True
        elif a != b:
            return None
    return OTHER if unknown else ALT


def _touches(site: _Site, block: Block, seq: str) -> bool:
    """Does a read's indel (or skip) touch the site's flank-to-flank span?

    With a reference the indel is first spread over every equivalent placement along its
    repeat, so one event written at either end of a repeat touches the same sites.
    """
    kind, r0, _, n = block
    first, last = (r0, r0 + 1) if kind == _INS else (r0 + 1, r0 + n)
    if site.reference is not None and kind != _SKIP:
        inserted = seq[block[2] : block[2] + n] if kind == _INS else ""
        key = (site.contig, kind, r0, n, inserted)
        span = site.spans.get(key) if site.spans is not None else None
        if span is None:
            span = _equivalent_span(site.reference, site.chrom, kind, first, last, inserted)
            if site.spans is not None:
                site.spans[key] = span
        first, last = span
    if kind == _INS:  # inserted between base b and b + 1, for b in first .. last - 1
        return first < site.hi and last > site.lo
    return first <= site.hi and last >= site.lo


def _equivalent_span(reference: Reference, chrom: str, kind: int, first: int, last: int,
                     inserted: str) -> tuple[int, int]:
    """(first, last) bases an indel touches over all its placements along a repeat."""
    if kind == _INS:
        left = reference.left_align(chrom, first, "-", inserted)[0]
        right = reference.right_align(chrom, first, "-", inserted)[0]
        return left, right + 1
    deleted = reference.fetch(chrom, first, last)
    if deleted is None:
        return first, last
    left = reference.left_align(chrom, first, deleted, "-")[0]
    right = reference.right_align(chrom, first, deleted, "-")[0]
    return left, right + last - first


def _classify_indel(site: _Site, blocks, seq, quals, first, end, rstart, rend, min_bq):
    lf0 = site.lo - 1  # 0-based flanks
    rf0 = site.hi - 1
    is_del = site.kind == "del"
    length = len(site.ref) if is_del else len(site.alt)
    lf_q = rf_q = -1
    touching = []  # indel blocks touching the flank-to-flank span
    unverified = []  # same-kind, same-length indel blocks that may be the site's event
    for block in blocks:
        kind, r0, q0, n = block
        if kind == _MATCH:
            if r0 <= lf0 < r0 + n:
                lf_q = q0 + lf0 - r0
            if r0 <= rf0 < r0 + n:
                rf_q = q0 + rf0 - r0
            continue
        verdict = None
        if kind == _INS:
            if not is_del and n == length:
                inserted = seq[q0 : q0 + n]
                if site.resolved:
                    verdict = ALT if site.ins_seqs.get(r0) == inserted else None
                else:
                    verdict = _unresolved_insertion(site, r0, inserted, blocks, seq)
        else:
            if is_del and kind == _DEL and n == length:
                if site.resolved:
                    verdict = ALT if site.eq_lo <= r0 + 1 <= site.eq_hi else None
                else:
                    verdict = _unresolved_deletion(site, r0 + 1, blocks, seq)
        if verdict == ALT:
            qual = _op_quality(block, quals, first, end)
            return (qual, ALT) if qual >= min_bq else None
        if verdict == OTHER:
            unverified.append(block)
        elif _touches(site, block, seq):
            touching.append(block)
    if touching and (rstart > lf0 or rend <= rf0):
        touching = []  # does not span the site: no verdict from these indels
    if touching or unverified:
        qual = min(_op_quality(b, quals, first, end) for b in touching + unverified)
        return (qual, OTHER) if qual >= min_bq else None
    if lf_q < 0 or rf_q < 0:
        return None
    qual = min(quals[lf_q], quals[rf_q])
    return (qual, REF) if qual >= min_bq else None


def _classify_complex(site: _Site, blocks, seq, quals, min_bq):
    lf0 = site.lo - 1
    rf0 = site.hi - 1
    lf_q = rf_q = -1
    for kind, r0, q0, n in blocks:
        if kind == _MATCH:
            if r0 <= lf0 < r0 + n:
                lf_q = q0 + lf0 - r0
            if r0 <= rf0 < r0 + n:
                rf_q = q0 + rf0 - r0
    if lf_q < 0 or rf_q < 0:
        return None
    qual = min(quals[lf_q : rf_q + 1])
    if qual < min_bq:
        return None
    allele = seq[lf_q + 1 : rf_q]
    return qual, (ALT if allele == site.alt else REF if allele == site.ref else OTHER)


# --------------------------------------------------------------------------------------------
# Opening and checking the alignment file


def _format_of(path: Path) -> str:
    """``bam``, ``cram`` or ``other`` from the file's first bytes."""
    try:
        with path.open("rb") as probe:
            head = probe.read(4)
    except OSError as exc:
        raise CallsFileError(f"cannot read the alignment file: {exc}", file=path) from exc
    if head == b"CRAM":
        return "cram"
    if head[:2] == GZIP_MAGIC:
        return "bam"
    return "other"


def _fasta_path(reference: Reference | str | os.PathLike[str] | None) -> Path | None:
    if reference is None:
        return None
    if isinstance(reference, Reference):
        return reference.fasta_path
    try:
        return indexed_fasta(reference)  # an index is never built beside the input
    except OSError:
        return Path(reference)  # opening it names the problem


def _open_checked(
    path: Path,
    reference_path: Path | None,
    expected_assembly: str | None,
    expected_sample: str | Sequence[str] | None,
) -> tuple[pysam.AlignmentFile, set[str] | None, set[str] | None]:
    """Open ``path`` after the checks of the module docstring.

    Also returns the read groups to keep (None: every read) and, for a CRAM, the contig names
    of its reference FASTA (None for a BAM).
    """
    kind = _format_of(path)
    if kind == "other":
        raise CallsFileError(
            "not a BAM or CRAM file", file=path, field="format",
            hint="give a coordinate-sorted, indexed BAM or CRAM (samtools sort + samtools index)",
        )
    if kind == "cram" and reference_path is None:
        raise CallsFileError(
            "a CRAM needs its reference FASTA to be decoded, and none was given",
            file=path, field="reference", hint="give the FASTA the CRAM was written against",
        )
    try:
        bam = pysam.AlignmentFile(
            str(path), "rc" if kind == "cram" else "rb",
            reference_filename=str(reference_path) if kind == "cram" else None,
        )
    except (OSError, ValueError) as exc:
        raise CallsFileError(f"cannot open the {kind.upper()} file: {exc}", file=path) from exc
    try:
        rg_keep = _check_header(bam, path, kind, expected_assembly, expected_sample)
        fasta_contigs = None
        if kind == "cram":
            with pysam.FastaFile(str(reference_path)) as fasta:
                fasta_contigs = set(fasta.references)
    except BaseException:
        bam.close()
        raise
    return bam, rg_keep, fasta_contigs


def _check_header(bam, path, kind, expected_assembly, expected_sample):
    if not bam.has_index():
        raise CallsFileError(
            f"the {kind.upper()} has no index (.bai, .csi or .crai beside it)",
            file=path, field="index",
            hint=f"run: samtools index {path.name}; sites are read by region through the index",
        )
    if expected_assembly is not None:
        assembly = normalize_assembly(expected_assembly)
        if assembly is None:
            raise OptionError(f"unknown assembly {expected_assembly!r}", field="assembly",
                              hint="use GRCh37 or GRCh38")
        for name, length in zip(bam.references, bam.lengths, strict=True):
            if normalize_chrom(name) != "4":
                continue
            found = assembly_from_chr4_length(length)
            if found is not None and found != assembly:
                raise CallsFileError(
                    f"the alignments are on {found} (@SQ {name} LN:{length}) but {assembly} "
                    "was expected", file=path, field="@SQ LN",
                    hint=f"chr4 is {CHR4_LENGTH[assembly]} bases long in {assembly}; "
                    "give the alignments made against the calls' build",
                )
    rg_keep = None
    if expected_sample is not None:
        groups = bam.header.to_dict().get("RG", [])
        by_sample: dict[str, set[str]] = {}
        for group in groups:
            if "SM" in group:
                by_sample.setdefault(str(group["SM"]), set()).add(str(group.get("ID", "")))
        names = [expected_sample] if isinstance(expected_sample, str) else list(expected_sample)
        found = next((n for n in names if n in by_sample), None)
        if by_sample and found is None:
            raise CallsFileError(
                f"the read groups are for sample(s) {', '.join(sorted(by_sample))}, "
                f"not {' or '.join(names)}", file=path, field="@RG SM",
                hint="check which alignment file the sample sheet gives for this sample",
            )
        if len(by_sample) > 1:
            rg_keep = by_sample[found]
    return rg_keep


# --------------------------------------------------------------------------------------------
# Counting


def _regions(sites: list[_Site]) -> list[tuple[str, int, int, list[_Site]]]:
    """Sites grouped into fetch regions (contig, 0-based start, end, sites sorted by lo)."""
    regions: list[tuple[str, int, int, list[_Site]]] = []
    for site in sorted(sites, key=lambda s: (s.contig, s.lo, s.hi)):
        if regions and regions[-1][0] == site.contig and site.lo - regions[-1][2] <= MERGE_GAP:
            contig, start, end, members = regions[-1]
            members.append(site)
            regions[-1] = (contig, start, max(end, site.hi), members)
        else:
            regions.append((site.contig, site.lo - 1, site.hi, [site]))
    return regions


def _count_region(bam, contig, start, end, sites, rg_keep, min_mapq, min_bq) -> int:
    """Fetch the region once and add every read's evidence to its sites; reads fetched."""
    los = [s.lo for s in sites]
    widest = max(s.hi - s.lo for s in sites)
    fetched = 0
    for read in bam.fetch(contig, max(0, start), end):
        fetched += 1
        if read.flag & EXCLUDED_FLAGS or read.mapping_quality < min_mapq:
            continue
        if rg_keep is not None and (
            not read.has_tag("RG") or read.get_tag("RG") not in rg_keep
        ):
            continue
        rstart = read.reference_start
        rend = read.reference_end
        lo = bisect.bisect_left(los, rstart + 1 - widest)
        hi = bisect.bisect_right(los, rend)
        candidates = [s for s in sites[lo:hi] if s.hi > rstart]
        if not candidates:
            continue
        seq = read.query_sequence
        if not seq:
            continue
        quals = read.query_qualities
        if quals is None:
            quals = [255] * len(seq)
        blocks, first, qend = _blocks(read.cigartuples, rstart)
        name = read.query_name
        for site in candidates:
            if site.kind == "sub":
                result = _classify_sub(site, blocks, seq, quals, first, qend, min_bq)
            elif site.kind == "complex":
                result = _classify_complex(site, blocks, seq, quals, min_bq)
            else:
                result = _classify_indel(site, blocks, seq, quals, first, qend, rstart, rend,
                                         min_bq)
            if result is None:
                continue
            previous = site.best.get(name)
            if previous is None or result[0] > previous[0]:
                site.best[name] = result
    return fetched


def _read_sites(sites: pd.DataFrame) -> list[tuple[str, int, str, str]]:
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise OptionError(f"sites lack the column(s) {', '.join(missing)}", field="sites",
                          hint="sites need the columns chrom, pos, ref, alt")
    out = []
    for row, chrom, pos, ref, alt in zip(sites.index, sites["chrom"], sites["pos"],
                                         sites["ref"], sites["alt"], strict=True):
        if pd.isna(ref) or pd.isna(alt) or pd.isna(chrom):
            raise _site_error("chrom, ref or alt is missing", row)
        ref = str(ref).strip().upper() or "-"
        alt = str(alt).strip().upper() or "-"
        try:
            position = int(pos)
        except (TypeError, ValueError):
            raise _site_error(f"pos {pos!r} is not a position", row) from None
        if position < 1:
            raise _site_error(f"pos {pos!r} is not a position", row)
        if ref == alt or any(a != "-" and not is_simple_allele(a) for a in (ref, alt)):
            raise _site_error(f"{ref}>{alt} is not a countable allele pair", row)
        out.append((str(chrom), position, ref, alt))
    return out


def count_alleles(
    path: str | os.PathLike[str],
    sites: pd.DataFrame,
    *,
    reference: Reference | str | os.PathLike[str] | None = None,
    min_mapq: int = DEFAULT_MIN_MAPQ,
    min_baseq: int = DEFAULT_MIN_BASEQ,
    expected_assembly: str | None = None,
    expected_sample: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Count REF, ALT and other reads at every site of ``sites`` in one BAM or CRAM.

    ``sites`` has the columns chrom, pos, ref, alt in the minimal form of
    :mod:`lesiontrack.variants` (``-`` for an empty allele). Returns a copy of ``sites`` (same
    index and order) with the int columns ``ref_count``, ``alt_count`` and ``depth`` (reads
    informative at the site: ref + alt + other). ``reference`` (a :class:`Reference` or a FASTA
    path) decodes a CRAM and lets indels in repeats match at any equivalent position. The
    counting rules are in the module docstring.

    Raises :class:`CallsFileError` for an unreadable or unindexed file, a CRAM without
    reference, a build or sample other than expected, or a site contig the file lacks;
    :class:`ReferenceMismatchError` when a site's REF disagrees with ``reference``;
    :class:`OptionError` for malformed ``sites``.
    """
    path = Path(path)
    if not path.exists():
        raise CallsFileError("the alignment file does not exist", file=path)
    fasta = _fasta_path(reference)
    ref_obj = reference if isinstance(reference, Reference) or reference is None else (
        Reference(reference))
    rows = _read_sites(sites)
    bam, rg_keep, fasta_contigs = _open_checked(path, fasta, expected_assembly, expected_sample)
    try:
        by_norm: dict[str, str] = {}
        for name in bam.references:
            by_norm.setdefault(normalize_chrom(name), name)
        lengths = dict(zip(bam.references, bam.lengths, strict=True))
        distinct: dict[tuple[str, int, str, str], _Site] = {}
        spans: dict = {}  # indel placements already spread along their repeat
        for chrom, pos, ref, alt in rows:
            key = (normalize_chrom(chrom), pos, ref, alt)
            if key in distinct:
                continue
            contig = chrom if chrom in lengths else by_norm.get(key[0])
            if contig is None:
                raise CallsFileError(
                    f"no contig {chrom} in the alignment file's header (contigs: "
                    f"{', '.join(bam.references[:5])}{'...' if bam.nreferences > 5 else ''})",
                    file=path, field="@SQ SN",
                    hint="are the sites and the alignments on the same reference?",
                )
            if fasta_contigs is not None and contig not in fasta_contigs:
                raise CallsFileError(
                    f"the reference FASTA {fasta} has no contig {contig}, so the CRAM's reads "
                    "there cannot be decoded", file=path, field="reference",
                    hint="give the FASTA the CRAM was written against (same contig names)",
                )
            distinct[key] = _make_site(contig, chrom, pos, ref, alt, ref_obj)
            distinct[key].spans = spans
        fetched = 0
        regions = _regions(list(distinct.values()))
        for contig, start, end, members in regions:
            end = min(end, lengths[contig])
            if start >= end:
                continue
            fetched += _count_region(bam, contig, start, end, members, rg_keep, min_mapq,
                                     min_baseq)
    finally:
        bam.close()
    log.debug("%s: %d sites in %d regions, %d reads fetched", path, len(distinct),
              len(regions), fetched)
    counts = {key: site.counts() for key, site in distinct.items()}
    out = sites.copy()
    values = [counts[(normalize_chrom(c), p, r, a)] for c, p, r, a in rows]
    for i, column in enumerate(COUNT_COLUMNS):
        out[column] = pd.Series([v[i] for v in values], index=sites.index, dtype="int64")
    return out


__all__ = [
    "COUNT_COLUMNS",
    "DEFAULT_MIN_BASEQ",
    "DEFAULT_MIN_MAPQ",
    "EXCLUDED_FLAGS",
    "MAX_SHIFT",
    "MERGE_GAP",
    "SITE_COLUMNS",
    "count_alleles",
]
