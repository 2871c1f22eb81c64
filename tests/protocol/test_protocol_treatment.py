"""``[treatment]``: both pembrolizumab regimens, defaults for older files, key-path errors."""

from __future__ import annotations

import pytest

from equitrial.errors import NotFoundError
from equitrial.protocol import protocol_from_dict


def test_example_lists_both_label_regimens_with_24_months_and_switches(data):
    p = protocol_from_dict(data)
    got = [(r.code, r.dose_mg, r.interval_weeks, r.max_cycles) for r in p.regimens]
    # KEYTRUDA label: 200 mg Q3W or 400 mg Q6W, up to 24 months (35 Q3W / 18 Q6W cycles)
    assert got == [("Q3W", 200.0, 3.0, 35), ("Q6W", 400.0, 6.0, 18)]
    assert p.default_regimen.code == "Q3W"
    assert p.max_treatment_weeks == 104
    assert p.treatment.switch_allowed is True
    assert p.regimen("Q6W").label == "400 mg Q6W"
    with pytest.raises(NotFoundError, match="Q2W"):
        p.regimen("Q2W")


def test_a_protocol_without_treatment_table_keeps_the_arms_regimen(data):
    del data["treatment"]
    p = protocol_from_dict(data)
    (only,) = p.regimens
    assert (only.code, only.dose_mg, only.interval_weeks, only.max_cycles) == ("Q3W", 200, 3, 35)
    assert p.default_regimen == only
    assert p.treatment.switch_allowed is False
    assert p.max_treatment_weeks == 104  # the arms' max_weeks
    del data["arms"][0]["dose"]["max_weeks"]
    assert protocol_from_dict(data).max_treatment_weeks == 35 * 3


@pytest.mark.parametrize(
    ("mutate", "line"),
    [
        (
            lambda d: d["treatment"]["regimens"][1].update(code="Q3W"),
            "treatment.regimens[1].code = 'Q3W': repeats an earlier regimen code",
        ),
        (
            lambda d: d["treatment"].update(default_regimen="Q4W"),
            "treatment.default_regimen = 'Q4W': is not a regimen code; expected one of Q3W, Q6W",
        ),
        (
            lambda d: d["treatment"]["regimens"][1].update(dose_mg=480),
            "treatment.regimens[1].dose_mg = 480",
        ),
        (
            lambda d: d["treatment"]["regimens"][1].update(interval_weeks=4),
            "treatment.regimens[1].interval_weeks = 4",
        ),
        (
            lambda d: d["treatment"].update(regimens=d["treatment"]["regimens"][:1]),
            "treatment.switch_allowed = True: a switch needs at least two regimens",
        ),
        (
            lambda d: d["treatment"]["regimens"][0].update(interval_weeks=3.1),
            "treatment.regimens[0].interval_weeks = 3.1: expected a whole number of days",
        ),
        (
            lambda d: d["treatment"].update(window_days=-1),
            "treatment.window_days",
        ),
        (
            lambda d: d.pop("treatment") and d.update(treatment={"default_regimen": "Q6W"}),
            "treatment.default_regimen = 'Q6W': is not a regimen code; expected Q3W",
        ),
    ],
)
def test_bad_treatment_table_is_refused_naming_the_key_path(refused, data, mutate, line):
    mutate(data)
    assert line in str(refused(data))


def test_treatment_regimens_of_an_unlisted_molecule_are_not_checked(data):
    data["study"]["molecule"] = "nivolumab"
    data["arms"][0]["dose"].update(dose_mg=240, interval_weeks=2)
    data["treatment"]["regimens"][1].update(dose_mg=480, interval_weeks=4)
    assert protocol_from_dict(data).regimen("Q6W").label == "480 mg Q4W"


def test_schedule_item_window_days(data):
    p = protocol_from_dict(data)
    windows = {s.name: s.window_days for s in p.schedule}
    assert windows["tumour imaging, to week 54"] == 7
    assert windows["study drug administration"] is None
    data["schedule"][0]["window_days"] = -2
    with pytest.raises(ValueError, match=r"schedule\[0\]\.window_days"):
        protocol_from_dict(data)
