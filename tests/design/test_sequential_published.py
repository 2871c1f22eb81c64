"""equitrial.design.sequential against published tables.

Sources (quoted in the published sources named below, "Group-sequential boundaries"):

- rpact 3.3.4 table, equally spaced looks, one-sided alpha = 0.025, 80 % power: z-boundaries
  and inflation factors printed to 4 decimals (tolerance 5e-5 absolute), cumulative alpha spent
  to 6 decimals (5e-7 absolute).
- Jennison & Turnbull (2000) values reproduced in keaven/gsDesign
  tests/testthat/test-outputs.R: two-sided O'Brien–Fleming, K = 4, alpha = 0.05
  (4.05, 2.86, 2.34, 2.02; 2 decimals, 5e-3); maximum information x1.028 (OF, K = 5) and
  x1.202 (Pocock, K = 4) for 80 % power (3 decimals, 5e-4); unadjusted repeated testing at
  z = 1.96 with cumulative one-sided alpha 0.042 (K = 2), 0.063 (4), 0.097 (10), 0.124 (20)
  (3 decimals, 5e-4).
"""

from __future__ import annotations

import numpy as np
import pytest

from equitrial.design.sequential import (
    Spending,
    boundaries,
    inflation_factor,
    stopping_probabilities,
)

Z_ATOL_4DP = 5e-5
ALPHA_ATOL_6DP = 5e-7

# (spending, K, z boundaries, cumulative alpha spent (interim looks), inflation factor)
RPACT_TABLE = [
    ("obrien-fleming", 2, [2.9626, 1.9686], [0.001525], 1.0037),
    ("pocock", 2, [2.1570, 2.2010], [0.015503], 1.1226),
    ("obrien-fleming", 3, [3.7103, 2.5114, 1.9930], [0.000104, 0.006048], 1.0128),
    ("pocock", 3, [2.2794, 2.2949, 2.2959], [0.011321, 0.019085], 1.1704),
    ("classical-obrien-fleming", 2, [2.7965, 1.9774], [0.002583], 1.0078),
    ("classical-obrien-fleming", 3, [3.4711, 2.4544, 2.0040], [0.000259, 0.007160], 1.0174),
    ("classical-pocock", 2, [2.1783, 2.1783], [0.014693], 1.1104),
    ("classical-pocock", 3, [2.2895, 2.2895, 2.2895], [0.011026, 0.018969], 1.1664),
]


def _equal(k: int) -> np.ndarray:
    return np.arange(1, k + 1) / k


@pytest.mark.parametrize(
    ("spending", "k", "z", "spent", "inflation"),
    RPACT_TABLE,
    ids=[f"{row[0]}-K{row[1]}" for row in RPACT_TABLE],
)
def test_boundaries_match_rpact_published_table(
    spending: Spending, k: int, z: list[float], spent: list[float], inflation: float
) -> None:
    design = boundaries(_equal(k), alpha=0.025, spending=spending)
    np.testing.assert_allclose(design.critical_values, z, rtol=0, atol=Z_ATOL_4DP)
    np.testing.assert_allclose(design.alpha_spent, [*spent, 0.025], rtol=0, atol=ALPHA_ATOL_6DP)
    assert inflation_factor(design, power=0.8) == pytest.approx(inflation, abs=Z_ATOL_4DP)


def test_classical_obrien_fleming_matches_jennison_turnbull_two_sided_k4() -> None:
    # Two-sided alpha 0.05 with a symmetric boundary; the lower boundary crossing adds only
    # ~1e-9 under H0, so the one-sided classical design at 0.025 reproduces it.
    design = boundaries(_equal(4), alpha=0.025, spending="classical-obrien-fleming")
    np.testing.assert_allclose(design.critical_values, [4.05, 2.86, 2.34, 2.02], atol=5e-3, rtol=0)


@pytest.mark.parametrize(
    ("spending", "k", "ratio"),
    [("classical-obrien-fleming", 5, 1.028), ("classical-pocock", 4, 1.202)],
)
def test_inflation_factor_matches_jennison_turnbull_maximum_information(
    spending: Spending, k: int, ratio: float
) -> None:
    design = boundaries(_equal(k), alpha=0.025, spending=spending)
    assert inflation_factor(design, power=0.8) == pytest.approx(ratio, abs=5e-4)


@pytest.mark.parametrize(("k", "level"), [(2, 0.042), (4, 0.063), (10, 0.097), (20, 0.124)])
def test_repeated_testing_at_1_96_matches_armitage_mcpherson_rowe(k: int, level: float) -> None:
    res = stopping_probabilities(np.full(k, 1.96), _equal(k))
    assert res.rejection == pytest.approx(level, abs=5e-4)
