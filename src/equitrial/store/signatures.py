"""Many Ed25519 signatures checked at once, spread over worker processes.

A verification of the audit trail checks one signature per signed anchor (tens of thousands in
a trial's database); each check costs far more than hashing an audit row. :class:`SignatureBatch`
starts them on a :class:`~concurrent.futures.ProcessPoolExecutor` when it is created and hands
back the result when asked, so that the caller checks the chain and the data meanwhile. Each
signature is checked by :func:`equitrial.store.keys.verify_signature`, as one by one.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from equitrial.store.keys import verify_signature

__all__ = ["MAX_WORKERS", "SignatureBatch", "default_workers"]

MAX_WORKERS: Final = 8
"""At most this many worker processes by default (more rarely pays for their start)."""
POOL_MIN: Final = 2000
"""Fewer signatures than this are checked in the calling process (a pool costs its start)."""
_CHUNKS_PER_WORKER: Final = 4

Signed = tuple[bytes, str]
"""A message and its signature (base64)."""


def default_workers() -> int:
    """The processes a verification uses by default: the cores this process may run on, at
    most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _invalid(public_raw: bytes, start: int, items: Sequence[Signed]) -> list[int]:
    """Positions (from ``start``) of the items whose signature does not verify (in a worker)."""
    public = Ed25519PublicKey.from_public_bytes(public_raw)
    return [
        start + i
        for i, (message, signature) in enumerate(items)
        if not verify_signature(public, message, signature)
    ]


def _context() -> multiprocessing.context.BaseContext:
    """``fork`` where it is safe and cheap (Linux, a process with one thread): the workers then
    start at once, without importing anything; otherwise ``spawn``."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class SignatureBatch:
    """Signatures being checked; use as a context manager (the pool is shut down on leaving).

    Parameters
    ----------
    public
        The public key that must have signed every message.
    items
        The messages and their signatures.
    workers
        Processes to use: 1 checks in this process, when :meth:`invalid` is called; more start
        a pool at once, unless there are fewer than :data:`POOL_MIN` items.
    """

    def __init__(self, public: Ed25519PublicKey, items: Sequence[Signed], workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._public, self._items = public, items
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[list[int]]] = []
        if workers == 1 or len(items) < POOL_MIN:
            return
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
        size = -(-len(items) // (workers * _CHUNKS_PER_WORKER))
        self._futures = [
            self._pool.submit(_invalid, raw, start, items[start : start + size])
            for start in range(0, len(items), size)
        ]

    def invalid(self) -> frozenset[int]:
        """Positions in ``items`` of the signatures that do not verify (waits for the workers)."""
        if self._pool is None:
            raw = self._public.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            return frozenset(_invalid(raw, 0, self._items))
        return frozenset(i for future in self._futures for i in future.result())

    def __enter__(self) -> SignatureBatch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
