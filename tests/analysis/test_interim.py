"""The interim look: conditional power and the decision the protocol allows.

Conditional power is checked against a slow path that shares nothing with the code under test
but the interval functions (tested against R in tests/stats): every pair of future responder
counts is enumerated, its final interval computed with ``equitrial.stats.proportions`` and
decided with ``equitrial.stats.equivalence.assess``, and the binomial probabilities of the pairs
summed (scipy). Tolerance 1e-12 absolute (the same terms summed in another order).

The formal look's boundary is the joint design's (``equitrial.design.joint``), itself checked
against rpact in tests/design.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binom

from equitrial.analysis.interim import conditional_power, interim_decision
from equitrial.design.joint import joint_design
from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol, load_protocol, protocol_from_dict
from equitrial.protocol._endpoints import Hypothesis
from equitrial.stats.equivalence import assess
from equitrial.stats.proportions import difference_ci, ratio_ci

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = load_protocol(ROOT / "examples/melanoma-pembrolizumab/protocol.toml")
TOL = 1e-12


def _slow(x: tuple[int, int], n: tuple[int, int], final: tuple[int, int],
          rates: tuple[float, float], hypothesis: Hypothesis) -> float:  # fmt: skip
    interval = ratio_ci if hypothesis.scale == "ratio" else difference_ci
    margin = hypothesis.to_margin()
    total = 0.0
    m1, m2 = final[0] - n[0], final[1] - n[1]
    for a in range(m1 + 1):
        for b in range(m2 + 1):
            ci = interval(x[0] + a, final[0], x[1] + b, final[1], level=hypothesis.level,
                          method=hypothesis.interval_method)  # type: ignore[arg-type]  # fmt: skip
            if assess(ci, margin).equivalent:
                total += float(binom.pmf(a, m1, rates[0]) * binom.pmf(b, m2, rates[1]))
    return total


def _hypothesis(scale: str, lower: float, upper: float, method: str, level: float) -> Hypothesis:
    return Hypothesis.model_validate({"kind": "equivalence", "scale": scale,
                                      "margin": {"lower": lower, "upper": upper},
                                      "interval_method": method, "level": level})  # fmt: skip


@pytest.mark.parametrize(
    ("hypothesis", "x", "n", "final", "rates"),
    [
        (
            _hypothesis("ratio", 0.5, 2.0, "miettinen-nurminen", 0.90),
            (12, 10),
            (30, 30),
            (45, 45),
            (0.33, 0.33),
        ),
        (
            _hypothesis("ratio", 0.6, 1.67, "miettinen-nurminen", 0.90),
            (3, 9),
            (20, 22),
            (40, 40),
            (0.3, 0.4),
        ),
        (
            _hypothesis("difference", -0.25, 0.25, "miettinen-nurminen", 0.95),
            (20, 18),
            (50, 50),
            (65, 66),
            (0.4, 0.35),
        ),
        (
            _hypothesis("difference", -0.2, 0.2, "newcombe", 0.90),
            (5, 6),
            (15, 15),
            (35, 35),
            (0.3, 0.3),
        ),
        (_hypothesis("ratio", 0.6, 1.67, "log", 0.90), (30, 29), (60, 60), (75, 75), (0.5, 0.5)),
    ],
)
def test_conditional_power_equals_the_enumerated_final_decisions(
    hypothesis: Hypothesis, x: tuple[int, int], n: tuple[int, int], final: tuple[int, int],
    rates: tuple[float, float],
) -> None:  # fmt: skip
    fast = conditional_power(responders=x, evaluated=n, final=final, rates=rates,
                             hypothesis=hypothesis)  # fmt: skip
    assert fast == pytest.approx(_slow(x, n, final, rates, hypothesis), abs=TOL)
    assert 0.0 < fast < 1.0


def test_no_patient_to_come_gives_the_final_decision_itself() -> None:
    h = FLAGSHIP.hypothesis
    shown = (100, 150, 100, 150)  # ratio 1.0 on 300 patients: the interval is inside 0.73-1.36
    not_shown = (40, 150, 60, 150)  # ratio 0.67: outside
    for (x1, n1, x2, n2), expected in ((shown, 1.0), (not_shown, 0.0)):
        ci = ratio_ci(x1, n1, x2, n2, level=h.level, method="miettinen-nurminen")
        assert assess(ci, h.to_margin()).equivalent is bool(expected)
        cp = conditional_power(responders=(x1, x2), evaluated=(n1, n2), final=(n1, n2),
                               rates=(0.3, 0.3), hypothesis=h)  # fmt: skip
        assert cp == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"responders": (5, 3), "evaluated": (4, 10)}, "responders.test"),
        ({"responders": (-1, 3)}, "responders.test"),
        ({"evaluated": (10, 10.5)}, "evaluated.reference"),
        ({"final": (9, 40)}, "final.test"),
        ({"rates": (0.3, 1.2)}, "rates.reference"),
        ({"rates": (True, 0.3)}, "rates.test"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"responders": (3, 3), "evaluated": (10, 10), "final": (40, 40),
                            "rates": (0.3, 0.3), "hypothesis": FLAGSHIP.hypothesis}  # fmt: skip
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as caught:
        conditional_power(**args)
    assert caught.value.field == field


def _primary(x: tuple[int, int], n: tuple[int, int], protocol: Protocol) -> dict[str, Any]:
    codes = (protocol.test_arm.code, protocol.reference_arm.code)
    return {"arm_n": dict(zip(codes, n, strict=True)),
            "responders": dict(zip(codes, x, strict=True))}  # fmt: skip


def test_the_flagship_look_is_descriptive_and_continues() -> None:
    result = interim_decision(_primary((40, 41), (60, 60), FLAGSHIP), FLAGSHIP)
    assert result["look"] == "preliminary effectiveness"
    assert result["formal"] is False and result["critical_value"] is None
    assert result["decision"] == "continue"
    assert result["final_per_arm"] == {"BIO": 150, "REF": 150}
    assert result["information_rate"] == pytest.approx(120 / 300, abs=1e-15)
    expected = conditional_power(responders=(40, 41), evaluated=(60, 60), final=(150, 150),
                                 rates=(0.33, 0.33), hypothesis=FLAGSHIP.hypothesis)  # fmt: skip
    assert result["conditional_power"]["under_design"] == expected
    trend = conditional_power(responders=(40, 41), evaluated=(60, 60), final=(150, 150),
                              rates=(40 / 60, 41 / 60), hypothesis=FLAGSHIP.hypothesis)  # fmt: skip
    assert result["conditional_power"]["under_trend"] == trend


def _formal() -> Protocol:
    data = copy.deepcopy(FLAGSHIP.to_dict())
    data["interim_analyses"] = [{"name": "half", "information_fraction": 0.5,
                                 "purpose": "efficacy", "spending": "obrien-fleming",
                                 "binding": False, "futility_bound": 0.0}]  # fmt: skip
    return protocol_from_dict(data)


def test_a_formal_look_stops_when_both_tests_cross_its_boundary() -> None:
    protocol = _formal()
    design = joint_design(protocol).design
    assert design is not None
    boundary = float(design.critical_values[0])
    # ratio 1.0 with 120 responders of 150 per arm: the Wald z of each one-sided test
    x, n = (120, 120), (150, 150)
    se = math.sqrt(2 * (1 - 0.8) / 120)
    z_lower, z_upper = -math.log(0.73) / se, math.log(1.36) / se
    result = interim_decision(_primary(x, n, protocol), protocol, look="half")
    assert result["critical_value"] == boundary
    assert result["z_lower"] == pytest.approx(z_lower, rel=1e-12)
    assert result["z_upper"] == pytest.approx(z_upper, rel=1e-12)
    assert min(z_lower, z_upper) >= boundary
    assert result["decision"] == "stop for equivalence"


def test_a_formal_look_continues_or_stops_for_futility() -> None:
    protocol = _formal()
    near = interim_decision(_primary((20, 20), (30, 30), protocol), protocol)
    assert near["decision"] == "continue"  # z = 1.72 and 1.68, below the O'Brien-Fleming bound
    assert 0 < near["z_lower"] < near["critical_value"]
    worse = interim_decision(_primary((10, 20), (30, 30), protocol), protocol)
    assert worse["z_lower"] <= 0.0 and worse["futility_bound"] == 0.0
    assert worse["decision"] == "stop for futility"


def test_an_unknown_look_is_refused_naming_the_protocols_looks() -> None:
    with pytest.raises(InvalidInputError, match="preliminary effectiveness") as caught:
        interim_decision(_primary((1, 1), (5, 5), FLAGSHIP), FLAGSHIP, look="week 99")
    assert caught.value.field == "interim"


def test_interim_counts_only_patients_whose_endpoint_is_known_at_the_cut() -> None:
    import datetime as dt

    import pandas as pd

    from equitrial.analysis.interim import interim_counts

    bio, ref = (next(a.name for a in FLAGSHIP.arms if a.code == c) for c in ("BIO", "REF"))
    adsl = pd.DataFrame(
        {
            "USUBJID": ["1", "2", "3", "4", "5", "6"],
            "ITTFL": ["Y", "Y", "Y", "Y", "Y", "N"],
            "TRT01P": [bio, bio, bio, ref, ref, ref],
            "RANDDT": [
                dt.date(2024, 1, 1),
                dt.date(2024, 5, 1),
                dt.date(2024, 5, 2),
                dt.date(2024, 5, 3),
                dt.date(2024, 1, 5),
                dt.date(2024, 1, 1),
            ],
            "DTHDT": [None, None, None, dt.date(2024, 6, 1), None, None],
        }
    )
    adrs = pd.DataFrame(
        {"USUBJID": ["1", "2", "3", "5"], "PARAMCD": ["RSP24"] * 4, "AVALC": ["N", "Y", "N", "Y"]}
    )
    # cut 2024-06-30: week 24 (168 days) reached by those randomized on or before 2024-01-14
    evaluated, responders = interim_counts(
        {"ADSL": adsl, "ADRS": adrs}, FLAGSHIP, dt.date(2024, 6, 30)
    )
    # BIO: 1 (reached, no response), 2 (responded already); 3 not yet known
    # REF: 4 (died before the cut), 5 (reached, responded); 6 not ITT
    assert evaluated == {"BIO": 2, "REF": 2}
    assert responders == {"BIO": 1, "REF": 1}


def test_no_response_in_the_test_arm_can_stop_a_formal_look_for_futility() -> None:
    protocol = _formal()
    result = interim_decision(_primary((0, 12), (30, 30), protocol), protocol)
    # Haldane: 0.5/31 vs 12.5/31; log ratio -3.22, se sqrt((1 - p1)/0.5 + (1 - p2)/12.5)
    p1, p2 = 0.5 / 31, 12.5 / 31
    se = math.sqrt((1 - p1) / 0.5 + (1 - p2) / 12.5)
    assert result["z_lower"] == pytest.approx((math.log(p1 / p2) - math.log(0.73)) / se, rel=1e-12)
    assert result["decision"] == "stop for futility"
