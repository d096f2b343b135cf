"""Detection thresholds, documented once: a call is *detected* when it passes all three.

The same dataclass carries the evidence thresholds of an absence: ``error_rate`` (the ALT reads
of an absent mutation must be consistent with this sequencing error rate, one-sided binomial test
at alpha 0.05) and ``min_power`` (the probability of detecting the mutation at its expected allele
fraction). See :mod:`lesiontrack.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .defaults import (
    DEFAULT_ERROR_RATE,
    DEFAULT_MIN_ALT,
    DEFAULT_MIN_DEPTH,
    DEFAULT_MIN_POWER,
    DEFAULT_MIN_VAF,
    DEFAULT_PLASMA_ERROR_RATE,
    DEFAULT_PLASMA_MIN_ALT,
    DEFAULT_PLASMA_MIN_DEPTH,
    DEFAULT_PLASMA_MIN_VAF,
)
from .errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_ERROR_RATE", "DEFAULT_MIN_ALT", "DEFAULT_MIN_DEPTH", "DEFAULT_MIN_POWER",
           "DEFAULT_MIN_VAF", "DEFAULT_PLASMA_ERROR_RATE", "DEFAULT_PLASMA_MIN_ALT", "DEFAULT_PLASMA_MIN_DEPTH",
           "DEFAULT_PLASMA_MIN_VAF", "PLASMA_ROLE", "Thresholds"]

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

    def alt_needed(self, depth: int) -> int:
        """ALT reads a detection needs at ``depth``: max(min_alt, ceil(min_vaf x depth))."""
        import math

        return max(int(self.min_alt), math.ceil(self.min_vaf * depth - 1e-9))

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
            min_depth[plasma] = float(self.plasma_min_depth)
            min_alt[plasma] = float(self.plasma_min_alt)
            min_vaf[plasma] = float(self.plasma_min_vaf)
        read = dep >= min_depth
        passed = read & (alt >= min_alt) & (frac >= min_vaf)
        out = pd.Series(pd.NA, index=alt_count.index, dtype="boolean")
        out[read.to_numpy()] = False
        out[passed.to_numpy()] = True
        return out
