"""Issues 13 and 3 (CLI share): hostile input to every command exits 2 with ``error: ...``.

Odd bytes in an argument, NUL or invalid UTF-8 on stdin, an id beyond 64 bits, fullwidth digits,
an empty or a 50 kB argument, a weak ``--seed``, a protocol that is too large: each command
exits 2, prints ``error:`` on stderr, never a traceback, and writes nothing (no row anywhere,
not even a failed-login audit row). Subprocesses, as a user runs them, on SQLite and PostgreSQL:
one database per backend, set up once by the CLI (the refusals write nothing, so they can share
it; each test checks that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db_fixtures import BACKENDS, fresh_database

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery staple"
STRATA = ("braf_v600=mutant", "ecog_ps=0", "m_stage_ldh=M0-M1b, normal LDH")
TABLES = ("study", "site", "users", "role_membership", "subject", "audit_trail")

Arg = str | bytes


class Cli:
    def __init__(self, url: str, cwd: Path) -> None:
        self.url, self.cwd = url, cwd

    def __call__(self, *args: Arg, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "EQUITRIAL_DATABASE_URL": self.url, "COLUMNS": "200"}
        return subprocess.run(
            [sys.executable, "-m", "equitrial", *args],
            capture_output=True, cwd=self.cwd, env=env, input=stdin, timeout=120,
        )  # fmt: skip

    def ok(self, *args: Arg, stdin: bytes = b"") -> str:
        out = self(*args, stdin=stdin)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out.stdout.decode()

    def rows(self) -> dict[str, object]:
        """Row counts of the tables, and the actions of every audit row."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                counts: dict[str, object] = {
                    t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in TABLES
                }
                actions = conn.execute(sa.text("SELECT action FROM audit_trail ORDER BY id"))
                counts["audit actions"] = [a for (a,) in actions]
                return counts
        finally:
            engine.dispose()


def _with_strata(*args: str) -> list[str]:
    return [*args, *(a for pair in STRATA for a in ("--stratum", pair))]


@pytest.fixture(scope="module", params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """Example study, site A, a coordinator and an investigator, subject A-0001 randomized."""
    directory = tmp_path_factory.mktemp("hostile")
    with fresh_database(request.param, directory) as url:
        c = Cli(url, directory)
        c.ok("db", "upgrade")
        c.ok("study", "load", str(EXAMPLE), "--slots-per-stratum", "8")
        c.ok("site", "add", "A", "--name", "Site A")
        c.ok("user", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD.encode())
        for user, role in (("coord_a", "coordinator"), ("inv_a", "investigator")):
            c.ok("user", "add", user, "--role", role, "--site", "A", "--as", "admin",
                 "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n".encode())  # fmt: skip
        login = ("--as", "inv_a", "--password-stdin")
        enrol = _with_strata("subject", "enrol", "--site", "A", "--screening-number", "1")
        c.ok(*enrol, "--eligible", *login, stdin=PASSWORD.encode())
        c.ok("randomize", "1", *login, stdin=PASSWORD.encode())
        yield c


def _refused(cli: Cli, *args: Arg, stdin: bytes = b"", words: str = "", login: bool = False) -> str:
    """Run a command that must be refused: exit 2, ``error:``, no traceback, nothing written.

    ``login``: the command logs in before the use case refuses the value, so the one audit
    row ``login`` is expected; nothing else may be written.
    """
    before = cli.rows()
    out = cli(*args, stdin=stdin)
    stderr = out.stderr.decode("utf-8", "replace")
    text = out.stdout.decode("utf-8", "replace") + stderr
    assert out.returncode == 2, (args, out.returncode, text)
    assert "Traceback" not in text, text
    assert stderr.startswith("error:"), stderr
    assert words.lower() in stderr.lower(), stderr
    after = cli.rows()
    if login:
        assert after.pop("audit actions") == [*before.pop("audit actions"), "login"]  # type: ignore[list-item, misc]
        after["audit_trail"] = before["audit_trail"]
    assert after == before  # nothing written
    return stderr


AS_COORD = ("--as", "coord_a", "--password-stdin")
GOOD = (PASSWORD + "\n").encode()

# every command, with one argument replaced by odd bytes (os.fsencode of a surrogate)
ODD = b"\xff\xfe"
ODD_ARGS: dict[str, tuple[Arg, ...]] = {
    "randomize": ("randomize", ODD, *AS_COORD),
    "subject enrol --site": ("subject", "enrol", "--site", ODD, "--screening-number", "2",
                             *AS_COORD),
    "subject enrol --screening-number": (
        "subject", "enrol", "--site", "A", "--screening-number", ODD, *AS_COORD,
    ),
    "subject enrol --stratum": (
        "subject", "enrol", "--site", "A", "--screening-number", "2",
        "--stratum", b"ecog_ps=" + ODD, *AS_COORD,
    ),
    "--as": ("randomization", "list", "--as", ODD, "--password-stdin"),
    "site add": ("site", "add", ODD, "--name", "x"),
    "site add --name": ("site", "add", "C", "--name", b"Site " + ODD),
    "user add": ("user", "add", ODD, "--role", "monitor", "--password-stdin"),
    "study load": ("study", "load", b"/tmp/" + ODD + b".toml"),
    "backup": ("backup", b"/tmp/" + ODD),
    "restore": ("restore", b"/tmp/" + ODD),
    "subject correct-strata": (
        "subject", "correct-strata", ODD, "--stratum", "ecog_ps=1", "--reason", "x", *AS_COORD,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ODD_ARGS))
def test_odd_bytes_in_an_argument_are_refused(cli: Cli, name: str) -> None:
    _refused(cli, *ODD_ARGS[name], stdin=GOOD, words="not valid UTF-8")


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        (b"correct horse\x00 battery staple\n", "NUL"),
        (b"\xff\xfe password\n", "UTF-8"),
        (b"correct \x1b[2Jhorse\n", "control character"),
        (b"x" * 50_000 + b"\n", "longer than"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("randomize", "1", *AS_COORD),
        ("randomization", "list", *AS_COORD),
        ("user", "add", "eve", "--role", "monitor", "--password-stdin"),
    ],
)
def test_odd_stdin_is_refused_before_any_login(cli: Cli, command, stdin: bytes, words: str) -> None:
    _refused(cli, *command, stdin=stdin, words=words)


@pytest.mark.parametrize(
    ("subject", "words", "login"),
    [
        ("999999999999999999999", "9223372036854775807", True),  # beyond int64
        ("9223372036854775808", "9223372036854775807", True),  # int64 max + 1
        ("0", "9223372036854775807", True),
        ("１", "ASCII", True),  # fullwidth 1: subject 1 exists, but ids are ASCII digits
        ("A\u20110001", "ASCII", True),  # a non-breaking hyphen in a code
        ("", "empty", False),
        ("1" * 50_000, "at most 4096", False),
    ],
)
def test_odd_subject_ids_are_refused(cli: Cli, subject: str, words: str, login: bool) -> None:
    _refused(cli, "randomize", subject, *AS_COORD, stdin=GOOD, words=words, login=login)


ENROL = ("subject", "enrol", "--site", "A")


@pytest.mark.parametrize(
    ("args", "words", "login"),
    [
        (("site", "add", "", "--name", "x"), "empty", False),
        (("site", "add", "C", "--name", "x" * 50_000), "at most 4096", False),
        (("site", "add", "C-1", "--name", "Site C"), "letters, digits or '_'", False),
        (("site", "add", "C", "--name", "Site\tC"), "control character", False),
        (("user", "add", "u" * 5000, "--role", "monitor"), "at most 4096", False),
        (_with_strata(*ENROL, "--screening-number=-5", *AS_COORD), "negative", True),
        (_with_strata(*ENROL, "--screening-number", "1", *AS_COORD), "already enrolled", True),
        (_with_strata(*ENROL, "--screening-number", "12a", *AS_COORD), "malformed", True),
        ((*ENROL, "--screening-number", "3", *AS_COORD), "braf_v600", True),
    ],
)  # fmt: skip
def test_odd_values_are_refused_naming_the_field(cli: Cli, args, words: str, login: bool) -> None:
    _refused(cli, *args, stdin=GOOD, words=words, login=login)


def test_fullwidth_screening_numbers_are_normalized_and_found_as_duplicates(cli: Cli) -> None:
    enrol = _with_strata(*ENROL, "--screening-number", "００１", *AS_COORD)
    stderr = _refused(cli, *enrol, stdin=GOOD, words="already enrolled", login=True)
    assert "'1'" in stderr  # the normalized number is named


def test_only_an_investigator_gives_eligible(cli: Cli) -> None:
    before = cli.rows()
    args = _with_strata(*ENROL, "--screening-number", "40", "--eligible", *AS_COORD)
    out = cli(*args, stdin=GOOD)
    assert out.returncode == 3 and b"investigator" in out.stderr, out.stderr
    assert b"Traceback" not in out.stderr
    after = cli.rows()
    assert after["subject"] == before["subject"]  # the login is audited, no subject written


@pytest.mark.parametrize("seed", ["0", "20240501", str(2**127 - 1), "-1"])
def test_a_weak_seed_is_refused(tmp_path: Path, cli: Cli, seed: str) -> None:
    with fresh_database(cli.url.split(":", 1)[0].split("+")[0], tmp_path) as url:
        fresh = Cli(url, tmp_path)
        fresh.ok("db", "upgrade")
        stderr = _refused(fresh, "study", "load", str(EXAMPLE), f"--seed={seed}", words="128 bits")
        assert "2**127" in stderr
        fresh.ok("study", "load", str(EXAMPLE), "--seed", str(2**127), "--slots-per-stratum", "2")


def test_a_protocol_of_thirty_factors_is_refused_quickly(cli: Cli, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    factors = "".join(f'f{i} = ["a", "b", "c", "d", "e"]\n' for i in range(30))
    text = text.replace("[stratification]\n", "[stratification]\n" + factors, 1)
    path = tmp_path / "huge.toml"
    path.write_text(text, encoding="utf-8")
    stderr = _refused(cli, "study", "load", str(path), words="at most 10")
    assert "stratification" in stderr
