"""Patient outcomes for the trial simulator: response at scheduled scans, PFS/OS, dropout.

The response process and the PFS/OS models are drawn independently of each other (a
simplification: the correlation of response with survival is not modelled). Within the
response process, the end of a response is the patient's progression, so "progression ends
response" holds there; dropout ends all follow-up.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, special, stats

from equitrial.design._sim_accrual import inverse_cumulative_rate
from equitrial.design._sim_randomize import stratum_probabilities
from equitrial.design._sim_spec import WEEKS_PER_MONTH, SurvivalModel, TrialSpec

__all__ = [
    "confirmation_offset_weeks",
    "detection_probability",
    "dropout_times",
    "event_times",
    "last_primary_scan_weeks",
    "response_outcomes",
    "stratum_multipliers",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# scan arithmetic is done in weeks; this slack absorbs rounding when comparing scan times
_SLACK = 1e-9


def last_primary_scan_weeks(spec: TrialSpec) -> float:
    """Time of the last scheduled scan on or before the primary time point, in weeks."""
    s = spec.schedule
    k = math.floor((s.primary_weeks - s.first_weeks) / s.interval_weeks + _SLACK)
    return s.first_weeks + k * s.interval_weeks


def confirmation_offset_weeks(spec: TrialSpec) -> float:
    """Weeks from a first response to its confirmation scan (0 without confirmation).

    The confirmation scan is the first scheduled scan at least ``confirmation_weeks`` later.
    """
    if not spec.response.confirmation:
        return 0.0
    interval = spec.schedule.interval_weeks
    steps = max(1, math.ceil(spec.response.confirmation_weeks / interval - _SLACK))
    return steps * interval


def stratum_multipliers(spec: TrialSpec) -> FloatArray:
    """Response multipliers per stratum, rescaled to a prevalence-weighted mean of 1."""
    probs = stratum_probabilities([f.prevalences for f in spec.randomization.factors])
    raw = spec.response.stratum_multipliers
    if raw is None:
        return np.ones_like(probs)
    m = np.asarray(raw, dtype=np.float64)
    return np.asarray(m / np.sum(probs * m), dtype=np.float64)


def _gamma_scale(spec: TrialSpec) -> float:
    shape = spec.response.time_to_response_shape
    return float(spec.response.time_to_response_median_months / special.gammaincinv(shape, 0.5))


def response_outcomes(
    rng: np.random.Generator,
    arm: NDArray[np.int8],
    strata: NDArray[np.int64],
    dropout: FloatArray,
    spec: TrialSpec,
    ever: tuple[float, float],
) -> FloatArray:
    """When each patient's primary response becomes known (months on study); ``inf`` if never.

    ``ever = (test, reference)``: probabilities of ever responding. A responder's response
    starts at ``T`` (gamma) and ends at ``T + D`` (exponential ``D``: progression). It is seen
    at the first scan on or after ``T`` if still ongoing then; it counts for the primary
    endpoint if that scan is on or before the primary time point, the confirmation scan (if
    required) still finds it ongoing, and the patient has not dropped out before the scan that
    establishes it. Patients who drop out earlier count as non-responders (intention to treat,
    non-responder imputation).
    """
    resp, sched = spec.response, spec.schedule
    p = np.where(arm == 1, ever[0], ever[1]) * stratum_multipliers(spec)[strata]
    responder = rng.random(arm.shape) < p
    onset = rng.gamma(resp.time_to_response_shape, _gamma_scale(spec), arm.shape)
    if math.isinf(resp.duration_median_months):
        end = np.full(arm.shape, np.inf)
    else:
        end = onset + rng.exponential(resp.duration_median_months / math.log(2.0), arm.shape)
    onset_w = onset * WEEKS_PER_MONTH
    steps = np.ceil(np.maximum(onset_w - sched.first_weeks, 0.0) / sched.interval_weeks - _SLACK)
    seen_w = sched.first_weeks + steps * sched.interval_weeks
    known_w = seen_w + confirmation_offset_weeks(spec)
    known = known_w / WEEKS_PER_MONTH
    counted = (
        responder
        & (seen_w <= sched.primary_weeks + _SLACK)
        & (end * WEEKS_PER_MONTH > known_w)
        & (known < dropout)
    )
    return np.asarray(np.where(counted, known, np.inf), dtype=np.float64)


def detection_probability(spec: TrialSpec, *, with_dropout: bool = True) -> float:
    """Probability that a responder counts as a primary responder in the final analysis.

    ``c = sum_k  integral_{s_(k-1)}^{s_k} g(t) exp(-mu (e_k - t)) dt  exp(-delta e_k)`` over the
    scans ``s_k`` on or before the primary time point (``s_0 = 0``), with ``g`` the gamma density
    of the time to response, ``mu`` the rate of the end of response, ``e_k = s_k`` plus the
    confirmation offset, and ``delta`` the dropout hazard (0 without ``with_dropout``). The
    observed (ITT) response rate of an arm is then ``ever * c``, the same ``c`` in both arms.
    """
    resp, sched = spec.response, spec.schedule
    shape, scale = resp.time_to_response_shape, _gamma_scale(spec)
    mu = (
        0.0
        if math.isinf(resp.duration_median_months)
        else math.log(2.0) / (resp.duration_median_months)
    )
    delta = spec.dropout_rate_per_year / 12.0 if with_dropout else 0.0
    offset = confirmation_offset_weeks(spec) / WEEKS_PER_MONTH
    n_scans = round((last_primary_scan_weeks(spec) - sched.first_weeks) / sched.interval_weeks) + 1
    scans = (sched.first_weeks + sched.interval_weeks * np.arange(n_scans)) / WEEKS_PER_MONTH
    dist = stats.gamma(shape, scale=scale)
    total = 0.0
    for low, high in zip(np.concatenate(([0.0], scans[:-1])), scans, strict=True):
        known = high + offset
        if mu == 0.0:
            mass = float(dist.cdf(high) - dist.cdf(low))
        else:
            mass = integrate.quad(
                lambda t, k=known: float(dist.pdf(t)) * math.exp(-mu * (k - t)), low, high
            )[0]
        total += mass * math.exp(-delta * known)
    return total


def dropout_times(rng: np.random.Generator, shape: tuple[int, int], spec: TrialSpec) -> FloatArray:
    """Dropout times in months on study (exponential; ``inf`` with a zero rate)."""
    rate = spec.dropout_rate_per_year / 12.0
    if rate == 0.0:
        return np.full(shape, np.inf)
    return rng.exponential(1.0 / rate, shape)


def event_times(
    rng: np.random.Generator, arm: NDArray[np.int8], model: SurvivalModel
) -> FloatArray:
    """Event times (months on study) under ``model``; ``inf`` for cured patients.

    The test arm's cumulative hazard is ``hazard_ratio`` times the reference arm's, so its times
    solve ``H(t) = E / hazard_ratio`` for unit exponential ``E``.
    """
    knots = np.asarray(model.knots_months, dtype=np.float64)
    hazards = np.asarray(model.hazards_per_month, dtype=np.float64)
    unit = rng.standard_exponential(arm.shape) / np.where(arm == 1, model.hazard_ratio, 1.0)
    times = inverse_cumulative_rate(unit, knots, hazards)
    if model.cure_fraction > 0.0:
        times = np.where(rng.random(arm.shape) < model.cure_fraction, np.inf, times)
    return times
