"""equitrial.design.sequential against rpact 3.3.4 (tests/reference/sequential.R -> .json).

Each case is one ``getDesignGroupSequential(...)`` call (its text is the test id) followed by
``getDesignCharacteristics(design)`` with rpact's default beta = 0.2.

Tolerances, as the project asks: 1e-6 absolute on z-values (critical values); 1e-6 relative
on alpha spent, stage levels, the inflation factor and the expected sample size ratios;
1e-6 absolute on stage-wise rejection / futility probabilities under H1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from equitrial.design.sequential import (
    GroupSequentialDesign,
    boundaries,
    inflation_factor,
    stopping_probabilities,
)

REF = json.loads((Path(__file__).parents[1] / "reference" / "sequential.json").read_text())
CASES = REF["designs"]
Z_ATOL = 1e-6
RTOL = 1e-6
P_ATOL = 1e-6


def _design(case: dict[str, Any]) -> GroupSequentialDesign:
    return boundaries(
        case["information_rates"],
        alpha=case["alpha"],
        spending=case["spending"],
        gamma=case["gamma"],
        futility_bounds=case["futility_bounds"],
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["call"])
def test_critical_values_match_rpact_get_design_group_sequential(case: dict[str, Any]) -> None:
    design = _design(case)
    np.testing.assert_allclose(design.critical_values, case["critical_values"], rtol=0, atol=Z_ATOL)
    np.testing.assert_allclose(design.stage_levels, case["stage_levels"], rtol=RTOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["call"])
def test_alpha_spent_matches_rpact_get_design_group_sequential(case: dict[str, Any]) -> None:
    design = _design(case)
    np.testing.assert_allclose(design.alpha_spent, case["alpha_spent"], rtol=RTOL)
    # the exit probabilities are integrated from the critical values, not copied from alpha_spent
    np.testing.assert_allclose(np.cumsum(design.exit_probabilities), case["alpha_spent"], rtol=RTOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["call"])
def test_inflation_factor_matches_rpact_get_design_characteristics(case: dict[str, Any]) -> None:
    assert inflation_factor(_design(case), power=0.8) == pytest.approx(
        case["inflation_factor"], rel=RTOL
    )


MULTI_LOOK = [c for c in CASES if len(c["information_rates"]) > 1]


@pytest.mark.parametrize("case", MULTI_LOOK, ids=lambda c: c["call"])
def test_stopping_probabilities_under_h1_match_rpact_get_design_characteristics(
    case: dict[str, Any],
) -> None:
    # rpact's shift is the maximum information theta^2 I_max, so the drift E[Z_K] is its root
    res = stopping_probabilities(
        case["critical_values"],
        case["information_rates"],
        drift=float(np.sqrt(case["shift"])),
        futility=case["futility_bounds"],
    )
    np.testing.assert_allclose(res.efficacy, case["rejection_probabilities"], rtol=0, atol=P_ATOL)
    np.testing.assert_allclose(res.futility, case["futility_probabilities"], rtol=0, atol=P_ATOL)
    assert res.rejection == pytest.approx(0.8, abs=P_ATOL)


@pytest.mark.parametrize("case", MULTI_LOOK, ids=lambda c: c["call"])
def test_expected_information_matches_rpact_average_sample_number(case: dict[str, Any]) -> None:
    # rpact's averageSampleNumber1/0 = inflation factor * E[information at stop] / I_max
    design = _design(case)
    factor = case["inflation_factor"]
    for drift, expected in (
        (float(np.sqrt(case["shift"])), case["average_sample_number_h1"]),
        (0.0, case["average_sample_number_h0"]),
    ):
        res = stopping_probabilities(
            design.critical_values,
            design.information_rates,
            drift=drift,
            futility=case["futility_bounds"],
        )
        assert factor * res.expected_information_rate == pytest.approx(expected, rel=RTOL)
