"""Expected accrual after the first patient in (equitrial.design.accrual).

Checked against closed forms at a constant rate, where the first patient's time does not
matter (``E[T_n - T_1] = (n - 1) / rate``; enrolled = 1 + E[min(Poisson(rate t), n - 1)],
summed term by term here), and against the simulator's own arrivals (Monte Carlo, 4 SE).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from equitrial.design._sim_accrual import arrival_times
from equitrial.design.accrual import AccrualModel, expected_accrual_months, expected_enrolled
from equitrial.design.joint import joint_design
from equitrial.design.looks import LookTiming, plan_looks
from equitrial.errors import InvalidInputError
from equitrial.protocol import load_protocol

EXAMPLES = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab"

FLAGSHIP = AccrualModel(n_patients=300, n_sites=50, ramp_months=6.0, rate_per_site=0.5)


@pytest.mark.parametrize(("n", "rate"), [(2, 1.0), (40, 3.5), (300, 25.0)])
def test_constant_rate_duration_is_n_minus_one_gaps(n: int, rate: float) -> None:
    model = AccrualModel(n_patients=n, n_sites=5, ramp_months=0.0, rate_per_site=rate / 5)
    assert expected_accrual_months(model) == pytest.approx((n - 1) / rate, rel=1e-6)


@pytest.mark.parametrize("t", [0.0, 0.3, 2.0, 7.5, 40.0])
def test_constant_rate_enrolment_is_a_capped_poisson(t: float) -> None:
    n, rate = 30, 4.0
    model = AccrualModel(n_patients=n, n_sites=1, ramp_months=0.0, rate_per_site=rate)
    k = np.arange(0, 2000)
    expected = 1.0 + float(np.sum(np.minimum(k, n - 1) * stats.poisson.pmf(k, rate * t)))
    assert expected_enrolled(model, t) == pytest.approx(expected, rel=1e-6)


def test_before_and_at_the_first_patient() -> None:
    assert expected_enrolled(FLAGSHIP, [-0.5, 0.0]).tolist() == [0.0, 1.0]


def test_flagship_agrees_with_the_simulated_arrivals() -> None:
    arrivals = arrival_times(np.random.default_rng(20261202), 20_000, 300, 50, 6.0, 0.5)
    entry = arrivals - arrivals[:, :1]
    for t in (1.0, 6.0, 12.0):
        counts = np.sum(entry <= t, axis=1)
        se = counts.std(ddof=1) / math.sqrt(counts.size)
        assert abs(float(expected_enrolled(FLAGSHIP, t)) - counts.mean()) < 4 * se
    last = entry[:, -1]
    se = last.std(ddof=1) / math.sqrt(last.size)
    assert abs(expected_accrual_months(FLAGSHIP) - last.mean()) < 4 * se


def test_bad_model_names_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        AccrualModel(n_patients=0, n_sites=1, ramp_months=0.0, rate_per_site=1.0)
    assert caught.value.field == "accrual.n_patients"
    with pytest.raises(InvalidInputError) as caught:
        expected_enrolled(FLAGSHIP, math.nan)
    assert caught.value.field == "months"


def test_looks_by_fraction_and_by_month_meet() -> None:
    lag = 24.0 / (365.25 / 12.0 / 7.0)
    looks = plan_looks(
        FLAGSHIP,
        lag,
        [LookTiming("m12", months=12.0), LookTiming("half", information_fraction=0.5)],
    )
    by_name = {look.name: look for look in looks}
    assert [look.name for look in looks][-1] == "final"
    half = by_name["half"]
    assert half.information_rate == 0.5
    assert half.expected_evaluable == pytest.approx(150.0, rel=1e-6)
    m12 = by_name["m12"]
    assert m12.expected_evaluable == pytest.approx(float(expected_enrolled(FLAGSHIP, 12.0 - lag)))
    assert m12.information_rate == pytest.approx(m12.expected_evaluable / 300)
    final = by_name["final"]
    assert final.months_after_fpi == pytest.approx(expected_accrual_months(FLAGSHIP) + lag)
    months = [look.months_after_fpi for look in looks]
    assert months == sorted(months)


def test_a_look_before_anyone_is_evaluable_has_no_information() -> None:
    (early, _final) = plan_looks(FLAGSHIP, 5.5, [LookTiming("m6", months=5.0)])
    assert early.expected_evaluable == 0.0
    assert early.information_rate == 0.0


def test_the_three_interim_example_is_one_design() -> None:
    # rpact 3.3.4: getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1,
    #   typeOfDesign = "asOF", informationRates = c(0.25, 0.5, 0.75, 1))$criticalValues
    protocol = load_protocol(EXAMPLES / "protocol-three-interims.toml")
    joint = joint_design(protocol)
    assert joint.design is not None
    assert [look.name for look in joint.formal][-1] == "final"
    assert joint.design.critical_values == pytest.approx(
        [3.749552, 2.539943, 2.016070, 1.720177], abs=1e-6
    )


def test_descriptive_looks_stay_out_of_the_design() -> None:
    joint = joint_design(load_protocol(EXAMPLES / "protocol.toml"))
    assert [look.name for look in joint.descriptive] == ["preliminary effectiveness"]
    assert [look.name for look in joint.formal] == ["final"]
