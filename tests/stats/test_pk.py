"""equitrial.stats.pk against R (tests/reference/pk.R -> pk.json) and closed forms.

Tolerance: 1e-6 relative against R's full-precision output; 1e-12 against closed forms.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats.pk import geometric_cv, geometric_mean, geometric_mean_ratio, nca

REF = json.loads((Path(__file__).parents[1] / "reference" / "pk.json").read_text())
RTOL = 1e-6


@pytest.mark.parametrize("case", REF["gmr"]["cases"], ids=lambda c: c["call"])
def test_geometric_mean_ratio_matches_r_t_test_on_logs(case: dict) -> None:
    res = geometric_mean_ratio(
        REF["gmr"]["test"], REF["gmr"]["reference"], level=case["level"], variance=case["variance"]
    )
    assert res.estimate == pytest.approx(case["estimate"], rel=RTOL)
    assert res.lower == pytest.approx(case["lower"], rel=RTOL)
    assert res.upper == pytest.approx(case["upper"], rel=RTOL)
    assert res.level == case["level"]
    assert res.method == case["variance"]


def test_geometric_mean_matches_r_t_test_on_logs() -> None:
    ref = REF["gmr"]["geometric_mean"]
    res = geometric_mean(REF["gmr"]["test"], level=0.95)
    assert (res.estimate, res.lower, res.upper) == pytest.approx(
        (ref["estimate"], ref["lower"], ref["upper"]), rel=RTOL
    )


def test_geometric_cv_matches_r_formula() -> None:
    expected = REF["gmr"]["geometric_cv"]["value"]
    assert geometric_cv(REF["gmr"]["test"]) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize(
    "subj", REF["nca_theoph"]["subjects"], ids=lambda s: f"Theoph-subject-{s['subject']}"
)
def test_nca_matches_base_r_implementation_on_theoph(subj: dict) -> None:
    res = nca(subj["time"], subj["conc"])
    assert res.cmax == subj["cmax"]
    assert res.tmax == subj["tmax"]
    assert res.tlast == subj["tlast"]
    assert res.auc_last == pytest.approx(subj["auc_last"], rel=RTOL)
    assert res.lambda_z == pytest.approx(subj["lambda_z"], rel=RTOL)
    assert res.lambda_z_points == subj["lambda_z_points"]
    assert res.lambda_z_r2_adjusted == pytest.approx(subj["r2_adjusted"], rel=RTOL)
    assert res.half_life == pytest.approx(subj["half_life"], rel=RTOL)
    assert res.auc_inf == pytest.approx(subj["auc_inf"], rel=RTOL)


def test_nca_log_down_integrates_a_monoexponential_exactly() -> None:
    # C(t) = 10 exp(-0.1 t): AUC from t0 to infinity is C(t0) / 0.1; half-life ln 2 / 0.1.
    t = np.array([0.5, 1, 2, 4, 8, 12, 24.0])
    res = nca(t, 10 * np.exp(-0.1 * t), tau=12)
    assert res.lambda_z == pytest.approx(0.1, rel=1e-12)
    assert res.half_life == pytest.approx(math.log(2) / 0.1, rel=1e-12)
    assert res.auc_inf == pytest.approx(100 * math.exp(-0.05), rel=1e-12)
    assert res.ctrough == pytest.approx(10 * math.exp(-1.2), rel=1e-12)
    assert res.auc_tau == pytest.approx(100 * (math.exp(-0.05) - math.exp(-1.2)), rel=1e-12)
    assert res.auc_extrapolated_percent == pytest.approx(100 * math.exp(-2.4 + 0.05), rel=1e-9)


def test_nca_interpolates_and_extrapolates_tau_on_the_exponential() -> None:
    t = np.array([0.0, 1, 2, 4, 8, 12])
    c = np.concatenate(([0.0], 5 * np.exp(-0.2 * t[1:])))
    between = nca(t, c, tau=6)
    assert between.ctrough == pytest.approx(5 * math.exp(-1.2), rel=1e-12)
    beyond = nca(t, c, tau=21)
    assert beyond.ctrough == pytest.approx(5 * math.exp(-4.2), rel=1e-12)
    # rising first interval is linear: 1 * (0 + 5e^-0.2) / 2, then exact exponential area
    expected = 2.5 * math.exp(-0.2) + 25 * (math.exp(-0.2) - math.exp(-4.2))
    assert beyond.auc_tau == pytest.approx(expected, rel=1e-12)


def test_nca_linear_up_on_rising_interval() -> None:
    res = nca([0, 1, 2], [0.0, 4.0, 2.0])
    assert res.auc_last == pytest.approx(2.0 + 2.0 / math.log(2.0), rel=1e-12)
    assert math.isnan(res.lambda_z)  # one point after tmax: no terminal slope
    assert math.isnan(res.auc_inf)
    assert res.lambda_z_points == 0


def test_nca_trailing_zero_concentrations_end_auc_last_at_tlast() -> None:
    res = nca([0, 1, 2, 4, 6], [0.0, 8.0, 4.0, 2.0, 0.0])
    assert res.tlast == 4.0
    assert res.clast == 2.0
    assert res.auc_last == pytest.approx(4 + 4 / math.log(2) + 4 / math.log(2), rel=1e-12)


@pytest.mark.parametrize(
    ("time", "conc", "field"),
    [
        ([0, 2, 1], [1, 2, 3], "time"),
        ([0, 1, 1], [1, 2, 3], "time"),
        ([0, 1, 2], [1, -2, 3], "conc"),
        ([0, 1, 2], [0, 0, 0], "conc"),
        ([0, 1, 2], [1, 2], None),
        ([0, float("nan"), 2], [1, 2, 3], "time"),
    ],
)
def test_nca_refuses_bad_profiles_naming_the_argument(time, conc, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as err:
        nca(time, conc)
    if field is not None:
        assert err.value.field == field
        assert field in str(err.value)


def test_nca_refuses_tau_before_first_sample() -> None:
    with pytest.raises(InvalidInputError, match="tau"):
        nca([1, 2, 3], [3, 2, 1], tau=0.5)


def test_log_scale_functions_refuse_non_positive_values() -> None:
    with pytest.raises(InvalidInputError, match=r"test must be positive.*entry 1"):
        geometric_mean_ratio([1.0, 0.0, 2.0], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="reference needs at least 2"):
        geometric_mean_ratio([1.0, 2.0], [1.0])
    with pytest.raises(InvalidInputError, match="level"):
        geometric_mean([1.0, 2.0], level=1.0)
    with pytest.raises(UnknownOptionError, match="variance"):
        geometric_mean_ratio([1.0, 2.0], [1.0, 2.0], variance="satterthwaite")  # type: ignore[arg-type]


positive = st.lists(st.floats(0.01, 1e4), min_size=2, max_size=30).filter(lambda v: len(set(v)) > 1)


@given(positive, positive, st.sampled_from(["pooled", "welch"]))
def test_gmr_inverts_when_products_are_swapped(a, b, variance) -> None:  # type: ignore[no-untyped-def]
    ab = geometric_mean_ratio(a, b, variance=variance)
    ba = geometric_mean_ratio(b, a, variance=variance)
    assert ba.estimate == pytest.approx(1 / ab.estimate, rel=1e-9)
    assert ba.lower == pytest.approx(1 / ab.upper, rel=1e-9)
    assert ba.upper == pytest.approx(1 / ab.lower, rel=1e-9)
    assert ab.lower <= ab.estimate <= ab.upper


@given(positive)
def test_geometric_mean_interval_widens_with_level(v) -> None:  # type: ignore[no-untyped-def]
    narrow, wide = geometric_mean(v, level=0.8), geometric_mean(v, level=0.95)
    assert wide.lower <= narrow.lower <= narrow.estimate <= narrow.upper <= wide.upper
