"""RECIST 1.1 best overall response (with or without confirmation, Table 3) and response dates."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Literal

from equitrial.clinical._recist_timepoint import OVERALL_RESPONSES, OverallResponse
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = [
    "RESPONSE_ORDER",
    "CrThenPr",
    "best_overall_response",
    "duration_of_response",
    "first_response_date",
    "progression_date",
]

CrThenPr = Literal["progression", "downgrade"]
_CR_THEN_PR: tuple[CrThenPr, ...] = ("progression", "downgrade")

#: Best first. NE is last: an assessment that could not be evaluated is worse than any other.
RESPONSE_ORDER: tuple[OverallResponse, ...] = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")

Series = list[tuple[datetime.date, OverallResponse]]
_CODES: dict[str, OverallResponse] = {code: code for code in OVERALL_RESPONSES}


def _check_days(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"{name} must be a whole number of days >= 0, got {value!r}",
            field=name,
            value=value,
            expected=">= 0",
        )
    return value


def _check_series(
    timepoints: Sequence[tuple[datetime.date, str]], reference_date: datetime.date | None
) -> Series:
    series: Series = []
    for i, item in enumerate(timepoints):
        try:
            day, code = item
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"timepoints[{i}] must be a (date, response) pair, got {item!r}", value=item
            ) from None
        if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
            raise InvalidInputError(
                f"timepoints[{i}]: date must be a datetime.date, got {day!r}", value=day
            )
        check_option(code, OVERALL_RESPONSES, f"response at timepoints[{i}]")
        if series and day <= series[-1][0]:
            raise InvalidInputError(
                f"timepoints must be in strictly increasing date order; timepoints[{i}] on {day} "
                f"does not follow {series[-1][0]}",
                field="timepoints",
                value=day,
            )
        if reference_date is not None and day < reference_date:
            raise InvalidInputError(
                f"timepoints[{i}] on {day} is before the reference date {reference_date}",
                field="timepoints",
                value=day,
            )
        series.append((day, _CODES[code]))
    return series


def _effective(series: Series, confirmation_required: bool, cr_then_pr: CrThenPr) -> Series:
    """Apply Table 3 footnote (a) when confirmation is required, then cut after the first PD."""
    out = list(series)
    if confirmation_required:
        out = _after_cr(out, cr_then_pr)
    for i, (_, code) in enumerate(out):
        if code == "PD":
            return out[: i + 1]
    return out


def _after_cr(series: Series, cr_then_pr: CrThenPr) -> Series:
    out: Series = []
    seen_cr = False
    for day, code in series:
        if seen_cr and code == "PR" and cr_then_pr == "downgrade":
            # the earlier "CR" was not a true CR: change it to PR (Table 3, footnote a)
            out = [(d, "PR" if c == "CR" else c) for d, c in out]
            seen_cr = False
        elif seen_cr and code in ("PR", "SD", "NON-CR/NON-PD"):
            # disease seen again after a CR is progression at that point (Table 3, footnote a)
            code = "PD"
        seen_cr = seen_cr or code == "CR"
        out.append((day, code))
    return out


def _confirmed(
    series: Series, i: int, accept: tuple[str, ...], days: int, max_ne_between: int
) -> bool:
    """Whether ``series[i]`` is confirmed by a later ``accept`` response ``days`` or more later.

    Only responses in ``accept`` and at most ``max_ne_between`` NE may lie in between.
    """
    start = series[i][0]
    n_ne = 0
    for day, code in series[i + 1 :]:
        if code in accept and (day - start).days >= days:
            return True
        if code == "NE":
            n_ne += 1
            if n_ne > max_ne_between:
                return False
        elif code not in accept:
            return False
    return False


def _stable_code(series: Series, target_disease: bool | None) -> OverallResponse:
    codes = {code for _, code in series}
    table_1 = bool(codes & {"PR", "SD"})  # only with target disease
    table_2 = "NON-CR/NON-PD" in codes  # only with non-target disease alone
    if target_disease is None:
        target_disease = not table_2
    if (table_1 and table_2) or (table_1 and not target_disease) or (table_2 and target_disease):
        raise InvalidInputError(
            "the time-point responses mix Table 1 codes (PR, SD: target disease) with Table 2 "
            "codes (NON-CR/NON-PD: non-target disease only), or contradict target_disease",
            field="timepoints",
            value=sorted(codes),
        )
    return "SD" if target_disease else "NON-CR/NON-PD"


def best_overall_response(
    timepoints: Sequence[tuple[datetime.date, str]],
    *,
    reference_date: datetime.date,
    confirmation_required: bool,
    confirmation_days: int = 28,
    min_sd_days: int = 42,
    max_ne_between: int = 1,
    cr_then_pr: CrThenPr = "progression",
    target_disease: bool | None = None,
) -> OverallResponse:
    """RECIST 1.1 best overall response from the time-point responses of one patient.

    Parameters
    ----------
    timepoints : sequence of (datetime.date, str)
        Post-baseline time-point responses ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE") in
        strictly increasing date order, none before ``reference_date``.
    reference_date : datetime.date
        Start of treatment (randomisation in randomised trials); the minimum SD duration counts
        from it.
    confirmation_required : bool
        Whether CR and PR need confirmation (Table 3): required in non-randomised trials with
        response as primary endpoint, not in randomised trials.
    confirmation_days : int, default 28
        The confirming assessment must be at least this many days after the first.
    min_sd_days : int, default 42
        SD (or NON-CR/NON-PD) counts only at an assessment at least this many days after
        ``reference_date``.
    max_ne_between : int, default 1
        How many NE assessments may lie between a response and its confirmation.
    cr_then_pr : {"progression", "downgrade"}, default "progression"
        With confirmation, a PR after a CR (Table 3 footnote (a)): "progression" takes the CR as
        true, so the PR is PD at that point; "downgrade" takes the CR as doubtful and changes it
        to PR.
    target_disease : bool or None, default None
        Whether the patient had target disease (Table 1) or non-target disease only (Table 2),
        which decides whether an unconfirmed response counts as SD or NON-CR/NON-PD. None infers
        it from the codes (NON-CR/NON-PD present means non-target only).

    Returns
    -------
    {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}

    Raises
    ------
    InvalidInputError
        Dates not ``datetime.date``, not strictly increasing or before ``reference_date``;
        negative day counts; Table 1 and Table 2 codes mixed.
    UnknownOptionError
        An unknown response code or ``cr_then_pr``.

    Notes
    -----
    Only assessments up to and including the first PD count. The order is CR > PR > SD >
    NON-CR/NON-PD > PD > NE; no assessment at all gives NE.

    Without confirmation the best response is the best time-point response, where SD and
    NON-CR/NON-PD count only on or after ``reference_date + min_sd_days`` (SD too early then PD
    gives PD; SD too early then nothing or NE gives NE).

    With confirmation (Table 3): a CR is confirmed by a later CR, a PR by a later CR or PR, at
    least ``confirmation_days`` later, with only CR (for CR) or CR/PR (for PR) and at most
    ``max_ne_between`` NE in between. An unconfirmed CR or PR counts as SD (NON-CR/NON-PD for
    non-target disease only) if on or after ``reference_date + min_sd_days``. Disease seen again
    after a CR (a later SD or NON-CR/NON-PD, and a PR with ``cr_then_pr="progression"``) is PD at
    that assessment, so "CR then SD" gives SD if the minimum SD duration was met, else PD.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, section 4.4
       and Table 3.
    """
    check_option(cr_then_pr, _CR_THEN_PR, "cr_then_pr")
    days = _check_days(confirmation_days, "confirmation_days")
    sd_days = _check_days(min_sd_days, "min_sd_days")
    ne_max = _check_days(max_ne_between, "max_ne_between")
    series = _effective(
        _check_series(timepoints, reference_date), confirmation_required, cr_then_pr
    )
    stable = _stable_code(series, target_disease)
    sd_from = reference_date + datetime.timedelta(days=sd_days)
    candidates: list[OverallResponse] = ["NE"]
    for i, (day, code) in enumerate(series):
        if code in ("CR", "PR") and not confirmation_required:
            candidates.append(code)
        elif code == "CR" and _confirmed(series, i, ("CR",), days, ne_max):
            candidates.append("CR")
        elif code == "PR" and _confirmed(series, i, ("CR", "PR"), days, ne_max):
            candidates.append("PR")
        elif code in ("CR", "PR", "SD", "NON-CR/NON-PD"):
            if day >= sd_from:
                candidates.append(stable if code in ("CR", "PR") else code)
        else:
            candidates.append(code)  # PD or NE
    return min(candidates, key=RESPONSE_ORDER.index)


def progression_date(
    timepoints: Sequence[tuple[datetime.date, str]],
    *,
    confirmation_required: bool = False,
    cr_then_pr: CrThenPr = "progression",
) -> datetime.date | None:
    """Date of the first PD time-point response, or None without PD.

    Parameters
    ----------
    timepoints : sequence of (datetime.date, str)
        Time-point responses in strictly increasing date order.
    confirmation_required : bool, default False
        With it (and ``cr_then_pr="progression"``), disease seen again after a CR is PD at that
        assessment, as in :func:`best_overall_response`.
    cr_then_pr : {"progression", "downgrade"}, default "progression"

    Returns
    -------
    datetime.date or None

    Raises
    ------
    InvalidInputError, UnknownOptionError
        As :func:`best_overall_response`.

    Notes
    -----
    PD needs no confirmation under RECIST 1.1.

    References
    ----------
    .. [1] Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247, section 4.4.
    """
    check_option(cr_then_pr, _CR_THEN_PR, "cr_then_pr")
    series = _effective(_check_series(timepoints, None), confirmation_required, cr_then_pr)
    return series[-1][0] if series and series[-1][1] == "PD" else None


def first_response_date(
    timepoints: Sequence[tuple[datetime.date, str]],
    *,
    confirmation_required: bool = False,
    confirmation_days: int = 28,
    max_ne_between: int = 1,
    cr_then_pr: CrThenPr = "progression",
) -> datetime.date | None:
    """Date CR or PR criteria were first met (before any PD), or None without a response.

    Parameters
    ----------
    timepoints : sequence of (datetime.date, str)
        Time-point responses in strictly increasing date order.
    confirmation_required : bool, default False
        Count only a confirmed CR or PR (confirmed as in :func:`best_overall_response`).
    confirmation_days, max_ne_between, cr_then_pr
        As in :func:`best_overall_response`.

    Returns
    -------
    datetime.date or None

    Raises
    ------
    InvalidInputError, UnknownOptionError
        As :func:`best_overall_response`.

    Notes
    -----
    With confirmation the date is that of the first assessment of the confirmed pair, not of the
    confirming one.

    References
    ----------
    .. [1] Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247, section 4.6 (duration of response
       counts from the time measurement criteria are first met for CR or PR).
    """
    check_option(cr_then_pr, _CR_THEN_PR, "cr_then_pr")
    days = _check_days(confirmation_days, "confirmation_days")
    ne_max = _check_days(max_ne_between, "max_ne_between")
    series = _effective(_check_series(timepoints, None), confirmation_required, cr_then_pr)
    for i, (day, code) in enumerate(series):
        if code not in ("CR", "PR"):
            continue
        accept = ("CR",) if code == "CR" else ("CR", "PR")
        if not confirmation_required or _confirmed(series, i, accept, days, ne_max):
            return day
    return None


def duration_of_response(
    timepoints: Sequence[tuple[datetime.date, str]],
    *,
    confirmation_required: bool = False,
    confirmation_days: int = 28,
    max_ne_between: int = 1,
    cr_then_pr: CrThenPr = "progression",
) -> int | None:
    """Days from the first CR/PR to the first PD; None without a response or without PD.

    Parameters
    ----------
    timepoints, confirmation_required, confirmation_days, max_ne_between, cr_then_pr
        As in :func:`first_response_date`.

    Returns
    -------
    int or None

    Raises
    ------
    InvalidInputError, UnknownOptionError
        As :func:`best_overall_response`.

    Notes
    -----
    Plain date difference (no "+ 1 day"). Patients without PD are censored by the analysis layer,
    so None here means "no event observed", not zero.

    References
    ----------
    .. [1] Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247, section 4.6.
    """
    start = first_response_date(
        timepoints,
        confirmation_required=confirmation_required,
        confirmation_days=confirmation_days,
        max_ne_between=max_ne_between,
        cr_then_pr=cr_then_pr,
    )
    end = progression_date(
        timepoints, confirmation_required=confirmation_required, cr_then_pr=cr_then_pr
    )
    if start is None or end is None:
        return None
    return (end - start).days
