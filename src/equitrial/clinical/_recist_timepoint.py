"""RECIST 1.1 responses at one time point: target, non-target and overall (Tables 1 and 2)."""

from __future__ import annotations

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
    return Fraction(str(float(value)))


def exact_sum_mm(values: Sequence[float]) -> float:
    """Sum of diameters as the decimals written, independent of their order (no float drift)."""
    return float(sum((_exact(v) for v in values), Fraction(0)))


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
    return sum((v for v in values if v is not None), Fraction(0))


def _is_pd(total: Fraction, nadir: Fraction) -> bool:
    return total >= _PD_RATIO * nadir and total - nadir >= _PD_ABSOLUTE_MM


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
    base_sum = _evaluable_sum(base)
    assert base_sum is not None  # baseline has no missing values
    if base_sum == 0:
        raise InvalidInputError("the baseline sum of target diameters is 0 mm", field="baseline")
    sums = [s for s in (_evaluable_sum(h) for h in past) if s is not None]
    nadir = min([base_sum, *sums])
    measured = sum((v for v in now if v is not None), Fraction(0))
    if _is_pd(measured, nadir):
        return "PD"
    complete = [v for v in now if v is not None]
    if len(complete) < len(now):
        return "NE"
    pairs = zip(complete, is_node, strict=True)
    if all((v < _NODE_NORMAL_MM if node else v == 0) for v, node in pairs):
        return "CR"
    if measured <= _PR_RATIO * base_sum:
        return "PR"
    return "SD"


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
