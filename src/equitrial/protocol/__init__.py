"""The study description: a pydantic model of the protocol file (TOML).

A trial is described by a ``protocol.toml`` (see ``examples/melanoma-pembrolizumab/``) with the
tables ``[study]``, ``[[arms]]``, ``[randomization]``, ``[stratification]``, ``[enrolment]``
(optional), ``[treatment]`` (optional: the allowed dose regimens), ``[[eligibility]]``
(optional: inclusion and exclusion criteria), ``[[schedule]]``,
``[[endpoints]]``, ``[hypothesis]``, ``[[interim_analyses]]`` and ``[assumptions]``. Sizes are
bounded (``MAX_*``: factors, levels, strata, block sizes, sample size, file size) and checked
before anything is built from the protocol.
:func:`load_protocol` reads a file, :func:`parse_protocol` a TOML text and
:func:`protocol_from_dict` a dict; each returns a frozen :class:`Protocol` or raises
:class:`ProtocolError` (an :class:`~equitrial.errors.InvalidInputError`) listing every problem
as ``file: key.path = value: what is expected`` (list indices count from 0: ``arms[1]`` is the
second ``[[arms]]`` table). Unknown keys are errors, so a misspelt key never passes silently.
Checks that span tables (arms against allocation ratio and response rates, endpoints against the
hypothesis, ...) run once every table is valid on its own, so a second run may report more.
"""

from equitrial.protocol._assumptions import (
    Accrual,
    Assumptions,
    CureMixture,
    Exponential,
    HazardPiece,
    PiecewiseExponential,
    SurvivalModel,
)
from equitrial.protocol._eligibility import CriterionKind, EligibilityCriterion
from equitrial.protocol._endpoints import (
    SPENDING_FUNCTIONS,
    Endpoint,
    Estimand,
    Hypothesis,
    InterimAnalysis,
    MarginSpec,
)
from equitrial.protocol._enrolment import Enrolment
from equitrial.protocol._errors import ProtocolError, ProtocolIssue
from equitrial.protocol._limits import (
    MAX_BLOCK_SIZE,
    MAX_FACTORS,
    MAX_LEVELS,
    MAX_PROTOCOL_BYTES,
    MAX_SAMPLE_SIZE,
    MAX_STRATA,
)
from equitrial.protocol._load import load_protocol, parse_protocol, protocol_from_dict
from equitrial.protocol._protocol import Protocol
from equitrial.protocol._schedule import AssessmentKind, ScheduleItem
from equitrial.protocol._study import (
    APPROVED_REGIMENS,
    Arm,
    Dose,
    Minimization,
    PermutedBlocks,
    Randomization,
    Study,
)
from equitrial.protocol._treatment import Regimen, Treatment

__all__ = [
    "APPROVED_REGIMENS",
    "MAX_BLOCK_SIZE",
    "MAX_FACTORS",
    "MAX_LEVELS",
    "MAX_PROTOCOL_BYTES",
    "MAX_SAMPLE_SIZE",
    "MAX_STRATA",
    "SPENDING_FUNCTIONS",
    "Accrual",
    "Arm",
    "AssessmentKind",
    "Assumptions",
    "CriterionKind",
    "CureMixture",
    "Dose",
    "EligibilityCriterion",
    "Endpoint",
    "Enrolment",
    "Estimand",
    "Exponential",
    "HazardPiece",
    "Hypothesis",
    "InterimAnalysis",
    "MarginSpec",
    "Minimization",
    "PermutedBlocks",
    "PiecewiseExponential",
    "Protocol",
    "ProtocolError",
    "ProtocolIssue",
    "Randomization",
    "Regimen",
    "ScheduleItem",
    "Study",
    "SurvivalModel",
    "Treatment",
    "load_protocol",
    "parse_protocol",
    "protocol_from_dict",
]
