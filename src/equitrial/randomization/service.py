"""The persistent, concurrency-safe randomization service.

The concealed allocation list is generated once per study (:func:`generate_schedule`) into
``randomization_schedule``; :func:`allocate` gives a subject the next free slot of its stratum
inside the caller's transaction (one use case, one transaction: the services layer opens it with
:func:`equitrial.store.db.transaction` and writes the audit rows).

Concurrency
-----------
* PostgreSQL: ``pg_advisory_xact_lock`` on the (study, stratum) pair — on the whole study for
  minimization, whose marginal totals span strata — then the lowest free slot is read and
  claimed. The lock is held to the end of the transaction, so the next request waits, then
  (READ COMMITTED: a fresh snapshot per statement) sees the claimed slot and takes the next.
  Slots are therefore used strictly in list order, blocks stay intact.
* SQLite: every writing transaction begins with ``BEGIN IMMEDIATE`` (:mod:`equitrial.store.db`),
  which serializes writers for the whole database.
* Either way the unique constraints on ``subject_id``, ``(study_id, sequence_number)`` and
  ``kit_number``, and an ``UPDATE ... WHERE subject_id IS NULL`` that must touch exactly one row,
  make a double allocation impossible even if the locking were wrong.

Lock order: call :func:`allocate` before appending audit rows in the same transaction (the audit
chain takes its own lock), so two randomizations never wait on each other's locks crosswise.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, NotFoundError
from equitrial.protocol import Minimization, Protocol
from equitrial.randomization.minimization import level_counts, minimize
from equitrial.randomization.schedule import (
    MINIMIZATION_POOL,
    ScheduleExistsError,
    generate_schedule,
    study_protocol,
)
from equitrial.randomization.strata import parse_stratum_key, subject_stratum
from equitrial.store.models import RandomizationSchedule, Study, Subject, utcnow

__all__ = [
    "MINIMIZATION_POOL",
    "RandomizationRefusedError",
    "ScheduleExhaustedError",
    "ScheduleExistsError",
    "allocate",
    "allocation_of",
    "allocations",
    "arm_of",
    "generate_schedule",
    "is_allocated",
    "study_protocol",
    "subject_stratum",
]

_LOCK_CLASS: Final = 0x52414E44  # "RAND": the first key of the two-key advisory lock space


class RandomizationRefusedError(ConflictError):
    """The subject may not be randomized (not eligible, withdrawn, study locked)."""

    code = "randomization_refused"


class ScheduleExhaustedError(ConflictError):
    """No free slot is left in the subject's stratum."""

    code = "schedule_exhausted"


def _check_can_randomize(study: Study, subject: Subject) -> None:
    if study.locked_at is not None:
        raise RandomizationRefusedError(
            f"study {study.code!r} is locked; no subject can be randomized", field="study"
        )
    if subject.status == "screen failed":
        raise RandomizationRefusedError(
            f"subject {subject.subject_code} is a screen failure (status 'screen failed'); a "
            "screen-failed subject cannot be randomized",
            field="status",
            value=subject.status,
        )
    if subject.status in ("withdrawn", "completed", "ineligible"):
        raise RandomizationRefusedError(
            f"subject {subject.subject_code} has status {subject.status!r}; expected 'eligible'",
            field="status",
            value=subject.status,
        )
    if subject.eligible is not True:
        raise RandomizationRefusedError(
            f"subject {subject.subject_code}: eligibility has not been confirmed "
            "(randomization needs a confirmed eligible subject)",
            field="eligible",
            value=subject.eligible,
            expected="True",
        )


def _lock(session: Session, study_id: int, scope: str) -> None:
    """PostgreSQL advisory lock on (study, scope) until the transaction ends; no-op on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already serializes every writer
    digest = hashlib.sha256(f"{study_id}\x00{scope}".encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_CLASS, "b": key})


_SLOT_OF: Final = select(RandomizationSchedule).where(
    RandomizationSchedule.subject_id == bindparam("subject_id")
)

_SLOT_COLUMNS: Final = RandomizationSchedule.__table__.c
_ARM_OF: Final = select(_SLOT_COLUMNS.arm_code).where(
    _SLOT_COLUMNS.subject_id == bindparam("subject_id")
)
_SLOT_ID_OF: Final = select(_SLOT_COLUMNS.id).where(
    _SLOT_COLUMNS.subject_id == bindparam("subject_id")
)


def allocation_of(session: Session, subject_id: int) -> RandomizationSchedule | None:
    """The subject's slot, or ``None`` if it is not randomized.

    The row carries ``arm_code``: show blinded users only ``sequence_number`` and
    ``kit_number``.
    """
    return session.scalar(_SLOT_OF, {"subject_id": subject_id})


def is_allocated(session: Session, subject_id: int) -> bool:
    """Whether the subject holds a slot (is randomized): one column read, no slot loaded."""
    slot_id = session.connection().execute(_SLOT_ID_OF, {"subject_id": subject_id}).scalar()
    return slot_id is not None


def arm_of(session: Session, subject_id: int) -> str | None:
    """The arm code of a randomized subject (``None`` if not randomized).

    For unblinded paths only (emergency unblinding, unblinded statisticians, the DSMB): the
    caller must have checked the actor's role.
    """
    return session.connection().execute(_ARM_OF, {"subject_id": subject_id}).scalar()


def allocations(session: Session, study_id: int) -> list[RandomizationSchedule]:
    """Every allocated slot of the study, by sequence number (unblinded use only)."""
    query = (
        select(RandomizationSchedule)
        .filter_by(study_id=study_id)
        .where(RandomizationSchedule.subject_id.is_not(None))
        .order_by(RandomizationSchedule.sequence_number)
    )
    return list(session.scalars(query))


def allocate(
    session: Session, subject: Subject, *, rng: np.random.Generator | None = None
) -> RandomizationSchedule:
    """Allocate the subject: the next free slot of its stratum (idempotent).

    Parameters
    ----------
    session
        Inside the caller's writing transaction; call this before appending audit rows.
    subject
        A subject with confirmed eligibility and a valid level for every stratification factor.
    rng
        Minimization only: source of the random element (default: a generator seeded from the
        operating system's entropy at each allocation).

    Returns
    -------
    RandomizationSchedule
        The subject's slot (``sequence_number``, ``kit_number``, ``arm_code``). A subject already
        randomized gets its existing slot back, unchanged.

    Raises
    ------
    RandomizationRefusedError
        Eligibility not confirmed, subject withdrawn/ineligible/completed, or study locked.
    InvalidInputError
        A stratification factor missing, unknown, or with a level the protocol does not list.
    ScheduleExhaustedError
        No free slot left (generate a longer list).
    NotFoundError
        The subject's study does not exist.

    Notes
    -----
    Permuted blocks take the lowest free sequence number of the stratum. Minimization takes the
    lowest free slot of the pool and decides its arm by
    :func:`~equitrial.randomization.minimization.minimize` from the current allocations' marginal
    totals, computed under the same study-wide lock.
    """
    study = session.get(Study, subject.study_id)
    if study is None:
        raise NotFoundError(f"no study with id {subject.study_id}", field="study_id")
    protocol = study_protocol(study)
    minimizing = isinstance(protocol.randomization, Minimization)
    stratum = subject_stratum(protocol, subject.strata_json)
    _lock(session, study.id, MINIMIZATION_POOL if minimizing else stratum)
    existing = allocation_of(session, subject.id)  # read under the lock: a retry sees it
    if existing is not None:
        return existing
    _check_can_randomize(study, subject)
    pool = MINIMIZATION_POOL if minimizing else stratum
    slot = session.scalar(
        select(RandomizationSchedule)
        .filter_by(study_id=study.id, stratum=pool)
        .where(RandomizationSchedule.subject_id.is_(None))
        .order_by(RandomizationSchedule.sequence_number)
        .limit(1)
        .with_for_update()
    )
    if slot is None:
        raise ScheduleExhaustedError(
            f"no free slot left in stratum {stratum!r} of study {study.code!r}",
            field="stratum",
            value=stratum,
        )
    values: dict[str, Any] = {"subject_id": subject.id, "allocated_at": utcnow()}
    if minimizing:
        arm = _minimized_arm(session, protocol, study.id, stratum, rng)
        values |= {"stratum": stratum, "arm_code": arm}
    _claim(session, slot, values)
    return slot


def _claim(session: Session, slot: RandomizationSchedule, values: Mapping[str, Any]) -> None:
    """Claim a free slot; exactly one row must change, or someone else holds it."""
    result = session.execute(
        update(RandomizationSchedule)
        .where(RandomizationSchedule.id == slot.id, RandomizationSchedule.subject_id.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            f"slot {slot.sequence_number} was taken by another request; retry",
            field="sequence_number",
            value=slot.sequence_number,
        )
    session.refresh(slot)


def _minimized_arm(
    session: Session,
    protocol: Protocol,
    study_id: int,
    stratum: str,
    rng: np.random.Generator | None,
) -> str:
    method = protocol.randomization
    if not isinstance(method, Minimization):  # pragma: no cover - the caller checked
        raise TypeError("minimization expected")
    arms = [arm.code for arm in protocol.arms]
    factors = list(protocol.stratification_levels())
    rows = session.execute(
        select(RandomizationSchedule.stratum, RandomizationSchedule.arm_code)
        .filter_by(study_id=study_id)
        .where(RandomizationSchedule.subject_id.is_not(None))
    )
    history = [(parse_stratum_key(key), arms.index(arm)) for key, arm in rows]
    counts = level_counts(history, parse_stratum_key(stratum), factors, len(arms))
    weights = [method.factor_weights.get(f, 1.0) for f in factors]
    generator = rng if rng is not None else np.random.default_rng(secrets.randbits(128))
    decision = minimize(
        generator,
        counts,
        ratio=method.allocation_ratio,
        p_best=method.p_best,
        weights=weights,
        imbalance=method.imbalance,
    )
    return arms[decision.arm]
