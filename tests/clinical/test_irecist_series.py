"""equitrial.clinical.irecist.assess_series: whole patients from lesion measurements.

References:
- Seymour L et al. Lancet Oncol 2017;18:e143-e152 (iUPD, confirmation, "the bar is reset",
  new lesions recorded separately and not added to the sum of baseline target lesions).
- RECIST working group iRECIST FAQ (recist.eortc.org/irecist): additive sequential increases
  ("4 mm then 2 mm"), iPR after a new lesion when baseline disease shrinks further (scenario B)
  versus iUPD kept when nothing changes after a response (scenario F).
- RECIST 1.1 (Eisenhauer 2009): target PD +20 % and +5 mm from nadir, PR -30 % from baseline.
Every expected response is worked out by hand from these rules in the comments.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.clinical.irecist import (
    IrecistAssessment,
    IrecistBaseline,
    NewLesionTarget,
    TargetLesionMeasure,
    assess_series,
    best_overall_response,
)
from equitrial.errors import InvalidInputError

D0 = datetime.date(2024, 1, 1)


def day(n: int) -> datetime.date:
    return D0 + datetime.timedelta(days=n)


def targets(*mm: float | None) -> tuple[TargetLesionMeasure, ...]:
    return tuple(TargetLesionMeasure(f"T{i}", m) for i, m in enumerate(mm))


BASELINE = IrecistBaseline(target=targets(30.0, 20.0), non_target=True)  # sum 50 mm


def visit(week: int, *mm: float | None, **kw: object) -> IrecistAssessment:
    kw.setdefault("non_target", "NON-iCR/NON-iUPD")
    return IrecistAssessment(day(7 * week), target=targets(*mm), **kw)  # type: ignore[arg-type]


def responses(baseline: IrecistBaseline, visits: list[IrecistAssessment]) -> list[str]:
    return [r.response for r in assess_series(baseline, visits)]


def test_reset_then_reconfirmation_iupd_isd_iupd_icpd() -> None:
    # sums: 50 (baseline) -> 40 (iSD, nadir 40) -> 48 (+8 mm, +20 %: iUPD) -> 44 (+4 mm, +10 %
    # from nadir 40: iSD, bar reset) -> 48 (+20 % and +8 mm from nadir 40: new iUPD) -> 53
    # (+5 mm from the new iUPD: iCPD)
    visits = [
        visit(8, 24.0, 16.0),
        visit(16, 28.0, 20.0),
        visit(24, 26.0, 18.0),
        visit(32, 28.0, 20.0),
        visit(40, 31.0, 22.0),
    ]
    assert responses(BASELINE, visits) == ["iSD", "iUPD", "iSD", "iUPD", "iCPD"]


def test_additive_increases_4_mm_then_2_mm_confirm() -> None:
    # FAQ: "4 mm then 2 mm" -> iCPD. 50 -> 40 (nadir) -> 50 (+10 mm, +25 %: iUPD) -> 54 (+4 mm
    # from the iUPD: remains iUPD) -> 56 (+6 mm from the iUPD assessment: iCPD)
    visits = [
        visit(8, 24.0, 16.0),
        visit(16, 30.0, 20.0),
        visit(24, 32.0, 22.0),
        visit(32, 33.0, 23.0),
    ]
    assert responses(BASELINE, visits) == ["iSD", "iUPD", "iUPD", "iCPD"]


def test_no_change_after_iupd_remains_iupd() -> None:
    # "If no change ... the response remains iUPD" (target +20 % held, no +5 mm more)
    visits = [visit(8, 24.0, 16.0), visit(16, 30.0, 20.0), visit(24, 30.0, 20.0)]
    visits.append(visit(32, 29.0, 20.0))
    assert responses(BASELINE, visits) == ["iSD", "iUPD", "iUPD", "iUPD"]
    bor = best_overall_response(
        [(v.date, r) for v, r in zip(visits, responses(BASELINE, visits), strict=True)],
        reference_date=D0,
    )
    assert bor == "iSD"


def test_new_lesion_growth_confirms_while_baseline_sum_shrinks() -> None:
    # new lesions "not added to the sum of baseline target lesions": the NLT sum 10 -> 16 mm
    # (+6 mm) confirms iCPD although the target sum shrinks 40 -> 30 mm (a PR on its own)
    visits = [
        visit(8, 24.0, 16.0, new_target=(NewLesionTarget("N1", "liver", 10.0),)),
        visit(16, 18.0, 12.0, new_target=(NewLesionTarget("N1", "liver", 16.0),)),
    ]
    result = assess_series(BASELINE, visits)
    assert [r.response for r in result] == ["iUPD", "iCPD"]
    assert [r.target_sum for r in result] == [40.0, 30.0]
    assert [r.new_target_sum for r in result] == [10.0, 16.0]
    assert [r.target for r in result] == ["iSD", "iPR"]


def test_scenario_b_new_lesion_then_further_shrinkage_is_ipr() -> None:
    # FAQ scenario B: "the appearance of a new lesion does not preclude the next assessment
    # being iPR ... because of further shrinkage of target lesions"; the bar is then reset and
    # the unchanged new lesion does not trigger iUPD again
    n1 = (NewLesionTarget("N1", "liver", 10.0),)
    visits = [visit(8, 24.0, 16.0, new_target=n1), visit(16, 18.0, 12.0, new_target=n1)]
    visits.append(visit(24, 18.0, 12.0, new_target=n1))
    assert responses(BASELINE, visits) == ["iUPD", "iPR", "iPR"]


def test_scenario_f_response_then_new_lesion_without_change_stays_iupd() -> None:
    # FAQ scenario F: PR first, then iUPD on a new lesion, then no change: iUPD
    n1 = (NewLesionTarget("N1", "liver", 10.0),)
    visits = [visit(8, 18.0, 12.0), visit(16, 18.0, 12.0, new_target=n1)]
    visits.append(visit(24, 18.0, 12.0, new_target=n1))
    assert responses(BASELINE, visits) == ["iPR", "iUPD", "iUPD"]


@pytest.mark.parametrize(
    ("third", "expected"),
    [
        ({"new_target": (NewLesionTarget("N1", "liver", 10.0),)}, "iPR"),
        # NLT sum meeting PD from its own nadir (10 mm): 15 mm is +50 % and +5 mm
        ({"new_target": (NewLesionTarget("N1", "liver", 15.0),)}, "iUPD"),
        ({"new_target": (NewLesionTarget("N1", "liver", 14.0),)}, "iPR"),
        # further new lesions
        (
            {"new_target": (NewLesionTarget("N1", "liver", 10.0),), "new_non_target_count": 1},
            "iUPD",
        ),
        # NLNT unequivocal progression
        (
            {
                "new_target": (NewLesionTarget("N1", "liver", 10.0),),
                "new_non_target_unequivocal": True,
            },
            "iUPD",
        ),
    ],
    ids=[
        "unchanged",
        "NLT +50 % +5 mm from nadir",
        "NLT +4 mm",
        "another new lesion",
        "NLNT unequivocal",
    ],
)
def test_after_the_reset_a_new_iupd_needs_new_criteria(
    third: dict[str, object], expected: str
) -> None:
    n1 = (NewLesionTarget("N1", "liver", 10.0),)
    visits = [visit(8, 24.0, 16.0, new_target=n1), visit(16, 18.0, 12.0, new_target=n1)]
    visits.append(visit(24, 18.0, 12.0, **third))
    assert responses(BASELINE, visits) == ["iUPD", "iPR", expected]


def test_non_target_only_patient() -> None:
    baseline = IrecistBaseline(target=(), non_target=True)
    visits = [
        IrecistAssessment(day(56), non_target="NON-iCR/NON-iUPD"),
        IrecistAssessment(day(112), non_target="iUPD"),
        IrecistAssessment(day(168), non_target="iUPD", non_target_increase=True),
    ]
    assert responses(baseline, visits) == ["NON-iCR/NON-iUPD", "iUPD", "iCPD"]


def test_target_only_patient_ignores_non_target_status() -> None:
    baseline = IrecistBaseline(target=targets(30.0, 20.0), non_target=False)
    visits = [visit(8, 0.0, 0.0, non_target="iUPD", non_target_increase=True)]
    assert responses(baseline, visits) == ["iCR"]


def test_nodal_target_below_10_mm_is_complete_response() -> None:
    baseline = IrecistBaseline(
        target=(TargetLesionMeasure("T0", 20.0), TargetLesionMeasure("L1", 16.0, nodal=True)),
        non_target=False,
    )
    visits = [
        IrecistAssessment(
            day(56),
            target=(TargetLesionMeasure("T0", 0.0), TargetLesionMeasure("L1", 9.0, nodal=True)),
        ),
        IrecistAssessment(
            day(112),
            target=(TargetLesionMeasure("T0", 0.0), TargetLesionMeasure("L1", 10.0, nodal=True)),
        ),
    ]
    assert responses(baseline, visits) == ["iCR", "iPR"]


def test_unmeasured_lesion_is_ne_unless_the_measured_ones_already_progress() -> None:
    visits = [visit(8, 24.0, None), visit(16, 40.0, None), visit(24, 48.0, None)]
    # 24 mm measured: NE; 40 mm measured >= nadir 50 + 20 %? no (60 needed): NE;
    # then 48 alone: still NE (nadir stays 50 as the partial sums are incomplete)
    assert responses(BASELINE, visits) == ["NE", "NE", "NE"]
    assert responses(BASELINE, [visit(8, 61.0, None)]) == ["iUPD"]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "match"),
    [
        (IrecistBaseline(target=(), non_target=False), "neither target nor non-target"),
        (IrecistBaseline(target=targets(*[20.0] * 6), non_target=False), "at most 5"),
        (IrecistBaseline(target=targets(9.9), non_target=False), ">= 10 mm"),
        (
            IrecistBaseline(target=(TargetLesionMeasure("L", 14.9, nodal=True),), non_target=False),
            ">= 15 mm",
        ),
        (IrecistBaseline(target=targets(None), non_target=False), "must be measured"),
        (
            IrecistBaseline(
                target=(TargetLesionMeasure("T", 20.0), TargetLesionMeasure("T", 20.0)),
                non_target=False,
            ),
            "unique",
        ),
    ],
    ids=["no disease", "six targets", "too small", "small node", "unmeasured", "duplicate"],
)
def test_baseline_is_checked(baseline: IrecistBaseline, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        assess_series(baseline, [])


@pytest.mark.parametrize(
    "bad",
    [
        visit(8, 24.0),
        visit(8, 24.0, 16.0, 5.0),
        IrecistAssessment(
            day(56), target=(TargetLesionMeasure("T0", 1.0), TargetLesionMeasure("T0", 1.0))
        ),
        visit(8, 24.0, -1.0),
        visit(8, 24.0, float("inf")),
    ],
    ids=["missing lesion", "extra lesion", "duplicate lesion", "negative", "infinite"],
)
def test_follow_up_target_lesions_are_checked(bad: IrecistAssessment) -> None:
    with pytest.raises(InvalidInputError, match="target lesion"):
        assess_series(BASELINE, [bad])


def test_missing_non_target_status_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="non-target status missing"):
        assess_series(BASELINE, [IrecistAssessment(day(56), target=targets(24.0, 16.0))])


def test_dates_out_of_order_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not after the previous"):
        assess_series(BASELINE, [visit(16, 24.0, 16.0), visit(8, 24.0, 16.0)])


# --- property: the listing order of lesions does not matter ---------------------------------

MM = st.one_of(
    st.none(), st.integers(0, 80).map(float), st.floats(0, 80).map(lambda x: round(x, 1))
)


@st.composite
def patient(draw: st.DrawFn) -> tuple[IrecistBaseline, list[IrecistAssessment]]:
    n = draw(st.integers(1, 5))
    base = tuple(TargetLesionMeasure(f"T{i}", float(draw(st.integers(10, 60)))) for i in range(n))
    visits = []
    for k in range(draw(st.integers(1, 6))):
        lesions = tuple(TargetLesionMeasure(f"T{i}", draw(MM)) for i in range(n))
        new = tuple(
            NewLesionTarget(f"N{j}", f"organ{j}", draw(st.integers(0, 30).map(float)))
            for j in range(draw(st.integers(0, 5)))
        )
        visits.append(
            IrecistAssessment(
                day(42 * (k + 1)),
                target=lesions,
                non_target=draw(st.sampled_from(["iCR", "NON-iCR/NON-iUPD", "iUPD", "NE"])),
                non_target_increase=draw(st.booleans()),
                new_target=new,
                new_non_target_count=draw(st.integers(0, 3)),
            )
        )
    return IrecistBaseline(target=base, non_target=True), visits


@given(patient(), st.randoms(use_true_random=False))
def test_responses_do_not_depend_on_lesion_listing_order(
    data: tuple[IrecistBaseline, list[IrecistAssessment]], rnd: object
) -> None:
    baseline, visits = data

    def shuffled(items: tuple[object, ...]) -> tuple[object, ...]:
        out = list(items)
        rnd.shuffle(out)  # type: ignore[attr-defined]
        return tuple(out)

    permuted_baseline = IrecistBaseline(target=shuffled(baseline.target), non_target=True)  # type: ignore[arg-type]
    permuted = [
        IrecistAssessment(
            v.date,
            target=shuffled(v.target),  # type: ignore[arg-type]
            non_target=v.non_target,
            non_target_increase=v.non_target_increase,
            new_target=shuffled(v.new_target),  # type: ignore[arg-type]
            new_non_target_count=v.new_non_target_count,
        )
        for v in visits
    ]
    first = assess_series(baseline, visits)
    second = assess_series(permuted_baseline, permuted)
    assert [r.response for r in first] == [r.response for r in second]
    assert [r.new_target_sum for r in first] == [r.new_target_sum for r in second]


@given(patient())
def test_series_codes_always_give_a_valid_ibor(
    data: tuple[IrecistBaseline, list[IrecistAssessment]],
) -> None:
    # the series output is accepted by best_overall_response (iCPD only after iUPD, dates
    # increasing), and the iBOR is never better than the best time-point response
    baseline, visits = data
    tps = [(r.date, r.response) for r in assess_series(baseline, visits)]
    bor = best_overall_response(tps, reference_date=D0)
    rank = {"iCR": 3, "iPR": 2, "iSD": 1}
    assert rank.get(bor, 0) <= max(rank.get(c, 0) for _, c in tps)


def test_nlt_nadir_restarts_when_a_new_lesion_target_appears() -> None:
    # judgement call (documented in assess_timepoint): the NLT sum's "own nadir" is taken from
    # the last appearance of an NLT; otherwise the sum jumping 10 -> 22 mm when N2 appears would
    # re-trigger iUPD at every later unchanged assessment. Target sums shrink 40 -> 30 -> 26 ->
    # 20 (each a further shrinkage after the new lesions), so each iUPD resets to iPR.
    n1 = NewLesionTarget("N1", "liver", 10.0)
    both = (n1, NewLesionTarget("N2", "lung", 12.0))
    visits = [
        visit(8, 24.0, 16.0, new_target=(n1,)),
        visit(16, 18.0, 12.0, new_target=(n1,)),
        visit(24, 16.0, 10.0, new_target=both),
        visit(32, 12.0, 8.0, new_target=both),
        visit(40, 12.0, 8.0, new_target=both),
    ]
    assert responses(BASELINE, visits) == ["iUPD", "iPR", "iUPD", "iPR", "iPR"]
