"""Systemic corticosteroids: the names that make a medication one, and the derived flag.

The list is versioned data: the glucocorticoids of WHO ATC group H02AB ("Corticosteroids for
systemic use, plain: glucocorticoids"), by INN. A medication counts as a systemic
corticosteroid when one word of its name is a listed INN (so "methylprednisolone sodium
succinate" is one) and its route is systemic (:data:`~equitrial.clinical.terminology.
SYSTEMIC_ROUTES`): hydrocortisone cream is not.

References
----------
.. [1] WHO Collaborating Centre for Drug Statistics Methodology. ATC/DDD Index, group H02AB
   Glucocorticoids (H02AB01 betamethasone ... H02AB17 cortivazol). https://atcddd.fhi.no/
.. [2] Haanen J et al. Management of toxicities from immunotherapy: ESMO Clinical Practice
   Guideline. *Ann Oncol* 2022;33:1217-1238 (systemic corticosteroids as first-line treatment
   of immune-related adverse events).
"""

from __future__ import annotations

import re
from typing import Final

from equitrial.clinical.terminology import SYSTEMIC_ROUTES

__all__ = ["CORTICOSTEROIDS", "CORTICOSTEROIDS_VERSION", "is_systemic_corticosteroid"]

CORTICOSTEROIDS_VERSION: Final = "WHO ATC H02AB, ATC/DDD Index 2024"
"""Source and version of :data:`CORTICOSTEROIDS`."""

CORTICOSTEROIDS: Final = frozenset(
    {
        "betamethasone",
        "dexamethasone",
        "fluocortolone",
        "methylprednisolone",
        "paramethasone",
        "prednisolone",
        "prednisone",
        "triamcinolone",
        "hydrocortisone",
        "cortisone",
        "prednylidene",
        "rimexolone",
        "deflazacort",
        "cloprednol",
        "meprednisone",
        "cortivazol",
    }
)
"""INNs of the systemic glucocorticoids of ATC H02AB (lower case)."""


def is_systemic_corticosteroid(name: str, route: str | None) -> bool:
    """Whether a medication is a corticosteroid given systemically.

    Parameters
    ----------
    name
        The medication's name as entered (any case; salts and brand words may follow).
    route
        The CDISC ROUTE value; ``None`` (not known) is not systemic.

    Returns
    -------
    bool
        ``True`` when a word of ``name`` is in :data:`CORTICOSTEROIDS` and ``route`` is in
        :data:`~equitrial.clinical.terminology.SYSTEMIC_ROUTES`.

    Examples
    --------
    >>> is_systemic_corticosteroid("Methylprednisolone sodium succinate", "INTRAVENOUS")
    True
    >>> is_systemic_corticosteroid("Hydrocortisone cream 1%", "TOPICAL")
    False
    """
    words = set(re.findall(r"[a-z]+", name.casefold()))
    return route in SYSTEMIC_ROUTES and bool(words & CORTICOSTEROIDS)
