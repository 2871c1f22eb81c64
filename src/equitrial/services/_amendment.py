"""What a protocol amendment changes, and whether the enrolled subjects allow it.

:func:`plan_amendment` compares the loaded protocol with a new version inside the loading
transaction. It refuses (nothing is written):

- a change of the arms' codes, roles or order, or of the ``[randomization]`` table: the concealed
  list was generated from them when the study was first loaded;
- a stratification level or factor removed (or renamed: removed and added) while an enrolled
  subject uses it, naming the factor, the level and how many subjects use it;
- a stratification factor added while subjects are enrolled (their strata would be incomplete);
- a change of ``[enrolment]`` (the screening-number rule) while subjects are enrolled: the stored
  numbers were normalized by the loaded rule, and duplicates are found by comparing them.

A removed level that no subject uses is allowed: its free slots stay in the list, unreachable,
since enrolment only accepts the levels the current protocol lists. A new level (or, with no
subject enrolled, a new factor) gives new strata, whose allocation lists the caller writes in
the same transaction.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError
from equitrial.protocol import Protocol
from equitrial.randomization.schedule import all_strata
from equitrial.store import models as m

__all__ = ["Amendment", "plan_amendment"]


@dataclass(frozen=True)
class Amendment:
    """The changes of a new protocol version against the loaded one.

    Attributes
    ----------
    old_version, new_version
        ``[study] version`` before and after.
    factors_added, factors_removed
        Stratification factors.
    levels_added, levels_removed
        ``(factor, level)`` pairs of the factors kept.
    sections_changed
        Other top-level tables that differ (``"arms"``, ``"schedule"``, ...; ``"study"`` when
        more than its version changed).
    new_strata
        Stratum keys that had no allocation list (their lists are written with the amendment).
    slots_added
        Slots written for ``new_strata``.
    """

    old_version: str
    new_version: str
    factors_added: tuple[str, ...] = ()
    factors_removed: tuple[str, ...] = ()
    levels_added: tuple[tuple[str, str], ...] = ()
    levels_removed: tuple[tuple[str, str], ...] = ()
    sections_changed: tuple[str, ...] = ()
    new_strata: tuple[str, ...] = field(default=())
    slots_added: int = 0

    def lines(self) -> list[str]:
        """The changes in words, one per line (for ``equitrial study load``)."""
        out = [f"protocol version {self.old_version} -> {self.new_version}"]
        out += [f"stratification factor {f} added" for f in self.factors_added]
        out += [f"stratification factor {f} removed" for f in self.factors_removed]
        out += [f"stratification {f}: level {lv!r} added" for f, lv in self.levels_added]
        out += [
            f"stratification {f}: level {lv!r} removed (no subject uses it; its free slots "
            "stay unused)"
            for f, lv in self.levels_removed
        ]
        if self.new_strata:
            out.append(
                f"allocation list extended: {len(self.new_strata)} new strata, "
                f"{self.slots_added} slots"
            )
        if self.sections_changed:
            out.append(f"changed sections: {', '.join(self.sections_changed)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "factors_added": list(self.factors_added),
            "factors_removed": list(self.factors_removed),
            "levels_added": [list(p) for p in self.levels_added],
            "levels_removed": [list(p) for p in self.levels_removed],
            "sections_changed": list(self.sections_changed),
            "new_strata": list(self.new_strata),
            "slots_added": self.slots_added,
        }


def plan_amendment(session: Session, study: m.Study, old: Protocol, new: Protocol) -> Amendment:
    """Compare ``old`` (loaded) with ``new`` and refuse what the study's data forbid.

    Returns
    -------
    Amendment
        With ``slots_added`` 0 (the caller writes the new strata's lists).

    Raises
    ------
    ConflictError
        Arms or randomization changed; a level or factor in use removed; a factor added or the
        ``[enrolment]`` rule changed while subjects are enrolled. Every stratification problem
        is listed, ``field`` names the first.
    """
    _refuse_list_changes(old, new)
    before, after = old.stratification_levels(), new.stratification_levels()
    use, enrolled = _usage(session, study)
    problems = [
        (factor, f"{factor}={level} is used by {count} enrolled subject{'s' * (count > 1)}")
        for (factor, level), count in sorted(use.items())
        if level not in after.get(factor, ())
    ]
    added = tuple(f for f in after if f not in before)
    if enrolled and old.enrolment != new.enrolment:
        raise ConflictError(
            f"protocol version {new.study.version} changes [enrolment] while {enrolled} subjects "
            "are enrolled: their stored screening numbers follow the loaded rule, so duplicates "
            "could no longer be recognized",
            field="enrolment",
        )
    if enrolled:
        problems += [(f, f"{f} is added but {enrolled} enrolled subjects lack it") for f in added]
    if problems:
        raise ConflictError(
            f"protocol version {new.study.version} cannot replace {old.study.version}: "
            + "; ".join(text for _, text in problems)
            + " (a stratification level or factor in use cannot be removed or renamed, and a "
            "factor cannot be added once subjects are enrolled)",
            field=f"stratification.{problems[0][0]}",
        )
    listed = select(m.RandomizationSchedule.stratum).where(
        m.RandomizationSchedule.study_id == study.id
    )
    known = set(all_strata(old)) | set(session.scalars(listed.distinct()))
    return Amendment(
        old_version=old.study.version,
        new_version=new.study.version,
        factors_added=added,
        factors_removed=tuple(f for f in before if f not in after),
        levels_added=_pairs(after, before),
        levels_removed=_pairs(before, after),
        sections_changed=_sections_changed(old, new),
        new_strata=tuple(key for key in all_strata(new) if key not in known),
    )


def _refuse_list_changes(old: Protocol, new: Protocol) -> None:
    arms = [(a.code, a.role) for a in old.arms], [(a.code, a.role) for a in new.arms]
    if arms[0] != arms[1]:
        raise ConflictError(
            f"protocol version {new.study.version} changes the arms {arms[0]} -> {arms[1]}; "
            "the concealed allocation list was generated for the loaded arms, so their codes, "
            "roles and order cannot change",
            field="arms",
        )
    if old.randomization != new.randomization:
        raise ConflictError(
            f"protocol version {new.study.version} changes [randomization]; the concealed "
            "allocation list was generated with the loaded method, ratio and block sizes, so "
            "they cannot change",
            field="randomization",
        )


def _usage(session: Session, study: m.Study) -> tuple[Counter[tuple[str, str]], int]:
    """How many subjects use each (factor, level); how many subjects are enrolled."""
    use: Counter[tuple[str, str]] = Counter()
    enrolled = 0
    rows = session.scalars(select(m.Subject.strata_json).where(m.Subject.study_id == study.id))
    for strata_json in rows:
        enrolled += 1
        strata = json.loads(strata_json) if strata_json else {}
        if isinstance(strata, dict):
            use.update((str(f), str(lv)) for f, lv in strata.items())
    return use, enrolled


def _pairs(
    levels: dict[str, list[str]], other: dict[str, list[str]]
) -> tuple[tuple[str, str], ...]:
    """``(factor, level)`` of ``levels`` missing from ``other``, for the factors in both."""
    return tuple(
        (f, lv) for f, values in levels.items() if f in other for lv in values if lv not in other[f]
    )


def _sections_changed(old: Protocol, new: Protocol) -> tuple[str, ...]:
    before, after = old.to_dict(), new.to_dict()
    before["study"].pop("version", None)
    after["study"].pop("version", None)
    keys = [k for k in after if k != "stratification"]
    return tuple(k for k in keys if before.get(k) != after.get(k))
