"""What every CDISC dataset of equitrial is: a frame and the metadata of its variables.

A :class:`Dataset` is built by ``equitrial.datasets`` (ADaM) or ``equitrial.cdisc.sdtm``
(SDTM) from a :class:`StudySource`, and written by ``equitrial.cdisc`` as SAS XPT v5,
Dataset-JSON v1.1 and one define.xml 2.1 entry. The metadata travel with the frame, so the files
never guess a label, a length or a type.

Conventions of the frame (one column per :class:`Variable`, in the variables' order):

- ``Char`` variables hold ``str`` or ``None`` (missing); never ``NaN``;
- ``Num`` variables hold ``float`` or ``int``, ``NaN`` when missing;
- numeric dates (ADaM ``*DT``; ``data_type`` ``"date"``) hold ``datetime.date`` or ``None``;
  the XPT writer turns them into SAS dates with format ``DATE9.``, Dataset-JSON into ISO 8601
  text with ``targetDataType`` ``integer``;
- SDTM ``--DTC`` variables are ``Char`` ISO 8601 text (``YYYY-MM-DD`` or with time).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandas as pd

from equitrial.errors import InvalidInputError

__all__ = ["DATA_TYPES", "ORIGINS", "Dataset", "StudySource", "Variable"]

DATA_TYPES: Final = frozenset({"string", "integer", "float", "double", "date", "datetime"})
"""Dataset-JSON v1.1 ``dataType`` values used here."""
ORIGINS: Final = frozenset({"Collected", "Derived", "Assigned", "Protocol", "Predecessor"})
"""define.xml 2.1 origin types."""
_NAME: Final = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")


@dataclass(frozen=True)
class Variable:
    """One variable of a dataset, as define.xml and the transport files describe it.

    Attributes
    ----------
    name
        Upper case, a letter first, at most 8 characters (SAS V5 transport).
    label
        At most 40 characters.
    type
        ``"Char"`` or ``"Num"`` (the SAS type).
    length
        Characters of a ``Char`` variable (the XPT length; at most 200); ``Num`` is 8.
    data_type
        Dataset-JSON ``dataType``: ``string``, ``integer``, ``float``, ``double``, ``date``
        (an ADaM numeric date), ``datetime``.
    origin
        define.xml origin: ``Collected``, ``Derived``, ``Assigned``, ``Protocol``, ``Predecessor``.
    derivation
        How a derived value is computed (define.xml method / comment), in words.
    codelist
        The allowed values (controlled terminology), when the variable has a codelist.
    key
        Position in the dataset's key (Dataset-JSON ``keySequence``), ``None`` if not a key.
    """

    name: str
    label: str
    type: Literal["Char", "Num"]
    length: int = 8
    data_type: str = "string"
    origin: str = "Derived"
    derivation: str | None = None
    codelist: tuple[str, ...] | None = None
    key: int | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidInputError(f"variable name {self.name!r}", field="name")
        if len(self.label) > 40:
            raise InvalidInputError(f"{self.name}: label over 40 characters", field="label")
        if self.data_type not in DATA_TYPES:
            raise InvalidInputError(f"{self.name}: dataType {self.data_type!r}", field="data_type")
        if self.origin not in ORIGINS:
            raise InvalidInputError(f"{self.name}: origin {self.origin!r}", field="origin")
        if self.type == "Char" and not 1 <= self.length <= 200:
            raise InvalidInputError(f"{self.name}: length {self.length}", field="length")


@dataclass(frozen=True)
class Dataset:
    """A dataset: name, label, class and structure, variables and the frame.

    Attributes
    ----------
    name
        Upper case (``ADSL``, ``DM``); files are written lower case (``adsl.xpt``).
    label
        At most 40 characters.
    klass
        The define.xml class: ``SUBJECT LEVEL ANALYSIS DATASET``, ``BASIC DATA STRUCTURE``,
        ``OCCURRENCE DATA STRUCTURE``, ``SPECIAL PURPOSE``, ``EVENTS``, ``FINDINGS``,
        ``INTERVENTIONS``, ``TRIAL DESIGN``, ``RELATIONSHIP``.
    structure
        In words (``One record per subject``).
    standard
        ``"SDTMIG 3.4"`` or ``"ADaMIG 1.3"``.
    variables
        In the frame's column order.
    frame
        One column per variable.
    """

    name: str
    label: str
    klass: str
    structure: str
    standard: str
    variables: tuple[Variable, ...]
    frame: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        names = [v.name for v in self.variables]
        if list(self.frame.columns) != names:
            raise InvalidInputError(
                f"{self.name}: frame columns {list(self.frame.columns)} are not its variables "
                f"{names}",
                field="frame",
            )
        if len(self.label) > 40:
            raise InvalidInputError(f"{self.name}: label over 40 characters", field="label")

    def variable(self, name: str) -> Variable:
        """The variable called ``name``."""
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


@dataclass(frozen=True)
class StudySource:
    """What the datasets are derived from: the study's captured records, read in one snapshot.

    Built by ``equitrial.services.export`` from the store (everything, or as of a data cut:
    subjects consented and records dated on or before the cut-off, the rules of
    :mod:`equitrial.services.datacut`), or by a test by hand.

    Attributes
    ----------
    study
        ``code``, ``title``, ``protocol_version`` of the study.
    protocol
        The study's protocol (:class:`equitrial.protocol.Protocol`).
    tables
        Store table name -> its rows (column name -> value), e.g. ``"subject"``, ``"site"``,
        ``"demographics"``, ``"visit"``, ``"dose"``, ``"lesion"``, ``"lesion_measurement"``,
        ``"tumour_assessment"``, ``"adverse_event"``, ``"lab_result"``, ``"pk_sample"``,
        ``"ada_sample"``, ``"questionnaire_response"``, ``"con_med"``, ``"subsequent_therapy"``,
        ``"disposition"``, ``"death"``, ``"regimen_period"``, ``"kit"``, ``"medical_history"``,
        ``"informed_consent"``. A table without rows may be missing.
    arms
        Subject id -> arm code of its allocation (the randomized arm; unblinded).
    cutoff
        The data cut-off date, ``None`` for everything in the store.
    """

    study: Mapping[str, Any]
    protocol: Any
    tables: Mapping[str, list[dict[str, Any]]]
    arms: Mapping[int, str]
    cutoff: dt.date | None = None

    def frame(self, table: str) -> pd.DataFrame:
        """The rows of ``table`` as a frame (empty, without columns, if it has none)."""
        return pd.DataFrame(list(self.tables.get(table, [])))
