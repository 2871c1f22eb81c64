"""Every issue-9 form through its service (issue 9), on SQLite and PostgreSQL: saved with its
audit rows, refused to other sites and to roles that do not enter data, impossible values
refused naming the field with nothing written, implausible values saved with a query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from forms_support import (
    TODAY,
    assert_trail_holds,
    at,
    audit_rows,
    count,
    enrol,
    inserted_fields,
    randomized,
    rules,
)

from equitrial.errors import InvalidInputError, PermissionDeniedError
from equitrial.services import conmeds, outcomes, questionnaires, samples
from equitrial.store import models as m

ALL_ANSWERED = {i: 2 for i in range(1, 29)} | {29: 5, 30: 5}


def _no_setup(trial: Any, subject: Any) -> None:
    return None


def _end_of_study_completed(trial: Any, subject: Any) -> None:
    outcomes.record_disposition(
        trial.engine,
        trial["coordinator"],
        subject.id,
        scope="END OF STUDY",
        decod="COMPLETED",
        date=TODAY,
    )


@dataclass(frozen=True)
class Case:
    """One form: its service and valid values, an impossible and an implausible variant."""

    name: str
    model: type[Any]
    service: Callable[..., Any]
    valid: dict[str, Any]
    impossible: dict[str, Any]
    impossible_field: str
    implausible: dict[str, Any]
    query: tuple[str, str]
    setup: Callable[[Any, Any], None] = field(default=_no_setup)

    def save(self, trial: Any, actor: str, subject: Any, **changes: Any) -> Any:
        return self.service(trial.engine, trial[actor], subject.id, **(self.valid | changes))


CASES = [
    Case(
        "pk_sample",
        m.PKSample,
        samples.record_pk_sample,
        {
            "timing": "PRE-DOSE",
            "nominal_hours": 0.0,
            "collected_at": at(TODAY),
            "concentration": 25.0,
            "lloq": 0.5,
        },
        {"concentration": -1.0},
        "concentration",
        {"concentration": 0.2},  # below the LLOQ of 0.5 ug/mL without the BLQ flag
        ("concentration", "below-lloq"),
    ),
    Case(
        "ada_sample",
        m.ADASample,
        samples.record_ada_sample,
        {"collected_at": at(TODAY), "screening_result": "NEGATIVE"},
        {"confirmatory_result": "POSITIVE"},  # confirmed, though the screen was negative
        "confirmatory_result",
        {"screening_result": "POSITIVE", "confirmatory_result": "POSITIVE"},  # no titre
        ("titre", "required-if"),
    ),
    Case(
        "questionnaire_response",
        m.QuestionnaireResponse,
        questionnaires.record_qlq_c30,
        {"date": TODAY, "items": ALL_ANSWERED},
        {"items": ALL_ANSWERED | {29: 8}},  # item 29 is answered 1..7
        "item 29",
        {"items": ALL_ANSWERED | {1: None, 2: None, 3: None}},  # PF2: 2 of 5 items answered
        ("items_json", "half-scale"),
    ),
    Case(
        "con_med",
        m.ConMed,
        conmeds.record_con_med,
        {
            "name": "Paracetamol",
            "indication": "Headache",
            "dose": 500.0,
            "dose_unit": "mg",
            "route": "ORAL",
            "frequency": "PRN",
            "start": TODAY - dt.timedelta(days=5),
            "ongoing": True,
        },
        {"ongoing": False, "end": TODAY - dt.timedelta(days=10)},  # ends before it starts
        "end",
        {"indication": None},
        ("indication", "required"),
    ),
    Case(
        "subsequent_therapy",
        m.SubsequentTherapy,
        conmeds.record_subsequent_therapy,
        {
            "name": "Dabrafenib + trametinib",
            "therapy_type": "TARGETED THERAPY",
            "start_date": TODAY,
        },
        {"therapy_type": "HERBAL"},
        "therapy_type",
        {"start_date": TODAY - dt.timedelta(days=1)},  # before randomization (today)
        ("start_date", "before-randomization"),
    ),
    Case(
        "disposition",
        m.Disposition,
        outcomes.record_disposition,
        {"scope": "END OF TREATMENT", "decod": "ADVERSE EVENT", "date": TODAY},
        {"decod": "BORED"},
        "decod",
        {"scope": "END OF STUDY", "decod": "DEATH"},  # no death recorded
        ("decod", "death-consistency"),
    ),
    Case(
        "death",
        m.Death,
        outcomes.record_death,
        {"date": TODAY, "cause": "PROGRESSIVE DISEASE"},
        {"cause": "OTHER"},  # without its text
        "cause_text",
        {},
        ("date", "death-consistency"),
        setup=_end_of_study_completed,  # the end of study says COMPLETED, not DEATH
    ),
]
IDS = [case.name for case in CASES]


@pytest.fixture
def subject(trial: Any) -> Any:
    subject = enrol(trial)
    randomized(trial, subject)
    return subject


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_saved_with_its_audit_rows(trial: Any, subject: Any, case: Case) -> None:
    view = case.save(trial, "coordinator", subject)
    assert (view.table, view.values["status"], view.query_ids) == (case.name, "entered", ())
    given = {k for k in case.valid if k != "items"}
    assert given | {"subject_id", "status"} <= inserted_fields(trial.engine, case.name, view.id)
    assert count(trial.engine, case.model) == 1
    assert_trail_holds(trial.engine)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("actor", ["coordinator@B", "monitor"])
def test_refused_to_other_sites_and_roles_without_entry(
    trial: Any, subject: Any, case: Case, actor: str
) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(PermissionDeniedError):
        case.save(trial, actor, subject)
    assert count(trial.engine, case.model) == 0
    assert audit_rows(trial.engine) == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_impossible_value_refused_naming_the_field(trial: Any, subject: Any, case: Case) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError) as error:
        case.save(trial, "coordinator", subject, **case.impossible)
    assert error.value.field == case.impossible_field
    assert count(trial.engine, case.model) == 0
    assert audit_rows(trial.engine) == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_implausible_value_saved_with_a_query(trial: Any, subject: Any, case: Case) -> None:
    case.setup(trial, subject)
    view = case.save(trial, "investigator", subject, **case.implausible)
    assert rules(trial, view) == [case.query]
    assert count(trial.engine, case.model) == 1
    assert_trail_holds(trial.engine)
