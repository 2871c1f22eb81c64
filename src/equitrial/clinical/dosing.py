"""Dosing rules: planned infusion days of a regimen, dose fit, exposure and dose intensity.

All rules are pure: dates and dose records are passed in by the caller. A regimen is a flat dose
every ``interval_days`` (pembrolizumab: 200 mg every 21 days or 400 mg every 42 days, up to 24
months [1]_).

References
----------
.. [1] KEYTRUDA (pembrolizumab) injection, for intravenous use. US Prescribing Information,
   section 2.3 (recommended dosage: 200 mg every 3 weeks or 400 mg every 6 weeks, until disease
   progression or unacceptable toxicity, up to 24 months); EU SmPC, section 4.2.
.. [2] Hryniuk W, Bush H. The importance of dose intensity in chemotherapy of metastatic breast
   cancer. *J Clin Oncol* 1984;2:1281-1288.
.. [3] Longo DL, Duffey PL, DeVita VT Jr, et al. The calculation of actual or received dose
   intensity: a comparison of published methods. *J Clin Oncol* 1991;9:2042-2051.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from equitrial.clinical.calendar import (
    PlannedVisit,
    RepeatingVisits,
    VisitSchedule,
    Window,
    planned_visits,
    study_day,
)
from equitrial.errors import InvalidInputError

__all__ = [
    "DoseRecord",
    "DosingRegimen",
    "Exposure",
    "ExposurePeriod",
    "compute_exposure",
    "dose_fits",
    "exposure_periods",
    "fitting_regimens",
    "planned_infusions",
    "regimen_from_weeks",
    "regimen_on",
]


@dataclass(frozen=True, slots=True)
class DosingRegimen:
    """A flat-dose regimen: ``dose_mg`` every ``interval_days``, at most ``max_cycles`` times."""

    code: str
    dose_mg: float
    interval_days: int
    max_cycles: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.dose_mg, int | float) and math.isfinite(self.dose_mg)):
            raise InvalidInputError("dose_mg must be a finite number", field="dose_mg")
        if self.dose_mg <= 0:
            raise InvalidInputError("dose_mg must be > 0", field="dose_mg", value=self.dose_mg)
        if isinstance(self.interval_days, bool) or not isinstance(self.interval_days, int):
            raise InvalidInputError("interval_days must be an integer", field="interval_days")
        if self.interval_days < 1:
            raise InvalidInputError(
                "interval_days must be >= 1", field="interval_days", value=self.interval_days
            )


def regimen_from_weeks(
    code: str, dose_mg: float, interval_weeks: float, max_cycles: int | None = None
) -> DosingRegimen:
    """The regimen of a protocol entry given in weeks: interval ``round(interval_weeks * 7)``
    days (a protocol's ``[[treatment.regimens]]``: 3 weeks are 21 days)."""
    return DosingRegimen(code, dose_mg, round(interval_weeks * 7), max_cycles)


def regimen_on(history: Sequence[tuple[dt.date, str]], on: dt.date) -> str:
    """The regimen a subject was on at ``on``: the last of ``history`` (``(start date, regimen)``
    in the order they started) started on or before ``on``; the first one before it started.

    Raises
    ------
    InvalidInputError
        ``history`` is empty.
    """
    if not history:
        raise InvalidInputError("no regimen history", field="history")
    current = [regimen for start, regimen in history if start <= on]
    return current[-1] if current else history[0][1]


@dataclass(frozen=True, slots=True)
class DoseRecord:
    """One recorded infusion: its date, the dose given (mg) and the regimen it was given under."""

    date: dt.date
    dose_mg: float
    regimen: str


@dataclass(frozen=True, slots=True)
class ExposurePeriod:
    """Consecutive infusions under one regimen (see :func:`exposure_periods`).

    Attributes
    ----------
    regimen
        The regimen's code.
    first_dose, last_dose
        Dates of the period's first and last infusion.
    end
        The day the period ends (excluded): the next period's first infusion, or the last
        infusion plus the regimen's interval.
    infusions, cumulative_dose_mg
        Infusions and dose given in the period.
    planned_dose_mg
        ``dose_mg * (end - first_dose) / interval_days`` of the regimen.
    """

    regimen: str
    first_dose: dt.date
    last_dose: dt.date
    end: dt.date
    infusions: int
    cumulative_dose_mg: float
    planned_dose_mg: float

    @property
    def duration_days(self) -> int:
        """``end - first_dose`` in days."""
        return (self.end - self.first_dose).days


@dataclass(frozen=True, slots=True)
class Exposure:
    """Exposure of one subject to study drug.

    Attributes
    ----------
    infusions
        Number of infusions recorded (with a dose > 0).
    cumulative_dose_mg
        Sum of the doses given.
    first_dose, last_dose
        Dates of the first and last infusion (``None`` without any).
    duration_days
        ``last_dose - first_dose + interval`` of the last infusion's regimen (0 without any).
    planned_dose_mg
        The dose the regimen(s) plan over ``duration_days``: each period under one regimen
        contributes ``dose_mg * days / interval_days``.
    relative_dose_intensity
        ``cumulative_dose_mg / planned_dose_mg`` (``None`` without any infusion).
    """

    infusions: int
    cumulative_dose_mg: float
    first_dose: dt.date | None
    last_dose: dt.date | None
    duration_days: int
    planned_dose_mg: float
    relative_dose_intensity: float | None


def planned_infusions(
    regimen: DosingRegimen,
    start: dt.date,
    *,
    max_days: int,
    window_days: int = 0,
    reference_date: dt.date | None = None,
    first_cycle: int = 1,
    name: str = "cycle",
) -> list[PlannedVisit]:
    """The infusion days a regimen plans from ``start``, with their windows.

    Parameters
    ----------
    regimen : DosingRegimen
        The regimen followed from ``start``.
    start : datetime.date
        Planned date of the first infusion under this regimen.
    max_days : int
        Maximum duration of treatment in days from ``reference_date``: an infusion is planned
        only on a day strictly before ``reference_date + max_days`` (728 days = 104 weeks:
        the last Q3W infusion is on day 714, week 102).
    window_days : int, default 0
        Half-width of each infusion's window (``3``: from 3 days before to 3 days after).
    reference_date : datetime.date or None, default None
        Day 1 of treatment (the first infusion of all); ``None``: ``start``. After a regimen
        switch it is the original day 1, so the maximum duration still counts from it.
    first_cycle : int, default 1
        Number of the first cycle planned here (after a switch: the next cycle number); it only
        names the visits.
    name : str, default "cycle"
        Visits are named ``"{name} {k}"``, ``k = first_cycle, first_cycle + 1, ...``.

    Returns
    -------
    list[PlannedVisit]
        Target ``start + j * interval_days`` for ``j = 0, 1, ...``, at most
        ``regimen.max_cycles`` of them (when set: infusions under this regimen from ``start``),
        each with ``window_start = target - window_days`` and
        ``window_end = target + window_days``. Empty when ``start`` is on or after the end of
        treatment.

    Raises
    ------
    InvalidInputError
        ``start`` before ``reference_date``; ``max_days`` or ``first_cycle`` below 1,
        ``window_days`` negative; a date that is not a ``datetime.date``.

    Notes
    -----
    The label's maximum of 24 months [1]_ is 104 weeks: 35 cycles of 21 days (days 1 to 715)
    or 18 cycles of 42 days (days 1 to 715). After a switch, the maximum duration (counted from
    ``reference_date``) is what ends treatment; ``max_cycles`` counts the new regimen's
    infusions only. The plan is built with
    :func:`equitrial.clinical.calendar.planned_visits`.
    """
    reference = start if reference_date is None else reference_date
    if max_days < 1 or first_cycle < 1 or window_days < 0:
        raise InvalidInputError(
            "max_days and first_cycle must be >= 1 and window_days >= 0",
            field="max_days" if max_days < 1 else "first_cycle" if first_cycle < 1 else "window",
        )
    first_day = study_day(start, reference)
    if first_day < 1:
        raise InvalidInputError(
            f"start {start} is before reference_date {reference}", field="start", value=start
        )
    if first_day > max_days:
        return []
    component = RepeatingVisits(
        name=name,
        first_day=first_day,
        interval_days=regimen.interval_days,
        window=Window(-window_days, window_days),
        max_count=regimen.max_cycles,
        last_day=max_days,
    )
    until = reference + dt.timedelta(days=max_days)
    visits = planned_visits(VisitSchedule((component,)), reference, until)
    return [replace(v, name=f"{name} {first_cycle + k}") for k, v in enumerate(visits)]


def dose_fits(dose_mg: float, regimen: DosingRegimen, tolerance_percent: float = 0.0) -> bool:
    """Whether a dose is the regimen's dose, within ``tolerance_percent`` of it.

    Parameters
    ----------
    dose_mg : float
        The dose given.
    regimen : DosingRegimen
        The regimen.
    tolerance_percent : float, default 0
        Allowed distance, in percent of the regimen's dose (both ends inclusive).

    Returns
    -------
    bool
        ``|dose_mg - regimen.dose_mg| <= regimen.dose_mg * tolerance_percent / 100``
        (compared with a relative slack of 1e-9 for the decimal inputs).

    Raises
    ------
    InvalidInputError
        ``tolerance_percent`` negative or not finite.
    """
    if not (math.isfinite(tolerance_percent) and tolerance_percent >= 0):
        raise InvalidInputError(
            "tolerance_percent must be a finite number >= 0",
            field="tolerance_percent",
            value=tolerance_percent,
        )
    allowed = regimen.dose_mg * tolerance_percent / 100
    return abs(dose_mg - regimen.dose_mg) <= allowed + 1e-9 * regimen.dose_mg


def fitting_regimens(
    dose_mg: float, regimens: Sequence[DosingRegimen], tolerance_percent: float = 0.0
) -> tuple[DosingRegimen, ...]:
    """The regimens (in the given order) whose dose ``dose_mg`` fits (:func:`dose_fits`)."""
    return tuple(r for r in regimens if dose_fits(dose_mg, r, tolerance_percent))


def compute_exposure(
    doses: Sequence[DoseRecord], regimens: Mapping[str, DosingRegimen]
) -> Exposure:
    """Exposure and relative dose intensity of one subject from its dose records.

    Parameters
    ----------
    doses : Sequence[DoseRecord]
        The subject's infusions, in any order; doses of 0 mg (not given) are left out.
    regimens : Mapping[str, DosingRegimen]
        The regimens by code; every record's regimen must be one of them.

    Returns
    -------
    Exposure
        Infusions, cumulative dose, duration (first infusion to last infusion plus the last
        regimen's interval, in days), planned dose and relative dose intensity.

    Raises
    ------
    InvalidInputError
        A record's regimen is not in ``regimens``; a negative or non-finite dose.

    Notes
    -----
    Relative dose intensity is the dose received per unit time over the dose planned per unit
    time [2]_ [3]_. Over a history with switches, the records are split into periods of
    consecutive infusions (by date) under one regimen; a period lasts from its first infusion to
    the first infusion of the next period, the last one to the last infusion plus its regimen's
    interval, so the periods add up to ``duration_days``. A period of ``d`` days under a regimen
    of ``D`` mg every ``T`` days plans ``D * d / T`` mg. Delays lengthen the duration and lower
    the intensity; a missed cycle lowers the cumulative dose.
    """
    given = _given(doses, regimens)
    if not given:
        return Exposure(0, 0.0, None, None, 0, 0.0, None)
    periods = _periods(given, regimens)
    planned = 0.0
    for period in periods:
        planned += period.planned_dose_mg
    cumulative = math.fsum(r.dose_mg for r in given)
    return Exposure(
        infusions=len(given),
        cumulative_dose_mg=cumulative,
        first_dose=given[0].date,
        last_dose=given[-1].date,
        duration_days=(periods[-1].end - given[0].date).days,
        planned_dose_mg=planned,
        relative_dose_intensity=cumulative / planned,
    )


def exposure_periods(
    doses: Sequence[DoseRecord], regimens: Mapping[str, DosingRegimen]
) -> list[ExposurePeriod]:
    """The periods of one subject's exposure, each under one regimen (:func:`compute_exposure`).

    Parameters
    ----------
    doses, regimens
        As in :func:`compute_exposure`.

    Returns
    -------
    list[ExposurePeriod]
        In date order: consecutive infusions under one regimen; a period ends at the first
        infusion of the next one, the last at its last infusion plus its regimen's interval.
        Their durations and planned doses add up to :func:`compute_exposure`'s. Empty without
        any infusion.

    Raises
    ------
    InvalidInputError
        As in :func:`compute_exposure`.
    """
    given = _given(doses, regimens)
    return _periods(given, regimens) if given else []


def _given(doses: Sequence[DoseRecord], regimens: Mapping[str, DosingRegimen]) -> list[DoseRecord]:
    """The records with a dose > 0, by date; raises on an unknown regimen or a bad dose."""
    given = []
    for record in doses:
        if record.regimen not in regimens:
            known = ", ".join(regimens) or "none"
            raise InvalidInputError(
                f"dose on {record.date}: unknown regimen {record.regimen!r}; expected {known}",
                field="regimen",
                value=record.regimen,
            )
        if not (math.isfinite(record.dose_mg) and record.dose_mg >= 0):
            raise InvalidInputError(
                f"dose on {record.date}: dose_mg must be a finite number >= 0",
                field="dose_mg",
                value=record.dose_mg,
            )
        if record.dose_mg > 0:
            given.append(record)
    given.sort(key=lambda r: r.date)
    return given


def _periods(
    given: list[DoseRecord], regimens: Mapping[str, DosingRegimen]
) -> list[ExposurePeriod]:
    starts = [0] + [i for i in range(1, len(given)) if given[i].regimen != given[i - 1].regimen]
    last = given[-1]
    end = last.date + dt.timedelta(days=regimens[last.regimen].interval_days)
    periods = []
    for k, i in enumerate(starts):
        regimen = regimens[given[i].regimen]
        stop = starts[k + 1] if k + 1 < len(starts) else len(given)
        until = given[stop].date if stop < len(given) else end
        records = given[i:stop]
        periods.append(
            ExposurePeriod(
                regimen=given[i].regimen,
                first_dose=records[0].date,
                last_dose=records[-1].date,
                end=until,
                infusions=len(records),
                cumulative_dose_mg=math.fsum(r.dose_mg for r in records),
                planned_dose_mg=regimen.dose_mg
                * (until - given[i].date).days
                / regimen.interval_days,
            )
        )
    return periods
