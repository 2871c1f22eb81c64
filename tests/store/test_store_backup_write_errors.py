"""A backup that cannot be written (disk full, say) is a clear error and leaves no file."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from equitrial.errors import InvalidInputError
from equitrial.store import backup, backup_write


def test_a_full_disk_gives_a_clear_error_and_no_file(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(descriptor: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_write.os, "fsync", full)
    with pytest.raises(InvalidInputError, match="No space left on device") as refused:
        backup.backup(db_url, tmp_path / "trial.backup")
    assert refused.value.field == "dest_path"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such directory"):
        backup.backup(db_url, tmp_path / "nowhere" / "trial.backup")
