"""The row hash against a slow, obviously correct reference: the canonical JSON of the
content (keys sorted, no whitespace, UTF-8 as is, ``at`` ISO 8601 UTC with microseconds)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import types
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from equitrial.store.chain import compute_row_hash

_TEXT = st.none() | st.text(max_size=30)
_ROWS = st.fixed_dictionaries(
    {
        "id": st.integers(1, 2**40),
        "at": st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5))])),
        "user_id": st.none() | st.integers(1, 10**6),
        "username": st.text(min_size=1, max_size=20),
        "action": st.sampled_from(["insert", "update", "login", "randomize"]),
        "table_name": _TEXT,
        "record_id": _TEXT,
        "field": _TEXT,
        "old_value": _TEXT,
        "new_value": _TEXT,
        "reason": _TEXT,
        "software_version": st.just("1.0"),
        "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
    }
)


def _reference(row: dict[str, Any]) -> str:
    content = dict(row, at=row["at"].astimezone(dt.UTC).isoformat(timespec="microseconds"))
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@given(_ROWS)
def test_the_row_hash_is_the_sha256_of_the_canonical_json(row: dict[str, Any]) -> None:
    expected = _reference(row)
    assert compute_row_hash(row) == expected
    assert compute_row_hash(types.SimpleNamespace(**row)) == expected
    assert compute_row_hash({**row, "row_hash": "ignored"}) == expected
