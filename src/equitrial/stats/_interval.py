"""The result type shared by every interval estimator in :mod:`equitrial.stats`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

__all__ = ["Interval", "two_sided_z"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval.

    Attributes
    ----------
    estimate
        The point estimate (a proportion, a difference, a ratio, ...).
    lower, upper
        The confidence limits. ``lower <= upper``; either may be infinite where the method
        defines it so (the upper limit of a ratio with a zero denominator count, say).
    level
        The two-sided confidence level, in (0, 1).
    method
        The name of the method that produced the interval, as passed by the caller.
    """

    estimate: float
    lower: float
    upper: float
    level: float
    method: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the closed interval ``[lower, upper]``."""
        return self.lower <= value <= self.upper

    @property
    def width(self) -> float:
        """``upper - lower`` (``inf`` when a limit is infinite)."""
        return self.upper - self.lower if math.isfinite(self.upper - self.lower) else math.inf


def two_sided_z(level: float) -> float:
    """The normal quantile of a two-sided ``level`` interval, ``Phi^-1((1 + level) / 2)``."""
    return float(ndtri(0.5 + level / 2.0))
