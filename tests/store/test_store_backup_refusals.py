"""Restore refuses a backup that lies, BEFORE touching the target, and leaves the target as it was.

One signed backup per backend (module fixture) is cut, edited, re-signed with another key, or
replaced by junk, as an attacker or a broken copy would; each version must be refused with a
clear error naming the file, and the target (a new SQLite file that must stay absent, or a new
PostgreSQL database that must stay without tables) must be exactly as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from backup_helpers import STUDY, populated, table_contents, target_state
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from db_fixtures import BACKENDS, fresh_database
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import backup, keys, migrate


@dataclass(frozen=True)
class Signed:
    backend: str
    url: str
    path: Path

    def lines(self) -> list[bytes]:
        return self.path.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module", params=BACKENDS)
def signed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Signed]:
    """A populated database of each backend and its signed backup."""
    directory = tmp_path_factory.mktemp("signed")
    with fresh_database(request.param, directory) as url:
        migrate.upgrade(url)
        populated(url)
        path = directory / "trial.backup"
        backup.backup(url, path)
        yield Signed(request.param, url, path)


# --- editing a backup as an attacker would -------------------------------------------------------


def _canonical(document: object) -> bytes:
    return (
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode("utf-8")


def _table_index(lines: list[bytes], table: str) -> int:
    return next(
        i for i, line in enumerate(lines) if line.startswith(b'{"table":"%s"' % table.encode())
    )


def _replace_in(lines: list[bytes], table: str, old: bytes, new: bytes) -> bytes:
    i = _table_index(lines, table)
    assert old in lines[i]
    lines[i] = lines[i].replace(old, new, 1)
    return b"".join(lines)


def _duplicate_row(lines: list[bytes], table: str) -> bytes:
    i = _table_index(lines, table)
    copy = json.loads(lines[i])
    copy["row"]["id"] += 1
    extra = _canonical(copy["row"]).rstrip(b"\n")
    lines.insert(i + 1, b'{"table":"%s","row":%s}\n' % (table.encode(), extra))
    return b"".join(lines)


def _swap_sealed_arms(lines: list[bytes]) -> bytes:
    i = _table_index(lines, "randomization_schedule")
    first, second = json.loads(lines[i]), json.loads(lines[i + 1])
    a, b = first["row"]["arm_code"], second["row"]["arm_code"]
    lines[i] = lines[i].replace(a.encode(), b.encode())
    lines[i + 1] = lines[i + 1].replace(b.encode(), a.encode())
    return b"".join(lines)


def _retrailed(lines: list[bytes]) -> bytes:
    """The lines (manifest included, trailer excluded) with a recomputed, matching trailer."""
    body = b"".join(lines)
    trailer = {
        "end": "equitrial-backup",
        "lines": len(lines),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return body + _canonical(trailer)


def _delete_row_and_fix_manifest(lines: list[bytes], resign: Ed25519PrivateKey | None) -> bytes:
    """Remove the adverse event, update its table's count and digest in the manifest, keep (or
    forge) the signature, and recompute the trailer: only the signature can tell."""
    i = _table_index(lines, "adverse_event")
    del lines[i]
    signed = json.loads(lines[-2])
    for entry in signed["manifest"]["tables"]:
        if entry["name"] == "adverse_event":
            entry["rows"], entry["sha256"] = 0, hashlib.sha256(b"").hexdigest()
    if resign is not None:
        message = b"equitrial-backup-manifest v2\n" + _canonical(signed["manifest"]).rstrip(b"\n")
        signed["signature"] = base64.b64encode(resign.sign(message)).decode()
    lines[-2] = _canonical(signed)
    return _retrailed(lines[:-1])


def _unsigned(lines: list[bytes]) -> bytes:
    signed = json.loads(lines[-2])
    del signed["signature"]
    lines[-2] = _canonical(signed)
    return _retrailed(lines[:-1])


def _sqlite_file(signed: Signed, path: Path) -> bytes:
    if signed.backend == "sqlite":
        return Path(signed.url.removeprefix("sqlite:///")).read_bytes()
    other = path.with_suffix(".db")
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE randomization_schedule (arm_code TEXT)")
    connection.commit()
    connection.close()
    return other.read_bytes()


def _old_unsigned_format(lines: list[bytes]) -> bytes:
    header = {"format": "equitrial-logical-backup", "version": 1, "alembic_revision": "0002"}
    return _canonical(header) + b"".join(lines[1:-2])


def _edit_header(lines: list[bytes]) -> bytes:
    header = json.loads(lines[0])
    header["created_at"] = "2020-01-01T00:00:00.000000+00:00"  # pretend to be an older backup
    lines[0] = _canonical(header)
    return _retrailed(lines[:-1])


def _edit_trailer(lines: list[bytes]) -> bytes:
    trailer = json.loads(lines[-1])
    trailer["lines"] -= 1
    lines[-1] = _canonical(trailer)
    return b"".join(lines)


def _middle(lines: list[bytes]) -> int:
    return len(lines) // 2


Tamper = Callable[[Signed, Path], bytes]

CASES: dict[str, tuple[Tamper, type[Exception], str]] = {
    # truncated at several offsets
    "cut-mid-header": (lambda s, p: s.path.read_bytes()[:20], InvalidInputError, "truncated"),
    "cut-after-header": (lambda s, p: s.lines()[0], InvalidInputError, "no manifest"),
    "cut-mid-row": (
        lambda s, p: b"".join(s.lines()[: _middle(s.lines())]) + s.lines()[_middle(s.lines())][:25],
        InvalidInputError,
        "incomplete.*truncated",
    ),
    "cut-at-a-row-boundary": (
        lambda s, p: b"".join(s.lines()[: _middle(s.lines())]),
        InvalidInputError,
        "no manifest.*truncated",
    ),
    "cut-just-before-the-manifest": (
        lambda s, p: b"".join(s.lines()[:-2]),
        InvalidInputError,
        "no manifest",
    ),
    "cut-mid-manifest": (
        lambda s, p: b"".join(s.lines()[:-2]) + s.lines()[-2][:100],
        InvalidInputError,
        "incomplete",
    ),
    "cut-just-before-the-trailer": (
        lambda s, p: b"".join(s.lines()[:-1]),
        InvalidInputError,
        "no trailer.*truncated",
    ),
    "cut-mid-trailer": (
        lambda s, p: b"".join(s.lines()[:-1]) + s.lines()[-1][:12],
        InvalidInputError,
        "incomplete",
    ),
    "cut-the-last-newline": (
        lambda s, p: s.path.read_bytes()[:-1],
        InvalidInputError,
        "incomplete",
    ),
    # altered, deleted, added
    "one-byte-altered-in-an-adverse-event": (
        lambda s, p: _replace_in(s.lines(), "adverse_event", b'"Pruritus"', b'"Prurites"'),
        InvalidInputError,
        "table adverse_event",
    ),
    "one-digit-altered-in-a-lab-value": (
        lambda s, p: _replace_in(s.lines(), "lab_result", b"61.25", b"61.35"),
        InvalidInputError,
        "table lab_result",
    ),
    "a-row-deleted": (
        lambda s, p: b"".join(
            x for x in s.lines() if not x.startswith(b'{"table":"adverse_event"')
        ),
        InvalidInputError,
        "table adverse_event: 0 rows",
    ),
    "a-row-added": (
        lambda s, p: _duplicate_row(s.lines(), "adverse_event"),
        InvalidInputError,
        "table adverse_event: 2 rows",
    ),
    "a-row-reformatted": (
        lambda s, p: _replace_in(s.lines(), "adverse_event", b'"grade":2', b'"grade": 2'),
        InvalidInputError,
        "canonical form",
    ),
    "sealed-arms-swapped-between-slots": (
        lambda s, p: _swap_sealed_arms(s.lines()),
        InvalidInputError,
        "arm_code.*does not open",
    ),
    "non-utf8-byte-in-a-row": (
        lambda s, p: _replace_in(s.lines(), "site", "ü".encode(), b"\xff\xfe"),
        InvalidInputError,
        "not UTF-8",
    ),
    # manifest and signature
    "manifest-edited-signature-left": (
        lambda s, p: _delete_row_and_fix_manifest(s.lines(), None),
        InvalidInputError,
        "signature does not verify",
    ),
    "manifest-re-signed-by-another-key-under-ours-id": (
        lambda s, p: _delete_row_and_fix_manifest(s.lines(), Ed25519PrivateKey.generate()),
        InvalidInputError,
        "signature does not verify",
    ),
    "header-edited": (
        lambda s, p: _edit_header(s.lines()),
        InvalidInputError,
        "header differs from the signed manifest",
    ),
    "trailer-edited": (
        lambda s, p: _edit_trailer(s.lines()),
        InvalidInputError,
        "trailer does not match",
    ),
    "a-row-after-the-trailer": (
        lambda s, p: s.path.read_bytes() + s.lines()[1],
        InvalidInputError,
        "after the trailer",
    ),
    "signature-removed": (lambda s, p: _unsigned(s.lines()), InvalidInputError, "not signed"),
    # not a backup at all
    "junk": (
        lambda s, p: b"hello, this is not a backup\n" + bytes(range(256)) * 4,
        InvalidInputError,
        "not an equitrial backup",
    ),
    "empty-file": (lambda s, p: b"", InvalidInputError, "empty file"),
    "deeply-nested-json": (lambda s, p: b"[" * 100_000 + b"\n", InvalidInputError, "not a JSON"),
    "non-utf8-file": (
        lambda s, p: b"\xff\xfe\x00\x81 latin-1 \xe9t\xe9\n\x80\x81\n",
        InvalidInputError,
        "not UTF-8",
    ),
    "a-sqlite-database-file": (_sqlite_file, InvalidInputError, "SQLite database file"),
    "an-unsigned-backup-of-the-earlier-format": (
        lambda s, p: _old_unsigned_format(s.lines()),
        InvalidInputError,
        "unsigned backup",
    ),
}


def _refused(
    src: Path, target_url: str, error: type[Exception], pattern: str, study: str = STUDY
) -> None:
    before = target_state(target_url)
    with pytest.raises(error, match=pattern) as raised:
        backup.restore(src, target_url, study=study)
    assert str(src) in str(raised.value)
    assert target_state(target_url) == before  # not migrated, not created, bytes unchanged


@pytest.fixture
def target_url(signed: Signed, tmp_path: Path) -> Iterator[str]:
    """A new database of the backup's backend (a SQLite file that does not exist yet)."""
    with fresh_database(signed.backend, tmp_path) as url:
        yield url


@pytest.mark.parametrize("case", list(CASES))
def test_a_backup_that_lies_is_refused_and_the_target_is_left_as_it_was(
    case: str, signed: Signed, target_url: str, tmp_path: Path
) -> None:
    tamper, error, pattern = CASES[case]
    src = tmp_path / f"{case}.backup"
    src.write_bytes(tamper(signed, src))
    _refused(src, target_url, error, pattern)
    if target_url.startswith("sqlite"):
        assert not Path(target_url.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize(
    "case",
    ["cut-mid-row", "one-byte-altered-in-an-adverse-event", "manifest-edited-signature-left"],
)
def test_refused_across_databases_too(case: str, signed: Signed, tmp_path: Path) -> None:
    other = next(b for b in BACKENDS if b != signed.backend)
    tamper, error, pattern = CASES[case]
    src = tmp_path / f"{case}.backup"
    src.write_bytes(tamper(signed, src))
    with fresh_database(other, tmp_path) as url:
        _refused(src, url, error, pattern)


def test_a_backup_signed_with_another_key_is_refused(
    signed: Signed, target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setenv("EQUITRIAL_AUDIT_KEY_FILE", str(keys.create_key(tmp_path / "other.key")))
        src = tmp_path / "other-installation.backup"
        backup.backup(signed.url, src)
    _refused(src, target_url, InvalidInputError, "not with this installation's key")


def test_a_backup_of_another_study_is_refused(signed: Signed, target_url: str) -> None:
    _refused(signed.path, target_url, ConflictError, "not of study 'EQT-OTHER-1'", "EQT-OTHER-1")


def test_an_untouched_backup_restores(signed: Signed, target_url: str) -> None:
    """The control of the cases above: the same file, unedited, restores."""
    assert backup.restore(signed.path, target_url, study=STUDY).studies == (STUDY,)
    assert table_contents(target_url) == table_contents(signed.url)


def test_a_migrated_empty_target_is_left_byte_for_byte(
    signed: Signed, target_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(target_url)
    for case in ("cut-just-before-the-trailer", "one-digit-altered-in-a-lab-value", "junk"):
        tamper, error, pattern = CASES[case]
        src = tmp_path / f"{case}.backup"
        src.write_bytes(tamper(signed, src))
        _refused(src, target_url, error, pattern)


def test_a_target_with_data_is_refused_and_unchanged(signed: Signed, tmp_path: Path) -> None:
    copy = tmp_path / "copy.backup"
    shutil.copyfile(signed.path, copy)
    before = table_contents(signed.url)
    with pytest.raises(ConflictError, match="empty database"):
        backup.restore(copy, signed.url, study=STUDY)
    assert table_contents(signed.url) == before
