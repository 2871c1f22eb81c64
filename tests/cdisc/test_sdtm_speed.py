"""build_sdtm on a 300-subject study with two years of records each: every record in its domain
and every domain within the contract (its time is measured by benchmarks/export.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sdtm_case import at, case
from sdtm_contract import check_all

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import StudySource

N = 300
CYCLES = 35  # 200 mg Q3W for two years
TESTS = (
    "Alanine aminotransferase increased",
    "Anemia",
    "Hyponatremia",
    "Platelet count decreased",
    "Neutrophil count decreased",
    "Creatinine increased",
    "Blood bilirubin increased",
    "Aspartate aminotransferase increased",
)


def _subject_rows(i: int, tables: dict[str, list[dict[str, Any]]]) -> None:
    day1 = dt.date(2024, 1, 1) + dt.timedelta(days=i)
    tables["subject"].append(
        {
            "id": i,
            "site_id": 1,
            "subject_code": f"S01-{i:04d}",
            "consent_date": day1 - dt.timedelta(days=14),
            "status": "randomized",
        }
    )
    tables["demographics"].append(
        {
            "subject_id": i,
            "age": 60,
            "sex": "F",
            "race": "WHITE",
            "ethnicity": "UNKNOWN",
            "country": "AUS",
        }
    )
    for c in range(CYCLES):
        day = day1 + dt.timedelta(days=21 * c)
        k = i * 1000 + c
        tables["dose"].append(
            {
                "id": k,
                "subject_id": i,
                "cycle": c + 1,
                "date": day,
                "dose_mg": 200.0,
                "regimen": "Q3W",
                "lot": "LOT-01",
                "infusion_start": at(day, 9, 30),
                "infusion_stop": at(day, 10),
            }
        )
        tables["visit"].append({"subject_id": i, "name": f"day {21 * c + 1}", "actual_date": day})
        for t, test in enumerate(TESTS):
            tables["lab_result"].append(
                {
                    "id": k * 10 + t,
                    "subject_id": i,
                    "test": test,
                    "value": 10.0 + t,
                    "unit": "U/L",
                    "lln": 5.0,
                    "uln": 40.0,
                    "collected_at": at(day, 8),
                    "ctcae_grade": 0,
                }
            )
        if c % 3 == 0:
            tables["questionnaire_response"].append(
                {
                    "id": k,
                    "subject_id": i,
                    "date": day,
                    "items_json": "{" + ", ".join(f'"{q}": 2' for q in range(1, 31)) + "}",
                }
            )
            tables["tumour_assessment"].append(
                {
                    "id": k,
                    "subject_id": i,
                    "assessment_date": day,
                    "reader": "central",
                    "target_response": "SD",
                    "non_target_response": "NON-CR/NON-PD",
                    "new_lesions": False,
                    "overall_response": "SD",
                    "irecist_response": "iSD",
                }
            )
            for lesion in range(3):
                tables["lesion_measurement"].append(
                    {
                        "id": k * 10 + lesion,
                        "lesion_id": i * 10 + lesion,
                        "assessment_date": day,
                        "reader": "central",
                        "diameter_mm": 20.0,
                        "measurement_status": "measured",
                    }
                )
    for lesion in range(3):
        tables["lesion"].append(
            {
                "id": i * 10 + lesion,
                "subject_id": i,
                "lesion_code": f"T{lesion}",
                "organ": "lung",
                "role": "target",
                "reader": "central",
            }
        )


def test_300_subjects_in_a_few_seconds() -> None:
    names = (
        "subject",
        "demographics",
        "dose",
        "visit",
        "lab_result",
        "questionnaire_response",
        "tumour_assessment",
        "lesion",
        "lesion_measurement",
    )
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    tables["site"] = [{"id": 1, "code": "S01", "country": "AUS"}]
    for i in range(1, N + 1):
        _subject_rows(i, tables)
    hand = case()
    source = StudySource(
        study=hand.study,
        protocol=hand.protocol,
        tables=tables,
        arms={i: "BIO" if i % 2 else "REF" for i in range(1, N + 1)},
    )
    datasets = build_sdtm(source)
    sizes = {d.name: len(d.frame) for d in datasets}
    assert sizes["LB"] == N * CYCLES * len(TESTS)  # 84,000 results
    assert sizes["QS"] == N * 12 * 30 and sizes["EX"] == N * CYCLES
    check_all(datasets)
