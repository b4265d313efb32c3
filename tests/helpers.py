"""Small helpers for writing test inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import torch

from textcl.cl.adapter import Adapter
from textcl.input.readers import TweetReader
from textcl.input.rejects import Reject
from textcl.types import Tweet


def write_lines(path: Path, lines: list[bytes | str], gz: bool = False) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode("utf-8")) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def split(items) -> tuple[list[Tweet], list[Reject]]:
    tweets, rejects = [], []
    for item in items:
        (rejects if isinstance(item, Reject) else tweets).append(item)
    return tweets, rejects


def read_all(path: Path | str, fmt: str = "auto", **kw) -> tuple[list[Tweet], list[Reject]]:
    return split(TweetReader(path, fmt, **kw))


class Crash:
    """A consumer that logs the ids it is given to ``OUT/ids.txt`` (an output opened in
    the ``open`` hook) and dies (like a killed process) at one micro-batch, once."""

    name = "crash"

    def __init__(self, at_batch: int | None) -> None:
        self.at_batch = at_batch
        self.ids = None

    def open(self, out_dir: Path | None) -> None:
        from textcl.outputs import open_output

        self.ids = open_output(out_dir / "ids.txt") if out_dir is not None else None

    def update(self, batch) -> None:
        if self.ids is not None:
            self.ids.write("".join(f"{t.id}\n" for t in batch.tweets).encode())
        if batch.index == self.at_batch:
            raise KeyboardInterrupt

    def close(self, out_dir: Path | None) -> None:
        if self.ids is not None:
            self.ids.close()

    def end_window(self, window) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class PathRecorder(Adapter):
    """The SI path integral computed the slow way: ``-grad * (theta_new - theta_old)`` in
    float64 from copies of the gradients the optimizer applied and of the weights."""

    def __init__(self) -> None:
        self.w: dict[str, torch.Tensor] = {}
        self._before: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def before_task(self, trainer, x, y, task) -> None:
        self.w = {}  # SI integrates each task's path on its own

    def before_step(self, trainer, batch) -> None:
        self._before = {n: (p.grad.double().clone(), p.detach().double().clone())
                        for n, p in trainer.model.named_parameters() if p.grad is not None}

    def after_step(self, trainer, batch) -> None:
        params = dict(trainer.model.named_parameters())
        for name, (grad, old) in self._before.items():
            step = -grad * (params[name].detach().double() - old)
            self.w[name] = self.w.get(name, torch.zeros_like(step)) + step
