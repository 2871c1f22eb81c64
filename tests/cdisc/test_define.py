"""define.xml 2.1: every dataset and variable listed, with the metadata the datasets carry.

The file is parsed back twice: with ElementTree (namespaces of Define-XML 2.1 section 2.3:
ODM 1.3 default namespace, ``def`` v2.1, ``xlink``) and with odmlib's Define-XML 2.1 loader.
Expected values: the hand-made metadata of ``cdisc_samples`` and the mapping of Define-XML 2.1
section 4.4.1 (Char -> text, integer -> integer, double -> float, numeric date -> integer with
``DATE9.``).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from cdisc_samples import samples, subjects
from odmlib.define_loader import XMLDefineLoader
from odmlib.loader import ODMLoader

from equitrial.cdisc.define import write_define
from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}
STUDY = {"code": "EQT-001", "title": "Biosimilar equivalence trial", "protocol_version": "2.0"}
CREATED = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
DEF = "{http://www.cdisc.org/ns/def/v2.1}"


def _dm() -> Dataset:
    variables = (
        Variable("STUDYID", "Study Identifier", "Char", 12, origin="Protocol", key=1),
        Variable("DOMAIN", "Domain Abbreviation", "Char", 2, origin="Assigned", codelist=("DM",)),
        Variable("USUBJID", "Unique Subject Identifier", "Char", 20, origin="Assigned", key=2),
        Variable("RFSTDTC", "Subject Reference Start Date/Time", "Char", 19, data_type="datetime",
                 derivation="First dose date (EX.EXSTDTC)"),
        Variable("AGE", "Age", "Num", data_type="integer", origin="Collected",
                 derivation="Collected on the demography form in completed years"),
    )  # fmt: skip
    frame = pd.DataFrame(
        {"STUDYID": ["EQT-001"], "DOMAIN": ["DM"], "USUBJID": ["EQT-001-01-001"],
         "RFSTDTC": ["2024-01-03T10:00"], "AGE": [34.0]}
    )  # fmt: skip
    return Dataset(
        "DM", "Demographics", "SPECIAL PURPOSE", "One record per subject", "SDTMIG 3.4",
        variables, frame,
    )  # fmt: skip


@pytest.fixture(scope="module")
def define(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("define") / "define.xml"
    write_define([_dm(), *samples()], path, study=STUDY, created=CREATED)
    return path


def test_root_study_and_standards(define: Path) -> None:
    root = ET.parse(define).getroot()
    assert root.tag == "{http://www.cdisc.org/ns/odm/v1.3}ODM"
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get(f"{DEF}Context") == "Submission"
    assert root.get("CreationDateTime") == "2026-12-07T15:00:00+00:00"
    study = root.find("odm:Study", NS)
    assert study is not None and study.get("OID") == "ST.EQT-001"
    assert study.findtext("odm:GlobalVariables/odm:StudyName", namespaces=NS) == "EQT-001"
    mdv = study.find("odm:MetaDataVersion", NS)
    assert mdv is not None and mdv.get(f"{DEF}DefineVersion") == "2.1.0"
    standards = {
        (s.get("Name"), s.get("Version"), s.get("OID"))
        for s in mdv.findall("def:Standards/def:Standard", NS)
    }
    assert standards == {("SDTMIG", "3.4", "STD.SDTMIG.3.4"), ("ADaMIG", "1.3", "STD.ADaMIG.1.3")}


def _mdv(define: Path) -> ET.Element:
    mdv = ET.parse(define).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    return mdv


@pytest.mark.parametrize("dataset", [_dm(), *samples()], ids=lambda d: d.name)
def test_every_dataset_and_variable_is_listed(dataset: Dataset, define: Path) -> None:
    mdv = _mdv(define)
    group = mdv.find(f"odm:ItemGroupDef[@OID='IG.{dataset.name}']", NS)
    assert group is not None
    adam = dataset.standard.startswith("ADaM")
    assert group.get("Name") == group.get("SASDatasetName") == dataset.name
    assert group.get("Domain") == (None if adam else dataset.name)
    assert group.get("Purpose") == ("Analysis" if adam else "Tabulation")
    assert group.get("Repeating") == ("No" if dataset.name in {"DM", "ADSL"} else "Yes")
    assert group.get(f"{DEF}Structure") == dataset.structure
    assert group.get(f"{DEF}StandardOID") == "STD." + dataset.standard.replace(" ", ".")
    assert group.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == dataset.label
    klass = group.find("def:Class", NS)
    assert klass is not None and klass.get("Name") == dataset.klass
    leaf = group.find("def:leaf", NS)
    href = f"{'adam' if adam else 'sdtm'}/{dataset.name.lower()}.xpt"
    assert leaf is not None and leaf.get(f"{{{NS['xlink']}}}href") == href
    assert leaf.get("ID") == group.get(f"{DEF}ArchiveLocationID")
    refs = group.findall("odm:ItemRef", NS)
    assert [r.get("ItemOID") for r in refs] == [
        f"IT.{dataset.name}.{v.name}" for v in dataset.variables
    ]
    assert [r.get("OrderNumber") for r in refs] == [str(i + 1) for i in range(len(refs))]
    for ref, variable in zip(refs, dataset.variables, strict=True):
        assert ref.get("KeySequence") == (None if variable.key is None else str(variable.key))
        assert ref.get("Mandatory") == ("Yes" if variable.key is not None else "No")
        item = mdv.find(f"odm:ItemDef[@OID='IT.{dataset.name}.{variable.name}']", NS)
        assert item is not None
        assert item.get("Name") == item.get("SASFieldName") == variable.name
        assert item.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == variable.label
        expected_length = variable.length if variable.type == "Char" else 8
        assert item.get("Length") == str(expected_length)
        origin = item.find("def:Origin", NS)
        assert origin is not None and origin.get("Type") == variable.origin


@pytest.mark.parametrize(
    ("oid", "data_type", "display"),
    [
        ("IT.DM.STUDYID", "text", None),
        ("IT.DM.RFSTDTC", "datetime", None),
        ("IT.DM.AGE", "integer", None),
        ("IT.ADLB.AVAL", "float", None),
        ("IT.ADSL.TRTSDT", "integer", "DATE9."),
        ("IT.ADLB.ADT", "integer", "DATE9."),
    ],
)
def test_data_types(oid: str, data_type: str, display: str | None, define: Path) -> None:
    item = _mdv(define).find(f"odm:ItemDef[@OID='{oid}']", NS)
    assert item is not None
    assert item.get("DataType") == data_type
    assert item.get(f"{DEF}DisplayFormat") == display


def test_codelists_methods_and_comments(define: Path) -> None:
    mdv = _mdv(define)
    sex = mdv.find("odm:ItemDef[@OID='IT.ADSL.SEX']/odm:CodeListRef", NS)
    assert sex is not None and sex.get("CodeListOID") == "CL.ADSL.SEX"
    codelist = mdv.find("odm:CodeList[@OID='CL.ADSL.SEX']", NS)
    assert codelist is not None and codelist.get("DataType") == "text"
    values = [e.get("CodedValue") for e in codelist.findall("odm:EnumeratedItem", NS)]
    assert values == ["F", "M", "U"]
    # TRTSDT: Derived with a derivation -> a MethodDef referenced by its ItemRef
    ref = mdv.find("odm:ItemGroupDef[@OID='IG.ADSL']/odm:ItemRef[@ItemOID='IT.ADSL.TRTSDT']", NS)
    assert ref is not None and ref.get("MethodOID") == "MT.ADSL.TRTSDT"
    method = mdv.find("odm:MethodDef[@OID='MT.ADSL.TRTSDT']", NS)
    assert method is not None and method.get("Type") == "Computation"
    text = method.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
    assert text == subjects().variable("TRTSDT").derivation
    # AGE of DM: Collected with a note -> a def:CommentDef referenced by the ItemDef
    age = mdv.find("odm:ItemDef[@OID='IT.DM.AGE']", NS)
    assert age is not None and age.get(f"{DEF}CommentOID") == "COM.DM.AGE"
    comment = mdv.find("def:CommentDef[@OID='COM.DM.AGE']", NS)
    assert comment is not None
    assert comment.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == (
        "Collected on the demography form in completed years"
    )


def test_odmlib_loads_it_back(define: Path) -> None:
    loader = ODMLoader(XMLDefineLoader(model_package="define_2_1"))
    loader.load_odm_string(define.read_text("utf-8"))
    mdv = loader.MetaDataVersion()
    assert [g.Name for g in mdv.ItemGroupDef] == ["DM", "ADSL", "ADLB", "AE"]
    n_variables = sum(len(d.variables) for d in [_dm(), *samples()])
    assert len(mdv.ItemDef) == n_variables
    aval = mdv.find("ItemDef", "OID", "IT.ADLB.AVAL")
    assert aval.DataType == "float" and aval.Length == 8


def test_duplicate_dataset_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="same name"):
        write_define([subjects(), subjects()], tmp_path / "define.xml", study=STUDY)
