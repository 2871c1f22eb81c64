"""Issue #8 item 7, accounts: lockout, password strength, usernames, mistyped passwords, argon2.

Every test runs on SQLite and PostgreSQL (the ``trial`` fixture).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import auth, sites, users
from equitrial.services.auth import AccountLockedError, authenticate
from equitrial.store import _audit_append
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
WRONG = "wrong horse battery"


def _login_rows(engine, username):
    with transaction(engine, read_only=True) as session:
        return list(
            session.scalars(
                select(m.AuditTrail)
                .where(
                    m.AuditTrail.username == username,
                    m.AuditTrail.action.in_(["login", "login-failed"]),
                )
                .order_by(m.AuditTrail.id)
            )
        )


def _fail(engine, username, times, password=WRONG):
    for _ in range(times):
        with pytest.raises(PermissionDeniedError, match="unknown user or wrong password"):
            authenticate(engine, username, password)


# --- lockout -------------------------------------------------------------------------------------


def test_five_failed_logins_lock_the_account_for_15_minutes_even_for_the_right_password(trial):
    _fail(trial.engine, "monitor", 5)
    last_strike = _login_rows(trial.engine, "monitor")[-1].at
    until = last_strike + dt.timedelta(minutes=15)  # the defaults: 5 attempts, 15 minutes
    with pytest.raises(AccountLockedError, match="locked") as locked:
        authenticate(trial.engine, "monitor", PASSWORD)
    assert f"until {until.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" in locked.value.message
    assert locked.value.until == until
    # more attempts while locked are refused and audited, but do not extend the lock
    with pytest.raises(AccountLockedError):
        authenticate(trial.engine, "MONITOR", WRONG, now=until - dt.timedelta(seconds=1))
    rows = _login_rows(trial.engine, "monitor")
    assert [(r.action, r.reason) for r in rows] == [("login-failed", "bad credentials")] * 5 + [
        ("login-failed", "locked")
    ] * 2
    # other accounts are not affected; after the lock ends the right password works again
    assert authenticate(trial.engine, "data-manager", PASSWORD).username == "data-manager"
    actor = authenticate(trial.engine, "monitor", PASSWORD, now=until + dt.timedelta(seconds=1))
    assert actor.username == "monitor"
    assert _login_rows(trial.engine, "monitor")[-1].action == "login"


def test_four_failures_do_not_lock_and_a_successful_login_starts_the_count_again(trial):
    _fail(trial.engine, "monitor", 4)
    authenticate(trial.engine, "monitor", PASSWORD)
    _fail(trial.engine, "monitor", 4)
    assert authenticate(trial.engine, "monitor", PASSWORD).username == "monitor"
    _fail(trial.engine, "monitor", 5)
    with pytest.raises(AccountLockedError):
        authenticate(trial.engine, "monitor", PASSWORD)


def test_failures_spread_over_more_than_the_window_do_not_lock(trial, monkeypatch):
    start = dt.datetime.now(dt.UTC)
    clock = {"now": start}
    monkeypatch.setattr(_audit_append, "utcnow", lambda: clock["now"])  # the rows' time
    for minute in (0, 4, 8, 12, 16):  # five strikes, the first and last 16 minutes apart
        clock["now"] = start + dt.timedelta(minutes=minute)
        _fail(trial.engine, "monitor", 1)
    at = start + dt.timedelta(minutes=16, seconds=1)
    assert authenticate(trial.engine, "monitor", PASSWORD, now=at).username == "monitor"


def test_lockout_attempts_and_minutes_are_configurable(trial, monkeypatch):
    monkeypatch.setenv("EQUITRIAL_LOCKOUT_ATTEMPTS", "3")
    monkeypatch.setenv("EQUITRIAL_LOCKOUT_MINUTES", "2")
    _fail(trial.engine, "monitor", 3)
    last_strike = _login_rows(trial.engine, "monitor")[-1].at
    with pytest.raises(AccountLockedError, match="after 3 failed logins") as locked:
        authenticate(trial.engine, "monitor", PASSWORD)
    assert locked.value.until == last_strike + dt.timedelta(minutes=2)
    later = last_strike + dt.timedelta(minutes=2, seconds=1)
    assert authenticate(trial.engine, "monitor", PASSWORD, now=later).username == "monitor"


# --- password strength ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short 1", "12"),  # 7 characters
        ("eleven char", "12"),  # 11 characters
        ("abcdefghijklmnop", "two of"),  # lowercase letters only
        ("ABCDEFGHIJKLMNOP", "two of"),
        ("1234567890123456", "two of"),
        ("!!!!!!!!!!!!!!!!", "two of"),
        ("{name}-is-here-2024", "username"),  # contains the username (in another case)
        (None, "text"),
    ],
)
def test_weak_passwords_are_refused_naming_the_field_and_nothing_is_written(trial, password, why):
    def for_user(name):
        return password.format(name=name.upper()) if isinstance(password, str) else password

    admin = trial["admin"]
    with pytest.raises(InvalidInputError, match=why) as refused:
        users.add_user(trial.engine, admin, "jane.doe", for_user("jane.doe"), ["monitor"])
    assert refused.value.field == "password"
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(m.User.id).where(m.User.username == "jane.doe")) is None
    with pytest.raises(InvalidInputError, match=why) as refused:
        users.set_password(trial.engine, admin, "monitor", for_user("monitor"))
    assert refused.value.field == "password"
    assert authenticate(trial.engine, "monitor", PASSWORD).username == "monitor"  # unchanged


def test_acceptable_passwords_mix_two_classes_and_a_space_counts(trial):
    admin = trial["admin"]
    for number, password in enumerate(("correct horse battery", "Abcdefghijkl", "1234567890ab")):
        users.add_user(trial.engine, admin, f"user-{number}", password, ["monitor"])
        assert authenticate(trial.engine, f"user-{number}", password).username == f"user-{number}"


# --- usernames -----------------------------------------------------------------------------------


def test_usernames_are_normalized_and_lookalikes_refused_or_collide(trial):
    admin = trial["admin"]
    view = users.add_user(trial.engine, admin, "  Alice.Smith ", PASSWORD, ["monitor"])
    assert view.username == "alice.smith"
    assert authenticate(trial.engine, "ALICE.SMITH", PASSWORD).username == "alice.smith"
    users.add_user(trial.engine, admin, "klate", PASSWORD, ["monitor"])
    # names that fold to an existing one are the same account: a conflict
    for same in (
        "alice.smith",
        "ALICE.SMITH",
        "ａｌｉｃｅ.ｓｍｉｔｈ",
        "\u212alate",
    ):  # KELVIN SIGN
        with pytest.raises(ConflictError) as taken:
            users.add_user(trial.engine, admin, same, PASSWORD, ["monitor"])
        assert taken.value.field == "username"
    # lookalikes that do not fold to ASCII, invisible characters, bad shapes: refused
    for odd in (
        "\u0430lice.smith",  # CYRILLIC SMALL LETTER A
        "alice\u200b.smith",  # ZERO WIDTH SPACE
        "al\u00adice",  # SOFT HYPHEN
        "alice smith",
        "-alice",
        "a",
        "x" * 65,
        "",
        "   ",
    ):
        with pytest.raises(InvalidInputError) as refused:
            users.add_user(trial.engine, admin, odd, PASSWORD, ["monitor"])
        assert refused.value.field == "username", odd
    with transaction(trial.engine, read_only=True) as session:
        names = set(session.scalars(select(m.User.username)))
    assert {"alice.smith", "klate"} <= names
    assert all(n == n.strip().casefold() and n.isascii() for n in names)
    # lookups by name normalize too
    users.grant_role(trial.engine, admin, " Alice.SMITH", "data-manager")
    assert {
        r for r, _ in users.revoke_role(trial.engine, admin, "ALICE.smith", "monitor").roles
    } == {"data-manager"}


# --- a password typed as the username ------------------------------------------------------------


def _all_text(engine):
    """Every value of every table, as text (what someone dumping the database would read)."""
    with transaction(engine, read_only=True) as session:
        return "\n".join(
            str(value)
            for table in m.Base.metadata.sorted_tables
            for row in session.execute(select(table))
            for value in row
            if value is not None
        )


def test_a_password_typed_into_the_username_is_never_stored_in_clear(trial):
    typed = "Tr0ub4dor&3 horse"  # someone's password, typed where the name goes (--as)
    for _ in range(2):
        with pytest.raises(PermissionDeniedError) as refused:
            authenticate(trial.engine, typed, typed)
        assert typed not in str(refused.value.to_dict())
    with pytest.raises(PermissionDeniedError):
        authenticate(trial.engine, "nobody-else", PASSWORD)
    dump = _all_text(trial.engine).casefold()
    assert "tr0ub4dor" not in dump
    with transaction(trial.engine, read_only=True) as session:
        failed = list(
            session.scalars(
                select(m.AuditTrail.username)
                .where(m.AuditTrail.action == "login-failed")
                .order_by(m.AuditTrail.id)
            )
        )
    # repeated attempts with the same text are recognisable as such, other text is not
    assert len(failed) == 3 and all(name.startswith("unknown:") for name in failed)
    assert failed[0] == failed[1] != failed[2]


# --- argon2 outside the write lock ---------------------------------------------------------------


def test_password_verification_runs_outside_any_transaction(trial, monkeypatch):
    engine = trial.engine
    started, release = threading.Event(), threading.Event()
    open_connections = []
    real_verify = auth.verify_password

    def slow_verify(password_hash, password):
        open_connections.append(engine.pool.checkedout())
        started.set()
        assert release.wait(60)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    logged_in, wrote = {}, threading.Event()

    def log_in():
        logged_in["actor"] = authenticate(engine, "monitor", PASSWORD)

    def write():
        sites.add_site(engine, trial["admin"], "C", "Site C")
        wrote.set()

    login = threading.Thread(target=log_in)
    login.start()
    try:
        assert started.wait(60)
        writer = threading.Thread(target=write)
        writer.start()
        # a short write completes while the (held) verification is still running: on SQLite it
        # would wait for the write lock if the login held a transaction open
        written_meanwhile = wrote.wait(15)
    finally:
        release.set()
        login.join(60)
    writer.join(60)
    assert open_connections == [0]  # no connection, so no transaction, during argon2
    assert written_meanwhile
    assert logged_in["actor"].username == "monitor"


def test_passwords_are_hashed_before_a_transaction_opens(trial, monkeypatch):
    engine = trial.engine
    open_connections = []
    real_hash = users.hash_password

    def watched(password, username):
        open_connections.append(engine.pool.checkedout())
        return real_hash(password, username)

    monkeypatch.setattr(users, "hash_password", watched)
    users.add_user(engine, trial["admin"], "new-monitor", PASSWORD, ["monitor"])
    users.set_password(engine, trial["admin"], "new-monitor", "another good password")
    assert open_connections == [0, 0]
