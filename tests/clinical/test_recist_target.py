"""RECIST 1.1 target and non-target responses at one time point, every cut point.

Reference: Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, section 4.3.1-4.3.2, as transcribed
in the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47) and the iRECIST paper
(Seymour et al., Lancet Oncol 2017;18:e143-52) sections 2-3 ([S1]; [S3] = RECIST Working Group
FAQ). The
expected responses follow from the quoted criterion by hand arithmetic given in each comment.
"""

import math

import pytest

from equitrial.clinical.recist import non_target_response, target_response
from equitrial.errors import InvalidInputError, UnknownOptionError

NON_NODAL_2 = [False, False]


# PR: ">= 30 % decrease in the sum of diameters of target lesions, taking as reference the
# baseline sum"
@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        pytest.param([30.0, 20.0], [21.0, 14.0], "PR", id="PR at exactly -30.0 % (50 -> 35)"),
        # 28.0 -> 19.6 is exactly -30 %, but (19.6 - 28.0) / 28.0 * 100 = -29.999999999999993
        # in floating point: the rule must not depend on that rounding
        pytest.param([11.4, 16.6], [5.7, 13.9], "PR", id="PR at exactly -30.0 %, float trap"),
        pytest.param([30.0, 20.0], [21.0, 14.1], "SD", id="SD at -29.8 % (50 -> 35.1)"),
        pytest.param([30.0, 20.0], [30.0, 20.0], "SD", id="SD at 0 %"),
    ],
)
def test_partial_response_cut_point_eisenhauer_2009(baseline, current, expected):
    assert target_response(baseline, [], current, nodal=NON_NODAL_2) == expected


# PD: ">= 20 % increase in the sum of diameters, taking as reference the smallest sum on study
# ... AND an absolute increase >= 5 mm"
@pytest.mark.parametrize(
    ("nadir", "current", "expected"),
    [
        pytest.param(
            [15.0, 10.0], [20.0, 10.0], "PD", id="PD at exactly +20.0 % and +5.0 mm (25->30)"
        ),
        # 29.0 -> 34.8: exactly +20 % and +5.8 mm; float gives 19.99999999999999 %
        pytest.param([19.0, 10.0], [24.8, 10.0], "PD", id="PD at exactly +20.0 %, float trap"),
        pytest.param(
            [14.5, 10.0],
            [19.4, 10.0],
            "SD",
            id="not PD at exactly +20.0 % but +4.9 mm (24.5->29.4)",
        ),
        pytest.param([15.0, 10.0], [19.9, 10.0], "SD", id="not PD at +19.6 % (25->29.9)"),
        pytest.param([40.0, 30.0], [52.0, 32.0], "PD", id="PD at +20.0 % and +14 mm (70->84)"),
        pytest.param([40.0, 30.0], [51.9, 32.0], "SD", id="not PD at +19.86 % (70->83.9)"),
    ],
)
def test_progression_cut_points_eisenhauer_2009(nadir, current, expected):
    # no earlier assessment: the nadir is the baseline sum
    baseline = list(nadir)
    assert target_response(baseline, [], current, nodal=NON_NODAL_2) == expected


def test_progression_is_judged_against_nadir_not_baseline():
    # baseline 50, nadir 25 (-50 %: PR), now 30: +20 % and +5 mm from the nadir -> PD, although
    # still -40 % from baseline
    assert target_response([30.0, 20.0], [[15.0, 10.0]], [20.0, 10.0], nodal=NON_NODAL_2) == "PD"


def test_continued_pr_example_from_recist_faq():
    # [S3]: sums 165 -> 63 -> 65 mm is a continued PR (65 vs nadir 63: +3.2 %, +2 mm; vs baseline
    # 165: -60.6 %)
    assert target_response([100.0, 65.0], [[40.0, 23.0]], [41.0, 24.0], nodal=NON_NODAL_2) == "PR"


def test_nadir_ignores_assessments_with_a_lesion_missing():
    # history [10, None] sums to 10 mm on the measured lesion only; that assessment is not fully
    # evaluable and must not set the nadir (else 44 would be PD vs 10). Nadir = baseline 40:
    # 44 is +10 % -> SD
    assert target_response([20.0, 20.0], [[10.0, None]], [24.0, 20.0], nodal=NON_NODAL_2) == "SD"


# CR: "Disappearance of all target lesions. Any pathological lymph nodes (target or non-target)
# must have reduction in short axis to < 10 mm"
@pytest.mark.parametrize(
    ("current", "expected"),
    [
        pytest.param([0.0, 9.9, 9.9], "CR", id="CR: non-nodal 0, nodes 9.9 mm (sum 19.8 > 0)"),
        pytest.param([0.0, 10.0, 9.0], "PR", id="not CR: a node at 10.0 mm (sum 19 = -62 %: PR)"),
        pytest.param([0.1, 5.0, 5.0], "PR", id="not CR: a non-nodal lesion at 0.1 mm"),
        pytest.param([0.0, 0.0, 0.0], "CR", id="CR: all 0"),
    ],
)
def test_complete_response_with_nodes_eisenhauer_2009(current, expected):
    baseline = [20.0, 15.0, 15.0]
    assert target_response(baseline, [], current, nodal=[False, True, True]) == expected


def test_pd_takes_precedence_over_cr_for_nodes_below_10mm():
    # judgement call: nodes 20+20 -> nadir 4+4 -> 9+9: all nodes < 10 mm (CR by the node rule) but
    # +125 % and +10 mm from the nadir (PD by the sum rule); PD is checked first
    assert target_response([20.0, 20.0], [[4.0, 4.0]], [9.0, 9.0], nodal=[True, True]) == "PD"


# Missing lesions: "Only a subset of lesions measured -> usually NE, unless ... PD is already
# established by the measured lesions" ([S1], section 7 of the transcription)
def test_missing_lesion_gives_ne():
    assert target_response([30.0, 20.0], [], [5.0, None], nodal=NON_NODAL_2) == "NE"


def test_missing_lesion_cannot_give_cr():
    assert target_response([30.0, 20.0], [], [0.0, None], nodal=NON_NODAL_2) == "NE"


def test_missing_lesion_still_pd_when_measured_lesions_prove_it():
    # nadir 20 (10 + 10); now lesion 1 alone is 25: +25 %, +5 mm even if lesion 2 were 0 -> PD
    assert target_response([30.0, 20.0], [[10.0, 10.0]], [25.0, None], nodal=NON_NODAL_2) == "PD"


def test_missing_lesion_ne_when_measured_lesions_fall_short_of_pd():
    # nadir 20; lesion 1 alone is 24: +20 % but only +4 mm -> cannot prove PD -> NE
    assert target_response([30.0, 20.0], [[10.0, 10.0]], [24.0, None], nodal=NON_NODAL_2) == "NE"


def test_reappearance_after_zero_nadir_needs_5mm():
    # nadir 0 mm (all disappeared): any increase is >= 20 %; PD needs the 5 mm as well
    assert target_response([20.0], [[0.0]], [5.0], nodal=[False]) == "PD"
    assert target_response([20.0], [[0.0]], [4.9], nodal=[False]) == "PR"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(baseline=[], history=[], current=[], nodal=[]), "at least one"),
        (dict(baseline=[10.0], history=[], current=[1.0, 2.0], nodal=[False]), "current has 2"),
        (dict(baseline=[10.0], history=[], current=[1.0], nodal=[False, True]), "nodal has 2"),
        (
            dict(baseline=[10.0], history=[[1.0, 2.0]], current=[1.0], nodal=[False]),
            r"history\[0\]",
        ),
        (dict(baseline=[None], history=[], current=[1.0], nodal=[False]), "baseline"),
        (dict(baseline=[0.0], history=[], current=[1.0], nodal=[False]), "baseline sum"),
        (dict(baseline=[10.0], history=[], current=[-1.0], nodal=[False]), r"current\[0\]"),
        (dict(baseline=[10.0], history=[], current=[math.nan], nodal=[False]), r"current\[0\]"),
        (dict(baseline=[10.0], history=[], current=[math.inf], nodal=[False]), r"current\[0\]"),
        (dict(baseline=[10.0], history=[], current=[True], nodal=[False]), r"current\[0\]"),
        (dict(baseline=[10.0], history=[], current=["5"], nodal=[False]), r"current\[0\]"),
        (dict(baseline=[10.0], history=[], current=[5.0], nodal=["no"]), r"nodal\[0\]"),
        (dict(baseline="10", history=[], current=[5.0], nodal=[False]), "baseline"),
    ],
)
def test_target_response_rejects_bad_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        target_response(
            kwargs["baseline"], kwargs["history"], kwargs["current"], nodal=kwargs["nodal"]
        )


# Non-target response, section 4.3.2 / transcription section 3
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param(["absent", "absent"], "CR", id="CR: disappearance of all non-target lesions"),
        pytest.param(
            ["absent", "present"], "NON-CR/NON-PD", id="Non-CR/Non-PD: persistence of >= 1"
        ),
        pytest.param(
            ["present", "unequivocal progression"], "PD", id="PD: unequivocal progression"
        ),
        pytest.param(["absent", None], "NE", id="NE: one not assessed, cannot claim CR [S3]"),
        pytest.param(["present", "not assessed"], "NE", id="NE: one not assessed"),
        pytest.param(
            ["unequivocal progression", None], "PD", id="PD even with a lesion not assessed"
        ),
    ],
)
def test_non_target_response_eisenhauer_2009(statuses, expected):
    assert non_target_response(statuses) == expected


def test_non_target_cr_needs_normal_tumour_markers():
    # "CR: Disappearance of all non-target lesions and normalisation of tumour marker level"
    assert non_target_response(["absent"], tumour_markers_normal=False) == "NON-CR/NON-PD"


def test_non_target_response_errors():
    with pytest.raises(InvalidInputError, match="at least one"):
        non_target_response([])
    with pytest.raises(UnknownOptionError):
        non_target_response(["gone"])
