"""Generation of the concealed allocation list of a study (``randomization_schedule``)."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.protocol import Minimization, PermutedBlocks, Protocol, protocol_from_dict
from equitrial.randomization.blocks import stratum_key, stratum_schedule, stratum_seed
from equitrial.store.models import RandomizationSchedule, Study

__all__ = [
    "MAX_SLOTS_PER_STRATUM",
    "MAX_TOTAL_SLOTS",
    "MINIMIZATION_POOL",
    "ScheduleExistsError",
    "all_strata",
    "check_list_size",
    "generate_schedule",
    "study_protocol",
]

MINIMIZATION_POOL: Final = "*"
"""``stratum`` of a minimization slot not yet used: the arm is decided when it is allocated."""

_KIT_LOW, _KIT_HIGH = 100_000, 1_000_000

MAX_SLOTS_PER_STRATUM: Final = 100_000
"""At most 100,000 allocation slots per stratum."""

MAX_TOTAL_SLOTS: Final = _KIT_HIGH - _KIT_LOW
"""At most 900,000 slots in a study's list: one six-digit kit number each."""


class ScheduleExistsError(ConflictError):
    """The study already has its allocation list."""

    code = "schedule_exists"


def study_protocol(study: Study) -> Protocol:
    """The study's protocol, read back from ``protocol_json`` (parsed once per stored text: a
    protocol is immutable, an amendment stores a new text)."""
    return _parsed_protocol(study.protocol_json, study.code)


@functools.lru_cache(maxsize=8)
def _parsed_protocol(protocol_json: str, code: str) -> Protocol:
    return protocol_from_dict(json.loads(protocol_json), source=f"study {code}")


def all_strata(protocol: Protocol) -> list[str]:
    """Every stratum key of the protocol, the first factor varying slowest.

    The protocol's size limits (:data:`~equitrial.protocol.MAX_STRATA`) bound the list.
    """
    levels = protocol.stratification_levels()
    factors = list(levels)
    combos = itertools.product(*(levels[f] for f in factors))
    return [stratum_key(dict(zip(factors, combo, strict=True))) for combo in combos]


def _taken_kits(session: Session, study: Study) -> set[int]:
    kits = session.scalars(select(RandomizationSchedule.kit_number).filter_by(study_id=study.id))
    return {int(kit.rpartition("-")[2]) for kit in kits}


def _kit_numbers(study: Study, seed: int, count: int, taken: set[int]) -> list[str]:
    """``count`` distinct kit numbers in random order, so a kit says nothing about its arm.

    Numbers in ``taken`` (the study's existing kits) are never drawn.
    """
    available = _KIT_HIGH - _KIT_LOW - len(taken)
    if count > available:
        raise InvalidInputError(
            f"{count} slots exceed the {available} kit numbers still available",
            field="slots_per_stratum",
            value=count,
        )
    rng = np.random.default_rng(stratum_seed(seed, "\x00kits"))
    if not taken:
        numbers = rng.choice(_KIT_HIGH - _KIT_LOW, size=count, replace=False) + _KIT_LOW
    else:
        used = np.fromiter(taken, dtype=np.int64, count=len(taken))
        free = np.setdiff1d(np.arange(_KIT_LOW, _KIT_HIGH, dtype=np.int64), used)
        numbers = rng.choice(free, size=count, replace=False)
    return [f"K{study.id}-{int(n)}" for n in numbers]


def check_list_size(protocol: Protocol, per_stratum_slots: Any, n_strata: int) -> int:
    """Refuse a list that would be too long, before anything is generated.

    Parameters
    ----------
    protocol
        Its block sizes give the rounding of each stratum's list up to a whole block.
    per_stratum_slots
        Slots wanted per stratum: a whole number from 1 to :data:`MAX_SLOTS_PER_STRATUM`.
    n_strata
        Number of strata to generate.

    Returns
    -------
    int
        ``per_stratum_slots``, checked.

    Raises
    ------
    InvalidInputError
        ``field="slots_per_stratum"``: not a whole number >= 1, more than
        :data:`MAX_SLOTS_PER_STRATUM`, or a list longer than :data:`MAX_TOTAL_SLOTS`.
    """
    slots = _whole(per_stratum_slots, "slots_per_stratum")
    if slots > MAX_SLOTS_PER_STRATUM:
        raise InvalidInputError(
            f"slots per stratum {slots} exceed the limit of {MAX_SLOTS_PER_STRATUM}",
            field="slots_per_stratum",
            value=slots,
            expected=f"at most {MAX_SLOTS_PER_STRATUM}",
        )
    method = protocol.randomization
    largest = max(method.block_sizes) if isinstance(method, PermutedBlocks) else 1
    total = n_strata * (slots + largest - 1)
    if total > MAX_TOTAL_SLOTS:
        raise InvalidInputError(
            f"{n_strata} strata x {slots} slots per stratum give up to {total} slots; the list "
            f"holds at most {MAX_TOTAL_SLOTS} (choose fewer slots per stratum)",
            field="slots_per_stratum",
            value=slots,
            expected=f"at most {MAX_TOTAL_SLOTS} slots in all",
        )
    return slots


def _strata_to_generate(
    session: Session, study: Study, protocol: Protocol, strata: Sequence[str] | None
) -> list[str]:
    """Every stratum (a first list), or the new ``strata`` of an extension, checked."""
    existing = session.scalar(
        select(func.count()).select_from(RandomizationSchedule).filter_by(study_id=study.id)
    )
    known = all_strata(protocol)
    if strata is None:
        if existing:
            raise ScheduleExistsError(
                f"study {study.code!r} already has an allocation list of {existing} slots",
                field="study",
                value=study.code,
            )
        return known
    unknown = sorted(set(strata) - set(known))
    if unknown:
        raise InvalidInputError(
            f"{unknown[0]!r} is not a stratum of the protocol of study {study.code!r}",
            field="strata",
            value=unknown[0],
        )
    listed = set(
        session.scalars(
            select(RandomizationSchedule.stratum).filter_by(study_id=study.id).distinct()
        )
    )
    repeated = sorted(set(strata) & listed)
    if repeated:
        raise ScheduleExistsError(
            f"stratum {repeated[0]!r} of study {study.code!r} already has its allocation list",
            field="strata",
            value=repeated[0],
        )
    return [key for key in known if key in set(strata)]


def generate_schedule(
    session: Session,
    study: Study,
    *,
    seed: int,
    per_stratum_slots: int,
    strata: Sequence[str] | None = None,
) -> int:
    """Pre-generate the study's concealed allocation list, or extend it with new strata.

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
    strata
        ``None`` (the first list: every stratum of the protocol, refused if the study has a
        list), or the stratum keys to add to an existing list (a protocol amendment that adds a
        level): only those are generated; minimization adds ``per_stratum_slots`` pool slots
        per new stratum.

    Returns
    -------
    int
        Number of slots written.

    Raises
    ------
    ScheduleExistsError
        A first list for a study that has slots, or a stratum of ``strata`` that has its list.
    InvalidInputError
        For a bad seed, a slot count out of bounds (:func:`check_list_size`), a stratum that
        is not one of the protocol's, or a factor or level the list's keys cannot hold.

    Notes
    -----
    Sequence numbers run across the strata in the order of the protocol's levels (the first
    factor varying slowest), one contiguous range per stratum; an extension's numbers continue
    after the list's highest. Kit numbers are ``K<study id>-<6 digits>``, drawn without
    replacement from the seed's own stream and never one the study already has, so they are
    unique, unordered and independent of the arm.
    """
    protocol = study_protocol(study)
    wanted = _strata_to_generate(session, study, protocol, strata)
    per_stratum_slots = check_list_size(protocol, per_stratum_slots, len(wanted))
    stratum_seed(seed, MINIMIZATION_POOL)  # validates the seed before anything is built
    start = session.scalar(
        select(func.coalesce(func.max(RandomizationSchedule.sequence_number), 0)).filter_by(
            study_id=study.id
        )
    )
    rows = _rows(study, protocol, wanted, seed, per_stratum_slots, int(start or 0))
    taken = _taken_kits(session, study) if strata is not None else set()
    for row, kit in zip(rows, _kit_numbers(study, seed, len(rows), taken), strict=True):
        row["kit_number"] = kit
    if rows:
        session.execute(insert(RandomizationSchedule), rows)
    return len(rows)


def _rows(
    study: Study, protocol: Protocol, strata: list[str], seed: int, per_stratum: int, start: int
) -> list[dict[str, Any]]:
    method = protocol.randomization
    if isinstance(method, Minimization):
        total = per_stratum * len(strata)
        return [_row(study, MINIMIZATION_POOL, start + n, 0, 1, 1, "") for n in range(1, total + 1)]
    arms = [arm.code for arm in protocol.arms]
    rows: list[dict[str, Any]] = []
    for stratum in strata:
        sched = stratum_schedule(
            seed,
            stratum,
            per_stratum,
            ratio=method.allocation_ratio,
            block_sizes=method.block_sizes,
            random_sizes=method.random_block_sizes,
        )
        for i in range(len(sched)):
            block, pos, size = sched.block_numbers[i], sched.positions[i], sched.block_sizes[i]
            arm = arms[sched.arms[i]]
            rows.append(_row(study, stratum, start + len(rows) + 1, block, pos, size, arm))
    return rows


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
