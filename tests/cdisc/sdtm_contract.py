"""Checks every SDTM dataset must pass, shared by the hand-made and the store tests."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from equitrial.datasets import Dataset

ORDER = "DM DS EX AE LB RS TR TU PC IS QS CM MH SV TA TE TV TI TS SUPPDM".split()
"""The order of :func:`equitrial.cdisc.sdtm.build_sdtm` (submission order, SUPPDM last)."""

REQUIRED_EXPECTED = {
    # SDTMIG v3.4 (CDISC 2021), the domain specifications: Req and Exp variables
    "DM": "STUDYID DOMAIN USUBJID SUBJID SITEID SEX COUNTRY RFSTDTC RFENDTC RFXSTDTC RFXENDTC "
    "RFICDTC RFPENDTC DTHDTC DTHFL AGE AGEU RACE ARMCD ARM ACTARMCD ACTARM ARMNRS ACTARMUD",
    "AE": "STUDYID DOMAIN USUBJID AESEQ AETERM AEDECOD AELLT AELLTCD AEPTCD AEHLT AEHLTCD "
    "AEHLGT AEHLGTCD AEBODSYS AEBDSYCD AESOC AESOCCD AESER AEACN AEREL AESTDTC AEENDTC",
    "EX": "STUDYID DOMAIN USUBJID EXSEQ EXTRT EXDOSE EXDOSU EXDOSFRM EXSTDTC EXENDTC",
    "DS": "STUDYID DOMAIN USUBJID DSSEQ DSTERM DSDECOD DSCAT DSSTDTC DSSTDY",
    "RS": "STUDYID DOMAIN USUBJID RSSEQ RSTESTCD RSTEST RSCAT RSORRES RSSTRESC VISITNUM RSDTC",
    "TR": "STUDYID DOMAIN USUBJID TRSEQ TRTESTCD TRTEST TRLNKID TRORRES TRORRESU TRSTRESC "
    "TRSTRESN TRSTRESU TRMETHOD TRLOBXFL TREVAL VISITNUM TRDTC",
    "TU": "STUDYID DOMAIN USUBJID TUSEQ TUTESTCD TUTEST TULNKID TUORRES TUSTRESC TULOC "
    "TUMETHOD TULOBXFL TUEVAL VISITNUM TUDTC",
}
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_TRIAL_DESIGN = {"TA", "TE", "TV", "TI", "TS"}
_NO_DOMAIN = {*_TRIAL_DESIGN, "SUPPDM"}


def check_dataset(dataset: Dataset) -> None:
    """One dataset: names, labels, lengths, Char values, --SEQ, DOMAIN, Req/Exp variables."""
    assert dataset.name.isupper() and len(dataset.label) <= 40
    assert dataset.standard == "SDTMIG 3.4" and dataset.klass
    names = [v.name for v in dataset.variables]
    assert list(dataset.frame.columns) == names
    assert len(set(names)) == len(names)
    for expected in REQUIRED_EXPECTED.get(dataset.name, "").split():
        assert expected in names, (dataset.name, expected)
    for variable in dataset.variables:
        assert _NAME.match(variable.name) and len(variable.label) <= 40, variable
        assert variable.origin in {"Collected", "Derived", "Assigned", "Protocol"}, variable
        if variable.origin == "Derived" and variable.name not in {"STUDYID", "DOMAIN"}:
            assert variable.derivation, variable
        values = dataset.frame[variable.name]
        if variable.type == "Char":
            texts = [v for v in values if v is not None]
            assert all(isinstance(v, str) and v != "" for v in texts), variable
            longest = max((len(v) for v in texts), default=1)
            # the length the data need, at least 1, never a value longer than it
            assert variable.length == max(1, longest), (variable, longest)
            if variable.codelist is not None:
                assert set(texts) <= set(variable.codelist), (variable.name, set(texts))
        else:
            assert all(isinstance(v, float) for v in values), variable
    keys = sorted((v.key, v.name) for v in dataset.variables if v.key is not None)
    assert [k for k, _ in keys] == list(range(1, len(keys) + 1)), dataset.name
    # the key variables identify each record (Dataset-JSON keySequence, define.xml)
    key_names = [n for _, n in keys]
    assert not dataset.frame.duplicated(key_names).any(), (dataset.name, key_names)
    if dataset.name not in _NO_DOMAIN:
        assert set(dataset.frame["DOMAIN"]) <= {dataset.name}
        seq = f"{dataset.name}SEQ"
        if seq in names:
            for _, group in dataset.frame.groupby("USUBJID"):
                assert group[seq].tolist() == [float(i) for i in range(1, len(group) + 1)]
        if "USUBJID" in names:
            assert all(isinstance(u, str) for u in dataset.frame["USUBJID"])


def check_all(datasets: Sequence[Dataset]) -> None:
    """Every dataset, in :data:`ORDER`."""
    assert [d.name for d in datasets] == list(ORDER)
    for dataset in datasets:
        check_dataset(dataset)
    dm = datasets[0].frame
    assert dm["USUBJID"].is_unique
    for dataset in [*datasets[1:14], datasets[-1]]:  # subject records belong to DM subjects
        assert set(dataset.frame["USUBJID"]) <= set(dm["USUBJID"])
    for dataset in datasets:
        for column in dataset.frame.columns:
            if column.endswith("DY") and dataset.variable(column).type == "Num":
                assert not any(v == 0 for v in dataset.frame[column] if not math.isnan(v))
