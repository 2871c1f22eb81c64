"""Adverse events, their treatment, and how a virtual patient's time on study ends.

The site reports each adverse event two days after its onset (term from the CTCAE v5.0
catalogue, grade, seriousness, relatedness, action taken) and records its end when it resolves;
an immune-related event of grade 2 or more of a steroid-treated term gets prednisone 1 mg/kg as
a concomitant medication linked to it (now and then entered without its indication: the query
that follows is answered with the correction). At the end of treatment the site records the
disposition, then the survival follow-up contacts every 12 weeks, a subsequent anticancer
therapy after progression, and the death and end of study.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from equitrial.demo.patients import ScreenedPatient
from equitrial.demo.safety import AdverseEventSpec
from equitrial.services import clinical, conmeds, outcomes

if TYPE_CHECKING:
    from equitrial.demo.flow import PatientTruth
    from equitrial.demo.runner import Trial

__all__ = ["schedule_adverse_events", "schedule_ending"]

_ORDER_VISIT, _ORDER_LATER = 1, 5
_STEROID: dict[str, Any] = {
    "name": "PREDNISONE",
    "dose": 1.0,
    "dose_unit": "mg/kg",
    "route": "ORAL",
    "frequency": "QD",
}


def _action(e: AdverseEventSpec, stop: dt.date) -> str:
    if e.ends_treatment:
        return "DRUG WITHDRAWN"
    if e.withholds_dose and e.onset < stop:
        return "DRUG INTERRUPTED"
    return "DOSE NOT CHANGED"


def _report(trial: Trial, code: str, site: int, e: AdverseEventSpec, action: str,
            state: dict[str, int], slip: bool) -> None:  # fmt: skip
    view = trial.call(
        "adverse_event", site, clinical.report_adverse_event, code,
        term=e.term, grade=e.grade, start_date=e.onset, serious=e.serious,
        serious_criteria="AESHOSP" if e.serious else None,
        related="RELATED" if e.immune else "NOT RELATED", action_taken=action,
        outcome="NOT RECOVERED/NOT RESOLVED",
    )  # fmt: skip
    state["id"] = view.id
    if e.steroids:
        start = e.onset + dt.timedelta(days=1)
        end = min(start + dt.timedelta(days=28), trial.end)
        trial.call(
            "con_med", site, conmeds.record_con_med, code, **_STEROID,
            indication=None if slip else e.term, start=start, end=end, adverse_event_id=view.id,
            answer="indication added", fix=("con_med", {"indication": e.term}),
        )  # fmt: skip


def _resolve(trial: Trial, site: int, e: AdverseEventSpec, state: dict[str, int]) -> None:
    changes = {"end_date": e.end, "outcome": "RECOVERED/RESOLVED"}
    trial.call("adverse_event_update", site, clinical.update_record, "adverse_event",
               state["id"], changes, reason="event resolved")  # fmt: skip


def schedule_adverse_events(trial: Trial, code: str, site: int, events: list[AdverseEventSpec],
                            stop: dt.date, rng: np.random.Generator) -> None:  # fmt: skip
    """Queue the report of each event, its corticosteroid, and its resolution."""
    for e in events:
        state: dict[str, int] = {}
        slip = bool(rng.random() < 0.1)  # the indication of the steroid forgotten
        reported = e.onset + dt.timedelta(days=2)
        trial.at(reported, _ORDER_LATER, _report, trial, code, site, e, _action(e, stop), state,
                 slip)  # fmt: skip
        if e.end is not None:
            trial.at(max(e.end, reported) + dt.timedelta(days=3), _ORDER_LATER, _resolve, trial,
                     site, e, state)  # fmt: skip


def schedule_ending(
    trial: Trial,
    p: ScreenedPatient,
    code: str,
    site: int,
    truth: PatientTruth,
    stop: dt.date,
    reason: str | None,
    rng: np.random.Generator,
) -> None:
    """Queue the end of treatment, follow-up contacts, subsequent therapy, death and end of
    study (``reason`` None: still on treatment when the study ends)."""
    course = truth.course
    dispose = outcomes.record_disposition
    if reason is not None:
        trial.at(stop + dt.timedelta(days=3), _ORDER_LATER, trial.call, "disposition", site,
                 dispose, code, scope="END OF TREATMENT", decod=reason, date=stop)  # fmt: skip
    if reason == "WITHDRAWAL BY SUBJECT":
        trial.at(stop + dt.timedelta(days=4), _ORDER_LATER, trial.call, "disposition", site,
                 dispose, code, scope="END OF STUDY", decod=reason, date=stop)  # fmt: skip
        return
    if course.progression is not None and rng.random() < 0.6:
        start = course.progression + dt.timedelta(days=int(rng.integers(21, 60)))
        if start <= trial.end and (course.death is None or start < course.death):
            mutant = p.braf == "MUTANT"
            trial.at(
                start + dt.timedelta(days=5), _ORDER_LATER, trial.call, "subsequent_therapy", site,
                conmeds.record_subsequent_therapy, code,
                name="DABRAFENIB + TRAMETINIB" if mutant else "IPILIMUMAB + NIVOLUMAB",
                therapy_type="TARGETED THERAPY" if mutant else "IMMUNOTHERAPY", start_date=start,
            )  # fmt: skip
    if reason is not None:
        contact, k = stop + dt.timedelta(weeks=12), 1
        while contact <= trial.end and (course.death is None or contact < course.death):
            trial.at(contact, _ORDER_VISIT, trial.call, "visit", site, clinical.record_visit,
                     code, f"survival follow-up {k}", planned_date=contact,
                     actual_date=contact)  # fmt: skip
            contact, k = contact + dt.timedelta(weeks=12), k + 1
    if course.death is not None:
        death, cause = course.death, course.death_cause or "UNKNOWN"
        later = death + dt.timedelta(days=5)
        trial.at(later, _ORDER_LATER, trial.call, "death", site, outcomes.record_death, code,
                 date=death, cause=cause,
                 cause_text="cardiovascular" if cause == "OTHER" else None)  # fmt: skip
        trial.at(later, _ORDER_LATER + 1, trial.call, "disposition", site, dispose, code,
                 scope="END OF STUDY", decod="DEATH", date=death)  # fmt: skip
