"""GEM: the exact quadratic program keeps every past task's memory loss from rising."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from test_cl import blobs, class_incremental, linear

from textcl.cl import GEM, ContinualTrainer, ReservoirBuffer, StepBatch
from textcl.cl.gem import flat_grad, project_gem


def primal(g: np.ndarray, G: np.ndarray) -> np.ndarray:
    """min ||z - g||^2 subject to G z >= 0, by a general-purpose solver (the reference)."""
    result = minimize(lambda z: 0.5 * np.sum((z - g) ** 2), g, jac=lambda z: z - g,
                      constraints=[{"type": "ineq", "fun": lambda z: G @ z, "jac": lambda z: G}],
                      method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
    assert result.success
    return result.x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_projection_is_the_closest_gradient_that_satisfies_every_constraint(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(4, 30))
    g = -G[0] - 0.5 * G[2] + 0.1 * rng.normal(size=30)  # against tasks 0 and 2
    assert (G @ g < 0).any()
    z = project_gem(torch.from_numpy(g), torch.from_numpy(G), margin=0.0).numpy()
    assert (G @ z >= -1e-8).all()
    np.testing.assert_allclose(z, primal(g, G), atol=1e-5)


def test_projection_leaves_a_harmless_gradient_alone_without_margin() -> None:
    G = torch.eye(3, 10, dtype=torch.float64)
    g = torch.linspace(1.0, 2.0, 10, dtype=torch.float64)  # positive on every memory
    torch.testing.assert_close(project_gem(g, G, margin=0.0), g)


def test_every_past_task_constraint_holds_where_agem_would_check_only_the_mean() -> None:
    gem = GEM(ReservoirBuffer(120, seed=0), margin=0.0)
    model = linear(classes=6)
    trainer = ContinualTrainer(model, [gem], epochs=3, lr=0.05)
    for classes, seed in (([0, 1], 1), ([2, 3], 2)):
        trainer.fit_task(*blobs(classes, n=40, seed=seed), None)
    groups = gem._memory_groups()
    assert len(groups) == 2  # one constraint per past task, though the task key is None
    params = list(model.parameters())
    memories = torch.stack([flat_grad(params, list(torch.autograd.grad(
        trainer.loss_fn(trainer.forward(x), y), params))) for _, x, y in groups])
    xc, yc = blobs([4, 5], n=40, seed=3)
    violated, before = 0, gem.projections
    for start in range(0, 80, 8):
        model.zero_grad()
        trainer.loss_fn(trainer.forward(xc[start : start + 8]), yc[start : start + 8]).backward()
        violated += int((memories @ flat_grad(params) < 0).any())
        gem.after_backward(trainer, StepBatch(xc[start : start + 8], yc[start : start + 8], None))
        assert (memories @ flat_grad(params) >= -1e-5).all()
    assert violated > 0 and gem.projections - before == violated


def test_gem_forgets_less_than_naive_training() -> None:
    before, naive_after = class_incremental([])
    _, gem_after = class_incremental([GEM(ReservoirBuffer(40, seed=0))])
    assert before > 0.95
    assert gem_after > naive_after + 0.3


def test_gem_state_round_trip_gives_the_same_projection() -> None:
    def trained() -> tuple[ContinualTrainer, GEM]:
        gem = GEM(ReservoirBuffer(40, seed=0), rows_per_task=10, seed=3)
        trainer = ContinualTrainer(linear(), [gem], epochs=2, lr=0.05)
        trainer.fit_task(*blobs([0, 1], n=30, seed=1), "A")
        return trainer, gem

    first, gem = trained()
    second = ContinualTrainer(linear(seed=5), [GEM(ReservoirBuffer(40), rows_per_task=10)],
                              epochs=2, lr=0.05)
    saved = io.BytesIO()  # through a checkpoint file's bytes, as --resume does
    torch.save(first.state_dict(), saved)
    saved.seek(0)
    second.load_state_dict(torch.load(saved, weights_only=True))
    xb, yb = blobs([2, 3], n=30, seed=2)
    for trainer in (first, second):
        trainer.fit_task(xb, yb, "B")
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert gem.projections == second.adapters[0].projections > 0
