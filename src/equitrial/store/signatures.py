"""Many Ed25519 signatures checked at once, in worker processes (:mod:`equitrial.store.workers`).

A verification of the audit trail checks one signature per signed anchor (tens of thousands in
a trial's database); each check costs far more than hashing an audit row. :class:`SignatureBatch`
hands them to the pool when it is created and gives the result when asked, so that the caller
checks the chain and the data meanwhile. Each signature is checked by
:func:`equitrial.store.keys.verify_signature`, as one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from equitrial.store.keys import verify_signature

__all__ = ["SignatureBatch"]

_CHUNKS_PER_WORKER: Final = 4

Signed = tuple[bytes, str]
"""A message and its signature (base64)."""


def _invalid(public_raw: bytes, start: int, items: Sequence[Signed]) -> list[int]:
    """Positions (from ``start``) of the items whose signature does not verify."""
    public = Ed25519PublicKey.from_public_bytes(public_raw)
    return [
        start + i
        for i, (message, signature) in enumerate(items)
        if not verify_signature(public, message, signature)
    ]


class SignatureBatch:
    """Signatures being checked.

    Parameters
    ----------
    public
        The public key that must have signed every message.
    items
        The messages and their signatures.
    pool
        The worker processes (:func:`equitrial.store.workers.worker_pool`); ``None`` checks
        in this process, when :meth:`invalid` is called.
    workers
        The pool's size (the items are split in a few chunks per worker).
    """

    def __init__(
        self,
        public: Ed25519PublicKey,
        items: Sequence[Signed],
        pool: Executor | None,
        workers: int = 1,
    ) -> None:
        self._raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._items = items
        self._futures: list[Future[list[int]]] = []
        if pool is None or not items:
            return
        size = -(-len(items) // (workers * _CHUNKS_PER_WORKER))
        self._futures = [
            pool.submit(_invalid, self._raw, start, items[start : start + size])
            for start in range(0, len(items), size)
        ]

    def invalid(self) -> frozenset[int]:
        """Positions in ``items`` of the signatures that do not verify (waits for the pool)."""
        if not self._futures:
            return frozenset(_invalid(self._raw, 0, self._items))
        return frozenset(i for future in self._futures for i in future.result())
