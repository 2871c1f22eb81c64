"""The simulator's specification of a protocol: its assumptions and its joint design's looks."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from equitrial.design._sim_spec import (
    Accrual,
    Analysis,
    InterimLook,
    Randomization,
    ResponseModel,
    ScanSchedule,
    StratificationFactor,
    SurvivalModel,
    TrialSpec,
)
from equitrial.errors import InvalidInputError

if TYPE_CHECKING:
    from equitrial.design.looks import Look
    from equitrial.protocol import Protocol

__all__ = ["planned_looks", "spec_from_protocol"]


def _survival_model(model: Any) -> SurvivalModel:
    if model.model == "exponential":
        return SurvivalModel.exponential(model.median_months)
    if model.model == "cure-mixture":
        return SurvivalModel.cure(model.cure_fraction, model.median_uncured_months)
    knots = tuple(float(p.start_month) for p in model.pieces)
    return SurvivalModel.piecewise(knots, tuple(float(p.hazard) for p in model.pieces))


def _schedule(protocol: Protocol, primary_weeks: float) -> ScanSchedule:
    weeks = protocol.schedule_weeks("tumour-imaging", primary_weeks + 52.0)
    if len(weeks) < 2:
        raise InvalidInputError(
            "the protocol's schedule needs at least two tumour-imaging scans for the simulator",
            field="schedule",
        )
    return ScanSchedule(weeks[0], weeks[1] - weeks[0], primary_weeks)


def _interims(protocol: Protocol) -> tuple[tuple[InterimLook, ...], float | None, tuple[Look, ...]]:
    """The simulator's interims, final critical value and planned looks from the joint design."""
    from equitrial.design.joint import joint_design

    joint = joint_design(protocol)
    if joint.design is None and len(joint.formal) > 1:
        raise InvalidInputError(
            "the design cannot be simulated: "
            + "; ".join(joint.problems)
            + ". Move the look or time it by information fraction",
            field="interim_analyses",
        )
    by_name = {i.name: i for i in protocol.interim_analyses}
    n = protocol.assumptions.sample_size
    design = joint.design
    formal_index = {look.name: k for k, look in enumerate(joint.formal)}
    interims = []
    for look in joint.looks[:-1]:
        interim = by_name[look.name]
        critical = futility = None
        if look.name in formal_index and design is not None:
            k = formal_index[look.name]
            critical = float(design.critical_values[k])
            if design.futility_bounds is not None and math.isfinite(design.futility_bounds[k]):
                futility = float(design.futility_bounds[k])
        if interim.information_fraction is not None:
            count = max(1, math.ceil(interim.information_fraction * n - 1e-9))
            timing: dict[str, Any] = {"evaluable": count}
        else:
            timing = {"months": float(look.months_after_fpi)}
        interims.append(InterimLook(look.name, critical=critical, futility=futility, **timing))
    final = None if design is None else float(design.critical_values[-1])
    return tuple(interims), final, joint.looks


def _allocation(protocol: Protocol) -> tuple[int, int]:
    from equitrial.protocol import PermutedBlocks

    rnd = protocol.randomization
    if not isinstance(rnd, PermutedBlocks):
        raise InvalidInputError(
            "the simulator supports permuted-block randomization only", field="randomization"
        )
    ratio = dict(zip((a.code for a in protocol.arms), rnd.allocation_ratio, strict=True))
    return ratio[protocol.test_arm.code], ratio[protocol.reference_arm.code]


def planned_looks(protocol: Protocol) -> tuple[Look, ...]:
    """The design's looks (expected month, enrolment, evaluable count) of a protocol."""
    return _interims(protocol)[2]


def spec_from_protocol(protocol: Protocol) -> TrialSpec:
    """The simulator's :class:`TrialSpec` for a protocol's design and assumptions.

    Parameters
    ----------
    protocol : equitrial.protocol.Protocol
        A loaded protocol (:func:`equitrial.protocol.load_protocol`).

    Returns
    -------
    TrialSpec
        Sample size, accrual, allocation ratio, block sizes, strata, scan schedule, primary time
        point and confirmation rule, response rates by arm role, PFS/OS models, dropout,
        hypothesis, and every look of the joint group-sequential design
        (:func:`equitrial.design.joint.joint_design`): the formal interims with their
        efficacy and futility bounds, the descriptive ones, the final critical value. What the
        protocol does not say keeps the :class:`TrialSpec` defaults; change it with
        :func:`dataclasses.replace`.

    Raises
    ------
    InvalidInputError
        Randomization other than permuted blocks, fewer than two tumour-imaging scans, or a
        design that cannot be built (a formal interim with no information or all of it).

    Notes
    -----
    - A look timed by information fraction ``f`` is taken when ``ceil(f n)`` patients have
      reached the primary time point (its information is then ``f`` to rounding); a look
      timed in months, at that month after the first patient in.
    - Stratification factors get equal prevalences per level (the protocol lists levels only).
    - The scan schedule is the first imaging week and the gap to the second, repeated (the
      protocol's later change of interval falls after the primary time point).
    - ``dropout_per_year`` (a proportion) becomes the exponential hazard ``-ln(1 - p)`` per year.
    - The time to response and the duration of response are not in the protocol: the
      defaults of :class:`ResponseModel` apply.

    References
    ----------
    .. [1] ICH E9(R1) addendum on estimands and sensitivity analysis in clinical trials, 2019
       (the ITT estimand with non-response for intercurrent events).
    """
    allocation = _allocation(protocol)
    assumptions = protocol.assumptions
    primary = protocol.primary_endpoint
    primary_weeks = float(primary.timepoint_weeks or 24.0)
    factors = tuple(
        StratificationFactor(name, tuple(1.0 / len(levels) for _ in levels))
        for name, levels in protocol.stratification.items()
    )
    hyp = protocol.hypothesis
    interims, final_critical, _ = _interims(protocol)
    acc = assumptions.accrual
    default = ResponseModel()
    block_sizes = tuple(int(b) for b in protocol.randomization.block_sizes)  # type: ignore[union-attr]
    return TrialSpec(
        accrual=Accrual(
            assumptions.sample_size, acc.sites, acc.activation_months, acc.rate_per_site_per_month
        ),
        randomization=Randomization(block_sizes, factors, allocation),
        schedule=_schedule(protocol, primary_weeks),
        response=replace(
            default,
            orr_test=assumptions.response_rate[protocol.test_arm.code],
            orr_reference=assumptions.response_rate[protocol.reference_arm.code],
            confirmation=bool(primary.confirmation_required),
        ),
        pfs=_survival_model(assumptions.pfs),
        os=_survival_model(assumptions.os),
        dropout_rate_per_year=-math.log1p(-assumptions.dropout_per_year),
        analysis=Analysis(
            hypothesis=hyp.kind,
            scale=hyp.scale,
            lower_margin=hyp.margin.lower,
            upper_margin=hyp.margin.upper,
            method=hyp.interval_method,
            level=hyp.level,
            interims=interims,
            final_critical=final_critical,
        ),
    )
