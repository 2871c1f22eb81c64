"""The systemic corticosteroid rule: an ATC H02AB glucocorticoid given by a systemic route."""

from __future__ import annotations

import pytest

from equitrial.clinical.corticosteroids import CORTICOSTEROIDS, is_systemic_corticosteroid


@pytest.mark.parametrize(
    ("name", "route", "expected"),
    [
        ("dexamethasone", "ORAL", True),
        ("Solu-Medrol (methylprednisolone)", "INTRAVENOUS", True),
        ("Triamcinolone acetonide", "INTRA-ARTICULAR", False),
        ("Prednisolone eye drops", "OPHTHALMIC", False),
        ("Prednisone", None, False),
        ("Cortisone", "INTRAMUSCULAR", True),
        ("Hydrocortisone", "SUBCUTANEOUS", True),
        ("Fludrocortisone", "ORAL", False),  # a mineralocorticoid (ATC H02AA), not H02AB
    ],
)
def test_systemic_corticosteroid_names_and_routes(
    name: str, route: str | None, expected: bool
) -> None:
    assert is_systemic_corticosteroid(name, route) is expected


def test_the_list_is_the_atc_h02ab_glucocorticoids() -> None:
    # the corticosteroids of the ESMO irAE guideline's first-line treatment are in ATC H02AB
    assert {"prednisone", "prednisolone", "methylprednisolone", "dexamethasone"} <= CORTICOSTEROIDS
    # fludrocortisone is a mineralocorticoid (H02AA), not in H02AB
    assert "fludrocortisone" not in CORTICOSTEROIDS
