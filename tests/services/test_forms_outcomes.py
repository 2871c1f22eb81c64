"""End of treatment, end of study, screen failure and death (issue 9): one per scope and
subject, the CDISC EPOCH of each, the order of the two ends, a screen failure blocking
randomization, the dates of a death, and the agreement of a death with the end of study."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import CONSENT, TODAY, audit_rows, count, enrol, randomized, rules

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import forms, outcomes, status
from equitrial.services._base import LockedRecordError
from equitrial.store import models as m

PASSWORD = "correct horse battery"
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


EOT, EOS = "END OF TREATMENT", "END OF STUDY"


def _end(trial: Any, subject: Any, scope: str, decod: str, date: dt.date, **extra: Any) -> Any:
    return outcomes.record_disposition(
        trial.engine,
        trial["coordinator"],
        subject.id,
        scope=scope,
        decod=decod,
        date=date,
        **extra,
    )


def _death(trial: Any, subject: Any, date: dt.date, cause: str = "PROGRESSIVE DISEASE") -> Any:
    return outcomes.record_death(
        trial.engine, trial["investigator"], subject.id, date=date, cause=cause
    )


def test_status_is_derived_from_the_reason(trial: Any, subject: Any) -> None:
    treatment = _end(trial, subject, EOT, "PROGRESSIVE DISEASE", YESTERDAY)
    study = _end(trial, subject, EOS, "COMPLETED", TODAY)
    assert treatment.values["disposition_status"] == "DISCONTINUED"
    assert study.values["disposition_status"] == "COMPLETED"
    assert (treatment.query_ids, study.query_ids) == ((), ())


def test_one_end_per_scope_and_subject(trial: Any, subject: Any) -> None:
    _end(trial, subject, EOT, "ADVERSE EVENT", YESTERDAY)
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="end of treatment already") as error:
        _end(trial, subject, EOT, "PHYSICIAN DECISION", TODAY)
    assert error.value.field == "scope"
    assert (count(trial.engine, m.Disposition), audit_rows(trial.engine)) == (1, before)


@pytest.mark.parametrize("first", [EOT, EOS])
def test_end_of_study_not_before_end_of_treatment(trial: Any, subject: Any, first: str) -> None:
    dates = {EOT: TODAY, EOS: YESTERDAY}
    second = EOS if first == EOT else EOT
    _end(trial, subject, first, "WITHDRAWAL BY SUBJECT", dates[first])
    with pytest.raises(InvalidInputError, match="before the end of treatment") as error:
        _end(trial, subject, second, "WITHDRAWAL BY SUBJECT", dates[second])
    assert error.value.field == "date"
    assert count(trial.engine, m.Disposition) == 1


def test_other_needs_its_text_and_the_scope_cannot_be_edited(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"reason \(required-if\)") as error:
        _end(trial, subject, EOT, "OTHER", TODAY)
    assert error.value.field == "reason"
    view = _end(trial, subject, EOT, "OTHER", TODAY, reason="moved abroad")
    with pytest.raises(InvalidInputError, match="scope cannot be edited"):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "disposition",
            view.id,
            {"scope": EOS},
            reason="wrong box",
        )
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "disposition",
        view.id,
        {"decod": "COMPLETED", "reason": None},
        reason="completed per protocol",
    )
    assert changed.values["disposition_status"] == "COMPLETED"


def test_disposition_before_consent_is_refused(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="before the subject's consent") as error:
        _end(trial, subject, EOS, "LOST TO FOLLOW-UP", CONSENT - dt.timedelta(days=1))
    assert error.value.field == "date"


def test_one_death_per_subject(trial: Any, subject: Any) -> None:
    _death(trial, subject, TODAY)
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="recorded already"):
        _death(trial, subject, TODAY, "UNKNOWN")
    assert (count(trial.engine, m.Death), audit_rows(trial.engine)) == (1, before)


def test_death_dates(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"date \(not-future\)"):
        _death(trial, subject, TODAY + dt.timedelta(days=1))
    with pytest.raises(InvalidInputError, match="before the subject's consent") as error:
        _death(trial, subject, CONSENT - dt.timedelta(days=1))
    assert error.value.field == "date"
    randomized(trial, subject)  # randomized today
    with pytest.raises(InvalidInputError, match="before randomization") as error:
        _death(trial, subject, YESTERDAY)
    assert error.value.field == "date"
    assert count(trial.engine, m.Death) == 0


def test_death_and_end_of_study_for_death_agree(trial: Any, subject: Any) -> None:
    death = _death(trial, subject, TODAY)
    end = _end(trial, subject, EOS, "DEATH", TODAY)
    assert (death.query_ids, end.query_ids) == ((), ())


def test_death_with_an_end_of_study_not_for_death_is_queried(trial: Any, subject: Any) -> None:
    _death(trial, subject, TODAY)
    end = _end(trial, subject, EOS, "WITHDRAWAL BY SUBJECT", TODAY)
    assert count(trial.engine, m.Disposition) == 1
    assert rules(trial, end) == [("decod", "death-consistency")]


def test_death_dated_apart_from_its_end_of_study_is_queried(trial: Any, subject: Any) -> None:
    _end(trial, subject, EOS, "DEATH", YESTERDAY)
    death = _death(trial, subject, TODAY)
    assert count(trial.engine, m.Death) == 1
    assert rules(trial, death) == [("date", "death-consistency")]


def test_workflow_verify_then_edit_returns_to_entered_and_frozen_cannot_change(
    trial: Any, subject: Any
) -> None:
    death = _death(trial, subject, TODAY)
    verified = status.verify(trial.engine, trial["monitor"], "death", death.id)
    assert verified.values["status"] == "verified"
    changed = forms.update_form(
        trial.engine,
        trial["investigator"],
        "death",
        death.id,
        {"cause": "UNKNOWN"},
        reason="autopsy report inconclusive",
        expected_version=verified.values["version"],
    )
    assert (changed.values["status"], changed.values["cause"]) == ("entered", "UNKNOWN")
    with pytest.raises(ConflictError, match="changed since"):
        forms.update_form(
            trial.engine,
            trial["investigator"],
            "death",
            death.id,
            {"cause": "OTHER"},
            reason="stale",
            expected_version=verified.values["version"],
        )
    status.verify(trial.engine, trial["monitor"], "death", death.id)
    status.sign(
        trial.engine,
        trial["investigator"],
        "death",
        death.id,
        password=PASSWORD,
        meaning="I confirm these data",
    )
    status.freeze(trial.engine, trial["data-manager"], "death", death.id)
    with pytest.raises(LockedRecordError):
        forms.update_form(
            trial.engine,
            trial["investigator"],
            "death",
            death.id,
            {"cause": "ADVERSE EVENT"},
            reason="late",
        )


# -- CDISC EPOCH of each disposition ---------------------------------------------------------


def test_end_of_treatment_happens_in_the_treatment_epoch(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="TREATMENT epoch") as error:
        _end(trial, subject, EOT, "ADVERSE EVENT", TODAY, epoch="FOLLOW-UP")
    assert error.value.field == "epoch"
    assert count(trial.engine, m.Disposition) == 0
    view = _end(trial, subject, EOT, "ADVERSE EVENT", TODAY)
    assert (view.values["scope"], view.values["epoch"]) == (EOT, "TREATMENT")


def test_study_is_not_a_cdisc_epoch(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"epoch \(terminology\)") as error:
        _end(trial, subject, EOS, "COMPLETED", TODAY, epoch="STUDY")
    assert error.value.field == "epoch"


def test_end_of_study_epoch_of_a_subject_never_randomized_is_screening(
    trial: Any, subject: Any
) -> None:
    view = _end(trial, subject, EOS, "WITHDRAWAL BY SUBJECT", TODAY)
    assert view.values["epoch"] == "SCREENING"


def test_end_of_study_epoch_is_treatment_without_an_earlier_end_of_treatment(
    trial: Any, subject: Any
) -> None:
    randomized(trial, subject)
    _end(trial, subject, EOT, "PROGRESSIVE DISEASE", TODAY)
    view = _end(trial, subject, EOS, "PROGRESSIVE DISEASE", TODAY)  # same day: still treatment
    assert view.values["epoch"] == "TREATMENT"


def test_end_of_study_after_the_end_of_treatment_is_in_follow_up(trial: Any, subject: Any) -> None:
    _end(trial, subject, EOT, "PROGRESSIVE DISEASE", YESTERDAY)
    view = _end(trial, subject, EOS, "LOST TO FOLLOW-UP", TODAY)
    assert view.values["epoch"] == "FOLLOW-UP"


def test_a_screen_failure_is_not_recorded_as_an_end(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="record_screen_failure") as error:
        _end(trial, subject, "SCREEN FAILURE", "SCREEN FAILURE", TODAY)
    assert error.value.field == "scope"
    with pytest.raises(InvalidInputError, match="record_screen_failure") as error:
        forms.new_record(
            trial.engine,
            trial["coordinator"],
            forms.FORMS["disposition"],
            subject.id,
            {
                "scope": "SCREEN FAILURE",
                "epoch": "SCREENING",
                "decod": "SCREEN FAILURE",
                "reason_category": "OTHER",
                "reason": "x",
                "date": TODAY,
            },
        )
    assert error.value.field == "scope"
    with pytest.raises(InvalidInputError, match="screen failure only") as error:
        _end(trial, subject, EOS, "SCREEN FAILURE", TODAY)
    assert error.value.field == "decod"
    assert count(trial.engine, m.Disposition) == 0
