"""The adverse event form (issue 9): the MedDRA code, the dictionary-derived term and the CTCAE
text of the grade derived on save; grades a term lacks refused; the CDISC coded fields, the
seriousness criteria and the grade 5 / FATAL rules.

Expected codes and texts are read off the NCI CTCAE v5.0 spreadsheet as transcribed in
``KohSoonho/CTCAE`` @ 0ade644 ``CTCAE_v5.0.csv`` (the source named in ``ctcae_5.0.json``), by
hand: e.g. the row ``10035742,"Respiratory, thoracic and mediastinal disorders",Pneumonitis,...``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import TODAY, audit_rows, count, enrol, rules

from equitrial.errors import InvalidInputError
from equitrial.services import clinical, forms
from equitrial.services._clinical_forms import AE_FORM
from equitrial.store import models as m

START = TODAY - dt.timedelta(days=10)
END = TODAY - dt.timedelta(days=2)


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _ae(trial: Any, subject: Any, **fields: Any) -> Any:
    values = {"term": "Pneumonitis", "grade": 2, "start_date": START} | fields
    return clinical.report_adverse_event(trial.engine, trial["coordinator"], subject.id, **values)


def _edit(trial: Any, ae: Any, changes: dict[str, Any]) -> Any:
    return clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae.id, changes, reason="re-read"
    )


def test_meddra_code_decod_and_grade_text_are_derived_on_save(trial: Any, subject: Any) -> None:
    ae = _ae(trial, subject, grade=3)
    got = {k: ae.values[k] for k in ("meddra_code", "decod", "grade_definition", "soc")}
    assert got == {
        "meddra_code": 10035742,
        "decod": "Pneumonitis",
        # CSV, Pneumonitis, "Grade 3"
        "grade_definition": "Severe symptoms; limiting self care ADL; oxygen indicated",
        "soc": "Respiratory, thoracic and mediastinal disorders",
    }
    assert ae.values["immune_category"] == "pneumonitis"


def test_an_edit_derives_them_again(trial: Any, subject: Any) -> None:
    ae = _ae(trial, subject)
    lower = _edit(trial, ae, {"grade": 1})
    # CSV, Pneumonitis, "Grade 1"
    assert lower.values["grade_definition"] == (
        "Asymptomatic; clinical or diagnostic observations only; intervention not indicated"
    )
    colitis = _edit(trial, ae, {"term": "Colitis", "grade": 2})
    assert (colitis.values["meddra_code"], colitis.values["decod"]) == (10009887, "Colitis")
    # CSV, Colitis, "Grade 2"
    assert colitis.values["grade_definition"] == "Abdominal pain; mucus or blood in stool"
    assert colitis.values["immune_category"] == "colitis"


@pytest.mark.parametrize(
    ("term", "grade"),
    [
        ("Fatigue", 4),  # CSV, Fatigue: Grade 4 " -"
        ("Acute kidney injury", 1),  # CSV, Acute kidney injury: Grades 1 and 2 " -"
        ("Toxic epidermal necrolysis", 3),  # CSV: Grades 1-3 " -"
        ("Myositis", 5),  # CSV: Grade 5 " -"
    ],
)
def test_a_grade_the_term_does_not_have_is_refused(
    trial: Any, subject: Any, term: str, grade: int
) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError, match=f"grade {grade} does not exist") as error:
        _ae(trial, subject, term=term, grade=grade, outcome="FATAL" if grade == 5 else None)
    assert error.value.field == "grade"
    assert (count(trial.engine, m.AdverseEvent), audit_rows(trial.engine)) == (0, before)


def test_an_edit_to_a_grade_the_term_lacks_is_refused(trial: Any, subject: Any) -> None:
    ae = _ae(trial, subject, term="Fatigue", grade=3)
    with pytest.raises(InvalidInputError) as error:
        _edit(trial, ae, {"grade": 4})
    assert error.value.field == "grade"


@pytest.mark.parametrize("field", ["meddra_code", "decod", "grade_definition"])
def test_the_derived_fields_cannot_be_typed(trial: Any, subject: Any, field: str) -> None:
    typed = {"term": "Pneumonitis", "grade": 2, "start_date": START, field: "x"}
    with pytest.raises(InvalidInputError, match=f"{field} is derived"):
        forms.new_record(trial.engine, trial["coordinator"], AE_FORM, subject.id, typed)
    ae = _ae(trial, subject)
    with pytest.raises(InvalidInputError, match=f"{field} cannot be edited"):
        _edit(trial, ae, {field: "x"})


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"related": "POSSIBLY"}, "related", "terminology"),
        ({"action_taken": "DOSE DELAYED"}, "action_taken", "terminology"),
        ({"outcome": "RESOLVED"}, "outcome", "terminology"),
        ({"serious_criteria": "AESHOSP"}, "serious_criteria", "only-if"),  # not serious
    ],
)
def test_coded_values_outside_cdisc_are_refused(
    trial: Any, subject: Any, extra: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInputError, match=rf"{field} \({rule}\)") as error:
        _ae(trial, subject, **extra)
    assert error.value.field == field
    assert count(trial.engine, m.AdverseEvent) == 0


def test_unknown_seriousness_criteria_are_refused(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="HOSPITAL") as error:
        _ae(trial, subject, serious=True, serious_criteria="AESHOSP, HOSPITAL")
    assert error.value.field == "serious_criteria"
    assert count(trial.engine, m.AdverseEvent) == 0


def test_a_complete_serious_event_is_saved_without_queries(trial: Any, subject: Any) -> None:
    ae = _ae(
        trial,
        subject,
        grade=3,
        end_date=END,
        serious=True,
        serious_criteria="AESHOSP, AESLIFE",
        related="RELATED",
        action_taken="DRUG INTERRUPTED",
        outcome="RECOVERED/RESOLVED",
    )
    assert ae.query_ids == ()
    assert ae.values["serious_criteria"] == "AESHOSP, AESLIFE"


def test_grade_5_needs_outcome_fatal(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="grade-5-fatal") as error:
        _ae(trial, subject, grade=5, outcome="NOT RECOVERED/NOT RESOLVED")
    assert error.value.field == "outcome"
    with pytest.raises(InvalidInputError, match="death-fatal") as error:
        _ae(trial, subject, grade=4, serious=True, serious_criteria="AESDTH", outcome="UNKNOWN")
    assert error.value.field == "outcome"
    death = _ae(
        trial, subject, grade=5, end_date=END, serious=True, serious_criteria="AESDTH",
        outcome="FATAL",
    )  # fmt: skip
    assert (death.values["grade_definition"], death.query_ids) == ("Death", ())  # CSV "Grade 5"


def test_a_fatal_outcome_below_grade_5_or_without_aesdth_is_queried(
    trial: Any, subject: Any
) -> None:
    ae = _ae(trial, subject, term="Colitis", grade=4, end_date=END, outcome="FATAL")
    assert sorted(rules(trial, ae)) == [
        ("grade", "fatal-grade"),
        ("serious_criteria", "fatal-serious"),
    ]


def test_a_resolved_event_without_an_end_date_is_queried(trial: Any, subject: Any) -> None:
    ae = _ae(trial, subject, outcome="RECOVERED/RESOLVED")
    assert rules(trial, ae) == [("end_date", "required-if")]


def test_the_clinical_forms_are_forms_of_the_one_edit_path() -> None:
    clinical_forms = {"visit", "dose", "adverse_event", "lab_result", "lesion_measurement"}
    assert clinical_forms <= set(forms.FORMS)
    assert {n: f for n, f in clinical.DERIVED_FIELDS.items()} == {
        n: forms.FORMS[n].derived for n in clinical_forms
    }
