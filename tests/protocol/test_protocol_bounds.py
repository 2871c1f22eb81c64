"""Issue 13 (protocol share): protocol sizes are bounded and refused quickly, naming the key.

The limits are those of ``equitrial.protocol._limits`` and ``randomization.schedule``; a protocol
past them is refused by counting, in milliseconds, before any stratum or slot is built. The
list-size tests load a study, so they run on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from equitrial.errors import InvalidInputError
from equitrial.protocol import ProtocolError, load_protocol, protocol_from_dict
from equitrial.services import study
from equitrial.services.auth import system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/melanoma-pembrolizumab/protocol.toml"
STRATIFICATION = """[stratification]
braf_v600 = ["mutant", "wild-type"]
ecog_ps = ["0", "1"]
m_stage_ldh = ["M0-M1b, normal LDH", "M1c or elevated LDH"]
"""


def _levels(n: int, prefix: str = "l") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _refused_quickly(data) -> ProtocolError:
    start = time.perf_counter()
    with pytest.raises(ProtocolError) as info:
        protocol_from_dict(data, source="p.toml")
    assert time.perf_counter() - start < 0.5
    return info.value


def _paths(error: ProtocolError) -> list[str]:
    return [issue.path for issue in error.issues]


def test_thirty_factors_of_five_levels_are_refused_in_milliseconds(data):
    data["stratification"] = {f"factor{i}": _levels(5) for i in range(30)}  # 9.3e20 strata
    error = _refused_quickly(data)
    assert _paths(error) == ["stratification"]
    assert "30 factors; expected at most 10" in str(error)


@pytest.mark.parametrize(
    ("stratification", "path", "words"),
    [
        ({"a": _levels(21), "b": _levels(2)}, "stratification.a", "21 levels; expected at most 20"),
        (
            {f"f{i}": _levels(20) for i in range(4)},  # 160,000 strata
            "stratification",
            "gives 160000 strata",
        ),
        ({"a;b": _levels(2)}, 'stratification."a;b"', "';' or '='"),
        ({"a": ["x=1", "y"]}, "stratification.a[0]", "';' or '='"),
        ({"a" * 65: _levels(2)}, "stratification." + "a" * 65, "at most 64"),
        (
            {f"factor_{i:02d}_" + "x" * 40: ["level_" + "y" * 40, "z"] for i in range(3)},
            "stratification",
            "stratum keys of up to",
        ),
    ],
)
def test_oversized_or_unusable_stratification_is_refused(data, stratification, path, words):
    data["stratification"] = stratification
    error = _refused_quickly(data)
    assert path in _paths(error)
    assert words in str(error)


def test_the_largest_allowed_stratification_is_accepted(data):
    data["stratification"] = {f"f{i}": _levels(10) for i in range(4)}  # exactly 10,000 strata
    protocol = protocol_from_dict(data)
    assert len(protocol.stratification) == 4
    data["stratification"] = {f"f{i}": _levels(2) for i in range(10)}  # 10 factors
    assert len(protocol_from_dict(data).stratification) == 10


@pytest.mark.parametrize(
    ("table", "key", "value", "path"),
    [
        ("randomization", "block_sizes", [4, 10**9], "randomization.block_sizes[1]"),
        ("randomization", "block_sizes", list(range(2, 50, 2)), "randomization.block_sizes"),
        ("randomization", "allocation_ratio", [1000, 1], "randomization.allocation_ratio[0]"),
        ("assumptions", "sample_size", 10**7, "assumptions.sample_size"),
    ],
)
def test_sizes_that_drive_the_allocation_list_are_bounded(data, table, key, value, path):
    data[table][key] = value
    if key == "allocation_ratio":
        data["randomization"]["block_sizes"] = [1001]
    assert path in _paths(_refused_quickly(data))


def test_a_protocol_file_over_one_mebibyte_is_refused_without_reading_it_all(tmp_path):
    # the limit, equitrial.protocol.MAX_PROTOCOL_BYTES, is 1 MiB
    big = tmp_path / "big.toml"
    padding = "# " + "x" * 1000 + "\n"
    big.write_text(EXAMPLE.read_text() + padding * (2 * 1_048_576 // len(padding)))  # 2 MiB
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="larger than") as info:
        load_protocol(big)
    assert time.perf_counter() - start < 0.5
    assert info.value.field == "path"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_that_never_ends_is_refused():
    with pytest.raises(InvalidInputError, match="larger than"):
        load_protocol("/dev/zero")


# --- the list's size, at study load (SQLite and PostgreSQL) ------------------------------------


def _written(engine) -> tuple[int, int]:
    with transaction(engine, read_only=True) as session:
        return (
            session.scalar(select(func.count()).select_from(m.Study)) or 0,
            session.scalar(select(func.count()).select_from(m.RandomizationSchedule)) or 0,
        )


def _protocol_file(tmp_path: Path, stratification: str) -> Path:
    path = tmp_path / "protocol.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert STRATIFICATION in text
    path.write_text(text.replace(STRATIFICATION, stratification), encoding="utf-8")
    return path


@pytest.mark.parametrize("slots", [100_001, 150_000])
def test_too_many_slots_per_stratum_are_refused_before_any_is_generated(engine, slots):
    start = time.perf_counter()
    with pytest.raises(InvalidInputError) as info:
        study.load_study(engine, system_actor(), EXAMPLE, slots_per_stratum=slots)
    assert time.perf_counter() - start < 5
    assert info.value.field == "slots_per_stratum"
    assert _written(engine) == (0, 0)


def test_a_list_of_too_many_slots_in_all_is_refused_before_any_is_generated(engine, tmp_path):
    # 4 factors x 10 levels = 10,000 strata (allowed) x the default 300 slots = 3,000,000 slots
    levels = ", ".join(f'"{lv}"' for lv in _levels(10))
    table = "[stratification]\n" + "".join(f"f{i} = [{levels}]\n" for i in range(4))
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="900000") as info:
        study.load_study(engine, system_actor(), _protocol_file(tmp_path, table))
    assert time.perf_counter() - start < 5
    assert info.value.field == "slots_per_stratum"
    assert _written(engine) == (0, 0)
