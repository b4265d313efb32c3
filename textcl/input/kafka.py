"""Tweets from Kafka topics through a confluent-kafka consumer group.

Each message value is one JSON tweet object. Auto-commit is off: offsets are committed only
after the pipeline checkpoint that covers the messages, so a killed run re-reads from the
last committed offsets and skips what its checkpoint already holds (the checkpoint stores
the next offset of every partition). Several ``textcl stream`` processes in one group split
the partitions; each keeps its own output folder and checkpoint. Exactly-once holds while a
partition stays with one process: after a rebalance moves a partition, its new owner reads
it from the group's committed offset (at-least-once across the group).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from textcl.input.broker import BrokerReader

Offset = tuple[str, int, int]  # topic, partition, offset


def _partition_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


class KafkaReader(BrokerReader[Offset]):
    """Reader of Kafka ``topics`` in consumer group ``group``.

    ``bootstrap`` is the broker list (``host:port,...``); ``settings`` are passed to the
    consumer as they are (security, ``auto.offset.reset``...). ``consumer`` is an existing
    ``confluent_kafka.Consumer``-like object (tests); ``poll`` seconds is the longest wait.
    """

    format = "kafka"

    def __init__(self, topics: list[str], group: str = "textcl",
                 bootstrap: str = "localhost:9092", settings: dict[str, Any] | None = None,
                 poll: float = 1.0, idle_timeout: float | None = None,
                 max_records: int | None = None, stop: threading.Event | None = None,
                 consumer: Any = None) -> None:
        super().__init__(idle_timeout, max_records, stop)
        if not topics or not group:
            raise ValueError("a Kafka source needs at least one topic and a group")
        self.topics, self.group, self.poll = list(topics), group, poll
        self.source = f"kafka:{','.join(self.topics)}/{group}"
        if consumer is None:
            try:
                from confluent_kafka import Consumer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ValueError("the Kafka source needs confluent-kafka: "
                                 "pip install 'textcl[brokers]'") from exc
            config = {"bootstrap.servers": bootstrap, "group.id": group,
                      "enable.auto.commit": False, "auto.offset.reset": "earliest"}
            consumer = Consumer({**config, **(settings or {})})
        self._consumer = consumer
        self._consumer.subscribe(self.topics)

    def __repr__(self) -> str:
        return f"KafkaReader({self.source!r}, delivered={self.delivered})"

    def _records(self) -> Iterator[tuple[Offset, bytes | None, str] | None]:
        while True:
            message = self._consumer.poll(self.poll)
            if message is None:
                yield None
                continue
            error = message.error()
            if error is not None:
                if getattr(error, "fatal", lambda: False)():
                    raise ValueError(f"{self.source}: Kafka error: {error}")
                continue  # partition EOF and other informational events
            key = (message.topic(), message.partition(), message.offset())
            yield key, message.value(), f"{key[0]}[{key[1]}]@{key[2]}"

    def _ack(self, keys: list[Offset]) -> None:
        from confluent_kafka import TopicPartition

        latest: dict[tuple[str, int], int] = {}
        for topic, partition, offset in keys:
            latest[(topic, partition)] = max(offset, latest.get((topic, partition), -1))
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in sorted(latest.items())]
        self._consumer.commit(offsets=offsets, asynchronous=False)

    def _covered(self, key: Offset, position: Any) -> bool:
        topic, partition, offset = key
        return offset < position.get(_partition_key(topic, partition), 0)

    def _position(self, keys: list[Offset], previous: Any) -> Any:
        position = dict(previous or {})
        for topic, partition, offset in keys:
            name = _partition_key(topic, partition)
            position[name] = max(offset + 1, position.get(name, 0))
        return position

    def close(self) -> None:
        """Leave the group (its partitions go to the other processes)."""
        self._consumer.close()
