"""No recoverable seed (issue 8, item 3), on both databases.

The allocation list is a function of its seed; the audit trail, which blinded users read, holds
only a salted commitment to it. A small seed could be found by trying seeds against an unsalted
hash (as the commitment once was: SHA-256 of ``equitrial-seed:<seed>``); here an attacker tries
every small seed against what is stored, both ways, and finds nothing, and a chosen seed below
128 bits is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from equitrial.errors import InvalidInputError
from equitrial.randomization.blocks import stratum_schedule
from equitrial.services import _allocation_list, randomize, study
from equitrial.services.auth import system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
COMMITMENT = re.compile(r"hmac-sha256 ([0-9a-f]{64}) salt ([0-9a-f]{64})")


def _stored(engine: Engine) -> tuple[str, bytes, str]:
    """Everything the trail says about the list: the commitment, its salt, and all its text."""
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(select(m.AuditTrail)).all()
    text = " ".join(str(v) for r in rows for v in (r.old_value, r.new_value, r.reason) if v)
    found = COMMITMENT.search(text)
    assert found is not None
    return found.group(1), bytes.fromhex(found.group(2)), text


def test_small_seeds_cannot_be_recovered_from_the_trail(engine: Engine) -> None:
    study.load_study(engine, system_actor(), PROTOCOL, slots_per_stratum=2)
    commitment, salt, text = _stored(engine)
    for seed in range(20_000):
        guess = f"equitrial-seed:{seed}".encode()
        assert hmac.new(salt, guess, hashlib.sha256).hexdigest() != commitment
        assert hashlib.sha256(guess).hexdigest() not in text  # the old, unsalted commitment


def test_a_known_seed_matches_its_commitment_and_never_appears(engine: Engine) -> None:
    seed = 2**200 + 12345
    study.load_study(engine, system_actor(), PROTOCOL, allocation_seed=seed, slots_per_stratum=2)
    commitment, salt, text = _stored(engine)
    assert len(salt) == 32  # 256 random bits
    expected = hmac.new(salt, f"equitrial-seed:{seed}".encode(), hashlib.sha256).hexdigest()
    assert commitment == expected
    assert str(seed) not in text and hex(seed)[2:] not in text
    with transaction(engine, read_only=True) as session:
        dump = " ".join(str(s.protocol_json) for s in session.scalars(select(m.Study)))
    assert str(seed) not in dump


@pytest.mark.parametrize("seed", [0, 1, 20240501, 2**127 - 1, -(2**200), True])
def test_a_chosen_seed_below_128_bits_is_refused_and_writes_nothing(
    engine: Engine, seed: int
) -> None:
    with pytest.raises(InvalidInputError, match="128 bits") as caught:
        study.load_study(engine, system_actor(), PROTOCOL, allocation_seed=seed)
    assert caught.value.field == "seed"
    with transaction(engine, read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(m.Study)) == 0
        assert session.scalar(select(func.count()).select_from(m.AuditTrail)) == 0


def test_the_smallest_128_bit_seed_is_accepted(engine: Engine) -> None:
    view = study.load_study(
        engine, system_actor(), PROTOCOL, allocation_seed=2**127, slots_per_stratum=2
    )
    assert view.created


def test_generate_list_refuses_a_small_seed_too(trial) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="128 bits"):
        randomize.generate_list(trial.engine, trial["admin"], seed=7, per_stratum_slots=2)


def test_the_default_seed_has_256_bits(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []
    real = _allocation_list.secrets.randbits

    def spy(bits: int) -> int:
        drawn.append(bits)
        return real(bits)

    monkeypatch.setattr(_allocation_list.secrets, "randbits", spy)
    study.load_study(engine, system_actor(), PROTOCOL, slots_per_stratum=2)
    assert drawn and drawn[0] == 256


def test_the_block_lists_accept_a_256_bit_seed() -> None:
    big = 2**256 - 1
    a = stratum_schedule(big, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    b = stratum_schedule(big - 1, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    assert a == stratum_schedule(big, "s=1", 20, ratio=(1, 1), block_sizes=(4, 6))
    assert a.arms != b.arms  # the low bits matter too
