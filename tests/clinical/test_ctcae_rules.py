"""CTCAE v5.0 grading rules beyond single cut points: missing LLN/ULN/baseline, baseline
abnormal, clinical-only grades, the "worst case" assumptions, units, errors, catalogue.

Reference: NCI CTCAE v5.0 (27 Nov 2017) via pharmaverse admiral ``ncictcaev5.json`` and its
"worst case" COMMENT fields, as transcribed in NCI CTCAE v5.0 (2017), as in pharmaverse admiral's
ncictcaev5.json; each test
quotes the criterion it checks.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from equitrial.clinical.ctcae import (
    available_versions,
    catalogue,
    convert_unit,
    criteria_from_mapping,
    grade_lab,
    grade_lab_with,
    immune_category,
    load_criteria,
)
from equitrial.errors import InvalidInputError, NotFoundError, UnknownOptionError

ALT = "Alanine aminotransferase increased"
ANC = "Neutrophil count decreased"


# --- missing LLN / ULN / baseline -------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "value", "unit", "expected"),
    [
        # "<LLN - 1500/mm3": grade 1 needs the LLN; "<1500 - 1000/mm3" does not
        (ANC, 1.7, "10^9/L", None),
        (ANC, 1.5, "10^9/L", None),
        (ANC, 1.2, "10^9/L", 2),
        (ANC, 0.3, "10^9/L", 4),
        ("Anemia", 105.0, "g/L", None),  # "<LLN - 100 g/L"
        ("Anemia", 95.0, "g/L", 2),  # "<100 - 80 g/L"
        ("Hyperkalemia", 5.3, "mmol/L", None),  # ">ULN - 5.5 mmol/L"
        ("Hyperkalemia", 5.8, "mmol/L", 2),  # ">5.5 - 6.0 mmol/L"
        ("Hypokalemia", 3.2, "mmol/L", None),  # "Symptomatic with <LLN - 3.0 mmol/L"
        ("Hypokalemia", 2.9, "mmol/L", 3),  # "<3.0 - 2.5 mmol/L"
        ("Hypermagnesemia", 1.1, "mmol/L", None),  # ">ULN - 1.23 mmol/L"
        ("Hypermagnesemia", 1.3, "mmol/L", 3),  # ">1.23 - 3.30 mmol/L"
        ("CPK increased", 5000.0, "U/L", None),  # every grade is a ULN multiple
        (ALT, 5000.0, "U/L", None),
    ],
)
def test_missing_limit_gives_none_only_where_the_band_needs_it(
    term: str, value: float, unit: str, expected: int | None
) -> None:
    assert grade_lab(term, value, unit) == expected


def test_creatinine_without_baseline_uses_uln_multiples_only() -> None:
    # admiral: baseline rules are "!is.na(BASE) & ..."; ">1.5 - 3.0 x ULN" -> grade 2
    assert grade_lab("Creatinine increased", 160.0, "umol/L", uln=100.0) == 2


def test_creatinine_baseline_multiple_reaches_grade_3_below_3_uln() -> None:
    # ">3.0 baseline; >3.0 - 6.0 x ULN": 130 umol/L is 1.3 x ULN but 3.25 x baseline 40
    assert grade_lab("Creatinine increased", 130.0, "umol/L", uln=100.0, baseline=40.0) == 3


def test_creatinine_without_uln_is_none_because_grade_4_cannot_be_excluded() -> None:
    # ">6.0 x ULN" is undecidable without ULN (admiral would return 3 here)
    assert grade_lab("Creatinine increased", 200.0, "umol/L", baseline=60.0) is None


# --- baseline abnormal ------------------------------------------------------------------------


def test_abnormal_baseline_record_itself_grades_0() -> None:
    # ctcae.md: "if BNRIND is abnormal the baseline record itself grades 0"
    assert grade_lab(ALT, 100.0, "U/L", uln=40.0, baseline=100.0) == 0


def test_abnormal_baseline_uses_multiples_of_baseline_not_uln() -> None:
    # 130 U/L = 3.25 x ULN 40 (grade 2 on the ULN scale) but 1.3 x baseline 100: below
    # "1.5 - 3.0 x baseline if baseline was abnormal"
    assert grade_lab(ALT, 130.0, "U/L", uln=40.0, baseline=100.0) == 0
    assert grade_lab(ALT, 130.0, "U/L", uln=40.0, baseline=100.0, baseline_abnormal=False) == 2


def test_baseline_at_uln_is_normal() -> None:
    # derived flag: abnormal = baseline > ULN; a baseline equal to ULN is normal
    assert grade_lab(ALT, 45.0, "U/L", uln=40.0, baseline=40.0) == 1


def test_baseline_abnormal_flag_overrides_derivation() -> None:
    # flag True with baseline 30 (< ULN): "1.5 - 3.0 x baseline" -> 45 is grade 1
    assert grade_lab(ALT, 45.0, "U/L", uln=40.0, baseline=30.0, baseline_abnormal=True) == 1
    assert grade_lab(ALT, 44.0, "U/L", uln=40.0, baseline=30.0, baseline_abnormal=True) == 0


def test_abnormal_flag_without_baseline_value_cannot_grade() -> None:
    assert grade_lab(ALT, 500.0, "U/L", uln=40.0, baseline_abnormal=True) is None


def test_abnormal_baseline_grades_without_uln_when_flag_given() -> None:
    # ">20.0 x baseline if baseline was abnormal"
    assert grade_lab(ALT, 2001.0, "U/L", baseline=100.0, baseline_abnormal=True) == 4


def test_baseline_without_uln_cannot_derive_the_flag() -> None:
    assert grade_lab(ALT, 2001.0, "U/L", baseline=100.0) is None


def test_bilirubin_abnormal_baseline_grade_1_is_above_baseline() -> None:
    # "> 1.0 - 1.5 x baseline if baseline was abnormal"
    assert grade_lab("Blood bilirubin increased", 2.0, "mg/dL", uln=1.2, baseline=2.0) == 0
    assert grade_lab("Blood bilirubin increased", 2.01, "mg/dL", uln=1.2, baseline=2.0) == 1


def test_baseline_is_ignored_by_terms_without_baseline_rules() -> None:
    assert grade_lab("CPK increased", 450.0, "U/L", uln=200.0, baseline=400.0) == 1


# --- clinical-only grades, assumptions, rounding ----------------------------------------------


def test_anemia_gives_grade_3_at_most() -> None:
    # grade 4 "Life-threatening consequences; urgent intervention indicated" is clinical only
    assert grade_lab("Anemia", 10.0, "g/L", lln=120.0) == 3
    assert grade_lab("Hypoalbuminemia", 5.0, "g/L", lln=35.0) == 3


def test_hypermagnesemia_has_no_grade_2() -> None:
    # Grade 2 "-": just above ULN is grade 1, above 1.23 mmol/L grade 3
    assert grade_lab("Hypermagnesemia", 1.2, "mmol/L", uln=1.0) == 1
    assert grade_lab("Hypermagnesemia", 1.24, "mmol/L", uln=1.0) == 3


@pytest.mark.parametrize(
    ("term", "value", "unit", "refs", "worst", "best"),
    [
        ("Hypokalemia", 3.2, "mmol/L", {"lln": 3.5}, 2, 1),  # "Symptomatic with <LLN - 3.0"
        ("Hyponatremia", 127.0, "mmol/L", {"lln": 135.0}, 3, 2),  # "125-129 mmol/L symptomatic"
        ("Hyponatremia", 122.0, "mmol/L", {"lln": 135.0}, 3, 3),  # "120-124 ... regardless"
        ("Lipase increased", 180.0, "U/L", {"uln": 60.0}, 3, 2),  # ">2.0 - 5.0 x ULN with s/s"
        ("Lipase increased", 360.0, "U/L", {"uln": 60.0}, 4, 3),  # ">5.0 x ULN and with s/s"
        ("Serum amylase increased", 100.0, "U/L", {"uln": 60.0}, 2, 2),  # ">1.5 - 2.0 x ULN"
    ],
)
def test_worst_case_follows_admiral_and_best_case_assumes_no_symptoms(
    term: str, value: float, unit: str, refs: dict[str, float], worst: int, best: int
) -> None:
    assert grade_lab(term, value, unit, **refs) == worst
    assert grade_lab(term, value, unit, assume="best", **refs) == best


def test_comparison_at_15_significant_digits_as_admiral() -> None:
    # 1.5 x 1.2 is 1.7999999999999998 in binary; 1.8 mg/dL is exactly 1.5 x ULN:
    # ">ULN - 1.5 x ULN" (grade 1), not ">1.5 - 3.0 x ULN"
    assert grade_lab("Blood bilirubin increased", 1.8, "mg/dL", uln=1.2) == 1


def test_hemoglobin_mmol_per_l_uses_the_printed_mmol_thresholds() -> None:
    # "<6.2 - 4.9 mmol/L" is grade 2 although 4.95 mmol/L = 7.98 g/dL would be "<8.0 g/dL"
    assert grade_lab("Anemia", 4.95, "mmol/L", lln=7.4) == 2
    assert grade_lab("Anemia", 4.95 / 0.6206, "g/dL", lln=12.0) == 3


# --- units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "value", "unit", "refs", "expected"),
    [
        (ANC, 1.2, "10^3/uL", {}, 2),
        (ANC, 1200.0, "/uL", {}, 2),
        (ANC, 1200.0, "cells/uL", {}, 2),
        (ANC, 1.2, "x10^9/L", {}, 2),
        ("Platelet count decreased", 60.0, "10^3/mm3", {}, 2),
        (ALT, 130.0, "IU/L", {"uln": 40.0}, 2),
        (ALT, 130.0, "iu/l", {"uln": 40.0}, 2),
        ("Hypokalemia", 2.9, "mEq/L", {}, 3),
        ("Hyponatremia", 119.0, "MMOL/L", {}, 4),
        ("Blood bilirubin increased", 70.0, "µmol/L", {"uln": 20.0}, 3),
        ("Hypoglycemia", 2.0, "mmol / L", {}, 3),
    ],
)
def test_unit_aliases_and_spelling(
    term: str, value: float, unit: str, refs: dict[str, float], expected: int
) -> None:
    assert grade_lab(term, value, unit, **refs) == expected


@pytest.mark.parametrize(
    ("term", "unit"),
    [
        (ANC, "g/L"),
        ("Anemia", "mg/dL"),
        ("Hypercalcemia", "mEq/L"),  # 1 mmol/L calcium = 2 mEq/L: not an alias
        ("Hypomagnesemia", "mEq/L"),
        ("Hypoglycemia", "g/L"),
        (ALT, "umol/L"),
        (ANC, ""),
    ],
)
def test_wrong_unit_names_term_unit_and_accepted_units(term: str, unit: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        grade_lab(term, 1.0, unit, lln=2.0, uln=3.0)
    message = str(info.value)
    assert term in message and repr(unit) in message and "accepted units" in message
    assert info.value.field == "unit"


def test_wrong_unit_lists_every_printed_unit() -> None:
    with pytest.raises(InvalidInputError, match=r"g/L, g/dL, mmol/L"):
        grade_lab("Anemia", 1.0, "mg/dL")


# --- errors -----------------------------------------------------------------------------------


def test_unknown_term_is_a_lookup_error_with_close_matches() -> None:
    with pytest.raises(NotFoundError, match="Neutrophil count decreased") as info:
        grade_lab("Neutrophil count decrease", 1.0, "10^9/L")
    assert isinstance(info.value, LookupError)


def test_unknown_term_without_close_match() -> None:
    with pytest.raises(NotFoundError, match=r"unknown CTCAE v5\.0 lab term 'Xyzzy'"):
        grade_lab("Xyzzy", 1.0, "U/L")


def test_clinical_term_is_not_lab_gradable() -> None:
    with pytest.raises(NotFoundError, match="graded clinically"):
        grade_lab("Hyperglycemia", 20.0, "mmol/L")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, True, "1.0", None, [1.0]])
def test_bad_value_is_invalid_input(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="value"):
        grade_lab(ANC, bad, "10^9/L", lln=2.0)


@pytest.mark.parametrize(
    ("refs", "field"),
    [
        ({"lln": float("nan")}, "lln"),
        ({"lln": -1.0}, "lln"),
        ({"uln": 0.0}, "uln"),
        ({"uln": float("inf")}, "uln"),
        ({"baseline": -5.0}, "baseline"),
        ({"lln": 5.0, "uln": 4.0}, "lln"),
        ({"baseline_abnormal": "yes"}, "baseline_abnormal"),
    ],
)
def test_bad_reference_is_invalid_input(refs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        grade_lab(ALT, 50.0, "U/L", **refs)
    assert info.value.field == field


def test_unknown_assumption_and_version() -> None:
    with pytest.raises(UnknownOptionError, match="assume"):
        grade_lab(ALT, 50.0, "U/L", uln=40.0, assume="typical")  # type: ignore[arg-type]
    with pytest.raises(UnknownOptionError, match=r"4\.03"):
        grade_lab(ALT, 50.0, "U/L", uln=40.0, version="4.03")


def test_zero_value_is_graded() -> None:
    assert grade_lab(ANC, 0.0, "10^9/L") == 4


# --- the evaluator is generic over the data ---------------------------------------------------


def _packaged() -> dict[str, Any]:
    path = resources.files("equitrial.clinical").joinpath("data", "ctcae_5.0.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_a_new_criteria_set_needs_no_code_change() -> None:
    data = copy.deepcopy(_packaged())
    data["version"] = "test"
    anc = next(t for t in data["lab_terms"] if t["term"] == ANC)
    g2 = next(r for r in anc["rules"] if r["grade"] == 2)
    g2["value"] = {"10^9/L": 1.6, "/mm3": 1600.0}
    criteria = criteria_from_mapping(data)
    assert grade_lab_with(criteria, ANC, 1.55, "10^9/L") == 2
    assert grade_lab(ANC, 1.55, "10^9/L") is None  # packaged v5.0: G1 needs the LLN


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.update(direction="up"), "direction"),
        (lambda t: t["rules"][0].update(op="=>"), "op"),
        (lambda t: t["rules"][0].update(grade=5), "grade must be 1-4"),
        (lambda t: t["rules"][0].update(value={"10^9/L": 0.5}), "printed value for each"),
        (lambda t: t["grade_text"].pop("5"), "grade_text"),
        (lambda t: t.pop("soc"), "missing key 'soc'"),
    ],
)
def test_malformed_criteria_name_the_entry(edit: Any, match: str) -> None:
    data = copy.deepcopy(_packaged())
    edit(next(t for t in data["lab_terms"] if t["term"] == ANC))
    with pytest.raises(InvalidInputError, match=match):
        criteria_from_mapping(data)


def test_load_criteria_is_cached_and_versions_listed() -> None:
    assert "5.0" in available_versions()
    assert load_criteria("5.0") is load_criteria("5.0")


# --- unit conversion --------------------------------------------------------------------------

# IUPAC 2013 conventional atomic weights: C 12.011, H 1.008, N 14.007, O 15.999,
# Ca 40.078, Mg 24.305. 1 mg/dL = 10 / M mmol/L for molar mass M (g/mol).
_C, _H, _N, _O = 12.011, 1.008, 14.007, 15.999


@pytest.mark.parametrize(
    ("term", "from_unit", "to_unit", "expected"),
    [
        (
            "Blood bilirubin increased",
            "mg/dL",
            "umol/L",
            10000 / (33 * _C + 36 * _H + 4 * _N + 6 * _O),
        ),
        ("Creatinine increased", "mg/dL", "umol/L", 10000 / (4 * _C + 7 * _H + 3 * _N + _O)),
        ("Hypoglycemia", "mmol/L", "mg/dL", (6 * _C + 12 * _H + 6 * _O) / 10),
        ("Hypercalcemia", "mmol/L", "mg/dL", 40.078 / 10),
        ("Hypomagnesemia", "mmol/L", "mg/dL", 24.305 / 10),
    ],
)
def test_conversion_factor_matches_molar_mass(
    term: str, from_unit: str, to_unit: str, expected: float
) -> None:
    # the data's factors are rounded to 4-5 significant digits: rtol 5e-4
    assert convert_unit(term, 1.0, from_unit, to_unit) == pytest.approx(expected, rel=5e-4)
    assert convert_unit(term, expected, to_unit, from_unit) == pytest.approx(1.0, rel=5e-4)


@pytest.mark.parametrize(
    ("term", "value", "from_unit", "to_unit", "expected"),
    [
        (ANC, 1.5, "10^9/L", "/mm3", 1500.0),  # "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L"
        ("Platelet count decreased", 75000.0, "/uL", "10^3/uL", 75.0),
        ("Anemia", 10.0, "g/dL", "g/L", 100.0),  # "<LLN - 10.0 g/dL; ... <LLN - 100 g/L"
        ("Hypoalbuminemia", 3.0, "g/dL", "g/L", 30.0),  # "<LLN - 3 g/dL; <LLN - 30 g/L"
        (ALT, 1.0, "ukat/L", "U/L", 60.0),  # 1 U = 1 umol/min = 1/60 ukat
    ],
)
def test_exact_conversions_match_ctcae_printed_pairs(
    term: str, value: float, from_unit: str, to_unit: str, expected: float
) -> None:
    assert convert_unit(term, value, from_unit, to_unit) == pytest.approx(expected, rel=1e-12)


def test_hemoglobin_mmol_conversion_matches_ctcae_printed_pair() -> None:
    # "<LLN - 10.0 g/dL; <LLN - 6.2 mmol/L": printed to 1 decimal, abs 0.05
    assert convert_unit("Anemia", 10.0, "g/dL", "mmol/L") == pytest.approx(6.2, abs=0.05)


def test_conversion_refuses_a_unit_of_another_analyte() -> None:
    with pytest.raises(InvalidInputError, match="to_unit"):
        convert_unit("Hypoglycemia", 5.0, "mmol/L", "g/L")


# --- catalogue and immune-related categories --------------------------------------------------

CHECKPOINT_TERMS = {
    "Pneumonitis": "Respiratory, thoracic and mediastinal disorders",
    "Colitis": "Gastrointestinal disorders",
    "Diarrhea": "Gastrointestinal disorders",
    "Hypothyroidism": "Endocrine disorders",
    "Hyperthyroidism": "Endocrine disorders",
    "Hypophysitis": "Endocrine disorders",
    "Adrenal insufficiency": "Endocrine disorders",
    "Hyperglycemia": "Metabolism and nutrition disorders",
    "Acute kidney injury": "Renal and urinary disorders",
    "Rash maculo-papular": "Skin and subcutaneous tissue disorders",
    "Pruritus": "Skin and subcutaneous tissue disorders",
    "Stevens-Johnson syndrome": "Skin and subcutaneous tissue disorders",
    "Toxic epidermal necrolysis": "Skin and subcutaneous tissue disorders",
    "Myocarditis": "Cardiac disorders",
    "Fatigue": "General disorders and administration site conditions",
    "Nausea": "Gastrointestinal disorders",
    "Arthralgia": "Musculoskeletal and connective tissue disorders",
    ALT: "Investigations",
    ANC: "Investigations",
    "Anemia": "Blood and lymphatic system disorders",
    "Hypokalemia": "Metabolism and nutrition disorders",
}


def test_catalogue_holds_the_checkpoint_inhibitor_terms_with_soc() -> None:
    terms = {t.term: t for t in catalogue()}
    assert {k: terms[k].soc for k in CHECKPOINT_TERMS} == CHECKPOINT_TERMS
    assert "Infusion related reaction" in terms
    assert "Hepatitis" not in terms  # CTCAE v5.0 has no Hepatitis term


def test_catalogue_texts_quote_ctcae_md_and_are_never_invented() -> None:
    terms = {t.term: t for t in catalogue()}
    # ctcae.md, Hypothyroidism [recalled]: G2 "Symptomatic; thyroid replacement indicated; ..."
    hypo = terms["Hypothyroidism"].grade_text
    assert hypo is not None
    assert hypo[1] == "Symptomatic; thyroid replacement indicated; limiting instrumental ADL"
    # CTCAE v5.0 CSV (ctcae_5.0.json "meddra_source"), Hypophysitis: Grade 1 "Asymptomatic or
    # mild symptoms; clinical or diagnostic observations only; intervention not indicated"
    hypophysitis = terms["Hypophysitis"].grade_text
    assert hypophysitis is not None and hypophysitis[0] == (
        "Asymptomatic or mild symptoms; clinical or diagnostic observations only; "
        "intervention not indicated"
    )
    assert all(t.text_source for t in catalogue() if t.grade_text is not None)
    assert {t.term for t in catalogue() if t.lab_gradable} >= {ALT, ANC, "Anemia"}


@pytest.mark.parametrize(
    ("term", "category"),
    [
        ("Pneumonitis", "pneumonitis"),
        ("Colitis", "colitis"),
        (ALT, "hepatitis"),
        ("Aspartate aminotransferase increased", "hepatitis"),
        ("Hypothyroidism", "hypothyroidism"),
        ("Hyperthyroidism", "hyperthyroidism"),
        ("Hypophysitis", "hypophysitis"),
        ("Adrenal insufficiency", "adrenal insufficiency"),
        ("Hyperglycemia", "type 1 diabetes"),
        ("Acute kidney injury", "nephritis"),
        ("Stevens-Johnson syndrome", "severe skin reactions"),
        ("Toxic epidermal necrolysis", "severe skin reactions"),
        ("Myocarditis", "myocarditis"),
        ("Infusion related reaction", "infusion reactions"),
        ("Diarrhea", None),
        ("Fatigue", None),
        (ANC, None),
    ],
)
def test_immune_category(term: str, category: str | None) -> None:
    assert immune_category(term) == category


def test_immune_category_of_unknown_term() -> None:
    with pytest.raises(NotFoundError, match="Pneumonitis"):
        immune_category("Pneumonitus")
