"""The data commands as a user (or an external check) runs them: subprocesses, both databases.

Each test gets a fresh, empty database (a SQLite file in a temporary directory, or a fresh
PostgreSQL database on 127.0.0.1:5432, dropped afterwards: ``tests/db_fixtures.py``) and drives it
only through ``equitrial ...`` with ``EQUITRIAL_DATABASE_URL`` set, exactly as the issue's
"External contract" states the commands. The only direct SQL is the tampering in the audit tests
(what an attacker with database access would do).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from db_fixtures import BACKENDS, fresh_database, postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery staple"
STRATUM = ("braf_v600=mutant", "ecog_ps=0", "m_stage_ldh=M0-M1b, normal LDH")
ARM_CODES = ("BIO", "REF")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


# --- databases ---------------------------------------------------------------------------------
# ``empty_db_url`` (tests/db_fixtures.py): a fresh, NOT migrated database, SQLite or PostgreSQL
# (PostgreSQL parameters fail, not skip, when CI=true). The set-up every other test needs is built
# ONCE per backend by the CLI itself (``_set_up``) and each test gets its own copy of it: a file
# copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL.


def _kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def _copy_of(url: str, directory: Path) -> Iterator[str]:
    if _kind(url) == "sqlite":
        src = Path(sa.make_url(url).database or "")
        dest = directory / f"copy_{uuid.uuid4().hex}.db"
        for suffix in ("", "-wal", "-shm"):  # after a clean exit only the main file is left
            if Path(f"{src}{suffix}").exists():
                shutil.copyfile(f"{src}{suffix}", f"{dest}{suffix}")
        yield f"sqlite:///{dest}"
        return
    name = f"equitrial_test_{uuid.uuid4().hex}"
    template = sa.make_url(url).database
    admin = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- running the command -----------------------------------------------------------------------


class Cli:
    """``equitrial`` against one database, from a scratch working directory."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url, self.cwd = url, cwd

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "EQUITRIAL_DATABASE_URL": self.url, "COLUMNS": "200"}
        return subprocess.run(
            [sys.executable, "-m", "equitrial", *args],
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=env,
            input=stdin if stdin is not None else "",
            timeout=120,
        )

    def ok(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        out = self(*args, stdin=stdin)
        assert out.returncode == 0, f"{args}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
        return out

    def as_user(self, user: str, *args: str) -> list[str]:
        return [*args, "--as", user, "--password-stdin"]

    def enrol(self, user: str, site: str, screening: str, *extra: str) -> str:
        out = self.ok(
            "subject", "enrol", "--site", site, "--screening-number", screening,
            *extra, "--as", user, "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        return out.stdout.strip().splitlines()[-1]

    def randomize(self, subject: str, user: str) -> subprocess.CompletedProcess[str]:
        return self("randomize", subject, "--as", user, "--password-stdin", stdin=PASSWORD + "\n")


def _strata(*pairs: str) -> list[str]:
    return [arg for pair in pairs for arg in ("--stratum", pair)]


USERS = {
    "admin": ("admin", None),
    "coord_a": ("coordinator", "A"),
    "coord_b": ("coordinator", "B"),
    "inv_a": ("investigator", "A"),
    "blind_stat": ("blinded-statistician", None),
    "dsmb": ("unblinded-statistician", None),
    "pharm_a": ("pharmacist", "A"),
}
RANDOMIZED = "A-0001"  # enrolled and randomized by coord_a (eligible: inv_a) in the set-up


def _set_up(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    cli.ok("study", "load", str(EXAMPLE))
    cli.ok("site", "add", "A", "--name", "Site A, Oslo")
    cli.ok("site", "add", "B", "--name", "Site B, Bergen")
    # the operator adds the first administrator only; the admin adds the others (stdin: the
    # admin's password, then the new user's)
    cli.ok("user", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    for user, (role, site) in USERS.items():
        where = ["--site", site] if site else []
        if user != "admin":
            cli.ok(
                "user", "add", user, "--role", role, *where, "--as", "admin", "--password-stdin",
                stdin=f"{PASSWORD}\n{PASSWORD}\n",
            )  # fmt: skip
    subject = cli.enrol("coord_a", "A", "SCR-000", *_strata(*STRATUM))
    cli.ok(*cli.as_user("inv_a", "subject", "confirm-eligibility", subject), stdin=PASSWORD)
    assert subject == RANDOMIZED
    assert cli.randomize(subject, "coord_a").returncode == 0


@pytest.fixture(scope="module", params=BACKENDS)
def template_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database set up by the CLI: example study, sites A and B, one user per role, and one
    randomized subject."""
    directory = tmp_path_factory.mktemp("template")
    with fresh_database(request.param, directory) as url:
        _set_up(Cli(url, directory))
        yield url


@pytest.fixture
def cli(template_url: str, tmp_path: Path) -> Iterator[Cli]:
    """A private copy of the set-up database."""
    with _copy_of(template_url, tmp_path) as url:
        yield Cli(url, tmp_path)


def _listing(cli: Cli) -> list[dict[str, object]]:
    out = cli.ok(*cli.as_user("dsmb", "randomization", "list", "--json"), stdin=PASSWORD)
    doc = json.loads(out.stdout)  # stdout is one JSON document and nothing else
    assert isinstance(doc, list)
    return doc


# --- operator commands -------------------------------------------------------------------------


def test_db_upgrade_study_load_and_show_on_an_empty_database(
    empty_db_url: str, tmp_path: Path
) -> None:
    c = Cli(empty_db_url, tmp_path)
    c.ok("db", "upgrade")
    before = c("study", "show", "--json")  # no study yet: a clear error, nothing on stdout
    assert before.returncode == 2
    assert "study load" in before.stderr and before.stdout == ""
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("level = 0.90", "level = 1.5", 1))
    refused = c("study", "load", str(bad))
    assert refused.returncode == 2
    assert "hypothesis.level" in refused.stderr
    c.ok("db", "upgrade")  # already at head: a no-op, not an error
    c.ok("study", "load", str(EXAMPLE))
    doc = json.loads(c.ok("study", "show", "--json").stdout)
    # examples/melanoma-pembrolizumab/protocol.toml, [stratification], in file order
    assert doc["stratification"] == {
        "braf_v600": ["mutant", "wild-type"],
        "ecog_ps": ["0", "1"],
        "m_stage_ldh": ["M0-M1b, normal LDH", "M1c or elevated LDH"],
    }
    assert doc["code"] == "EQT-PEM-301"


def test_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EQUITRIAL_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-m", "equitrial", "db", "upgrade"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "equitrial.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_operator_commands_refuse_bad_input_with_exit_2(cli: Cli) -> None:
    role = cli("user", "add", "eve", "--role", "superuser", "--password-stdin", stdin=PASSWORD)
    assert role.returncode == 2
    assert "superuser" in role.stderr
    assert "unblinded-statistician" in role.stderr  # the message lists the accepted roles
    empty = cli("user", "add", "eve", "--role", "monitor", "--password-stdin", stdin="")
    assert empty.returncode == 2
    assert "password" in empty.stderr.lower()
    site = cli("site", "add", "A", "--name", "again")
    assert site.returncode == 2
    assert "'A'" in site.stderr


# --- enrolment and randomization -----------------------------------------------------------------


def test_enrol_randomize_and_the_unblinded_list_agree(cli: Cli) -> None:
    subjects = [
        cli.enrol("inv_a", "A", f"SCR-{i:03d}", *_strata(*STRATUM), "--eligible")
        for i in range(1, 4)
    ]
    # the subject id alone on the last line: one token, new each time
    assert subjects == ["A-0002", "A-0003", "A-0004"]
    printed = {s: cli.randomize(s, "coord_a") for s in subjects}
    for out in printed.values():
        assert out.returncode == 0, out.stderr
        assert "sequence number:" in out.stdout and "kit:" in out.stdout
        assert not any(code in out.stdout + out.stderr for code in ARM_CODES)  # blinded
    again = cli.randomize(subjects[0], "coord_a")  # a retried request: the same allocation
    assert again.returncode == 0 and again.stdout == printed[subjects[0]].stdout

    listing = _listing(cli)
    assert [row["subject"] for row in listing] == [RANDOMIZED, *subjects]
    for row in listing:
        assert set(row) == {"subject", "stratum", "block", "sequence_number", "arm", "kit"}
        assert row["arm"] in ARM_CODES
        if row["subject"] in printed:
            told = printed[str(row["subject"])].stdout
            assert f"sequence number: {row['sequence_number']}\n" in told
            assert f"kit: {row['kit']}\n" in told
    assert len({row["sequence_number"] for row in listing}) == len(listing)
    assert len({row["kit"] for row in listing}) == len(listing)
    # one stratum; its first block has size 4 or 6 (protocol), so 4 allocations are its first
    # four slots in list order: consecutive sequence numbers, block 1, at most 3 of one arm
    assert len({row["stratum"] for row in listing}) == 1
    seqs = [int(str(row["sequence_number"])) for row in listing]
    assert seqs == list(range(seqs[0], seqs[0] + 4))
    assert {row["block"] for row in listing} == {1}
    assert max(sum(row["arm"] == a for row in listing) for a in ARM_CODES) <= 3


def test_randomize_prints_the_arm_only_to_an_unblinded_user(cli: Cli) -> None:
    # no account may both randomize (site staff) and see arms: separation of duties refuses
    # a site user who would also hold the unblinded role (--role repeats)
    combined = cli(
        "user", "add", "open_a", "--role", "coordinator", "--role", "unblinded-statistician",
        "--site", "A", "--as", "admin", "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert combined.returncode == 2, combined.stderr
    assert "unblinded-statistician" in combined.stderr and "coordinator" in combined.stderr
    blinded = cli.randomize(RANDOMIZED, "coord_a")  # idempotent: the same allocation
    assert blinded.returncode == 0, blinded.stderr
    arm = _listing(cli)[0]["arm"]
    assert "arm" not in blinded.stdout.lower() and str(arm) not in blinded.stdout


def test_randomization_list_is_refused_to_blinded_roles_with_exit_3(cli: Cli) -> None:
    for user in ("blind_stat", "coord_a"):
        out = cli(*cli.as_user(user, "randomization", "list", "--json"), stdin=PASSWORD)
        assert out.returncode == 3, (user, out.stdout, out.stderr)
        assert out.stdout == ""
        assert "unblinded-statistician" in out.stderr


def _table(lines: list[str], header: tuple[str, ...]) -> list[str]:
    """The rows of the table under ``header`` (a header line, a rule, one line per row)."""
    start = next(i for i, line in enumerate(lines) if tuple(line.split()) == header)
    assert not any(ch.isalnum() for ch in lines[start + 1])  # the rule under the header
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line)
    return rows


def test_randomization_list_and_study_show_print_tables(cli: Cli) -> None:
    other = ("braf_v600=wild-type", "ecog_ps=1", "m_stage_ldh=M1c or elevated LDH")
    for i, strata in enumerate((STRATUM, other), start=1):
        subject = cli.enrol("inv_a", "A", f"SCR-{i:03d}", *_strata(*strata), "--eligible")
        assert cli.randomize(subject, "coord_a").returncode == 0
    listing = _listing(cli)  # --json: one JSON document, the same keys as before
    assert len(listing) == 3
    out = cli.ok(*cli.as_user("dsmb", "randomization", "list"), stdin=PASSWORD).stdout
    lines = out.splitlines()
    rows = _table(lines, ("seq", "subject", "arm", "kit", "block", "stratum"))
    assert len(lines) == 2 + len(listing)  # nothing else: one line per allocation
    for line, row in zip(rows, listing, strict=True):
        keys = ("sequence_number", "subject", "arm", "kit", "block")
        assert line.split()[:5] == [str(row[k]) for k in keys]
        assert line.rstrip().endswith(str(row["stratum"]))

    doc = json.loads(cli.ok("study", "show", "--json").stdout)
    shown = cli.ok("study", "show").stdout.splitlines()
    assert shown[0] == f"{doc['code']} (protocol version {doc['protocol_version']}): {doc['title']}"
    arms = _table(shown, ("arm", "role", "name"))
    assert [line.split()[:2] for line in arms] == [[a["code"], a["role"]] for a in doc["arms"]]
    strata = _table(shown, ("factor", "levels"))
    assert len(strata) == len(doc["stratification"])
    for line, (factor, levels) in zip(strata, doc["stratification"].items(), strict=True):
        assert line.split()[0] == factor and line.rstrip().endswith(", ".join(levels))


def test_randomize_refuses_unconfirmed_eligibility_and_a_missing_factor(cli: Cli) -> None:
    unconfirmed = cli.enrol("coord_a", "A", "SCR-001", *_strata(*STRATUM))
    out = cli.randomize(unconfirmed, "coord_a")
    assert out.returncode == 2
    assert "eligib" in out.stderr.lower()
    partial = cli(  # a missing factor is refused at enrolment already
        "subject", "enrol", "--site", "A", "--screening-number", "SCR-002",
        *_strata(*STRATUM[:2]), "--as", "coord_a", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert partial.returncode == 2
    assert "m_stage_ldh" in partial.stderr
    assert [row["subject"] for row in _listing(cli)] == [RANDOMIZED]  # nothing allocated


def test_enrol_refuses_bad_strata_and_a_duplicate_screening_number(cli: Cli) -> None:
    def enrol(*extra: str) -> subprocess.CompletedProcess[str]:
        return cli(
            "subject", "enrol", "--site", "A", *extra, "--as", "coord_a", "--password-stdin",
            stdin=PASSWORD,
        )  # fmt: skip

    level = enrol("--screening-number", "SCR-001", *_strata("ecog_ps=3"))
    assert level.returncode == 2
    assert "ecog_ps=3" in level.stderr and "'0', '1'" in level.stderr
    syntax = enrol("--screening-number", "SCR-001", "--stratum", "ecog_ps")
    assert syntax.returncode == 2
    assert "FACTOR=LEVEL" in syntax.stderr
    duplicate = enrol("--screening-number", "SCR-000")  # the set-up's subject
    assert duplicate.returncode == 2
    assert "SCR-000" in duplicate.stderr


def test_a_site_a_coordinator_cannot_enrol_or_randomize_at_site_b(cli: Cli) -> None:
    out = cli(
        "subject", "enrol", "--site", "B", "--screening-number", "SCR-900",
        "--as", "coord_a", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert out.returncode == 3
    subject_b = cli.enrol("coord_b", "B", "SCR-901", *_strata(*STRATUM))
    assert subject_b == "B-0001"
    out = cli.randomize(subject_b, "coord_a")
    assert out.returncode == 3
    assert out.stdout == ""


def test_acting_users_must_give_the_right_password(cli: Cli) -> None:
    for user, password in (("coord_a", "wrong password"), ("nobody", PASSWORD)):
        out = cli(
            "subject", "enrol", "--site", "A", "--screening-number", "SCR-001",
            "--as", user, "--password-stdin", stdin=password + "\n",
        )  # fmt: skip
        assert out.returncode == 3, (user, out.stderr)
        assert "wrong password" in out.stderr
    # neither attempt enrolled anyone: the next subject id is still A-0002
    assert cli.enrol("coord_a", "A", "SCR-001", *_strata(*STRATUM)) == "A-0002"


# --- audit trail, backup and restore -----------------------------------------------------------


def _final_hash(out: subprocess.CompletedProcess[str]) -> str:
    found: list[str] = HEX64.findall(out.stdout)
    assert found, out.stdout
    return found[-1]


def _tamper(url: str) -> int:
    """Alter one audit row with the append-only trigger out of the way; return its id."""

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            row_id = conn.execute(sa.text("SELECT min(id) + 1 FROM audit_trail")).scalar_one()
            if _kind(url) == "postgresql":
                conn.execute(sa.text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
                conn.execute(
                    sa.text("UPDATE audit_trail SET new_value = 'forged' WHERE id = :i"),
                    {"i": row_id},
                )
                conn.execute(sa.text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))
            else:
                # SQLite cannot disable a trigger: drop it, tamper, put it back as it was
                triggers = conn.execute(
                    sa.text(
                        "SELECT name, sql FROM sqlite_master "
                        "WHERE type = 'trigger' AND tbl_name = 'audit_trail'"
                    )
                ).all()
                assert triggers, "the migration must protect audit_trail with triggers"
                for name, _ in triggers:
                    conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
                conn.execute(
                    sa.text("UPDATE audit_trail SET new_value = 'forged' WHERE id = :i"),
                    {"i": row_id},
                )
                for _, sql in triggers:
                    conn.execute(sa.text(sql))
        return int(row_id)
    finally:
        engine.dispose()


def test_audit_verify_prints_the_final_hash_and_names_a_forged_row(cli: Cli) -> None:
    good = cli.ok("audit", "verify")
    assert _final_hash(good)
    assert cli.ok("audit", "verify").stdout == good.stdout  # verifying writes nothing
    forged = _tamper(cli.url)
    bad = cli("audit", "verify")
    assert bad.returncode == 1
    assert re.search(rf"\brow {forged}\b", bad.stderr), bad.stderr
    assert not HEX64.search(bad.stdout)  # a broken chain has no final hash to vouch for


def test_the_database_refuses_to_update_or_delete_audit_rows(cli: Cli) -> None:
    engine = sa.create_engine(cli.url)
    try:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_trail SET reason = 'x' WHERE id = 1"))
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_trail"))
    finally:
        engine.dispose()
    assert cli("audit", "verify").returncode == 0


def test_the_audit_trail_names_the_operator_logins_and_failed_logins(cli: Cli) -> None:
    cli("randomization", "list", "--json", "--as", "dsmb", "--password-stdin", stdin="wrong")
    engine = sa.create_engine(cli.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT username, action FROM audit_trail")).all()
    finally:
        engine.dispose()
    actions = {(u, a) for u, a in rows}
    assert ("coord_a", "login") in actions
    assert ("coord_a", "insert") in actions  # the set-up's enrolment, by the logged-in user
    assert ("coord_a", "randomize") in actions
    assert ("dsmb", "login-failed") in actions
    assert any(u.startswith("system:") and a == "insert" for u, a in rows)  # operator set-up


def test_backup_and_restore_give_a_database_with_the_same_final_hash(
    cli: Cli, tmp_path: Path
) -> None:
    original = _final_hash(cli.ok("audit", "verify"))
    dest = tmp_path / "backup" / "trial.backup"
    dest.parent.mkdir()
    cli.ok("backup", str(dest))
    assert dest.stat().st_size > 0
    again = cli("backup", str(dest))
    assert again.returncode == 2 and "exists" in again.stderr  # never overwritten
    # the original keeps working; its later changes are not in the copy
    cli.enrol("coord_a", "A", "SCR-002", *_strata(*STRATUM))
    assert _final_hash(cli.ok("audit", "verify")) != original

    with fresh_database(_kind(cli.url), tmp_path) as restored_url:
        # restored on another installation (same key, its own anchor log): this one's log
        # holds the heads written after the backup, which the restored copy rightly lacks
        os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"] = str(tmp_path / "restored-anchors.jsonl")
        other = Cli(restored_url, cli.cwd)
        missing = other("restore", str(tmp_path / "nope.backup"), "--study", "EQT-PEM-301")
        assert missing.returncode == 2 and "nope.backup" in missing.stderr
        other.ok("restore", str(dest), "--study", "EQT-PEM-301")
        assert _final_hash(other.ok("audit", "verify")) == original
        # a working copy: users log in, the subject keeps its allocation, nothing of SCR-002
        assert [row["subject"] for row in _listing(other)] == [RANDOMIZED]
        assert other.enrol("coord_a", "A", "SCR-002", *_strata(*STRATUM)) == "A-0002"
