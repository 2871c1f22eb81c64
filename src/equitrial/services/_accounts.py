"""What the account use cases of :mod:`equitrial.services.users` share: who may act, the
checks of roles, the serialization of account writes, the grant of a role and the view of a
user (see that module's docstring for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from equitrial.services._base import audited_insert
from equitrial.services.auth import (
    ROLES,
    Actor,
    actor_for,
    check_role_combination,
    is_system,
)
from equitrial.services.sites import site_by_code
from equitrial.stats._validation import check_option
from equitrial.store import audit
from equitrial.store import models as m

__all__ = [
    "ACCOUNT_LOCK_KEY",
    "UserView",
    "acting_user",
    "administers",
    "audit_role",
    "check_roles",
    "grant",
    "memberships",
    "require_admin_at",
    "require_first_admin",
    "role_label",
    "serialize_account_writes",
    "site_id_of",
    "user_named",
    "view_of_user",
]

ACCOUNT_LOCK_KEY: Final = 5_823_170_412_962  # pg_advisory_xact_lock key of account writes


@dataclass(frozen=True)
class UserView:
    """A user and its roles as ``(role, site code or None)`` pairs (no password hash)."""

    id: int
    username: str
    active: bool
    roles: tuple[tuple[str, str | None], ...]


def view_of_user(session: Session, user: m.User) -> UserView:
    rows = session.execute(
        select(m.RoleMembership.role, m.Site.code)
        .outerjoin(m.Site, m.Site.id == m.RoleMembership.site_id)
        .where(m.RoleMembership.user_id == user.id)
        .order_by(m.RoleMembership.id)
    ).all()
    return UserView(user.id, user.username, user.active, tuple((r, s) for r, s in rows))


def serialize_account_writes(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ACCOUNT_LOCK_KEY)))


def user_named(session: Session, username: str) -> m.User:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", field="username", value=username)
    return user


def site_id_of(session: Session, site: str | None) -> int | None:
    return None if site is None else site_by_code(session, site).id


def acting_user(session: Session, actor: Actor) -> Actor:
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


def administers(acting: Actor, site_id: int | None) -> bool:
    """Study-wide (``site_id`` None): a study-wide admin; a site: an admin there or everywhere."""
    if site_id is None:
        return acting.has_study_wide("admin")
    return acting.has_role({"admin"}, site_id)


def require_admin_at(acting: Actor, site_id: int | None, site: str | None) -> None:
    """A study-wide role needs a study-wide admin; a role at a site, an admin of that site."""
    if not acting.has_role({"admin"}):
        raise PermissionDeniedError(
            f"user {acting.username!r} needs the role admin", field="actor", value=acting.username
        )
    if site_id is None and not administers(acting, None):
        raise PermissionDeniedError(
            f"user {acting.username!r} is a site administrator: it may create users and grant "
            "roles only at its own sites, never study-wide (give --site)",
            field="site",
            value=acting.username,
        )
    if site_id is not None and not administers(acting, site_id):
        raise PermissionDeniedError(
            f"user {acting.username!r} needs the role admin at site {site}",
            field="site",
            value=site,
        )


def memberships(session: Session, user: m.User) -> list[m.RoleMembership]:
    return list(
        session.scalars(select(m.RoleMembership).where(m.RoleMembership.user_id == user.id))
    )


def role_label(role: str, site: str | None) -> str:
    return f"{role}@{site or 'all sites'}"


def audit_role(
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


def grant(
    session: Session, actor: Actor, user: m.User, role: str, site_id: int | None, site: str | None
) -> None:
    held = memberships(session, user)
    if any(h.role == role and h.site_id == site_id for h in held):
        raise ConflictError(f"user {user.username!r} already has role {role!r} there", field="role")
    check_role_combination({h.role for h in held} | {role})
    membership = audited_insert(
        session, actor, m.RoleMembership(user_id=user.id, role=role, site_id=site_id)
    )
    audit_role(session, actor, membership.id, user.id, role_label(role, site), granted=True)


def check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    if isinstance(roles, str) or not roles:
        raise InvalidInputError("a user needs at least one role (a list of roles)", field="role")
    for role in roles:
        check_option(role, ROLES, "role")
    unique = list(dict.fromkeys(roles))
    check_role_combination(unique)
    return unique


def require_first_admin(session: Session, roles: list[str], site_id: int | None) -> None:
    if roles == ["admin"] and site_id is None:
        if session.scalar(select(m.User.id).limit(1)) is None:
            return
    raise PermissionDeniedError(
        "the operator (no --as) may add only the first administrator: role admin at every "
        "site, on a database with no user yet; log in as an administrator to add users "
        "(equitrial user add NAME --role ROLE --as ADMIN --password-stdin)",
        field="actor",
    )
