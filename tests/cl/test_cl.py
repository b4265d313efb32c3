"""Continual-learning adapters: each does what it claims, on tiny synthetic tasks."""

from __future__ import annotations

import itertools

import pytest
import torch
from helpers import PathRecorder
from torch import nn

from textcl.cl import (
    AGEM,
    EWC,
    MAS,
    SI,
    ClassBalancedBuffer,
    ContinualTrainer,
    GenerativeReplay,
    HerdingBuffer,
    LwF,
    Replay,
    ReservoirBuffer,
    StepBatch,
    TrainConfig,
)
from textcl.cl.buffers import herding_order
from textcl.cl.lwf import distillation


def blobs(classes: list[int], n: int = 60, dim: int = 8, seed: int = 0, spread: float = 0.5):
    """Gaussian blobs, one per class, centred on distinct one-hot-ish points."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.eye(dim)[: max(classes) + 1] * 3.0
    xs = [centers[c] + spread * torch.randn(n, dim, generator=g) for c in classes]
    ys = [torch.full((n,), c, dtype=torch.long) for c in classes]
    return torch.cat(xs), torch.cat(ys)


def linear(dim: int = 8, classes: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(dim, classes)


def class_incremental(adapters, epochs: int = 20, seed: int = 0) -> tuple[float, float]:
    """Train task A (classes 0,1) then task B (2,3); return accuracy on A after A and after B."""
    trainer = ContinualTrainer(linear(seed=seed), adapters, epochs=epochs, lr=0.05, seed=seed)
    xa, ya = blobs([0, 1], seed=1)
    xb, yb = blobs([2, 3], seed=2)
    ta, _ = blobs([0, 1], seed=3)
    ta_y = torch.tensor([0] * 60 + [1] * 60)
    trainer.fit_task(xa, ya, "A")
    before = trainer.evaluate(ta, ta_y)
    trainer.fit_task(xb, yb, "B")
    return before, trainer.evaluate(ta, ta_y)


def test_naive_training_forgets_and_replay_does_not() -> None:
    before, naive_after = class_incremental([])
    _, replay_after = class_incremental([Replay(ReservoirBuffer(40))])
    assert before > 0.95
    assert naive_after < 0.5, "without an adapter the old classes should be forgotten"
    assert replay_after > 0.9, f"replay should keep the old classes, got {replay_after:.2f}"


def test_generative_replay_keeps_old_classes_without_storing_examples() -> None:
    adapter = GenerativeReplay(seed=0)
    _, after = class_incremental([adapter])
    assert after > 0.9
    assert adapter.memory_size() == 4 * (1 + 8)  # statistics only: a mean and covariance per class


def _ewc_after_one_task(lam: float = 10.0, mode: str = "separate") -> tuple[ContinualTrainer, EWC]:
    ewc = EWC(lam=lam, mode=mode)
    trainer = ContinualTrainer(linear(), [ewc], epochs=2, lr=0.05)
    x, y = blobs([0, 1, 2, 3], n=20)
    trainer.fit_task(x, y, "A")
    return trainer, ewc


def test_ewc_penalty_is_zero_at_the_anchor_and_grows_with_distance() -> None:
    trainer, ewc = _ewc_after_one_task()
    model = trainer.model
    assert ewc.penalty_value(model) == pytest.approx(0.0, abs=1e-6)
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    direction = {n: torch.randn_like(p) for n, p in model.named_parameters()}
    values = []
    for step in (0.1, 0.2, 0.4, 0.8):
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(anchor[n] + step * direction[n])
        values.append(ewc.penalty_value(model))
    assert all(b > a > 0 for a, b in itertools.pairwise(values))
    assert values[1] / values[0] == pytest.approx(4.0, rel=1e-3)  # quadratic in distance


def test_ewc_gradient_matches_the_penalty_derivative() -> None:
    trainer, ewc = _ewc_after_one_task(lam=3.0)
    model = trainer.model
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    ewc.after_backward(trainer, StepBatch(torch.zeros(1, 8), torch.zeros(1), None))
    analytic = [p.grad.clone() for p in model.parameters()]
    eps = 1e-3
    w = model.weight
    with torch.no_grad():
        w[0, 0] += eps
        up = ewc.penalty_value(model)
        w[0, 0] -= 2 * eps
        down = ewc.penalty_value(model)
        w[0, 0] += eps
    assert analytic[0][0, 0].item() == pytest.approx((up - down) / (2 * eps), rel=1e-2)


def test_separate_ewc_sums_one_penalty_per_task() -> None:
    trainer, ewc = _ewc_after_one_task()
    first_anchor = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    x, y = blobs([0, 1, 2, 3], n=20, seed=5)
    trainer.fit_task(x, y, "B")
    model = trainer.model
    # At the first anchor only task B's penalty remains; it must be positive.
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(first_anchor[n])
    assert ewc.penalty_value(model) > 0


def test_online_ewc_anchors_at_the_latest_weights() -> None:
    trainer, ewc = _ewc_after_one_task(mode="online")
    x, y = blobs([0, 1, 2, 3], n=20, seed=5)
    trainer.fit_task(x, y, "B")
    assert ewc.penalty_value(trainer.model) == pytest.approx(0.0, abs=1e-5)


def test_ewc_reduces_forgetting_on_a_domain_shift() -> None:
    def run(adapters) -> float:
        trainer = ContinualTrainer(linear(classes=2), adapters, epochs=10, lr=0.05)
        xa, ya = blobs([0, 1], seed=1)
        xb = xa.flip(1)  # the same classes written differently
        trainer.fit_task(xa, ya, "A")
        trainer.fit_task(xb, ya, "B")
        return trainer.evaluate(xa, ya)

    assert run([EWC(lam=200.0)]) > run([]) + 0.1


def test_mas_and_si_find_importance_where_training_moved_weights() -> None:
    for adapter in (MAS(lam=1.0), SI(c=1.0)):
        trainer = ContinualTrainer(linear(), [adapter], epochs=3, lr=0.05)
        x, y = blobs([0, 1], n=40)
        trainer.fit_task(x, y, "A")
        weight_importance = adapter.A["weight"]
        assert (weight_importance >= 0).all()
        # only rows of classes 0 and 1 and input dims 0, 1 carry signal here
        assert weight_importance[:2, :2].mean() > weight_importance[2:, 2:].mean()


def test_class_balanced_buffer_stays_balanced_under_a_skewed_stream() -> None:
    buffer = ClassBalancedBuffer(60, seed=0)
    g = torch.Generator().manual_seed(0)
    counts = {0: 2000, 1: 500, 2: 40, 3: 10}
    y = torch.cat([torch.full((n,), c) for c, n in counts.items()])
    y = y[torch.randperm(len(y), generator=g)]
    x = torch.randn(len(y), 4, generator=g)
    buffer.add(x, y)
    stored = buffer.class_counts()
    assert len(buffer) == 60
    assert stored[3] == 10  # a rare class is kept whole
    big = [stored[c] for c in (0, 1, 2)]
    assert max(big) - min(big) <= 1, stored


def test_reservoir_buffer_keeps_a_uniform_sample() -> None:
    buffer = ReservoirBuffer(200, seed=1)
    y = torch.cat([torch.zeros(5000), torch.ones(5000)]).long()
    buffer.add(torch.arange(10000).float().unsqueeze(1), y)
    share = buffer.class_counts()[0] / len(buffer)
    assert 0.4 < share < 0.6  # old half of the stream not crowded out


def test_multilabel_class_balanced_buffer_keeps_rare_labels() -> None:
    buffer = ClassBalancedBuffer(50, seed=0)
    g = torch.Generator().manual_seed(0)
    y = torch.zeros(3000, 3)
    y[:, 0] = 1
    rare = torch.randperm(3000, generator=g)[:30]
    y[rare, 2] = 1
    buffer.add(torch.randn(3000, 2, generator=g), y)
    counts = buffer.class_counts()
    assert counts[2] >= 25  # far above its 1% share of the stream


def test_agem_step_never_points_against_the_reference_gradient() -> None:
    memory = ReservoirBuffer(64, seed=0)
    agem = AGEM(memory, ref_batch=64)
    trainer = ContinualTrainer(linear(), [agem], epochs=1, lr=0.05)
    xa, ya = blobs([0, 1], n=32)
    trainer.fit_task(xa, ya, "A")
    assert len(memory) == 64
    xb, yb = blobs([2, 3], n=32, seed=4)
    params = list(trainer.model.parameters())
    for start in range(0, 64, 8):
        trainer.model.zero_grad()
        loss = trainer.loss_fn(trainer.forward(xb[start : start + 8]), yb[start : start + 8])
        loss.backward()
        batch = StepBatch(xb[start : start + 8], yb[start : start + 8], "B")
        agem.after_backward(trainer, batch)
        mx, my, _ = memory.contents()
        ref = torch.autograd.grad(trainer.loss_fn(trainer.forward(mx), my), params)
        dot = sum((p.grad * r).sum() for p, r in zip(params, ref, strict=True))
        assert dot >= -1e-6
    assert agem.projections > 0


def test_agem_reuses_its_reference_gradient_between_refreshes() -> None:
    def run(refresh_every: int) -> tuple[int, list[torch.Tensor]]:
        agem = AGEM(ReservoirBuffer(64, seed=0), ref_batch=32, refresh_every=refresh_every)
        draws = 0
        sample = agem.buffer.sample

        def counted(n: int):
            nonlocal draws
            draws += 1
            return sample(n)

        agem.buffer.sample = counted
        trainer = ContinualTrainer(linear(), [agem], epochs=1, lr=0.05, batch_size=8)
        trainer.fit_task(*blobs([0, 1], n=32), "A")
        trainer.fit_task(*blobs([2, 3], n=48, seed=4), "B")  # 12 steps with a memory
        return draws, [p.detach().clone() for p in trainer.model.parameters()]

    every, _ = run(1)
    fourth, weights = run(4)
    assert (every, fourth) == (12, 3)
    _, weights_again = run(4)
    assert all(torch.equal(a, b) for a, b in zip(weights, weights_again, strict=True))


def test_herding_picks_exemplars_whose_mean_tracks_the_class_mean() -> None:
    g = torch.Generator().manual_seed(0)
    feats = torch.nn.functional.normalize(torch.randn(200, 16, generator=g), dim=1)
    order = herding_order(feats, 10)
    herd_err = (feats[order].mean(0) - feats.mean(0)).norm()
    rand_err = (feats[:10].mean(0) - feats.mean(0)).norm()
    assert len(set(order.tolist())) == 10
    assert herd_err < rand_err


def test_herding_buffer_splits_memory_over_classes() -> None:
    buffer = HerdingBuffer(40)
    trainer = ContinualTrainer(linear(), [Replay(buffer)], epochs=1)
    trainer.fit_task(*blobs([0, 1]), "A")
    assert buffer.class_counts() == {0: 20, 1: 20}
    trainer.fit_task(*blobs([2, 3], seed=2), "B")
    assert buffer.class_counts() == {0: 10, 1: 10, 2: 10, 3: 10}


def test_lwf_distillation_is_zero_for_the_same_outputs_and_keeps_old_outputs() -> None:
    logits = torch.randn(5, 3)
    assert distillation(logits, logits, 2.0, False).item() == pytest.approx(0.0, abs=1e-6)

    def drift(adapters) -> float:
        trainer = ContinualTrainer(linear(), adapters, epochs=5, lr=0.05)
        xa, ya = blobs([0, 1], seed=1)
        trainer.fit_task(xa, ya, "A")
        before = trainer.forward(xa)[:, :2].detach()
        trainer.fit_task(*blobs([2, 3], seed=2), "B")
        return (trainer.forward(xa)[:, :2].detach() - before).abs().mean().item()

    assert drift([LwF(weight=5.0)]) < drift([])


def test_trainer_state_round_trips() -> None:
    buffer = ReservoirBuffer(30)
    trainer = ContinualTrainer(linear(), [Replay(buffer), EWC(lam=5.0)], epochs=1)
    trainer.fit_task(*blobs([0, 1]), "A")
    state = trainer.state_dict()
    clone = ContinualTrainer(linear(seed=9), [Replay(ReservoirBuffer(30)), EWC(lam=5.0)])
    clone.load_state_dict(state)
    x, _ = blobs([0, 1, 2])
    assert torch.equal(clone.predict(x), trainer.predict(x))
    assert clone.memory_size() == 30
    assert clone.adapters[1].penalty_value(clone.model) == pytest.approx(0.0, abs=1e-6)


def test_training_regime_settings_are_checked_and_applied() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    cfg = TrainConfig(lr=0.1, lr_task_decay=0.5, lr_schedule="linear", warmup_steps=2)
    assert cfg.task_lr(2) == pytest.approx(0.025)
    assert cfg.lr_factor(0, 10) == pytest.approx(0.5)
    assert cfg.lr_factor(9, 10) < 0.2


def test_mismatched_inputs_and_labels_are_refused() -> None:
    trainer = ContinualTrainer(linear())
    with pytest.raises(ValueError, match="3 inputs but 2 labels"):
        trainer.fit_task(torch.zeros(3, 8), torch.zeros(2, dtype=torch.long))


# -- growing heads, bias correction and classifiers that replace the logits ----------------
from textcl.cl import (  # noqa: E402
    BiC,
    NearestMeanOfExemplars,
    StreamingLDA,
    WeightAligning,
)
from textcl.heads import IncrementalClassifier, MLPClassifier, MultiHeadClassifier  # noqa: E402


def growing_trainer(adapters, seed: int = 0) -> ContinualTrainer:
    torch.manual_seed(seed)
    return ContinualTrainer(IncrementalClassifier(8), adapters, epochs=20, lr=0.05, seed=seed)


def test_trainer_grows_the_head_when_new_classes_arrive_and_keeps_old_logits() -> None:
    trainer = growing_trainer([])
    xa, ya = blobs([0, 1])
    trainer.fit_task(xa, ya, "A")
    head = trainer.model
    assert head.n_classes == 2
    before = head(xa).detach()
    head.grow(2)
    assert torch.equal(head(xa)[:, :2], before)
    trainer.fit_task(*blobs([2, 3, 4], seed=2), "B")
    assert head.n_classes == 5


def _share_predicted_new(extra, seed: int) -> float:
    """Class-incremental step with 5x more new data than old and a tiny memory: the share
    of old-class test tweets the model calls one of the new classes (its bias)."""
    buffer = ReservoirBuffer(16, seed=seed)
    trainer = growing_trainer([Replay(buffer, batch_size=4), *extra(buffer)], seed=seed)
    trainer.fit_task(*blobs([0, 1], spread=1.2, seed=seed), "A")
    trainer.fit_task(*blobs([2, 3], n=300, seed=seed + 2, spread=1.2), "B")
    x, _ = blobs([0, 1], seed=seed + 7, spread=1.2)
    return float((trainer.predict(x) >= 2).float().mean())


def test_bic_reduces_the_bias_towards_new_classes() -> None:
    seeds = range(4)
    plain = sum(_share_predicted_new(lambda b: [], s) for s in seeds) / 4
    bic = sum(_share_predicted_new(lambda b: [BiC(b, val_per_class=20)], s) for s in seeds) / 4
    assert bic < plain - 0.05, (plain, bic)


def test_weight_aligning_equalises_old_and_new_weight_norms() -> None:
    wa = WeightAligning()
    trainer = growing_trainer([Replay(ReservoirBuffer(16), batch_size=4), wa])
    trainer.fit_task(*blobs([0, 1]), "A")
    trainer.fit_task(*blobs([2, 3], n=300, seed=2), "B")
    norms = trainer.model.weight.detach().norm(dim=1)
    assert len(wa.gammas) == 1 and wa.gammas[0] != 1.0
    assert norms[2:].mean().item() == pytest.approx(norms[:2].mean().item(), rel=1e-5)


def test_bic_holds_out_new_class_examples_and_sets_a_correction() -> None:
    buffer = ReservoirBuffer(40, seed=0)
    bic = BiC(buffer, val_per_class=10)
    trainer = growing_trainer([Replay(buffer), bic])
    trainer.fit_task(*blobs([0, 1]), "A")
    report = trainer.fit_task(*blobs([2, 3], seed=2), "B")
    assert report.held_out == 20
    assert len(bic.params) == 1
    scale = trainer.model.logit_scale
    assert torch.all(scale[:2] == 1) and torch.all(scale[2:] == bic.params[0][0])


def test_nearest_mean_of_exemplars_classifies_from_the_buffer() -> None:
    buffer = HerdingBuffer(40)
    nme = NearestMeanOfExemplars(buffer)
    trainer = ContinualTrainer(linear(), [Replay(buffer), nme], epochs=1, lr=0.05)
    trainer.fit_task(*blobs([0, 1]), "A")
    trainer.fit_task(*blobs([2, 3], seed=2), "B")
    x, y = blobs([0, 1, 2, 3], seed=9)
    assert nme.means is not None and len(nme.classes) == 4
    assert trainer.evaluate(x, y) > 0.9  # old classes kept although the linear layer forgot


def test_streaming_lda_does_not_depend_on_task_order() -> None:
    x1, y1 = blobs([0, 1], seed=1, spread=1.0)
    x2, y2 = blobs([2, 3], seed=2, spread=1.0)
    test_x, test_y = blobs([0, 1, 2, 3], seed=3, spread=1.0)
    preds = []
    for order in ([(x1, y1), (x2, y2)], [(x2, y2), (x1, y1)]):
        slda = StreamingLDA()
        trainer = ContinualTrainer(linear(), [slda], epochs=1)
        for x, y in order:
            trainer.fit_task(x, y)
        preds.append(trainer.predict(test_x))
    assert torch.equal(preds[0], preds[1])
    assert (preds[0] == test_y).float().mean() > 0.95
    assert slda.memory_size() == 8 + 4  # a covariance (dim rows) and one mean per class


def test_task_incremental_heads_with_replay_of_mixed_tasks_and_lwf() -> None:
    torch.manual_seed(0)
    model = MLPClassifier(8, (16,), head=MultiHeadClassifier(16))
    buffer = ReservoirBuffer(40)
    trainer = ContinualTrainer(model, [Replay(buffer), LwF()], epochs=10, lr=0.02)
    xa, ya = blobs([0, 1])
    trainer.fit_task(xa, ya, "sentiment")
    trainer.fit_task(*blobs([0, 1, 2], seed=3), "topic")
    assert model.head.tasks == ["sentiment", "topic"]
    assert {t for t in buffer.store.tasks[: len(buffer)]} == {"sentiment", "topic"}
    assert trainer.evaluate(xa, ya, "sentiment") > 0.9
    with pytest.raises(KeyError, match="sentiment"):
        trainer.predict(xa, "emotion")


def test_generative_replay_reports_its_statistics_as_memory() -> None:
    full, diag = GenerativeReplay(), GenerativeReplay(covariance="diag")
    for adapter in (full, diag):
        trainer = ContinualTrainer(linear(), [adapter], epochs=1)
        trainer.fit_task(*blobs([0, 1]), "A")
    assert full.memory_size() == 2 * (1 + 8)  # a mean and a full covariance per class
    assert diag.memory_size() == 2 * 2
    x, y, _ = full.sample(500)
    assert (x[y == 0].mean(0) - torch.eye(8)[0] * 3).abs().max() < 0.3


def test_si_path_integral_uses_the_gradient_the_optimizer_applied() -> None:
    """With clipping on, SI's running path integral equals the exact sum of
    ``-grad * delta`` over the clipped gradients, step by step (float64 reference)."""
    si, recorder = SI(c=1.0), PathRecorder()
    trainer = ContinualTrainer(linear(), [si, recorder], epochs=3, lr=0.05, grad_clip=0.05)
    x, y = blobs([0, 1], n=40)
    trainer.fit_task(x, y, "A")
    trainer.fit_task(*blobs([2, 3], n=40, seed=2), "B")  # task B's path, after a penalty
    assert set(si._w) == set(recorder.w)
    for name, exact in recorder.w.items():
        assert float(exact.abs().sum()) > 0
        torch.testing.assert_close(si._w[name].double(), exact, rtol=1e-4, atol=1e-7)
