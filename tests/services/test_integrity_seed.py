"""Issue 3 (services share): a chosen allocation seed has at least 128 bits; the default 256.

On SQLite and PostgreSQL (the ``engine`` fixture: an empty, migrated database).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from equitrial.errors import InvalidInputError
from equitrial.randomization.blocks import stratum_schedule
from equitrial.services import study
from equitrial.services.auth import system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

EXAMPLE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def _rows(engine) -> tuple[int, int, int]:
    with transaction(engine, read_only=True) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (m.Study, m.RandomizationSchedule, m.AuditTrail)
        )


@pytest.mark.parametrize("seed", [0, 1, 20240501, 2**63 - 1, 2**127 - 1, -(2**200), True])
def test_a_chosen_seed_of_fewer_than_128_bits_is_refused(engine, seed):
    with pytest.raises(InvalidInputError, match="128 bits") as error:
        study.load_study(engine, system_actor(), EXAMPLE, allocation_seed=seed)
    assert error.value.field == "allocation_seed"
    assert _rows(engine) == (0, 0, 0)  # nothing written


def test_a_seed_of_128_bits_or_more_is_accepted(engine):
    view = study.load_study(
        engine, system_actor(), EXAMPLE, allocation_seed=2**127, slots_per_stratum=2
    )
    assert view.created
    assert _rows(engine)[1] >= 8 * 2


def test_the_default_seed_has_256_bits(engine, monkeypatch):
    drawn: list[int] = []
    real = study.secrets.randbits

    def spy(bits: int) -> int:
        drawn.append(bits)
        return real(bits)

    monkeypatch.setattr(study.secrets, "randbits", spy)
    study.load_study(engine, system_actor(), EXAMPLE, slots_per_stratum=2)
    assert drawn and drawn[0] == 256


def test_the_block_lists_accept_a_256_bit_seed():
    big = 2**256 - 1
    a = stratum_schedule(big, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    b = stratum_schedule(big - 1, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    assert a == stratum_schedule(big, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    assert a.arms != b.arms  # the low bits matter too
