"""Beta-binomial posterior probabilities of the continuous safety monitoring rule.

Private to :mod:`equitrial.analysis.monitoring`. Pure numerics (no frames): the tail of one
beta posterior (exact, the regularized incomplete beta function) and the probability that the
difference of two independent beta variables exceeds a margin (one-dimensional numerical
integration; no closed form exists for non-integer parameters).

References
----------
.. [1] Thall PF, Simon R, Estey EH. Bayesian sequential monitoring designs for single-arm
   clinical trials with multiple outcomes. *Stat Med* 1995;14:357-379.
.. [2] Piessens R, de Doncker-Kapenga E, Ueberhuber CW, Kahaner DK. *QUADPACK*. Springer, 1983
   (the adaptive Gauss-Kronrod rule behind ``scipy.integrate.quad`` and R's ``integrate``).
"""

from __future__ import annotations

import math

from scipy.integrate import quad
from scipy.special import betainc, betaincc, betaincinv, betaln

from equitrial.errors import InvalidInputError

__all__ = ["posterior", "prob_difference_exceeds", "prob_exceeds"]

_TAIL = 1e-15
"""Mass of each tail of the integrating variable left out of the integral (below 1e-14)."""


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(
            f"{name} must be a positive finite number, got {value!r}",
            field=name,
            value=value,
            expected="> 0",
        )
    return number


def posterior(a: float, b: float, events: int, n: int) -> tuple[float, float]:
    """Parameters of the Beta posterior after ``events`` of ``n``: ``(a + x, b + n - x)``."""
    if not 0 <= events <= n:
        raise InvalidInputError(
            f"events must lie between 0 and n={n}, got {events}",
            field="events",
            value=events,
            expected=f"0 <= events <= {n}",
        )
    return _positive(a, "a") + events, _positive(b, "b") + (n - events)


def prob_exceeds(a: float, b: float, rate: float) -> float:
    """``P(p > rate)`` for ``p ~ Beta(a, b)``: ``1 - I_rate(a, b)``, computed directly as the
    complemented regularized incomplete beta function (no cancellation)."""
    a, b = _positive(a, "a"), _positive(b, "b")
    if not 0.0 <= rate <= 1.0:
        raise InvalidInputError(
            f"rate must lie in [0, 1], got {rate!r}", field="rate", value=rate, expected="[0, 1]"
        )
    return float(betaincc(a, b, rate))


def prob_difference_exceeds(a1: float, b1: float, a2: float, b2: float, delta: float) -> float:
    """``P(p1 - p2 > delta)`` for independent ``p1 ~ Beta(a1, b1)``, ``p2 ~ Beta(a2, b2)``.

    Parameters
    ----------
    a1, b1, a2, b2 : float
        Positive beta parameters.
    delta : float
        Margin, in (-1, 1).

    Returns
    -------
    float
        ``integral f2(y) * S1(y + delta) dy`` over the y where ``0 < y + delta < 1``, plus
        ``F2(-delta)`` when ``delta < 0`` (there ``S1 = 1``); ``S1`` is the upper tail of p1
        (:func:`prob_exceeds`), ``f2``, ``F2`` the density and distribution of p2.

    Notes
    -----
    The integral is taken over the central ``1 - 2e-15`` of p2's distribution (its quantiles by
    ``betaincinv``), so a posterior concentrated on a small interval is not missed by the
    adaptive rule; the omitted mass bounds the error by 2e-15 beyond QUADPACK's own (absolute
    1e-13, relative 1e-11 requested).
    """
    a1, b1 = _positive(a1, "a1"), _positive(b1, "b1")
    a2, b2 = _positive(a2, "a2"), _positive(b2, "b2")
    if not -1.0 < delta < 1.0:
        raise InvalidInputError(
            f"delta must lie in (-1, 1), got {delta!r}",
            field="delta",
            value=delta,
            expected="(-1, 1)",
        )
    log_norm = betaln(a2, b2)

    def integrand(y: float) -> float:
        if not 0.0 < y < 1.0:
            return 0.0
        density = math.exp((a2 - 1) * math.log(y) + (b2 - 1) * math.log1p(-y) - log_norm)
        return density * float(betaincc(a1, b1, y + delta))

    low = max(float(betaincinv(a2, b2, _TAIL)), -delta, 0.0)
    high = min(float(betaincinv(a2, b2, 1.0 - _TAIL)), 1.0 - delta, 1.0)
    below = float(betainc(a2, b2, -delta)) if delta < 0 else 0.0
    if high <= low:
        return min(1.0, below)
    mean = a2 / (a2 + b2)
    inner = [mean] if low < mean < high else None
    value, _ = quad(integrand, low, high, points=inner, epsabs=1e-13, epsrel=1e-11, limit=200)
    return min(1.0, max(0.0, float(value) + below))
