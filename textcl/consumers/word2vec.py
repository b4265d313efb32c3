"""Continual word2vec as a stream consumer: learn every batch, snapshot every window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import orjson
from pydantic import Field, field_validator

from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.input.timeparse import to_iso
from textcl.outputs import continuing, open_output
from textcl.section import Section, at_most
from textcl.types import Batch, Window

if TYPE_CHECKING:  # gensim loads only when the consumer is built
    from textcl.embed.word2vec import ContinualWord2Vec

NEIGHBOURS = 10


class Word2VecConsumer:
    """Feeds micro-batches to a :class:`ContinualWord2Vec`; at a window end, once
    ``snapshot_min_tweets`` tweets arrived since the last snapshot (and at the end of the
    run), writes ``snapshots/window-NNNNN.npz`` (a frozen KeyedVectors copy, tagged with
    the span of the windows it covers) and a line of ``snapshots/index.jsonl`` (span,
    vocabulary, neighbours of the probe terms: the fixed ``probe_terms``, else what
    ``probe_source`` returns then, e.g. the keyword set)."""

    name = "word2vec"

    def __init__(
        self,
        model: ContinualWord2Vec,
        snapshot_dir: Path | None = None,
        probe_terms: list[str] | None = None,
        probe_source: Callable[[], list[str]] | None = None,
        snapshot_min_tweets: int = 0,
        snapshot_dtype: str = "float32",
    ) -> None:
        self.model = model
        self.snapshot_dir = snapshot_dir
        self.probe_terms = list(probe_terms or [])
        self.probe_source = probe_source
        self.snapshot_min_tweets = int(snapshot_min_tweets)
        self.snapshot_dtype = snapshot_dtype
        self.train_seconds = 0.0
        self.snapshots = 0
        self.window_loss: float | None = None  # mean loss per trained word, last window
        self._loss = 0.0
        self._trained = 0
        # the windows ended since the last snapshot ("first", "start", "tweets", and the
        # last one's "window" / "end"); written at close when still pending
        self._pending: dict[str, Any] | None = None
        self._index: IO[bytes] | None = None
        if snapshot_dir is not None:
            snapshot_dir.mkdir(parents=True, exist_ok=True)
            if not continuing():  # a fresh run: an earlier run's snapshots would mix in
                for stale in snapshot_dir.glob("window-*.npz"):
                    stale.unlink()
            self._index = open_output(snapshot_dir / "index.jsonl")

    def attach_relearn(self, memory: Any) -> None:
        """Re-learn tweets of ``memory`` (a :class:`~textcl.active.relearn.RelearnMemory`)
        in every update, ``memory.share`` per new tweet."""
        self.model.relearn_source = lambda n, rng: [
            item.tokens for item in memory.draw("word2vec", n, rng)]

    def update(self, batch: Batch) -> None:
        stats = self.model.update(batch.tokens, now=batch.tweets[-1].created_at.timestamp())
        self.train_seconds += stats["seconds"]
        if stats["loss"] is not None:
            self._loss += stats["loss"]
            self._trained += stats["trained"]

    def probes(self) -> list[str]:
        """The terms probed now: the fixed probe terms, else the probe source's."""
        if self.probe_terms or self.probe_source is None:
            return self.probe_terms
        return list(self.probe_source())

    def neighbours(self) -> dict[str, list[list[Any]]]:
        """Current top neighbours of each probe term that is in the vocabulary."""
        return {
            term: [[w, round(float(s), 4)] for w, s in self.model.most_similar(term, NEIGHBOURS)]
            for term in self.probes()
            if term in self.model
        }

    def pending_loss(self) -> float | None:
        """Mean training loss per word of the open window so far (``None`` untracked)."""
        return self._loss / self._trained if self._trained else None

    def end_window(self, window: Window) -> None:
        if self._trained:
            self.window_loss = self.pending_loss()
        self._loss, self._trained = 0.0, 0
        if self.snapshot_dir is None:
            return
        pending = self._pending or {
            "first": window.index, "start": to_iso(window.start), "tweets": 0
        }
        pending["tweets"] += window.tweets
        pending["window"], pending["end"] = window.index, to_iso(window.end)
        self._pending = pending
        if pending["tweets"] >= self.snapshot_min_tweets:
            self._write_snapshot()

    def _write_snapshot(self) -> None:
        """Snapshot the model now, tagged with the windows ended since the last one."""
        pending, self._pending = self._pending, None
        if pending is None or self.snapshot_dir is None:
            return
        tag = {
            "window": pending["window"],
            "start": pending["start"],
            "end": pending["end"],
            "windows": pending["window"] - pending["first"] + 1,
            "tweets": pending["tweets"],
        }
        from textcl.embed.word2vec import save_keyed_vectors

        snapshot = self.model.snapshot(tag=tag)
        name = f"window-{pending['window']:05d}.npz"
        save_keyed_vectors(snapshot, self.snapshot_dir / name, dtype=self.snapshot_dtype)
        self.snapshots += 1
        record = {
            **tag,
            "file": name,
            "vocab": len(snapshot.index_to_key),
            "neighbours": self.neighbours(),
        }
        assert self._index is not None
        self._index.write(orjson.dumps(record) + b"\n")
        self._index.flush()

    def summary(self) -> dict[str, Any]:
        return {
            "vocab": len(self.model),
            "candidates": self.model.n_candidates,
            "updates": self.model.updates,
            "words": self.model.words_seen,
            "train_seconds": round(self.train_seconds, 3),
            "snapshots": self.snapshots,
            "neighbours": self.neighbours(),
        }

    def close(self, out_dir: Path | None = None) -> None:
        """Snapshot the windows still pending, close the snapshot index; save the final
        model as ``word2vec.npz`` in ``out_dir``."""
        if out_dir is not None and self._pending is not None and self._index is not None:
            self._write_snapshot()  # a normal end only: a failed run leaves no extra file
        if self._index is not None:
            self._index.close()
            self._index = None
        if out_dir is not None:
            self.model.save(out_dir / "word2vec.npz")
        self.model.close()

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "pending": self._pending,
                "snapshots": self.snapshots}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self._pending = state["pending"]
        self.snapshots = int(state["snapshots"])


class Word2VecSection(Section):
    """Continual word2vec (:class:`textcl.embed.word2vec.ContinualWord2Vec`) on the stream.

    Every key except ``enabled``, ``snapshots*`` and ``probe_terms`` is a constructor
    argument of the model with the same default. ``half_life = 0`` disables count decay.
    A snapshot is written at the first window end after ``snapshot_min_tweets`` tweets
    since the previous one (and at the end of the run), so a replayed file of many
    sparse windows does not write one per window.
    """

    enabled: bool = True
    snapshots: bool = True
    snapshot_min_tweets: int = Field(default=500, ge=0)
    snapshot_dtype: Literal["float16", "float32"] = "float16"
    probe_terms: list[str] = Field(default_factory=list)
    vector_size: int = Field(default=100, gt=0)
    window: int = Field(default=5, gt=0)
    sg: Literal[0, 1] = 1
    negative: int = Field(default=5, gt=0)
    min_count: float = Field(default=3, gt=0)
    max_vocab: int = Field(default=200_000, gt=0)
    half_life: float = Field(default=1_000_000, ge=0)
    half_life_unit: Literal["tweets", "seconds"] = "tweets"
    sample: float = Field(default=1e-3, ge=0)
    alpha: float = Field(default=0.05, gt=0)
    min_alpha: float = Field(default=0.0025, gt=0)
    lr_schedule: Literal["count", "constant", "warmup"] = "warmup"
    epochs: int = Field(default=1, gt=0)
    revisit: float = Field(default=0.0, ge=0)
    revisit_window: int = Field(default=2000, gt=0)
    replay_ratio: float = Field(default=0.0, ge=0)
    replay_size: int = Field(default=20_000, gt=0)
    anchor: float = Field(default=0.0, ge=0, le=1)
    anchor_top: int = Field(default=1000, ge=0)
    seed: int = 1
    workers: int = Field(default=1, ge=1)
    pinned: list[str] = Field(default_factory=list)
    compute_loss: bool = False

    _floor_below_alpha = field_validator("min_alpha")(at_most("alpha"))

    def model_kwargs(self) -> dict[str, Any]:
        """Constructor arguments for ContinualWord2Vec."""
        kwargs = self.model_dump(
            exclude={"enabled", "snapshots", "snapshot_min_tweets", "snapshot_dtype", "probe_terms"}
        )
        kwargs["half_life"] = kwargs["half_life"] or None
        return kwargs


def _build(context: BuildContext) -> Word2VecConsumer | None:
    w2v: Word2VecSection = context.section("word2vec")
    if not w2v.enabled:
        return None
    from textcl.embed.word2vec import ContinualWord2Vec

    out = context.out_dir
    consumer = Word2VecConsumer(
        ContinualWord2Vec(**w2v.model_kwargs()),
        out / "snapshots" if out is not None and w2v.snapshots else None,
        w2v.probe_terms or context.config.drift.terms,
        context.probe_source(),
        snapshot_min_tweets=w2v.snapshot_min_tweets, snapshot_dtype=w2v.snapshot_dtype,
    )
    keywords = context.built.get("keywords")
    if keywords is not None and w2v.compute_loss:  # the loss joins the drift alarms' input
        keywords.window_statistics = lambda: (  # type: ignore[attr-defined]
            {} if (loss := consumer.pending_loss()) is None else {"w2v_loss": loss}
        )
    return consumer


def _rows(summary: dict[str, Any]) -> Rows:
    return [("word2vec vocabulary", f"{summary['vocab']:,}"),
            ("word2vec snapshots", f"{summary['snapshots']:,}")]


SPEC = ConsumerSpec(
    name="word2vec",
    section=Word2VecSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["snapshots/"] * bool(summary["snapshots"]) + ["word2vec.npz"],
)
