"""Use case of the central-lab transfer: a CSV file of lab results imported all or nothing.

The file
--------
UTF-8 CSV (a byte-order mark is allowed) with a header row naming these columns, in any order:

========================  ========  ===============================================================
column                    required  value
========================  ========  ===============================================================
``subject``               yes       the subject code (``A-0001``) or id
``test``                  yes       the CTCAE lab term (``Anemia``, ``Platelet count decreased``)
``value``                 yes       the result, a finite number >= 0
``unit``                  yes       a unit CTCAE knows for the test (``g/dL``, ``10^9/L`` ...)
``collected_at``          yes       ISO 8601 with its time zone (``2024-03-02T08:15:00+01:00``),
                                    not in the future
``lln``, ``uln``          no        the lab's normal range (empty: not given); ``lln <= uln``
``accession``             no        the central lab's sample accession number (alias ``lab_id``)
========================  ========  ===============================================================

Every row is checked first, with the checks of :func:`equitrial.services.clinical.record_lab`
(:data:`equitrial.services.checks.CHECKS` ``["lab_result"]``), then the subjects (they exist and
the actor may enter their data). If ANY row is bad, nothing is written and
:class:`~equitrial.errors.InvalidInputError` lists up to :data:`MAX_PROBLEMS` problems, each as
``row N (line L), column C: ...`` (row 1 is the first row under the header, line 1 the header).

Otherwise ONE transaction writes the transfer (:class:`~equitrial.store.models.LabTransfer`:
the SHA-256 of the file's bytes, so the same file imported again is refused with
:class:`~equitrial.errors.ConflictError`) and every result, each graded on save as a
hand-entered result is (:func:`equitrial.services._derivation.lab_grade`: the CTCAE grade of
:func:`equitrial.clinical.ctcae.grade_lab` against the subject's earliest earlier result of the
test; the file's results graded together by :mod:`equitrial.services._lab_transfer_grades`,
the stored series read once); stored results whose baseline an imported, earlier result changes
are graded again (:func:`~equitrial.services._derivation.regrade_labs`, audited as the system).
Implausible values open queries as on a hand-entered result. The results are written with one
statement and audited one whole-row audit row each (:func:`equitrial.store.audit.append_rows`,
reason ``lab transfer <id>``).

Who may import: site staff (investigator, coordinator) of EVERY subject's site in the file, or a
data manager (of those sites, or study-wide). A subject out of the actor's scope refuses the
whole file (:class:`~equitrial.errors.PermissionDeniedError`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import _lab_transfer_grades as grading
from equitrial.services._base import audited_insert, ensure_study_open, lock_subject
from equitrial.services._lab_transfer_file import (
    COLUMNS,
    LAB_TABLE,
    MAX_PROBLEMS,
    MAX_ROWS,
    Problems,
    Row,
    parse,
    read,
)
from equitrial.services.auth import Actor
from equitrial.services.queries import open_queries_for
from equitrial.services.study import current_study
from equitrial.services.subjects import SITE_STAFF
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "COLUMNS",
    "IMPORTERS",
    "MAX_PROBLEMS",
    "MAX_ROWS",
    "ImportSummary",
    "import_lab_transfer",
]

IMPORTERS: Final = SITE_STAFF | {"data-manager"}
"""Roles that import a transfer: site staff of every subject's site, or a data manager."""

# statements built once (building one costs more than running it), run with parameters
_SUBJECTS_BY_CODE: Final = select(m.Subject).where(
    m.Subject.subject_code.in_(bindparam("refs", expanding=True))
)
_SUBJECTS_BY_ID: Final = select(m.Subject).where(
    m.Subject.id.in_(bindparam("refs", expanding=True))
)
_SAME_FILE: Final = select(m.LabTransfer).where(
    m.LabTransfer.study_id == bindparam("study"), m.LabTransfer.sha256 == bindparam("digest")
)
_SAME_ID: Final = select(m.LabTransfer.id).where(
    m.LabTransfer.study_id == bindparam("study"),
    m.LabTransfer.transfer_id == bindparam("transfer_id"),
)
_TRANSFER_IDS: Final = (
    select(m.LabResult.id)
    .where(m.LabResult.lab_transfer_id == bindparam("transfer"))
    .order_by(m.LabResult.id)
)


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote.

    Attributes
    ----------
    transfer
        The id of the :class:`~equitrial.store.models.LabTransfer` row.
    transfer_id
        The sender's transfer id, if given.
    sha256
        The SHA-256 of the file's bytes.
    rows
        Results written.
    subjects
        Distinct subjects among them.
    grades
        How many results got each CTCAE grade (``None``: not gradable / within normal limits
        where the criterion has no grade 0).
    query_ids
        Queries opened on implausible values.
    """

    transfer: int
    transfer_id: str | None
    sha256: str
    rows: int
    subjects: int
    grades: Mapping[int | None, int] = field(default_factory=dict)
    query_ids: tuple[int, ...] = ()


def _subjects(
    session: Session, actor: Actor, rows: list[Row], problems: Problems
) -> dict[str, m.Subject]:
    """The subjects of the rows by their reference in the file, scope checked, locked."""
    refs = {r.subject for r in rows}
    codes = [ref for ref in refs if not ref.isdigit()]
    ids = [int(ref) for ref in refs if ref.isdigit() and len(ref) < 19]
    found: dict[str, m.Subject] = {}
    for chunk in grading.chunks(codes):
        for s in session.scalars(_SUBJECTS_BY_CODE, {"refs": chunk}):
            found[s.subject_code] = s
    for chunk in grading.chunks(ids):
        for s in session.scalars(_SUBJECTS_BY_ID, {"refs": chunk}):
            found[str(s.id)] = s
    for row in rows:
        if row.subject not in found:
            problems.add(row, "subject", f"no subject {row.subject!r}", row.subject)
    problems.raise_if_any()
    refused = sorted(
        {s.subject_code for s in found.values() if not actor.has_role(IMPORTERS, s.site_id)}
    )
    if refused:
        raise PermissionDeniedError(
            f"user {actor.username!r} may not import results of subject(s) "
            f"{', '.join(refused[:MAX_PROBLEMS])}: needs one of the roles "
            f"{', '.join(sorted(IMPORTERS))} at each subject's site; nothing imported",
            field="subject",
            value=refused[0],
        )
    for subject in sorted({s.id: s for s in found.values()}.values(), key=lambda s: s.id):
        lock_subject(session, subject)
    return found


def _refuse_repeat(session: Session, study_id: int, digest: str, transfer_id: str | None) -> None:
    same = session.scalar(_SAME_FILE, {"study": study_id, "digest": digest})
    if same is not None:
        raise ConflictError(
            f"this file was imported already (transfer {same.id}, "
            f"{same.created_at:%Y-%m-%d %H:%M} UTC); nothing imported",
            field="file",
            value=digest,
        )
    if transfer_id is not None:
        taken = session.scalar(_SAME_ID, {"study": study_id, "transfer_id": transfer_id})
        if taken is not None:
            raise ConflictError(
                f"transfer id {transfer_id!r} was imported already (with other content)",
                field="transfer_id",
                value=transfer_id,
            )


def _write(
    session: Session,
    actor: Actor,
    transfer: m.LabTransfer,
    rows: list[Row],
    subjects: Mapping[str, m.Subject],
) -> tuple[dict[int | None, int], tuple[int, ...]]:
    """Insert the results, grade them, audit them, open their queries; grades and query ids."""
    now = m.utcnow()
    records = [
        {
            **row.values,
            "subject_id": subjects[row.subject].id,
            "lab_transfer_id": transfer.id,
            "ctcae_grade": None,
            "status": "entered",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    stored = grading.stored_series(session, records)
    # graded before the insert (no UPDATE after it), each result ranked after every stored one
    # and in the file's order, as the ids it gets will rank it (checked below)
    top = max((lab.id for lab in stored.values()), default=0)
    assumed = range(top + 1, top + 1 + len(records))
    for record, grade in zip(records, grading.grades(stored, assumed, records), strict=True):
        record["ctcae_grade"] = grade
    # a plain executemany (no RETURNING: psycopg parses every multi-row VALUES statement
    # anew, several times slower); the ids are then read back in insertion order
    session.execute(insert(LAB_TABLE), records)
    ids = session.scalars(_TRANSFER_IDS, {"transfer": transfer.id}).all()
    if len(ids) != len(records):  # pragma: no cover - the transfer's own rows only
        raise ConflictError("the results of the transfer could not be read back", field="file")
    if ids and ids[0] <= top:  # a stored result has a higher id: ties may rank otherwise
        grading.grade_again(session, stored, ids, records)
    grades: dict[int | None, int] = {}
    queries: list[int] = []
    for record_id, record, row in zip(ids, records, rows, strict=True):
        grade = record["ctcae_grade"]
        grades[grade] = grades.get(grade, 0) + 1
        if row.implausible:
            fields = {k: v for k, v in record.items() if k not in {"created_at", "updated_at"}}
            lab = m.LabResult(id=record_id, **fields)
            queries += open_queries_for(session, actor, lab, row.implausible)
    reason = f"lab transfer {transfer.transfer_id or transfer.id}"
    audit.append_rows(
        session, actor, "lab_result", list(zip(ids, records, strict=True)), reason=reason
    )
    grading.regrade_stored(session, actor, stored, records, reason)
    return grades, tuple(queries)


def import_lab_transfer(
    engine: Engine,
    actor: Actor,
    source: str | Path | TextIO,
    *,
    transfer_id: str | None = None,
) -> ImportSummary:
    """Import a central-lab transfer file, all or nothing (see the module's description).

    Parameters
    ----------
    engine, actor
        The database and who imports (site staff of every subject's site, or a data manager).
    source
        The file's path (``str`` or ``Path``) or an open text stream.
    transfer_id
        The sender's id of the transfer (unique in the study when given).

    Returns
    -------
    ImportSummary
        The transfer row, the results written and their grades.

    Raises
    ------
    InvalidInputError
        A bad header or row, an unknown subject: every problem (up to :data:`MAX_PROBLEMS`)
        named by row, line and column; nothing is written.
    PermissionDeniedError
        A subject outside the actor's scope; nothing is written.
    ConflictError
        The same file (or transfer id) was imported already.
    StudyLockedError
        The study database is locked.
    """
    if transfer_id is not None and not transfer_id.strip():
        raise InvalidInputError("the transfer id is empty", field="transfer_id")
    data, filename = read(source)
    digest = hashlib.sha256(data).hexdigest()
    rows = parse(data)
    with transaction(engine) as session:
        study = current_study(session)
        ensure_study_open(session, study.id)
        if not actor.has_role(IMPORTERS):
            raise PermissionDeniedError(
                f"user {actor.username!r} needs one of the roles {', '.join(sorted(IMPORTERS))}",
                field="actor",
                value=actor.username,
            )
        _refuse_repeat(session, study.id, digest, transfer_id)
        subjects = _subjects(session, actor, rows, Problems())
        transfer = m.LabTransfer(
            study_id=study.id,
            sha256=digest,
            transfer_id=transfer_id,
            filename=filename[:255] if filename else None,
            rows=len(rows),
            imported_by=actor.user_id,
        )
        audited_insert(session, actor, transfer)
        grades, query_ids = _write(session, actor, transfer, rows, subjects)
        count = len({s.id for s in subjects.values()})
        return ImportSummary(transfer.id, transfer_id, digest, len(rows), count, grades, query_ids)
