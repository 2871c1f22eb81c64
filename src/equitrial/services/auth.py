"""Who acts: the :class:`Actor`, the roles and which may be combined, login, the permission check.

Every use case takes an :class:`Actor` and calls :func:`require` before touching data, so the
rule "role R may do X at site S" lives in one place. An actor's roles come from role memberships
per site (a membership without a site covers every site).

Separation of duties: :data:`COMBINABLE_ROLES` is the one table of role pairs one account may
hold together (at any sites: the rule is per account, not per site); every grant checks it
(:func:`check_role_combination`). Credentials (usernames, password strength, hashing) are in
:mod:`equitrial.services._credentials`, the lockout rule in :mod:`equitrial.services._lockout`;
both are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services._credentials import (
    check_password,
    dummy_hash,
    hash_password,
    normalize_username,
    unknown_username_label,
    verify_password,
)
from equitrial.services._lockout import (
    BAD_CREDENTIALS,
    LOCKED,
    AccountLockedError,
    locked_until,
    lockout_attempts,
)
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "BLINDED_ROLES",
    "COMBINABLE_ROLES",
    "ROLES",
    "SUPPLY_ROLES",
    "UNBLINDED_ROLES",
    "AccountLockedError",
    "Actor",
    "Role",
    "SeparationOfDutiesError",
    "actor_for",
    "authenticate",
    "check_password",
    "check_role_combination",
    "hash_password",
    "is_system",
    "is_unblinded",
    "normalize_username",
    "require",
    "require_study_wide",
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
    "supply-manager",
]
# the role names are the store's (its check constraint); the Literal above types them
ROLES: tuple[str, ...] = tuple(m.ROLES)
UNBLINDED_ROLES: frozenset[str] = frozenset({"unblinded-statistician"})
"""Roles that may see the arm of an allocation (the DSMB's unblinded statistician). Kits are
dispensed by number, so the pharmacist stays blinded; an investigator learns one subject's arm
only through the audited emergency unblinding."""
SUPPLY_ROLES: frozenset[str] = frozenset({"supply-manager"})
"""Roles that see the arm of every kit (the unblinded supply manager of the RTSM), and no
subject's allocation: they register kits, ship them and resupply sites by arm."""
BLINDED_ROLES: frozenset[str] = frozenset(ROLES) - UNBLINDED_ROLES - SUPPLY_ROLES

COMBINABLE_ROLES: Mapping[frozenset[str], str] = {
    frozenset({"investigator", "coordinator"}): (
        "the site team that enters data: an investigator may do a coordinator's work at a small "
        "site; both enter, neither verifies"
    ),
    frozenset({"data-manager", "monitor"}): (
        "sponsor-side reviewers of blinded data: both raise queries, neither enters site data "
        "(the monitor verifies, the data manager freezes and locks)"
    ),
    frozenset({"data-manager", "blinded-statistician"}): (
        "blinded data review before the lock: neither enters site data nor sees an arm"
    ),
    frozenset({"monitor", "blinded-statistician"}): (
        "blinded reviewers: neither enters site data nor sees an arm"
    ),
}
"""The ONLY pairs of different roles one account may hold (at the same or different sites).

Every pair not listed is refused. Decisions, role by role:

- ``unblinded-statistician`` combines with nothing: it is the only unblinded role and an account
  never holds a blinded and an unblinded role (ICH E9 2.3.2; ICH E6(R3) 4.1).
- ``admin`` combines with nothing: account administration (who may do what) is kept apart from
  trial data, so granting roles and creating, verifying, signing or analysing data are never
  one login's acts; an admin is blinded (it is not the unblinded role).
- ``investigator`` + ``coordinator``: allowed (the site team; both enter data).
- ``supply-manager`` combines with nothing: it sees the arm of every kit (unblinded), and an
  account never holds a blinded and an unblinded role.
- ``pharmacist`` combines with nothing: the dispensing log is the independent record the doses
  entered by site staff are reconciled with, and sponsor roles have no business at the pharmacy.
- site roles (``investigator``, ``coordinator``, ``pharmacist``) never combine with
  ``monitor``, ``data-manager`` or ``blinded-statistician``: monitors verify and data managers
  query what site staff enter, and a statistician must not shape the data being analysed.
- ``monitor``, ``data-manager``, ``blinded-statistician``: allowed with one another (blinded
  sponsor review; none of them enters site data). That the monitor of a record did not enter it
  is also checked per record by source data verification.

The same role at several sites is always allowed (a coordinator at sites A and B).
"""


class SeparationOfDutiesError(ConflictError):
    """A grant would give one account two roles that :data:`COMBINABLE_ROLES` keeps apart."""

    code = "separation_of_duties"


def _why_not(one: str, other: str) -> str:
    pair = {one, other}
    if pair & (UNBLINDED_ROLES | SUPPLY_ROLES):
        return "an account never holds a blinded and an unblinded role"
    if "admin" in pair:
        return "account administration is kept apart from trial data"
    if "pharmacist" in pair:
        return "the pharmacist's dispensing log is the independent check on site data"
    return "site staff enter the data that monitors, data managers and statisticians review"


def check_role_combination(roles: Iterable[str]) -> None:
    """Refuse a set of roles one account may not hold together.

    Parameters
    ----------
    roles
        Every role the account would hold, at any site (its current roles and the new ones).

    Raises
    ------
    SeparationOfDutiesError
        (``field="role"``) two different roles whose pair is not in :data:`COMBINABLE_ROLES`.
    """
    for one, other in combinations(sorted(set(roles)), 2):
        if frozenset({one, other}) not in COMBINABLE_ROLES:
            raise SeparationOfDutiesError(
                f"roles {one!r} and {other!r} cannot be held by one account: "
                f"{_why_not(one, other)} (see services.auth.COMBINABLE_ROLES)",
                field="role",
                value=other,
                expected="a role that may be combined with the account's other roles",
            )


@dataclass(frozen=True)
class Actor:
    """An authenticated user acting in a use case.

    Attributes
    ----------
    user_id, username
        The user (``user_id`` None: the operator, :func:`system_actor`).
    roles
        Every role the user holds (at some site or at all sites).
    site_ids
        The sites the user may act at; ``None`` means every site.
    memberships
        ``(role, site_id)`` pairs (``site_id`` None = all sites); when given, :func:`require`
        checks the role AT the site (an investigator at A is not an investigator at B).
        Empty: ``roles`` x ``site_ids``.
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

    def sites_with(self, roles: Iterable[str]) -> frozenset[int] | None:
        """The sites at which the actor holds one of ``roles``: ``None`` for every site (a
        study-wide membership), an empty set when it holds none of them."""
        wanted = set(roles)
        if self.memberships:
            sites = {site for role, site in self.memberships if role in wanted}
            if None in sites:
                return None
            return frozenset(site for site in sites if site is not None)
        if not wanted & self.roles:
            return frozenset()
        return self.site_ids

    def has_study_wide(self, role: str) -> bool:
        """Whether the actor holds ``role`` at every site (a membership without a site)."""
        return self.sites_with({role}) is None


def is_unblinded(actor: Actor) -> bool:
    """Whether ``actor`` may see allocated arms."""
    return actor.has_role(UNBLINDED_ROLES)


def is_system(actor: Actor) -> bool:
    """Whether ``actor`` is the operator (:func:`system_actor`), not a logged-in user."""
    return actor.user_id is None


def require_study_wide(actor: Actor, roles: Collection[str]) -> None:
    """Raise :class:`PermissionDeniedError` unless ``actor`` holds one of ``roles`` for the whole
    study (a membership without a site): a role held at some sites does not cover study-wide
    actions such as the database lock."""
    if actor.sites_with(roles) is not None:
        raise PermissionDeniedError(
            f"user {actor.username!r} needs one of the roles {', '.join(sorted(roles))} "
            "for the whole study (a role held at some sites only does not allow this)",
            field="actor",
            value=actor.username,
        )


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


@dataclass(frozen=True)
class _Attempt:
    """What the read phase of a login found (detached values, no session)."""

    label: str  # the stored username, or unknown:<hmac> for an unknown name
    user_id: int | None
    password_hash: str | None
    locked_until: dt.datetime | None


def _read_attempt(engine: Engine, username: object, now: dt.datetime) -> _Attempt:
    try:
        name = normalize_username(username)
    except InvalidInputError:
        name = None
    with transaction(engine, read_only=True) as session:
        user = None
        if name is not None:
            user = session.scalar(select(m.User).where(m.User.username == name))
        if user is None:
            return _Attempt(unknown_username_label(username), None, None, None)
        until = locked_until(session, user.id, now)
        return _Attempt(user.username, user.id, user.password_hash, until)


def _fail(session: Session, attempt: _Attempt, reason: str) -> str:
    audit.append(
        session,
        actor_username=attempt.label,
        user_id=attempt.user_id,
        action="login-failed",
        table_name="users",
        record_id=attempt.user_id,
        reason=reason,
    )
    return reason


def _record(
    session: Session, attempt: _Attempt, ok: bool, now: dt.datetime
) -> Actor | str | dt.datetime:
    """Write the login or the failed login; the actor, or why it failed (a lock's end)."""
    if attempt.user_id is None:
        return _fail(session, attempt, BAD_CREDENTIALS)
    # the user row is locked (PostgreSQL) so concurrent attempts on one account are serial here
    user = session.scalar(select(m.User).where(m.User.id == attempt.user_id).with_for_update())
    if user is None:
        return _fail(session, attempt, BAD_CREDENTIALS)
    until = locked_until(session, user.id, now)  # strikes committed by concurrent attempts
    if until is not None:
        _fail(session, attempt, LOCKED)
        return until
    if not ok or user.password_hash != attempt.password_hash:  # changed while verifying
        return _fail(session, attempt, BAD_CREDENTIALS)
    if not user.active:
        return _fail(session, attempt, "inactive user")
    audit.append(
        session,
        actor_username=user.username,
        user_id=user.id,
        action="login",
        table_name="users",
        record_id=user.id,
    )
    return actor_for(session, user)


def authenticate(
    engine: Engine, username: str, password: str, *, now: dt.datetime | None = None
) -> Actor:
    """Log a user in: check the password and audit the login or the failed login.

    Parameters
    ----------
    engine
        The database.
    username, password
        The credentials; the name is normalized (:func:`normalize_username`).
    now
        The time of the attempt, for the lockout rule (default: now, UTC).

    Returns
    -------
    Actor

    Raises
    ------
    AccountLockedError
        The account is locked (:mod:`equitrial.services._lockout`): refused even with the right
        password, audited as ``login-failed`` with reason ``locked``; the message says until when.
    PermissionDeniedError
        Unknown user, inactive user or wrong password (one message for all three, so the
        response does not tell which). The failed attempt is audited and committed; an
        unknown name is recorded as ``unknown:<HMAC>``, never in clear (it may be a password).

    Notes
    -----
    Three steps, so argon2 (tens of milliseconds) never runs inside a transaction, which on
    SQLite would hold the database's write lock (``BEGIN IMMEDIATE``) for that long: the user
    and its lock state are read in a read-only transaction; the password is verified outside
    any transaction; the outcome is written in a short writing transaction that re-reads the
    user under a row lock (it must still exist with the same password hash, be active, and not
    have been locked meanwhile by concurrent failures). Takes the engine, not a session: the
    failed-login row must be committed even though the call raises.
    """
    at = now or m.utcnow()
    attempt = _read_attempt(engine, username, at)
    if attempt.locked_until is not None:
        with transaction(engine) as session:
            _fail(session, attempt, LOCKED)
        raise AccountLockedError(attempt.label, attempt.locked_until, lockout_attempts())
    dummy = dummy_hash()  # made (once) for every name, known or not: no timing difference
    ok = verify_password(attempt.password_hash or dummy, password)
    with transaction(engine) as session:
        outcome = _record(session, attempt, ok, at)
    if isinstance(outcome, Actor):
        return outcome
    if isinstance(outcome, dt.datetime):
        raise AccountLockedError(attempt.label, outcome, lockout_attempts())
    raise PermissionDeniedError("unknown user or wrong password", field="username")


def system_actor() -> Actor:
    """The operator acting with direct access to the database (``equitrial study load``, ...).

    Commands that set the system up (load the study, add sites, add the FIRST administrator)
    run before any user exists; they are attributed to ``system:<OS user>`` in the audit trail.
    The account use cases (:mod:`equitrial.services.users`) accept this actor only to add the
    first administrator of an empty study; every later account change needs a logged-in admin.
    """
    return Actor(None, f"system:{getpass.getuser()}", frozenset({"admin"}), None)
