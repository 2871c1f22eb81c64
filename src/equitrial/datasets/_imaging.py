"""The protocol's tumour-imaging schedule as days from randomization (ADRS AVISIT, ADTTE).

The protocol (``[[schedule]]`` items of kind ``tumour-imaging``) gives weeks from
randomization (week 0 = day of randomization): explicit ``weeks``, or ``start_week`` every
``interval_weeks`` until ``until_week`` (open-ended items run to :data:`HORIZON_WEEKS`), each
with its ``window_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["HORIZON_WEEKS", "ScheduledScan", "imaging_schedule", "visit_name"]

HORIZON_WEEKS: Final = 520.0
"""Open-ended imaging schedules are expanded to ten years."""


@dataclass(frozen=True)
class ScheduledScan:
    """One planned scan: its week, its day offset from randomization (7 x week), its window."""

    week: float
    day: int
    window: int


def imaging_schedule(protocol: Any) -> tuple[ScheduledScan, ...]:
    """Planned tumour scans of ``protocol``, in time order (none without an imaging item)."""
    scans: dict[int, ScheduledScan] = {}
    for item in getattr(protocol, "schedule", ()):
        if item.kind != "tumour-imaging":
            continue
        window = int(item.window_days or 0)
        if item.weeks:
            weeks = [float(w) for w in item.weeks]
        else:
            start = float(item.start_week or item.interval_weeks or 0.0)
            step = float(item.interval_weeks or 0.0)
            until = float(item.until_week) if item.until_week is not None else HORIZON_WEEKS
            weeks = []
            week = start
            while step > 0 and week <= until + 1e-9:
                weeks.append(week)
                week += step
        for week in weeks:
            day = round(7 * week)
            if day > 0:
                scans.setdefault(day, ScheduledScan(week, day, window))
    return tuple(scans[d] for d in sorted(scans))


def visit_name(day: int, schedule: tuple[ScheduledScan, ...]) -> str:
    """``"WEEK n"`` of the planned scan whose window holds ``day``, else ``"UNSCHEDULED"``.

    ``day`` is days after randomization (ADT - RANDDT); the nearest planned scan wins.
    """
    best: ScheduledScan | None = None
    for scan in schedule:
        if abs(day - scan.day) <= scan.window and (
            best is None or abs(day - scan.day) < abs(day - best.day)
        ):
            best = scan
    if best is None:
        return "UNSCHEDULED"
    return f"WEEK {best.week:g}"
