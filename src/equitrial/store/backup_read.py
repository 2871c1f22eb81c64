"""Reading and checking a signed backup (format: :mod:`equitrial.store.backup_format`).

:func:`scan` reads a file line by line (nothing is held in memory but the current line) and
refuses at the first line that is incomplete (no newline: the file was cut), not UTF-8, not
JSON, not in canonical form, of an unknown table or column, of the wrong type, out of order,
or whose sealed value does not open with the installation's key. It returns what it computed:
every table's count and digest, the audit chain followed row by row, the studies, the header,
the manifest, its signature and the trailer. :func:`check` then compares them: trailer
present and matching, signature valid under the installation's key, header equal to the
manifest, every table's count and digest equal to the manifest's, the chain intact and ending
at the manifest's final hash, and the study the one expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import Table

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import backup_format as fmt
from equitrial.store import keys

__all__ = ["Scan", "Sink", "check", "scan"]

MAX_LINE: Final = 256 * 1024 * 1024
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_HEADER_KEYS: Final = ("format", "version", "created_at", "alembic_revision", "key_id", "source")

Sink = Callable[[Table, dict[str, Any]], None]
"""Receives each row (table, column -> database value, sealed values opened) as it is read."""


@dataclass
class Scan:
    """What :func:`scan` found in a file."""

    header: dict[str, Any] = field(default_factory=dict)
    tables: list[fmt.TableDigest] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    chain: fmt.ChainCheck = field(default_factory=fmt.ChainCheck)
    chain_problem: str | None = None
    studies: list[dict[str, str]] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    signature: str | None = None
    trailer: dict[str, Any] | None = None
    lines_before_trailer: int = 0
    sha256_before_trailer: str = ""

    def digests(self) -> list[tuple[str, int, str]]:
        """(table, rows, sha256) of every table that has rows, in file order."""
        return [(t.name, t.rows, t.sha256) for t in self.tables]


def _refuse(where: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{where}: {message}; nothing was restored", field="src_path")


class _Scanner:
    def __init__(self, path: Path, key: keys.SigningKey, sink: Sink | None) -> None:
        self.where = str(path)
        self.key = key
        self.sink = sink
        self.known = fmt.model_tables()
        self.result = Scan()
        self.sha = hashlib.sha256()
        self.number = 0
        self.last_id = 0

    def run(self, handle: IO[bytes]) -> Scan:
        first = self._next(handle)
        if first is None:
            raise _refuse(self.where, "empty file, not an equitrial backup")
        self._header(first)
        while (line := self._next(handle)) is not None:
            if self.result.trailer is not None:
                raise self._at("data after the trailer")
            self._dispatch(line)
        return self.result

    def _at(self, message: str) -> InvalidInputError:
        return _refuse(self.where, f"line {self.number}: {message}")

    def _next(self, handle: IO[bytes]) -> tuple[bytes, Any] | None:
        raw = handle.readline(MAX_LINE + 1)
        if not raw:
            return None
        self.number += 1
        if not raw.endswith(b"\n"):
            what = "longer than 256 MiB" if len(raw) > MAX_LINE else "incomplete"
            raise self._at(f"{what} (the file is truncated or not an equitrial backup)")
        try:
            document = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._at("not UTF-8 text (not an equitrial backup)") from None
        except (ValueError, RecursionError):  # JSONDecodeError, a 5000-digit number, [[[[...
            raise self._at("not a JSON line (not an equitrial backup, or altered)") from None
        if not isinstance(document, dict):
            raise self._at("not a JSON object (not an equitrial backup, or altered)")
        return raw, document

    def _header(self, line: tuple[bytes, Any]) -> None:
        raw, document = line
        if document.get("format") == "equitrial-logical-backup":
            raise self._at(
                "an unsigned backup of an earlier equitrial (no manifest, no signature): it "
                "cannot be checked and is refused"
            )
        if document.get("format") != fmt.FORMAT:
            raise self._at("not an equitrial backup (no backup header)")
        if document.get("version") != fmt.VERSION:
            raise self._at(
                f"backup format version {document.get('version')!r}; this equitrial reads "
                f"signed backups of version {fmt.VERSION} only"
            )
        if sorted(document) != sorted(_HEADER_KEYS):
            raise self._at("the header's fields are not those of a backup header")
        if document["key_id"] != self.key.key_id:
            raise self._at(_other_key(document["key_id"], self.key))
        self._canonical(raw, document)
        self.result.header = document
        self.sha.update(raw)

    def _canonical(self, raw: bytes, document: Any) -> None:
        if raw != (fmt.canonical_json(document) + "\n").encode("utf-8"):
            raise self._at("not in canonical form (the file was edited)")

    def _dispatch(self, line: tuple[bytes, Any]) -> None:
        raw, document = line
        if set(document) == {"table", "row"} and self.result.manifest is None:
            self._row(raw, document)
        elif set(document) == {"manifest", "signature"} and self.result.manifest is None:
            self._canonical(raw, document)
            self.result.manifest = document["manifest"]
            self.result.signature = document["signature"]
        elif set(document) == {"end", "lines", "sha256"} and self.result.manifest is not None:
            self._canonical(raw, document)
            self.result.trailer = document
            self.result.lines_before_trailer = self.number - 1
            self.result.sha256_before_trailer = self.sha.hexdigest()
            return
        elif "manifest" in document and "signature" not in document:
            raise self._at("the manifest is not signed")
        else:
            raise self._at("not a row, manifest or trailer line in its place")
        self.sha.update(raw)

    def _table(self, name: Any, row: Any) -> tuple[Table, list[str]]:
        table = self.known.get(name) if isinstance(name, str) else None
        if table is None:
            raise self._at(f"unknown table {name!r}")
        if not isinstance(row, dict):
            raise self._at(f"{name}: the row is not a JSON object")
        current = self.result.tables[-1] if self.result.tables else None
        if current is None or current.name != name:
            if name in self.result.columns:
                raise self._at(f"rows of table {name} are not together (the file was edited)")
            unknown = sorted(set(row) - set(table.c.keys()))
            if unknown or "id" not in row:
                raise self._at(f"{name}: unknown columns {unknown} or no id")
            self.result.tables.append(fmt.TableDigest(name))
            self.result.columns[name] = [c.name for c in table.columns if c.name in row]
        elif set(row) != set(self.result.columns[name]):
            raise self._at(f"{name}: the row's columns differ from the table's other rows")
        return table, self.result.columns[name]

    def _row(self, raw: bytes, document: dict[str, Any]) -> None:
        table, columns = self._table(document["table"], document["row"])
        values = self._decode(table, columns, document["row"])
        canonical = fmt.encode_row(table, columns, values, self.key)
        if raw != fmt.row_line(table.name, canonical):
            raise self._at("not in canonical form (the file was edited)")
        digest = self.result.tables[-1]
        if digest.rows and values["id"] <= self.last_id:
            raise self._at(f"{table.name}: ids are not in increasing order")
        self.last_id = values["id"]
        digest.add(canonical)
        if self.sink is None:
            self._follow(table.name, values)
        else:  # the second reading, while loading: the digests stand for the content
            self.sink(table, values)

    def _decode(self, table: Table, columns: list[str], row: dict[str, Any]) -> dict[str, Any]:
        sealed = fmt.SEALED_COLUMNS.get(table.name, ())
        kinds = fmt.table_kinds(table)
        values: dict[str, Any] = {}
        for name in columns:
            value = row[name]
            try:
                if name in sealed and value is not None:
                    context = fmt.seal_context(table.name, row.get("id"), name)
                    value = keys.unseal(self.key, value, context)
                values[name] = fmt.decode_value(kinds[name], value)
            except InvalidInputError as error:
                raise self._at(f"{table.name}.{name}: {error.message}") from None
        if not isinstance(values["id"], int):
            raise self._at(f"{table.name}: the id is not an integer")
        return values

    def _follow(self, table: str, values: dict[str, Any]) -> None:
        if table == "audit_trail" and self.result.chain_problem is None:
            self.result.chain_problem = self.result.chain.add(values)
        elif table == "study":
            study = {"code": values["code"], "protocol_version": values["protocol_version"]}
            self.result.studies.append(study)


def scan(path: Path, key: keys.SigningKey, sink: Sink | None = None) -> Scan:
    """Read ``path`` through, refusing the first malformed line (see the module notes).

    Raises
    ------
    InvalidInputError
        Naming the file and the line.
    """
    try:
        with path.open("rb") as handle:
            if handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                raise _refuse(
                    str(path),
                    "a SQLite database file, not an equitrial backup (backups are signed "
                    "JSON lines written by `equitrial backup`)",
                )
            handle.seek(0)
            return _Scanner(path, key, sink).run(handle)
    except OSError as error:
        raise _refuse(str(path), f"cannot be read ({error.strerror})") from None


def _other_key(key_id: Any, key: keys.SigningKey) -> str:
    return (
        f"signed with key {key_id!r}, not with this installation's key {key.key_id} "
        "(EQUITRIAL_AUDIT_KEY_FILE): refused"
    )


def _check_complete(where: str, found: Scan) -> None:
    if found.manifest is None:
        raise _refuse(where, "no manifest: the file is truncated or not a complete backup")
    if found.trailer is None:
        raise _refuse(where, "no trailer: the file is truncated (the backup did not finish)")


def _check_trailer(where: str, found: Scan) -> None:
    expected = {"end": fmt.FORMAT, "lines": found.lines_before_trailer}
    expected["sha256"] = found.sha256_before_trailer
    if found.trailer != expected:
        raise _refuse(where, "the trailer does not match the file's lines (the file was edited)")


def _check_signature(where: str, found: Scan, key: keys.SigningKey) -> dict[str, Any]:
    manifest = found.manifest
    if not isinstance(manifest, dict) or not isinstance(found.signature, str):
        raise _refuse(where, "the manifest or its signature is malformed")
    if manifest.get("key_id") != key.key_id:
        raise _refuse(where, _other_key(manifest.get("key_id"), key))
    if not keys.verify_signature(key.public_key(), fmt.signed_message(manifest), found.signature):
        raise _refuse(where, "the manifest's signature does not verify (the manifest was edited)")
    return manifest


def _check_content(where: str, found: Scan, manifest: dict[str, Any]) -> None:
    if any(found.header[k] != manifest.get(k) for k in _HEADER_KEYS):
        raise _refuse(where, "the header differs from the signed manifest")
    listed = manifest["tables"]
    for name, _rows, _sha in found.digests():
        if not any(entry["name"] == name for entry in listed):
            raise _refuse(where, f"table {name} is in the file but not in the manifest")
    order = [entry["name"] for entry in listed]
    if [t.name for t in found.tables] != [n for n in order if n in found.columns]:
        raise _refuse(where, "the tables are not in the manifest's order")
    digests = {name: (rows, sha) for name, rows, sha in found.digests()}
    for entry in listed:
        rows, sha = digests.get(entry["name"], (0, fmt.TableDigest("").sha256))
        if (rows, sha) != (entry["rows"], entry["sha256"]):
            raise _refuse(
                where,
                f"table {entry['name']}: {rows} rows with SHA-256 {sha[:16]}..., the signed "
                f"manifest says {entry['rows']} rows with {str(entry['sha256'])[:16]}... "
                "(rows were altered, added or removed)",
            )
        if entry["name"] in found.columns and found.columns[entry["name"]] != entry["columns"]:
            raise _refuse(where, f"table {entry['name']}: columns differ from the manifest")


def _check_chain(where: str, found: Scan, manifest: dict[str, Any]) -> None:
    if found.chain_problem is not None:
        raise _refuse(where, f"the audit trail in the file is broken: {found.chain_problem}")
    audit = manifest["audit"]
    if (found.chain.rows, found.chain.final_hash) != (audit["rows"], audit["final_hash"]):
        raise _refuse(where, "the audit chain does not end at the manifest's final hash")


def _check_models(where: str, manifest: dict[str, Any]) -> None:
    known = fmt.model_tables()
    for entry in manifest["tables"]:
        table = known.get(entry["name"])
        if table is None or not set(entry["columns"]) <= set(table.c.keys()):
            raise _refuse(where, f"table {entry['name']} is not one this equitrial knows")


def check(path: Path, found: Scan, key: keys.SigningKey, study: str) -> fmt.BackupSummary:
    """Compare what :func:`scan` found with the signed manifest; returns the summary.

    Raises
    ------
    InvalidInputError
        Truncated, altered, unsigned, signed with another key, or inconsistent.
    ConflictError
        The backup is of another study than ``study``.
    """
    where = str(path)
    _check_complete(where, found)
    manifest = _check_signature(where, found, key)
    try:
        _check_models(where, manifest)
        _check_content(where, found, manifest)
        _check_chain(where, found, manifest)
        summary = fmt.BackupSummary.from_manifest(manifest)
    except (KeyError, TypeError) as error:  # a signed manifest of another shape
        raise _refuse(where, f"the manifest lacks {error}") from None
    _check_trailer(where, found)
    if found.studies != manifest["studies"]:
        raise _refuse(where, "the study rows differ from the manifest's studies")
    if summary.studies != (study,):
        held = ", ".join(summary.studies) or "no study"
        raise ConflictError(
            f"{where}: a backup of {held}, not of study {study!r}; nothing was restored",
            field="study",
            value=study,
        )
    return summary
