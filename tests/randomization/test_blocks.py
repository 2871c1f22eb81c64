"""Stratified permuted blocks: balance, permutation content, reproducibility, uniformity."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from equitrial.errors import InvalidInputError
from equitrial.randomization import (
    permuted_blocks,
    stratum_key,
    stratum_schedule,
    stratum_seed,
)
from equitrial.randomization.strata import parse_stratum_key

MELANOMA = "braf_v600=mutant;ecog_ps=0;m_stage_ldh=M0-M1b, normal LDH"


def _blocks(schedule):  # (block_number, size, arms in the block)
    by_block: dict[int, list[int]] = {}
    for block, arm in zip(schedule.block_numbers, schedule.arms, strict=True):
        by_block.setdefault(block, []).append(arm)
    return by_block


@given(
    ratio=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    multiples=st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True),
    n_slots=st.integers(1, 60),
    seed=st.integers(0, 2**32),
)
def test_every_block_is_a_permutation_of_the_ratio(ratio, multiples, n_slots, seed):
    sizes = [m * sum(ratio) for m in multiples]
    sched = stratum_schedule(seed, "s=1", n_slots, ratio=ratio, block_sizes=sizes)
    assert len(sched) >= n_slots
    for block, arms in _blocks(sched).items():
        size = len(arms)
        assert size in sizes
        expected = Counter({k: r * size // sum(ratio) for k, r in enumerate(ratio)})
        assert Counter(arms) == expected, f"block {block}"
    # Positions run 1..size within each block; the list ends with a complete block.
    for pos, block, size in zip(
        sched.positions, sched.block_numbers, sched.block_sizes, strict=True
    ):
        assert 1 <= pos <= size
        assert sched.block_numbers.count(block) == size
    assert list(sched.block_numbers) == sorted(sched.block_numbers)
    # Only the last block may extend past n_slots.
    assert sched.block_numbers[n_slots - 1] == sched.block_numbers[-1]


def test_balance_at_the_end_of_every_block_and_never_off_by_more_than_half_a_block():
    sched = stratum_schedule(7, MELANOMA, 500, ratio=(1, 1), block_sizes=(4, 6))
    arms = np.asarray(sched.arms)
    diff = np.cumsum(np.where(arms == 0, 1, -1))
    ends = np.flatnonzero(np.diff(np.append(sched.block_numbers, -1)) != 0)
    assert np.all(diff[ends] == 0)
    assert np.max(np.abs(diff)) <= 3  # half the largest block


def test_same_seed_and_stratum_give_the_same_list_whatever_else_is_generated():
    a = stratum_schedule(20240601, MELANOMA, 100, ratio=(1, 1), block_sizes=(4, 6))
    stratum_schedule(20240601, "other=1", 100, ratio=(1, 1), block_sizes=(4, 6))
    b = stratum_schedule(20240601, MELANOMA, 100, ratio=(1, 1), block_sizes=(4, 6))
    assert a == b


def test_different_seeds_and_different_strata_give_different_lists():
    base = stratum_schedule(1, MELANOMA, 100, ratio=(1, 1), block_sizes=(4, 6))
    other_seed = stratum_schedule(2, MELANOMA, 100, ratio=(1, 1), block_sizes=(4, 6))
    other_stratum = stratum_schedule(
        1, MELANOMA.replace("ecog_ps=0", "ecog_ps=1"), 100, ratio=(1, 1), block_sizes=(4, 6)
    )
    assert base.arms[:100] != other_seed.arms[:100]
    assert base.arms[:100] != other_stratum.arms[:100]
    # The per-stratum streams are distinct seed sequences (SHA-256 spawn keys).
    assert stratum_seed(1, "a=1").spawn_key != stratum_seed(1, "a=2").spawn_key


def test_block_sizes_are_uniform_by_chi_square():
    # 4,000 blocks over 40 strata; under uniform sizes the statistic is chi-square(2).
    sizes = []
    for s in range(40):
        sched = stratum_schedule(99, f"site={s}", 500, ratio=(1, 1), block_sizes=(4, 6, 8))
        sizes += [sched.block_sizes[i] for i in range(len(sched)) if sched.positions[i] == 1]
    counts = [sizes.count(b) for b in (4, 6, 8)]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_orders_within_a_block_are_uniform_over_the_six_permutations_of_aabb():
    rng = np.random.default_rng(5)
    sched = permuted_blocks(rng, 6000, ratio=(1, 1), block_sizes=(4,))
    orders = Counter(tuple(sched.arms[i : i + 4]) for i in range(0, len(sched), 4))
    perms = set(itertools.permutations((0, 0, 1, 1)))
    assert set(orders) == perms
    assert stats.chisquare([orders[p] for p in sorted(perms)]).pvalue > 1e-3


def test_fixed_sizes_cycle_in_the_order_given():
    rng = np.random.default_rng(0)
    sched = permuted_blocks(rng, 20, ratio=(2, 1), block_sizes=(3, 6), random_sizes=False)
    starts = [sched.block_sizes[i] for i in range(len(sched)) if sched.positions[i] == 1]
    assert starts == [3, 6, 3, 6, 3]


def test_stratum_key_is_canonical():
    assert stratum_key({"b": "2", "a": "x y, z"}) == "a=x y, z;b=2"
    assert stratum_key({"a": "x y, z", "b": "2"}) == stratum_key({"b": "2", "a": "x y, z"})
    assert stratum_key({}) == ""


@pytest.mark.parametrize(
    ("levels", "field"),
    [({"a": ""}, "strata.a"), ({"a": "1;b=2"}, "strata.a"), ({"a=b": "1"}, "strata.a=b")],
)
def test_stratum_key_refuses_separators_and_empty_levels(levels, field):
    with pytest.raises(InvalidInputError) as err:
        stratum_key(levels)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ratio": (1, 1), "block_sizes": (3,)}, "block_sizes"),
        ({"ratio": (1, 1), "block_sizes": ()}, "block_sizes"),
        ({"ratio": (1,), "block_sizes": (2,)}, "allocation_ratio"),
        ({"ratio": (1, 0), "block_sizes": (2,)}, "allocation_ratio"),
        ({"ratio": (1, 1), "block_sizes": (4,), "n_slots": 0}, "n_slots"),
        ({"ratio": (1, 1), "block_sizes": (4,), "seed": -1}, "seed"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"seed": 1, "stratum": "s=1", "n_slots": 10, **kwargs}
    with pytest.raises(InvalidInputError) as err:
        stratum_schedule(args.pop("seed"), args.pop("stratum"), args.pop("n_slots"), **args)
    assert err.value.field == field


def test_a_stratum_key_parses_back_to_its_levels():
    levels = {"m_stage_ldh": "M1c or elevated LDH", "braf_v600": "wild-type", "ecog_ps": "1"}
    assert parse_stratum_key(stratum_key(levels)) == levels
    assert parse_stratum_key("") == {}
