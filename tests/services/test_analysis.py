"""``equitrial analyze`` (services.analysis): the analysis plan on a data cut of a study stored
through the services (a small virtual trial, SQLite as the demo always is).

What is checked here is the use case, not the statistics (tests/analysis checks every number
against R): the files of the contract, the primary analysis' counts against the database itself,
byte-identical results for the same cut, the reproducibility statement (content hash and audit
chain head) following the data, the open report's blinding, the audit row and the all-or-nothing
write, and the report in a real browser.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from equitrial.demo import DemoSummary, run_demo
from equitrial.errors import InvalidInputError
from equitrial.protocol import load_protocol
from equitrial.services import forms
from equitrial.services.analysis import analyze
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import authenticate
from equitrial.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_FILE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PROTOCOL = load_protocol(PROTOCOL_FILE)
PRIMARY_KEYS = {
    "arm_n",
    "responders",
    "scale",
    "estimate",
    "lower",
    "upper",
    "level",
    "margin",
    "decision",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoSummary, str]:
    out = tmp_path_factory.mktemp("analysis-demo")
    summary = run_demo(
        out, patients=16, seed=21, demo_password="a river runs deep 7", protocol=PROTOCOL_FILE
    )
    return summary, os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"]


def _results(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / "results.json").read_text("utf-8"))
    return loaded


def test_the_demo_writes_both_analyses_as_the_contract_says(demo: tuple[DemoSummary, str]) -> None:
    out = demo[0].database.parent
    for name in ("interim", "final"):
        folder = out / name
        assert (folder / "report.html").read_text("utf-8").startswith("<!DOCTYPE html>")
        assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
        for domain in ("dm", "ae", "rs"):
            assert (folder / "sdtm" / f"{domain}.xpt").is_file()
        for dataset in ("adsl", "adrs", "adtte"):
            assert (folder / "adam" / f"{dataset}.xpt").is_file()
        primary = _results(folder)["primary"]
        assert PRIMARY_KEYS <= primary.keys()
        assert set(primary["arm_n"]) == set(primary["responders"]) == {"BIO", "REF"}
        assert primary["decision"] in {"equivalent", "not equivalent"}
        assert primary["margin"] == {"lower": 0.73, "upper": 1.36} and primary["level"] == 0.9
    interim = _results(out / "interim")
    assert interim["kind"] == "interim" and interim["interim"]["decision"] == "continue"
    assert interim["reproducibility"]["data_cut"] is not None
    assert _results(out / "final")["reproducibility"]["data_cut"] is None


def test_primary_counts_are_the_randomized_subjects_of_each_arm(
    demo: tuple[DemoSummary, str],
) -> None:
    engine = make_engine(f"sqlite:///{demo[0].database}")
    try:
        with engine.connect() as connection:
            arms = dict(
                connection.execute(
                    sa.text(
                        "SELECT arm_code, count(*) FROM randomization_schedule "
                        "WHERE subject_id IS NOT NULL GROUP BY arm_code"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    primary = _results(demo[0].database.parent / "final")["primary"]
    assert primary["arm_n"] == arms
    engine = make_engine(f"sqlite:///{demo[0].database}")
    try:
        with engine.connect() as connection:
            first = connection.execute(sa.text("SELECT min(consent_date) FROM subject")).scalar()
    finally:
        engine.dispose()
    interim = _results(demo[0].database.parent / "interim")["reproducibility"]
    cut = dt.date.fromisoformat(str(first)) + dt.timedelta(days=183)  # 6 x 30.4375, rounded
    assert interim["data_cut"] == cut.isoformat()
    assert all(0 <= primary["responders"][a] <= arms[a] for a in arms)


def _copy(summary: DemoSummary, tmp_path: Path) -> Path:
    target = tmp_path / "study.db"
    shutil.copy(summary.database, target)
    return target


def test_the_same_cut_gives_byte_identical_results_and_data_changes_show(
    demo: tuple[DemoSummary, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUITRIAL_AUDIT_ANCHOR_FILE", demo[1])
    engine = make_engine(f"sqlite:///{_copy(demo[0], tmp_path)}")
    try:
        # after the demo's own two analyses and their audit rows, and without the PDF
        second = analyze(engine, tmp_path / "b", pdf=False)
        one = (tmp_path / "b" / "results.json").read_bytes()
        assert one == (demo[0].database.parent / "final" / "results.json").read_bytes()
        first = second
        head = first.results["reproducibility"]["audit_chain_head"]
        with engine.connect() as connection:
            rows = (
                connection.execute(
                    sa.text("SELECT action FROM audit_trail WHERE id > :id ORDER BY id"),
                    {"id": head["row"]},
                )
                .scalars()
                .all()
            )
        assert rows and set(rows) <= {"analyze"}  # the demo's two analyses and this one
        with engine.connect() as connection:
            sample, value, site = connection.execute(
                sa.text(
                    "SELECT p.id, p.concentration, s.code FROM pk_sample p "
                    "JOIN subject j ON j.id = p.subject_id JOIN site s ON s.id = j.site_id "
                    "WHERE p.concentration IS NOT NULL ORDER BY p.id LIMIT 1"
                )
            ).one()
        nurse = authenticate(engine, f"nurse-{site.lower()}", "a river runs deep 7")
        forms.update_form(
            engine,
            nurse,
            "pk_sample",
            sample,
            {"concentration": value + 1.0},
            reason="transcription error, corrected from the lab report",
        )
        third = analyze(engine, tmp_path / "c", pdf=False)
    finally:
        engine.dispose()
    before, after = second.results["reproducibility"], third.results["reproducibility"]
    assert after["content_hash"] != before["content_hash"]
    assert after["audit_chain_head"]["row"] > before["audit_chain_head"]["row"]
    assert verify_audit_trail(make_engine(f"sqlite:///{tmp_path / 'study.db'}")).ok


def test_the_open_report_names_no_arm_and_the_closed_one_does(
    demo: tuple[DemoSummary, str],
) -> None:
    folder = demo[0].database.parent / "interim"
    opened = (folder / "open-report.html").read_text("utf-8")
    closed = (folder / "report.html").read_text("utf-8")
    for arm in PROTOCOL.arms:
        assert arm.name not in opened and f"{arm.code}" not in opened.replace("BRAF", "")
        assert arm.name in closed
    assert "Open report" in opened
    # the data's hash covers the allocation (searchable for the arms): closed report only
    content_hash = _results(folder)["reproducibility"]["content_hash"]
    assert content_hash in closed and content_hash not in opened
    assert content_hash.removeprefix("sha256:") not in opened


def test_a_directory_with_other_files_is_refused_and_left_as_it_was(
    demo: tuple[DemoSummary, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUITRIAL_AUDIT_ANCHOR_FILE", demo[1])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    engine = make_engine(f"sqlite:///{_copy(demo[0], tmp_path)}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT count(*) FROM audit_trail")).scalar()
        with pytest.raises(InvalidInputError) as caught:
            analyze(engine, out, pdf=False)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM audit_trail")).scalar() == rows
    finally:
        engine.dispose()
    assert caught.value.field == "out"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_future_cut_a_symbolic_link_and_an_empty_cut_are_refused(
    demo: tuple[DemoSummary, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUITRIAL_AUDIT_ANCHOR_FILE", demo[1])
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    engine = make_engine(f"sqlite:///{_copy(demo[0], tmp_path)}")
    try:
        future = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
        cases = [
            ({"cutoff": future}, tmp_path / "a", "cut"),
            ({}, link, "out"),
            ({"cutoff": dt.date(2000, 1, 1)}, tmp_path / "b", "cut"),
        ]
        for kwargs, out, field in cases:
            with pytest.raises(InvalidInputError) as caught:
                analyze(engine, out, pdf=False, **kwargs)
            assert caught.value.field == field
        with engine.connect() as connection:
            actions = connection.execute(
                sa.text("SELECT count(*) FROM audit_trail WHERE action = 'analyze'")
            ).scalar()
    finally:
        engine.dispose()
    assert actions == 2  # the demo's two; none for the refusals
    assert not (tmp_path / "nowhere").exists()


def test_the_report_opens_in_chromium_with_every_figure(
    demo: tuple[DemoSummary, str], tmp_path: Path
) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    report = demo[0].database.parent / "final" / "report.html"
    errors: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri())
            images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
            headings = page.evaluate(
                "Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
            )
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            chromium.close()
    print(f"screenshot: {shot}")
    assert not errors
    assert len(images) >= 4 and all(width > 0 for width in images)  # CONSORT, KM, forests...
    for number in ("14.1", "14.2", "14.3", "14.4", "14.5", "14.6", "14.7"):
        assert any(number in h for h in headings), number


def test_swimmer_lanes_of_the_responders_by_hand() -> None:
    import pandas as pd

    from equitrial.services._analysis_report import swimmer_lanes

    day = pd.Timestamp
    adsl = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C"],
            "SUBJID": ["a", "b", "c"],
            "TRT01P": ["X", "Y", "X"],
            "RANDDT": [day("2024-01-01")] * 3,
            "TRTEDT": [day("2024-07-01"), day("2024-04-01"), day("2024-03-01")],
            "LSTALVDT": [day("2024-10-01"), day("2024-09-01"), day("2024-12-01")],
            "EOTSTT": ["ONGOING", "DISCONTINUED", "DISCONTINUED"],
            "DTHDT": [None, day("2024-09-01"), None],
        }
    )
    adrs = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "B", "B", "C", "C"],
            "PARAMCD": ["OVR", "OVR", "BOR", "OVR", "BOR", "OVR", "BOR"],
            "AVALC": ["SD", "PR", "PR", "CR", "CR", "SD", "SD"],
            "ADT": [
                day("2024-02-01"),
                day("2024-03-01"),
                None,
                day("2024-02-15"),
                None,
                day("2024-02-01"),
                None,
            ],
        }
    )
    adtte = pd.DataFrame(
        {"USUBJID": ["A", "B"], "PARAMCD": ["PFS", "PFS"], "AVAL": [274.0, 91.0], "CNSR": [1, 0]}
    )
    lanes = swimmer_lanes({"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte})
    assert [lane.subject for lane in lanes] == ["a", "b"]  # C never responded
    a, b = lanes
    month = 30.4375
    assert a.ongoing and a.end == pytest.approx(274 / month, rel=1e-12)  # to the last contact
    assert a.response == pytest.approx(60 / month, rel=1e-12) and a.progression is None
    assert not b.ongoing and b.end == pytest.approx(91 / month, rel=1e-12)
    assert b.response == pytest.approx(45 / month, rel=1e-12)
    assert b.progression == pytest.approx(91 / month, rel=1e-12)
    assert b.death == pytest.approx(244 / month, rel=1e-12)
