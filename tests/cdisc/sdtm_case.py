"""A hand-made StudySource for the SDTM tests: four subjects with known dates.

Study code ``STUDY1`` (not the protocol's id: ``STUDYID`` must be the study code), the
flagship protocol (arms BIO and REF, regimens Q3W and Q6W), one site ``S01``.

- subject 1, ``S01-0001``: randomized to BIO, doses on 2024-01-10 (day 1, infusion
  09:30-10:00 UTC) and 2024-01-31 (day 22, no infusion times, lot LOT-01); end of treatment
  2024-03-01 (adverse event), died 2024-04-01 (progressive disease); labs, PK, ADA, a
  QLQ-C30, lesions read by the investigator and the central reader, AEs, a con med, a
  subsequent therapy, a medical history;
- subject 2, ``S01-0002``: screen failure on 2024-01-12 (ECOG 2);
- subject 3, ``S01-0003``: randomized to REF (day 1 2024-01-15), never dosed;
- subject 4, ``S01-0004``: consented 2024-01-20, still in screening (not assigned).

Rows are stored out of date order on purpose, so ``--SEQ`` must sort them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from equitrial.datasets import StudySource
from equitrial.protocol import load_protocol

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
D = dt.date
UTC = dt.UTC


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A UTC date-time."""
    return dt.datetime.combine(day, dt.time(hour, minute), UTC)


def _subjects() -> list[dict[str, Any]]:
    def subject(i: int, consent: dt.date, status: str) -> dict[str, Any]:
        code = f"S01-000{i}"
        return {
            "id": i,
            "site_id": 1,
            "subject_code": code,
            "consent_date": consent,
            "sex": "M",
            "status": status,
        }

    return [
        subject(1, D(2024, 1, 2), "randomized"),
        subject(2, D(2024, 1, 5), "screen failed"),
        subject(3, D(2024, 1, 6), "randomized"),
        subject(4, D(2024, 1, 20), "screening"),
    ]


def _demographics() -> list[dict[str, Any]]:
    return [
        {
            "subject_id": i,
            "age": 60 + i,
            "sex": "F" if i == 1 else "M",
            "race": "WHITE",
            "ethnicity": "NOT HISPANIC OR LATINO",
            "country": "AUS",
        }
        for i in (1, 2, 3)
    ]


def _doses() -> list[dict[str, Any]]:
    return [
        {
            "id": 2,
            "subject_id": 1,
            "cycle": 2,
            "date": D(2024, 1, 31),
            "dose_mg": 200.0,
            "regimen": "Q3W",
            "lot": "LOT-01",
            "infusion_start": None,
            "infusion_stop": None,
            "delayed": True,
            "interrupted": False,
            "reason": "neutropenia",
        },
        {
            "id": 1,
            "subject_id": 1,
            "cycle": 1,
            "date": D(2024, 1, 10),
            "dose_mg": 200.0,
            "regimen": "Q3W",
            "lot": None,
            "infusion_start": at(D(2024, 1, 10), 9, 30),
            "infusion_stop": at(D(2024, 1, 10), 10),
            "delayed": False,
            "interrupted": False,
            "reason": None,
        },
    ]


def _adverse_events() -> list[dict[str, Any]]:
    base = {
        "subject_id": 1,
        "soc": "Gastrointestinal disorders",
        "related": "RELATED",
        "action_taken": "DOSE NOT CHANGED",
        "immune_category": None,
    }
    return [
        {
            **base,
            "id": 10,
            "term": "Diarrhea",
            "decod": "Diarrhea",
            "meddra_code": 10012727,
            "grade": 3,
            "start_date": D(2024, 3, 2),
            "end_date": None,
            "serious": True,
            "serious_criteria": "AESHOSP",
            "outcome": "NOT RECOVERED/NOT RESOLVED",
            "immune_category": "colitis",
        },
        {
            **base,
            "id": 11,
            "term": "Nausea",
            "decod": "Nausea",
            "meddra_code": 10028813,
            "grade": 1,
            "start_date": D(2024, 1, 9),
            "end_date": D(2024, 1, 11),
            "serious": False,
            "serious_criteria": None,
            "outcome": "RECOVERED/RESOLVED",
        },
        {
            **base,
            "id": 12,
            "term": "Fatigue",
            "decod": "Fatigue",
            "meddra_code": 10016256,
            "soc": "General disorders and administration site conditions",
            "grade": 2,
            "start_date": D(2024, 3, 1),
            "end_date": D(2024, 3, 5),
            "serious": False,
            "serious_criteria": None,
            "outcome": "RECOVERED/RESOLVED",
        },
    ]


def _labs() -> list[dict[str, Any]]:
    alt = {
        "subject_id": 1,
        "test": "Alanine aminotransferase increased",
        "unit": "U/L",
        "lln": None,
        "uln": 40.0,
        "accession": None,
    }
    return [
        {**alt, "id": 3, "value": 130.0, "collected_at": at(D(2024, 1, 31), 8), "ctcae_grade": 2},
        {**alt, "id": 2, "value": 50.0, "collected_at": at(D(2024, 1, 10), 8), "ctcae_grade": 1},
        {**alt, "id": 1, "value": 30.0, "collected_at": at(D(2024, 1, 3), 8), "ctcae_grade": 0},
        {
            "id": 4,
            "subject_id": 1,
            "test": "Anemia",
            "unit": "g/L",
            "lln": 120.0,
            "uln": 170.0,
            "value": 100.0,
            "collected_at": at(D(2024, 1, 3), 8),
            "ctcae_grade": 1,
            "accession": "ACC-4",
        },
    ]


def _samples() -> dict[str, list[dict[str, Any]]]:
    pk = [
        {
            "id": 1,
            "subject_id": 1,
            "collected_at": at(D(2024, 1, 10), 8, 45),
            "timing": "PRE-DOSE",
            "nominal_hours": 0.0,
            "concentration": None,
            "blq": True,
            "lloq": 0.5,
        },
        {
            "id": 2,
            "subject_id": 1,
            "collected_at": at(D(2024, 1, 10), 10, 15),
            "timing": "END OF INFUSION",
            "nominal_hours": 0.5,
            "concentration": 60.25,
            "blq": False,
            "lloq": None,
        },
    ]
    ada = [
        {
            "id": 1,
            "subject_id": 1,
            "collected_at": at(D(2024, 1, 31), 8, 30),
            "screening_result": "POSITIVE",
            "confirmatory_result": "POSITIVE",
            "titre": 8.0,
            "neutralizing": "NOT DONE",
        },
    ]
    qs = [
        {
            "id": 1,
            "subject_id": 1,
            "date": D(2024, 1, 10),
            "items_json": json.dumps({"2": 2, "10": 3, "1": 1}),
            "scores_json": None,
        },
    ]
    return {"pk_sample": pk, "ada_sample": ada, "questionnaire_response": qs}


def _tumour() -> dict[str, list[dict[str, Any]]]:
    lesions = [
        {
            "id": 1,
            "subject_id": 1,
            "lesion_code": "T1",
            "organ": "lung",
            "role": "target",
            "reader": "investigator",
        },
        {
            "id": 2,
            "subject_id": 1,
            "lesion_code": "NT1",
            "organ": "liver",
            "role": "non-target",
            "reader": "investigator",
        },
        {
            "id": 3,
            "subject_id": 1,
            "lesion_code": "T1",
            "organ": "lung",
            "role": "target",
            "reader": "central",
        },
        {
            "id": 4,
            "subject_id": 1,
            "lesion_code": "N1",
            "organ": "skin",
            "role": "new",
            "reader": "investigator",
        },
    ]

    def measure(i: int, lesion: int, day: dt.date, mm: float | None, status: str) -> dict[str, Any]:
        reader = "central" if lesion == 3 else "investigator"
        return {
            "id": i,
            "lesion_id": lesion,
            "assessment_date": day,
            "reader": reader,
            "diameter_mm": mm,
            "measurement_status": status,
        }

    measures = [
        measure(1, 1, D(2024, 1, 5), 30.0, "measured"),
        measure(2, 2, D(2024, 1, 5), None, "present"),
        measure(3, 3, D(2024, 1, 5), 32.0, "measured"),
        measure(4, 1, D(2024, 2, 20), 20.0, "measured"),
        measure(5, 2, D(2024, 2, 20), None, "absent"),
        measure(6, 4, D(2024, 2, 20), None, "present"),
        measure(7, 1, D(2024, 3, 30), None, "not assessed"),
    ]
    none = {
        "target_response": None,
        "non_target_response": None,
        "new_lesions": False,
        "overall_response": None,
        "irecist_response": None,
    }
    assessments = [
        {
            "id": 1,
            "subject_id": 1,
            "assessment_date": D(2024, 1, 5),
            "reader": "investigator",
            **none,
        },
        {
            "id": 2,
            "subject_id": 1,
            "assessment_date": D(2024, 2, 20),
            "reader": "investigator",
            "target_response": "PR",
            "non_target_response": "CR",
            "new_lesions": True,
            "overall_response": "PD",
            "irecist_response": "iUPD",
        },
    ]
    return {"lesion": lesions, "lesion_measurement": measures, "tumour_assessment": assessments}


def _events() -> dict[str, list[dict[str, Any]]]:
    return {
        "informed_consent": [
            {
                "id": i,
                "subject_id": i,
                "consent_date": c,
                "form_version": "1.0",
                "consent_type": "INITIAL",
            }
            for i, c in ((1, D(2024, 1, 2)), (2, D(2024, 1, 5)), (3, D(2024, 1, 6)))
        ],
        "regimen_period": [
            {"id": 1, "subject_id": 1, "regimen": "Q3W", "start_date": D(2024, 1, 10)},
            {"id": 2, "subject_id": 3, "regimen": "Q6W", "start_date": D(2024, 1, 15)},
        ],
        "disposition": [
            {
                "id": 1,
                "subject_id": 1,
                "scope": "END OF TREATMENT",
                "epoch": "TREATMENT",
                "decod": "ADVERSE EVENT",
                "date": D(2024, 3, 1),
                "reason": None,
            },
            {
                "id": 2,
                "subject_id": 2,
                "scope": "SCREEN FAILURE",
                "epoch": "SCREENING",
                "decod": "SCREEN FAILURE",
                "date": D(2024, 1, 12),
                "reason": "ECOG performance status 2",
            },
        ],
        "death": [
            {
                "id": 1,
                "subject_id": 1,
                "date": D(2024, 4, 1),
                "cause": "PROGRESSIVE DISEASE",
                "cause_text": None,
            }
        ],
        "medical_history": [
            {
                "id": 1,
                "subject_id": 1,
                "term": "HYPERTENSION",
                "category": "GENERAL",
                "start_date": D(2015, 6, 1),
                "ongoing": True,
                "end_date": None,
            },
        ],
        "con_med": [
            {
                "id": 1,
                "subject_id": 1,
                "name": "PREDNISONE",
                "indication": "Colitis",
                "dose": 1.0,
                "dose_unit": "mg/kg",
                "route": "ORAL",
                "frequency": "QD",
                "start": D(2024, 3, 3),
                "end": None,
                "ongoing": True,
                "irae_corticosteroid": True,
            },
        ],
        "subsequent_therapy": [
            {
                "id": 1,
                "subject_id": 1,
                "name": "DABRAFENIB + TRAMETINIB",
                "therapy_type": "TARGETED THERAPY",
                "start_date": D(2024, 3, 15),
            },
        ],
        "visit": [
            {"subject_id": 1, "name": "day 22", "actual_date": D(2024, 1, 31)},
            {"subject_id": 1, "name": "day 1", "actual_date": D(2024, 1, 10)},
            {"subject_id": 1, "name": "day 43", "actual_date": None},
            {"subject_id": 1, "name": "survival follow-up 1", "actual_date": D(2024, 3, 20)},
        ],
    }


def case() -> StudySource:
    """The hand-made source described in the module's text."""
    tables: dict[str, list[dict[str, Any]]] = {
        "site": [{"id": 1, "code": "S01", "country": "AUS", "site_type": "METROPOLITAN"}],
        "subject": _subjects(),
        "demographics": _demographics(),
        "dose": _doses(),
        "adverse_event": _adverse_events(),
        "lab_result": _labs(),
        **_samples(),
        **_tumour(),
        **_events(),
    }
    return StudySource(
        study={"code": "STUDY1", "title": "A hand-made study", "protocol_version": "2.0"},
        protocol=load_protocol(PROTOCOL),
        tables=tables,
        arms={1: "BIO", 3: "REF"},
    )


def rows(dataset: Any, **where: Any) -> list[dict[str, Any]]:
    """The dataset's records (dicts) matching ``where`` (variable = value)."""
    out = dataset.frame.to_dict("records")
    return [r for r in out if all(r[k] == v for k, v in where.items())]
