"""Checkpoints round-trip nested state and refuse anything textcl did not write intact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from textcl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from textcl.embed.word2vec import ContinualWord2Vec


def test_nested_state_with_arrays_and_tensors_round_trips(tmp_path: Path) -> None:
    state = {"read": 12, "name": "x", "ratio": 0.5, "none": None, "flags": [True, False],
             "vectors": np.arange(6, dtype=np.float32).reshape(2, 3),
             "nested": {"weights": torch.ones(2, 2), "items": [np.int64(3), "a"]}}
    save_checkpoint(tmp_path / "ck", state)
    back = load_checkpoint(tmp_path / "ck")
    assert back["read"] == 12 and back["name"] == "x" and back["none"] is None
    assert np.array_equal(back["vectors"], state["vectors"])
    assert torch.equal(back["nested"]["weights"], torch.ones(2, 2))
    assert back["nested"]["items"] == [3, "a"]


def test_a_word2vec_model_resumes_exactly(tmp_path: Path) -> None:
    docs = [["flood", "water", "rising", f"w{i % 7}"] for i in range(300)]
    model = ContinualWord2Vec(vector_size=16, min_count=1, seed=3)
    model.update(docs[:150])
    save_checkpoint(tmp_path / "ck", {"w2v": model.state_dict()})
    model.update(docs[150:])
    resumed = ContinualWord2Vec(vector_size=16, min_count=1, seed=3)
    resumed.load_state_dict(load_checkpoint(tmp_path / "ck")["w2v"])
    resumed.update(docs[150:])
    assert np.array_equal(resumed.wv["flood"], model.wv["flood"])


def test_saving_again_replaces_the_checkpoint_atomically(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ck", {"n": 1})
    save_checkpoint(tmp_path / "ck", {"n": 2})
    assert load_checkpoint(tmp_path / "ck") == {"n": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_tampered_truncated_foreign_and_unknown_checkpoints_are_refused(tmp_path: Path) -> None:
    folder = save_checkpoint(tmp_path / "ck", {"n": 1, "v": np.zeros(3)})
    state = folder / "state.json"
    state.write_text(state.read_text().replace("1", "2"))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(folder)
    folder = save_checkpoint(tmp_path / "ck", {"n": 1, "v": np.zeros(3)})
    arrays = folder / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(folder)
    folder = save_checkpoint(tmp_path / "ck", {"n": 1})
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest | {"textcl": "0.0.1"}))
    with pytest.raises(CheckpointError, match=r"written by textcl 0\.0\.1"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="not a textcl checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(TypeError, match="cannot checkpoint a set"):
        save_checkpoint(tmp_path / "bad", {"s": {1, 2}})
