"""LB, PC, IS, QS, SV, TU, TR, RS on the hand-made source (RFSTDTC 2024-01-10, expected
values worked out by hand; see ``sdtm_case``)."""

from __future__ import annotations

import math

import pytest
from sdtm_case import case, rows

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import Dataset

S1 = "STUDY1-S01-0001"


@pytest.fixture(scope="module")
def domains() -> dict[str, Dataset]:
    return {d.name: d for d in build_sdtm(case())}


def test_lb_codes_ranges_baseline_and_order(domains: dict[str, Dataset]) -> None:
    lb = rows(domains["LB"], USUBJID=S1)
    # LBSEQ by LBDTC then LBTESTCD: 01-03 ALT, 01-03 HGB, 01-10 ALT, 01-31 ALT
    got = [(r["LBSEQ"], r["LBTESTCD"], r["LBDTC"], r["LBDY"], r["LBNRIND"]) for r in lb]
    assert got == [
        (1, "ALT", "2024-01-03T08:00", -7, "NORMAL"),  # 30 <= ULN 40
        (2, "HGB", "2024-01-03T08:00", -7, "LOW"),  # 100 < LLN 120
        (3, "ALT", "2024-01-10T08:00", 1, "HIGH"),  # 50 > ULN 40
        (4, "ALT", "2024-01-31T08:00", 22, "HIGH"),
    ]
    # last result on or before the first dose day, per test: ALT of 01-10, HGB of 01-03
    assert [r["LBLOBXFL"] for r in lb] == [None, "Y", "Y", None]
    assert [r["LBBLFL"] for r in lb] == [None, "Y", "Y", None]
    alt = lb[2]
    assert (alt["LBTEST"], alt["LBCAT"], alt["LBORRES"], alt["LBSTRESN"]) == (
        "Alanine Aminotransferase",
        "CHEMISTRY",
        "50",
        50.0,
    )
    assert (alt["LBORNRLO"], alt["LBORNRHI"], alt["LBSTNRHI"]) == (None, "40", 40.0)
    assert (alt["LBTOX"], alt["LBTOXGR"]) == ("Alanine aminotransferase increased", "1")
    assert (alt["VISIT"], alt["VISITNUM"], alt["EPOCH"]) == ("day 1", 1.0, "TREATMENT")
    assert lb[0]["VISIT"] is None and lb[0]["EPOCH"] == "SCREENING"
    assert lb[1]["LBREFID"] == "ACC-4"


def test_pc_blq_and_quantified_samples(domains: dict[str, Dataset]) -> None:
    blq, eoi = rows(domains["PC"], USUBJID=S1)
    # below the LLOQ: "<LLOQ" as text, no numeric result, the LLOQ kept
    assert (blq["PCORRES"], blq["PCSTRESC"], blq["PCLLOQ"]) == ("<LLOQ", "<LLOQ", 0.5)
    assert math.isnan(blq["PCSTRESN"])
    assert (blq["PCTPT"], blq["PCTPTNUM"], blq["PCELTM"]) == ("PRE-DOSE", 0.0, "PT0H")
    assert (eoi["PCORRES"], eoi["PCSTRESN"], eoi["PCSTRESU"]) == ("60.25", 60.25, "ug/mL")
    assert (eoi["PCELTM"], eoi["PCRFTDTC"], eoi["PCDY"]) == ("PT0.5H", "2024-01-10T09:30", 1)
    assert (eoi["PCTESTCD"], eoi["PCTEST"], eoi["PCSPEC"]) == ("PEMBROLI", "Pembrolizumab", "SERUM")
    assert (blq["PCSEQ"], eoi["PCSEQ"]) == (1, 2)


def test_is_one_record_per_tier(domains: dict[str, Dataset]) -> None:
    got = [
        (r["ISSEQ"], r["ISTESTCD"], r["ISORRES"], r["ISSTRESN"], r["ISSTAT"])
        for r in rows(domains["IS"], USUBJID=S1)
    ]
    assert got[:2] == [
        (1, "ADASCRN", "POSITIVE", got[0][3], None),
        (2, "ADACONF", "POSITIVE", got[1][3], None),
    ]
    assert math.isnan(got[0][3])
    assert got[2] == (3, "ADATITER", "8", 8.0, None)
    assert got[3][1:3] == ("ADANAB", None) and got[3][4] == "NOT DONE"
    assert rows(domains["IS"], USUBJID=S1)[0]["ISDY"] == 22


def test_qs_items_in_numeric_order(domains: dict[str, Dataset]) -> None:
    qs = rows(domains["QS"], USUBJID=S1)
    # items stored {"2", "10", "1"}: numeric order 1, 2, 10 (not text order 1, 10, 2)
    got = [(r["QSSEQ"], r["QSTESTCD"], r["QSORRES"], r["QSSTRESN"]) for r in qs]
    assert got == [(1, "EOR0101", "1", 1.0), (2, "EOR0102", "2", 2.0), (3, "EOR0110", "3", 3.0)]
    assert {r["QSCAT"] for r in qs} == {"EORTC QLQ-C30"}
    assert {(r["QSDTC"], r["QSDY"], r["VISIT"]) for r in qs} == {("2024-01-10", 1, "day 1")}


def test_sv_visits_done_only(domains: dict[str, Dataset]) -> None:
    sv = rows(domains["SV"], USUBJID=S1)
    got = [(r["VISITNUM"], r["VISIT"], r["SVSTDTC"], r["SVSTDY"], r["EPOCH"]) for r in sv]
    assert got == [
        (1, "day 1", "2024-01-10", 1, "TREATMENT"),
        (22, "day 22", "2024-01-31", 22, "TREATMENT"),
        (10001, "survival follow-up 1", "2024-03-20", 71, "FOLLOW-UP"),  # 21 + 29 + 20 + 1
    ]


def test_tu_lesions_by_reader(domains: dict[str, Dataset]) -> None:
    tu = rows(domains["TU"], USUBJID=S1)
    got = [
        (r["TUSEQ"], r["TUEVAL"], r["TULNKID"], r["TUSTRESC"], r["TULOC"], r["TUDTC"]) for r in tu
    ]
    # sorted by evaluator ("INDEPENDENT ASSESSOR" < "INVESTIGATOR"), date, link id
    assert got == [
        (1, "INDEPENDENT ASSESSOR", "T1", "TARGET", "LUNG", "2024-01-05"),
        (2, "INVESTIGATOR", "NT1", "NON-TARGET", "LIVER", "2024-01-05"),
        (3, "INVESTIGATOR", "T1", "TARGET", "LUNG", "2024-01-05"),
        (4, "INVESTIGATOR", "N1", "NEW", "SKIN", "2024-02-20"),
    ]
    assert [r["TULOBXFL"] for r in tu] == ["Y", "Y", "Y", None]  # a new lesion is no baseline
    assert {r["TUTESTCD"] for r in tu} == {"TUMIDENT"}
    assert tu[0]["TUDY"] == -5  # 2024-01-05 - 2024-01-10


def test_tr_diameters_states_and_not_done(domains: dict[str, Dataset]) -> None:
    tr = rows(domains["TR"], USUBJID=S1, TREVAL="INVESTIGATOR")
    got = [
        (r["TRLNKID"], r["TRTESTCD"], r["TRORRES"], r["TRORRESU"], r["TRDTC"], r["TRLOBXFL"])
        for r in tr
    ]
    assert got == [
        ("NT1", "TUMSTATE", "PRESENT", None, "2024-01-05", "Y"),
        ("T1", "DIAMETER", "30", "mm", "2024-01-05", "Y"),
        ("N1", "TUMSTATE", "PRESENT", None, "2024-02-20", None),
        ("NT1", "TUMSTATE", "ABSENT", None, "2024-02-20", None),
        ("T1", "DIAMETER", "20", "mm", "2024-02-20", None),
        ("T1", "DIAMETER", None, None, "2024-03-30", None),  # target lesion not assessed
    ]
    assert tr[-1]["TRSTAT"] == "NOT DONE" and tr[-1]["EPOCH"] == "FOLLOW-UP"
    assert tr[4]["TRSTRESN"] == 20.0 and tr[4]["TRDY"] == 42  # 21 + 20 = 41; +1
    (central,) = rows(domains["TR"], USUBJID=S1, TREVAL="INDEPENDENT ASSESSOR")
    assert (central["TRSEQ"], central["TRSTRESN"]) == (1, 32.0)


def test_rs_recist_and_irecist_responses(domains: dict[str, Dataset]) -> None:
    rs = rows(domains["RS"], USUBJID=S1)
    got = [(r["RSSEQ"], r["RSTESTCD"], r["RSCAT"], r["RSORRES"]) for r in rs]
    # the baseline assessment has no response: no record
    assert got == [
        (1, "TRGRESP", "RECIST 1.1", "PR"),
        (2, "NTRGRESP", "RECIST 1.1", "CR"),
        (3, "NEWLIND", "RECIST 1.1", "Y"),
        (4, "OVRLRESP", "RECIST 1.1", "PD"),
        (5, "OVRLRESP", "iRECIST", "iUPD"),
    ]
    assert {(r["RSEVAL"], r["RSDTC"], r["RSDY"]) for r in rs} == {
        ("INVESTIGATOR", "2024-02-20", 42)
    }
