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
from typing import TYPE_CHECKING, Any

import numpy as np

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
    conmeds,
    outcomes,
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
        self.troughs: list[tuple[float, str, float]] = []  # (day, regimen, true concentration)


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
    _schedule_events(trial, code, site, events, stop, rng)
    _schedule_ending(trial, p, code, site, truth, stop, reason, rng)
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
        trial.at(
            scan.date + dt.timedelta(days=2), _ORDER_LATER, lambda s=scan: read(s, "investigator")
        )
        trial.at(scan.date + dt.timedelta(days=12), _ORDER_LATER, lambda s=scan: read(s, "central"))


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
    regimens = {r.code: r for r in trial.protocol.regimens}
    health = float(rng.beta(7, 3))
    baseline_labs = lab_baseline(rng)
    state: dict[str, Any] = {"cycle": 0, "kit": kit, "regimen": p.regimen}
    for regimen, row in _visit_rows(trial, p, day1):
        if row.planned_date > stop or row.planned_date > trial.end:
            break
        late = rng.random() < 0.02
        shift = int(rng.integers(5, 7)) if late else int(rng.integers(-1, 2))
        actual = min(max(row.planned_date + dt.timedelta(days=shift), day1), trial.end)
        if row.planned_date == day1:
            actual = day1
        if actual >= stop and row.planned_date != day1:
            break
        withheld = any(
            e.withholds_dose and e.onset <= actual and (e.end is None or actual <= e.end)
            for e in truth.events
        )
        progressed = truth.course.progression is not None and actual > truth.course.progression
        quality = health - (0.25 if progressed else 0.0) - (0.1 if withheld else 0.0)

        def visit(
            row: Any = row,
            actual: dt.date = actual,
            regimen: str = regimen,
            withheld: bool = withheld,
            quality: float = quality,
        ) -> None:
            if regimen != state["regimen"]:
                trial.call(
                    "regimen_switch",
                    site,
                    schedule_service.switch_regimen,
                    code,
                    regimen,
                    effective=row.planned_date,
                    reason="fewer infusion visits (patient's choice)",
                    who="inv",
                )
                state["regimen"] = regimen
            v = trial.call(
                "visit",
                site,
                clinical.record_visit,
                code,
                row.name,
                planned_date=row.planned_date,
                actual_date=actual,
            )
            kinds = row.assessments
            if "labs" in kinds:
                taken = _at(actual, 8)
                for test, value in lab_panel(rng, baseline_labs, actual, truth.events):
                    trial.lab(
                        site,
                        {
                            "subject": code,
                            "test": test.term,
                            "value": value,
                            "unit": test.unit,
                            "collected_at": taken,
                            "lln": test.lln,
                            "uln": test.uln,
                        },
                    )
            if "questionnaire" in kinds:
                answers = qlq_answers(rng, float(np.clip(quality, 0.02, 0.98)))
                trial.call(
                    "questionnaire",
                    site,
                    questionnaires.record_qlq_c30,
                    code,
                    date=actual,
                    items=answers,
                )
            day = float((actual - day1).days)
            if "ada" in kinds:
                s, c, t, n = truth.ada.result(day)
                trial.call(
                    "ada_sample",
                    site,
                    samples.record_ada_sample,
                    code,
                    collected_at=_at(actual, 8, 30),
                    screening_result=s,
                    confirmatory_result=c,
                    titre=t,
                    neutralizing=n,
                )
            if "pk" in kinds:
                _pk(trial, site, code, truth, day, actual, regimen, rng, visit_id=v.id)
            if "dosing" in kinds and not withheld:
                _dose(trial, site, code, truth, state, regimens[regimen], actual, day, v.id, rng)

        trial.at(actual, _ORDER_VISIT, visit)


def _pk(
    trial: Trial,
    site: int,
    code: str,
    truth: PatientTruth,
    day: float,
    actual: dt.date,
    regimen: str,
    rng: np.random.Generator,
    visit_id: int,
) -> None:
    true = concentration(truth.pk, truth.doses, day)
    truth.troughs.append((day, regimen, true))
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


def _dose(
    trial: Trial,
    site: int,
    code: str,
    truth: PatientTruth,
    state: dict[str, Any],
    regimen: Any,
    actual: dt.date,
    day: float,
    visit_id: int,
    rng: np.random.Generator,
) -> None:
    kits = max(1, round(regimen.dose_mg / 200.0))
    if state["cycle"] == 0:
        kit_number, lot = state["kit"], None
    else:
        dispensed = trial.dispense(site, code, actual, kits)
        if dispensed is None:
            return
        kit_number, lot = dispensed[0].kit_number, dispensed[0].lot
    state["cycle"] += 1
    fields = {
        "cycle": state["cycle"],
        "date": actual,
        "dose_mg": float(regimen.dose_mg),
        "kit_number": kit_number,
        "visit_id": visit_id,
        "regimen": regimen.code,
        "lot": lot,
        "infusion_start": _at(actual, 9, 30),
        "infusion_stop": _at(actual, 10, 0),
    }
    if rng.random() < 0.02:  # a typing slip: the dose without its last zero, refused
        trial.mistake(
            site, clinical.record_dose, code, **{**fields, "dose_mg": regimen.dose_mg / 10}
        )
    dose = trial.call("dose", site, clinical.record_dose, code, **fields)
    trial.follow_queries(site, dose, "visit delayed by the patient (travel); dose given")
    truth.doses.append((day, float(regimen.dose_mg)))
    if any(abs(day - 7 * week) <= 3 for week in trial.eoi_weeks):
        taken = _at(actual, 10, 15)
        true = concentration(truth.pk, truth.doses, day + 0.01)
        trial.call(
            "pk_sample",
            site,
            samples.record_pk_sample,
            code,
            timing="END OF INFUSION",
            nominal_hours=0.5,
            collected_at=taken,
            dose_id=dose.id,
            concentration=round(true * float(rng.lognormal(0.0, truth.pk.model.residual_cv)), 2),
        )


_STEROID = {
    "name": "PREDNISONE",
    "dose": 1.0,
    "dose_unit": "mg/kg",
    "route": "ORAL",
    "frequency": "QD",
}


def _schedule_events(
    trial: Trial,
    code: str,
    site: int,
    events: list[AdverseEventSpec],
    stop: dt.date,
    rng: np.random.Generator,
) -> None:
    for e in events:
        state: dict[str, int] = {}
        action = (
            "DRUG WITHDRAWN"
            if e.ends_treatment
            else "DRUG INTERRUPTED"
            if e.withholds_dose and e.onset < stop
            else "DOSE NOT CHANGED"
        )

        def report(
            e: AdverseEventSpec = e, action: str = action, state: dict[str, int] = state
        ) -> None:
            view = trial.call(
                "adverse_event",
                site,
                clinical.report_adverse_event,
                code,
                term=e.term,
                grade=e.grade,
                start_date=e.onset,
                serious=e.serious,
                serious_criteria="HOSPITALIZATION" if e.serious else None,
                related="RELATED" if e.immune else "NOT RELATED",
                action_taken=action,
                outcome="NOT RECOVERED/NOT RESOLVED",
            )
            state["id"] = view.id
            if e.steroids:
                start = e.onset + dt.timedelta(days=1)
                end = min(start + dt.timedelta(days=28), trial.end)
                slip = rng.random() < 0.1  # the indication forgotten: a query, then corrected
                med = trial.call(
                    "con_med",
                    site,
                    conmeds.record_con_med,
                    code,
                    **_STEROID,
                    indication=None if slip else e.term,
                    start=start,
                    end=end,
                    adverse_event_id=view.id,
                )
                trial.follow_queries(
                    site, med, "indication added", fix=("con_med", {"indication": e.term})
                )

        trial.at(e.onset + dt.timedelta(days=2), _ORDER_LATER, report)
        if e.end is not None:

            def resolve(e: AdverseEventSpec = e, state: dict[str, int] = state) -> None:
                trial.call(
                    "adverse_event_update",
                    site,
                    clinical.update_record,
                    "adverse_event",
                    state["id"],
                    {"end_date": e.end, "outcome": "RECOVERED/RESOLVED"},
                    reason="event resolved",
                )

            trial.at(
                max(e.end, e.onset + dt.timedelta(days=2)) + dt.timedelta(days=3),
                _ORDER_LATER,
                resolve,
            )


def _schedule_ending(
    trial: Trial,
    p: ScreenedPatient,
    code: str,
    site: int,
    truth: PatientTruth,
    stop: dt.date,
    reason: str | None,
    rng: np.random.Generator,
) -> None:
    course = truth.course
    if reason is not None:
        trial.at(
            stop + dt.timedelta(days=3),
            _ORDER_LATER,
            lambda: trial.call(
                "disposition",
                site,
                outcomes.record_disposition,
                code,
                epoch="TREATMENT",
                decod=reason,
                date=stop,
            ),
        )
    if reason == "WITHDRAWAL BY SUBJECT":
        trial.at(
            stop + dt.timedelta(days=4),
            _ORDER_LATER,
            lambda: trial.call(
                "disposition",
                site,
                outcomes.record_disposition,
                code,
                epoch="STUDY",
                decod=reason,
                date=stop,
            ),
        )
        return
    if course.progression is not None and rng.random() < 0.6:
        start = course.progression + dt.timedelta(days=int(rng.integers(21, 60)))
        if start <= trial.end and (course.death is None or start < course.death):
            mutant = p.braf == "MUTANT"
            trial.at(
                start + dt.timedelta(days=5),
                _ORDER_LATER,
                lambda: trial.call(
                    "subsequent_therapy",
                    site,
                    conmeds.record_subsequent_therapy,
                    code,
                    name="DABRAFENIB + TRAMETINIB" if mutant else "IPILIMUMAB + NIVOLUMAB",
                    therapy_type="TARGETED THERAPY" if mutant else "IMMUNOTHERAPY",
                    start_date=start,
                ),
            )
    if reason is not None:
        contact, k = stop + dt.timedelta(weeks=12), 1
        while contact <= trial.end and (course.death is None or contact < course.death):
            trial.at(
                contact,
                _ORDER_VISIT,
                lambda c=contact, k=k: trial.call(
                    "visit",
                    site,
                    clinical.record_visit,
                    code,
                    f"survival follow-up {k}",
                    planned_date=c,
                    actual_date=c,
                ),
            )
            contact, k = contact + dt.timedelta(weeks=12), k + 1
    if course.death is not None:
        death = course.death
        trial.at(
            death + dt.timedelta(days=5),
            _ORDER_LATER,
            lambda: (
                trial.call(
                    "death",
                    site,
                    outcomes.record_death,
                    code,
                    date=death,
                    cause=course.death_cause or "UNKNOWN",
                    cause_text="cardiovascular" if course.death_cause == "OTHER" else None,
                ),
                trial.call(
                    "disposition",
                    site,
                    outcomes.record_disposition,
                    code,
                    epoch="STUDY",
                    decod="DEATH",
                    date=death,
                ),
            ),
        )
