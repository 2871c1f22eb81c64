"""The demo study: a fresh SQLite database, the protocol, sites, users, the depot and its kits.

Everything is created through the services, as an operator and an administrator would: the
first administrator by the operator (the system actor), the sites and every other user by that
administrator, the kits by the supply manager.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from equitrial.demo.patients import SiteSpec
from equitrial.errors import ConflictError
from equitrial.protocol import Protocol, load_protocol
from equitrial.services import sites as site_service
from equitrial.services import study as study_service
from equitrial.services import supply, users
from equitrial.services.auth import Actor, actor_for, system_actor
from equitrial.store import keys, migrate
from equitrial.store import models as m
from equitrial.store.db import make_engine, transaction

__all__ = ["DEPOT", "SITE_ROLES", "STUDY_ROLES", "DemoStudy", "open_study"]

DEPOT = "D01"
SITE_ROLES = (("investigator", "inv"), ("coordinator", "nurse"), ("pharmacist", "pharm"))
"""Site roles of the demo and the prefix of their user names (``nurse-s01``)."""
STUDY_ROLES = (
    ("data-manager", "dm"),
    ("monitor", "monitor"),
    ("supply-manager", "supply"),
    ("blinded-statistician", "stat"),
    ("unblinded-statistician", "dsmb-stat"),
)
"""Study-wide roles of the demo and their user names."""


@dataclass
class DemoStudy:
    """The demo's database, protocol, sites and the actor of every demo user."""

    engine: Engine
    path: Path
    protocol: Protocol
    sites: list[SiteSpec]
    actors: dict[str, Actor] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)

    def site_actor(self, role_prefix: str, site: int) -> Actor:
        """The ``inv`` / ``nurse`` / ``pharm`` user of the site with index ``site``."""
        return self.actors[f"{role_prefix}-{self.sites[site].code.lower()}"]


def _password(given: str | None) -> str:
    return given if given is not None else secrets.token_urlsafe(12) + "-7a"


def open_study(
    out: Path,
    protocol_path: Path,
    sites: list[SiteSpec],
    *,
    password: str | None,
    allocation_seed: int,
) -> DemoStudy:
    """Create ``out/equitrial.db`` (refused if it exists), load the protocol and add the sites
    and users. The audit signing key of the environment is created if there is none (as
    ``equitrial db upgrade`` does), so that ``equitrial audit verify`` checks the demo database
    with it."""
    path = out / "equitrial.db"
    _clear_previous_demo(out, path)
    out.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    keys.create_key()
    migrate.upgrade(url)
    engine = make_engine(url, durable=False)  # made again from the seed if the machine fails
    system = system_actor()
    study_service.load_study(engine, system, protocol_path, allocation_seed=allocation_seed)
    demo = DemoStudy(engine, path, load_protocol(protocol_path), sites)
    admin_password = _password(password)
    users.add_user(engine, system, "admin", admin_password, ["admin"])
    demo.passwords["admin"] = admin_password
    demo.users.append({"username": "admin", "role": "admin", "site": None})
    admin = _actor(engine, "admin")
    for spec in sites:
        site_service.add_site(engine, admin, spec.code, spec.name, site_type=spec.site_type,
                              country=spec.country, region=spec.region)  # fmt: skip
    accounts = [
        (f"{prefix}-{spec.code.lower()}", role, spec.code)
        for spec in sites
        for role, prefix in SITE_ROLES
    ] + [(name, role, None) for role, name in STUDY_ROLES]
    new = [users.NewUser(name, _password(password), (role,), site) for name, role, site in accounts]
    users.add_users(engine, admin, new)  # the passwords hashed side by side
    for account in new:
        demo.passwords[account.username] = account.password
        demo.users.append(
            {"username": account.username, "role": account.roles[0], "site": account.site}
        )
    with transaction(engine, read_only=True) as session:
        for user in session.scalars(select(m.User)):
            demo.actors[user.username] = actor_for(session, user)
    return demo


DEMO_FILES = ("equitrial.db", "equitrial.db-wal", "equitrial.db-shm", "audit-verify.txt",
              "users.json", "passwords.json")  # fmt: skip
"""What a demo writes in its directory (SQLite's WAL files included)."""


def _clear_previous_demo(out: Path, path: Path) -> None:
    """Remove the files of an earlier demo in ``out``; refuse any other ``equitrial.db``."""
    if not path.exists():
        return
    if not ((out / "users.json").is_file() and (out / "audit-verify.txt").is_file()):
        raise ConflictError(
            f"{path} exists and is not an earlier demo's; give another --out directory",
            field="out",
            value=str(out),
        )
    for name in DEMO_FILES:
        (out / name).unlink(missing_ok=True)


def _actor(engine: Engine, username: str) -> Actor:
    with transaction(engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == username)).one()
        return actor_for(session, user)


def stock_depot(
    demo: DemoStudy,
    start: dt.date,
    kits_per_arm_per_lot: int,
    rng: np.random.Generator,
    lots: int = 3,
) -> int:
    """Register the depot and its kits (supply manager): ``lots`` lots per arm, the first
    expiring two years after ``start``, each next one a year later; kit numbers in random
    order, so that a number says nothing about its arm. Returns the kits registered."""
    manager = demo.actors["supply"]
    supply.add_depot(demo.engine, manager, DEPOT, "Central depot")
    arms = [a.code for a in demo.protocol.arms]
    total = lots * len(arms) * kits_per_arm_per_lot
    numbers = iter(rng.permutation(total) + 1)
    kits = []
    for lot in range(lots):
        expiry = start + dt.timedelta(days=730 + 365 * lot)
        for arm in arms:
            for _ in range(kits_per_arm_per_lot):
                kits.append(
                    {
                        "kit_number": f"K{int(next(numbers)):06d}",
                        "lot": f"LOT-{lot + 1:02d}",
                        "expiry": expiry,
                        "arm": arm,
                    }
                )
    kits.sort(key=lambda k: str(k["kit_number"]))
    return supply.register_kits(demo.engine, manager, DEPOT, kits)
