"""Writing a signed backup (format: :mod:`equitrial.store.backup_format`).

The database is read in ONE consistent snapshot: on PostgreSQL a ``REPEATABLE READ READ ONLY``
transaction, on SQLite one deferred read transaction (under WAL, writers carry on meanwhile and
the reader keeps its snapshot). Rows are streamed to a temporary file in the destination's
directory, created with mode 0600 whatever the umask; the file is synced and linked into place
only when complete (the trailer written), so a backup killed midway leaves at most a
``.partial`` file that a restore refuses, never a file under the destination's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, select, text

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import backup_format as fmt
from equitrial.store import keys, migrate
from equitrial.store.db import make_engine, transaction
from equitrial.store.models import utcnow

__all__ = ["write_backup"]

_BATCH = 1000


class _Out:
    """The temporary file: counts lines and hashes every byte written (for the trailer)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.lines = 0
        self.sha = hashlib.sha256()

    def write(self, line: bytes) -> None:
        self.handle.write(line)
        self.sha.update(line)
        self.lines += 1


def _check_destination(dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        raise InvalidInputError(
            f"{dest}: exists already; a backup never overwrites a file", field="dest_path"
        )
    if not dest.parent.is_dir():
        raise InvalidInputError(f"{dest.parent}: no such directory", field="dest_path")


@contextlib.contextmanager
def _private_file(dest: Path) -> Iterator[IO[bytes]]:
    """A new file of mode 0600 beside ``dest``, linked to ``dest`` if the block succeeds."""
    partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(descriptor, 0o600)  # the umask may only have removed bits; set them exactly
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _link_into_place(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _link_into_place(partial: Path, dest: Path) -> None:
    exists = InvalidInputError(
        f"{dest}: exists already; a backup never overwrites a file", field="dest_path"
    )
    try:
        os.link(partial, dest)  # fails if dest appeared meanwhile: never overwrite
    except FileExistsError:
        raise exists from None
    except OSError:  # a file system without hard links: check, then rename
        if dest.exists():
            raise exists from None
        os.rename(partial, dest)
    directory = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_backup(url: Any, dest: Path) -> fmt.BackupSummary:
    """Write a signed backup of the database at ``url`` (:func:`equitrial.store.backup.backup`)."""
    _check_destination(dest)
    key = keys.load_key()
    engine = make_engine(url)
    try:
        revision = migrate.current_revision(engine)
        head = migrate.head_revision()
        if revision != head:
            raise ConflictError(
                f"the database is at schema revision {revision or 'none'}, not {head}: run "
                "`equitrial db upgrade` before a backup",
                field="url",
            )
        with transaction(engine, read_only=True) as session, _private_file(dest) as handle:
            if engine.dialect.name == "postgresql":
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            manifest = _dump(session.connection(), _Out(handle), key, revision or "")
    except OSError as error:  # disk full, permission denied, ...: no file is left
        raise InvalidInputError(
            f"{dest}: the backup cannot be written ({error.strerror or error})", field="dest_path"
        ) from None
    finally:
        engine.dispose()
    return fmt.BackupSummary.from_manifest(manifest)


def _dump(connection: Connection, out: _Out, key: keys.SigningKey, revision: str) -> dict[str, Any]:
    header = {
        "format": fmt.FORMAT,
        "version": fmt.VERSION,
        "created_at": utcnow().isoformat(timespec="microseconds"),
        "alembic_revision": revision,
        "key_id": key.key_id,
        "source": connection.dialect.name,
    }
    out.write((fmt.canonical_json(header) + "\n").encode("utf-8"))
    chain = fmt.ChainCheck()
    studies: list[dict[str, str]] = []
    tables = [
        _dump_table(connection, out, key, table, chain, studies)
        for table in fmt.model_tables().values()
    ]
    manifest = {
        **header,
        "studies": studies,
        "tables": tables,
        "sealed": {name: list(columns) for name, columns in fmt.SEALED_COLUMNS.items()},
        "audit": {"rows": chain.rows, "final_hash": chain.final_hash},
    }
    signature = key.sign(fmt.signed_message(manifest))
    out.write((fmt.canonical_json({"manifest": manifest, "signature": signature}) + "\n").encode())
    trailer = {"end": fmt.FORMAT, "lines": out.lines, "sha256": out.sha.hexdigest()}
    out.handle.write((fmt.canonical_json(trailer) + "\n").encode("utf-8"))
    return manifest


def _dump_table(
    connection: Connection,
    out: _Out,
    key: keys.SigningKey,
    table: Any,
    chain: fmt.ChainCheck,
    studies: list[dict[str, str]],
) -> dict[str, Any]:
    columns = [column.name for column in table.columns]
    digest = fmt.TableDigest(table.name)
    query = select(table).order_by(*table.primary_key.columns)
    for row in connection.execute(query).yield_per(_BATCH):
        values = row._asdict()
        if table.name == "audit_trail":
            problem = chain.add(values)
            if problem is not None:
                raise ConflictError(
                    f"the audit trail is broken ({problem}): a signed backup would vouch for "
                    "it; run `equitrial audit verify`",
                    field="audit_trail",
                )
        elif table.name == "study":
            studies.append({"code": values["code"], "protocol_version": values["protocol_version"]})
        canonical = fmt.encode_row(table, columns, values, key)
        digest.add(canonical)
        out.write(fmt.row_line(table.name, canonical))
    return {"name": table.name, "columns": columns, "rows": digest.rows, "sha256": digest.sha256}
