"""Broker sources: a real Redis server (consumer groups, acknowledged only at checkpoints,
SIGKILL while producing) and Kafka to the consumer-client boundary."""

from __future__ import annotations

import gzip
import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import redis

from textcl.config import config_from_dict
from textcl.input.kafka import KafkaReader
from textcl.input.redis_stream import RedisStreamReader
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

CLI = [sys.executable, "-c", "from textcl.cli import app; app()"]
TOTALS = ("read", "processed", "rejected", "tweets", "batches", "windows", "late", "tokens")
CONFIG = {"window": {"every": "1000", "batch_size": 250},
          "output": {"checkpoint_batches": 2, "checkpoint_seconds": 0,
                     "checkpoint_window_seconds": 0},
          "drift": {"enabled": False}}


def sample_lines(count: int) -> list[bytes]:
    with gzip.open(sample_stream_path()) as handle:
        return [line.rstrip(b"\n") for _, line in zip(range(count), handle, strict=False)]


def produce(client: redis.Redis, stream: str, lines: list[bytes], pause: float = 0.0) -> None:
    for start in range(0, len(lines), 500):
        pipe = client.pipeline()
        for line in lines[start:start + 500]:
            pipe.xadd(stream, {"tweet": line})
        pipe.execute()
        time.sleep(pause)


def client_of(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def same_outputs(a: Path, b: Path) -> None:
    whole, other = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    assert {k: other[k] for k in TOTALS} == {k: whole[k] for k in TOTALS}
    assert other["rejected_by_reason"] == whole["rejected_by_reason"]
    for name in ("windows.jsonl", "keywords.jsonl", "rejects.jsonl"):
        assert (a / name).read_text() == (b / name).read_text(), name
    va, vb = np.load(a / "word2vec.npz"), np.load(b / "word2vec.npz")
    assert sorted(va.files) == sorted(vb.files)
    for key in va.files:
        assert np.array_equal(va[key], vb[key]), key


def test_entries_become_tweets_and_bad_entries_are_rejected_naming_their_entry(
    redis_url: str, tmp_path: Path
) -> None:
    client = client_of(redis_url)
    good = [json.dumps({"id": str(i), "text": f"tweet number {i} about rain",
                        "created_at": "2026-03-01T00:00:00Z"}).encode() for i in range(3)]
    produce(client, "small", [*good, b"{not json"])
    bad_id = client.xadd("small", {"wrong": b"field"}).decode()
    reader = RedisStreamReader("small", url=redis_url, idle_timeout=0.3)
    summary = Pipeline(config_from_dict(CONFIG)).run(reader, tmp_path / "out")
    assert (summary["read"], summary["processed"], summary["rejected"]) == (5, 3, 2)
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").open()]
    assert [r["line"] for r in rejects] == [4, 5]
    assert rejects[1]["source"] == f"small#{bad_id}"
    assert "invalid JSON" in rejects[0]["reason"]
    # the run ended: a last checkpoint covers everything, so nothing is left pending
    assert client.xpending("small", "textcl")["pending"] == 0


def test_consumers_of_one_group_split_the_entries(redis_url: str) -> None:
    client = client_of(redis_url)
    lines = sample_lines(600)
    produce(client, "split", lines)
    seen = {}
    for name, limit in (("a", 250), ("b", None)):
        reader = RedisStreamReader("split", "g", name, url=redis_url, idle_timeout=0.3,
                                   max_records=limit)
        seen[name] = [r.origin.source if hasattr(r, "origin") else r.source
                      for r in reader]  # "split#<entry id>"
        reader.commit(reader.delivered)
    assert len(seen["a"]) == 250 and len(seen["b"]) == 350
    assert not set(seen["a"]) & set(seen["b"])
    assert client.xpending("split", "g")["pending"] == 0


class CrashOnCommit(RedisStreamReader):
    """Dies right after a checkpoint is on disk and before it is acknowledged, once."""

    def commit(self, count: int) -> None:
        raise KeyboardInterrupt


def test_a_crash_between_checkpoint_and_acknowledgement_processes_nothing_twice(
    redis_url: str, tmp_path: Path
) -> None:
    client = client_of(redis_url)
    produce(client, "acks", sample_lines(3000))
    config = config_from_dict(CONFIG)
    Pipeline(config).run(RedisStreamReader("acks", "whole", url=redis_url, idle_timeout=0.3),
                         tmp_path / "whole")
    out = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        Pipeline(config).run(CrashOnCommit("acks", url=redis_url, idle_timeout=0.3), out)
    assert client.xpending("acks", "textcl")["pending"] > 0  # delivered, never acknowledged
    again = RedisStreamReader("acks", url=redis_url, idle_timeout=0.3)
    Pipeline(config).run(again, out, resume=True)
    assert again.skipped > 0  # covered by the checkpoint: acknowledged, not processed again
    same_outputs(tmp_path / "whole", out)
    assert client.xpending("acks", "textcl")["pending"] == 0


def start(out: Path, redis_url: str, stream: str, group: str, resume: bool) -> subprocess.Popen:
    pipeline = out.parent / f"{out.name}.toml"
    pipeline.write_text("[window]\nevery = \"1000\"\nbatch_size = 250\n[drift]\nenabled = false\n"
                        "[output]\ncheckpoint_batches = 2\ncheckpoint_seconds = 0\n"
                        "checkpoint_window_seconds = 0\n")
    args = [*CLI, "stream", stream, "--source", "redis-stream", "--broker", redis_url,
            "--group", group, "--follow-idle", "3", "-q", "-p", str(pipeline), "-o", str(out),
            *(["--resume"] if resume else [])]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_sigkilled_consumers_resume_while_producing_and_end_like_an_uninterrupted_run(
    redis_url: str, tmp_path: Path
) -> None:
    client = client_of(redis_url)
    producer = threading.Thread(target=produce, args=(client, "live", sample_lines(12_000), 0.5))
    producer.start()
    rng = random.Random(5)
    out, kills = tmp_path / "killed", 0
    for attempt in range(10):
        proc = start(out, redis_url, "live", "textcl", resume=attempt > 0)
        time.sleep(rng.uniform(1.0, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        else:  # drained the stream (3 s without an entry) before the kill
            assert proc.returncode == 0, proc.stderr.read()
    producer.join()
    last = start(out, redis_url, "live", "textcl", resume=True)
    assert last.wait(timeout=300) == 0, last.stderr.read()
    assert kills >= 3, "the consumer always finished before it could be killed"
    whole = start(tmp_path / "whole", redis_url, "live", "uninterrupted", resume=False)
    assert whole.wait(timeout=300) == 0, whole.stderr.read()
    same_outputs(tmp_path / "whole", out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == 12_000
    assert client.xpending("live", "textcl")["pending"] == 0


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int, value: bytes) -> None:
        self._key, self._value = (topic, partition, offset), value

    def topic(self) -> str:
        return self._key[0]

    def partition(self) -> int:
        return self._key[1]

    def offset(self) -> int:
        return self._key[2]

    def value(self) -> bytes:
        return self._value

    def error(self) -> None:
        return None


class FakeKafka:
    """A broker with committed offsets per partition, and consumers of it that read each
    partition from its committed offset in a fixed interleaving (as the client does)."""

    def __init__(self, partitions: list[list[bytes]]) -> None:
        self.partitions = partitions
        self.committed = [0] * len(partitions)

    def consumer(self) -> FakeConsumer:
        return FakeConsumer(self)


class FakeConsumer:
    def __init__(self, broker: FakeKafka) -> None:
        self.broker = broker
        self.next = list(broker.committed)
        self.subscribed: list[str] = []

    def subscribe(self, topics: list[str]) -> None:
        self.subscribed = topics

    def poll(self, timeout: float) -> FakeMessage | None:
        waiting = [p for p, messages in enumerate(self.broker.partitions)
                   if self.next[p] < len(messages)]
        if not waiting:
            return None
        p = min(waiting, key=lambda i: (self.next[i], i))  # partitions interleaved by offset
        offset = self.next[p]
        self.next[p] += 1
        return FakeMessage("tweets", p, offset, self.broker.partitions[p][offset])

    def commit(self, offsets: list, asynchronous: bool = True) -> None:
        assert not asynchronous
        for tp in offsets:
            assert tp.topic == "tweets" and tp.offset > self.broker.committed[tp.partition]
            self.broker.committed[tp.partition] = tp.offset

    def close(self) -> None:
        pass


class CrashingKafka(KafkaReader):
    def commit(self, count: int) -> None:
        if self.delivered > 1200:
            raise KeyboardInterrupt
        super().commit(count)


def test_kafka_offsets_are_committed_only_after_a_checkpoint_and_a_crash_resumes_exactly(
    tmp_path: Path
) -> None:
    lines = sample_lines(3000)
    config = config_from_dict(CONFIG)

    def reader(kind: type[KafkaReader], broker: FakeKafka) -> KafkaReader:
        return kind(["tweets"], consumer=broker.consumer(), poll=0.01, idle_timeout=0.2)

    whole_broker = FakeKafka([lines[0::2], lines[1::2]])
    Pipeline(config).run(reader(KafkaReader, whole_broker), tmp_path / "whole")
    assert whole_broker.committed == [1500, 1500]
    broker = FakeKafka([lines[0::2], lines[1::2]])
    out = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        Pipeline(config).run(reader(CrashingKafka, broker), out)
    assert 0 < sum(broker.committed) < 3000  # the crash lost the last acknowledgement
    again = reader(KafkaReader, broker)
    Pipeline(config).run(again, out, resume=True)
    assert again.skipped > 0  # re-read from the committed offsets, covered by the checkpoint
    same_outputs(tmp_path / "whole", out)
    assert broker.committed == [1500, 1500]
