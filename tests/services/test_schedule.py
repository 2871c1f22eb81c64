"""Planned visits at randomization (Q3W and Q6W), regimen switches, the overdue report.

Expected dates are counted by hand from the example protocol: week 0 is day 1; infusions every
21 (Q3W) or 42 (Q6W) days while the day offset is below 104 weeks (728 days); labs every 3
weeks to week 102; every window +/- 3 days (treatment.window_days; the imaging windows of +/- 7
days always share a day with an infusion or labs, and the narrowest window wins).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import (
    clinical,
    outcomes,
    overdue,
    randomize,
    schedule,
    sites,
    study,
    subjects,
    users,
)
from equitrial.services.auth import actor_for, system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}

D = dt.date(2024, 3, 4)  # day 1 of the schedule


def _d(days: int) -> dt.date:
    return D + dt.timedelta(days=days)


def _subject(trial, number, *, site="A", regimen=None, day1=D):
    actor = trial["investigator"] if site == "A" else trial["investigator@B"]
    s = subjects.enrol(trial.engine, actor, site, number, strata=STRATA, eligible=True)
    alloc = randomize.randomize(trial.engine, actor, s.id, regimen=regimen, day1=day1)
    return s.id, alloc


def _visits(engine, subject_id):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.Visit).where(m.Visit.subject_id == subject_id).order_by(m.Visit.planned_date)
        )
        return [
            (v.id, v.name, v.planned_date, v.window_start, v.window_end, v.assessments, v.planned)
            for v in rows
        ]


def test_q3w_randomization_plans_35_visits_every_21_days(trial):
    sid, alloc = _subject(trial, "S-1")
    assert alloc.regimen == "Q3W"  # the protocol's default
    visits = _visits(trial.engine, sid)
    assert [v[2] for v in visits] == [_d(21 * k) for k in range(35)]
    assert [v[1] for v in visits] == [f"day {21 * k + 1}" for k in range(35)]
    assert all((v[3], v[4]) == (v[2] - dt.timedelta(3), v[2] + dt.timedelta(3)) for v in visits)
    assert all("dosing" in v[5].split(",") and v[6] for v in visits)
    # week 0: PK and ADA pre-dose, labs, QLQ-C30; week 9: first scan, ADA, QLQ-C30
    assert visits[0][5] == "ada,dosing,labs,pk,questionnaire"
    assert visits[3][5] == "ada,dosing,labs,questionnaire,tumour-imaging"
    with transaction(trial.engine, read_only=True) as session:
        (period,) = session.scalars(select(m.RegimenPeriod)).all()
        assert (period.subject_id, period.regimen, period.start_date) == (sid, "Q3W", D)
        audited = session.scalar(
            select(func.count())
            .select_from(m.AuditTrail)
            .where(m.AuditTrail.table_name == "visit", m.AuditTrail.action == "insert")
        )
    assert audited == 35


def test_q6w_randomization_doses_every_42_days(trial):
    sid, alloc = _subject(trial, "S-2", regimen="Q6W")
    assert alloc.regimen == "Q6W"
    visits = _visits(trial.engine, sid)
    assert [v[2] for v in visits] == [_d(21 * k) for k in range(35)]  # labs stay 3-weekly
    dosing = [v[2] for v in visits if "dosing" in v[5].split(",")]
    assert dosing == [_d(42 * k) for k in range(18)]  # 18 cycles, the last at week 102
    assert visits[1][5] == "ada,labs,pk"  # week 3: no infusion under Q6W


def test_randomize_refuses_an_unknown_regimen_and_writes_nothing(trial):
    s = subjects.enrol(
        trial.engine, trial["investigator"], "A", "S-3", strata=STRATA, eligible=True
    )
    with pytest.raises(InvalidInputError, match="Q2W") as error:
        randomize.randomize(trial.engine, trial["investigator"], s.id, regimen="Q2W")
    assert error.value.field == "regimen"
    assert _visits(trial.engine, s.id) == []
    assert subjects.get_subject(trial.engine, trial["investigator"], s.id).status == "eligible"


def test_switch_replans_only_future_visits_without_data_and_is_audited(trial):
    sid, alloc = _subject(trial, "S-4")
    before = {v[1]: v for v in _visits(trial.engine, sid)}
    # data on week 0 (a dose at the visit) and on week 9 (its actual date)
    clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        sid,
        cycle=1,
        date=D,
        dose_mg=200.0,
        kit_number=alloc.kit,
        visit_id=before["day 1"][0],
    )
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "visit",
        before["day 64"][0],
        {"actual_date": _d(63)},
        reason="visit done",
    )
    result = schedule.switch_regimen(
        trial.engine,
        trial["investigator"],
        sid,
        "Q6W",
        effective=_d(42),
        reason="patient preference: fewer visits",
    )
    after = {v[1]: v for v in _visits(trial.engine, sid)}
    # visits before the switch and the visit with data are the same rows, unchanged
    assert (after["day 1"], after["day 22"]) == (before["day 1"], before["day 22"])
    assert after["day 64"][0] == before["day 64"][0]  # the same row ...
    assert after["day 64"][5] == before["day 64"][5]  # ... with its Q3W assessments
    # from day offset 42 on: infusions every 42 days (42, 84, ..., 714: 17 of them)
    dosing_after = sorted(v[2] for v in after.values() if v[2] >= _d(42) and "dosing" in v[5])
    expected = sorted({_d(42 * k) for k in range(1, 18)} | {_d(63)})  # + the kept week 9
    assert dosing_after == expected
    # 3-weekly visits at odd multiples of 3 weeks from week 15 to 99 lost their infusion
    changed = [f"day {21 * k + 1}" for k in range(5, 34, 2)]
    assert (result.removed, result.added, result.regimen) == (len(changed), len(changed), "Q6W")
    assert all(after[n][0] != before[n][0] and "dosing" not in after[n][5] for n in changed)
    with transaction(trial.engine, read_only=True) as session:
        history = schedule.regimen_history(session, sid)
        assert [(p.regimen, p.start_date) for p in history] == [("Q3W", D), ("Q6W", _d(42))]
        reasons = set(
            session.scalars(
                select(m.AuditTrail.reason).where(
                    m.AuditTrail.table_name == "visit", m.AuditTrail.action == "delete"
                )
            )
        )
        switch_rows = session.scalars(
            select(m.AuditTrail).where(
                m.AuditTrail.table_name == "regimen_period",
                m.AuditTrail.field == "regimen",
                m.AuditTrail.new_value == "Q6W",
            )
        ).all()
    assert reasons == {"regimen Q3W -> Q6W: patient preference: fewer visits"}
    assert [r.username for r in switch_rows] == ["investigator-a"]


@pytest.mark.parametrize("who", ["coordinator", "investigator@B", "monitor"])
def test_switch_refused_for_a_non_investigator_or_another_site(trial, who):
    sid, _ = _subject(trial, "S-5")
    with pytest.raises(PermissionDeniedError):
        schedule.switch_regimen(
            trial.engine, trial[who], sid, "Q6W", effective=_d(21), reason="preference"
        )
    with transaction(trial.engine, read_only=True) as session:
        assert len(schedule.regimen_history(session, sid)) == 1


def test_switch_refused_without_reason_to_same_regimen_or_before_start(trial):
    sid, _ = _subject(trial, "S-6")
    inv = trial["investigator"]
    with pytest.raises(InvalidInputError, match="reason"):
        schedule.switch_regimen(trial.engine, inv, sid, "Q6W", effective=_d(21), reason=" ")
    with pytest.raises(ConflictError, match="already on Q3W"):
        schedule.switch_regimen(trial.engine, inv, sid, "Q3W", effective=_d(21), reason="x")
    with pytest.raises(InvalidInputError) as error:
        schedule.switch_regimen(trial.engine, inv, sid, "Q6W", effective=_d(-1), reason="x")
    assert error.value.field == "effective"


def test_switch_refused_when_the_protocol_does_not_allow_it(engine, tmp_path):
    text = PROTOCOL.read_text(encoding="utf-8")
    assert "\nswitch_allowed = true\n" in text
    path = tmp_path / "protocol.toml"
    path.write_text(text.replace("\nswitch_allowed = true\n", "\nswitch_allowed = false\n"))
    system = system_actor()
    study.load_study(engine, system, path, allocation_seed=2**200 + 7, slots_per_stratum=4)
    sites.add_site(engine, system, "A", "Site A")
    users.add_user(engine, system, "admin", PASSWORD, ["admin"])
    with transaction(engine, read_only=True) as session:
        admin = actor_for(session, session.scalars(select(m.User)).one())
    users.add_user(engine, admin, "inv", PASSWORD, ["investigator"], site="A")
    with transaction(engine, read_only=True) as session:
        inv = actor_for(
            session, session.scalars(select(m.User).where(m.User.username == "inv")).one()
        )
    s = subjects.enrol(engine, inv, "A", "S-1", strata=STRATA, eligible=True)
    randomize.randomize(engine, inv, s.id, regimen="Q6W", day1=D)
    with pytest.raises(ConflictError, match="does not allow") as error:
        schedule.switch_regimen(engine, inv, s.id, "Q3W", effective=_d(42), reason="x")
    assert error.value.field == "regimen"


def _report(trial, who, as_of, **kw):
    rows = overdue.overdue_report(trial.engine, trial[who], as_of, **kw)
    return [
        (r.site, r.subject, r.visit, r.planned_date, r.window_end, r.days_overdue, r.missing)
        for r in rows
    ]


def test_overdue_report_per_site_with_role_scoping(trial):
    done, alloc = _subject(trial, "S-10")
    kit = alloc.kit
    late, _ = _subject(trial, "S-11")
    other, _ = _subject(trial, "S-20", site="B")
    with transaction(trial.engine, read_only=True) as session:
        code = {sid: session.get(m.Subject, sid).subject_code for sid in (done, late, other)}
    visits = {v[1]: v[0] for v in _visits(trial.engine, done)}
    coordinator = trial["coordinator"]
    # week 0: a dose not linked to the visit but dated in its window (day offsets -3 to 3)
    clinical.record_dose(
        trial.engine, coordinator, done, cycle=1, date=_d(2), dose_mg=200.0, kit_number=kit
    )
    # week 3: the visit took place, its dose form is missing
    clinical.update_record(
        trial.engine, coordinator, "visit", visits["day 22"], {"actual_date": _d(22)}, reason="done"
    )
    # week 6: a dose linked to the visit
    clinical.record_dose(
        trial.engine,
        coordinator,
        done,
        cycle=3,
        date=_d(42),
        dose_mg=200.0,
        kit_number=kit,
        visit_id=visits["day 43"],
    )
    # as of day offset 24, the last day of the week-3 window: only week 0 is overdue
    assert _report(trial, "monitor", _d(24)) == [
        ("A", code[late], "day 1", D, _d(3), 21, "visit"),
        ("B", code[other], "day 1", D, _d(3), 21, "visit"),
    ]

    def nothing_recorded(site, sid):
        return [
            (site, code[sid], "day 1", D, _d(3), 43, "visit"),
            (site, code[sid], "day 22", _d(21), _d(24), 22, "visit"),
            (site, code[sid], "day 43", _d(42), _d(45), 1, "visit"),
        ]

    as_of = _d(46)
    a_rows = [("A", code[done], "day 22", _d(21), _d(24), 22, "dose"), *nothing_recorded("A", late)]
    b_rows = nothing_recorded("B", other)
    assert _report(trial, "coordinator", as_of) == a_rows
    assert _report(trial, "investigator", as_of) == a_rows
    assert _report(trial, "coordinator@B", as_of) == b_rows
    assert _report(trial, "monitor", as_of) == a_rows + b_rows
    assert _report(trial, "data-manager", as_of) == a_rows + b_rows
    assert _report(trial, "data-manager", as_of, site="B") == b_rows
    for who in ("pharmacist", "blinded-statistician", "admin"):
        with pytest.raises(PermissionDeniedError):
            overdue.overdue_report(trial.engine, trial[who], as_of)
    with pytest.raises(PermissionDeniedError):
        overdue.overdue_report(trial.engine, trial["coordinator"], as_of, site="B")


def test_recording_a_planned_visit_completes_it(trial):
    sid, _ = _subject(trial, "S-30")
    before = {v[1]: v for v in _visits(trial.engine, sid)}
    coordinator = trial["coordinator"]
    with pytest.raises(InvalidInputError) as error:
        clinical.record_visit(
            trial.engine, coordinator, sid, "day 22", planned_date=_d(22), actual_date=_d(25)
        )
    assert error.value.field == "planned_date"
    view = clinical.record_visit(
        trial.engine, coordinator, sid, "day 22", planned_date=_d(21), actual_date=_d(25)
    )
    assert view.id == before["day 22"][0]
    assert (view.values["actual_date"], view.values["window_status"]) == (_d(25), "out of window")
    assert len(_visits(trial.engine, sid)) == len(before)  # no second row
    with pytest.raises(ConflictError, match="recorded already"):
        clinical.record_visit(
            trial.engine, coordinator, sid, "day 22", planned_date=_d(21), actual_date=_d(24)
        )
    inside = clinical.record_visit(
        trial.engine, coordinator, sid, "day 43", planned_date=_d(42), actual_date=_d(39)
    )
    assert inside.values["window_status"] == "in window"  # the stored window: offsets 39 to 45
    with pytest.raises(PermissionDeniedError):
        clinical.record_visit(
            trial.engine, trial["coordinator@B"], sid, "day 64", planned_date=_d(63)
        )


@pytest.mark.parametrize(
    ("reason", "imaging_due"), [("ADVERSE EVENT", True), ("PROGRESSIVE DISEASE", False)]
)
def test_visits_after_the_end_of_treatment_are_no_longer_due(trial, reason, imaging_due):
    actor = trial["investigator"]
    enrolled = subjects.enrol(trial.engine, actor, "A", "S-40", strata=STRATA, eligible=True,
                              consent_date=_d(-14))  # fmt: skip
    sid, code = enrolled.id, enrolled.subject_code
    randomize.randomize(trial.engine, actor, sid, day1=D)
    outcomes.record_disposition(
        trial.engine, trial["investigator"], sid, scope="END OF TREATMENT", decod=reason,
        date=_d(10),
    )  # fmt: skip
    # as of day offset 71 the windows of days 0, 21, 42 and 63 (week 9, tumour imaging merged
    # with dosing: the narrower window, +/- 3 days, to offset 66) have closed; treatment ended
    # on offset 10, so the dosing visits of weeks 3 and 6 are no longer due; the week-9 scan
    # is, unless treatment ended for progression (imaging runs until progression)
    rows = _report(trial, "monitor", _d(71))
    expected = [("A", code, "day 1", D, _d(3), 68, "visit")]
    if imaging_due:
        expected.append(("A", code, "day 64", _d(63), _d(66), 5, "visit"))
    assert rows == expected
    outcomes.record_disposition(
        trial.engine, trial["investigator"], sid, scope="END OF STUDY", decod="COMPLETED",
        date=_d(20),
    )  # fmt: skip
    assert _report(trial, "monitor", _d(71)) == expected[:1]  # nothing due after the study
