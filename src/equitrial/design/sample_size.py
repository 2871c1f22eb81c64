"""Sample size and power for equivalence and non-inferiority of two proportions.

A thin public namespace over private implementation modules:

- :func:`exact_power`: the exact probability, by enumeration of every outcome ``(x1, x2)``,
  that the trial's confidence interval lies inside the margin (as
  :func:`equitrial.stats.equivalence.assess` decides it);
- :func:`power_curve`: exact power over a grid of true differences or ratios at fixed sizes;
- :func:`smallest_n`: the smallest sizes reaching a target exact power, and the smallest from
  which the power stays above it (exact power is a saw-tooth in ``n``);
- :func:`normal_sample_size`: the normal approximation (Farrington–Manning, the unrestricted
  formula of Chow, Shao & Wang, or the log scale), with unequal allocation and dropout.

Reference values: ``tests/reference/sample_size.R`` (rpact's Farrington–Manning non-inferiority
sizes), Chow, Shao & Wang (2008) §4.2, and the exact powers of
``shared/reference/statistics.md``; the exact power is also checked against a seeded simulation
and, outcome by outcome, against the interval functions of :mod:`equitrial.stats.proportions`.
"""

from equitrial.design._sample_size_checks import IntervalMethod
from equitrial.design._sample_size_exact import (
    ExactSampleSize,
    PowerCurve,
    exact_power,
    power_curve,
)
from equitrial.design._sample_size_normal import (
    EquivalenceFormula,
    NormalFormula,
    NormalSampleSize,
    normal_sample_size,
)
from equitrial.design._sample_size_search import smallest_n

__all__ = [
    "EquivalenceFormula",
    "ExactSampleSize",
    "IntervalMethod",
    "NormalFormula",
    "NormalSampleSize",
    "PowerCurve",
    "exact_power",
    "normal_sample_size",
    "power_curve",
    "smallest_n",
]
