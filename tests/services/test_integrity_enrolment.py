"""Issue 8, enrolment: subject codes under concurrency, screening numbers, strata, eligibility.

Every test runs on SQLite and PostgreSQL (the ``trial`` fixture of ``conftest.py``: the example
protocol, sites A and B, one user per role).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import randomize, sites, study, subjects, users
from equitrial.services.auth import actor_for, system_actor
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
EXAMPLE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery"


def _counts(engine) -> tuple[int, int]:
    """(subjects, audit rows)."""
    with transaction(engine, read_only=True) as session:
        return (
            session.scalar(select(func.count()).select_from(m.Subject)) or 0,
            session.scalar(select(func.count()).select_from(m.AuditTrail)) or 0,
        )


# --- subject codes under concurrent enrolment --------------------------------------------------

THREADS, PER_THREAD = 8, 5


def test_concurrent_enrolments_at_one_site_get_distinct_gapless_codes(trial):
    """8 threads x 5 enrolments at site A at once: all succeed, codes A-0001..A-0040.

    Before the fix the code came from a count read without a lock: two transactions read the
    same count on PostgreSQL and the second failed on the unique subject code.
    """
    barrier = threading.Barrier(THREADS)
    codes: list[str] = []
    errors: list[BaseException] = []

    def work(t: int) -> None:
        barrier.wait(timeout=60)
        for i in range(PER_THREAD):
            try:
                view = subjects.enrol(
                    trial.engine, trial["coordinator"], "A", f"{t + 1}{i:03d}", strata=STRATA
                )
                codes.append(view.subject_code)
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    n = THREADS * PER_THREAD
    assert sorted(codes) == [f"A-{k:04d}" for k in range(1, n + 1)]  # distinct and gapless
    # the next site's numbering is its own
    assert (
        subjects.enrol(
            trial.engine, trial["coordinator@B"], "B", "9999", strata=STRATA
        ).subject_code
        == "B-0001"
    )


# --- screening numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" 12 ", "12"),  # trimmed
        ("１２", "12"),  # fullwidth digits (NFKC)
        ("007", "7"),  # leading zeros dropped (no [enrolment] width in the example)
        ("scr-0042", "SCR-42"),  # prefix upper-cased
        ("Ｓ－５", "S-5"),  # fullwidth prefix and hyphen (NFKC)
        ("0", "0"),
    ],
)
def test_screening_numbers_are_normalized(trial, typed, stored):
    view = subjects.enrol(trial.engine, trial["coordinator"], "A", typed, strata=STRATA)
    assert view.screening_number == stored
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(m.Subject.screening_number)) == stored


@pytest.mark.parametrize(("first", "second"), [("007", "7"), ("SCR-1", " scr-001"), ("１２", "12")])
def test_duplicates_are_found_after_normalization(trial, first, second):
    subjects.enrol(trial.engine, trial["coordinator"], "A", first, strata=STRATA)
    before = _counts(trial.engine)
    with pytest.raises(ConflictError) as error:  # at the other site too: unique in the study
        subjects.enrol(trial.engine, trial["coordinator@B"], "B", second, strata=STRATA)
    assert error.value.field == "screening_number"
    assert _counts(trial.engine) == before


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-5", "negative"),
        ("\u22125", "negative"),  # MINUS SIGN
        ("   ", "empty|required"),
        ("12a", "malformed"),
        ("1.5", "malformed"),
        ("+5", "malformed"),
        ("S--5", "malformed"),
        ("S-", "malformed"),
        ("5 5", "malformed"),
        ("\u0663", "malformed"),  # ARABIC-INDIC DIGIT THREE: a digit, but not an ASCII one
        ("1\x000", "NUL|malformed"),
        ("1" * 19, "19 digits"),
        ("S-" + "1" * 60, "longer than 40"),
    ],
)
def test_bad_screening_numbers_are_refused_naming_the_field(trial, typed, words):
    before = _counts(trial.engine)
    with pytest.raises(InvalidInputError, match=words) as error:
        subjects.enrol(trial.engine, trial["coordinator"], "A", typed, strata=STRATA)
    assert error.value.field == "screening_number"
    assert _counts(trial.engine) == before


@pytest.fixture
def padded(engine, tmp_path):
    """A study whose protocol pads screening numbers to 3 digits; an investigator at site A."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace(
        "# [enrolment]\n# screening_number_digits = 3", "[enrolment]\nscreening_number_digits = 3"
    )
    assert "\nscreening_number_digits = 3" in text
    path = tmp_path / "protocol.toml"
    path.write_text(text, encoding="utf-8")
    system = system_actor()
    study.load_study(engine, system, path, allocation_seed=2**200, slots_per_stratum=4)
    sites.add_site(engine, system, "A", "Site A")
    users.add_user(engine, system, "admin", PASSWORD, ["admin"])  # the first administrator
    with transaction(engine, read_only=True) as session:
        admin = actor_for(session, session.scalars(select(m.User)).one())
    users.add_user(engine, admin, "inv", PASSWORD, ["investigator"], site="A")
    with transaction(engine, read_only=True) as session:
        user = session.scalar(select(m.User).where(m.User.username == "inv"))
        return actor_for(session, user)


def test_the_protocols_width_pads_and_bounds_the_digits(engine, padded):
    assert subjects.enrol(engine, padded, "A", "7", strata=STRATA).screening_number == "007"
    assert (
        subjects.enrol(engine, padded, "A", "scr-0042", strata=STRATA).screening_number == "SCR-042"
    )
    with pytest.raises(ConflictError):
        subjects.enrol(engine, padded, "A", "0007", strata=STRATA)
    with pytest.raises(InvalidInputError, match="at most 3") as error:
        subjects.enrol(engine, padded, "A", "1234", strata=STRATA)
    assert error.value.field == "screening_number"


# --- strata at enrolment -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strata", "field"),
    [
        (None, "strata.braf_v600"),
        ({"braf_v600": "mutant", "ecog_ps": "0"}, "strata.m_stage_ldh"),
        ({**STRATA, "ecog_ps": ""}, "strata.ecog_ps"),
        ({**STRATA, "ecog_ps": "2"}, "strata.ecog_ps"),
        ({**STRATA, "site_region": "north"}, "strata.site_region"),
    ],
)
def test_a_missing_or_unknown_stratum_is_refused_at_enrolment(trial, strata, field):
    before = _counts(trial.engine)
    with pytest.raises(InvalidInputError) as error:
        subjects.enrol(trial.engine, trial["coordinator"], "A", "100", strata=strata)
    assert error.value.field == field
    assert _counts(trial.engine) == before


# --- eligibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "decision", [{"eligible": True}, {"eligible": False}, {"eligibility": {"age >= 18": True}}]
)
def test_a_coordinator_cannot_decide_eligibility_at_enrolment(trial, decision):
    before = _counts(trial.engine)
    with pytest.raises(PermissionDeniedError, match="investigator") as error:
        subjects.enrol(trial.engine, trial["coordinator"], "A", "200", strata=STRATA, **decision)
    assert error.value.field == "eligible"
    assert _counts(trial.engine) == before


def test_only_an_investigator_confirms_eligibility(trial):
    pending = subjects.enrol(trial.engine, trial["coordinator"], "A", "201", strata=STRATA)
    assert (pending.eligible, pending.status) == (None, "screening")
    for role in ("coordinator", "pharmacist", "investigator@B", "monitor", "admin"):
        with pytest.raises(PermissionDeniedError):
            subjects.confirm_eligibility(trial.engine, trial[role], pending.id, True)
    confirmed = subjects.confirm_eligibility(trial.engine, trial["investigator"], pending.id, True)
    assert (confirmed.eligible, confirmed.status) == (True, "eligible")
    direct = subjects.enrol(
        trial.engine, trial["investigator"], "A", "202", strata=STRATA, eligible=True
    )
    assert direct.status == "eligible"


# --- strata corrections ------------------------------------------------------------------------


def _strata_audit(engine, subject_id):
    with transaction(engine, read_only=True) as session:
        return list(
            session.scalars(
                select(m.AuditTrail)
                .where(m.AuditTrail.table_name == "subject")
                .where(m.AuditTrail.record_id == str(subject_id))
                .where(m.AuditTrail.field == "strata_json")
                .order_by(m.AuditTrail.id)
            )
        )


def test_strata_are_corrected_with_a_reason_until_randomization(trial):
    s = subjects.enrol(trial.engine, trial["coordinator"], "A", "300", strata=STRATA)
    before = _counts(trial.engine)
    for reason in ("", "   "):
        with pytest.raises(InvalidInputError) as error:
            subjects.correct_strata(
                trial.engine, trial["coordinator"], s.id, {"ecog_ps": "1"}, reason=reason
            )
        assert error.value.field == "reason"
    with pytest.raises(InvalidInputError) as error:
        subjects.correct_strata(
            trial.engine, trial["coordinator"], s.id, {"ecog_ps": "3"}, reason="typo"
        )
    assert error.value.field == "strata.ecog_ps"
    with pytest.raises(PermissionDeniedError):
        subjects.correct_strata(
            trial.engine, trial["coordinator@B"], s.id, {"ecog_ps": "1"}, reason="typo"
        )
    assert _counts(trial.engine) == before

    fixed = subjects.correct_strata(
        trial.engine, trial["coordinator"], s.id, {"ecog_ps": "1"}, reason="source: ECOG 1"
    )
    assert fixed.strata == {**STRATA, "ecog_ps": "1"}
    change = _strata_audit(trial.engine, s.id)[-1]
    assert change.reason == "source: ECOG 1" and change.username == "coordinator-a"
    assert '"ecog_ps": "0"' in change.old_value and '"ecog_ps": "1"' in change.new_value

    subjects.confirm_eligibility(trial.engine, trial["investigator"], s.id, True)
    allocation = randomize.randomize(trial.engine, trial["coordinator"], s.id)
    assert "ecog_ps=1" in allocation.stratum  # randomized on the corrected stratum
    before = _counts(trial.engine)
    with pytest.raises(ConflictError, match="randomized"):
        subjects.correct_strata(
            trial.engine, trial["investigator"], s.id, {"ecog_ps": "0"}, reason="again"
        )
    assert _counts(trial.engine) == before
    assert subjects.get_subject(trial.engine, trial["coordinator"], s.id).strata["ecog_ps"] == "1"


def test_a_stale_strata_correction_is_refused(trial):
    s = subjects.enrol(trial.engine, trial["coordinator"], "A", "301", strata=STRATA)
    subjects.correct_strata(trial.engine, trial["coordinator"], s.id, {"ecog_ps": "1"}, reason="a")
    with pytest.raises(ConflictError) as error:
        subjects.correct_strata(
            trial.engine,
            trial["investigator"],
            s.id,
            {"braf_v600": "wild-type"},
            reason="b",
            expected_version=s.version,
        )
    assert error.value.field == "version"
