"""Listing queries: by status and subject, within the actor's sites (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest

from equitrial.errors import InvalidInputError, PermissionDeniedError
from equitrial.services import clinical, queries, subjects

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)


@pytest.fixture
def raised(trial):
    """One query on an AE of a site-A subject (then answered) and one on a site-B subject."""
    a = subjects.enrol(trial.engine, trial["investigator"], "A", "A-1", strata=STRATA)
    b = subjects.enrol(trial.engine, trial["investigator@B"], "B", "B-1", strata=STRATA)
    ae_a = clinical.report_adverse_event(
        trial.engine, trial["coordinator"], a.id, term="Fatigue", grade=1, start_date=DAY
    )
    ae_b = clinical.report_adverse_event(
        trial.engine, trial["coordinator@B"], b.id, term="Nausea", grade=1, start_date=DAY
    )
    qa = queries.open_query(trial.engine, trial["monitor"], "adverse_event", ae_a.id, "grade", "?")
    qb = queries.open_query(trial.engine, trial["monitor"], "adverse_event", ae_b.id, "term", "?")
    queries.answer_query(trial.engine, trial["coordinator"], qa.id, "as in the source")
    return a, b, qa.id, qb.id


def test_listing_filters_by_status_subject_and_site(trial, raised):
    a, b, qa, qb = raised
    everything = queries.list_queries(trial.engine, trial["monitor"])
    assert [(q.id, q.subject_code, q.status) for q in everything] == [
        (qa, a.subject_code, "answered"),
        (qb, b.subject_code, "open"),
    ]
    assert [q.id for q in queries.list_queries(trial.engine, trial["monitor"], status="open")] == [
        qb
    ]
    by_subject = queries.list_queries(trial.engine, trial["data-manager"], subject=a.subject_code)
    assert [(q.id, q.table_name, q.field) for q in by_subject] == [(qa, "adverse_event", "grade")]
    # site staff see their own site's queries only, and cannot name another site's subject
    assert [q.id for q in queries.list_queries(trial.engine, trial["coordinator"])] == [qa]
    assert [q.id for q in queries.list_queries(trial.engine, trial["investigator@B"])] == [qb]
    with pytest.raises(PermissionDeniedError):
        queries.list_queries(trial.engine, trial["coordinator"], subject=b.subject_code)
    with pytest.raises(InvalidInputError, match="status"):
        queries.list_queries(trial.engine, trial["monitor"], status="pending")
