"""PK and ADA samples (issue 9): BLQ and LLOQ, the dose link, the tiered ADA results, edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from forms_support import TODAY, at, audit_rows, count, enrol, randomized, rules

from equitrial.errors import InvalidInputError
from equitrial.services import clinical, forms, samples
from equitrial.store import models as m


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _pk(trial: Any, subject: Any, **extra: Any) -> Any:
    fields = {"timing": "PRE-DOSE", "nominal_hours": 0.0, "collected_at": at(TODAY)} | extra
    return samples.record_pk_sample(trial.engine, trial["coordinator"], subject.id, **fields)


def _ada(trial: Any, subject: Any, **extra: Any) -> Any:
    fields = {"collected_at": at(TODAY)} | extra
    return samples.record_ada_sample(trial.engine, trial["coordinator"], subject.id, **fields)


def test_blq_sample_carries_the_lloq_and_no_concentration(trial: Any, subject: Any) -> None:
    view = _pk(trial, subject, blq=True, lloq=0.5)
    assert (view.values["blq"], view.values["lloq"], view.values["concentration"]) == (
        True,
        0.5,
        None,
    )
    assert view.query_ids == ()


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"blq": True}, "lloq", "required-if"),
        ({"blq": True, "lloq": 0.5, "concentration": 0.3}, "concentration", "only-if"),
        ({"lloq": 0.0, "concentration": 3.0}, "lloq", "range"),
        ({"nominal_hours": -1.0}, "nominal_hours", "range"),
        ({"timing": "AFTER LUNCH"}, "timing", "terminology"),
        ({"collected_at": at(TODAY + dt.timedelta(days=2))}, "collected_at", "not-future"),
    ],
)
def test_impossible_pk_values(
    trial: Any, subject: Any, extra: dict[str, Any], field: str, rule: str
) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError, match=rf"{field} \({rule}\)") as error:
        _pk(trial, subject, **extra)
    assert error.value.field == field
    assert (count(trial.engine, m.PKSample), audit_rows(trial.engine)) == (0, before)


def test_pk_nominal_time_beyond_the_q6w_interval_is_queried(trial: Any, subject: Any) -> None:
    view = _pk(trial, subject, timing="POST-DOSE", nominal_hours=1009.0, concentration=3.0)
    assert rules(trial, view) == [("nominal_hours", "range")]


def test_pk_sample_linked_to_a_dose(trial: Any, subject: Any) -> None:
    kit = randomized(trial, subject)
    dose_day = TODAY - dt.timedelta(days=21)
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject.id,
        cycle=1,
        date=dose_day,
        dose_mg=200.0,
        kit_number=kit,
    )
    # end of infusion on the dose day: no query; a pre-dose sample 21 days later: queried
    on_time = _pk(
        trial,
        subject,
        timing="END OF INFUSION",
        nominal_hours=0.5,
        collected_at=at(dose_day, 11),
        dose_id=dose.id,
        concentration=60.0,
    )
    late = _pk(trial, subject, collected_at=at(TODAY), dose_id=dose.id, concentration=20.0)
    assert on_time.query_ids == ()
    assert on_time.values["dose_id"] == dose.id
    assert rules(trial, late) == [("collected_at", "dose-timing")]


def test_pk_sample_cannot_name_another_subjects_dose(trial: Any, subject: Any) -> None:
    other = enrol(trial, "S-200")
    kit = randomized(trial, other)
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        other.id,
        cycle=1,
        date=TODAY,
        dose_mg=200.0,
        kit_number=kit,
    )
    with pytest.raises(InvalidInputError, match="another subject") as error:
        _pk(trial, subject, dose_id=dose.id)
    assert error.value.field == "dose_id"
    assert count(trial.engine, m.PKSample) == 0


def test_pk_edit_is_audited_with_its_reason_and_checked_again(trial: Any, subject: Any) -> None:
    view = _pk(trial, subject, concentration=25.0, lloq=0.5)
    with pytest.raises(InvalidInputError) as error:
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "pk_sample",
            view.id,
            {"concentration": -2.0},
            reason="typo",
        )
    assert error.value.field == "concentration"
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "pk_sample",
        view.id,
        {"concentration": 0.3},
        reason="assay re-run",
    )
    assert changed.values["concentration"] == 0.3
    assert changed.values["version"] == view.values["version"] + 1
    assert rules(trial, changed) == [("concentration", "below-lloq")]


def test_confirmed_positive_ada_with_titre_and_nab(trial: Any, subject: Any) -> None:
    view = _ada(
        trial,
        subject,
        screening_result="POSITIVE",
        confirmatory_result="POSITIVE",
        titre=160.0,
        neutralizing="POSITIVE",
    )
    assert view.query_ids == ()
    assert view.values["titre"] == 160.0


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"confirmatory_result": "NEGATIVE"}, "confirmatory_result", "only-if"),
        ({"screening_result": "NEGATIVE", "titre": 40.0}, "titre", "only-if"),
        (
            {"screening_result": "POSITIVE", "confirmatory_result": "NEGATIVE", "titre": 40.0},
            "titre",
            "only-if",
        ),
        (
            {"screening_result": "POSITIVE", "confirmatory_result": "POSITIVE", "titre": 0.0},
            "titre",
            "range",
        ),
        (
            {
                "screening_result": "POSITIVE",
                "confirmatory_result": "NEGATIVE",
                "neutralizing": "POSITIVE",
            },
            "neutralizing",
            "only-if",
        ),
        ({"screening_result": "positive"}, "screening_result", "terminology"),
    ],
)
def test_impossible_ada_results(
    trial: Any, subject: Any, extra: dict[str, Any], field: str, rule: str
) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError, match=rf"{field} \({rule}\)") as error:
        _ada(trial, subject, **extra)
    assert error.value.field == field
    assert (count(trial.engine, m.ADASample), audit_rows(trial.engine)) == (0, before)


def test_nab_not_done_is_allowed_without_confirmation(trial: Any, subject: Any) -> None:
    view = _ada(trial, subject, screening_result="NEGATIVE", neutralizing="NOT DONE")
    assert (view.values["neutralizing"], view.query_ids) == ("NOT DONE", ())
