"""Confidence intervals for proportions, their difference and ratio, stratified analysis.

A thin public namespace over private implementation modules:

- :func:`binomial_ci`: one proportion (Clopper–Pearson, Wilson, Wilson with continuity
  correction, Jeffreys, Agresti–Coull);
- :func:`difference_ci`: ``p1 - p2`` (Miettinen–Nurminen, Newcombe hybrid score, Wald,
  Agresti–Caffo);
- :func:`ratio_ci`: ``p1 / p2`` (Miettinen–Nurminen, Katz log);
- :func:`stratified_difference_ci`: a common ``p1 - p2`` over strata (stratified
  Miettinen–Nurminen with Cochran–Mantel–Haenszel weights);
- :func:`cmh_test`: the Cochran–Mantel–Haenszel test and the Mantel–Haenszel odds ratio.

Every interval is an :class:`Interval`. The Miettinen–Nurminen intervals come from one vectorized
implementation, also reachable for many outcomes at once (exact power by enumeration) as the
private ``_mn_difference_limits(x1, n1, x2, n2, level)`` and ``_mn_ratio_limits(...)``, which take
numpy arrays (broadcast together, not validated) and return ``(lower, upper)`` arrays, and
``_mn_stratified_difference_limits(...)`` with strata on the last axis, returning
``(estimate, lower, upper)``.

Reference values: ``tests/reference/proportions.R`` (R's ``binom.test``, ``prop.test``,
``qbeta``, ``mantelhaen.test``, ``epiR::epi.2by2`` and an independent R implementation of the
Miettinen–Nurminen intervals) and the published tables of Newcombe (1998).
"""

from equitrial.stats._interval import Interval

# private re-exports for callers inside equitrial (exact power by enumeration in design/)
from equitrial.stats._proportions_mn import (  # noqa: F401
    mn_difference_limits as _mn_difference_limits,
)
from equitrial.stats._proportions_mn import (  # noqa: F401
    mn_ratio_limits as _mn_ratio_limits,
)
from equitrial.stats._proportions_mn import (  # noqa: F401
    mn_stratified_difference_limits as _mn_stratified_difference_limits,
)
from equitrial.stats._proportions_single import BinomialMethod, binomial_ci
from equitrial.stats._proportions_strata import (
    CMHResult,
    StratifiedMethod,
    cmh_test,
    stratified_difference_ci,
)
from equitrial.stats._proportions_two import DifferenceMethod, RatioMethod, difference_ci, ratio_ci

__all__ = [
    "BinomialMethod",
    "CMHResult",
    "DifferenceMethod",
    "Interval",
    "RatioMethod",
    "StratifiedMethod",
    "binomial_ci",
    "cmh_test",
    "difference_ci",
    "ratio_ci",
    "stratified_difference_ci",
]
