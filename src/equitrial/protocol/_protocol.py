"""The protocol model: every table of the file and the checks that span tables."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field, Strict, model_validator

from equitrial.errors import NotFoundError
from equitrial.protocol._assumptions import Assumptions
from equitrial.protocol._base import Issue, Model, StrTuple, check_unique, raise_issues
from equitrial.protocol._eligibility import EligibilityCriterion, eligibility_issues
from equitrial.protocol._endpoints import (
    Endpoint,
    Hypothesis,
    InterimAnalysis,
    _summary_issues,
)
from equitrial.protocol._enrolment import Enrolment
from equitrial.protocol._limits import stratification_size_issues
from equitrial.protocol._schedule import AssessmentKind, ScheduleItem
from equitrial.protocol._study import APPROVED_REGIMENS, Arm, Minimization, Randomization, Study
from equitrial.protocol._treatment import Regimen, Treatment
from equitrial.stats.equivalence import Margin

__all__ = ["Protocol"]


Arms = Annotated[tuple[Arm, ...], Strict(False)]
Schedule = Annotated[tuple[ScheduleItem, ...], Strict(False)]
Endpoints = Annotated[tuple[Endpoint, ...], Strict(False)]
Interims = Annotated[tuple[InterimAnalysis, ...], Strict(False)]
Criteria = Annotated[tuple[EligibilityCriterion, ...], Strict(False)]


class Protocol(Model):
    """A trial protocol: the model of ``protocol.toml``.

    Tables: ``[study]``, ``[[arms]]``, ``[randomization]``, ``[stratification]`` (factor name ->
    list of levels), ``[enrolment]`` (optional: the form of screening numbers, :class:`Enrolment`),
    ``[treatment]`` (optional: the allowed regimens, :class:`Treatment`), ``[[eligibility]]``
    (optional: the inclusion and exclusion criteria, :class:`EligibilityCriterion`),
    ``[[schedule]]``, ``[[endpoints]]``, ``[hypothesis]``, ``[[interim_analyses]]`` and
    ``[assumptions]``. Read one with
    :func:`equitrial.protocol.load_protocol`; see ``examples/melanoma-pembrolizumab/protocol.toml``.

    Checks across tables: exactly one test and one reference arm, unique arm codes, doses among the
    molecule's approved regimens; one allocation-ratio entry per arm; at least two unique levels
    per stratification factor (and at least one factor for minimization, whose factor weights must
    name factors), within the size limits of :mod:`equitrial.protocol._limits` (at most 10
    factors, 20 levels each, 10,000 strata, names of 64 characters without ``;`` or ``=``);
    unique schedule, endpoint and interim names; exactly one primary endpoint, binary, whose
    summary measure is the hypothesis' scale; interim timings increasing; one response rate per
    arm; ``assumptions.alpha == (1 - hypothesis.level) / 2``; unique eligibility criterion ids
    and at least one inclusion criterion when criteria are listed.

    Attributes
    ----------
    stratification
        Stratification factors: factor name -> its levels (e.g. ``ecog = ["0", "1"]``).
    eligibility
        The inclusion and exclusion criteria, the items of the eligibility checklist (absent:
        the checklist is free-form).
    """

    study: Study
    arms: Arms
    randomization: Randomization
    stratification: dict[str, StrTuple] = Field(default_factory=dict)
    enrolment: Enrolment = Field(default_factory=Enrolment)
    treatment: Treatment = Field(default_factory=Treatment)
    eligibility: Criteria = ()
    schedule: Schedule = ()
    endpoints: Endpoints
    hypothesis: Hypothesis
    interim_analyses: Interims = ()
    assumptions: Assumptions

    @model_validator(mode="after")
    def _check(self) -> Protocol:
        issues = [
            *_arm_issues(self),
            *_stratification_issues(self),
            *_treatment_issues(self),
            *eligibility_issues(self.eligibility),
            *check_unique((s.name for s in self.schedule), ("schedule",), "name", "name"),
            *_endpoint_issues(self),
            *_interim_issues(self),
            *_assumption_issues(self),
        ]
        raise_issues(issues)
        return self

    # --- accessors -------------------------------------------------------------------------

    @property
    def test_arm(self) -> Arm:
        """The arm with role ``"test"`` (the proposed biosimilar)."""
        return next(a for a in self.arms if a.role == "test")

    @property
    def reference_arm(self) -> Arm:
        """The arm with role ``"reference"`` (the originator)."""
        return next(a for a in self.arms if a.role == "reference")

    @property
    def primary_endpoint(self) -> Endpoint:
        """The one endpoint with role ``"primary"``."""
        return next(e for e in self.endpoints if e.role == "primary")

    def arm(self, code: str) -> Arm:
        """The arm with this code; :class:`~equitrial.errors.NotFoundError` if there is none."""
        for arm in self.arms:
            if arm.code == code:
                return arm
        codes = ", ".join(a.code for a in self.arms)
        raise NotFoundError(f"no arm {code!r}; arms are {codes}", field="code", value=code)

    @property
    def regimens(self) -> tuple[Regimen, ...]:
        """The allowed regimens: ``[[treatment.regimens]]``, or the test arm's dose as the one
        regimen (code ``"Q<interval>W"``) when the table lists none."""
        if self.treatment.regimens:
            return self.treatment.regimens
        dose = self.test_arm.dose
        code = f"Q{dose.interval_weeks:g}W".replace(".", "_")
        return (
            Regimen(
                code=code,
                dose_mg=dose.dose_mg,
                interval_weeks=dose.interval_weeks,
                max_cycles=dose.max_cycles,
            ),
        )

    @property
    def default_regimen(self) -> Regimen:
        """The regimen a subject starts on unless another is chosen at randomization."""
        code = self.treatment.default_regimen
        return self.regimen(code) if code is not None else self.regimens[0]

    def regimen(self, code: str) -> Regimen:
        """The regimen with this code; :class:`~equitrial.errors.NotFoundError` if none."""
        for regimen in self.regimens:
            if regimen.code == code:
                return regimen
        codes = ", ".join(r.code for r in self.regimens)
        raise NotFoundError(
            f"no regimen {code!r}; regimens are {codes}", field="regimen", value=code
        )

    @property
    def max_treatment_weeks(self) -> float:
        """Maximum duration of treatment in weeks from the first infusion: ``treatment.max_weeks``,
        else the test arm's ``max_weeks``, else its ``max_cycles`` times its interval."""
        if self.treatment.max_weeks is not None:
            return self.treatment.max_weeks
        dose = self.test_arm.dose
        if dose.max_weeks is not None:
            return dose.max_weeks
        assert dose.max_cycles is not None  # the Dose validator needs one of the two
        return dose.max_cycles * dose.interval_weeks

    def allocation(self) -> tuple[int, int]:
        """The allocation ratio's entries of the test and the reference arm."""
        codes = [a.code for a in self.arms]
        ratio = dict(zip(codes, self.randomization.allocation_ratio, strict=True))
        return int(ratio[self.test_arm.code]), int(ratio[self.reference_arm.code])

    def planned_per_arm(self) -> tuple[int, int]:
        """``assumptions.sample_size`` split by the allocation ratio: ``(test, reference)``,
        the test arm's share rounded to the nearest patient."""
        a1, a2 = self.allocation()
        n = self.assumptions.sample_size
        n_test = round(n * a1 / (a1 + a2))
        return n_test, n - n_test

    def margin(self) -> Margin:
        """The primary hypothesis' margin (``upper=math.inf`` for non-inferiority)."""
        return self.hypothesis.to_margin()

    def stratification_levels(self) -> dict[str, list[str]]:
        """Each stratification factor mapped to its levels, in file order (a fresh dict)."""
        return {name: list(levels) for name, levels in self.stratification.items()}

    def schedule_weeks(self, kind: AssessmentKind, horizon_weeks: float) -> tuple[float, ...]:
        """Sorted union of the weeks (from randomization) of every ``kind`` entry to the horizon.

        Entries anchored at the end of treatment are left out. E.g. ``"tumour-imaging"`` gives
        the scan weeks a simulated patient is assessed at.
        """
        weeks = {
            w
            for item in self.schedule
            if item.kind == kind and item.anchor == "randomization"
            for w in item.times(horizon_weeks)
        }
        return tuple(sorted(weeks))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every table (``stratification`` maps factor -> list of levels).

        An absent upper margin is ``None``; :func:`~equitrial.protocol.protocol_from_dict`
        reads the dict back to an equal protocol.
        """
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


# --- cross-table checks (each returns issues with paths from the file's root) -------------------


def _arm_issues(p: Protocol) -> list[Issue]:
    roles = [a.role for a in p.arms]
    issues = check_unique((a.code for a in p.arms), ("arms",), "arm code", "code")
    if sorted(roles) != ["reference", "test"]:
        msg = "expected exactly two arms, one with role 'test' and one with role 'reference'"
        issues.append(Issue(("arms",), roles, msg))
    issues += _regimen_issues(p)
    n_ratio, n_arms = len(p.randomization.allocation_ratio), len(p.arms)
    if n_ratio != n_arms:
        msg = f"has {n_ratio} entries; expected one per arm ({n_arms}), in the order of [[arms]]"
        loc = ("randomization", "allocation_ratio")
        issues.append(Issue(loc, list(p.randomization.allocation_ratio), msg))
    return issues


def _regimen_issues(p: Protocol) -> list[Issue]:
    """Doses must be approved regimens of the molecule; the issue points at the odd key."""
    approved = APPROVED_REGIMENS.get(p.study.molecule.lower())
    if approved is None:
        return []
    names = " or ".join(f"{d:g} mg Q{w:g}W" for d, w in approved)
    issues = []
    for i, arm in enumerate(p.arms):
        dose = arm.dose
        if (dose.dose_mg, dose.interval_weeks) in approved:
            continue
        key, value = "dose_mg", dose.dose_mg
        if dose.dose_mg in {d for d, _ in approved}:
            key, value = "interval_weeks", dose.interval_weeks
        msg = f"{dose.regimen} is not an approved {p.study.molecule} regimen; expected {names}"
        issues.append(Issue(("arms", i, "dose", key), value, msg))
    return issues


def _treatment_issues(p: Protocol) -> list[Issue]:
    """Listed regimens must be approved for the molecule (as the arms' doses)."""
    t = p.treatment
    if not t.regimens:
        if t.default_regimen is not None and t.default_regimen != p.regimens[0].code:
            msg = f"is not a regimen code; expected {p.regimens[0].code} (the arms' regimen)"
            return [Issue(("treatment", "default_regimen"), t.default_regimen, msg)]
        return []
    issues = []
    approved = APPROVED_REGIMENS.get(p.study.molecule.lower())
    if approved is not None:
        names = " or ".join(f"{d:g} mg Q{w:g}W" for d, w in approved)
        for i, r in enumerate(t.regimens):
            if (r.dose_mg, r.interval_weeks) not in approved:
                key = "interval_weeks" if r.dose_mg in {d for d, _ in approved} else "dose_mg"
                msg = f"{r.label} is not an approved {p.study.molecule} regimen; expected {names}"
                issues.append(Issue(("treatment", "regimens", i, key), getattr(r, key), msg))
    return issues


def _stratification_issues(p: Protocol) -> list[Issue]:
    issues = stratification_size_issues(p.stratification)
    if issues:
        return issues
    for name, levels in p.stratification.items():
        loc = ("stratification", name)
        if not name.strip():
            issues.append(Issue(loc, name, "expected a non-empty factor name"))
        if len(levels) < 2:
            issues.append(Issue(loc, list(levels), "expected at least two levels"))
        issues += check_unique(levels, loc, "level")
        issues += [
            Issue((*loc, i), lvl, "expected a non-empty level")
            for i, lvl in enumerate(levels)
            if not lvl.strip()
        ]
    if isinstance(p.randomization, Minimization):
        issues += _minimization_issues(p.randomization, p.stratification)
    return issues


def _minimization_issues(m: Minimization, strata: dict[str, tuple[str, ...]]) -> list[Issue]:
    issues = []
    if not strata:
        msg = "minimization needs factors; expected a [stratification] table with at least one"
        issues.append(Issue(("randomization", "method"), m.method, msg))
    for name in m.factor_weights:
        if name not in strata:
            known = ", ".join(repr(s) for s in strata) or "none"
            msg = f"is not a stratification factor; expected one of {known}"
            issues.append(Issue(("randomization", "factor_weights", name), name, msg))
    return issues


def _endpoint_issues(p: Protocol) -> list[Issue]:
    issues = check_unique((e.id for e in p.endpoints), ("endpoints",), "endpoint id", "id")
    primary = [i for i, e in enumerate(p.endpoints) if e.role == "primary"]
    if len(primary) != 1:
        ids = "".join(f" {p.endpoints[i].id!r}" for i in primary)
        msg = f"has {len(primary)} primary endpoints{ids}; expected exactly one role = 'primary'"
        return [*issues, Issue(("endpoints",), None, msg)]
    i = primary[0]
    endpoint = p.endpoints[i]
    if endpoint.kind != "binary":
        msg = "expected 'binary' for the primary endpoint (the hypothesis compares proportions)"
        issues.append(Issue(("endpoints", i, "kind"), endpoint.kind, msg))
    issues += _summary_issues(p.hypothesis, endpoint.estimand, ("endpoints", i, "estimand"))
    return issues


def _interim_issues(p: Protocol) -> list[Issue]:
    issues = check_unique(
        (a.name for a in p.interim_analyses), ("interim_analyses",), "name", "name"
    )
    for key in ("months_after_first_patient", "information_fraction"):
        previous = -math.inf
        for i, look in enumerate(p.interim_analyses):
            value = getattr(look, key)
            if value is None:
                continue
            if value <= previous:
                msg = f"expected interim looks in time order (after {previous:g})"
                issues.append(Issue(("interim_analyses", i, key), value, msg))
            previous = value
    return issues


def _assumption_issues(p: Protocol) -> list[Issue]:
    issues = []
    codes, rates = [a.code for a in p.arms], p.assumptions.response_rate
    if sorted(rates) != sorted(codes):
        msg = f"expected one rate per arm code: {', '.join(codes)}"
        issues.append(Issue(("assumptions", "response_rate"), sorted(rates), msg))
    alpha, expected = p.assumptions.alpha, p.hypothesis.alpha
    if not math.isclose(alpha, expected, rel_tol=1e-9, abs_tol=1e-12):
        msg = (
            f"disagrees with hypothesis.level = {p.hypothesis.level:g}; expected "
            f"(1 - level) / 2 = {expected:g}"
        )
        issues.append(Issue(("assumptions", "alpha"), alpha, msg))
    return issues
