"""Screen failure (issue 9): a screened subject who is not randomized; it blocks randomization
and a randomized subject cannot be screen-failed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import (
    CONSENT,
    STRATA,
    TODAY,
    audit_rows,
    count,
    enrol,
    inserted_fields,
    randomized,
    rules,
)
from sqlalchemy import select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import forms, outcomes, randomize, status, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _fail(trial: Any, subject: Any, actor: str = "coordinator", **fields: Any) -> Any:
    values: dict[str, Any] = {"date": TODAY, "reason": "WITHDRAWAL BY SUBJECT"} | fields
    return outcomes.record_screen_failure(trial.engine, trial[actor], subject.id, **values)


def _status(trial: Any, subject: Any) -> str:
    return subjects.get_subject(trial.engine, trial["monitor"], subject.id).status


def test_saved_as_a_screening_disposition_and_the_subject_is_screen_failed(
    trial: Any, subject: Any
) -> None:
    view = _fail(trial, subject, reason="OTHER", details="moved to another city")
    assert {k: view.values[k] for k in ("scope", "epoch", "decod", "reason_category")} == {
        "scope": "SCREEN FAILURE",
        "epoch": "SCREENING",
        "decod": "SCREEN FAILURE",
        "reason_category": "OTHER",
    }
    assert view.values["reason"] == "moved to another city"
    assert _status(trial, subject) == "screen failed"
    assert {"scope", "epoch", "decod", "reason_category", "date"} <= inserted_fields(
        trial.engine, "disposition", view.id
    )
    with transaction(trial.engine, read_only=True) as session:
        change = session.scalars(
            select(m.AuditTrail).where(
                m.AuditTrail.table_name == "subject",
                m.AuditTrail.record_id == str(subject.id),
                m.AuditTrail.field == "status",
            )
        ).all()[-1]
    assert (change.old_value, change.new_value, change.reason) == (
        "screening",
        "screen failed",
        "screen failure recorded",
    )


def test_a_screen_failed_subject_cannot_be_randomized_or_declared_eligible(
    trial: Any, subject: Any
) -> None:
    subjects.confirm_eligibility(trial.engine, trial["investigator"], subject.id, True)
    _fail(trial, subject)  # eligible, then withdrew before randomization
    with pytest.raises(ConflictError, match="screen-failed subject cannot be randomized"):
        randomize.randomize(trial.engine, trial["coordinator"], subject.id)
    with pytest.raises(ConflictError, match="screen failure") as error:
        subjects.confirm_eligibility(
            trial.engine, trial["investigator"], subject.id, True, reason="re-check"
        )
    assert error.value.field == "eligible"
    with pytest.raises(ConflictError, match="screen failure already"):
        _fail(trial, subject, date=TODAY - dt.timedelta(days=1))
    assert _status(trial, subject) == "screen failed"
    with transaction(trial.engine, read_only=True) as session:
        slot = session.scalar(
            select(m.RandomizationSchedule).where(m.RandomizationSchedule.subject_id == subject.id)
        )
    assert slot is None


def test_a_randomized_subject_cannot_be_screen_failed(trial: Any, subject: Any) -> None:
    randomized(trial, subject)
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="randomized subject cannot be a screen failure") as e:
        _fail(trial, subject)
    assert e.value.field == "scope"
    assert (count(trial.engine, m.Disposition), audit_rows(trial.engine)) == (0, before)
    assert _status(trial, subject) == "randomized"


def test_refused_for_another_site_or_a_monitor(trial: Any, subject: Any) -> None:
    for actor in ("coordinator@B", "monitor"):
        with pytest.raises(PermissionDeniedError):
            _fail(trial, subject, actor=actor)
    assert count(trial.engine, m.Disposition) == 0
    assert _status(trial, subject) == "screening"


def test_impossible_values_are_refused_naming_the_field(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    for fields, field in (
        ({"reason": "BORED"}, "reason_category"),
        ({"reason": "OTHER"}, "reason"),  # OTHER needs its details
        ({"date": TODAY + dt.timedelta(days=1)}, "date"),
        ({"date": CONSENT - dt.timedelta(days=1)}, "date"),  # before consent
    ):
        with pytest.raises(InvalidInputError) as error:
            _fail(trial, subject, **fields)
        assert error.value.field == field, fields
    assert (count(trial.engine, m.Disposition), audit_rows(trial.engine)) == (0, before)
    assert _status(trial, subject) == "screening"


def test_failed_criteria_of_a_subject_confirmed_eligible_is_queried(
    trial: Any, subject: Any
) -> None:
    subjects.confirm_eligibility(trial.engine, trial["investigator"], subject.id, True)
    view = _fail(trial, subject, reason="FAILED ELIGIBILITY CRITERIA")
    assert rules(trial, view) == [("reason_category", "eligibility-consistency")]
    other = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "S-2", consent_date=CONSENT, strata=STRATA
    )
    clean = _fail(trial, other, reason="FAILED ELIGIBILITY CRITERIA")  # never confirmed
    assert clean.query_ids == ()


def test_edited_with_a_reason_through_the_forms(trial: Any, subject: Any) -> None:
    view = _fail(trial, subject)
    for changes, field in (
        ({"reason_category": "OTHER"}, "reason"),  # without its text
        ({"epoch": "TREATMENT"}, "epoch"),
        ({"decod": "COMPLETED"}, "decod"),
    ):
        with pytest.raises(InvalidInputError) as error:
            forms.update_form(
                trial.engine, trial["coordinator"], "disposition", view.id, changes, reason="x"
            )
        assert error.value.field == field, changes
    status.verify(trial.engine, trial["monitor"], "disposition", view.id)
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "disposition",
        view.id,
        {"reason_category": "OTHER", "reason": "relocated"},
        reason="source: relocation, not withdrawal",
    )
    assert (changed.values["reason_category"], changed.values["status"]) == ("OTHER", "entered")
