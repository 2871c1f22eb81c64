"""RECIST 1.1 baseline rules and lesion records: every cut point, every error names the lesion.

Reference: Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, sections 3.1 and 3.3, transcribed in
the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47) and the iRECIST paper
(Seymour et al., Lancet Oncol 2017;18:e143-52) section 1 ([S1], [S2]).
"""

import datetime as dt

import pytest

from equitrial.clinical.recist import Lesion, LesionMeasurement, validate_baseline
from equitrial.errors import InvalidInputError, UnknownOptionError

DAY = dt.date(2024, 1, 1)


def _m(lesion_id, mm=None, status="measured", **kw):
    return LesionMeasurement(lesion_id, DAY, "investigator", status, mm, **kw)


# "Measurable tumour lesion: LD >= 10 mm by CT"; "Malignant lymph node ... measurable if short
# axis >= 15 mm"; "short axis >= 10 mm and < 15 mm -> non-target"; "Normal node: < 10 mm"
@pytest.mark.parametrize(
    ("nodal", "mm", "match"),
    [
        pytest.param(False, 10.0, None, id="non-nodal LD 10.0 mm: measurable"),
        pytest.param(False, 9.9, "below the 10 mm", id="non-nodal LD 9.9 mm: not measurable"),
        pytest.param(True, 15.0, None, id="node short axis 15.0 mm: measurable"),
        pytest.param(True, 14.9, "non-target lesion", id="node 14.9 mm: non-target only"),
        pytest.param(True, 10.0, "non-target lesion", id="node 10.0 mm: non-target only"),
        pytest.param(True, 9.9, "not pathological", id="node 9.9 mm: not pathological"),
    ],
)
def test_target_measurability_cut_points(nodal, mm, match):
    lesions = [Lesion("T07", "neck", nodal, "target")]
    if match is None:
        validate_baseline(lesions, [_m("T07", mm)])
    else:
        with pytest.raises(InvalidInputError, match=match) as err:
            validate_baseline(lesions, [_m("T07", mm)])
        assert "'T07'" in str(err.value)


def test_nodal_non_target_between_10_and_15_mm_is_accepted():
    validate_baseline([Lesion("NT1", "axilla", True, "non-target")], [_m("NT1", 12.0, "present")])


def test_nodal_non_target_below_10_mm_is_not_a_lesion():
    with pytest.raises(InvalidInputError, match=r"'NT1'.*not pathological"):
        validate_baseline(
            [Lesion("NT1", "axilla", True, "non-target")], [_m("NT1", 9.5, "present")]
        )


def test_at_most_five_targets():
    # "up to 5 total, max 2 per organ"
    organs = ["liver", "liver", "lung", "lung", "bone", "brain"]
    lesions = [Lesion(f"T{i}", organ, False, "target") for i, organ in enumerate(organs, 1)]
    measured = [_m(f"T{i}", 20.0) for i in range(1, 7)]
    validate_baseline(lesions[:5], measured[:5])
    with pytest.raises(InvalidInputError, match=r"at most 5.*'T6'"):
        validate_baseline(lesions, measured)


def test_at_most_two_targets_per_organ():
    lesions = [
        Lesion(f"T{i}", organ, False, "target")
        for i, organ in enumerate(["Liver", "lung", "liver ", "LIVER"], 1)
    ]
    measured = [_m(f"T{i}", 20.0) for i in range(1, 5)]
    with pytest.raises(InvalidInputError, match=r"per organ.*'T4' is one too many"):
        validate_baseline(lesions, measured)


@pytest.mark.parametrize(
    ("measurements", "match"),
    [
        pytest.param([], "'T1' needs a measured diameter", id="target without baseline record"),
        pytest.param(
            [_m("T1", status="too small to measure")],
            "'T1' needs a measured diameter",
            id="target too small at baseline",
        ),
        pytest.param([_m("T1", 20.0), _m("T1", 21.0)], "'T1' is measured twice", id="duplicate"),
        pytest.param([_m("T1", 20.0), _m("T9", 21.0)], "unknown lesion 'T9'", id="unknown id"),
        pytest.param(
            [_m("T1", 20.0), _m("N1", status="present")],
            "'N1' is a new lesion",
            id="new at baseline",
        ),
    ],
)
def test_baseline_record_errors_name_the_lesion(measurements, match):
    lesions = [Lesion("T1", "liver", False, "target"), Lesion("N1", "bone", False, "new")]
    with pytest.raises(InvalidInputError, match=match):
        validate_baseline(lesions, measurements)


def test_duplicate_lesion_ids():
    lesions = [Lesion("T1", "liver", False, "target"), Lesion("T1", "lung", False, "target")]
    with pytest.raises(InvalidInputError, match="'T1' is used twice"):
        validate_baseline(lesions, [_m("T1", 20.0)])


def test_split_lesion_sums_fragments_and_merged_lesion_counts_zero():
    # "Lesions that split: sum the LDs of fragments"; coalesced: the LD of the coalesced lesion is
    # assigned to one lesion and 0 mm to the others
    assert _m("T1", fragments_mm=(4.0, 6.5)).value_mm() == 10.5
    assert _m("T2", status="merged", merged_into="T1").value_mm() == 0.0
    # "too small to measure": default 5 mm, configurable; "disappeared": 0 mm
    assert _m("T1", status="too small to measure").value_mm() == 5.0
    assert _m("T1", status="too small to measure").value_mm(too_small_mm=3.0) == 3.0
    assert _m("T1", status="disappeared").value_mm() == 0.0
    assert _m("T1", status="not assessed").value_mm() is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(status="measured"), InvalidInputError, "exactly one of diameter_mm or fragments_mm"),
        (dict(mm=5.0, fragments_mm=(2.0, 3.0)), InvalidInputError, "exactly one"),
        (dict(mm=-1.0), InvalidInputError, "non-negative"),
        (dict(mm=float("nan")), InvalidInputError, "finite"),
        (dict(status="merged"), InvalidInputError, "merged_into"),
        (dict(status="disappeared", merged_into="T2"), InvalidInputError, "merged_into"),
        (dict(status="gone"), UnknownOptionError, "status"),
        (dict(mm=5.0, reader="site"), UnknownOptionError, "reader"),
    ],
)
def test_measurement_record_errors(kwargs, error, match):
    reader = kwargs.pop("reader", "investigator")
    status = kwargs.pop("status", "measured")
    mm = kwargs.pop("mm", None)
    with pytest.raises(error, match=match):
        LesionMeasurement("T1", DAY, reader, status, mm, **kwargs)


def test_measurement_date_must_be_a_date():
    with pytest.raises(InvalidInputError, match=r"datetime\.date"):
        LesionMeasurement("T1", dt.datetime(2024, 1, 1, 9, 0), "central", diameter_mm=10.0)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", "liver", False, "target"), InvalidInputError),
        (("T1", "", False, "target"), InvalidInputError),
        (("T1", "liver", 0, "target"), InvalidInputError),
        (("T1", "liver", False, "nontarget"), UnknownOptionError),
    ],
)
def test_lesion_record_errors(args, error):
    with pytest.raises(error):
        Lesion(*args)
