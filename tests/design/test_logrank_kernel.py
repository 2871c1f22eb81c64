"""The blocked float32-key kernel gives the same numbers, to the last bit, as a plain oracle.

The oracle draws the same random numbers and, per look, calls ``logrank_rows`` on the whole
chunk in float64 (the kernel before blocking): obviously correct, and slower.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from equitrial.design import _sim_logrank_kernel as kernel
from equitrial.design._sim_logrank import logrank_rows, logrank_z

CRITICAL = np.array([2.962588, 1.968596])


def _design(pi2: float, uniform: bool, n: int = 300) -> kernel.Design:
    rate = -math.log(0.6) / 12.0
    return (n, 12.0, rate, -math.log(1.0 - pi2) / 12.0, (n // 3, 2 * n // 3), uniform)


def _oracle(
    rng: np.random.Generator, n_rows: int, design: kernel.Design
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Z ``(n_rows, K)`` and look times, in float64, one ``logrank_rows`` call per look."""
    n, accrual_time, rate1, rate2, events, uniform = design
    if uniform:
        entry = rng.uniform(0.0, accrual_time, (n_rows, n))
    else:
        entry = np.broadcast_to(accrual_time * np.arange(1, n + 1) / n, (n_rows, n))
    group = (np.arange(n) % 2 == 0).astype(np.int8)
    survival = rng.standard_exponential((n_rows, n)) * np.where(group == 1, 1 / rate1, 1 / rate2)
    calendar = survival + entry
    ordered = np.sort(calendar, axis=1)
    z = np.empty((n_rows, len(events)))
    looks = np.empty((n_rows, len(events)))
    for k, d in enumerate(events):
        look = ordered[:, d - 1 : d]
        observed = np.minimum(look - entry, survival)
        z[:, k] = logrank_z(*logrank_rows(observed, calendar <= look, group))
        looks[:, k] = look[:, 0]
    return z, looks


def _first(z: NDArray[np.float64]) -> NDArray[np.bool_]:
    crossed = z >= CRITICAL
    return crossed & (np.cumsum(crossed, axis=1) == 1)


@pytest.mark.parametrize("uniform", [False, True])
@pytest.mark.parametrize("pi2", [0.4, 0.3])
@pytest.mark.parametrize("n_rows", [700, 256, 1])
def test_kernel_equals_the_float64_oracle(n_rows: int, pi2: float, uniform: bool) -> None:
    design = _design(pi2, uniform)
    first, looks = kernel.survival_chunk(np.random.default_rng(11), n_rows, design, CRITICAL)
    z, want_looks = _oracle(np.random.default_rng(11), n_rows, design)
    np.testing.assert_array_equal(looks, want_looks)
    np.testing.assert_array_equal(first, _first(z))


def test_rows_recomputed_in_float64_give_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every row sent down the float64 path (the one taken for float32 near-ties)."""
    design = _design(0.3, False)
    monkeypatch.setattr(kernel, "_NEAR", 2**32 - 1)
    first, looks = kernel.survival_chunk(np.random.default_rng(5), 300, design, CRITICAL)
    z, want_looks = _oracle(np.random.default_rng(5), 300, design)
    np.testing.assert_array_equal(looks, want_looks)
    np.testing.assert_array_equal(first, _first(z))


def test_z_to_the_last_bit() -> None:
    """The statistics themselves, not only the decisions: critical values at each Z."""
    design = _design(0.3, True, n=120)
    z, _ = _oracle(np.random.default_rng(3), 400, design)
    for k in range(z.shape[1]):
        for c in (z[:, k].min(), float(np.median(z[:, k])), z[:, k].max()):
            crit = CRITICAL.copy()
            crit[k] = c
            got, _ = kernel.survival_chunk(np.random.default_rng(3), 400, design, crit)
            crossed = z >= crit
            np.testing.assert_array_equal(got, crossed & (np.cumsum(crossed, axis=1) == 1))


def test_group1_events_counts_even_columns() -> None:
    rng = np.random.default_rng(2)
    event = rng.random((50, 300)) < 0.9
    np.testing.assert_array_equal(
        kernel._group1_events(event), np.count_nonzero(event[:, 0::2], axis=1)
    )
