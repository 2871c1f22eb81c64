"""The joint design of the three-interim example against rpact 3.3.4.

Expected values: ``tests/reference/design_joint.json``, written by ``tests/reference/
design_joint.R`` (the exact rpact calls are in the JSON's ``call``). Tolerances: 1e-6 absolute
on z-values, crossing probabilities and information rates, 1e-6 relative on alpha spent, stage
levels and the inflation factor (rpact's own precision; its last cumulative alpha is printed as
0.04999999), 1e-9 relative on the drifts (the same closed form in both languages).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from equitrial.protocol import load_protocol
from equitrial.services._design_sequential import SequentialSummary, sequential_summary

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "design_joint.json").read_text())
THREE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol-three-interims.toml"


@pytest.fixture(scope="module")
def summary() -> SequentialSummary:
    return sequential_summary(
        load_protocol(THREE),
        fixed_evaluable=(365, 365),
        allocation=(1, 1),
        dropout=0.0,
        planned=(150, 150),
    )


def test_boundaries_alpha_spent_and_stage_levels_match_rpact(summary: SequentialSummary) -> None:
    d = summary.design
    assert d is not None
    np.testing.assert_allclose(d.information_rates, REF["information_rates"], atol=1e-12)
    np.testing.assert_allclose(d.critical_values, REF["critical_values"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(d.alpha_spent, REF["cumulative_alpha_spent"], rtol=1e-6)
    np.testing.assert_allclose(d.stage_levels, REF["stage_levels"], rtol=1e-6)


def test_inflation_factor_and_inflated_size_match_rpact(summary: SequentialSummary) -> None:
    assert summary.inflation_factor == pytest.approx(REF["inflation_factor"], rel=1e-6)
    # 365 x 1.028874 = 375.54, rounded up to the 1:1 allocation: 376 per arm
    assert summary.inflated_evaluable_per_arm == (376, 376)


def test_stopping_probabilities_and_expected_size_match_rpact(
    summary: SequentialSummary,
) -> None:
    ours = {(c.name, t.test): t for c in summary.scenarios for t in c.tests}
    assert len(ours) == len(REF["scenarios"]) == 6
    for ref in REF["scenarios"]:
        t = ours[(ref["scenario"], ref["test"])]
        assert t.drift == pytest.approx(ref["drift"], rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(
            t.probabilities.efficacy, ref["reject_per_stage"], rtol=0, atol=1e-6
        )
        assert t.probabilities.rejection == pytest.approx(ref["overall_reject"], abs=1e-6)
        assert t.probabilities.expected_information_rate == pytest.approx(
            ref["expected_information_rate"], abs=1e-6
        )
        assert t.expected_evaluable == pytest.approx(
            300 * ref["expected_information_rate"], abs=3e-4
        )


def test_formal_looks_carry_the_joint_boundaries(summary: SequentialSummary) -> None:
    formal = [x for x in summary.looks if x.formal]
    assert [x.name for x in formal] == ["first quarter", "half", "three quarters", "final"]
    for x, c in zip(formal, REF["critical_values"], strict=True):
        assert x.critical_value == pytest.approx(c, abs=1e-6)
