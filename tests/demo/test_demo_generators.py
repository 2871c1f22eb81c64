"""The virtual trial's generators against their inputs.

- Response: the tumour-size model, read by RECIST 1.1 (``equitrial.clinical.recist``, itself
  checked against Eisenhauer et al. 2009) at the scans up to week 24, gives the protocol's
  response rate within sampling error.
- Adverse events: each term's share of patients is its published incidence within sampling error.
- PK: the closed-form concentration equals a direct numerical integration of the clearance and
  the one-compartment superposition; between-subject clearances have the model's median.

"Within sampling error": inside 3.5 standard errors of the input (a false alarm about once in
2,000 runs per check; the seeds are fixed, so a run is repeatable).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

from equitrial.clinical import recist
from equitrial.demo.assumptions import AE_PROFILE, HEPATITIS_INCIDENCE, PK
from equitrial.demo.disease import draw_course, survival_inverse
from equitrial.demo.exposure import PkSubject, concentration, draw_ada, draw_pk_subject
from equitrial.demo.safety import draw_adverse_events
from equitrial.protocol import load_protocol

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
Z = 3.5


def _within(observed: float, expected: float, n: int) -> None:
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(observed - expected) <= Z * se, (observed, expected, se)


def _central_bor(course: object, day1: dt.date, until: dt.date) -> str:
    lesions = [recist.Lesion(x.code, x.organ, x.nodal, x.role) for x in course.lesions]  # type: ignore[attr-defined]
    for scan in course.scans:  # type: ignore[attr-defined]
        lesions += [recist.Lesion(x.code, x.organ, x.nodal, "new") for x in scan.new_lesions]
    reads = []
    for scan in course.scans:  # type: ignore[attr-defined]
        if scan.date > until:
            break
        for item in scan.reads["central"]:
            reads.append(
                recist.LesionMeasurement(
                    item["lesion_code"],
                    scan.date,
                    "central",
                    item["status"],
                    item.get("diameter_mm"),
                )
            )
    result = recist.assess_patient(
        lesions, reads, reader="central", reference_date=day1, confirmation_required=False
    )
    return result.best_overall_response


def test_orr_at_week_24_is_the_protocol_rate() -> None:
    protocol = load_protocol(PROTOCOL)
    rate = protocol.assumptions.response_rate["REF"]
    pfs = survival_inverse(protocol.assumptions.pfs.survival)
    os_ = survival_inverse(protocol.assumptions.os.survival)
    weeks = list(protocol.schedule_weeks("tumour-imaging", 104.0))
    day1, n, responders = dt.date(2024, 1, 8), 2000, 0
    rng = np.random.default_rng(20261207)
    for _ in range(n):
        course = draw_course(
            rng,
            day1=day1,
            response_rate=rate,
            pfs_inverse=pfs,
            os_inverse=os_,
            scan_weeks=weeks,
            end=dt.date(2030, 1, 1),
        )
        # the primary endpoint: responses at the scans up to week 24 (+ the 7-day window)
        bor = _central_bor(course, day1, day1 + dt.timedelta(weeks=24, days=7))
        responders += bor in ("CR", "PR")
        assert (bor in ("CR", "PR")) == course.responder or course.death is not None
    _within(responders / n, rate, n)


def test_survival_inverse_inverts_the_survival_function() -> None:
    protocol = load_protocol(PROTOCOL)
    survival = protocol.assumptions.os.survival
    inverse = survival_inverse(survival)
    for s in (0.9, 0.55, 0.5, 0.378):
        months = inverse(s)
        assert float(survival(np.array([months]))[0]) == pytest.approx(s, abs=1e-6)
    pfs = protocol.assumptions.pfs
    # a cure mixture never falls below its cure fraction: no time at all for s below it
    assert math.isinf(survival_inverse(pfs.survival)(pfs.cure_fraction * 0.99))


def test_adverse_event_incidence_is_the_published_incidence() -> None:
    rng = np.random.default_rng(7)
    n = 20000
    seen: dict[str, int] = {}
    for _ in range(n):
        for e in draw_adverse_events(rng, dt.date(2024, 1, 8), 200.0, dt.date(2030, 1, 1)):
            seen[e.term] = seen.get(e.term, 0) + 1
    for profile in AE_PROFILE:
        _within(seen.get(profile.term, 0) / n, profile.incidence, n)
    _within(seen.get("Alanine aminotransferase increased", 0) / n, HEPATITIS_INCIDENCE, n)
    immune = {"Hypothyroidism": 0.091, "Pneumonitis": 0.033, "Hyperthyroidism": 0.030}
    for term, published in immune.items():  # Robert et al., Eur J Cancer 2020;144:182
        _within(seen[term] / n, published, n)


def test_concentration_is_the_superposition_of_doses_with_constant_clearance() -> None:
    # CL_1 = CL_ss: a constant clearance, so C(t) = sum D/V exp(-CL/V (t - t_i))
    subject = PkSubject(0.2, 0.2, 6.0)
    doses = [(0.0, 200.0), (21.0, 200.0), (42.0, 400.0)]
    for t in (1.0, 20.999, 30.0, 84.0):
        expected = sum(d / 6.0 * math.exp(-0.2 / 6.0 * (t - ti)) for ti, d in doses if ti < t)
        assert concentration(subject, doses, t) == pytest.approx(expected, rel=1e-12)


def test_concentration_integrates_the_time_varying_clearance() -> None:
    subject = PkSubject(0.252, 0.195, 6.0)

    def clearance(t: float) -> float:
        return 0.195 + (0.252 - 0.195) / (1 + (t / PK.t50_days) ** 2)

    doses = [(0.0, 200.0), (21.0, 200.0)]
    t = 35.0
    expected = sum(
        d / 6.0 * math.exp(-quad(clearance, ti, t, epsabs=1e-13, epsrel=1e-13)[0] / 6.0)
        for ti, d in doses
    )
    assert concentration(subject, doses, t) == pytest.approx(expected, rel=1e-9)
    # steady state of 200 mg Q3W at CL_ss (label: half-life about 22 days, accumulation ~2.1)
    k = 0.195 / 6.0
    steady = 200 / 6.0 * math.exp(-k * 21) / (1 - math.exp(-k * 21))
    late = [(21.0 * i, 200.0) for i in range(60)]
    assert concentration(PkSubject(0.195, 0.195, 6.0), late, 21.0 * 60) == pytest.approx(
        steady, rel=1e-9
    )


def test_between_subject_clearance_has_the_model_median_and_cv() -> None:
    rng = np.random.default_rng(11)
    n = 20000
    cl = np.array([draw_pk_subject(rng, draw_ada(rng)).cl_ss for _ in range(n)])
    sd = math.sqrt(math.log1p(PK.cv_cl**2))
    logs = np.log(cl)
    assert abs(logs.mean() - math.log(PK.cl_ss_l_per_day)) <= Z * sd / math.sqrt(n)
    assert abs(logs.std(ddof=1) - sd) <= Z * sd / math.sqrt(2 * (n - 1))
