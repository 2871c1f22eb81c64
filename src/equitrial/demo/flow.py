"""One randomized patient's time on study, as the dated entries its site makes.

:func:`follow_patient` draws the patient's course (disease, adverse events, PK, ADA, quality of
life) at randomization and schedules what the site then enters, each on its date, through the
services: visits, kits dispensed and doses, labs (sent with the central lab's next transfer),
tumour assessments of both readers, adverse events and their resolution, corticosteroids for
immune-related events, PK and ADA samples, QLQ-C30, regimen switch, end of treatment, survival
follow-up, subsequent therapy, death.

Treatment ends at the first of: progression (pseudo-progression is treated through, as iRECIST
allows), an immune-related adverse event that stops treatment, death, withdrawal, the maximum
number of cycles, or the end of the study (then it is still going on). A dose is withheld while
an immune-related event of grade 2 or more (hypothyroidism aside) lasts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from equitrial.demo.care import schedule_adverse_events, schedule_ending
from equitrial.demo.disease import Course, draw_course
from equitrial.demo.exposure import (
    AdaStatus,
    PkSubject,
    concentration,
    draw_ada,
    draw_pk_subject,
    qlq_answers,
)
from equitrial.demo.patients import ScreenedPatient
from equitrial.demo.safety import AdverseEventSpec, draw_adverse_events, lab_baseline, lab_panel
from equitrial.services import (
    _visit_plan,
    assessments,
    clinical,
    questionnaires,
    samples,
)
from equitrial.services import schedule as schedule_service

if TYPE_CHECKING:
    from equitrial.demo.runner import Trial

__all__ = ["PatientTruth", "follow_patient"]

UTC = dt.UTC
_ORDER_VISIT, _ORDER_SAMPLE, _ORDER_DOSE, _ORDER_LATER = 1, 2, 3, 5


class PatientTruth:
    """What the demo drew for a patient: kept to check the stored data against it."""

    def __init__(
        self,
        course: Course,
        events: list[AdverseEventSpec],
        pk: PkSubject,
        ada: AdaStatus,
        end_of_treatment: dt.date | None,
        reason: str | None,
    ) -> None:
        self.course = course
        self.events = events
        self.pk = pk
        self.ada = ada
        self.end_of_treatment = end_of_treatment
        self.reason = reason
        self.doses: list[tuple[float, float]] = []  # (day after the first dose, mg)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _treatment_end(
    trial: Trial, p: ScreenedPatient, course: Course, day1: dt.date, rng: np.random.Generator
) -> tuple[dt.date, str | None]:
    """The potential end of treatment before adverse events: date and DSDECOD reason."""
    weeks = trial.protocol.max_treatment_weeks
    dropout = trial.protocol.assumptions.dropout_per_year
    withdraw = rng.exponential(365.25 / dropout) if dropout > 0 else math.inf
    candidates: list[tuple[dt.date, str | None]] = [
        (day1 + dt.timedelta(days=round(weeks * 7)), "COMPLETED"),
        (trial.end, None),
    ]
    if course.stop is not None:
        candidates.append((course.stop, "PROGRESSIVE DISEASE"))
    if course.death is not None:
        candidates.append((course.death, "DEATH"))
    if withdraw < 3000:
        candidates.append((day1 + dt.timedelta(days=int(withdraw)), "WITHDRAWAL BY SUBJECT"))
    return min(candidates, key=lambda c: c[0])


def follow_patient(
    trial: Trial, p: ScreenedPatient, code: str, kit: str, response_rate: float
) -> PatientTruth:
    """Draw the course of the randomized patient ``code`` and schedule its site's entries."""
    rng = np.random.default_rng(p.seed)
    day1 = p.randomization_date
    assert day1 is not None
    course = draw_course(
        rng,
        day1=day1,
        response_rate=response_rate,
        pfs_inverse=trial.pfs_inverse,
        os_inverse=trial.os_inverse,
        scan_weeks=trial.scan_weeks,
        end=trial.end,
    )
    stop, reason = _treatment_end(trial, p, course, day1, rng)
    events = draw_adverse_events(rng, day1, (stop - day1).days, trial.end)
    for e in events:
        if e.ends_treatment and e.onset < stop:
            stop, reason = e.onset, "ADVERSE EVENT"
    ada = draw_ada(rng)
    truth = PatientTruth(
        course, events, draw_pk_subject(rng, ada), ada, stop if reason else None, reason
    )
    trial.truth[code] = truth
    site = p.site
    _schedule_scans(trial, code, site, course)
    _schedule_visits(trial, p, code, site, kit, truth, stop, rng)
    schedule_adverse_events(trial, code, site, events, stop, rng)
    schedule_ending(trial, p, code, site, truth, stop, reason, rng)
    return truth


def _schedule_scans(trial: Trial, code: str, site: int, course: Course) -> None:
    def baseline() -> None:
        for reader in ("investigator", "central"):
            for lesion in course.lesions:
                trial.call(
                    "lesion",
                    site,
                    assessments.add_lesion,
                    code,
                    lesion_code=lesion.code,
                    organ=lesion.organ,
                    nodal=lesion.nodal,
                    role=lesion.role,
                    reader=reader,
                )
        read(course.scans[0], "investigator")
        read(course.scans[0], "central")

    def read(scan: Any, reader: str) -> None:
        for lesion in scan.new_lesions:
            trial.call(
                "lesion",
                site,
                assessments.add_lesion,
                code,
                lesion_code=lesion.code,
                organ=lesion.organ,
                nodal=lesion.nodal,
                role="new",
                reader=reader,
            )
        trial.call(
            "tumour_assessment",
            site,
            assessments.record_assessment,
            code,
            reader=reader,
            assessment_date=scan.date,
            measurements=scan.reads[reader],
        )

    trial.at(course.scans[0].date, _ORDER_LATER, baseline)
    for scan in course.scans[1:]:
        trial.at(scan.date + dt.timedelta(days=2), _ORDER_LATER, read, scan, "investigator")
        trial.at(scan.date + dt.timedelta(days=12), _ORDER_LATER, read, scan, "central")


def _visit_rows(trial: Trial, p: ScreenedPatient, day1: dt.date) -> list[tuple[str, Any]]:
    """The planned visits (regimen code, row) as the schedule service plans them, with the
    switch to Q6W after ``switch_after_cycle`` doses of Q3W."""
    regimens = {r.code: r for r in trial.protocol.regimens}
    rows = _visit_plan.plan_rows(trial.protocol, regimens[p.regimen], day1)
    if p.switch_after_cycle is None:
        return [(p.regimen, r) for r in rows]
    dosing = [r for r in rows if "dosing" in r.assessments]
    if len(dosing) <= p.switch_after_cycle:
        return [(p.regimen, r) for r in rows]
    effective = dosing[p.switch_after_cycle].planned_date
    after = _visit_plan.plan_rows(trial.protocol, regimens["Q6W"], day1, regimen_start=effective)
    return [(p.regimen, r) for r in rows if r.planned_date < effective] + [
        ("Q6W", r) for r in after
    ]


@dataclass
class _Visits:
    """What a patient's visits share: who, where, the drawn truth, and the running state."""

    trial: Trial
    code: str
    site: int
    day1: dt.date
    truth: PatientTruth
    rng: np.random.Generator
    labs: dict[str, float]
    regimen: str
    kit: str
    cycle: int = 0


def _schedule_visits(
    trial: Trial,
    p: ScreenedPatient,
    code: str,
    site: int,
    kit: str,
    truth: PatientTruth,
    stop: dt.date,
    rng: np.random.Generator,
) -> None:
    day1 = p.randomization_date
    assert day1 is not None
    health = float(rng.beta(7, 3))
    ctx = _Visits(trial, code, site, day1, truth, rng, lab_baseline(rng), p.regimen, kit)
    for regimen, row in _visit_rows(trial, p, day1):
        late = rng.random() < 0.02
        shift = int(rng.integers(5, 7)) if late else int(rng.integers(-1, 2))
        actual = day1 if row.planned_date == day1 else row.planned_date + dt.timedelta(days=shift)
        if row.planned_date > min(stop, trial.end) or (actual >= stop and actual != day1):
            break
        withheld = any(
            e.withholds_dose and e.onset <= actual and (e.end is None or actual <= e.end)
            for e in truth.events
        )
        progressed = truth.course.progression is not None and actual > truth.course.progression
        quality = health - (0.25 if progressed else 0.0) - (0.1 if withheld else 0.0)
        trial.at(
            actual,
            _ORDER_VISIT,
            _visit,
            ctx,
            row,
            actual,
            regimen,
            withheld,
            quality,
        )


def _visit(
    ctx: _Visits, row: Any, actual: dt.date, regimen: str, withheld: bool, quality: float
) -> None:
    """The site's entries at one visit: the visit, labs (to the central lab), QLQ-C30, ADA,
    PK, then the kit and the dose; a switch of regimen first when it starts here."""
    trial, site, code = ctx.trial, ctx.site, ctx.code
    if regimen != ctx.regimen:
        trial.call("regimen_switch", site, schedule_service.switch_regimen, code, regimen,
                   effective=row.planned_date, reason="fewer infusion visits (patient's choice)",
                   who="inv")  # fmt: skip
        ctx.regimen = regimen
    v = trial.call("visit", site, clinical.record_visit, code, row.name,
                   planned_date=row.planned_date, actual_date=actual)  # fmt: skip
    kinds = row.assessments
    if "labs" in kinds:
        taken = _at(actual, 8)
        for test, value in lab_panel(ctx.rng, ctx.labs, actual, ctx.truth.events):
            trial.lab(site, {"subject": code, "test": test.term, "value": value,
                             "unit": test.unit, "collected_at": taken, "lln": test.lln,
                             "uln": test.uln})  # fmt: skip
    if "questionnaire" in kinds:
        answers = qlq_answers(ctx.rng, float(np.clip(quality, 0.02, 0.98)))
        trial.call("questionnaire", site, questionnaires.record_qlq_c30, code, date=actual,
                   items=answers)  # fmt: skip
    day = float((actual - ctx.day1).days)
    if "ada" in kinds:
        s, c, t, n = ctx.truth.ada.result(day)
        trial.call("ada_sample", site, samples.record_ada_sample, code,
                   collected_at=_at(actual, 8, 30), screening_result=s, confirmatory_result=c,
                   titre=t, neutralizing=n)  # fmt: skip
    if "pk" in kinds:
        _pk(trial, site, code, ctx.truth, day, actual, ctx.rng, visit_id=v.id)
    if "dosing" in kinds and not withheld:
        _dose(ctx, {r.code: r for r in trial.protocol.regimens}[regimen], actual, day, v.id)


def _pk(
    trial: Trial,
    site: int,
    code: str,
    truth: PatientTruth,
    day: float,
    actual: dt.date,
    rng: np.random.Generator,
    visit_id: int,
) -> None:
    true = concentration(truth.pk, truth.doses, day)
    measured = true * float(rng.lognormal(0.0, truth.pk.model.residual_cv))
    lloq = truth.pk.model.lloq_ug_per_ml
    blq = measured < lloq
    trial.call(
        "pk_sample",
        site,
        samples.record_pk_sample,
        code,
        timing="PRE-DOSE",
        nominal_hours=0.0,
        collected_at=_at(actual, 8, 45),
        visit_id=visit_id,
        concentration=None if blq else round(measured, 2),
        blq=blq,
        lloq=lloq,
    )


def _dose(ctx: _Visits, regimen: Any, actual: dt.date, day: float, visit_id: int) -> None:
    """The pharmacist dispenses the dose's kits (the first dose: the kit of randomization), the
    nurse records the infusion; end-of-infusion PK where the protocol plans it."""
    trial, site, code, truth, rng = ctx.trial, ctx.site, ctx.code, ctx.truth, ctx.rng
    kits = max(1, round(regimen.dose_mg / 200.0))
    if ctx.cycle == 0:
        kit_number, lot = ctx.kit, None
    else:
        dispensed = trial.dispense(site, code, actual, kits)
        if dispensed is None:
            return
        kit_number, lot = dispensed[0].kit_number, dispensed[0].lot
    ctx.cycle += 1
    fields = {"cycle": ctx.cycle, "date": actual, "dose_mg": float(regimen.dose_mg),
              "kit_number": kit_number, "visit_id": visit_id, "regimen": regimen.code,
              "lot": lot, "infusion_start": _at(actual, 9, 30),
              "infusion_stop": _at(actual, 10, 0)}  # fmt: skip
    if rng.random() < 0.02:  # a typing slip: the dose without its last zero, refused
        slip = {**fields, "dose_mg": regimen.dose_mg / 10}
        trial.mistake(site, clinical.record_dose, code, **slip)
    dose = trial.call("dose", site, clinical.record_dose, code, **fields,
                      answer="visit delayed by the patient (travel); dose given")  # fmt: skip
    truth.doses.append((day, float(regimen.dose_mg)))
    if any(abs(day - 7 * week) <= 3 for week in trial.eoi_weeks):
        true = concentration(truth.pk, truth.doses, day + 0.01)
        measured = true * float(rng.lognormal(0.0, truth.pk.model.residual_cv))
        trial.call("pk_sample", site, samples.record_pk_sample, code, timing="END OF INFUSION",
                   nominal_hours=0.5, collected_at=_at(actual, 10, 15), dose_id=dose.id,
                   concentration=round(measured, 2))  # fmt: skip
