"""CTCAE lab grading, the CTCAE term catalogue and immune-related AE categories.

The criteria are data: one JSON file per CTCAE version (``clinical/data/ctcae_<version>.json``)
holds, per term, the CTCAE term as written, its MedDRA SOC, the direction, the accepted units,
the verbatim criterion text of each grade and the grade rules (a bound relative to ULN, LLN or
baseline, or an absolute number printed per unit, with its comparison operator, and the
baseline-abnormal variant where CTCAE has one). The evaluator knows no term by name; a new
CTCAE version is a new data file, read with :func:`load_criteria`.

- :func:`grade_lab`: the grade (0-4) of one lab value for one CTCAE term;
- :func:`grade_lab_with`: the same under an explicit :class:`CriteriaSet` (admiral style);
- :func:`convert_unit`: convert a value between the units a term accepts;
- :func:`catalogue`: the terms for adverse-event entry, with SOC and grade texts;
- :func:`immune_category`: the immune-related AE category of a term (checkpoint inhibitors).

Reference values: the grade texts of NCI CTCAE v5.0 as transcribed in pharmaverse admiral's
``data-raw/adlb_grading/ncictcaev5.json``; the tests quote them.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from equitrial.clinical._ctcae_grade import convert_with, find_lab_criterion, grade_with
from equitrial.clinical._ctcae_model import (
    Assumption,
    CatalogueTerm,
    CriteriaSet,
    Direction,
    LabCriterion,
    Operator,
    Reference,
    Rule,
    UnitConversion,
    criteria_from_mapping,
)
from equitrial.errors import NotFoundError
from equitrial.stats._validation import check_option

__all__ = [
    "Assumption",
    "CatalogueTerm",
    "CriteriaSet",
    "Direction",
    "LabCriterion",
    "Operator",
    "Reference",
    "Rule",
    "UnitConversion",
    "available_versions",
    "catalogue",
    "convert_unit",
    "criteria_from_mapping",
    "grade_lab",
    "grade_lab_with",
    "immune_category",
    "lab_criterion",
    "load_criteria",
]

_PREFIX = "ctcae_"
_SUFFIX = ".json"


def available_versions() -> tuple[str, ...]:
    """The CTCAE versions shipped as package data (e.g. ``("5.0",)``)."""
    folder = resources.files("equitrial.clinical").joinpath("data")
    names = (p.name for p in folder.iterdir())
    return tuple(
        sorted(
            n[len(_PREFIX) : -len(_SUFFIX)]
            for n in names
            if n.startswith(_PREFIX) and n.endswith(_SUFFIX)
        )
    )


@lru_cache(maxsize=8)
def load_criteria(version: str = "5.0") -> CriteriaSet:
    """Read the packaged criteria of one CTCAE version (cached).

    Parameters
    ----------
    version : str
        One of :func:`available_versions`, e.g. ``"5.0"``.

    Returns
    -------
    CriteriaSet
        The lab criteria, the catalogue and the immune-related categories of that version.

    Raises
    ------
    UnknownOptionError
        If no criteria file ships for ``version``.
    InvalidInputError
        If the file is malformed (names the entry at fault).

    Notes
    -----
    Reads ``equitrial/clinical/data/ctcae_<version>.json`` through :mod:`importlib.resources`;
    no other I/O.

    References
    ----------
    .. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
       Version 5.0. U.S. Department of Health and Human Services; 27 November 2017.
    """
    check_option(version, available_versions(), "CTCAE version")
    path = resources.files("equitrial.clinical").joinpath("data", f"{_PREFIX}{version}{_SUFFIX}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return criteria_from_mapping(data)


def grade_lab(
    term: str,
    value: float,
    unit: str,
    *,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
    baseline_abnormal: bool | None = None,
    assume: Assumption = "worst",
    version: str = "5.0",
) -> int | None:
    """CTCAE grade of one laboratory value.

    Parameters
    ----------
    term : str
        The CTCAE term as written, e.g. ``"Alanine aminotransferase increased"``,
        ``"Neutrophil count decreased"``, ``"Anemia"``, ``"Hypokalemia"``.
    value : float
        The result, >= 0, in ``unit``.
    unit : str
        The unit of ``value``; accepted units depend on the term (e.g. ``"U/L"``, ``"IU/L"``,
        ``"ukat/L"``; ``"10^9/L"``, ``"10^3/uL"``, ``"/mm3"``, ``"/uL"``; ``"g/L"``, ``"g/dL"``,
        ``"mmol/L"``; ``"mg/dL"``, ``"umol/L"``). Matched ignoring case and spaces.
    lln, uln : float, optional
        Lower / upper limit of normal, in ``unit``.
    baseline : float, optional
        The baseline value, in ``unit``.
    baseline_abnormal : bool, optional
        Whether the baseline was abnormal (for the terms whose criteria change with it). ``None``
        derives it as ``baseline > uln`` when both are given, and as normal when ``baseline`` is
        missing.
    assume : {"worst", "best"}
        The assumption about a clinical qualifier printed next to a lab bound: ``"worst"``
        (admiral: symptomatic hypokalemia and hyponatremia, lipase/amylase with signs or
        symptoms) or ``"best"`` (asymptomatic).
    version : str
        CTCAE version of the packaged criteria, default ``"5.0"``.

    Returns
    -------
    int or None
        0-4; ``None`` when the criteria cannot grade the value: a band that needs a missing
        LLN/ULN/baseline when the value is in no higher band, or an abnormal-baseline flag that
        cannot be derived (``baseline`` given without ``uln``).

    Raises
    ------
    NotFoundError
        Unknown term (lists close matches) or a clinical term without lab criteria.
    InvalidInputError
        A unit not accepted for the term (lists the accepted units); a NaN, infinite or
        negative value or reference; ``uln <= 0``; ``lln > uln``.
    UnknownOptionError
        ``assume`` or ``version`` not among the choices.

    Notes
    -----
    The grade is the highest lab-gradable grade any of whose rules holds, grades checked from
    4 down; ``';'`` in CTCAE is ``or`` (creatinine grade 2/3: ULN multiple or baseline
    multiple). Grades that are clinical only (e.g. anemia grade 4 "Life-threatening
    consequences", grade 5 "Death") are never returned: the result is the highest
    lab-gradable grade. Both sides of a comparison are rounded to 15 significant digits first
    (admiral's ``signif_digits``), so ``1.8 mg/dL`` against ``1.5 x 1.2`` is "equal" and not
    above. Where CTCAE prints thresholds in several units (hemoglobin g/dL, g/L, mmol/L;
    glucose, calcium, magnesium mg/dL and mmol/L; counts /mm3 and 10^9/L), each unit is graded
    against its own printed numbers, not a conversion. A rule needing a missing reference is
    skipped when another rule of the same grade can be checked (creatinine without baseline),
    otherwise the grade is undecidable and the result is ``None``.

    References
    ----------
    .. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
       Version 5.0. U.S. Department of Health and Human Services; 27 November 2017.
    .. [2] pharmaverse admiral, ``derive_var_atoxgr_dir`` and ``ncictcaev5.json``
       (lab grading metadata and the "worst case" assumptions).
    """
    return grade_with(
        load_criteria(version),
        term,
        value,
        unit,
        lln=lln,
        uln=uln,
        baseline=baseline,
        baseline_abnormal=baseline_abnormal,
        assume=assume,
    )


def grade_lab_with(
    criteria: CriteriaSet,
    term: str,
    value: float,
    unit: str,
    *,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
    baseline_abnormal: bool | None = None,
    assume: Assumption = "worst",
) -> int | None:
    """:func:`grade_lab` under an explicit criteria set (e.g. from :func:`criteria_from_mapping`).

    Parameters
    ----------
    criteria : CriteriaSet
        The criteria to grade by.
    term, value, unit, lln, uln, baseline, baseline_abnormal, assume
        As in :func:`grade_lab`.

    Returns
    -------
    int or None
        As in :func:`grade_lab`.

    Raises
    ------
    NotFoundError, InvalidInputError, UnknownOptionError
        As in :func:`grade_lab`.

    Notes
    -----
    The evaluator is generic over the data: nothing in it names a term.

    References
    ----------
    .. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
       Version 5.0. U.S. Department of Health and Human Services; 27 November 2017.
    """
    return grade_with(
        criteria,
        term,
        value,
        unit,
        lln=lln,
        uln=uln,
        baseline=baseline,
        baseline_abnormal=baseline_abnormal,
        assume=assume,
    )


def lab_criterion(term: str, version: str = "5.0") -> LabCriterion:
    """The lab criteria of one term (texts, units, rules); raises like :func:`grade_lab`."""
    return find_lab_criterion(load_criteria(version), term)


def convert_unit(
    term: str, value: float, from_unit: str, to_unit: str, version: str = "5.0"
) -> float:
    """Convert a lab value between two units accepted for a CTCAE term.

    Parameters
    ----------
    term : str
        The CTCAE term whose analyte is measured (the factor depends on it).
    value : float
        The value in ``from_unit``, >= 0.
    from_unit, to_unit : str
        Units accepted for ``term`` (aliases allowed).
    version : str
        CTCAE version of the packaged data.

    Returns
    -------
    float
        The value in ``to_unit``.

    Raises
    ------
    NotFoundError
        Unknown term.
    InvalidInputError
        A unit not accepted for the term, or a bad value.

    Notes
    -----
    Factors (data file): bilirubin 1 mg/dL = 17.104 umol/L; creatinine 1 mg/dL = 88.42 umol/L;
    glucose 1 mmol/L = 18.016 mg/dL; calcium 1 mmol/L = 4.008 mg/dL; magnesium 1 mmol/L =
    2.431 mg/dL; hemoglobin 1 g/dL = 10 g/L = 0.6206 mmol/L; albumin 1 g/dL = 10 g/L; counts
    1 x 10^9/L = 1000/mm3; enzymes 1 ukat/L = 60 U/L. Grading does not use these where CTCAE
    prints the unit's own thresholds (see :func:`grade_lab`).

    References
    ----------
    .. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
       Version 5.0. U.S. Department of Health and Human Services; 27 November 2017.
    """
    return convert_with(load_criteria(version), term, value, from_unit, to_unit)


def catalogue(version: str = "5.0") -> tuple[CatalogueTerm, ...]:
    """The CTCAE terms for adverse-event entry: lab terms and common clinical terms.

    Parameters
    ----------
    version : str
        CTCAE version of the packaged data.

    Returns
    -------
    tuple of CatalogueTerm
        Each with MedDRA SOC, its MedDRA code (``meddra_code``), the grade 1-5 texts (``None``
        where not transcribed, never invented), whether it is lab-gradable and its
        immune-related category.

    Raises
    ------
    UnknownOptionError
        ``version`` not shipped.

    Notes
    -----
    CTCAE v5.0 has no "Hepatitis" term (immune hepatitis is graded on ALT/AST increased), no
    diabetes term (type 1 diabetes is recorded as "Hyperglycemia") and no "Nephritis" term
    ("Acute kidney injury", "Creatinine increased"). ``text_source`` says where each text comes
    from; the MedDRA codes and the clinical terms' texts are those of the NCI CTCAE v5.0
    spreadsheet (the file's ``meddra_source``).

    References
    ----------
    .. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
       Version 5.0. U.S. Department of Health and Human Services; 27 November 2017.
    """
    return load_criteria(version).catalogue


def immune_category(term: str, version: str = "5.0") -> str | None:
    """The immune-related AE category of a catalogue term, or ``None`` if it has none.

    Parameters
    ----------
    term : str
        A term of :func:`catalogue`, as written.
    version : str
        CTCAE version of the packaged data.

    Returns
    -------
    str or None
        One of ``"pneumonitis"``, ``"colitis"``, ``"hepatitis"``, ``"hypothyroidism"``,
        ``"hyperthyroidism"``, ``"hypophysitis"``, ``"adrenal insufficiency"``,
        ``"type 1 diabetes"``, ``"nephritis"``, ``"severe skin reactions"``,
        ``"skin reactions"``, ``"myocarditis"``, ``"myositis"``, ``"pancreatitis"``,
        ``"infusion reactions"``; ``None`` for a term with no category (e.g. "Diarrhea").

    Raises
    ------
    NotFoundError
        ``term`` is not in the catalogue (lists close matches).

    Notes
    -----
    The map is term-level: whether a given event is immune-mediated is a clinical adjudication
    it does not make. Lab terms that stand for an immune category in CTCAE v5.0 (ALT/AST and
    bilirubin increased for hepatitis, creatinine increased for nephritis) carry it.

    References
    ----------
    .. [1] Brahmer JR, Lacchetti C, Schneider BJ, et al. Management of immune-related adverse
       events in patients treated with immune checkpoint inhibitor therapy: ASCO clinical
       practice guideline. J Clin Oncol. 2018;36(17):1714-1768.
    """
    criteria = load_criteria(version)
    terms = {t.term: t for t in criteria.catalogue}
    if term not in terms:
        close = difflib.get_close_matches(str(term), list(terms), n=5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise NotFoundError(
            f"{term!r} is not in the CTCAE v{version} catalogue{hint}", field="term", value=term
        )
    return terms[term].immune_category
