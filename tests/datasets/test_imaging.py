"""The protocol's imaging schedule as days from randomization, and the analysis visit."""

from __future__ import annotations

from adam_support import PROTOCOL

from equitrial.datasets._imaging import imaging_schedule, visit_name


def test_schedule_of_the_example_protocol():
    # weeks 9, 18, ..., 54 (every 9 weeks) then 66, 78, ... (every 12), window 7 days
    scans = imaging_schedule(PROTOCOL)
    assert [s.day for s in scans[:8]] == [63, 126, 189, 252, 315, 378, 462, 546]
    assert {s.window for s in scans} == {7}


def test_visit_name_at_window_edges():
    scans = imaging_schedule(PROTOCOL)
    # week 9 = day 63: days 56 and 70 are in its window, 55 and 71 are not
    assert [visit_name(d, scans) for d in (55, 56, 63, 70, 71)] == [
        "UNSCHEDULED",
        "WEEK 9",
        "WEEK 9",
        "WEEK 9",
        "UNSCHEDULED",
    ]
    assert visit_name(462, scans) == "WEEK 66"
