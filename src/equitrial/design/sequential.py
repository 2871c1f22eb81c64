"""Group-sequential efficacy boundaries: Lan–DeMets alpha spending and classical designs.

One-sided designs on the z-scale for ``K`` looks at arbitrary information rates. The joint
distribution of the z-statistics is integrated recursively (Armitage, McPherson & Rowe; Jennison
& Turnbull 2000, chapter 19; see :mod:`equitrial.design._sequential_integration` for the grid).
Checked against rpact 3.3.4 (``getDesignGroupSequential``, ``getDesignCharacteristics``) to 1e-6.

References
----------
.. [1] Jennison C, Turnbull BW. *Group Sequential Methods with Applications to Clinical
   Trials*. Chapman & Hall/CRC, 2000. Chapters 2 (Pocock, O'Brien–Fleming), 7 (error spending),
   19 (numerical computation).
.. [2] Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. *Biometrika*
   1983;70:659–663.
.. [3] Hwang IK, Shih WJ, DeCani JS. Group sequential designs using a family of type I error
   probability spending functions. *Stat Med* 1990;9:1439–1445.
.. [4] Armitage P, McPherson CK, Rowe BC. Repeated significance tests on accumulating data.
   *J R Stat Soc A* 1969;132:235–244.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from equitrial.design._sequential_checks import (
    check_alpha,
    check_finite,
    check_futility,
    check_gamma,
    check_rates,
)
from equitrial.design._sequential_solve import (
    crossing_probabilities,
    solve_classical,
    solve_drift,
    solve_spending,
    spending_values,
)
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_array, check_level, check_option, check_same_length

__all__ = [
    "GroupSequentialDesign",
    "Spending",
    "StoppingProbabilities",
    "boundaries",
    "inflation_factor",
    "stopping_probabilities",
]

FloatArray = NDArray[np.float64]

Spending = Literal[
    "obrien-fleming", "pocock", "hwang-shih-decani", "classical-obrien-fleming", "classical-pocock"
]
_SPENDINGS: tuple[str, ...] = get_args(Spending)


def _frozen(values: ArrayLike) -> FloatArray:
    out = np.array(values, dtype=np.float64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class GroupSequentialDesign:
    """A one-sided group-sequential design on the z-scale.

    Attributes
    ----------
    information_rates
        ``t_1 < ... < t_K = 1``, the fraction of the maximum information at each look.
    critical_values
        Efficacy boundaries ``b_k``: reject H0 at the first look with ``Z_k >= b_k``. ``inf``
        where a spending function spends nothing (no rejection possible at that look).
    alpha_spent
        Cumulative type I error spent by look ``k``: the spending function's values for the
        Lan–DeMets designs, the cumulative crossing probabilities under H0 for the classical
        ones. The last entry is ``alpha``.
    exit_probabilities
        Stage-wise probabilities under H0 of first crossing the efficacy boundary at look ``k``,
        integrated from ``critical_values`` (futility bounds ignored, as non-binding bounds
        must be). They sum to ``alpha`` up to the integration error (about 1e-9).
    alpha
        The one-sided significance level.
    spending
        The design family, as passed to :func:`boundaries`.
    gamma
        The Hwang–Shih–DeCani parameter, ``None`` for the other families.
    futility_bounds
        Non-binding futility bounds on the z-scale at the ``K - 1`` interim looks (``-inf``
        for none at a look), or ``None``. They play no part in the type I error; they do
        lower the power (:func:`inflation_factor` accounts for them).
    """

    information_rates: FloatArray
    critical_values: FloatArray
    alpha_spent: FloatArray
    exit_probabilities: FloatArray
    alpha: float
    spending: Spending
    gamma: float | None
    futility_bounds: FloatArray | None

    @property
    def kmax(self) -> int:
        """The number of looks ``K``."""
        return int(self.information_rates.size)

    @property
    def stage_levels(self) -> FloatArray:
        """Nominal one-sided p-value thresholds ``1 - Phi(b_k)`` (rpact ``stageLevels``)."""
        return _frozen(ndtr(-self.critical_values))


@dataclass(frozen=True, eq=False)
class StoppingProbabilities:
    """Stage-wise boundary-crossing probabilities of a group-sequential test under a drift.

    Attributes
    ----------
    information_rates
        The looks ``t_1 < ... < t_K = 1``.
    drift
        ``E[Z_K]``, i.e. ``theta * sqrt(I_max)``; ``E[Z_k] = drift * sqrt(t_k)``.
    efficacy
        ``P(first crossing is the efficacy boundary at look k)``, ``K`` entries.
    futility
        ``P(first crossing is the futility bound at interim look k)``, ``K - 1`` entries
        (zeros without futility bounds).
    """

    information_rates: FloatArray
    drift: float
    efficacy: FloatArray
    futility: FloatArray

    @property
    def rejection(self) -> float:
        """Total probability of rejecting H0 (the power under a drift, the size under H0)."""
        return float(self.efficacy.sum())

    @property
    def stopping(self) -> FloatArray:
        """Probability of stopping at look ``k``; the last look takes every remaining path."""
        stop = self.efficacy.copy()
        stop[:-1] += self.futility
        stop[-1] = 1.0 - float(stop[:-1].sum())
        return _frozen(stop)

    @property
    def expected_information_rate(self) -> float:
        """Expected information at stopping over the maximum, ``sum_k t_k P(stop at k)``."""
        return float(self.information_rates @ self.stopping)


def boundaries(
    information_rates: ArrayLike,
    *,
    alpha: float = 0.025,
    spending: Spending = "obrien-fleming",
    gamma: float | None = None,
    futility_bounds: ArrayLike | None = None,
) -> GroupSequentialDesign:
    """One-sided group-sequential efficacy boundaries.

    Parameters
    ----------
    information_rates
        Information fractions of the ``K >= 1`` looks: strictly increasing, in (0, 1], the last
        equal to 1 (a last entry within 1e-10 of 1 is taken as 1).
    alpha
        One-sided significance level, in (0, 0.5).
    spending : {"obrien-fleming", "pocock", "hwang-shih-decani", "classical-obrien-fleming", \
"classical-pocock"}
        The first three are Lan–DeMets alpha-spending designs (rpact ``asOF``, ``asP``,
        ``asHSD``); the last two are the classical Wang–Tsiatis designs with shape parameter 0
        (O'Brien & Fleming, rpact ``OF``) and 1/2 (Pocock, rpact ``P``).
    gamma
        Hwang–Shih–DeCani parameter, required for (and only for) ``"hwang-shih-decani"``;
        any finite value (rpact accepts ``[-10, 5]``). ``gamma = 0`` spends linearly.
    futility_bounds
        Optional non-binding futility bounds (z-values) at the ``K - 1`` interim looks, each
        below that look's critical value; ``-inf`` for none at a look. They do not change the
        critical values.

    Returns
    -------
    GroupSequentialDesign
        Critical values, cumulative alpha spent and stage-wise exit probabilities under H0.

    Raises
    ------
    InvalidInputError
        Information rates not strictly increasing in (0, 1] or not ending at 1; ``alpha``
        outside (0, 0.5); ``gamma`` missing for or given to the wrong family; futility bounds of
        the wrong length, NaN, ``+inf`` or not below the critical value.
    UnknownOptionError
        ``spending`` not one of the listed families.
    ConvergenceError
        The root finding failed (not expected for valid input).

    Notes
    -----
    Spending functions of the information rate ``t`` (one-sided ``alpha``):

    - ``"obrien-fleming"``: ``alpha(t) = 2 - 2 Phi(Phi^{-1}(1 - alpha/2) / sqrt(t))``, rpact's
      ``asOF`` for one-sided designs (note ``alpha / 2`` in the quantile; ``alpha(1) = alpha``);
    - ``"pocock"``: ``alpha(t) = alpha log(1 + (e - 1) t)``;
    - ``"hwang-shih-decani"``: ``alpha(t) = alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))``,
      ``alpha t`` for ``gamma = 0``.

    The boundary of look ``k`` solves ``P_0(Z_1 < b_1, ..., Z_{k-1} < b_{k-1}, Z_k >= b_k) =
    alpha(t_k) - alpha(t_{k-1})`` (Brent's method, tolerance 1e-12), where ``(Z_1, ..., Z_K)``
    is jointly normal with ``Cov(Z_j, Z_k) = sqrt(t_j / t_k)``. The classical designs use
    ``b_k = c / sqrt(t_k)`` (O'Brien–Fleming) or ``b_k = c`` (Pocock) with ``c`` solved so that
    the total level is ``alpha``. ``K = 1`` gives ``Phi^{-1}(1 - alpha)`` for every family.

    Where the spending function spends less than about 1e-300 at an early look the boundary is
    ``inf``. rpact computes ``2 - 2 Phi(.)`` in double precision, so it reports ~1e-16 instead
    of ~1e-23 at very early looks (``t < 0.1`` with O'Brien–Fleming) and an infinite boundary
    where this function gives a finite one near 10.

    References
    ----------
    .. [1] Jennison & Turnbull (2000), sections 2.3, 7.2 and 19.2.
    .. [2] Lan & DeMets (1983).
    .. [3] Hwang, Shih & DeCani (1990).
    """
    t = check_rates(information_rates)
    level = check_alpha(alpha)
    family = check_option(spending, _SPENDINGS, "spending")
    hsd_gamma = check_gamma(gamma, family)
    if family == "classical-obrien-fleming":
        critical = solve_classical(t, level, 1.0 / np.sqrt(t))
    elif family == "classical-pocock":
        critical = solve_classical(t, level, np.ones(t.size))
    else:
        critical = solve_spending(t, spending_values(t, level, family, hsd_gamma))
    exits, _ = crossing_probabilities(t, critical, np.full(t.size, -math.inf), 0.0)
    if family.startswith("classical"):
        spent = np.cumsum(exits)
        spent[-1] = level
    else:
        spent = spending_values(t, level, family, hsd_gamma)
    futility = None
    if futility_bounds is not None:
        futility = _frozen(check_futility(futility_bounds, critical, "futility_bounds"))
    return GroupSequentialDesign(
        information_rates=_frozen(t),
        critical_values=_frozen(critical),
        alpha_spent=_frozen(spent),
        exit_probabilities=_frozen(exits),
        alpha=level,
        spending=family,  # type: ignore[arg-type]  # checked against Spending above
        gamma=hsd_gamma,
        futility_bounds=futility,
    )


def stopping_probabilities(
    critical_values: ArrayLike,
    information_rates: ArrayLike,
    *,
    drift: float = 0.0,
    futility: ArrayLike | None = None,
) -> StoppingProbabilities:
    """Probabilities of crossing each boundary of a one-sided group-sequential test.

    Parameters
    ----------
    critical_values
        Efficacy boundaries ``b_1, ..., b_K`` on the z-scale (``inf`` allowed: no efficacy stop).
    information_rates
        The looks, as for :func:`boundaries`.
    drift
        ``E[Z_K] = theta * sqrt(I_max)`` for effect ``theta`` and maximum information
        ``I_max``; ``0`` gives the probabilities under H0.
    futility
        Optional futility bounds at the ``K - 1`` interim looks (``-inf`` for none at a look),
        each below the critical value of its look. Here they are applied (the trial stops
        when crossed), as when computing power or expected information.

    Returns
    -------
    StoppingProbabilities
        ``efficacy[k] = P(Z_j in (a_j, b_j) for j < k, Z_k >= b_k)`` and
        ``futility[k] = P(Z_j in (a_j, b_j) for j < k, Z_k <= a_k)``.

    Raises
    ------
    InvalidInputError
        Lengths differ, rates invalid (see :func:`boundaries`), NaN or ``-inf`` critical
        values, non-finite drift, or futility bounds invalid.

    Notes
    -----
    ``E[Z_k] = drift * sqrt(t_k)``, ``Cov(Z_j, Z_k) = sqrt(t_j / t_k)``; recursive Simpson
    integration as in :func:`boundaries`. ``drift`` may be negative.

    References
    ----------
    .. [1] Jennison & Turnbull (2000), section 19.2.
    """
    t = check_rates(information_rates)
    upper = check_array(critical_values, "critical_values", finite=False)
    check_same_length(critical_values=upper, information_rates=t)
    if np.any(np.isnan(upper)) or np.any(upper == -np.inf):
        raise InvalidInputError(
            "critical_values must be numbers or +inf, not NaN or -inf",
            field="critical_values",
            value=upper.tolist(),
        )
    shift = check_finite(drift, "drift")
    lower = np.full(t.size, -math.inf)
    if futility is not None:
        lower[:-1] = check_futility(futility, upper, "futility")
    efficacy, below = crossing_probabilities(t, upper, lower, shift)
    return StoppingProbabilities(
        information_rates=_frozen(t),
        drift=shift,
        efficacy=_frozen(efficacy),
        futility=_frozen(below[:-1]),
    )


def inflation_factor(design: GroupSequentialDesign, power: float = 0.8) -> float:
    """Maximum information of a group-sequential design relative to the fixed design.

    Parameters
    ----------
    design
        A design from :func:`boundaries`; its futility bounds, if any, are applied.
    power
        Target power, in ``(design.alpha, 1)``.

    Returns
    -------
    float
        ``(drift / (z_alpha + z_beta))^2`` where ``drift`` solves ``P(reject H0) = power``
        (rpact's ``getDesignCharacteristics(design)$inflationFactor`` with ``beta = 1 -
        power``).

    Raises
    ------
    InvalidInputError
        ``power`` not in ``(design.alpha, 1)``.

    Notes
    -----
    A fixed-sample one-sided test at level ``alpha`` has power ``1 - beta`` at drift
    ``z_alpha + z_beta``; the group-sequential design needs a larger drift, i.e. that many
    times the information (sample size or events). Equal to 1 for ``K = 1``.

    References
    ----------
    .. [1] Jennison & Turnbull (2000), section 2.4 (Table 2.1, 2.3: ratios ``R``).
    """
    target = check_level(power, "power")
    if target <= design.alpha:
        raise InvalidInputError(
            f"power must exceed the design's alpha={design.alpha}, got {power!r}",
            field="power",
            value=power,
            expected=f"{design.alpha} < power < 1",
        )
    lower = np.full(design.kmax, -math.inf)
    if design.futility_bounds is not None:
        lower[:-1] = design.futility_bounds
    fixed = -float(ndtri(design.alpha)) - float(ndtri(1.0 - target))
    drift = solve_drift(
        design.information_rates, design.critical_values, lower, target, 2.0 * fixed
    )
    return (drift / fixed) ** 2
