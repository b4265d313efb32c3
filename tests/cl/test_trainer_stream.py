"""ContinualTrainer in stream use: learn chunks as labels arrive, consolidate at task ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from textcl.checkpoint import _flatten, load_checkpoint, save_checkpoint
from textcl.cl import EWC, ContinualTrainer, LwF, TrainConfig
from textcl.cl.adapter import Adapter
from textcl.classify.settings import ClassifierSection, build_adapters
from textcl.heads import IncrementalClassifier

STREAM_ADAPTERS = ["replay", "class_balanced", "lwf", "ewc", "mas", "si", "agem",
                   "weight_aligning"]


def _chunks() -> list[tuple[torch.Tensor, list[str], bool]]:
    """12 chunks of 6 rows in 4 windows (the last chunk of each ends its window); the
    labels of windows 2 and 3 include classes not seen before."""
    g = torch.Generator().manual_seed(0)
    centers = torch.eye(8)[:4] * 3.0
    names = ["a", "b", "c", "d"]
    plan = [[0, 1], [0, 1], [1, 2], [2, 3]]
    out = []
    for window, classes in enumerate(plan):
        for part in range(3):
            y = [classes[(window + part + i) % len(classes)] for i in range(6)]
            x = torch.stack([centers[c] + 0.5 * torch.randn(8, generator=g) for c in y])
            out.append((x, [names[c] for c in y], part == 2))
    return out


class Stream:
    """A growing head trained chunk by chunk, as the stream classifier does."""

    def __init__(self, adapters: list[Adapter]) -> None:
        torch.manual_seed(0)
        self.head = IncrementalClassifier(8)
        self.trainer = ContinualTrainer(self.head, adapters, TrainConfig(
            batch_size=6, lr=0.1, optimizer="adam", reset_optimizer=False, seed=0))
        self.generator = torch.Generator().manual_seed(1)
        self.ends = 0

    def feed(self, chunks: list[tuple[torch.Tensor, list[str], bool]]) -> None:
        for x, names, last in chunks:
            if any(n not in self.head.classes for n in names):
                self.trainer.boundary()
            self.trainer.learn(x, self.head.encode(names, generator=self.generator))
            if last:
                self.ends += self.trainer.end_task() > 0

    def state(self) -> dict:
        return {"trainer": self.trainer.state_dict(), "classes": self.head.classes,
                "blocks": [int(w.shape[0]) for w in self.head.weight_blocks],
                "generator": self.generator.get_state()}

    def load(self, state: dict) -> None:
        start = 0
        for size in state["blocks"]:
            self.head.encode(state["classes"][start : start + size])
            start += size
        self.trainer.load_state_dict(state["trainer"])
        self.generator.set_state(state["generator"])


def _adapters(name: str) -> list[Adapter]:
    section = ClassifierSection(adapters=[name], memory=20, replay_batch=6, ewc_lambda=5.0)
    return build_adapters(section)


def _same(a: dict, b: dict) -> None:
    arrays_a: dict[str, np.ndarray] = {}
    arrays_b: dict[str, np.ndarray] = {}
    assert _flatten(a, arrays_a, "") == _flatten(b, arrays_b, "")
    assert arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)


@pytest.mark.parametrize("cut", [4, 7])  # inside a window: after its first or second chunk
@pytest.mark.parametrize("name", STREAM_ADAPTERS)
def test_a_checkpoint_inside_a_task_resumes_exactly(name: str, cut: int, tmp_path: Path) -> None:
    chunks = _chunks()
    whole = Stream(_adapters(name))
    whole.feed(chunks)
    first = Stream(_adapters(name))
    first.feed(chunks[:cut])
    assert first.trainer.task_open
    save_checkpoint(tmp_path / "ckpt", {"s": first.state()})
    resumed = Stream(_adapters(name))
    resumed.load(load_checkpoint(tmp_path / "ckpt")["s"])
    resumed.feed(chunks[cut:])
    _same(whole.state(), resumed.state())
    x = torch.cat([c[0] for c in chunks])
    assert torch.equal(whole.trainer.predict(x), resumed.trainer.predict(x))


def test_the_head_grows_only_between_tasks_before_their_first_step() -> None:
    """As in fit_task: a task opens (adapters see the old classes), the head grows, then
    it trains; no step of a task ever sees the parameter set change."""
    tasks: list[dict] = []

    class Spy(Adapter):
        def before_task(self, trainer, x, y, task) -> None:
            tasks.append({"start": trainer.model.n_classes, "steps": set()})

        def after_step(self, trainer, batch) -> None:
            tasks[-1]["steps"].add(trainer.model.n_classes)

        def after_task(self, trainer, x, y, task) -> None:
            tasks[-1]["end"] = trainer.model.n_classes

    stream = Stream([Spy()])
    stream.feed(_chunks())
    trained = [t for t in tasks if t["steps"]]
    assert all(len(t["steps"]) == 1 and t["steps"] == {t["end"]} for t in trained)
    grew = [t for t in trained if t["end"] > t["start"]]
    assert [(t["start"], t["end"]) for t in grew] == [(0, 2), (2, 3), (3, 4)]
    assert stream.head.n_classes == 4


def test_window_tasks_consolidate_ewc_on_the_rows_of_the_task() -> None:
    ewc = EWC(lam=1.0, mode="online", fisher_examples=64)
    stream = Stream([ewc])
    stream.feed(_chunks()[:3])  # one window
    assert stream.ends == 1 and ewc.A  # importance from that window's rows
    assert not stream.trainer.task_open


def test_learn_refuses_inputs_and_labels_of_different_lengths() -> None:
    stream = Stream([LwF()])
    with pytest.raises(ValueError, match="inputs but"):
        stream.trainer.learn(torch.zeros(3, 8), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="no labelled rows"):
        stream.trainer.learn(torch.zeros(0, 8), torch.zeros(0, dtype=torch.long))


def test_the_rows_kept_for_consolidation_are_bounded_and_kept_only_when_needed() -> None:
    def run(adapters: list[Adapter]) -> dict:
        torch.manual_seed(0)
        head = IncrementalClassifier(4, 2)
        trainer = ContinualTrainer(head, adapters,
                                   TrainConfig(batch_size=8, stream_task_memory=10))
        for _ in range(5):
            trainer.learn(torch.randn(8, 4), torch.randint(0, 2, (8,)))
        return trainer.state_dict()["stream"]

    kept = run([EWC(lam=1.0)])  # EWC's importance needs the task's rows
    assert kept["learned"] == 40 and kept["rows"]["size"] == 10
    kept = run([LwF()])  # LwF does not: nothing kept
    assert kept["learned"] == 40 and kept["rows"]["size"] == 0
