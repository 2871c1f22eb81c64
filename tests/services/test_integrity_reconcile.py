"""`audit verify` checks the data, not only the chain (issue 8, item 2), on both databases.

Each test does what an insider with database access would do, with plain SQL on its own
connection, behind the services' back, and expects the replay of the audit trail against every
table to name what changed: table, key, column, stored and audited value.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from equitrial.errors import InvalidInputError
from equitrial.services import clinical, randomize, subjects
from equitrial.services.audit import verify_audit_trail
from equitrial.store import models as m
from equitrial.store.db import transaction
from equitrial.store.reconcile import Discrepancy

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


@pytest.fixture
def world(trial):  # type: ignore[no-untyped-def]
    """A randomized subject at site A with one grade-3 adverse event."""
    subject = subjects.enrol(trial.engine, trial["investigator"], "A", "1001", strata=STRATA)
    subjects.confirm_eligibility(trial.engine, trial["investigator"], subject.id, True)
    allocation = randomize.randomize(trial.engine, trial["coordinator"], subject.id)
    trial.kit = allocation.kit
    ae = clinical.report_adverse_event(
        trial.engine,
        trial["coordinator"],
        subject.id,
        term="Diarrhea",
        grade=3,
        start_date=dt.date.today() - dt.timedelta(days=3),
    )
    return trial, subject, ae


def _findings(engine: sa.Engine) -> tuple[Discrepancy, ...]:
    report = verify_audit_trail(engine)
    assert report.chain.ok  # the chain itself is untouched: only the data were changed
    return report.reconciliation.discrepancies


def _sql(engine: sa.Engine, statement: str, **params: object) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def test_untouched_database_reconciles(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, _ = world
    report = verify_audit_trail(trial.engine)
    assert report.ok, report.findings
    assert report.reconciliation.tables >= 20
    assert report.reconciliation.rows > 100


def test_a_direct_update_of_a_grade_is_named(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, ae = world
    _sql(trial.engine, "UPDATE adverse_event SET grade = 1 WHERE id = :id", id=ae.id)
    (found,) = _findings(trial.engine)
    assert (found.table, found.key, found.column) == ("adverse_event", str(ae.id), "grade")
    assert (found.stored, found.audited, found.kind) == ("1", "3", "changed")
    assert not verify_audit_trail(trial.engine).ok


def test_a_flipped_arm_is_found_and_not_revealed(world) -> None:  # type: ignore[no-untyped-def]
    trial, subject, _ = world
    _sql(
        trial.engine,
        "UPDATE randomization_schedule SET arm_code = CASE arm_code WHEN 'BIO' THEN 'REF' "
        "ELSE 'BIO' END WHERE subject_id = :id",
        id=subject.id,
    )
    (found,) = _findings(trial.engine)
    assert (found.table, found.column) == ("randomization_schedule", "arm_code")
    assert found.stored == found.audited == "<concealed>"
    assert "BIO" not in str(found) and "REF" not in str(found)


def test_a_flipped_free_slot_is_found(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, _ = world
    _sql(
        trial.engine,
        "UPDATE randomization_schedule SET arm_code = CASE arm_code WHEN 'BIO' THEN 'REF' "
        "ELSE 'BIO' END WHERE id = (SELECT max(id) FROM randomization_schedule)",
    )
    (found,) = _findings(trial.engine)
    assert (found.table, found.column) == ("randomization_schedule", "arm_code")
    assert found.kind == "changed"


def test_a_swapped_password_hash_is_found(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, _ = world
    _sql(
        trial.engine,
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = "
        "'admin') WHERE username = 'monitor'",
    )
    (found,) = _findings(trial.engine)
    assert (found.table, found.column) == ("users", "password_hash")
    assert found.stored == found.audited == "<concealed>"


def test_a_role_granted_in_sql_is_found(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, _ = world
    with transaction(trial.engine, read_only=True) as session:
        monitor = session.scalar(select(m.User.id).where(m.User.username == "monitor"))
    _sql(
        trial.engine,
        "INSERT INTO role_membership (user_id, role, site_id, created_at, updated_at) "
        "VALUES (:user, 'unblinded-statistician', NULL, :now, :now)",
        user=monitor,
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    (found,) = _findings(trial.engine)
    assert (found.table, found.kind, found.column) == ("role_membership", "added", None)


def test_a_deleted_row_is_found(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, ae = world
    _sql(trial.engine, "DELETE FROM adverse_event WHERE id = :id", id=ae.id)
    (found,) = _findings(trial.engine)
    assert (found.table, found.key, found.kind) == ("adverse_event", str(ae.id), "deleted")


def test_a_changed_date_and_a_changed_flag_are_both_named(world) -> None:  # type: ignore[no-untyped-def]
    trial, _, ae = world
    _sql(
        trial.engine,
        "UPDATE adverse_event SET serious = :yes, start_date = :day WHERE id = :id",
        yes=True,
        day=dt.date(2020, 1, 1),
        id=ae.id,
    )
    found = {(d.column, d.stored) for d in _findings(trial.engine)}
    assert found == {("serious", "true"), ("start_date", "2020-01-01")}


@pytest.mark.parametrize(("field", "value"), [("grade", 2.5), ("grade", "3"), ("grade", True)])
def test_a_value_of_the_wrong_type_is_refused_at_the_boundary(  # type: ignore[no-untyped-def]
    world, field: str, value: object
) -> None:
    trial, subject, _ = world
    with transaction(trial.engine, read_only=True) as session:
        before = session.scalar(select(sa.func.count()).select_from(m.AuditTrail))
    fields = {"term": "Fatigue", "grade": 2, "start_date": dt.date.today(), field: value}
    with pytest.raises(InvalidInputError) as caught:
        clinical.report_adverse_event(trial.engine, trial["coordinator"], subject.id, **fields)
    assert caught.value.field == field
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(sa.func.count()).select_from(m.AuditTrail)) == before
    assert verify_audit_trail(trial.engine).ok


def test_a_fractional_cycle_is_refused_and_an_integer_dose_is_audited_as_stored(  # type: ignore[no-untyped-def]
    world,
) -> None:
    trial, subject, _ = world
    day = dt.date.today()
    with pytest.raises(InvalidInputError) as caught:
        clinical.record_dose(
            trial.engine, trial["coordinator"], subject.id, cycle=1.5, date=day, dose_mg=200,
            kit_number=trial.kit,
        )  # fmt: skip
    assert caught.value.field == "cycle"
    dose = clinical.record_dose(
        trial.engine, trial["coordinator"], subject.id, cycle=1, date=day, dose_mg=200,
        kit_number=trial.kit,
    )  # fmt: skip
    with transaction(trial.engine, read_only=True) as session:
        audited = session.scalar(
            select(m.AuditTrail.new_value).where(
                m.AuditTrail.table_name == "dose",
                m.AuditTrail.record_id == str(dose.id),
                m.AuditTrail.field == "dose_mg",
            )
        )
    assert audited == "200.0"  # the float the database holds, not the int 200 that was given
    assert verify_audit_trail(trial.engine).ok


def test_a_fractional_grade_is_refused_and_a_whole_float_is_stored_as_audited(  # type: ignore[no-untyped-def]
    world,
) -> None:
    trial, _subject, ae = world
    with pytest.raises(InvalidInputError) as caught:
        clinical.update_record(
            trial.engine, trial["coordinator"], "adverse_event", ae.id, {"grade": 1.5},
            reason="typo",
        )  # fmt: skip
    assert caught.value.field == "grade"
    clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae.id, {"grade": 2.0}, reason="typo"
    )
    with transaction(trial.engine, read_only=True) as session:
        stored = session.get(m.AdverseEvent, ae.id)
        assert stored is not None and stored.grade == 2 and isinstance(stored.grade, int)
        last = session.scalars(
            select(m.AuditTrail)
            .where(m.AuditTrail.table_name == "adverse_event", m.AuditTrail.field == "grade")
            .order_by(m.AuditTrail.id.desc())
        ).first()
    assert last is not None and (last.old_value, last.new_value) == ("3", "2")
    assert verify_audit_trail(trial.engine).ok


def test_text_longer_than_its_column_is_refused_on_both_databases(world) -> None:  # type: ignore[no-untyped-def]
    trial, _subject, ae = world
    with pytest.raises(InvalidInputError) as caught:
        clinical.update_record(
            trial.engine, trial["coordinator"], "adverse_event", ae.id,
            {"outcome": "x" * 65}, reason="longer outcome",
        )  # fmt: skip
    assert caught.value.field == "outcome"
    with pytest.raises(InvalidInputError) as caught:
        clinical.update_record(
            trial.engine, trial["coordinator"], "adverse_event", ae.id,
            {"outcome": "RECOVERED/RESOLVED"}, reason="y" * 10_001,  # a CDISC OUT value
        )  # fmt: skip
    assert caught.value.field == "reason"
    with pytest.raises(InvalidInputError, match="NUL"):
        clinical.update_record(
            trial.engine, trial["coordinator"], "adverse_event", ae.id,
            {"outcome": "a\x00b"}, reason="nul",
        )  # fmt: skip
    assert verify_audit_trail(trial.engine).ok
