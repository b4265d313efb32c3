"""Text generative replay: a tiny label-prefixed LM on a synthetic vocabulary learns class
words, keeps them across tasks only with its own replay, feeds pseudo rows to the
classifier with their prefix labels, and round-trips its state."""

from __future__ import annotations

import random

import pytest
import torch

from textcl.cl import ContinualTrainer
from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.text_replay import LabelPrefixLM, TextGenerativeReplay, WordVocab
from textcl.heads import MLPClassifier

WORDS = {0: ("apple", "banana", "cherry"), 1: ("xenon", "yarrow", "zircon")}


def texts_of(label: int, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS[label]) for _ in range(rng.randint(3, 6)))
            for _ in range(n)]


def tiny_lm(replay: int = 60, seed: int = 0) -> LabelPrefixLM:
    return LabelPrefixLM(vocab_size=24, label_slots=4, n_embd=32, n_layer=1, n_head=2,
                         max_len=10, dropout=0.0, min_count=1, epochs=12, batch_size=32,
                         lr=1e-2, replay_per_class=replay, seed=seed)


def share_of(texts: list[str], label: int) -> float:
    """Share of generated words that belong to ``label``'s word set."""
    words = [w for t in texts for w in t.split()]
    return sum(w in WORDS[label] for w in words) / max(len(words), 1)


def test_vocab_fills_by_frequency_up_to_capacity() -> None:
    from collections import Counter

    vocab = WordVocab(capacity=4 + 2 + 3, label_slots=2)
    added = vocab.add(Counter({"b": 5, "a": 5, "c": 3, "d": 1, "e": 9}), min_count=2)
    assert added == 3 and vocab.words == ["e", "a", "b"]  # full: "c" has no id left
    assert vocab.encode(["a", "zzz"]) == [7, 1]
    assert vocab.decode([0, 4, 7, 6]) == ["a", "e"]
    with pytest.raises(ValueError):
        vocab.label_id(2)


def test_generates_class_words_after_label_token() -> None:
    lm = tiny_lm()
    lm.learn_task(texts_of(0, 150, 1) + texts_of(1, 150, 2), [0] * 150 + [1] * 150)
    for label in (0, 1):
        out = lm.generate(20, label, seed=3)
        assert len(out) == 20 and all(out)
        assert share_of(out, label) > 0.9, out


def test_self_replay_keeps_first_task_class_without_it_forgets() -> None:
    shares = {}
    for replay in (60, 0):
        lm = tiny_lm(replay=replay)
        lm.learn_task(texts_of(0, 150, 1), [0] * 150)
        assert share_of(lm.generate(20, 0, seed=3), 0) > 0.9
        lm.learn_task(texts_of(1, 150, 2), [1] * 150)
        assert share_of(lm.generate(20, 1, seed=4), 1) > 0.9  # the new class is learnt
        shares[replay] = share_of(lm.generate(40, 0, seed=5), 0)
    assert shares[60] > 0.8, shares
    assert shares[0] < 0.5, shares  # control: without self-replay the old class is lost


def featurize(texts: list[str]) -> torch.Tensor:
    """Share of class-0 words, of class-1 words, and a constant."""
    rows = [[share_of([t], 0), share_of([t], 1), 1.0] for t in texts]
    return torch.tensor(rows)


class Spy(Adapter):
    """Records every step's batch after the adapters before it mixed their rows in."""

    def __init__(self) -> None:
        self.batches: list[StepBatch] = []

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        self.batches.append(batch)
        return batch


def test_adapter_mixes_pseudo_rows_with_prefix_labels() -> None:
    torch.manual_seed(0)
    adapter = TextGenerativeReplay(tiny_lm(), featurize, per_class=10, seed=0)
    spy = Spy()
    trainer = ContinualTrainer(MLPClassifier(3, (8,), n_classes=0), [adapter, spy],
                               epochs=1, batch_size=16)
    texts_a = texts_of(0, 60, 1)
    with pytest.raises(RuntimeError):
        trainer.fit_task(featurize(texts_a), torch.zeros(60, dtype=torch.long), n_classes=1)
    adapter.set_texts(texts_a)
    trainer.fit_task(featurize(texts_a), torch.zeros(60, dtype=torch.long), n_classes=1)
    assert all(len(b.y) == b.n_new for b in spy.batches)  # nothing learnt yet: no replay
    assert adapter.generator.labels == [0]
    spy.batches.clear()
    texts_b = texts_of(1, 48, 2)
    adapter.set_texts(texts_b)
    trainer.fit_task(featurize(texts_b), torch.ones(48, dtype=torch.long), n_classes=2)
    assert len(adapter.pseudo_texts) == 10 and set(adapter.pseudo_labels) == {0}
    assert torch.equal(adapter.pseudo_x, featurize(adapter.pseudo_texts))
    assert len(adapter.lm_replay[0]) == 60  # the generator replays more than the classifier
    for batch in spy.batches:
        n = batch.n_new
        assert len(batch.y) == 2 * n
        assert (batch.y[:n] == 1).all() and (batch.y[n:] == 0).all()
        assert (batch.x[n:, 0] > 0.5).float().mean() > 0.9  # pseudo rows use class-0 words
    assert adapter.generator.labels == [0, 1] and adapter.memory_size() == 0


def test_state_round_trip_gives_identical_generations() -> None:
    lm = tiny_lm(seed=0)
    lm.learn_task(texts_of(0, 100, 1) + texts_of(1, 100, 2), [0] * 100 + [1] * 100)
    fresh = tiny_lm(seed=1)
    assert fresh.generate(8, 0, seed=7) != lm.generate(8, 0, seed=7)
    fresh.load_state_dict(lm.state_dict())
    for label in (0, 1):
        assert fresh.generate(8, label, seed=7) == lm.generate(8, label, seed=7)
    assert fresh.labels == [0, 1] and fresh.vocab.words == lm.vocab.words
    assert lm.generate(8, 0, seed=7) != lm.generate(8, 0, seed=8)
    assert lm.num_parameters() > 0 and lm.nbytes() > 4 * lm.num_parameters()
