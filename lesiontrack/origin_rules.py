"""The origin rules of one patient's mutation, from the states of its lesions
(:mod:`lesiontrack.evidence`), tried in order (the first that decides wins; later rules that
would answer otherwise are named in ``flags``): germline (``matched_normal``: detected in a
``role=normal`` sample at VAF >= 0.25; ``polymorphism``: the bundled list, tumour-only) ->
``lesion_history`` -> ``baseline`` (only when informative: the driver is detected there) ->
``sharing`` (present in every lesion and clonal -> primary; detected in some and absent in
another -> secondary) -> ``knowledge`` (protein-altering change at a known primary region or
resistance site) -> ``none`` (undetermined). :func:`lesiontrack.compare.classify` gathers the
evidence and applies them to every mutation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import genome
from .drivers import TUMOUR_ROLES, codon_number, polymorphism
from .evidence import ABSENT, DETECTED, LOW_LEVEL, NOT_EVALUABLE, percent_text, reads_text
from .options import GERMLINE_MIN_VAF


@dataclass
class LesionEvidence:
    """One lesion's (or one sample's) state of a mutation, as the rules read it."""

    lesion_id: str
    role: str
    status: str
    state: str
    reason: str
    vaf: float | None = None
    alt: float | None = None
    depth: float | None = None
    ccf: float | None = None
    ccf_low: float | None = None
    ccf_high: float | None = None
    ccf_raw: float | None = None
    tumour_content: float | None = None
    tc_source: str = ""
    samples: int = 1
    samples_detected: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clonal(self) -> bool | None:
        """Whether the CCF's 95% interval reaches 1 (None: no CCF)."""
        if self.ccf_high is None or not np.isfinite(self.ccf_high):
            return None
        return self.ccf_high >= 1.0

    def text(self) -> str:
        name = self.lesion_id
        if self.state == DETECTED:
            reads = reads_text(self.alt, self.depth)
            if self.samples > 1:
                reads = f"{self.samples_detected} of {self.samples} samples; best {reads}"
            if self.ccf is not None and np.isfinite(self.ccf):
                reads += f", CCF {self.ccf:.2f}"
            return f"{name} ({reads})"
        return f"{name} ({self.reason})"


def _join(items: list[LesionEvidence]) -> str:
    return ", ".join(i.text() for i in items)


def _knowledge(gene, codon, altering: bool | None) -> tuple[str | None, str]:
    row = genome.knowledge_for(gene if isinstance(gene, str) else None, codon_number(codon))
    if row is None:
        return None, ""
    if altering is False:
        return None, f"not protein-altering at {row.region}: the knowledge table does not apply"
    if row.role == "primary":
        return "primary", f"known primary region: {row.region}"
    return "secondary", f"known imatinib-resistance site: {row.region}"


def content_text(lesions: list[LesionEvidence]) -> str:
    """``tumour content: L1 40% (purity column), ...`` of the tumour lesions, else ''."""
    parts = []
    for x in lesions:
        if x.role not in TUMOUR_ROLES:
            continue
        if x.tumour_content is not None and np.isfinite(x.tumour_content):
            parts.append(f"{x.lesion_id} {percent_text(x.tumour_content)} ({x.tc_source})")
        else:
            parts.append(f"{x.lesion_id} unknown ({x.tc_source or 'driver not detected'})")
    return "tumour content: " + ", ".join(parts) if parts else ""


def decide(lesions: list[LesionEvidence], driver_lesions: dict[str, LesionEvidence] | None,
           is_driver: bool, gene, codon, altering: bool | None,
           history: tuple[str | None, str, list[str]] = (None, "", []),
           plasma_later: list[LesionEvidence] | None = None
           ) -> tuple[str, str, list[str], str]:
    """(origin, rule, flags, evidence) for one patient's tumour mutation. ``history``: the
    ``lesion_history`` verdict (answer or None, evidence, flags); ``plasma_later``: its detections in
    plasma drawn after the start of treatment (or undated), evidence of presence for the
    baseline rule. Pre-treatment plasma draws come in ``lesions`` with role ``baseline``."""
    plasma_later = plasma_later or []
    base = [x for x in lesions if x.role == "baseline"]
    mets = [x for x in lesions if x.role == "lesion"]
    det = [x for x in mets if x.state == DETECTED]
    low = [x for x in mets if x.state == LOW_LEVEL]
    absent = [x for x in mets if x.state == ABSENT]
    unknown = [x for x in mets if x.state == NOT_EVALUABLE]
    verdicts: list[tuple[str, str | None, str]] = []  # (rule, answer or None, evidence)
    notes: list[str] = []  # flags that are not disagreements
    verdicts.append(("lesion_history", *history[:2]))  # 0. the same lesion sampled earlier
    notes += history[2]

    # 1. baseline, only when informative: the truncal driver is detected there
    answer, text = None, ""
    if base:
        informative = True
        if driver_lesions is not None:
            drv = [driver_lesions.get(x.lesion_id) for x in base]
            drv = [d for d in drv if d is not None]
            if not any(d.state == DETECTED for d in drv):
                informative = False
                if any(d.state == ABSENT for d in drv):
                    notes.append("baseline conflict: powered for the truncal driver and it is "
                                 "absent (sample swap, or a driver that is not truncal)")
                else:
                    notes.append("baseline uninformative (low tumour content)")
                reasons = "; ".join(f"{d.lesion_id} {d.reason}" for d in drv) or "not read"
                text = f"baseline without the truncal driver ({reasons})"
        if informative:
            b_det = [x for x in base if x.state == DETECTED]
            b_abs = [x for x in base if x.state == ABSENT]
            if b_det:
                answer, text = "primary", f"detected in baseline {_join(b_det)}"
                top = max(b_det, key=lambda x: x.ccf if x.ccf is not None else -1)
                prog = [x for x in det if x.status == "progressive" and x.ccf is not None]
                if (not is_driver and top.clonal is False
                        and any(x.ccf > top.ccf_high for x in prog)):
                    grown = [x for x in prog if x.ccf > top.ccf_high]
                    answer = "secondary"
                    notes.append(f"pre-existing subclone in baseline (VAF {percent_text(top.vaf)})")
                    text = (f"subclonal in baseline {_join([top])} (CCF 95% interval "
                            f"{top.ccf_low:.2f}-{top.ccf_high:.2f}); expanded in progressive "
                            f"{_join(grown)}")
            elif b_abs and (det or plasma_later):
                answer = "secondary"
                text = (f"absent from baseline {_join(b_abs)}; detected in "
                        f"{_join(det + plasma_later)}")
            else:
                text = f"baseline {_join(base)} not evaluable at the site"
    verdicts.append(("baseline", answer, text))

    # 2. sharing
    answer, text = None, ""
    if len(mets) >= 2 and det:
        present = det + low
        if len(present) == len(mets):
            subclonal = low + [x for x in det if x.clonal is False]
            if not subclonal:
                answer = "primary"
                text = f"detected in every lesion: {_join(det)}"
                if any(x.clonal is None for x in det):
                    text += " (clonality not assessable: no driver or purity)"
            else:
                text = (f"present in every lesion but subclonal or low-level in "
                        f"{_join(subclonal)}")
                prog = [x for x in det if x.status == "progressive"]
                if (prog and all(x.clonal for x in prog)
                        and all(x.status == "controlled" for x in subclonal)):
                    notes.append(f"subclonal traces in controlled lesion(s) "
                                 f"{', '.join(x.lesion_id for x in subclonal)} under a clonal "
                                 "presence in progressive lesion(s)")
        elif absent:
            answer = "secondary"
            text = f"detected in {_join(det)}; absent from {_join(absent)}"
        else:
            text = f"detected in {_join(det)}; not evaluable in {_join(unknown + low)}"
    verdicts.append(("sharing", answer, text))

    # 3. knowledge
    answer, text = _knowledge(gene, codon, altering)
    verdicts.append(("knowledge", answer, text))

    for index, (rule, answer, text) in enumerate(verdicts):
        if answer is None:
            continue
        flags = [("lesion_history disagrees with the baseline: " if rule == "lesion_history"
                  and later == "baseline" else "") + f"{later}={other} ({why})"
                 for later, other, why in verdicts[index + 1:]
                 if other is not None and other != answer]
        undecided = [why for earlier, other, why in verdicts[:index] if other is None and why]
        return answer, rule, notes + flags, "; ".join([text, *undecided])
    texts = [why for _, _, why in verdicts if why]
    if not texts and det:
        texts = [f"detected in {_join(det)}; only one lesion and no baseline sample"]
    return "undetermined", "none", notes, "; ".join(texts) or "no rule could decide"


def germline_rule(lesions: list[LesionEvidence], gene,
                  hgvsc) -> tuple[str | None, str, list[str]]:
    """(rule or None, evidence, flags) of the germline filter."""
    normals = [x for x in lesions if x.role == "normal"]
    flags = []
    for x in normals:
        if x.state == DETECTED and x.vaf is not None and x.vaf >= GERMLINE_MIN_VAF:
            return ("matched_normal", f"detected in the matched normal {x.lesion_id} at VAF "
                    f"{percent_text(x.vaf)} (>= {percent_text(GERMLINE_MIN_VAF)}): germline", [])
        if x.state in (DETECTED, LOW_LEVEL):
            vaf = f"VAF {percent_text(x.vaf)}" if x.vaf is not None and np.isfinite(x.vaf) else (
                x.reason)
            flags.append(f"tumour-in-normal contamination ({vaf} in normal {x.lesion_id})")
    if not any(x.state in (ABSENT, DETECTED, LOW_LEVEL) for x in normals):
        hit = polymorphism(gene, hgvsc)
        if hit is not None:
            words = " ".join(x for x in (hit.gene, hit.hgvsc, hit.hgvsp, hit.rsid) if x)
            return "polymorphism", (f"common germline polymorphism {words} (bundled list, "
                                    f"source {hit.sources}); no matched normal read at the "
                                    "site"), flags
    return None, "", flags


__all__ = ["LesionEvidence", "content_text", "decide", "germline_rule"]
