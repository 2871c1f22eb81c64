"""build_adam: the nine ADaM datasets in their order, the other builders imported when called."""

from __future__ import annotations

import sys
import types

import pytest
from adam_support import assess, source, tables

from equitrial.datasets import OCCURRENCE_AND_FINDINGS, Dataset, build_adam


def test_build_adam_order_and_signature(monkeypatch: pytest.MonkeyPatch):
    # stand-ins for the six modules written elsewhere: each records what it was given
    seen: list[tuple[str, str]] = []
    for name in OCCURRENCE_AND_FINDINGS:
        module = types.ModuleType(f"equitrial.datasets.{name}")

        def build(src: object, adsl: Dataset, _name: str = name) -> Dataset:
            seen.append((_name, adsl.name))
            return Dataset(_name.upper(), _name, "X", "x", "ADaMIG 1.3", (), adsl.frame.iloc[:, :0])

        setattr(module, f"build_{name}", build)
        monkeypatch.setitem(sys.modules, f"equitrial.datasets.{name}", module)
    rows = tables(1)
    assess(rows, 1, [(-5, None), (63, "SD")])
    names = [d.name for d in build_adam(source(rows))]
    assert names == ["ADSL", "ADRS", "ADTTE", "ADAE", "ADLB", "ADEX", "ADPC", "ADIS", "ADQS"]
    assert seen == [(n, "ADSL") for n in ("adae", "adlb", "adex", "adpc", "adis", "adqs")]
