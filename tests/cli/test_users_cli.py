"""Issue #8 items 6 and 7 at the command line: ``equitrial user add|grant|revoke|set-password``.

Each test gets a fresh, empty database (SQLite file or PostgreSQL database, ``empty_db_url``)
and drives it only through ``equitrial ...`` subprocesses, with the passwords on stdin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from equitrial.store import models as m

PASSWORD = "correct horse battery staple"
NURSE = "Ward 7 secret one"
NEWER = "Ward 7 secret two"


class Cli:
    """``equitrial`` against one database, from a scratch working directory."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url, self.cwd = url, cwd

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "EQUITRIAL_DATABASE_URL": self.url, "COLUMNS": "200"}
        return subprocess.run(
            [sys.executable, "-m", "equitrial", *args],
            capture_output=True, text=True, cwd=self.cwd, env=env, input=stdin, timeout=120,
        )  # fmt: skip

    def ok(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        out = self(*args, stdin=stdin)
        assert out.returncode == 0, f"{args}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
        return out

    def as_boss(self, *args: str, stdin: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        return self(*args, "--as", "boss", "--password-stdin", stdin=stdin)


def _set_up(url: str, directory: Path) -> Cli:
    cli = Cli(url, directory)
    cli.ok("db", "upgrade")
    cli.ok("site", "add", "A", "--name", "Site A")
    cli.ok("site", "add", "B", "--name", "Site B")
    return cli


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def _all_text(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return "\n".join(
                str(value)
                for table in m.Base.metadata.sorted_tables
                for row in conn.execute(sa.select(table))
                for value in row
                if value is not None
            )
    finally:
        engine.dispose()


def test_the_operator_adds_the_first_admin_who_then_manages_accounts(
    empty_db_url: str, tmp_path: Path
) -> None:
    cli = _set_up(empty_db_url, tmp_path)
    # the operator (no --as): only the first administrator, study-wide, on an empty database
    for args in (("mon", "--role", "monitor"), ("boss", "--role", "admin", "--site", "A")):
        out = cli("user", "add", *args, "--password-stdin", stdin=PASSWORD)
        assert out.returncode == 3, out.stderr
        assert "first administrator" in out.stderr and "--as ADMIN" in out.stderr
    first = cli.ok("user", "add", " Boss ", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert "user boss added" in first.stdout
    again = cli("user", "add", "boss2", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 3
    # an admin adds a user: line 1 = the admin's password, line 2 = the new user's
    two_lines = f"{PASSWORD}\n{NURSE}\n"
    cli.ok("user", "add", "nurse", "--role", "coordinator", "--site", "A", "--as", "boss",
           "--password-stdin", stdin=two_lines)  # fmt: skip
    wrong = cli.as_boss("user", "add", "mallory", "--role", "monitor", stdin=f"wrong one!\n{NURSE}")
    assert wrong.returncode == 3 and "wrong password" in wrong.stderr
    weak = cli.as_boss("user", "add", "weak", "--role", "monitor", stdin=f"{PASSWORD}\nshort\n")
    assert weak.returncode == 2 and "password must have 12" in weak.stderr
    lookalike = cli.as_boss("user", "add", "n\u0443rse", "--role", "monitor", stdin=two_lines)
    assert lookalike.returncode == 2 and "U+0443" in lookalike.stderr
    # grants: separation of duties (exit 2), no self grant (exit 3), the rest done
    sod = cli.as_boss("user", "grant", "nurse", "--role", "monitor", "--site", "B")
    assert sod.returncode == 2 and "cannot be held by one account" in sod.stderr
    own = cli.as_boss("user", "grant", "boss", "--role", "admin", "--site", "A")
    assert own.returncode == 3 and "own roles" in own.stderr
    granted = cli.as_boss("user", "grant", "NURSE", "--role", "investigator", "--site", "A")
    assert granted.returncode == 0 and "investigator@A" in granted.stdout, granted.stderr
    revoked = cli.as_boss(
        "user", "revoke", "nurse", "--role", "coordinator", "--site", "A", "--reason", "promoted"
    )
    assert revoked.returncode == 0 and "coordinator" not in revoked.stdout, revoked.stderr
    # the user changes its own password (line 1 = current, line 2 = new), then back: the
    # second change logs in with the first one's new password
    for current, new in ((NURSE, NEWER), (NEWER, NURSE)):
        cli.ok("user", "set-password", "nurse", "--as", "nurse", "--password-stdin",
               stdin=f"{current}\n{new}\n")  # fmt: skip
    stale = cli("user", "set-password", "nurse", "--as", "nurse", "--password-stdin",
                stdin=f"{NEWER}\n{NEWER}\n")  # fmt: skip
    assert stale.returncode == 3

    assert sorted(_rows(empty_db_url, "SELECT username FROM users")) == [("boss",), ("nurse",)]
    roles = _rows(
        empty_db_url,
        "SELECT r.role, s.code FROM role_membership r JOIN users u ON u.id = r.user_id "
        "LEFT JOIN site s ON s.id = r.site_id WHERE u.username = 'nurse'",
    )
    assert roles == [("investigator", "A")]
    reasons = _rows(
        empty_db_url,
        "SELECT reason FROM audit_trail WHERE table_name = 'role_membership' "
        "AND action = 'delete' AND field = 'role'",
    )
    assert reasons == [("promoted",)]


def test_a_password_typed_into_as_is_not_stored_and_a_locked_account_says_until_when(
    empty_db_url: str, tmp_path: Path
) -> None:
    cli = _set_up(empty_db_url, tmp_path)
    cli.ok("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    typed = "Sekr1t horse staple"  # the password, typed where the name goes
    out = cli("randomization", "list", "--json", "--as", typed, "--password-stdin",
              stdin=typed)  # fmt: skip
    assert out.returncode == 3
    assert typed not in out.stdout + out.stderr
    assert "sekr1t" not in _all_text(empty_db_url).casefold()

    for _ in range(5):
        wrong = cli.as_boss("randomization", "list", "--json", stdin="not my password")
        assert wrong.returncode == 3, wrong.stderr
    locked = cli.as_boss("randomization", "list", "--json")  # the right password
    assert locked.returncode == 3 and locked.stdout == ""
    assert "locked" in locked.stderr and "until" in locked.stderr and "UTC" in locked.stderr
    assert _rows(
        empty_db_url,
        "SELECT count(*) FROM audit_trail WHERE action = 'login-failed' AND reason = 'locked'",
    ) == [(1,)]
