"""AccuracyMatrix metrics on hand-computed matrices, JSON round trip, heatmap, batch scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from textcl.metrics import AccuracyMatrix, accuracy, macro_f1

# R[i, j]: score on task j after training on task i.
R3 = [
    [0.90, 0.10, 0.20],
    [0.95, 0.80, 0.30],
    [0.60, 0.50, 0.95],
]
BASE3 = [0.10, 0.20, 0.25]


def filled(rows: list[list[float]], baseline: list[float] | None = None) -> AccuracyMatrix:
    m = AccuracyMatrix([f"t{k}" for k in range(len(rows))], baseline=baseline)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            m.record(i, j, value)
    return m


def test_hand_computed_3x3() -> None:
    m = filled(R3, BASE3)
    # ACC: (0.60 + 0.50 + 0.95) / 3
    assert m.average_accuracy() == pytest.approx(2.05 / 3)
    assert m.average_accuracy(after=0) == pytest.approx(0.90)
    assert m.average_accuracy(after=1) == pytest.approx((0.95 + 0.80) / 2)
    # BWT: ((0.60 - 0.90) + (0.50 - 0.80)) / 2
    assert m.backward_transfer() == pytest.approx(-0.30)
    # FWT: ((R[0,1] - b1) + (R[1,2] - b2)) / 2 = ((0.10 - 0.20) + (0.30 - 0.25)) / 2
    assert m.forward_transfer() == pytest.approx(-0.025)
    # forgetting: task 0 best 0.95 (after t1) -> 0.60; task 1 best 0.80 -> 0.50
    np.testing.assert_allclose(m.per_task_forgetting(), [0.35, 0.30])
    assert m.forgetting() == pytest.approx(0.325)
    assert m.learning_accuracy() == pytest.approx((0.90 + 0.80 + 0.95) / 3)
    assert m.summary() == pytest.approx(
        {
            "acc": 2.05 / 3,
            "bwt": -0.30,
            "fwt": -0.025,
            "forgetting": 0.325,
            "learning_acc": 2.65 / 3,
        }
    )


def test_no_forgetting_gives_zero_forgetting_and_nonnegative_bwt() -> None:
    # every task keeps the score it had right after being learnt
    m = filled([[0.7, 0.0, 0.0], [0.7, 0.8, 0.0], [0.7, 0.8, 0.9]])
    assert m.forgetting() == pytest.approx(0.0)
    assert m.backward_transfer() >= 0.0
    assert m.backward_transfer() == pytest.approx(0.0)


def test_improving_old_tasks_is_positive_bwt_and_negative_forgetting() -> None:
    m = filled([[0.6, 0.0, 0.0], [0.7, 0.6, 0.0], [0.8, 0.7, 0.6]])
    assert m.backward_transfer() == pytest.approx(0.15)  # ((0.8-0.6) + (0.7-0.6)) / 2
    assert m.forgetting() == pytest.approx(-0.10)  # (0.7-0.8 + 0.6-0.7) / 2


def test_partially_filled_matrix_uses_last_recorded_row() -> None:
    m = AccuracyMatrix(["a", "b", "c"])
    for j, value in enumerate(R3[0]):
        m.record(0, j, value)
    m.record("b", "a", 0.95)  # names work as well as indices
    m.record(1, 1, 0.80)
    assert m.last_row == 1
    assert m.average_accuracy() == pytest.approx(0.875)
    assert m.backward_transfer() == pytest.approx(0.05)  # 0.95 - 0.90
    assert m.forgetting() == pytest.approx(-0.05)  # max(0.90) - 0.95
    m.set_baseline(1, 0.2)  # only task b's baseline is needed so far
    assert m.forward_transfer() == pytest.approx(-0.10)  # R[0,1] - b1 = 0.10 - 0.20


def test_single_task_and_empty_matrix() -> None:
    m = AccuracyMatrix(["only"])
    assert m.summary() == {
        "acc": None,
        "bwt": None,
        "fwt": None,
        "forgetting": None,
        "learning_acc": None,
    }
    with pytest.raises(ValueError, match="no scores"):
        m.average_accuracy()
    m.record(0, 0, 0.4)
    assert m.average_accuracy() == pytest.approx(0.4)
    assert m.backward_transfer() == 0.0
    assert m.forgetting() == 0.0


def test_forward_transfer_without_baseline_raises() -> None:
    m = filled(R3)
    with pytest.raises(ValueError, match="baseline"):
        m.forward_transfer()
    assert m.summary()["fwt"] is None


def test_record_rejects_bad_scores_and_tasks() -> None:
    m = AccuracyMatrix(["a", "b"])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.record(0, 0, 85.0)  # a percentage, not a fraction
    with pytest.raises(IndexError):
        m.record(2, 0, 0.5)
    with pytest.raises(KeyError):
        m.record("a", "zzz", 0.5)


def test_json_round_trip(tmp_path: Path) -> None:
    m = AccuracyMatrix(["a", "b", "c"], baseline=BASE3)
    m.record(0, 0, 0.9)
    m.record(1, 0, 0.7)
    m.record(1, 1, 0.8)
    path = m.save_json(tmp_path / "sub" / "acc.json")
    raw = json.loads(path.read_text())
    assert raw["matrix"][0] == [0.9, None, None]
    assert raw["baseline"] == BASE3
    assert raw["metrics"]["bwt"] == pytest.approx(-0.2)
    back = AccuracyMatrix.load_json(path)
    assert back == m
    assert back.to_dict() == m.to_dict()
    assert AccuracyMatrix.from_dict(m.to_dict()) == m
    assert back != filled(R3)


def test_heatmap_writes_png(tmp_path: Path) -> None:
    m = filled(R3)
    m.R[2, 2] = np.nan  # a missing cell must not break the plot
    out = m.heatmap(tmp_path / "plots" / "R.png", title="demo")
    data = Path(out).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_batch_scores() -> None:
    target = np.array([0, 1, 1, 2])
    assert accuracy([0, 1, 0, 2], target) == pytest.approx(0.75)
    logits = np.array([[5, 0, 0], [0, 5, 0], [5, 0, 0], [0, 0, 5]])
    assert accuracy(logits, target) == pytest.approx(0.75)
    # per-class F1: class 0: P=1/2 R=1 -> 2/3; class 1: P=1 R=1/2 -> 2/3; class 2: 1
    assert macro_f1([0, 1, 0, 2], target) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    with pytest.raises(ValueError, match="length"):
        accuracy([0, 1], target)
