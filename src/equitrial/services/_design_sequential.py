"""The group-sequential part of ``equitrial design``: one joint design over every formal look.

:func:`sequential_summary` takes the protocol's joint design (:func:`equitrial.design.joint.
joint_design`: every interim that spends alpha plus the final, one spending function) and adds
what a statistician reads off it: the inflation factor and the inflated sample size, and, for
each one-sided test of the equivalence hypothesis, the probability of crossing its boundary at
each look and the expected sample size under the alternative and at each margin.

Equivalence by two one-sided tests (TOST) in a group-sequential design (Jennison & Turnbull
2000, chapter 6): each one-sided test ``H0_L: effect <= L`` and ``H0_U: effect >= U`` uses the
same boundaries at the one-sided ``alpha``. Its z-statistic is, to a normal approximation on
the log-ratio (risk ratio) or the difference (risk difference) scale with the unrestricted
(Wald) variance at the assumed rates, ``Z_k ~ N(drift * sqrt(t_k), 1)`` with
``drift = (theta - margin) / se(n_max)`` (``theta`` the true effect, ``se(n_max)`` the
standard error at the planned evaluable size). The crossing probabilities by look of each test
are :func:`equitrial.design.sequential.stopping_probabilities` at that drift; the expected
sample size of a test is ``n_max * sum_k t_k P(stop at k)``. Equivalence can be declared at a
look only once both tests have crossed, so the expected sample size of the TOST trial is at
least the larger of the two (reported as ``expected_evaluable_lower_bound``).

References
----------
.. [1] Jennison C, Turnbull BW. *Group Sequential Methods with Applications to Clinical
   Trials*. Chapman & Hall/CRC, 2000. Chapter 6 (equivalence tests), chapter 7 (error spending).
.. [2] Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. *Biometrika*
   1983;70:659-663.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from equitrial.design.joint import JointDesign, joint_design
from equitrial.design.sequential import (
    GroupSequentialDesign,
    StoppingProbabilities,
    inflation_factor,
    stopping_probabilities,
)
from equitrial.protocol import Protocol
from equitrial.stats.equivalence import Margin

__all__ = [
    "LookDesign",
    "OneSidedStopping",
    "SequentialSummary",
    "StoppingScenario",
    "drift",
    "sequential_summary",
]


@dataclass(frozen=True, slots=True)
class LookDesign:
    """One look (interim or final) with its expected counts and, if formal, its boundary."""

    name: str
    purpose: str
    formal: bool
    final: bool
    months_after_first_patient: float
    expected_enrolled: float
    expected_evaluable: float
    information_rate: float
    critical_value: float | None  # z-scale; inf where the spending spends nothing
    cumulative_alpha_spent: float | None
    stage_level: float | None
    futility_bound: float | None  # z-scale, non-binding; None where the look has none
    spending: str  # the protocol's spending of an interim; that of the design at the final
    binding: bool


@dataclass(frozen=True, slots=True)
class OneSidedStopping:
    """One one-sided test of the TOST pair at one scenario."""

    test: str  # "lower" (H0: effect <= L) or "upper" (H0: effect >= U)
    drift: float
    probabilities: StoppingProbabilities
    expected_evaluable: float


@dataclass(frozen=True, slots=True)
class StoppingScenario:
    """Crossing probabilities of both one-sided tests at one true effect."""

    name: str
    true_effect: float
    tests: tuple[OneSidedStopping, ...]

    @property
    def expected_evaluable_lower_bound(self) -> float:
        """``max`` of the tests' expected sizes: the TOST trial stops only when both crossed."""
        return max(t.expected_evaluable for t in self.tests)


@dataclass(frozen=True, slots=True)
class SequentialSummary:
    """The joint design of the primary endpoint as ``equitrial design`` reports it."""

    joint: JointDesign
    looks: tuple[LookDesign, ...]
    alpha: float
    spending: str | None
    inflation_factor: float | None
    fixed_evaluable_per_arm: tuple[int, int]
    inflated_evaluable_per_arm: tuple[int, int] | None
    inflated_enrolled_per_arm: tuple[int, int] | None
    planned_evaluable: int
    scenarios: tuple[StoppingScenario, ...]
    problems: tuple[str, ...]

    @property
    def design(self) -> GroupSequentialDesign | None:
        """The joint design, ``None`` when a formal look has no or all information."""
        return self.joint.design


def drift(theta: float, bound: float, scale: str, p1: float, p2: float, n1: int, n2: int) -> float:
    """``E[Z_K]`` of the one-sided test of ``bound`` at true effect ``theta``.

    ``(log theta - log bound) / sqrt((1 - p1) / (n1 p1) + (1 - p2) / (n2 p2))`` on the ratio
    scale, ``(theta - bound) / sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)`` on the difference
    scale (unrestricted variance at the rates ``p1``, ``p2`` of the scenario). Positive when
    the effect lies above the bound (the lower test rejects), so the upper test uses its
    negative.
    """
    if scale == "ratio":
        se = math.sqrt((1.0 - p1) / (n1 * p1) + (1.0 - p2) / (n2 * p2))
        return (math.log(theta) - math.log(bound)) / se
    se = math.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    return (theta - bound) / se


def _rates_at(theta: float, scale: str, p_ref: float) -> tuple[float, float]:
    p1 = theta * p_ref if scale == "ratio" else theta + p_ref
    return min(max(p1, 1e-9), 1.0 - 1e-9), p_ref


def _scenarios(
    design: GroupSequentialDesign,
    margin: Margin,
    scale: str,
    p_test: float,
    p_ref: float,
    n: tuple[int, int],
) -> tuple[StoppingScenario, ...]:
    assumed = p_test / p_ref if scale == "ratio" else p_test - p_ref
    cases = [("alternative", assumed)]
    cases += [
        (f"{side} margin", b) for side, b in (("lower", margin.lower), ("upper", margin.upper))
    ]
    total = n[0] + n[1]
    out = []
    for name, theta in cases:
        if not math.isfinite(theta) or (scale == "ratio" and theta <= 0.0):
            continue
        p1, p2 = _rates_at(theta, scale, p_ref)
        tests = []
        for test, bound, sign in (("lower", margin.lower, 1.0), ("upper", margin.upper, -1.0)):
            if not math.isfinite(bound) or (scale == "ratio" and bound <= 0.0):
                continue
            d = sign * drift(theta, bound, scale, p1, p2, *n)
            prob = stopping_probabilities(
                design.critical_values,
                design.information_rates,
                drift=d,
                futility=design.futility_bounds,
            )
            tests.append(OneSidedStopping(test, d, prob, total * prob.expected_information_rate))
        out.append(StoppingScenario(name, theta, tuple(tests)))
    return tuple(out)


def _inflate(n: int, factor: float, block: int) -> int:
    """``n * factor`` rounded up to a multiple of the arm's allocation share ``block``."""
    return math.ceil(n * factor / block - 1e-9) * block


def _look_rows(protocol: Protocol, joint: JointDesign) -> tuple[LookDesign, ...]:
    purposes = {i.name: i.purpose for i in protocol.interim_analyses}
    spendings = {i.name: i.spending for i in protocol.interim_analyses}
    bindings = {i.name: i.binding for i in protocol.interim_analyses}
    design_spending = joint.design.spending if joint.design is not None else "none"
    formal_names = [x.name for x in joint.formal]
    rows = []
    for look in joint.looks:
        formal = look.name in formal_names
        crit = alpha_spent = level = futility = None
        if formal and joint.design is not None:
            k = formal_names.index(look.name)
            crit = float(joint.design.critical_values[k])
            alpha_spent = float(joint.design.alpha_spent[k])
            level = float(joint.design.stage_levels[k])
            bounds = joint.design.futility_bounds
            if bounds is not None and not look.final and math.isfinite(bounds[k]):
                futility = float(bounds[k])
        rows.append(
            LookDesign(
                name=look.name,
                purpose="final analysis" if look.final else purposes[look.name],
                formal=formal,
                final=look.final,
                months_after_first_patient=look.months_after_fpi,
                expected_enrolled=look.expected_enrolled,
                expected_evaluable=max(look.expected_evaluable, 0.0),
                information_rate=look.information_rate,
                critical_value=crit,
                cumulative_alpha_spent=alpha_spent,
                stage_level=level,
                futility_bound=futility,
                spending=design_spending if look.final else spendings[look.name],
                binding=False if look.final else bindings[look.name],
            )
        )
    return tuple(rows)


def sequential_summary(
    protocol: Protocol,
    *,
    fixed_evaluable: tuple[int, int],
    allocation: tuple[int, int],
    dropout: float,
    planned: tuple[int, int],
    joint: JointDesign | None = None,
) -> SequentialSummary:
    """The joint design of the primary endpoint, its inflation and stopping probabilities.

    Parameters
    ----------
    protocol
        The protocol.
    fixed_evaluable
        The fixed-design evaluable size per arm (the exact search), inflated by the factor.
    allocation
        The allocation ratio (test, reference): each arm is rounded up to a multiple of it.
    dropout
        Dropout by the primary time point; the inflated enrolled size is ``ceil(n / (1 -
        dropout))`` per arm.
    planned
        The protocol's planned size per arm, at which the drifts are computed.
    joint
        The protocol's :func:`joint_design`, if already computed.

    Raises
    ------
    InvalidInputError
        The formal interims name different spending functions (from :func:`joint_design`).
    """
    joint = joint_design(protocol) if joint is None else joint
    hyp = protocol.hypothesis
    rates = protocol.assumptions.response_rate
    p1, p2 = rates[protocol.test_arm.code], rates[protocol.reference_arm.code]
    design = joint.design
    factor = inflated = enrolled = None
    scenarios: tuple[StoppingScenario, ...] = ()
    if design is not None:
        factor = inflation_factor(design, protocol.assumptions.power)
        inflated = (
            _inflate(fixed_evaluable[0], factor, allocation[0]),
            _inflate(fixed_evaluable[1], factor, allocation[1]),
        )
        enrolled = (
            math.ceil(inflated[0] / (1.0 - dropout) - 1e-9),
            math.ceil(inflated[1] / (1.0 - dropout) - 1e-9),
        )
        scenarios = _scenarios(design, hyp.to_margin(), hyp.scale, p1, p2, planned)
    formal_interims = [i for i in protocol.interim_analyses if i.spending != "none"]
    return SequentialSummary(
        joint=joint,
        looks=_look_rows(protocol, joint),
        alpha=hyp.alpha,
        spending=formal_interims[0].spending if formal_interims else None,
        inflation_factor=factor,
        fixed_evaluable_per_arm=fixed_evaluable,
        inflated_evaluable_per_arm=inflated,
        inflated_enrolled_per_arm=enrolled,
        planned_evaluable=planned[0] + planned[1],
        scenarios=scenarios,
        problems=joint.problems,
    )


def look_warnings(s: SequentialSummary, timepoint_weeks: float | None) -> list[str]:
    """Each problem of the looks in one sentence, with what to change."""
    out = [f"{p}: move the look or time it by information fraction" for p in s.problems]
    final = s.looks[-1]
    weeks = f"week {timepoint_weeks:g}" if timepoint_weeks else "the primary time point"
    for look in s.looks[:-1]:
        if look.formal and look.critical_value is not None and math.isinf(look.critical_value):
            out.append(
                f"interim {look.name!r} (information {look.information_rate:.3f}): the "
                f"{s.spending} spending function spends no alpha there, so its boundary is "
                "infinite and it can never stop the trial; move it later or choose a spending "
                "function that spends early (e.g. pocock)"
            )
        if not look.formal and look.months_after_first_patient >= final.months_after_first_patient:
            out.append(
                f"interim {look.name!r} at month {look.months_after_first_patient:.1f} falls "
                f"after the last patient's {weeks} (month {final.months_after_first_patient:.1f})"
                ": it is the final analysis; move it earlier or drop it"
            )
        if not look.formal and look.expected_evaluable < 0.2 * final.expected_evaluable:
            out.append(
                f"interim {look.name!r} at month {look.months_after_first_patient:.3g} after the "
                f"first patient: about {look.expected_enrolled:.1f} patients enrolled but only "
                f"{look.expected_evaluable:.1f} expected to have reached {weeks} of the primary "
                "endpoint; move it later if it is to show the primary endpoint"
            )
    return out
