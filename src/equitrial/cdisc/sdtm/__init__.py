"""SDTM domains (CDISC SDTMIG v3.4) derived from a :class:`~equitrial.datasets.StudySource`.

:func:`build_sdtm` returns, in this order, DM, DS, EX, AE, LB, RS, TR, TU, PC, IS, QS, CM, MH,
SV (subject data), TA, TE, TV, TI, TS (trial design) and SUPPDM (the site type and region of
each subject, which have no DM variable; the immune-related category of an AE is ``AECAT`` /
``AESCAT``, so no SUPPAE is needed). Every dataset carries its variables'
metadata (:class:`~equitrial.datasets.Variable`): SDTMIG names and order, labels, the length
the data need, origin, derivation and codelist.

References
----------
.. [1] CDISC Study Data Tabulation Model Implementation Guide: Human Clinical Trials, version 3.4
   (2021-11-29).
"""

from __future__ import annotations

from equitrial.cdisc.sdtm._common import Subjects
from equitrial.cdisc.sdtm._visits import build_sv, visits_done
from equitrial.cdisc.sdtm.design import build_ta, build_te, build_ti, build_ts, build_tv
from equitrial.cdisc.sdtm.events import build_ae, build_ds, build_mh
from equitrial.cdisc.sdtm.findings import build_is, build_lb, build_pc, build_qs
from equitrial.cdisc.sdtm.interventions import build_cm, build_ex
from equitrial.cdisc.sdtm.special import build_dm, build_suppdm
from equitrial.cdisc.sdtm.tumour import build_rs, build_tr, build_tu
from equitrial.datasets import Dataset, StudySource

__all__ = ["build_sdtm"]


def build_sdtm(source: StudySource) -> list[Dataset]:
    """Every SDTM domain of the study, in submission order.

    Parameters
    ----------
    source
        The study's records (all, or as of a data cut) and the subjects' arms.

    Returns
    -------
    list of Dataset
        DM, DS, EX, AE, LB, RS, TR, TU, PC, IS, QS, CM, MH, SV, TA, TE, TV, TI, TS, then
        SUPPDM.
    """
    subjects = Subjects.of(source)
    visits = visits_done(source)
    return [
        build_dm(source, subjects),
        build_ds(source, subjects),
        build_ex(source, subjects),
        build_ae(source, subjects),
        build_lb(source, subjects, visits),
        build_rs(source, subjects, visits),
        build_tr(source, subjects, visits),
        build_tu(source, subjects, visits),
        build_pc(source, subjects, visits),
        build_is(source, subjects, visits),
        build_qs(source, subjects, visits),
        build_cm(source, subjects),
        build_mh(source, subjects),
        build_sv(source, subjects, visits),
        build_ta(source),
        build_te(source),
        build_tv(source),
        build_ti(source),
        build_ts(source),
        build_suppdm(source, subjects),
    ]
