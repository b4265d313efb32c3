"""textcl.cl.hf: adapters with a Hugging Face model, via ContinualHFTrainer and ContinualTrainer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import transformers
from helpers import PathRecorder

from textcl.cl import AGEM, EWC, SI, ContinualTrainer, HerdingBuffer, Replay, ReservoirBuffer
from textcl.cl.adapter import StepBatch
from textcl.cl.hf import ContinualHFTrainer, LogitsModule
from textcl.cl.importance import _loop_stats, _vmap_stats

LENGTH = 8
TASK_A = (0, 1)
TASK_B = (2, 3)


def tiny_bert(seed: int = 0) -> transformers.BertForSequenceClassification:
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=4,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return transformers.BertForSequenceClassification(config)


def make_rows(classes: tuple[int, int], n: int, seed: int) -> list[dict[str, torch.Tensor]]:
    """Class ``c`` rows: ``[CLS]`` then 2-7 token ids from ``10 + 20c .. 29 + 20c``, padded."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for i in range(n):
        c = classes[i % 2]
        k = int(torch.randint(3, LENGTH + 1, (1,), generator=g))
        ids = [1, *torch.randint(10 + 20 * c, 30 + 20 * c, (k - 1,), generator=g).tolist()]
        rows.append({
            "input_ids": torch.tensor(ids + [0] * (LENGTH - k)),
            "attention_mask": torch.tensor([1] * k + [0] * (LENGTH - k)),
            "labels": torch.tensor(c),
        })
    return rows


def stack(rows: list[dict[str, torch.Tensor]]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    x = {k: torch.stack([r[k] for r in rows]) for k in ("input_ids", "attention_mask")}
    return x, torch.stack([r["labels"] for r in rows])


def hf_args(tmp_path: Path, **overrides: object) -> transformers.TrainingArguments:
    kwargs: dict[str, object] = {
        "output_dir": str(tmp_path),
        "num_train_epochs": 6,
        "per_device_train_batch_size": 16,
        "learning_rate": 1e-2,
        "report_to": [],
        "save_strategy": "no",
        "logging_strategy": "no",
        "use_cpu": True,
        "seed": 0,
        "disable_tqdm": True,
    }
    kwargs.update(overrides)
    return transformers.TrainingArguments(**kwargs)


needs_accelerate = pytest.mark.skipif(
    not transformers.utils.is_accelerate_available(),
    reason="transformers.Trainer needs the accelerate package",
)


class CountingReplay(Replay):
    """Replay that records each step's (new rows, all rows)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.sizes: list[tuple[int, int]] = []

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        batch = super().augment(trainer, batch)
        self.sizes.append((batch.n_new, len(batch.y)))
        return batch


def accuracy_on_a_after_b(tmp_path: Path, adapters: list) -> tuple[float, ContinualHFTrainer]:
    trainer = ContinualHFTrainer(model=tiny_bert(), args=hf_args(tmp_path), adapters=adapters)
    trainer.train_task(make_rows(TASK_A, 64, seed=1), task="A")
    x_a, y_a = trainer.gather(make_rows(TASK_A, 64, seed=11))
    assert trainer.continual.evaluate(x_a, y_a) > 0.9  # task A was learned
    trainer.train_task(make_rows(TASK_B, 64, seed=2), task="B")
    return trainer.continual.evaluate(x_a, y_a), trainer


@needs_accelerate
def test_replay_buffer_fills_online_and_reduces_forgetting(tmp_path: Path) -> None:
    replay = CountingReplay(ReservoirBuffer(48, seed=0), batch_size=16)
    with_replay, trainer = accuracy_on_a_after_b(tmp_path / "replay", [replay])
    without, _ = accuracy_on_a_after_b(tmp_path / "plain", [])

    steps = 2 * 6 * (64 // 16)
    assert len(replay.sizes) == steps
    assert replay.sizes[0] == (16, 16)  # nothing stored before the first optimizer step
    assert all(size == (16, 32) for size in replay.sizes[1:])  # 16 replayed rows every step
    assert len(replay.buffer) == 48
    assert replay.buffer.seen == 2 * 64  # offered every row once (first epoch only)
    _, stored_y, stored_tasks = replay.buffer.contents()
    assert set(stored_tasks) == {"A", "B"}
    assert stored_y.tolist() and set(stored_y.tolist()) <= {0, 1, 2, 3}
    assert trainer.continual.task_index == 2
    assert trainer.continual.seen_tasks == ["A", "B"]
    assert without < 0.2  # plain fine-tuning forgets task A
    assert with_replay >= without + 0.3


@needs_accelerate
def test_ewc_importance_after_first_task(tmp_path: Path) -> None:
    ewc = EWC(lam=50.0, fisher_examples=16)
    trainer = ContinualHFTrainer(
        model=tiny_bert(), args=hf_args(tmp_path, num_train_epochs=2), adapters=[ewc]
    )
    trainer.train_task(make_rows(TASK_A, 32, seed=1), task="A")
    module = trainer.continual.model
    assert isinstance(module, LogitsModule) and module.model is trainer.model
    names = {n for n, p in module.named_parameters() if p.requires_grad}
    assert set(ewc.A) == names
    assert all(bool((a >= 0).all()) for a in ewc.A.values())
    assert sum(float(a.sum()) for a in ewc.A.values()) > 0
    assert ewc.penalty_value(module) == pytest.approx(0.0, abs=1e-6)

    trainer.train_task(make_rows(TASK_B, 32, seed=2), task="B")
    assert ewc.penalty_value(module) > 1e-4  # the weights moved away from task A's


@needs_accelerate
def test_si_integrates_the_path_of_the_clipped_gradients(tmp_path: Path) -> None:
    """SI's path integral under transformers.Trainer (which clips gradients and clears
    them after each step) equals the exact sum of ``-grad * delta`` over the steps."""
    si, recorder = SI(c=1.0), PathRecorder()
    trainer = ContinualHFTrainer(
        model=tiny_bert(), args=hf_args(tmp_path, max_grad_norm=0.1), adapters=[si, recorder]
    )
    trainer.train_task(make_rows(TASK_A, 32, seed=1), task="A")
    assert set(si._w) == set(recorder.w)
    total = sum(float(w.abs().sum()) for w in recorder.w.values())
    assert total > 0
    for name, exact in recorder.w.items():
        torch.testing.assert_close(si._w[name].double(), exact, rtol=1e-3, atol=1e-6)
    assert sum(float(a.sum()) for a in si.A.values()) > 0  # importance from that path


@needs_accelerate
def test_gradient_accumulation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        ContinualHFTrainer(
            model=tiny_bert(),
            args=hf_args(tmp_path, gradient_accumulation_steps=2),
            adapters=[EWC()],
        )


def test_logits_module_drops_labels_and_pools_features() -> None:
    module = LogitsModule(tiny_bert()).eval()
    x, y = stack(make_rows(TASK_A, 6, seed=3))
    logits = module({**x, "labels": y})
    assert logits.shape == (6, 4)
    assert torch.allclose(logits, module(x))
    feats = module.features(x)
    assert feats.shape == (6, 32)
    # padding does not change a row's pooled features
    wider = {k: torch.nn.functional.pad(v, (0, 3)) for k, v in x.items()}
    assert torch.allclose(module.features(wider), feats, atol=1e-5)


def test_continual_trainer_with_dict_inputs() -> None:
    ewc = EWC(lam=10.0, fisher_examples=8)
    replay = Replay(ReservoirBuffer(8, seed=0), batch_size=4)
    agem = AGEM(ReservoirBuffer(8, seed=1), ref_batch=4)
    module = LogitsModule(tiny_bert())
    trainer = ContinualTrainer(module, [ewc, replay, agem], epochs=1, batch_size=8, lr=1e-2)
    x_a, y_a = stack(make_rows(TASK_A, 8, seed=1))
    report = trainer.fit_task(x_a, y_a, task="A")
    assert report.steps == 1
    assert len(replay.buffer) == 8 and len(agem.buffer) == 8
    stored_x, _, _ = replay.buffer.contents()
    assert isinstance(stored_x, dict) and stored_x["input_ids"].shape == (8, LENGTH)
    assert set(ewc.A) == {n for n, _ in module.named_parameters()}
    assert ewc.penalty_value(module) == pytest.approx(0.0, abs=1e-6)

    x_b, y_b = stack(make_rows(TASK_B, 8, seed=2))
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    trainer.fit_task(x_b, y_b, task="B")
    assert agem.steps == 1
    assert any(not torch.equal(before[n], p) for n, p in module.named_parameters())
    assert ewc.penalty_value(module) > 0
    assert trainer.predict(x_b).shape == (8,)

    # herding exemplars over dict inputs use LogitsModule.features
    herding = HerdingBuffer(4)
    herding.add_task(trainer, x_a, y_a, "A")
    assert len(herding) == 4 and sorted(herding.class_counts().items()) == [(0, 2), (1, 2)]


def test_importance_vmap_and_loop_agree_or_fall_back() -> None:
    """Per-example gradients of a BERT: vmap (if it can trace the model) equals the loop."""
    module = LogitsModule(tiny_bert()).eval()
    trainer = ContinualTrainer(module)
    x, y = stack(make_rows(TASK_A, 4, seed=5))
    names = [n for n, _ in module.named_parameters()]
    loop = {n: torch.zeros_like(p) for n, p in module.named_parameters()}
    _loop_stats(trainer, x, y, None, trainer.loss_fn, "square", names, loop)
    assert sum(float(s.sum()) for s in loop.values()) > 0
    vmapped = {n: torch.zeros_like(p) for n, p in module.named_parameters()}
    try:
        _vmap_stats(trainer, x, y, None, trainer.loss_fn, "square", 2, names, vmapped)
    except (RuntimeError, NotImplementedError):
        return  # per_example_gradient_stat falls back to the loop for this model
    for n in names:
        assert torch.allclose(vmapped[n], loop[n], atol=1e-6, rtol=1e-4), n
