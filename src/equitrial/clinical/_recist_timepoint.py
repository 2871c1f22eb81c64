"""RECIST 1.1 responses at one time point: target, non-target and overall (Tables 1 and 2)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

import numpy as np

from equitrial.clinical._recist_records import PATHOLOGICAL_NODE_MM, check_mm
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = [
    "NonTargetResponse",
    "NonTargetStatus",
    "OverallResponse",
    "TargetResponse",
    "non_target_response",
    "target_response",
    "timepoint_response",
]

TargetResponse = Literal["CR", "PR", "SD", "PD", "NE"]
NonTargetResponse = Literal["CR", "NON-CR/NON-PD", "PD", "NE"]
OverallResponse = Literal["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"]
NonTargetStatus = Literal["present", "absent", "unequivocal progression", "not assessed"]

TARGET_RESPONSES: tuple[TargetResponse, ...] = ("CR", "PR", "SD", "PD", "NE")
NON_TARGET_RESPONSES: tuple[NonTargetResponse, ...] = ("CR", "NON-CR/NON-PD", "PD", "NE")
OVERALL_RESPONSES: tuple[OverallResponse, ...] = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
NON_TARGET_STATUSES: tuple[NonTargetStatus, ...] = (
    "present",
    "absent",
    "unequivocal progression",
    "not assessed",
)

# thresholds as exact fractions: PR at <= -30 % of baseline, PD at >= +20 % of nadir and >= 5 mm
_PR_RATIO = Fraction(7, 10)
_PD_RATIO = Fraction(6, 5)
_PD_ABSOLUTE_MM = Fraction(5)
_NODE_NORMAL_MM = Fraction(str(PATHOLOGICAL_NODE_MM))


def _exact(value: float) -> Fraction:
    # the decimal the user wrote (shortest repr of the float), so 24.5 + 4.9 == 29.4 exactly
    return exact_decimal(float(value))


@functools.lru_cache(maxsize=4096)
def exact_decimal(value: float) -> Fraction:
    """``Fraction(str(value))``: the decimal written (shortest repr of the float), exactly.

    Cached, as diameters recur from one assessment to the next: a pure function of the float
    (the only equal floats with different strings, 0.0 and -0.0, are both 0) giving an
    immutable fraction.
    """
    return Fraction(str(value))


def exact_sum_mm(values: Sequence[float]) -> float:
    """Sum of diameters as the decimals written, independent of their order (no float drift)."""
    return float(_exact_sum([_exact(v) for v in values]))


def _exact_sum(values: Sequence[Fraction]) -> Fraction:
    """``sum(values, Fraction(0))``, over the least common denominator: the same fraction (a
    sum of rationals is one number, and a Fraction is kept in lowest terms), normalised once
    instead of once per addition."""
    common = math.lcm(*(v.denominator for v in values))  # 1 for no values
    return Fraction(sum(v.numerator * (common // v.denominator) for v in values), common)


def _diameters(
    values: Sequence[float | None], name: str, *, missing: bool
) -> list[Fraction | None]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise InvalidInputError(f"{name} must be a sequence of diameters in mm", field=name)
    out: list[Fraction | None] = []
    for i, v in enumerate(values):
        if v is None:
            if not missing:
                raise InvalidInputError(
                    f"{name}[{i}] is missing; baseline diameters must all be given",
                    field=name,
                    value=v,
                )
            out.append(None)
        else:
            out.append(_exact(check_mm(v, f"{name}[{i}]")))
    return out


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}", value=value)
    return bool(value)


def _evaluable_sum(values: Sequence[Fraction | None]) -> Fraction | None:
    if any(v is None for v in values):
        return None
    return _exact_sum([v for v in values if v is not None])


def _pd_limit(nadir: Fraction) -> Fraction:
    """The smallest sum that is PD: ``S >= 1.2 N`` and ``S - N >= 5`` mm, that is
    ``S >= max(1.2 N, N + 5)`` (exact fractions)."""
    return max(_PD_RATIO * nadir, nadir + _PD_ABSOLUTE_MM)


def target_response(
    baseline: Sequence[float],
    history: Sequence[Sequence[float | None]],
    current: Sequence[float | None],
    *,
    nodal: Sequence[bool],
) -> TargetResponse:
    """RECIST 1.1 response of the target lesions at one assessment.

    Parameters
    ----------
    baseline : sequence of float
        Baseline diameter of each target lesion in mm (longest diameter; short axis for nodes).
    history : sequence of sequences of float or None
        The earlier post-baseline assessments, each aligned with ``baseline``; None marks a lesion
        not assessed (that assessment then does not enter the nadir).
    current : sequence of float or None
        The diameters at this assessment, aligned with ``baseline``; None = not assessed.
    nodal : sequence of bool
        Whether each lesion is a lymph node.

    Returns
    -------
    {"CR", "PR", "SD", "PD", "NE"}

    Raises
    ------
    InvalidInputError
        No lesions, lengths that differ, negative / non-finite / non-numeric diameters, a missing
        baseline diameter or a baseline sum of 0 mm.

    Notes
    -----
    With ``S`` the sum of diameters, ``S0`` the baseline sum and the nadir ``N`` the smallest sum
    of the baseline and the fully assessed earlier assessments:

    - PD: ``S >= 1.2 N`` and ``S - N >= 5`` mm;
    - CR: every non-nodal lesion 0 mm and every node below 10 mm (so ``S`` may be > 0);
    - PR: ``S <= 0.7 S0``;
    - SD: otherwise;
    - NE: a lesion is not assessed, unless the assessed lesions alone already give PD (their sum
      can only grow with the missing ones).

    PD is checked before CR, so nodes all below 10 mm whose sum grew by 20 % and 5 mm from the
    nadir are PD. Diameters are compared exactly as the decimals written (``Fraction(str(x))``),
    so -30.0 % is PR and +20.0 % with +5.0 mm is PD, without float rounding.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, section
       4.3.1 and appendix I.
    """
    base = _diameters(baseline, "baseline", missing=False)
    now = _diameters(current, "current", missing=True)
    past = [_diameters(h, f"history[{k}]", missing=True) for k, h in enumerate(history)]
    is_node = [_flag(x, f"nodal[{i}]") for i, x in enumerate(nodal)]
    _check_aligned(len(base), now=now, nodal=is_node, past=past)
    base_sum = _baseline_sum(base)
    sums = [s for s in (_evaluable_sum(h) for h in past) if s is not None]
    nadir = min([base_sum, *sums])
    return _target_code(now, is_node, _PR_RATIO * base_sum, _pd_limit(nadir))[0]


def _baseline_sum(base: Sequence[Fraction | None]) -> Fraction:
    base_sum = _evaluable_sum(base)
    assert base_sum is not None  # baseline has no missing values
    if base_sum == 0:
        raise InvalidInputError("the baseline sum of target diameters is 0 mm", field="baseline")
    return base_sum


def _target_code(
    now: Sequence[Fraction | None],
    is_node: Sequence[bool],
    pr_limit: Fraction,
    pd_limit: Fraction,
) -> tuple[TargetResponse, Fraction]:
    """The target response of the exact diameters ``now`` (PR at a sum ``<= pr_limit``, 0.7
    times the baseline sum; PD at ``>= pd_limit``, :func:`_pd_limit` of the nadir) and the sum
    of those measured."""
    complete = [v for v in now if v is not None]
    measured = _exact_sum(complete)
    if measured >= pd_limit:
        return "PD", measured
    if len(complete) < len(now):
        return "NE", measured
    pairs = zip(complete, is_node, strict=True)
    if all((v < _NODE_NORMAL_MM if node else v == 0) for v, node in pairs):
        return "CR", measured
    if measured <= pr_limit:
        return "PR", measured
    return "SD", measured


class TargetSeries:
    """:func:`target_response` of each assessment of one series in turn, in O(1) per assessment.

    ``series.next(current)`` for the k-th follow-up is ``target_response(baseline, history,
    current, nodal=nodal)`` with ``history`` the k - 1 earlier ``current`` arguments: the same
    checks in the same order (the baseline and the flags are checked at the first call, as
    ``target_response`` checks them first; an earlier assessment was checked when it was
    current) and the same exact arithmetic, each diameter turned into a fraction once and the
    nadir, the smallest complete sum so far, carried from one call to the next (the minimum of
    exact values does not depend on the order they are met in).
    """

    def __init__(self, baseline: Sequence[float], *, nodal: Sequence[bool]) -> None:
        self._baseline = baseline
        self._nodal = nodal
        self._started = False
        self._base: list[Fraction | None] = []
        self._is_node: list[bool] = []
        self._nadir = self._pr_limit = self._pd_limit = Fraction(0)

    def next(self, current: Sequence[float | None]) -> tuple[TargetResponse, Fraction, bool]:
        """The response at this assessment, the exact sum of the diameters measured and whether
        every lesion was (then the sum enters the nadir of the later assessments)."""
        if not self._started:
            self._base = _diameters(self._baseline, "baseline", missing=False)
        now = _diameters(current, "current", missing=True)
        if not self._started:
            self._is_node = [_flag(x, f"nodal[{i}]") for i, x in enumerate(self._nodal)]
        _check_aligned(len(self._base), now=now, nodal=self._is_node, past=())
        if not self._started:
            self._nadir = _baseline_sum(self._base)
            self._pr_limit, self._pd_limit = _PR_RATIO * self._nadir, _pd_limit(self._nadir)
            self._started = True
        code, measured = _target_code(now, self._is_node, self._pr_limit, self._pd_limit)
        complete = all(v is not None for v in now)
        if complete and measured < self._nadir:
            self._nadir = measured
            self._pd_limit = _pd_limit(measured)
        return code, measured, complete


def _check_aligned(
    n: int, *, now: Sequence[object], nodal: Sequence[bool], past: Sequence[Sequence[object]]
) -> None:
    if n == 0:
        raise InvalidInputError(
            "target_response needs at least one target lesion", field="baseline"
        )
    for name, seq in [("current", now), ("nodal", nodal)] + [
        (f"history[{k}]", h) for k, h in enumerate(past)
    ]:
        if len(seq) != n:
            raise InvalidInputError(
                f"{name} has {len(seq)} lesions but baseline has {n}; lists must be aligned",
                field=name,
                value=len(seq),
                expected=str(n),
            )


def non_target_response(
    statuses: Sequence[NonTargetStatus | None], *, tumour_markers_normal: bool = True
) -> NonTargetResponse:
    """RECIST 1.1 response of the non-target lesions at one assessment.

    Parameters
    ----------
    statuses : sequence of {"present", "absent", "unequivocal progression", "not assessed"} or None
        One status per non-target lesion; None means not assessed. For a node, "absent" means its
        short axis is back below 10 mm (non-pathological).
    tumour_markers_normal : bool, default True
        Whether tumour markers (if any are followed) are within normal limits; CR needs it.

    Returns
    -------
    {"CR", "NON-CR/NON-PD", "PD", "NE"}

    Raises
    ------
    InvalidInputError
        No statuses (a patient without non-target disease has no non-target response).
    UnknownOptionError
        A status not listed above.

    Notes
    -----
    PD if any lesion shows unequivocal progression (even when others are not assessed); else NE
    if any lesion is not assessed; else CR if all are absent and the markers are normal; else
    NON-CR/NON-PD.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, section
       4.3.2.
    """
    if len(statuses) == 0:
        raise InvalidInputError("non_target_response needs at least one non-target lesion")
    codes = [
        "not assessed" if s is None else check_option(s, NON_TARGET_STATUSES, "non-target status")
        for s in statuses
    ]
    if "unequivocal progression" in codes:
        return "PD"
    if "not assessed" in codes:
        return "NE"
    if all(c == "absent" for c in codes) and tumour_markers_normal:
        return "CR"
    return "NON-CR/NON-PD"


def timepoint_response(
    target: TargetResponse | None,
    non_target: NonTargetResponse | None,
    new_lesions: bool,
) -> OverallResponse:
    """RECIST 1.1 overall response at one time point (Table 1, or Table 2 without targets).

    Parameters
    ----------
    target : {"CR", "PR", "SD", "PD", "NE"} or None
        Target-lesion response; None when the patient had no target (measurable) disease.
    non_target : {"CR", "NON-CR/NON-PD", "PD", "NE"} or None
        Non-target response; None when the patient had no non-target disease.
    new_lesions : bool
        Whether an unequivocal new lesion is present.

    Returns
    -------
    {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}

    Raises
    ------
    UnknownOptionError
        A response code not listed above.
    InvalidInputError
        ``new_lesions`` not a bool, or both ``target`` and ``non_target`` None (a patient with no
        disease at baseline cannot be assessed by RECIST 1.1).

    Notes
    -----
    Table 1 (target disease): PD if a new lesion, target PD or non-target PD; else NE if the
    target response is NE; CR if targets CR and non-targets CR or absent at baseline; PR if
    targets CR with non-targets NON-CR/NON-PD or NE, or targets PR; SD if targets SD.
    Table 2 (non-target disease only): PD if a new lesion or non-target PD; else the non-target
    response (CR, NON-CR/NON-PD or NE).

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, Tables 1
       and 2.
    """
    if target is not None:
        check_option(target, TARGET_RESPONSES, "target response")
    if non_target is not None:
        check_option(non_target, NON_TARGET_RESPONSES, "non-target response")
    _flag(new_lesions, "new_lesions")
    if target is None and non_target is None:
        raise InvalidInputError(
            "no target and no non-target disease: a patient without disease at baseline is not "
            "evaluable by RECIST 1.1",
            field="target",
        )
    if new_lesions or target == "PD" or non_target == "PD":
        return "PD"
    if target is None:
        assert non_target is not None
        return non_target  # Table 2: CR, NON-CR/NON-PD or NE
    if target == "NE":
        return "NE"
    if target == "CR":
        return "CR" if non_target in ("CR", None) else "PR"
    return target  # PR or SD, whatever the non-PD non-target response
