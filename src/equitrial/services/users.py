"""Use cases of users and roles: add a user, grant and revoke a role (role changes audited)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.services._base import audited_insert, audited_update
from equitrial.services.auth import ROLES, Actor, hash_password, require
from equitrial.services.sites import site_by_code
from equitrial.stats._validation import check_option
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["UserView", "add_user", "grant_role", "revoke_role", "set_password"]


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


def _user(session: Session, username: str) -> m.User:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", field="username", value=username)
    return user


def _audit_role(
    session: Session, actor: Actor, membership: m.RoleMembership, site: str | None, *, granted: bool
) -> None:
    label = f"{membership.role}@{site or 'all sites'}"
    audit.append(
        session,
        actor_username=actor.username,
        user_id=actor.user_id,
        action="role-change",
        table_name="role_membership",
        record_id=membership.id,
        field="role",
        old=None if granted else label,
        new=label if granted else None,
        reason=f"{'granted to' if granted else 'revoked from'} user {membership.user_id}",
    )


def _grant(session: Session, actor: Actor, user: m.User, role: str, site: str | None) -> None:
    check_option(role, ROLES, "role")
    site_id = None if site is None else site_by_code(session, site).id
    exists = session.scalar(
        select(m.RoleMembership.id).where(
            m.RoleMembership.user_id == user.id,
            m.RoleMembership.role == role,
            m.RoleMembership.site_id.is_(None)
            if site_id is None
            else m.RoleMembership.site_id == site_id,
        )
    )
    if exists is not None:
        raise ConflictError(f"user {user.username!r} already has role {role!r} there", field="role")
    membership = m.RoleMembership(user_id=user.id, role=role, site_id=site_id)
    audited_insert(session, actor, membership)
    _audit_role(session, actor, membership, site, granted=True)


def add_user(
    engine: Engine,
    actor: Actor,
    username: str,
    password: str,
    roles: list[str] | tuple[str, ...],
    site: str | None = None,
) -> UserView:
    """Add a user with one or more roles, at one site or (``site`` None) at every site (admin).

    The audit records the user row (username, active, that a password was set: never the hash)
    and one ``role-change`` row per role.

    Raises
    ------
    InvalidInputError
        Empty username, a password under 8 characters, no role.
    UnknownOptionError
        A role not among :data:`~equitrial.services.auth.ROLES`.
    NotFoundError
        Unknown site code.
    ConflictError
        The username is taken.
    """
    require(actor, roles={"admin"})
    if not username or not username.strip():
        raise InvalidInputError("username is required", field="username")
    if not roles:
        raise InvalidInputError("a user needs at least one role", field="role")
    for role in roles:
        check_option(role, ROLES, "role")
    password_hash = hash_password(password)
    with transaction(engine) as session:
        if session.scalar(select(m.User.id).where(m.User.username == username)) is not None:
            raise ConflictError(f"user {username!r} exists", field="username", value=username)
        user = m.User(username=username, password_hash=password_hash, active=True)
        audited_insert(session, actor, user)
        for role in roles:
            _grant(session, actor, user, role, site)
        return _view(session, user)


def grant_role(
    engine: Engine, actor: Actor, username: str, role: str, site: str | None = None
) -> UserView:
    """Give ``username`` a role at a site (``None``: every site); audited as ``role-change``."""
    require(actor, roles={"admin"})
    with transaction(engine) as session:
        user = _user(session, username)
        _grant(session, actor, user, role, site)
        return _view(session, user)


def revoke_role(
    engine: Engine, actor: Actor, username: str, role: str, site: str | None = None
) -> UserView:
    """Take a role away; audited as ``role-change`` (the membership row is deleted)."""
    require(actor, roles={"admin"})
    with transaction(engine) as session:
        user = _user(session, username)
        site_id = None if site is None else site_by_code(session, site).id
        membership = session.scalar(
            select(m.RoleMembership).where(
                m.RoleMembership.user_id == user.id,
                m.RoleMembership.role == role,
                m.RoleMembership.site_id.is_(None)
                if site_id is None
                else m.RoleMembership.site_id == site_id,
            )
        )
        if membership is None:
            raise NotFoundError(f"user {username!r} has no role {role!r} there", field="role")
        _audit_role(session, actor, membership, site, granted=False)
        session.delete(membership)
        audit.record_changes(session, actor, membership, reason=f"role {role} revoked")
        return _view(session, user)


def set_password(engine: Engine, actor: Actor, username: str, password: str) -> UserView:
    """Set a new password (the user itself or an admin); audited without the hash."""
    if actor.username != username:
        require(actor, roles={"admin"})
    password_hash = hash_password(password)
    with transaction(engine) as session:
        user = _user(session, username)
        audited_update(
            session, actor, user, {"password_hash": password_hash}, reason="password change"
        )
        return _view(session, user)
