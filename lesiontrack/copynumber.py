"""KIT/PDGFRA copy number per sample and per lesion.

Pure functions over tables (no file is read here; :func:`lesiontrack.io.cnv.read_copy_number`
gives the segments table).

Copy number over a gene
    The gene is the span of its bundled transcript model (first exon start to last exon end, on
    the sample's build). Every segment overlapping it contributes its copy number weighted by
    the number of gene bases it covers. A ``log2`` segment (CNVkit ``.cns``, GATK, plain log2)
    is a ratio r = 2^log2 to the sample's average; with tumour content p and tumour ploidy P,
    r = p*CN/P + (1-p), so CN = P*(r-(1-p))/p (clipped at 0). Without a tumour content p = 1 is
    used, and the reason says that gains are then underestimated. Below :data:`DEFAULT_MIN_PURITY`
    a log2 file is not converted (the noise of r is multiplied by P/p). Absolute formats (FACETS
    ``tcn.em``, ASCAT nMajor+nMinor, CNVkit ``cn``, plain ``copy_number``) are tumour copy
    numbers already and are used as they are.

Calls (P = tumour ploidy, default 2)
    ``amplification``  CN >= max(amp_cn, 2.5 x P)   (amp_cn default 6)
    ``gain``           CN >= P + 0.5
    ``loss``           CN <= P - 0.5
    ``neutral``        otherwise
    ``not_evaluable``  no copy-number file, no segment with a value over the gene, fewer than
                       ``min_probes`` probes in the segments over it (where the format counts
                       them), or a log2 file with tumour content below ``min_purity``.
    These are conventions, not thresholds derived from GIST data (see the README section
    "Copy number and other roads to resistance").

The progression mechanism of each progressive lesion, which reads these calls, is in
:mod:`lesiontrack.mechanism`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import OptionError
from .genome import bundled_genes, normalize_assembly, transcripts
from .options import DEFAULT_AMP_CN

__all__ = [
    "COPY_NUMBER_CALLS",
    "COPY_NUMBER_COLUMNS",
    "DEFAULT_AMP_CN",
    "DEFAULT_AMP_PLOIDY_FACTOR",
    "DEFAULT_MIN_PROBES",
    "DEFAULT_MIN_PURITY",
    "DEFAULT_PLOIDY",
    "LESION_COPY_NUMBER_COLUMNS",
    "MECHANISM_GENES",
    "call_copy_number",
    "copy_number_from_log2",
    "copy_number_table",
    "gene_copy_number",
    "gene_spans",
    "lesion_copy_number",
]

#: ... and, for polyploid tumours, at least this many times the tumour ploidy.
DEFAULT_AMP_PLOIDY_FACTOR = 2.5
#: Tumour ploidy assumed when none is given.
DEFAULT_PLOIDY = 2.0
#: Fewest probes (bins, SNPs, points) in the segments over a gene for a call.
DEFAULT_MIN_PROBES = 3
#: Lowest tumour content at which a log2 ratio is turned into a copy number.
DEFAULT_MIN_PURITY = 0.2

COPY_NUMBER_CALLS: tuple[str, ...] = ("amplification", "gain", "neutral", "loss", "not_evaluable")
#: Genes whose amplification is a road to resistance in GIST.
MECHANISM_GENES: tuple[str, ...] = ("KIT", "PDGFRA")
#: Columns of :func:`copy_number_table`, in order.
COPY_NUMBER_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "sample_id", "gene", "assembly", "chrom", "gene_start", "gene_end",
    "format", "kind", "log2", "copy_number", "purity", "ploidy", "probes", "n_segments",
    "covered_fraction", "call", "reason",
]



# --------------------------------------------------------------------------------------------
# One gene in one sample


def gene_spans(genes: str | Iterable[str], assembly: str) -> dict[str, tuple[str, int, int]]:
    """(chrom, start, end), 1-based inclusive, of each gene's bundled transcript on ``assembly``.

    ``genes`` is a list of symbols or ``"all"`` (every gene with a bundled model).
    Raises :class:`OptionError` for an unknown build or a gene without a model.
    """
    build = normalize_assembly(assembly)
    if build is None:
        raise OptionError(f"unknown genome build {assembly!r}", field="assembly",
                          hint="use GRCh37 or GRCh38")
    models = transcripts(build)
    wanted = list(bundled_genes()) if genes == "all" else (
        [genes] if isinstance(genes, str) else list(genes))
    unknown = [g for g in wanted if g not in models]
    if unknown:
        raise OptionError(f"no transcript model for gene(s) {', '.join(unknown)}", field="genes",
                          hint=f"genes with a model: {', '.join(bundled_genes())}")
    return {g: (models[g].chrom, models[g].start, models[g].end) for g in wanted}


def copy_number_from_log2(log2: float | np.ndarray, purity: float | None = None,
                          ploidy: float = DEFAULT_PLOIDY) -> float | np.ndarray:
    """Tumour copy number from a log2 ratio: CN = P*(r-(1-p))/p with r = 2^log2, clipped at 0.

    ``purity`` None means p = 1 (CN = P*r).
    """
    p = 1.0 if purity is None else float(purity)
    ratio = np.power(2.0, log2)
    return np.maximum(ploidy * (ratio - (1.0 - p)) / p, 0.0)


def call_copy_number(copy_number: float, ploidy: float = DEFAULT_PLOIDY, *,
                     amp_cn: float = DEFAULT_AMP_CN,
                     amp_ploidy_factor: float = DEFAULT_AMP_PLOIDY_FACTOR) -> str:
    """``amplification`` / ``gain`` / ``neutral`` / ``loss`` for a copy number (module doc)."""
    if math.isnan(copy_number):
        return "not_evaluable"
    if copy_number >= max(amp_cn, amp_ploidy_factor * ploidy):
        return "amplification"
    if copy_number >= ploidy + 0.5:
        return "gain"
    if copy_number <= ploidy - 0.5:
        return "loss"
    return "neutral"


def gene_copy_number(
    segments: pd.DataFrame,
    kind: str,
    gene: str,
    span: tuple[str, int, int],
    *,
    purity: float | None = None,
    ploidy: float = DEFAULT_PLOIDY,
    amp_cn: float = DEFAULT_AMP_CN,
    amp_ploidy_factor: float = DEFAULT_AMP_PLOIDY_FACTOR,
    min_probes: int = DEFAULT_MIN_PROBES,
    min_purity: float = DEFAULT_MIN_PURITY,
) -> dict:
    """The copy number of one gene in one sample's segments (``chrom start end log2 cn probes``,
    1-based inclusive), with its call and the reason in words.

    Returns a dict with ``log2``, ``copy_number``, ``probes``, ``n_segments``,
    ``covered_fraction``, ``call`` and ``reason``.
    """
    chrom, start, end = span
    length = end - start + 1
    out = {"log2": math.nan, "copy_number": math.nan, "probes": math.nan, "n_segments": 0,
           "covered_fraction": 0.0, "call": "not_evaluable", "reason": ""}
    on = segments[(segments["chrom"] == chrom) & (segments["end"] >= start)
                  & (segments["start"] <= end)]
    value = on["cn"] if kind == "absolute" else on["log2"]
    on = on[value.notna()]
    if on.empty:
        out["reason"] = f"no segment with a copy-number value over {gene} (chr{chrom}:{start}-{end})"
        return out
    overlap = (np.minimum(on["end"], end) - np.maximum(on["start"], start) + 1).to_numpy(float)
    out["n_segments"] = len(on)
    out["covered_fraction"] = round(float(overlap.sum()) / length, 4)
    probes = on["probes"]
    if probes.notna().all():
        out["probes"] = float(probes.sum())
        if out["probes"] < min_probes:
            out["reason"] = (f"only {int(out['probes'])} probe(s) in the segment(s) over {gene} "
                             f"(at least {min_probes} needed)")
            return out
    weights = overlap / overlap.sum()
    notes = []
    if kind == "absolute":
        copy_number = float(np.dot(weights, on["cn"].to_numpy(float)))
        notes.append("absolute copy number from the file")
    else:
        log2 = on["log2"].to_numpy(float)
        ratio = float(np.dot(weights, np.power(2.0, log2)))
        out["log2"] = round(math.log2(ratio), 4) if ratio > 0 else -math.inf
        if purity is not None and purity < min_purity:
            out["reason"] = (f"tumour content {purity:.2f} below {min_purity:g}: the log2 ratio "
                             f"over {gene} cannot be turned into a copy number reliably")
            return out
        copy_number = float(copy_number_from_log2(math.log2(ratio) if ratio > 0 else -math.inf,
                                                  purity, ploidy))
        if purity is None:
            notes.append("tumour content unknown: copy number from the log2 ratio assuming a pure "
                         "sample (gains are underestimated)")
        else:
            notes.append(f"copy number from the log2 ratio adjusted for tumour content {purity:.2f}")
    out["copy_number"] = round(copy_number, 4)
    call = call_copy_number(out["copy_number"], ploidy, amp_cn=amp_cn,
                            amp_ploidy_factor=amp_ploidy_factor)
    out["call"] = call
    threshold = max(amp_cn, amp_ploidy_factor * ploidy)
    what = {
        "amplification": f">= {threshold:g} (amplification threshold)",
        "gain": f">= ploidy {ploidy:g} + 0.5, below {threshold:g}",
        "loss": f"<= ploidy {ploidy:g} - 0.5",
        "neutral": f"within 0.5 of ploidy {ploidy:g}",
    }[call]
    cover = "" if out["covered_fraction"] >= 1 else (
        f"; segments cover {out['covered_fraction']:.0%} of the gene")
    out["reason"] = (f"{gene} copy number {out['copy_number']:.2f} {what} over {len(on)} "
                     f"segment(s){cover}; {'; '.join(notes)}")
    return out


# --------------------------------------------------------------------------------------------
# Every sample


def _per_sample(value: float | Mapping[str, float] | None, sample: str,
                column: pd.Series | None) -> float | None:
    if isinstance(value, Mapping):
        found = value.get(sample)
        if found is not None and not pd.isna(found):
            return float(found)
    elif value is not None:
        return float(value)
    if column is not None:
        found = column.get(sample)
        if found is not None and not pd.isna(found) and str(found).strip() != "":
            return float(found)
    return None


def copy_number_table(
    segments: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    genes: str | Sequence[str] = MECHANISM_GENES,
    assembly: str | Mapping[str, str] | None = None,
    purity: float | Mapping[str, float] | None = None,
    ploidy: float | Mapping[str, float] | None = None,
    amp_cn: float = DEFAULT_AMP_CN,
    amp_ploidy_factor: float = DEFAULT_AMP_PLOIDY_FACTOR,
    min_probes: int = DEFAULT_MIN_PROBES,
    min_purity: float = DEFAULT_MIN_PURITY,
) -> pd.DataFrame:
    """One row per (sample, gene): :data:`COPY_NUMBER_COLUMNS`.

    ``segments`` is the long table of :func:`lesiontrack.io.cnv.read_copy_number` (``sample_id``,
    ``format``, ``kind``, ``chrom``, ``start``, ``end``, ``log2``, ``cn``, ``probes``);
    ``samples`` the sample sheet (one row per sample kept; ``plasma`` samples are left out).
    ``assembly``, ``purity`` and ``ploidy`` are one value or a mapping by sample_id; where a
    mapping lacks a sample the sheet's ``assembly``/``purity``/``ploidy`` column is used (purity
    from the truncal driver is the caller's to put in the mapping). Raises :class:`OptionError`
    for a bad threshold, an unknown gene or a sample whose build is unknown.
    """
    if amp_cn <= 0 or amp_ploidy_factor <= 0:
        raise OptionError("amp_cn and amp_ploidy_factor must be > 0", field="amp_cn")
    if min_probes < 0 or not 0 < min_purity <= 1:
        raise OptionError("min_probes must be >= 0 and min_purity in (0, 1]", field="min_probes")
    sheet = samples
    if "role" in sheet.columns:
        sheet = sheet[sheet["role"] != "plasma"]
    sheet = sheet.drop_duplicates("sample_id")
    by_sample = sheet.set_index("sample_id")
    columns = {c: by_sample[c] for c in ("assembly", "purity", "ploidy") if c in by_sample}
    grouped = {s: g for s, g in segments.groupby("sample_id", sort=False)} if len(segments) else {}
    rows = []
    for sample in sheet.itertuples(index=False):
        sid = sample.sample_id
        build = assembly.get(sid) if isinstance(assembly, Mapping) else assembly
        if not build and "assembly" in columns:
            found = columns["assembly"].get(sid)
            build = str(found) if isinstance(found, str) and found.strip() else None
        if not build:
            raise OptionError(f"the genome build of sample {sid!r} is unknown", field="assembly",
                              hint="give --assembly or the sheet's assembly column")
        spans = gene_spans(genes, build)
        p = _per_sample(purity, sid, columns.get("purity"))
        if p is not None and not 0 < p <= 1:
            raise OptionError(f"tumour content {p:g} of sample {sid!r} is not in (0, 1]",
                              field="purity")
        ploidy_value = _per_sample(ploidy, sid, columns.get("ploidy")) or DEFAULT_PLOIDY
        own = grouped.get(sid)
        for gene, span in spans.items():
            base = {"patient_id": sample.patient_id, "lesion_id": sample.lesion_id,
                    "sample_id": sid, "gene": gene, "assembly": normalize_assembly(build),
                    "chrom": span[0], "gene_start": span[1], "gene_end": span[2],
                    "purity": p, "ploidy": ploidy_value}
            if own is None:
                rows.append({**base, "format": "", "kind": "", "log2": math.nan,
                             "copy_number": math.nan, "probes": math.nan, "n_segments": 0,
                             "covered_fraction": 0.0, "call": "not_evaluable",
                             "reason": "no copy-number file for this sample"})
                continue
            kind = str(own["kind"].iloc[0])
            result = gene_copy_number(
                own, kind, gene, span, purity=p, ploidy=ploidy_value, amp_cn=amp_cn,
                amp_ploidy_factor=amp_ploidy_factor, min_probes=min_probes,
                min_purity=min_purity,
            )
            rows.append({**base, "format": str(own["format"].iloc[0]), "kind": kind, **result})
    return pd.DataFrame(rows, columns=COPY_NUMBER_COLUMNS)


# --------------------------------------------------------------------------------------------
# Lesions


#: Columns of :func:`lesion_copy_number`, in order.
LESION_COPY_NUMBER_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "gene", "copy_number", "call", "sample_id", "samples", "reason",
]


def lesion_copy_number(copy_number: pd.DataFrame) -> pd.DataFrame:
    """One row per (patient, lesion, gene) from the per-sample table: the evaluable sample with
    the highest copy number speaks for the lesion (an amplification in any region is the
    lesion's); ``samples`` lists every sample with its call (``S1:amplification,S2:gain``).
    A lesion with no evaluable sample is ``not_evaluable`` with the first sample's reason.
    The patient page's copy-number track and the graph's ``lesion -> gene`` edges
    (``call == 'amplification'``) read this table."""
    rows = []
    keys = ["patient_id", "lesion_id", "gene"]
    for (patient, lesion, gene), group in copy_number.groupby(keys, sort=True):
        listed = ",".join(f"{s}:{c}" for s, c in zip(group["sample_id"], group["call"],
                                                       strict=True))
        evaluable = group[group["call"] != "not_evaluable"]
        if evaluable.empty:
            first = group.iloc[0]
            rows.append((patient, lesion, gene, math.nan, "not_evaluable", first["sample_id"],
                         listed, first["reason"]))
            continue
        best = evaluable.sort_values(["copy_number", "sample_id"], ascending=[False, True],
                                     kind="stable").iloc[0]
        rows.append((patient, lesion, gene, best["copy_number"], best["call"], best["sample_id"],
                     listed, best["reason"]))
    return pd.DataFrame(rows, columns=LESION_COPY_NUMBER_COLUMNS)
