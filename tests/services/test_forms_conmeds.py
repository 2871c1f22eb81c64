"""Concomitant medications and subsequent therapy (issue 9): the derived corticosteroid flag,
the AE link, and the randomization a subsequent therapy needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import TODAY, audit_rows, count, enrol, randomized, rules

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import clinical, conmeds, forms
from equitrial.store import models as m

AE_START = TODAY - dt.timedelta(days=10)


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _ae(trial: Any, subject: Any, term: str) -> Any:
    return clinical.report_adverse_event(
        trial.engine, trial["coordinator"], subject.id, term=term, grade=2, start_date=AE_START
    )


def _med(trial: Any, subject: Any, name: str, route: str, ae: Any | None, **extra: Any) -> Any:
    fields = {
        "name": name,
        "indication": "adverse event",
        "dose": 1.0,
        "dose_unit": "mg/kg",
        "route": route,
        "frequency": "QD",
        "start": AE_START + dt.timedelta(days=1),
        "ongoing": True,
        "adverse_event_id": None if ae is None else ae.id,
    } | extra
    return conmeds.record_con_med(trial.engine, trial["coordinator"], subject.id, **fields)


def test_systemic_corticosteroid_for_an_immune_related_ae_is_flagged(
    trial: Any, subject: Any
) -> None:
    pneumonitis = _ae(trial, subject, "Pneumonitis")  # CTCAE catalogue: immune category set
    diarrhea = _ae(trial, subject, "Diarrhea")  # no immune category
    assert pneumonitis.values["immune_category"] is not None
    assert diarrhea.values["immune_category"] is None
    cases = [
        ("Methylprednisolone sodium succinate", "INTRAVENOUS", pneumonitis, True),
        ("PREDNISONE", "ORAL", pneumonitis, True),
        ("Prednisone", "ORAL", diarrhea, False),  # the AE is not immune-related
        ("Prednisone", "ORAL", None, False),  # treats no AE
        ("Hydrocortisone cream", "TOPICAL", pneumonitis, False),  # not systemic
        ("Infliximab", "INTRAVENOUS", pneumonitis, False),  # not a corticosteroid
    ]
    flags = [_med(trial, subject, n, r, ae).values["irae_corticosteroid"] for n, r, ae, _ in cases]
    assert flags == [expected for *_, expected in cases]


def test_the_flag_cannot_be_typed_and_follows_an_edit(trial: Any, subject: Any) -> None:
    pneumonitis = _ae(trial, subject, "Pneumonitis")
    med = _med(trial, subject, "Paracetamol", "ORAL", pneumonitis)
    assert med.values["irae_corticosteroid"] is False
    with pytest.raises(InvalidInputError, match="irae_corticosteroid cannot be edited"):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "con_med",
            med.id,
            {"irae_corticosteroid": True},
            reason="typed",
        )
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "con_med",
        med.id,
        {"name": "Prednisolone"},
        reason="wrong line of the source",
    )
    assert changed.values["irae_corticosteroid"] is True


def test_a_medication_cannot_treat_another_subjects_ae(trial: Any, subject: Any) -> None:
    other = enrol(trial, "S-200")
    foreign = _ae(trial, other, "Colitis")
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError, match="another subject") as error:
        _med(trial, subject, "Prednisone", "ORAL", foreign)
    assert error.value.field == "adverse_event_id"
    assert (count(trial.engine, m.ConMed), audit_rows(trial.engine)) == (0, before)


def test_a_medication_started_before_the_ae_it_treats_is_queried(trial: Any, subject: Any) -> None:
    colitis = _ae(trial, subject, "Colitis")
    med = _med(trial, subject, "Budesonide", "ORAL", colitis, start=AE_START - dt.timedelta(1))
    assert rules(trial, med) == [("start", "before-event")]


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"end": TODAY}, "end", "only-if"),  # ongoing, yet ended
        ({"dose": 0.0}, "dose", "range"),
        ({"dose_unit": None}, "dose_unit", "required-if"),
        ({"route": "BY MOUTH"}, "route", "terminology"),
        ({"frequency": "TWICE A DAY"}, "frequency", "terminology"),
    ],
)
def test_impossible_con_med_values(
    trial: Any, subject: Any, extra: dict[str, Any], field: str, rule: str
) -> None:
    fields = {"route": "ORAL"} | extra
    route = fields.pop("route")
    with pytest.raises(InvalidInputError, match=rf"{field} \({rule}\)") as error:
        _med(trial, subject, "Prednisone", route, None, **fields)
    assert error.value.field == field
    assert count(trial.engine, m.ConMed) == 0


def test_subsequent_therapy_needs_a_randomized_subject(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="not randomized"):
        conmeds.record_subsequent_therapy(
            trial.engine,
            trial["coordinator"],
            subject.id,
            name="Ipilimumab",
            therapy_type="IMMUNOTHERAPY",
            start_date=TODAY,
        )
    assert (count(trial.engine, m.SubsequentTherapy), audit_rows(trial.engine)) == (0, before)
    randomized(trial, subject)
    view = conmeds.record_subsequent_therapy(
        trial.engine,
        trial["coordinator"],
        subject.id,
        name="Ipilimumab",
        therapy_type="IMMUNOTHERAPY",
        start_date=TODAY,
    )
    assert (view.values["therapy_type"], view.query_ids) == ("IMMUNOTHERAPY", ())
