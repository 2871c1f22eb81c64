"""Central-lab transfer import: all or nothing, graded on save, once per file (both databases).

The expected grades are computed by hand from the CTCAE v5.0 thresholds
(``clinical/data/ctcae_5.0.json``):

- Anemia (g/dL): grade 1 ``<LLN - 10.0``, grade 2 ``<10.0 - 8.0``, grade 3 ``<8.0``;
- Platelet count decreased (10^9/L): grade 1 ``<LLN - 75.0``, grade 2 ``<75.0 - 50.0``,
  grade 3 ``<50.0 - 25.0``, grade 4 ``<25.0``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import _derivation as derivation
from equitrial.services import _lab_transfer_grades as grading
from equitrial.services import checks, clinical, subjects
from equitrial.services.lab_import import import_lab_transfer
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
HEADER = "subject,test,value,unit,collected_at,lln,uln,accession"

# (test, value, unit, lln, uln, grade computed by hand from the CTCAE thresholds)
GRADED = [
    ("Anemia", 13.0, "g/dL", 12.0, 16.0, 0),  # not below LLN
    ("Anemia", 11.0, "g/dL", 12.0, 16.0, 1),  # < LLN, >= 10.0
    ("Anemia", 10.0, "g/dL", 12.0, 16.0, 1),  # 10.0 is not < 10.0: still grade 1
    ("Anemia", 9.99, "g/dL", 12.0, 16.0, 2),  # < 10.0
    ("Anemia", 8.0, "g/dL", 12.0, 16.0, 2),  # 8.0 is not < 8.0
    ("Anemia", 7.9, "g/dL", 12.0, 16.0, 3),  # < 8.0
    ("Platelet count decreased", 200.0, "10^9/L", 150.0, 400.0, 0),
    ("Platelet count decreased", 75.0, "10^9/L", 150.0, 400.0, 1),  # < LLN, not < 75
    ("Platelet count decreased", 74.9, "10^9/L", 150.0, 400.0, 2),
    ("Platelet count decreased", 50.0, "10^9/L", 150.0, 400.0, 2),
    ("Platelet count decreased", 30.0, "10^9/L", 150.0, 400.0, 3),
    ("Platelet count decreased", 24.9, "10^9/L", 150.0, 400.0, 4),
]


def _at(day: int, hour: int = 8) -> str:
    return dt.datetime(2024, 3, day, hour, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))).isoformat()


def _csv(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def _good_rows(subject: str) -> list[str]:
    return [
        f"{subject},{test},{value},{unit},{_at(1 + i)},{lln},{uln},ACC-{i}"
        for i, (test, value, unit, lln, uln, _) in enumerate(GRADED)
    ]


@pytest.fixture
def subject_a(trial) -> str:
    s = subjects.enrol(trial.engine, trial["investigator"], "A", "S-1", strata=STRATA)
    return str(s.subject_code)


def _counts(engine) -> tuple[int, int, int]:
    with transaction(engine, read_only=True) as session:
        return (
            session.scalar(select(func.count()).select_from(m.LabResult)) or 0,
            session.scalar(select(func.count()).select_from(m.LabTransfer)) or 0,
            session.scalar(select(func.count()).select_from(m.AuditTrail)) or 0,
        )


def test_a_good_file_is_imported_with_the_hand_computed_grades(trial, subject_a, tmp_path):
    path = tmp_path / "transfer-001.csv"
    path.write_text(_csv(_good_rows(subject_a)))
    summary = import_lab_transfer(trial.engine, trial["coordinator"], path, transfer_id="T-001")
    assert summary.rows == len(GRADED) and summary.subjects == 1
    expected = [grade for *_, grade in GRADED]
    assert dict(summary.grades) == {g: expected.count(g) for g in set(expected)}
    with transaction(trial.engine, read_only=True) as session:
        labs = session.scalars(select(m.LabResult).order_by(m.LabResult.collected_at)).all()
        assert [(x.test, x.value, x.ctcae_grade) for x in labs] == [
            (test, value, grade) for test, value, *_, grade in GRADED
        ]
        assert [x.accession for x in labs] == [f"ACC-{i}" for i in range(len(GRADED))]
        assert {x.lab_transfer_id for x in labs} == {summary.transfer}
        transfer = session.get(m.LabTransfer, summary.transfer)
        assert (transfer.transfer_id, transfer.filename, transfer.rows) == (
            "T-001",
            "transfer-001.csv",
            len(GRADED),
        )
        rows = session.scalars(
            select(m.AuditTrail).where(m.AuditTrail.table_name == "lab_result")
        ).all()
        stored = {x.id: str(x.ctcae_grade) for x in labs}
    # one whole-row audit row per result, with the grade derived on save
    assert len(rows) == len(GRADED) and {r.reason for r in rows} == {"lab transfer T-001"}
    assert {int(r.record_id): json.loads(r.new_value)["ctcae_grade"] for r in rows} == stored


def test_the_grades_equal_those_of_results_entered_by_hand(trial, subject_a):
    other = subjects.enrol(trial.engine, trial["investigator"], "A", "S-2", strata=STRATA)
    for test, value, unit, lln, uln, _ in GRADED:
        clinical.record_lab(
            trial.engine,
            trial["coordinator"],
            other.id,
            test=test,
            value=value,
            unit=unit,
            lln=lln,
            uln=uln,
            collected_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        )
    import_lab_transfer(
        trial.engine, trial["coordinator"], io.StringIO(_csv(_good_rows(subject_a)))
    )
    with transaction(trial.engine, read_only=True) as session:
        pairs = session.execute(
            select(
                m.LabResult.subject_id, m.LabResult.test, m.LabResult.value, m.LabResult.ctcae_grade
            )
        ).all()
    by_hand = sorted((t, v, g) for s, t, v, g in pairs if s == other.id)
    imported = sorted((t, v, g) for s, t, v, g in pairs if s != other.id)
    assert by_hand == imported


def test_baselines_follow_the_rule_of_hand_entry_and_stored_results_are_regraded(trial, subject_a):
    """Creatinine increased (mg/dL, ULN 1.2): grade 2 ">1.5 - 3.0 x baseline", grade 3 ">3.0
    x baseline", else by ULN (grade 1 ">ULN - 1.5 x ULN"). The baseline is the subject's earliest
    earlier result of the test, in the same unit."""
    later = clinical.record_lab(
        trial.engine,
        trial["coordinator"],
        subject_a,
        test="Creatinine increased",
        value=1.3,
        unit="mg/dL",
        uln=1.2,
        collected_at=dt.datetime(2024, 3, 10, tzinfo=dt.UTC),
    )
    assert later.values["ctcae_grade"] == 1  # no baseline yet: 1.3 > ULN only
    rows = [
        f"{subject_a},Creatinine increased,0.5,mg/dL,{_at(1)},,1.2,",  # the baseline: grade 0
        f"{subject_a},Creatinine increased,1.6,mg/dL,{_at(5)},,1.2,",  # 1.6 > 3 x 0.5: grade 3
        f"{subject_a},Creatinine increased,140,umol/L,{_at(6)},,106,",  # other unit: ULN, 1
    ]
    import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    with transaction(trial.engine, read_only=True) as session:
        labs = session.scalars(select(m.LabResult).order_by(m.LabResult.collected_at)).all()
        assert [(x.value, x.ctcae_grade) for x in labs] == [
            (0.5, 0),
            (1.6, 3),
            (140.0, 1),
            (1.3, 2),
        ]
        # every grade is the one the derivation of a hand-entered result gives
        assert [x.ctcae_grade for x in labs] == [derivation.lab_grade(session, x) for x in labs]
        regraded = session.scalars(
            select(m.AuditTrail).where(
                m.AuditTrail.table_name == "lab_result",
                m.AuditTrail.record_id == str(later.id),
                m.AuditTrail.field == "ctcae_grade",
                m.AuditTrail.action == "update",
            )
        ).all()
    assert [(r.old_value, r.new_value) for r in regraded] == [("1", "2")]
    assert regraded[0].username.startswith("system:derive")


@pytest.mark.parametrize(
    ("position", "bad", "column"),
    [
        (0, "{s},Anemia,abc,g/dL,{at},12,16,", "value"),
        (5, "{s},Anemia,nan,g/dL,{at},12,16,", "value"),
        (11, "{s},Anemia,-1,g/dL,{at},12,16,", "value"),
        (3, "{s},Anemia,11,mg/dL,{at},12,16,", "unit"),
        (7, "{s},Anaemia,11,g/dL,{at},12,16,", "test"),
        (12, "{s},Anemia,11,g/dL,2024-03-02T08:00:00,12,16,", "collected_at"),
        (6, "{s},Anemia,11,g/dL,2999-01-01T08:00:00+00:00,12,16,", "collected_at"),
        (2, "{s},Anemia,11,g/dL,{at},16,12,", "uln"),
        (9, "NOBODY-9,Anemia,11,g/dL,{at},12,16,", "subject"),
    ],
)
def test_one_bad_row_anywhere_writes_nothing_and_is_named(trial, subject_a, position, bad, column):
    rows = _good_rows(subject_a)
    rows.insert(position, bad.format(s=subject_a, at=_at(20)))
    before = _counts(trial.engine)
    with pytest.raises(InvalidInputError) as refused:
        import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    message = str(refused.value)
    assert f"row {position + 1} (line {position + 2}), column {column}:" in message, message
    assert "nothing imported" in message and message.count("row ") == 1
    assert _counts(trial.engine) == before


def test_implausible_values_open_queries_as_on_hand_entry(trial, subject_a, monkeypatch):
    """No lab_result check is implausible today; with one added (the checks are data), the
    imported row gets its query like a hand-entered result would."""
    rule = checks.Range("value", 0, 100, severity="implausible")
    monkeypatch.setitem(checks.CHECKS, "lab_result", (*checks.CHECKS["lab_result"], rule))
    rows = [
        f"{subject_a},Anemia,11,g/dL,{_at(2)},12,16,",
        f"{subject_a},Anemia,150,g/dL,{_at(3)},12,16,",
    ]
    summary = import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    (query_id,) = summary.query_ids
    with transaction(trial.engine, read_only=True) as session:
        query = session.get(m.Query, query_id)
        lab = session.get(m.LabResult, query.record_id)
        assert (query.table_name, query.field, query.status) == ("lab_result", "value", "open")
        assert lab.value == 150.0 and lab.lab_transfer_id == summary.transfer


def test_many_problems_are_listed_up_to_twenty(trial, subject_a):
    rows = [f"{subject_a},Anemia,x{i},g/dL,{_at(2)},12,16," for i in range(30)]
    with pytest.raises(InvalidInputError) as refused:
        import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    message = str(refused.value)
    assert "30 problem(s)" in message and "row 20 (line 21)" in message
    assert "row 21 (line 22)" not in message and "and 10 more" in message


def test_a_bad_header_is_refused(trial, subject_a):
    text = "subject,test,value,collected_at,colour\n"
    with pytest.raises(InvalidInputError) as refused:
        import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(text))
    assert "column colour: unknown column" in str(refused.value)
    assert "column unit: required column missing" in str(refused.value)


def test_the_same_file_twice_is_refused(trial, subject_a, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_csv(_good_rows(subject_a)))
    import_lab_transfer(trial.engine, trial["coordinator"], path)
    before = _counts(trial.engine)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(ConflictError, match="imported already"):
        import_lab_transfer(trial.engine, trial["data-manager"], copy)
    assert _counts(trial.engine) == before


def test_a_subject_of_another_site_refuses_the_file(trial, subject_a):
    b = subjects.enrol(trial.engine, trial["investigator@B"], "B", "B-1", strata=STRATA)
    rows = [*_good_rows(subject_a), f"{b.subject_code},Anemia,11,g/dL,{_at(25)},12,16,"]
    before = _counts(trial.engine)
    for role in ("coordinator", "investigator", "monitor", "pharmacist"):
        with pytest.raises(PermissionDeniedError):
            import_lab_transfer(trial.engine, trial[role], io.StringIO(_csv(rows)))
    assert _counts(trial.engine) == before
    summary = import_lab_transfer(trial.engine, trial["data-manager"], io.StringIO(_csv(rows)))
    assert (summary.rows, summary.subjects) == (len(GRADED) + 1, 2)


def test_ten_thousand_rows_import_in_a_few_seconds(trial, backend):
    codes = [
        subjects.enrol(
            trial.engine, trial["coordinator"], "A", f"P-{i}", strata=STRATA
        ).subject_code
        for i in range(20)
    ]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = [
        f"{codes[i % 20]},Platelet count decreased,{20 + (i % 300)},10^9/L,"
        f"{(start + dt.timedelta(hours=i)).isoformat()},150,400,"
        for i in range(10_000)
    ]
    began = time.perf_counter()
    summary = import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    elapsed = time.perf_counter() - began
    print(f"\n10,000-row lab transfer on {backend}: {elapsed:.2f} s")
    assert summary.rows == 10_000
    assert sum(summary.grades.values()) == 10_000
    assert elapsed < 30, elapsed


def test_grades_follow_the_ids_the_results_get_when_a_stored_one_ranks_higher(
    trial, subject_a, monkeypatch
):
    """The results are graded before the insert, ranked after every stored result at the same
    time (their ids will be higher). Should a stored result have a higher id, the results are
    graded again with the ids they got and the grades that change are stored: here a stored
    0.5 mg/dL at the file's first time whose id is made to rank after the file's 1.0 mg/dL, so
    the baseline of 1.6 mg/dL is 1.0 (grade 2 ">1.5 - 3.0 x baseline"), not 0.5 (grade 3)."""
    clinical.record_lab(
        trial.engine,
        trial["coordinator"],
        subject_a,
        test="Creatinine increased",
        value=0.5,
        unit="mg/dL",
        uln=1.2,
        collected_at=dt.datetime.fromisoformat(_at(1)),
    )
    real = grading.stored_series

    def ranked_last(session, records):
        return {k: v._replace(id=v.id + 10**6) for k, v in real(session, records).items()}

    monkeypatch.setattr(grading, "stored_series", ranked_last)
    rows = [
        f"{subject_a},Creatinine increased,1.0,mg/dL,{_at(1)},,1.2,",
        f"{subject_a},Creatinine increased,1.6,mg/dL,{_at(5)},,1.2,",
    ]
    summary = import_lab_transfer(trial.engine, trial["coordinator"], io.StringIO(_csv(rows)))
    with transaction(trial.engine, read_only=True) as session:
        labs = session.scalars(
            select(m.LabResult).where(m.LabResult.lab_transfer_id == summary.transfer)
        ).all()
        audited = session.scalars(
            select(m.AuditTrail).where(m.AuditTrail.reason == f"lab transfer {summary.transfer}")
        ).all()
    assert sorted((x.value, x.ctcae_grade) for x in labs) == [(1.0, 0), (1.6, 2)]
    assert {int(r.record_id): json.loads(r.new_value)["ctcae_grade"] for r in audited} == {
        x.id: str(x.ctcae_grade) for x in labs
    }
    assert dict(summary.grades) == {0: 1, 2: 1}
