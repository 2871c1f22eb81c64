"""Medical history and informed consent (issue 9): dates, ongoing conditions, the initial consent
and re-consents, queries, edits with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import CONSENT, TODAY, audit_rows, count, enrol, inserted_fields, rules

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import baseline, forms, status
from equitrial.services._base import LockedRecordError
from equitrial.store import models as m

BEFORE = CONSENT - dt.timedelta(days=400)
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _history(trial: Any, subject: Any, actor: str = "coordinator", **fields: Any) -> Any:
    values = {"term": "Hypertension", "category": "GENERAL", "start_date": BEFORE} | fields
    return baseline.record_medical_history(trial.engine, trial[actor], subject.id, **values)


def _consent(trial: Any, subject: Any, day: dt.date, kind: str = "INITIAL", **extra: Any) -> Any:
    version = extra.pop("version", "2.0")
    return baseline.record_consent(
        trial.engine,
        trial[extra.pop("actor", "coordinator")],
        subject.id,
        consent_date=day,
        version=version,
        consent_type=kind,
    )


# -- medical history --------------------------------------------------------------------------


def test_history_saved_many_per_subject_with_audit_rows(trial: Any, subject: Any) -> None:
    ongoing = _history(trial, subject, ongoing=True)
    ended = _history(
        trial,
        subject,
        term="Basal cell carcinoma",
        category="PRIOR CANCER",
        end_date=BEFORE + dt.timedelta(days=30),
    )
    assert (ongoing.query_ids, ended.query_ids) == ((), ())
    assert count(trial.engine, m.MedicalHistory) == 2
    assert {"term", "category", "start_date", "end_date"} <= inserted_fields(
        trial.engine, "medical_history", ended.id
    )


def test_history_impossible_values_are_refused_naming_the_field(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    for fields, field in (
        ({"ongoing": True, "end_date": BEFORE}, "end_date"),  # no end while ongoing
        ({"end_date": BEFORE - dt.timedelta(days=1)}, "end_date"),  # ends before it starts
        ({"start_date": TOMORROW}, "start_date"),
        ({"category": "CARDIAC"}, "category"),
        ({"term": " "}, "term"),
        ({"severity": "MILD"}, "severity"),
    ):
        with pytest.raises(InvalidInputError) as error:
            _history(trial, subject, **fields)
        assert error.value.field == field, fields
    assert (count(trial.engine, m.MedicalHistory), audit_rows(trial.engine)) == (0, before)


def test_history_refused_for_another_site_or_a_monitor(trial: Any, subject: Any) -> None:
    for actor in ("coordinator@B", "monitor"):
        with pytest.raises(PermissionDeniedError):
            _history(trial, subject, actor=actor, ongoing=True)
    assert count(trial.engine, m.MedicalHistory) == 0


def test_history_implausible_values_open_queries(trial: Any, subject: Any) -> None:
    no_end = _history(trial, subject)  # not ongoing, no end date
    assert rules(trial, no_end) == [("end_date", "required-if")]
    on_study = _history(trial, subject, start_date=CONSENT + dt.timedelta(days=1), ongoing=True)
    assert rules(trial, on_study) == [("start_date", "after-consent")]
    assert count(trial.engine, m.MedicalHistory) == 2


def test_history_edit_needs_a_reason_and_follows_the_workflow(trial: Any, subject: Any) -> None:
    view = _history(trial, subject, ongoing=True)
    with pytest.raises(InvalidInputError) as error:
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "medical_history",
            view.id,
            {"end_date": BEFORE + dt.timedelta(days=5)},  # still ongoing
            reason="resolved",
        )
    assert error.value.field == "end_date"
    status.verify(trial.engine, trial["monitor"], "medical_history", view.id)
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "medical_history",
        view.id,
        {"ongoing": False, "end_date": BEFORE + dt.timedelta(days=5)},
        reason="resolved before the study",
    )
    assert (changed.values["status"], changed.values["ongoing"]) == ("entered", False)
    status.verify(trial.engine, trial["monitor"], "medical_history", view.id)
    status.sign(
        trial.engine,
        trial["investigator"],
        "medical_history",
        view.id,
        password="correct horse battery",
        meaning="I confirm these data",
    )
    status.freeze(trial.engine, trial["data-manager"], "medical_history", view.id)
    with pytest.raises(LockedRecordError):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "medical_history",
            view.id,
            {"term": "Essential hypertension"},
            reason="coding",
        )


# -- informed consent -------------------------------------------------------------------------


def test_initial_consent_then_re_consent(trial: Any, subject: Any) -> None:
    initial = _consent(trial, subject, CONSENT, version="1.0")
    again = _consent(trial, subject, CONSENT + dt.timedelta(days=30), "RE-CONSENT", version="1.1")
    assert (initial.query_ids, again.query_ids) == ((), ())
    assert (initial.values["form_version"], again.values["form_version"]) == ("1.0", "1.1")
    assert {"consent_date", "form_version", "consent_type"} <= inserted_fields(
        trial.engine, "informed_consent", again.id
    )


def test_one_initial_consent_and_re_consent_only_after_it(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="INITIAL consent recorded first") as error:
        _consent(trial, subject, CONSENT, "RE-CONSENT")
    assert error.value.field == "consent_type"
    _consent(trial, subject, CONSENT)
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="initial consent already") as conflict:
        _consent(trial, subject, CONSENT + dt.timedelta(days=3))
    assert conflict.value.field == "consent_type"
    for day in (CONSENT, CONSENT - dt.timedelta(days=1)):  # not after the initial consent
        with pytest.raises(InvalidInputError, match="not after the initial") as error:
            _consent(trial, subject, day, "RE-CONSENT")
        assert error.value.field == "consent_date"
    for day, kind, field in (
        (TOMORROW, "RE-CONSENT", "consent_date"),
        (TODAY, "WITHDRAWAL", "consent_type"),
    ):
        with pytest.raises(InvalidInputError) as error:
            _consent(trial, subject, day, kind)
        assert error.value.field == field
    assert (count(trial.engine, m.InformedConsent), audit_rows(trial.engine)) == (1, before)


def test_consent_refused_for_another_site(trial: Any, subject: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        _consent(trial, subject, CONSENT, actor="coordinator@B")
    assert count(trial.engine, m.InformedConsent) == 0


def test_initial_consent_dated_otherwise_than_at_enrolment_is_queried(
    trial: Any, subject: Any
) -> None:
    view = _consent(trial, subject, CONSENT + dt.timedelta(days=2))
    assert rules(trial, view) == [("consent_date", "enrolment-consent")]


def test_consent_edits(trial: Any, subject: Any) -> None:
    initial = _consent(trial, subject, CONSENT)
    _consent(trial, subject, CONSENT + dt.timedelta(days=10), "RE-CONSENT")
    with pytest.raises(InvalidInputError, match="consent_type cannot be edited"):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "informed_consent",
            initial.id,
            {"consent_type": "RE-CONSENT"},
            reason="x",
        )
    with pytest.raises(InvalidInputError, match="not after the initial") as error:
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "informed_consent",
            initial.id,
            {"consent_date": CONSENT + dt.timedelta(days=10)},
            reason="date misread",
        )
    assert error.value.field == "consent_date"
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "informed_consent",
        initial.id,
        {"form_version": "2.1"},
        reason="version on the signed form is 2.1",
    )
    assert changed.values["form_version"] == "2.1"
