"""The visit schedule: a flat list of assessments, each periodic or at listed weeks."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from equitrial.protocol._base import FloatTuple, Issue, Model, raise_issues

__all__ = ["AssessmentKind", "ScheduleItem"]

AssessmentKind = Literal[
    "dosing",
    "tumour-imaging",
    "labs",
    "pk",
    "ada",
    "questionnaire",
    "follow-up",
    "other",
]
Week = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ScheduleItem(Model):
    """``[[schedule]]``: one assessment, either every ``interval_weeks`` or at listed ``weeks``.

    Attributes
    ----------
    name
        Unique name of the entry (e.g. ``"tumour imaging, year 1"``).
    kind : {"dosing", "tumour-imaging", "labs", "pk", "ada", "questionnaire", "follow-up", "other"}
        What is done; a schedule that changes frequency is two entries of the same kind.
    interval_weeks, start_week, until_week
        Periodic form: at ``start_week`` (default 0), then every ``interval_weeks`` up to and
        including ``until_week`` (absent: until the assessment stops for the patient, e.g. at
        progression or end of treatment).
    weeks
        Listed form: the weeks (ascending, unique), instead of the periodic fields.
    timing : {"any", "pre-dose", "end-of-infusion"}
        Time relative to the dose on the day (PK and ADA samples).
    anchor : {"randomization", "end-of-treatment"}
        What week 0 is: randomization (on-treatment assessments) or the end of treatment
        (follow-up).
    window_days
        Half-width of the assessment's visit window, in days (absent: ``treatment.window_days``).
        Entries of kind ``"dosing"`` follow the subject's regimen (``[treatment]``): their
        weeks are the regimen's infusion weeks, their window ``treatment.window_days``.
    """

    name: Annotated[str, Field(min_length=1)]
    kind: AssessmentKind
    interval_weeks: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    start_week: Week | None = None
    until_week: Week | None = None
    weeks: FloatTuple | None = None
    timing: Literal["any", "pre-dose", "end-of-infusion"] = "any"
    anchor: Literal["randomization", "end-of-treatment"] = "randomization"
    window_days: int | None = Field(default=None, ge=0, le=180)

    @model_validator(mode="after")
    def _one_form(self) -> ScheduleItem:
        if self.weeks is None:
            issues = self._periodic_issues()
        else:
            issues = self._listed_issues(self.weeks)
        raise_issues(issues)
        return self

    def _periodic_issues(self) -> list[Issue]:
        if self.interval_weeks is None:
            return [Issue(("interval_weeks",), None, "missing; expected interval_weeks or weeks")]
        start, until = self.start_week or 0.0, self.until_week
        if until is not None and until < start:
            msg = f"expected a week at or after start_week ({start:g})"
            return [Issue(("until_week",), until, msg)]
        return []

    def _listed_issues(self, weeks: tuple[float, ...]) -> list[Issue]:
        issues = [
            Issue((key,), getattr(self, key), "expected to be absent when weeks is given")
            for key in ("interval_weeks", "start_week", "until_week")
            if getattr(self, key) is not None
        ]
        if not weeks:
            issues.append(Issue(("weeks",), [], "is empty; expected at least one week"))
        for i, week in enumerate(weeks):
            if not (math.isfinite(week) and week >= 0):
                issues.append(Issue(("weeks", i), week, "expected a finite week >= 0"))
            elif i and week <= weeks[i - 1]:
                msg = f"expected weeks in increasing order (after {weeks[i - 1]:g})"
                issues.append(Issue(("weeks", i), week, msg))
        return issues

    def times(self, horizon_weeks: float) -> tuple[float, ...]:
        """Weeks of the assessment (relative to its anchor) up to ``horizon_weeks`` inclusive.

        Parameters
        ----------
        horizon_weeks
            Last week of interest (e.g. the end of follow-up of a simulated patient).

        Returns
        -------
        tuple of float
            Ascending weeks; the periodic form stops at ``until_week`` or the horizon.
        """
        if self.weeks is not None:
            return tuple(w for w in self.weeks if w <= horizon_weeks)
        step = self.interval_weeks
        assert step is not None  # guaranteed by the validator
        start = self.start_week or 0.0
        stop = min(horizon_weeks, math.inf if self.until_week is None else self.until_week)
        if stop < start:
            return ()
        count = math.floor((stop - start) / step + 1e-9) + 1
        return tuple(start + k * step for k in range(count))
