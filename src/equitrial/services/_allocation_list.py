"""Writing the concealed allocation list inside a use case's transaction (two services share it).

The seed rebuilds the whole list, so it never reaches the database: the trail holds a salted
commitment to it (HMAC-SHA256 keyed by 256 random bits of salt, both written in the
``generate-schedule`` audit row) with which whoever holds the seed can later show it produced
this list, and which nobody can invert: the salt defeats precomputed tables, and a seed must
carry at least :data:`MIN_SEED_BITS` bits, so trying seeds one by one is hopeless. Each slot is
audited as one whole-row audit row, its arm as a keyed commitment (:mod:`equitrial.store.audit`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitrial.errors import InvalidInputError
from equitrial.randomization import service as allocation_service
from equitrial.services.auth import Actor
from equitrial.store import audit
from equitrial.store import models as m

__all__ = ["MIN_SEED_BITS", "check_seed", "fresh_seed", "seed_commitment", "write_list"]

MIN_SEED_BITS: Final = 128
"""Fewest significant bits of an allocation seed (the default seed has 256)."""


def fresh_seed() -> int:
    """A new secret allocation seed of 256 random bits (never below :data:`MIN_SEED_BITS`)."""
    return secrets.randbits(256) | (1 << 255)


def check_seed(seed: object) -> int:
    """``seed`` if it is a whole number of at least :data:`MIN_SEED_BITS` significant bits.

    Raises
    ------
    InvalidInputError
        A seed that is not a whole number or is below ``2**127``: it could be found by trying
        seeds against the published commitment.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 2 ** (MIN_SEED_BITS - 1):
        raise InvalidInputError(
            f"allocation seed must be a whole number of at least {MIN_SEED_BITS} bits "
            f"(>= 2**{MIN_SEED_BITS - 1}); a smaller seed can be recovered by trying seeds "
            "against its commitment. Leave it out to draw a fresh 256-bit seed",
            field="seed",
            expected=f"a whole number >= 2**{MIN_SEED_BITS - 1}",
        )
    return seed


def seed_commitment(seed: int, salt: bytes) -> str:
    """HMAC-SHA256 of the seed's decimal digits keyed by ``salt``, hex."""
    return hmac.new(salt, f"equitrial-seed:{seed}".encode("ascii"), hashlib.sha256).hexdigest()


def write_list(
    session: Session,
    actor: Actor,
    study: m.Study,
    seed: int,
    per_stratum_slots: int,
    *,
    strata: Sequence[str] | None = None,
) -> int:
    """Write the concealed list inside the caller's transaction and audit it.

    Audited: every slot (one whole-row audit row each, the arm as a keyed commitment), and one
    ``generate-schedule`` row with the slot count, the salt and the salted commitment to the
    seed, never the seed. ``strata`` (a protocol amendment's new strata) extends an existing
    list with those strata only (:func:`~equitrial.randomization.schedule.generate_schedule`).

    Raises
    ------
    InvalidInputError
        A seed below :data:`MIN_SEED_BITS` bits (see :func:`check_seed`).
    """
    check_seed(seed)
    before = session.scalar(select(func.max(m.RandomizationSchedule.id))) or 0
    count = allocation_service.generate_schedule(
        session, study, seed=seed, per_stratum_slots=per_stratum_slots, strata=strata
    )
    table = m.RandomizationSchedule.__table__
    name = m.RandomizationSchedule.__tablename__
    written = session.execute(
        select(table).where(table.c.study_id == study.id, table.c.id > before).order_by(table.c.id)
    )
    audit.append_rows(
        session,
        actor,
        name,
        [(row.id, dict(row._mapping)) for row in written],
        reason="allocation list generated",
    )
    salt = secrets.token_bytes(32)
    audit.append(
        session,
        actor_username=actor.username,
        user_id=actor.user_id,
        action="generate-schedule",
        table_name="randomization_schedule",
        record_id=None,
        new=count,
        reason=f"allocation list generated ({per_stratum_slots} per stratum); seed commitment "
        f"hmac-sha256 {seed_commitment(seed, salt)} salt {salt.hex()}",
    )
    return count
