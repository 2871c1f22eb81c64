"""equitrial.stats.proportions against published tables (see the published sources named below).

Tolerance: the printed decimals. A published 4-decimal value must equal ours rounded to 4
decimals (3 decimals likewise).
"""

from __future__ import annotations

import pytest

from equitrial.stats.proportions import binomial_ci, difference_ci, ratio_ci

# Newcombe RG. Interval estimation for the difference between independent proportions:
# comparison of eleven methods. Stat Med 1998;17:873-890, Table II (95% intervals).
# Columns: Wald, Miettinen-Nurminen score, hybrid score (Newcombe's method 10).
NEWCOMBE_1998_TABLE_II = [
    # (x1, n1, x2, n2), wald, miettinen-nurminen, newcombe
    ((56, 70, 48, 80), (0.0575, 0.3425), (0.0528, 0.3382), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.2605, 0.9395), (0.1700, 0.8406), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (0.0146, 0.1640), (-0.0326, 0.1933), (-0.0381, 0.1926)),
    ((10, 10, 0, 20), (1.0, 1.0), (0.7156, 1.0), (0.6791, 1.0)),
]


@pytest.mark.parametrize(("counts", "wald", "mn", "hybrid"), NEWCOMBE_1998_TABLE_II)
def test_difference_matches_newcombe_1998_table_ii(
    counts: tuple[int, int, int, int],
    wald: tuple[float, float],
    mn: tuple[float, float],
    hybrid: tuple[float, float],
) -> None:
    for method, want in [("wald", wald), ("miettinen-nurminen", mn), ("newcombe", hybrid)]:
        res = difference_ci(*counts, method=method)  # type: ignore[arg-type]
        assert (round(res.lower, 4), round(res.upper, 4)) == want, method


def test_mn_difference_upper_limit_is_exactly_one_for_10_of_10_vs_0_of_20() -> None:
    # Newcombe 1998 Table II, case 4: the MN (and hybrid) upper limit is 1 itself
    assert difference_ci(10, 10, 0, 20).upper == 1.0
    assert difference_ci(0, 20, 10, 10).lower == -1.0
    assert difference_ci(10, 10, 0, 20, method="newcombe").upper == 1.0


# Agresti-Caffo values for Newcombe's cases 1 and 2 (statistics.md; Agresti A, Caffo B,
# Am Stat 2000;54:280-288 define the method).
@pytest.mark.parametrize(
    ("counts", "want"),
    [((56, 70, 48, 80), (0.0525, 0.3358)), ((9, 10, 3, 10), (0.1600, 0.8400))],
)
def test_agresti_caffo_matches_published_values(
    counts: tuple[int, int, int, int], want: tuple[float, float]
) -> None:
    res = difference_ci(*counts, method="agresti-caffo")
    assert (round(res.lower, 4), round(res.upper, 4)) == want


# Miettinen-Nurminen score interval for the ratio, 95%: Fagerland & Newcombe's examples as used
# in the tests of the R package ratesci (statistics.md), 3 decimals.
@pytest.mark.parametrize(
    ("counts", "want"),
    [
        ((24, 73, 53, 65), (0.280, 0.560)),
        ((29, 55, 11, 11), (0.397, 0.742)),
        ((7, 18, 1, 18), (1.296, 42.544)),
    ],
)
def test_ratio_mn_matches_fagerland_newcombe_examples(
    counts: tuple[int, int, int, int], want: tuple[float, float]
) -> None:
    res = ratio_ci(*counts)
    assert (round(res.lower, 3), round(res.upper, 3)) == want


def test_ratio_mn_matches_statsmodels_score_ratio_56_70_vs_48_80() -> None:
    # statistics.md: statsmodels' ratio score interval (reported correct, unlike its difference)
    # gives (1.0790, 1.6721) for 56/70 vs 48/80
    res = ratio_ci(56, 70, 48, 80)
    assert (round(res.lower, 4), round(res.upper, 4)) == (1.0790, 1.6721)


# Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Stat Med 1998;17:857-872 (95% intervals): Wilson score, score with continuity
# correction, Clopper-Pearson.
NEWCOMBE_1998A = [
    ((15, 148), (0.0624, 0.1605), (0.0598, 0.1644), (0.0578, 0.1617)),
    ((0, 20), (0.0, 0.1611), (0.0, 0.2005), (0.0, 0.1684)),
    ((1, 29), (0.0061, 0.1718), (0.0018, 0.1963), (0.0009, 0.1776)),
]


@pytest.mark.parametrize(("counts", "wilson", "wilson_cc", "exact"), NEWCOMBE_1998A)
def test_single_proportion_matches_newcombe_1998a(
    counts: tuple[int, int],
    wilson: tuple[float, float],
    wilson_cc: tuple[float, float],
    exact: tuple[float, float],
) -> None:
    for method, want in [("wilson", wilson), ("wilson-cc", wilson_cc), ("clopper-pearson", exact)]:
        res = binomial_ci(*counts, method=method)  # type: ignore[arg-type]
        assert (round(res.lower, 4), round(res.upper, 4)) == want, method
