"""The check of the signed anchors (:mod:`equitrial.store.anchor`) against the audit chain.

Every anchor, in ``audit_anchor`` and in the external anchor log, must be well formed, signed
by this installation's key with a signature that verifies, and name a row the trail has with
the hash that row has. :func:`equitrial.store.integrity.check_integrity` runs it in three
steps, so that the signatures are checked (:mod:`equitrial.store.signatures`) while the chain
and the data are: :func:`read_anchors` (the database's anchors and the log's lines of this
chain), the signatures of :meth:`Anchors.signed`, then :func:`compare` with the chain's rows.

The external log is read as far as it was written BEFORE the database snapshot was taken
(:meth:`AnchorLog.now`): its copies are appended after their transaction commits, so every line
of that extent belongs to a transaction the snapshot sees, and a write committed while the
verification runs is never mistaken for rows removed from the trail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.settings import get_settings
from equitrial.store.anchor import anchor_message
from equitrial.store.models import AuditAnchor

__all__ = [
    "Anchor",
    "AnchorCheck",
    "AnchorLog",
    "Anchors",
    "compare",
    "parse_anchor",
    "read_anchors",
]

_FIELDS: Final[Mapping[str, type]] = {
    "rows": int,
    "row_hash": str,
    "signed_at": str,
    "key_id": str,
    "signature": str,
}
"""The fields of an anchor and their JSON types (``rows`` an integer: not 5.0, not true)."""
_READ: Final = select(
    AuditAnchor.id,
    AuditAnchor.rows,
    AuditAnchor.row_hash,
    AuditAnchor.signed_at,
    AuditAnchor.key_id,
    AuditAnchor.signature,
).order_by(AuditAnchor.id)


@dataclass(frozen=True)
class AnchorCheck:
    """What the anchors' check found.

    Attributes
    ----------
    signed
        Anchors in the database whose signature and head match the chain.
    external
        Anchors of this chain in the external log that match the chain.
    signed_rows
        The last row covered by a valid signature (0 when none).
    problems
        What does not hold, in words (empty when everything does).
    """

    signed: int
    external: int
    signed_rows: int
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Anchor:
    """One signed head, as stored: the last row's id and hash, the time and the signature."""

    rows: int
    row_hash: str
    signed_at: str
    key_id: str
    signature: str

    def signed(self, chain: str) -> tuple[bytes, str]:
        """The message this anchor signs in ``chain``, and its signature."""
        return anchor_message(chain, self.rows, self.row_hash, self.signed_at), self.signature


def parse_anchor(entry: Mapping[str, Any]) -> Anchor | str:
    """The anchor of a log line's object (or a database row), or what is wrong with it.

    Every field of :data:`_FIELDS` must be there with its type, texts in ASCII (the signed
    message is ASCII).
    """
    for name, kind in _FIELDS.items():
        if name not in entry:
            return f"is malformed (no {name})"
        value = entry[name]
        if type(value) is not kind:
            expected = "an integer" if kind is int else "text"
            return f"is malformed ({name} is {ascii(value)[:40]}, not {expected})"
        if isinstance(value, str) and not value.isascii():
            return f"is malformed ({name} is {ascii(value)[:40]}, not ASCII text)"
    return Anchor(**{name: entry[name] for name in _FIELDS})


@dataclass(frozen=True)
class AnchorLog:
    """The external anchor log as far as it was written at one moment.

    Attributes
    ----------
    path
        The log (``EQUITRIAL_AUDIT_ANCHOR_FILE``).
    size
        Its length in bytes at that moment (0 when it did not exist).
    """

    path: Path
    size: int

    @classmethod
    def now(cls, path: Path | None = None) -> AnchorLog:
        """The log as written now: take it BEFORE the database snapshot (see the module)."""
        target = path or get_settings().anchor_file
        try:
            return cls(target, target.stat().st_size)
        except FileNotFoundError:
            return cls(target, 0)

    def lines(self, chain: str) -> Iterator[tuple[int, Anchor | str]]:
        """``(line number, anchor or what is wrong with the line)`` of each line naming
        ``chain``. One log serves every database of the installation: the lines of other
        chains are skipped before they are parsed."""
        if self.size == 0:
            return
        with self.path.open("rb") as log:
            data = log.read(self.size)
        needle = chain.encode("utf-8")
        for number, line in enumerate(data.split(b"\n"), start=1):
            if needle not in line:
                continue
            try:
                entry = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                yield number, "is not UTF-8 text"
                continue
            except json.JSONDecodeError:
                yield number, "is not JSON"
                continue
            if not isinstance(entry, dict) or "chain" not in entry:
                yield number, "is malformed (not an anchor of a chain)"
            elif entry["chain"] == chain:
                yield number, parse_anchor(entry)


@dataclass
class Anchors:
    """The anchors of one chain, from the database and the external log.

    Attributes
    ----------
    chain
        The chain's name (its first row's hash).
    stored, logged
        ``(name, anchor)`` of the well-formed anchors: ``anchor <database id>`` and
        ``external anchor of row <row>``.
    problems
        The malformed ones, in words.
    """

    chain: str
    stored: list[tuple[str, Anchor]] = field(default_factory=list)
    logged: list[tuple[str, Anchor]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def rows(self) -> set[int]:
        """The rows the anchors name (whose hashes the chain check keeps)."""
        return {a.rows for _, a in self.stored} | {a.rows for _, a in self.logged}

    def signed(self) -> list[tuple[bytes, str]]:
        """Every distinct message and signature, once (a database anchor and its copy in the
        log sign the same message)."""
        every = (a.signed(self.chain) for _, a in (*self.stored, *self.logged))
        return list(dict.fromkeys(every))


def read_anchors(session: Session, chain: str, log: AnchorLog) -> Anchors:
    """The anchors of ``chain``: every row of ``audit_anchor`` and the log's lines naming it.

    Raises nothing on a malformed anchor or line: it is one of :attr:`Anchors.problems`.
    """
    anchors = Anchors(chain)
    if not chain.isascii():
        anchors.problems.append(
            f"the audit trail's first row has the hash {ascii(chain)[:72]}, not hexadecimal: "
            "no anchor can be checked"
        )
        return anchors
    for row in session.connection().execute(_READ):
        entry = row._asdict()
        entry["signed_at"] = row.signed_at.isoformat(timespec="microseconds")
        anchor = parse_anchor(entry)
        if isinstance(anchor, Anchor):
            anchors.stored.append((f"anchor {row.id}", anchor))
        else:
            anchors.problems.append(f"anchor {row.id} {anchor}")
    for number, logged in log.lines(chain):
        if isinstance(logged, Anchor):
            anchors.logged.append((f"external anchor of row {logged.rows}", logged))
        else:
            anchors.problems.append(f"external anchor log {log.path} line {number} {logged}")
    return anchors


def _problem(
    anchor: Anchor, key_id: str, valid: bool, heads: Mapping[int, str], last: int
) -> str | None:
    """What is wrong with one anchor (``None``: nothing); a row missing from the middle of the
    trail is reported by the chain and is not a problem here."""
    if anchor.key_id != key_id:
        return f"is signed by another key ({anchor.key_id}, not {key_id})"
    if not valid:
        return "has a signature that does not verify (the anchor was forged or altered)"
    stored = heads.get(anchor.rows)
    if stored is None:
        if anchor.rows > last:
            return (
                f"signs row {anchor.rows}, which the audit trail no longer has "
                "(rows removed from its end)"
            )
        return None
    if stored != anchor.row_hash:
        return f"signs row {anchor.rows} with another hash (the chain was rewritten up to that row)"
    return None


def compare(
    anchors: Anchors,
    key_id: str,
    invalid: frozenset[int],
    heads: Mapping[int, str],
    last: int,
) -> AnchorCheck:
    """Check every anchor against the chain.

    Parameters
    ----------
    anchors
        From :func:`read_anchors`.
    key_id
        The installation key's id.
    invalid
        Positions in :meth:`Anchors.signed` of the signatures that do not verify.
    heads
        Stored ``row_hash`` by ``id`` of the rows the anchors name (those the trail has).
    last
        ``id`` of the trail's last row.
    """
    position = {signed: i for i, signed in enumerate(anchors.signed())}
    problems, counts, covered, gap = list(anchors.problems), [0, 0], 0, []
    for source, found in enumerate((anchors.stored, anchors.logged)):
        for name, anchor in found:
            valid = position[anchor.signed(anchors.chain)] not in invalid
            problem = _problem(anchor, key_id, valid, heads, last)
            if problem is not None:
                problems.append(f"{name} {problem}")
            elif anchor.rows in heads:
                counts[source] += 1
                covered = max(covered, anchor.rows)
            else:
                gap.append(anchor.rows)
    if gap:
        problems.append(
            f"{len(gap)} anchor(s) sign rows {min(gap)}..{max(gap)}, which are missing from the "
            "middle of the audit trail (see the chain's break)"
        )
    if covered < last:
        problems.append(
            f"audit rows {covered + 1}..{last} are not covered by a signed anchor "
            "(appended outside the services, or the anchors were removed)"
        )
    return AnchorCheck(counts[0], counts[1], covered, tuple(problems))
