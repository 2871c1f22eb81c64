"""Writing the concealed allocation list inside a use case's transaction (two services share it)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from equitrial.randomization import service as allocation_service
from equitrial.services.auth import Actor
from equitrial.store import audit
from equitrial.store import models as m

__all__ = ["write_list"]


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

    The audit row records the slot count and a SHA-256 commitment to the seed, never the seed:
    the list can be rebuilt from the seed and the protocol, and blinded users read the trail.
    Whoever holds the seed can later show it produced this list (the commitment matches).
    ``strata`` (a protocol amendment's new strata) extends an existing list with those strata
    only (:func:`~equitrial.randomization.schedule.generate_schedule`).
    """
    count = allocation_service.generate_schedule(
        session, study, seed=seed, per_stratum_slots=per_stratum_slots, strata=strata
    )
    commitment = hashlib.sha256(f"equitrial-seed:{seed}".encode()).hexdigest()
    audit.append(
        session,
        actor_username=actor.username,
        user_id=actor.user_id,
        action="generate-schedule",
        table_name="randomization_schedule",
        record_id=None,
        new=count,
        reason=f"allocation list generated ({per_stratum_slots} per stratum); "
        f"seed commitment sha256 {commitment}",
    )
    return count
