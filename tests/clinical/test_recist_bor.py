"""RECIST 1.1 best overall response beyond the two-row Table 3, and the response dates.

Reference: Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, sections 4.4 and 4.6, transcribed in
the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47) and the iRECIST paper
(Seymour et al., Lancet Oncol 2017;18:e143-52) section 8 ([S1]; the no-confirmation rules are
marked [recalled]
there, consistent with [S1]). The 28-day confirmation window, 42-day minimum SD window and "at
most 1 NE between" defaults follow admiralonco (noted in the same section).
"""

import datetime as dt

import pytest

from equitrial.clinical.recist import (
    best_overall_response,
    duration_of_response,
    first_response_date,
    progression_date,
)
from equitrial.errors import InvalidInputError, UnknownOptionError

REF = dt.date(2024, 1, 1)


def _series(*pairs):
    return [(REF + dt.timedelta(days=d), code) for d, code in pairs]


def _bor(*pairs, confirm=False, **kw):
    return best_overall_response(
        _series(*pairs), reference_date=REF, confirmation_required=confirm, **kw
    )


# Without confirmation: "BOR = best time-point response across all time points (e.g. SD, PR,
# PD -> PR). If SD is the best but the minimum SD duration is not met ... SD (too early) then
# PD -> PD; SD (too early) then lost to follow-up -> NE."
@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param([(42, "SD"), (84, "PR"), (126, "PD")], "PR", id="SD, PR, PD -> PR"),
        pytest.param([(21, "SD"), (63, "PD")], "PD", id="SD too early then PD -> PD"),
        pytest.param([(21, "SD"), (63, "NE")], "NE", id="SD too early then NE -> NE"),
        pytest.param([(21, "SD")], "NE", id="SD too early then lost to follow-up -> NE"),
        pytest.param([(42, "SD")], "SD", id="SD on day 42 meets a 42-day minimum"),
        pytest.param([(41, "SD")], "NE", id="SD on day 41 does not"),
        pytest.param([(21, "PR")], "PR", id="unconfirmed PR counts without confirmation"),
        pytest.param([(21, "CR"), (63, "PR")], "CR", id="CR then PR -> CR (best time point)"),
        pytest.param([(42, "PD"), (84, "CR")], "PD", id="nothing after the first PD counts"),
        pytest.param([(21, "NE"), (63, "PD")], "PD", id="NE then PD -> PD"),
        pytest.param(
            [(42, "NON-CR/NON-PD")], "NON-CR/NON-PD", id="non-target only: NON-CR/NON-PD on day 42"
        ),
        pytest.param([(21, "NON-CR/NON-PD"), (63, "PD")], "PD", id="NON-CR/NON-PD too early, PD"),
        pytest.param([], "NE", id="no post-baseline assessment -> NE"),
    ],
)
def test_bor_without_confirmation(pairs, expected):
    assert _bor(*pairs) == expected


def test_min_sd_days_is_configurable():
    # "in general not less than 6-8 weeks": 56 days moves the day-42 SD out
    assert _bor((42, "SD"), min_sd_days=56) == "NE"
    assert _bor((56, "SD"), min_sd_days=56) == "SD"


# Confirmation: "CR/PR criteria must be met again at a subsequent assessment >= 4 weeks after
# first documentation"
@pytest.mark.parametrize(
    ("pairs", "expected", "target_disease"),
    [
        pytest.param([(28, "CR"), (56, "CR")], "CR", None, id="CR confirmed exactly 28 days later"),
        pytest.param(
            [(28, "CR"), (55, "CR")], "SD", None, id="CR 27 days later: not confirmed -> SD"
        ),
        pytest.param(
            [(14, "PR"), (41, "PR")], "NE", None, id="PR 27 days later, both before day 42"
        ),
        pytest.param(
            [(28, "CR"), (42, "NE"), (56, "CR")],
            "CR",
            None,
            id="one NE between CR and its confirmation",
        ),
        pytest.param(
            [(28, "CR"), (35, "NE"), (42, "NE"), (56, "CR")],
            "SD",
            None,
            id="two NE between: not confirmed (max 1) -> SD",
        ),
        pytest.param(
            [(28, "PR"), (42, "SD"), (70, "PR")],
            "SD",
            None,
            id="SD between PR and PR breaks confirmation",
        ),
        pytest.param(
            [(28, "PR"), (42, "PR"), (70, "CR")],
            "PR",
            None,
            id="PR confirmed by a later CR; CR alone",
        ),
        pytest.param(
            [(56, "CR"), (84, "CR"), (112, "SD")],
            "CR",
            None,
            id="confirmed CR, then SD (=PD) -> CR",
        ),
        pytest.param(
            [(14, "CR"), (42, "NON-CR/NON-PD")],
            "PD",
            None,
            id="non-target only (inferred): CR, then disease again before day 42 -> PD",
        ),
        pytest.param(
            [(56, "CR"), (70, "NE")],
            "NON-CR/NON-PD",
            False,
            id="non-target only, target_disease=False: unconfirmed CR -> NON-CR/NON-PD",
        ),
    ],
)
def test_bor_with_confirmation(pairs, expected, target_disease):
    assert _bor(*pairs, confirm=True, target_disease=target_disease) == expected


def test_max_ne_between_is_configurable():
    pairs = [(28, "CR"), (35, "NE"), (42, "NE"), (56, "CR")]
    assert _bor(*pairs, confirm=True, max_ne_between=2) == "CR"
    assert _bor((28, "CR"), (42, "NE"), (56, "CR"), confirm=True, max_ne_between=0) == "SD"


def test_confirmation_days_is_configurable():
    assert _bor((28, "PR"), (49, "PR"), confirm=True, confirmation_days=21) == "PR"
    assert _bor((28, "PR"), (49, "PR"), confirm=True) == "SD"


def test_response_dates_and_duration():
    series = _series((42, "SD"), (84, "PR"), (126, "PR"), (168, "PD"), (210, "CR"))
    assert first_response_date(series) == REF + dt.timedelta(days=84)
    assert progression_date(series) == REF + dt.timedelta(days=168)
    # RECIST 1.1 section 4.6: from first CR/PR date to first PD date
    assert duration_of_response(series) == 84


def test_response_dates_without_events():
    series = _series((42, "SD"), (84, "PR"))
    assert progression_date(series) is None
    assert duration_of_response(series) is None  # no PD: censoring is the analysis layer's job
    assert first_response_date(_series((42, "SD"), (84, "PD"), (126, "PR"))) is None


def test_first_response_date_with_confirmation_uses_first_assessment_of_the_pair():
    series = _series((28, "PR"), (42, "SD"), (84, "PR"), (126, "PR"), (168, "PD"))
    assert first_response_date(series, confirmation_required=True) == REF + dt.timedelta(days=84)
    assert duration_of_response(series, confirmation_required=True) == 84
    assert first_response_date(series) == REF + dt.timedelta(days=28)


def test_progression_date_after_cr_with_confirmation():
    # footnote (a): disease seen again after a CR is PD at that point
    series = _series((56, "CR"), (84, "PR"), (112, "PD"))
    assert progression_date(series) == REF + dt.timedelta(days=112)
    assert progression_date(series, confirmation_required=True) == REF + dt.timedelta(days=84)
    downgrade = progression_date(series, confirmation_required=True, cr_then_pr="downgrade")
    assert downgrade == REF + dt.timedelta(days=112)


@pytest.mark.parametrize(
    ("timepoints", "kwargs", "error", "match"),
    [
        (_series((84, "PR"), (42, "SD")), {}, InvalidInputError, "increasing date order"),
        (_series((42, "PR"), (42, "SD")), {}, InvalidInputError, "increasing date order"),
        ([(REF - dt.timedelta(days=1), "SD")], {}, InvalidInputError, "before the reference"),
        ([(dt.datetime(2024, 3, 1), "SD")], {}, InvalidInputError, "datetime.date"),
        (_series((42, "iCR")), {}, UnknownOptionError, "response"),
        ([("2024-03-01", "SD")], {}, InvalidInputError, "datetime.date"),
        ([(REF,)], {}, InvalidInputError, "pair"),
        (_series((42, "SD"), (84, "NON-CR/NON-PD")), {}, InvalidInputError, "mix Table 1"),
        (_series((42, "SD")), {"target_disease": False}, InvalidInputError, "target_disease"),
        (_series((42, "NON-CR/NON-PD")), {"target_disease": True}, InvalidInputError, "Table 2"),
        (_series((42, "SD")), {"min_sd_days": -1}, InvalidInputError, "min_sd_days"),
        (_series((42, "SD")), {"confirmation_days": 1.5}, InvalidInputError, "confirmation_days"),
        (_series((42, "SD")), {"cr_then_pr": "pr"}, UnknownOptionError, "cr_then_pr"),
    ],
)
def test_bor_rejects_bad_input(timepoints, kwargs, error, match):
    with pytest.raises(error, match=match):
        best_overall_response(timepoints, reference_date=REF, confirmation_required=True, **kwargs)
