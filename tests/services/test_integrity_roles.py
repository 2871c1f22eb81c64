"""Issue #8 item 6, separation of duties: which roles one account may hold, and who may grant.

Every test runs on SQLite and PostgreSQL (the ``trial`` / ``engine`` fixtures).
"""

from __future__ import annotations

import threading
from itertools import combinations

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, NotFoundError, PermissionDeniedError
from equitrial.services import _accounts, sites, users
from equitrial.services.auth import ROLES, UNBLINDED_ROLES, actor_for, system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
# The pairs of DIFFERENT roles one account may hold (issue #8 item 6, decided with the lead):
# site data entry together; blinded sponsor-side reviewers together; nothing else.
ALLOWED_PAIRS = {
    frozenset({"investigator", "coordinator"}),
    frozenset({"data-manager", "monitor"}),
    frozenset({"data-manager", "blinded-statistician"}),
    frozenset({"monitor", "blinded-statistician"}),
}


def _audit_rows(engine):
    with transaction(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(m.AuditTrail))


def _stored_actor(engine, username):
    with transaction(engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == username)).one()
        return actor_for(session, user)


def _memberships(engine, username):
    with transaction(engine, read_only=True) as session:
        rows = session.execute(
            select(m.RoleMembership.role, m.Site.code)
            .join(m.User, m.User.id == m.RoleMembership.user_id)
            .outerjoin(m.Site, m.Site.id == m.RoleMembership.site_id)
            .where(m.User.username == username)
        ).all()
    return {(role, site) for role, site in rows}


def test_every_pair_of_roles_is_refused_unless_listed(trial):
    admin = trial["admin"]
    refused = []
    for number, (one, other) in enumerate(combinations(ROLES, 2)):
        name = f"pair-{number}"
        before = _audit_rows(trial.engine)
        try:
            view = users.add_user(trial.engine, admin, name, PASSWORD, [one, other], site="A")
        except ConflictError as error:
            assert error.field == "role" and one in error.message and other in error.message
            assert _audit_rows(trial.engine) == before  # nothing written
            with pytest.raises(NotFoundError):  # no half-made account
                users.grant_role(trial.engine, admin, name, one, site="A")
            refused.append(frozenset({one, other}))
        else:
            assert {r for r, _ in view.roles} == {one, other}
    expected = {frozenset(p) for p in combinations(ROLES, 2)} - ALLOWED_PAIRS
    assert set(refused) == expected
    # in particular no account is ever blinded and unblinded at once
    mixed = {frozenset(p) for p in combinations(ROLES, 2) if set(p) & UNBLINDED_ROLES}
    assert len(mixed) == len(ROLES) - 1 and mixed <= set(refused)


def test_the_rule_is_per_account_not_per_site(trial):
    admin = trial["admin"]
    before = _audit_rows(trial.engine)
    # a coordinator at A may not become a monitor at B, nor unblinded anywhere
    for role, site in (("monitor", "B"), ("unblinded-statistician", None), ("pharmacist", "B")):
        with pytest.raises(ConflictError, match="cannot be held by one account") as error:
            users.grant_role(trial.engine, admin, "coordinator-a", role, site=site)
        assert error.value.field == "role"
    # a blinded statistician may not be given the unblinded role at a site either
    with pytest.raises(ConflictError, match="blinded and an unblinded"):
        users.grant_role(trial.engine, admin, "blinded-statistician", "unblinded-statistician", "A")
    assert _audit_rows(trial.engine) == before
    assert _memberships(trial.engine, "coordinator-a") == {("coordinator", "A")}
    # the same role, or a combinable one, at another site is allowed
    users.grant_role(trial.engine, admin, "coordinator-a", "coordinator", site="B")
    users.grant_role(trial.engine, admin, "coordinator-a", "investigator", site="B")
    assert _memberships(trial.engine, "coordinator-a") == {
        ("coordinator", "A"),
        ("coordinator", "B"),
        ("investigator", "B"),
    }


def test_the_operator_adds_only_the_first_administrator(engine):
    system = system_actor()
    sites.add_site(engine, system, "A", "Site A")
    for roles, site in ((["monitor"], None), (["admin"], "A")):
        with pytest.raises(PermissionDeniedError, match="first administrator"):
            users.add_user(engine, system, "first", PASSWORD, roles, site=site)
    first = users.add_user(engine, system, "first", PASSWORD, ["admin"])
    assert first.roles == (("admin", None),)
    with pytest.raises(PermissionDeniedError, match="first administrator"):  # no longer empty
        users.add_user(engine, system, "second", PASSWORD, ["admin"])
    admin = _stored_actor(engine, "first")
    users.add_user(engine, admin, "mon", PASSWORD, ["monitor"])
    before = _audit_rows(engine)
    for change in (
        lambda: users.grant_role(engine, system, "mon", "data-manager"),
        lambda: users.revoke_role(engine, system, "mon", "monitor"),
        lambda: users.set_password(engine, system, "mon", "another good password"),
    ):
        with pytest.raises(PermissionDeniedError, match="logged-in administrator"):
            change()
    assert _audit_rows(engine) == before
    assert _memberships(engine, "mon") == {("monitor", None)}


def test_a_site_administrator_acts_only_at_its_own_sites(trial):
    admin = trial["admin"]
    users.add_user(trial.engine, admin, "site-admin-a", PASSWORD, ["admin"], site="A")
    site_admin = _stored_actor(trial.engine, "site-admin-a")
    before = _audit_rows(trial.engine)
    refused = {
        "study-wide user": lambda: users.add_user(
            trial.engine, site_admin, "x1", PASSWORD, ["monitor"]
        ),
        "user at B": lambda: users.add_user(
            trial.engine, site_admin, "x2", PASSWORD, ["coordinator"], site="B"
        ),
        "study-wide admin": lambda: users.add_user(
            trial.engine, site_admin, "x3", PASSWORD, ["admin"]
        ),
        "grant at B": lambda: users.grant_role(
            trial.engine, site_admin, "coordinator-b", "investigator", site="B"
        ),
        "grant study-wide": lambda: users.grant_role(
            trial.engine, site_admin, "coordinator-a", "investigator"
        ),
        "revoke at B": lambda: users.revoke_role(
            trial.engine, site_admin, "coordinator-b", "coordinator", site="B"
        ),
        "revoke study-wide": lambda: users.revoke_role(
            trial.engine, site_admin, "monitor", "monitor"
        ),
        "password of a study-wide user": lambda: users.set_password(
            trial.engine, site_admin, "monitor", "taken over now!"
        ),
        "password of a site B user": lambda: users.set_password(
            trial.engine, site_admin, "coordinator-b", "taken over now!"
        ),
    }
    for what, attempt in refused.items():
        with pytest.raises(PermissionDeniedError):
            attempt()
        assert _audit_rows(trial.engine) == before, what
    # at its own site it may do the work
    users.add_user(trial.engine, site_admin, "nurse-a", PASSWORD, ["coordinator"], site="A")
    users.grant_role(trial.engine, site_admin, "nurse-a", "investigator", site="A")
    users.revoke_role(trial.engine, site_admin, "nurse-a", "coordinator", site="A")
    users.set_password(trial.engine, site_admin, "nurse-a", "a new good password")
    users.add_user(trial.engine, site_admin, "site-admin-a2", PASSWORD, ["admin"], site="A")
    assert _memberships(trial.engine, "nurse-a") == {("investigator", "A")}


def test_nobody_changes_their_own_roles(trial):
    admin = trial["admin"]
    users.add_user(trial.engine, admin, "admin-two", PASSWORD, ["admin"])
    second = _stored_actor(trial.engine, "admin-two")
    before = _audit_rows(trial.engine)
    for attempt in (
        lambda: users.grant_role(trial.engine, second, "admin-two", "admin", site="A"),
        lambda: users.grant_role(trial.engine, second, "ADMIN-TWO", "admin", site="B"),
        lambda: users.revoke_role(trial.engine, second, "admin-two", "admin"),
    ):
        with pytest.raises(PermissionDeniedError, match="its own roles"):
            attempt()
    assert _audit_rows(trial.engine) == before
    users.grant_role(trial.engine, admin, "admin-two", "admin", site="A")  # another admin may
    assert _memberships(trial.engine, "admin-two") == {("admin", None), ("admin", "A")}


def test_a_revoked_administrator_cannot_act_with_its_earlier_login(trial):
    admin = trial["admin"]
    users.add_user(trial.engine, admin, "admin-two", PASSWORD, ["admin"])
    second = _stored_actor(trial.engine, "admin-two")  # e.g. a web session opened earlier
    users.revoke_role(trial.engine, admin, "admin-two", "admin")
    with pytest.raises(PermissionDeniedError):
        users.add_user(trial.engine, second, "ghost", PASSWORD, ["monitor"])
    with pytest.raises(PermissionDeniedError):
        users.grant_role(trial.engine, second, "monitor", "data-manager")
    with pytest.raises(NotFoundError):
        users.grant_role(trial.engine, admin, "ghost", "monitor")


def test_users_and_memberships_are_written_through_the_audited_writes(trial):
    admin = trial["admin"]
    view = users.add_user(
        trial.engine, admin, "nurse", PASSWORD, ["coordinator", "investigator"], site="A"
    )
    users.revoke_role(trial.engine, admin, "nurse", "investigator", site="A", reason="moved")
    with transaction(trial.engine, read_only=True) as session:
        stored_hash = session.scalar(select(m.User.password_hash).where(m.User.id == view.id))
        memberships = {
            ms.role: ms.id
            for ms in session.scalars(
                select(m.RoleMembership).where(m.RoleMembership.user_id == view.id)
            )
        }
        rows = list(
            session.scalars(
                select(m.AuditTrail)
                .where(m.AuditTrail.table_name.in_(["users", "role_membership"]))
                .order_by(m.AuditTrail.id)
            )
        )
    user_rows = {
        r.field: r for r in rows if r.table_name == "users" and r.record_id == str(view.id)
    }
    assert set(user_rows) >= {"username", "password_hash", "active"}
    assert all(r.action == "insert" and r.username == "admin" for r in user_rows.values())
    assert user_rows["username"].new_value == "nurse"
    assert stored_hash not in (user_rows["password_hash"].new_value or "")
    assert "argon2" not in (user_rows["password_hash"].new_value or "")
    # each membership inserted field by field, the revoked one deleted with its reason
    inserted = {
        (r.record_id, r.field, r.new_value)
        for r in rows
        if r.table_name == "role_membership" and r.action == "insert"
    }
    assert (str(memberships["coordinator"]), "role", "coordinator") in inserted
    deleted = [r for r in rows if r.table_name == "role_membership" and r.action == "delete"]
    assert {r.field for r in deleted} >= {"user_id", "role", "site_id"}
    assert {(r.old_value, r.reason) for r in deleted if r.field == "role"} == {
        ("investigator", "moved")
    }
    # and the human-readable role-change events, one per grant and revoke
    changes = [(r.old_value, r.new_value) for r in rows if r.action == "role-change"][-3:]
    assert changes == [(None, "coordinator@A"), (None, "investigator@A"), ("investigator@A", None)]


def test_concurrent_grants_cannot_together_build_a_forbidden_combination(trial, monkeypatch):
    admin = trial["admin"]
    users.add_user(trial.engine, admin, "newcomer", PASSWORD, ["monitor"])
    users.revoke_role(trial.engine, admin, "newcomer", "monitor")  # now without any role
    # each grant alone is allowed; together they would make a blinded AND unblinded account.
    # Both grants wait for each other just before the check: if account writes were not
    # serialized, both would check against the same (empty) set of roles and both commit.
    barrier = threading.Barrier(2)
    real_check = _accounts.check_role_combination  # what a grant checks with

    def meet_then_check(roles):
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass  # the other grant is waiting for the account lock: it checks after us
        real_check(roles)

    monkeypatch.setattr(_accounts, "check_role_combination", meet_then_check)
    outcomes = {}

    def grant(role, site):
        try:
            users.grant_role(trial.engine, admin, "newcomer", role, site=site)
            outcomes[role] = "granted"
        except ConflictError:
            outcomes[role] = "refused"

    threads = [
        threading.Thread(target=grant, args=("coordinator", "A")),
        threading.Thread(target=grant, args=("unblinded-statistician", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["granted", "refused"]
    assert len(_memberships(trial.engine, "newcomer")) == 1
