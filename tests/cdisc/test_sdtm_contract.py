"""Every domain of the hand-made source satisfies the Dataset contract and the SDTM limits."""

from __future__ import annotations

import dataclasses

from sdtm_case import case
from sdtm_contract import check_all

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import StudySource


def test_every_domain_of_the_hand_made_source() -> None:
    check_all(build_sdtm(case()))


def test_a_study_with_no_records_yet_gives_empty_domains() -> None:
    source = case()
    empty = StudySource(study=source.study, protocol=source.protocol, tables={}, arms={})
    datasets = build_sdtm(empty)
    check_all(datasets)
    sizes = {d.name: len(d.frame) for d in datasets}
    assert all(sizes[name] == 0 for name in list(sizes)[:14])
    assert sizes["TA"] == 6 and sizes["TI"] == 14  # the design comes from the protocol


def test_build_does_not_change_the_source() -> None:
    source = case()
    before = {name: [dict(r) for r in rows] for name, rows in source.tables.items()}
    build_sdtm(source)
    assert {name: list(rows) for name, rows in source.tables.items()} == before
    assert dataclasses.replace(source).arms == {1: "BIO", 3: "REF"}
