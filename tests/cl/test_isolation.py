"""Parameter isolation (progressive networks, PackNet, Piggyback) under ContinualTrainer:
earlier tasks' outputs never move, later tasks are still learned, states round-trip."""

from __future__ import annotations

import copy
import io

import pytest
import torch
import torch.nn.functional as F

from textcl.cl import ContinualTrainer, TrainConfig
from textcl.cl.isolation import (
    FREE,
    PackNetMLP,
    PiggybackMLP,
    ProgressiveNet,
    equal_shares,
    make_isolation,
)
from textcl.heads import MLPClassifier, MultiHeadClassifier

DIM, HIDDEN, CLASSES = 16, 32, 3
METHODS = ("pnn", "packnet", "piggyback")
# AdamW's weight decay and clipping touch every parameter the optimizer holds: the
# isolation must hold anyway
CONFIG = TrainConfig(epochs=5, batch_size=32, lr=3e-3, optimizer="adamw", weight_decay=0.05,
                     grad_clip=1.0)


def blobs(task_seed: int, rows_seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` rows per class around the task's class centres (one random centre per
    class, drawn from ``task_seed``): a separable task."""
    centres = 1.5 * torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(task_seed))
    y = torch.arange(CLASSES).repeat_interleave(n)
    noise = torch.randn(len(y), DIM, generator=torch.Generator().manual_seed(rows_seed))
    return centres[y] + noise, y


# task -> (train rows, test rows)
TASKS = {name: (blobs(k, 10 * k, 100), blobs(k, 10 * k + 1, 50))
         for k, name in enumerate(("A", "B", "C"), start=1)}


def build(method: str, seed: int = 0) -> ContinualTrainer:
    torch.manual_seed(seed)
    options = {"retrain_epochs": 2} if method == "packnet" else {}
    model, adapters = make_isolation(method, DIM, hidden=(HIDDEN,), **options)
    return ContinualTrainer(model, adapters, CONFIG)


def naive() -> ContinualTrainer:
    torch.manual_seed(0)
    return ContinualTrainer(MLPClassifier(DIM, (HIDDEN,), head=MultiHeadClassifier(HIDDEN)),
                            [], CONFIG)


def fit(trainer: ContinualTrainer, task: str) -> None:
    (x, y), _ = TASKS[task]
    trainer.fit_task(x, y, task, n_classes=CLASSES)


def held_out(task: str) -> torch.Tensor:
    """The task's test rows."""
    return TASKS[task][1][0]


def two_tasks(trainer: ContinualTrainer) -> tuple[ContinualTrainer, torch.Tensor]:
    """Fit A then B; returns the trainer and A's test logits right after A."""
    fit(trainer, "A")
    after_a = trainer.scores(held_out("A"), "A")
    fit(trainer, "B")
    return trainer, after_a


@pytest.fixture(scope="module")
def trained() -> dict[str, tuple[ContinualTrainer, torch.Tensor]]:
    """Every method and the naive control after tasks A and B (copy before changing)."""
    return {name: two_tasks(naive() if name == "naive" else build(name))
            for name in (*METHODS, "naive")}


@pytest.mark.parametrize("method", METHODS)
def test_learning_a_task_leaves_earlier_logits_bit_identical(trained, method) -> None:
    trainer, after_a = trained[method]
    assert torch.equal(trainer.scores(held_out("A"), "A"), after_a)
    control, control_after_a = trained["naive"]
    assert not torch.equal(control.scores(held_out("A"), "A"), control_after_a), (
        "naive fine-tuning of the shared body should move task A's logits")


@pytest.mark.parametrize("method", METHODS)
def test_each_method_learns_both_tasks(trained, method) -> None:
    trainer, _ = trained[method]
    for task in ("A", "B"):
        x, y = TASKS[task][1]
        accuracy = trainer.evaluate(x, y, task)
        assert accuracy > 0.85, f"{method} reaches only {accuracy:.2f} on {task} (chance 0.33)"


def test_packnet_keeps_a_share_of_the_free_weights_and_zeroes_the_rest() -> None:
    trainer = build("packnet")
    model = trainer.model
    assert isinstance(model, PackNetMLP)
    sizes = [o.numel() for o in model.owners]
    fit(trainer, "A")
    free_after_a = [int((o == FREE).sum()) for o in model.owners]
    assert [int((o == 0).sum()) for o in model.owners] == [round(0.5 * n) for n in sizes]
    fit(trainer, "B")
    assert [int((o == 1).sum()) for o in model.owners] == [round(0.5 * n) for n in free_after_a]
    for layer, owner in zip(model.layers, model.owners, strict=True):
        assert torch.all(layer.weight[owner == FREE] == 0), "pruned weights must be zero"
        assert torch.all(layer.weight[owner == 1] != 0)
    assert trainer.adapters[0].kept == [[round(0.5 * n) for n in sizes],
                                        [round(0.5 * n) for n in free_after_a]]


def test_packnet_prediction_reads_no_weight_of_a_later_task(trained) -> None:
    trainer, after_a = copy.deepcopy(trained["packnet"])
    model = trainer.model
    b_before = trainer.scores(held_out("B"), "B")
    with torch.no_grad():
        for layer, owner in zip(model.layers, model.owners, strict=True):
            layer.weight[owner == 1] = float("nan")  # garbage in B's weights
    assert torch.equal(trainer.scores(held_out("A"), "A"), after_a)
    assert torch.isnan(trainer.scores(held_out("B"), "B")).all(), "B must read its weights"
    assert not torch.isnan(b_before).any()


def test_packnet_needs_a_task_packed_before_the_next_and_learns_each_task_once() -> None:
    model = PackNetMLP(DIM, (HIDDEN,))
    model.add_task("A", CLASSES)
    with pytest.raises(RuntimeError, match="not packed"):
        model.add_task("B", CLASSES)
    trainer = build("packnet")
    fit(trainer, "A")
    with pytest.raises(RuntimeError, match="packed already"):
        fit(trainer, "A")


def test_packnet_freezes_biases_and_earlier_heads_and_reports_what_tasks_own(trained) -> None:
    model = trained["packnet"][0].model
    assert not any(layer.bias.requires_grad for layer in model.layers)
    assert [h.weight.requires_grad for h in model.heads.values()] == [False, True]
    report = model.parameter_report()
    head, n_weights = HIDDEN * CLASSES + CLASSES, DIM * HIDDEN
    a, b = n_weights // 2, n_weights // 4  # keep = 0.5 of all, then of the rest
    assert [t.new_parameters for t in report.tasks] == [a + head + HIDDEN, b + head]
    assert [t.used_parameters for t in report.tasks] == [HIDDEN + a + head, HIDDEN + a + b + head]
    assert report.shared_parameters == n_weights - a - b  # free for later tasks
    assert report.bookkeeping_bits == 2 * n_weights  # owners in {free, A, B}
    assert report.total_parameters == sum(p.numel() for p in model.parameters())


def test_equal_shares_split_the_body_evenly() -> None:
    shares = equal_shares(4)
    free, kept = 1.0, []
    for share in shares:
        kept.append(free * share)
        free -= free * share
    assert kept == pytest.approx([0.25] * 4)


def test_piggyback_never_changes_its_backbone_and_learns_binary_masks() -> None:
    trainer = build("piggyback")
    model = trainer.model
    assert isinstance(model, PiggybackMLP)
    backbone = [w.clone() for w in model.weights] + [b.clone() for b in model.biases]
    two_tasks(trainer)
    after = model.weights + model.biases
    assert all(torch.equal(a, b) for a, b in zip(backbone, after, strict=True))
    for task in ("A", "B"):
        masks = model.binary_masks(task)
        assert all(m.dtype == torch.bool and m.shape == w.shape
                   for m, w in zip(masks, model.weights, strict=True))
        density = float(torch.cat([m.flatten() for m in masks]).float().mean())
        assert 0.0 < density < 1.0, "the mask should have moved off its full start"
    with torch.no_grad():  # the forward pass reads the backbone through the bits
        x, mask = held_out("A"), model.binary_masks("A")[0]
        hidden = torch.relu(F.linear(x, model.weights[0] * mask, model.biases[0]))
        assert torch.equal(model.heads["A"](hidden), model(x, task="A"))
    assert model.open_task == "B"
    stored = {k: v.dtype for k, v in model.state_dict().items() if k.startswith("masks.")}
    assert stored == {"masks.A.bits0": torch.bool, "masks.B.scores.0": torch.float32}, (
        "a finished task's mask is stored as bits")
    assert not any(p.requires_grad for p in model.heads["A"].parameters())
    report = model.parameter_report()
    n_weights = DIM * HIDDEN
    assert [t.mask_bits for t in report.tasks] == [n_weights, n_weights]
    assert [t.new_parameters for t in report.tasks] == [HIDDEN * CLASSES + CLASSES] * 2
    assert report.shared_parameters == n_weights + HIDDEN
    stored = [*model.weights, *model.biases, *model.heads.parameters()]
    assert report.total_parameters == sum(t.numel() for t in stored)


def test_piggyback_sealed_masks_round_trip(trained) -> None:
    model = copy.deepcopy(trained["piggyback"][0].model)
    before = model(held_out("B"), task="B")
    model.seal()
    assert model.open_task is None
    assert torch.equal(model(held_out("B"), task="B"), before)
    fresh = build("piggyback", seed=4).model
    fresh.load_state_dict(_reload(model.state_dict()))
    assert fresh.open_task is None
    assert torch.equal(fresh(held_out("B"), task="B"), before)


def test_piggyback_copies_a_given_backbone() -> None:
    torch.manual_seed(3)
    body = MLPClassifier(DIM, (HIDDEN, 8), n_classes=2).body
    model = PiggybackMLP(DIM, backbone=body)
    assert model.hidden == (HIDDEN, 8)
    assert torch.equal(model.weights[1], body[2].weight)
    with pytest.raises(ValueError, match="chain"):
        PiggybackMLP(DIM + 1, backbone=body)


def test_pnn_freezes_earlier_columns_and_reports_its_growth(trained) -> None:
    model = trained["pnn"][0].model
    assert isinstance(model, ProgressiveNet)
    assert not any(p.requires_grad for p in model.column("A").parameters())
    assert all(p.requires_grad for p in model.column("B").parameters())
    column = DIM * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES
    lateral = HIDDEN * CLASSES  # B's output layer reads A's hidden layer
    report = model.parameter_report()
    assert [t.new_parameters for t in report.tasks] == [column, column + lateral]
    assert [t.used_parameters for t in report.tasks] == [
        column, DIM * HIDDEN + HIDDEN + column + lateral]
    assert report.total_parameters == sum(p.numel() for p in model.parameters())


def _reload(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("method", METHODS)
def test_a_fresh_model_loads_the_state_and_predicts_the_same(trained, method) -> None:
    trainer, _ = trained[method]
    state = _reload(trainer.model.state_dict())
    empty = build(method, seed=7).model
    with_a = build(method, seed=8).model
    with_a.add_task("A", CLASSES)
    for fresh in (empty, with_a):
        fresh.load_state_dict(state)
        assert fresh.tasks == ["A", "B"]
        for task in ("A", "B"):
            with torch.no_grad():
                assert torch.equal(fresh(held_out(task), task=task),
                                   trainer.model(held_out(task), task=task))
        assert fresh.parameter_report() == trainer.model.parameter_report()
    other = build(method).model
    other.add_task("X", CLASSES)
    with pytest.raises(ValueError, match="tasks"):
        other.load_state_dict(state)


@pytest.mark.parametrize("method", METHODS)
def test_a_restored_trainer_goes_on_like_the_original(trained, method) -> None:
    original = copy.deepcopy(trained[method][0])
    restored = build(method, seed=9)
    restored.load_state_dict(_reload(original.state_dict()))
    for trainer in (original, restored):
        torch.manual_seed(5)  # task C's new parameters come from the global generator
        fit(trainer, "C")
    for task in ("A", "B", "C"):
        assert torch.equal(original.scores(held_out(task), task),
                           restored.scores(held_out(task), task))
    assert [a.state_dict() for a in restored.adapters] == [
        a.state_dict() for a in original.adapters]
    assert original.evaluate(*TASKS["C"][1], "C") > 0.85


@pytest.mark.parametrize("method", METHODS)
def test_a_stream_task_resumed_midway_ends_like_an_uninterrupted_one(method) -> None:
    (x, y), _ = TASKS["A"]
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]

    def run(stop: bool) -> ContinualTrainer:
        trainer = build(method)
        trainer.start_task("A")
        trainer.learn(x[:150], y[:150], n_classes=CLASSES)
        if stop:
            restored = build(method, seed=9)
            restored.load_state_dict(_reload(trainer.state_dict()))
            restored.task = "A"  # the trainer's state does not carry the open task's key
            trainer = restored
        trainer.learn(x[150:], y[150:], n_classes=CLASSES)
        trainer.end_task()
        return trainer

    plain, resumed = run(False), run(True)
    assert torch.equal(plain.scores(held_out("A"), "A"), resumed.scores(held_out("A"), "A"))
    if method == "packnet":
        assert plain.model.packed == resumed.model.packed == 1
