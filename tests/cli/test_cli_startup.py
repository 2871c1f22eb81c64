"""Start-up: ``equitrial --version`` and every ``--help`` load only typer, rich and the CLI.

The data and design stacks (SQLAlchemy, pydantic models, argon2, numpy, scipy, pandas,
matplotlib, Dask) are imported inside the command that needs them. A fresh interpreter is the
only place to see what an import pulls in (this test session has them all loaded already), so
the checks run in a subprocess that reports ``sys.modules``. Not a timing test: what is loaded
is what makes start-up slow, and it does not depend on how busy the machine is.

One exception: Typer 0.29 itself converts parameter values with pydantic (``typer._adapters``),
so the ``--help`` of a group's subcommand, which makes the group convert its own absent --help
value, loads pydantic through Typer. There the check is that no equitrial module outside the
CLI (``equitrial.protocol``, ``equitrial.services`` ...) is loaded, and none of the others.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import equitrial

HEAVY = ("sqlalchemy", "pydantic", "numpy", "scipy", "pandas", "argon2", "matplotlib", "dask")

# What a fresh interpreter loads for ``import equitrial.cli``, then for the console script's
# entry point with --version, then for --help of every group and command.
_PROBE = textwrap.dedent(
    """
    import json, sys

    def loaded():
        heavy = [m for m in HEAVY if m in sys.modules]
        beyond_cli = [
            m for m in sys.modules
            if m.startswith("equitrial.") and m.split(".")[1] not in ("cli", "errors")
        ]
        return sorted(heavy + beyond_cli)

    HEAVY = {heavy!r}
    report = {{}}
    {prelude}
    import equitrial.cli
    from equitrial.cli.db import EXIT_VERIFY_FAILED, database
    from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login
    report["import"] = loaded()

    sys.argv = ["equitrial", "--version"]
    try:
        equitrial.cli.main()
    except SystemExit as exc:
        report["version_exit"] = exc.code
    report["version"] = loaded()

    import typer.main
    from typer.testing import CliRunner

    def paths(command, path=()):
        yield path
        for name, sub in getattr(command, "commands", {{}}).items():
            yield from paths(sub, (*path, name))

    runner = CliRunner()
    report["help_exits"] = {{}}
    for path in paths(typer.main.get_command(equitrial.cli.app)):
        result = runner.invoke(equitrial.cli.app, [*path, "--help"])
        report["help_exits"][" ".join(path)] = result.exit_code
    report["help"] = loaded()
    sys.stdout.write("\\n" + json.dumps(report))
    """
)


def _probe(prelude: str = "") -> dict[str, Any]:
    code = _PROBE.format(heavy=HEAVY, prelude=prelude)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    version_line, report = out.stdout.rsplit("\n", 1)
    assert version_line.strip() == f"equitrial {equitrial.__version__}"
    doc = json.loads(report)
    assert isinstance(doc, dict)
    return doc


def test_version_and_help_import_no_data_or_numeric_stack() -> None:
    report = _probe()
    assert report["import"] == []
    assert report["version_exit"] in (0, None)
    assert report["version"] == []
    exits = report["help_exits"]
    assert {"", "db upgrade", "user add", "randomization list", "audit verify"} <= set(exits)
    assert set(exits.values()) == {0}
    assert set(report["help"]) <= {"pydantic"}  # Typer's own (see above)


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a service imported before the CLI shows up in every report."""
    report = _probe(prelude="import equitrial.services.auth")
    assert "argon2" in report["import"]
    assert "sqlalchemy" in report["help"]
