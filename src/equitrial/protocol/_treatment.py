"""``[treatment]``: the dose regimens a subject may receive, the maximum duration, switches."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, model_validator

from equitrial.protocol._base import Issue, Model, check_unique, fmt_number, raise_issues

__all__ = ["Regimen", "Treatment"]

Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class Regimen(Model):
    """``[[treatment.regimens]]``: one allowed regimen, ``dose_mg`` every ``interval_weeks``.

    Attributes
    ----------
    code
        Short code (letters, digits, ``-``, ``_``), e.g. ``"Q3W"``; stored with each dose.
    dose_mg
        The dose of one infusion, in mg.
    interval_weeks
        Weeks between infusions (a whole number of days: ``interval_weeks * 7``).
    max_cycles
        The maximum number of infusions under this regimen (absent: only
        ``treatment.max_weeks`` limits it).
    """

    code: Code
    dose_mg: float = Field(gt=0, allow_inf_nan=False)
    interval_weeks: float = Field(gt=0, allow_inf_nan=False)
    max_cycles: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _whole_days(self) -> Regimen:
        days = self.interval_weeks * 7
        if abs(days - round(days)) > 1e-9:
            msg = "expected a whole number of days (interval_weeks * 7)"
            raise_issues([Issue(("interval_weeks",), self.interval_weeks, msg)])
        return self

    @property
    def label(self) -> str:
        """``"200 mg Q3W"``."""
        return f"{fmt_number(self.dose_mg)} mg Q{fmt_number(self.interval_weeks)}W"


Regimens = Annotated[tuple[Regimen, ...], Strict(False)]


class Treatment(Model):
    """``[treatment]`` (optional): the regimens allowed, the default, the maximum duration.

    Without ``regimens`` the one regimen is the arms' dose (code ``"Q<interval>W"``), so a
    protocol without this table keeps its meaning. Cross-checks: unique codes; the default
    among them; each regimen approved for the molecule (as the arms' doses);
    ``switch_allowed`` needs at least two regimens.

    Attributes
    ----------
    regimens
        The allowed regimens (e.g. 200 mg Q3W and 400 mg Q6W).
    default_regimen
        Code of the regimen a subject starts on unless another is chosen at randomization
        (absent: the first regimen).
    max_weeks
        Maximum duration of treatment, weeks from the first infusion: no infusion is planned
        at or after it (104 weeks, i.e. 24 months). Absent: the arms' ``max_weeks``.
    switch_allowed
        Whether a subject may switch from one regimen to another during treatment.
    window_days
        Half-width of an infusion visit's window, in days (``3``: from 3 days before to 3 days
        after the planned day). Other assessments use their own ``window_days`` or this one.
    dose_tolerance_percent
        How far (percent of the regimen's dose) a recorded dose may be from it and still fit it.
    kit_mg
        Study drug in one kit of the drug supply, in mg (both arms' kits hold the same): a dose
        takes ``ceil(dose_mg / kit_mg)`` kits (200 mg kits: 1 for 200 mg Q3W, 2 for 400 mg Q6W).
        Absent: the smallest regimen's dose (one kit a dose of it).
    """

    regimens: Regimens = ()
    default_regimen: str | None = None
    max_weeks: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    switch_allowed: bool = False
    window_days: int = Field(default=3, ge=0, le=60)
    dose_tolerance_percent: float = Field(default=10.0, ge=0, lt=100, allow_inf_nan=False)
    kit_mg: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> Treatment:
        codes = [r.code for r in self.regimens]
        issues = check_unique(codes, ("regimens",), "regimen code", "code")
        if self.default_regimen is not None and codes and self.default_regimen not in codes:
            msg = f"is not a regimen code; expected one of {', '.join(codes)}"
            issues.append(Issue(("default_regimen",), self.default_regimen, msg))
        if self.switch_allowed and len(self.regimens) < 2:
            msg = "a switch needs at least two regimens; expected [[treatment.regimens]] entries"
            issues.append(Issue(("switch_allowed",), True, msg))
        raise_issues(issues)
        return self
