"""ADTTE: PFS censoring rule by rule (FDA 2018 table), OS, DOR, TTR, on hand-made subjects.

Every subject is randomized on D0 (study day 1); AVAL = ADT - D0 + 1, so a date ``day(n)`` has
AVAL n + 1. Planned scans (protocol): days 63, 126, 189, 252, 315, 378 (weeks 9 ... 54), then
462, 546, ... (every 12 weeks from week 66), window +-7 days. A baseline scan on day -5 unless
said otherwise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from adam_support import D0, assess, day, source, tables

from equitrial.datasets.adrs import build_adrs
from equitrial.datasets.adsl import build_adsl
from equitrial.datasets.adtte import build_adtte

BASELINE = (-5, None)


def _tte(rows: dict[str, list[dict[str, Any]]], paramcd: str = "PFS") -> pd.DataFrame:
    src = source(rows)
    adsl = build_adsl(src)
    frame = build_adtte(src, adsl, build_adrs(src, adsl)).frame
    return frame[frame["PARAMCD"] == paramcd].set_index("SUBJID")


def _one(rows: dict[str, list[dict[str, Any]]], paramcd: str = "PFS") -> tuple[Any, ...]:
    r = _tte(rows, paramcd).loc["S01-0001"]
    return r["ADT"], r["AVAL"], r["CNSR"]


def test_pfs_no_baseline_assessment_censored_at_randomization():
    # no baseline scan, an SD on day 63: censored on D0, AVAL 1, CNSR 1
    rows = tables(1)
    assess(rows, 1, [(63, "SD")])
    assert _one(rows) == (D0, 1, 1)


def test_pfs_no_post_baseline_assessment_censored_at_randomization():
    # baseline only, alive: censored on D0, AVAL 1, CNSR 2
    rows = tables(1)
    assess(rows, 1, [BASELINE])
    assert _one(rows) == (D0, 1, 2)


def test_pfs_progression_between_visits_event_at_that_scan():
    # SD on day 63, PD on an unscheduled scan on day 100 (between weeks 9 and 18):
    # event on day 100, AVAL 101, CNSR 0
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD"), (100, "PD"), (126, "PD")])
    frame = _tte(rows)
    assert _one(rows) == (day(100), 101, 0)
    assert frame.loc["S01-0001", "EVNTDESC"] == "Disease progression"
    assert tuple(frame.loc["S01-0001", ["SRCDOM", "SRCVAR"]]) == ("ADRS", "ADT")


def test_pfs_death_before_first_assessment_is_an_event():
    # death on day 30, before the week-9 scan: event on day 30, AVAL 31, CNSR 0
    rows = tables(1)
    assess(rows, 1, [BASELINE])
    rows["death"] = [{"subject_id": 1, "date": day(30), "cause": "PROGRESSIVE DISEASE"}]
    assert _one(rows) == (day(30), 31, 0)
    assert tuple(_tte(rows).loc["S01-0001", ["EVNTDESC", "SRCDOM", "SRCVAR"]]) == (
        "Death",
        "ADSL",
        "DTHDT",
    )


def test_pfs_event_after_two_missed_assessments_censored_at_last_adequate():
    # last adequate scan day 63 (week 9). Still due: week 18 (126) and week 27 (189); the
    # second's window closes on day 196. Death on day 197 -> censored on day 63, AVAL 64, CNSR 3
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD")])
    rows["death"] = [{"subject_id": 1, "date": day(197), "cause": "PROGRESSIVE DISEASE"}]
    assert _one(rows) == (day(63), 64, 3)


def test_pfs_event_on_the_last_day_of_the_second_window_is_an_event():
    # same as above, death on day 196 (still within week 27's window): event, AVAL 197
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD")])
    rows["death"] = [{"subject_id": 1, "date": day(196), "cause": "PROGRESSIVE DISEASE"}]
    assert _one(rows) == (day(196), 197, 0)


def test_pfs_progression_after_two_missed_scans_with_ne_in_between():
    # SD day 63, NE day 126 (not adequate), PD day 252: L = 63, due 126 and 189 (closes 196),
    # 252 > 196 -> censored on day 63, AVAL 64, CNSR 3
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD"), (126, "NE"), (252, "PD")])
    assert _one(rows) == (day(63), 64, 3)


def test_pfs_new_anticancer_therapy_before_progression_censored_at_last_scan_before_it():
    # SD 63, SD 126, new therapy day 150, PD day 189: censored on day 126, AVAL 127, CNSR 4
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD"), (126, "SD"), (189, "PD")])
    rows["subsequent_therapy"] = [{"subject_id": 1, "start_date": day(150)}]
    assert _one(rows) == (day(126), 127, 4)


def test_pfs_no_progression_no_death_censored_at_last_adequate_assessment():
    # SD 63, PR 126, NE 189: the last adequate scan is day 126 -> AVAL 127, CNSR 5
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD"), (126, "PR"), (189, "NE")])
    assert _one(rows) == (day(126), 127, 5)
    r = _tte(rows).loc["S01-0001"]
    assert (r["STARTDT"], r["CNSDTDSC"]) == (D0, "Last adequate tumour assessment")


def test_pfs_by_investigator_is_its_own_parameter():
    # central: PD on day 126 (AVAL 127); investigator: SD only -> censored day 63 (AVAL 64)
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD"), (126, "PD")])
    assess(rows, 1, [BASELINE, (63, "SD")], reader="investigator")
    assert _one(rows, "PFS") == (day(126), 127, 0)
    assert _one(rows, "PFSINV") == (day(63), 64, 5)


def test_os_event_death_else_censored_at_last_known_alive():
    # subject 1 dies on day 300 (AVAL 301); subject 2's latest record: a dose on day 84 (AVAL 85)
    rows = tables(2)
    rows["death"] = [{"subject_id": 1, "date": day(300), "cause": "PROGRESSIVE DISEASE"}]
    rows["dose"].append({"subject_id": 2, "cycle": 5, "date": day(84), "dose_mg": 200.0})
    os_ = _tte(rows, "OS")
    assert tuple(os_.loc["S01-0001", ["ADT", "AVAL", "CNSR"]]) == (day(300), 301, 0)
    assert tuple(os_.loc["S01-0002", ["ADT", "AVAL", "CNSR", "SRCVAR"]]) == (
        day(84),
        85,
        1,
        "LSTALVDT",
    )


def test_dor_and_ttr_of_a_responder_and_a_non_responder():
    # subject 1: PR day 63, PR 126, PD 189. DOR from day 63 to day 189: 189 - 63 + 1 = 127,
    # event. TTR: first response day 63, AVAL 64. Subject 2: SD 63, SD 126 -> no DOR record,
    # TTR censored on day 126 (AVAL 127, CNSR 5)
    rows = tables(2)
    assess(rows, 1, [BASELINE, (63, "PR"), (126, "PR"), (189, "PD")])
    assess(rows, 2, [BASELINE, (63, "SD"), (126, "SD")])
    dor = _tte(rows, "DOR")
    assert list(dor.index) == ["S01-0001"]
    assert tuple(dor.loc["S01-0001", ["STARTDT", "ADT", "AVAL", "CNSR"]]) == (
        day(63),
        day(189),
        127,
        0,
    )
    ttr = _tte(rows, "TTR")
    assert tuple(ttr.loc["S01-0001", ["ADT", "AVAL", "CNSR"]]) == (day(63), 64, 0)
    assert tuple(ttr.loc["S01-0002", ["ADT", "AVAL", "CNSR"]]) == (day(126), 127, 5)


def test_dor_new_therapy_censors_at_last_scan_before_it():
    # PR 63, PR 126, therapy day 130, PD 189: DOR censored on day 126: 126 - 63 + 1 = 64, CNSR 4
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "PR"), (126, "PR"), (189, "PD")])
    rows["subsequent_therapy"] = [{"subject_id": 1, "start_date": day(130)}]
    assert _one(rows, "DOR") == (day(126), 64, 4)


def test_metadata():
    rows = tables(1)
    assess(rows, 1, [BASELINE, (63, "SD")])
    src = source(rows)
    adsl = build_adsl(src)
    data = build_adtte(src, adsl, build_adrs(src, adsl))
    assert (data.name, data.klass, data.standard) == ("ADTTE", "BASIC DATA STRUCTURE", "ADaMIG 1.3")
    assert list(data.frame["PARAMCD"]) == ["PFS", "PFSINV", "OS", "TTR", "TTRINV"]
    assert not data.frame.duplicated(["USUBJID", "PARAMCD"]).any()
    for v in data.variables:
        if v.type == "Char":
            assert v.length >= max((len(x) for x in data.frame[v.name] if x is not None), default=1)
