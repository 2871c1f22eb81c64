"""A subject's planned visits from the protocol: the schedule with the subject's regimen.

Pure: the protocol, the regimen and the dates come in, the visits to write come out. Entries of
kind ``"dosing"`` follow the regimen (:func:`equitrial.clinical.dosing.planned_infusions`);
every other entry anchored at randomization keeps its weeks; entries anchored at the end of
treatment are planned only once it has happened (not here). Assessments due on the same day
are one visit, named by its study day (``"day 22"``), with the narrowest of their windows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from equitrial.clinical.calendar import study_day
from equitrial.clinical.dosing import DosingRegimen, planned_infusions, regimen_from_weeks
from equitrial.protocol import Protocol, Regimen

__all__ = ["PlannedRow", "dosing_regimen", "dosing_regimens", "plan_rows"]


@dataclass(frozen=True)
class PlannedRow:
    """One planned visit: its name, target date, window (inclusive) and the assessments due."""

    name: str
    planned_date: dt.date
    window_start: dt.date
    window_end: dt.date
    assessments: tuple[str, ...]

    @property
    def assessments_text(self) -> str:
        """``"dosing,labs"``: the kinds, sorted, comma-separated (the stored form)."""
        return ",".join(self.assessments)


def dosing_regimen(regimen: Regimen) -> DosingRegimen:
    """The pure rule's regimen of a protocol regimen (interval in whole days)."""
    return regimen_from_weeks(
        regimen.code, regimen.dose_mg, regimen.interval_weeks, regimen.max_cycles
    )


def dosing_regimens(protocol: Protocol) -> dict[str, DosingRegimen]:
    """Every regimen of the protocol, by code."""
    return {r.code: dosing_regimen(r) for r in protocol.regimens}


def plan_rows(
    protocol: Protocol,
    regimen: Regimen,
    day1: dt.date,
    *,
    regimen_start: dt.date | None = None,
) -> list[PlannedRow]:
    """The visits the protocol plans for a subject on ``regimen``, from ``regimen_start`` on.

    Parameters
    ----------
    protocol
        The study's protocol.
    regimen
        The regimen followed from ``regimen_start``.
    day1
        Day 1 of the subject's schedule (randomization, week 0).
    regimen_start
        First infusion under ``regimen`` (after a switch); ``None``: ``day1``. Only visits on
        or after it are returned.

    Returns
    -------
    list of PlannedRow
        By date; the infusions of the regimen up to the maximum duration of treatment and the
        other assessments anchored at randomization up to the same week.
    """
    start = day1 if regimen_start is None else regimen_start
    window = protocol.treatment.window_days
    max_days = round(protocol.max_treatment_weeks * 7)
    due: dict[dt.date, tuple[set[str], dt.date, dt.date]] = {}

    def add(kind: str, target: dt.date, half: int) -> None:
        kinds, low, high = due.get(target, (set(), dt.date.min, dt.date.max))
        kinds.add(kind)
        low = max(low, target - dt.timedelta(days=half))
        high = min(high, target + dt.timedelta(days=half))
        due[target] = (kinds, low, high)

    infusions = planned_infusions(
        dosing_regimen(regimen), start, max_days=max_days, window_days=window, reference_date=day1
    )
    for visit in infusions:
        add("dosing", visit.target_date, window)
    for item in protocol.schedule:
        if item.kind == "dosing" or item.anchor != "randomization":
            continue
        half = window if item.window_days is None else item.window_days
        for week in item.times(protocol.max_treatment_weeks):
            target = day1 + dt.timedelta(days=round(week * 7))
            if target >= start:
                add(item.kind, target, half)
    return [
        PlannedRow(f"day {study_day(target, day1)}", target, low, high, tuple(sorted(kinds)))
        for target, (kinds, low, high) in sorted(due.items())
    ]
