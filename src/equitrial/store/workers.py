"""The worker processes of a verification of the audit trail.

Checking a trial's database hashes hundreds of thousands of audit rows and checks tens of
thousands of Ed25519 signatures; both are pure computations on values already read. The reading
process hands them to a :class:`~concurrent.futures.ProcessPoolExecutor`
(:mod:`equitrial.store.chain`, :mod:`equitrial.store.signatures`) and goes on reading, replaying
and reconciling meanwhile; only it talks to the database (one snapshot).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Final

from equitrial.errors import InvalidInputError

__all__ = ["MAX_WORKERS", "POOL_MIN", "default_workers", "worker_pool"]

MAX_WORKERS: Final = 8
"""At most this many worker processes by default (more rarely pays for their start)."""
POOL_MIN: Final = 2000
"""A database with fewer signed anchors than this is checked in the calling process alone (a
pool costs its start; the test suite's databases are checked thousands of times)."""


def default_workers() -> int:
    """The processes a verification uses by default: the cores this process may run on, at
    most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _context() -> multiprocessing.context.BaseContext:
    """``fork`` where it is safe and cheap (Linux, a process with one thread): the workers then
    start at once, without importing anything; otherwise ``spawn``."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextmanager
def worker_pool(workers: int, work: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of ``workers`` processes, shut down on leaving; ``None`` (check in this process)
    for ``workers`` 1 or when ``work`` (signed anchors) is below :data:`POOL_MIN`.

    Raises
    ------
    InvalidInputError
        ``workers`` below 1.
    """
    if workers < 1:
        raise InvalidInputError(
            f"workers must be at least 1, not {workers}", field="workers", value=workers
        )
    if workers == 1 or work < POOL_MIN:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
