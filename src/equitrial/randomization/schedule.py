"""Generation of the concealed allocation list of a study (``randomization_schedule``)."""

from __future__ import annotations

import itertools
import json
from typing import Any, Final

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.protocol import Minimization, Protocol, protocol_from_dict
from equitrial.randomization.blocks import stratum_key, stratum_schedule, stratum_seed
from equitrial.store.models import RandomizationSchedule, Study

__all__ = ["MINIMIZATION_POOL", "ScheduleExistsError", "generate_schedule", "study_protocol"]

MINIMIZATION_POOL: Final = "*"
"""``stratum`` of a minimization slot not yet used: the arm is decided when it is allocated."""

_KIT_LOW, _KIT_HIGH = 100_000, 1_000_000


class ScheduleExistsError(ConflictError):
    """The study already has its allocation list."""

    code = "schedule_exists"


def study_protocol(study: Study) -> Protocol:
    """The study's protocol, read back from ``protocol_json``."""
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
    protocol = study_protocol(study)
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
