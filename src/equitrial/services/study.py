"""Use cases of the study record: load (and version) the protocol, show it, find the study."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, NotFoundError
from equitrial.protocol import Protocol, load_protocol, protocol_from_dict
from equitrial.services._allocation_list import write_list
from equitrial.services._base import audited_insert, audited_update, ensure_study_open
from equitrial.services.auth import Actor, require
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["StudyView", "current_study", "load_study", "show_study", "study_protocol"]


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``"stratification"`` maps each factor to its list of levels."""
        return {
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


def _view(study: m.Study, *, created: bool = False) -> StudyView:
    return StudyView(
        id=study.id,
        code=study.code,
        title=study.title,
        protocol_version=study.protocol_version,
        loaded_at=study.loaded_at.isoformat(),
        locked_at=None if study.locked_at is None else study.locked_at.isoformat(),
        protocol=json.loads(study.protocol_json),
        created=created,
    )


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
    """The :class:`~equitrial.protocol.Protocol` stored with ``study``."""
    return protocol_from_dict(json.loads(study.protocol_json))


def load_study(
    engine: Engine,
    actor: Actor,
    path: str | Path,
    *,
    allocation_seed: int | None = None,
    slots_per_stratum: int | None = None,
) -> StudyView:
    """Load a protocol file as the study (admin), or a new version of it.

    The first load also writes the concealed allocation list of every stratum, in the same
    transaction: a study is never loaded without its list.

    Parameters
    ----------
    engine, actor
        The database and who acts (role ``admin``).
    path
        The protocol TOML file.
    allocation_seed
        Seed of the concealed allocation list (default: a fresh secret one, from
        :func:`secrets.randbits`); only a SHA-256 commitment to it is audited.
    slots_per_stratum
        Allocation slots per stratum (default: the protocol's sample size, so that any split of
        the patients over the strata fits).

    Returns
    -------
    StudyView
        ``created`` is True when the study (or a new protocol version) was written; loading the
        same file again changes nothing.

    Raises
    ------
    ProtocolError
        The file is not a valid protocol (nothing is written).
    ConflictError
        Another study is loaded, or the file differs from the loaded protocol under the SAME
        version (a changed protocol needs a new version number).
    """
    require(actor, roles={"admin"})
    protocol = load_protocol(Path(path))
    text = json.dumps(protocol.to_dict(), sort_keys=True)
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
            seed = secrets.randbits(63) if allocation_seed is None else allocation_seed
            slots = slots_per_stratum or protocol.assumptions.sample_size
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
        changes = {
            "title": protocol.study.title,
            "protocol_version": protocol.study.version,
            "protocol_json": text,
        }
        reason = f"protocol version {protocol.study.version} loaded from {Path(path).name}"
        audited_update(session, actor, study, changes, reason=reason)
        return _view(study, created=True)


def show_study(engine: Engine, actor: Actor) -> StudyView:
    """The loaded study (any signed-in user)."""
    with transaction(engine, read_only=True) as session:
        return _view(current_study(session))
