"""The corticosteroid flag of a con-med follows the adverse event it treats: when the AE is
edited (its term, and so its immune-related category), the con-meds that treat it are derived
again in the same transaction, audited as the system's derivation (issue 9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import TODAY, assert_trail_holds, enrol
from sqlalchemy import select

from equitrial.services import clinical, conmeds, status
from equitrial.services._derivation import DERIVATION_PREFIX
from equitrial.store import models as m
from equitrial.store.db import transaction

AE_START = TODAY - dt.timedelta(days=10)
PASSWORD = "correct horse battery"


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _flag(engine: Any, med_id: int) -> bool | None:
    with transaction(engine, read_only=True) as session:
        return session.get(m.ConMed, med_id).irae_corticosteroid  # type: ignore[union-attr]


def _flag_updates(engine: Any, med_id: int) -> list[tuple[str, str | None, str | None, str]]:
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                m.AuditTrail.action == "update",
                m.AuditTrail.table_name == "con_med",
                m.AuditTrail.record_id == str(med_id),
                m.AuditTrail.field == "irae_corticosteroid",
            )
            .order_by(m.AuditTrail.id)
        )
        return [(r.username, r.old_value, r.new_value, r.reason or "") for r in rows]


def _treated(trial: Any, subject: Any, term: str, name: str, route: str) -> tuple[Any, Any]:
    """An AE of grade 2 and a medication that treats it, started the day after."""
    ae = clinical.report_adverse_event(
        trial.engine, trial["coordinator"], subject.id, term=term, grade=2, start_date=AE_START
    )
    med = conmeds.record_con_med(
        trial.engine, trial["coordinator"], subject.id, name=name, indication="AE",
        route=route, start=AE_START + dt.timedelta(days=1), ongoing=True,
        adverse_event_id=ae.id,
    )  # fmt: skip
    return ae, med


def _change_term(trial: Any, ae: Any, term: str) -> Any:
    return clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae.id, {"term": term}, reason="coded"
    )


def test_the_flag_drops_when_the_ae_is_no_longer_immune_related(trial: Any, subject: Any) -> None:
    ae, steroid = _treated(trial, subject, "Pneumonitis", "Prednisone", "ORAL")
    assert steroid.values["irae_corticosteroid"] is True
    _change_term(trial, ae, "Diarrhea")  # CTCAE term with no immune-related category
    assert _flag(trial.engine, steroid.id) is False
    _change_term(trial, ae, "Colitis")  # immune-related again
    assert _flag(trial.engine, steroid.id) is True
    rows = _flag_updates(trial.engine, steroid.id)
    assert [(old, new) for _, old, new, _ in rows] == [("true", "false"), ("false", "true")]
    assert all(user.startswith(DERIVATION_PREFIX) for user, *_ in rows)
    assert f"adverse event {ae.id} changed" in rows[0][3] and "None" in rows[0][3]
    assert_trail_holds(trial.engine)


def test_a_frozen_con_med_is_queried_not_changed(trial: Any, subject: Any) -> None:
    ae, steroid = _treated(trial, subject, "Colitis", "Methylprednisolone", "INTRAVENOUS")
    status.verify(trial.engine, trial["monitor"], "con_med", steroid.id)
    status.sign(
        trial.engine, trial["investigator"], "con_med", steroid.id, password=PASSWORD,
        meaning="I approve these data",
    )  # fmt: skip
    status.freeze(trial.engine, trial["data-manager"], "con_med", steroid.id)
    _change_term(trial, ae, "Nausea")
    assert _flag(trial.engine, steroid.id) is True  # a frozen record never changes
    with transaction(trial.engine, read_only=True) as session:
        queries = session.scalars(
            select(m.Query).where(m.Query.table_name == "con_med", m.Query.rule == "derivation")
        ).all()
        assert [(q.record_id, q.field) for q in queries] == [(steroid.id, "irae_corticosteroid")]
