"""Every validation rule: the example, altered in one place, is refused with a message that names
the file, the key path, the value and what is expected (one problem per line)."""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.errors import EquitrialError, InvalidInputError
from equitrial.protocol import ProtocolError, protocol_from_dict
from equitrial.stats.equivalence import Margin

Data = dict[str, Any]
_EXAMPLE = tomllib.loads(
    (
        Path(__file__).resolve().parents[2] / "examples/melanoma-pembrolizumab/protocol.toml"
    ).read_text(encoding="utf-8")
)


def _set(path: str, value: Any) -> Callable[[Data], None]:
    """A mutation setting ``a.b[1].c`` to ``value`` (``...`` deletes the key)."""

    def mutate(data: Data) -> None:
        keys: list[Any] = [
            int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")
        ]
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        if value is ...:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return mutate


def _minimization(data: Data) -> None:
    data["randomization"] = {"method": "minimization", "allocation_ratio": [1, 1], "p_best": 0.8}


RULES = [
    # arms and doses
    (
        "arms[1].role",
        "test",
        (
            "arms = ['test', 'test']: expected exactly two arms, one with role "
            "'test' and one with role 'reference'"
        ),
    ),
    ("arms[1].code", "BIO", "arms[1].code = 'BIO': repeats an earlier arm code; expected unique"),
    (
        "arms[1].code",
        "B I O",
        "arms[1].code = 'B I O': expected a string matching pattern '^[A-Za-z0-9_-]+$'",
    ),
    ("arms[1].role", "control", "arms[1].role = 'control': expected 'test' or 'reference'"),
    (
        "arms[1].dose.interval_weeks",
        4,
        (
            "arms[1].dose.interval_weeks = 4.0: 200 mg Q4W is not an approved "
            "pembrolizumab regimen; expected 200 mg Q3W or 400 mg Q6W"
        ),
    ),
    (
        "arms[0].dose.dose_mg",
        300,
        (
            "arms[0].dose.dose_mg = 300.0: 300 mg Q3W is not an approved "
            "pembrolizumab regimen; expected 200 mg Q3W or 400 mg Q6W"
        ),
    ),
    ("arms[0].dose.dose_mg", -200, "arms[0].dose.dose_mg = -200: expected greater than 0"),
    (
        "arms[0].dose.max_cycles",
        0,
        "arms[0].dose.max_cycles = 0: expected greater than or equal to 1",
    ),
    # allocation and randomization
    (
        "randomization.allocation_ratio",
        [1, 0],
        "randomization.allocation_ratio[1] = 0: expected a whole number >= 1",
    ),
    (
        "randomization.allocation_ratio",
        [1, 1.5],
        "randomization.allocation_ratio[1] = 1.5: expected a valid integer",
    ),
    (
        "randomization.block_sizes",
        [4, 5],
        (
            "randomization.block_sizes[1] = 5: expected a positive multiple of 2 "
            "(the sum of the allocation ratio)"
        ),
    ),
    (
        "randomization.block_sizes",
        [4, 4],
        "randomization.block_sizes = [4, 4]: expected unique sizes",
    ),
    (
        "randomization.block_sizes",
        [],
        "randomization.block_sizes = []: is empty; expected at least one size",
    ),
    (
        "randomization.method",
        "urn",
        "randomization.method = 'urn': expected one of 'permuted-blocks', 'minimization'",
    ),
    (
        "randomization.method",
        ...,
        "randomization.method: expected one of 'permuted-blocks', 'minimization'",
    ),
    # stratification
    (
        "stratification.ecog_ps",
        ["0"],
        "stratification.ecog_ps = ['0']: expected at least two levels",
    ),
    (
        "stratification.ecog_ps",
        ["0", "1", "0"],
        "stratification.ecog_ps[2] = '0': repeats an earlier level; expected unique",
    ),
    (
        "stratification.ecog_ps",
        ["0", " "],
        "stratification.ecog_ps[1] = ' ': expected a non-empty level",
    ),
    ("stratification.ecog_ps", [0, 1], "stratification.ecog_ps[0] = 0: expected a valid string"),
    # schedule
    (
        "schedule[0].weeks",
        [0, 3],
        "schedule[0].interval_weeks = 3.0: expected to be absent when weeks is given",
    ),
    (
        "schedule[0].interval_weeks",
        ...,
        "schedule[0].interval_weeks: missing; expected interval_weeks or weeks",
    ),
    (
        "schedule[1].until_week",
        3,
        "schedule[1].until_week = 3.0: expected a week at or after start_week (9)",
    ),
    (
        "schedule[4].weeks",
        [0, 21, 3],
        "schedule[4].weeks[2] = 3.0: expected weeks in increasing order (after 21)",
    ),
    ("schedule[4].weeks", [], "schedule[4].weeks = []: is empty; expected at least one week"),
    (
        "schedule[2].name",
        "tumour imaging, to week 54",
        "schedule[2].name = 'tumour imaging, to week 54': repeats an earlier name; expected unique",
    ),
    ("schedule[0].kind", "scan", "schedule[0].kind = 'scan': expected 'dosing', 'tumour-imaging'"),
    ("schedule[0].interval_weeks", 0, "schedule[0].interval_weeks = 0: expected greater than 0"),
    # endpoints and estimands
    (
        "endpoints[0].role",
        "secondary",
        "endpoints: has 0 primary endpoints; expected exactly one role = 'primary'",
    ),
    (
        "endpoints[2].role",
        "primary",
        "endpoints: has 2 primary endpoints 'orr-w24' 'pfs'; expected exactly one role = 'primary'",
    ),
    (
        "endpoints[0].kind",
        "continuous",
        (
            "endpoints[0].kind = 'continuous': expected 'binary' for the primary "
            "endpoint (the hypothesis compares proportions)"
        ),
    ),
    (
        "endpoints[0].estimand.summary_measure",
        "risk-difference",
        (
            "endpoints[0].estimand.summary_measure = 'risk-difference': expected "
            "'risk-ratio' to match the hypothesis scale 'ratio'"
        ),
    ),
    (
        "endpoints[1].estimand.summary_measure",
        "risk-ratio",
        (
            "endpoints[1].estimand.summary_measure = 'risk-ratio': expected "
            "'risk-difference' to match the hypothesis scale 'difference'"
        ),
    ),
    (
        "endpoints[0].hypothesis",
        {
            "kind": "equivalence",
            "scale": "ratio",
            "margin": {"lower": 0.8, "upper": 1.25},
            "interval_method": "log",
            "level": 0.9,
        },
        (
            "endpoints[0].hypothesis = '{...}': expected no hypothesis on the "
            "primary endpoint; use the [hypothesis] table"
        ),
    ),
    (
        "endpoints[3].id",
        "pfs",
        "endpoints[3].id = 'pfs': repeats an earlier endpoint id; expected unique",
    ),
    (
        "endpoints[0].estimand.population",
        "all",
        (
            "endpoints[0].estimand.population = 'all': expected 'ITT', "
            "'modified-ITT', 'per-protocol', 'safety' or 'PK'"
        ),
    ),
    (
        "endpoints[0].estimand.intercurrent_events.death before week 24",
        "ignore",
        (
            'endpoints[0].estimand.intercurrent_events."death before week 24" = '
            "'ignore': expected 'treatment-policy', 'hypothetical', 'composite', "
            "'while-on-treatment' or 'principal-stratum'"
        ),
    ),
    (
        "endpoints[0].review",
        "local",
        "endpoints[0].review = 'local': expected 'blinded-central' or 'investigator'",
    ),
    (
        "endpoints[0].confirmation_required",
        "no",
        "endpoints[0].confirmation_required = 'no': expected a valid boolean",
    ),
    # hypothesis and margins
    (
        "hypothesis.margin.lower",
        1.05,
        (
            "hypothesis.margin.lower = 1.05: expected a bound below the null value "
            "1 of the ratio scale"
        ),
    ),
    (
        "hypothesis.margin.upper",
        0.95,
        (
            "hypothesis.margin.upper = 0.95: expected a bound above the null value "
            "1 of the ratio scale"
        ),
    ),
    ("hypothesis.margin.lower", 0, "hypothesis.margin.lower = 0.0: expected a ratio bound > 0"),
    (
        "hypothesis.margin.upper",
        ...,
        "hypothesis.margin.upper: expected a finite upper margin for equivalence",
    ),
    (
        "hypothesis.margin.upper",
        math.inf,
        "hypothesis.margin.upper: expected a finite upper margin for equivalence",
    ),
    (
        "hypothesis.kind",
        "superiority",
        "hypothesis.kind = 'superiority': expected 'equivalence' or 'non-inferiority'",
    ),
    (
        "hypothesis.interval_method",
        "newcombe",
        (
            "hypothesis.interval_method = 'newcombe': is not a method for the "
            "ratio scale; expected one of 'miettinen-nurminen', 'log'"
        ),
    ),
    (
        "hypothesis.interval_method",
        "wilson",
        (
            "hypothesis.interval_method = 'wilson': expected 'miettinen-nurminen', "
            "'newcombe', 'wald', 'agresti-caffo' or 'log'"
        ),
    ),
    ("hypothesis.level", 1.5, "hypothesis.level = 1.5: expected less than 1"),
    (
        "hypothesis.level",
        0.95,
        (
            "assumptions.alpha = 0.05: disagrees with hypothesis.level = 0.95; "
            "expected (1 - level) / 2 = 0.025"
        ),
    ),
    (
        "endpoints[1].hypothesis.margin.lower",
        0.05,
        (
            "endpoints[1].hypothesis.margin.lower = 0.05: expected a bound below "
            "the null value 0 of the difference scale"
        ),
    ),
    (
        "endpoints[1].hypothesis.interval_method",
        "log",
        (
            "endpoints[1].hypothesis.interval_method = 'log': is not a method for "
            "the difference scale; expected one of 'miettinen-nurminen', "
            "'newcombe', 'wald', 'agresti-caffo'"
        ),
    ),
    # interim analyses
    (
        "interim_analyses[0].months_after_first_patient",
        0,
        "interim_analyses[0].months_after_first_patient = 0: expected greater than 0",
    ),
    (
        "interim_analyses[0].months_after_first_patient",
        -6,
        "interim_analyses[0].months_after_first_patient = -6: expected greater than 0",
    ),
    (
        "interim_analyses[0].months_after_first_patient",
        ...,
        (
            "interim_analyses[0].months_after_first_patient: expected exactly one "
            "of months_after_first_patient and information_fraction"
        ),
    ),
    (
        "interim_analyses[0].information_fraction",
        0.5,
        (
            "interim_analyses[0].months_after_first_patient: expected exactly one "
            "of months_after_first_patient and information_fraction"
        ),
    ),
    (
        "interim_analyses[0].information_fraction",
        1.0,
        "interim_analyses[0].information_fraction = 1.0: expected less than 1",
    ),
    (
        "interim_analyses[0].spending",
        "hwang-shih-decani",
        "interim_analyses[0].gamma: missing; expected gamma for hwang-shih-decani",
    ),
    (
        "interim_analyses[0].gamma",
        -4,
        "interim_analyses[0].gamma = -4.0: expected gamma only with spending = 'hwang-shih-decani'",
    ),
    (
        "interim_analyses[0].purpose",
        "efficacy",
        "interim_analyses[0].spending = 'none': expected a spending function for an efficacy look",
    ),
    (
        "interim_analyses[0].spending",
        "lan-demets",
        (
            "interim_analyses[0].spending = 'lan-demets': expected "
            "'obrien-fleming', 'pocock', 'hwang-shih-decani', "
            "'classical-obrien-fleming', 'classical-pocock' or 'none'"
        ),
    ),
    (
        "interim_analyses[0].purpose",
        "peek",
        (
            "interim_analyses[0].purpose = 'peek': expected 'preliminary "
            "effectiveness', 'futility', 'efficacy' or 'safety'"
        ),
    ),
    # assumptions
    (
        "assumptions.response_rate",
        {"BIO": 0.33},
        "assumptions.response_rate = ['BIO']: expected one rate per arm code: BIO, REF",
    ),
    (
        "assumptions.response_rate.REF",
        1.2,
        "assumptions.response_rate.REF = 1.2: expected less than or equal to 1",
    ),
    (
        "assumptions.response_rate.REF",
        "0.33",
        "assumptions.response_rate.REF = '0.33': expected a valid number",
    ),
    (
        "assumptions.alpha",
        0.025,
        (
            "assumptions.alpha = 0.025: disagrees with hypothesis.level = 0.9; "
            "expected (1 - level) / 2 = 0.05"
        ),
    ),
    ("assumptions.power", 1.0, "assumptions.power = 1.0: expected less than 1"),
    ("assumptions.sample_size", 300.5, "assumptions.sample_size = 300.5: expected a valid integer"),
    (
        "assumptions.dropout_per_year",
        1.0,
        "assumptions.dropout_per_year = 1.0: expected less than 1",
    ),
    (
        "assumptions.accrual.sites",
        0,
        "assumptions.accrual.sites = 0: expected greater than or equal to 1",
    ),
    (
        "assumptions.pfs.cure_fraction",
        1.0,
        "assumptions.pfs.cure_fraction = 1.0: expected less than 1",
    ),
    (
        "assumptions.pfs.median_uncured_months",
        -3,
        "assumptions.pfs.median_uncured_months = -3: expected greater than 0",
    ),
    (
        "assumptions.pfs.model",
        "weibull",
        (
            "assumptions.pfs.model = 'weibull': expected one of 'exponential', "
            "'piecewise-exponential', 'cure-mixture'"
        ),
    ),
    (
        "assumptions.os.pieces[0].start_month",
        1,
        "assumptions.os.pieces[0].start_month = 1.0: expected the first piece to start at month 0",
    ),
    (
        "assumptions.os.pieces[2].start_month",
        20,
        (
            "assumptions.os.pieces[2].start_month = 20.0: expected a start after "
            "the previous piece's (24)"
        ),
    ),
    (
        "assumptions.os.pieces[1].hazard",
        -0.1,
        "assumptions.os.pieces[1].hazard = -0.1: expected greater than or equal to 0",
    ),
    (
        "assumptions.os.pieces",
        [],
        "assumptions.os.pieces = []: is empty; expected at least one piece",
    ),
    # unknown and missing keys
    (
        "study.titel",
        "x",
        (
            "study.titel: unknown key; expected one of: id, title, version, "
            "molecule, indication, phase"
        ),
    ),
    (
        "arms[0].dose.max_cycle",
        35,
        (
            "arms[0].dose.max_cycle: unknown key; expected one of: dose_mg, "
            "interval_weeks, max_cycles, max_weeks"
        ),
    ),
    (
        "assumptions.pfs.median",
        3,
        (
            "assumptions.pfs.median: unknown key; expected one of: model, "
            "cure_fraction, median_uncured_months"
        ),
    ),
    (
        "randomization.p_best",
        0.8,
        (
            "randomization.p_best: unknown key; expected one of: method, "
            "allocation_ratio, block_sizes, random_block_sizes"
        ),
    ),
    ("sample_size", 300, "sample_size: unknown key; expected one of: study, arms, randomization"),
    ("study.title", ..., "study.title: missing required key"),
    ("hypothesis", ..., "hypothesis: missing required key"),
    ("study.version", 1.0, "study.version = 1.0: expected a valid string"),
]


@pytest.mark.parametrize(
    ("path", "value", "line"), RULES, ids=[f"{p}={v!r}"[:60] for p, v, _ in RULES]
)
def test_rule_refused_with_path_value_and_expectation(refused, data, path, value, line):
    _set(path, value)(data)
    error = refused(data)
    assert f"p.toml: {line}" in str(error), str(error)


def test_errors_are_invalid_input_value_errors_with_structured_fields(refused, data):
    data["arms"][1]["dose"]["interval_weeks"] = 4
    error = refused(data)
    assert isinstance(error, InvalidInputError)
    assert isinstance(error, ValueError)
    assert isinstance(error, EquitrialError)
    assert error.field == "arms[1].dose.interval_weeks"
    assert error.value == 4.0
    assert error.expected is not None and "200 mg Q3W or 400 mg Q6W" in error.expected
    assert error.to_dict()["code"] == "invalid_protocol"
    assert error.to_dict()["issues"][0]["path"] == "arms[1].dose.interval_weeks"


def test_all_errors_listed_one_per_line(refused, data):
    data["study"]["titel"] = "typo"
    data["hypothesis"]["level"] = 2
    data["assumptions"]["response_rate"]["REF"] = -0.1
    lines = str(refused(data)).splitlines()
    assert lines[0] == "invalid protocol p.toml (3 problems):"
    assert len(lines) == 4
    assert [line.split()[1] for line in lines[1:]] == [
        "study.titel:",
        "hypothesis.level",
        "assumptions.response_rate.REF",
    ]


def test_allocation_ratio_needs_one_entry_per_arm(refused, data):
    data["randomization"].update(allocation_ratio=[1, 1, 1], block_sizes=[3, 6])
    line = (
        "p.toml: randomization.allocation_ratio = [1, 1, 1]: has 3 entries; expected one per arm"
        " (2), in the order of [[arms]]"
    )
    assert line in str(refused(data))


def test_minimization_with_p_best_is_accepted(data):
    _minimization(data)
    protocol = protocol_from_dict(data)
    assert protocol.randomization.method == "minimization"


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"p_best": 0.5}, "randomization.p_best = 0.5: expected greater than 0.5"),
        ({"p_best": 1.1}, "randomization.p_best = 1.1: expected less than or equal to 1"),
        (
            {"block_sizes": [4]},
            (
                "randomization.block_sizes: unknown key; expected one of: method, "
                "allocation_ratio, p_best, imbalance, factor_weights"
            ),
        ),
        (
            {"factor_weights": {"ecog": 1.0}},
            (
                "randomization.factor_weights.ecog = 'ecog': is not a stratification factor; "
                "expected one of 'braf_v600', 'ecog_ps', 'm_stage_ldh'"
            ),
        ),
        (
            {"factor_weights": {"ecog_ps": 0.0}},
            ("randomization.factor_weights.ecog_ps = 0.0: expected a weight > 0"),
        ),
        ({"imbalance": "max"}, "randomization.imbalance = 'max': expected 'range' or 'variance'"),
    ],
)
def test_minimization_rules(refused, data, change, line):
    _minimization(data)
    data["randomization"].update(change)
    assert f"p.toml: {line}" in str(refused(data))


def test_minimization_needs_stratification_factors(refused, data):
    _minimization(data)
    del data["stratification"]
    line = "p.toml: randomization.method = 'minimization': minimization needs factors"
    assert line in str(refused(data))


def test_400mg_q6w_is_an_approved_regimen(data):
    for arm in data["arms"]:
        arm["dose"].update(dose_mg=400, interval_weeks=6, max_cycles=18)
    protocol = protocol_from_dict(data)
    assert {a.dose.regimen for a in protocol.arms} == {"400 mg Q6W"}


def test_regimen_not_checked_for_a_molecule_without_listed_regimens(data):
    data["study"]["molecule"] = "nivolumab"
    data["arms"][0]["dose"].update(dose_mg=240, interval_weeks=2)
    assert protocol_from_dict(data).arms[0].dose.regimen == "240 mg Q2W"


def test_dose_needs_a_maximum_duration(refused, data):
    del data["arms"][0]["dose"]["max_cycles"]
    del data["arms"][0]["dose"]["max_weeks"]
    line = (
        "p.toml: arms[0].dose.max_cycles: no maximum duration; expected max_cycles and/or max_weeks"
    )
    assert line in str(refused(data))


def test_non_inferiority_without_upper_margin_gives_infinite_upper(data):
    data["hypothesis"].update(kind="non-inferiority", margin={"lower": 0.644}, level=0.95)
    data["assumptions"]["alpha"] = 0.025
    protocol = protocol_from_dict(data)
    assert protocol.margin() == Margin(scale="ratio", lower=0.644, upper=math.inf)
    assert protocol.to_dict()["hypothesis"]["margin"]["upper"] is None
    assert protocol_from_dict(protocol.to_dict()) == protocol


def test_non_inferiority_refuses_a_finite_upper_margin(refused, data):
    data["hypothesis"]["kind"] = "non-inferiority"
    line = (
        "p.toml: hypothesis.margin.upper = 1.36: expected no upper margin (or "
        "inf) for non-inferiority"
    )
    assert line in str(refused(data))


def test_interim_looks_must_be_in_time_order(refused, data):
    first = data["interim_analyses"][0]
    data["interim_analyses"].append({**first, "name": "second", "months_after_first_patient": 3})
    line = (
        "p.toml: interim_analyses[1].months_after_first_patient = 3.0: "
        "expected interim looks in time order (after 6)"
    )
    assert line in str(refused(data))


def test_interim_by_information_fraction_with_hwang_shih_decani(data):
    data["interim_analyses"] = [
        {"name": "futility", "information_fraction": 0.5, "purpose": "futility",
         "spending": "hwang-shih-decani", "gamma": -4, "binding": False},
    ]  # fmt: skip
    look = protocol_from_dict(data).interim_analyses[0]
    assert (look.information_fraction, look.gamma) == (0.5, -4.0)


margins = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False)


@given(lower=margins, upper=margins, scale=st.sampled_from(["difference", "ratio"]))
def test_equivalence_margin_accepted_exactly_when_stats_margin_accepts_it(lower, upper, scale):
    # Property against equitrial.stats.equivalence.Margin: the protocol accepts a two-sided margin
    # iff Margin does (Margin reads a ratio bound of 0 as "no lower bound", which equivalence
    # refuses), and then builds the same Margin.
    data = copy.deepcopy(_EXAMPLE)
    data["hypothesis"].update(scale=scale, margin={"lower": lower, "upper": upper})
    summary = {"difference": "risk-difference", "ratio": "risk-ratio"}[scale]
    data["endpoints"][0]["estimand"]["summary_measure"] = summary
    try:
        expected: Margin | None = Margin(scale=scale, lower=lower, upper=upper)
    except InvalidInputError:
        expected = None
    if scale == "ratio" and lower == 0:
        expected = None
    try:
        got: Margin | None = protocol_from_dict(data).margin()
    except ProtocolError:
        got = None
    assert got == expected
