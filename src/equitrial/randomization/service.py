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
import itertools
import json
import secrets
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.protocol import Minimization, Protocol, protocol_from_dict
from equitrial.randomization.blocks import stratum_key, stratum_schedule, stratum_seed
from equitrial.randomization.minimization import level_counts, minimize
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
    "subject_stratum",
]

MINIMIZATION_POOL: Final = "*"
"""``stratum`` of a minimization slot not yet used: the arm is decided when it is allocated."""

_LOCK_CLASS: Final = 0x52414E44  # "RAND": the first key of the two-key advisory lock space
_KIT_LOW, _KIT_HIGH = 100_000, 1_000_000


class RandomizationRefusedError(ConflictError):
    """The subject may not be randomized (not eligible, withdrawn, study locked)."""

    code = "randomization_refused"


class ScheduleExistsError(ConflictError):
    """The study already has its allocation list."""

    code = "schedule_exists"


class ScheduleExhaustedError(ConflictError):
    """No free slot is left in the subject's stratum."""

    code = "schedule_exhausted"


def _protocol(study: Study) -> Protocol:
    return protocol_from_dict(json.loads(study.protocol_json), source=f"study {study.code}")


def _all_strata(protocol: Protocol) -> list[str]:
    levels = protocol.stratification_levels()
    factors = list(levels)
    combos = itertools.product(*(levels[f] for f in factors))
    return [stratum_key(dict(zip(factors, combo, strict=True))) for combo in combos]


def _kit_numbers(study: Study, seed: int, count: int) -> list[str]:
    """``count`` distinct kit numbers in random order, so a kit says nothing about its arm."""
    if count > _KIT_HIGH - _KIT_LOW:
        raise InvalidInputError(
            f"{count} slots exceed the {_KIT_HIGH - _KIT_LOW} kit numbers available",
            field="per_stratum_slots",
            value=count,
        )
    rng = np.random.default_rng(stratum_seed(seed, "\x00kits"))
    numbers = rng.choice(_KIT_HIGH - _KIT_LOW, size=count, replace=False) + _KIT_LOW
    return [f"K{study.id}-{int(n)}" for n in numbers]


def generate_schedule(session: Session, study: Study, *, seed: int, per_stratum_slots: int) -> int:
    """Pre-generate the study's concealed allocation list (call it once per study).

    Parameters
    ----------
    session
        Inside the caller's (writing) transaction.
    study
        The study; its protocol (``protocol_json``) gives the arms, the allocation ratio, the
        block sizes and the stratification factors.
    seed
        The randomization seed (keep it with the unblinded statistician): the same seed gives
        the same list (:func:`~equitrial.randomization.blocks.stratum_schedule`).
    per_stratum_slots
        Slots wanted in every stratum (every combination of the factors' levels); each stratum's
        list is rounded up to a whole block. Minimization gets ``per_stratum_slots`` times the
        number of strata slots in one pool, their arms decided at allocation.

    Returns
    -------
    int
        Number of slots written.

    Raises
    ------
    ScheduleExistsError
        If the study already has slots.
    InvalidInputError
        For a bad seed or slot count, or a factor or level the list's keys cannot hold.

    Notes
    -----
    Sequence numbers run across the strata in the order of the protocol's levels (the first
    factor varying slowest), one contiguous range per stratum. Kit numbers are
    ``K<study id>-<6 digits>``, drawn without replacement from the seed's own stream, so they
    are unique, unordered and independent of the arm.
    """
    existing = session.scalar(
        select(func.count()).select_from(RandomizationSchedule).filter_by(study_id=study.id)
    )
    if existing:
        raise ScheduleExistsError(
            f"study {study.code!r} already has an allocation list of {existing} slots",
            field="study",
            value=study.code,
        )
    protocol = _protocol(study)
    method = protocol.randomization
    strata = _all_strata(protocol)
    rows: list[dict[str, Any]] = []
    if isinstance(method, Minimization):
        stratum_seed(seed, MINIMIZATION_POOL)  # validates the seed
        total = _whole(per_stratum_slots, "per_stratum_slots") * len(strata)
        rows = [_row(study, MINIMIZATION_POOL, n, 0, 1, 1, "") for n in range(1, total + 1)]
    else:
        arms = [arm.code for arm in protocol.arms]
        for stratum in strata:
            sched = stratum_schedule(
                seed,
                stratum,
                per_stratum_slots,
                ratio=method.allocation_ratio,
                block_sizes=method.block_sizes,
                random_sizes=method.random_block_sizes,
            )
            for i in range(len(sched)):
                block, pos, size = sched.block_numbers[i], sched.positions[i], sched.block_sizes[i]
                arm = arms[sched.arms[i]]
                rows.append(_row(study, stratum, len(rows) + 1, block, pos, size, arm))
    for row, kit in zip(rows, _kit_numbers(study, seed, len(rows)), strict=True):
        row["kit_number"] = kit
    session.execute(insert(RandomizationSchedule), rows)
    return len(rows)


def _row(
    study: Study, stratum: str, seq: int, block: int, pos: int, size: int, arm: str
) -> dict[str, Any]:
    return {
        "study_id": study.id,
        "stratum": stratum,
        "sequence_number": seq,
        "block_number": block,
        "position_in_block": pos,
        "block_size": size,
        "arm_code": arm,
    }


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a whole number >= 1, got {value!r}", field=name)
    return value


def subject_stratum(protocol: Protocol, strata_json: str | None) -> str:
    """The canonical stratum of a subject, refusing a missing, unknown or invalid level.

    Parameters
    ----------
    protocol
        The study's protocol (its ``[stratification]`` table).
    strata_json
        The subject's ``strata_json``: a JSON object factor -> level.

    Returns
    -------
    str
        ``"factor=level;..."`` sorted by factor (``""`` when the study has no factors).

    Raises
    ------
    InvalidInputError
        Naming the factor (``field="strata.<factor>"``) that is missing, unknown or has a level
        the protocol does not list — never randomize on a partial stratum (OpenClinica's bug).
    """
    levels = protocol.stratification_levels()
    given = _parse_strata(strata_json)
    for factor, allowed in levels.items():
        value = given.get(factor)
        if value is None or value == "":
            raise InvalidInputError(
                f"stratification factor {factor!r} is missing; expected one of {allowed}",
                field=f"strata.{factor}",
                expected=f"one of {allowed}",
            )
        if value not in allowed:
            raise InvalidInputError(
                f"stratification factor {factor!r} has level {value!r}; expected one of {allowed}",
                field=f"strata.{factor}",
                value=value,
                expected=f"one of {allowed}",
            )
    unknown = sorted(set(given) - set(levels))
    if unknown:
        raise InvalidInputError(
            f"{unknown[0]!r} is not a stratification factor of the study; "
            f"expected only {sorted(levels)}",
            field=f"strata.{unknown[0]}",
            value=given[unknown[0]],
        )
    return stratum_key({f: given[f] for f in levels})


def _parse_strata(strata_json: str | None) -> dict[str, Any]:
    try:
        given = json.loads(strata_json) if strata_json else {}
    except json.JSONDecodeError:
        raise InvalidInputError(
            "the subject's strata are not valid JSON", field="strata", value=strata_json
        ) from None
    if not isinstance(given, dict):
        raise InvalidInputError(
            "the subject's strata must map each factor to its level",
            field="strata",
            value=strata_json,
        )
    return given


def _check_can_randomize(study: Study, subject: Subject) -> None:
    if study.locked_at is not None:
        raise RandomizationRefusedError(
            f"study {study.code!r} is locked; no subject can be randomized", field="study"
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


def allocation_of(session: Session, subject_id: int) -> RandomizationSchedule | None:
    """The subject's slot, or ``None`` if it is not randomized.

    The row carries ``arm_code``: show blinded users only ``sequence_number`` and
    ``kit_number``.
    """
    return session.scalar(select(RandomizationSchedule).filter_by(subject_id=subject_id))


def arm_of(session: Session, subject_id: int) -> str | None:
    """The arm code of a randomized subject (``None`` if not randomized).

    For unblinded paths only (emergency unblinding, unblinded statisticians, the DSMB): the
    caller must have checked the actor's role.
    """
    slot = allocation_of(session, subject_id)
    return None if slot is None else slot.arm_code


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
    protocol = _protocol(study)
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
    history = [(_levels(key), arms.index(arm)) for key, arm in rows]
    counts = level_counts(history, _levels(stratum), factors, len(arms))
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


def _levels(key: str) -> dict[str, str]:
    """Invert :func:`stratum_key` (factors and levels never hold ``;`` or ``=``)."""
    return dict(part.split("=", 1) for part in key.split(";")) if key else {}
