"""Who acts: the :class:`Actor`, password hashing (argon2id), login, and the one permission check.

Every use case takes an :class:`Actor` and calls :func:`require` before touching data, so the
rule "role R may do X at site S" lives in one place. An actor's roles come from role memberships
per site (a membership without a site covers every site).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import InvalidInputError, PermissionDeniedError
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "BLINDED_ROLES",
    "ROLES",
    "UNBLINDED_ROLES",
    "Actor",
    "Role",
    "actor_for",
    "authenticate",
    "hash_password",
    "is_unblinded",
    "require",
    "system_actor",
    "verify_password",
]

Role = Literal[
    "admin",
    "investigator",
    "coordinator",
    "data-manager",
    "monitor",
    "blinded-statistician",
    "unblinded-statistician",
    "pharmacist",
]
# the role names are the store's (its check constraint); the Literal above types them
ROLES: tuple[str, ...] = tuple(m.ROLES)
UNBLINDED_ROLES: frozenset[str] = frozenset({"unblinded-statistician"})
"""Roles that may see the arm of an allocation (the DSMB's unblinded statistician). Kits are
dispensed by number, so the pharmacist stays blinded; an investigator learns one subject's arm
only through the audited emergency unblinding."""
BLINDED_ROLES: frozenset[str] = frozenset(ROLES) - UNBLINDED_ROLES

# argon2id with the library's defaults (RFC 9106 second recommended option as of argon2-cffi 23)
_HASHER = PasswordHasher()
# verified against when the user does not exist, so an unknown name takes as long as a bad password
_DUMMY_HASH = _HASHER.hash(os.urandom(16).hex())


@dataclass(frozen=True)
class Actor:
    """An authenticated user acting in a use case.

    Attributes
    ----------
    user_id, username
        The user.
    roles
        Every role the user holds (at some site or at all sites).
    site_ids
        The sites the user may act at; ``None`` means every site.
    memberships
        ``(role, site_id)`` pairs (``site_id`` None = all sites); when given, :func:`require`
        checks the role AT the site (a coordinator at A who is a monitor at B is not a
        coordinator at B). Empty: ``roles`` x ``site_ids``.
    """

    user_id: int | None
    username: str
    roles: frozenset[str]
    site_ids: frozenset[int] | None
    memberships: frozenset[tuple[str, int | None]] = field(default=frozenset())

    def has_role(self, roles: Iterable[str], site_id: int | None = None) -> bool:
        """Whether the actor holds one of ``roles`` (at ``site_id`` when given)."""
        wanted = set(roles)
        if self.memberships:
            return any(
                role in wanted and (site is None or site_id is None or site == site_id)
                for role, site in self.memberships
            )
        if not wanted & self.roles:
            return False
        return site_id is None or self.site_ids is None or site_id in self.site_ids


def is_unblinded(actor: Actor) -> bool:
    """Whether ``actor`` may see allocated arms."""
    return actor.has_role(UNBLINDED_ROLES)


def require(actor: Actor, *, roles: Collection[str], site: int | None = None) -> None:
    """Raise :class:`PermissionDeniedError` unless ``actor`` holds one of ``roles`` at ``site``.

    Parameters
    ----------
    actor
        Who acts.
    roles
        Roles allowed to do the action.
    site
        The site whose data is touched; ``None`` for study-wide actions.
    """
    if not actor.has_role(roles, site):
        where = "" if site is None else f" at site {site}"
        raise PermissionDeniedError(
            f"user {actor.username!r} needs one of the roles {', '.join(sorted(roles))}{where}",
            field="actor",
            value=actor.username,
        )


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (refuses fewer than 8 characters)."""
    if not isinstance(password, str) or len(password) < 8:
        raise InvalidInputError("password must have at least 8 characters", field="password")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (argon2 verification)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_for(session: Session, user: m.User) -> Actor:
    """The :class:`Actor` of a stored user, from its role memberships."""
    rows = session.execute(
        select(m.RoleMembership.role, m.RoleMembership.site_id).where(
            m.RoleMembership.user_id == user.id
        )
    ).all()
    memberships = frozenset((str(role), site) for role, site in rows)
    sites = {site for _, site in memberships}
    site_ids = None if None in sites else frozenset(int(s) for s in sites if s is not None)
    return Actor(
        user.id, user.username, frozenset(r for r, _ in memberships), site_ids, memberships
    )


def authenticate(engine: Engine, username: str, password: str) -> Actor:
    """Log a user in: check the password and audit the login or the failed login.

    Parameters
    ----------
    engine
        The database.
    username, password
        The credentials.

    Returns
    -------
    Actor

    Raises
    ------
    PermissionDeniedError
        Unknown user, inactive user or wrong password (one message for all three, so the
        response does not tell which). The failed attempt is audited and committed.

    Notes
    -----
    Takes the engine, not a session: the failed-login audit row must be committed even though
    the call raises, so it runs in its own transaction.
    """
    with transaction(engine) as session:
        user = session.scalar(select(m.User).where(m.User.username == username))
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is not None and ok and user.active:
            audit.append(
                session,
                actor_username=user.username,
                user_id=user.id,
                action="login",
                table_name="users",
                record_id=user.id,
            )
            return actor_for(session, user)
        audit.append(
            session,
            actor_username=str(username),
            user_id=None if user is None else user.id,
            action="login-failed",
            table_name="users",
            record_id=None if user is None else user.id,
            reason="inactive user" if user is not None and ok else "bad credentials",
        )
    raise PermissionDeniedError("unknown user or wrong password", field="username", value=username)


def system_actor() -> Actor:
    """The operator acting with direct access to the database (``equitrial user add``, ...).

    Commands that set the system up (load the study, add sites and users) run before any user
    exists; they are attributed to ``system:<OS user>`` in the audit trail, with admin rights.
    """
    return Actor(None, f"system:{getpass.getuser()}", frozenset({"admin"}), None)
