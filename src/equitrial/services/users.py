"""Use cases of accounts: add a user, grant and revoke a role, set a password.

Who may change accounts (separation of duties, ICH E6(R3) 4.3.8; 21 CFR 11.10(d), (g)):

- only a logged-in administrator, re-read from the database in the use case's transaction
  (an admin whose role was revoked cannot keep acting with an old :class:`Actor`);
- the operator (:func:`~equitrial.services.auth.system_actor`, ``equitrial user add`` without
  ``--as``) only to add the FIRST administrator: role ``admin`` at every site, on a database
  with no user at all;
- a site administrator (``admin`` at a site) only AT its own sites: it cannot create study-wide
  users, grant a study-wide role (the admin role included) or reset the password of a user who
  holds a role elsewhere; a study-wide administrator may do all of that;
- nobody grants or revokes their own roles;
- every account's roles together must be allowed by
  :data:`~equitrial.services.auth.COMBINABLE_ROLES`, checked at every grant.

Every row is written through :func:`~equitrial.services._base.audited_insert` /
:func:`~equitrial.services._base.audited_update` / :func:`equitrial.store.audit.record_changes`,
and each grant or revoke adds a human-readable ``role-change`` row. Passwords are hashed
(argon2, slow) before the transaction opens. Account writes are serialized (an advisory lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two concurrent grants cannot together build a
forbidden combination and two operators cannot both add a "first" administrator.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from equitrial.services._accounts import (
    UserView,
    acting_user,
    administers,
    audit_role,
    check_roles,
    grant,
    memberships,
    require_admin_at,
    require_first_admin,
    role_label,
    serialize_account_writes,
    site_id_of,
    user_named,
    view_of_user,
)
from equitrial.services._base import audited_insert, audited_update
from equitrial.services.auth import (
    ROLES,
    Actor,
    check_password,
    hash_password,
    is_system,
    normalize_username,
)
from equitrial.stats._validation import check_option
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction
from equitrial.store.workers import default_workers

__all__ = [
    "NewUser",
    "UserView",
    "add_user",
    "add_users",
    "grant_role",
    "revoke_role",
    "set_password",
]


@dataclass(frozen=True)
class NewUser:
    """An account to add with :func:`add_users` (the arguments of :func:`add_user`)."""

    username: str
    password: str
    roles: tuple[str, ...]
    site: str | None = None


def add_user(
    engine: Engine,
    actor: Actor,
    username: str,
    password: str,
    roles: list[str] | tuple[str, ...],
    site: str | None = None,
) -> UserView:
    """Add a user with one or more roles, at one site or (``site`` None) at every site.

    Parameters
    ----------
    engine
        The database.
    actor
        A logged-in administrator (of ``site``, or study-wide when ``site`` is None), or the
        operator for the first administrator only (see the module docstring).
    username
        Normalized before it is stored (:func:`~equitrial.services.auth.normalize_username`).
    password
        Checked by :func:`~equitrial.services.auth.check_password`.
    roles
        Every role of the new account; together allowed by ``COMBINABLE_ROLES``.
    site
        Site code the roles are limited to; ``None``: every site.

    Returns
    -------
    UserView

    Raises
    ------
    InvalidInputError
        A username or password refused (``field`` names which), no role.
    UnknownOptionError
        A role not among :data:`~equitrial.services.auth.ROLES`.
    SeparationOfDutiesError
        Roles that one account may not hold together.
    NotFoundError
        Unknown site code.
    PermissionDeniedError
        The actor may not create this account (see the module docstring).
    ConflictError
        The (normalized) username is taken, also by a deactivated user.

    Notes
    -----
    The audit records the user row field by field (its password hash only as the audit layer's
    commitment, never in clear) and each membership, plus one ``role-change`` row per role.
    """
    name = normalize_username(username)
    wanted = check_roles(roles)
    password_hash = hash_password(password, name)  # argon2 before the write lock is taken
    with transaction(engine) as session:
        return _insert_user(session, actor, name, wanted, password_hash, site)


def add_users(engine: Engine, actor: Actor, accounts: Sequence[NewUser]) -> list[UserView]:
    """Add several users at once, all or nothing: :func:`add_user` of each, in one transaction.

    The passwords are hashed (argon2, slow by design) side by side on the machine's cores
    before the transaction opens; the accounts are then written in the order given, each
    checked and audited as :func:`add_user` does.

    Raises
    ------
    InvalidInputError, UnknownOptionError, SeparationOfDutiesError, NotFoundError,
    PermissionDeniedError, ConflictError
        As :func:`add_user`, for the first account refused (named in the message of a refused
        name or password); nothing is written.
    """
    names = [normalize_username(a.username) for a in accounts]
    wanted = [check_roles(a.roles) for a in accounts]
    for name, account in zip(names, accounts, strict=True):
        try:
            check_password(account.password, name)
        except InvalidInputError as error:
            raise InvalidInputError(f"user {name!r}: {error}", field="password") from None
    if not is_system(actor):  # refused before any hash is paid for (checked again below)
        with transaction(engine, read_only=True) as session:
            acting = acting_user(session, actor)
            for site in dict.fromkeys(a.site for a in accounts):
                require_admin_at(acting, site_id_of(session, site), site)
    workers = max(1, min(len(accounts), default_workers()))
    with ThreadPoolExecutor(workers) as pool:  # argon2 releases the GIL while it hashes
        hashes = list(pool.map(hash_password, [a.password for a in accounts], names))
    with transaction(engine) as session:
        return [
            _insert_user(session, actor, name, roles, password_hash, account.site)
            for name, roles, password_hash, account in zip(
                names, wanted, hashes, accounts, strict=True
            )
        ]


def _insert_user(
    session: Session,
    actor: Actor,
    name: str,
    wanted: list[str],
    password_hash: str,
    site: str | None,
) -> UserView:
    """Write one checked account (normalized name, roles, hash) with its roles, audited."""
    serialize_account_writes(session)
    site_id = site_id_of(session, site)
    if is_system(actor):
        require_first_admin(session, wanted, site_id)
    else:
        require_admin_at(acting_user(session, actor), site_id, site)
    if session.scalar(select(m.User.id).where(m.User.username == name)) is not None:
        raise ConflictError(f"user {name!r} exists", field="username", value=name)
    user = audited_insert(
        session, actor, m.User(username=name, password_hash=password_hash, active=True)
    )
    for role in wanted:
        grant(session, actor, user, role, site_id, site)
    return view_of_user(session, user)


def _target(
    session: Session, actor: Actor, username: str, site_id: int | None, site: str | None
) -> m.User:
    """The user whose roles change, once the actor is known to administer ``site``."""
    acting = acting_user(session, actor)
    require_admin_at(acting, site_id, site)  # before the lookup: no probing for names
    user = user_named(session, normalize_username(username))
    if user.id == acting.user_id:
        raise PermissionDeniedError(
            f"user {acting.username!r} cannot change its own roles; another administrator must",
            field="username",
            value=user.username,
        )
    return user


def grant_role(
    engine: Engine, actor: Actor, username: str, role: str, site: str | None = None
) -> UserView:
    """Give ``username`` a role at a site (``None``: every site); audited as ``role-change``.

    Raises
    ------
    UnknownOptionError, NotFoundError
        Unknown role, user or site.
    PermissionDeniedError
        The operator, a non-admin, a site admin granting elsewhere or study-wide, or the user
        itself.
    SeparationOfDutiesError
        The user's roles and ``role`` may not be held together.
    ConflictError
        The user has that role there already.
    """
    check_option(role, ROLES, "role")
    with transaction(engine) as session:
        serialize_account_writes(session)
        site_id = site_id_of(session, site)
        user = _target(session, actor, username, site_id, site)
        grant(session, actor, user, role, site_id, site)
        return view_of_user(session, user)


def revoke_role(
    engine: Engine,
    actor: Actor,
    username: str,
    role: str,
    site: str | None = None,
    *,
    reason: str | None = None,
) -> UserView:
    """Take a role away: the membership row is deleted (audited) and a ``role-change`` written.

    Parameters
    ----------
    reason
        Why (default: ``"role <role>@<site> revoked"``).

    Raises
    ------
    UnknownOptionError, NotFoundError
        Unknown role, user or site, or the user has no such role there.
    PermissionDeniedError
        As for :func:`grant_role`.
    """
    check_option(role, ROLES, "role")
    label = role_label(role, site)
    with transaction(engine) as session:
        serialize_account_writes(session)
        site_id = site_id_of(session, site)
        user = _target(session, actor, username, site_id, site)
        membership = next(
            (h for h in memberships(session, user) if h.role == role and h.site_id == site_id),
            None,
        )
        if membership is None:
            raise NotFoundError(f"user {user.username!r} has no role {label}", field="role")
        membership_id = membership.id
        session.delete(membership)
        audit.record_changes(session, actor, membership, reason=reason or f"role {label} revoked")
        audit_role(session, actor, membership_id, user.id, label, granted=False)
        return view_of_user(session, user)


def _require_authority_over(session: Session, acting: Actor, user: m.User) -> None:
    """An admin may reset the password only of users all of whose roles it administers."""
    sites = {h.site_id for h in memberships(session, user)} or {None}
    if not all(administers(acting, site_id) for site_id in sites):
        raise PermissionDeniedError(
            f"user {acting.username!r} may not set the password of {user.username!r}, who "
            "holds roles outside the sites it administers",
            field="username",
            value=user.username,
        )


def set_password(engine: Engine, actor: Actor, username: str, password: str) -> UserView:
    """Set a new password: the user itself, or an administrator of every site the user works at.

    Raises
    ------
    InvalidInputError
        A weak password (:func:`~equitrial.services.auth.check_password`).
    NotFoundError
        Unknown user.
    PermissionDeniedError
        The operator; another user who is not an administrator of all the user's sites.

    Notes
    -----
    Audited as an update of ``password_hash`` (written to the trail only as a commitment) with
    the reason "password changed by the user" or "password reset by an administrator".
    """
    name = normalize_username(username)
    password_hash = hash_password(password, name)  # argon2 before the write lock is taken
    with transaction(engine) as session:
        serialize_account_writes(session)
        acting = acting_user(session, actor)
        if name != acting.username and not acting.has_role({"admin"}):
            raise PermissionDeniedError(
                f"user {acting.username!r} may set only its own password",
                field="username",
                value=name,
            )
        user = user_named(session, name)
        own = user.id == acting.user_id
        if not own:
            _require_authority_over(session, acting, user)
        reason = "password changed by the user" if own else "password reset by an administrator"
        audited_update(session, actor, user, {"password_hash": password_hash}, reason=reason)
        return view_of_user(session, user)
