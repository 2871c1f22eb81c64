"""Grading the results of a central-lab transfer against the stored results, all at once.

The rule is that of a hand-entered result (:func:`equitrial.services._derivation.lab_grade`):
the CTCAE grade against the baseline, the subject's earliest earlier result of the same test if
in the same unit. A transfer's results are graded together: the stored results of the file's
subjects and tests are read once (:func:`stored_series`, the database finds each series' first
results and latest time), the file's own results ranked among them in Python
(:func:`baselines`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from equitrial.clinical.ctcae import grade_lab
from equitrial.services import _derivation as derivation
from equitrial.services._lab_transfer_file import LAB_TABLE
from equitrial.services.auth import Actor
from equitrial.store import models as m

__all__ = [
    "Stored",
    "baselines",
    "chunks",
    "grade_again",
    "grades",
    "regrade_stored",
    "stored_series",
]

# statements built once (building one costs more than running it), run with parameters
_LAB: Final = m.LabResult
_IN_SERIES: Final = (  # the results of some subjects' tests
    _LAB.subject_id.in_(bindparam("subjects", expanding=True)),
    _LAB.test.in_(bindparam("tests", expanding=True)),
)
_LAST: Final = (
    select(_LAB.subject_id, _LAB.test, func.max(_LAB.collected_at))
    .where(*_IN_SERIES)
    .group_by(_LAB.subject_id, _LAB.test)
)
# the results collected at the first time of a series (of theirs or another's: sorted out after)
_AT_FIRST: Final = select(
    _LAB.id, _LAB.subject_id, _LAB.test, _LAB.collected_at, _LAB.value, _LAB.unit
).where(
    *_IN_SERIES,
    _LAB.collected_at.in_(
        select(func.min(_LAB.collected_at)).where(*_IN_SERIES).group_by(_LAB.subject_id, _LAB.test)
    ),
)
_SET_GRADE: Final = (
    update(LAB_TABLE)
    .where(LAB_TABLE.c.id == bindparam("b_id"))
    .values(ctcae_grade=bindparam("b_grade"))
)


def chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    """``items`` in lists of at most ``size`` (the values of one ``IN`` list)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Stored(NamedTuple):
    """A subject's stored results of one test: the first (by collection time, then id; the
    baseline of the later ones if in its unit) and the latest collection time."""

    id: int
    collected_at: dt.datetime
    value: float
    unit: str
    last: dt.datetime


def stored_series(session: Session, records: list[dict[str, Any]]) -> dict[tuple[int, str], Stored]:
    """The stored results of the subjects and tests of ``records`` (read before they are
    inserted), by subject and test: the database finds each series' first time and latest time
    (two grouped queries), not every result."""
    subject_ids = sorted({r["subject_id"] for r in records})
    tests = sorted({r["test"] for r in records})
    stored: dict[tuple[int, str], Stored] = {}
    for chunk in chunks(subject_ids):
        params = {"subjects": chunk, "tests": tests}
        last = {(subject, test): at for subject, test, at in session.execute(_LAST, params)}
        for lab_id, subject_id, test, collected_at, value, unit in session.execute(
            _AT_FIRST, params
        ):
            key = (subject_id, test)
            known = stored.get(key)
            if known is None or (collected_at, lab_id) < (known.collected_at, known.id):
                stored[key] = Stored(lab_id, collected_at, value, unit, last[key])
    return stored


def baselines(
    stored: Mapping[tuple[int, str], Stored], ids: Sequence[int], records: list[dict[str, Any]]
) -> list[float | None]:
    """The baseline of each record inserted with id ``ids[i]``, by the rule of
    :func:`equitrial.services._derivation.lab_grade`: the subject's earliest earlier result of
    the same test (the stored ones and the file's; the lower id first at the same time), if in
    the same unit.

    The stored results come ranked from the database (:func:`stored_series`) instead of one
    query per result (``lab_grade`` reads one result's baseline);
    ``tests/services/test_lab_import.py`` checks every imported grade against ``lab_grade``.
    """
    first: dict[tuple[int, str], tuple[dt.datetime, int, float, str]] = {
        key: (lab.collected_at, lab.id, lab.value, lab.unit) for key, lab in stored.items()
    }
    for record_id, record in zip(ids, records, strict=True):
        key = (record["subject_id"], record["test"])
        known = first.get(key)
        at = record["collected_at"]
        if known is None or (at, record_id) < known[:2]:
            first[key] = (at, record_id, record["value"], record["unit"])
    baselines: list[float | None] = []
    for record in records:
        at, _, value, unit = first[record["subject_id"], record["test"]]
        later = record["collected_at"] > at and record["unit"] == unit
        baselines.append(value if later else None)
    return baselines


def grades(
    stored: Mapping[tuple[int, str], Stored], ids: Sequence[int], records: list[dict[str, Any]]
) -> list[int | None]:
    """The CTCAE grade of each record (inserted with id ``ids[i]``) against its baseline."""
    return [
        grade_lab(
            record["test"],
            record["value"],
            record["unit"],
            lln=record["lln"],
            uln=record["uln"],
            baseline=baseline,
        )
        for record, baseline in zip(records, baselines(stored, ids, records), strict=True)
    ]


def grade_again(
    session: Session,
    stored: Mapping[tuple[int, str], Stored],
    ids: Sequence[int],
    records: list[dict[str, Any]],
) -> None:
    """Grade the inserted records again with the ids they got, and store the grades that
    change (only when a stored result has a higher id than an inserted one)."""
    changed: list[dict[str, Any]] = []
    for record_id, record, grade in zip(ids, records, grades(stored, ids, records), strict=True):
        if grade != record["ctcae_grade"]:
            record["ctcae_grade"] = grade
            changed.append({"b_id": record_id, "b_grade": grade})
    if changed:
        session.execute(_SET_GRADE, changed)


def regrade_stored(
    session: Session,
    actor: Actor,
    stored: Mapping[tuple[int, str], Stored],
    records: list[dict[str, Any]],
    reason: str,
) -> None:
    """Grade again the stored results whose baseline an imported, earlier result may change:
    those of a subject and test collected after the transfer's earliest result of that test."""
    earliest: dict[tuple[int, str], dt.datetime] = {}
    for record in records:
        key = (record["subject_id"], record["test"])
        if key not in earliest or record["collected_at"] < earliest[key]:
            earliest[key] = record["collected_at"]
    for (subject_id, test), first in earliest.items():
        lab = stored.get((subject_id, test))
        if lab is not None and lab.last > first:
            derivation.regrade_labs(session, actor, subject_id, {test}, cause=reason, skip=-1)
