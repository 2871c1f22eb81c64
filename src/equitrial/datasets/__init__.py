"""Analysis datasets (ADaM) derived from the captured data: see :mod:`equitrial.datasets._meta`.

:func:`build_adam` builds every ADaM dataset of the study from one :class:`StudySource`.
"""

from __future__ import annotations

from importlib import import_module

from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["OCCURRENCE_AND_FINDINGS", "Dataset", "StudySource", "Variable", "build_adam"]

OCCURRENCE_AND_FINDINGS: tuple[str, ...] = ("adae", "adlb", "adex", "adpc", "adis", "adqs")
"""Modules whose ``build_<name>(source, adsl)`` follow ADSL, ADRS and ADTTE, in this order."""


def build_adam(source: StudySource) -> list[Dataset]:
    """Every ADaM dataset: ADSL, ADRS, ADTTE, ADAE, ADLB, ADEX, ADPC, ADIS, ADQS (this order).

    ADRS needs ADSL; ADTTE needs ADSL and ADRS; the others ``build_<name>(source, adsl)``.
    Their modules are imported here, when called, so each builder stays independent.

    Parameters
    ----------
    source : StudySource

    Returns
    -------
    list of Dataset
    """
    from equitrial.datasets.adrs import build_adrs
    from equitrial.datasets.adsl import build_adsl
    from equitrial.datasets.adtte import build_adtte

    adsl = build_adsl(source)
    adrs = build_adrs(source, adsl)
    out = [adsl, adrs, build_adtte(source, adsl, adrs)]
    for name in OCCURRENCE_AND_FINDINGS:
        module = import_module(f"equitrial.datasets.{name}")
        out.append(getattr(module, f"build_{name}")(source, adsl))
    return out
