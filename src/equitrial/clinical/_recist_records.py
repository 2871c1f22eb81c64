"""RECIST 1.1 lesion records and the baseline checks (measurability, target selection)."""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = [
    "TOO_SMALL_TO_MEASURE_MM",
    "Lesion",
    "LesionMeasurement",
    "LesionRole",
    "MeasurementStatus",
    "Reader",
    "validate_baseline",
]

LesionRole = Literal["target", "non-target", "new"]
Reader = Literal["investigator", "central"]
MeasurementStatus = Literal[
    "measured",
    "too small to measure",
    "disappeared",
    "merged",
    "not assessed",
    "present",
    "absent",
    "unequivocal progression",
    "equivocal",
]

LESION_ROLES: tuple[LesionRole, ...] = ("target", "non-target", "new")
READERS: tuple[Reader, ...] = ("investigator", "central")
MEASUREMENT_STATUSES: tuple[MeasurementStatus, ...] = (
    "measured",
    "too small to measure",
    "disappeared",
    "merged",
    "not assessed",
    "present",
    "absent",
    "unequivocal progression",
    "equivocal",
)
# which statuses a lesion of each role may carry at an assessment
STATUSES_BY_ROLE: dict[LesionRole, tuple[MeasurementStatus, ...]] = {
    "target": ("measured", "too small to measure", "disappeared", "merged", "not assessed"),
    "non-target": ("present", "absent", "unequivocal progression", "not assessed"),
    "new": ("present", "equivocal", "absent", "not assessed"),
}

#: Default diameter (mm) of a target lesion "too small to measure" (Eisenhauer 2009, appendix I).
TOO_SMALL_TO_MEASURE_MM = 5.0
#: Smallest longest diameter (mm) of a measurable non-nodal lesion on CT.
MEASURABLE_LD_MM = 10.0
#: Smallest short axis (mm) of a measurable (target-eligible) malignant lymph node.
MEASURABLE_NODE_MM = 15.0
#: Smallest short axis (mm) of a pathological lymph node; below it a node is normal.
PATHOLOGICAL_NODE_MM = 10.0
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2


@dataclass(frozen=True)
class Lesion:
    """A tumour lesion followed under RECIST 1.1.

    Parameters
    ----------
    lesion_id : str
        Identifier, unique within a patient (e.g. ``"T01"``, ``"NT02"``, ``"NEW01"``).
    organ : str
        Organ or site; the "at most 2 targets per organ" rule compares it case-insensitively.
    nodal : bool
        True for a lymph node (measured by its short axis), False otherwise (longest diameter).
    role : {"target", "non-target", "new"}
        Target lesion (measured, in the sum), non-target lesion (followed qualitatively) or a new
        lesion found after baseline.

    Raises
    ------
    InvalidInputError
        Empty id or organ, ``nodal`` not a bool.
    UnknownOptionError
        Unknown role.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, section 3.
    """

    lesion_id: str
    organ: str
    nodal: bool
    role: LesionRole

    def __post_init__(self) -> None:
        if not isinstance(self.lesion_id, str) or not self.lesion_id.strip():
            raise InvalidInputError(
                f"lesion_id must be a non-empty string, got {self.lesion_id!r}",
                field="lesion_id",
                value=self.lesion_id,
            )
        if not isinstance(self.organ, str) or not self.organ.strip():
            raise InvalidInputError(
                f"lesion {self.lesion_id!r}: organ must be a non-empty string, got {self.organ!r}",
                field="organ",
                value=self.organ,
            )
        if not isinstance(self.nodal, bool):
            raise InvalidInputError(
                f"lesion {self.lesion_id!r}: nodal must be True or False, got {self.nodal!r}",
                field="nodal",
                value=self.nodal,
            )
        check_option(self.role, LESION_ROLES, "role")


@dataclass(frozen=True)
class LesionMeasurement:
    """One lesion at one assessment, as read by one reader.

    Parameters
    ----------
    lesion_id : str
        The :attr:`Lesion.lesion_id` measured.
    date : datetime.date
        Assessment date; every lesion of one assessment carries the same date.
    reader : {"investigator", "central"}
        Who read the images; the two reads are separate series.
    status : str, default "measured"
        For a target lesion: ``"measured"`` (give ``diameter_mm`` or ``fragments_mm``),
        ``"too small to measure"`` (counts as a default 5 mm, configurable where used),
        ``"disappeared"`` (0 mm), ``"merged"`` (coalesced into ``merged_into``, which carries the
        diameter of the coalesced lesion; this one counts 0 mm) or ``"not assessed"``.
        For a non-target lesion: ``"present"``, ``"absent"`` (for a node: short axis back below
        10 mm), ``"unequivocal progression"`` or ``"not assessed"``.
        For a new lesion: ``"present"`` (unequivocal), ``"equivocal"``, ``"absent"`` or
        ``"not assessed"``.
    diameter_mm : float or None
        Longest diameter (non-nodal) or short axis (nodal) in mm, for status ``"measured"``.
        Optional for a non-target lesion (used only to check a baseline node is pathological).
    fragments_mm : tuple of float, default ()
        A target lesion that split: the diameters of its fragments, summed (leave ``diameter_mm``
        None).
    merged_into : str or None
        For status ``"merged"``: the lesion id that carries the coalesced diameter.

    Raises
    ------
    InvalidInputError
        A date that is not a ``datetime.date``; a negative, non-finite or non-numeric diameter;
        status "measured" without exactly one of ``diameter_mm`` / ``fragments_mm``; fragments
        with another status; ``merged_into`` missing with "merged" or given without it.
    UnknownOptionError
        Unknown reader or status.

    Notes
    -----
    Which statuses fit which role is checked where the lesion is known
    (:func:`assess_patient`).

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, appendix I.
    """

    lesion_id: str
    date: datetime.date
    reader: Reader
    status: MeasurementStatus = "measured"
    diameter_mm: float | None = None
    fragments_mm: tuple[float, ...] = ()
    merged_into: str | None = None

    def __post_init__(self) -> None:
        where = f"lesion {self.lesion_id!r} on {self.date!s}"
        if not isinstance(self.date, datetime.date) or isinstance(self.date, datetime.datetime):
            raise InvalidInputError(
                f"{where}: date must be a datetime.date, got {self.date!r}",
                field="date",
                value=self.date,
            )
        check_option(self.reader, READERS, "reader")
        check_option(self.status, MEASUREMENT_STATUSES, "status")
        if self.diameter_mm is not None:
            check_mm(self.diameter_mm, f"{where}: diameter_mm")
        for fragment in self.fragments_mm:
            check_mm(fragment, f"{where}: fragments_mm")
        if self.status == "measured" and (self.diameter_mm is None) == (not self.fragments_mm):
            raise InvalidInputError(
                f"{where}: a measured lesion needs exactly one of diameter_mm or fragments_mm",
                field="diameter_mm",
                value=(self.diameter_mm, self.fragments_mm),
            )
        if self.status != "measured" and self.fragments_mm:
            raise InvalidInputError(
                f"{where}: fragments_mm is only for status 'measured', not {self.status!r}",
                field="fragments_mm",
                value=self.fragments_mm,
            )
        if (self.status == "merged") != (self.merged_into is not None):
            raise InvalidInputError(
                f"{where}: merged_into is required with status 'merged' and only then",
                field="merged_into",
                value=self.merged_into,
            )

    def value_mm(self, too_small_mm: float = TOO_SMALL_TO_MEASURE_MM) -> float | None:
        """Diameter entering the target sum: None when not assessed."""
        if self.status == "measured":
            if self.fragments_mm:
                return float(sum(self.fragments_mm))
            return None if self.diameter_mm is None else float(self.diameter_mm)
        if self.status == "too small to measure":
            return float(too_small_mm)
        if self.status in ("disappeared", "merged"):
            return 0.0
        return None


def check_mm(value: object, where: str) -> float:
    """Return ``value`` as float if it is a finite, non-negative number of mm."""
    if type(value) is float and math.isfinite(value) and value >= 0.0:
        return value  # the common case: what the checks below return for it
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{where} must be a number of mm, got {value!r}", value=value)
    number = float(value)
    if not math.isfinite(number) or number < 0.0:
        raise InvalidInputError(
            f"{where} must be a finite, non-negative number of mm, got {value!r}",
            value=value,
            expected=">= 0",
        )
    return number


def validate_baseline(lesions: Sequence[Lesion], baseline: Sequence[LesionMeasurement]) -> None:
    """Check the baseline lesion selection against RECIST 1.1.

    Parameters
    ----------
    lesions : sequence of Lesion
        All lesions of one patient.
    baseline : sequence of LesionMeasurement
        The baseline measurements of one reader.

    Raises
    ------
    InvalidInputError
        Naming the lesion: duplicate lesion ids; a "new" lesion or an unknown lesion id at
        baseline; more than 5 target lesions or more than 2 in one organ; a target lesion without
        a baseline diameter, a non-nodal target below 10 mm, a nodal target below 15 mm short axis
        (10 to < 15 mm: non-target only; < 10 mm: not pathological); a nodal non-target whose
        recorded short axis is below 10 mm (not pathological).

    Notes
    -----
    Measurability assumes CT with slices of at most 5 mm (10 mm minimum longest diameter).
    Organs are compared after stripping spaces and ignoring case.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, sections
       3.1 and 3.3.
    """
    by_id = index_lesions(lesions)
    seen: dict[str, LesionMeasurement] = {}
    for m in baseline:
        lesion = by_id.get(m.lesion_id)
        if lesion is None:
            raise InvalidInputError(
                f"baseline measurement of unknown lesion {m.lesion_id!r}", value=m.lesion_id
            )
        if lesion.role == "new":
            raise InvalidInputError(
                f"lesion {m.lesion_id!r} is a new lesion but is recorded at baseline",
                value=m.lesion_id,
            )
        if m.lesion_id in seen:
            raise InvalidInputError(
                f"lesion {m.lesion_id!r} is measured twice at baseline", value=m.lesion_id
            )
        seen[m.lesion_id] = m
    targets = [lesion for lesion in lesions if lesion.role == "target"]
    _check_target_counts(targets)
    for lesion in targets:
        _check_measurable(lesion, seen.get(lesion.lesion_id))
    for lesion in lesions:
        axis = seen[lesion.lesion_id].diameter_mm if lesion.lesion_id in seen else None
        if lesion.role == "non-target" and lesion.nodal and axis is not None:
            if axis < PATHOLOGICAL_NODE_MM:
                raise InvalidInputError(
                    f"lesion {lesion.lesion_id!r}: a node with short axis {axis} mm "
                    f"(< {PATHOLOGICAL_NODE_MM:g} mm) is not pathological and is not a lesion",
                    value=lesion.lesion_id,
                    expected=f">= {PATHOLOGICAL_NODE_MM:g} mm",
                )


def index_lesions(lesions: Sequence[Lesion]) -> dict[str, Lesion]:
    """Map lesion id to lesion, refusing non-Lesion entries and duplicate ids."""
    by_id: dict[str, Lesion] = {}
    for lesion in lesions:
        if not isinstance(lesion, Lesion):
            raise InvalidInputError(f"lesions must be Lesion records, got {lesion!r}")
        if lesion.lesion_id in by_id:
            raise InvalidInputError(
                f"lesion id {lesion.lesion_id!r} is used twice", value=lesion.lesion_id
            )
        by_id[lesion.lesion_id] = lesion
    return by_id


def _check_target_counts(targets: Sequence[Lesion]) -> None:
    if len(targets) > MAX_TARGETS:
        listed = ", ".join(t.lesion_id for t in targets)
        raise InvalidInputError(
            f"at most {MAX_TARGETS} target lesions are allowed, got {len(targets)} ({listed}); "
            f"lesion {targets[MAX_TARGETS].lesion_id!r} is one too many",
            value=targets[MAX_TARGETS].lesion_id,
            expected=f"<= {MAX_TARGETS} targets",
        )
    per_organ: dict[str, list[str]] = {}
    for t in targets:
        ids = per_organ.setdefault(t.organ.strip().lower(), [])
        ids.append(t.lesion_id)
        if len(ids) > MAX_TARGETS_PER_ORGAN:
            raise InvalidInputError(
                f"at most {MAX_TARGETS_PER_ORGAN} target lesions per organ are allowed; organ "
                f"{t.organ!r} has {', '.join(ids)}; lesion {t.lesion_id!r} is one too many",
                value=t.lesion_id,
                expected=f"<= {MAX_TARGETS_PER_ORGAN} targets per organ",
            )


def _check_measurable(lesion: Lesion, m: LesionMeasurement | None) -> None:
    lid = lesion.lesion_id
    size = None if m is None or m.status != "measured" else m.value_mm()
    if size is None:
        got = "no measurement" if m is None else f"status {m.status!r}"
        raise InvalidInputError(
            f"target lesion {lid!r} needs a measured diameter at baseline, got {got}", value=lid
        )
    if not lesion.nodal and size < MEASURABLE_LD_MM:
        raise InvalidInputError(
            f"target lesion {lid!r}: longest diameter {size:g} mm is below the "
            f"{MEASURABLE_LD_MM:g} mm needed for a measurable lesion",
            value=lid,
            expected=f">= {MEASURABLE_LD_MM:g} mm",
        )
    if lesion.nodal and size < MEASURABLE_NODE_MM:
        kind = (
            "pathological but not measurable: it can only be a non-target lesion"
            if size >= PATHOLOGICAL_NODE_MM
            else f"not pathological (< {PATHOLOGICAL_NODE_MM:g} mm)"
        )
        raise InvalidInputError(
            f"target lesion {lid!r}: node short axis {size:g} mm is below "
            f"{MEASURABLE_NODE_MM:g} mm, {kind}",
            value=lid,
            expected=f">= {MEASURABLE_NODE_MM:g} mm",
        )
