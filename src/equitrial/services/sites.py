"""Use cases of investigational sites: add and list."""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.clinical import terminology as ct
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


def _check_profile(site_type: str | None, country: str | None, region: str | None) -> None:
    for field, value, allowed in (
        ("site_type", site_type, ct.SITE_TYPES),
        ("country", country, ct.COUNTRIES),
        ("region", region, ct.REGIONS),
    ):
        if value is None or value in allowed:
            continue
        expected = (
            "an ISO 3166-1 alpha-3 code (e.g. DEU, USA)"
            if field == "country"
            else "one of " + ", ".join(allowed)
        )
        raise InvalidInputError(
            f"site {field} = {value!r}; expected {expected}",
            field=field,
            value=value,
            expected=expected,
        )


def add_site(
    engine: Engine,
    actor: Actor,
    code: str,
    name: str,
    *,
    site_type: str | None = None,
    country: str | None = None,
    region: str | None = None,
) -> RecordView:
    """Add a site (admin).

    Parameters
    ----------
    code, name
        Site code (1 to 16 ASCII letters, digits or ``_``) and name.
    site_type : {"METROPOLITAN", "REGIONAL", None}
        Type of site (the demographics of its subjects take it).
    country : str, optional
        ISO 3166-1 alpha-3 code (``"DEU"``).
    region : {"NORTH AMERICA", "EUROPE", "ASIA-PACIFIC", "REST OF WORLD", None}
        Geographic region (:data:`equitrial.clinical.terminology.REGIONS`).

    Raises
    ------
    InvalidInputError
        Empty code or name; a code that is not 1 to 16 ASCII letters, digits or ``_``; a name
        longer than 200 characters or with control characters; a site type, country or region
        outside its list (the error names the field).
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
    _check_profile(site_type, country, region)
    with transaction(engine) as session:
        if session.scalar(select(m.Site.id).where(m.Site.code == code)) is not None:
            raise ConflictError(f"site {code!r} exists", field="code", value=code)
        site = m.Site(code=code, name=name, site_type=site_type, country=country, region=region)
        return view_of(audited_insert(session, actor, site))


def list_sites(engine: Engine, actor: Actor) -> list[RecordView]:
    """The sites the actor may see (all for study-wide roles)."""
    with transaction(engine, read_only=True) as session:
        sites = session.scalars(select(m.Site).order_by(m.Site.code)).all()
        return [view_of(s) for s in sites if actor.site_ids is None or s.id in actor.site_ids]
