"""define.xml 2.1: the metadata of the SDTM and ADaM datasets, built with odmlib.

One ``def:Standard`` per standard in use (``SDTMIG 3.4``, ``ADaMIG 1.3``); one
``ItemGroupDef`` per dataset (``OID`` ``IG.<NAME>``, ``Name``, ``Domain`` for SDTM,
``SASDatasetName``, ``Repeating``, ``Purpose`` ``Tabulation`` / ``Analysis``, ``def:Structure``,
``def:Class``, ``def:StandardOID``, ``def:ArchiveLocationID`` and a ``def:leaf`` to the
``.xpt``); one ``ItemDef`` per variable (``OID`` ``IT.<NAME>.<VARIABLE>``, the same OIDs as the
Dataset-JSON files), with ``DataType``, ``Length``, ``SASFieldName``, label and ``def:Origin``;
a ``CodeList`` (enumerated items) for each variable with a codelist; a ``MethodDef`` for each
derived variable whose derivation is given, a ``def:CommentDef`` for the derivation text of a
variable of another origin [1]_.

Data types (Define-XML 2.1 section 4.4.1 [1]_): ``Char`` -> ``text`` (``date`` / ``datetime``
for ISO 8601 ``--DTC`` text); ``Num`` -> ``integer`` or ``float``; an ADaM numeric date ->
``integer`` with ``def:DisplayFormat`` ``DATE9.``.

References
----------
.. [1] CDISC, "Define-XML Version 2.1", 2019-05-15, https://www.cdisc.org/standards/data-exchange/define-xml
.. [2] CDISC, "Specification for the Operational Data Model (ODM) Version 1.3.2", 2013.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import odmlib.define_2_1.model as DEFINE
import odmlib.ns_registry as NS
from odmlib.define_2_1.rules.metadata_schema import MetadataSchema
from odmlib.exceptions import OdmlibError, OdmlibWarning
from odmlib.oid_generator import create_oid_checker

from equitrial import __version__
from equitrial.cdisc.dataset_json import item_group_oid, item_oid
from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError

__all__ = ["DEF_NS", "ODM_NS", "dataset_href", "define_document", "write_define"]

ODM_NS: Final = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS: Final = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
_ONE_PER_SUBJECT: Final = frozenset({"DM", "ADSL"})


def _register_namespaces() -> None:
    registry: Any = NS.NamespaceRegistry  # odmlib's registry is process-wide (untyped)
    registry(prefix="odm", uri=ODM_NS, is_default=True, is_reset=True)
    registry(prefix="def", uri=DEF_NS)
    registry(prefix="xlink", uri=XLINK_NS)


def _is_adam(dataset: Dataset) -> bool:
    return dataset.standard.upper().startswith("ADAM")


def dataset_href(dataset: Dataset) -> str:
    """Where ``equitrial export`` puts the dataset's XPT, relative to define.xml.

    ``sdtm/<name lower>.xpt`` for SDTM, ``adam/<name lower>.xpt`` for ADaM.
    """
    return f"{'adam' if _is_adam(dataset) else 'sdtm'}/{dataset.name.lower()}.xpt"


def _standard_oid(standard: str) -> str:
    return "STD." + standard.replace(" ", ".")


def _standard(standard: str) -> Any:
    name, _, version = standard.partition(" ")
    if not version:
        raise InvalidInputError(f"standard {standard!r}: expected 'NAME VERSION'", field="standard")
    return DEFINE.Standard(
        OID=_standard_oid(standard), Name=name, Type="IG", Version=version, Status="Final"
    )


def _text(text: str) -> Any:
    return DEFINE.Description(TranslatedText=[DEFINE.TranslatedText(_content=text, lang="en")])


def _data_type(variable: Variable) -> str:
    if variable.type == "Char":
        return variable.data_type if variable.data_type in {"date", "datetime"} else "text"
    if variable.data_type == "float" or variable.data_type == "double":
        return "float"
    return "integer"  # integers and numeric dates (SAS date values)


def _codelist(dataset: Dataset, variable: Variable, values: tuple[str, ...]) -> Any:
    items = [
        DEFINE.EnumeratedItem(CodedValue=value, OrderNumber=number)
        for number, value in enumerate(values, start=1)
    ]
    return DEFINE.CodeList(
        OID=f"CL.{dataset.name}.{variable.name}",
        Name=f"{dataset.name}.{variable.name}",
        DataType="text" if variable.type == "Char" else "integer",
        EnumeratedItem=items,
    )


def _item_def(dataset: Dataset, variable: Variable, mdv: Any) -> Any:
    oid = item_oid(dataset, variable)
    item = DEFINE.ItemDef(
        OID=oid,
        Name=variable.name,
        DataType=_data_type(variable),
        Length=variable.length if variable.type == "Char" else 8,
        SASFieldName=variable.name,
    )
    if variable.type == "Num" and variable.data_type == "date":
        item.DisplayFormat = "DATE9."
    item.Description = _text(variable.label)
    if variable.codelist:
        item.CodeListRef = DEFINE.CodeListRef(CodeListOID=f"CL.{dataset.name}.{variable.name}")
        mdv.CodeList.append(_codelist(dataset, variable, variable.codelist))
    origin = DEFINE.Origin(Type=variable.origin)
    if variable.origin == "Predecessor" and variable.derivation:
        origin.Description = _text(variable.derivation)
    elif variable.origin != "Derived" and variable.derivation:
        item.CommentOID = f"COM.{dataset.name}.{variable.name}"
        mdv.CommentDef.append(
            DEFINE.CommentDef(OID=item.CommentOID, Description=_text(variable.derivation))
        )
    item.Origin.append(origin)
    return item


def _item_ref(dataset: Dataset, variable: Variable, order: int, mdv: Any) -> Any:
    ref = DEFINE.ItemRef(
        ItemOID=item_oid(dataset, variable),
        OrderNumber=order,
        Mandatory="Yes" if variable.key is not None else "No",
    )
    if variable.key is not None:
        ref.KeySequence = variable.key
    if variable.origin == "Derived" and variable.derivation:
        ref.MethodOID = f"MT.{dataset.name}.{variable.name}"
        mdv.MethodDef.append(
            DEFINE.MethodDef(
                OID=ref.MethodOID,
                Name=f"Algorithm to derive {dataset.name}.{variable.name}",
                Type="Computation",
                Description=_text(variable.derivation),
            )
        )
    return ref


def _item_group(dataset: Dataset, mdv: Any, href: str) -> Any:
    adam = _is_adam(dataset)
    leaf_id = f"LF.{dataset.name}"
    group = DEFINE.ItemGroupDef(
        OID=item_group_oid(dataset),
        Name=dataset.name,
        Repeating="No" if dataset.name in _ONE_PER_SUBJECT else "Yes",
        IsReferenceData="Yes" if dataset.klass == "TRIAL DESIGN" else "No",
        SASDatasetName=dataset.name,
        Purpose="Analysis" if adam else "Tabulation",
        Structure=dataset.structure,
        ArchiveLocationID=leaf_id,
        StandardOID=_standard_oid(dataset.standard),
    )
    if not adam:
        group.Domain = dataset.name
    group.Description = _text(dataset.label)
    for order, variable in enumerate(dataset.variables, start=1):
        group.ItemRef.append(_item_ref(dataset, variable, order, mdv))
        mdv.ItemDef.append(_item_def(dataset, variable, mdv))
    group.Class = DEFINE.Class(Name=dataset.klass)
    group.leaf = DEFINE.leaf(
        ID=leaf_id, href=href, title=DEFINE.title(_content=href.rsplit("/", 1)[-1])
    )
    return group


def define_document(
    datasets: Iterable[Dataset],
    *,
    study: Mapping[str, Any],
    created: dt.datetime | None = None,
    href: Callable[[Dataset], str] = dataset_href,
) -> Any:
    """The define.xml 2.1 document (an odmlib ``ODM`` object) describing ``datasets``.

    Parameters
    ----------
    datasets
        SDTM and/or ADaM datasets; names must be unique.
    study
        ``code``, ``title`` and ``protocol_version`` of the study (``StudySource.study``).
    created
        ``CreationDateTime`` (now, in UTC, if ``None``).
    href
        The ``def:leaf`` target of a dataset, relative to define.xml (default
        :func:`dataset_href`).

    Raises
    ------
    InvalidInputError
        Two datasets with the same name, or a standard not written ``NAME VERSION``.
    """
    _register_namespaces()
    datasets = list(datasets)
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"datasets with the same name: {sorted(names)}", field="datasets")
    when = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    code = str(study["code"])
    odm = DEFINE.ODM(
        FileOID=f"DEF.{code}",
        AsOfDateTime=when,
        CreationDateTime=when,
        ODMVersion="1.3.2",
        FileType="Snapshot",
        Originator="equitrial",
        SourceSystem="equitrial",
        SourceSystemVersion=__version__,
        Context="Submission",
    )
    globals_ = DEFINE.GlobalVariables(
        StudyName=DEFINE.StudyName(_content=code),
        StudyDescription=DEFINE.StudyDescription(_content=str(study.get("title") or code)),
        ProtocolName=DEFINE.ProtocolName(_content=code),
    )
    mdv = DEFINE.MetaDataVersion(
        OID=f"MDV.{code}.{study.get('protocol_version') or 1}",
        Name=f"{code} submission data definitions",
        Description=f"SDTM and ADaM datasets of study {code}",
        DefineVersion="2.1.0",
    )
    standards = sorted({d.standard for d in datasets})
    if standards:
        mdv.Standards = DEFINE.Standards(Standard=[_standard(s) for s in standards])
    for dataset in datasets:
        mdv.ItemGroupDef.append(_item_group(dataset, mdv, href(dataset)))
    # the lists were filled in the order the datasets needed them (a MethodDef may come before
    # the first CodeList): put the elements in the order of the Define-XML 2.1 schema
    with warnings.catch_warnings():  # odmlib warns that it reorders: that is the intent here
        warnings.simplefilter("ignore", OdmlibWarning)
        mdv.reorder_object()
    odm.Study = DEFINE.Study(OID=f"ST.{code}", GlobalVariables=globals_, MetaDataVersion=mdv)
    return odm


def _conformance() -> Any:
    checker: Any = MetadataSchema  # odmlib's Cerberus rules of the Define-XML 2.1 model
    return checker()


def write_define(
    datasets: Iterable[Dataset],
    path: Path | str,
    *,
    study: Mapping[str, Any],
    created: dt.datetime | None = None,
    href: Callable[[Dataset], str] = dataset_href,
) -> None:
    """Write define.xml 2.1 describing ``datasets`` at ``path`` (UTF-8).

    Parameters are those of :func:`define_document`.

    Raises
    ------
    InvalidInputError
        As :func:`define_document`; or the document fails odmlib's checks of the Define-XML 2.1
        model (element order, OID uniqueness and references, attribute conformance).
    """
    try:
        odm = define_document(datasets, study=study, created=created, href=href)
    except OdmlibError as exc:  # a value the Define-XML model refuses (an empty label, say)
        raise InvalidInputError(f"define.xml: {exc}", field="define") from None
    errors = odm.validate(
        collect_errors=True,
        oid_checker=create_oid_checker("define_2_1"),
        conformance_checker=_conformance(),
    )
    if errors:
        raise InvalidInputError(f"define.xml does not conform: {errors[0]}", field="define")
    odm.write_xml(str(path))
