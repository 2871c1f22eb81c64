"""The console script answers --version with the installed package version."""

import subprocess
import sys

import equitrial


def test_version_flag_prints_package_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "equitrial", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"equitrial {equitrial.__version__}"
    assert equitrial.__version__ != "0.0.0+unknown"
