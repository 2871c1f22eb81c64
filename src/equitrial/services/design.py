"""Use case: the statistician's design summary of a protocol (no database involved).

:func:`design_trial` reads a :class:`~equitrial.protocol.Protocol` and computes, for the primary
hypothesis and every secondary hypothesis the protocol states, the normal-approximation sample
size, the exact power at the planned size, the smallest size reaching the target power by exact
search, a power curve and the exact power over a grid of reference response rates; and ONE
group-sequential design over every formal look of the primary endpoint
(:mod:`equitrial.services._design_sequential`): boundaries, alpha spent, inflation factor,
inflated sample size, stopping probabilities and expected sample size. Every expected count and
the accrual duration are in months after the first patient in (:mod:`equitrial.design.accrual`
via :mod:`equitrial.design.looks`). The CLI (``equitrial design``) renders the result; the JSON
document and the HTML report are built by :mod:`equitrial.services._design_report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from equitrial.design.accrual import expected_accrual_months
from equitrial.design.joint import JointDesign, joint_design
from equitrial.design.sample_size import (
    ExactSampleSize,
    NormalSampleSize,
    PowerCurve,
    exact_power,
    normal_sample_size,
    power_curve,
    smallest_n,
)
from equitrial.errors import InvalidInputError
from equitrial.protocol import Hypothesis, Protocol
from equitrial.services._design_sequential import (
    LookDesign,
    SequentialSummary,
    look_warnings,
    sequential_summary,
)
from equitrial.stats.equivalence import Margin

__all__ = [
    "DesignSummary",
    "HypothesisDesign",
    "LookDesign",
    "SensitivityPoint",
    "SequentialSummary",
    "design_trial",
]

SENSITIVITY_REFERENCE_RATES = (0.25, 0.30, 0.35, 0.40, 0.45)


@dataclass(frozen=True, slots=True)
class SensitivityPoint:
    """Exact power at the planned size when the reference rate is ``p_reference``.

    The assumed true effect (ratio or difference of the protocol's rates) is kept, so
    ``p_test`` moves with ``p_reference``.
    """

    p_test: float
    p_reference: float
    power: float


@dataclass(frozen=True, slots=True)
class HypothesisDesign:
    """Sample size and power of one hypothesis on a binary endpoint.

    ``n_test`` and ``n_reference`` are the planned randomized sizes; the exact power at them
    assumes every patient evaluable (non-responder imputation of dropouts lowers it slightly;
    the simulator accounts for that). ``normal`` and ``exact`` are the fixed-design sizes
    needed, evaluable and enrolled (inflated for the dropout expected by the endpoint's time
    point); the group-sequential inflation of the primary hypothesis is in
    :class:`SequentialSummary`. ``sensitivity``: the exact power at the planned size over
    reference rates 0.25 to 0.45.
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
    sensitivity: tuple[SensitivityPoint, ...]
    allocation: tuple[int, int]


@dataclass(frozen=True, slots=True)
class DesignSummary:
    """Everything ``equitrial design`` reports for a protocol.

    ``sequential``: the joint group-sequential design of the primary endpoint; its ``looks``
    hold every interim (formal or descriptive) and the final, with expected counts.
    ``expected_accrual_months``: first patient in to last patient in (expected).
    """

    study_id: str
    title: str
    sample_size: int
    test_arm: str
    reference_arm: str
    hypotheses: tuple[HypothesisDesign, ...]
    sequential: SequentialSummary
    expected_accrual_months: float
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: no infinite or NaN number (``None`` and a note instead)."""
        from equitrial.services._design_report import design_document

        return design_document(self)


def _dropout_fraction(per_year: float, weeks: float | None) -> float:
    """Probability of dropping out by ``weeks``: ``1 - (1 - per_year) ** (weeks / 52)``."""
    if weeks is None:
        return per_year
    return 1.0 - math.pow(1.0 - per_year, weeks / 52.0)


def _per_arm(protocol: Protocol) -> tuple[int, int, tuple[int, int]]:
    n_test, n_reference = protocol.planned_per_arm()
    return n_test, n_reference, protocol.allocation()


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
        sensitivity=_sensitivity(p1, p2, n1, n2, hyp),
        allocation=allocation,
    )


def _sensitivity(
    p1: float, p2: float, n1: int, n2: int, hyp: Hypothesis
) -> tuple[SensitivityPoint, ...]:
    margin, out = hyp.to_margin(), []
    for ref in SENSITIVITY_REFERENCE_RATES:
        test = p1 / p2 * ref if hyp.scale == "ratio" else p1 - p2 + ref
        if not 0.0 <= test <= 1.0:
            continue
        power = exact_power(
            test, ref, n1, n2, margin=margin, method=hyp.interval_method, level=hyp.level
        )
        out.append(SensitivityPoint(test, ref, power))
    return tuple(out)


def _joint(protocol: Protocol) -> JointDesign:
    """:func:`joint_design`, its error naming the protocol field and what to change."""
    try:
        return joint_design(protocol)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{exc.field}: {exc.message}; give every interim that spends alpha the same "
            "spending (and gamma), or set spending = 'none' on a descriptive look",
            field=exc.field,
            value=exc.value,
        ) from exc


def design_trial(protocol: Protocol, *, curve_points: int = 41) -> DesignSummary:
    """Sample size, exact power, power curves and the joint group-sequential design.

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
        with a hypothesis of its own; the joint design of the primary endpoint.

    Raises
    ------
    InvalidInputError
        The formal interims name different spending functions
        (``field="interim_analyses.<i>.spending"``).
    """
    joint = _joint(protocol)  # first: a bad set of looks fails before the exact searches
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
    primary = hyps[0]
    seq = sequential_summary(
        protocol,
        fixed_evaluable=(primary.exact.n1, primary.exact.n2),
        allocation=primary.allocation,
        dropout=primary.dropout_fraction,
        planned=(primary.n_test, primary.n_reference),
        joint=joint,
    )
    return DesignSummary(
        study_id=protocol.study.id,
        title=protocol.study.title,
        sample_size=protocol.assumptions.sample_size,
        test_arm=protocol.test_arm.code,
        reference_arm=protocol.reference_arm.code,
        hypotheses=tuple(hyps),
        sequential=seq,
        expected_accrual_months=expected_accrual_months(seq.joint.accrual),
        warnings=tuple(_warnings(protocol, hyps, seq)),
    )


def _warnings(
    protocol: Protocol, hyps: list[HypothesisDesign], seq: SequentialSummary
) -> list[str]:
    """Facts the statistician must not miss: too little power, looks that cannot work."""
    out = []
    for h in hyps:
        if h.power_at_planned < h.target_power:
            out.append(
                f"{h.endpoint_id}: exact power at the planned {h.n_test}/{h.n_reference} "
                f"per arm is {h.power_at_planned:.3f}, below the target {h.target_power:g}; "
                f"the exact search needs {h.exact.n1}/{h.exact.n2} evaluable "
                f"({h.exact.n1_enrolled}/{h.exact.n2_enrolled} enrolled) in a fixed design; "
                "raise assumptions.sample_size"
            )
    out += look_warnings(seq, protocol.primary_endpoint.timepoint_weeks)
    return out
