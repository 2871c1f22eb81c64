"""Pocock–Simon minimization against a brute-force oracle and its balancing properties."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.randomization import (
    level_counts,
    minimization_probabilities,
    minimization_scores,
    minimize,
)

FACTORS = {"braf": ("mutant", "wild-type"), "ecog": ("0", "1"), "ldh": ("normal", "high")}


def _oracle_scores(history, levels, ratio, weights, imbalance):
    """Pocock & Simon (1975) section 3 written out: recount every marginal total from scratch."""
    scores = []
    for candidate in range(len(ratio)):
        total = 0.0
        for (factor, level), w in zip(levels.items(), weights, strict=True):
            counts = [0.0] * len(ratio)
            for earlier, arm in [*history, (levels, candidate)]:
                if earlier[factor] == level:
                    counts[arm] += 1
            adjusted = [c / r for c, r in zip(counts, ratio, strict=True)]
            if imbalance == "range":
                total += w * (max(adjusted) - min(adjusted))
            else:
                total += w * statistics.pvariance(adjusted)
        scores.append(total)
    return scores


def _patients(rng, n):
    return [{f: str(rng.choice(levels)) for f, levels in FACTORS.items()} for _ in range(n)]


def _run(rng, patients, *, ratio=(1, 1), p_best=0.8, imbalance="range", weights=None):
    history = []
    for levels in patients:
        counts = level_counts(history, levels, list(FACTORS), len(ratio))
        decision = minimize(
            rng, counts, ratio=ratio, p_best=p_best, weights=weights, imbalance=imbalance
        )
        history.append((levels, decision.arm))
    return history


@given(
    seed=st.integers(0, 2**32),
    ratio=st.sampled_from([(1, 1), (2, 1), (1, 2, 1)]),
    imbalance=st.sampled_from(["range", "variance"]),
    weights=st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=3, max_size=3),
)
def test_scores_match_a_brute_force_recount(seed, ratio, imbalance, weights):
    rng = np.random.default_rng(seed)
    patients = _patients(rng, 25)
    history = [(p, int(rng.integers(len(ratio)))) for p in patients[:-1]]
    new = patients[-1]
    counts = level_counts(history, new, list(FACTORS), len(ratio))
    got = minimization_scores(counts, ratio=ratio, weights=weights, imbalance=imbalance)
    np.testing.assert_allclose(
        got, _oracle_scores(history, new, ratio, weights, imbalance), rtol=1e-12
    )


def test_deterministic_minimization_always_picks_a_least_imbalance_arm():
    rng = np.random.default_rng(11)
    patients = _patients(rng, 200)
    history = _run(rng, patients, p_best=1.0)
    for i, (levels, arm) in enumerate(history):
        oracle = _oracle_scores(history[:i], levels, (1, 1), [1, 1, 1], "range")
        assert oracle[arm] == min(oracle), f"patient {i}"


def test_one_factor_deterministic_minimization_keeps_every_level_within_one():
    # With a single factor and p_best = 1 minimization is permuted blocks of 2 within each level.
    rng = np.random.default_rng(3)
    diff = {"mutant": 0, "wild-type": 0}
    history = []
    for _ in range(300):
        levels = {"braf": str(rng.choice(FACTORS["braf"]))}
        counts = level_counts(history, levels, ["braf"], 2)
        arm = minimize(rng, counts, ratio=(1, 1), p_best=1.0).arm
        history.append((levels, arm))
        diff[levels["braf"]] += 1 if arm == 0 else -1
        assert abs(diff[levels["braf"]]) <= 1


def _max_marginal_imbalance(history):
    worst = 0
    for factor, levels in FACTORS.items():
        for level in levels:
            arms = [arm for p, arm in history if p[factor] == level]
            worst = max(worst, abs(arms.count(0) - arms.count(1)))
    return worst


def test_marginal_imbalance_is_far_smaller_than_under_simple_randomization():
    # Pocock & Simon (1975), section 5: minimization keeps every marginal total nearly balanced,
    # where simple randomization's imbalance grows like sqrt(n). 100 trials of 100 patients.
    rng = np.random.default_rng(2024)
    mini, simple = [], []
    for _ in range(100):
        patients = _patients(rng, 100)
        mini.append(_max_marginal_imbalance(_run(rng, patients, p_best=0.8)))
        simple.append(_max_marginal_imbalance([(p, int(rng.integers(2))) for p in patients]))
    # Observed means about 2.3 vs 10.2; the bound leaves room for another seed's noise.
    assert np.mean(mini) < 0.35 * np.mean(simple)
    assert np.percentile(mini, 90) < np.percentile(simple, 10)


def test_the_best_arm_is_chosen_with_probability_p_best():
    rng = np.random.default_rng(8)
    counts = np.array([[5, 3], [2, 2], [7, 4]])  # arm 1 is strictly better
    arms = [minimize(rng, counts, ratio=(1, 1), p_best=0.75).arm for _ in range(4000)]
    assert stats.binomtest(arms.count(1), 4000, 0.75).pvalue > 1e-3


def test_probabilities_follow_the_ratio_on_ties_and_p_best_otherwise():
    np.testing.assert_allclose(
        minimization_probabilities([1.0, 1.0, 1.0], ratio=(1, 2, 1), p_best=0.9),
        [0.25, 0.5, 0.25],
    )
    np.testing.assert_allclose(
        minimization_probabilities([0.0, 0.0, 2.0], ratio=(1, 1, 1), p_best=0.9),
        [0.45, 0.45, 0.1],
    )


def test_same_generator_state_gives_the_same_sequence():
    patients = _patients(np.random.default_rng(0), 50)
    a = _run(np.random.default_rng(42), patients)
    b = _run(np.random.default_rng(42), patients)
    c = _run(np.random.default_rng(43), patients)
    assert a == b
    assert a != c


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"counts": [[1, 2, 3]]}, InvalidInputError, "counts"),
        ({"counts": [[-1, 2]]}, InvalidInputError, "counts"),
        ({"weights": [1.0, 0.0]}, InvalidInputError, "weights"),
        ({"p_best": 0.5}, InvalidInputError, "p_best"),
        ({"imbalance": "max"}, UnknownOptionError, "imbalance"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, error, field):
    args = {"counts": [[1, 2], [0, 0]], "ratio": (1, 1), "p_best": 0.8, **kwargs}
    with pytest.raises(error) as err:
        minimize(np.random.default_rng(0), args.pop("counts"), **args)
    assert err.value.field == field
