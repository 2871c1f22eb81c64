"""The protocol's group-sequential design of its primary endpoint: ONE design over all looks.

Every interim that spends alpha (``spending`` other than ``"none"``) is a look of one design
from :func:`equitrial.design.sequential.boundaries`, with the final look at information 1;
interims timed in months are converted to information with the protocol's accrual
(:mod:`equitrial.design.looks`). Descriptive looks (``spending = "none"``) test nothing and are
kept apart. Equivalence is two one-sided tests, each against the same boundaries at the
protocol's one-sided alpha. ``equitrial design`` prints this design and ``equitrial simulate``
runs it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from equitrial.design._sim_spec import WEEKS_PER_MONTH
from equitrial.design.accrual import AccrualModel
from equitrial.design.looks import Look, LookTiming, plan_looks
from equitrial.design.sequential import GroupSequentialDesign, Spending, boundaries
from equitrial.errors import InvalidInputError

if TYPE_CHECKING:
    from equitrial.protocol import InterimAnalysis, Protocol

__all__ = ["WEEKS_PER_MONTH", "JointDesign", "accrual_model", "joint_design"]


@dataclass(frozen=True, slots=True)
class JointDesign:
    """The looks of the primary endpoint and the group-sequential design of the formal ones.

    ``looks``: every interim and the final, in calendar order. ``formal``: the looks of the
    design (interims that spend alpha, then the final), matching ``design.information_rates``
    one to one. ``descriptive``: the interims that test nothing. ``design`` is ``None`` when a
    formal look has no information (nobody evaluable) or all of it (after the last patient's
    time point); ``problems`` then says why, one sentence per look.
    """

    accrual: AccrualModel
    lag_months: float
    looks: tuple[Look, ...]
    formal: tuple[Look, ...]
    descriptive: tuple[Look, ...]
    design: GroupSequentialDesign | None
    problems: tuple[str, ...]


def accrual_model(protocol: Protocol) -> AccrualModel:
    """The protocol's accrual assumptions as an :class:`AccrualModel`."""
    acc = protocol.assumptions.accrual
    return AccrualModel(
        protocol.assumptions.sample_size,
        acc.sites,
        acc.activation_months,
        acc.rate_per_site_per_month,
    )


def _futility(
    protocol: Protocol, formal: tuple[Look, ...], critical: Sequence[float]
) -> list[float] | None:
    """The non-binding futility bounds of the formal interims (``-inf`` where none)."""
    index = {i.name: k for k, i in enumerate(protocol.interim_analyses)}
    bounds = []
    for look, crit in zip(formal[:-1], critical, strict=False):
        k = index[look.name]
        bound = protocol.interim_analyses[k].futility_bound
        if bound is not None and bound >= crit:
            raise InvalidInputError(
                f"interim {look.name!r}: futility_bound {bound:g} must lie below the look's "
                f"efficacy boundary {crit:.4f}",
                field=f"interim_analyses.{k}.futility_bound",
                value=bound,
            )
        bounds.append(-math.inf if bound is None else float(bound))
    return bounds if any(math.isfinite(b) for b in bounds) else None


def _design(
    protocol: Protocol,
    formal: tuple[Look, ...],
    rates: list[float],
    first: InterimAnalysis | None,
) -> GroupSequentialDesign:
    spending: Spending = "obrien-fleming"  # a single look: every family gives z_(1 - alpha)
    if first is not None and first.spending != "none":
        spending = first.spending
    gamma = first.gamma if first is not None else None
    alpha = protocol.hypothesis.alpha
    design = boundaries(rates, alpha=alpha, spending=spending, gamma=gamma)
    futility = _futility(protocol, formal, design.critical_values.tolist())
    if futility is None:
        return design
    return boundaries(rates, alpha=alpha, spending=spending, gamma=gamma, futility_bounds=futility)


def joint_design(protocol: Protocol) -> JointDesign:
    """The joint group-sequential design of the protocol's primary endpoint.

    Raises
    ------
    InvalidInputError
        The formal interims name different spending functions (or Hwang-Shih-DeCani
        parameters): one design has one (``field="interim_analyses.<i>.spending"``); a
        ``futility_bound`` at or above its look's efficacy boundary
        (``field="interim_analyses.<i>.futility_bound"``).

    Notes
    -----
    The interims' ``futility_bound`` values become the design's non-binding
    ``futility_bounds`` (``-inf`` at a formal interim without one); the efficacy boundaries
    do not change.
    """
    model = accrual_model(protocol)
    lag = float(protocol.primary_endpoint.timepoint_weeks or 0.0) / WEEKS_PER_MONTH
    interims = protocol.interim_analyses
    timings = [
        LookTiming(i.name, i.months_after_first_patient, i.information_fraction) for i in interims
    ]
    looks = plan_looks(model, lag, timings)
    by_name = {i.name: i for i in interims}
    formal_interims = [i for i in interims if i.spending != "none"]
    first = formal_interims[0] if formal_interims else None
    for index, interim in enumerate(interims):
        if first is not None and interim.spending != "none":
            if (interim.spending, interim.gamma) != (first.spending, first.gamma):
                raise InvalidInputError(
                    f"interim {interim.name!r} spends alpha by {interim.spending!r} but "
                    f"{first.name!r} by {first.spending!r}: the looks of one design share one "
                    "spending function",
                    field=f"interim_analyses.{index}.spending",
                    value=interim.spending,
                )
    formal = tuple(x for x in looks if x.final or by_name[x.name].spending != "none")
    descriptive = tuple(x for x in looks if not x.final and by_name[x.name].spending == "none")
    problems = []
    for x in formal[:-1]:
        if x.information_rate <= 0.0:
            problems.append(
                f"interim {x.name!r} at month {x.months_after_fpi:.3g}: nobody is expected to "
                "have reached the primary time point, so it has no information"
            )
        elif x.information_rate >= 1.0 or x.months_after_fpi >= formal[-1].months_after_fpi:
            problems.append(
                f"interim {x.name!r} at month {x.months_after_fpi:.3g}: it falls after the "
                "last patient's primary time point, so it has all the information"
            )
    rates = [x.information_rate for x in formal]
    design = None
    if not problems and all(b > a for a, b in itertools.pairwise(rates)):
        design = _design(protocol, formal, rates, first)
    elif not problems:
        problems.append("two formal looks have the same information: merge them")
    return JointDesign(model, lag, looks, formal, descriptive, design, tuple(problems))
