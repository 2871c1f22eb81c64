"""Use case: the statistician's design summary of a protocol (no database involved).

:func:`design_trial` reads a :class:`~equitrial.protocol.Protocol` and computes, for the primary
hypothesis and every secondary hypothesis the protocol states, the normal-approximation sample
size, the exact power at the planned size, the smallest size reaching the target power by exact
search, and a power curve; and, for each interim analysis, its timing and group-sequential
boundaries where it spends alpha. The CLI (``equitrial design``) renders the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from equitrial.design._sim_accrual import accrual_knots, cumulative_rate
from equitrial.design.sample_size import (
    ExactSampleSize,
    NormalSampleSize,
    PowerCurve,
    exact_power,
    normal_sample_size,
    power_curve,
    smallest_n,
)
from equitrial.design.sequential import GroupSequentialDesign, boundaries
from equitrial.protocol import Hypothesis, InterimAnalysis, Protocol
from equitrial.stats.equivalence import Margin

__all__ = ["DesignSummary", "HypothesisDesign", "InterimDesign", "design_trial"]

WEEKS_PER_MONTH = 52.0 / 12.0


@dataclass(frozen=True, slots=True)
class HypothesisDesign:
    """Sample size and power of one hypothesis on a binary endpoint.

    ``n_test`` and ``n_reference`` are the planned randomized sizes; the exact power at them
    assumes every patient evaluable (non-responder imputation of dropouts lowers it slightly;
    the simulator accounts for that). ``normal`` and ``exact`` are the sizes needed, evaluable
    and enrolled (inflated for the dropout expected by the endpoint's time point).
    """

    endpoint_id: str
    endpoint_name: str
    kind: str
    scale: str
    margin: Margin
    method: str
    level: float
    p_test: float
    p_reference: float
    n_test: int
    n_reference: int
    power_at_planned: float
    target_power: float
    dropout_fraction: float
    normal: NormalSampleSize
    exact: ExactSampleSize
    curve_planned: PowerCurve
    curve_exact: PowerCurve


@dataclass(frozen=True, slots=True)
class InterimDesign:
    """One interim analysis: when, why, and the boundaries if it spends alpha."""

    name: str
    purpose: str
    months_after_first_patient: float | None
    information_fraction: float | None
    expected_enrolled: float | None
    expected_evaluable: float | None
    spending: str
    binding: bool
    design: GroupSequentialDesign | None
    note: str


@dataclass(frozen=True, slots=True)
class DesignSummary:
    """Everything ``equitrial design`` reports for a protocol."""

    study_id: str
    title: str
    sample_size: int
    test_arm: str
    reference_arm: str
    hypotheses: tuple[HypothesisDesign, ...]
    interims: tuple[InterimDesign, ...]
    expected_accrual_months: float
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (infinite margin bounds as ``None``)."""
        return {
            "study_id": self.study_id,
            "title": self.title,
            "sample_size": self.sample_size,
            "arms": {"test": self.test_arm, "reference": self.reference_arm},
            "expected_accrual_months": self.expected_accrual_months,
            "hypotheses": [_hypothesis_dict(h) for h in self.hypotheses],
            "interim_analyses": [_interim_dict(i) for i in self.interims],
            "warnings": list(self.warnings),
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _hypothesis_dict(h: HypothesisDesign) -> dict[str, Any]:
    return {
        "endpoint": h.endpoint_id,
        "endpoint_name": h.endpoint_name,
        "kind": h.kind,
        "scale": h.scale,
        "margin": {"lower": _finite(h.margin.lower), "upper": _finite(h.margin.upper)},
        "interval_method": h.method,
        "level": h.level,
        "response_rate": {"test": h.p_test, "reference": h.p_reference},
        "planned_per_arm": {"test": h.n_test, "reference": h.n_reference},
        "exact_power_at_planned": h.power_at_planned,
        "target_power": h.target_power,
        "dropout_fraction_by_timepoint": h.dropout_fraction,
        "normal_approximation": {
            "formula": h.normal.formula,
            "evaluable_per_arm": [h.normal.n1, h.normal.n2],
            "enrolled_per_arm": [h.normal.n1_enrolled, h.normal.n2_enrolled],
        },
        "exact": {
            "smallest_per_arm": [h.exact.n1, h.exact.n2],
            "power": h.exact.power,
            "stable_per_arm": (
                None if h.exact.n1_stable is None else [h.exact.n1_stable, h.exact.n2_stable]
            ),
            "enrolled_per_arm": [h.exact.n1_enrolled, h.exact.n2_enrolled],
        },
        "power_curve": {
            "true_effect": list(h.curve_planned.effects),
            "power_at_planned": list(h.curve_planned.power),
            "power_at_exact_n": list(h.curve_exact.power),
        },
    }


def _interim_dict(i: InterimDesign) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": i.name,
        "purpose": i.purpose,
        "months_after_first_patient": i.months_after_first_patient,
        "information_fraction": i.information_fraction,
        "expected_enrolled": i.expected_enrolled,
        "expected_evaluable": i.expected_evaluable,
        "spending": i.spending,
        "binding": i.binding,
        "note": i.note,
        "boundaries": None,
    }
    if i.design is not None:
        out["boundaries"] = {
            "information_rates": i.design.information_rates.tolist(),
            "critical_values": [_finite(float(c)) for c in i.design.critical_values],
            "alpha_spent": i.design.alpha_spent.tolist(),
        }
    return out


def _dropout_fraction(per_year: float, weeks: float | None) -> float:
    """Probability of dropping out by ``weeks``: ``1 - (1 - per_year) ** (weeks / 52)``."""
    if weeks is None:
        return per_year
    return 1.0 - math.pow(1.0 - per_year, weeks / 52.0)


def _per_arm(protocol: Protocol) -> tuple[int, int, tuple[int, int]]:
    codes = [a.code for a in protocol.arms]
    ratio = dict(zip(codes, protocol.randomization.allocation_ratio, strict=True))
    a1, a2 = int(ratio[protocol.test_arm.code]), int(ratio[protocol.reference_arm.code])
    n = protocol.assumptions.sample_size
    n_test = round(n * a1 / (a1 + a2))
    return n_test, n - n_test, (a1, a2)


def _curve_effects(margin: Margin, scale: str, p_ref: float, points: int) -> np.ndarray:
    if scale == "ratio":
        lo = margin.lower if margin.lower > 0 else 0.5
        hi = margin.upper if math.isfinite(margin.upper) else 2.0
        grid = np.exp(np.linspace(math.log(lo * 0.9), math.log(hi / 0.9), points))
        return grid[grid * p_ref <= 1.0]
    lo = margin.lower if math.isfinite(margin.lower) else -0.3
    hi = margin.upper if math.isfinite(margin.upper) else 0.3
    pad = 0.25 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, points)
    return grid[(grid + p_ref >= 0.0) & (grid + p_ref <= 1.0)]


def _hypothesis_design(
    protocol: Protocol, endpoint_id: str, hyp: Hypothesis, points: int
) -> HypothesisDesign:
    endpoint = next(e for e in protocol.endpoints if e.id == endpoint_id)
    rates = protocol.assumptions.response_rate
    p1, p2 = rates[protocol.test_arm.code], rates[protocol.reference_arm.code]
    n1, n2, allocation = _per_arm(protocol)
    margin = hyp.to_margin()
    method = hyp.interval_method
    dropout = _dropout_fraction(protocol.assumptions.dropout_per_year, endpoint.timepoint_weeks)
    target = protocol.assumptions.power
    level = hyp.level
    normal = normal_sample_size(
        p1, p2, margin=margin, target_power=target, level=hyp.level,
        allocation=allocation, dropout=dropout,
    )  # fmt: skip
    exact = smallest_n(
        p1, p2, margin=margin, method=method, level=level, target_power=target,
        allocation=allocation, dropout=dropout,
    )  # fmt: skip
    effects = _curve_effects(margin, hyp.scale, p2, points)
    return HypothesisDesign(
        endpoint_id=endpoint.id,
        endpoint_name=endpoint.name,
        kind=hyp.kind,
        scale=hyp.scale,
        margin=margin,
        method=method,
        level=hyp.level,
        p_test=p1,
        p_reference=p2,
        n_test=n1,
        n_reference=n2,
        power_at_planned=exact_power(p1, p2, n1, n2, margin=margin, method=method, level=level),
        target_power=target,
        dropout_fraction=dropout,
        normal=normal,
        exact=exact,
        curve_planned=power_curve(p2, effects, n1, n2, margin=margin, method=method, level=level),
        curve_exact=power_curve(
            p2, effects, exact.n1, exact.n2, margin=margin, method=method, level=level
        ),
    )


def _expected_enrolled(protocol: Protocol, months: float) -> float:
    acc = protocol.assumptions.accrual
    knots, rates = accrual_knots(acc.sites, acc.activation_months, acc.rate_per_site_per_month)
    value = float(cumulative_rate(np.array([months]), knots, rates)[0])
    return min(value, float(protocol.assumptions.sample_size))


def _accrual_months(protocol: Protocol) -> float:
    """Expected months from the first patient in to the last (the mean accrual curve)."""
    lo, hi = 0.0, 1.0
    n = protocol.assumptions.sample_size
    while _expected_enrolled(protocol, hi) < n:
        lo, hi = hi, hi * 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _expected_enrolled(protocol, mid) < n else (lo, mid)
    return hi


def _interim_design(protocol: Protocol, interim: InterimAnalysis, alpha: float) -> InterimDesign:
    months = interim.months_after_first_patient
    enrolled = evaluable = None
    fraction = interim.information_fraction
    if months is not None:
        weeks = protocol.primary_endpoint.timepoint_weeks or 0.0
        enrolled = _expected_enrolled(protocol, months)
        evaluable = _expected_enrolled(protocol, months - weeks / WEEKS_PER_MONTH)
        if fraction is None and interim.spending != "none":
            fraction = evaluable / protocol.assumptions.sample_size
    design = None
    if interim.spending == "none":
        note = "descriptive look: no formal test, no alpha spent"
    elif fraction is None or not 0.0 < fraction < 1.0:
        note = "no patient is expected to be evaluable by then: no boundary can be computed"
    else:
        design = boundaries(
            [fraction, 1.0], alpha=alpha, spending=interim.spending, gamma=interim.gamma
        )
        note = f"{interim.spending} spending at information fraction {fraction:.3f}"
    return InterimDesign(
        name=interim.name,
        purpose=interim.purpose,
        months_after_first_patient=months,
        information_fraction=fraction,
        expected_enrolled=enrolled,
        expected_evaluable=None if evaluable is None else max(evaluable, 0.0),
        spending=interim.spending,
        binding=interim.binding,
        design=design,
        note=note,
    )


def design_trial(protocol: Protocol, *, curve_points: int = 41) -> DesignSummary:
    """Sample size, exact power, power curves and interim boundaries of a protocol.

    Parameters
    ----------
    protocol
        A validated protocol (:func:`equitrial.protocol.load_protocol`).
    curve_points
        Points of each power curve over the true effect (margin bounds widened by 10 %).

    Returns
    -------
    DesignSummary
        One :class:`HypothesisDesign` for the primary hypothesis, then one for each endpoint
        with a hypothesis of its own; one :class:`InterimDesign` per interim analysis.
    """
    hyps = [
        _hypothesis_design(
            protocol, protocol.primary_endpoint.id, protocol.hypothesis, curve_points
        )
    ]
    hyps += [
        _hypothesis_design(protocol, e.id, e.hypothesis, curve_points)
        for e in protocol.endpoints
        if e.hypothesis is not None and e.kind == "binary"
    ]
    alpha = protocol.hypothesis.alpha
    interims = tuple(_interim_design(protocol, i, alpha) for i in protocol.interim_analyses)
    return DesignSummary(
        study_id=protocol.study.id,
        title=protocol.study.title,
        sample_size=protocol.assumptions.sample_size,
        test_arm=protocol.test_arm.code,
        reference_arm=protocol.reference_arm.code,
        hypotheses=tuple(hyps),
        interims=interims,
        expected_accrual_months=_accrual_months(protocol),
        warnings=tuple(_warnings(protocol, hyps, interims)),
    )


def _warnings(
    protocol: Protocol, hyps: list[HypothesisDesign], interims: tuple[InterimDesign, ...]
) -> list[str]:
    """Facts the statistician must not miss: too little power, an interim with few data."""
    out = []
    for h in hyps:
        if h.power_at_planned < h.target_power:
            out.append(
                f"{h.endpoint_id}: exact power at the planned {h.n_test}/{h.n_reference} "
                f"per arm is {h.power_at_planned:.3f}, below the target {h.target_power:g}; "
                f"the exact search needs {h.exact.n1}/{h.exact.n2} evaluable "
                f"({h.exact.n1_enrolled}/{h.exact.n2_enrolled} enrolled)"
            )
    n = protocol.assumptions.sample_size
    weeks = protocol.primary_endpoint.timepoint_weeks
    for i in interims:
        if i.expected_evaluable is not None and i.expected_evaluable < 0.2 * n:
            out.append(
                f"interim '{i.name}' at month {i.months_after_first_patient:g}: about "
                f"{i.expected_enrolled:.0f} patients enrolled but only "
                f"{i.expected_evaluable:.1f} expected to have reached week {weeks:g} of the "
                f"primary endpoint"
            )
    return out
