"""Issue 9, amendments: a new protocol version against the loaded study (SQLite and PostgreSQL).

The ``trial`` fixture loads the example protocol, version 1.0, with 12 slots per stratum. Each
amendment here is that file with a few lines changed and a new ``[study] version``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import randomize, study, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

EXAMPLE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
STRATA = {"braf_v600": "mutant", "ecog_ps": "1", "m_stage_ldh": "M0-M1b, normal LDH"}
ECOG = 'ecog_ps = ["0", "1"]'


def _amended(tmp_path: Path, version: str, *changes: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace('version = "1.0"', f'version = "{version}"')
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"protocol-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _slots(engine) -> list[tuple[int, str, str, str]]:
    with transaction(engine, read_only=True) as session:
        rows = session.execute(
            select(
                m.RandomizationSchedule.sequence_number,
                m.RandomizationSchedule.stratum,
                m.RandomizationSchedule.arm_code,
                m.RandomizationSchedule.kit_number,
            ).order_by(m.RandomizationSchedule.sequence_number)
        ).all()
    return [tuple(r) for r in rows]


def _state(engine) -> tuple[str, int, int]:
    """(protocol version, slots, audit rows): what a refused amendment must leave alone."""
    with transaction(engine, read_only=True) as session:
        version = session.scalar(select(m.Study.protocol_version))
        slots = session.scalar(select(func.count()).select_from(m.RandomizationSchedule))
        audit = session.scalar(select(func.count()).select_from(m.AuditTrail))
    return str(version), int(slots or 0), int(audit or 0)


def _eligible(trial, number: str, strata=STRATA):
    return subjects.enrol(
        trial.engine, trial["investigator"], "A", number, strata=strata, eligible=True
    )


def test_an_added_level_extends_the_list_in_the_same_transaction(trial, tmp_path):
    before = _slots(trial.engine)
    amended = _amended(tmp_path, "1.1", (ECOG, 'ecog_ps = ["0", "1", "2"]'))
    view = study.load_study(trial.engine, trial["admin"], amended, slots_per_stratum=12)
    assert view.protocol_version == "1.1" and view.created
    new = sorted({s for s in view.amendment.new_strata})
    # the four new combinations: braf_v600 x m_stage_ldh with ecog_ps=2
    assert len(new) == 4 and all("ecog_ps=2" in key for key in new)
    after = _slots(trial.engine)
    assert after[: len(before)] == before  # the existing list is untouched
    added = after[len(before) :]
    assert view.amendment.slots_added == len(added) >= 4 * 12
    assert {row[1] for row in added} == set(new)
    # sequence numbers continue after the old maximum, without a gap; kits stay unique
    assert [row[0] for row in added] == list(
        range(before[-1][0] + 1, before[-1][0] + 1 + len(added))
    )
    assert len({row[3] for row in after}) == len(after)
    for key in new:  # each new stratum's list is balanced at its end (whole blocks, 1:1)
        arms = [row[2] for row in added if row[1] == key]
        assert arms.count("BIO") == arms.count("REF") and len(arms) >= 12
    # a subject of a new stratum is randomized from the new list
    s = _eligible(trial, "500", {**STRATA, "ecog_ps": "2"})
    allocation = randomize.randomize(trial.engine, trial["coordinator"], s.id)
    assert "ecog_ps=2" in allocation.stratum and allocation.sequence_number > before[-1][0]
    with transaction(trial.engine, read_only=True) as session:
        reasons = session.scalars(
            select(m.AuditTrail.reason).where(m.AuditTrail.action == "generate-schedule")
        ).all()
    assert len(reasons) == 2  # the first list and its extension are both audited


def test_an_extension_that_cannot_be_written_leaves_the_old_version(trial, tmp_path):
    before = _state(trial.engine)
    amended = _amended(tmp_path, "1.1", (ECOG, 'ecog_ps = ["0", "1", "2"]'))
    with pytest.raises(InvalidInputError) as error:  # 4 new strata x 250,000 slots: too many
        study.load_study(trial.engine, trial["admin"], amended, slots_per_stratum=250_000)
    assert error.value.field == "slots_per_stratum"
    assert _state(trial.engine) == before  # one transaction: no version 1.1 without its lists


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ((ECOG, 'ecog_ps = ["0", "2"]'), "ecog_ps=1"),  # level removed
        ((ECOG, 'ecog_ps = ["0", "1+"]'), "ecog_ps=1"),  # level renamed
        ((ECOG, ""), "ecog_ps=1"),  # factor removed
        ((ECOG, 'ecog = ["0", "1"]'), "ecog_ps=1"),  # factor renamed
    ],
)
def test_removing_or_renaming_a_level_in_use_is_refused(trial, tmp_path, change, named):
    _eligible(trial, "600")
    subjects.enrol(trial.engine, trial["coordinator@B"], "B", "601", strata=STRATA)
    before = _state(trial.engine)
    with pytest.raises(ConflictError) as error:
        study.load_study(trial.engine, trial["admin"], _amended(tmp_path, "1.1", change))
    message = str(error.value)
    assert named in message and "2 enrolled subjects" in message
    assert error.value.field.startswith("stratification.")
    assert _state(trial.engine) == before


def test_a_factor_cannot_be_added_while_subjects_are_enrolled(trial, tmp_path):
    _eligible(trial, "610")
    before = _state(trial.engine)
    change = (ECOG, f'{ECOG}\nvisceral = ["yes", "no"]')
    with pytest.raises(ConflictError, match="visceral") as error:
        study.load_study(trial.engine, trial["admin"], _amended(tmp_path, "1.1", change))
    assert error.value.field == "stratification.visceral"
    assert _state(trial.engine) == before


def test_an_unused_level_may_be_removed_and_is_no_longer_accepted(trial, tmp_path):
    _eligible(trial, "620")  # ecog_ps=1
    wider = _amended(tmp_path, "1.1", (ECOG, 'ecog_ps = ["0", "1", "2"]'))
    study.load_study(trial.engine, trial["admin"], wider, slots_per_stratum=4)
    slots = _state(trial.engine)[1]
    narrower = _amended(tmp_path, "1.2", (ECOG, 'ecog_ps = ["0", "1"]'))
    view = study.load_study(trial.engine, trial["admin"], narrower)
    assert view.amendment.levels_removed == (("ecog_ps", "2"),)
    assert view.amendment.new_strata == () and view.amendment.slots_added == 0
    assert _state(trial.engine)[1] == slots  # its free slots stay, unreachable
    with pytest.raises(InvalidInputError) as error:
        _eligible(trial, "621", {**STRATA, "ecog_ps": "2"})
    assert error.value.field == "strata.ecog_ps"
    # adding it back reuses its slots: no second list for the same strata
    again = study.load_study(
        trial.engine, trial["admin"], _amended(tmp_path, "1.3", (ECOG, 'ecog_ps = ["0", "1", "2"]'))
    )
    assert again.amendment.new_strata == () and _state(trial.engine)[1] == slots


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ((("block_sizes = [4, 6]", "block_sizes = [4, 8]"),), "randomization"),
        ((("random_block_sizes = true", "random_block_sizes = false"),), "randomization"),
        (
            (('code = "BIO"', 'code = "BIOS"'), ("BIO = 0.33", "BIOS = 0.33")),
            "arms",
        ),
    ],
)
def test_changing_the_arms_or_the_randomization_is_refused(trial, tmp_path, changes, field):
    s = _eligible(trial, "630")
    randomize.randomize(trial.engine, trial["coordinator"], s.id)
    before = _state(trial.engine)
    with pytest.raises(ConflictError) as error:
        study.load_study(trial.engine, trial["admin"], _amended(tmp_path, "1.1", *changes))
    assert error.value.field == field
    assert _state(trial.engine) == before


def test_the_amendment_says_what_changed(trial, tmp_path):
    amended = _amended(
        tmp_path,
        "2.0",
        (ECOG, 'ecog_ps = ["0", "1", "2"]'),
        ("interval_weeks = 12  # until progression", "interval_weeks = 8  # until progression"),
        ('phase = "III"', 'phase = "III (amended)"'),
    )
    view = study.load_study(trial.engine, trial["admin"], amended, slots_per_stratum=2)
    amendment = view.amendment
    assert (amendment.old_version, amendment.new_version) == ("1.0", "2.0")
    assert amendment.levels_added == (("ecog_ps", "2"),)
    assert amendment.factors_added == () and amendment.levels_removed == ()
    assert amendment.sections_changed == ("study", "schedule")
    lines = amendment.lines()
    assert lines[0] == "protocol version 1.0 -> 2.0"
    assert "stratification ecog_ps: level '2' added" in lines
    assert f"allocation list extended: 4 new strata, {amendment.slots_added} slots" in lines
    assert lines[-1] == "changed sections: study, schedule"
    assert view.to_dict()["amendment"]["new_version"] == "2.0"
    # loading the same version again changes nothing and reports no amendment
    assert study.load_study(trial.engine, trial["admin"], amended).amendment is None


def test_the_screening_number_rule_cannot_change_once_subjects_are_enrolled(trial, tmp_path):
    rule = (
        "# [enrolment]\n# screening_number_digits = 3",
        "[enrolment]\nscreening_number_digits = 3",
    )
    _eligible(trial, "7")
    before = _state(trial.engine)
    with pytest.raises(ConflictError, match="enrolment") as error:
        study.load_study(trial.engine, trial["admin"], _amended(tmp_path, "1.1", rule))
    assert error.value.field == "enrolment"
    assert _state(trial.engine) == before  # "7" stays comparable with a new "007"
