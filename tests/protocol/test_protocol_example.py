"""The shipped melanoma example: its values, accessors, round trips, published figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from equitrial.protocol import (
    CureMixture,
    PermutedBlocks,
    Protocol,
    load_protocol,
    parse_protocol,
    protocol_from_dict,
)
from equitrial.stats.equivalence import Margin


@pytest.fixture(scope="module")
def protocol(example_path: Path) -> Protocol:
    return load_protocol(example_path)


def test_example_arms_are_biosimilar_and_eu_keytruda_200mg_q3w_35_cycles(protocol: Protocol):
    assert [a.code for a in protocol.arms] == ["BIO", "REF"]
    assert protocol.test_arm.code == "BIO"
    assert protocol.reference_arm.code == "REF"
    assert "EU-sourced" in protocol.reference_arm.product
    for arm in protocol.arms:
        assert arm.dose.regimen == "200 mg Q3W"
        assert (arm.dose.max_cycles, arm.dose.max_weeks) == (35, 104.0)
    assert protocol.arm("REF") is protocol.reference_arm


def test_example_randomization_is_1_to_1_permuted_blocks_of_4_and_6(protocol: Protocol):
    rand = protocol.randomization
    assert isinstance(rand, PermutedBlocks)
    assert rand.allocation_ratio == (1, 1)
    assert rand.block_sizes == (4, 6)
    assert rand.random_block_sizes is True


def test_example_stratification_levels(protocol: Protocol):
    assert protocol.stratification_levels() == {
        "braf_v600": ["mutant", "wild-type"],
        "ecog_ps": ["0", "1"],
        "m_stage_ldh": ["M0-M1b, normal LDH", "M1c or elevated LDH"],
    }
    levels = protocol.stratification_levels()
    levels["ecog_ps"].append("2")  # a fresh copy: the protocol is not changed
    assert protocol.stratification_levels()["ecog_ps"] == ["0", "1"]


def test_example_primary_endpoint_is_unconfirmed_orr_at_week_24_by_central_review(
    protocol: Protocol,
):
    primary = protocol.primary_endpoint
    assert primary.id == "orr-w24"
    assert (primary.kind, primary.criteria, primary.review) == (
        "binary",
        "RECIST 1.1",
        "blinded-central",
    )
    assert primary.timepoint_weeks == 24
    assert primary.confirmation_required is False
    assert primary.estimand.population == "ITT"
    assert primary.estimand.summary_measure == "risk-ratio"
    assert set(primary.estimand.intercurrent_events.values()) <= {"treatment-policy", "composite"}
    secondary = {e.id for e in protocol.endpoints if e.role == "secondary"}
    assert {"pfs", "os", "dor", "teae", "ctrough-c8", "ada"} <= secondary


def test_example_margin_is_bat1706_fda_ratio_margin(protocol: Protocol):
    # statistics.md: BAT1706 (Cancer Med 2023), FDA margin RR 0.73-1.36 with a 90 % CI.
    assert protocol.margin() == Margin(scale="ratio", lower=0.73, upper=1.36)
    hyp = protocol.hypothesis
    assert (hyp.kind, hyp.interval_method, hyp.level) == ("equivalence", "miettinen-nurminen", 0.9)
    assert hyp.alpha == pytest.approx(0.05, rel=1e-12)


def test_example_ema_difference_analysis_uses_bat1706_ema_margin(protocol: Protocol):
    # statistics.md: BAT1706, EMA margin RD -0.12 to 0.15 with a 95 % CI.
    endpoint = next(e for e in protocol.endpoints if e.id == "orr-w24-difference")
    assert endpoint.hypothesis is not None
    assert endpoint.hypothesis.to_margin() == Margin(scale="difference", lower=-0.12, upper=0.15)
    assert endpoint.hypothesis.level == 0.95
    assert endpoint.estimand.summary_measure == "risk-difference"


def test_example_interim_is_non_binding_preliminary_look_at_6_months(protocol: Protocol):
    (look,) = protocol.interim_analyses
    assert look.months_after_first_patient == 6
    assert look.information_fraction is None
    assert look.purpose == "preliminary effectiveness"
    assert look.binding is False
    assert look.spending == "none"


def test_example_design_assumptions(protocol: Protocol):
    a = protocol.assumptions
    assert (a.sample_size, a.power, a.alpha) == (300, 0.8, 0.05)
    assert a.response_rate == {"BIO": 0.33, "REF": 0.33}
    assert a.accrual.sites >= 1 and a.accrual.rate_per_site_per_month > 0


def test_example_orr_assumption_lies_in_keynote006_range(protocol: Protocol):
    # statistics.md: KEYNOTE-006 ORR 33 % (Q3W) to 37 % (31-43) (Q2W, Schachter Lancet 2017).
    for rate in protocol.assumptions.response_rate.values():
        assert 0.33 <= rate <= 0.37


def test_example_pfs_model_matches_keynote006_6_month_pfs_and_plateau(protocol: Protocol):
    # statistics.md: KEYNOTE-006 6-month PFS 46.4 % (Q3W) and 47.3 % (Q2W), Robert NEJM 2015;
    # long-term plateau: 7-year modified PFS 23.8 % (KN-006), 5-year PFS 21 % (KN-001).
    pfs = protocol.assumptions.pfs
    assert isinstance(pfs, CureMixture)
    s6, s_long = pfs.survival([6.0, 1e4])
    assert 0.464 - 0.005 <= s6 <= 0.473 + 0.005
    assert 0.21 <= s_long <= 0.238


def test_example_os_model_matches_keynote006_os_rates_and_median(protocol: Protocol):
    # statistics.md: KEYNOTE-006 pembrolizumab 24-month OS 55 %, median 32.7 months, 7-year OS
    # 37.8 %, 10-year OS 34.0 % (Robert JCO 2023; 10-year summary). Tolerance: half a unit of
    # the last printed digit (abs 0.005 for "55 %", 0.0005 for "37.8 %", 0.05 months).
    os_ = protocol.assumptions.os
    s24, s_median, s84, s120 = os_.survival([24.0, 32.7, 84.0, 120.0])
    assert s24 == pytest.approx(0.55, abs=0.005)
    assert s_median == pytest.approx(0.5, abs=0.0005)
    assert os_.survival(32.65) > 0.5 > os_.survival(32.75)  # median 32.7 to 0.05 months
    assert s84 == pytest.approx(0.378, abs=0.0005)
    assert s120 == pytest.approx(0.340, abs=0.0005)


def test_example_tumour_scans_every_9_weeks_to_54_then_every_12(protocol: Protocol):
    assert protocol.schedule_weeks("tumour-imaging", 110) == (
        9.0, 18.0, 27.0, 36.0, 45.0, 54.0, 66.0, 78.0, 90.0, 102.0,
    )  # fmt: skip
    assert protocol.schedule_weeks("dosing", 1000)[-1] == 102.0  # cycle 35 starts at week 102
    assert len(protocol.schedule_weeks("dosing", 1000)) == 35
    assert protocol.schedule_weeks("follow-up", 1000) == ()  # anchored at end of treatment


def test_example_round_trips_through_dict_and_json(protocol: Protocol):
    data = protocol.to_dict()
    assert data["stratification"] == protocol.stratification_levels()
    assert protocol_from_dict(data) == protocol
    assert protocol_from_dict(json.loads(json.dumps(data))) == protocol
    assert Protocol.model_validate_json(protocol.model_dump_json()) == protocol


def test_parse_protocol_of_the_file_text_equals_load_protocol(
    protocol: Protocol, example_path: Path
):
    assert parse_protocol(example_path.read_text(encoding="utf-8")) == protocol


def test_protocol_is_frozen(protocol: Protocol):
    with pytest.raises(ValueError, match="frozen"):
        protocol.study.id = "X"  # type: ignore[misc]


def test_survival_models_closed_forms():
    # Analytic values: exponential S(median) = 1/2; piecewise hazards 0.1 to month 6 then 0.05
    # give S(10) = exp(-0.6 - 0.2); a cure mixture tends to its cure fraction.
    from equitrial.protocol import Exponential, HazardPiece, PiecewiseExponential

    assert Exponential(model="exponential", median_months=8.4).survival(8.4) == pytest.approx(0.5)
    pieces = (HazardPiece(start_month=0, hazard=0.1), HazardPiece(start_month=6, hazard=0.05))
    pw = PiecewiseExponential(model="piecewise-exponential", pieces=pieces)
    np.testing.assert_allclose(
        pw.survival([0.0, 3.0, 6.0, 10.0]),
        [1.0, math.exp(-0.3), math.exp(-0.6), math.exp(-0.8)],
        rtol=1e-12,
    )
    cure = CureMixture(model="cure-mixture", cure_fraction=0.3, median_uncured_months=5)
    assert cure.survival(5.0) == pytest.approx(0.3 + 0.7 * 0.5, rel=1e-12)


def test_schedule_item_times_periodic_and_listed():
    from equitrial.protocol import ScheduleItem

    scans = ScheduleItem(
        name="scans", kind="tumour-imaging", start_week=9, interval_weeks=9, until_week=54
    )
    assert scans.times(1000) == (9.0, 18.0, 27.0, 36.0, 45.0, 54.0)
    assert scans.times(30) == (9.0, 18.0, 27.0)
    assert scans.times(5) == ()
    pk = ScheduleItem(name="pk", kind="pk", weeks=[0, 3, 21], timing="pre-dose")
    assert pk.times(3) == (0.0, 3.0)
