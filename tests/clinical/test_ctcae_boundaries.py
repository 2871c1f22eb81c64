"""Every cut point of every CTCAE v5.0 lab term, in each accepted unit.

Reference: NCI CTCAE v5.0 (27 Nov 2017) grade texts as transcribed in pharmaverse admiral's
``ncictcaev5.json`` (NCI CTCAE v5.0 (2017), as in pharmaverse admiral's ncictcaev5.json). The
tables below are transcribed
from those texts by hand and quote them; they do NOT read ``ctcae_5.0.json``, so the tests are
independent of the data file. An oracle in this file grades from the table: the highest grade
whose cut the value meets, 0 if none. Each cut is tested just below, exactly at and just above
its bound (relative step 1e-6).
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, field

import pytest

from equitrial.clinical.ctcae import grade_lab, lab_criterion

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_STEP = 1e-6


@dataclass(frozen=True)
class Cut:
    """``value op bound`` reaches ``grade``; ``bound`` printed, or ``(reference, factor)``."""

    grade: int
    op: str
    bound: float | tuple[str, float]


@dataclass(frozen=True)
class Row:
    term: str
    unit: str
    refs: dict[str, float | bool]
    cuts: tuple[Cut, ...]
    texts: dict[int, str]  # the quoted CTCAE criterion of each grade
    assume: str = "worst"
    label: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _bound(cut: Cut, refs: dict[str, float | bool]) -> float:
    if isinstance(cut.bound, tuple):
        ref, factor = cut.bound
        return factor * float(refs[ref])
    return cut.bound


def _oracle(row: Row, value: float) -> int:
    met = [c.grade for c in row.cuts if _OPS[c.op](value, _bound(c, row.refs))]
    return max(met, default=0)


ULN, LLN, BL = "uln", "lln", "baseline"


def _up(*pairs: tuple[int, float]) -> tuple[Cut, ...]:
    """Increasing term: ``>`` cuts at ULN multiples."""
    return tuple(Cut(g, ">", (ULN, f)) for g, f in pairs)


ALT_TEXTS = {
    1: ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
    2: ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal",
    3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
    4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
}
ALP_TEXTS = {
    1: ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
    2: ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was abnormal",
    3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
    4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
}
BILI_TEXTS = {
    1: ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal",
    2: ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline was abnormal",
    3: ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if baseline was abnormal",
    4: ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
}
CREAT_TEXTS = {
    1: ">ULN - 1.5 x ULN",
    2: ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
    3: ">3.0 baseline; >3.0 - 6.0 x ULN",
    4: ">6.0 x ULN",
}
CPK_TEXTS = {
    1: ">ULN - 2.5 x ULN",
    2: ">2.5 x ULN - 5 x ULN",
    3: ">5 x ULN - 10 x ULN",
    4: ">10 x ULN",
}
PANC_TEXTS = {
    1: ">ULN - 1.5 x ULN",
    2: ">1.5 - 2.0 x ULN; >2.0 - 5.0 x ULN and asymptomatic",
    3: ">2.0 - 5.0 x ULN with signs or symptoms; >5.0 x ULN and asymptomatic",
    4: ">5.0 x ULN and with signs or symptoms",
}
ANEMIA_TEXTS = {
    1: "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
    2: "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80 g/L",
    3: "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
}
ANC_TEXTS = {
    1: "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
    2: "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
    3: "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
    4: "<500/mm3; <0.5 x 10e9 /L",
}
PLT_TEXTS = {
    1: "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
    2: "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
    3: "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
    4: "<25,000/mm3; <25.0 x 10e9 /L",
}
LYM_TEXTS = {
    1: "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
    2: "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
    3: "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
    4: "<200/mm3; <0.2 x 10e9 /L",
}
WBC_TEXTS = {
    1: "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
    2: "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
    3: "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
    4: "<1000/mm3; <1.0 x 10e9 /L",
}
HYPOK_TEXTS = {
    1: "<LLN - 3.0 mmol/L",
    2: "Symptomatic with <LLN - 3.0 mmol/L; intervention indicated",
    3: "<3.0 - 2.5 mmol/L; hospitalization indicated",
    4: "<2.5 mmol/L; life-threatening consequences",
}
HYPERK_TEXTS = {
    1: ">ULN - 5.5 mmol/L",
    2: ">5.5 - 6.0 mmol/L; intervention initiated",
    3: ">6.0 - 7.0 mmol/L; hospitalization indicated",
    4: ">7.0 mmol/L; life-threatening consequences",
}
HYPONA_TEXTS = {
    1: "<LLN - 130 mmol/L",
    2: "125-129 mmol/L and asymptomatic",
    3: "125-129 mmol/L symptomatic; 120-124 mmol/L regardless of symptoms",
    4: "<120 mmol/L; life-threatening consequences",
}
HYPERNA_TEXTS = {
    1: ">ULN - 150 mmol/L",
    2: ">150 - 155 mmol/L; intervention initiated",
    3: ">155 - 160 mmol/L; hospitalization indicated",
    4: ">160 mmol/L; life-threatening consequences",
}
HYPERCA_TEXTS = {
    1: "Corrected serum calcium of >ULN - 11.5 mg/dL; >ULN - 2.9 mmol/L; Ionized calcium >ULN - "
    "1.5 mmol/L",
    2: "Corrected serum calcium of >11.5 - 12.5 mg/dL; >2.9 - 3.1 mmol/L; Ionized calcium >1.5 - "
    "1.6 mmol/L; symptomatic",
    3: "Corrected serum calcium of >12.5 - 13.5 mg/dL; >3.1 - 3.4 mmol/L; Ionized calcium >1.6 - "
    "1.8 mmol/L; hospitalization indicated",
    4: "Corrected serum calcium of >13.5 mg/dL; >3.4 mmol/L; Ionized calcium >1.8 mmol/L; "
    "life-threatening consequences",
}
HYPOCA_TEXTS = {
    1: "Corrected serum calcium of <LLN - 8.0 mg/dL; <LLN - 2.0 mmol/L; Ionized calcium <LLN - "
    "1.0 mmol/L",
    2: "Corrected serum calcium of <8.0 - 7.0 mg/dL; <2.0 - 1.75 mmol/L; Ionized calcium <1.0 - "
    "0.9 mmol/L; symptomatic",
    3: "Corrected serum calcium of <7.0 - 6.0 mg/dL; <1.75 - 1.5 mmol/L; Ionized calcium <0.9 - "
    "0.8 mmol/L; hospitalization indicated",
    4: "Corrected serum calcium of <6.0 mg/dL; <1.5 mmol/L; Ionized calcium <0.8 mmol/L; "
    "life-threatening consequences",
}
HYPOMG_TEXTS = {
    1: "<LLN - 1.2 mg/dL; <LLN - 0.5 mmol/L",
    2: "<1.2 - 0.9 mg/dL; <0.5 - 0.4 mmol/L",
    3: "<0.9 - 0.7 mg/dL; <0.4 - 0.3 mmol/L",
    4: "<0.7 mg/dL; <0.3 mmol/L; life-threatening consequences",
}
HYPERMG_TEXTS = {
    1: ">ULN - 3.0 mg/dL; >ULN - 1.23 mmol/L",
    2: "-",
    3: ">3.0 - 8.0 mg/dL; >1.23 - 3.30 mmol/L",
    4: ">8.0 mg/dL; >3.30 mmol/L; life-threatening consequences",
}
HYPOGLY_TEXTS = {
    1: "<LLN - 55 mg/dL; <LLN - 3.0 mmol/L",
    2: "<55 - 40 mg/dL; <3.0 - 2.2 mmol/L",
    3: "<40 - 30 mg/dL; <2.2 - 1.7 mmol/L",
    4: "<30 mg/dL; <1.7 mmol/L; life-threatening consequences; seizures",
}
HYPOALB_TEXTS = {
    1: "<LLN - 3 g/dL; <LLN - 30 g/L",
    2: "<3 - 2 g/dL; <30 - 20 g/L",
    3: "<2 g/dL; <20 g/L",
}


def _low(lln_cut: int, *printed: tuple[int, float]) -> tuple[Cut, ...]:
    """Decreasing term: ``<`` LLN for grade ``lln_cut`` and ``<`` printed numbers."""
    return (Cut(lln_cut, "<", (LLN, 1.0)), *(Cut(g, "<", b) for g, b in printed))


def _high(uln_cut: int, *printed: tuple[int, float]) -> tuple[Cut, ...]:
    return (Cut(uln_cut, ">", (ULN, 1.0)), *(Cut(g, ">", b) for g, b in printed))


ROWS: list[Row] = []
for _term in ("Alanine aminotransferase increased", "Aspartate aminotransferase increased"):
    for _unit, _uln in (("U/L", 40.0), ("ukat/L", 0.75), ("IU/L", 33.0)):
        ROWS.append(
            Row(
                _term,
                _unit,
                {ULN: _uln},
                _up((1, 1.0), (2, 3.0), (3, 5.0), (4, 20.0)),
                ALT_TEXTS,
                label="normal baseline",
            )
        )
    # "1.5 - 3.0 x baseline if baseline was abnormal": 1.5 x baseline itself is grade 1
    ROWS.append(
        Row(
            _term,
            "U/L",
            {ULN: 40.0, BL: 100.0, "baseline_abnormal": True},
            (
                Cut(1, ">=", (BL, 1.5)),
                Cut(2, ">", (BL, 3.0)),
                Cut(3, ">", (BL, 5.0)),
                Cut(4, ">", (BL, 20.0)),
            ),
            ALT_TEXTS,
            label="abnormal baseline",
        )
    )
    # baseline_abnormal not given: derived from baseline 100 > ULN 40
    ROWS.append(
        Row(
            _term,
            "U/L",
            {ULN: 40.0, BL: 100.0},
            (
                Cut(1, ">=", (BL, 1.5)),
                Cut(2, ">", (BL, 3.0)),
                Cut(3, ">", (BL, 5.0)),
                Cut(4, ">", (BL, 20.0)),
            ),
            ALT_TEXTS,
            label="baseline > ULN, derived abnormal",
        )
    )
for _term in ("Alkaline phosphatase increased", "GGT increased"):
    for _unit, _uln in (("U/L", 120.0), ("ukat/L", 2.0)):
        ROWS.append(
            Row(
                _term,
                _unit,
                {ULN: _uln},
                _up((1, 1.0), (2, 2.5), (3, 5.0), (4, 20.0)),
                ALP_TEXTS,
                label="normal baseline",
            )
        )
    # "2.0 - 2.5 x baseline if baseline was abnormal"
    ROWS.append(
        Row(
            _term,
            "U/L",
            {ULN: 120.0, BL: 200.0, "baseline_abnormal": True},
            (
                Cut(1, ">=", (BL, 2.0)),
                Cut(2, ">", (BL, 2.5)),
                Cut(3, ">", (BL, 5.0)),
                Cut(4, ">", (BL, 20.0)),
            ),
            ALP_TEXTS,
            label="abnormal baseline",
        )
    )
for _unit, _uln, _bl in (("umol/L", 20.0, 32.0), ("mg/dL", 1.25, 2.0), ("µmol/L", 21.0, 30.0)):
    _t = "Blood bilirubin increased"
    ROWS.append(
        Row(
            _t,
            _unit,
            {ULN: _uln},
            _up((1, 1.0), (2, 1.5), (3, 3.0), (4, 10.0)),
            BILI_TEXTS,
            label="normal baseline",
        )
    )
    ROWS.append(
        Row(
            _t,
            _unit,
            {ULN: _uln, BL: _bl, "baseline_abnormal": True},
            (
                Cut(1, ">", (BL, 1.0)),
                Cut(2, ">", (BL, 1.5)),
                Cut(3, ">", (BL, 3.0)),
                Cut(4, ">", (BL, 10.0)),
            ),
            BILI_TEXTS,
            label="abnormal baseline",
        )
    )
for _unit, _uln, _bl in (("umol/L", 100.0, 40.0), ("mg/dL", 1.25, 0.5)):
    _t = "Creatinine increased"
    ROWS.append(
        Row(
            _t,
            _unit,
            {ULN: _uln},
            _up((1, 1.0), (2, 1.5), (3, 3.0), (4, 6.0)),
            CREAT_TEXTS,
            label="no baseline: ULN multiples only",
        )
    )
    # ';' = or: grade 2 and 3 by the ULN multiple or the baseline multiple
    ROWS.append(
        Row(
            _t,
            _unit,
            {ULN: _uln, BL: _bl},
            (
                *_up((1, 1.0), (2, 1.5), (3, 3.0), (4, 6.0)),
                Cut(2, ">", (BL, 1.5)),
                Cut(3, ">", (BL, 3.0)),
            ),
            CREAT_TEXTS,
            label="ULN or baseline multiples",
        )
    )
ROWS.append(
    Row(
        "CPK increased",
        "U/L",
        {ULN: 200.0},
        _up((1, 1.0), (2, 2.5), (3, 5.0), (4, 10.0)),
        CPK_TEXTS,
    )
)
for _t in ("Lipase increased", "Serum amylase increased"):
    ROWS.append(
        Row(
            _t,
            "U/L",
            {ULN: 60.0},
            _up((1, 1.0), (2, 1.5), (3, 2.0), (4, 5.0)),
            PANC_TEXTS,
            assume="worst",
            label="admiral: assume signs or symptoms",
        )
    )
    ROWS.append(
        Row(
            _t,
            "U/L",
            {ULN: 60.0},
            _up((1, 1.0), (2, 1.5), (3, 5.0)),
            PANC_TEXTS,
            assume="best",
            label="asymptomatic",
        )
    )
for _unit, _lln, _g2, _g3 in (
    ("g/L", 120.0, 100.0, 80.0),
    ("g/dL", 12.0, 10.0, 8.0),
    ("mmol/L", 7.4, 6.2, 4.9),
):
    ROWS.append(Row("Anemia", _unit, {LLN: _lln}, _low(1, (2, _g2), (3, _g3)), ANEMIA_TEXTS))
for _t, _texts, _si, _mm3 in (
    (
        "Neutrophil count decreased",
        ANC_TEXTS,
        (2.0, 1.5, 1.0, 0.5),
        (2000.0, 1500.0, 1000.0, 500.0),
    ),
    (
        "Platelet count decreased",
        PLT_TEXTS,
        (150.0, 75.0, 50.0, 25.0),
        (150000.0, 75000.0, 50000.0, 25000.0),
    ),
    ("Lymphocyte count decreased", LYM_TEXTS, (1.0, 0.8, 0.5, 0.2), (1000.0, 800.0, 500.0, 200.0)),
    (
        "White blood cell decreased",
        WBC_TEXTS,
        (4.0, 3.0, 2.0, 1.0),
        (4000.0, 3000.0, 2000.0, 1000.0),
    ),
):
    for _unit, _nums in (("10^9/L", _si), ("10^3/uL", _si), ("/mm3", _mm3), ("/uL", _mm3)):
        ROWS.append(
            Row(
                _t,
                _unit,
                {LLN: _nums[0]},
                _low(1, (2, _nums[1]), (3, _nums[2]), (4, _nums[3])),
                _texts,
            )
        )
for _unit in ("mmol/L", "mEq/L"):
    ROWS.append(
        Row(
            "Hypokalemia",
            _unit,
            {LLN: 3.5},
            _low(2, (3, 3.0), (4, 2.5)),
            HYPOK_TEXTS,
            assume="worst",
            label="admiral: assume symptomatic",
        )
    )
    ROWS.append(
        Row(
            "Hypokalemia",
            _unit,
            {LLN: 3.5},
            _low(1, (3, 3.0), (4, 2.5)),
            HYPOK_TEXTS,
            assume="best",
            label="asymptomatic",
        )
    )
    ROWS.append(
        Row("Hyperkalemia", _unit, {ULN: 5.1}, _high(1, (2, 5.5), (3, 6.0), (4, 7.0)), HYPERK_TEXTS)
    )
    # '125-129' read as [125, 130), '120-124' as [120, 125)
    ROWS.append(
        Row(
            "Hyponatremia",
            _unit,
            {LLN: 135.0},
            _low(1, (3, 130.0), (4, 120.0)),
            HYPONA_TEXTS,
            assume="worst",
            label="admiral: assume symptomatic",
        )
    )
    ROWS.append(
        Row(
            "Hyponatremia",
            _unit,
            {LLN: 135.0},
            _low(1, (2, 130.0), (3, 125.0), (4, 120.0)),
            HYPONA_TEXTS,
            assume="best",
            label="asymptomatic",
        )
    )
    ROWS.append(
        Row(
            "Hypernatremia",
            _unit,
            {ULN: 145.0},
            _high(1, (2, 150.0), (3, 155.0), (4, 160.0)),
            HYPERNA_TEXTS,
        )
    )
ROWS += [
    Row(
        "Hypercalcemia", "mmol/L", {ULN: 2.6}, _high(1, (2, 2.9), (3, 3.1), (4, 3.4)), HYPERCA_TEXTS
    ),
    Row(
        "Hypercalcemia",
        "mg/dL",
        {ULN: 10.5},
        _high(1, (2, 11.5), (3, 12.5), (4, 13.5)),
        HYPERCA_TEXTS,
    ),
    Row("Hypocalcemia", "mmol/L", {LLN: 2.2}, _low(1, (2, 2.0), (3, 1.75), (4, 1.5)), HYPOCA_TEXTS),
    Row("Hypocalcemia", "mg/dL", {LLN: 8.5}, _low(1, (2, 8.0), (3, 7.0), (4, 6.0)), HYPOCA_TEXTS),
    Row(
        "Hypomagnesemia", "mmol/L", {LLN: 0.7}, _low(1, (2, 0.5), (3, 0.4), (4, 0.3)), HYPOMG_TEXTS
    ),
    Row("Hypomagnesemia", "mg/dL", {LLN: 1.7}, _low(1, (2, 1.2), (3, 0.9), (4, 0.7)), HYPOMG_TEXTS),
    Row("Hypermagnesemia", "mmol/L", {ULN: 1.0}, _high(1, (3, 1.23), (4, 3.30)), HYPERMG_TEXTS),
    Row("Hypermagnesemia", "mg/dL", {ULN: 2.4}, _high(1, (3, 3.0), (4, 8.0)), HYPERMG_TEXTS),
    Row("Hypoglycemia", "mmol/L", {LLN: 3.9}, _low(1, (2, 3.0), (3, 2.2), (4, 1.7)), HYPOGLY_TEXTS),
    Row(
        "Hypoglycemia",
        "mg/dL",
        {LLN: 70.0},
        _low(1, (2, 55.0), (3, 40.0), (4, 30.0)),
        HYPOGLY_TEXTS,
    ),
    Row("Hypoalbuminemia", "g/L", {LLN: 35.0}, _low(1, (2, 30.0), (3, 20.0)), HYPOALB_TEXTS),
    Row("Hypoalbuminemia", "g/dL", {LLN: 3.5}, _low(1, (2, 3.0), (3, 2.0)), HYPOALB_TEXTS),
]


def _cases() -> list[object]:
    cases = []
    for row in ROWS:
        for cut in row.cuts:
            bound = _bound(cut, row.refs)
            for where, value in (
                ("below", bound * (1 - _STEP)),
                ("at", bound),
                ("above", bound * (1 + _STEP)),
            ):
                ident = (
                    f"{row.term} [{row.unit}, {row.assume}{', ' + row.label if row.label else ''}]"
                    f" G{cut.grade} '{row.texts[cut.grade]}' {where} {bound:g}"
                )
                cases.append(pytest.param(row, value, id=ident))
    return cases


def _kwargs(row: Row) -> dict[str, object]:
    return {k: v for k, v in row.refs.items()} | {"assume": row.assume}


@pytest.mark.parametrize(("row", "value"), _cases())
def test_cut_point_matches_ctcae_v5_text(row: Row, value: float) -> None:
    assert grade_lab(row.term, value, row.unit, **_kwargs(row)) == _oracle(row, value)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.term} [{r.unit}, {r.assume}]")
def test_every_band_is_reached(row: Row) -> None:
    """Midway between consecutive cuts (and beyond the last) the oracle's grade is returned."""
    bounds = sorted({_bound(c, row.refs) for c in row.cuts})
    probes = [
        bounds[0] / 2,
        *((a + b) / 2 for a, b in itertools.pairwise(bounds)),
        bounds[-1] * 2,
    ]
    got = [grade_lab(row.term, v, row.unit, **_kwargs(row)) for v in probes]
    assert got == [_oracle(row, v) for v in probes]


@pytest.mark.parametrize(
    ("term", "grade", "text"),
    sorted({(r.term, g, t) for r in ROWS for g, t in r.texts.items()}),
)
def test_data_file_holds_the_verbatim_criterion_text(term: str, grade: int, text: str) -> None:
    assert lab_criterion(term).grade_text[grade - 1] == text
