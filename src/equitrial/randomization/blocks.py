"""Stratified permuted blocks with random block sizes, reproducible from a seed.

Each stratum has its own random stream, a :class:`numpy.random.SeedSequence` built from the
study seed and a stable hash (SHA-256) of the stratum's canonical string, so a stratum's list
does not depend on which other strata exist or in which order they are generated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from equitrial.errors import InvalidInputError

__all__ = [
    "BlockSchedule",
    "check_ratio",
    "permuted_blocks",
    "stratum_key",
    "stratum_schedule",
    "stratum_seed",
]

_RESERVED = (";", "=")


@dataclass(frozen=True)
class BlockSchedule:
    """The concealed allocation list of one stratum, in allocation order.

    Attributes
    ----------
    arms
        Arm index (into the allocation ratio, i.e. the order of the protocol's arms) of each slot.
    block_numbers
        Block of each slot, numbered from 1 within the stratum.
    positions
        Position of each slot within its block, from 1.
    block_sizes
        Size of the block each slot belongs to.
    """

    arms: tuple[int, ...]
    block_numbers: tuple[int, ...]
    positions: tuple[int, ...]
    block_sizes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.arms)


def stratum_key(levels: Mapping[str, str]) -> str:
    """Canonical string of a stratum: ``"factor=level;factor=level"`` sorted by factor.

    Parameters
    ----------
    levels
        Level of each stratification factor. No factor gives the one stratum ``""``.

    Returns
    -------
    str
        The key; equal for equal mappings whatever their order.

    Raises
    ------
    InvalidInputError
        If a factor or a level is empty or contains ``;`` or ``=`` (the key's separators).
    """
    for factor, level in levels.items():
        for what, text in (("factor", factor), ("level", level)):
            if not isinstance(text, str) or not text or any(c in text for c in _RESERVED):
                raise InvalidInputError(
                    f"stratification {what} {text!r} (factor {factor!r}) must be a non-empty "
                    "string without ';' or '='",
                    field=f"strata.{factor}",
                    value=text,
                    expected="a non-empty string without ';' or '='",
                )
    return ";".join(f"{f}={levels[f]}" for f in sorted(levels))


def stratum_seed(seed: int, stratum: str) -> np.random.SeedSequence:
    """Independent seed sequence of one stratum: the study seed and SHA-256 of the stratum key.

    Notes
    -----
    The stratum's digest (as eight 32-bit words) is the ``spawn_key`` of a
    :class:`numpy.random.SeedSequence` with entropy ``seed``; Python's :func:`hash` is not
    used because it is salted per process.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidInputError(
            f"seed must be a whole number >= 0, got {seed!r}", field="seed", value=seed
        )
    digest = hashlib.sha256(stratum.encode("utf-8")).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "big") for i in range(0, 32, 4))
    return np.random.SeedSequence(int(seed), spawn_key=words)


def check_ratio(ratio: Sequence[int]) -> tuple[int, ...]:
    """Return the allocation ratio as a tuple of whole numbers >= 1 (at least two arms)."""
    values = tuple(ratio)
    if len(values) < 2:
        raise InvalidInputError(
            f"allocation_ratio needs an entry per arm (at least two), got {list(values)}",
            field="allocation_ratio",
            value=list(values),
        )
    for i, r in enumerate(values):
        if isinstance(r, bool) or not isinstance(r, int | np.integer) or r < 1:
            raise InvalidInputError(
                f"allocation_ratio[{i}] must be a whole number >= 1, got {r!r}",
                field="allocation_ratio",
                value=r,
            )
    return tuple(int(r) for r in values)


def _check_sizes(block_sizes: Sequence[int], total: int) -> NDArray[np.int64]:
    sizes = tuple(block_sizes)
    if not sizes:
        raise InvalidInputError(
            "block_sizes is empty; expected at least one size", field="block_sizes"
        )
    for i, size in enumerate(sizes):
        bad_type = isinstance(size, bool) or not isinstance(size, int | np.integer)
        if bad_type or size < 1 or size % total:
            raise InvalidInputError(
                f"block_sizes[{i}] = {size!r} is not a positive multiple of {total} "
                "(the sum of the allocation ratio)",
                field="block_sizes",
                value=size,
                expected=f"a positive multiple of {total}",
            )
    return np.asarray(sizes, dtype=np.int64)


def permuted_blocks(
    rng: np.random.Generator,
    n_slots: int,
    *,
    ratio: Sequence[int],
    block_sizes: Sequence[int],
    random_sizes: bool = True,
) -> BlockSchedule:
    """Permuted blocks covering at least ``n_slots`` slots (whole blocks only).

    Parameters
    ----------
    rng
        The stream the sizes and orders are drawn from.
    n_slots
        Minimum number of slots; blocks are added until their total reaches it, so the list ends
        with a complete block and may be longer than ``n_slots``.
    ratio
        Allocation ratio, one whole number per arm (``(1, 1)``, ``(2, 1)``, ...).
    block_sizes
        Block sizes, each a multiple of ``sum(ratio)``.
    random_sizes
        Draw each block's size uniformly among ``block_sizes`` (``True``), or cycle through them
        in the order given (``False``).

    Returns
    -------
    BlockSchedule
        Slots in allocation order.

    Raises
    ------
    InvalidInputError
        For ``n_slots < 1``, a bad ratio or a block size that is not a multiple of the ratio.

    Notes
    -----
    A block of size ``b = m * sum(ratio)`` holds ``m * ratio[k]`` slots of arm ``k``; its order
    is a uniformly random permutation of that multiset (:meth:`numpy.random.Generator.permutation`).
    Random block sizes make the end of a block harder to guess [1]_.

    References
    ----------
    .. [1] Rosenberger WF, Lachin JM. *Randomization in Clinical Trials: Theory and Practice*,
       2nd ed. Wiley, 2016, section 3.5 (random and permuted blocks).
    """
    weights = check_ratio(ratio)
    total = sum(weights)
    sizes = _check_sizes(block_sizes, total)
    if isinstance(n_slots, bool) or not isinstance(n_slots, int | np.integer) or n_slots < 1:
        raise InvalidInputError(
            f"n_slots must be a whole number >= 1, got {n_slots!r}", field="n_slots", value=n_slots
        )
    arms: list[int] = []
    blocks: list[int] = []
    positions: list[int] = []
    sizes_of: list[int] = []
    block = 0
    while len(arms) < n_slots:
        size = int(rng.choice(sizes)) if random_sizes else int(sizes[block % len(sizes)])
        block += 1
        content = np.repeat(np.arange(len(weights)), np.asarray(weights) * (size // total))
        arms.extend(int(a) for a in rng.permutation(content))
        blocks.extend([block] * size)
        positions.extend(range(1, size + 1))
        sizes_of.extend([size] * size)
    return BlockSchedule(tuple(arms), tuple(blocks), tuple(positions), tuple(sizes_of))


def stratum_schedule(
    seed: int,
    stratum: str,
    n_slots: int,
    *,
    ratio: Sequence[int],
    block_sizes: Sequence[int],
    random_sizes: bool = True,
) -> BlockSchedule:
    """The permuted-block list of one stratum, reproducible from ``(seed, stratum)``.

    Parameters
    ----------
    seed
        The study's randomization seed (a whole number >= 0).
    stratum
        The stratum's canonical key (:func:`stratum_key`).
    n_slots, ratio, block_sizes, random_sizes
        As in :func:`permuted_blocks`.

    Returns
    -------
    BlockSchedule
        The same list for the same arguments, on any machine and in any process.

    Raises
    ------
    InvalidInputError
        As :func:`permuted_blocks`, and for a negative or non-integer seed.
    """
    rng = np.random.default_rng(stratum_seed(seed, stratum))
    return permuted_blocks(
        rng, n_slots, ratio=ratio, block_sizes=block_sizes, random_sizes=random_sizes
    )
