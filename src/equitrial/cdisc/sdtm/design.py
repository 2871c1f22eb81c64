"""Trial design domains from the protocol: TA (arms), TE (elements), TV (visits), TI
(inclusion/exclusion criteria), TS (summary).

The design is screening, one treatment element per arm, follow-up: the epochs of
:data:`~equitrial.cdisc.sdtm._common.EPOCH_CT`, the same rule as the subject-level ``EPOCH``
(a treatment element starts at the first dose). Planned visits are the protocol's schedule
anchored at randomization up to the maximum treatment duration, named ``day N`` as the visit
planner names them (``N`` the planned study day), and the numbered follow-up visits anchored at
the end of treatment up to :data:`FOLLOW_UP_WEEKS`.

References
----------
.. [1] CDISC SDTMIG v3.4, section 7 (Trial Design Model): 7.2.1 TA, 7.2.2 TE, 7.3.1 TV,
   7.4.1 TI, 7.4.2 TS; TS values longer than 200 characters continue in ``TSVAL1``, ...
.. [2] CDISC CT: TSPARMCD (C66738) / TSPARM (C67152), TPHASE (C66737), STYPE (C99077),
   INTMODEL (C99076), INTTYPE (C99078), TTYPE (C66739), NY (C66742), IECAT (C66797).
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from equitrial.cdisc.sdtm._common import (
    assemble,
    char,
    num,
    to_day,
    visit_number,
)
from equitrial.datasets import Dataset, StudySource

__all__ = ["FOLLOW_UP_WEEKS", "build_ta", "build_te", "build_ti", "build_ts", "build_tv"]

FOLLOW_UP_WEEKS: Final = 260.0
"""Horizon of the follow-up visits listed in TV (five years after the end of treatment); the
protocol's follow-up runs until death or the end of the study."""
_KLASS: Final = "TRIAL DESIGN"
_STUDY: Final = [
    char("STUDYID", "Study Identifier", "Protocol"),
    char("DOMAIN", "Domain Abbreviation", "Assigned"),
]


def _etcd(code: str) -> str:
    return code.upper()[:8]


def build_ta(source: StudySource) -> Dataset:
    """TA: per arm, the elements screening, the arm's treatment, follow-up."""
    rows = []
    for arm in source.protocol.arms:
        path = [
            ("SCRN", "Screening", f"Randomized to {arm.name}", "SCREENING"),
            (_etcd(arm.code), arm.name, None, "TREATMENT"),
            ("FU", "Follow-up", None, "FOLLOW-UP"),
        ]
        for order, (etcd, element, branch, epoch) in enumerate(path, start=1):
            rows.append(
                {
                    "ARMCD": arm.code,
                    "ARM": arm.name,
                    "TAETORD": order,
                    "ETCD": etcd,
                    "ELEMENT": element,
                    "TABRANCH": branch,
                    "EPOCH": epoch,
                }
            )
    frame = pd.DataFrame(rows).assign(STUDYID=str(source.study["code"]), DOMAIN="TA")
    variables = [
        *_STUDY,
        char("ARMCD", "Planned Arm Code", "Protocol"),
        char("ARM", "Description of Planned Arm", "Protocol"),
        num("TAETORD", "Planned Order of Element within Arm", "Protocol"),
        char("ETCD", "Element Code", "Protocol"),
        char("ELEMENT", "Description of Element", "Protocol"),
        char("TABRANCH", "Branch", "Protocol"),
        char("TATRANS", "Transition Rule", "Protocol"),
        char("EPOCH", "Epoch", "Protocol"),
    ]
    return assemble(
        "TA",
        "Trial Arms",
        _KLASS,
        "One record per planned Element per Arm",
        variables,
        frame,
        ("STUDYID", "ARMCD", "TAETORD"),
    )


def build_te(source: StudySource) -> Dataset:
    """TE: the elements and their start and end rules."""
    protocol = source.protocol
    weeks = protocol.max_treatment_weeks
    end = (
        f"End of treatment: at most {weeks:g} weeks after the first dose, or earlier at "
        "progression, unacceptable toxicity or withdrawal"
    )
    rows: list[tuple[str, str, str, str, str | None]] = [
        ("SCRN", "Screening", "Informed consent", "First dose of study treatment", None)
    ]
    for arm in protocol.arms:
        duration = f"P{weeks:g}W" if float(weeks).is_integer() else None
        rows.append((_etcd(arm.code), arm.name, f"First dose of {arm.name}", end, duration))
    rows.append(("FU", "Follow-up", "End of treatment", "Death or end of study", None))
    frame = pd.DataFrame(rows, columns=["ETCD", "ELEMENT", "TESTRL", "TEENRL", "TEDUR"])
    frame = frame.assign(STUDYID=str(source.study["code"]), DOMAIN="TE")
    variables = [
        *_STUDY,
        char("ETCD", "Element Code", "Protocol"),
        char("ELEMENT", "Description of Element", "Protocol"),
        char("TESTRL", "Rule for Start of Element", "Protocol"),
        char("TEENRL", "Rule for End of Element", "Protocol"),
        char("TEDUR", "Planned Duration of Element", "Protocol"),
    ]
    return assemble(
        "TE",
        "Trial Elements",
        _KLASS,
        "One record per planned Element",
        variables,
        frame,
        ("STUDYID", "ETCD"),
    )


def _planned_visits(protocol: Any) -> list[dict[str, Any]]:
    horizon = protocol.max_treatment_weeks
    due: dict[int, set[str]] = {}
    for item in protocol.schedule:
        if item.anchor != "randomization":
            continue
        for week in item.times(horizon):
            if item.kind == "dosing" and week >= horizon:
                continue
            due.setdefault(round(week * 7) + 1, set()).add(item.kind)
    rows = [
        {
            "VISIT": f"day {day}",
            "VISITDY": day,
            "TVSTRL": f"Week {(day - 1) / 7:g} after randomization (day {day}): "
            + ", ".join(sorted(kinds)),
        }
        for day, kinds in sorted(due.items())
    ]
    for item in protocol.schedule:
        if item.anchor != "end-of-treatment":
            continue
        for k, week in enumerate(item.times(FOLLOW_UP_WEEKS), start=1):
            rule = f"{week:g} weeks after the end of treatment: {item.kind}"
            rows.append({"VISIT": f"{item.name} {k}", "VISITDY": math.nan, "TVSTRL": rule})
    return rows


def build_tv(source: StudySource) -> Dataset:
    """TV: the planned visits (the same for every arm, so ``ARMCD`` is null)."""
    window = source.protocol.treatment.window_days
    frame = pd.DataFrame(_planned_visits(source.protocol), columns=["VISIT", "VISITDY", "TVSTRL"])
    frame["VISITNUM"] = visit_number(frame["VISIT"])
    frame["TVENRL"] = f"Within the visit window (by default {window} days either side)"
    frame = frame.sort_values("VISITNUM", kind="mergesort")
    frame = frame.assign(STUDYID=str(source.study["code"]), DOMAIN="TV")
    variables = [
        *_STUDY,
        num("VISITNUM", "Visit Number", "Derived", "as in SV"),
        char("VISIT", "Visit Name", "Protocol"),
        num("VISITDY", "Planned Study Day of Visit", "Protocol"),
        char("ARMCD", "Planned Arm Code", "Protocol"),
        char("TVSTRL", "Visit Start Rule", "Protocol"),
        char("TVENRL", "Visit End Rule", "Protocol"),
    ]
    return assemble(
        "TV",
        "Trial Visits",
        _KLASS,
        "One record per planned Visit per Arm",
        variables,
        frame,
        ("STUDYID", "VISITNUM", "ARMCD"),
    )


def build_ti(source: StudySource) -> Dataset:
    """TI: the protocol's inclusion and exclusion criteria (``IETESTCD`` ``INCLnn`` /
    ``EXCLnn`` in protocol order; ``IETEST`` the text, cut at 200 characters)."""
    rows = []
    counts = {"inclusion": 0, "exclusion": 0}
    for criterion in source.protocol.eligibility:
        counts[criterion.kind] += 1
        prefix = "INCL" if criterion.kind == "inclusion" else "EXCL"
        text = " ".join(criterion.text.split())
        rows.append(
            {
                "IETESTCD": f"{prefix}{counts[criterion.kind]:02d}",
                "IETEST": text[:200],
                "IECAT": criterion.kind.upper(),
                "TIRL": criterion.id,
            }
        )
    frame = pd.DataFrame(rows, columns=["IETESTCD", "IETEST", "IECAT", "TIRL"])
    frame["TIVERS"] = str(source.study.get("protocol_version") or source.protocol.study.version)
    frame = frame.assign(STUDYID=str(source.study["code"]), DOMAIN="TI")
    variables = [
        *_STUDY,
        char(
            "IETESTCD",
            "Incl/Excl Criterion Short Name",
            "Derived",
            "INCL/EXCL + number in protocol order",
        ),
        char("IETEST", "Inclusion/Exclusion Criterion", "Protocol", "criterion text (200 max)"),
        char("IECAT", "Inclusion/Exclusion Category", "Protocol", None, ("INCLUSION", "EXCLUSION")),
        char("TIRL", "Inclusion/Exclusion Criterion Rule", "Protocol", "the criterion's id"),
        char("TIVERS", "Protocol Criteria Versions", "Protocol"),
    ]
    return assemble(
        "TI",
        "Trial Inclusion/Exclusion Criteria",
        _KLASS,
        "One record per I/E criterion",
        variables,
        frame,
        ("STUDYID", "IETESTCD"),
    )


def _split(text: str, width: int = 200) -> list[str]:
    """``text`` in pieces of at most ``width`` characters, cut at spaces where possible."""
    pieces, rest = [], " ".join(text.split())
    while len(rest) > width:
        cut = rest.rfind(" ", 0, width + 1)
        cut = width if cut <= 0 else cut
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return [*pieces, rest]


def _ts_parameters(source: StudySource) -> list[tuple[str, str, str]]:
    """``(TSPARMCD, TSPARM, TSVAL)`` rows in order."""
    p = source.protocol
    rows = [("TITLE", "Trial Title", str(source.study.get("title") or p.study.title))]
    phase = {
        "I": "PHASE I TRIAL",
        "II": "PHASE II TRIAL",
        "III": "PHASE III TRIAL",
        "IV": "PHASE IV TRIAL",
    }.get(p.study.phase.strip().upper())
    if phase:
        rows.append(("TPHASE", "Trial Phase Classification", phase))
    rows += [
        ("STYPE", "Study Type", "INTERVENTIONAL"),
        ("INTMODEL", "Intervention Model", "PARALLEL"),
        ("INTTYPE", "Intervention Type", "DRUG"),
        ("RANDOM", "Trial is Randomized", "Y"),
        ("ADDON", "Added on to Existing Treatments", "N"),
        ("HLTSUBJI", "Healthy Subject Indicator", "N"),
        ("TTYPE", "Trial Type", "EFFICACY"),
        ("TTYPE", "Trial Type", "SAFETY"),
        ("TTYPE", "Trial Type", "PHARMACOKINETIC"),
        ("NARMS", "Planned Number of Arms", str(len(p.arms))),
        ("PLANSUB", "Planned Number of Subjects", str(p.assumptions.sample_size)),
        ("TRT", "Investigational Therapy or Treatment", p.test_arm.name),
        ("COMPTRT", "Comparative Treatment Name", p.reference_arm.name),
        ("ROUTE", "Route of Administration", "INTRAVENOUS"),
    ]
    for regimen in p.regimens:
        rows.append(("DOSE", "Dose per Administration", f"{regimen.dose_mg:g}"))
        rows.append(("DOSU", "Dose Units", "mg"))
        rows.append(("DOSFRQ", "Dosing Frequency", regimen.code))
    if p.study.indication:
        rows.append(("INDIC", "Trial Disease/Condition Indication", p.study.indication))
    rows.append(("OBJPRIM", "Trial Primary Objective", p.primary_endpoint.name))
    kinds = {"primary": "OUTMSPRI", "secondary": "OUTMSSEC", "exploratory": "OUTMSEXP"}
    names = {
        "OUTMSPRI": "Primary Outcome Measure",
        "OUTMSSEC": "Secondary Outcome Measure",
        "OUTMSEXP": "Exploratory Outcome Measure",
    }
    for endpoint in p.endpoints:
        code = kinds.get(endpoint.role)
        if code is not None:
            rows.append((code, names[code], endpoint.name))
    return rows


def build_ts(source: StudySource) -> Dataset:
    """TS: the trial summary parameters from the protocol (title, phase, design, arms and
    treatments, doses, indication, objective and outcome measures), the planned and actual
    numbers of subjects, the study start date (the first informed consent), the data cut-off
    and the SDTM versions. A value over 200 characters continues in ``TSVAL1``, ..."""
    rows = _ts_parameters(source)
    consent = source.frame("subject")
    if "consent_date" in consent.columns and consent["consent_date"].notna().any():
        first = to_day(consent["consent_date"]).min()
        rows.append(("SSTDTC", "Study Start Date", first.strftime("%Y-%m-%d")))
    rows.append(("ACTSUB", "Actual Number of Subjects", str(len(source.arms))))
    if source.cutoff is not None:
        rows.append(("DCUTDTC", "Data Cutoff Date", source.cutoff.isoformat()))
    rows += [("SDTMVER", "SDTM Version", "2.0"), ("SDTIGVER", "SDTM IG Version", "3.4")]
    records = []
    seen: dict[str, int] = {}
    for code, name, value in rows:
        seen[code] = seen.get(code, 0) + 1
        record: dict[str, Any] = {"TSSEQ": seen[code], "TSPARMCD": code, "TSPARM": name}
        for i, piece in enumerate(_split(value)):
            record["TSVAL" if i == 0 else f"TSVAL{i}"] = piece
        records.append(record)
    frame = pd.DataFrame(records).assign(STUDYID=str(source.study["code"]), DOMAIN="TS")
    extra = sorted(
        (c for c in frame.columns if c.startswith("TSVAL") and c != "TSVAL"),
        key=lambda c: int(c[5:]),
    )
    variables = [
        *_STUDY,
        num("TSSEQ", "Sequence Number", "Derived", "1..n within TSPARMCD"),
        char("TSPARMCD", "Trial Summary Parameter Short Name", "Assigned"),
        char("TSPARM", "Trial Summary Parameter", "Assigned"),
        char("TSVAL", "Parameter Value", "Protocol"),
        *(char(c, f"Parameter Value {c[5:]}", "Protocol") for c in extra),
        char("TSVALNF", "Parameter Null Flavor", "Assigned"),
    ]
    return assemble(
        "TS",
        "Trial Summary",
        _KLASS,
        "One record per trial summary parameter value",
        variables,
        frame,
        ("STUDYID", "TSPARMCD", "TSSEQ"),
    )
