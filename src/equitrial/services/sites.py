"""Use cases of investigational sites: add and list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.services._base import RecordView, audited_insert, view_of
from equitrial.services.auth import Actor, require
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["add_site", "list_sites", "site_by_code"]


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
        Empty code or name.
    ConflictError
        A site with that code exists.
    """
    require(actor, roles={"admin"})
    for field, value in (("code", code), ("name", name)):
        if not value or not value.strip():
            raise InvalidInputError(f"site {field} is required", field=field)
    with transaction(engine) as session:
        if session.scalar(select(m.Site.id).where(m.Site.code == code)) is not None:
            raise ConflictError(f"site {code!r} exists", field="code", value=code)
        return view_of(audited_insert(session, actor, m.Site(code=code, name=name)))


def list_sites(engine: Engine, actor: Actor) -> list[RecordView]:
    """The sites the actor may see (all for study-wide roles)."""
    with transaction(engine, read_only=True) as session:
        sites = session.scalars(select(m.Site).order_by(m.Site.code)).all()
        return [view_of(s) for s in sites if actor.site_ids is None or s.id in actor.site_ids]
