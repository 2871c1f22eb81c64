"""The regimen side of a dose: the context its checks need and the regimen it is recorded under.

A dose is checked against the protocol's regimens (:class:`~equitrial.services.checks.
DoseFitsRegimen`, :class:`~equitrial.services.checks.CurrentRegimen`): the subject's regimen on
the dose date comes from its regimen history (:func:`equitrial.services.schedule.regimen_on`).
A dose saved without a regimen is recorded under the one its dose fits, the subject's own when
it fits both or none.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from equitrial.clinical.dosing import fitting_regimens
from equitrial.services._visit_plan import dosing_regimens
from equitrial.services.checks import CheckContext
from equitrial.services.schedule import regimen_on
from equitrial.services.study import protocol_of
from equitrial.store import models as m

__all__ = ["dose_context"]


def dose_context(
    session: Session,
    subject: m.Subject,
    dose: m.Dose,
    today: dt.date,
    window: tuple[dt.date, dt.date] | None,
) -> CheckContext:
    """The check context of ``dose``; sets ``dose.regimen`` when it was left empty."""
    protocol = protocol_of(session, subject.study_id)
    regimens = dosing_regimens(protocol)
    tolerance = protocol.treatment.dose_tolerance_percent
    current = regimen_on(session, subject.id, dose.date)
    if dose.regimen is None or not str(dose.regimen).strip():
        fits = [r.code for r in fitting_regimens(dose.dose_mg, list(regimens.values()), tolerance)]
        if current is None:
            current = protocol.default_regimen.code
        dose.regimen = current if current in fits or not fits else fits[0]
    return CheckContext(
        today,
        window,
        regimens=regimens,
        current_regimen=current,
        dose_tolerance_percent=tolerance,
    )
