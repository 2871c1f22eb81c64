"""Expected accrual, in months after the first patient in: the one time origin of the design.

The protocol times its interims in months after the first patient in (FPI), and the simulator
draws every trial's calendar from its FPI; ``equitrial design`` and ``equitrial simulate``
both take their expected enrolment, evaluable counts and accrual duration from this module, so
the two print the same numbers at each look.

The model is the simulator's (:func:`equitrial.design._sim_accrual.arrival_times`): arrivals
form an inhomogeneous Poisson process of intensity ``lambda(u)`` (sites opening evenly over
the ramp, each recruiting at a constant rate), ``u`` in months from study start. With
``Lambda`` its cumulative intensity, the ``k``-th arrival is ``T_k = Lambda^-1(G_k)`` where
``G_k`` is a sum of ``k`` unit exponentials (Gamma(k, 1)). Given the FPI at ``T_1 = u``, the
patients after it up to ``u + t`` are Poisson with mean ``Lambda(u + t) - Lambda(u)``; and
``Lambda(T_1)`` is a unit exponential. Hence

- expected enrolled by ``t`` months after FPI, capped at the sample size ``n``:
  ``E[min(1 + P, n)] = 1 + E[min(P, n - 1)]``, ``P ~ Poisson(Lambda(T_1 + t) -
  Lambda(T_1))``, averaged over ``Lambda(T_1) ~ Exp(1)``;
- expected accrual duration, FPI to last patient in: ``E[T_n] - E[T_1]``, each a
  one-dimensional integral against the Gamma density.

The integrals are computed on fixed Simpson grids (about 1e-10 relative to the sample size);
the tests check them against closed forms at a constant rate (``E[T_n - T_1] = (n - 1) /
rate``) and against the simulator's arrivals.

References
----------
.. [1] Carter RE. Application of stochastic processes to participant recruitment in clinical
   trials. *Control Clin Trials* 2004;25:429-436.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, stats

from equitrial.design._sim_accrual import accrual_knots, cumulative_rate, inverse_cumulative_rate
from equitrial.errors import InvalidInputError

__all__ = ["AccrualModel", "expected_accrual_months", "expected_enrolled"]

FloatArray = NDArray[np.float64]

# Lambda(T_1) ~ Exp(1): nodes on [0, 40] (the tail beyond has mass e^-40), Simpson weights
_FPI_NODES = np.linspace(0.0, 40.0, 4001)
_SIMPSON = np.where(np.arange(_FPI_NODES.size) % 2 == 1, 4.0, 2.0)
_SIMPSON[[0, -1]] = 1.0
_FPI_WEIGHTS = _SIMPSON * (_FPI_NODES[1] - _FPI_NODES[0]) / 3.0 * np.exp(-_FPI_NODES)


@dataclass(frozen=True, slots=True)
class AccrualModel:
    """Recruitment: ``n_patients`` from ``n_sites`` opened evenly over ``ramp_months``.

    Site ``k = 0, ..., n_sites - 1`` opens at ``ramp_months * k / n_sites`` months after study
    start and recruits ``rate_per_site`` patients per month (a Poisson process).
    """

    n_patients: int
    n_sites: int
    ramp_months: float
    rate_per_site: float

    def __post_init__(self) -> None:
        for name, value in (("n_patients", self.n_patients), ("n_sites", self.n_sites)):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise InvalidInputError(
                    f"accrual.{name} must be a whole number >= 1, got {value!r}",
                    field=f"accrual.{name}",
                )
        if not np.isfinite(self.ramp_months) or self.ramp_months < 0.0:
            raise InvalidInputError(
                f"accrual.ramp_months must be a finite number >= 0, got {self.ramp_months!r}",
                field="accrual.ramp_months",
            )
        if not np.isfinite(self.rate_per_site) or self.rate_per_site <= 0.0:
            raise InvalidInputError(
                f"accrual.rate_per_site must be a finite number > 0, got {self.rate_per_site!r}",
                field="accrual.rate_per_site",
            )

    def _knots(self) -> tuple[FloatArray, FloatArray]:
        return accrual_knots(self.n_sites, self.ramp_months, self.rate_per_site)


def expected_enrolled(model: AccrualModel, months_after_fpi: ArrayLike) -> FloatArray:
    """Expected number enrolled by ``months_after_fpi`` (0 before the FPI, at most ``n``).

    At ``t = 0`` it is 1 (the first patient); for ``t < 0``, 0. The evaluable count of an
    endpoint read ``w`` months after entry is ``expected_enrolled(model, t - w)``.
    """
    t = np.atleast_1d(np.asarray(months_after_fpi, dtype=np.float64))
    if not np.all(np.isfinite(t)):
        raise InvalidInputError("months after the first patient must be finite", field="months")
    knots, rates = model._knots()
    fpi = inverse_cumulative_rate(_FPI_NODES, knots, rates)  # T_1 at each quadrature node
    c = model.n_patients - 1  # the most that can follow the first patient
    out = np.zeros(t.shape)
    for i, ti in enumerate(t):
        if ti < 0.0:
            continue
        mean = np.maximum(cumulative_rate(fpi + ti, knots, rates) - _FPI_NODES, 0.0)
        # E[min(P, c)] = E[P; P <= c - 1] + c P(P >= c) = m F(c - 2; m) + c (1 - F(c - 1; m))
        capped = mean * stats.poisson.cdf(c - 2, mean) + c * stats.poisson.sf(c - 1, mean)
        out[i] = 1.0 + float(_FPI_WEIGHTS @ capped)
    return np.asarray(out.reshape(np.shape(months_after_fpi)), dtype=np.float64)


def _expected_arrival(model: AccrualModel, k: int) -> float:
    """``E[T_k] = E[Lambda^-1(G_k)]``, ``G_k ~ Gamma(k, 1)``, months from study start."""
    knots, rates = model._knots()
    dist = stats.gamma(k)
    lo, hi = float(dist.ppf(1e-15)), float(dist.isf(1e-15))
    g = np.linspace(lo, hi, 20001)
    values = inverse_cumulative_rate(g, knots, rates) * dist.pdf(g)
    return float(integrate.simpson(values, x=g))


def expected_accrual_months(model: AccrualModel) -> float:
    """Expected months from the first patient in to the last, ``E[T_n] - E[T_1]``."""
    return _expected_arrival(model, model.n_patients) - _expected_arrival(model, 1)
