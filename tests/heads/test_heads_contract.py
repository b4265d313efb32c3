"""Every exported head follows the head protocol: logits of the right shape, a seeded
build is reproducible, a state round trip gives the same logits, growth keeps old logits."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
import torch
from torch import nn

import textcl.heads as heads
from textcl.heads import GrowingHead, Head, TaskHead, growing_head

IN = 6

# name -> (build, forward keyword arguments)
FACTORIES: dict[str, tuple[Callable[[], nn.Module], dict]] = {
    "HashedTextClassifier": (lambda: _hashed(), {}),
    "IncrementalClassifier": (lambda: heads.IncrementalClassifier(IN, 3), {}),
    "MLPClassifier": (lambda: heads.MLPClassifier(IN, hidden=(8,), n_classes=3), {}),
    "ExpandableMLP": (lambda: heads.ExpandableMLP(IN, hidden=(8, 5), n_classes=3), {}),
    "MultiHeadClassifier": (lambda: _multihead(), {"task": "b"}),
}


def _hashed() -> nn.Module:
    model = heads.HashedTextClassifier(64)
    model.head.grow(3)
    return model


def _inputs(name: str, n: int) -> object:
    """``n`` input rows: sparse hashed rows for the hashed classifier, else features."""
    if name == "HashedTextClassifier":
        ids = torch.randint(0, 64, (n, 5))
        return {"ids": ids, "weights": torch.rand(n, 5)}
    return torch.randn(n, IN)


def _multihead() -> nn.Module:
    head = heads.MultiHeadClassifier(IN)
    head.add_task("a", 2)
    head.add_task("b", 3)
    return head


def test_every_exported_head_is_under_contract() -> None:
    exported = {name for name in heads.__all__
                if inspect.isclass(obj := getattr(heads, name)) and issubclass(obj, nn.Module)}
    assert exported == set(FACTORIES), exported ^ set(FACTORIES)


def _build(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return FACTORIES[name][0]()


def _logits(name: str, model: nn.Module, x: object) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(x, **FACTORIES[name][1])


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_head_follows_the_protocol_and_gives_one_logit_row_per_input(name: str) -> None:
    model = _build(name)
    assert isinstance(model, Head)
    assert isinstance(model, TaskHead) == (name == "MultiHeadClassifier")
    logits = _logits(name, model, _inputs(name, 4))
    assert logits.shape == (4, 3)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_a_seeded_build_is_reproducible(name: str) -> None:
    x = _inputs(name, 5)
    a, b, c = _build(name, 1), _build(name, 1), _build(name, 2)
    assert torch.equal(_logits(name, a, x), _logits(name, b, x))
    assert not torch.equal(_logits(name, a, x), _logits(name, c, x))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_state_round_trip_gives_the_same_logits(name: str) -> None:
    x = _inputs(name, 5)
    trained = _build(name, 3)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(0.1)  # not the freshly built values
    fresh = _build(name, 4)
    fresh.load_state_dict(trained.state_dict())
    assert torch.equal(_logits(name, fresh, x), _logits(name, trained, x))


@pytest.mark.parametrize("name", [n for n in sorted(FACTORIES) if growing_head(_build(n))])
def test_growing_keeps_the_logits_of_known_classes_and_bumps_the_version(name: str) -> None:
    model = _build(name)
    head = growing_head(model)
    assert isinstance(head, GrowingHead)
    x = _inputs(name, 5)
    before, version = _logits(name, model, x), head.version
    index = head.encode(["new event type"])
    assert int(index[0]) == 3 and head.n_classes == 4 and head.version == version + 1
    after = _logits(name, model, x)
    assert after.shape == (5, 4) and torch.equal(after[:, :3], before)
    assert head.decode(index) == ["new event type"]
    with pytest.raises(KeyError, match=r"unknown label .never seen."):
        head.encode(["never seen"], grow=False)
