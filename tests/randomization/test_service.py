"""The persistent randomization service on SQLite and PostgreSQL: schedule, refusals, order,
idempotence, minimization."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import numpy as np
import pytest
from rand_db import add_site, add_study, add_subjects, protocol_dict, slots, strata_combinations
from sqlalchemy import Engine

from equitrial.errors import InvalidInputError
from equitrial.randomization import level_counts, minimize, stratum_key, stratum_schedule
from equitrial.randomization.service import (
    RandomizationRefusedError,
    ScheduleExhaustedError,
    ScheduleExistsError,
    allocate,
    allocations,
    arm_of,
    generate_schedule,
)
from equitrial.store.db import transaction
from equitrial.store.models import Study, Subject

SEED = 20240917


def _study(engine: Engine, data: dict, *, per_stratum: int = 10, code: str = "EQT-PEM-301"):
    with transaction(engine) as session:
        study = add_study(session, data, code=code)
        n = generate_schedule(session, study, seed=SEED, per_stratum_slots=per_stratum)
        return study.id, n


def _subjects(engine: Engine, study_id: int, strata, **kwargs) -> list[int]:
    with transaction(engine) as session:
        study = session.get(Study, study_id)
        site = add_site(session, code=f"S{study_id}{kwargs.pop('site', '')}")
        return add_subjects(session, study, site, strata, **kwargs)


def _allocate(engine: Engine, subject_id: int, **kwargs):
    with transaction(engine) as session:
        slot = allocate(session, session.get(Subject, subject_id), **kwargs)
        return slot.sequence_number, slot.stratum, slot.arm_code, slot.kit_number


def test_schedule_is_the_seeded_block_list_of_every_stratum(engine: Engine) -> None:
    data = protocol_dict()
    study_id, n = _study(engine, data, per_stratum=10)
    with transaction(engine, read_only=True) as session:
        rows = slots(session, study_id)
    assert n == len(rows)
    assert [r.sequence_number for r in rows] == list(range(1, n + 1))
    assert len({r.kit_number for r in rows}) == n
    assert all(re.fullmatch(rf"K{study_id}-\d{{6}}", r.kit_number) for r in rows)
    strata = [stratum_key(s) for s in strata_combinations(data)]
    assert list(dict.fromkeys(r.stratum for r in rows)) == strata  # contiguous, protocol order
    for stratum in strata:
        mine = [r for r in rows if r.stratum == stratum]
        expected = stratum_schedule(SEED, stratum, 10, ratio=(1, 1), block_sizes=(4, 6))
        assert [r.arm_code for r in mine] == [("BIO", "REF")[a] for a in expected.arms]
        assert [r.block_number for r in mine] == list(expected.block_numbers)
        assert all(r.subject_id is None for r in mine)


def test_a_second_schedule_for_the_study_is_refused(engine: Engine) -> None:
    study_id, _ = _study(engine, protocol_dict())
    with pytest.raises(ScheduleExistsError), transaction(engine) as session:
        generate_schedule(session, session.get(Study, study_id), seed=2, per_stratum_slots=4)


def test_slots_are_taken_in_list_order_within_the_stratum(engine: Engine) -> None:
    data = protocol_dict()
    study_id, _ = _study(engine, data, per_stratum=12)
    stratum = strata_combinations(data)[5]
    subjects = _subjects(engine, study_id, [stratum] * 12)
    got = [_allocate(engine, s) for s in subjects]
    with transaction(engine, read_only=True) as session:
        listed = [r for r in slots(session, study_id) if r.stratum == stratum_key(stratum)]
    assert [g[0] for g in got] == [r.sequence_number for r in listed[:12]]
    assert [g[2] for g in got] == [r.arm_code for r in listed[:12]]


@pytest.mark.parametrize("eligible", [None, False])
def test_unconfirmed_or_failed_eligibility_is_refused_and_nothing_is_written(
    engine: Engine, eligible: bool | None
) -> None:
    data = protocol_dict()
    study_id, _ = _study(engine, data)
    (subject,) = _subjects(engine, study_id, [strata_combinations(data)[0]], eligible=eligible)
    with pytest.raises(RandomizationRefusedError) as err:
        _allocate(engine, subject)
    assert err.value.field == "eligible"
    with transaction(engine, read_only=True) as session:
        assert all(r.subject_id is None for r in slots(session, study_id))


@pytest.mark.parametrize(
    ("strata", "field"),
    [
        (None, "strata.braf_v600"),
        ({"braf_v600": "mutant", "ecog_ps": "0"}, "strata.m_stage_ldh"),
        (
            {"braf_v600": "mutant", "ecog_ps": "", "m_stage_ldh": "M1c or elevated LDH"},
            "strata.ecog_ps",
        ),
        (
            {"braf_v600": "mutant", "ecog_ps": "2", "m_stage_ldh": "M1c or elevated LDH"},
            "strata.ecog_ps",
        ),
        (
            {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M1c or elevated LDH", "x": "1"},
            "strata.x",
        ),
    ],
)
def test_every_stratification_factor_must_be_present_and_valid(
    engine: Engine, strata: dict | None, field: str
) -> None:
    # OpenClinica randomized subjects with a missing stratification factor; we refuse.
    study_id, _ = _study(engine, protocol_dict())
    (subject,) = _subjects(engine, study_id, [strata])
    with pytest.raises(InvalidInputError) as err:
        _allocate(engine, subject)
    assert err.value.field == field
    with transaction(engine, read_only=True) as session:
        assert all(r.subject_id is None for r in slots(session, study_id))


def test_withdrawn_subjects_and_locked_studies_are_refused(engine: Engine) -> None:
    data = protocol_dict()
    study_id, _ = _study(engine, data)
    a, b = _subjects(engine, study_id, [strata_combinations(data)[0]] * 2)
    with transaction(engine) as session:
        session.get(Subject, a).status = "withdrawn"
    with pytest.raises(RandomizationRefusedError) as err:
        _allocate(engine, a)
    assert err.value.field == "status"
    with transaction(engine) as session:
        session.get(Study, study_id).locked_at = dt.datetime.now(dt.UTC)
    with pytest.raises(RandomizationRefusedError) as err:
        _allocate(engine, b)
    assert err.value.field == "study"


def test_an_exhausted_stratum_is_refused(engine: Engine) -> None:
    data = protocol_dict(
        method="permuted-blocks", allocation_ratio=[1, 1], block_sizes=[4], random_block_sizes=False
    )
    study_id, _ = _study(engine, data, per_stratum=4)
    subjects = _subjects(engine, study_id, [strata_combinations(data)[2]] * 5)
    arms = [_allocate(engine, s)[2] for s in subjects[:4]]
    assert Counter(arms) == {"BIO": 2, "REF": 2}
    with pytest.raises(ScheduleExhaustedError):
        _allocate(engine, subjects[4])


def test_idempotent_and_arm_only_through_the_unblinded_helpers(engine: Engine) -> None:
    data = protocol_dict()
    study_id, _ = _study(engine, data)
    a, b = _subjects(engine, study_id, strata_combinations(data)[:2])
    first = _allocate(engine, a)
    assert _allocate(engine, a) == first
    with transaction(engine, read_only=True) as session:
        assert arm_of(session, a) == first[2]
        assert arm_of(session, b) is None
        assert [r.subject_id for r in allocations(session, study_id)] == [a]


def test_two_studies_with_the_same_seed_share_the_lists_but_not_the_kits(engine: Engine) -> None:
    data = protocol_dict()
    one, _ = _study(engine, data, code="A")
    two, _ = _study(engine, data, code="B")
    with transaction(engine, read_only=True) as session:
        rows_one, rows_two = slots(session, one), slots(session, two)
    assert [r.arm_code for r in rows_one] == [r.arm_code for r in rows_two]
    assert not {r.kit_number for r in rows_one} & {r.kit_number for r in rows_two}


def test_minimization_decides_from_the_current_allocations(engine: Engine) -> None:
    data = protocol_dict(
        method="minimization", allocation_ratio=[1, 1], p_best=0.8, imbalance="range"
    )
    study_id, n = _study(engine, data, per_stratum=5)
    assert n == 40
    rng = np.random.default_rng(0)
    combos = strata_combinations(data)
    levels = [combos[int(i)] for i in rng.integers(0, 8, size=30)]
    subjects = _subjects(engine, study_id, levels)
    got = [_allocate(engine, s, rng=np.random.default_rng(i)) for i, s in enumerate(subjects)]
    # The same decisions recomputed by the pure algorithm, patient by patient.
    history, factors = [], list(data["stratification"])
    for i, lv in enumerate(levels):
        counts = level_counts(history, lv, factors, 2)
        arm = minimize(np.random.default_rng(i), counts, ratio=(1, 1), p_best=0.8).arm
        history.append((lv, arm))
        assert got[i][2] == ("BIO", "REF")[arm]
        assert got[i][1] == stratum_key(lv)
    assert [g[0] for g in got] == list(range(1, 31))
    assert _allocate(engine, subjects[0]) == got[0]
    with transaction(engine, read_only=True) as session:
        rows = slots(session, study_id)
    assert [r.stratum for r in rows[30:]] == ["*"] * 10  # the unused pool stays undecided
    assert [r.arm_code for r in rows[30:]] == [""] * 10
