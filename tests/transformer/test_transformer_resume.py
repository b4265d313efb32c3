"""Runs with [transformer] resume: a crashed and resumed run ends with the model, drift
rows and summary of an uninterrupted run."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest
import torch
from helpers import Crash
from safetensors.torch import load_file

from textcl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from textcl.config import PipelineConfig, config_from_dict
from textcl.input.readers import read_tweets
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline
from textcl.transformer import ContinualTransformer

TWEETS = 2400  # four windows of 600 tweets, in micro-batches of 100
TOTALS = ("read", "processed", "rejected", "tweets", "batches", "windows", "late", "tokens")


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "head.jsonl"
    with gzip.open(sample_stream_path(), "rb") as handle:  # bad records kept as they are
        path.write_bytes(b"".join(itertools.islice(handle, TWEETS)))
    return path


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    torch.set_num_threads(1)
    data = {
        "window": {"every": "600", "batch_size": 100},
        "output": {"checkpoint_batches": 1, "checkpoint_seconds": 0,
                   "checkpoint_window_seconds": 0},
        "word2vec": {"enabled": False}, "drift": {"enabled": False, "auto_terms": 5},
        # probes follow the keyword set; replay + EWC: adapter state is checkpointed too
        "transformer": {"enabled": True, "hidden_size": 16, "layers": 1, "heads": 2,
                        "vocab_size": 600, "max_length": 32, "train_every": 250,
                        "term_texts": 20, "replay": 64, "ewc": 1.0, "grow_min_count": 5,
                        "grow_max_new": 10},
    }
    return config_from_dict(data, "test")


@pytest.fixture(scope="module")
def whole(stream: Path, config: PipelineConfig, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("whole")
    return Pipeline(config).add(Crash(None)).run(stream, out), out


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_a_crashed_transformer_run_resumes_to_the_uninterrupted_result(
    stream: Path, config: PipelineConfig, whole: tuple[dict, Path], tmp_path: Path
) -> None:
    summary, reference = whole
    assert summary["consumers"]["transformer"]["vocab_added"] > 0
    out = tmp_path / "crashed"
    resume = False
    # 4: inside the first window, between training rounds; 12: a window's first batch;
    # 21: after the last window's training round started
    for at in (4, 12, 21):
        with pytest.raises(KeyboardInterrupt):
            Pipeline(config).add(Crash(at)).run(stream, out, resume=resume)
        saved = load_checkpoint(out / "checkpoint")
        assert saved["stats"]["batches"] == at  # the batch before the crash's checkpoint
        resume = True
    resumed = Pipeline(config).add(Crash(None)).run(stream, out, resume=True)
    assert resumed["resume"] == "resumed"
    assert {k: resumed[k] for k in TOTALS} == {k: summary[k] for k in TOTALS}
    assert resumed["consumers"]["transformer"] == summary["consumers"]["transformer"]
    assert resumed["consumers"]["keywords"] == summary["consumers"]["keywords"]
    for name in ("windows.jsonl", "keywords.jsonl", "transformer/drift.jsonl"):
        assert _lines(out / name) == _lines(reference / name), name
    a = load_file(reference / "transformer" / "model" / "model.safetensors")
    b = load_file(out / "transformer" / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=0, msg=key)
    model_a = ContinualTransformer.load(reference / "transformer" / "model")
    model_b = ContinualTransformer.load(out / "transformer" / "model")
    assert model_a.tokenizer.get_vocab() == model_b.tokenizer.get_vocab()
    assert (model_a.tweets_seen, model_a.added_words) == (model_b.tweets_seen,
                                                          model_b.added_words)


def test_the_training_state_round_trips_through_a_checkpoint(
    stream: Path, tmp_path: Path
) -> None:
    """Weights, optimizer moments, adapters, generators and the dropout random state."""
    from textcl.cl import EWC, Replay, ReservoirBuffer, TrainConfig

    texts = [t.text for t in itertools.islice(read_tweets(stream), 600)]
    windows = [texts[i : i + 100] for i in range(0, 600, 100)]

    def make() -> ContinualTransformer:
        return ContinualTransformer(
            config={"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                    "intermediate_size": 32},
            vocab_size=500, max_length=24, seed=3, grow_every=3, grow_min_count=3,
            # the AdamW moments carry over from round to round: they are checkpointed
            train_config=TrainConfig(batch_size=16, lr=2e-3, optimizer="adamw",
                                     weight_decay=0.01, grad_clip=1.0, seed=3,
                                     reset_optimizer=False),
            adapters=[Replay(ReservoirBuffer(40, seed=1), batch_size=8),
                      EWC(lam=1.0, fisher_examples=32)],
        )

    full = make()
    for window in windows:
        full.update(window)
    first = make()
    for window in windows[:4]:  # the vocabulary grew in round 3; the optimizer is rebuilt
        first.update(window)
    save_checkpoint(tmp_path / "ckpt", {"lm": first.training_state()})
    torch.manual_seed(123)  # the global generator does not matter to training
    resumed = make()
    resumed.load_training_state(load_checkpoint(tmp_path / "ckpt")["lm"])
    for window in windows[4:]:
        resumed.update(window)
    assert full.added_words and full.added_words == resumed.added_words
    a, b = full.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert full.trainer.optimizer is not None and resumed.trainer.optimizer is not None
    sa, sb = full.trainer.optimizer.state_dict(), resumed.trainer.optimizer.state_dict()
    assert all(torch.equal(sa["state"][i]["exp_avg_sq"], sb["state"][i]["exp_avg_sq"])
               for i in sa["state"])


def test_a_checkpoint_without_the_model_state_is_refused(config: PipelineConfig,
                                                          tmp_path: Path) -> None:
    from textcl.consumers.registry import build_consumers

    (consumer,) = [c for c in build_consumers(config, None) if c.name == "transformer"]
    with pytest.raises(CheckpointError, match="start over"):
        consumer.load_state_dict({"trained": 0, "losses": [], "previous": {}})
