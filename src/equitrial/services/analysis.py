"""Use case ``equitrial analyze``: the statistical analysis plan run on a data cut, with its
report and the CDISC package it was computed from.

:func:`analyze` reads the study in ONE snapshot (:func:`equitrial.services.export.
study_snapshot`: the records as of the cut-off and the audit chain's data head), derives SDTM
and ADaM once, runs every analysis of :mod:`equitrial.analysis` on the ADaM frames and writes::

    OUT/results.json     every number, sorted keys (byte-identical for the same cut)
    OUT/report.html      the clinical study report (self-contained; equitrial.report)
    OUT/report.pdf       the same, printed by WeasyPrint
    OUT/open-report.html an interim's open report: pooled over the arms (``interim`` only)
    OUT/sdtm/, OUT/adam/, OUT/define.xml, OUT/odm.xml   the package of ``equitrial export``

as one audited step (``analyze`` row; a failure leaves OUT as it was). ``results.json`` and
each report state the data's content hash, the audit chain's data head, the protocol version and
the software version, and nothing that changes from one run to the next: the same cut of the
same data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from equitrial import __version__
from equitrial.datasets import StudySource
from equitrial.errors import EquitrialError, InvalidInputError
from equitrial.services.export import Progress, study_snapshot, write_package

__all__ = [
    "NOT_ESTIMABLE",
    "RESULT_FILES",
    "AnalysisResult",
    "analyze",
    "canonical_json",
    "content_hash",
    "interim_cut",
]

RESULT_FILES: Final = frozenset({"results.json", "report.html", "report.pdf", "open-report.html"})
"""The files an analysis writes beside the CDISC package."""
NOT_ESTIMABLE: Final = "not_estimable"
"""Key of a section that could not be computed (its value: why), e.g. too few subjects or
events at an early data cut; the primary analysis has no such escape."""


@dataclass(frozen=True)
class AnalysisResult:
    """What :func:`analyze` wrote: the directory, its files and the results."""

    out_dir: Path
    files: tuple[str, ...]
    results: dict[str, Any]


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, NaN and infinities as None, dates as ISO."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT or (hasattr(pd, "isna") and pd.isna(value)):
        return None
    return str(value)


def canonical_json(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON with sorted keys, no NaN, numpy and dates made plain (UTF-8 text)."""
    return json.dumps(
        _plain(value),
        sort_keys=True,
        indent=indent,
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ": ") if indent else (",", ":"),
    )


def _stored(value: Any) -> Any:
    """A stored value that JSON has no type for: dates and times as ISO text, others as text."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def content_hash(source: StudySource) -> str:
    """SHA-256 of the data a source holds: every table's rows (sorted by ``id`` when they have
    one), the arms and the cut-off, as canonical JSON (sorted keys; dates as ISO text)."""
    tables = {
        name: sorted(rows, key=lambda r: (r.get("id") is None, r.get("id") or 0))
        for name, rows in sorted(source.tables.items())
    }
    arms = {str(k): v for k, v in sorted(source.arms.items())}
    cutoff = None if source.cutoff is None else source.cutoff.isoformat()
    data = json.dumps(
        {"tables": tables, "arms": arms, "cutoff": cutoff},
        sort_keys=True,
        default=_stored,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def _reproducibility(source: StudySource, head: tuple[int, str] | None) -> dict[str, Any]:
    return {
        "data_cut": None if source.cutoff is None else source.cutoff.isoformat(),
        "content_hash": content_hash(source),
        "audit_chain_head": None if head is None else {"row": head[0], "hash": head[1]},
        "protocol_version": source.study.get("protocol_version"),
        "software_version": __version__,
    }


def _run(
    frames: Mapping[str, pd.DataFrame],
    sdtm: Mapping[str, pd.DataFrame],
    source: StudySource,
    interim: bool,
    look: str | None,
) -> dict[str, Any]:
    """Every analysis of the plan on the ADaM frames (``equitrial.analysis``)."""
    from equitrial.analysis import dosing, efficacy, pk_ada, populations, pro, published, safety
    from equitrial.analysis.interim import interim_counts, interim_decision
    from equitrial.analysis.monitoring import monitoring

    protocol = source.protocol
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            primary = efficacy.primary(frames, protocol)
        except InvalidInputError as error:  # an arm without subjects at an early cut
            primary = _no_primary(frames, source, str(error))
    if caught:
        primary["notes"] = sorted({str(w.message) for w in caught})
    steps: dict[str, Callable[[], Any]] = {
        "populations": lambda: populations.populations(frames, protocol),
        "demographics": lambda: populations.demographics(frames, protocol),
        "consort": lambda: populations.consort(frames, sdtm, protocol),
        "sensitivity": lambda: efficacy.sensitivity(frames, protocol),
        "secondary": lambda: efficacy.secondary(frames, protocol),
        "subgroups": lambda: efficacy.subgroups(frames, protocol),
        "safety": lambda: safety.safety(frames, protocol),
        "monitoring": lambda: monitoring(frames, protocol, cut=source.cutoff),
        "pk_ada": lambda: pk_ada.pk_ada(frames, protocol),
        "pro": lambda: pro.pro(frames, protocol),
        "dosing": lambda: dosing.dosing(frames, protocol),
        "constancy": lambda: published.constancy(frames, protocol),
        "external_comparison": lambda: published.external_comparison(frames, protocol),
    }
    results: dict[str, Any] = {"primary": primary}
    notes: dict[str, list[str]] = {}
    for name, step in steps.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results[name] = step()
            except EquitrialError as error:  # too little data at an early cut: in the report
                results[name] = {NOT_ESTIMABLE: f"{type(error).__name__}: {error}"}
        said = sorted({str(w.message) for w in caught})
        if said:  # e.g. a Cox model that did not converge (monotone likelihood)
            notes[name] = said
    results["notes"] = notes
    if interim:
        counts = None if source.cutoff is None else interim_counts(frames, protocol, source.cutoff)
        results["interim"] = interim_decision(primary, protocol, look=look, counts=counts)
    return results


def _no_primary(
    frames: Mapping[str, pd.DataFrame], source: StudySource, why: str
) -> dict[str, Any]:
    """The primary analysis' place when it cannot be estimated: the arms' ITT counts, no
    estimate, ``decision`` ``"not estimable"`` and why."""
    protocol = source.protocol
    adsl = frames["ADSL"]
    itt = adsl[adsl["ITTFL"] == "Y"] if "ITTFL" in adsl.columns else adsl.iloc[:0]
    hypothesis = protocol.hypothesis
    codes = [protocol.test_arm.code, protocol.reference_arm.code]
    names = {a.code: a.name for a in protocol.arms}
    counts = {c: int((itt.get("TRT01P", pd.Series(dtype=object)) == names[c]).sum()) for c in codes}
    return {
        "endpoint": protocol.primary_endpoint.id,
        "population": "ITT",
        "arm_n": counts,
        "responders": dict.fromkeys(codes, 0),
        "scale": hypothesis.scale,
        "estimate": None,
        "lower": None,
        "upper": None,
        "level": hypothesis.level,
        "margin": {"lower": hypothesis.margin.lower, "upper": hypothesis.margin.upper},
        "decision": "not estimable",
        NOT_ESTIMABLE: why,
    }


DAYS_PER_MONTH: Final = 30.4375
"""Average days per month (365.25 / 12): an interim timed in months after the first patient."""


def interim_cut(engine: Engine, look: str | None = None) -> dt.date:
    """The data cut of an interim timed in months after the first patient: the first consent
    (or enrolment) date in the store plus that many average months.

    Raises
    ------
    InvalidInputError
        ``field="interim"``: the protocol has no such interim, it is timed by information
        fraction (give the cut), or no subject has consented yet.
    """
    from sqlalchemy import func, select

    from equitrial.services.study import current_study, study_protocol
    from equitrial.store import models as m
    from equitrial.store.db import transaction

    with transaction(engine, read_only=True) as session:
        study = current_study(session)
        protocol = study_protocol(study)
        first = session.scalar(
            select(func.min(m.Subject.consent_date)).where(m.Subject.study_id == study.id)
        )
    looks = [i for i in protocol.interim_analyses if look is None or i.name == look]
    if not looks:
        raise InvalidInputError(
            f"the protocol has no interim analysis {look or ''}".strip(),
            field="interim",
            value=look,
        )
    months = looks[0].months_after_first_patient
    if months is None:
        raise InvalidInputError(
            f"the interim {looks[0].name!r} is timed by information "
            "fraction; give its data cut (--cut)",
            field="interim",
        )
    if first is None:
        raise InvalidInputError("no subject has consented yet: no interim cut", field="interim")
    return first + dt.timedelta(days=round(float(months) * DAYS_PER_MONTH))


def analyze(
    engine: Engine,
    out_dir: Path,
    *,
    cutoff: dt.date | None = None,
    interim: bool = False,
    look: str | None = None,
    progress: Progress | None = None,
    pdf: bool = True,
) -> AnalysisResult:
    """Run the analysis plan on the data as of ``cutoff`` and write it into ``out_dir``.

    Parameters
    ----------
    engine
        The study's database.
    out_dir
        A new or empty directory, or one holding a previous analysis or export.
    cutoff
        The data cut-off (``None``: every record in the store; at an interim timed in months
        after the first patient, that look's cut, :func:`interim_cut`).
    interim
        An interim look (the DSMB's): adds the group-sequential decision and conditional power
        (:func:`equitrial.analysis.interim.interim_decision`) and the open (pooled) report.
    look
        The interim's name (``None``: the protocol's first).
    progress
        Told each step: ``progress(step, done, total)``.
    pdf
        Also print the report to PDF.

    Raises
    ------
    InvalidInputError
        ``out_dir`` holds other files; the protocol plans no interim (``interim``); a dataset
        an analysis needs lacks a variable (the error names it).
    NotFoundError
        No study has been loaded.
    """
    from equitrial.cdisc.sdtm import build_sdtm
    from equitrial.datasets import build_adam
    from equitrial.datasets.adtr import build_adtr
    from equitrial.services._analysis_report import write_reports

    today = dt.datetime.now(dt.UTC).date()
    if cutoff is not None and cutoff > today:
        raise InvalidInputError(
            f"cut-off {cutoff.isoformat()} is in the future (today is {today.isoformat()} UTC)",
            field="cut",
            value=cutoff,
        )
    if interim and cutoff is None:
        cutoff = interim_cut(engine, look)
    source, head = study_snapshot(engine, cutoff)
    if interim and not source.protocol.interim_analyses:
        raise InvalidInputError("the protocol plans no interim analysis", field="interim")
    if not source.arms:
        when = "" if cutoff is None else f" by {cutoff.isoformat()}"
        raise InvalidInputError(
            f"no subject was randomized{when}: nothing to analyse",
            field="cut" if cutoff else "study",
        )
    sdtm, adam = build_sdtm(source), build_adam(source)
    frames = {d.name: d.frame for d in adam}
    adsl = next(d for d in adam if d.name == "ADSL")
    frames["ADTR"] = build_adtr(source, adsl).frame
    results = _plain(_run(frames, {d.name: d.frame for d in sdtm}, source, interim, look))
    results["study"] = dict(source.study)
    results["kind"] = "interim" if interim else "final"
    results["reproducibility"] = _reproducibility(source, head)

    def extra(scratch: Path) -> str:
        tables = write_reports(scratch, results, frames, source.protocol, interim=interim, pdf=pdf)
        results["tables"] = [t.as_json() for t in tables]
        text = canonical_json(results, indent=1) + "\n"
        (scratch / "results.json").write_text(text, encoding="utf-8")
        return f"; {results['kind']} analysis"  # no result here: the trail is not blinded

    written = write_package(
        engine,
        source,
        sdtm,
        adam,
        Path(out_dir),
        progress=progress,
        extra=extra,
        keep=RESULT_FILES,
        action="analyze",
    )
    return AnalysisResult(Path(out_dir), written.files, results)
