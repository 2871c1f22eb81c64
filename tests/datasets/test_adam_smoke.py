"""ADSL, ADRS and ADTTE from a small study made through the services (the real snapshot)."""

from __future__ import annotations

import datetime as dt

from equitrial.datasets.adrs import build_adrs
from equitrial.datasets.adsl import build_adsl
from equitrial.datasets.adtte import build_adtte
from equitrial.services import assessments, randomize, subjects
from equitrial.services.export import study_source

DAY = dt.date(2024, 3, 1)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def test_adam_from_the_store(trial):
    coordinator = trial["coordinator"]
    randomized = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        "R-1",
        consent_date=DAY,
        strata=STRATA,
        eligible=True,
    )
    subjects.enrol(trial.engine, coordinator, "A", "R-2", consent_date=DAY, strata=STRATA)
    randomize.randomize(trial.engine, coordinator, randomized.id, day1=DAY)
    for reader in ("central", "investigator"):
        assessments.add_lesion(
            trial.engine,
            coordinator,
            randomized.id,
            lesion_code="T1",
            organ="liver",
            nodal=False,
            role="target",
            reader=reader,
        )
        # 50 mm at baseline, 40 mm at week 9 (-20 %: SD), 35 mm at week 18 (-30 %: PR)
        for weeks, mm in ((0, 50.0), (9, 40.0), (18, 35.0)):
            assessments.record_assessment(
                trial.engine,
                coordinator,
                randomized.id,
                reader=reader,
                assessment_date=DAY + dt.timedelta(weeks=weeks) - dt.timedelta(days=weeks == 0),
                measurements=[{"lesion_code": "T1", "diameter_mm": mm}],
            )
    src = study_source(trial.engine)
    adsl = build_adsl(src)
    adrs = build_adrs(src, adsl)
    adtte = build_adtte(src, adsl, adrs)
    # only the randomized subject; randomized on DAY
    assert list(adsl.frame["SUBJID"]) == [randomized.subject_code]
    assert adsl.frame.loc[0, "RANDDT"] == DAY and adsl.frame.loc[0, "ITTFL"] == "Y"
    bor = adrs.frame[adrs.frame["PARAMCD"] == "BOR"]
    assert list(bor["AVALC"]) == ["PR"]
    pfs = adtte.frame[adtte.frame["PARAMCD"] == "PFS"].iloc[0]
    # no progression: censored at the week-18 scan, 126 days after DAY -> AVAL 127, CNSR 5
    assert (pfs["ADT"], pfs["AVAL"], pfs["CNSR"]) == (DAY + dt.timedelta(weeks=18), 127, 5)
