"""Warnings about the looks of a simulated design: what cannot work as meant, and what to change."""

from __future__ import annotations

import math

from equitrial.design._sim_result import ScenarioSummary
from equitrial.design._sim_spec import WEEKS_PER_MONTH, TrialSpec

__all__ = ["look_warnings"]


def _when(spec: TrialSpec, i: int) -> str:
    look = spec.analysis.interims[i]
    if look.months is not None:
        return f"interim {look.name!r} at month {look.months:g}"
    return f"interim {look.name!r} (at {look.evaluable} evaluable patients)"


def look_warnings(spec: TrialSpec, scenario: ScenarioSummary) -> tuple[str, ...]:
    """Each problem of the looks seen in ``scenario``'s replicates, in one sentence.

    An infinite efficacy boundary (the look can never stop the trial); a look at which an arm
    had nobody evaluable in some replicates (it shows nothing there); a look on or after the
    last patient's primary time point in some replicates (it is the final analysis there).
    """
    out = []
    lag = spec.schedule.primary_weeks / WEEKS_PER_MONTH
    weeks = f"week {spec.schedule.primary_weeks:g}"
    for i, s in enumerate(scenario.looks):
        when = _when(spec, i)
        if s.critical is not None and math.isinf(s.critical):
            out.append(
                f"{when}: its efficacy boundary is infinite (the spending function spends no "
                "alpha there), so it can never stop the trial; move it later or choose a "
                "spending function that spends early (e.g. pocock)"
            )
        if s.evaluable.estimate < 1.0:
            out.append(
                f"{when}: in {1.0 - s.evaluable.estimate:.1%} of simulated trials an arm had "
                f"nobody past {weeks} (the first patient reaches it {lag:.1f} months after "
                "entry), so the look shows nothing there; move it later"
            )
        if s.after_primary.estimate > 0.0:
            out.append(
                f"{when}: in {s.after_primary.estimate:.1%} of simulated trials it falls on or "
                f"after the last patient's {weeks} (month {s.months.mean:.1f} on average), "
                "where it is the final analysis; move it earlier or drop it"
            )
    return tuple(out)
