"""Pocock–Simon minimization with a random element, reproducible from a generator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.errors import InvalidInputError
from equitrial.randomization.blocks import check_ratio
from equitrial.stats._validation import check_option

__all__ = [
    "Imbalance",
    "MinimizationDecision",
    "level_counts",
    "minimization_probabilities",
    "minimization_scores",
    "minimize",
]

Imbalance = Literal["range", "variance"]
_IMBALANCES = ("range", "variance")
_TIE = 1e-12


@dataclass(frozen=True)
class MinimizationDecision:
    """One minimization step.

    Attributes
    ----------
    arm
        The arm assigned (index into the allocation ratio).
    scores
        Total imbalance ``G_k`` that assigning each arm ``k`` would leave.
    probabilities
        Probability with which each arm was drawn.
    """

    arm: int
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]


def level_counts(
    history: Sequence[tuple[Mapping[str, str], int]],
    levels: Mapping[str, str],
    factors: Sequence[str],
    n_arms: int,
) -> NDArray[np.int64]:
    """Counts, per factor and arm, of earlier patients who share the new patient's level.

    Parameters
    ----------
    history
        ``(levels, arm)`` of each patient already allocated.
    levels
        The new patient's level of every factor.
    factors
        The factors, in the order of the rows of the result.
    n_arms
        Number of arms.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(factors), n_arms)``: ``x[i, k]`` patients on arm ``k`` have the new
        patient's level of factor ``i`` (the marginal totals of Pocock and Simon [1]_).

    References
    ----------
    .. [1] Pocock SJ, Simon R. *Biometrics* 1975;31:103-115.
    """
    counts = np.zeros((len(factors), n_arms), dtype=np.int64)
    for earlier, arm in history:
        for i, factor in enumerate(factors):
            if earlier.get(factor) == levels[factor]:
                counts[i, arm] += 1
    return counts


def minimization_scores(
    counts: ArrayLike,
    *,
    ratio: Sequence[int],
    weights: ArrayLike | None = None,
    imbalance: Imbalance = "range",
) -> NDArray[np.float64]:
    """Total imbalance ``G_k`` left by assigning the new patient to each arm ``k``.

    Parameters
    ----------
    counts
        ``(n_factors, n_arms)`` marginal counts of earlier patients with the new patient's level
        of each factor (:func:`level_counts`).
    ratio
        Allocation ratio, one whole number per arm.
    weights
        Weight of each factor (default 1 each), all > 0.
    imbalance : {"range", "variance"}
        Imbalance of one factor: the range (max - min) or the population variance of the
        ratio-adjusted counts ``x_ik / r_k``.

    Returns
    -------
    numpy.ndarray
        ``G_k = sum_i w_i d_i(k)``, one per arm.

    Raises
    ------
    InvalidInputError
        For counts of the wrong shape or negative, bad weights or ratio.
    UnknownOptionError
        For an unknown ``imbalance``.

    Notes
    -----
    Pocock and Simon's rule [1]_ (section 3): ``x_ik(k')`` are the counts after a hypothetical
    assignment to ``k'``; ``d_i(k')`` their imbalance; ``G(k') = sum_i w_i d_i(k')``. Dividing
    by the ratio makes a count exactly in ratio perfectly balanced.

    References
    ----------
    .. [1] Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic
       factors in the controlled clinical trial. *Biometrics* 1975;31:103-115.
    """
    r = np.asarray(check_ratio(ratio), dtype=np.float64)
    check_option(imbalance, _IMBALANCES, "imbalance")
    x = _check_counts(counts, len(r))
    w = _check_weights(weights, x.shape[0])
    after = (x[np.newaxis, :, :] + np.eye(len(r))[:, np.newaxis, :]) / r
    if imbalance == "range":
        d = after.max(axis=2) - after.min(axis=2)
    else:
        d = after.var(axis=2)
    return np.asarray(d @ w, dtype=np.float64)


def minimization_probabilities(
    scores: ArrayLike, *, ratio: Sequence[int], p_best: float
) -> NDArray[np.float64]:
    """Probability of each arm given the scores: ``p_best`` to the arm(s) of least imbalance.

    Notes
    -----
    Pocock and Simon's first rule [1]_: the best arm gets ``p_best``, the others share
    ``1 - p_best``. Ties within the best set (and within the rest) are shared in proportion to
    the allocation ratio; when every arm ties, the arms are drawn by the allocation ratio.

    References
    ----------
    .. [1] Pocock SJ, Simon R. *Biometrics* 1975;31:103-115.
    """
    r = np.asarray(check_ratio(ratio), dtype=np.float64)
    g = np.asarray(scores, dtype=np.float64)
    if not (isinstance(p_best, float | int) and 0.5 < float(p_best) <= 1.0):
        raise InvalidInputError(
            f"p_best must lie in (0.5, 1], got {p_best!r}", field="p_best", value=p_best
        )
    best = g <= g.min() + _TIE
    if best.all():
        return np.asarray(r / r.sum(), dtype=np.float64)
    probs = np.where(best, float(p_best) * r / r[best].sum(), 0.0)
    probs[~best] = (1.0 - float(p_best)) * r[~best] / r[~best].sum()
    return np.asarray(probs, dtype=np.float64)


def minimize(
    rng: np.random.Generator,
    counts: ArrayLike,
    *,
    ratio: Sequence[int],
    p_best: float,
    weights: ArrayLike | None = None,
    imbalance: Imbalance = "range",
) -> MinimizationDecision:
    """Assign one patient by Pocock–Simon minimization with a random element.

    Parameters
    ----------
    rng
        Source of the random element (one uniform draw per call).
    counts
        ``(n_factors, n_arms)`` marginal counts (:func:`level_counts`).
    ratio
        Allocation ratio.
    p_best
        Probability of the arm of least imbalance, ``0.5 < p_best <= 1`` (1: deterministic
        except for ties).
    weights
        Weight of each factor (default 1 each).
    imbalance : {"range", "variance"}
        As in :func:`minimization_scores`.

    Returns
    -------
    MinimizationDecision
        The arm, the scores and the probabilities used.

    Raises
    ------
    InvalidInputError
        For bad counts, weights, ratio or ``p_best``.
    UnknownOptionError
        For an unknown ``imbalance``.

    Notes
    -----
    The arm is the first ``k`` with ``u < cumsum(p)[k]`` for one uniform ``u``, so a decision is
    reproducible from the generator's state.

    References
    ----------
    .. [1] Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic
       factors in the controlled clinical trial. *Biometrics* 1975;31:103-115.
    """
    g = minimization_scores(counts, ratio=ratio, weights=weights, imbalance=imbalance)
    p = minimization_probabilities(g, ratio=ratio, p_best=p_best)
    cum = np.cumsum(p)
    cum[-1] = 1.0
    arm = int(np.searchsorted(cum, rng.random(), side="right"))
    return MinimizationDecision(arm, tuple(float(v) for v in g), tuple(float(v) for v in p))


def _check_counts(counts: ArrayLike, n_arms: int) -> NDArray[np.float64]:
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_arms or x.shape[0] < 1:
        raise InvalidInputError(
            f"counts must have shape (n_factors >= 1, {n_arms}), got {x.shape}",
            field="counts",
            value=x.shape,
        )
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.floor(x)):
        raise InvalidInputError(
            "counts must be whole numbers >= 0", field="counts", value=x.tolist()
        )
    return x


def _check_weights(weights: ArrayLike | None, n_factors: int) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(n_factors)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_factors,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise InvalidInputError(
            f"weights must be {n_factors} finite numbers > 0 (one per factor), got {w.tolist()}",
            field="weights",
            value=w.tolist(),
        )
    return w
