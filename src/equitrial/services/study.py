"""Use cases of the study record: load (and version) the protocol, show it, find the study."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, NotFoundError
from equitrial.protocol import Protocol, load_protocol, protocol_from_dict
from equitrial.services._allocation_list import check_seed, fresh_seed, write_list
from equitrial.services._amendment import Amendment, plan_amendment
from equitrial.services._base import audited_insert, audited_update, ensure_study_open
from equitrial.services.auth import Actor, require
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "Amendment",
    "StudyView",
    "current_study",
    "current_study_id",
    "load_study",
    "protocol_of",
    "show_study",
    "study_protocol",
]


@dataclass(frozen=True)
class StudyView:
    """The loaded study: identity, protocol version, lock state and the protocol itself."""

    id: int
    code: str
    title: str
    protocol_version: str
    loaded_at: str
    locked_at: str | None
    protocol: dict[str, Any]
    created: bool = False
    amendment: Amendment | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``"stratification"`` maps each factor to its list of levels."""
        doc: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "title": self.title,
            "protocol_version": self.protocol_version,
            "loaded_at": self.loaded_at,
            "locked_at": self.locked_at,
            "stratification": self.protocol.get("stratification", {}),
            "arms": self.protocol.get("arms", []),
            "protocol": self.protocol,
        }
        if self.amendment is not None:
            doc["amendment"] = self.amendment.to_dict()
        return doc


def _view(
    study: m.Study, *, created: bool = False, amendment: Amendment | None = None
) -> StudyView:
    return StudyView(
        id=study.id,
        code=study.code,
        title=study.title,
        protocol_version=study.protocol_version,
        loaded_at=study.loaded_at.isoformat(),
        locked_at=None if study.locked_at is None else study.locked_at.isoformat(),
        protocol=json.loads(study.protocol_json),
        created=created,
        amendment=amendment,
    )


_FIRST_STUDY_ID: Final = select(m.Study.id).order_by(m.Study.id).limit(1)


def current_study_id(session: Session) -> int:
    """The id of :func:`current_study` (one column read, not the study with its protocol).

    Raises
    ------
    NotFoundError
        No study has been loaded.
    """
    study_id = session.execute(_FIRST_STUDY_ID).scalar()
    if study_id is None:
        raise NotFoundError(
            "no study loaded; run `equitrial study load PROTOCOL` first", field="study"
        )
    return int(study_id)


def current_study(session: Session) -> m.Study:
    """The study of this database (one database holds one study).

    Raises
    ------
    NotFoundError
        No study has been loaded (``equitrial study load PROTOCOL``).
    """
    study = session.scalars(select(m.Study).order_by(m.Study.id)).first()
    if study is None:
        raise NotFoundError(
            "no study loaded; run `equitrial study load PROTOCOL` first", field="study"
        )
    return study


def study_protocol(study: m.Study) -> Protocol:
    """The :class:`~equitrial.protocol.Protocol` stored with ``study``.

    Parsed once per stored text (a protocol is immutable; an amendment stores a new text).
    """
    return _parsed_protocol(study.protocol_json)


_PROTOCOL_TEXT: Final = select(m.Study.__table__.c.protocol_json).where(
    m.Study.__table__.c.id == bindparam("study_id")
)


def protocol_of(session: Session, study_id: int) -> Protocol:
    """The protocol of study ``study_id`` (:func:`study_protocol` without loading the study
    row as an ORM object: one column, with a statement built once)."""
    text = session.connection().execute(_PROTOCOL_TEXT, {"study_id": study_id}).scalar_one()
    return _parsed_protocol(text)


@functools.lru_cache(maxsize=8)
def _parsed_protocol(protocol_json: str) -> Protocol:
    return protocol_from_dict(json.loads(protocol_json))


def _allocation_seed(chosen: Any) -> int:
    """The operator's seed, checked (at least 128 bits), or a fresh secret 256-bit one."""
    return fresh_seed() if chosen is None else check_seed(chosen)


def load_study(
    engine: Engine,
    actor: Actor,
    path: str | Path,
    *,
    allocation_seed: int | None = None,
    slots_per_stratum: int | None = None,
) -> StudyView:
    """Load a protocol file as the study (admin), or a new version of it (an amendment).

    The first load also writes the concealed allocation list of every stratum, in the same
    transaction: a study is never loaded without its list. An amendment that adds stratification
    levels writes the lists of the new strata in the same transaction
    (:mod:`equitrial.services._amendment` says what an amendment may change).

    Parameters
    ----------
    engine, actor
        The database and who acts (role ``admin``).
    path
        The protocol TOML file.
    allocation_seed
        Seed of the concealed allocation list, or of an amendment's new strata: at least 128
        bits (``>= 2**127``). Default: a fresh secret 256-bit one
        (:func:`~equitrial.services._allocation_list.fresh_seed`). Only a salted commitment to
        it is audited.
    slots_per_stratum
        Allocation slots per stratum (default: the protocol's sample size, so that any split of
        the patients over the strata fits); at most
        :data:`~equitrial.randomization.schedule.MAX_SLOTS_PER_STRATUM`.

    Returns
    -------
    StudyView
        ``created`` is True when the study (or a new protocol version) was written; loading the
        same file again changes nothing. ``amendment`` says what a new version changed.

    Raises
    ------
    ProtocolError
        The file is not a valid protocol (nothing is written).
    InvalidInputError
        A seed of fewer than 128 bits; too many slots (nothing is written).
    ConflictError
        Another study is loaded, or the file differs from the loaded protocol under the SAME
        version (a changed protocol needs a new version number), or the amendment changes the
        arms or the randomization, removes or renames a stratification level or factor that
        enrolled subjects use, or adds a factor while subjects are enrolled (nothing is written).
    """
    require(actor, roles={"admin"})
    protocol = load_protocol(Path(path))
    text = json.dumps(protocol.to_dict(), sort_keys=True)
    seed = _allocation_seed(allocation_seed)
    slots = protocol.assumptions.sample_size if slots_per_stratum is None else slots_per_stratum
    with transaction(engine) as session:
        study = session.scalars(select(m.Study).order_by(m.Study.id)).first()
        if study is None:
            study = m.Study(
                code=protocol.study.id,
                title=protocol.study.title,
                protocol_version=protocol.study.version,
                protocol_json=text,
            )
            audited_insert(session, actor, study)
            write_list(session, actor, study, seed, slots)
            return _view(study, created=True)
        if study.code != protocol.study.id:
            raise ConflictError(
                f"this database holds study {study.code!r}; {path} describes {protocol.study.id!r}",
                field="study.id",
                value=protocol.study.id,
            )
        if study.protocol_version == protocol.study.version:
            if json.loads(study.protocol_json) != json.loads(text):
                raise ConflictError(
                    f"{path} differs from the loaded protocol version {study.protocol_version}; "
                    "give the amended protocol a new [study] version",
                    field="study.version",
                    value=protocol.study.version,
                )
            return _view(study)
        ensure_study_open(session, study.id, exclusive=True)  # no amendment after the lock
        amendment = plan_amendment(session, study, study_protocol(study), protocol)
        changes = {
            "title": protocol.study.title,
            "protocol_version": protocol.study.version,
            "protocol_json": text,
        }
        reason = f"protocol version {protocol.study.version} loaded from {Path(path).name}"
        audited_update(session, actor, study, changes, reason=reason)
        if amendment.new_strata:
            added = write_list(session, actor, study, seed, slots, strata=amendment.new_strata)
            amendment = replace(amendment, slots_added=added)
        return _view(study, created=True, amendment=amendment)


def show_study(engine: Engine, actor: Actor) -> StudyView:
    """The loaded study (any signed-in user)."""
    with transaction(engine, read_only=True) as session:
        return _view(current_study(session))
