"""Quadratic penalties as a proximal step: exact for SGD, stable at any rate and strength."""

from __future__ import annotations

import pytest
import torch
from test_cl import blobs, linear

from textcl.cl import EWC, SI, ContinualTrainer
from textcl.cl.adapter import StepBatch


def _domain_shift(adapter, lr: float) -> tuple[ContinualTrainer, float]:
    """Task A, then the same classes written differently (B); accuracy on A at the end."""
    trainer = ContinualTrainer(linear(classes=2), [adapter], epochs=10, lr=lr,
                               optimizer="sgd")
    xa, ya = blobs([0, 1], seed=1)
    trainer.fit_task(xa, ya, "A")
    trainer.fit_task(xa.flip(1), ya, "B")
    return trainer, trainer.evaluate(xa, ya)


def test_the_proximal_step_minimises_penalty_plus_distance_exactly() -> None:
    ewc = EWC(lam=30.0, step="proximal")
    trainer, _ = _domain_shift(ewc, lr=0.05)
    model, rate = trainer.model, 0.7
    for group in trainer.optimizer.param_groups:
        group["lr"] = rate
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    ewc.after_step(trainer, StepBatch(torch.zeros(1, 8), torch.zeros(1), None))
    for name, p in model.named_parameters():
        # the gradient of lam/2 (A p^2 - 2 B p) + |p - before|^2 / (2 rate) vanishes at p
        grad = ewc.lam * (ewc.A[name] * p - ewc.B[name]) + (p - before[name]) / rate
        assert torch.allclose(grad, torch.zeros_like(grad), atol=1e-4), name
        assert not torch.equal(p, before[name])


@pytest.mark.parametrize("adapter", [EWC, SI])
def test_a_strong_penalty_at_a_high_rate_diverges_as_a_gradient_not_as_a_proximal_step(
        adapter) -> None:
    """Importance 1 on every weight at lam 10 and rate 1: a gradient step multiplies the
    distance to the anchor by 1 - 10 each time; the proximal step divides it by 1 + 10."""
    xa, ya = blobs([0, 1], seed=1, spread=2.0)

    def run(step: str) -> tuple[ContinualTrainer, dict[str, torch.Tensor]]:
        penalty = adapter(10.0, step=step)
        trainer = ContinualTrainer(linear(classes=2), [], epochs=5, lr=1.0, optimizer="sgd")
        trainer.fit_task(xa, ya, "A")
        anchor = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
        penalty.consolidate(trainer.model, {n: torch.ones_like(p) for n, p in anchor.items()})
        trainer.adapters = [penalty]
        trainer.fit_task(xa.flip(1), ya, "B")
        return trainer, anchor

    gradient, _ = run("gradient")
    assert not all(torch.isfinite(p).all() and p.abs().max() < 1e6
                   for p in gradient.model.parameters())  # the control blows up
    proximal, anchor = run("proximal")
    for name, p in proximal.model.named_parameters():
        assert torch.isfinite(p).all()
        assert (p - anchor[name]).abs().max() < 1.0  # held near what task A learned


def test_a_proximal_penalty_needs_the_trainers_optimizer() -> None:
    ewc = EWC(lam=1.0, step="proximal")
    trainer, _ = _domain_shift(ewc, lr=0.05)
    trainer.optimizer = None
    with pytest.raises(ValueError, match="step='gradient'"):
        ewc.after_step(trainer, StepBatch(torch.zeros(1, 8), torch.zeros(1), None))
    with pytest.raises(ValueError, match="'gradient' or 'proximal'"):
        EWC(step="implicit")  # type: ignore[arg-type]


def test_the_stream_classifiers_penalties_step_proximally_unless_told_otherwise() -> None:
    from textcl.classify.settings import ClassifierSection, build_adapters

    names = ["ewc", "mas", "si"]
    assert [a.step for a in build_adapters(ClassifierSection(adapters=names))] == ["proximal"] * 3
    told = ClassifierSection(adapters=names, penalty_step="gradient")
    assert [a.step for a in build_adapters(told)] == ["gradient"] * 3
