"""The simulator runs a group-sequential design as rpact's ``getSimulationRates`` does.

Reference: ``tests/reference/simulate_rates.R`` (rpact 3.3.4, 100,000 iterations per case): a
four-look O'Brien-Fleming-type design (one-sided alpha 0.025, looks at 75, 150, 225 and 300
patients), the risk-ratio non-inferiority test at margin 0.73 with the score statistic, under the
margin and under equal rates 0.4, for 1:1 and 2:1 allocation and with non-binding futility
bounds. Our trials are set up so that every patient's response is known at the primary time
point (no dropout, immediate responses, no strata): the looks see the first 75, 150, 225 and 300
patients as rpact's stages do. Each probability of stopping at a look, for equivalence or
futility, must lie within 3 Monte-Carlo SEs (both simulations' SEs combined) of rpact's.

The three-interim example protocol, run at a sample size large enough that the opposite
one-sided test nearly always rejects, must hold the type I error at each margin: within 3 SEs of
the nominal one-sided 0.05.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from equitrial.design.simulate import (
    Accrual,
    Analysis,
    InterimLook,
    Randomization,
    ResponseModel,
    TrialSpec,
    simulate,
    spec_from_protocol,
)
from equitrial.protocol import load_protocol

ROOT = Path(__file__).parents[2]
REFERENCE = json.loads((ROOT / "tests" / "reference" / "simulate_rates.json").read_text())
THREE_INTERIMS = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol-three-interims.toml"
REPLICATES = 20_000


def _spec(design: dict[str, Any], allocation: int) -> TrialSpec:
    critical = design["critical_values"]
    futility = design["futility_bounds"] or [None, None, None]
    interims = tuple(
        InterimLook(f"stage {k + 1}", evaluable=75 * (k + 1), critical=critical[k],
                    futility=futility[k])
        for k in range(3)
    )  # fmt: skip
    return TrialSpec(
        accrual=Accrual(n_patients=300),
        randomization=Randomization(
            block_sizes=(2,) if allocation == 1 else (3,), allocation=(allocation, 1)
        ),
        response=ResponseModel(
            orr_test=0.4, orr_reference=0.4, time_to_response_median_months=1e-6
        ),
        dropout_rate_per_year=0.0,
        analysis=Analysis(
            hypothesis="non-inferiority", scale="ratio", lower_margin=0.73, upper_margin=None,
            level=0.95, interims=interims, final_critical=critical[3],
        ),
    )  # fmt: skip


def _within(ours: float, theirs: float, n_ours: int, n_theirs: int) -> bool:
    p = 0.5 * (ours + theirs)
    se = math.sqrt(p * (1.0 - p) * (1.0 / n_ours + 1.0 / n_theirs))
    return abs(ours - theirs) <= 3.0 * se + 1e-12


@pytest.mark.parametrize(
    ("case", "design"),
    [("equal", "design"), ("two_to_one", "design"), ("futility", "futility_design")],
)
def test_stopping_probabilities_match_rpact(case: str, design: str) -> None:
    ref = REFERENCE[case]
    spec = _spec(REFERENCE[design], ref["allocation"])
    res = simulate(spec, replicates=REPLICATES, seed=20261202, chunk_size=5_000)
    assert res.formal_looks == ("stage 1", "stage 2", "stage 3", "final")
    # rpact's first pi1 is at the margin (our null_lower), the second equal rates (alternative)
    for j, name in enumerate(("null_lower", "alternative")):
        s = res.scenario(name)
        assert s.orr_test == pytest.approx(ref["pi1"][j], rel=1e-12)
        for k, (ours, theirs) in enumerate(
            zip(s.conclude_by_look, ref["reject_per_stage"][j], strict=True)
        ):
            assert _within(ours, theirs, REPLICATES, ref["iterations"]), (name, k, ours, theirs)
        for k, (ours, theirs) in enumerate(
            zip(s.futility_by_look, ref["futility_per_stage"][j], strict=True)
        ):
            assert _within(ours, theirs, REPLICATES, ref["iterations"]), (name, k, ours, theirs)
        assert _within(s.conclusion.estimate, ref["overall_reject"][j], REPLICATES, 100_000)
        assert sum(s.conclude_by_look) == pytest.approx(s.conclusion.estimate, abs=1e-12)


def test_three_interim_design_holds_the_type_i_error_at_each_margin() -> None:
    protocol = load_protocol(THREE_INTERIMS)
    big = protocol.model_copy(
        update={"assumptions": protocol.assumptions.model_copy(update={"sample_size": 800})}
    )
    spec = spec_from_protocol(big)
    assert [look.evaluable for look in spec.analysis.interims] == [200, 400, 600]
    res = simulate(spec, replicates=12_000, seed=7, chunk_size=4_000)
    for name in ("null_lower", "null_upper"):
        p = res.scenario(name).conclusion
        se = math.sqrt(0.05 * 0.95 / p.n)
        assert abs(p.estimate - 0.05) <= 3.0 * se, (name, p)
        assert len(res.scenario(name).conclude_by_look) == 4
