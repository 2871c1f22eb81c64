"""Test-suite set-up shared by every test module."""

import os

from hypothesis import settings

# Property tests: no per-example deadline (CI machines are shared and slow at times) and a
# fixed derivation of examples, so a CI run is reproducible; `HYPOTHESIS_PROFILE=explore`
# searches with fresh random examples.
settings.register_profile("default", deadline=None, derandomize=True, max_examples=100)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
from db_fixtures import *  # noqa: E402, F403
