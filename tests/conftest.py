"""Test-suite set-up shared by every test module."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: no per-example deadline (CI machines are shared and slow at times) and a
# fixed derivation of examples, so a CI run is reproducible; `HYPOTHESIS_PROFILE=explore`
# searches with fresh random examples.
settings.register_profile("default", deadline=None, derandomize=True, max_examples=100)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The audit signing key lives outside the database (``equitrial db upgrade`` creates it): one
# key for the test session, in a private temporary directory, inherited by CLI subprocesses.
_KEYS = Path(tempfile.mkdtemp(prefix="equitrial-test-keys-"))
os.environ["EQUITRIAL_AUDIT_KEY_FILE"] = str(_KEYS / "audit-signing.key")
os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"] = str(_KEYS / "audit-anchors.jsonl")

from equitrial.store.keys import create_key  # noqa: E402

create_key()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Without pytest-xdist (``-p no:xdist``), accept and ignore addopts' ``-n`` and ``--dist``.

    The suite then runs in this one process, as with ``-n 0``.
    """
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "without pytest-xdist: ignored, one process")
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)
    group._addoption("--dist", dest="dist", default="no")


@pytest.fixture(autouse=True)
def _own_anchor_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each test appends its signed chain heads to its own external anchor file.

    A database copied or restored by a test shares its chain with the original; separate
    anchor files keep one test's anchors from being checked against another test's database.
    """
    path = tmp_path_factory.mktemp("anchors") / "audit-anchors.jsonl"
    previous = os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"]
    os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"] = str(path)
    try:
        yield path
    finally:
        os.environ["EQUITRIAL_AUDIT_ANCHOR_FILE"] = previous


from db_fixtures import *  # noqa: E402, F403
