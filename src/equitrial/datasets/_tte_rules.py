"""Event or censoring of one subject for PFS-like endpoints (PFS, DOR) and OS.

Censoring of progression-free survival per the FDA guidance (2018), Table "PFS censoring":

====  ==========================================================  ==============================
CNSR  Situation                                                   Date (ADT)
====  ==========================================================  ==============================
0     progression (earliest documenting scan) or death            event date
1     no baseline tumour assessment                               origin (randomization)
2     no adequate post-baseline assessment, no event              origin (randomization)
3     PD or death after two or more missed scheduled assessments  last adequate assessment
4     new anticancer therapy started before PD or death           last adequate assessment
                                                                  on or before its start
5     no progression and no death                                 last adequate assessment
====  ==========================================================  ==============================

An adequate assessment is a time-point response other than NE. Death before the first
scheduled scan is an event (nothing was missed). "Two missed": the planned scans still due after
the last adequate assessment L are those whose window opens after L (``day - window > L``); the
event is censored when it falls after the second one's window closes (``day + window``), days
counted from randomization, with the protocol's imaging schedule
(:func:`equitrial.datasets._imaging.imaging_schedule`).

References
----------
.. [1] U.S. FDA. Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics.
   Guidance for Industry, December 2018, appendix table of PFS date-of-progression and
   censoring rules (table number not checked against the PDF here).
.. [2] CDISC ADaMIG v1.3, section 3.3.8 (CNSR: 0 event, positive integers censoring reasons).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from equitrial.datasets._imaging import ScheduledScan

__all__ = ["CENSORING", "Outcome", "os_outcome", "progression_outcome"]

CENSORING: Final = {
    1: "No baseline tumour assessment",
    2: "No adequate post-baseline tumour assessment",
    3: "Event after two or more missed tumour assessments",
    4: "New anticancer therapy before progression or death",
    5: "No progression or death; last adequate assessment",
}


@dataclass(frozen=True)
class Outcome:
    """ADT, CNSR, EVNTDESC, CNSDTDSC, SRCDOM, SRCVAR of one subject and parameter."""

    adt: dt.date
    cnsr: int
    evntdesc: str
    cnsdtdsc: str | None
    srcdom: str
    srcvar: str


def _two_missed(
    last: dt.date, event: dt.date, randdt: dt.date, schedule: Sequence[ScheduledScan]
) -> bool:
    since = (last - randdt).days
    due = [s for s in schedule if s.day - s.window > since]
    if len(due) < 2:
        return False
    return (event - randdt).days > due[1].day + due[1].window


def _censored(day: dt.date, code: int, at_origin: tuple[str, str] | None) -> Outcome:
    dom, var = at_origin if at_origin is not None else ("ADRS", "ADT")
    what = "Origin date" if at_origin is not None else "Last adequate tumour assessment"
    return Outcome(day, code, CENSORING[code], what, dom, var)


def progression_outcome(
    *,
    origin: dt.date,
    origin_source: tuple[str, str],
    randdt: dt.date,
    assessments: Sequence[tuple[dt.date, str]],
    baseline: bool,
    death: dt.date | None,
    new_therapy: dt.date | None,
    schedule: Sequence[ScheduledScan],
) -> Outcome:
    """Progression-or-death outcome from ``origin`` (randomization for PFS, response for DOR).

    Parameters
    ----------
    origin, origin_source
        STARTDT and the (SRCDOM, SRCVAR) that gives it (censoring at the origin cites it).
    randdt
        Randomization date: the imaging schedule counts from it.
    assessments
        RECIST 1.1 time-point responses (date, code) on or after randomization, date order.
    baseline
        Whether a baseline tumour assessment exists.
    death, new_therapy
        Date of death; start of the first new anticancer therapy.
    schedule
        Planned scans.

    Returns
    -------
    Outcome
        CNSR and dates per the table of the module docstring.
    """
    if not baseline:
        return _censored(origin, 1, origin_source)
    adequate = [(d, c) for d, c in assessments if c != "NE" and d >= origin]
    progression = next((d for d, c in adequate if c == "PD"), None)
    events = [d for d in (progression, death) if d is not None]
    event = min(events) if events else None
    if new_therapy is not None and (event is None or new_therapy < event):
        before = [d for d, _ in adequate if d <= new_therapy]
        return _censored(before[-1], 4, None) if before else _censored(origin, 4, origin_source)
    if event is not None:
        before = [d for d, _ in adequate if d < event]
        last = before[-1] if before else origin
        if _two_missed(max(last, randdt), event, randdt, schedule):
            return _censored(last, 3, None if before else origin_source)
        if progression is not None and progression == event:
            return Outcome(event, 0, "Disease progression", None, "ADRS", "ADT")
        return Outcome(event, 0, "Death", None, "ADSL", "DTHDT")
    if not adequate:
        return _censored(origin, 2, origin_source)
    return _censored(adequate[-1][0], 5, None)


def os_outcome(*, death: dt.date | None, last_alive: dt.date | None, randdt: dt.date) -> Outcome:
    """Overall survival: death is the event; else censored on the last known alive date."""
    if death is not None:
        return Outcome(death, 0, "Death", None, "ADSL", "DTHDT")
    if last_alive is not None and last_alive >= randdt:
        return Outcome(last_alive, 1, "Alive", "Last known alive date", "ADSL", "LSTALVDT")
    return Outcome(randdt, 1, "Alive", "Randomization date", "ADSL", "RANDDT")
