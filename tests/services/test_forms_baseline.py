"""Demographics and baseline disease (issue 9): one per subject, codelists, derived LDH flag and
site type, the stratification-error query; the site's type, country and region."""

from __future__ import annotations

from typing import Any

import pytest
from forms_support import CONSENT, STRATA, audit_rows, count, enrol, inserted_fields, rules
from sqlalchemy import select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import baseline, forms, sites, status, subjects, users
from equitrial.services._base import LockedRecordError
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
# agrees with STRATA: mutant, ECOG 0, M1b with LDH below its limit ("M0-M1b, normal LDH")
VALID = {
    "age": 54,
    "sex": "F",
    "race": "WHITE",
    "ethnicity": "NOT HISPANIC OR LATINO",
    "country": "DEU",
    "region": "EUROPE",
    "ecog_ps": 0,
    "braf_v600": "MUTANT",
    "m_stage": "M1b",
    "ldh_value": 180.0,
    "ldh_uln": 250.0,
    "brain_metastases": "N",
    "prior_adjuvant": "N",
}


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _save(trial: Any, subject: Any, actor: str = "coordinator", **changes: Any) -> Any:
    return baseline.record_demographics(
        trial.engine, trial[actor], subject.id, **{**VALID, **changes}
    )


def test_saved_with_derived_values_and_audit_rows(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    view = _save(trial, subject)
    assert view.values["ldh_elevated"] is False  # 180 <= 250
    assert view.values["site_type"] is None  # site A has no type
    assert view.query_ids == ()
    assert {"age", "sex", "race", "ecog_ps", "m_stage", "ldh_elevated"} <= inserted_fields(
        trial.engine, "demographics", view.id
    )
    assert audit_rows(trial.engine) > before


def test_one_per_subject(trial: Any, subject: Any) -> None:
    _save(trial, subject)
    before = audit_rows(trial.engine)
    with pytest.raises(ConflictError, match="demographics record already"):
        _save(trial, subject, age=55)
    assert (count(trial.engine, m.Demographics), audit_rows(trial.engine)) == (1, before)


def test_refused_for_another_site_or_a_monitor(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    for actor in ("coordinator@B", "investigator@B", "monitor", "data-manager"):
        with pytest.raises(PermissionDeniedError):
            _save(trial, subject, actor=actor)
    assert (count(trial.engine, m.Demographics), audit_rows(trial.engine)) == (0, before)


IMPOSSIBLE = [
    ({"sex": "X"}, "sex"),
    ({"race": "CAUCASIAN"}, "race"),
    ({"ethnicity": "LATINO"}, "ethnicity"),
    ({"country": "DE"}, "country"),  # alpha-2, not alpha-3
    ({"country": "XYZ"}, "country"),
    ({"region": "EMEA"}, "region"),
    ({"age": -1}, "age"),
    ({"age": 121}, "age"),
    ({"ecog_ps": 5}, "ecog_ps"),
    ({"braf_v600": "V600E"}, "braf_v600"),
    ({"m_stage": "M1"}, "m_stage"),
    ({"ldh_uln": 0.0}, "ldh_uln"),
    ({"ldh_value": -3.0}, "ldh_value"),
    ({"brain_metastases": "YES"}, "brain_metastases"),
    ({"prior_adjuvant": "Y"}, "prior_adjuvant_therapy"),  # which therapy is missing
    ({"prior_adjuvant_therapy": "nivolumab"}, "prior_adjuvant_therapy"),  # with N
    ({"ldh_elevated": True}, "ldh_elevated"),  # derived, never typed
    ({"site_type": "REGIONAL"}, "site_type"),  # derived from the site
    ({"weight_kg": 70.0}, "weight_kg"),  # not a field of the form
]


def test_impossible_values_are_refused_naming_the_field(trial: Any, subject: Any) -> None:
    before = audit_rows(trial.engine)
    for changes, field in IMPOSSIBLE:
        with pytest.raises(InvalidInputError) as error:
            _save(trial, subject, **changes)
        assert error.value.field == field, changes
    missing = {k: v for k, v in VALID.items() if k != "m_stage"}
    with pytest.raises(InvalidInputError) as error:
        baseline.record_demographics(trial.engine, trial["coordinator"], subject.id, **missing)
    assert error.value.field == "m_stage"
    assert (count(trial.engine, m.Demographics), audit_rows(trial.engine)) == (0, before)


def test_prior_adjuvant_therapy_is_kept_with_yes(trial: Any, subject: Any) -> None:
    view = _save(trial, subject, prior_adjuvant="Y", prior_adjuvant_therapy="nivolumab")
    assert view.values["prior_adjuvant_therapy"] == "nivolumab"


def test_stratification_error_opens_a_query_per_factor(trial: Any, subject: Any) -> None:
    # stratified mutant / ECOG 0 / "M0-M1b, normal LDH"; the form says wild-type, ECOG 1 and an
    # M1a with LDH above the limit, i.e. "M1c or elevated LDH": three strata errors
    view = _save(trial, subject, braf_v600="WILD-TYPE", ecog_ps=1, m_stage="M1a", ldh_value=300.0)
    assert view.values["ldh_elevated"] is True
    assert count(trial.engine, m.Demographics) == 1  # saved, not refused
    assert rules(trial, view) == [
        ("braf_v600", "strata-mismatch"),
        ("ecog_ps", "strata-mismatch"),
        ("m_stage", "strata-mismatch"),
    ]


def test_m1d_with_a_normal_ldh_is_the_high_risk_stratum(trial: Any, subject: Any) -> None:
    view = _save(trial, subject, m_stage="M1d", brain_metastases="Y")
    assert rules(trial, view) == [("m_stage", "strata-mismatch")]


def test_ldh_at_its_upper_limit_is_not_elevated(trial: Any, subject: Any) -> None:
    view = _save(trial, subject, ldh_value=250.0)
    assert (view.values["ldh_elevated"], view.query_ids) == (False, ())


@pytest.mark.parametrize(
    ("m_stage", "elevated", "level"),
    [
        ("M0", False, "M0-M1b, normal LDH"),
        ("M1a", False, "M0-M1b, normal LDH"),
        ("M1b", False, "M0-M1b, normal LDH"),
        ("M1b", True, "M1c or elevated LDH"),
        ("M0", True, "M1c or elevated LDH"),
        ("M1c", False, "M1c or elevated LDH"),
        ("M1d", False, "M1c or elevated LDH"),
    ],
)
def test_m_stage_ldh_level(m_stage: str, elevated: bool, level: str) -> None:
    assert baseline.m_stage_ldh_level(m_stage, elevated) == level


def test_implausible_values_open_queries(trial: Any) -> None:
    young = subjects.enrol(
        trial.engine,
        trial["coordinator"],
        "A",
        "S-7",
        consent_date=CONSENT,
        birth_year=CONSENT.year - 40,  # 39 or 40 at consent
        strata=STRATA,
    )
    view = baseline.record_demographics(
        trial.engine, trial["coordinator"], young.id, **{**VALID, "age": 17}
    )
    assert rules(trial, view) == [("age", "range"), ("age", "age-birth-year")]
    other = enrol(trial, "S-8")
    view = _save(trial, other, ecog_ps=2, braf_v600="UNKNOWN")
    assert sorted(rules(trial, view)) == [
        ("braf_v600", "braf-known"),
        ("braf_v600", "strata-mismatch"),
        ("ecog_ps", "range"),  # the protocol enrols ECOG 0-1
        ("ecog_ps", "strata-mismatch"),
    ]


def _site_c_coordinator(trial: Any) -> Any:
    admin = trial["admin"]
    sites.add_site(
        trial.engine,
        admin,
        "C",
        "Site C",
        site_type="REGIONAL",
        country="AUS",
        region="ASIA-PACIFIC",
    )
    users.add_user(trial.engine, admin, "coordinator-c", PASSWORD, ["coordinator"], site="C")
    with transaction(trial.engine, read_only=True) as session:
        user = session.scalars(select(m.User).filter_by(username="coordinator-c")).one()
        return actor_for(session, user)


def test_site_type_comes_from_the_site_and_its_country_is_compared(trial: Any) -> None:
    actor = _site_c_coordinator(trial)
    s = subjects.enrol(trial.engine, actor, "C", "C-1", consent_date=CONSENT, strata=STRATA)
    view = baseline.record_demographics(trial.engine, actor, s.id, **VALID)  # DEU, EUROPE
    assert view.values["site_type"] == "REGIONAL"
    assert rules(trial, view) == [("country", "site-country"), ("region", "site-region")]
    fixed = forms.update_form(
        trial.engine,
        actor,
        "demographics",
        view.id,
        {"country": "AUS", "region": "ASIA-PACIFIC"},
        reason="site in Australia",
    )
    assert (fixed.values["country"], fixed.query_ids) == ("AUS", ())


def test_add_site_checks_and_audits_type_country_and_region(trial: Any) -> None:
    admin = trial["admin"]
    for bad, field in (
        ({"site_type": "URBAN"}, "site_type"),
        ({"country": "Germany"}, "country"),
        ({"region": "EMEA"}, "region"),
    ):
        with pytest.raises(InvalidInputError) as error:
            sites.add_site(trial.engine, admin, "D", "Site D", **bad)
        assert error.value.field == field
    view = sites.add_site(
        trial.engine, admin, "D", "Site D", site_type="METROPOLITAN", country="USA",
        region="NORTH AMERICA",
    )  # fmt: skip
    assert (view.values["site_type"], view.values["country"]) == ("METROPOLITAN", "USA")
    assert {"site_type", "country", "region"} <= inserted_fields(trial.engine, "site", view.id)


def test_edit_recomputes_the_ldh_flag_and_the_workflow_applies(trial: Any, subject: Any) -> None:
    view = _save(trial, subject)
    with pytest.raises(InvalidInputError, match="ldh_elevated cannot be edited"):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "demographics",
            view.id,
            {"ldh_elevated": True},
            reason="x",
        )
    with pytest.raises(InvalidInputError, match="reason"):
        forms.update_form(
            trial.engine, trial["coordinator"], "demographics", view.id, {"age": 55}, reason=" "
        )
    verified = status.verify(trial.engine, trial["monitor"], "demographics", view.id)
    changed = forms.update_form(
        trial.engine,
        trial["coordinator"],
        "demographics",
        view.id,
        {"ldh_value": 400.0},
        reason="lab report re-read",
        expected_version=verified.values["version"],
    )
    assert (changed.values["ldh_elevated"], changed.values["status"]) == (True, "entered")
    assert rules(trial, changed) == [("m_stage", "strata-mismatch")]
    status.verify(trial.engine, trial["monitor"], "demographics", view.id)
    status.sign(
        trial.engine,
        trial["investigator"],
        "demographics",
        view.id,
        password=PASSWORD,
        meaning="I confirm these data",
    )
    status.freeze(trial.engine, trial["data-manager"], "demographics", view.id)
    with pytest.raises(LockedRecordError):
        forms.update_form(
            trial.engine, trial["coordinator"], "demographics", view.id, {"age": 56}, reason="x"
        )
