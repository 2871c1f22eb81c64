"""ADRS on hand-made subjects; expected responses worked out by hand from RECIST 1.1.

Randomization D0 is study day 1, so ``day(n)`` has ADY n + 1. The primary endpoint counts
scans up to week 24 + the 7-day imaging window: day 168 + 7 = 175.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from adam_support import assess, day, source, tables

from equitrial.datasets.adrs import build_adrs
from equitrial.datasets.adsl import build_adsl


def _adrs(rows: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    src = source(rows)
    return build_adrs(src, build_adsl(src)).frame


def _value(frame: pd.DataFrame, subject: int, paramcd: str) -> tuple[Any, ...]:
    r = frame[(frame["SUBJID"] == f"S01-{subject:04d}") & (frame["PARAMCD"] == paramcd)]
    assert len(r) == 1, (subject, paramcd)
    return r.iloc[0]["AVALC"], r.iloc[0]["AVAL"], r.iloc[0]["ADT"]


@pytest.fixture
def adrs() -> pd.DataFrame:
    rows = tables(5)
    # 1: central SD 63, PR 126, PR 189, PD 252; iRECIST iSD, iPR, iPR, iUPD;
    #    investigator PR 63, PD 126
    assess(
        rows,
        1,
        [(-5, None), (63, "SD"), (126, "PR"), (189, "PR"), (252, "PD")],
        irecist=[None, "iSD", "iPR", "iPR", "iUPD"],
    )
    assess(rows, 1, [(-5, None), (63, "PR"), (126, "PD")], reader="investigator")
    # 2: PR on day 63, dies on day 150 (before week 24 = day 168)
    assess(rows, 2, [(-5, None), (63, "PR")])
    rows["death"] = [{"subject_id": 2, "date": day(150), "cause": "OTHER", "cause_text": "x"}]
    # 3: SD on day 63, new anticancer therapy on day 100, PR on day 126 (after it)
    assess(rows, 3, [(-5, None), (63, "SD"), (126, "PR")])
    rows["subsequent_therapy"] = [{"subject_id": 3, "start_date": day(100)}]
    # 4: no assessment at all
    # 5: SD on day 35 only: before the minimum SD duration (42 days) -> NE
    assess(rows, 5, [(-5, None), (35, "SD")])
    return _adrs(rows)


def test_time_point_records_with_visit_and_study_day(adrs):
    ovr = adrs[(adrs["SUBJID"] == "S01-0001") & (adrs["PARAMCD"] == "OVR")]
    assert list(ovr["AVALC"]) == ["SD", "PR", "PR", "PD"]  # the baseline has no response
    assert list(ovr["AVAL"]) == [3, 2, 2, 5]  # CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6
    assert list(ovr["ADY"]) == [64, 127, 190, 253]
    assert list(ovr["AVISIT"]) == ["WEEK 9", "WEEK 18", "WEEK 27", "WEEK 36"]
    assert set(ovr["PARCAT2"]) == {"Independent Central Review"}
    assert set(ovr["PARCAT3"]) == {"RECIST 1.1"} and set(ovr["ANL01FL"]) == {"Y"}
    inv = adrs[(adrs["SUBJID"] == "S01-0001") & (adrs["PARAMCD"] == "OVRINV")]
    assert list(inv["AVALC"]) == ["PR", "PD"] and set(inv["PARCAT2"]) == {"Investigator"}


def test_best_overall_response_unconfirmed_and_confirmed(adrs):
    # BOR (no confirmation, as the primary endpoint): best of SD, PR, PR, PD = PR, first on 126
    assert _value(adrs, 1, "BOR") == ("PR", 2, day(126))
    # CBOR: PR on 126 confirmed by PR on 189 (63 >= 28 days) -> PR
    assert _value(adrs, 1, "CBOR") == ("PR", 2, day(126))
    assert _value(adrs, 1, "RSP") == ("Y", 1, day(126))
    # investigator: PR 63 then PD -> BOR PR; confirmed: the PR is unconfirmed, counts as SD
    # (day 63 >= 42) -> SD, dated day 63
    assert _value(adrs, 1, "BORINV") == ("PR", 2, day(63))
    assert _value(adrs, 1, "CBORINV") == ("SD", 3, day(63))


def test_week_24_response_and_composite_intercurrent_events(adrs):
    # subject 1: scans to day 175 are 63 (SD) and 126 (PR) -> BOR24 PR, RSP24 Y
    assert _value(adrs, 1, "BOR24")[0] == "PR" and _value(adrs, 1, "RSP24")[0] == "Y"
    # subject 2: PR, but death on day 150 < day 168 -> composite non-response; RSP stays Y
    assert _value(adrs, 2, "BOR24")[0] == "PR"
    assert _value(adrs, 2, "RSP24")[:2] == ("N", 0)
    assert _value(adrs, 2, "RSP")[0] == "Y"


def test_scans_after_new_anticancer_therapy_do_not_count(adrs):
    ovr = adrs[(adrs["SUBJID"] == "S01-0003") & (adrs["PARAMCD"] == "OVR")]
    assert list(ovr["ANL01FL"]) == ["Y", "N"]  # day 126 is after the therapy of day 100
    assert _value(adrs, 3, "BOR")[0] == "SD" and _value(adrs, 3, "RSP")[0] == "N"


def test_no_assessment_and_too_early_stable_disease_are_not_evaluable(adrs):
    bor, aval, adt = _value(adrs, 4, "BOR")
    assert (bor, aval, adt) == ("NE", 6, None)
    assert _value(adrs, 4, "RSP")[:2] == ("N", 0)
    assert _value(adrs, 5, "BOR")[:2] == ("NE", 6)  # SD on day 35 < 42


def test_irecist_parameters(adrs):
    iovr = adrs[(adrs["SUBJID"] == "S01-0001") & (adrs["PARAMCD"] == "IOVR")]
    assert list(iovr["AVALC"]) == ["iSD", "iPR", "iPR", "iUPD"]
    assert set(iovr["PARCAT3"]) == {"iRECIST"}
    # iBOR: best of iSD, iPR, iPR, iUPD = iPR (iCR 1, iPR 2 ...)
    assert _value(adrs, 1, "IBOR") == ("iPR", 2, day(126))


def test_keys_and_metadata():
    rows = tables(2)
    assess(rows, 1, [(-5, None), (63, "SD"), (126, "PR")])
    src = source(rows)
    data = build_adrs(src, build_adsl(src))
    assert (data.name, data.klass, data.standard) == ("ADRS", "BASIC DATA STRUCTURE", "ADaMIG 1.3")
    assert [data.variable(n).key for n in ("USUBJID", "PARAMCD", "ADT")] == [1, 2, 3]
    assert not data.frame.duplicated(["USUBJID", "PARAMCD", "ADT"]).any()
    # PARAM <-> PARAMCD one to one
    pairs = data.frame[["PARAMCD", "PARAM"]].drop_duplicates()
    assert pairs["PARAMCD"].is_unique and pairs["PARAM"].is_unique
    assert all(len(c) <= 8 for c in pairs["PARAMCD"])
    for v in data.variables:
        if v.type == "Char":
            assert v.length >= max((len(x) for x in data.frame[v.name] if x is not None), default=1)
