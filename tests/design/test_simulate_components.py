"""The simulator's building blocks against hand-derived expectations and independent code.

Monte-Carlo checks compare with exact values within 4 standard errors (the chance of a false
alarm per check is about 6e-5); the seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines.statistics import logrank_test

from equitrial.design._sim_accrual import accrual_knots, arrival_times, cumulative_rate
from equitrial.design._sim_analysis import conclude
from equitrial.design._sim_logrank import logrank_rows
from equitrial.design._sim_outcomes import detection_probability, event_times, response_outcomes
from equitrial.design._sim_randomize import allocate, block_sequences, draw_strata
from equitrial.design._sim_spec import Analysis, ResponseModel, SurvivalModel, TrialSpec
from equitrial.stats.proportions import difference_ci, ratio_ci


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- accrual --------------------------------------------------------------------------------


def test_ramp_cumulative_intensity_matches_hand_arithmetic() -> None:
    # 10 sites opening at 0, 0.5, ..., 4.5 months, 1 patient per site-month:
    # Lambda(3) = 3 + 2.5 + 2 + 1.5 + 1 + 0.5 = 10.5; Lambda(5) = sum(5 - 0.5 k, k < 10) = 27.5;
    # then 10 per month: Lambda(7) = 47.5
    knots, rates = accrual_knots(10, 5.0, 1.0)
    got = cumulative_rate(np.array([3.0, 5.0, 7.0]), knots, rates)
    np.testing.assert_allclose(got, [10.5, 27.5, 47.5], rtol=1e-12)


@pytest.mark.parametrize(("t", "expected"), [(3.0, 10.5), (5.0, 27.5), (7.0, 47.5)])
def test_accrual_counts_are_poisson_with_the_ramp_mean(t: float, expected: float) -> None:
    rows = 20_000
    arrivals = arrival_times(_rng(), rows, 120, 10, 5.0, 1.0)
    assert np.all(arrivals[:, -1] > 7.0)  # 120 arrivals take ~14 months: no truncation
    counts = np.sum(arrivals <= t, axis=1)
    se = math.sqrt(expected / rows)
    assert abs(counts.mean() - expected) < 4 * se
    # Poisson: the variance equals the mean; Var(s^2) ~ (mu4 - sigma^4) / rows with the Poisson
    # fourth central moment mu4 = lambda + 3 lambda^2
    assert abs(counts.var(ddof=1) - expected) < 4 * math.sqrt((expected + 2 * expected**2) / rows)


def test_accrual_without_ramp_is_homogeneous() -> None:
    arrivals = arrival_times(_rng(2), 20_000, 50, 4, 0.0, 2.5)  # 10 per month
    counts = np.sum(arrivals <= 2.0, axis=1)
    assert abs(counts.mean() - 20.0) < 4 * math.sqrt(20.0 / 20_000)


# --- randomization --------------------------------------------------------------------------


def test_permuted_blocks_balance_at_every_completed_block() -> None:
    arm, block_id, size = block_sequences(_rng(), 5_000, 60, (2, 4, 6))
    is_end = np.zeros(arm.shape, dtype=bool)
    is_end[:, :-1] = block_id[:, 1:] != block_id[:, :-1]
    treated = np.cumsum(arm, axis=1)
    position = np.arange(1, 61)
    assert np.all((2 * treated == position)[is_end])
    # within a block the imbalance never exceeds half the block size
    assert np.all(np.abs(2 * treated - position) <= np.max(size, axis=1, keepdims=True))
    # every size is used, and each slot of a block is equally likely to be the test arm
    assert set(np.unique(size)) == {2, 4, 6}
    assert abs(arm.mean() - 0.5) < 0.01


def test_two_to_one_blocks_give_the_test_arm_two_thirds_of_every_block() -> None:
    arm, block_id, size = block_sequences(_rng(2), 5_000, 60, (3, 6), allocation=(2, 1))
    is_end = np.zeros(arm.shape, dtype=bool)
    is_end[:, :-1] = block_id[:, 1:] != block_id[:, :-1]
    treated = np.cumsum(arm, axis=1)
    position = np.arange(1, 61)
    # after every completed block, exactly 2 of every 3 patients so far are on the test arm
    assert np.all((3 * treated == 2 * position)[is_end])
    assert set(np.unique(size)) == {3, 6}
    # each slot is the test arm with probability 2/3 (4 binomial SEs over 5,000 rows); slots 57
    # to 59 may sit in a block of 6 cut off at 60, whose first slots lean to the test arm
    np.testing.assert_allclose(arm[:, :57].mean(axis=0), 2 / 3, atol=4 * math.sqrt(2 / 9 / 5_000))


@pytest.mark.parametrize(("block", "allocation"), [(4, (1, 1)), (3, (2, 1))])
def test_each_stratum_follows_its_own_blocks_in_enrolment_order(
    block: int, allocation: tuple[int, int]
) -> None:
    rows, n, strata_n = 400, 80, 4
    strata = draw_strata(_rng(3), rows, n, np.array([0.1, 0.2, 0.3, 0.4]))
    arm = allocate(_rng(4), strata, strata_n, (block,), allocation)
    test_share = block * allocation[0] // sum(allocation)
    for s in range(strata_n):
        member = strata == s
        treated = np.cumsum(np.where(member, arm, 0), axis=1)
        count = np.cumsum(member, axis=1)
        # after every completed block of the stratum's own patients, the ratio holds exactly
        done = member & (count % block == 0)
        assert np.all((treated * block == count * test_share)[done])
        assert done.sum() > rows  # the check ran on many completed blocks
    # a stratum's first patient is on the test arm with probability test_share / block
    firsts = [arm[r, np.argmax(strata[r] == s)] for r in range(rows) for s in range(strata_n)]
    p = test_share / block
    assert abs(np.mean(firsts) - p) < 4 * math.sqrt(p * (1 - p) / len(firsts))


def test_strata_follow_their_prevalences() -> None:
    strata = draw_strata(_rng(5), 2_000, 100, np.array([0.1, 0.2, 0.3, 0.4]))
    freq = np.bincount(strata.ravel(), minlength=4) / strata.size
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=4 * math.sqrt(0.25 / strata.size))


# --- outcomes -------------------------------------------------------------------------------


def test_exponential_pfs_median_is_recovered_in_both_arms() -> None:
    n = 200_000
    arm = np.repeat(np.array([[0, 1]], dtype=np.int8), n // 2, axis=0).reshape(1, n)
    times = event_times(_rng(6), arm, SurvivalModel.exponential(8.3, hazard_ratio=0.8))
    for a, median in ((0, 8.3), (1, 8.3 / 0.8)):
        sample = times[arm == a]
        # SE of a sample median: 1 / (2 f(m) sqrt(n)), f(m) = lambda / 2 for the exponential
        se = 1.0 / ((math.log(2.0) / median) * math.sqrt(sample.size))
        assert abs(np.median(sample) - median) < 4 * se


def test_cure_mixture_plateau_and_piecewise_survival() -> None:
    n = 200_000
    arm = np.zeros((1, n), dtype=np.int8)
    cured = event_times(_rng(7), arm, SurvivalModel.cure(0.3, 6.0))
    assert abs(np.mean(np.isinf(cured)) - 0.3) < 4 * math.sqrt(0.21 / n)
    # S(t) = exp(-(0.1 * min(t, 6) + 0.02 * max(t - 6, 0)))
    pw = event_times(_rng(8), arm, SurvivalModel.piecewise((0.0, 6.0), (0.1, 0.02)))
    for t in (3.0, 6.0, 20.0):
        s = math.exp(-(0.1 * min(t, 6.0) + 0.02 * max(t - 6.0, 0.0)))
        assert abs(np.mean(pw > t) - s) < 4 * math.sqrt(s * (1 - s) / n)


@pytest.mark.parametrize(
    "response",
    [
        ResponseModel(),
        ResponseModel(time_to_response_shape=2.5, duration_median_months=6.0),
        ResponseModel(confirmation=True, duration_median_months=10.0),
    ],
)
def test_detection_probability_integral_matches_simulated_patients(
    response: ResponseModel,
) -> None:
    spec = TrialSpec(response=response, dropout_rate_per_year=0.3)
    n = 400_000
    arm = np.zeros((1, n), dtype=np.int8)
    strata = np.zeros((1, n), dtype=np.int64)
    rng = _rng(9)
    dropout = rng.exponential(12.0 / 0.3, (1, n))
    known = response_outcomes(rng, arm, strata, dropout, spec, (1.0, 1.0))
    c = detection_probability(spec)
    assert abs(np.mean(np.isfinite(known)) - c) < 4 * math.sqrt(c * (1 - c) / n)


# --- decision rules against the scalar interval functions ----------------------------------


def _tables(seed: int, size: int) -> tuple[np.ndarray, ...]:
    rng = _rng(seed)
    n1 = rng.integers(1, 60, size)
    n2 = rng.integers(1, 60, size)
    return rng.integers(0, n1 + 1), n1, rng.integers(0, n2 + 1), n2


@pytest.mark.parametrize("method", ["miettinen-nurminen", "newcombe", "wald", "agresti-caffo"])
@pytest.mark.parametrize("hypothesis", ["equivalence", "non-inferiority"])
def test_difference_decisions_match_difference_ci(method: str, hypothesis: str) -> None:
    analysis = Analysis(
        hypothesis=hypothesis, scale="difference", lower_margin=-0.2, upper_margin=0.25,
        method=method, level=0.9, interims=(),
    )  # fmt: skip
    x1, n1, x2, n2 = _tables(10, 400)
    got = conclude(x1, n1, x2, n2, analysis)
    for i in range(x1.size):
        ci = difference_ci(int(x1[i]), int(n1[i]), int(x2[i]), int(n2[i]), level=0.9, method=method)
        want = ci.lower > -0.2 and (hypothesis == "non-inferiority" or ci.upper < 0.25)
        assert got[i] == want, (x1[i], n1[i], x2[i], n2[i], ci)


@pytest.mark.parametrize("method", ["miettinen-nurminen", "log"])
def test_ratio_decisions_match_ratio_ci(method: str) -> None:
    analysis = Analysis(scale="ratio", lower_margin=0.7, upper_margin=1.45, method=method)
    x1, n1, x2, n2 = _tables(11, 400)
    got = conclude(x1, n1, x2, n2, analysis)
    for i in range(x1.size):
        ci = ratio_ci(int(x1[i]), int(n1[i]), int(x2[i]), int(n2[i]), level=0.9, method=method)
        assert got[i] == (ci.lower > 0.7 and ci.upper < 1.45), (x1[i], n1[i], x2[i], n2[i], ci)


def test_decision_with_an_empty_arm_is_no_conclusion() -> None:
    z = np.array([0])
    assert not conclude(z, z, np.array([3]), np.array([9]), Analysis())[0]


# --- log-rank -------------------------------------------------------------------------------


def test_logrank_rows_match_lifelines_logrank_test() -> None:
    rng = _rng(12)
    rows, n = 5, 120
    time_ = rng.exponential(10.0, (rows, n))
    event = rng.random((rows, n)) < 0.7
    group = (rng.random((rows, n)) < 0.5).astype(np.int8)
    u, v = logrank_rows(time_, event, group)
    for r in range(rows):
        g = group[r] == 1
        res = logrank_test(time_[r, g], time_[r, ~g], event[r, g], event[r, ~g])
        # lifelines reports the chi-square U^2 / V (distinct times: no tie correction)
        assert u[r] ** 2 / v[r] == pytest.approx(res.test_statistic, rel=1e-9)
