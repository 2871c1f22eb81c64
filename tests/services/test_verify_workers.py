"""``verify_audit_trail``'s worker processes: a bad count is refused; a lost worker is no
crash (the check runs again in the calling process). SQLite and PostgreSQL (``trial``)."""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool

import pytest

from equitrial.errors import InvalidInputError
from equitrial.services import audit as audit_service


def test_fewer_than_one_worker_is_refused_naming_the_field(trial):
    with pytest.raises(InvalidInputError, match="workers must be at least 1") as refused:
        audit_service.verify_audit_trail(trial.engine, workers=0)
    assert refused.value.field == "workers"


def test_a_lost_worker_process_means_a_check_in_one_process_not_a_crash(trial, monkeypatch, caplog):
    real = audit_service.check_integrity
    calls = []

    def pool_breaks(session, *, workers):
        calls.append(workers)
        if workers != 1:
            raise BrokenProcessPool("a child process terminated abruptly")
        return real(session, workers=workers)

    monkeypatch.setattr(audit_service, "check_integrity", pool_breaks)
    with caplog.at_level(logging.WARNING, logger=audit_service.__name__):
        report = audit_service.verify_audit_trail(trial.engine, workers=2)
    assert calls == [2, 1]
    assert report.ok and report.findings == ()
    assert "worker process lost" in caplog.text
    monkeypatch.setattr(audit_service, "check_integrity", real)
    alone = audit_service.verify_audit_trail(trial.engine, workers=1)
    assert report.chain == alone.chain and report.chain.rows > 0
