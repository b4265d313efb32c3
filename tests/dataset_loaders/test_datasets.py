"""Evaluation datasets read from the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from textcl.datasets import crisislex_events, tweeteval_task


def test_crisislex_events_come_in_time_order_with_aligned_labels(crisislex_t26: Path) -> None:
    events = crisislex_events(crisislex_t26)
    assert len(events) == 26
    assert sum(len(e) for e in events) == 27933
    assert [e.start for e in events] == sorted(e.start for e in events)
    assert events[0].name == "2012_Italy_earthquakes" and events[0].event_type == "Earthquake"
    for event in events:
        assert set(event.labels) == {"informativeness", "information_type", "information_source"}
        assert all(len(v) == len(event) for v in event.labels.values())


def test_tweeteval_stance_merges_its_targets_and_subsamples(shared_data: Path) -> None:
    full = tweeteval_task(shared_data / "tweeteval", "stance")
    assert full.label_names == ["none", "against", "favor"]
    assert len(full.train_texts) == len(full.train_labels) > 2500
    small = tweeteval_task(shared_data / "tweeteval", "emotion", max_train=100, max_test=50)
    assert len(small.train_texts) == 100 and len(small.test_labels) == 50
    assert small.label_names == ["anger", "joy", "optimism", "sadness"]
    assert small.train_texts == tweeteval_task(
        shared_data / "tweeteval", "emotion", max_train=100, max_test=50).train_texts


def test_tweeteval_label_count_mismatch_names_the_files(tmp_path: Path) -> None:
    task = tmp_path / "irony"
    task.mkdir()
    for split in ("train", "val", "test"):
        (task / f"{split}_text.txt").write_text("a\nb\n")
        (task / f"{split}_labels.txt").write_text("0\n")
    with pytest.raises(ValueError, match=r"train_text.txt: 2 texts but train_labels.txt has 1"):
        tweeteval_task(tmp_path, "irony")
