"""``users.add_users``: several accounts at once, each as ``add_user`` would add it, all or
nothing. Every test runs on SQLite and PostgreSQL (the ``trial`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import users
from equitrial.services.auth import actor_for, authenticate
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"


def _counts(engine):
    with transaction(engine, read_only=True) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (m.User, m.RoleMembership, m.AuditTrail)
        )


def _audit_of(engine, username):
    """The audit rows of one new account and its roles, in order: (action, table, field,
    value), with what differs from account to account (name, salted hash, ids) left out."""
    with transaction(engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == username)).one()
        roles = session.scalars(
            select(m.RoleMembership.id).where(m.RoleMembership.user_id == user.id)
        ).all()
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                ((m.AuditTrail.table_name == "users") & (m.AuditTrail.record_id == str(user.id)))
                | (
                    (m.AuditTrail.table_name == "role_membership")
                    & m.AuditTrail.record_id.in_([str(r) for r in roles])
                )
            )
            .order_by(m.AuditTrail.id)
        ).all()
        varying = {"username", "password_hash", "user_id"}
        return [
            (r.action, r.table_name, r.field, None if r.field in varying else r.new_value)
            for r in rows
        ]


def test_accounts_added_together_are_stored_and_audited_as_one_by_one(trial):
    admin = trial["admin"]
    views = users.add_users(
        trial.engine,
        admin,
        [
            users.NewUser("nurse-c", PASSWORD, ("coordinator",), "A"),
            users.NewUser("Monitor-C", PASSWORD + " 2", ("monitor",), None),
        ],
    )
    single = users.add_user(trial.engine, admin, "nurse-d", PASSWORD, ["coordinator"], site="A")
    assert [(v.username, v.active, v.roles) for v in views] == [
        ("nurse-c", True, (("coordinator", "A"),)),
        ("monitor-c", True, (("monitor", None),)),
    ]
    assert single.roles == views[0].roles
    # the same audit rows as add_user writes (field by field, then the role-change row)
    batch_rows = _audit_of(trial.engine, "nurse-c")
    assert batch_rows == _audit_of(trial.engine, "nurse-d")
    assert ("insert", "users", "password_hash", None) in batch_rows
    assert ("role-change", "role_membership", "role", "coordinator@A") in batch_rows
    # each password hashed for its own account (argon2): both log in
    assert authenticate(trial.engine, "nurse-c", PASSWORD).username == "nurse-c"
    assert authenticate(trial.engine, "monitor-c", PASSWORD + " 2").username == "monitor-c"


@pytest.mark.parametrize(
    ("second", "error", "match"),
    [
        (users.NewUser("nurse-e", "short", ("coordinator",), "A"), InvalidInputError,
         "user 'nurse-e': .*password"),
        (users.NewUser("NURSE-C", PASSWORD, ("coordinator",), "A"), ConflictError,
         "user 'nurse-c' exists"),
        (users.NewUser("nurse-e", PASSWORD, ("coordinator",), "Z"), Exception, "Z"),
        (users.NewUser("nurse-e", PASSWORD, ("no-such-role",), "A"), Exception, "no-such-role"),
    ],
)  # fmt: skip
def test_one_refused_account_refuses_all_and_writes_nothing(trial, second, error, match):
    before = _counts(trial.engine)
    first = users.NewUser("nurse-c", PASSWORD, ("coordinator",), "A")
    with pytest.raises(error, match=match):
        users.add_users(trial.engine, trial["admin"], [first, second])
    assert _counts(trial.engine) == before


def test_a_site_administrator_adds_no_study_wide_account_in_a_batch(trial):
    users.add_user(trial.engine, trial["admin"], "admin-b", PASSWORD, ["admin"], site="B")
    with transaction(trial.engine, read_only=True) as session:
        stored = session.scalars(select(m.User).where(m.User.username == "admin-b")).one()
        site_admin = actor_for(session, stored)
    before = _counts(trial.engine)
    with pytest.raises(PermissionDeniedError, match="never study-wide"):
        users.add_users(
            trial.engine,
            site_admin,
            [
                users.NewUser("nurse-f", PASSWORD, ("coordinator",), "B"),
                users.NewUser("monitor-f", PASSWORD, ("monitor",), None),
            ],
        )
    assert _counts(trial.engine) == before


def test_a_batch_of_someone_who_may_not_add_users_is_refused_before_any_hash(trial, monkeypatch):
    hashed = []
    monkeypatch.setattr(users, "hash_password", lambda pw, name: hashed.append(name) or "x")
    before = _counts(trial.engine)
    accounts = [users.NewUser(f"nurse-{i}", PASSWORD, ("coordinator",), "A") for i in range(3)]
    with pytest.raises(PermissionDeniedError, match="needs the role admin"):
        users.add_users(trial.engine, trial["monitor"], accounts)
    assert hashed == [] and _counts(trial.engine) == before
