"""MedDRA codes and grade texts of the CTCAE v5.0 catalogue against the cited source.

Source of every expected value below: the NCI CTCAE v5.0 Excel as transcribed in
``KohSoonho/CTCAE`` @ 0ade644caf094114c1850259aaf69be8e8f22b91, ``CTCAE_v5.0.csv`` (the same rows
in ``Yao-Ge-1218AM/test_ctcae`` @ 127829b6e970115efc66b5b495430cd7e508afc8), column "MedDRA
Code" of the row of each "CTCAE Term"; the values were read off the CSV by hand, not produced
by our code.
"""

from __future__ import annotations

import pytest

from equitrial.clinical.ctcae import catalogue, criteria_from_mapping
from equitrial.errors import InvalidInputError

CSV_CODES = {
    # Investigations
    "Alanine aminotransferase increased": 10001551,
    "Aspartate aminotransferase increased": 10003481,
    "Alkaline phosphatase increased": 10001675,
    "GGT increased": 10056910,
    "Blood bilirubin increased": 10005364,
    "Creatinine increased": 10011368,
    "CPK increased": 10011268,
    "Lipase increased": 10024574,
    "Serum amylase increased": 10040139,
    "Neutrophil count decreased": 10029366,
    "Platelet count decreased": 10035528,
    "Lymphocyte count decreased": 10025256,
    "White blood cell decreased": 10049182,
    # Blood and lymphatic system disorders
    "Anemia": 10002272,
    # Metabolism and nutrition disorders
    "Hypokalemia": 10021018,
    "Hyperkalemia": 10020647,
    "Hyponatremia": 10021038,
    "Hypernatremia": 10020680,
    "Hypercalcemia": 10020587,
    "Hypocalcemia": 10020949,
    "Hypomagnesemia": 10021028,
    "Hypermagnesemia": 10020670,
    "Hypoglycemia": 10021005,
    "Hypoalbuminemia": 10020943,
    "Hyperglycemia": 10020639,
    "Glucose intolerance": 10052426,
    # clinical terms
    "Pneumonitis": 10035742,
    "Colitis": 10009887,
    "Diarrhea": 10012727,
    "Nausea": 10028813,
    "Pancreatitis": 10033645,
    "Fatigue": 10016256,
    "Arthralgia": 10003239,
    "Myositis": 10028653,
    "Hypothyroidism": 10021114,
    "Hyperthyroidism": 10020850,
    "Hypophysitis": 10062767,
    "Adrenal insufficiency": 10001367,
    "Acute kidney injury": 10069339,
    "Rash maculo-papular": 10037868,
    "Pruritus": 10037087,
    "Stevens-Johnson syndrome": 10042033,
    "Toxic epidermal necrolysis": 10044223,
    "Myocarditis": 10028606,
    "Infusion related reaction": 10051792,
}


def test_every_catalogue_term_has_the_meddra_code_of_the_csv() -> None:
    codes = {t.term: t.meddra_code for t in catalogue()}
    assert codes == CSV_CODES


@pytest.mark.parametrize(
    ("term", "grade", "text"),
    [
        # the CSV rows, column "Grade n"; "-": the grade does not exist for the term
        ("Colitis", 3, "Severe abdominal pain; peritoneal signs"),
        ("Diarrhea", 4, "Life-threatening consequences; urgent intervention indicated"),
        ("Acute kidney injury", 1, "-"),
        ("Acute kidney injury", 3, "Hospitalization indicated"),
        ("Toxic epidermal necrolysis", 3, "-"),
        ("Myositis", 5, "-"),
        ("Pancreatitis", 2, "Enzyme elevation; radiologic findings only"),
        (
            "Hyperglycemia",
            2,
            "Change in daily management from baseline for a diabetic; oral antiglycemic agent "
            "initiated; workup for diabetes",
        ),
        ("Rash maculo-papular", 4, "-"),
    ],
)
def test_clinical_grade_texts_quote_the_csv(term: str, grade: int, text: str) -> None:
    texts = {t.term: t.grade_text for t in catalogue()}[term]
    assert texts is not None and texts[grade - 1] == text


def test_a_code_that_is_not_a_meddra_code_is_refused() -> None:
    raw = {
        "version": "x",
        "lab_terms": [],
        "clinical_terms": [{"term": "Colitis", "soc": "GI", "grade_text": None,
                            "notes": "n", "meddra_code": 1234}],
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="8-digit"):
        criteria_from_mapping(raw)
