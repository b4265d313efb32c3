"""CPG (compacting, picking, growing) under ContinualTrainer: earlier tasks' outputs never
move (not even when the body grows), masks pick old weights, states round-trip."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
import torch

from textcl.cl import ContinualTrainer, TrainConfig
from textcl.cl.isolation import CPG, CPGMLP, FREE, make_cpg, make_isolation
from textcl.heads import MLPClassifier, MultiHeadClassifier

DIM, HIDDEN, CLASSES = 16, 32, 3
TINY = 6  # hidden units of the body that must grow
CONFIG = TrainConfig(epochs=5, batch_size=32, lr=3e-3, optimizer="adamw", weight_decay=0.05,
                     grad_clip=1.0)
Rows = tuple[torch.Tensor, torch.Tensor]


def blobs(centres: torch.Tensor, rows_seed: int, n: int, noise: float = 1.0) -> Rows:
    """``n`` rows per class around ``centres`` (one row per class)."""
    y = torch.arange(len(centres)).repeat_interleave(n)
    g = torch.Generator().manual_seed(rows_seed)
    return centres[y] + noise * torch.randn(len(y), centres.shape[1], generator=g), y


def centres(seed: int, scale: float = 1.5) -> torch.Tensor:
    return scale * torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(seed))


def task_rows(c: torch.Tensor, seed: int, noise: float = 1.0) -> tuple[Rows, Rows]:
    """(train rows, test rows) around the class centres ``c``."""
    return blobs(c, seed, 100, noise), blobs(c, seed + 1, 50, noise)


A_CENTRES = centres(1)
TASKS = {
    "A": task_rows(A_CENTRES, 10),
    "B": task_rows(centres(2), 20),
    # like A: the same classes, slightly moved
    "A2": task_rows(A_CENTRES + 0.3 * centres(3), 30),
    # overlapping classes: a tiny body stays below 95% on them
    "C": task_rows(centres(4, scale=0.6), 40),
}


def build(seed: int = 0, hidden: tuple[int, ...] = (HIDDEN,), **options: Any) -> ContinualTrainer:
    torch.manual_seed(seed)
    model, adapters = make_isolation("cpg", DIM, hidden=hidden, **options)
    return ContinualTrainer(model, adapters, CONFIG)


def fit(trainer: ContinualTrainer, task: str) -> None:
    (x, y), _ = TASKS[task]
    trainer.fit_task(x, y, task, n_classes=CLASSES)


def held_out(task: str) -> torch.Tensor:
    return TASKS[task][1][0]


def logits(trainer: ContinualTrainer, tasks: tuple[str, ...]) -> dict[str, torch.Tensor]:
    return {t: trainer.scores(held_out(t), t) for t in tasks}


def model_of(trainer: ContinualTrainer) -> CPGMLP:
    assert isinstance(trainer.model, CPGMLP)
    return trainer.model


@pytest.fixture(scope="module")
def ab() -> tuple[ContinualTrainer, dict[str, torch.Tensor]]:
    """CPG after A then B, and A's test logits right after A (copy before changing)."""
    trainer = build()
    fit(trainer, "A")
    after_a = logits(trainer, ("A",))
    fit(trainer, "B")
    return trainer, after_a


@pytest.fixture(scope="module")
def grown() -> tuple[ContinualTrainer, dict[str, torch.Tensor]]:
    """A tiny CPG body after A, B and the hard task C, which made it grow; the A and B
    logits from before C."""
    trainer = build(hidden=(TINY,), grow=8, target=0.95)
    fit(trainer, "A")
    fit(trainer, "B")
    assert model_of(trainer).hidden == (TINY,), "A and B must not grow the body"
    before = logits(trainer, ("A", "B"))
    fit(trainer, "C")
    return trainer, before


def test_learning_b_leaves_task_a_logits_bit_identical(ab) -> None:
    trainer, after_a = ab
    assert torch.equal(trainer.scores(held_out("A"), "A"), after_a["A"])
    torch.manual_seed(0)
    control = ContinualTrainer(MLPClassifier(DIM, (HIDDEN,), head=MultiHeadClassifier(HIDDEN)),
                               [], CONFIG)
    fit(control, "A")
    control_a = control.scores(held_out("A"), "A")
    fit(control, "B")
    assert not torch.equal(control.scores(held_out("A"), "A"), control_a), (
        "naive fine-tuning of the shared body should move task A's logits")


def test_each_task_learns(ab) -> None:
    trainer, _ = ab
    for task in ("A", "B"):
        accuracy = trainer.evaluate(*TASKS[task][1], task)
        assert accuracy > 0.85, f"{task}: accuracy {accuracy:.2f} (chance 0.33)"


def test_compacting_gives_each_task_a_share_of_the_free_weights(ab) -> None:
    model = model_of(ab[0])
    n = DIM * HIDDEN
    assert [int((o == 0).sum()) for o in model.owners] == [n // 2]
    assert [int((o == 1).sum()) for o in model.owners] == [n // 4]
    for layer, owner in zip(model.layers, model.owners, strict=True):
        assert torch.all(layer.weight[owner == FREE] == 0), "released weights are zeroed"
    assert not any(p.requires_grad for p in model.heads["A"].parameters())
    assert not model.layers[0].bias.requires_grad, "biases belong to the first task"


def test_a_mask_picks_some_but_not_all_old_weights_more_on_a_similar_task(ab) -> None:
    trainer = copy.deepcopy(ab[0])
    model = model_of(trainer)
    fit(trainer, "A2")
    assert trainer.evaluate(*TASKS["A2"][1], "A2") > 0.85
    assert model.binary_masks("A") == [], "the first task has no earlier weights to pick"
    picked = {}
    for task in ("B", "A2"):
        masks, old = model.binary_masks(task), model.old_weights(task)
        assert all(m.dtype == torch.bool and m.shape == o.shape
                   for m, o in zip(masks, old, strict=True))
        n_old = sum(int(o.sum()) for o in old)
        picked[task] = sum(int((m & o).sum()) for m, o in zip(masks, old, strict=True)) / n_old
        assert 0.0 < picked[task] < 1.0, f"{task} picks {picked[task]:.2f} of the old weights"
        report = next(t for t in model.parameter_report().tasks if t.task == task)
        assert report.mask_bits == n_old
    assert picked["A2"] > 0.0


def test_prediction_reads_no_weight_of_a_later_task_nor_free_ones(ab) -> None:
    trainer, after_a = copy.deepcopy(ab)
    model = model_of(trainer)
    with torch.no_grad():
        for layer, owner in zip(model.layers, model.owners, strict=True):
            layer.weight[owner == 1] = float("nan")  # garbage in B's weights
    assert torch.equal(trainer.scores(held_out("A"), "A"), after_a["A"])
    assert torch.isnan(trainer.scores(held_out("B"), "B")).all(), "B must read its weights"
    trainer, after_a = copy.deepcopy(ab)
    b_before = trainer.scores(held_out("B"), "B")
    with torch.no_grad():
        for layer, owner in zip(trainer.model.layers, trainer.model.owners, strict=True):
            layer.weight[owner == FREE] = float("nan")  # a later task trains these
    assert torch.equal(trainer.scores(held_out("A"), "A"), after_a["A"])
    assert torch.equal(trainer.scores(held_out("B"), "B"), b_before)


def test_a_hard_task_grows_the_body_and_earlier_outputs_stay_identical(grown) -> None:
    trainer, before = grown
    model = model_of(trainer)
    assert model.hidden == (TINY + 8,)
    assert model.layers[0].weight.shape == (TINY + 8, DIM)
    assert model.heads["C"].in_features == TINY + 8 and model.heads["A"].in_features == TINY
    for task in ("A", "B"):
        assert torch.equal(trainer.scores(held_out(task), task), before[task])
    report = model.parameter_report()
    assert [t.grown_units for t in report.tasks] == [0, 0, 8]
    c_cost = report.tasks[2]
    head = (TINY + 8) * CLASSES + CLASSES
    assert c_cost.new_parameters == int((model.owners[0] == 2).sum()) + head + 8
    assert report.total_parameters == sum(p.numel() for p in model.parameters())
    assert trainer.adapters[0].grown == [0, 0, 8]
    assert trainer.evaluate(*TASKS["C"][1], "C") > 0.5  # chance: 0.33


def test_the_default_grows_when_the_free_pool_runs_out() -> None:
    trainer = build(hidden=(8,), grow=4, keep=0.9)  # A and B leave 1% free; min_free 5%
    for task in ("A", "B"):
        fit(trainer, task)
    model = model_of(trainer)
    assert model.hidden == (8,) and model.free_share() < 0.05
    before = logits(trainer, ("A", "B"))
    fit(trainer, "C")
    assert model.hidden == (12,)
    assert [t.grown_units for t in model.parameter_report().tasks] == [0, 0, 4]
    assert all(torch.equal(trainer.scores(held_out(t), t), before[t]) for t in ("A", "B"))


def test_grow_keeps_the_open_tasks_output_and_needs_an_open_task() -> None:
    torch.manual_seed(0)
    model = CPGMLP(DIM, (6, 5))
    model.add_task("A", CLASSES)
    x = held_out("A")
    with torch.no_grad():
        out = model(x, task="A")
        model.grow((2, 3))
        assert model.hidden == (8, 8)
        assert torch.allclose(model(x, task="A"), out, atol=1e-6)
    model.pack(0.5)
    with pytest.raises(RuntimeError, match="open task"):
        model.grow(2)


def _reload(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("open_task", [False, True])
def test_a_fresh_model_loads_the_state_and_predicts_the_same(grown, open_task) -> None:
    trainer = copy.deepcopy(grown[0])
    model = model_of(trainer)
    tasks = ("A", "B", "C")
    if open_task:  # a task added, its mask still real-valued
        model.add_task("D", CLASSES)
        model.grow(2)
        tasks = (*tasks, "D")
    state = _reload(model.state_dict())
    empty = build(seed=7, hidden=(TINY,)).model
    with_a = build(seed=8, hidden=(TINY,)).model
    with_a.add_task("A", CLASSES)
    for fresh in (empty, with_a):
        fresh.load_state_dict(state)
        assert fresh.tasks == list(tasks)
        with torch.no_grad():
            for task in tasks:
                assert torch.equal(fresh(held_out("A"), task=task), model(held_out("A"), task=task))
        assert fresh.parameter_report() == model.parameter_report()
    other = build(hidden=(TINY,)).model
    other.add_task("X", CLASSES)
    with pytest.raises(ValueError, match="tasks"):
        other.load_state_dict(state)


def test_a_restored_trainer_goes_on_like_the_original(ab) -> None:
    original = copy.deepcopy(ab[0])
    restored = build(seed=9)
    restored.load_state_dict(_reload(original.state_dict()))
    for trainer in (original, restored):
        torch.manual_seed(5)  # new parameters come from the global generator
        fit(trainer, "A2")
    for task in ("A", "B", "A2"):
        assert torch.equal(original.scores(held_out(task), task),
                           restored.scores(held_out(task), task))
    assert [a.state_dict() for a in restored.adapters] == [
        a.state_dict() for a in original.adapters]


def test_the_factory_and_adapter_check_their_arguments() -> None:
    model, adapters = make_cpg(DIM, hidden=(8,), keep=0.3, grow=4, target=0.9)
    assert isinstance(model, CPGMLP) and isinstance(adapters[0], CPG)
    assert adapters[0].keep == [0.3] and adapters[0].target == 0.9
    with pytest.raises(ValueError):
        CPG(min_free=1.5)
    trainer = ContinualTrainer(MLPClassifier(DIM, (8,), head=MultiHeadClassifier(8)),
                               [CPG()], CONFIG)
    with pytest.raises(TypeError, match="CPGMLP"):
        fit(trainer, "A")
