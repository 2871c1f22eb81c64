"""Safety analysis of the clinical study report (ICH E3 section 12, CSR tables 14.3).

:func:`safety` summarizes the safety population (``SAFFL = "Y"``) by actual arm (``TRT01A``):

- ``overview``: subjects with any TEAE, a treatment-related TEAE, a TEAE of grade 3 or
  higher, a treatment-related one of grade 3 or higher, a serious TEAE, a TEAE that led to
  discontinuation (``AEACN = "DRUG WITHDRAWN"``), a fatal TEAE (grade 5), and deaths of any
  cause (ADSL ``DTHFL``); n and % per arm and the difference of proportions test - reference
  with its 95% interval (Miettinen-Nurminen by default, :func:`equitrial.stats.proportions.
  difference_ci`);
- ``soc_pt``: TEAEs by system organ class and preferred term (subjects n, %, events per arm),
  by descending number of subjects over all arms, ties by name;
- ``worst_grade``: subjects by their worst CTCAE grade of each preferred term;
- ``immune_related``: immune-related TEAEs (ADAE ``IRAECAT``) by category, subjects per arm
  and time to onset of the first event (``ASTDY``: median, min, max);
- ``lab_shifts``: baseline CTCAE grade against worst on-treatment grade per lab parameter
  (ADLB ``BTOXGRN``, ``ATOXGRN``, ``ONTRTFL``);
- ``exposure``: duration, number of doses, cumulative dose, dose intensity and relative dose
  intensity (ADEX overall summaries): n, mean, sd, median, min, max per arm.

Conventions: a TEAE is ``TRTEMFL = "Y"`` as ADAE derives it; a missing causality counts as
treatment-related and a missing grade as below 3; a subject counts once per row, SOC or term.
:func:`safety_tables` turns the result into the displays 14.3.1 to 14.3.6.

References
----------
.. [1] ICH E3 Structure and Content of Clinical Study Reports (1995), sections 12.2-12.5.
.. [2] National Cancer Institute. CTCAE Version 5.0, 27 November 2017.
.. [3] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
   1985;4:213-226.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from equitrial.analysis._safety_events import (
    events_of,
    immune_related,
    overview,
    soc_pt,
    worst_grade,
)
from equitrial.analysis._safety_input import arms_of, frame_of, safety_population
from equitrial.analysis._safety_labs import exposure, lab_shifts
from equitrial.analysis._safety_tables import build_tables
from equitrial.analysis.tables import Table
from equitrial.protocol import Protocol
from equitrial.stats.proportions import DifferenceMethod

__all__ = ["safety", "safety_tables"]


def safety(
    adam: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    *,
    level: float = 0.95,
    method: DifferenceMethod = "miettinen-nurminen",
) -> dict[str, Any]:
    """The safety analysis of the safety population by actual arm.

    Parameters
    ----------
    adam : mapping of str to DataFrame
        ADaM datasets by name: ``ADSL`` (``USUBJID``, ``SAFFL``, ``TRT01A``; ``DTHFL``) and
        ``ADAE`` (``USUBJID``, ``TRTEMFL``, ``AESOC`` or ``AEBODSYS``, ``AEDECOD``, a grade
        ``ATOXGRN``/``ATOXGR``/``AETOXGR``, ``AESER``, ``AEREL``, ``AEACN``; ``IRAECAT`` and
        ``ASTDY`` for the immune-related section) are required; ``ADLB`` and ``ADEX`` are
        optional (their sections are empty without them).
    protocol : Protocol
        The study: its arms (``TRT01A`` holds an arm's name) and their roles.
    level : float, default 0.95
        Confidence level of the differences.
    method : {"miettinen-nurminen", "newcombe", "wald", "agresti-caffo"}
        Interval of the differences, as :func:`equitrial.stats.proportions.difference_ci`.

    Returns
    -------
    dict
        ``{"population", "arms": [{"code", "name", "role", "n"}], "difference": {"test",
        "reference"} or None, "overview": [...], "soc_pt": [...], "worst_grade": [...],
        "immune_related": [...], "lab_shifts": [...], "exposure": [...]}``; per-arm values
        are keyed by arm code, counts as ``{"n", "percent"}`` (percent of the arm's safety
        population; ``None`` for an empty arm). See the module docstring for each section.

    Raises
    ------
    InvalidInputError
        A dataset or variable is missing (the field names it, e.g. ``"ADAE.AEDECOD"``), a
        ``TRT01A`` of the safety population names no arm, a grade is not 0-5, or ``level`` is
        not in (0, 1).
    UnknownOptionError
        ``method`` is not one of those listed.
    """
    arms = arms_of(protocol)
    population = safety_population(frame_of(adam, "ADSL"), arms)
    adae = frame_of(adam, "ADAE")
    events = events_of(adae, population)
    roles = {a.role: a.code for a in arms}
    pair = (roles["test"], roles["reference"]) if {"test", "reference"} <= set(roles) else None
    return {
        "population": "Safety population (SAFFL = Y), by actual treatment (TRT01A)",
        "arms": [
            {
                "code": a.code,
                "name": a.name,
                "role": a.role,
                "n": int((population["ARM"] == a.code).sum()),
            }
            for a in arms
        ],
        "difference": None if pair is None else {"test": pair[0], "reference": pair[1]},
        "overview": overview(events, population, arms, pair, level=level, method=method),
        "soc_pt": soc_pt(events, population, arms),
        "worst_grade": worst_grade(events, population, arms),
        "immune_related": immune_related(adae, population, arms),
        "lab_shifts": lab_shifts(adam.get("ADLB"), population, arms),
        "exposure": exposure(adam.get("ADEX"), population, arms),
    }


def safety_tables(results: Mapping[str, Any]) -> list[Table]:
    """The CSR displays of a :func:`safety` result, numbered 14.3.1 to 14.3.6.

    14.3.1 overview of TEAEs with the differences; 14.3.2 TEAEs by SOC and preferred term;
    14.3.3 worst grade per subject by preferred term; 14.3.4 immune-related AEs by category;
    14.3.5 lab shifts from baseline grade to worst on-treatment grade; 14.3.6 exposure.
    """
    return build_tables(results)
