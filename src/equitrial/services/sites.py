"""Use cases of investigational sites: add and list."""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.services._base import RecordView, audited_insert, view_of
from equitrial.services.auth import Actor, require
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["SITE_CODE", "add_site", "list_sites", "site_by_code"]

SITE_CODE: Final = re.compile(r"[A-Za-z0-9_]{1,16}")
"""A site code: 1 to 16 ASCII letters, digits or ``_`` (it starts every subject code, followed
by ``-``, so it cannot hold one)."""

_MAX_NAME: Final = 200  # ``site.name``


def site_by_code(session: Session, code: str) -> m.Site:
    """The site with ``code`` or :class:`NotFoundError`."""
    site = session.scalar(select(m.Site).where(m.Site.code == code))
    if site is None:
        raise NotFoundError(f"no site with code {code!r}", field="site", value=code)
    return site


def add_site(engine: Engine, actor: Actor, code: str, name: str) -> RecordView:
    """Add a site (admin).

    Raises
    ------
    InvalidInputError
        Empty code or name; a code that is not 1 to 16 ASCII letters, digits or ``_``; a name
        longer than 200 characters or with control characters.
    ConflictError
        A site with that code exists.
    """
    require(actor, roles={"admin"})
    for field, value in (("code", code), ("name", name)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"site {field} is required", field=field)
    if not SITE_CODE.fullmatch(code):
        shown = code if len(code) <= 40 else code[:37] + "..."
        raise InvalidInputError(
            f"site code {shown!r}: expected 1 to 16 ASCII letters, digits or '_'",
            field="code",
            value=shown,
            expected="1 to 16 of A-Z, a-z, 0-9, _",
        )
    if len(name) > _MAX_NAME or not name.isprintable():
        raise InvalidInputError(
            f"site name: expected at most {_MAX_NAME} printable characters "
            f"(got {len(name)} characters)",
            field="name",
        )
    with transaction(engine) as session:
        if session.scalar(select(m.Site.id).where(m.Site.code == code)) is not None:
            raise ConflictError(f"site {code!r} exists", field="code", value=code)
        return view_of(audited_insert(session, actor, m.Site(code=code, name=name)))


def list_sites(engine: Engine, actor: Actor) -> list[RecordView]:
    """The sites the actor may see (all for study-wide roles)."""
    with transaction(engine, read_only=True) as session:
        sites = session.scalars(select(m.Site).order_by(m.Site.code)).all()
        return [view_of(s) for s in sites if actor.site_ids is None or s.id in actor.site_ids]
