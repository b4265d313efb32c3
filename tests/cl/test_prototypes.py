"""Prototype classifier: exact class means, order independence, few-shot new classes
without forgetting, and state round trips (small synthetic data)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.nn.functional import normalize

from textcl.cl import ContinualTrainer
from textcl.cl.prototypes import MISSING, PrototypeAdapter, PrototypeClassifier
from textcl.heads import IncrementalClassifier, MLPClassifier, MultiHeadClassifier

DIM = 16


def blobs(classes: list[int], n: int, seed: int, spread: float = 0.6,
          scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs around distinct scaled basis vectors, rows of varying norms."""
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c in classes:
        centre = torch.zeros(DIM)
        centre[c] = scale
        norms = 0.5 + 2 * torch.rand(n, 1, generator=g)  # the norm must not matter
        xs.append((centre + spread * torch.randn(n, DIM, generator=g)) * norms)
        ys.append(torch.full((n,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def test_prototypes_are_the_class_means_of_normalised_rows() -> None:
    x, y = blobs([0, 1, 2], n=30, seed=1)
    plain = PrototypeClassifier(centre=False, temperature=0.5)
    plain.add_examples(x, y)
    classes, means = plain.prototypes()
    assert classes.tolist() == [0, 1, 2]
    unit = normalize(x.double(), dim=1)
    for i, c in enumerate(classes.tolist()):
        assert torch.allclose(means[i], unit[y == c].mean(0), atol=1e-12)
    # scores are cosine similarities to the prototypes divided by the temperature
    cos = unit @ normalize(means, dim=1).T
    assert torch.allclose(plain.scores(x), (cos / 0.5).float(), atol=1e-5)

    centred = PrototypeClassifier(centre=True)
    centred.add_examples(x, y)  # the first call fixes the centre
    assert centred.centre_vector is not None
    assert torch.allclose(centred.centre_vector, unit.mean(0), atol=1e-12)
    z = normalize(unit - unit.mean(0), dim=1)
    _, cmeans = centred.prototypes()
    for i, c in enumerate([0, 1, 2]):
        assert torch.allclose(cmeans[i], z[y == c].mean(0), atol=1e-12)
    assert centred.memory_size() == 3 + 1 and plain.memory_size() == 3


def test_scores_do_not_depend_on_example_order_or_chunking() -> None:
    base_x, base_y = blobs([0, 1, 2], n=40, seed=2)
    shot_x, shot_y = blobs([1, 3, 4], n=7, seed=3)
    test_x, _ = blobs([0, 1, 2, 3, 4], n=10, seed=4)
    at_once = PrototypeClassifier()
    at_once.add_examples(base_x, base_y)
    at_once.add_examples(shot_x, shot_y)
    reference = at_once.scores(test_x)

    g = torch.Generator().manual_seed(5)
    order = torch.randperm(len(shot_y), generator=g)
    chunked = PrototypeClassifier()
    chunked.add_examples(base_x, base_y)
    for part in order.split(4):  # shuffled, in chunks of mixed classes
        chunked.add_examples(shot_x[part], shot_y[part])
    one_by_one = PrototypeClassifier()
    one_by_one.add_examples(base_x, base_y)
    for i in reversed(range(len(shot_y))):
        one_by_one.add_examples(shot_x[i : i + 1], shot_y[i : i + 1])
    for other in (chunked, one_by_one):
        assert other.classes == [0, 1, 2, 3, 4]
        assert torch.allclose(other.scores(test_x), reference, atol=1e-5)
        assert other.counts == at_once.counts


def _old_and_new_accuracy(predict, test_old, test_new) -> tuple[float, float]:
    (xo, yo), (xn, yn) = test_old, test_new
    return (float((predict(xo) == yo).float().mean()),
            float((predict(xn) == yn).float().mean()))


def test_a_new_class_from_five_examples_is_learned_and_old_classes_are_kept() -> None:
    old_classes, new_class = [0, 1, 2, 3], 4
    base = blobs(old_classes, n=100, seed=10)
    shots = blobs([new_class], n=5, seed=11)
    test_old, test_new = blobs(old_classes, n=50, seed=12), blobs([new_class], n=50, seed=13)

    clf = PrototypeClassifier()
    clf.add_examples(*base)
    old_before, _ = _old_and_new_accuracy(clf.predict, test_old, test_new)
    clf.add_examples(*shots)
    old_after, new_after = _old_and_new_accuracy(clf.predict, test_old, test_new)
    assert old_before > 0.95
    assert new_after > 0.9, f"the new class should be recognised, got {new_after:.2f}"
    assert old_after > old_before - 0.02, (old_before, old_after)

    # control: a small MLP fine-tuned on only the five new examples loses the old classes
    torch.manual_seed(0)
    trainer = ContinualTrainer(MLPClassifier(DIM, (32,), n_classes=0), [], epochs=10,
                               lr=0.02, batch_size=100, seed=0)
    trainer.fit_task(*base)
    mlp_before, _ = _old_and_new_accuracy(trainer.predict, test_old, test_new)
    trainer.config = replace(trainer.config, epochs=30)  # 30 steps on the five examples
    trainer.fit_task(*shots)
    mlp_after, _ = _old_and_new_accuracy(trainer.predict, test_old, test_new)
    assert mlp_before > 0.95, "the control must first learn the old classes"
    assert mlp_after < 0.5, f"naive fine-tuning should forget, kept {mlp_after:.2f}"
    assert old_after - mlp_after > 0.45


def test_state_round_trip_gives_the_same_scores_and_keeps_learning_the_same() -> None:
    x, y = blobs([0, 2, 5], n=20, seed=20)  # class indices with gaps
    more_x, more_y = blobs([2, 6], n=5, seed=21)
    test_x, _ = blobs([0, 2, 5, 6], n=10, seed=22)
    original = PrototypeClassifier(temperature=0.2)
    original.add_examples(x, y)
    restored = PrototypeClassifier(temperature=1.0, centre=False)
    restored.load_state_dict(original.state_dict())
    assert restored.temperature == 0.2 and restored.centre
    assert torch.equal(restored.scores(test_x), original.scores(test_x))
    scores = original.scores(test_x)
    assert scores.shape == (len(test_x), 6) and torch.all(scores[:, [1, 3, 4]] == MISSING)
    for clf in (original, restored):  # sums and counts restored, not only the prototypes
        clf.add_examples(more_x, more_y)
    assert torch.equal(restored.scores(test_x), original.scores(test_x))
    assert restored.counts == original.counts == {0: 20, 2: 25, 5: 20, 6: 5}


def test_adapter_replaces_the_trainers_logits_and_checkpoints_with_it() -> None:
    base, shots = blobs([0, 1, 2], n=60, seed=30), blobs([3], n=5, seed=31)
    test_x, test_y = blobs([0, 1, 2, 3], n=30, seed=32)

    def trained() -> tuple[ContinualTrainer, PrototypeAdapter]:
        torch.manual_seed(0)
        adapter = PrototypeAdapter(temperature=0.1)
        trainer = ContinualTrainer(IncrementalClassifier(DIM), [adapter], epochs=1, seed=0)
        trainer.fit_task(*base)
        return trainer, adapter

    trainer, adapter = trained()
    trainer.fit_task(*shots)
    assert trainer.scores(test_x).shape == (len(test_x), 4)
    assert torch.equal(trainer.predict(test_x), adapter.classifier.predict(test_x))
    assert trainer.evaluate(test_x, test_y) > 0.9
    assert trainer.memory_size() == 4 + 1  # four prototypes and the centre

    state = trainer.state_dict()
    head = IncrementalClassifier(DIM, 3)
    head.grow(1)  # the saved head's blocks: three classes, then one
    fresh = ContinualTrainer(head, [PrototypeAdapter()], epochs=1)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.scores(test_x), trainer.scores(test_x))

    multi = ContinualTrainer(MLPClassifier(DIM, (8,), head=MultiHeadClassifier(8)),
                             [PrototypeAdapter()], epochs=1)
    with pytest.raises(TypeError, match="one head per task"):
        multi.fit_task(*base, "A")
