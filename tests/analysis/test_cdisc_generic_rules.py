"""``equitrial.analysis.cdisc_generic`` on small hand-made ADaM frames: the counting rules (safety
population, treatment-emergent only, subjects once and every event, zero rows), the numbers at
risk, the refusals (``InvalidInputError`` naming the dataset and variable) and the HTML escaping.

Every expected value below is counted by hand from the frames in this file (stated next to it).
"""

from __future__ import annotations

import pandas as pd
import pytest

from equitrial.analysis.cdisc_generic import (
    analyze_adam,
    compare_soc_fisher,
    count_teae_by_soc,
    render_html,
)
from equitrial.errors import InvalidInputError


def _adsl(arm_a: str = "A", arm_b: str = "B") -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S1", "S2", "S3", "S4"], "SAFFL": ["Y", "Y", "Y", "N"],
        "TRT01A": [arm_a, arm_a, arm_b, arm_b], "AGE": [60.0, 70.0, 81.0, 50.0],
        "SEX": ["F", "M", "F", "M"], "RACE": ["WHITE", "WHITE", "ASIAN", "ASIAN"],
    })  # fmt: skip


def _adae(soc_x: str = "X") -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S1", "S1", "S1", "S2", "S3", "S4"],
        "TRTEMFL": ["Y", "Y", "Y", "N", "Y", "Y"],
        "AEBODSYS": [soc_x, soc_x, "Y", soc_x, "Y", soc_x],
    })  # fmt: skip


def _adtte() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S1", "S2", "S3", "S4"], "PARAM": ["T"] * 4,
        "AVAL": [5.0, 30.0, 45.0, 10.0], "CNSR": [0.0, 1.0, 0.0, 0.0],
    })  # fmt: skip


def test_teae_counts_by_hand() -> None:
    rows = count_teae_by_soc(_adsl(), _adae())
    got = {(r["soc"], r["arm"]): (r["subjects"], r["events"]) for r in rows}
    # S2's record is not treatment-emergent; S4 is outside the safety population
    assert got == {
        ("ANY", "A"): (1, 3), ("ANY", "B"): (1, 1),  # S1: 3 TEAEs; S3: 1
        ("X", "A"): (1, 2), ("X", "B"): (0, 0),  # S1 twice; B none (a zero row)
        ("Y", "A"): (1, 1), ("Y", "B"): (1, 1),
    }  # fmt: skip
    assert [r["soc"] for r in rows] == ["ANY", "ANY", "X", "X", "Y", "Y"]


def test_fisher_by_hand() -> None:
    rows = compare_soc_fisher(count_teae_by_soc(_adsl(), _adae()), {"A": 2, "B": 1})
    p = {r["soc"]: r["pvalue"] for r in rows}
    # X: A 1/2 vs B 0/1; tables with 1 event among 3: P(A=1) = 2/3, P(A=0) = 1/3 <= 2/3: p = 1
    assert p["X"] == pytest.approx(1.0, rel=1e-12)
    # Y: A 1/2 vs B 1/1: P(A=1) = C(2,1) C(1,1) / C(3,2) = 2/3, P(A=2) = 1/3: p = 1
    assert p["Y"] == pytest.approx(1.0, rel=1e-12)
    assert {r["reference"] for r in rows} == {"A"}


def test_fisher_blank_when_neither_arm_has_the_event() -> None:
    teae = [{"soc": "Z", "arm": "A", "subjects": 0, "events": 0},
            {"soc": "Z", "arm": "B", "subjects": 0, "events": 0}]  # fmt: skip
    assert compare_soc_fisher(teae, {"A": 5, "B": 5})[0]["pvalue"] is None


def test_fisher_unknown_reference_is_refused() -> None:
    with pytest.raises(InvalidInputError) as exc:
        compare_soc_fisher([], {"A": 1, "B": 1}, reference="C")
    assert exc.value.field == "reference"


def test_numbers_at_risk_by_hand() -> None:
    result = analyze_adam(_adsl(), _adae(), _adtte())
    got = {(r["arm"], r["day"]): r["n_risk"] for r in result.at_risk}
    # safety population: A = S1 (5, event), S2 (30, censored); B = S3 (45, event).
    # last follow-up 45 -> days 0, 20, 40; at risk = AVAL >= day
    assert got == {("A", 0): 2, ("A", 20): 1, ("A", 40): 0,
                   ("B", 0): 1, ("B", 20): 1, ("B", 40): 1}  # fmt: skip


def test_demographics_by_hand() -> None:
    result = analyze_adam(_adsl(), _adae(), _adtte())
    got = {(r["variable"], r["statistic"], r["arm"]): r["value"] for r in result.demographics}
    assert got[("Age (y)", "Mean", "A")] == 65.0  # (60 + 70) / 2
    assert got[("Age (y)", "SD", "A")] == pytest.approx(50.0**0.5, rel=1e-12)  # sqrt(50)
    assert got[("Age (y)", "SD", "B")] is None  # one subject: no SD
    # no AGEGR1: <65 / 65-80 / >80 from AGE (60, 70 in A; 81 in B)
    assert [got[("Age group", g, "A")] for g in ("<65", "65-80", ">80")] == [1, 1, 0]
    assert [got[("Age group", g, "B")] for g in ("<65", "65-80", ">80")] == [0, 0, 1]
    assert got[("Race", "ASIAN", "A")] == 0 and got[("Race", "ASIAN", "B")] == 1


@pytest.mark.parametrize(
    ("dataset", "variable"),
    [("ADSL", "SAFFL"), ("ADSL", "TRT01A"), ("ADAE", "TRTEMFL"), ("ADAE", "AEBODSYS"),
     ("ADTTE", "CNSR"), ("ADTTE", "PARAM")],
)  # fmt: skip
def test_missing_variable_is_named(dataset: str, variable: str) -> None:
    frames = {"ADSL": _adsl(), "ADAE": _adae(), "ADTTE": _adtte()}
    frames[dataset] = frames[dataset].drop(columns=variable)
    with pytest.raises(InvalidInputError) as exc:
        analyze_adam(frames["ADSL"], frames["ADAE"], frames["ADTTE"])
    assert exc.value.field == f"{dataset}.{variable}"
    assert variable in str(exc.value)


def test_no_safety_population_is_refused() -> None:
    adsl = _adsl().assign(SAFFL="N")
    with pytest.raises(InvalidInputError) as exc:
        analyze_adam(adsl, _adae(), _adtte())
    assert exc.value.field == "ADSL.SAFFL"


@pytest.mark.parametrize(("column", "value"), [("CNSR", -1.0), ("CNSR", 0.5), ("AVAL", None)])
def test_bad_time_to_event_values_are_refused(column: str, value: float | None) -> None:
    adtte = _adtte()
    adtte.loc[0, column] = value
    with pytest.raises(InvalidInputError) as exc:
        analyze_adam(_adsl(), _adae(), adtte)
    assert exc.value.field == f"ADTTE.{column}"


def test_duplicate_time_to_event_record_is_refused() -> None:
    adtte = pd.concat([_adtte(), _adtte().iloc[:1]], ignore_index=True)
    with pytest.raises(InvalidInputError) as exc:
        analyze_adam(_adsl(), _adae(), adtte)
    assert exc.value.field == "ADTTE.PARAM"


def test_report_escapes_every_text_from_the_data() -> None:
    arm = '<script>alert("x")</script>'
    soc = "<b>BOLD & co</b>"
    adtte = _adtte().assign(PARAM='<img src=x onerror="y">')
    page = render_html(analyze_adam(_adsl(arm_a=arm), _adae(soc_x=soc), adtte), title="<i>t</i>")
    for raw in (arm, soc, "<img src=x", "<i>t</i>", "<b>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;BOLD &amp; co&lt;/b&gt;" in page
    assert page.count("<script") == 0 and page.count("<img ") == 1  # the one KM figure
    assert 'src="data:image/png;base64,' in page


def test_report_is_deterministic() -> None:
    a = render_html(analyze_adam(_adsl(), _adae(), _adtte()))
    b = render_html(analyze_adam(_adsl(), _adae(), _adtte()))
    assert a == b
