"""Enrolment helpers: who decides eligibility, the eligibility checklist against the protocol,
the per-site lock, the next subject code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.protocol import Protocol
from equitrial.services.auth import Actor
from equitrial.store import models as m

__all__ = [
    "INVESTIGATOR",
    "checked_checklist",
    "lock_site",
    "next_code",
    "refuse_taken",
    "require_investigator",
]

INVESTIGATOR = frozenset({"investigator"})
"""The role that decides eligibility."""

_ENROL_LOCK: Final = 0x454E524C  # "ENRL": the first key of the per-site advisory lock


def require_investigator(actor: Actor, site: m.Site) -> None:
    """Refuse an eligibility decision by anyone but an investigator of ``site``."""
    if not actor.has_role(INVESTIGATOR, site.id):
        raise PermissionDeniedError(
            f"user {actor.username!r} may enrol at site {site.code} but not decide eligibility: "
            "only an investigator of the site confirms it (enrol without it and have the "
            "investigator confirm eligibility)",
            field="eligible",
            value=actor.username,
        )


def checked_checklist(
    protocol: Protocol, eligible: bool | None, checklist: Mapping[str, Any]
) -> dict[str, Any]:
    """The checklist checked against the protocol's ``[[eligibility]]`` criteria.

    Without criteria in the protocol the checklist is free-form and returned as given. With
    them, every criterion must be answered ``True`` / ``False`` (``True``: an inclusion
    criterion met, an exclusion criterion present), no other key may appear, and a decision
    ``eligible=True`` needs every inclusion met and no exclusion present.

    Raises
    ------
    InvalidInputError
        ``field="checklist.<id>"``: an unknown criterion, an unanswered one or an answer that is
        not a boolean; ``field="eligible"``: eligible with an unmet inclusion or a present
        exclusion criterion.
    """
    criteria = {c.id: c for c in protocol.eligibility}
    if not criteria:
        return dict(checklist)
    for key, answer in checklist.items():
        if key not in criteria:
            raise InvalidInputError(
                f"checklist.{key}: not an eligibility criterion of the protocol; expected one "
                f"of {', '.join(criteria)}",
                field=f"checklist.{key}",
                value=key,
            )
        if not isinstance(answer, bool):
            raise InvalidInputError(
                f"checklist.{key} = {answer!r}; expected true or false",
                field=f"checklist.{key}",
                value=answer,
                expected="a boolean",
            )
    missing = [c for c in criteria if c not in checklist]
    if missing:
        raise InvalidInputError(
            f"checklist.{missing[0]}: not answered ({len(missing)} criteria unanswered: "
            f"{', '.join(missing)})",
            field=f"checklist.{missing[0]}",
            expected="an answer to every criterion",
        )
    failed = [c.id for c in criteria.values() if checklist[c.id] != (c.kind == "inclusion")]
    if eligible and failed:
        raise InvalidInputError(
            f"eligible: the checklist does not allow it ({', '.join(failed)}: an inclusion "
            "criterion not met or an exclusion criterion present)",
            field="eligible",
            value=eligible,
            expected="every inclusion met and no exclusion present",
        )
    return {c: checklist[c] for c in criteria}


def lock_site(session: Session, site_id: int) -> None:
    """Serialize enrolments at one site until the transaction ends (PostgreSQL).

    SQLite needs nothing: every writing transaction begins with ``BEGIN IMMEDIATE``.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:a, :b)"),
            {"a": _ENROL_LOCK, "b": site_id & 0x7FFFFFFF},
        )


def refuse_taken(session: Session, study_id: int, number: str, given: str) -> None:
    """Refuse a screening number (normalized: ``number``; as typed: ``given``) already enrolled.

    The message does not say where: the other subject may be at a site the actor cannot see.
    """
    taken = select(m.Subject.id).where(
        m.Subject.study_id == study_id, m.Subject.screening_number == number
    )
    if session.scalar(taken) is not None:
        same = "" if number == given else f" (normalized {number!r})"
        raise ConflictError(
            f"screening number {given!r}{same} is already enrolled in the study",
            field="screening_number",
            value=given,
        )


def next_code(session: Session, site: m.Site) -> str:
    """``<SITE>-<nnnn>``: one more than the highest number of the site's codes (read under the
    site's lock), so codes stay distinct and gapless whatever was enrolled concurrently."""
    prefix = f"{site.code}-"
    codes = session.scalars(select(m.Subject.subject_code).where(m.Subject.site_id == site.id))
    numbers = [
        int(c[len(prefix) :])
        for c in codes
        if c.startswith(prefix) and c[len(prefix) :].isascii() and c[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"
