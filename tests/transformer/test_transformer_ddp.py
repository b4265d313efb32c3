"""DDP training of the continual transformer: 2 gloo processes, each on half of every step
batch, end with the weights of one process training on the full batches.

On GPU nodes the same training runs under torchrun (see textcl.transformer.distributed):
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
        -m textcl.transformer.distributed STREAM --out OUT --window 20000
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from textcl.input.readers import read_tweets
from textcl.paths import sample_stream_path
from textcl.transformer import ContinualTransformer
from textcl.transformer.distributed import (
    build_adapters,
    main,
    spawn_training,
    stream_windows,
)

ATOL = 1e-5  # float summation order differs (sharded matmuls, all-reduce); nothing else
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
SETTINGS = {
    "config": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
               "intermediate_size": 32, **NO_DROPOUT},
    "vocab_size": 400, "max_length": 24, "batch_size": 16, "lr": 2e-3, "seed": 0,
    "grow_every": 2, "grow_min_count": 3, "grow_max_new": 5,
}


ADAPTERS = [("replay", {"capacity": 32, "batch_size": 8, "seed": 1}),
            ("ewc", {"lam": 1.0, "fisher_examples": 32})]


@pytest.fixture(scope="module")
def windows() -> list[list[str]]:
    texts = [t.text for t in itertools.islice(read_tweets(sample_stream_path()), 200)]
    return [texts[i : i + 50] for i in range(0, 200, 50)]  # 4 rounds, 4 steps each (+replay)


def test_two_gloo_ranks_train_like_one_process_on_the_full_batches(
    windows: list[list[str]], tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    single = ContinualTransformer(**SETTINGS, adapters=build_adapters(ADAPTERS))
    losses = [single.update(w) for w in windows]
    assert single.added_words  # the vocabulary grew: DDP was rebuilt around new rows
    summary = spawn_training(windows, 2, tmp_path, SETTINGS, ADAPTERS)
    assert summary["world_size"] == 2 and summary["windows"] == len(windows)
    assert summary["weights_spread"] == 0.0  # every rank holds the same weights
    # the reported loss is the full batch's mean (the mean over shards, scaled by tokens)
    assert summary["losses"] == pytest.approx(losses, abs=ATOL)
    saved = load_file(tmp_path / "model" / "model.safetensors")
    reference = single.state_dict()
    assert saved.keys() <= reference.keys()
    for key, value in saved.items():
        torch.testing.assert_close(value, reference[key], atol=ATOL, rtol=0, msg=key)
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    assert [json.loads(line)["window"] for line in lines] == list(range(len(windows)))


def test_the_entry_point_has_help_and_windows_a_stream(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0 and "torchrun" in capsys.readouterr().out
    chunks = list(stream_windows(sample_stream_path(), 100, limit=3))
    assert [len(c) for c in chunks] == [100, 100, 100]


def test_one_process_without_a_group_trains_and_checkpoints(
    windows: list[list[str]], tmp_path: Path
) -> None:
    """``main`` outside torchrun: one process; a resumed run ends where a whole one does."""
    from textcl.transformer.distributed import DistributedContinualTransformer, train_windows

    settings = {**SETTINGS, "grow_every": None}
    whole = train_windows(DistributedContinualTransformer(**settings), windows,
                          tmp_path / "whole")
    out = tmp_path / "parts"
    train_windows(DistributedContinualTransformer(**settings), windows[:2], out,
                  checkpoint=True)
    resumed = train_windows(DistributedContinualTransformer(**settings), windows, out,
                            checkpoint=True, resume=True)
    assert resumed["windows"] == whole["windows"] == len(windows)
    assert resumed["losses"] == whole["losses"][2:]
    a = load_file(tmp_path / "whole" / "model" / "model.safetensors")
    b = load_file(out / "model" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert len((out / "train.jsonl").read_text().splitlines()) == len(windows)
