"""Subsets of CDISC controlled terminology used by the case report forms.

Each constant is a subset of the submission values of one CDISC SDTM codelist (named by its
short name), restricted to what the forms of a biosimilar oncology trial need. A value not
listed is refused on entry; extending a subset means adding the CDISC submission value here.

References
----------
.. [1] CDISC SDTM Controlled Terminology (NCI EVS), codelists NCOMPLT (Completion/Reason for
   Non-Completion), EPOCH, ROUTE (Route of Administration), FREQ (Frequency), UNIT, and the
   result values POSITIVE / NEGATIVE; NOT DONE as in ``--STAT``. Submission values as
   published; the NCI C-codes are not repeated here and were not re-verified for this module.
.. [2] CDISC SDTMIG v3.4, DS (disposition: ``DSDECOD``, ``EPOCH``), CM (``CMROUTE``,
   ``CMDOSFRQ``, ``CMDOSU``), IS (immunogenicity results) and PC (``PCLLOQ``).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADA_RESULTS",
    "DEATH_CAUSES",
    "DISPOSITION_EPOCHS",
    "DISPOSITION_REASONS",
    "FREQUENCIES",
    "NEUTRALIZING_RESULTS",
    "ROUTES",
    "SYSTEMIC_ROUTES",
    "UNITS",
]

DISPOSITION_EPOCHS: Final = ("TREATMENT", "STUDY")
"""Epochs a disposition event closes (EPOCH codelist): end of treatment, end of study."""

DISPOSITION_REASONS: Final = (
    "COMPLETED",
    "ADVERSE EVENT",
    "PROGRESSIVE DISEASE",
    "DEATH",
    "WITHDRAWAL BY SUBJECT",
    "PHYSICIAN DECISION",
    "LOST TO FOLLOW-UP",
    "PROTOCOL DEVIATION",
    "STUDY TERMINATED BY SPONSOR",
    "OTHER",
)
"""Reasons of completion or non-completion (NCOMPLT subset; ``DSDECOD``)."""

DEATH_CAUSES: Final = ("ADVERSE EVENT", "PROGRESSIVE DISEASE", "OTHER", "UNKNOWN")
"""Primary cause of death as collected on the death form (``DDORRES``-style categories)."""

ADA_RESULTS: Final = ("POSITIVE", "NEGATIVE")
"""Screening and confirmatory anti-drug antibody results."""

NEUTRALIZING_RESULTS: Final = ("POSITIVE", "NEGATIVE", "NOT DONE")
"""Neutralizing antibody result, or not done."""

ROUTES: Final = (
    "ORAL",
    "INTRAVENOUS",
    "INTRAMUSCULAR",
    "SUBCUTANEOUS",
    "TOPICAL",
    "TRANSDERMAL",
    "INHALATION",
    "RESPIRATORY (INHALATION)",
    "NASAL",
    "OPHTHALMIC",
    "RECTAL",
    "INTRA-ARTICULAR",
    "SUBLINGUAL",
    "VAGINAL",
    "OTHER",
)
"""Routes of administration (ROUTE subset)."""

SYSTEMIC_ROUTES: Final = frozenset({"ORAL", "INTRAVENOUS", "INTRAMUSCULAR", "SUBCUTANEOUS"})
"""The routes of :data:`ROUTES` by which a corticosteroid acts systemically."""

FREQUENCIES: Final = (
    "ONCE",
    "QD",
    "BID",
    "TID",
    "QID",
    "QOD",
    "QW",
    "Q2W",
    "Q3W",
    "Q4W",
    "Q6W",
    "QM",
    "PRN",
    "CONTINUOUS",
    "OTHER",
)
"""Dosing frequencies (FREQ subset; ``CMDOSFRQ``)."""

UNITS: Final = (
    "mg",
    "g",
    "ug",
    "mg/kg",
    "mg/m2",
    "mL",
    "IU",
    "U",
    "%",
    "PUFF",
    "TABLET",
    "CAPSULE",
    "DROP",
)
"""Dose units (UNIT subset; ``CMDOSU``)."""
