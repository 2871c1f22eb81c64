"""RECIST 1.1 multi-visit scenarios through assess_patient (lesion records in, responses out).

Reference: Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (sections 4.3-4.4, Tables 1-3),
transcribed in the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47) and the
iRECIST paper (Seymour et al., Lancet Oncol 2017;18:e143-52). Each expected response is worked out
by hand from
the quoted criterion in the comment.
"""

import datetime as dt

import pytest

from equitrial.clinical.recist import Lesion, LesionMeasurement, assess_patient
from equitrial.errors import InvalidInputError

REF = dt.date(2024, 1, 1)


def _d(n):
    return REF + dt.timedelta(days=n)


def _visits(table, reader="investigator"):
    """table: {day: {lesion_id: mm | status string | (status, kwargs)}}."""
    out = []
    for day, row in table.items():
        for lesion_id, value in row.items():
            if isinstance(value, int | float):
                out.append(LesionMeasurement(lesion_id, _d(day), reader, diameter_mm=value))
            elif isinstance(value, tuple):
                status, kw = value
                out.append(LesionMeasurement(lesion_id, _d(day), reader, status, **kw))
            else:
                out.append(LesionMeasurement(lesion_id, _d(day), reader, value))
    return out


def _assess(lesions, measurements, confirm=False, reader="investigator", **kw):
    return assess_patient(
        lesions,
        measurements,
        reader=reader,
        reference_date=REF,
        confirmation_required=confirm,
        **kw,
    )


LIVER_LUNG = [
    Lesion("T1", "liver", False, "target"),
    Lesion("T2", "lung", False, "target"),
    Lesion("NT1", "pleura", False, "non-target"),
    Lesion("NEW1", "bone", False, "new"),
]


def test_pr_then_pd_from_nadir_not_baseline():
    # sums 50 -> 30 (-40 %: PR) -> 20 (nadir, PR) -> 26 (+30 % and +6 mm vs nadir 20: PD, although
    # still -48 % vs baseline)
    visits = {
        0: {"T1": 30.0, "T2": 20.0, "NT1": "present"},
        42: {"T1": 20.0, "T2": 10.0, "NT1": "present"},
        84: {"T1": 15.0, "T2": 5.0, "NT1": "present"},
        126: {"T1": 21.0, "T2": 5.0, "NT1": "present"},
    }
    res = _assess(LIVER_LUNG, _visits(visits))
    assert [t.overall for t in res.timepoints] == ["PR", "PR", "PD"]
    assert [t.target_sum_mm for t in res.timepoints] == [30.0, 20.0, 26.0]
    assert res.baseline_sum_mm == 50.0
    assert res.best_overall_response == "PR"
    assert res.first_response_date == _d(42)
    assert res.progression_date == _d(126)
    assert res.duration_of_response_days == 84


def test_nodes_shrinking_below_10mm_are_cr_with_nonzero_sum():
    # "CR: disappearance of all target lesions; pathological nodes reduced to < 10 mm short axis";
    # "with nodal targets the sum may be > 0 at CR"
    lesions = [
        Lesion("T1", "liver", False, "target"),
        Lesion("N1", "mediastinal node", True, "target"),
        Lesion("N2", "axillary node", True, "target"),
    ]
    visits = {
        0: {"T1": 20.0, "N1": 18.0, "N2": 16.0},
        56: {"T1": "disappeared", "N1": 8.0, "N2": 9.0},
        98: {"T1": "disappeared", "N1": 7.0, "N2": 9.5},
    }
    res = _assess(lesions, _visits(visits), confirm=True)
    assert [t.target for t in res.timepoints] == ["CR", "CR"]
    assert [t.target_sum_mm for t in res.timepoints] == [17.0, 16.5]
    assert res.best_overall_response == "CR"  # confirmed 42 days later


def test_missing_lesion_ne_then_pd_when_measured_lesions_prove_it():
    visits = {
        0: {"T1": 30.0, "T2": 20.0, "NT1": "present"},
        42: {"T1": 10.0, "T2": 10.0, "NT1": "present"},  # sum 20: PR, nadir 20
        84: {"T1": 12.0, "NT1": "present"},  # T2 not recorded: cannot prove PD -> NE
        126: {"T1": 25.0, "T2": "not assessed", "NT1": "present"},  # 25 alone: +25 %, +5 mm: PD
    }
    res = _assess(LIVER_LUNG, _visits(visits))
    assert [t.target for t in res.timepoints] == ["PR", "NE", "PD"]
    assert [t.overall for t in res.timepoints] == ["PR", "NE", "PD"]
    assert res.timepoints[1].target_sum_mm is None


def test_pd_by_new_lesion_with_shrinking_targets():
    # "Appearance of a new malignant lesion = PD", whatever the targets do
    visits = {
        0: {"T1": 30.0, "T2": 20.0, "NT1": "present"},
        42: {"T1": 20.0, "T2": 10.0, "NT1": "present", "NEW1": "absent"},
        84: {"T1": 10.0, "T2": 5.0, "NT1": "present", "NEW1": "present"},
    }
    res = _assess(LIVER_LUNG, _visits(visits))
    assert [t.target for t in res.timepoints] == ["PR", "PR"]
    assert [t.new_lesions for t in res.timepoints] == [False, True]
    assert [t.overall for t in res.timepoints] == ["PR", "PD"]
    assert res.progression_date == _d(84)


def test_equivocal_new_lesion_confirmed_later_dates_pd_back():
    # "Equivocal new lesion: continue; if confirmed later, PD date = date of the initial scan"
    visits = {
        0: {"T1": 30.0, "T2": 20.0, "NT1": "present"},
        42: {"T1": 20.0, "T2": 10.0, "NT1": "present", "NEW1": "equivocal"},
        84: {"T1": 20.0, "T2": 10.0, "NT1": "present", "NEW1": "present"},
    }
    res = _assess(LIVER_LUNG, _visits(visits))
    assert [t.overall for t in res.timepoints] == ["PD", "PD"]
    assert res.progression_date == _d(42)


def test_equivocal_new_lesion_never_confirmed_is_not_pd():
    visits = {
        0: {"T1": 30.0, "T2": 20.0, "NT1": "present"},
        42: {"T1": 20.0, "T2": 10.0, "NT1": "present", "NEW1": "equivocal"},
        84: {"T1": 20.0, "T2": 10.0, "NT1": "present", "NEW1": "absent"},
    }
    res = _assess(LIVER_LUNG, _visits(visits))
    assert [t.overall for t in res.timepoints] == ["PR", "PR"]


def test_split_and_merged_lesions_and_too_small():
    lesions = [Lesion(f"T{i}", organ, False, "target") for i, organ in enumerate("ABC", 1)]
    visits = {
        0: {"T1": 20.0, "T2": 20.0, "T3": 20.0},
        # T1 split in two fragments 6 + 6 = 12; T2 and T3 coalesced: 30 on T2, 0 on T3 -> 42 (-30 %)
        42: {
            "T1": ("measured", {"fragments_mm": (6.0, 6.0)}),
            "T2": 30.0,
            "T3": ("merged", {"merged_into": "T2"}),
        },
        # too small to measure counts 5 mm (default): 5 + 5 + 5 = 15 (-75 %)
        84: {
            "T1": "too small to measure",
            "T2": "too small to measure",
            "T3": "too small to measure",
        },
    }
    res = _assess(lesions, _visits(visits))
    assert [t.target_sum_mm for t in res.timepoints] == [42.0, 15.0]
    assert [t.target for t in res.timepoints] == ["PR", "PR"]
    res3 = _assess(lesions, _visits(visits), too_small_mm=3.0)
    assert res3.timepoints[1].target_sum_mm == 9.0


def test_readers_are_separate_series():
    visits_inv = {0: {"T1": 30.0, "T2": 20.0}, 56: {"T1": 21.0, "T2": 14.0}}  # 35: -30 %: PR
    visits_central = {0: {"T1": 30.0, "T2": 20.0}, 56: {"T1": 22.0, "T2": 14.0}}  # 36: SD
    measurements = _visits(visits_inv) + _visits(visits_central, reader="central")
    lesions = LIVER_LUNG[:2]
    assert _assess(lesions, measurements).best_overall_response == "PR"
    assert _assess(lesions, measurements, reader="central").best_overall_response == "SD"


def test_non_target_disease_only():
    # Table 2: non-target only -> NON-CR/NON-PD, never SD
    lesions = [
        Lesion("NT1", "pleura", False, "non-target"),
        Lesion("NT2", "node", True, "non-target"),
    ]
    visits = {
        0: {"NT1": "present", "NT2": ("present", {"diameter_mm": 12.0})},
        56: {"NT1": "present", "NT2": "absent"},
        98: {"NT1": "absent", "NT2": "absent"},
        140: {"NT1": "unequivocal progression", "NT2": "absent"},
    }
    res = _assess(lesions, _visits(visits))
    assert [t.target for t in res.timepoints] == [None, None, None]
    assert [t.overall for t in res.timepoints] == ["NON-CR/NON-PD", "CR", "PD"]
    assert res.best_overall_response == "CR"
    assert res.baseline_sum_mm is None


@pytest.mark.parametrize(
    ("lesions", "visits", "match"),
    [
        pytest.param(
            LIVER_LUNG,
            {0: {"T1": 30.0, "T2": 20.0}, 42: {"T1": "present"}},
            "not one for a target",
            id="non-target status on a target",
        ),
        pytest.param(
            LIVER_LUNG,
            {0: {"T1": 30.0, "T2": 20.0}, 42: {"NT1": 5.0}},
            "not one for a non-target",
            id="diameter on a non-target",
        ),
        pytest.param(
            LIVER_LUNG,
            {0: {"T1": 30.0, "T2": 20.0}, 42: {"X9": 5.0}},
            "'X9'.*no such lesion",
            id="unknown lesion",
        ),
        pytest.param(
            LIVER_LUNG,
            {0: {"T1": 30.0, "T2": 20.0}, 42: {"T1": ("merged", {"merged_into": "NT1"})}},
            "another target",
            id="merged into a non-target",
        ),
        pytest.param(
            LIVER_LUNG, {0: {"T1": 30.0, "T2": 9.0}}, "'T2'.*below the 10 mm", id="baseline rule"
        ),
        pytest.param(
            [Lesion("NEW1", "bone", False, "new")], {0: {}}, "no measurements", id="no records"
        ),
    ],
)
def test_assess_patient_errors(lesions, visits, match):
    with pytest.raises(InvalidInputError, match=match):
        _assess(lesions, _visits(visits))


def test_assess_patient_duplicate_record():
    m = _visits({0: {"T1": 30.0, "T2": 20.0}})
    with pytest.raises(InvalidInputError, match="recorded twice"):
        _assess(LIVER_LUNG[:2], [*m, m[0]])


def test_assess_patient_only_new_lesions():
    # without baseline disease the first record is of a new lesion, at "baseline": refused
    lesions = [Lesion("NEW1", "bone", False, "new")]
    m = [LesionMeasurement("NEW1", _d(42), "investigator", "present")]
    with pytest.raises(
        InvalidInputError, match="'NEW1' is a new lesion but is recorded at baseline"
    ):
        _assess(lesions, m)
