"""The group-sequential log-rank kernel against rpact 3.3.4's getSimulationSurvival.

Reference: tests/reference/simulate.json, written by tests/reference/simulate.R (the R calls
are in the file). Both are Monte-Carlo estimates: they must agree within 4 standard errors of
their difference, sqrt(se_ours^2 + se_rpact^2).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from equitrial.design.simulate import simulate_survival_gs
from equitrial.errors import InvalidInputError

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "simulate.json").read_text())


def _agree(ours: float, ours_n: int, theirs: float, theirs_n: int) -> None:
    se = math.sqrt(ours * (1 - ours) / ours_n + theirs * (1 - theirs) / theirs_n)
    assert abs(ours - theirs) < 4 * se, (ours, theirs, se)


@pytest.mark.parametrize("block", ["survival_null", "survival_alternative"])
def test_rejection_rates_agree_with_rpact_get_simulation_survival(block: str) -> None:
    ref = REFERENCE[block]
    res = simulate_survival_gs(
        pi1=ref["pi1"],
        pi2=ref["pi2"],
        critical_values=REFERENCE["design"]["critical_values"],
        replicates=20_000,
        seed=7,
    )
    _agree(res.overall_reject, res.replicates, ref["overall_reject"], ref["iterations"])
    for ours, theirs in zip(res.reject_per_stage, ref["reject_per_stage"], strict=True):
        _agree(ours, res.replicates, theirs, ref["iterations"])
    # mean calendar time of each look (rpact's analysisTime): within 1% (their SD is ~1 month)
    for ours, theirs in zip(res.mean_analysis_time, ref["analysis_time"], strict=True):
        assert ours == pytest.approx(theirs, rel=0.01)


def test_default_boundaries_come_from_design_sequential_and_match_rpact() -> None:
    res = simulate_survival_gs(replicates=2_000, seed=1)
    assert res.critical_values == pytest.approx(REFERENCE["design"]["critical_values"], rel=1e-6)


def test_same_seed_same_result_and_chunking_invariance() -> None:
    a = simulate_survival_gs(critical_values=[2.96, 1.97], replicates=3_000, seed=3, chunk_size=500)
    b = simulate_survival_gs(critical_values=[2.96, 1.97], replicates=3_000, seed=3, chunk_size=500)
    assert a.reject_per_stage == b.reject_per_stage
    assert a.mean_analysis_time == b.mean_analysis_time


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"planned_events": (200, 100)}, "planned_events"),
        ({"planned_events": (100, 400)}, "planned_events"),
        ({"pi1": 1.0}, "pi1"),
        ({"critical_values": [2.0]}, "critical_values"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        simulate_survival_gs(replicates=10, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
