"""The signed logical backup format (version 2): value encoding, canonical rows, the manifest.

A backup is UTF-8 JSON lines, the same for SQLite and PostgreSQL:

1. a header ``{"format": "equitrial-backup", "version": 2, "created_at", "alembic_revision",
   "key_id", "source"}``;
2. one line per row, ``{"table":"<name>","row":{...}}``, table by table in foreign-key order
   (``Base.metadata.sorted_tables``), each table's rows in primary-key order;
3. the manifest and its signature, ``{"manifest":{...},"signature":"<base64 Ed25519>"}``;
4. a trailer ``{"end":"equitrial-backup","lines":N,"sha256":"..."}``: the number of lines
   before it and the SHA-256 of those bytes. A file without it is incomplete.

**Canonical form.** A row is the JSON object of every column of its table, keys sorted, no
whitespace, UTF-8 (``ensure_ascii=False``), each value encoded by its column's type: null;
integers as JSON integers; floats as JSON numbers with Python's shortest round-trip ``repr``;
booleans as ``true``/``false``; dates ``YYYY-MM-DD``; timestamps ISO 8601 in UTC with
microseconds (``2024-01-02T03:04:05.000006+00:00``); text as JSON strings. Every line of the
file is in this form (a reader refuses a line that re-encodes differently), so the bytes of
the file are determined by the data. A table's digest is the SHA-256 of its canonical rows,
each followed by ``\\n``, in primary-key order: exactly the ``row`` parts of its lines.

**Manifest.** Format and version, ``created_at``, the Alembic revision, the source backend,
the signing key's id, the studies (code and protocol version), every table in file order with
its columns, row count and digest, the sealed columns, and the audit chain's row count and
final hash (the last ``audit_trail.row_hash``). The signature is Ed25519 by the installation's
key (:mod:`equitrial.store.keys`) over :data:`SIGNATURE_DOMAIN` followed by the canonical JSON
of the manifest; the table digests make it cover every byte of content.

**Sealed columns.** ``randomization_schedule.arm_code`` is never written in clear: it is
sealed with AES-SIV under a key derived from the signing key (:func:`equitrial.store.keys.seal`),
bound to its table, row id and column. A restore on an installation holding the key unseals it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import Column, Table

from equitrial.errors import InvalidInputError
from equitrial.store import audit, keys
from equitrial.store.models import Base

__all__ = [
    "FORMAT",
    "SEALED_COLUMNS",
    "SIGNATURE_DOMAIN",
    "VERSION",
    "BackupSummary",
    "ChainCheck",
    "TableDigest",
    "canonical_json",
    "column_kind",
    "decode_value",
    "encode_row",
    "encode_value",
    "model_tables",
    "row_line",
    "seal_context",
    "signed_message",
    "table_kinds",
]

FORMAT: Final = "equitrial-backup"
VERSION: Final = 2
SIGNATURE_DOMAIN: Final = b"equitrial-backup-manifest v2\n"
SEALED_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {"randomization_schedule": ("arm_code",)}

Kind = Literal["int", "float", "bool", "str", "date", "datetime"]
_KINDS: Final[Mapping[type, Kind]] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    dt.date: "date",
    dt.datetime: "datetime",
}


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds, as its signed manifest states it.

    Attributes
    ----------
    tables
        Rows per table.
    audit_rows, final_hash
        The audit chain's row count and its last ``row_hash`` (``None`` when empty).
    studies
        Study codes in the backup.
    alembic_revision
        The schema revision of the data.
    key_id
        The signing key's id.
    created_at
        When the backup was taken (ISO 8601, UTC).
    """

    tables: Mapping[str, int]
    audit_rows: int
    final_hash: str | None
    studies: tuple[str, ...]
    alembic_revision: str
    key_id: str
    created_at: str

    @property
    def rows(self) -> int:
        """Rows in all tables."""
        return sum(self.tables.values())

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> BackupSummary:
        """The summary of a (checked) manifest."""
        return cls(
            tables={t["name"]: t["rows"] for t in manifest["tables"]},
            audit_rows=manifest["audit"]["rows"],
            final_hash=manifest["audit"]["final_hash"],
            studies=tuple(s["code"] for s in manifest["studies"]),
            alembic_revision=manifest["alembic_revision"],
            key_id=manifest["key_id"],
            created_at=manifest["created_at"],
        )


def model_tables() -> dict[str, Table]:
    """The tables of the models by name, in foreign-key order."""
    return {table.name: table for table in Base.metadata.sorted_tables}


def canonical_json(document: Any) -> str:
    """Keys sorted, no whitespace, UTF-8 characters kept."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_message(manifest: Mapping[str, Any]) -> bytes:
    """The bytes the manifest's signature covers."""
    return SIGNATURE_DOMAIN + canonical_json(manifest).encode("utf-8")


def column_kind(column: Column[Any]) -> Kind:
    """How a column's values are encoded (from its Python type)."""
    return _KINDS[column.type.python_type]


@functools.cache
def table_kinds(table: Table) -> Mapping[str, Kind]:
    """:func:`column_kind` of every column of ``table``."""
    return {column.name: column_kind(column) for column in table.columns}


def seal_context(table: str, record_id: Any, column: str) -> str:
    """The associated data a sealed value is bound to."""
    return f"{table}\x1f{record_id}\x1f{column}"


def encode_value(kind: Kind, value: Any) -> Any:
    """The canonical JSON value of a database value (see the module notes)."""
    if value is None:
        return None
    if kind == "datetime":
        if value.tzinfo is None:
            raise InvalidInputError(f"naive timestamp {value!r} in the database", field="value")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    if kind == "float" and not isinstance(value, bool):
        return float(value)
    return value


def _type_error(kind: Kind, value: Any) -> InvalidInputError:
    return InvalidInputError(
        f"expected {kind}, got {type(value).__name__} {value!r}", field="value", expected=kind
    )


def decode_value(kind: Kind, value: Any) -> Any:
    """The database value of a canonical JSON value; refuses a value of the wrong type.

    The caller re-encodes the result and compares it with the input to refuse non-canonical
    spellings.
    """
    if value is None:
        return None
    if kind in ("date", "datetime"):
        return _decode_time(kind, value)
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise _type_error(kind, value)
    if kind != "int" and not isinstance(value, {"float": float, "bool": bool, "str": str}[kind]):
        raise _type_error(kind, value)
    return value


def _decode_time(kind: Kind, value: Any) -> dt.date:
    if not isinstance(value, str):
        raise _type_error(kind, value)
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _type_error(kind, value) from None
    if parsed.utcoffset() != dt.timedelta(0):
        raise _type_error(kind, value)
    return parsed


def encode_row(
    table: Table, columns: list[str], values: Mapping[str, Any], key: keys.SigningKey
) -> str:
    """The canonical JSON of one row of ``table`` (sealed columns sealed)."""
    sealed = SEALED_COLUMNS.get(table.name, ())
    kinds = table_kinds(table)
    encoded = {}
    for name in columns:
        value = encode_value(kinds[name], values[name])
        if name in sealed and value is not None:
            value = keys.seal(key, value, seal_context(table.name, values["id"], name))
        encoded[name] = value
    return canonical_json(encoded)


def row_line(table_name: str, canonical_row: str) -> bytes:
    """The file line of one canonical row."""
    return f'{{"table":{json.dumps(table_name)},"row":{canonical_row}}}\n'.encode()


class TableDigest:
    """Row count and SHA-256 of one table's canonical rows, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self._sha = hashlib.sha256()

    def add(self, canonical_row: str) -> None:
        """Count one row and hash it (followed by a newline)."""
        self.rows += 1
        self._sha.update(canonical_row.encode("utf-8") + b"\n")

    @property
    def sha256(self) -> str:
        """Hex digest so far."""
        return self._sha.hexdigest()


class ChainCheck:
    """Follows the audit chain row by row.

    Ids run 1, 2, ...; each ``prev_hash`` is the previous row's hash and each ``row_hash`` the
    hash of the row's content (:func:`equitrial.store.audit.compute_row_hash`).
    """

    def __init__(self) -> None:
        self.rows = 0
        self.final_hash: str | None = None

    def add(self, row: Mapping[str, Any]) -> str | None:
        """Check the next row; returns what is wrong with it, or ``None``."""
        if row["id"] != self.rows + 1:
            return f"audit row {row['id']}: expected id {self.rows + 1} (rows are missing)"
        if row["prev_hash"] != (self.final_hash or audit.GENESIS_HASH):
            return f"audit row {row['id']}: prev_hash is not the previous row's hash"
        if audit.compute_row_hash(types.SimpleNamespace(**row)) != row["row_hash"]:
            return f"audit row {row['id']}: content does not match its row_hash"
        self.rows += 1
        self.final_hash = row["row_hash"]
        return None
