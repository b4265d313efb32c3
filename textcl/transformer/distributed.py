"""Data-parallel continual MLM training with ``torch.nn.parallel.DistributedDataParallel``.

Every rank reads the whole stream and runs the same :class:`ContinualTransformer` logic:
the same tokenizer and initial weights (seeded), the same masks (drawn on the full window
before any sharding), the same batch order and the same replay/EWC state. Only each
optimizer step's forward/backward is split: rank ``r`` of ``W`` takes rows
``batch[r::W]`` and its loss is its masked-token cross-entropy *sum* times ``W / N``
(``N``: predicted tokens of the whole step batch), so DDP's gradient average is exactly
the full batch's mean-loss gradient, and every rank keeps identical weights. Rank 0
writes the outputs (``OUT/train.jsonl``, ``OUT/checkpoint``, ``OUT/model``).

One machine, 4 processes (CPU: gloo; GPUs: NCCL, one process per GPU)::

    torchrun --nproc_per_node=4 -m textcl.transformer.distributed data/sample_stream.jsonl.gz \\
        --out out/ddp --window 2000

Two GPU nodes of 8 GPUs (run the same command on both; ``HOST`` is the first node;
``--resume`` needs ``OUT`` on a filesystem both nodes share)::

    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d \\
        --rdzv_endpoint=HOST:29500 -m textcl.transformer.distributed STREAM \\
        --out /shared/out/ddp --window 20000 --batch-size 64 --resume

From Python (tests): :func:`spawn_training` starts ``W`` CPU processes itself.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from textcl.cl.adapter import StepBatch
from textcl.cl.rows import take
from textcl.transformer.masking import IGNORE
from textcl.transformer.model import ContinualTransformer
from textcl.transformer.training import MLMTrainer, _trim


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class ShardedMLMTrainer(MLMTrainer):
    """An :class:`MLMTrainer` whose steps run data-parallel over the process group.

    Adapters see the full step batch on every rank (replay adds the same rows, penalties
    and gradient edits are the same), so only the task loss is sharded. Outside a process
    group (or with one process) it trains exactly as :class:`MLMTrainer`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rank, self.world_size = _world()
        self._ddp: nn.Module | None = None
        self._ddp_version: tuple[int, int] | None = None

    def ddp_module(self) -> nn.Module:
        """The DDP wrapper of the model (rebuilt when the vocabulary grew)."""
        version = self._model_version()
        if self._ddp is None or version != self._ddp_version:
            if self._ddp is not None:  # its gradient hooks expect the old shapes: drop them
                self._ddp = None
                gc.collect()
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._ddp = DistributedDataParallel(self.model, device_ids=ids)
            self._ddp_version = version
        return self._ddp

    def release_ddp(self) -> None:
        """Drop the DDP wrapper (and its reducer) while the process group still lives: a
        reducer freed after ``destroy_process_group`` takes the group down with it, from
        a destructor that holds the GIL while gloo's worker thread waits for it (a hang
        at exit)."""
        if self._ddp is not None:
            self._ddp = None
            gc.collect()

    def sharded_objective(self, batch: StepBatch) -> tuple[Tensor, Tensor]:
        """This rank's share of the step loss (see the module doc) plus the adapters'
        penalties, and the full batch's mean loss (the same on every rank)."""
        y = batch.y
        targets = (y != IGNORE).sum().clamp(min=1)
        rows = torch.arange(self.rank, len(y), self.world_size, device=y.device)
        scale = self.world_size / targets
        if not len(rows):  # fewer rows than ranks: take part in the all-reduce with 0
            rows, scale = rows.new_zeros(1), scale * 0
        logits = self.ddp_module()(_trim(take(batch.x, rows)))
        labels = y[rows][:, : logits.shape[1]]
        part = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
            ignore_index=IGNORE, reduction="sum",
        ) * scale
        total = part
        for adapter in self.adapters:
            extra = adapter.penalty(self, batch, None)
            if extra is not None:
                total = total + extra
        mean = part.detach().clone()
        dist.all_reduce(mean)
        return mean / self.world_size, total

    def objective(self, batch: StepBatch) -> tuple[Tensor, Tensor]:
        """The sharded objective in a process group; DDP averages the gradients in the
        inherited ``train_step``'s backward."""
        if self.world_size == 1:
            return super().objective(batch)
        return self.sharded_objective(batch)


class DistributedContinualTransformer(ContinualTransformer):
    """:class:`ContinualTransformer` training through :class:`ShardedMLMTrainer`."""

    trainer_class = ShardedMLMTrainer


# ----------------------------------------------------------------------- running
def setup(backend: str | None = None) -> torch.device:
    """Join the process group torchrun describes (``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``); NCCL with CUDA, else gloo. Without
    those variables, a single process. Returns this process' device."""
    cuda = torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    if "WORLD_SIZE" in os.environ and not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"))
    return torch.device("cuda", local) if cuda else torch.device("cpu")


def shutdown(lm: ContinualTransformer | None) -> None:
    """Leave the process group cleanly: every rank done, DDP released, group destroyed."""
    if not dist.is_initialized():
        return
    dist.barrier()
    trainer = lm.trainer if lm is not None else None
    if isinstance(trainer, ShardedMLMTrainer):
        trainer.release_ddp()
    dist.destroy_process_group()


def weights_spread(lm: ContinualTransformer) -> float:
    """Largest absolute difference of any weight between rank 0 and any rank (0 alone)."""
    _rank, world = _world()
    if world == 1 or lm.model is None:
        return 0.0
    params = torch.cat([p.detach().flatten() for p in lm.model.parameters()])
    reference = params.clone()
    dist.broadcast(reference, 0)
    spread = (params - reference).abs().max()
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)
    return float(spread)


def train_windows(lm: ContinualTransformer, windows: Iterable[Sequence[str]],
                  out: Path | None, checkpoint: bool = False, resume: bool = False) -> dict:
    """Train ``lm`` on every window on every rank; rank 0 writes ``out/train.jsonl`` (one
    line per window), ``out/checkpoint`` after each window (``checkpoint``), ``out/model``
    and ``out/summary.json``. ``resume`` goes on after the checkpointed windows."""
    from textcl.checkpoint import load_checkpoint, save_checkpoint

    rank, world = _world()
    lead = rank == 0 and out is not None
    done = 0
    if resume and out is not None and (out / "checkpoint").exists():
        saved = load_checkpoint(out / "checkpoint")
        lm.load_training_state(saved["model"])
        done = int(saved["windows"])
    losses: list[float] = []
    if lead:
        out.mkdir(parents=True, exist_ok=True)
    log = None
    if lead:
        path = out / "train.jsonl"
        kept = path.read_text().splitlines(keepends=True)[:done] if done and path.exists() else []
        log = path.open("w")
        log.writelines(kept)  # lines after the checkpoint (from a killed run) are dropped
    for index, texts in enumerate(itertools.islice(windows, done, None), done):
        loss = lm.update(texts)
        losses.append(loss)
        if log is not None:
            log.write(json.dumps({"window": index, "texts": len(texts), "loss": loss}) + "\n")
            log.flush()
        if checkpoint and out is not None:
            if lead:
                save_checkpoint(out / "checkpoint", {"windows": index + 1,
                                                     "model": lm.training_state()})
            if world > 1:
                dist.barrier()
    if log is not None:
        log.close()
    summary = {"world_size": world, "windows": done + len(losses), "losses": losses,
               "tweets_seen": lm.tweets_seen, "weights_spread": weights_spread(lm)}
    if lead:
        if lm.built:
            lm.save(out / "model")
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def build_adapters(specs: Sequence[tuple[str, dict[str, Any]]]) -> list:
    """Adapters from plain specs (picklable for new processes): ``("replay", {"capacity",
    "batch_size", "seed"})`` (a reservoir buffer) and ``("ewc", {"lam", "fisher_examples"})``."""
    from textcl.cl import EWC, Replay, ReservoirBuffer

    adapters: list = []
    for name, opts in specs:
        if name == "replay":
            buffer = ReservoirBuffer(opts["capacity"], seed=opts.get("seed", 0))
            adapters.append(Replay(buffer, batch_size=opts.get("batch_size")))
        elif name == "ewc":
            adapters.append(EWC(lam=opts["lam"], fisher_examples=opts.get("fisher_examples", 256)))
        else:
            raise ValueError(f"unknown adapter {name!r}: use replay or ewc")
    return adapters


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawned(rank: int, world: int, port: int, windows: list[list[str]],
             settings: dict[str, Any], specs: list, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    lm = None
    try:
        lm = DistributedContinualTransformer(**settings, adapters=build_adapters(specs))
        train_windows(lm, windows, Path(out))
    finally:
        shutdown(lm)


def spawn_training(windows: list[list[str]], world_size: int, out: str | Path,
                   settings: dict[str, Any],
                   adapters: Sequence[tuple[str, dict[str, Any]]] = ()) -> dict:
    """Train a :class:`DistributedContinualTransformer` built from ``settings`` (plain
    values) and ``adapters`` (specs of :func:`build_adapters`) on ``windows`` in
    ``world_size`` local CPU processes (gloo); rank 0 writes ``out``. Returns rank 0's
    summary (``out/summary.json``)."""
    import torch.multiprocessing as mp

    args = (world_size, _free_port(), windows, settings, list(adapters), str(out))
    mp.spawn(_spawned, args=args, nprocs=world_size, join=True)
    return json.loads((Path(out) / "summary.json").read_text())


def stream_windows(source: str | Path, size: int, fmt: str = "auto",
                   limit: int | None = None) -> Iterator[list[str]]:
    """The texts of ``source`` in windows of ``size`` tweets (at most ``limit`` windows)."""
    from textcl.input.readers import read_tweets

    tweets = read_tweets(source, fmt)  # type: ignore[arg-type]
    chunks = iter(lambda: [t.text for t in itertools.islice(tweets, size)], [])
    return itertools.islice(chunks, limit)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m textcl.transformer.distributed`` (under torchrun; see the module doc)."""
    parser = argparse.ArgumentParser(
        prog="python -m textcl.transformer.distributed",
        description="Continual masked-LM training on a tweet stream with DDP (run it under "
                    "torchrun; gloo on CPU, NCCL on GPUs). Rank 0 writes OUT.")
    parser.add_argument("source", help="a tweet file (jsonl, csv, text; .gz ok)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (rank 0)")
    parser.add_argument("--format", default="auto")
    parser.add_argument("--window", type=int, default=2000, help="tweets per training round")
    parser.add_argument("--max-windows", type=int, default=None)
    parser.add_argument("--model-path", default=None, help="a local masked LM folder")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32, help="rows per step, all ranks")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replay", type=int, default=0, help="replay memory rows (0: off)")
    parser.add_argument("--ewc", type=float, default=0.0, help="EWC weight (0: off)")
    parser.add_argument("--no-checkpoint", action="store_true")
    parser.add_argument("--resume", action="store_true", help="go on from OUT/checkpoint")
    args = parser.parse_args(argv)
    device = setup()
    config = {"hidden_size": args.hidden_size, "num_hidden_layers": args.layers,
              "num_attention_heads": args.heads, "intermediate_size": 2 * args.hidden_size,
              "hidden_dropout_prob": args.dropout, "attention_probs_dropout_prob": args.dropout}
    lm = DistributedContinualTransformer(
        model_path=args.model_path, config=None if args.model_path else config,
        max_length=args.max_length, batch_size=args.batch_size, lr=args.lr,
        epochs=args.epochs, vocab_size=args.vocab_size, seed=args.seed, device=device,
        adapters=build_adapters([*([("replay", {"capacity": args.replay, "seed": args.seed})]
                                   if args.replay else []),
                                 *([("ewc", {"lam": args.ewc})] if args.ewc else [])]),
    )
    try:
        summary = train_windows(lm, stream_windows(args.source, args.window, args.format,
                                                   args.max_windows),
                                args.out, not args.no_checkpoint, args.resume)
        if _world()[0] == 0:
            print(json.dumps({k: summary[k] for k in ("world_size", "windows",
                                                      "weights_spread")}))
    finally:
        shutdown(lm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
