"""The eligibility checklist against the protocol's ``[[eligibility]]`` criteria (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from forms_support import CONSENT, STRATA, enrol
from sqlalchemy import select

from equitrial.errors import InvalidInputError
from equitrial.protocol import load_protocol
from equitrial.services import subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
CRITERIA = load_protocol(PROTOCOL).eligibility
# every inclusion met (True), no exclusion present (False): an eligible patient
ELIGIBLE = {c.id: c.kind == "inclusion" for c in CRITERIA}


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _confirm(trial: Any, subject: Any, eligible: bool, checklist: Any, **extra: Any) -> Any:
    return subjects.confirm_eligibility(
        trial.engine, trial["investigator"], subject.id, eligible, checklist=checklist, **extra
    )


def _stored(trial: Any, subject: Any) -> tuple[bool | None, str | None, Any]:
    with transaction(trial.engine, read_only=True) as session:
        row = session.scalars(select(m.Subject).where(m.Subject.id == subject.id)).one()
        return row.eligible, row.status, json.loads(row.eligibility_json or "null")


def test_a_complete_checklist_confirms_eligibility(trial: Any, subject: Any) -> None:
    view = _confirm(trial, subject, True, ELIGIBLE)
    assert (view.eligible, view.status) == (True, "eligible")
    assert _stored(trial, subject) == (True, "eligible", ELIGIBLE)


@pytest.mark.parametrize("criterion", ["inc-ecog", "exc-active-brain-mets"])
def test_eligible_with_an_unmet_inclusion_or_a_present_exclusion_is_refused(
    trial: Any, subject: Any, criterion: str
) -> None:
    answers = {**ELIGIBLE, criterion: not ELIGIBLE[criterion]}
    with pytest.raises(InvalidInputError, match=criterion) as error:
        _confirm(trial, subject, True, answers)
    assert error.value.field == "eligible"
    assert _stored(trial, subject) == (None, "screening", None)  # nothing written
    view = _confirm(trial, subject, False, answers)  # the decision the checklist supports
    assert (view.eligible, view.status) == (False, "ineligible")


def test_every_criterion_must_be_answered_and_only_those(trial: Any, subject: Any) -> None:
    missing = {k: v for k, v in ELIGIBLE.items() if k != "inc-measurable"}
    with pytest.raises(InvalidInputError, match="not answered") as error:
        _confirm(trial, subject, False, missing)
    assert error.value.field == "checklist.inc-measurable"
    with pytest.raises(InvalidInputError, match="not an eligibility criterion") as error:
        _confirm(trial, subject, True, {**ELIGIBLE, "inc-pd-l1": True})
    assert error.value.field == "checklist.inc-pd-l1"
    with pytest.raises(InvalidInputError, match="expected true or false") as error:
        _confirm(trial, subject, True, {**ELIGIBLE, "inc-age": "yes"})
    assert error.value.field == "checklist.inc-age"
    assert _stored(trial, subject) == (None, "screening", None)


def test_enrolment_checks_the_checklist_the_same_way(trial: Any) -> None:
    with pytest.raises(InvalidInputError) as error:
        subjects.enrol(
            trial.engine,
            trial["investigator"],
            "A",
            "S-9",
            consent_date=CONSENT,
            strata=STRATA,
            eligible=True,
            eligibility={**ELIGIBLE, "exc-steroids": True},
        )
    assert error.value.field == "eligible"
    view = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        "S-9",
        consent_date=CONSENT,
        strata=STRATA,
        eligible=True,
        eligibility=ELIGIBLE,
    )
    assert view.status == "eligible"


def test_a_decision_without_a_checklist_is_kept_as_before(trial: Any, subject: Any) -> None:
    view = _confirm(trial, subject, True, None)
    assert _stored(trial, subject) == (True, "eligible", None)
    assert view.status == "eligible"


def test_without_protocol_criteria_the_checklist_is_free_form() -> None:
    from equitrial.services._enrolment import checked_checklist

    protocol = load_protocol(PROTOCOL).model_copy(update={"eligibility": ()})
    free = {"anything": "as the site words it", "ecog": 1}
    assert checked_checklist(protocol, True, free) == free
    flagship = load_protocol(PROTOCOL)
    with pytest.raises(InvalidInputError) as error:
        checked_checklist(flagship, True, free)
    assert error.value.field == "checklist.anything"
