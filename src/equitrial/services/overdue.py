"""The report of overdue visits and missing forms per site, as of a date (read-only).

A planned visit (:mod:`equitrial.services.schedule`) is overdue when its window closed before
the report's date with nothing recorded (:func:`equitrial.clinical.calendar.overdue_visits`);
a visit that took place with an infusion due and no dose form is reported as a missing dose.

A planned visit is no longer due once the subject left treatment before it: after an end of
study or a death nothing is due; after an end of treatment only the tumour imaging the protocol
continues until progression (not when treatment ended for progression or death).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.clinical.calendar import PlannedVisit, overdue_visits
from equitrial.errors import NotFoundError
from equitrial.services.auth import Actor, require
from equitrial.services.subjects import SITE_STAFF
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["REPORT_ROLES", "OverdueVisit", "overdue_report"]

REPORT_ROLES = SITE_STAFF | {"monitor", "data-manager"}
"""Who reads the overdue report: site staff for their sites, monitors and data managers for the
sites of their memberships (a membership without a site: every site)."""


@dataclass(frozen=True)
class OverdueVisit:
    """A planned visit whose window closed with a form missing.

    ``missing`` is ``"visit"`` (no actual date and no dose: nothing was recorded) or ``"dose"``
    (the visit took place, an infusion was due and no dose form belongs to it).
    """

    site: str
    subject: str
    visit: str
    planned_date: dt.date
    window_end: dt.date
    days_overdue: int
    assessments: str
    missing: Literal["visit", "dose"]


def overdue_report(
    engine: Engine, actor: Actor, as_of: dt.date, *, site: str | None = None
) -> list[OverdueVisit]:
    """Planned visits of randomized subjects whose window closed before ``as_of`` with a form
    missing: the visit itself (no actual date, no dose) or, at a visit that took place with an
    infusion due, its dose form. A dose belongs to a visit when it is linked to it or, unlinked,
    dated in its window.

    Site staff see the sites where they hold their role, monitors and data managers the sites of
    their memberships (every site for a study-wide one): one role check, :data:`REPORT_ROLES`.

    Parameters
    ----------
    as_of
        The date of the report: a visit is overdue when ``window_end < as_of``
        (:func:`equitrial.clinical.calendar.overdue_visits`).
    site
        A site code to restrict the report to (one the actor may see).

    Returns
    -------
    list of OverdueVisit
        Site, subject, visit, planned date, window end, days overdue (``as_of - window_end``),
        the assessments due and what is missing; by site, subject and planned date.

    Raises
    ------
    PermissionDeniedError
        None of :data:`REPORT_ROLES` (at ``site``, when given).
    """
    with transaction(engine, read_only=True) as session:
        visible = actor.sites_with(REPORT_ROLES)
        site_id = None
        if site is not None:
            site_row = session.scalar(select(m.Site).where(m.Site.code == site))
            if site_row is None:
                raise NotFoundError(f"no site {site!r}", field="site", value=site)
            site_id = site_row.id
        if site_id is not None or visible is not None:
            require(actor, roles=REPORT_ROLES, site=site_id)
        query = (
            select(m.Visit, m.Subject.subject_code, m.Site.code)
            .join(m.Subject, m.Subject.id == m.Visit.subject_id)
            .join(m.Site, m.Site.id == m.Subject.site_id)
            .where(m.Visit.planned.is_(True), m.Subject.status == "randomized")
            .where(m.Visit.window_end < as_of)
        )
        if visible is not None:
            query = query.where(m.Subject.site_id.in_(visible))
        if site_id is not None:
            query = query.where(m.Subject.site_id == site_id)
        rows = [(visit, code, site_code) for visit, code, site_code in session.execute(query)]
        ends = _ends(session, sorted({visit.subject_id for visit, _, _ in rows}))
        rows = [r for r in rows if _still_due(r[0], ends.get(r[0].subject_id))]
        return _overdue_rows(session, rows, as_of)


_NO_IMAGING_AFTER = frozenset({"PROGRESSIVE DISEASE", "DEATH"})
"""End-of-treatment reasons after which no tumour imaging is due."""


@dataclass(frozen=True)
class _End:
    """When a subject left treatment (and whether tumour imaging stays due after it), and
    when it left the study (end of study or death): ``None`` while it has not."""

    treatment: dt.date | None = None
    imaging: bool = True
    study: dt.date | None = None


def _ends(session: Session, subject_ids: Sequence[int]) -> dict[int, _End]:
    ends: dict[int, _End] = {}
    if not subject_ids:
        return ends
    dispositions = select(
        m.Disposition.subject_id, m.Disposition.scope, m.Disposition.date, m.Disposition.decod
    ).where(m.Disposition.subject_id.in_(subject_ids))
    deaths = select(m.Death.subject_id, m.Death.date).where(m.Death.subject_id.in_(subject_ids))
    events: list[tuple[int, str, dt.date, str | None]] = [
        (s, scope, d, decod) for s, scope, d, decod in session.execute(dispositions)
    ]
    events += [(s, "DEATH", d, None) for s, d in session.execute(deaths)]
    for subject_id, scope, day, decod in events:
        end = ends.get(subject_id, _End())
        if scope == "END OF TREATMENT":
            end = _End(day, decod not in _NO_IMAGING_AFTER, end.study)
        elif scope in ("END OF STUDY", "DEATH"):
            end = _End(
                end.treatment, end.imaging, day if end.study is None else min(day, end.study)
            )
        ends[subject_id] = end
    return ends


def _still_due(visit: m.Visit, end: _End | None) -> bool:
    planned = visit.planned_date
    if end is None or planned is None:
        return True
    if end.study is not None and planned > end.study:
        return False
    if end.treatment is None or planned <= end.treatment:
        return True
    return end.imaging and "tumour-imaging" in (visit.assessments or "").split(",")


def _overdue_rows(
    session: Session, rows: Sequence[tuple[m.Visit, str, str]], as_of: dt.date
) -> list[OverdueVisit]:
    by_subject: dict[tuple[str, str, int], list[m.Visit]] = defaultdict(list)
    for visit, code, site_code in rows:
        by_subject[(site_code, code, visit.subject_id)].append(visit)
    subject_ids = sorted({key[2] for key in by_subject})
    given: dict[int, list[tuple[int | None, dt.date]]] = defaultdict(list)
    if subject_ids:
        doses = select(m.Dose.subject_id, m.Dose.visit_id, m.Dose.date).where(
            m.Dose.subject_id.in_(subject_ids)
        )
        for subject_id, visit_id, date in session.execute(doses):
            given[subject_id].append((visit_id, date))
    result = []
    for (site_code, code, subject_id), visits in sorted(by_subject.items()):
        dosed = {v.name for v in visits if _dosed(v, given[subject_id])}
        planned = [
            PlannedVisit(v.name, "schedule", v.planned_date, 0, v.window_start, v.window_end)
            for v in visits
            if v.planned_date is not None and v.window_start and v.window_end
        ]
        done = {v.name for v in visits if v.actual_date is not None} | dosed
        by_name = {p.name: p for p in planned}
        missing: list[tuple[PlannedVisit, Literal["visit", "dose"]]] = [
            (late, "visit") for late in overdue_visits(planned, done, as_of)
        ]
        missing += [
            (by_name[v.name], "dose")
            for v in visits
            if v.name in by_name
            and v.actual_date is not None
            and "dosing" in (v.assessments or "").split(",")
            and v.name not in dosed
        ]
        kinds = {v.name: v.assessments or "" for v in visits}
        for late, what in sorted(missing, key=lambda item: (item[0].target_date, item[1])):
            result.append(
                OverdueVisit(
                    site_code,
                    code,
                    late.name,
                    late.target_date,
                    late.window_end,
                    (as_of - late.window_end).days,
                    kinds[late.name],
                    what,
                )
            )
    return result


def _dosed(visit: m.Visit, doses: Sequence[tuple[int | None, dt.date]]) -> bool:
    """Whether a dose belongs to the visit: linked to it, or unlinked and dated in its window."""
    low, high = visit.window_start, visit.window_end
    return any(
        visit_id == visit.id
        or (visit_id is None and low is not None and high is not None and low <= date <= high)
        for visit_id, date in doses
    )
