"""Declarative edit checks: the rules every form is checked against when it is saved.

A check looks at the values of one form (and, for cross-form rules, at the context: today's date,
the window of the visit a dose belongs to) and returns a :class:`Finding` or ``None``.
An ``"impossible"`` finding refuses the save with a message naming the field and the rule; an
``"implausible"`` one lets the value be saved and opens a query on the field (see
:mod:`equitrial.services.queries`). The rules of each form are data, in :data:`CHECKS`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from equitrial.clinical import ae_terms as ae
from equitrial.clinical import terminology as ct
from equitrial.clinical.ctcae import convert_unit, lab_criterion
from equitrial.clinical.dosing import DosingRegimen, dose_fits, fitting_regimens
from equitrial.errors import EquitrialError, InvalidInputError
from equitrial.store.models import Base
from equitrial.store.models_clinical import PK_TIMEPOINTS, THERAPY_TYPES
from equitrial.store.validation import check_values

__all__ = [
    "CHECKS",
    "AbsentUnless",
    "Check",
    "CheckContext",
    "CurrentRegimen",
    "DoseFitsRegimen",
    "Finding",
    "NotBelow",
    "NotFuture",
    "OneOf",
    "Order",
    "Range",
    "RegimenKnown",
    "Required",
    "RequiredIf",
    "Severity",
    "UnitKnown",
    "WithinWindow",
    "enforce",
    "run_checks",
]

Severity = Literal["impossible", "implausible"]


@dataclass(frozen=True)
class Finding:
    """One failed check: the field, the rule's name, a message and how bad it is."""

    field: str
    rule: str
    message: str
    severity: Severity


@dataclass(frozen=True)
class CheckContext:
    """What cross-form checks need: today's date and the visit window of the record, if any;
    for a dose, the protocol's regimens by code, the subject's regimen on the dose date and the
    dose tolerance (percent of a regimen's dose). Without regimens the regimen checks pass."""

    today: dt.date
    window: tuple[dt.date, dt.date] | None = None
    regimens: Mapping[str, DosingRegimen] = field(default_factory=dict)
    current_regimen: str | None = None
    dose_tolerance_percent: float = 0.0


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class Required:
    """``field`` must have a value."""

    field: str
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        if _present(values.get(self.field)):
            return None
        return Finding(self.field, "required", f"{self.field} is required", self.severity)


@dataclass(frozen=True)
class RequiredIf:
    """``field`` must have a value when ``when`` holds for the form's values."""

    field: str
    when: Callable[[Mapping[str, Any]], bool]
    condition: str
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        if not self.when(values) or _present(values.get(self.field)):
            return None
        msg = f"{self.field} is required when {self.condition}"
        return Finding(self.field, "required-if", msg, self.severity)


@dataclass(frozen=True)
class Range:
    """``low <= field <= high`` (``low_open``: ``low < field``); a missing value passes."""

    field: str
    low: float = -math.inf
    high: float = math.inf
    severity: Severity = "impossible"
    low_open: bool = False

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        value = values.get(self.field)
        if value is None:
            return None
        below = value <= self.low if self.low_open else value < self.low
        ok = isinstance(value, int | float) and math.isfinite(value) and not below
        if ok and value <= self.high:
            return None
        lower = f"{self.low:g} {'<' if self.low_open else '<='} " if self.low > -math.inf else ""
        upper = f" <= {self.high:g}" if self.high < math.inf else ""
        msg = f"{self.field} = {value!r} is {self.severity}; expected {lower}{self.field}{upper}"
        return Finding(self.field, "range", msg, self.severity)


@dataclass(frozen=True)
class Order:
    """``earlier <= later`` (``strict``: ``earlier < later``), dates or numbers; either missing
    passes. Reported on ``later``."""

    earlier: str
    later: str
    severity: Severity = "impossible"
    strict: bool = False

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        first, last = values.get(self.earlier), values.get(self.later)
        if first is None or last is None or last > first or (last == first and not self.strict):
            return None
        word, sign = ("not after", ">") if self.strict else ("before", ">=")
        msg = (
            f"{self.later} ({last}) is {word} {self.earlier} ({first}); "
            f"expected {self.later} {sign} {self.earlier}"
        )
        return Finding(self.later, "order", msg, self.severity)


@dataclass(frozen=True)
class NotFuture:
    """A date (or timestamp) ``field`` must not be after today (UTC)."""

    field: str
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        value = values.get(self.field)
        if value is None or _as_date(value) <= ctx.today:
            return None
        msg = f"{self.field} ({value}) is in the future; expected a date on or before {ctx.today}"
        return Finding(self.field, "not-future", msg, self.severity)


@dataclass(frozen=True)
class WithinWindow:
    """A date ``field`` must lie inside the window of the record's visit (cross-form)."""

    field: str
    severity: Severity = "implausible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        value = values.get(self.field)
        if value is None or ctx.window is None:
            return None
        start, end = ctx.window
        if start <= _as_date(value) <= end:
            return None
        msg = f"{self.field} ({value}) is outside its visit window {start} to {end}"
        return Finding(self.field, "visit-window", msg, self.severity)


@dataclass(frozen=True)
class UnitKnown:
    """``unit_field`` must be a unit CTCAE accepts for the lab test in ``test_field``."""

    test_field: str = "test"
    unit_field: str = "unit"
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        test, unit = values.get(self.test_field), values.get(self.unit_field)
        if test is None or unit is None:
            return None
        try:
            criterion = lab_criterion(str(test))
        except EquitrialError as error:
            return Finding(self.test_field, "lab-test-known", error.message, self.severity)
        try:  # accepted units and their aliases are the criteria's data
            convert_unit(criterion.term, 1.0, str(unit), criterion.canonical_unit)
        except InvalidInputError:
            units = ", ".join(criterion.units)
            msg = f"unit {unit!r} is not known for {test!r}; expected one of {units}"
            return Finding(self.unit_field, "unit-known", msg, self.severity)
        return None


@dataclass(frozen=True)
class OneOf:
    """``field`` must be one of ``values`` (a controlled terminology); a missing value passes."""

    field: str
    values: tuple[str, ...]
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        value = values.get(self.field)
        if value is None or value in self.values:
            return None
        coded = ", ".join(self.values)
        msg = f"{self.field} = {value!r} is not a coded value; expected one of {coded}"
        return Finding(self.field, "terminology", msg, self.severity)


@dataclass(frozen=True)
class AbsentUnless:
    """``field`` must be empty unless ``when`` holds (a result only after its precondition)."""

    field: str
    when: Callable[[Mapping[str, Any]], bool]
    condition: str
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        if not _present(values.get(self.field)) or self.when(values):
            return None
        msg = f"{self.field} is given only when {self.condition}"
        return Finding(self.field, "only-if", msg, self.severity)


@dataclass(frozen=True)
class NotBelow:
    """``field >= limit_field`` (two numbers of one form); either missing passes."""

    field: str
    limit_field: str
    rule: str
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        value, limit = values.get(self.field), values.get(self.limit_field)
        if value is None or limit is None or value >= limit:
            return None
        msg = f"{self.field} ({value!r}) is below {self.limit_field} ({limit!r})"
        return Finding(self.field, self.rule, msg, self.severity)


class RegimenKnown:
    """A dose's ``regimen`` must be one of the protocol's regimens (when they are known)."""

    field: str = "regimen"
    severity: Severity = "impossible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        code = values.get(self.field)
        if not ctx.regimens or code is None or code in ctx.regimens:
            return None
        msg = (
            f"regimen {code!r} is not a protocol regimen; expected one of {', '.join(ctx.regimens)}"
        )
        return Finding(self.field, "regimen-known", msg, self.severity)


@dataclass(frozen=True)
class DoseFitsRegimen:
    """A dose must fit a protocol regimen unless the infusion was interrupted.

    Impossible: a dose that fits no regimen (within the tolerance) and was not interrupted.
    Implausible: an interrupted dose below its regimen's dose (a partial dose), or a dose that
    fits another regimen than the one recorded with it.
    """

    field: str = "dose_mg"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        dose, code = values.get(self.field), values.get("regimen")
        if not ctx.regimens or not isinstance(dose, int | float) or code not in ctx.regimens:
            return None
        regimen, tolerance = ctx.regimens[str(code)], ctx.dose_tolerance_percent
        fits = fitting_regimens(dose, list(ctx.regimens.values()), tolerance)
        if dose_fits(dose, regimen, tolerance):
            return None
        if values.get("interrupted"):
            if dose >= regimen.dose_mg:
                return None
            msg = (
                f"dose_mg = {dose:g} is a partial dose of {code} ({regimen.dose_mg:g} mg): "
                "the infusion was interrupted; confirm the dose given"
            )
            return Finding(self.field, "partial-dose", msg, "implausible")
        if not fits:
            names = ", ".join(f"{r.code} {r.dose_mg:g} mg" for r in ctx.regimens.values())
            msg = (
                f"dose_mg = {dose:g} fits no regimen ({names}, within {tolerance:g} %); only an "
                "interrupted infusion may give another dose"
            )
            return Finding(self.field, "regimen-dose", msg, "impossible")
        msg = f"dose_mg = {dose:g} is the dose of {fits[0].code}, not of {code}"
        return Finding(self.field, "regimen-dose", msg, "implausible")


@dataclass(frozen=True)
class CurrentRegimen:
    """A dose under another regimen than the subject's current one opens a query."""

    field: str = "regimen"
    severity: Severity = "implausible"

    def __call__(self, values: Mapping[str, Any], ctx: CheckContext) -> Finding | None:
        code = values.get(self.field)
        if ctx.current_regimen is None or code is None or code == ctx.current_regimen:
            return None
        msg = (
            f"regimen {code} is not the subject's regimen on this date ({ctx.current_regimen}); "
            "a switch is recorded by the investigator (switch_regimen)"
        )
        return Finding(self.field, "other-regimen", msg, self.severity)


Check = (
    Required
    | NotBelow
    | RequiredIf
    | AbsentUnless
    | Range
    | Order
    | NotFuture
    | WithinWindow
    | UnitKnown
    | OneOf
    | RegimenKnown
    | DoseFitsRegimen
    | CurrentRegimen
)


def _delayed_or_interrupted(values: Mapping[str, Any]) -> bool:
    return bool(values.get("delayed")) or bool(values.get("interrupted"))


def _is(field: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
    return lambda values: values.get(field) == value


def _in(field: str, values: tuple[str, ...]) -> Callable[[Mapping[str, Any]], bool]:
    return lambda v: v.get(field) in values


def _not(field: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda values: not values.get(field)


def _present_field(field: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda values: _present(values.get(field))


_SCREEN_POSITIVE = _is("screening_result", "POSITIVE")
_CONFIRMED = _is("confirmatory_result", "POSITIVE")


def _neutralizing_allowed(values: Mapping[str, Any]) -> bool:
    return _CONFIRMED(values) or values.get("neutralizing") == "NOT DONE"


PK_MAX_NOMINAL_HOURS = 6 * 7 * 24
"""The longest dosing interval of the protocol (400 mg Q6W), in hours: a PK sample planned
later than that after its dose is queried."""


CHECKS: dict[str, tuple[Check, ...]] = {
    "subject": (
        Required("screening_number"),
        Required("consent_date"),
        NotFuture("consent_date"),
        Range("birth_year", 1900, 2100),
        Order("birth_year", "consent_year"),
    ),
    "visit": (
        Required("name"),
        Required("planned_date"),
        NotFuture("actual_date"),
    ),
    "dose": (
        Required("date"),
        NotFuture("date"),
        Range("cycle", 1, 1000),
        Range("dose_mg", 0, 2000, low_open=True),
        # the protocol's regimens (e.g. 200 mg Q3W, 400 mg Q6W): another dose only when the
        # infusion was interrupted (then queried), another regimen than the subject's queried
        RegimenKnown(),
        DoseFitsRegimen(),
        CurrentRegimen(),
        RequiredIf("reason", _delayed_or_interrupted, "the dose is delayed or interrupted"),
        Order("infusion_start", "infusion_stop", strict=True),
        WithinWindow("date"),
    ),
    "adverse_event": (
        Required("term"),
        Required("grade"),
        Range("grade", 1, 5),
        Required("start_date"),
        NotFuture("start_date"),
        NotFuture("end_date"),
        Order("start_date", "end_date"),
        RequiredIf("serious_criteria", lambda v: bool(v.get("serious")), "the event is serious"),
        AbsentUnless("serious_criteria", lambda v: bool(v.get("serious")), "the event is serious"),
        OneOf("related", ae.AE_RELATIONSHIPS),
        OneOf("action_taken", ae.AE_ACTIONS),
        OneOf("outcome", ae.AE_OUTCOMES),
        RequiredIf(
            "end_date", _in("outcome", ae.RESOLVED_OUTCOMES), "the event ended", "implausible"
        ),
    ),
    "lab_result": (
        Required("test"),
        Required("value"),
        Required("unit"),
        Range("value", 0),
        UnitKnown(),
        Order("lln", "uln"),
        Required("collected_at"),
        NotFuture("collected_at"),
    ),
    "lesion_measurement": (
        Range("diameter_mm", 0, 500),
        Range("diameter_mm", 0, 300, severity="implausible"),
    ),
    "tumour_assessment": (
        Required("assessment_date"),
        NotFuture("assessment_date"),
    ),
    # issue 9: the forms saved through services/forms.py
    "pk_sample": (
        Required("collected_at"),
        NotFuture("collected_at"),
        Required("timing"),
        OneOf("timing", PK_TIMEPOINTS),
        Required("nominal_hours"),
        Range("nominal_hours", 0),
        Range("nominal_hours", 0, PK_MAX_NOMINAL_HOURS, severity="implausible"),
        Range("concentration", 0),
        Range("lloq", 0, low_open=True),
        RequiredIf("lloq", _is("blq", True), "the sample is below the limit (blq)"),
        AbsentUnless("concentration", _not("blq"), "the sample is quantifiable (not blq)"),
        NotBelow("concentration", "lloq", "below-lloq", severity="implausible"),
    ),
    "ada_sample": (
        Required("collected_at"),
        NotFuture("collected_at"),
        OneOf("screening_result", ct.ADA_RESULTS),
        OneOf("confirmatory_result", ct.ADA_RESULTS),
        OneOf("neutralizing", ct.NEUTRALIZING_RESULTS),
        AbsentUnless("confirmatory_result", _SCREEN_POSITIVE, "screening_result is POSITIVE"),
        AbsentUnless("titre", _CONFIRMED, "confirmatory_result is POSITIVE"),
        AbsentUnless("neutralizing", _neutralizing_allowed, "confirmatory_result is POSITIVE"),
        Range("titre", 0, low_open=True),
        RequiredIf("titre", _CONFIRMED, "the sample is confirmed positive", "implausible"),
    ),
    "questionnaire_response": (
        Required("date"),
        NotFuture("date"),
        Required("items_json"),
    ),
    "con_med": (
        Required("name"),
        Required("indication", severity="implausible"),
        Required("start", severity="implausible"),
        NotFuture("start"),
        NotFuture("end"),
        Order("start", "end"),
        AbsentUnless("end", _not("ongoing"), "the medication is not ongoing"),
        RequiredIf("end", _not("ongoing"), "the medication is not ongoing", "implausible"),
        Range("dose", 0, low_open=True),
        RequiredIf("dose_unit", _present_field("dose"), "a dose is given"),
        OneOf("dose_unit", ct.UNITS),
        OneOf("route", ct.ROUTES),
        OneOf("frequency", ct.FREQUENCIES),
    ),
    "subsequent_therapy": (
        Required("name"),
        Required("therapy_type"),
        OneOf("therapy_type", THERAPY_TYPES),
        Required("start_date"),
        NotFuture("start_date"),
    ),
    "disposition": (
        Required("scope"),
        OneOf("scope", ct.DISPOSITION_SCOPES),
        OneOf("epoch", ct.EPOCHS),
        Required("decod"),
        OneOf("decod", (*ct.DISPOSITION_REASONS, ct.SCREEN_FAILURE)),
        RequiredIf("reason_category", _is("scope", ct.SCREEN_FAILURE), "scope is SCREEN FAILURE"),
        AbsentUnless("reason_category", _is("scope", ct.SCREEN_FAILURE), "scope is SCREEN FAILURE"),
        OneOf("reason_category", ct.SCREEN_FAILURE_REASONS),
        RequiredIf("reason", _is("decod", "OTHER"), "decod is OTHER"),
        RequiredIf("reason", _is("reason_category", "OTHER"), "reason_category is OTHER"),
        Required("date"),
        NotFuture("date"),
    ),
    "death": (
        Required("date"),
        NotFuture("date"),
        Required("cause"),
        OneOf("cause", ct.DEATH_CAUSES),
        RequiredIf("cause_text", _is("cause", "OTHER"), "cause is OTHER"),
    ),
    # issue 9: the baseline forms of services/baseline.py
    "demographics": (
        Required("age"),
        Range("age", 0, 120),
        Range("age", 18, 100, severity="implausible"),  # the protocol enrols adults
        Required("sex"),
        OneOf("sex", ct.SEXES),
        Required("race"),
        OneOf("race", ct.RACES),
        Required("ethnicity"),
        OneOf("ethnicity", ct.ETHNICITIES),
        Required("country"),
        OneOf("country", tuple(sorted(ct.COUNTRIES))),
        Required("region"),
        OneOf("region", ct.REGIONS),
        Required("ecog_ps"),
        Range("ecog_ps", 0, 4),
        Range("ecog_ps", 0, 1, severity="implausible"),  # eligibility: ECOG 0 or 1
        Required("braf_v600"),
        OneOf("braf_v600", ct.BRAF_STATUSES),
        Required("m_stage"),
        OneOf("m_stage", ct.M_STAGES),
        Required("ldh_value"),
        Range("ldh_value", 0, 100_000),
        Required("ldh_uln"),
        Range("ldh_uln", 0, 10_000, low_open=True),
        Required("brain_metastases"),
        OneOf("brain_metastases", ct.NO_YES),
        Required("prior_adjuvant"),
        OneOf("prior_adjuvant", ct.NO_YES),
        RequiredIf("prior_adjuvant_therapy", _is("prior_adjuvant", "Y"), "prior_adjuvant is Y"),
        AbsentUnless("prior_adjuvant_therapy", _is("prior_adjuvant", "Y"), "prior_adjuvant is Y"),
    ),
    "medical_history": (
        Required("term"),
        Required("category"),
        OneOf("category", ct.MH_CATEGORIES),
        Required("start_date"),
        NotFuture("start_date"),
        NotFuture("end_date"),
        Order("start_date", "end_date"),
        AbsentUnless("end_date", _not("ongoing"), "the condition is not ongoing"),
        RequiredIf("end_date", _not("ongoing"), "the condition is not ongoing", "implausible"),
    ),
    "informed_consent": (
        Required("consent_date"),
        NotFuture("consent_date"),
        Required("form_version"),
        Required("consent_type"),
        OneOf("consent_type", ct.CONSENT_TYPES),
    ),
}
"""The checks of each form, by form name."""


def run_checks(form: str, values: Mapping[str, Any], context: CheckContext) -> list[Finding]:
    """Every finding of the checks of ``form`` on ``values`` (none: the form is clean)."""
    findings = (check(values, context) for check in CHECKS.get(form, ()))
    return [f for f in findings if f is not None]


def enforce(form: str, values: Mapping[str, Any], context: CheckContext) -> list[Finding]:
    """Run the checks of ``form``: refuse impossible values, return the implausible ones.

    Raises
    ------
    InvalidInputError
        A value of the wrong type for its column (:func:`equitrial.store.validation.check_values`),
        or at least one impossible value; the message lists each as ``field (rule): message``
        and ``field`` names the first.
    """
    table = Base.metadata.tables.get(form)
    if table is not None:  # a value of the wrong type is refused before any check compares it
        values = check_values(table, values)
    findings = run_checks(form, values, context)
    impossible = [f for f in findings if f.severity == "impossible"]
    if impossible:
        text = "; ".join(f"{f.field} ({f.rule}): {f.message}" for f in impossible)
        first = impossible[0]
        raise InvalidInputError(
            f"{form}: {text}", field=first.field, value=values.get(first.field), expected=first.rule
        )
    return [f for f in findings if f.severity == "implausible"]
