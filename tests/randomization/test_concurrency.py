"""8 processes x 50 concurrent randomizations, on SQLite and on PostgreSQL (issue 5, section 7).

Each process ('spawn' start method, so nothing is inherited) opens its own engine and randomizes
its own pre-enrolled eligible subjects one request per transaction, its subjects cycling through
all eight strata, so every stratum is contended by every process at once. Each process also
re-sends five requests for subjects of the next process, so the same subject is randomized
concurrently by two processes: both must get the same allocation.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, defaultdict

from rand_db import (
    add_site,
    add_study,
    add_subjects,
    protocol_dict,
    randomize_one,
    slots,
    strata_combinations,
    worker,
)
from sqlalchemy import Engine

from equitrial.randomization.service import arm_of, generate_schedule
from equitrial.store.db import transaction

N_PROCESSES = 8
PER_PROCESS = 50
DUPLICATES = 5


def _setup(engine: Engine) -> tuple[int, list[list[int]], dict[int, str]]:
    data = protocol_dict()
    strata = strata_combinations(data)
    assert len(strata) == 8
    n = N_PROCESSES * PER_PROCESS
    # subject i has stratum (i + i // 8) % 8: process p (subjects i = 8 j + p) cycles through
    # every stratum, and each stratum has exactly 50 subjects.
    levels = [strata[(i + i // 8) % 8] for i in range(n)]
    with transaction(engine) as session:
        study = add_study(session, data)
        site = add_site(session)
        ids = add_subjects(session, study, site, levels)
        generate_schedule(session, study, seed=20240917, per_stratum_slots=PER_PROCESS)
        study_id = study.id
    own = [[ids[8 * j + p] for j in range(PER_PROCESS)] for p in range(N_PROCESSES)]
    requests = []
    for p in range(N_PROCESSES):
        others = own[(p + 1) % N_PROCESSES][-DUPLICATES:]
        mine = list(own[p])
        for k, subject in enumerate(others):  # spread the duplicates through the run
            mine.insert(10 * (k + 1), subject)
        requests.append(mine)
    stratum_of = {
        sid: ";".join(f"{f}={lv}" for f, lv in sorted(levels[i].items()))
        for i, sid in enumerate(ids)
    }
    return study_id, requests, stratum_of


def _run_processes(url: str, requests: list[list[int]]) -> list[tuple[int, int, str, str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(N_PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, ids, barrier, results)) for ids in requests]
    for proc in procs:
        proc.start()
    outputs = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    flat = []
    for out in outputs:
        errors = [item for item in out if isinstance(item, str)]
        assert not errors, errors
        flat += out
    return flat


def test_8_processes_x_50_concurrent_randomizations(db_url: str, engine: Engine) -> None:
    study_id, requests, stratum_of = _setup(engine)
    answers = _run_processes(db_url, requests)
    assert len(answers) == N_PROCESSES * (PER_PROCESS + DUPLICATES)

    # The same subject asked for twice (by two processes) got the same allocation both times.
    by_subject: dict[int, set[tuple[int, str, str]]] = defaultdict(set)
    for subject, seq, kit, arm in answers:
        by_subject[subject].add((seq, kit, arm))
    assert len(by_subject) == N_PROCESSES * PER_PROCESS
    assert all(len(v) == 1 for v in by_subject.values())

    with transaction(engine, read_only=True) as session:
        rows = slots(session, study_id)
    taken = [r for r in rows if r.subject_id is not None]
    # Every subject exactly one allocation; no sequence number or kit used twice.
    assert sorted(r.subject_id for r in taken) == sorted(by_subject)
    assert len({r.sequence_number for r in taken}) == len(taken)
    assert len({r.kit_number for r in taken}) == len(taken)
    for r in taken:
        assert {(r.sequence_number, r.kit_number, r.arm_code)} == by_subject[r.subject_id]
        assert r.stratum == stratum_of[r.subject_id]  # the subject's own stratum

    _check_blocks(rows)


def _check_blocks(rows: list) -> None:
    """Every completed block balanced in every stratum; each stratum used from the top, no gap."""
    by_stratum = defaultdict(list)
    for r in rows:
        by_stratum[r.stratum].append(r)
    complete = 0
    for stratum, slots_ in by_stratum.items():
        used = [r.subject_id is not None for r in slots_]
        assert sum(used) == PER_PROCESS, stratum
        assert used == sorted(used, reverse=True), f"gap in the list of {stratum}"
        blocks = defaultdict(list)
        for r in slots_:
            blocks[r.block_number].append(r)
        for block in blocks.values():
            if all(r.subject_id is not None for r in block):
                complete += 1
                arms = Counter(r.arm_code for r in block)
                assert arms["BIO"] == arms["REF"] == len(block) // 2, (stratum, arms)
    assert complete >= 8 * 8  # at least 8 complete blocks (of at most 6) per stratum


def test_a_retried_request_returns_the_same_allocation(engine: Engine) -> None:
    data = protocol_dict()
    with transaction(engine) as session:
        study = add_study(session, data)
        site = add_site(session)
        (subject,) = add_subjects(session, study, site, [strata_combinations(data)[3]])
        generate_schedule(session, study, seed=1, per_stratum_slots=4)
    first = randomize_one(engine, subject)
    again = randomize_one(engine, subject)
    assert again == first
    with transaction(engine, read_only=True) as session:
        assert sum(r.subject_id == subject for r in slots(session, study.id)) == 1
        assert arm_of(session, subject) == first[3]
