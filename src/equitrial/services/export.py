"""The study's records as a :class:`~equitrial.datasets.StudySource`, and the CDISC package.

:func:`study_source` reads them in ONE read-only transaction (on PostgreSQL at REPEATABLE READ),
with the rules of a data cut (:func:`equitrial.services.datacut.snapshot`: subjects consented
and records dated on or before the cut-off), and the arm of every allocation: the submission
datasets are unblinded (``TRT01P``), so they are made after the database lock or for the DSMB's
closed report.

:func:`export_package` writes the submission package (``equitrial export``)::

    OUT/sdtm/<domain>.xpt   SAS transport v5          (equitrial.cdisc.xpt)
    OUT/sdtm/<domain>.json  Dataset-JSON v1.1 twin    (equitrial.cdisc.dataset_json)
    OUT/adam/<name>.xpt     and .json, the same for ADaM
    OUT/define.xml          define.xml 2.1            (equitrial.cdisc.define)
    OUT/odm.xml             ODM 1.3.2 captured data   (equitrial.cdisc.odm)

Everything is written first into a scratch directory beside OUT; only when every file is written
and the export's audit row is committed does it replace a previous export in OUT, so a failure
leaves OUT as it was.
"""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from equitrial.datasets import Dataset, StudySource
from equitrial.errors import ConfigurationError, InvalidInputError
from equitrial.services.auth import system_actor
from equitrial.services.datacut import snapshot
from equitrial.services.study import current_study, study_protocol
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "Builder",
    "ExportResult",
    "Extra",
    "Progress",
    "export_package",
    "study_snapshot",
    "study_source",
    "write_package",
]

Builder = Callable[[StudySource], list[Dataset]]
"""Derives datasets from a study source (``build_sdtm``, ``build_adam``)."""
Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` while the package is written."""

_PACKAGE_FILES: Final = frozenset({"define.xml", "odm.xml"})
_PACKAGE_FOLDERS: Final = frozenset({"sdtm", "adam"})
_DATASET_SUFFIXES: Final = frozenset({".xpt", ".json"})

_DATA_ROWS: Final = (
    select(m.AuditTrail.id, m.AuditTrail.table_name, m.AuditTrail.record_id, m.AuditTrail.row_hash)
    .where(m.AuditTrail.action.in_(sorted(audit.DATA_ACTIONS)))
    .order_by(m.AuditTrail.id.desc())
    .execution_options(yield_per=2000)
)


def _data_head(session: Any, tables: Mapping[str, list[dict[str, Any]]]) -> tuple[int, str] | None:
    """The last audit row that changed a record the snapshot holds (newest first, streamed):
    data entered after a cut-off about later records do not move it."""
    held = {(name, str(row["id"])) for name, rows in tables.items() for row in rows if "id" in row}
    result = session.execute(_DATA_ROWS)  # a server-side cursor on PostgreSQL: closed here
    try:
        for row_id, table, record, row_hash in result:
            if (table, record) in held:
                return int(row_id), str(row_hash)
        return None
    finally:
        result.close()


_EVERYTHING = dt.date(9999, 12, 30)
"""The cut-off that takes every record (the last date whose next day exists)."""


def study_source(engine: Engine, cutoff: dt.date | None = None) -> StudySource:
    """The study's records (every one, or as of ``cutoff``) and the subjects' arms.

    Raises
    ------
    NotFoundError
        No study has been loaded.
    """
    return study_snapshot(engine, cutoff)[0]


def study_snapshot(
    engine: Engine, cutoff: dt.date | None = None
) -> tuple[StudySource, tuple[int, str] | None]:
    """:func:`study_source` and, read in the same snapshot, the audit chain's data head: the id
    and hash of the last audit row that changed a record the source holds (``insert``,
    ``update``, ``delete``, ``randomize``), ``None`` for none. The chain verifies up to that
    row, so it names the data analysed; later rows record other records, exports, logins."""
    with transaction(engine, read_only=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        study = current_study(session)
        tables = snapshot(session, study, cutoff or _EVERYTHING, None)
        allocated = select(m.RandomizationSchedule.subject_id, m.RandomizationSchedule.arm_code)
        allocated = allocated.where(
            m.RandomizationSchedule.study_id == study.id,
            m.RandomizationSchedule.subject_id.is_not(None),
        )
        subjects = {row["id"] for row in tables["subject"]}
        arms = {
            int(s): str(a) for s, a in session.execute(allocated) if s is not None and s in subjects
        }
        data = {name: rows for name, rows in tables.items() if name != "scope"}
        head = _data_head(session, data)
        return StudySource(
            study={
                "code": study.code,
                "title": study.title,
                "protocol_version": study.protocol_version,
            },
            protocol=study_protocol(study),
            tables=data,
            arms=arms,
            cutoff=cutoff,
        ), head


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_package` wrote.

    Attributes
    ----------
    out_dir
        The package's directory.
    files
        Every file written, relative to ``out_dir``, sorted.
    records
        Dataset name -> number of records (SDTM and ADaM).
    cutoff
        The data cut-off, ``None`` for every record in the store.
    """

    out_dir: Path
    files: tuple[str, ...]
    records: dict[str, int]
    cutoff: dt.date | None


def _check_out_dir(out_dir: Path, keep: frozenset[str] = frozenset()) -> None:
    """Refuse an ``out_dir`` that holds anything but a previous export (nothing is written);
    files named in ``keep`` (a previous analysis' results) are part of it too."""
    if out_dir.is_symlink():
        raise InvalidInputError(
            f"{out_dir}: a symbolic link; give the directory itself", field="out"
        )
    if not out_dir.exists():
        if not out_dir.parent.is_dir():
            raise InvalidInputError(f"{out_dir.parent}: no such directory", field="out")
        return
    if not out_dir.is_dir():
        raise InvalidInputError(f"{out_dir}: not a directory", field="out")
    for entry in out_dir.iterdir():
        if (entry.name in _PACKAGE_FILES or entry.name in keep) and entry.is_file():
            continue
        if entry.name in _PACKAGE_FOLDERS and entry.is_dir() and not entry.is_symlink():
            strays = [
                f.name
                for f in entry.iterdir()
                if not (f.is_file() and f.suffix in _DATASET_SUFFIXES)
            ]
            if not strays:
                continue
            entry = entry / sorted(strays)[0]
        raise InvalidInputError(
            f"{out_dir}: holds {entry.relative_to(out_dir)}, which is not part of an export; "
            "choose an empty or new directory",
            field="out",
        )


def _builders() -> tuple[Builder, Builder]:
    """``build_sdtm`` and ``build_adam``, imported only when an export runs (heavy)."""
    try:
        sdtm = importlib.import_module("equitrial.cdisc.sdtm").build_sdtm
        adam = importlib.import_module("equitrial.datasets").build_adam
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"the SDTM/ADaM derivations are not available ({exc})") from None
    return cast(Builder, sdtm), cast(Builder, adam)


def _write_datasets(
    datasets: list[Dataset],
    folder: Path,
    *,
    study_oid: str,
    created: dt.datetime,
    step: Callable[[str], None],
) -> None:
    from equitrial.cdisc.dataset_json import write_dataset_json
    from equitrial.cdisc.xpt import write_xpt

    folder.mkdir()
    for dataset in datasets:
        stem = dataset.name.lower()
        write_xpt(dataset, folder / f"{stem}.xpt")
        write_dataset_json(dataset, folder / f"{stem}.json", study_oid=study_oid, created=created)
        step(f"{folder.name}/{stem}")


def _record_export(engine: Engine, out_dir: Path, result: str, action: str = "export") -> None:
    actor = system_actor()
    with transaction(engine) as session:
        study = current_study(session)
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action=action,
            table_name="study",
            record_id=study.id,
            reason=f"{'CDISC package' if action == 'export' else 'Analysis'} to {out_dir}: "
            f"{result}",
        )


def _replace(staging: Path, out_dir: Path, keep: frozenset[str] = frozenset()) -> None:
    """Put the scratch directory's entries in place of the previous ones in ``out_dir``.

    Every previous entry is first moved aside (renames in the same file system), then each new
    one moved in; if a move fails, the new entries go back out and the previous ones back in,
    so ``out_dir`` holds the old package or the new one, not a mix."""
    out_dir.mkdir(exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
    moved: list[str] = []
    placed: list[str] = []
    try:
        for name in sorted(_PACKAGE_FOLDERS | _PACKAGE_FILES | keep):
            if (out_dir / name).exists() or (out_dir / name).is_symlink():
                (out_dir / name).rename(aside / name)
                moved.append(name)
        for entry in sorted(staging.iterdir()):
            entry.rename(out_dir / entry.name)
            placed.append(entry.name)
    except OSError:
        for name in placed:
            (out_dir / name).rename(staging / name)
        for name in moved:
            (aside / name).rename(out_dir / name)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def export_package(
    engine: Engine,
    out_dir: Path,
    *,
    cutoff: dt.date | None = None,
    progress: Progress | None = None,
    builders: tuple[Builder, Builder] | None = None,
) -> ExportResult:
    """Write the study's CDISC submission package into ``out_dir`` (see the module notes).

    The operator acts (``system:<OS user>``, as ``equitrial backup``); the export is audited
    (one ``export`` row, in its own writing transaction, committed before the files replace a
    previous export).

    Parameters
    ----------
    engine
        The study's database.
    out_dir
        A new or empty directory, or one holding a previous export (replaced as a whole).
    cutoff
        Take the records as of this data cut-off (``None``: every record).
    progress
        Told each step: ``progress(step, done, total)``.
    builders
        ``(build_sdtm, build_adam)``; by default
        :func:`equitrial.cdisc.sdtm.build_sdtm` and :func:`equitrial.datasets.build_adam`.

    Raises
    ------
    InvalidInputError
        ``out_dir`` holds something other than a previous export, or its parent does not exist;
        a dataset value the files cannot hold (see :func:`equitrial.cdisc.xpt.write_xpt`).
    NotFoundError
        No study has been loaded.
    ConfigurationError
        The SDTM or ADaM derivations are not installed.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    build_sdtm, build_adam = builders or _builders()
    source = study_source(engine, cutoff)
    sdtm, adam = build_sdtm(source), build_adam(source)
    return write_package(engine, source, sdtm, adam, out_dir, progress=progress)


Extra = Callable[[Path], str]
"""Writes more files into the package's scratch directory and says what, for the audit row."""


def write_package(
    engine: Engine,
    source: StudySource,
    sdtm: list[Dataset],
    adam: list[Dataset],
    out_dir: Path,
    *,
    progress: Progress | None = None,
    extra: Extra | None = None,
    keep: frozenset[str] = frozenset(),
    action: str = "export",
) -> ExportResult:
    """Write the datasets derived from ``source`` as the package of :func:`export_package`.

    ``extra(scratch)`` writes further files (the analysis' results and report, named in
    ``keep``) beside the package before the audit row (``action``) is committed; everything
    then replaces the previous package and the files of ``keep`` in ``out_dir`` at once.
    """
    from equitrial.cdisc.define import write_define
    from equitrial.cdisc.odm import write_odm

    out_dir = Path(out_dir)
    _check_out_dir(out_dir, keep)
    cutoff = source.cutoff
    total = len(sdtm) + len(adam) + 2 + (extra is not None)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    study_oid = f"ST.{source.study['code']}"
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}-", dir=out_dir.parent) as scratch:
        staging = Path(scratch)
        _write_datasets(sdtm, staging / "sdtm", study_oid=study_oid, created=created, step=step)
        _write_datasets(adam, staging / "adam", study_oid=study_oid, created=created, step=step)
        write_define([*sdtm, *adam], staging / "define.xml", study=source.study, created=created)
        step("define.xml")
        write_odm(source, staging / "odm.xml", created=created)
        step("odm.xml")
        more = ""
        if extra is not None:
            more = extra(staging)
            step("report")
        files = tuple(
            sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        )
        cut = f"cut-off {cutoff.isoformat()}" if cutoff else "all records"
        summary = f"{len(sdtm)} SDTM and {len(adam)} ADaM datasets, {len(files)} files, {cut}"
        _record_export(engine, out_dir, summary + more, action)
        _replace(staging, out_dir, keep)
    return ExportResult(
        out_dir=out_dir,
        files=files,
        records={d.name: len(d.frame) for d in [*sdtm, *adam]},
        cutoff=cutoff,
    )
