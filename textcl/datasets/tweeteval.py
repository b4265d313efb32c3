"""TweetEval tasks (one folder per task with ``*_text.txt`` / ``*_labels.txt`` splits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TWEETEVAL_TASKS = ("emotion", "hate", "irony", "offensive", "stance")


@dataclass
class TaskData:
    """Train and test texts with integer labels, plus the label names."""

    name: str
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    label_names: list[str]


def _read_split(folder: Path, split: str) -> tuple[list[str], list[int]]:
    text_path, label_path = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
    texts = text_path.read_text(encoding="utf-8").splitlines()
    labels = label_path.read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(
            f"{text_path}: {len(texts)} texts but {label_path.name} has {len(labels)} labels"
        )
    return texts, [int(x) for x in labels]


def _folders(root: Path, name: str) -> list[Path]:
    folder = root / name
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: TweetEval task folder not found")
    if (folder / "train_text.txt").exists():
        return [folder]
    return sorted(p for p in folder.iterdir() if (p / "train_text.txt").exists())


def _label_names(root: Path, name: str, n_labels: int) -> list[str]:
    mapping = root / name / "mapping.txt"
    if mapping.exists():
        rows = [line.split("\t") for line in mapping.read_text(encoding="utf-8").splitlines()]
        return [row[-1].strip() for row in rows if row and row[0].strip()]
    if name == "stance":
        return ["none", "against", "favor"]
    return [str(i) for i in range(n_labels)]


def tweeteval_task(
    root: Path, name: str, max_train: int | None = None, max_test: int | None = None,
    seed: int = 0,
) -> TaskData:
    """Load one task (stance merges its five targets); subsample with ``seed`` if asked.

    Train uses the ``train`` and ``val`` splits; test uses ``test``.
    """
    train_t: list[str] = []
    train_y: list[int] = []
    test_t: list[str] = []
    test_y: list[int] = []
    for folder in _folders(root, name):
        for split in ("train", "val"):
            texts, labels = _read_split(folder, split)
            train_t += texts
            train_y += labels
        texts, labels = _read_split(folder, "test")
        test_t += texts
        test_y += labels
    rng = np.random.default_rng(seed)

    def pick(texts: list[str], labels: list[int], cap: int | None) -> tuple[list[str], np.ndarray]:
        idx = np.arange(len(texts))
        if cap is not None and cap < len(idx):
            idx = np.sort(rng.choice(idx, size=cap, replace=False))
        return [texts[i] for i in idx], np.asarray(labels, dtype=np.int64)[idx]

    tr_t, tr_y = pick(train_t, train_y, max_train)
    te_t, te_y = pick(test_t, test_y, max_test)
    names = _label_names(root, name, int(max(train_y)) + 1)
    return TaskData(name, tr_t, tr_y, te_t, te_y, names)
