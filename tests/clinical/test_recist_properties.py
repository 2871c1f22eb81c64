"""Property tests for RECIST 1.1: order of lesions never matters; BOR never beats the time points.

The response order used is CR > PR > SD > NON-CR/NON-PD > PD > NE (NE worst: an assessment that
could not be evaluated never counts as a better response than any evaluated one).
"""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from equitrial.clinical.recist import (
    RESPONSE_ORDER,
    Lesion,
    LesionMeasurement,
    assess_patient,
    best_overall_response,
    non_target_response,
    target_response,
)

REF = dt.date(2024, 1, 1)
mm = st.integers(min_value=0, max_value=600).map(lambda x: x / 10)  # 0.0 .. 60.0 mm, 0.1 mm steps
baseline_mm = st.integers(min_value=100, max_value=600).map(lambda x: x / 10)


@st.composite
def target_cases(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    baseline = draw(st.lists(baseline_mm, min_size=n, max_size=n))
    nodal = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    maybe = st.one_of(st.none(), mm)
    history = draw(st.lists(st.lists(maybe, min_size=n, max_size=n), max_size=3))
    current = draw(st.lists(maybe, min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    return baseline, history, current, nodal, order


@given(target_cases())
def test_target_response_does_not_depend_on_lesion_order(case):
    baseline, history, current, nodal, order = case

    def perm(xs):
        return [xs[i] for i in order]

    expected = target_response(baseline, history, current, nodal=nodal)
    permuted = target_response(
        perm(baseline), [perm(h) for h in history], perm(current), nodal=perm(nodal)
    )
    assert permuted == expected


@given(
    st.lists(
        st.sampled_from(["present", "absent", "unequivocal progression", "not assessed", None]),
        min_size=1,
        max_size=6,
    ).flatmap(lambda xs: st.tuples(st.just(xs), st.permutations(xs)))
)
def test_non_target_response_does_not_depend_on_lesion_order(pair):
    statuses, permuted = pair
    assert non_target_response(permuted) == non_target_response(statuses)


@st.composite
def series(draw):
    codes = (
        ["CR", "PR", "SD", "PD", "NE"]
        if draw(st.booleans())
        else ["CR", "NON-CR/NON-PD", "PD", "NE"]
    )
    gaps = draw(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=8))
    days = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    return [(REF + dt.timedelta(days=d), draw(st.sampled_from(codes))) for d in days]


def _rank(code):
    return RESPONSE_ORDER.index(code)


@given(series(), st.booleans(), st.sampled_from(["progression", "downgrade"]))
def test_bor_never_better_than_best_timepoint(timepoints, confirm, cr_then_pr):
    bor = best_overall_response(
        timepoints, reference_date=REF, confirmation_required=confirm, cr_then_pr=cr_then_pr
    )
    best = min(_rank(code) for _, code in timepoints)
    assert _rank(bor) >= best


@given(series(), st.sampled_from(["progression", "downgrade"]))
def test_confirmation_never_improves_bor(timepoints, cr_then_pr):
    unconfirmed = best_overall_response(timepoints, reference_date=REF, confirmation_required=False)
    confirmed = best_overall_response(
        timepoints, reference_date=REF, confirmation_required=True, cr_then_pr=cr_then_pr
    )
    assert _rank(confirmed) >= _rank(unconfirmed)


@st.composite
def patients(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    organs = ["liver", "lung", "bone", "brain"]
    lesions = [Lesion(f"T{i}", organs[i], False, "target") for i in range(n)]
    lesions.append(Lesion("NT0", "pleura", False, "non-target"))
    measurements = [
        LesionMeasurement(f"T{i}", REF, "central", diameter_mm=draw(baseline_mm)) for i in range(n)
    ]
    measurements.append(LesionMeasurement("NT0", REF, "central", "present"))
    for visit in range(1, draw(st.integers(min_value=1, max_value=4)) + 1):
        day = REF + dt.timedelta(days=42 * visit)
        for i in range(n):
            if draw(st.booleans()) or visit == 1:
                measurements.append(
                    LesionMeasurement(f"T{i}", day, "central", diameter_mm=draw(mm))
                )
        status = draw(st.sampled_from(["present", "absent", "unequivocal progression"]))
        measurements.append(LesionMeasurement("NT0", day, "central", status))
    lesion_order = draw(st.permutations(range(len(lesions))))
    record_order = draw(st.permutations(range(len(measurements))))
    return lesions, measurements, lesion_order, record_order


@given(patients(), st.booleans())
def test_assess_patient_does_not_depend_on_record_order(case, confirm):
    lesions, measurements, lesion_order, record_order = case

    def run(ls, ms):
        return assess_patient(
            ls, ms, reader="central", reference_date=REF, confirmation_required=confirm
        )

    expected = run(lesions, measurements)
    permuted = run([lesions[i] for i in lesion_order], [measurements[i] for i in record_order])
    assert permuted == expected
