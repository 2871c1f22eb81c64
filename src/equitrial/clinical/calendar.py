"""Study calendar: CDISC study days, visit schedules, visit windows and overdue visits.

All rules are pure: every date (the reference date, "today") is passed in by the caller.

References
----------
.. [1] CDISC Submission Data Standards Team. *Study Data Tabulation Model Implementation Guide:
   Human Clinical Trials* (SDTMIG) v3.4, 2021. Section 4.4.4 "Use of the 'Study Day'
   Variables" (--DY, no day 0).
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from equitrial.errors import InvalidInputError

__all__ = [
    "Anchor",
    "OneOffVisit",
    "PiecewiseVisits",
    "PlannedVisit",
    "RepeatingVisits",
    "Segment",
    "VisitComponent",
    "VisitMatch",
    "VisitSchedule",
    "VisitStatus",
    "Window",
    "date_of_study_day",
    "overdue_visits",
    "planned_visits",
    "study_day",
    "visit_status",
    "window_of",
]

Anchor = Literal["reference", "end_of_treatment"]
VisitStatus = Literal["in window", "out of window"]
_ANCHORS = ("reference", "end_of_treatment")


# --- argument checks -----------------------------------------------------------------------


def _check_date(value: Any, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInputError(
            f"{name} must be a datetime.date (not a datetime), got {value!r}",
            field=name,
            value=value,
            expected="a datetime.date",
        )
    return value


def _check_int(value: Any, name: str, *, minimum: int | None = None, nonzero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(
            f"{name} must be an integer, got {value!r}", field=name, value=value
        )
    if nonzero and value == 0:
        raise InvalidInputError(
            f"{name} cannot be 0: study days run ..., -1, 1, 2, ... with no day 0",
            field=name,
            value=value,
            expected="a non-zero integer",
        )
    if minimum is not None and value < minimum:
        raise InvalidInputError(
            f"{name} must be at least {minimum}, got {value!r}",
            field=name,
            value=value,
            expected=f">= {minimum}",
        )
    return int(value)


def _check_name(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}", field=name)


# --- study day ----------------------------------------------------------------------------


def study_day(date: dt.date, reference_date: dt.date) -> int:
    """CDISC study day of ``date`` relative to ``reference_date`` (SDTM ``--DY``).

    Parameters
    ----------
    date : datetime.date
        The date of the observation.
    reference_date : datetime.date
        The sponsor-defined reference start date (day 1), e.g. ``RFSTDTC``.

    Returns
    -------
    int
        ``date - reference_date + 1`` when ``date`` is on or after ``reference_date``,
        ``date - reference_date`` when before. Never 0.

    Raises
    ------
    InvalidInputError
        An argument is not a ``datetime.date`` (a ``datetime`` is refused: study days count
        calendar dates, not times).

    Notes
    -----
    The reference date is day 1 and the day before it is day -1; there is no day 0 [1]_.
    Differences are in calendar days, so leap days count.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4, "Use of the 'Study Day' Variables".
    """
    days = (_check_date(date, "date") - _check_date(reference_date, "reference_date")).days
    return days + 1 if days >= 0 else days


def date_of_study_day(day: int, reference_date: dt.date) -> dt.date:
    """The date of study day ``day``; the inverse of :func:`study_day`.

    Parameters
    ----------
    day : int
        A study day, ``..., -2, -1, 1, 2, ...``.
    reference_date : datetime.date
        The reference start date (day 1).

    Returns
    -------
    datetime.date
        ``reference_date + (day - 1)`` days for ``day >= 1``, ``reference_date + day`` days for
        ``day <= -1``.

    Raises
    ------
    InvalidInputError
        ``day`` is 0 (there is no study day 0) or not an integer; ``reference_date`` is not a
        ``datetime.date``.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4, "Use of the 'Study Day' Variables".
    """
    d = _check_int(day, "day", nonzero=True)
    ref = _check_date(reference_date, "reference_date")
    return ref + dt.timedelta(days=d - 1 if d > 0 else d)


# --- schedule description -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A visit window, in calendar days relative to the visit's target date.

    ``Window(-3, 3)`` allows the visit from 3 days before to 3 days after its target, both ends
    inclusive. ``start <= 0 <= end``: the target lies in its own window.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        _check_int(self.start, "window start")
        _check_int(self.end, "window end")
        if self.start > self.end:
            raise InvalidInputError(
                f"window start ({self.start}) is after window end ({self.end})",
                field="window",
                value=(self.start, self.end),
                expected="start <= end",
            )
        if self.start > 0 or self.end < 0:
            raise InvalidInputError(
                f"window ({self.start}, {self.end}) must contain its target: start <= 0 <= end",
                field="window",
                value=(self.start, self.end),
                expected="start <= 0 <= end",
            )


def _check_anchor(anchor: Any) -> None:
    if anchor not in _ANCHORS:
        raise InvalidInputError(
            f"anchor must be one of {_ANCHORS}, got {anchor!r}", field="anchor", value=anchor
        )


@dataclass(frozen=True, slots=True)
class OneOffVisit:
    """A single visit, e.g. screening (``day=-1, window=Window(-27, 0)``: days -28 to -1).

    ``day`` is a study day counted from the anchor date (day 1 = the anchor date, no day 0).
    """

    name: str
    day: int
    window: Window = Window(0, 0)
    anchor: Anchor = "reference"

    def __post_init__(self) -> None:
        _check_name(self.name, "visit name")
        _check_int(self.day, f"{self.name}: day", nonzero=True)
        _check_anchor(self.anchor)


@dataclass(frozen=True, slots=True)
class RepeatingVisits:
    """Visits at a fixed interval: "{name} 1" on ``first_day``, then every ``interval_days``.

    Stops after ``max_count`` visits or after study day ``last_day`` (inclusive), whichever
    comes first; with neither, it runs to the planning horizon. With
    ``ends_with_treatment=True`` no visit is planned after the end-of-treatment date.
    """

    name: str
    first_day: int
    interval_days: int
    window: Window
    max_count: int | None = None
    last_day: int | None = None
    anchor: Anchor = "reference"
    ends_with_treatment: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "visit name")
        _check_int(self.first_day, f"{self.name}: first_day", nonzero=True)
        _check_int(self.interval_days, f"{self.name}: interval_days", minimum=1)
        if self.max_count is not None:
            _check_int(self.max_count, f"{self.name}: max_count", minimum=1)
        if self.last_day is not None:
            _check_int(self.last_day, f"{self.name}: last_day", nonzero=True)
            if self.last_day < self.first_day:
                raise InvalidInputError(
                    f"{self.name}: last_day {self.last_day} is before first_day {self.first_day}",
                    field="last_day",
                    value=self.last_day,
                )
        _check_anchor(self.anchor)


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a piecewise schedule: a visit every ``interval_days`` up to ``until_day``.

    ``until_day`` is the last study day (inclusive) on which this segment may place a visit;
    ``None`` (only for the last segment) means no end.
    """

    interval_days: int
    until_day: int | None = None

    def __post_init__(self) -> None:
        _check_int(self.interval_days, "segment interval_days", minimum=1)
        if self.until_day is not None:
            _check_int(self.until_day, "segment until_day", nonzero=True)


@dataclass(frozen=True, slots=True)
class PiecewiseVisits:
    """Visits whose interval changes over time, e.g. scans every 63 days, later every 84.

    "{name} 1" is on ``first_day``. Each next target is the previous one plus the current
    segment's interval, as long as it falls on or before that segment's ``until_day``;
    otherwise the next segment takes over, counting from the last target. So with
    ``first_day=64, segments=(Segment(63, 379), Segment(84))`` the targets are days 64, 127,
    ..., 379 (week 54), then 463, 547, ...
    """

    name: str
    first_day: int
    segments: tuple[Segment, ...]
    window: Window
    anchor: Anchor = "reference"
    ends_with_treatment: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "visit name")
        _check_int(self.first_day, f"{self.name}: first_day", nonzero=True)
        _check_anchor(self.anchor)
        if not self.segments:
            raise InvalidInputError(f"{self.name}: segments must not be empty", field="segments")
        previous = self.first_day
        for i, seg in enumerate(self.segments):
            last = i == len(self.segments) - 1
            if seg.until_day is None and not last:
                raise InvalidInputError(
                    f"{self.name}: only the last segment may have no until_day (segment {i})",
                    field="segments",
                    value=i,
                )
            if seg.until_day is not None and seg.until_day < previous:
                raise InvalidInputError(
                    f"{self.name}: segment {i} ends on day {seg.until_day}, before day "
                    f"{previous} (first_day or the previous segment's end)",
                    field="segments",
                    value=i,
                )
            previous = seg.until_day if seg.until_day is not None else previous


VisitComponent = OneOffVisit | RepeatingVisits | PiecewiseVisits


@dataclass(frozen=True, slots=True)
class VisitSchedule:
    """A study's visit schedule: one-off, repeating and piecewise components."""

    components: tuple[VisitComponent, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.components]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidInputError(
                f"visit component names must be unique; repeated: {', '.join(dup)}",
                field="components",
                value=dup,
            )


# --- planned visits -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """One planned visit: its target date and window (both ends inclusive).

    ``study_day`` is the target's study day relative to the reference date, whatever the
    component's anchor.
    """

    name: str
    component: str
    target_date: dt.date
    study_day: int
    window_start: dt.date
    window_end: dt.date

    def contains(self, date: dt.date) -> bool:
        """Whether ``date`` lies in ``[window_start, window_end]``."""
        return self.window_start <= date <= self.window_end


def _targets(
    first_day: int, segments: Sequence[Segment], anchor_date: dt.date
) -> Iterator[dt.date]:
    """Target dates of a piecewise schedule, unbounded unless every segment ends."""
    target = date_of_study_day(first_day, anchor_date)
    yield target
    for seg in segments:
        step = dt.timedelta(days=seg.interval_days)
        while seg.until_day is None or study_day(target + step, anchor_date) <= seg.until_day:
            target += step
            yield target


def _component_targets(comp: VisitComponent, anchor_date: dt.date) -> Iterator[dt.date]:
    if isinstance(comp, OneOffVisit):
        return iter([date_of_study_day(comp.day, anchor_date)])
    if isinstance(comp, RepeatingVisits):
        targets = _targets(
            comp.first_day, [Segment(comp.interval_days, comp.last_day)], anchor_date
        )
        return islice(targets, comp.max_count)
    return _targets(comp.first_day, comp.segments, anchor_date)


def _plan_component(
    comp: VisitComponent,
    reference_date: dt.date,
    until: dt.date,
    end_of_treatment: dt.date | None,
) -> list[PlannedVisit]:
    anchor_date = reference_date if comp.anchor == "reference" else end_of_treatment
    if anchor_date is None:  # anchored at an end of treatment that has not happened
        return []
    stop = until
    if not isinstance(comp, OneOffVisit) and comp.ends_with_treatment and end_of_treatment:
        stop = min(until, end_of_treatment)
    visits = []
    for k, target in enumerate(_component_targets(comp, anchor_date), start=1):
        if target > stop:
            break
        visits.append(
            PlannedVisit(
                name=comp.name if isinstance(comp, OneOffVisit) else f"{comp.name} {k}",
                component=comp.name,
                target_date=target,
                study_day=study_day(target, reference_date),
                window_start=target + dt.timedelta(days=comp.window.start),
                window_end=target + dt.timedelta(days=comp.window.end),
            )
        )
    return visits


def planned_visits(
    schedule: VisitSchedule,
    reference_date: dt.date,
    until: dt.date,
    *,
    end_of_treatment: dt.date | None = None,
) -> list[PlannedVisit]:
    """List the visits a schedule plans for one subject, up to a horizon.

    Parameters
    ----------
    schedule : VisitSchedule
        The study's schedule.
    reference_date : datetime.date
        The subject's study day 1 (e.g. first dose or randomization, as the protocol says).
    until : datetime.date
        Planning horizon: visits whose target date is after ``until`` are not listed.
    end_of_treatment : datetime.date or None, default None
        The subject's end-of-treatment date, once known. Components anchored at
        ``"end_of_treatment"`` are planned only when it is given (their day 1 is this date);
        components with ``ends_with_treatment=True`` plan no target after it.

    Returns
    -------
    list[PlannedVisit]
        Sorted by target date, then name. Repeating and piecewise visits are named
        "{component name} {k}", k = 1, 2, ...; one-off visits keep the component's name.

    Raises
    ------
    InvalidInputError
        A date argument is not a ``datetime.date``; ``schedule`` is not a
        :class:`VisitSchedule`; two planned visits get the same name.

    Notes
    -----
    Targets are ``first_day`` (a study day relative to the anchor date) plus whole multiples
    of the interval in calendar days, so a target's study day relative to the reference date
    follows SDTMIG [1]_ (no day 0: a visit 3 days after day -1 is on day 3). Window ends are
    the target date plus the window offsets in calendar days, both ends inclusive. A segment's
    ``until_day`` and a repeating component's ``last_day`` are compared with the target's
    study day relative to the component's anchor.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4, "Use of the 'Study Day' Variables".
    """
    if not isinstance(schedule, VisitSchedule):
        raise InvalidInputError(
            f"schedule must be a VisitSchedule, got {type(schedule).__name__}", field="schedule"
        )
    _check_date(reference_date, "reference_date")
    _check_date(until, "until")
    if end_of_treatment is not None:
        _check_date(end_of_treatment, "end_of_treatment")
    visits = [
        v
        for comp in schedule.components
        for v in _plan_component(comp, reference_date, until, end_of_treatment)
    ]
    names = [v.name for v in visits]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInputError(
            f"planned visit names must be unique; repeated: {', '.join(dup)}",
            field="schedule",
            value=dup,
        )
    return sorted(visits, key=lambda v: (v.target_date, v.name))


# --- matching actual visits ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitMatch:
    """The planned visit an actual date is assigned to.

    ``days_from_target`` is ``actual - target`` in days: negative = early, positive = late.
    """

    visit: PlannedVisit
    days_from_target: int


def window_of(actual_date: dt.date, planned: Sequence[PlannedVisit]) -> VisitMatch | None:
    """The planned visit whose window contains ``actual_date``.

    Parameters
    ----------
    actual_date : datetime.date
        The date the visit took place.
    planned : Sequence[PlannedVisit]
        Planned visits, normally those of one component (doses, or scans), as returned by
        :func:`planned_visits` and filtered by ``PlannedVisit.component``.

    Returns
    -------
    VisitMatch or None
        ``None`` when no window contains the date. When several windows contain it, the visit
        with the nearest target date wins; at equal distance, the earlier target wins (then
        the first in ``planned``).

    Raises
    ------
    InvalidInputError
        ``actual_date`` is not a ``datetime.date``.

    Notes
    -----
    Windows include both ends. The tie-breaks are a project convention; the protocol's
    schedule of assessments should avoid overlapping windows within one component.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4 (study days; visit windows are sponsor-defined).
    """
    actual = _check_date(actual_date, "actual_date")
    hits = [v for v in planned if v.contains(actual)]
    if not hits:
        return None
    best = min(hits, key=lambda v: (abs((actual - v.target_date).days), v.target_date))
    return VisitMatch(visit=best, days_from_target=(actual - best.target_date).days)


def visit_status(actual_date: dt.date, visit: PlannedVisit) -> VisitStatus:
    """Whether a visit recorded as ``visit`` took place within its window.

    Parameters
    ----------
    actual_date : datetime.date
        The date the visit took place.
    visit : PlannedVisit
        The planned visit it was recorded against.

    Returns
    -------
    {"in window", "out of window"}
        ``"in window"`` when ``window_start <= actual_date <= window_end``.

    Raises
    ------
    InvalidInputError
        ``actual_date`` is not a ``datetime.date``.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4 (visit windows are sponsor-defined).
    """
    return (
        "in window" if visit.contains(_check_date(actual_date, "actual_date")) else "out of window"
    )


def overdue_visits(
    planned: Sequence[PlannedVisit], done: Collection[str], today: dt.date
) -> list[PlannedVisit]:
    """Planned visits whose window has closed without the visit being recorded.

    Parameters
    ----------
    planned : Sequence[PlannedVisit]
        The subject's planned visits.
    done : Collection[str]
        Names of the visits recorded (e.g. via :func:`window_of` on the actual dates). Names not
        in ``planned`` (unscheduled visits) are ignored.
    today : datetime.date
        The date of the check, passed in by the caller.

    Returns
    -------
    list[PlannedVisit]
        Visits with ``window_end < today`` whose name is not in ``done``, in ``planned`` order.

    Raises
    ------
    InvalidInputError
        ``today`` is not a ``datetime.date``; ``done`` is a single string or holds a non-string.

    Notes
    -----
    A visit is not overdue on the last day of its window: it can still take place that day.

    References
    ----------
    .. [1] CDISC SDTMIG v3.4, section 4.4.4 (visit windows are sponsor-defined).
    """
    day = _check_date(today, "today")
    if isinstance(done, str) or not all(isinstance(n, str) for n in done):
        raise InvalidInputError(
            "done must be a collection of visit names (strings), not a single string",
            field="done",
            value=done,
        )
    return [v for v in planned if v.window_end < day and v.name not in done]
