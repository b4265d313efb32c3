"""Classifier heads: growth keeps old outputs, multi-head isolation, MLP wiring, DEN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textcl.heads import (
    ExpandableMLP,
    IncrementalClassifier,
    MLPClassifier,
    MultiHeadClassifier,
    fit_task_den,
)

# ------------------------------------------------------------------ IncrementalClassifier


def test_growth_keeps_old_logits_bit_identical():
    torch.manual_seed(0)
    head = IncrementalClassifier(16, initial_classes=3)
    x = torch.randn(17, 16)
    before = head(x)
    head.grow(4)
    head.encode(["Floods", "Earthquake"])
    after = head(x)
    assert after.shape == (17, 9)
    assert torch.equal(after[:, :3], before)


def test_growth_keeps_old_weights_and_biases():
    torch.manual_seed(0)
    head = IncrementalClassifier(8, initial_classes=2)
    with torch.no_grad():
        head.bias_blocks[0].fill_(0.5)
    w, b = head.weight.detach().clone(), head.bias.detach().clone()
    head.grow(3)
    assert torch.equal(head.weight[:2], w)
    assert torch.equal(head.bias[:2], b)
    assert torch.equal(head.bias[2:], torch.zeros(3))
    assert head.weight[2:].abs().max() < 0.1  # small init


def test_encode_grows_for_unseen_and_is_stable_for_known():
    head = IncrementalClassifier(4)
    assert head.n_classes == 0
    first = head.encode(["Floods", "Fire", "Floods"])
    assert first.tolist() == [0, 1, 0]
    assert first.dtype == torch.long
    second = head.encode(["Fire", "Quake", "Floods"])
    assert second.tolist() == [1, 2, 0]
    assert head.classes == ["Floods", "Fire", "Quake"]
    assert head.n_classes == 3
    assert head.decode([2, 0]) == ["Quake", "Floods"]


def test_encode_without_grow_rejects_unknown_label_by_name():
    head = IncrementalClassifier(4)
    head.encode(["Floods"])
    with pytest.raises(KeyError, match="Tornado"):
        head.encode(["Floods", "Tornado"], grow=False)
    assert head.n_classes == 1
    assert head.encode(["Floods"], grow=False).tolist() == [0]


def test_grow_by_count_names_classes_by_index_and_bumps_version():
    head = IncrementalClassifier(4, initial_classes=2)
    assert head.version == 0
    assert head.classes == [0, 1]
    head.grow(2)
    assert head.classes == [0, 1, 2, 3]
    assert head.version == 1
    head.encode([3, "new"])
    assert head.classes == [0, 1, 2, 3, "new"]
    assert head.version == 2
    head.encode(["new"])  # nothing new: no growth
    assert head.version == 2


def test_new_parameters_reach_the_optimizer_only_after_rebuild():
    head = IncrementalClassifier(4, initial_classes=2)
    n_before = len(list(head.parameters()))
    head.grow(1)
    assert len(list(head.parameters())) > n_before
    assert head.logit_scale.shape == (3,)
    assert head.logit_shift.shape == (3,)


def test_forward_without_classes_is_a_clear_error():
    head = IncrementalClassifier(4)
    with pytest.raises(RuntimeError, match="no classes"):
        head(torch.randn(2, 4))


def test_set_correction_changes_only_chosen_classes():
    torch.manual_seed(1)
    head = IncrementalClassifier(6, initial_classes=5)
    x = torch.randn(4, 6)
    base = head(x)
    head.set_correction([3, 4], scale=0.5, shift=-1.0)
    corrected = head(x)
    assert torch.equal(corrected[:, :3], base[:, :3])
    assert torch.allclose(corrected[:, 3:], base[:, 3:] * 0.5 - 1.0)
    head.set_correction(slice(0, 1), scale=2.0, shift=0.0)
    assert torch.allclose(head(x)[:, 0], base[:, 0] * 2.0)
    head.reset_correction()
    assert torch.equal(head(x), base)


def test_align_weights_equalises_mean_norms():
    torch.manual_seed(2)
    head = IncrementalClassifier(8, initial_classes=3)
    head.grow(2)
    with torch.no_grad():
        head.weight_blocks[1].mul_(40.0)  # new classes dominate, as after training on them
    old_rows = head.weight[:3].detach().clone()
    gamma = head.align_weights(3)
    norms = head.weight.detach().norm(dim=1)
    assert gamma < 1.0
    assert torch.allclose(norms[3:].mean(), norms[:3].mean(), rtol=1e-5)
    assert torch.equal(head.weight[:3], old_rows)
    assert head.align_weights(0) == 1.0
    assert head.align_weights(head.n_classes) == 1.0


# ------------------------------------------------------------------ MultiHeadClassifier


def test_multihead_separate_heads_give_separate_outputs():
    torch.manual_seed(3)
    model = MultiHeadClassifier(8)
    model.add_task("floods", 3)
    model.add_task(2013, 5)
    x = torch.randn(4, 8)
    assert model(x, task="floods").shape == (4, 3)
    assert model(x, task=2013).shape == (4, 5)
    assert model.tasks == ["floods", 2013]
    assert model.version == 2
    model.add_task("floods", 3)  # same size: no-op
    assert model.version == 2
    with pytest.raises(ValueError, match="3 classes"):
        model.add_task("floods", 4)


def test_training_one_head_leaves_other_task_unchanged():
    torch.manual_seed(4)
    body = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    for p in body.parameters():
        p.requires_grad_(False)
    model = MultiHeadClassifier(8, body=body)
    model.add_task("a", 2)
    model.add_task("b", 2)
    x = torch.randn(16, 8)
    other = model(x, task="b").detach().clone()
    own = model(x, task="a").detach().clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for _ in range(5):
        loss = F.cross_entropy(model(x, task="a"), torch.zeros(16, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not torch.allclose(model(x, task="a"), own)
    assert torch.equal(model(x, task="b"), other)


def test_unknown_task_error_lists_known_tasks():
    model = MultiHeadClassifier(4)
    model.add_task("floods", 2)
    model.add_task("fires", 2)
    with pytest.raises(KeyError, match=r"quakes.*'floods', 'fires'.*add_task"):
        model(torch.randn(1, 4), task="quakes")


# ------------------------------------------------------------------ MLPClassifier


def test_mlp_with_incremental_head():
    torch.manual_seed(5)
    model = MLPClassifier(12, hidden=(10, 6), n_classes=3, dropout=0.1)
    x = torch.randn(5, 12)
    assert model.features(x).shape == (5, 6)
    assert model(x).shape == (5, 3)
    assert isinstance(model.head, IncrementalClassifier)
    model.head.encode(["extra"])
    assert model(x).shape == (5, 4)
    assert model.version == 1


def test_mlp_with_multihead_head_passes_task_through():
    torch.manual_seed(6)
    head = MultiHeadClassifier(7)
    head.add_task("t1", 2)
    head.add_task("t2", 4)
    model = MLPClassifier(12, hidden=(7,), head=head, activation="gelu")
    x = torch.randn(3, 12)
    assert model.features(x).shape == (3, 7)
    assert model(x, task="t1").shape == (3, 2)
    assert model(x, task="t2").shape == (3, 4)
    assert torch.equal(model(x, task="t2"), head.heads["t2"](model.body(x)))


def test_mlp_rejects_mismatched_head():
    with pytest.raises(ValueError, match="input features"):
        MLPClassifier(12, hidden=(7,), head=MultiHeadClassifier(8))
    with pytest.raises(ValueError, match="Identity"):
        MLPClassifier(12, hidden=(7,), head=MultiHeadClassifier(7, body=nn.Linear(7, 7)))


# ------------------------------------------------------------------ ExpandableMLP


def test_expand_leaves_outputs_unchanged():
    torch.manual_seed(7)
    model = ExpandableMLP(10, hidden=(6, 5), n_classes=3)
    x = torch.randn(20, 10)
    before = model(x)
    ranges = model.expand(4)
    assert [list(r) for r in ranges] == [[6, 7, 8, 9], [5, 6, 7, 8]]
    assert model.hidden_sizes == [10, 9]
    assert model.version == 1
    assert torch.allclose(model(x), before, atol=1e-6)
    assert model.group_norms(0)[6:].min() > 0  # new units are not dead


def test_prune_units_with_zero_outgoing_weights_keeps_function():
    torch.manual_seed(8)
    model = ExpandableMLP(10, hidden=(6, 5), n_classes=3)
    model.expand(3)  # new units' weights into existing units are zero
    model.head.set_input_weights(
        torch.cat([model.head.weight.detach()[:, :5], torch.zeros(3, 3)], 1)
    )
    x = torch.randn(20, 10)
    before = model(x)
    model.prune_units(1, [5, 6, 7])
    assert model.hidden_sizes == [9, 5]
    assert torch.allclose(model(x), before, atol=1e-6)
    model.prune_units(0, [0])
    assert model.hidden_sizes == [8, 5]
    assert not torch.allclose(model(x), before, atol=1e-6)
    with pytest.raises(ValueError, match="all"):
        model.prune_units(1, range(5))


def test_split_drifted_restores_old_units_and_duplicates_drifted_ones():
    torch.manual_seed(9)
    model = ExpandableMLP(6, hidden=(4, 3), n_classes=2)
    reference = model.snapshot()
    x = torch.randn(10, 6)
    with torch.no_grad():
        model.layers[0].weight[1] += 1.0  # drift far beyond sigma
        model.layers[0].weight[2] += 1e-3  # small drift, below sigma
    drifted_act = F.relu(model.layers[0](x))[:, 1].clone()
    drifted_w = model.layers[0].weight[1].detach().clone()
    n_split = model.split_drifted(reference, sigma=0.5)
    assert n_split == 1
    assert model.hidden_sizes == [5, 3]
    w0 = model.layers[0].weight.detach()
    assert torch.equal(w0[1], reference["layers.0.weight"][1])
    assert torch.equal(w0[4], drifted_w)
    assert not torch.equal(w0[2], reference["layers.0.weight"][2])
    act = F.relu(model.layers[0](x))
    assert torch.allclose(act[:, 4], drifted_act)
    # the duplicate reads into the next layer with the unit's current outgoing weights
    assert torch.equal(model.layers[1].weight[:, 4], model.layers[1].weight[:, 1])
    assert model.split_drifted(model.snapshot(), sigma=0.5) == 0


# ------------------------------------------------------------------ fit_task_den


def _blobs(n_classes: int, n: int, dim: int, spread: float, seed: int):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_classes, dim, generator=gen) * spread
    y = torch.arange(n) % n_classes
    x = centers[y] + torch.randn(n, dim, generator=gen)
    return x, y


def test_den_does_not_expand_when_loss_is_below_tau():
    torch.manual_seed(10)
    model = ExpandableMLP(8, hidden=(8,), n_classes=2)
    x, y = _blobs(2, 128, 8, spread=4.0, seed=0)
    report = fit_task_den(model, x, y, tau=10.0, sigma=1e6, epochs=2, lr=1e-2)
    assert report.expanded is False
    assert report.units_added == [0]
    assert report.units_split == 0
    assert report.hidden_sizes == [8] == model.hidden_sizes


def test_den_expands_when_loss_stays_above_tau():
    torch.manual_seed(11)
    model = ExpandableMLP(8, hidden=(2,), n_classes=2)
    x, y = _blobs(6, 192, 8, spread=3.0, seed=1)
    report = fit_task_den(model, x, y, tau=0.05, k=8, sigma=1e6, epochs=3, lr=1e-2)
    assert model.head.n_classes == 6  # head grew to the task's labels
    assert report.expanded is True
    assert report.loss_before_expansion > 0.05
    assert report.units_added == [8]
    assert model.hidden_sizes[0] > 2
    assert report.hidden_sizes == model.hidden_sizes
    assert report.final_loss < report.loss_before_expansion


def test_den_splits_drifted_units_and_is_deterministic():
    def run():
        torch.manual_seed(12)
        model = ExpandableMLP(8, hidden=(4,), n_classes=3)
        x, y = _blobs(3, 96, 8, spread=2.0, seed=2)
        return model, fit_task_den(model, x, y, tau=10.0, sigma=0.05, epochs=2, lr=5e-2)

    model, report = run()
    assert report.units_split > 0
    assert model.hidden_sizes == [4 + report.units_split]
    _, again = run()
    assert again == report


def test_split_of_every_unit_keeps_reference_path_and_current_path_for_new_classes():
    torch.manual_seed(13)
    model = ExpandableMLP(6, hidden=(4, 3), n_classes=2)
    reference = model.snapshot()
    model.head.grow(2)  # classes added after the snapshot
    x = torch.randn(10, 6)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.add_(torch.randn_like(layer.weight))
            layer.bias.add_(1.0)
    current = model(x).detach()
    old_features = x
    for i in range(2):
        w, b = reference[f"layers.{i}.weight"], reference[f"layers.{i}.bias"]
        old_features = F.relu(F.linear(old_features, w, b))
    assert model.split_drifted(reference, sigma=1e-3) == 7
    assert model.hidden_sizes == [8, 6]
    hidden = F.relu(model.layers[1](F.relu(model.layers[0](x))))
    assert torch.allclose(hidden[:, :3], old_features, atol=1e-6)  # originals: old function
    assert torch.allclose(model(x)[:, 2:], current[:, 2:], atol=1e-6)  # new classes: current
