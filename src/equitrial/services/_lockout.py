"""Account lockout after repeated failed logins, read from the audit trail (no extra state).

A failed login with a wrong password is a *strike*: an audit row ``login-failed`` with
``table_name="users"``, ``record_id=<user id>`` and reason :data:`BAD_CREDENTIALS`. The account
is locked when its last ``lockout_attempts`` strikes (default 5), all after its last successful
``login``, lie within ``lockout_minutes`` (default 15) of one another; it stays locked for
``lockout_minutes`` from the last strike. Attempts refused because the account is locked are
audited too (reason :data:`LOCKED`) but are not strikes, so hammering a locked account does not
extend the lock. Because the state is the append-only, hash-chained trail itself, nobody with
write access to the user table can quietly reset a counter: there is none.

Settings: ``EQUITRIAL_LOCKOUT_ATTEMPTS``, ``EQUITRIAL_LOCKOUT_MINUTES``
(:func:`equitrial.settings.get_settings`).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitrial.errors import PermissionDeniedError
from equitrial.settings import get_settings
from equitrial.store import models as m

__all__ = ["BAD_CREDENTIALS", "LOCKED", "AccountLockedError", "locked_until", "lockout_attempts"]

BAD_CREDENTIALS: Final = "bad credentials"
LOCKED: Final = "locked"


class AccountLockedError(PermissionDeniedError):
    """Too many failed logins in a row: the account refuses every login until ``until``.

    Attributes
    ----------
    until
        When the lock ends (UTC).
    """

    code = "account_locked"

    def __init__(self, username: str, until: dt.datetime, attempts: int) -> None:
        super().__init__(
            f"account {username!r} is locked after {attempts} failed logins in a row, until "
            f"{until.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
            field="username",
            expected=f"a login after {until.astimezone(dt.UTC).isoformat()}",
        )
        self.until = until


def locked_until(session: Session, user_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the lock of account ``user_id`` ends, or ``None`` if it is not locked at ``now``.

    Parameters
    ----------
    session
        Any session (two indexed reads of the audit trail).
    user_id
        The account.
    now
        The time of the attempt (timezone-aware).
    """
    settings = get_settings()
    attempts = settings.lockout_attempts
    window = dt.timedelta(minutes=settings.lockout_minutes)
    mine = (
        m.AuditTrail.table_name == "users",
        m.AuditTrail.record_id == str(user_id),
    )
    last_login = session.scalar(
        select(func.max(m.AuditTrail.id)).where(*mine, m.AuditTrail.action == "login")
    )
    strikes = (
        select(m.AuditTrail.at)
        .where(*mine, m.AuditTrail.action == "login-failed", m.AuditTrail.reason == BAD_CREDENTIALS)
        .order_by(m.AuditTrail.id.desc())
        .limit(attempts)
    )
    if last_login is not None:
        strikes = strikes.where(m.AuditTrail.id > last_login)
    times = list(session.scalars(strikes))
    if len(times) < attempts or times[0] - times[-1] > window:
        return None
    until = times[0] + window
    return until if now < until else None


def lockout_attempts() -> int:
    """The configured number of failed logins that lock an account."""
    return get_settings().lockout_attempts
