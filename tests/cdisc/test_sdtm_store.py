"""Every SDTM domain built from a small study stored through the services (SQLite and
PostgreSQL): the StudySource of ``services.export`` is what ``build_sdtm`` reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sdtm_case import rows
from sdtm_contract import check_all
from sqlalchemy import Engine, select

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.services import clinical, randomize, sites, study, subjects, users
from equitrial.services.auth import Actor, actor_for, system_actor
from equitrial.services.export import study_source
from equitrial.store import models as m
from equitrial.store.db import transaction

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
TODAY = dt.datetime.now(dt.UTC).date()
CONSENT = TODAY - dt.timedelta(days=60)
DAY1 = TODAY - dt.timedelta(days=30)


def _staff(engine: Engine) -> dict[str, Actor]:
    """The study loaded, site A, an administrator, a coordinator and an investigator of A."""
    system = system_actor()
    study.load_study(
        engine, system, PROTOCOL, allocation_seed=2**200 + 20240501, slots_per_stratum=4
    )
    sites.add_site(engine, system, "A", "Site A", country="AUS")
    users.add_user(engine, system, "admin", PASSWORD, ["admin"])
    with transaction(engine, read_only=True) as session:
        admin = actor_for(session, session.scalars(select(m.User)).one())
    for role in ("coordinator", "investigator"):
        users.add_user(engine, admin, role, PASSWORD, [role], site="A")
    with transaction(engine, read_only=True) as session:
        stored = {u.username: actor_for(session, u) for u in session.scalars(select(m.User))}
    return stored


def test_every_domain_from_a_stored_study(engine: Engine) -> None:
    staff = _staff(engine)
    coordinator, investigator = staff["coordinator"], staff["investigator"]
    treated = subjects.enrol(engine, coordinator, "A", "1", consent_date=CONSENT, strata=STRATA)
    subjects.enrol(engine, coordinator, "A", "2", consent_date=CONSENT, strata=STRATA)
    subjects.confirm_eligibility(engine, investigator, treated.id, True, strata=STRATA)
    kit = randomize.randomize(engine, coordinator, treated.id, day1=DAY1).kit
    start = dt.datetime.combine(DAY1, dt.time(9, 30), dt.UTC)
    clinical.record_dose(
        engine,
        investigator,
        treated.id,
        cycle=1,
        date=DAY1,
        dose_mg=200.0,
        kit_number=kit,
        regimen="Q3W",
        infusion_start=start,
        infusion_stop=start + dt.timedelta(minutes=30),
    )
    clinical.record_lab(
        engine,
        coordinator,
        treated.id,
        test="Alanine aminotransferase increased",
        value=55.0,
        unit="U/L",
        collected_at=dt.datetime.combine(DAY1, dt.time(8), dt.UTC),
        uln=40.0,
    )
    clinical.report_adverse_event(
        engine,
        investigator,
        treated.id,
        term="Nausea",
        grade=1,
        start_date=DAY1 + dt.timedelta(days=2),
    )

    datasets = build_sdtm(study_source(engine))
    check_all(datasets)
    domains = {d.name: d for d in datasets}
    code = treated.subject_code
    usubjid = f"EQT-PEM-301-{code}"  # <study code>-<subject code>
    (dm,) = rows(domains["DM"], USUBJID=usubjid)
    assert dm["SUBJID"] == code and dm["SITEID"] == "A" and dm["RFSTDTC"] == DAY1.isoformat()
    assert dm["ARMCD"] in {"BIO", "REF"} and dm["ACTARMCD"] == dm["ARMCD"]
    assert dm["RFICDTC"] == CONSENT.isoformat()
    other = [r for r in rows(domains["DM"]) if r["USUBJID"] != usubjid]
    assert [r["ARMNRS"] for r in other] == ["NOT ASSIGNED"]
    (ex,) = rows(domains["EX"], USUBJID=usubjid)
    assert (ex["EXSTDY"], ex["EXDOSRGM"], ex["EXSTDTC"]) == (
        1,
        "200 mg Q3W",
        f"{DAY1.isoformat()}T09:30",
    )
    (lb,) = rows(domains["LB"], USUBJID=usubjid)
    assert (lb["LBTESTCD"], lb["LBNRIND"], lb["LBLOBXFL"], lb["LBDY"]) == ("ALT", "HIGH", "Y", 1)
    (ae,) = rows(domains["AE"], USUBJID=usubjid)
    assert (ae["AEDECOD"], ae["AETOXGR"], ae["AESTDY"], ae["EPOCH"]) == (
        "Nausea",
        "1",
        3,
        "TREATMENT",
    )
    ds = [r["DSDECOD"] for r in rows(domains["DS"], USUBJID=usubjid)]
    assert ds[:2] == ["INFORMED CONSENT OBTAINED", "RANDOMIZED"]
    # the visits the services plan are named as the trial visits of TV (same VISITNUM)
    planned = {(r["VISIT"], r["VISITNUM"]) for r in rows(domains["TV"])}
    assert {(r["VISIT"], r["VISITNUM"]) for r in rows(domains["SV"])} <= planned
