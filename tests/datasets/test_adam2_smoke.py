"""ADAE ... ADQS built from a small trial run through the services (the virtual demo trial)."""

from __future__ import annotations

from pathlib import Path

import pytest
from adam2_support import adsl_from, check_dataset

from equitrial.datasets import StudySource
from equitrial.datasets.adae import build_adae
from equitrial.datasets.adex import build_adex
from equitrial.datasets.adis import build_adis
from equitrial.datasets.adlb import build_adlb
from equitrial.datasets.adpc import build_adpc, build_adpp
from equitrial.datasets.adqs import build_adqs
from equitrial.demo import run_demo
from equitrial.services.export import study_source
from equitrial.store.db import make_engine

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudySource:
    out = tmp_path_factory.mktemp("adam2")
    summary = run_demo(out, patients=6, seed=11, demo_password="a river runs deep 7",
                       protocol=PROTOCOL, analyses=False)  # fmt: skip
    engine = make_engine(f"sqlite:///{summary.database}")
    try:
        return study_source(engine)
    finally:
        engine.dispose()


def test_all_datasets_build(study: StudySource) -> None:
    adsl = adsl_from(study)
    adae = build_adae(study, adsl)
    adlb = build_adlb(study, adsl)
    adex = build_adex(study, adsl)
    adpc = build_adpc(study, adsl)
    adpp = build_adpp(study, adsl)
    adis = build_adis(study, adsl)
    adqs = build_adqs(study, adsl)
    check_dataset(adae, "ADAE", "OCCURRENCE DATA STRUCTURE")
    for ds in (adlb, adex, adpc, adpp, adis, adqs):
        check_dataset(ds, ds.name, "BASIC DATA STRUCTURE")
    dosed = set(adsl.frame.loc[adsl.frame["SAFFL"] == "Y", "USUBJID"])
    assert dosed and set(adex.frame["USUBJID"]) == dosed
    assert len(adlb.frame) == len(study.tables["lab_result"])
    assert len(adpc.frame) == len(study.tables["pk_sample"])
    assert len(adqs.frame) == 15 * len(study.tables["questionnaire_response"])
    # every dosed subject has a baseline lab and QLQ-C30 record, and its exposure summaries
    assert set(adlb.frame.loc[adlb.frame["ABLFL"] == "Y", "USUBJID"]) == dosed
    summaries = adex.frame[adex.frame["PARCAT2"] == "OVERALL"]
    assert (summaries.groupby("USUBJID").size() == 5).all()
    assert (summaries.loc[summaries["PARAMCD"] == "RDI", "AVAL"] > 0).all()
    assert set(adpp.frame["PARAMCD"]) <= {"CTROUGH"}
    assert set(adis.frame["ADASTAT"]) <= {
        "TREATMENT-INDUCED",
        "TREATMENT-BOOSTED",
        "TREATMENT-UNAFFECTED",
        "NEGATIVE",
        "NOT EVALUABLE",
    }
