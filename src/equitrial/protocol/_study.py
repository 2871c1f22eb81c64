"""Study identity, arms and dose regimens, randomization method."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from equitrial.protocol._base import IntTuple, Issue, Model, fmt_number, raise_issues
from equitrial.protocol._limits import MAX_BLOCK_SIZE, MAX_BLOCK_SIZES, MAX_RATIO

__all__ = [
    "APPROVED_REGIMENS",
    "Arm",
    "Dose",
    "Minimization",
    "PermutedBlocks",
    "Randomization",
    "Study",
]

APPROVED_REGIMENS: dict[str, tuple[tuple[float, float], ...]] = {
    # Keytruda SmPC / USPI, section 4.2: 200 mg every 3 weeks or 400 mg every 6 weeks (adults).
    "pembrolizumab": ((200.0, 3.0), (400.0, 6.0)),
}
"""Approved ``(dose_mg, interval_weeks)`` regimens by molecule; arms of a study whose molecule is
listed here must use one of them. A molecule not listed is not checked."""

Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Field(min_length=1)]


class Study(Model):
    """``[study]``: identity of the trial.

    Attributes
    ----------
    id, title, version
        Protocol number, full title and protocol version (text, e.g. ``"1.0"``).
    molecule
        The active substance (lower case, e.g. ``"pembrolizumab"``); selects the approved dose
        regimens checked on the arms (:data:`APPROVED_REGIMENS`).
    indication, phase
        Free text, optional.
    """

    id: Text
    title: Text
    version: Text
    molecule: Text
    indication: str = ""
    phase: str = ""


class Dose(Model):
    """``[arms.dose]``: ``dose_mg`` every ``interval_weeks``, up to ``max_cycles``/``max_weeks``.

    At least one of ``max_cycles`` and ``max_weeks`` must be given (pembrolizumab: 35 cycles of
    200 mg Q3W, i.e. two years).

    Attributes
    ----------
    dose_mg
        The dose, in mg.
    interval_weeks
        Weeks between doses (3 for Q3W).
    max_cycles, max_weeks
        The maximum treatment duration, in cycles and/or weeks (at least one).
    """

    dose_mg: float = Field(gt=0, allow_inf_nan=False)
    interval_weeks: float = Field(gt=0, allow_inf_nan=False)
    max_cycles: int | None = Field(default=None, ge=1)
    max_weeks: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _needs_duration(self) -> Dose:
        if self.max_cycles is None and self.max_weeks is None:
            msg = "no maximum duration; expected max_cycles and/or max_weeks"
            raise_issues([Issue(("max_cycles",), None, msg)])
        return self

    @property
    def regimen(self) -> str:
        """``"200 mg Q3W"``."""
        return f"{fmt_number(self.dose_mg)} mg Q{fmt_number(self.interval_weeks)}W"


class Arm(Model):
    """``[[arms]]``: one treatment arm.

    Attributes
    ----------
    code
        Short code (letters, digits, ``-``, ``_``), e.g. ``"BIO"``; keys the per-arm assumptions.
    name, product
        Display name and the product administered (with its source, e.g. EU-sourced).
    role : {"test", "reference"}
        The proposed biosimilar is the test arm, the originator the reference arm.
    dose
        The regimen, :class:`Dose`.
    """

    code: Code
    name: Text
    product: Text
    role: Literal["test", "reference"]
    dose: Dose


class PermutedBlocks(Model):
    """``[randomization]`` with ``method = "permuted-blocks"``.

    ``block_sizes`` are the sizes used (each a multiple of the sum of the allocation ratio, at
    most 1,000; at most 10 sizes); with ``random_block_sizes`` the size of each block is drawn at
    random among them. Allocation-ratio entries are whole numbers from 1 to 100.

    Attributes
    ----------
    method
        ``"permuted-blocks"``.
    allocation_ratio
        One whole number per arm, in the order of ``[[arms]]`` (e.g. ``[1, 1]``).
    block_sizes
        The block sizes, each a multiple of the sum of ``allocation_ratio``.
    random_block_sizes
        Whether each block's size is drawn at random among ``block_sizes``.
    """

    method: Literal["permuted-blocks"]
    allocation_ratio: IntTuple
    block_sizes: IntTuple
    random_block_sizes: bool = True

    @model_validator(mode="after")
    def _check(self) -> PermutedBlocks:
        issues = _ratio_issues(self.allocation_ratio)
        total = sum(self.allocation_ratio)
        if not self.block_sizes:
            issues.append(Issue(("block_sizes",), [], "is empty; expected at least one size"))
        if len(self.block_sizes) > MAX_BLOCK_SIZES:
            msg = f"has {len(self.block_sizes)} sizes; expected at most {MAX_BLOCK_SIZES}"
            issues.append(Issue(("block_sizes",), None, msg))
        for i, size in enumerate(self.block_sizes[:MAX_BLOCK_SIZES]):
            if size < 1 or (total > 0 and size % total):
                msg = f"expected a positive multiple of {total} (the sum of the allocation ratio)"
                issues.append(Issue(("block_sizes", i), size, msg))
            elif size > MAX_BLOCK_SIZE:
                msg = f"expected a block size of at most {MAX_BLOCK_SIZE}"
                issues.append(Issue(("block_sizes", i), size, msg))
        if len(set(self.block_sizes)) != len(self.block_sizes):
            issues.append(Issue(("block_sizes",), list(self.block_sizes), "expected unique sizes"))
        raise_issues(issues)
        return self


class Minimization(Model):
    """``[randomization]`` with ``method = "minimization"`` (Pocock and Simon, 1975).

    The arm that minimizes the imbalance is assigned with probability ``p_best``
    (``0.5 < p_best <= 1``); ``imbalance`` is the measure over the factors' levels and
    ``factor_weights`` (optional, by stratification factor) weight the factors.

    Attributes
    ----------
    method
        ``"minimization"``.
    allocation_ratio
        One whole number per arm, in the order of ``[[arms]]``.
    p_best
        Probability of assigning the arm that minimizes the imbalance (``0.5 < p_best <= 1``).
    imbalance : {"range", "variance"}
        The imbalance measure over each factor's levels.
    factor_weights
        Weight (``> 0``) of each stratification factor, by name; unnamed factors weigh 1.

    References
    ----------
    .. [1] Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic
       factors in the controlled clinical trial. *Biometrics* 1975;31:103-115.
    """

    method: Literal["minimization"]
    allocation_ratio: IntTuple
    p_best: float = Field(gt=0.5, le=1.0)
    imbalance: Literal["range", "variance"] = "range"
    factor_weights: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Minimization:
        issues = _ratio_issues(self.allocation_ratio)
        for name, weight in self.factor_weights.items():
            if not weight > 0:
                issues.append(Issue(("factor_weights", name), weight, "expected a weight > 0"))
        raise_issues(issues)
        return self


Randomization = Annotated[PermutedBlocks | Minimization, Field(discriminator="method")]


def _ratio_issues(ratio: tuple[int, ...]) -> list[Issue]:
    issues = [
        Issue(("allocation_ratio", i), r, "expected a whole number >= 1")
        for i, r in enumerate(ratio)
        if r < 1
    ]
    issues += [
        Issue(("allocation_ratio", i), r, f"expected a whole number of at most {MAX_RATIO}")
        for i, r in enumerate(ratio)
        if r > MAX_RATIO
    ]
    return issues
