"""The vectorized decision grid of exact power against the slow path, outcome by outcome.

Oracle: for every outcome ``(x1, x2)`` of a trial, ``equitrial.stats.proportions.difference_ci``
or ``ratio_ci`` followed by ``equitrial.stats.equivalence.assess`` — the analysis as it will be
run. The grid must agree on every outcome (no tolerance: a decision is a boolean). This checks
the score-statistic shortcut for the Miettinen-Nurminen intervals (``T(L) > z`` and
``T(U) < -z`` instead of the limits), its NaN/inf semantics, zero cells, ``x = n``, and the
strict containment of ``assess``, for two-sided, non-inferiority and non-superiority margins.

The default run covers a spread of sizes up to 15 per arm; ``-m slow`` runs every pair of sizes
from 1 to 15 per arm.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

from equitrial.design._sample_size_grid import pass_grid
from equitrial.stats._interval import Interval
from equitrial.stats.equivalence import Margin, assess
from equitrial.stats.proportions import difference_ci, ratio_ci

DIFFERENCE_MARGINS = (
    Margin("difference", -0.2, 0.2),  # bounds hit by estimates such as 2/5 - 1/5
    Margin("difference", -0.15, 0.3),
    Margin.non_inferiority("difference", -0.1),
    Margin.non_superiority("difference", 0.25),
)
RATIO_MARGINS = (
    Margin.symmetric_ratio(0.8),
    Margin("ratio", 0.5, 1.6),
    Margin.non_inferiority("ratio", 0.7),
    Margin.non_superiority("ratio", 1.5),
)
CASES = [("difference", m) for m in ("miettinen-nurminen", "newcombe", "wald", "agresti-caffo")]
CASES += [("ratio", m) for m in ("miettinen-nurminen", "log")]
LEVELS = (0.90, 0.95)
SOME_SIZES = ((1, 1), (2, 3), (5, 5), (7, 4), (10, 10), (15, 6), (9, 15))
ALL_SIZES = tuple(itertools.product(range(1, 16), repeat=2))


@functools.cache
def _intervals(scale: str, method: str, n1: int, n2: int, level: float) -> tuple[Interval, ...]:
    """Every outcome's interval from the public interval function, row-major in (x1, x2)."""
    ci = difference_ci if scale == "difference" else ratio_ci
    return tuple(
        ci(x1, n1, x2, n2, level=level, method=method)  # type: ignore[arg-type]
        for x1 in range(n1 + 1)
        for x2 in range(n2 + 1)
    )


def _check_all_outcomes(scale: str, method: str, sizes: tuple[tuple[int, int], ...]) -> int:
    margins = DIFFERENCE_MARGINS if scale == "difference" else RATIO_MARGINS
    passed = 0
    for (n1, n2), level, margin in itertools.product(sizes, LEVELS, margins):
        grid = pass_grid(
            np.arange(n1 + 1.0),
            n1,
            np.arange(n2 + 1.0),
            n2,
            margin=margin,
            method=method,
            level=level,  # type: ignore[arg-type]
        )
        slow = np.array(
            [assess(ci, margin).equivalent for ci in _intervals(scale, method, n1, n2, level)]
        ).reshape(n1 + 1, n2 + 1)
        diff = np.argwhere(grid != slow)
        assert diff.size == 0, (
            f"{method} {margin} n=({n1},{n2}) level={level}: outcomes (x1, x2) "
            f"{diff[:5].tolist()} differ; grid says {grid[tuple(diff[0])]}"
        )
        passed += int(slow.sum())
    return passed


@pytest.mark.parametrize(("scale", "method"), CASES)
def test_grid_matches_interval_and_assess_on_every_outcome(scale: str, method: str) -> None:
    passed = _check_all_outcomes(scale, method, SOME_SIZES)
    # the comparison must have seen both decisions, or it would prove little
    assert passed > 50


@pytest.mark.slow
@pytest.mark.parametrize(("scale", "method"), CASES)
def test_grid_matches_interval_and_assess_for_all_sizes_up_to_15(scale: str, method: str) -> None:
    assert _check_all_outcomes(scale, method, ALL_SIZES) > 1000


def test_ratio_grid_fails_the_outcome_without_events_for_every_margin() -> None:
    # x1 = x2 = 0: ratio_ci returns (0, inf) and assess fails it; the score is 0/0 there
    for margin, method in itertools.product(RATIO_MARGINS, ("miettinen-nurminen", "log")):
        grid = pass_grid(
            np.arange(21.0), 20, np.arange(21.0), 20, margin=margin, method=method, level=0.9
        )  # type: ignore[arg-type]
        assert not grid[0, 0]
        assert grid.any()


def test_wald_passes_its_zero_width_interval_at_zero_events() -> None:
    # Wald's known defect (Newcombe 1998): 0/n - 0/n gives the interval (0, 0), inside any margin
    grid = pass_grid(
        np.arange(6.0), 5, np.arange(6.0), 5, margin=DIFFERENCE_MARGINS[0], method="wald", level=0.9
    )
    assert grid[0, 0] and grid[5, 5]
    assert difference_ci(0, 5, 0, 5, level=0.9, method="wald").width == 0.0
    assert not math.isnan(difference_ci(0, 5, 0, 5, level=0.9, method="wald").lower)
