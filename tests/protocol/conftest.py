"""Shared helpers for the protocol tests: the example's data and a refusal checker."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from equitrial.protocol import ProtocolError, protocol_from_dict

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/melanoma-pembrolizumab/protocol.toml"
_DATA = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def example_path() -> Path:
    """``examples/melanoma-pembrolizumab/protocol.toml``."""
    return EXAMPLE


@pytest.fixture
def data() -> dict[str, Any]:
    """A fresh, mutable copy of the example protocol's parsed TOML."""
    return copy.deepcopy(_DATA)


def refusal(data: dict[str, Any]) -> ProtocolError:
    """Validate ``data`` (source ``p.toml``) and return the error it must raise."""
    with pytest.raises(ProtocolError) as info:
        protocol_from_dict(data, source="p.toml")
    return info.value


@pytest.fixture
def refused() -> Callable[[dict[str, Any]], ProtocolError]:
    """``refused(data)`` validates ``data`` and returns the :class:`ProtocolError` it raises."""
    return refusal
