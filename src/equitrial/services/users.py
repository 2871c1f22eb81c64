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

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from equitrial.services._base import audited_insert, audited_update
from equitrial.services.auth import (
    ROLES,
    Actor,
    actor_for,
    check_role_combination,
    hash_password,
    is_system,
    normalize_username,
)
from equitrial.services.sites import site_by_code
from equitrial.stats._validation import check_option
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["UserView", "add_user", "grant_role", "revoke_role", "set_password"]

ACCOUNT_LOCK_KEY: Final = 5_823_170_412_962  # pg_advisory_xact_lock key of account writes


@dataclass(frozen=True)
class UserView:
    """A user and its roles as ``(role, site code or None)`` pairs (no password hash)."""

    id: int
    username: str
    active: bool
    roles: tuple[tuple[str, str | None], ...]


def _view(session: Session, user: m.User) -> UserView:
    rows = session.execute(
        select(m.RoleMembership.role, m.Site.code)
        .outerjoin(m.Site, m.Site.id == m.RoleMembership.site_id)
        .where(m.RoleMembership.user_id == user.id)
        .order_by(m.RoleMembership.id)
    ).all()
    return UserView(user.id, user.username, user.active, tuple((r, s) for r, s in rows))


def _serialize_account_writes(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ACCOUNT_LOCK_KEY)))


def _user(session: Session, username: str) -> m.User:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", field="username", value=username)
    return user


def _site_id(session: Session, site: str | None) -> int | None:
    return None if site is None else site_by_code(session, site).id


def _acting_user(session: Session, actor: Actor) -> Actor:
    """The acting user as stored now; refuses the operator and a deactivated or deleted user."""
    if is_system(actor):
        raise PermissionDeniedError(
            f"{actor.username} (the operator) may only add the first administrator, on a "
            "database with no user; account changes need a logged-in administrator (--as ADMIN)",
            field="actor",
            value=actor.username,
        )
    user = session.get(m.User, actor.user_id)
    if user is None or not user.active:
        raise PermissionDeniedError(
            f"user {actor.username!r} is not an active user", field="actor", value=actor.username
        )
    return actor_for(session, user)


def _administers(acting: Actor, site_id: int | None) -> bool:
    """Study-wide (``site_id`` None): a study-wide admin; a site: an admin there or everywhere."""
    if site_id is None:
        return acting.has_study_wide("admin")
    return acting.has_role({"admin"}, site_id)


def _require_admin_at(acting: Actor, site_id: int | None, site: str | None) -> None:
    """A study-wide role needs a study-wide admin; a role at a site, an admin of that site."""
    if not acting.has_role({"admin"}):
        raise PermissionDeniedError(
            f"user {acting.username!r} needs the role admin", field="actor", value=acting.username
        )
    if site_id is None and not _administers(acting, None):
        raise PermissionDeniedError(
            f"user {acting.username!r} is a site administrator: it may create users and grant "
            "roles only at its own sites, never study-wide (give --site)",
            field="site",
            value=acting.username,
        )
    if site_id is not None and not _administers(acting, site_id):
        raise PermissionDeniedError(
            f"user {acting.username!r} needs the role admin at site {site}",
            field="site",
            value=site,
        )


def _memberships(session: Session, user: m.User) -> list[m.RoleMembership]:
    return list(
        session.scalars(select(m.RoleMembership).where(m.RoleMembership.user_id == user.id))
    )


def _label(role: str, site: str | None) -> str:
    return f"{role}@{site or 'all sites'}"


def _audit_role(
    session: Session, actor: Actor, membership_id: int, user_id: int, label: str, *, granted: bool
) -> None:
    audit.append(
        session,
        actor_username=actor.username,
        user_id=actor.user_id,
        action="role-change",
        table_name="role_membership",
        record_id=membership_id,
        field="role",
        old=None if granted else label,
        new=label if granted else None,
        reason=f"{'granted to' if granted else 'revoked from'} user {user_id}",
    )


def _grant(
    session: Session, actor: Actor, user: m.User, role: str, site_id: int | None, site: str | None
) -> None:
    held = _memberships(session, user)
    if any(h.role == role and h.site_id == site_id for h in held):
        raise ConflictError(f"user {user.username!r} already has role {role!r} there", field="role")
    check_role_combination({h.role for h in held} | {role})
    membership = audited_insert(
        session, actor, m.RoleMembership(user_id=user.id, role=role, site_id=site_id)
    )
    _audit_role(session, actor, membership.id, user.id, _label(role, site), granted=True)


def _check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    if isinstance(roles, str) or not roles:
        raise InvalidInputError("a user needs at least one role (a list of roles)", field="role")
    for role in roles:
        check_option(role, ROLES, "role")
    unique = list(dict.fromkeys(roles))
    check_role_combination(unique)
    return unique


def _require_first_admin(session: Session, roles: list[str], site_id: int | None) -> None:
    if roles == ["admin"] and site_id is None:
        if session.scalar(select(m.User.id).limit(1)) is None:
            return
    raise PermissionDeniedError(
        "the operator (no --as) may add only the first administrator: role admin at every "
        "site, on a database with no user yet; log in as an administrator to add users "
        "(equitrial user add NAME --role ROLE --as ADMIN --password-stdin)",
        field="actor",
    )


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
    wanted = _check_roles(roles)
    password_hash = hash_password(password, name)  # argon2 before the write lock is taken
    with transaction(engine) as session:
        _serialize_account_writes(session)
        site_id = _site_id(session, site)
        if is_system(actor):
            _require_first_admin(session, wanted, site_id)
        else:
            _require_admin_at(_acting_user(session, actor), site_id, site)
        if session.scalar(select(m.User.id).where(m.User.username == name)) is not None:
            raise ConflictError(f"user {name!r} exists", field="username", value=name)
        user = audited_insert(
            session, actor, m.User(username=name, password_hash=password_hash, active=True)
        )
        for role in wanted:
            _grant(session, actor, user, role, site_id, site)
        return _view(session, user)


def _target(
    session: Session, actor: Actor, username: str, site_id: int | None, site: str | None
) -> m.User:
    """The user whose roles change, once the actor is known to administer ``site``."""
    acting = _acting_user(session, actor)
    _require_admin_at(acting, site_id, site)  # before the lookup: no probing for names
    user = _user(session, normalize_username(username))
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
        _serialize_account_writes(session)
        site_id = _site_id(session, site)
        user = _target(session, actor, username, site_id, site)
        _grant(session, actor, user, role, site_id, site)
        return _view(session, user)


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
    label = _label(role, site)
    with transaction(engine) as session:
        _serialize_account_writes(session)
        site_id = _site_id(session, site)
        user = _target(session, actor, username, site_id, site)
        membership = next(
            (h for h in _memberships(session, user) if h.role == role and h.site_id == site_id),
            None,
        )
        if membership is None:
            raise NotFoundError(f"user {user.username!r} has no role {label}", field="role")
        membership_id = membership.id
        session.delete(membership)
        audit.record_changes(session, actor, membership, reason=reason or f"role {label} revoked")
        _audit_role(session, actor, membership_id, user.id, label, granted=False)
        return _view(session, user)


def _require_authority_over(session: Session, acting: Actor, user: m.User) -> None:
    """An admin may reset the password only of users all of whose roles it administers."""
    sites = {h.site_id for h in _memberships(session, user)} or {None}
    if not all(_administers(acting, site_id) for site_id in sites):
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
        _serialize_account_writes(session)
        acting = _acting_user(session, actor)
        if name != acting.username and not acting.has_role({"admin"}):
            raise PermissionDeniedError(
                f"user {acting.username!r} may set only its own password",
                field="username",
                value=name,
            )
        user = _user(session, name)
        own = user.id == acting.user_id
        if not own:
            _require_authority_over(session, acting, user)
        reason = "password changed by the user" if own else "password reset by an administrator"
        audited_update(session, actor, user, {"password_hash": password_hash}, reason=reason)
        return _view(session, user)
