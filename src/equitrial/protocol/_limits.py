"""Size limits of a protocol, checked before anything is built from it.

A protocol drives allocations: every combination of the stratification factors' levels gets its
own concealed list, so a file with 30 factors of 5 levels would ask for 9.3e20 lists. The limits
below are checked on the parsed file (by counting, never by enumerating), so such a file is
refused in milliseconds with the key at fault named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

from equitrial.protocol._base import Issue

__all__ = [
    "MAX_BLOCK_SIZE",
    "MAX_BLOCK_SIZES",
    "MAX_FACTORS",
    "MAX_LEVELS",
    "MAX_NAME_LENGTH",
    "MAX_PROTOCOL_BYTES",
    "MAX_RATIO",
    "MAX_SAMPLE_SIZE",
    "MAX_STRATA",
    "MAX_STRATUM_KEY_LENGTH",
    "stratification_size_issues",
]

MAX_PROTOCOL_BYTES: Final = 1_048_576
"""A protocol file is at most 1 MiB (the example is 15 kB)."""

MAX_FACTORS: Final = 10
"""At most 10 stratification factors."""

MAX_LEVELS: Final = 20
"""At most 20 levels per stratification factor."""

MAX_STRATA: Final = 10_000
"""At most 10,000 strata (the product of the factors' level counts)."""

MAX_NAME_LENGTH: Final = 64
"""A factor or level name has at most 64 characters."""

MAX_STRATUM_KEY_LENGTH: Final = 255
"""The longest stratum key (``factor=level;...``) fits ``randomization_schedule.stratum``."""

MAX_BLOCK_SIZE: Final = 1_000
"""A permuted block holds at most 1,000 slots."""

MAX_BLOCK_SIZES: Final = 10
"""At most 10 different block sizes."""

MAX_RATIO: Final = 100
"""An allocation-ratio entry is at most 100."""

MAX_SAMPLE_SIZE: Final = 100_000
"""``assumptions.sample_size`` is at most 100,000 (it is the default list length per stratum)."""

_RESERVED: Final = (";", "=")


def stratification_size_issues(stratification: Mapping[str, Sequence[str]]) -> list[Issue]:
    """Issues of a ``[stratification]`` table that is too large or has unusable names.

    Parameters
    ----------
    stratification
        Factor name -> levels, as in the file.

    Returns
    -------
    list of Issue
        Too many factors, too many levels of a factor, too many strata, a name that is too long
        or holds ``;`` or ``=`` (the separators of a stratum key), a stratum key that is too long.
    """
    root = ("stratification",)
    issues = []
    if len(stratification) > MAX_FACTORS:
        msg = f"has {len(stratification)} factors; expected at most {MAX_FACTORS}"
        return [Issue(root, sorted(stratification), msg)]
    for name, levels in stratification.items():
        loc = (*root, name)
        if len(levels) > MAX_LEVELS:
            msg = f"has {len(levels)} levels; expected at most {MAX_LEVELS}"
            issues.append(Issue(loc, list(levels), msg))
            continue
        issues += _name_issues(loc, name, "factor name")
        for i, level in enumerate(levels):
            issues += _name_issues((*loc, i), level, "level")
    if issues:
        return issues
    strata = math.prod(len(levels) for levels in stratification.values())
    if strata > MAX_STRATA:
        msg = f"gives {strata} strata (the product of the level counts); expected at most "
        issues.append(Issue(root, None, msg + f"{MAX_STRATA}"))
    longest = sum(len(f) + 1 + max(map(len, lv), default=0) for f, lv in stratification.items())
    longest += max(len(stratification) - 1, 0)
    if longest > MAX_STRATUM_KEY_LENGTH:
        msg = (
            f"gives stratum keys of up to {longest} characters (factor=level;...); expected at "
            f"most {MAX_STRATUM_KEY_LENGTH}: shorten the factor or level names"
        )
        issues.append(Issue(root, None, msg))
    return issues


def _name_issues(loc: tuple[str | int, ...], text: str, what: str) -> list[Issue]:
    if len(text) > MAX_NAME_LENGTH:
        msg = f"{what} of {len(text)} characters; expected at most {MAX_NAME_LENGTH}"
        return [Issue(loc, text, msg)]
    if any(c in text for c in _RESERVED):
        return [Issue(loc, text, f"{what} holds ';' or '='; expected neither (stratum keys)")]
    return []
