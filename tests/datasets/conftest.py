"""Dataset tests: the services' ``trial`` fixture, for the smoke test built through the services."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).parents[1] / "services" / "conftest.py"
_SPEC = importlib.util.spec_from_file_location("services_conftest_for_datasets", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
_MODULE = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _MODULE
_SPEC.loader.exec_module(_MODULE)

trial = _MODULE.trial
