"""Bad input to equitrial.stats.proportions raises an equitrial.errors error naming the argument."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats.proportions import (
    binomial_ci,
    cmh_test,
    difference_ci,
    ratio_ci,
    stratified_difference_ci,
)

BAD_COUNTS = [
    # (x, n, argument at fault, words in the message)
    (6, 5, "x", "between 0 and"),
    (-1, 5, "x", "between 0 and"),
    (2.5, 5, "x", "whole number"),
    (2, 5.5, "n", "whole number"),
    (0, 0, "n", "at least 1"),
    (0, -3, "n", "at least 1"),
    (float("nan"), 5, "x", "whole number"),
    (None, 5, "x", "whole number"),
    (True, 5, "x", "whole number"),
]


@pytest.mark.parametrize(("x", "n", "field", "words"), BAD_COUNTS)
def test_binomial_ci_rejects_bad_counts(x: Any, n: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"^{field} .*{words}") as info:
        binomial_ci(x, n)
    assert info.value.field == field


TWO_ARM_FUNCTIONS: list[Callable[..., Any]] = [difference_ci, ratio_ci]


@pytest.mark.parametrize("func", TWO_ARM_FUNCTIONS)
@pytest.mark.parametrize(("x", "n", "field", "words"), BAD_COUNTS)
@pytest.mark.parametrize("arm", [1, 2])
def test_two_arm_functions_name_the_arm_at_fault(
    func: Callable[..., Any], x: Any, n: Any, field: str, words: str, arm: int
) -> None:
    args = [3, 10, 4, 10]
    args[2 * (arm - 1)] = x
    args[2 * (arm - 1) + 1] = n
    with pytest.raises(InvalidInputError, match=rf"^{field}{arm} .*{words}") as info:
        func(*args)
    assert info.value.field == f"{field}{arm}"


ALL_CALLS: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
    (binomial_ci, (3, 10)),
    (difference_ci, (3, 10, 4, 10)),
    (ratio_ci, (3, 10, 4, 10)),
    (stratified_difference_ci, ([3, 2], [10, 8], [4, 1], [10, 9])),
]


@pytest.mark.parametrize(("func", "args"), ALL_CALLS)
@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, 95, float("nan"), "high", None])
def test_level_outside_open_unit_interval_is_rejected(
    func: Callable[..., Any], args: tuple[Any, ...], level: Any
) -> None:
    with pytest.raises(InvalidInputError, match=r"^level ") as info:
        func(*args, level=level)
    assert info.value.field == "level"


@pytest.mark.parametrize(("func", "args"), ALL_CALLS)
@pytest.mark.parametrize("method", ["score", "Wilson", "", None, "mn"])
def test_unknown_method_is_rejected_with_the_choices(
    func: Callable[..., Any], args: tuple[Any, ...], method: Any
) -> None:
    with pytest.raises(UnknownOptionError, match=r"unknown method .*expected one of") as info:
        func(*args, method=method)
    assert info.value.field == "method"
    assert isinstance(info.value, ValueError)


def test_ratio_method_names_are_not_difference_method_names() -> None:
    with pytest.raises(UnknownOptionError, match="'newcombe'"):
        ratio_ci(3, 10, 4, 10, method="newcombe")  # type: ignore[arg-type]


STRATA_FUNCTIONS: list[Callable[..., Any]] = [stratified_difference_ci, cmh_test]


@pytest.mark.parametrize("func", STRATA_FUNCTIONS)
def test_strata_of_different_lengths_are_rejected_naming_the_arguments(
    func: Callable[..., Any],
) -> None:
    with pytest.raises(InvalidInputError, match=r"same length: x1 has 2, n1 has 3"):
        func([1, 2], [5, 6, 7], [1, 2, 3], [5, 6, 7])


@pytest.mark.parametrize("func", STRATA_FUNCTIONS)
def test_no_strata_is_rejected(func: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInputError, match=r"^x1 needs at least 1") as info:
        func([], [], [], [])
    assert info.value.field == "x1"


@pytest.mark.parametrize("func", STRATA_FUNCTIONS)
def test_a_scalar_instead_of_strata_is_rejected(func: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInputError, match=r"^x1 must be one-dimensional"):
        func(3, 10, 4, 10)


@pytest.mark.parametrize("func", STRATA_FUNCTIONS)
@pytest.mark.parametrize(
    ("position", "value", "field", "words"),
    [
        (0, 11, "x1[1]", "between 0 and"),
        (1, 0, "n1[1]", "at least 1"),
        (2, -1, "x2[1]", "between 0 and"),
        (3, 7.5, "n2[1]", "whole number"),
        (0, "three", "x1[1]", "whole number"),
    ],
)
def test_a_bad_count_names_the_argument_and_stratum(
    func: Callable[..., Any], position: int, value: Any, field: str, words: str
) -> None:
    args: list[list[Any]] = [[3, 4], [10, 10], [4, 5], [10, 10]]
    args[position][1] = value
    with pytest.raises(InvalidInputError, match=rf"^{re.escape(field)} .*{words}") as info:
        func(*args)
    assert info.value.field == field


def test_cmh_confidence_interval_checks_its_level() -> None:
    res = cmh_test([3, 4], [10, 10], [4, 5], [10, 10])
    with pytest.raises(InvalidInputError, match=r"^level "):
        res.confidence_interval(1.0)
