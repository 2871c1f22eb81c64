"""Exposure to study drug per subject, from the stored doses (blinded: no arm), for ADEX.

For each subject with a regimen history (randomized) the doses recorded are summarized by
:func:`equitrial.clinical.dosing.compute_exposure`: infusions, cumulative dose, duration of
exposure and relative dose intensity, a switch counting each period under its own regimen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from equitrial.clinical.dosing import DoseRecord, compute_exposure, regimen_on
from equitrial.services._visit_plan import dosing_regimens
from equitrial.services.auth import Actor, require
from equitrial.services.study import current_study, study_protocol
from equitrial.services.subjects import SITE_STAFF
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["EXPOSURE_ROLES", "SubjectExposure", "subject_exposure"]

EXPOSURE_ROLES = SITE_STAFF | {
    "monitor",
    "data-manager",
    "blinded-statistician",
    "unblinded-statistician",
}
"""Who reads exposure: site staff for their sites, sponsor roles for their memberships' sites."""


@dataclass(frozen=True)
class SubjectExposure:
    """One subject's exposure (no arm: the output is blinded).

    Attributes
    ----------
    subject, site
        Subject and site codes.
    regimens
        The regimens of the subject's history, in order (``("Q3W", "Q6W")`` after a switch).
    infusions, cumulative_dose_mg, first_dose, last_dose, duration_days, planned_dose_mg,
    relative_dose_intensity
        As :class:`equitrial.clinical.dosing.Exposure`.
    """

    subject: str
    site: str
    regimens: tuple[str, ...]
    infusions: int
    cumulative_dose_mg: float
    first_dose: dt.date | None
    last_dose: dt.date | None
    duration_days: int
    planned_dose_mg: float
    relative_dose_intensity: float | None


def subject_exposure(engine: Engine, actor: Actor) -> list[SubjectExposure]:
    """The exposure of every randomized subject the actor may see, by subject code.

    A dose stored without a regimen (recorded before regimens were stored) counts under the
    subject's regimen on its date.

    Raises
    ------
    PermissionDeniedError
        None of :data:`EXPOSURE_ROLES`.
    """
    visible = actor.sites_with(EXPOSURE_ROLES)
    if visible is not None and not visible:
        require(actor, roles=EXPOSURE_ROLES)
    with transaction(engine, read_only=True) as session:
        regimens = dosing_regimens(study_protocol(current_study(session)))
        query = (
            select(m.RegimenPeriod, m.Subject.subject_code, m.Site.code)
            .join(m.Subject, m.Subject.id == m.RegimenPeriod.subject_id)
            .join(m.Site, m.Site.id == m.Subject.site_id)
            .order_by(m.RegimenPeriod.start_date, m.RegimenPeriod.id)
        )
        if visible is not None:
            query = query.where(m.Subject.site_id.in_(visible))
        history: dict[int, list[m.RegimenPeriod]] = defaultdict(list)
        names: dict[int, tuple[str, str]] = {}
        for period, code, site in session.execute(query):
            history[period.subject_id].append(period)
            names[period.subject_id] = (code, site)
        doses: dict[int, list[m.Dose]] = defaultdict(list)
        if history:
            for dose in session.scalars(select(m.Dose).where(m.Dose.subject_id.in_(history))):
                doses[dose.subject_id].append(dose)
        result = []
        for subject_id, periods in history.items():
            starts = [(p.start_date, p.regimen) for p in periods]
            records = [
                DoseRecord(d.date, d.dose_mg, d.regimen or regimen_on(starts, d.date))
                for d in doses[subject_id]
            ]
            e = compute_exposure(records, regimens)
            code, site = names[subject_id]
            result.append(
                SubjectExposure(
                    code,
                    site,
                    tuple(p.regimen for p in periods),
                    e.infusions,
                    e.cumulative_dose_mg,
                    e.first_dose,
                    e.last_dose,
                    e.duration_days,
                    e.planned_dose_mg,
                    e.relative_dose_intensity,
                )
            )
        return sorted(result, key=lambda r: r.subject)
