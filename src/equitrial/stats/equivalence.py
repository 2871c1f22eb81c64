"""Equivalence and non-inferiority: margins, interval-inside-margin decisions, score TOST.

:func:`assess` checks whether a confidence interval (``1 - 2 alpha`` for two one-sided tests [3]_
at ``alpha``) lies inside a :class:`Margin`. :func:`tost_difference` and :func:`tost_ratio` give
the score TOST p-values for two independent proportions, written here from [1]_ because
statsmodels 0.15's score path for differences is defective (its issue 10269).

References
----------
.. [1] Farrington CP, Manning G. Test statistics and sample size formulae for comparative binomial
   trials with null hypothesis of non-zero risk difference or non-unity relative risk.
   *Statistics in Medicine* 1990;9:1447-1454.
.. [2] Miettinen O, Nurminen M. Comparative analysis of two rates. *Statistics in Medicine*
   1985;4:213-226.
.. [3] Schuirmann DJ. A comparison of the two one-sided tests procedure and the power approach
   for assessing the equivalence of average bioavailability. *J Pharmacokinet Biopharm*
   1987;15:657-680.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

import numpy as np
from numpy.typing import NDArray

from equitrial.errors import InvalidInputError
from equitrial.stats._interval import Interval
from equitrial.stats._proportions_mn import diff_score, ratio_score
from equitrial.stats._validation import check_count, check_level, check_option

__all__ = [
    "EquivalenceAssessment",
    "Margin",
    "TOSTResult",
    "assess",
    "tost_difference",
    "tost_ratio",
]

Scale = Literal["difference", "ratio"]
Variance = Literal["farrington-manning", "miettinen-nurminen"]
FailingBound = Literal["lower", "upper", "both"]
_SCALES = ("difference", "ratio")
_VARIANCES = ("farrington-manning", "miettinen-nurminen")
_INTERVAL_ATTRS = ("estimate", "lower", "upper", "level", "method")


def _fail(field: str, message: str, value: Any, expected: str | None = None) -> NoReturn:
    raise InvalidInputError(message, field=field, value=value, expected=expected)


def _number(value: Any, name: str) -> float:
    try:
        f = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        f = math.nan
    if math.isnan(f):
        _fail(name, f"{name} must be a number (not NaN), got {value!r}", value)
    return f


@dataclass(frozen=True, slots=True)
class Margin:
    """An equivalence (two-sided) or non-inferiority (one-sided) margin.

    Parameters
    ----------
    scale : {"difference", "ratio"}
        ``p1 - p2`` (null value 0) or ``p1 / p2`` (null value 1).
    lower, upper
        The margin bounds; the null value must lie strictly between them. An absent bound is
        ``-inf`` (difference) or ``0`` (ratio) below and ``inf`` above; at least one bound must
        be present. Ratio bounds may not be negative.

    Raises
    ------
    UnknownOptionError
        ``scale`` is not one of the two above.
    InvalidInputError
        A bound is NaN or not a number, ``lower >= upper``, the null value is not strictly inside,
        a ratio bound is negative, or both bounds are absent; ``field`` names the bound.
    """

    scale: Scale
    lower: float
    upper: float

    def __post_init__(self) -> None:
        check_option(self.scale, _SCALES, "scale")
        lower, upper = _number(self.lower, "lower"), _number(self.upper, "upper")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        null, scale = self.null_value, self.scale
        if not lower < upper:
            _fail("lower", f"lower must be less than upper, got {lower!r} >= {upper!r}", lower)
        if scale == "ratio" and lower < 0:
            msg = f"lower must be 0 (no lower bound) or positive on the ratio scale, got {lower!r}"
            _fail("lower", msg, lower, ">= 0")
        if not lower < null < upper:
            name, value, side = ("lower", lower, "<") if lower >= null else ("upper", upper, ">")
            where = "below" if side == "<" else "above"
            msg = f"{name} must lie {where} the null value {null:g} of the {scale} scale"
            _fail(name, f"{msg}, got {value!r}", value, f"{side} {null:g}")
        if not (self.bounded_below or self.bounded_above):
            _fail("lower", f"lower={lower!r}, upper={upper!r}: a margin needs one bound", lower)

    @classmethod
    def symmetric_ratio(cls, lower: float) -> Margin:
        """Ratio margin ``(lower, 1 / lower)``, e.g. ``symmetric_ratio(0.8)`` is 0.80-1.25."""
        value = _number(lower, "lower")
        if not 0 < value < 1:
            _fail("lower", f"lower must lie in (0, 1) for a symmetric ratio, got {lower!r}", lower)
        return cls(scale="ratio", lower=value, upper=1 / value)

    @classmethod
    def non_inferiority(cls, scale: Scale, bound: float) -> Margin:
        """One-sided margin ``(bound, inf)``; ``bound`` must lie below the null value."""
        return cls._one_sided(scale, bound, "lower")

    @classmethod
    def non_superiority(cls, scale: Scale, bound: float) -> Margin:
        """One-sided margin ``(-inf, bound)`` (``(0, bound)`` for a ratio), ``bound`` above null."""
        return cls._one_sided(scale, bound, "upper")

    @classmethod
    def _one_sided(cls, scale: Scale, bound: float, side: str) -> Margin:
        check_option(scale, _SCALES, "scale")
        value, null = _number(bound, "bound"), (0.0 if scale == "difference" else 1.0)
        if not math.isfinite(value) or value == null or (value < null) != (side == "lower"):
            where = "below" if side == "lower" else "above"
            msg = f"bound must be finite and {where} the null value {null:g}, got {bound!r}"
            _fail("bound", msg, bound)
        absent = -math.inf if scale == "difference" else 0.0
        lower, upper = (value, math.inf) if side == "lower" else (absent, value)
        return cls(scale=scale, lower=lower, upper=upper)

    @property
    def null_value(self) -> float:
        """0 on the difference scale, 1 on the ratio scale."""
        return 0.0 if self.scale == "difference" else 1.0

    @property
    def bounded_below(self) -> bool:
        """Whether the margin has a lower bound (not ``-inf``, nor ``0`` for a ratio)."""
        return self.lower > (0.0 if self.scale == "ratio" else -math.inf)

    @property
    def bounded_above(self) -> bool:
        """Whether the margin has an upper bound (not ``inf``)."""
        return self.upper < math.inf

    @property
    def is_one_sided(self) -> bool:
        """Whether one bound is absent (non-inferiority or non-superiority)."""
        return not (self.bounded_below and self.bounded_above)


@dataclass(frozen=True, slots=True)
class EquivalenceAssessment:
    """Whether a confidence interval lies inside a margin (see :func:`assess`)."""

    equivalent: bool
    failing_bound: FailingBound | None
    interval: Interval
    margin: Margin
    conclusion: str


def assess(interval: Interval, margin: Margin) -> EquivalenceAssessment:
    """Decide equivalence (or non-inferiority) by whether the interval lies inside the margin.

    Parameters
    ----------
    interval
        An :class:`~equitrial.stats._interval.Interval` on the margin's scale (any object with
        ``estimate, lower, upper, level, method`` will do), a ``1 - 2 alpha`` interval for a
        TOST at level ``alpha``.
    margin
        The :class:`Margin`.

    Returns
    -------
    EquivalenceAssessment
        ``equivalent``, ``failing_bound`` (``"lower"``, ``"upper"``, ``"both"`` or ``None``),
        the interval, the margin and a one-sentence ``conclusion``.

    Raises
    ------
    InvalidInputError
        ``margin`` is not a :class:`Margin`; ``interval`` lacks an attribute, has a NaN limit,
        ``lower > upper``, a level outside (0, 1), or a negative lower limit on the ratio scale.

    Notes
    -----
    Containment is strict: equivalence needs ``margin.lower < interval.lower`` and
    ``interval.upper < margin.upper``; a limit exactly on a bound fails on that bound, as the
    one-sided nulls are closed (``theta <= lower``, ``theta >= upper``) and a limit on the bound
    is a p-value equal to alpha, which does not reject. Limits are compared as given (round them
    first if a reporting convention says so). An absent bound (``-inf``/``0`` below, ``inf``
    above) is no constraint: an infinite upper limit passes a non-inferiority margin.
    """
    if not isinstance(margin, Margin):
        _fail("margin", f"margin must be a Margin, got {type(margin).__name__}", margin)
    lower, upper, level = _check_interval(interval, margin.scale)
    lower_ok = not margin.bounded_below or margin.lower < lower
    upper_ok = not margin.bounded_above or upper < margin.upper
    failing: FailingBound | None = (
        None if lower_ok and upper_ok else "upper" if lower_ok else "lower" if upper_ok else "both"
    )
    conclusion = _conclusion(lower, upper, level, margin, failing)
    return EquivalenceAssessment(failing is None, failing, interval, margin, conclusion)


def _check_interval(interval: Interval, scale: Scale) -> tuple[float, float, float]:
    if missing := [a for a in _INTERVAL_ATTRS if not hasattr(interval, a)]:
        _fail("interval", f"interval must be an Interval; it has no {missing[0]!r}", interval)
    lower, upper = (_number(getattr(interval, k), f"interval.{k}") for k in ("lower", "upper"))
    level = check_level(interval.level, "interval.level")
    if lower > upper:
        msg = f"interval.lower must not exceed interval.upper, got {lower!r} > {upper!r}"
        _fail("interval.lower", msg, lower, f"<= {upper!r}")
    if scale == "ratio" and lower < 0:
        msg = f"interval.lower of a ratio cannot be negative, got {lower!r} (a difference?)"
        _fail("interval.lower", msg, lower, ">= 0")
    return lower, upper, level


def _conclusion(
    lower: float, upper: float, level: float, margin: Margin, failing: FailingBound | None
) -> str:
    lo, hi = f"{margin.lower:.4g}", f"{margin.upper:.4g}"
    if not margin.bounded_above:
        what, inside = "Non-inferiority", f"lies above the lower margin bound {lo}"
    elif not margin.bounded_below:
        what, inside = "Non-superiority", f"lies below the upper margin bound {hi}"
    else:
        what, inside = "Equivalence", f"lies within the margin ({lo}, {hi})"
    ci = f"the {100 * level:g}% confidence interval ({lower:.4g}, {upper:.4g})"
    if failing is None:
        return f"{what} shown: {ci} of the {margin.scale} {inside}."
    bound = {"lower": f"lower bound {lo}", "upper": f"upper bound {hi}"}.get(failing, "both bounds")
    return f"{what} not shown: {ci} of the {margin.scale} reaches or crosses the margin's {bound}."


@dataclass(frozen=True, slots=True)
class TOSTResult:
    """Two one-sided score tests against a margin (see :func:`tost_difference`).

    ``z_lower`` tests H0 theta <= margin.lower, ``pvalue_lower = 1 - Phi(z_lower)``; ``z_upper``
    tests H0 theta >= margin.upper, ``pvalue_upper = Phi(z_upper)``. An absent bound gives
    ``z_lower = inf`` or ``z_upper = -inf``, and a p-value of 0."""

    scale: Scale
    margin: Margin
    variance: Variance
    z_lower: float
    z_upper: float
    pvalue_lower: float
    pvalue_upper: float
    pvalue: float
    alpha: float
    equivalent: bool


def tost_difference(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    margin: Margin,
    variance: Variance = "farrington-manning",
    alpha: float = 0.05,
) -> TOSTResult:
    """TOST for the difference ``p1 - p2`` of two independent proportions, score statistics.

    Parameters
    ----------
    x1, n1, x2, n2
        Responders and subjects in arm 1 (test) and arm 2 (reference); ``0 <= x <= n``, ``n >= 1``.
    margin
        A :class:`Margin` on the difference scale; its finite bounds must lie in (-1, 1).
    variance : {"farrington-manning", "miettinen-nurminen"}
        The restricted-MLE variance as is [1]_, or times ``N / (N - 1)`` [2]_ (``N = n1 + n2``).
    alpha
        Level of each one-sided test; ``equivalent`` is ``pvalue < alpha``.

    Returns
    -------
    TOSTResult
        The two z statistics and p-values, ``pvalue = max(pvalue_lower, pvalue_upper)``.

    Raises
    ------
    InvalidInputError
        Bad counts (``field`` names ``x1``, ``n1``, ...), ``alpha`` outside (0, 1), ``margin`` not a
        difference-scale :class:`Margin` or with a finite bound outside (-1, 1).
    UnknownOptionError
        ``variance`` is not one of the above.

    Notes
    -----
    At each bound ``delta``, ``z = (p1_hat - p2_hat - delta) / sqrt(V)`` with
    ``V = p1~ (1 - p1~) / n1 + p2~ (1 - p2~) / n2`` at the MLE restricted to ``p1 - p2 = delta``
    (the closed-form root of the cubic in [1]_, clipped against rounding). With ``0 < |delta| < 1``
    ``p1~, p2~`` are never both 0 or 1, so ``V > 0``: zero cells and ``x = n`` need no special case.
    """
    return _tost("difference", x1, n1, x2, n2, margin, variance, alpha)


def tost_ratio(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    margin: Margin,
    variance: Variance = "farrington-manning",
    alpha: float = 0.05,
) -> TOSTResult:
    """TOST for the ratio ``p1 / p2`` of two independent proportions, score statistics.

    Parameters, Returns and Raises as :func:`tost_difference`, with ``margin`` on the ratio scale.

    Notes
    -----
    At each bound ``phi``, ``z = (p1_hat - phi p2_hat) / sqrt(V)``,
    ``V = p1~ (1 - p1~) / n1 + phi^2 p2~ (1 - p2~) / n2``, with ``p1~ = phi p2~`` and ``p2~`` the
    smaller root of ``A p^2 + B p + C``, ``A = N phi``, ``B = -(n1 phi + x1 + n2 + x2 phi)``,
    ``C = x1 + x2`` [1]_, computed as ``2C / (-B + sqrt(B^2 - 4AC))`` against cancellation.
    ``V = 0`` only if ``x1 = x2 = 0``; the numerator is then 0 too and ``z = 0`` (p-values 0.5),
    its limit as both counts go to 0 (numerator O(x), standard error O(sqrt x)).
    """
    return _tost("ratio", x1, n1, x2, n2, margin, variance, alpha)


def _tost(scale: Scale, *args: Any) -> TOSTResult:
    x1, n1, x2, n2, margin, variance, alpha = args
    c1, m1 = check_count(x1, n1, x_name="x1", n_name="n1")
    c2, m2 = check_count(x2, n2, x_name="x2", n_name="n2")
    var = cast(Variance, check_option(variance, _VARIANCES, "variance"))
    level = check_level(alpha, "alpha")
    if not isinstance(margin, Margin) or margin.scale != scale:
        got = f"a {margin.scale} margin" if isinstance(margin, Margin) else type(margin).__name__
        _fail("margin", f"margin must be a Margin on the {scale} scale, got {got}", margin)
    lo, hi = margin.lower, margin.upper
    if scale == "difference" and any(math.isfinite(b) and abs(b) >= 1 for b in (lo, hi)):
        msg = f"margin bounds of a difference must lie in (-1, 1) or be infinite, got ({lo}, {hi})"
        _fail("margin", msg, margin)
    kernel = diff_score if scale == "difference" else ratio_score
    mn, counts = var == "miettinen-nurminen", (c1, m1, c2, m2)
    z_lo = _score_z(kernel, lo, counts, mn) if margin.bounded_below else math.inf
    z_up = _score_z(kernel, hi, counts, mn) if margin.bounded_above else -math.inf
    p_lo, p_up = 0.5 * math.erfc(z_lo / math.sqrt(2)), 0.5 * math.erfc(-z_up / math.sqrt(2))
    p = max(p_lo, p_up)
    return TOSTResult(scale, margin, var, z_lo, z_up, p_lo, p_up, p, level, p < level)


def _score_z(
    kernel: Callable[..., NDArray[np.float64]],
    bound: float,
    counts: tuple[int, int, int, int],
    mn: bool,
) -> float:
    """One-sided score z at a margin bound; 0 where it is 0/0 (see :func:`tost_ratio`)."""
    x1, n1, x2, n2 = (np.asarray(float(c)) for c in counts)
    z = float(kernel(np.asarray(float(bound)), x1, n1, x2, n2, mn))
    return 0.0 if math.isnan(z) else z
