"""Four eyes at verification, and signatures that stop covering a record once it changes.

Issue #8, item 6 (two points): the person who entered a record, or changed one of its values,
cannot source-verify it; an edit after a signature voids the signature (the record shows
``entered``, the signature row says superseded; audited).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from equitrial.errors import PermissionDeniedError
from equitrial.services import clinical, randomize, status, subjects, users
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)
MEANING = "I approve these data"


@pytest.fixture
def both(trial):
    """A user who is a coordinator at site A and a monitor at every site."""
    users.add_user(trial.engine, trial["admin"], "coord-mon", PASSWORD, ["coordinator"], site="A")
    # separation of duties refuses this pair through the services; the four-eyes rule of
    # status.verify must hold even for an account an insider gave both roles in SQL
    with transaction(trial.engine) as session:
        user = session.scalar(select(m.User).where(m.User.username == "coord-mon"))
        session.add(m.RoleMembership(user_id=user.id, role="monitor", site_id=None))
    with transaction(trial.engine, read_only=True) as session:
        return actor_for(
            session, session.scalar(select(m.User).where(m.User.username == "coord-mon"))
        )


@pytest.fixture
def subject(trial):
    s = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        "G-1",
        strata=STRATA,
        eligible=True,
        consent_date=DAY,
    )
    return s.id, randomize.randomize(trial.engine, trial["coordinator"], s.id).kit


def _ae(trial, actor, subject_id, start=DAY + dt.timedelta(days=5)):
    return clinical.report_adverse_event(
        trial.engine, actor, subject_id, term="Fatigue", grade=1, start_date=start
    ).id


def _status(engine, record_id):
    with transaction(engine, read_only=True) as session:
        return session.get(m.AdverseEvent, record_id).status


def test_the_author_of_a_record_cannot_source_verify_it(trial, both, subject):
    subject_id, kit = subject
    own = _ae(trial, both, subject_id)
    with pytest.raises(PermissionDeniedError, match="cannot source-verify") as refused:
        status.verify(trial.engine, both, "adverse_event", own)
    assert refused.value.field == "actor"
    assert _status(trial.engine, own) == "entered"
    # nor a record whose value they changed
    edited = _ae(trial, trial["coordinator"], subject_id)
    clinical.update_record(
        trial.engine, both, "adverse_event", edited, {"grade": 2}, reason="source re-read"
    )
    with pytest.raises(PermissionDeniedError, match="cannot source-verify"):
        status.verify(trial.engine, both, "adverse_event", edited)
    # another monitor can; a value re-derived by the system because of their dose is not theirs
    status.verify(trial.engine, trial["monitor"], "adverse_event", own)
    other = _ae(trial, trial["coordinator"], subject_id)
    clinical.record_dose(
        trial.engine, both, subject_id, cycle=1, date=DAY, dose_mg=200.0, kit_number=kit
    )
    with transaction(trial.engine, read_only=True) as session:
        assert session.get(m.AdverseEvent, other).treatment_emergent is True
    assert status.verify(trial.engine, both, "adverse_event", other).values["status"] == "verified"


def _sign(trial, record_id):
    status.verify(trial.engine, trial["monitor"], "adverse_event", record_id)
    status.sign(
        trial.engine,
        trial["investigator"],
        "adverse_event",
        record_id,
        password=PASSWORD,
        meaning=MEANING,
    )


def _signature_audit(engine, field, action):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                m.AuditTrail.table_name == "signature",
                m.AuditTrail.field == field,
                m.AuditTrail.action == action,
            )
            .order_by(m.AuditTrail.id)
        )
        return [(r.action, r.record_id, r.new_value, r.reason) for r in rows]


def _signature_rows(engine, record_id):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.Signature)
            .where(m.Signature.table_name == "adverse_event", m.Signature.record_id == record_id)
            .order_by(m.Signature.id)
        )
        return [(s.id, s.meaning, s.superseded_at is None) for s in rows]


def test_an_edit_after_signing_supersedes_the_signature(trial, subject):
    subject_id, _ = subject
    ae = _ae(trial, trial["coordinator"], subject_id)
    _sign(trial, ae)
    ((signature, meaning, current),) = _signature_rows(trial.engine, ae)
    assert (meaning, current) == (MEANING, True)
    # the signature row is written through the audit layer (insert rows), not by hand
    assert _signature_audit(trial.engine, "meaning", "insert") == [
        ("insert", str(signature), MEANING, None)
    ]
    changed = clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae, {"grade": 2}, reason="typo"
    )
    assert changed.values["status"] == "entered"
    assert _signature_rows(trial.engine, ae) == [(signature, MEANING, False)]
    ((action, record_id, _, reason),) = _signature_audit(trial.engine, "superseded_at", "update")
    assert (action, record_id) == ("update", str(signature)) and "typo" in reason
    _sign(trial, ae)
    views = status.record_signatures(trial.engine, trial["monitor"], "adverse_event", ae)
    assert [(v.id, v.username, v.meaning, v.current) for v in views] == [
        (signature, "investigator-a", MEANING, False),
        (views[1].id, "investigator-a", MEANING, True),
    ]
    assert views[0].superseded_at is not None and views[1].superseded_at is None


def test_a_re_derived_value_or_an_unfreeze_also_supersedes_the_signature(trial, subject):
    subject_id, kit = subject
    derived, unfrozen = (_ae(trial, trial["coordinator"], subject_id) for _ in range(2))
    _sign(trial, derived)
    _sign(trial, unfrozen)
    status.freeze(trial.engine, trial["data-manager"], "adverse_event", unfrozen)
    status.unfreeze(
        trial.engine, trial["data-manager"], "adverse_event", unfrozen, reason="correction"
    )
    # a dose before the AEs' start makes them treatment-emergent: the signed one changes
    clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject_id,
        cycle=1,
        date=DAY,
        dose_mg=200.0,
        kit_number=kit,
    )
    for record_id in (derived, unfrozen):
        assert _status(trial.engine, record_id) == "entered"
        assert [current for _, _, current in _signature_rows(trial.engine, record_id)] == [False]
    reasons = [r[3] for r in _signature_audit(trial.engine, "superseded_at", "update")]
    assert any("unfrozen: correction" in r for r in reasons)
    assert any("first dose date" in r for r in reasons)
