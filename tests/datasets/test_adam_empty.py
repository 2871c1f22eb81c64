"""A study without subjects (a cut before the first consent) gives every ADaM dataset, empty,
with its variables: ``equitrial export --cut`` of an early date must not fail."""

from __future__ import annotations

from adam2_support import STUDY, protocol

from equitrial.datasets import StudySource, build_adam


def test_every_adam_dataset_of_a_study_without_subjects_is_empty_with_its_variables() -> None:
    source = StudySource(
        study={"code": STUDY, "title": "empty", "protocol_version": "1.0"},
        protocol=protocol(),
        tables={"site": [], "subject": []},
        arms={},
    )
    datasets = build_adam(source)
    assert [d.name for d in datasets] == [
        "ADSL", "ADRS", "ADTTE", "ADAE", "ADLB", "ADEX", "ADPC", "ADIS", "ADQS",
    ]  # fmt: skip
    for dataset in datasets:
        assert len(dataset.frame) == 0
        assert "USUBJID" in list(dataset.frame.columns)
