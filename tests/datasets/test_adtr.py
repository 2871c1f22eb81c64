"""ADTR on hand-made subjects; the sums worked out by hand from RECIST 1.1.

RECIST 1.1 (Eisenhauer 2009, section 4.3.2 and appendix I): the sum adds the longest diameter
of each non-nodal target and the short axis of each nodal target (as recorded); a target "too
small to measure" counts 5 mm, a "disappeared" one 0 mm; a target not assessed makes the sum
not evaluable. Randomization D0 is study day 1, so ``day(n)`` has ADY n + 1 (n >= 0) or n.
Tolerance: sums are exact decimals (1e-12 relative), percent changes 1e-12 relative.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest
from adam_support import D0, day, source, tables

from equitrial.datasets.adsl import build_adsl
from equitrial.datasets.adtr import build_adtr
from equitrial.errors import InvalidInputError

Rows = dict[str, list[dict[str, Any]]]
REL = 1e-12


def _lesion(rows: Rows, sid: int, code: str, *, reader: str = "central", **kw: Any) -> int:
    table = rows.setdefault("lesion", [])
    lid = len(table) + 1
    table.append(
        {
            "id": lid,
            "subject_id": sid,
            "lesion_code": code,
            "organ": kw.get("organ", "LIVER"),
            "nodal": kw.get("nodal", False),
            "role": kw.get("role", "target"),
            "reader": reader,
        }
    )
    return lid


def _measure(
    rows: Rows,
    lid: int,
    n: int,
    mm: float | None,
    status: str = "measured",
    *,
    reader: str = "central",
) -> None:
    rows.setdefault("lesion_measurement", []).append(
        {
            "lesion_id": lid,
            "assessment_date": day(n),
            "reader": reader,
            "diameter_mm": mm,
            "measurement_status": status,
        }
    )


def _build(rows: Rows, arms: dict[int, str] | None = None) -> pd.DataFrame:
    src = source(rows, arms)
    return build_adtr(src, build_adsl(src)).frame


def _series(frame: pd.DataFrame, subject: int, paramcd: str = "SDIAM") -> pd.DataFrame:
    return frame[(frame["SUBJID"] == f"S01-{subject:04d}") & (frame["PARAMCD"] == paramcd)]


def _subject_1(rows: Rows) -> None:
    """Central: liver target T1 (longest diameter), node T2 (short axis), non-target NT1;
    investigator: its own lesions and reads."""
    t1 = _lesion(rows, 1, "T1")
    t2 = _lesion(rows, 1, "T2", organ="LYMPH NODE", nodal=True)
    nt = _lesion(rows, 1, "NT1", role="non-target", organ="LUNG")
    for n, a, b in ((-20, 40.0, 20.0), (-5, 32.5, 17.2), (63, 20.1, 9.8)):
        _measure(rows, t1, n, a)
        _measure(rows, t2, n, b)
        _measure(rows, nt, n, None, "present")
    _measure(rows, t1, 126, None, "too small to measure")
    _measure(rows, t2, 126, 8.0)
    _measure(rows, t1, 189, 12.4)  # T2 not read on day 189
    _measure(rows, nt, 189, None, "present")
    _measure(rows, t1, 252, None, "disappeared")
    _measure(rows, t2, 252, 11.0)
    i1 = _lesion(rows, 1, "T1", reader="investigator")
    i2 = _lesion(rows, 1, "T2", reader="investigator", organ="LYMPH NODE", nodal=True)
    for n, a, b in ((-5, 30.0, 15.0), (63, 27.0, 15.5)):
        _measure(rows, i1, n, a, reader="investigator")
        _measure(rows, i2, n, b, reader="investigator")
    # a central tumour assessment on a day without measurements: a record, not evaluable
    rows.setdefault("tumour_assessment", []).append(
        {"subject_id": 1, "assessment_date": day(300), "reader": "central"}
    )


@pytest.fixture
def rows() -> Rows:
    out = tables(5)
    _subject_1(out)
    # 2: the baseline sum is 0 mm (the only target recorded "disappeared")
    t = _lesion(out, 2, "T1")
    _measure(out, t, -5, None, "disappeared")
    _measure(out, t, 63, 4.0)
    # 3: no scan at all
    # 4: first dose on day 3, a scan on day 2 (after randomization, before the dose) is the
    #    baseline; new anticancer therapy on day 100
    out["dose"] = [d for d in out["dose"] if d["subject_id"] != 4]
    out["dose"].append(
        {"subject_id": 4, "cycle": 1, "date": day(3), "dose_mg": 200.0, "regimen": "Q3W"}
    )
    t = _lesion(out, 4, "T1")
    for n, mm in ((-20, 50.0), (2, 48.0), (63, 30.0), (126, 20.0)):
        _measure(out, t, n, mm)
    out["subsequent_therapy"] = [{"subject_id": 4, "start_date": day(100)}]
    # 5: the last scan before the dose has a target not assessed: baseline the one before
    t = _lesion(out, 5, "T1")
    u = _lesion(out, 5, "T2", organ="LUNG")
    _measure(out, t, -20, 25.0)
    _measure(out, u, -20, 15.0)
    _measure(out, t, -5, 24.0)
    _measure(out, u, -5, None, "not assessed")
    _measure(out, t, 63, 10.0)
    _measure(out, u, 63, 10.0)
    return out


@pytest.fixture
def adtr(rows: Rows) -> pd.DataFrame:
    return _build(rows, {1: "BIO", 2: "REF", 3: "BIO", 4: "BIO", 5: "REF"})


def test_sums_of_nodal_and_non_nodal_targets(adtr):
    s = _series(adtr, 1)
    assert [d for d in s["ADT"]] == [day(n) for n in (-20, -5, 63, 126, 189, 252, 300)]
    expected = [
        40.0 + 20.0,
        32.5 + 17.2,  # 49.7: longest diameter of T1 + short axis of the node T2
        20.1 + 9.8,  # 29.9
        5.0 + 8.0,  # T1 too small to measure: 5 mm
        None,  # T2 not read: not evaluable
        0.0 + 11.0,  # T1 disappeared: 0 mm
        None,  # tumour assessment without measurements
    ]
    for got, want in zip(s["AVAL"], expected, strict=True):
        if want is None:
            assert pd.isna(got)
        else:
            assert got == pytest.approx(want, rel=REL)
    assert list(s["ADY"]) == [-20, -5, 64, 127, 190, 253, 301]


def test_baseline_change_percent_change_and_nadir(adtr):
    s = _series(adtr, 1).reset_index(drop=True)
    # baseline: the last scan on or before the first dose (D0), day -5, not the earlier day -20
    assert list(s["ABLFL"]) == [None, "Y", None, None, None, None, None]
    assert s.loc[1, "AVISIT"] == "BASELINE" and list(s["AVISIT"][2:4]) == ["WEEK 9", "WEEK 18"]
    assert list(s["BASE"]) == pytest.approx([49.7] * 7, rel=REL)
    assert pd.isna(s.loc[0, "CHG"]) and pd.isna(s.loc[0, "PCHG"])  # before the baseline
    assert s.loc[1, "CHG"] == 0 and s.loc[1, "PCHG"] == 0
    assert s.loc[2, "CHG"] == pytest.approx(29.9 - 49.7, rel=REL)
    assert s.loc[2, "PCHG"] == pytest.approx(-100 * 19.8 / 49.7, rel=REL)  # -39.839... %
    assert s.loc[3, "PCHG"] == pytest.approx(-100 * 36.7 / 49.7, rel=REL)
    assert pd.isna(s.loc[4, "PCHG"])
    assert s.loc[5, "PCHG"] == pytest.approx(-100 * 38.7 / 49.7, rel=REL)
    # nadir: smallest of the baseline and the earlier evaluable post-baseline sums
    nadir = s["NADIR"].tolist()
    assert pd.isna(nadir[0]) and pd.isna(nadir[1])
    assert nadir[2:] == pytest.approx([49.7, 29.9, 13.0, 13.0, 11.0], rel=REL)
    assert list(s["ANL01FL"]) == [None, None, "Y", "Y", None, "Y", None]


def test_readers_are_kept_apart(adtr):
    inv = _series(adtr, 1, "SDIAMINV")
    assert list(inv["AVAL"]) == pytest.approx([30.0 + 15.0, 27.0 + 15.5], rel=REL)
    assert list(inv["BASE"]) == pytest.approx([45.0, 45.0], rel=REL)
    assert inv.iloc[1]["PCHG"] == pytest.approx(-100 * 2.5 / 45.0, rel=REL)
    assert set(inv["PARCAT2"]) == {"Investigator"}
    assert set(_series(adtr, 1)["PARCAT2"]) == {"Independent Central Review"}
    assert _series(adtr, 2, "SDIAMINV").empty  # subject 2 has no investigator reads


def test_zero_baseline_has_no_percent_change(adtr):
    s = _series(adtr, 2).reset_index(drop=True)
    assert list(s["ABLFL"]) == ["Y", None] and list(s["BASE"]) == [0.0, 0.0]
    assert s.loc[1, "CHG"] == 4.0 and pd.isna(s.loc[1, "PCHG"])
    assert pd.isna(s.loc[0, "PCHG"])


def test_baseline_anchor_is_first_dose_and_last_evaluable_scan(adtr):
    s4 = _series(adtr, 4).reset_index(drop=True)
    assert list(s4["ABLFL"]) == [None, "Y", None, None]  # day 2 < first dose on day 3
    assert s4.loc[1, "ADY"] == 3 and s4.loc[1, "BASE"] == 48.0
    assert s4.loc[2, "PCHG"] == pytest.approx(-100 * 18.0 / 48.0, rel=REL)
    # day 126 follows the new anticancer therapy (day 100): kept, not analysed
    assert list(s4["ANL01FL"]) == [None, None, "Y", None]
    s5 = _series(adtr, 5).reset_index(drop=True)
    assert pd.isna(s5.loc[1, "AVAL"])  # day -5: T2 not assessed
    assert list(s5["ABLFL"]) == ["Y", None, None] and s5.loc[0, "BASE"] == 40.0
    assert s5.loc[2, "PCHG"] == pytest.approx(-50.0, rel=REL)  # 20 vs 40 mm


def test_subjects_without_scans_are_absent_and_treatment(adtr):
    assert "S01-0003" not in set(adtr["SUBJID"])
    assert set(adtr["SUBJID"]) == {"S01-0001", "S01-0002", "S01-0004", "S01-0005"}
    arms = adtr.drop_duplicates("SUBJID").set_index("SUBJID")
    assert arms.loc["S01-0001", "TRTP"] == "Proposed pembrolizumab biosimilar"
    assert arms.loc["S01-0002", "TRTP"] == "Keytruda (EU-sourced)"
    assert list(arms["TRTPN"]) == [1.0, 2.0, 1.0, 2.0]  # order of the protocol's [[arms]]
    assert list(arms["RANDDT"]) == [D0] * 4


def test_only_itt_subjects(rows):
    src = source(rows)
    adsl = build_adsl(src)
    frame = adsl.frame.copy()
    frame.loc[frame["SUBJID"] == "S01-0001", "ITTFL"] = "N"
    out = build_adtr(src, dataclasses.replace(adsl, frame=frame)).frame
    assert "S01-0001" not in set(out["SUBJID"]) and "S01-0002" in set(out["SUBJID"])


def test_metadata_and_keys(rows):
    src = source(rows)
    data = build_adtr(src, build_adsl(src))
    assert (data.name, data.klass, data.standard) == ("ADTR", "BASIC DATA STRUCTURE", "ADaMIG 1.3")
    assert [data.variable(n).key for n in ("USUBJID", "PARAMCD", "ADT")] == [1, 2, 3]
    assert not data.frame.duplicated(["USUBJID", "PARAMCD", "ADT"]).any()
    pairs = data.frame[["PARAMCD", "PARAM"]].drop_duplicates()
    assert set(pairs["PARAMCD"]) == {"SDIAM", "SDIAMINV"}
    assert pairs["PARAMCD"].is_unique and pairs["PARAM"].is_unique
    for v in data.variables:
        assert len(v.name) <= 8 and len(v.label) <= 40, v.name
        if v.type == "Char":
            longest = max((len(x) for x in data.frame[v.name] if x is not None), default=1)
            assert v.length == longest, v.name
    assert data.variable("ADT").data_type == "date"
    assert {"AVAL", "BASE", "CHG", "PCHG", "NADIR", "ABLFL", "ANL01FL"} <= set(data.frame)


def test_no_lesion_data_gives_an_empty_dataset():
    src = source(tables(2))
    data = build_adtr(src, build_adsl(src))
    assert data.frame.empty and list(data.frame.columns) == [v.name for v in data.variables]


def test_measured_target_without_diameter_is_rejected():
    rows = tables(1)
    _measure(rows, _lesion(rows, 1, "T1"), -5, None)
    src = source(rows)
    with pytest.raises(InvalidInputError):
        build_adtr(src, build_adsl(src))
