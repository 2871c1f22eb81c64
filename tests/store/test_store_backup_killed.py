"""A backup killed while it writes leaves no file that looks complete, and what is left is refused.

``equitrial backup`` runs as a subprocess on a database with enough rows (a long
password-guessing run in the audit trail) to take a few seconds; it is SIGKILLed once its
output has grown past 64 KiB, so no clean-up code can run.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from backup_helpers import STUDY, fill_audit_trail, populated, target_state

from equitrial.errors import InvalidInputError
from equitrial.store import backup


def _kill_while_writing(url: str, dest: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EQUITRIAL_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "equitrial", "backup", str(dest)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(p.stat().st_size > 64 * 1024 for p in dest.parent.iterdir()):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        process.wait()
    return process


def test_a_killed_backup_leaves_no_complete_looking_file_and_its_remains_are_refused(
    db_url: str, another_empty_db_url: str, tmp_path: Path
) -> None:
    populated(db_url)
    fill_audit_trail(db_url, 60_000)
    out = tmp_path / "backups"
    out.mkdir()
    dest = out / "trial.backup"
    process = _kill_while_writing(db_url, dest)
    assert process.returncode == -signal.SIGKILL, "the backup finished before it was killed"

    assert not dest.exists()  # nothing under the destination's name
    (partial,) = out.iterdir()
    assert partial.name.startswith(".trial.backup.") and partial.name.endswith(".partial")
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    renamed = out / "renamed.backup"  # an operator who takes the remains for a backup
    renamed.write_bytes(partial.read_bytes())
    before = target_state(another_empty_db_url)
    for remains in (partial, renamed):
        with pytest.raises(InvalidInputError, match="truncated") as refused:
            backup.restore(remains, another_empty_db_url, study=STUDY)
        assert str(remains) in str(refused.value)
    assert target_state(another_empty_db_url) == before
