"""Dose checks against the protocol's regimens, and exposure from the stored doses.

The example protocol allows 200 mg Q3W and 400 mg Q6W, a dose fitting within 10 % of the
regimen's dose (so 180 to 220 mg for Q3W).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from equitrial.errors import InvalidInputError, PermissionDeniedError
from equitrial.services import clinical, exposure, queries, randomize, schedule, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

D = dt.date(2024, 3, 4)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
UTC = dt.UTC


def _d(days: int) -> dt.date:
    return D + dt.timedelta(days=days)


def _subject(trial, number, *, site="A", regimen=None):
    actor = trial["investigator"] if site == "A" else trial["investigator@B"]
    s = subjects.enrol(trial.engine, actor, site, number, strata=STRATA, eligible=True)
    alloc = randomize.randomize(trial.engine, actor, s.id, regimen=regimen, day1=D)
    return s.id, alloc.kit


def _dose(trial, sid, kit, *, site="A", **fields):
    fields = {"cycle": 1, "date": D, "dose_mg": 200.0, "kit_number": kit} | fields
    actor = trial["coordinator"] if site == "A" else trial["coordinator@B"]
    return clinical.record_dose(trial.engine, actor, sid, **fields)


def _counts(engine):
    with transaction(engine, read_only=True) as session:
        doses = session.scalar(select(func.count()).select_from(m.Dose))
        trail = session.scalar(select(func.count()).select_from(m.AuditTrail))
    return doses, trail


def _rules(trial, view):
    threads = [queries.query_thread(trial.engine, trial["monitor"], q) for q in view.query_ids]
    return sorted((t.field, t.rule) for t in threads)


@pytest.fixture
def q3w(trial):
    return _subject(trial, "S-1")


@pytest.mark.parametrize("dose_mg", [300.0, 179.0, 221.0, 100.0, 359.0, 441.0])
def test_a_dose_that_fits_neither_regimen_is_refused_and_nothing_written(trial, q3w, dose_mg):
    before = _counts(trial.engine)
    with pytest.raises(InvalidInputError, match="fits no regimen") as error:
        _dose(trial, *q3w, dose_mg=dose_mg)
    assert error.value.field == "dose_mg"
    assert _counts(trial.engine) == before


@pytest.mark.parametrize(("dose_mg", "queried"), [(180.0, False), (179.0, True), (20.0, True)])
def test_an_interrupted_partial_dose_is_saved_with_a_query(trial, q3w, dose_mg, queried):
    view = _dose(trial, *q3w, dose_mg=dose_mg, interrupted=True, reason="infusion reaction")
    assert (view.values["dose_mg"], view.values["regimen"]) == (dose_mg, "Q3W")
    assert _rules(trial, view) == ([("dose_mg", "partial-dose")] if queried else [])


def test_a_dose_of_the_other_regimen_opens_a_query(trial, q3w):
    view = _dose(trial, *q3w, dose_mg=400.0)
    assert view.values["regimen"] == "Q6W"  # the regimen the dose fits
    assert _rules(trial, view) == [("regimen", "other-regimen")]
    typed = _dose(trial, *q3w, cycle=2, date=_d(21), dose_mg=200.0, regimen="Q6W")
    assert _rules(trial, typed) == [("dose_mg", "regimen-dose"), ("regimen", "other-regimen")]


def test_the_dose_form_records_regimen_kit_lot_and_infusion_times(trial, q3w):
    start = dt.datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    view = _dose(
        trial,
        *q3w,
        lot="L2401",
        infusion_start=start,
        infusion_stop=start + dt.timedelta(minutes=30),
        delayed=True,
        reason="holiday",
    )
    values = view.values
    assert view.query_ids == ()
    assert (values["regimen"], values["kit_number"], values["lot"]) == ("Q3W", q3w[1], "L2401")
    assert (values["infusion_start"], values["infusion_stop"]) == (
        start,
        start + dt.timedelta(minutes=30),
    )
    assert (values["delayed"], values["reason"]) == (True, "holiday")


@pytest.mark.parametrize("minutes", [0, -5])
def test_infusion_stop_must_be_after_start(trial, q3w, minutes):
    start = dt.datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    before = _counts(trial.engine)
    with pytest.raises(InvalidInputError, match=r"infusion_stop \(order\)") as error:
        _dose(
            trial,
            *q3w,
            infusion_start=start,
            infusion_stop=start + dt.timedelta(minutes=minutes),
        )
    assert error.value.field == "infusion_stop"
    assert _counts(trial.engine) == before


def test_an_unknown_regimen_is_refused(trial, q3w):
    with pytest.raises(InvalidInputError, match="not a protocol regimen") as error:
        _dose(trial, *q3w, regimen="Q2W")
    assert error.value.field == "regimen"


def test_after_a_switch_each_dose_is_checked_against_the_regimen_of_its_date(trial, q3w):
    sid, kit = q3w
    schedule.switch_regimen(
        trial.engine, trial["investigator"], sid, "Q6W", effective=_d(42), reason="preference"
    )
    assert _dose(trial, sid, kit, date=_d(21), dose_mg=200.0).query_ids == ()
    assert _dose(trial, sid, kit, cycle=3, date=_d(42), dose_mg=400.0).query_ids == ()
    late = _dose(trial, sid, kit, cycle=4, date=_d(84), dose_mg=200.0)
    assert _rules(trial, late) == [("regimen", "other-regimen")]


def test_exposure_and_dose_intensity_from_stored_doses_with_a_switch(trial, q3w):
    sid, kit = q3w
    _dose(trial, sid, kit, date=D)
    _dose(trial, sid, kit, cycle=2, date=_d(21))
    schedule.switch_regimen(
        trial.engine, trial["investigator"], sid, "Q6W", effective=_d(42), reason="preference"
    )
    _dose(trial, sid, kit, cycle=3, date=_d(42), dose_mg=400.0)
    _dose(trial, sid, kit, cycle=4, date=_d(84), dose_mg=300.0, interrupted=True, reason="IRR")
    q6w, kit6 = _subject(trial, "S-2", regimen="Q6W")
    _dose(trial, q6w, kit6, dose_mg=400.0)
    _dose(trial, q6w, kit6, cycle=2, date=_d(49), dose_mg=400.0, delayed=True, reason="AE")
    _subject(trial, "S-3", site="B")  # randomized, no dose yet

    rows = exposure.subject_exposure(trial.engine, trial["blinded-statistician"])
    assert "arm" not in {f.name for f in dataclasses.fields(exposure.SubjectExposure)}
    one, two, three = rows
    # Q3W days 0-42 (2 x 200 planned), Q6W days 42-126 (2 x 400 planned); 1,100 mg given
    assert (one.regimens, one.infusions, one.cumulative_dose_mg) == (("Q3W", "Q6W"), 4, 1100.0)
    assert (one.first_dose, one.last_dose, one.duration_days) == (D, _d(84), 126)
    assert one.planned_dose_mg == pytest.approx(1200.0, rel=1e-12)
    assert one.relative_dose_intensity == pytest.approx(1100 / 1200, rel=1e-12)
    # Q6W with a 7-day delay: 49 + 42 = 91 days, 91 / 42 * 400 mg planned
    assert (two.regimens, two.infusions, two.duration_days) == (("Q6W",), 2, 91)
    assert two.relative_dose_intensity == pytest.approx(800 / (91 / 42 * 400), rel=1e-12)
    assert (three.site, three.infusions, three.relative_dose_intensity) == ("B", 0, None)

    at_a = exposure.subject_exposure(trial.engine, trial["coordinator"])
    assert [r.subject for r in at_a] == [one.subject, two.subject]
    with pytest.raises(PermissionDeniedError):
        exposure.subject_exposure(trial.engine, trial["pharmacist"])
