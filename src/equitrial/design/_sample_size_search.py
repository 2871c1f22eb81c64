"""The smallest sample size whose exact power reaches a target, by exact search."""

from __future__ import annotations

import math
from typing import Any

from equitrial.design._sample_size_checks import (
    IntervalMethod,
    check_allocation,
    check_design,
    check_dropout,
    check_probability,
    check_size,
)
from equitrial.design._sample_size_exact import MAX_TOTAL, ExactSampleSize, exact_power_checked
from equitrial.design._sample_size_normal import check_true_effect, enrolled, normal_sample_size
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_level
from equitrial.stats.equivalence import Margin

__all__ = ["smallest_n"]


def _window_end(
    p1: float, p2: float, design: tuple[Any, ...], target: float, allocation: tuple[int, int]
) -> int:
    """Default last multiple of the allocation: 1.5 times the normal approximation, plus 10.

    Refuses at once a design whose normal approximation already exceeds :data:`MAX_TOTAL`
    patients (an exact search there would take minutes and end in the same refusal).
    """
    margin, _, level = design
    guide = normal_sample_size(
        p1, p2, margin=margin, target_power=target, level=level, allocation=allocation
    )
    if guide.n1 + guide.n2 > MAX_TOTAL:
        raise InvalidInputError(
            f"the normal approximation needs {guide.n1} + {guide.n2} patients, more than the "
            f"{MAX_TOTAL} the exact search goes to; pass max_n1 to search a given window",
            field="target_power",
            value=target,
        )
    return math.ceil(1.5 * guide.n1_exact / allocation[0]) + 10


def _scan(
    p1: float,
    p2: float,
    design: tuple[Any, ...],
    target: float,
    allocation: tuple[int, int],
    end: int,
    fixed: bool,
) -> list[float]:
    """Exact power at multiples 1, 2, ... of the allocation, extending the window if needed."""
    a1, a2 = allocation
    cap = max(1, MAX_TOTAL // (a1 + a2))
    end = end if fixed else min(end, cap)
    powers: list[float] = []
    while True:
        for m in range(len(powers) + 1, end + 1):
            powers.append(exact_power_checked(p1, p2, a1 * m, a2 * m, design))
        reached = max(powers) >= target
        if fixed or (reached and powers[-1] >= target):
            return powers
        if end >= cap:
            if reached:  # in a dip at the cap: no stable size to report
                return powers
            raise InvalidInputError(
                f"exact power {max(powers):.4f} stays below target_power={target} up to "
                f"{end * (a1 + a2)} patients in all; pass max_n1 to search a given window",
                field="target_power",
                value=target,
            )
        # not reached yet: double the window; reached but in a dip at the end: widen by a quarter
        end = min(cap, 2 * end if not reached else end + math.ceil(end / 4))


def smallest_n(
    p1: float,
    p2: float,
    *,
    margin: Margin,
    target_power: float = 0.8,
    method: IntervalMethod = "miettinen-nurminen",
    level: float = 0.90,
    allocation: tuple[int, int] = (1, 1),
    dropout: float = 0.0,
    max_n1: int | None = None,
) -> ExactSampleSize:
    """Smallest sample size whose exact power reaches a target, by exact search.

    Parameters
    ----------
    p1, p2
        True response probabilities of arm 1 (test) and arm 2 (reference), in (0, 1); the true
        difference (ratio) must lie strictly inside the margin.
    margin, method, level
        The analysis, as :func:`~equitrial.design.sample_size.exact_power`.
    target_power
        Power to reach, in (0, 1).
    allocation
        ``(a1, a2)``, whole numbers: the sizes searched are ``(a1 m, a2 m)``, ``m = 1, 2, ...``
        (whole randomization blocks).
    dropout
        Fraction in [0, 1) of enrolled patients not evaluable; ``*_enrolled`` are
        ``ceil(n / (1 - dropout))`` per arm.
    max_n1
        Last arm-1 size of the search window. By default the window ends at 1.5 times the
        normal-approximation size (Farrington–Manning, ``"tost"``) plus 10 blocks, and is widened
        while the target is not reached or the power at its end is below the target.

    Returns
    -------
    ExactSampleSize
        The smallest size reaching the target, the smallest from which the power stays at or
        above it up to the window's end, the sizes to enrol, and the whole power sequence.

    Raises
    ------
    InvalidInputError
        Bad probabilities, levels, allocation, dropout, ``max_n1`` or margin; a true effect not
        inside the margin; the target not reached within ``max_n1``; without ``max_n1``, a
        normal approximation above 20,000 patients in all, or no size up to that reaching it.
    UnknownOptionError
        ``method`` unknown or not one for the margin's scale.

    Notes
    -----
    Exact power is not monotone in ``n``: the discreteness of the outcomes makes it a saw-tooth
    around the smooth normal approximation, so a size can reach the target while the next one
    falls below it. Every size from one block up to the window's end is computed (no bisection,
    which would assume monotonicity). Two answers are reported: the smallest size with power
    ``>= target`` (``n1, n2``) and the smallest size from which every size up to the window's end
    has power ``>= target`` (``n1_stable, n2_stable``), the safer choice when the final number of
    evaluable patients cannot be controlled exactly. The second is relative to the window: the
    saw-tooth's dips shrink as ``n`` grows, but are not proven absent beyond it [1]_.

    References
    ----------
    .. [1] Chernick MR, Liu CY. The saw-toothed behavior of power versus sample size and software
       solutions: single binomial proportion using exact methods. *Am Stat* 2002;56:149-155.
    """
    q1 = check_probability(p1, "p1", open_interval=True)
    q2 = check_probability(p2, "p2", open_interval=True)
    design = check_design(margin, method, level)
    target = check_level(target_power, "target_power")
    alloc, loss = check_allocation(allocation), check_dropout(dropout)
    check_true_effect(q1, q2, design[0])
    if max_n1 is None:
        end, fixed = _window_end(q1, q2, design, target, alloc), False
    else:
        end, fixed = check_size(max_n1, "max_n1") // alloc[0], True
        if end < 1:
            raise InvalidInputError(
                f"max_n1={max_n1!r} is below one block of the allocation {alloc}",
                field="max_n1",
                value=max_n1,
                expected=f">= {alloc[0]}",
            )
    powers = _scan(q1, q2, design, target, alloc, end, fixed)
    return _result(powers, (q1, q2), design, target, alloc, loss)


def _result(
    powers: list[float],
    probs: tuple[float, float],
    design: tuple[Any, ...],
    target: float,
    alloc: tuple[int, int],
    loss: float,
) -> ExactSampleSize:
    a1, a2 = alloc
    above = [p >= target for p in powers]
    if not any(above):
        raise InvalidInputError(
            f"exact power {max(powers):.4f} stays below target_power={target} up to "
            f"n1={a1 * len(powers)}; widen max_n1",
            field="max_n1",
            value=a1 * len(powers),
        )
    first = above.index(True) + 1
    # the block after the last one below target (1-based), if the window ends above target
    last_below = max((m for m, ok in enumerate(above, start=1) if not ok), default=0)
    stable = last_below + 1 if above[-1] else None
    sizes = tuple((a1 * m, a2 * m) for m in range(1, len(powers) + 1))
    s1, s2 = (a1 * stable, a2 * stable) if stable is not None else (None, None)
    margin, method, level = design
    return ExactSampleSize(
        a1 * first,
        a2 * first,
        powers[first - 1],
        s1,
        s2,
        None if stable is None else powers[stable - 1],
        enrolled(a1 * first, loss),
        enrolled(a2 * first, loss),
        None if s1 is None else enrolled(s1, loss),
        None if s2 is None else enrolled(s2, loss),
        sizes,
        tuple(powers),
        probs[0],
        probs[1],
        margin,
        method,
        level,
        target,
        alloc,
        loss,
    )
