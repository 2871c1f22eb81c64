"""The trial simulator end to end: exact power, determinism, interim logic, outputs, errors.

The exact reference is equitrial.design.sample_size.exact_power (enumeration of every outcome
with the same interval methods), applied to a spec in which every patient reaches the primary
time point with a response seen if there is one (no dropout, immediate responses), and the
arms have exactly 150 patients (blocks of 2, no strata). Monte-Carlo estimates must lie within
4 standard errors of it.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from equitrial.design.sample_size import exact_power
from equitrial.design.simulate import (
    Accrual,
    Analysis,
    InterimLook,
    Randomization,
    ResponseModel,
    StratificationFactor,
    SurvivalModel,
    TrialSpec,
    simulate,
    spec_from_protocol,
)
from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.protocol import load_protocol
from equitrial.stats.equivalence import Margin

EXAMPLE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def _fixed_n_spec(analysis: Analysis) -> TrialSpec:
    return TrialSpec(
        accrual=Accrual(n_patients=300),
        randomization=Randomization(block_sizes=(2,)),
        response=ResponseModel(
            orr_test=0.33, orr_reference=0.33, time_to_response_median_months=1e-6
        ),
        dropout_rate_per_year=0.0,
        analysis=analysis,
    )


@pytest.mark.parametrize(
    "analysis",
    [
        Analysis(scale="ratio", lower_margin=0.73, upper_margin=1.36, level=0.90),
        Analysis(scale="difference", lower_margin=-0.15, upper_margin=0.15, level=0.95),
        Analysis(
            hypothesis="non-inferiority", scale="difference", lower_margin=-0.12,
            upper_margin=None, method="newcombe", level=0.95,
        ),
    ],
)  # fmt: skip
def test_conclusion_rates_match_exact_power_at_fixed_n(analysis: Analysis) -> None:
    res = simulate(_fixed_n_spec(analysis), replicates=8_000, seed=11, chunk_size=4_000)
    assert res.detection_probability == 1.0 and res.retention == 1.0
    upper = math.inf if analysis.upper_margin is None else analysis.upper_margin
    margin = Margin(analysis.scale, analysis.lower_margin, upper)
    for s in res.scenarios:
        assert s.replicates == 8_000
        exact = exact_power(
            s.orr_test, s.orr_reference, 150, 150,
            margin=margin, method=analysis.method, level=analysis.level,
        )  # fmt: skip
        se = math.sqrt(exact * (1 - exact) / s.replicates)
        assert abs(s.conclusion.estimate - exact) <= 4 * se + 1e-12, (s.name, exact, s.conclusion)


def test_null_scenarios_sit_on_the_margins_of_the_itt_rates() -> None:
    spec = replace(
        TrialSpec(dropout_rate_per_year=0.5),
        analysis=Analysis(scale="difference", lower_margin=-0.12, upper_margin=0.15),
    )
    res = simulate(spec, replicates=20, seed=1)
    lower, upper = res.scenario("null_lower"), res.scenario("null_upper")
    assert res.retention < 1.0
    assert lower.primary_orr_test - lower.primary_orr_reference == pytest.approx(-0.12, abs=1e-12)
    assert upper.primary_orr_test - upper.primary_orr_reference == pytest.approx(0.15, abs=1e-12)


def test_same_seed_same_result_different_seed_different() -> None:
    spec = TrialSpec()
    a = simulate(spec, replicates=300, seed=5, chunk_size=100)
    b = simulate(spec, replicates=300, seed=5, chunk_size=100)
    c = simulate(spec, replicates=300, seed=6, chunk_size=100)
    assert a.scenarios == b.scenarios
    assert a.scenarios != c.scenarios


def test_interim_at_a_late_date_equals_the_final_analysis(tmp_path: Path) -> None:
    for population in ("completed", "scanned"):
        spec = replace(
            TrialSpec(response=ResponseModel(confirmation=True, duration_median_months=12.0)),
            analysis=Analysis(
                interims=(InterimLook("late", months=500.0),), interim_population=population
            ),
        )
        res = simulate(spec, replicates=200, seed=2, out_dir=tmp_path / population)
        table = pq.read_table(res.parquet_path).to_pandas()
        for col in ("x_test", "n_test", "x_reference", "n_reference", "conclusion"):
            np.testing.assert_array_equal(table[f"interim1_{col}"], table[f"final_{col}"])
        alt = res.scenario("alternative")
        assert alt.looks[0].agreement.estimate == 1.0
        assert alt.looks[0].after_primary.estimate == 1.0
        assert any("falls on or after the last patient" in w for w in res.warnings)


def test_interim_population_is_nested_in_the_enrolled() -> None:
    look = InterimLook("nine months", months=9.0)
    spec = replace(TrialSpec(), analysis=Analysis(interims=(look,), interim_population="scanned"))
    res = simulate(spec, replicates=300, seed=3, out_dir=None)
    alt = res.scenario("alternative")
    assert alt.looks[0].estimate is not None
    assert 0 < alt.looks[0].patients.mean < alt.looks[0].enrolled.mean < 300
    early = replace(TrialSpec(), analysis=Analysis(interims=(InterimLook("one", months=1.0),)))
    result = simulate(early, replicates=50, seed=3)
    none_evaluable = result.scenario("alternative").looks[0]
    assert none_evaluable.evaluable.estimate == 0.0
    assert none_evaluable.estimate is None
    assert any("an arm had nobody past week 24" in w for w in result.warnings)


def test_summaries_from_merged_chunks_equal_those_of_the_whole_arrays(tmp_path: Path) -> None:
    """The workers' mergeable sums give what the per-replicate columns give."""
    looks = (InterimLook("a", evaluable=100, critical=2.5), InterimLook("b", months=12.0))
    spec = replace(TrialSpec(), analysis=Analysis(interims=looks, final_critical=1.8))
    res = simulate(spec, replicates=700, seed=9, chunk_size=200, out_dir=tmp_path)
    table = pq.read_table(res.parquet_path).to_pandas()
    for s in res.scenarios:
        rows = table[table["scenario"] == s.name]
        stop, concluded = rows["stop_look"].to_numpy(), rows["concluded"].to_numpy()
        by_look = [float(np.mean((stop == k) & concluded)) for k in range(2)]
        assert s.conclude_by_look == pytest.approx(by_look, abs=1e-15)
        assert s.sample_size.mean == pytest.approx(rows["sample_size"].mean(), rel=1e-12)
        assert s.duration_months.mean == pytest.approx(rows["duration_months"].mean(), rel=1e-12)
        sd = rows["duration_months"].std(ddof=1) / math.sqrt(len(rows))
        assert s.duration_months.se == pytest.approx(sd, rel=1e-9)
        b = s.looks[1]
        assert b.enrolled.mean == pytest.approx(rows["interim2_enrolled"].mean(), rel=1e-12)
        assert b.conclusion.estimate == pytest.approx(rows["interim2_conclusion"].mean())
    assert res.formal_looks == ("a", "final")


def test_a_look_that_concludes_stops_the_trial(tmp_path: Path) -> None:
    """A formal interim that concludes ends the trial there: size, duration, no later look."""
    looks = (InterimLook("half", evaluable=150, critical=1.0),)
    spec = replace(TrialSpec(), analysis=Analysis(interims=looks))
    res = simulate(spec, replicates=400, seed=5, out_dir=tmp_path)
    table = pq.read_table(res.parquet_path).to_pandas()
    early = table["interim1_conclusion"].to_numpy()
    np.testing.assert_array_equal(table["stop_look"].to_numpy() == 0, early)
    np.testing.assert_array_equal(table["duration_months"][early], table["interim1_months"][early])
    np.testing.assert_array_equal(table["sample_size"][early], table["interim1_enrolled"][early])
    np.testing.assert_array_equal(table["concluded"][~early], table["final_conclusion"][~early])
    assert (table["interim1_n_test"] + table["interim1_n_reference"] == 150).all()
    alt = res.scenario("alternative")
    assert alt.sample_size.mean < 300 and alt.conclude_by_look[0] > 0.0


def test_infinite_boundary_is_a_warning() -> None:
    looks = (InterimLook("never", evaluable=150, critical=math.inf),)
    res = simulate(replace(TrialSpec(), analysis=Analysis(interims=looks)), replicates=20, seed=1)
    assert res.scenario("alternative").conclude_by_look[0] == 0.0
    assert any("boundary is infinite" in w for w in res.warnings)
    text = json.dumps(res.to_dict(), allow_nan=False)
    doc = json.loads(text)
    assert doc["spec"]["analysis"]["interims"][0]["critical"] is None
    assert "infinite boundary" in doc["null_means"]


def test_outputs_parquet_json_and_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    res = simulate(
        TrialSpec(), replicates=250, seed=4, chunk_size=100, out_dir=tmp_path,
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert calls[-1] == (750, 750) and len(calls) == 9
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    table = pq.read_table(tmp_path / "replicates.parquet")
    assert table.num_rows == 750
    assert set(table.column("scenario").to_pylist()) == {"alternative", "null_lower", "null_upper"}
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert json.loads(text)["power"]["n"] == 250
    assert set(res.type_i_error) == {"null_lower", "null_upper"}


def test_stratum_multipliers_keep_the_marginal_rate() -> None:
    factors = (StratificationFactor("ecog", (0.6, 0.4)),)
    spec = TrialSpec(
        randomization=Randomization(factors=factors),
        response=ResponseModel(time_to_response_median_months=1e-6, stratum_multipliers=(1.5, 0.5)),
        dropout_rate_per_year=0.0,
    )
    res = simulate(spec, replicates=2_000, seed=8, chunk_size=2_000)
    est = res.scenario("alternative").final_estimate
    assert est is not None
    # the ratio of the marginal rates is 1: its median estimate is close to it
    assert dict(est.quantiles)[0.5] == pytest.approx(1.0, abs=0.05)


def test_spec_from_the_example_protocol() -> None:
    spec = spec_from_protocol(load_protocol(EXAMPLE))
    assert spec.accrual == Accrual(300, 50, 6.0, 0.5)
    assert spec.randomization.block_sizes == (4, 6)
    assert [f.name for f in spec.randomization.factors] == ["braf_v600", "ecog_ps", "m_stage_ldh"]
    assert (spec.schedule.first_weeks, spec.schedule.interval_weeks) == (9.0, 9.0)
    assert spec.schedule.primary_weeks == 24.0
    assert (spec.response.orr_test, spec.response.orr_reference) == (0.33, 0.33)
    assert replace(spec.analysis, final_critical=None) == Analysis(
        "equivalence", "ratio", 0.73, 1.36, "miettinen-nurminen", 0.9,
        interims=(InterimLook("preliminary effectiveness", months=6.0),),
    )  # fmt: skip
    # one formal look (the final): its boundary is z_(1 - 0.05)
    assert spec.analysis.final_critical == pytest.approx(1.6448536269514722, rel=1e-12)
    assert spec.dropout_rate_per_year == pytest.approx(-math.log(0.95), rel=1e-12)
    assert spec.pfs == SurvivalModel.cure(0.22, 3.7)
    assert spec.os.knots_months == (0.0, 24.0, 32.7, 84.0)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: Accrual(n_sites=0), InvalidInputError),
        (lambda: Randomization(block_sizes=(3,)), InvalidInputError),
        (lambda: StratificationFactor("x", (0.5, 0.6)), InvalidInputError),
        (lambda: ResponseModel(orr_test=1.2), InvalidInputError),
        (lambda: SurvivalModel.piecewise((1.0,), (0.1,)), InvalidInputError),
        (lambda: Analysis(scale="ratio", lower_margin=1.2), InvalidInputError),
        (lambda: Analysis(upper_margin=None), InvalidInputError),
        (lambda: Analysis(scale="ratio", method="wald"), UnknownOptionError),
        (lambda: Analysis(interim_population="all"), UnknownOptionError),  # type: ignore[arg-type]
        (lambda: InterimLook("x"), InvalidInputError),
        (lambda: InterimLook("x", months=3.0, evaluable=10), InvalidInputError),
        (lambda: InterimLook("x", evaluable=10, critical=2.0, futility=2.5), InvalidInputError),
        (lambda: InterimLook("x", evaluable=10, futility=0.0), InvalidInputError),
        (lambda: Analysis(interims=(InterimLook("final", months=3.0),)), InvalidInputError),
        (lambda: Randomization(block_sizes=(4,), allocation=(2, 1)), InvalidInputError),
        (
            lambda: Analysis(
                scale="difference",
                lower_margin=-0.1,
                upper_margin=0.1,
                method="newcombe",
                interims=(InterimLook("x", evaluable=10, critical=2.0, futility=-0.5),),
            ),
            InvalidInputError,
        ),
        (
            lambda: TrialSpec(analysis=Analysis(interims=(InterimLook("x", evaluable=301),))),
            InvalidInputError,
        ),
        (
            lambda: TrialSpec(response=ResponseModel(stratum_multipliers=(1.0, 2.0))),
            InvalidInputError,
        ),
    ],
)
def test_bad_specs_raise(make: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()  # type: ignore[operator]


def test_impossible_scenarios_and_run_arguments_raise() -> None:
    # 0.7 by week 24 with only ~64% of responses seen by the week-18 scan needs p > 1
    with pytest.raises(InvalidInputError, match="ever responding"):
        simulate(
            TrialSpec(response=ResponseModel(orr_test=0.7, orr_reference=0.7)),
            replicates=10,
            seed=1,
        )
    for kwargs in (
        {"replicates": 1},
        {"replicates": 10, "chunk_size": 0},
        {"replicates": 10, "workers": 0},
    ):
        with pytest.raises(InvalidInputError):
            simulate(TrialSpec(), seed=1, **kwargs)  # type: ignore[arg-type]


def test_spec_takes_the_allocation_ratio_by_arm_role() -> None:
    protocol = load_protocol(EXAMPLE)
    arms = [a.code for a in protocol.arms]
    test_first = arms.index(protocol.test_arm.code) == 0
    ratio = (2, 1) if test_first else (1, 2)
    rnd = protocol.randomization.model_copy(
        update={"allocation_ratio": ratio, "block_sizes": (3, 6)}
    )
    spec = spec_from_protocol(protocol.model_copy(update={"randomization": rnd}))
    assert spec.randomization.allocation == (2, 1)  # (test, reference)
    assert spec.randomization.block_sizes == (3, 6)
