"""Every default and option of lesiontrack, documented once (no heavy imports here).

The command line, the Python API and the report all take their defaults from here: detection and
absence thresholds (:class:`Thresholds`), the statistics' defaults, worker processes, the genes
read, the outcome groupings and the report's batch size. A detection passes all three of
``min_depth``, ``min_alt`` and ``min_vaf``; the same dataclass carries the evidence thresholds of
an absence: ``error_rate`` (the ALT reads of an absent mutation must be consistent with this
sequencing error rate, one-sided binomial test at alpha 0.05) and ``min_power`` (the probability of
detecting the mutation at its expected allele fraction). See :mod:`lesiontrack.evidence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

#: Minimum reads at the site for a call, or for an absence to count as evidence.
DEFAULT_MIN_DEPTH = 20
#: Minimum reads supporting the ALT allele.
DEFAULT_MIN_ALT = 3
#: Minimum variant allele fraction.
DEFAULT_MIN_VAF = 0.02
#: Most progressive lesions a *focal* progression may have.
DEFAULT_FOCAL_MAX = 1
#: Permutations of status labels in the clustering test.
DEFAULT_PERMUTATIONS = 10_000
#: Seed of the permutation test.
DEFAULT_SEED = 20_240_601
#: Sequencing error rate the ALT reads of an absence are tested against (one-sided binomial).
DEFAULT_ERROR_RATE = 0.005
#: Significance of that test: ALT reads with p < alpha are above noise (``low_level``).
NOISE_ALPHA = 0.05
#: Probability of detection needed for an absence to count as evidence.
DEFAULT_MIN_POWER = 0.95
#: Allele fraction in a matched normal from which a variant is germline.
GERMLINE_MIN_VAF = 0.25
#: Cancer-cell fractions above this are flagged (copy-number change at the locus) before clamping.
CCF_FLAG_ABOVE = 1.2
#: Plasma (cell-free DNA) detection thresholds: minimum allele fraction, ALT reads and depth.
#: They assume error-corrected (UMI) sequencing; see the README section "Plasma and time".
DEFAULT_PLASMA_MIN_VAF = 0.001
DEFAULT_PLASMA_MIN_ALT = 3
DEFAULT_PLASMA_MIN_DEPTH = 500
#: Error rate the ALT reads of a plasma absence are tested against (error-corrected UMI data;
#: the tissue ``DEFAULT_ERROR_RATE`` would call 9/10000 reads noise under a 0.1% detection limit).
DEFAULT_PLASMA_ERROR_RATE = 1e-4
#: KIT D816V seen only in plasma below this allele fraction is flagged as possibly from blood
#: cells (mast-cell or other haematopoietic clones) rather than from the tumour.
HAEMATOPOIETIC_MAX_VAF = 0.05
#: Total copy number from which a gene is called amplified (``--amp-cn``; a convention, see the
#: README section "Copy number and other roads to resistance").
DEFAULT_AMP_CN = 6.0

#: Worker processes reading calls files (``--jobs``).
DEFAULT_JOBS = 1
#: Genes read by default (``--genes``; ``all`` reads every gene).
DEFAULT_GENES: tuple[str, ...] = ("KIT", "PDGFRA")
#: Groupings of the outcome analysis (``outcomes --by``, ``report --by``) and the default one.
GROUPINGS: tuple[str, ...] = ("pattern", "confined", "secondary")
DEFAULT_GROUPING = "pattern"
#: Patients per batch of the report and of ``--calls`` tables read in batches.
BATCH_PATIENTS = 200

#: The sample role whose rows use the plasma thresholds.
PLASMA_ROLE = "plasma"


@dataclass(frozen=True)
class Thresholds:
    """``min_depth``, ``min_alt`` and ``min_vaf`` (detection), ``error_rate`` and ``min_power``
    (absence), with their documented defaults; ``plasma_min_depth``, ``plasma_min_alt``,
    ``plasma_min_vaf`` and ``plasma_error_rate`` replace ``min_depth``, ``min_alt``, ``min_vaf``
    and ``error_rate`` for ``role=plasma`` samples (:meth:`for_role`)."""

    min_depth: int = DEFAULT_MIN_DEPTH
    min_alt: int = DEFAULT_MIN_ALT
    min_vaf: float = DEFAULT_MIN_VAF
    error_rate: float = DEFAULT_ERROR_RATE
    min_power: float = DEFAULT_MIN_POWER
    plasma_min_depth: int = DEFAULT_PLASMA_MIN_DEPTH
    plasma_min_alt: int = DEFAULT_PLASMA_MIN_ALT
    plasma_min_vaf: float = DEFAULT_PLASMA_MIN_VAF
    plasma_error_rate: float = DEFAULT_PLASMA_ERROR_RATE

    def __post_init__(self) -> None:
        if self.min_depth < 0 or int(self.min_depth) != self.min_depth:
            raise OptionError(f"min_depth must be a whole number >= 0, not {self.min_depth}",
                              field="min_depth")
        if self.min_alt < 1 or int(self.min_alt) != self.min_alt:
            raise OptionError(f"min_alt must be a whole number >= 1, not {self.min_alt}",
                              field="min_alt")
        if not 0.0 <= self.min_vaf <= 1.0:
            raise OptionError(f"min_vaf must be a fraction between 0 and 1, not {self.min_vaf}",
                              field="min_vaf")
        if not 0.0 < self.error_rate < 1.0:
            raise OptionError(f"error_rate must be a fraction between 0 and 1 (exclusive), not "
                              f"{self.error_rate}", field="error_rate")
        if not 0.0 < self.min_power <= 1.0:
            raise OptionError(f"min_power must be a probability in (0, 1], not {self.min_power}",
                              field="min_power")
        if self.plasma_min_depth < 0 or int(self.plasma_min_depth) != self.plasma_min_depth:
            raise OptionError(f"plasma_min_depth must be a whole number >= 0, not "
                              f"{self.plasma_min_depth}", field="plasma_min_depth")
        if self.plasma_min_alt < 1 or int(self.plasma_min_alt) != self.plasma_min_alt:
            raise OptionError(f"plasma_min_alt must be a whole number >= 1, not "
                              f"{self.plasma_min_alt}", field="plasma_min_alt")
        if not 0.0 <= self.plasma_min_vaf <= 1.0:
            raise OptionError(f"plasma_min_vaf must be a fraction between 0 and 1, not "
                              f"{self.plasma_min_vaf}", field="plasma_min_vaf")
        if not 0.0 < self.plasma_error_rate < 1.0:
            raise OptionError(f"plasma_error_rate must be a fraction between 0 and 1 (exclusive), "
                              f"not {self.plasma_error_rate}", field="plasma_error_rate")

    def for_role(self, role: str | None) -> Thresholds:
        """The thresholds of a sample of ``role``: for ``plasma``, the plasma thresholds in
        place of ``min_depth``/``min_alt``/``min_vaf``/``error_rate``; else these."""
        if role != PLASMA_ROLE:
            return self
        from dataclasses import replace

        return replace(self, min_depth=self.plasma_min_depth, min_alt=self.plasma_min_alt,
                       min_vaf=self.plasma_min_vaf, error_rate=self.plasma_error_rate)

    def alt_needed(self, depth):
        """ALT reads a detection needs at ``depth`` (a number, or an array of them):
        max(min_alt, ceil(min_vaf x depth)), the count at which ``detect`` passes both."""
        import numpy as np

        need = np.maximum(self.min_alt, np.ceil(self.min_vaf * np.asarray(depth, dtype=float)
                                                - 1e-9))
        return int(need) if np.ndim(need) == 0 else need

    def detect(self, alt_count: pd.Series, depth: pd.Series, vaf: pd.Series,
               role: pd.Series | None = None) -> pd.Series:
        """True (called above thresholds), False (site read, allele below), NA (unknown).

        When the ALT count is unknown but depth and VAF are known, the count is estimated as
        ``round(vaf * depth)``. When depth is unknown, the site cannot count as read. With
        ``role`` (the calls table's column), ``plasma`` rows use the plasma thresholds.
        """
        import numpy as np
        import pandas as pd

        alt = alt_count.astype(float)
        dep = depth.astype(float)
        frac = vaf.astype(float)
        alt = alt.where(alt.notna(), np.round(frac * dep))
        frac = frac.where(frac.notna(), alt / dep.where(dep > 0))
        min_depth = pd.Series(float(self.min_depth), index=alt.index)
        min_alt = pd.Series(float(self.min_alt), index=alt.index)
        min_vaf = pd.Series(float(self.min_vaf), index=alt.index)
        if role is not None:
            plasma = (pd.Series(role, index=alt.index).astype(object) == PLASMA_ROLE).to_numpy()
            cf = self.for_role(PLASMA_ROLE)
            min_depth[plasma] = float(cf.min_depth)
            min_alt[plasma] = float(cf.min_alt)
            min_vaf[plasma] = float(cf.min_vaf)
        read = dep >= min_depth
        passed = read & (alt >= min_alt) & (frac >= min_vaf)
        out = pd.Series(pd.NA, index=alt_count.index, dtype="boolean")
        out[read.to_numpy()] = False
        out[passed.to_numpy()] = True
        return out

    def detect_calls(self, calls: pd.DataFrame) -> pd.Series:
        """The ``detected`` column of a calls table under these thresholds: :meth:`detect` of
        its ``alt_count``, ``depth``, ``vaf`` and (when it has one) ``role`` columns. Every
        place that (re)decides ``detected`` calls this."""
        return self.detect(calls["alt_count"], calls["depth"], calls["vaf"], calls.get("role"))


def check_whole(value, name: str, least: int) -> None:
    """OptionError naming ``name`` unless ``value`` is a whole number >= ``least``."""
    if isinstance(value, bool) or int(value) != value:
        raise OptionError(f"{name} must be a whole number, not {value!r}", field=name)
    if value < least:
        raise OptionError(f"{name} must be at least {least}, not {value}", field=name)


@dataclass(frozen=True)
class ReadOptions:
    """How the calls files are read: ``genes`` (``"KIT,PDGFRA"``, a list, or ``"all"``),
    ``assembly`` when neither the sheet nor the files say, a ``reference`` FASTA, ``jobs`` worker
    processes, ``include_filtered``, ``assume_sorted``, ``recount`` (BAM), and ``calls_tables``
    (precomputed ``lesiontrack calls`` tables read instead of the calls files)."""

    genes: str | tuple[str, ...] | None = ",".join(DEFAULT_GENES)
    assembly: str | None = None
    reference: str | None = None
    jobs: int = DEFAULT_JOBS
    include_filtered: bool = False
    assume_sorted: bool = False
    recount: bool = False
    calls_tables: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_whole(self.jobs, "jobs", 1)


@dataclass(frozen=True)
class AnalysisOptions:
    """How origins, patterns and statistics are decided: ``at`` (evaluate with the samples dated
    on or before this ISO date), ``count_all`` (count germline, synonymous and intronic changes),
    ``focal_max``, the permutation test's ``permutations`` and ``seed``, ``amp_cn`` (copy number
    from which a gene is amplified) and the outcome grouping ``by``."""

    at: str | None = None
    count_all: bool = False
    focal_max: int = DEFAULT_FOCAL_MAX
    permutations: int = DEFAULT_PERMUTATIONS
    seed: int = DEFAULT_SEED
    amp_cn: float = DEFAULT_AMP_CN
    by: str = DEFAULT_GROUPING

    def __post_init__(self) -> None:
        check_whole(self.focal_max, "focal_max", 0)
        check_whole(self.permutations, "permutations", 1)
        if self.by not in GROUPINGS:
            raise OptionError(f"unknown grouping {self.by!r}", field="by",
                              hint=f"accepted: {', '.join(GROUPINGS)}")
