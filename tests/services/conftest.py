"""A loaded study with two sites, one user per role and a generated allocation list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from equitrial.services import sites, study, users
from equitrial.services.auth import Actor, actor_for, system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
SITE_ROLES = ("investigator", "coordinator", "pharmacist")
STUDY_ROLES = (
    "admin",
    "data-manager",
    "monitor",
    "blinded-statistician",
    "unblinded-statistician",
)


@dataclass
class Trial:
    """The engine and an actor per ``"<role>"`` (site A) / ``"<role>@B"``."""

    engine: Engine
    actors: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]


_REAL_HASH_PASSWORD = users.hash_password
_SET_UP_HASHES: dict[tuple[str, str], str] = {}


def _set_up_hash(password: str, username: str) -> str:
    """``users.hash_password``, computed once per test session for each (password, username).

    The fixture's eleven accounts are the same in every test; argon2 is slow by design (about
    half of the fixture's time). A hash computed once is a real argon2id hash of the same
    password and verifies the same way. Only the set-up below uses it: every test body hashes
    with the real function.
    """
    key = (password, username)
    if key not in _SET_UP_HASHES:
        _SET_UP_HASHES[key] = _REAL_HASH_PASSWORD(password, username)
    return _SET_UP_HASHES[key]


@pytest.fixture
def trial(engine: Engine) -> Iterator[Trial]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "hash_password", _set_up_hash)
        actors = _set_up(engine)
    yield Trial(engine, actors)


def _set_up(engine: Engine) -> dict[str, Actor]:
    system = system_actor()
    study.load_study(
        engine, system, PROTOCOL, allocation_seed=2**200 + 20240501, slots_per_stratum=12
    )
    sites.add_site(engine, system, "A", "Site A")
    sites.add_site(engine, system, "B", "Site B")
    # the operator adds only the first administrator; that admin adds everyone else
    users.add_user(engine, system, "admin", PASSWORD, ["admin"])
    with transaction(engine, read_only=True) as session:
        admin = actor_for(session, session.scalars(select(m.User)).one())
    for role in SITE_ROLES:
        users.add_user(engine, admin, f"{role}-a", PASSWORD, [role], site="A")
        users.add_user(engine, admin, f"{role}-b", PASSWORD, [role], site="B")
    for role in STUDY_ROLES:
        if role != "admin":
            users.add_user(engine, admin, role, PASSWORD, [role])
    # actors straight from the stored memberships (the login itself is tested in test_auth.py)
    with transaction(engine, read_only=True) as session:
        stored = {u.username: actor_for(session, u) for u in session.scalars(select(m.User))}
    actors = {role: stored[f"{role}-a"] for role in SITE_ROLES}
    actors |= {f"{role}@B": stored[f"{role}-b"] for role in SITE_ROLES}
    actors |= {role: stored[role] for role in STUDY_ROLES}
    return actors
