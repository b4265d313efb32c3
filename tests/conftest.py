"""Shared fixtures: the shared evaluation data must be present (CI fails loudly otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from textcl.paths import shared_data_dir

DATA_FIXTURES = frozenset({"shared_data", "crisislex_t26"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the shared data carry the ``shared_data`` marker, so a clone
    without the data runs the rest with ``-m "not shared_data"`` (never a silent skip)."""
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; a missing folder is an error, never a skip."""
    return shared_data_dir(required=True)


@pytest.fixture(scope="session")
def crisislex_t26(shared_data: Path) -> Path:
    return shared_data / "crisislex" / "T26"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A real Redis server for the broker tests (Debian's redis-server; setup installs it).

    A missing server is an error, never a skip."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: run scripts/setup.sh as root, or "
                    "apt-get install redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        server.kill()
        pytest.fail(f"redis-server did not start on port {port}")
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny BERT encoder folder (config, weights, WordPiece vocabulary) built here."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "flood", "fire", "help", "road",
             "closed", "water", "rising", "#", "!"]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    return folder
