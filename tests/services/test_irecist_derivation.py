"""services._irecist_derivation.irecist_inputs: RECIST 1.1 statuses -> iRECIST inputs (pure).

Each mapping is the one documented in the function (RECIST 1.1, Eisenhauer 2009: "too small to
measure" 5 mm, disappeared 0 mm, non-target CR / non-CR/non-PD / PD / NE; iRECIST, Seymour 2017:
new lesions kept apart as NLT (measurable, up to 5, 2 per organ) and NLNT, never in the target
sum). Responses at the end are worked out by hand from Seymour 2017.
"""

from __future__ import annotations

import datetime as dt

import pytest

from equitrial.clinical import irecist, recist
from equitrial.errors import InvalidInputError
from equitrial.services._irecist_derivation import irecist_inputs

D0 = dt.date(2024, 3, 1)


def week(n: int) -> dt.date:
    return D0 + dt.timedelta(weeks=n)


def read(code: str, n: int, status: str = "measured", mm: float | None = None):
    return recist.LesionMeasurement(code, week(n), "investigator", status, mm)  # type: ignore[arg-type]


LESIONS = [
    recist.Lesion("T1", "liver", False, "target"),
    recist.Lesion("T2", "neck", True, "target"),
    recist.Lesion("NT1", "bone", False, "non-target"),
    recist.Lesion("NT2", "bone", False, "non-target"),
]
BASELINE = [read("T1", 0, mm=30.0), read("T2", 0, mm=20.0), read("NT1", 0, "present")]


def test_target_statuses_map_to_measures_and_the_baseline_is_the_first_date():
    follow = [
        read("T1", 9, "too small to measure"),
        read("T2", 9, "disappeared"),
        read("T1", 18, "not assessed"),
        read("T2", 18, mm=12.0),
    ]
    baseline, visits = irecist_inputs(LESIONS, BASELINE + follow)
    assert baseline == irecist.IrecistBaseline(
        target=(
            irecist.TargetLesionMeasure("T1", 30.0, False),
            irecist.TargetLesionMeasure("T2", 20.0, True),
        ),
        non_target=True,
    )
    assert [v.date for v in visits] == [week(9), week(18)]
    # too small to measure -> 5 mm (RECIST 1.1 default), disappeared -> 0 mm, not assessed -> None
    assert [(t.measure_mm, t.nodal) for t in visits[0].target] == [(5.0, False), (0.0, True)]
    assert [t.measure_mm for t in visits[1].target] == [None, 12.0]


def test_non_target_category_from_the_lesion_statuses():
    cases = [
        (("present", "absent"), "NON-iCR/NON-iUPD"),
        (("absent", "absent"), "iCR"),
        (("present", "unequivocal progression"), "iUPD"),
        (("not assessed", "unequivocal progression"), "iUPD"),  # PD even with one unassessed
        (("absent", "not assessed"), "NE"),
        (("absent", None), "NE"),  # no record: not assessed
    ]
    for (s1, s2), expected in cases:
        follow = [read("T1", 9, mm=30.0), read("T2", 9, mm=20.0), read("NT1", 9, s1)]
        if s2 is not None:
            follow.append(read("NT2", 9, s2))
        _, (visit,) = irecist_inputs(LESIONS, BASELINE + follow)
        assert visit.non_target == expected, (s1, s2)


NEW = [
    recist.Lesion("N1", "Liver", False, "new"),
    recist.Lesion("N2", "liver ", False, "new"),
    recist.Lesion("N3", "liver", False, "new"),
    recist.Lesion("N4", "skin", False, "new"),
    recist.Lesion("N5", "lung", False, "new"),
    recist.Lesion("N6", "lung", True, "new"),
]


def targets_at(n: int):
    return [read("T1", n, mm=30.0), read("T2", n, mm=20.0), read("NT1", n, "present")]


def test_new_lesions_split_into_nlt_and_nlnt_and_kept_out_of_the_target_sum():
    follow = [
        *targets_at(9),
        read("N1", 9, "present", 12.0),  # measurable: NLT
        read("N2", 9, "present", 14.0),  # NLT (second in the liver)
        read("N3", 9, "present", 15.0),  # third in the liver: NLNT (2 NLT per organ)
        read("N4", 9, "present", 6.0),  # < 10 mm, not measurable: NLNT
        read("N5", 9, "equivocal", 11.0),  # equivocal: not counted
        read("N6", 9, "present", 12.0),  # node with short axis < 15 mm: NLNT
    ]
    _, (visit,) = irecist_inputs(LESIONS + NEW, BASELINE + follow)
    assert [(x.lesion_id, x.measure_mm) for x in visit.new_target] == [("N1", 12.0), ("N2", 14.0)]
    assert visit.new_non_target_count == 3
    assert sum(t.measure_mm or 0.0 for t in visit.target) == 50.0  # no new lesion in the sum


def test_a_new_lesion_keeps_its_last_state_when_not_assessed_and_counts_0_mm_when_gone():
    follow = [
        *targets_at(9),
        read("N1", 9, "present", 12.0),
        read("N4", 9, "present"),  # no diameter: NLNT
        *targets_at(15),
        read("N1", 15, "not assessed"),
        # N4 has no record at week 15: still counted
        *targets_at(21),
        read("N1", 21, "absent"),
        read("N4", 21, "absent"),
        read("N5", 21, "absent"),  # never seen: nothing
    ]
    _, visits = irecist_inputs(LESIONS + NEW, BASELINE + follow)
    assert [[(x.lesion_id, x.measure_mm) for x in v.new_target] for v in visits] == [
        [("N1", 12.0)],
        [("N1", 12.0)],
        [("N1", 0.0)],
    ]
    assert [v.new_non_target_count for v in visits] == [1, 1, 0]


def test_an_additional_new_lesion_confirms_icpd_and_disappearance_resets():
    follow = [
        *targets_at(9),
        read("N1", 9, "present", 12.0),
        *targets_at(15),
        read("N1", 15, mm=None, status="present"),  # NLT without a diameter: last measure
        read("N4", 15, "present"),
        *targets_at(21),
        read("N1", 21, "present", 12.0),
        read("N4", 21, "present"),
    ]
    baseline, visits = irecist_inputs(LESIONS + NEW, BASELINE + follow)
    got = [r.response for r in irecist.assess_series(baseline, visits)]
    # week 9: a new lesion (RECIST 1.1 PD in the new-lesion category) -> iUPD; week 15 (6 weeks
    # later): an additional new lesion (NLNT N4) -> iCPD; iCPD then stays (Seymour 2017)
    assert got == ["iUPD", "iCPD", "iCPD"]
    follow_reset = [
        *targets_at(9),
        read("N1", 9, "present", 12.0),
        read("T1", 15, mm=20.0),
        read("T2", 15, mm=10.0),
        read("NT1", 15, "present"),
        read("N1", 15, "absent"),
    ]
    baseline, visits = irecist_inputs(LESIONS + NEW, BASELINE + follow_reset)
    got = [r.response for r in irecist.assess_series(baseline, visits)]
    # week 15: N1 gone (0 mm), targets 30 mm (-40 % from baseline, PR): iUPD not confirmed and
    # no category still in iUPD: iPR resets the bar (Seymour 2017)
    assert got == ["iUPD", "iPR"]


def test_an_equivocal_new_lesion_counts_only_from_its_unequivocal_sighting():
    follow = [
        *targets_at(9),
        read("N1", 9, "equivocal", 8.0),
        *targets_at(15),
        read("N1", 15, "present", 12.0),
    ]
    baseline, visits = irecist_inputs(LESIONS + NEW, BASELINE + follow)
    assert [[x.lesion_id for x in v.new_target] for v in visits] == [[], ["N1"]]
    got = [r.response for r in irecist.assess_series(baseline, visits)]
    # week 9: targets unchanged (SD), the equivocal lesion is not PD (RECIST 1.1 4.3.4): iSD;
    # week 15: the new lesion is unequivocal: iUPD (not back-dated to week 9)
    assert got == ["iSD", "iUPD"]


def test_no_measurements_is_refused():
    with pytest.raises(InvalidInputError):
        irecist_inputs(LESIONS, [])
