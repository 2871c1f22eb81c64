"""The anchors' check on what it must not stumble on, on both databases.

A damaged external anchor log (a line not in ASCII, a field of the wrong type), a chain broken
in its middle, a write committed while the verification runs: each is reported once, in
words, or (the write) not at all; none stops ``audit verify`` with a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from test_integrity_anchors import _rows, _use_cases, _without_protection

from equitrial.services import sites
from equitrial.services.audit import verification_lines, verify_audit_trail
from equitrial.services.auth import system_actor
from equitrial.store import chain, workers
from equitrial.store.anchor_check import Anchor, parse_anchor
from equitrial.store.db import make_engine


def _copy_first_line(log: Path, **changes: object) -> None:
    """Append a copy of the log's first anchor with ``changes`` (as a hand edit would)."""
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    entry.update(changes)
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def test_a_line_not_in_ascii_is_a_finding_not_a_crash(
    engine: Engine, _own_anchor_file: Path
) -> None:
    _use_cases(engine, 2)
    _copy_first_line(_own_anchor_file, signed_at="2026-12-07T21:00:00.000000+00:00\u00e9")
    report = verify_audit_trail(engine)
    (finding,) = report.findings
    assert "line 3 is malformed (signed_at is " in finding and "not ASCII text" in finding
    assert report.anchors.external == 2
    assert verification_lines(report)[-1] == f"  {finding}"


def test_an_anchor_with_a_field_of_the_wrong_type_is_a_finding(
    engine: Engine, _own_anchor_file: Path
) -> None:
    _use_cases(engine, 1)
    rows = json.loads(_own_anchor_file.read_text().splitlines()[-1])["rows"]
    _copy_first_line(_own_anchor_file, rows=float(rows))
    _copy_first_line(_own_anchor_file, rows=True)
    _copy_first_line(_own_anchor_file, signature=None)
    chain = _rows(engine)[0].row_hash
    with _own_anchor_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"chain": chain, "rows": rows}) + "\n")
        out.write(f'{{"chain": "{chain}", "rows": \n')  # cut short
    findings = verify_audit_trail(engine).findings
    assert [f.split(" line ", 1)[1] for f in findings] == [
        f"2 is malformed (rows is {float(rows)}, not an integer)",
        "3 is malformed (rows is True, not an integer)",
        "4 is malformed (signature is None, not text)",
        "5 is malformed (no row_hash)",
        "6 is not JSON",
    ]


def test_parse_anchor_takes_exactly_the_fields_and_their_types() -> None:
    good = {"rows": 5, "row_hash": "ab", "signed_at": "t", "key_id": "k", "signature": "s"}
    assert parse_anchor({**good, "chain": "c"}) == Anchor(5, "ab", "t", "k", "s")
    assert parse_anchor({**good, "rows": "5"}) == "is malformed (rows is '5', not an integer)"
    assert parse_anchor({**good, "key_id": 7}) == "is malformed (key_id is 7, not text)"


def test_a_chain_broken_in_its_middle_is_reported_once(engine: Engine, backend: str) -> None:
    _use_cases(engine, 6)
    _without_protection(engine, backend, "UPDATE audit_trail SET reason = 'forged' WHERE id = 3")
    report = verify_audit_trail(engine)
    assert report.findings == (report.chain.message,)
    assert "audit row 3:" in report.chain.message and "altered" in report.chain.message
    assert report.anchors.signed == 6 and report.anchors.external == 6


def test_rows_removed_from_the_middle_are_reported_by_the_chain_and_once_for_the_anchors(
    engine: Engine, backend: str, _own_anchor_file: Path
) -> None:
    _use_cases(engine, 6)
    heads = [json.loads(line)["rows"] for line in _own_anchor_file.read_text().splitlines()]
    gone = f"{heads[0] + 1}..{heads[3]}"  # the rows of use cases 2 to 4, and their heads
    _without_protection(
        engine, backend, f"DELETE FROM audit_trail WHERE id > {heads[0]} AND id <= {heads[3]}"
    )
    report = verify_audit_trail(engine)
    assert report.findings[0] == report.chain.message
    assert f"rows {gone} are missing" in report.chain.message
    anchors = [f for f in report.findings if "anchor" in f]
    assert anchors == [
        f"6 anchor(s) sign rows {heads[1]}..{heads[3]}, which are missing from the middle of "
        "the audit trail (see the chain's break)"
    ]


def test_a_write_during_the_verification_is_not_taken_for_removed_rows(
    engine: Engine, db_url: str
) -> None:
    """The anchor log is read as it was before the snapshot: an anchor appended by a use case
    that commits while the verification reads is of rows the snapshot does not have."""
    _use_cases(engine, 2)
    writer, written = make_engine(db_url), []

    def write_once(connection, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not written and statement.lstrip().upper().startswith("SELECT"):
            sites.add_site(writer, system_actor(), "LATE", "Late site")
            written.append(statement)

    sa.event.listen(engine, "after_cursor_execute", write_once)
    try:
        report = verify_audit_trail(engine)
    finally:
        sa.event.remove(engine, "after_cursor_execute", write_once)
        writer.dispose()
    assert written and report.ok, report.findings
    assert verify_audit_trail(engine).anchors.external == 3


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_trail SET reason = 'forged' WHERE id = 7",
        "UPDATE audit_trail SET reason = 'forged' WHERE id IN (4, 9)",
        "DELETE FROM audit_trail WHERE id = 6",
        "UPDATE audit_trail SET prev_hash = row_hash WHERE id = 5",
    ],
)
def test_worker_processes_find_what_one_process_finds(
    engine: Engine,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    _own_anchor_file: Path,
    tamper: str,
) -> None:
    """The rows hashed and the signatures checked by two worker processes, three rows at a
    time, at most one chunk in flight: the same findings, the first bad row first."""
    _use_cases(engine, 4)
    _copy_first_line(_own_anchor_file, signature="A" * 88)
    _without_protection(engine, backend, tamper)
    alone = verify_audit_trail(engine, workers=1)
    monkeypatch.setattr(workers, "POOL_MIN", 0)
    monkeypatch.setattr(chain, "CHUNK", 3)
    monkeypatch.setattr(chain, "_IN_FLIGHT", 1)
    pooled = verify_audit_trail(engine, workers=2)
    assert pooled == alone
    assert not alone.chain.ok and alone.findings[0] == alone.chain.message
    assert any("does not verify" in f for f in alone.findings)
