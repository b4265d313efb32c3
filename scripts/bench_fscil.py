"""Few-shot class-incremental learning (FSCIL) of new event types on CrisisLex T26.

    python scripts/bench_fscil.py [--shots 5,10] [--seeds 0,1,2] [--out out/bench_fscil]

Features are frozen all-MiniLM-L6-v2 sentence embeddings (cached like ``bench_cl.py``).
The 26 events come in time order; each is split 70/30 train/test (seed + event index, as
in ``bench_cl.py``) and its class is its event type. The **base session** is the first
``--base-events`` events (default: the first half, 13 events, whose 9 types are the base
classes; the 14th event is the first of a new type) with all their training rows. Every
later event is a session of only K labelled tweets drawn by seed from its training rows
(the K=5 shots are the first 5 of the K=10 ones): a **novel** class when its type is new,
more shots of a known class otherwise (4 novel types: haze, derailment, shootings, crash).
After each session every method is scored on the test rows of the events seen so far.

Methods, same sessions and seeds:

- ``prototypes``: ``PrototypeClassifier`` (cosine to class means of normalised, centred
  features) as an adapter of a ``ContinualTrainer``;
- ``slda``: ``StreamingLDA`` updated with the same shots;
- ``nme``: iCaRL-style nearest mean of exemplars: an MLP trained on the base session,
  then frozen; herding exemplars (``--exemplars`` per class, fixed total memory) in its
  feature space, the shots as the new classes' exemplars;
- ``naive``: the base MLP with a growing head fine-tuned on each session's shots;
- joint upper bounds, trained once on every training row of every event: the same MLP,
  and the prototype and SLDA models on full data.

Reports final accuracy on all test rows, on base-class rows, on novel-class rows, their
harmonic mean and the mean accuracy over sessions (mean ± sd over seeds), then the
prototype ablation (centring on/off; test log-loss per temperature), a verdict line, and
writes ``results.json`` and ``results.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cl  # the same train/test split per event

from textcl.cl import (
    ContinualTrainer,
    HerdingBuffer,
    NearestMeanOfExemplars,
    StreamingLDA,
    TrainConfig,
)
from textcl.cl.prototypes import PrototypeAdapter, PrototypeClassifier
from textcl.datasets import crisislex_events
from textcl.features import SentenceEncoder, cached_features
from textcl.heads import IncrementalClassifier, MLPClassifier
from textcl.paths import shared_data_dir

TEMPERATURES = (0.02, 0.05, 0.07, 0.1, 0.15, 0.2, 0.5)
FEW_SHOT = ("prototypes", "slda", "nme", "naive")
JOINT = ("joint-mlp", "joint-prototypes", "joint-slda")


@dataclass
class Event:
    """One event's split: features of its train and test rows and its class (type)."""

    name: str
    label: int
    x_train: Tensor
    x_test: Tensor


@dataclass
class Protocol:
    """Base session, few-shot sessions (one per later event), and the class sets."""

    events: list[Event]
    n_base: int
    types: list[str]

    @property
    def base_classes(self) -> set[int]:
        return {e.label for e in self.events[: self.n_base]}

    def base_rows(self) -> tuple[Tensor, Tensor]:
        return stack([(e.x_train, e.label) for e in self.events[: self.n_base]])

    def all_rows(self) -> tuple[Tensor, Tensor]:
        return stack([(e.x_train, e.label) for e in self.events])

    def shots(self, index: int, k: int, seed: int) -> tuple[Tensor, Tensor]:
        """K training rows of event ``index``, drawn by ``seed`` (smaller K: a prefix)."""
        event = self.events[index]
        g = torch.Generator().manual_seed(1000 * seed + index)
        rows = torch.randperm(len(event.x_train), generator=g)[:k]
        return event.x_train[rows], torch.full((len(rows),), event.label, dtype=torch.long)

    def test_rows(self, seen: int) -> tuple[Tensor, Tensor]:
        """Test rows of the first ``seen`` events."""
        return stack([(e.x_test, e.label) for e in self.events[:seen]])


def stack(parts: list[tuple[Tensor, int]]) -> tuple[Tensor, Tensor]:
    x = torch.cat([p[0] for p in parts])
    y = torch.cat([torch.full((len(p[0]),), p[1], dtype=torch.long) for p in parts])
    return x, y


def load_features(encoder: SentenceEncoder) -> tuple[list, Tensor]:
    events = crisislex_events(shared_data_dir() / "crisislex" / "T26")
    texts = [t for e in events for t in e.texts]
    return events, torch.from_numpy(cached_features(texts, encoder))


def build_protocol(events: list, feats: Tensor, seed: int, n_base: int | None) -> Protocol:
    types = list(dict.fromkeys(e.event_type for e in events))
    out, offset = [], 0
    for k, event in enumerate(events):
        x = feats[offset : offset + len(event)]
        offset += len(event)
        tr, te = bench_cl.split(len(event), 0.3, seed + k)
        out.append(Event(event.name, types.index(event.event_type), x[tr], x[te]))
    return Protocol(out, len(out) // 2 if n_base is None else n_base, types)


# -- methods ----------------------------------------------------------------------------
class Method:
    """A learner: ``base`` on the base session, ``session`` per few-shot session."""

    def base(self, x: Tensor, y: Tensor) -> None:
        raise NotImplementedError

    def session(self, x: Tensor, y: Tensor) -> None:
        raise NotImplementedError

    def predict(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def memory(self) -> int:
        """Stored rows (floats / feature width)."""
        raise NotImplementedError


class AdapterMethod(Method):
    """A score-replacing adapter (prototypes, SLDA) in a trainer; every session is a task.
    The trainer's linear head is trained but unused: the adapter's scores replace it."""

    def __init__(self, adapter: PrototypeAdapter | StreamingLDA, dim: int, seed: int) -> None:
        torch.manual_seed(seed)
        self.adapter = adapter
        self.trainer = ContinualTrainer(IncrementalClassifier(dim), [adapter],
                                        TrainConfig(epochs=1, batch_size=256, seed=seed))

    def base(self, x: Tensor, y: Tensor) -> None:
        self.trainer.fit_task(x, y)

    def session(self, x: Tensor, y: Tensor) -> None:
        self.trainer.fit_task(x, y)

    def predict(self, x: Tensor) -> Tensor:
        return self.trainer.predict(x)

    def memory(self) -> int:
        return self.adapter.memory_size()


class NaiveMethod(Method):
    """The base-trained MLP fine-tuned on each session's shots (its head grows)."""

    def __init__(self, trainer: ContinualTrainer, shot_epochs: int) -> None:
        self.trainer = trainer
        self.shot_config = replace(trainer.config, epochs=shot_epochs)

    def base(self, x: Tensor, y: Tensor) -> None:  # trained once per seed, shared
        pass

    def session(self, x: Tensor, y: Tensor) -> None:
        self.trainer.config = self.shot_config
        self.trainer.fit_task(x, y, n_classes=int(y.max()) + 1)

    def predict(self, x: Tensor) -> Tensor:
        return self.trainer.predict(x)

    def memory(self) -> int:
        return 0


class NMEMethod(Method):
    """iCaRL's nearest mean of exemplars on the frozen base MLP's features.

    Herding picks ``capacity // classes`` exemplars per class; a session's shots are a new
    class's exemplars, or are herded together with the known class's exemplars."""

    def __init__(self, trainer: ContinualTrainer, capacity: int, seed: int) -> None:
        self.trainer = trainer
        self.buffer = HerdingBuffer(capacity, seed=seed)
        self.nme = NearestMeanOfExemplars(self.buffer)
        trainer.adapters = [self.nme]

    def base(self, x: Tensor, y: Tensor) -> None:
        self.buffer.add_task(self.trainer, x, y, None)
        self.nme.after_task(self.trainer, x, y, None)

    def session(self, x: Tensor, y: Tensor) -> None:
        head = self.trainer.model.head
        needed = int(y.max()) + 1
        if needed > head.n_classes:
            head.grow(needed - head.n_classes)
        c = int(y[0])
        if c in self.buffer.exemplars:
            ex, ey, _ = self.buffer.exemplars[c]
            x, y = torch.cat([ex, x]), torch.cat([ey, y])
        self.buffer.add_task(self.trainer, x, y, None)
        self.nme.after_task(self.trainer, x, y, None)

    def predict(self, x: Tensor) -> Tensor:
        return self.trainer.predict(x)

    def memory(self) -> int:
        return len(self.buffer)


def accuracy(pred: Tensor, y: Tensor, mask: Tensor | None = None) -> float:
    if mask is not None:
        pred, y = pred[mask], y[mask]
    return float((pred == y).float().mean()) if len(y) else float("nan")


def final_metrics(pred: Tensor, y: Tensor, base: set[int]) -> dict[str, float]:
    is_base = torch.tensor([int(c) in base for c in y.tolist()])
    b, n = accuracy(pred, y, is_base), accuracy(pred, y, ~is_base)
    hm = 2 * b * n / (b + n) if b + n > 0 else 0.0
    return {"all": accuracy(pred, y), "base": b, "novel": n, "hm": hm}


def run_sessions(method: Method, proto: Protocol, k: int, seed: int) -> dict:
    """Base session then one session per later event; accuracy after each."""
    started = time.perf_counter()
    method.base(*proto.base_rows())
    x, y = proto.test_rows(proto.n_base)
    curve = [accuracy(method.predict(x), y)]
    for i in range(proto.n_base, len(proto.events)):
        method.session(*proto.shots(i, k, seed))
        x, y = proto.test_rows(i + 1)
        curve.append(accuracy(method.predict(x), y))
    x, y = proto.test_rows(len(proto.events))
    out = final_metrics(method.predict(x), y, proto.base_classes)
    return out | {"mean_sessions": float(np.mean(curve)), "curve": curve,
                  "memory": method.memory(), "seconds": time.perf_counter() - started}


def train_base_mlp(proto: Protocol, cfg: TrainConfig, hidden: int, dropout: float,
                   seed: int, x: Tensor | None = None, y: Tensor | None = None
                   ) -> tuple[ContinualTrainer, float]:
    """An MLP with a growing head trained on the base session (or on ``x, y``)."""
    torch.manual_seed(seed)
    started = time.perf_counter()
    if x is None or y is None:
        x, y = proto.base_rows()
    model = MLPClassifier(x.shape[1], (hidden,), n_classes=0, dropout=dropout)
    trainer = ContinualTrainer(model, [], replace(cfg, seed=seed))
    trainer.fit_task(x, y, n_classes=int(y.max()) + 1)
    return trainer, time.perf_counter() - started


def fork(trainer: ContinualTrainer) -> ContinualTrainer:
    """A new trainer (no adapter, fresh optimizer) over a copy of ``trainer``'s model."""
    return ContinualTrainer(copy.deepcopy(trainer.model), [], trainer.config)


def run_joint(proto: Protocol, name: str, cfg: TrainConfig, hidden: int, dropout: float,
              seed: int, temperature: float, centre: bool) -> dict:
    """An upper bound trained once on every training row of every event."""
    x, y = proto.all_rows()
    dim = x.shape[1]
    started = time.perf_counter()
    if name == "joint-mlp":
        trainer, _ = train_base_mlp(proto, cfg, hidden, dropout, seed, x, y)
        predict: Callable[[Tensor], Tensor] = trainer.predict
        memory = len(y)
    else:
        adapter = (PrototypeAdapter(temperature=temperature, centre=centre)
                   if name == "joint-prototypes" else StreamingLDA(shrinkage=0.1))
        method = AdapterMethod(adapter, dim, seed)
        if centre and name == "joint-prototypes":  # centred by the base session, as above
            adapter.classifier.set_centre(proto.base_rows()[0])
        method.base(x, y)
        predict, memory = method.predict, method.memory()
    tx, ty = proto.test_rows(len(proto.events))
    out = final_metrics(predict(tx), ty, proto.base_classes)
    return out | {"memory": memory, "seconds": time.perf_counter() - started}


def prototype_ablation(proto: Protocol, k: int, seed: int) -> dict:
    """Centring on/off: final accuracies, and the test log-loss at each temperature."""
    out = {}
    tx, ty = proto.test_rows(len(proto.events))
    for centre in (True, False):
        clf = PrototypeClassifier(centre=centre)
        clf.add_examples(*proto.base_rows())
        for i in range(proto.n_base, len(proto.events)):
            clf.add_examples(*proto.shots(i, k, seed))
        sims = clf.similarities(tx)
        classes, _ = clf.prototypes()
        target = torch.searchsorted(classes, ty)
        nll = {str(t): float(torch.nn.functional.cross_entropy(sims / t, target))
               for t in TEMPERATURES}
        pred = classes[sims.argmax(1)]
        out["centred" if centre else "plain"] = (
            final_metrics(pred, ty, proto.base_classes) | {"nll": nll})
    return out


# -- reporting --------------------------------------------------------------------------
METRICS = ("all", "base", "novel", "hm", "mean_sessions")


def summarise(runs: list[dict]) -> dict:
    out: dict = {}
    for key in (*METRICS, "seconds"):
        if key not in runs[0]:
            continue
        values = [r[key] for r in runs]
        out[key] = statistics.fmean(values)
        out[key + "_sd"] = statistics.pstdev(values) if len(values) > 1 else 0.0
    out["memory"] = max(r["memory"] for r in runs)
    if "curve" in runs[0]:
        out["curve"] = [statistics.fmean(c) for c in zip(*(r["curve"] for r in runs),
                                                          strict=True)]
    return out


def cell(r: dict, key: str) -> str:
    if key not in r:
        return "–"
    return f"{r[key]:.3f} ± {r[key + '_sd']:.3f}"


LABELS = {
    "prototypes": "prototypes (cosine to class means)",
    "slda": "SLDA",
    "nme": "iCaRL-style NME (frozen base MLP)",
    "naive": "naive fine-tuning (MLP)",
    "joint-mlp": "joint MLP, all rows (upper bound)",
    "joint-prototypes": "joint prototypes, all rows",
    "joint-slda": "joint SLDA, all rows",
}


def results_table(rows: dict[str, dict[str, dict]], shots: list[int]) -> list[str]:
    lines = ["| method | K | all | base | novel | HM | mean over sessions | memory (rows) "
             "| seconds |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in FEW_SHOT:
        for k in shots:
            r = rows[name][str(k)]
            lines.append(f"| {LABELS[name]} | {k} | " + " | ".join(cell(r, m) for m in METRICS)
                         + f" | {r['memory']} | {r['seconds']:.1f} |")
    for name in JOINT:
        r = rows[name]["all"]
        lines.append(f"| {LABELS[name]} | all | " + " | ".join(cell(r, m) for m in METRICS)
                     + f" | {r['memory']} | {r['seconds']:.1f} |")
    return lines


def ablation_table(ablation: dict[str, dict[str, dict]], shots: list[int]) -> list[str]:
    temps = " | ".join(f"NLL T={t}" for t in TEMPERATURES)
    lines = [f"| prototypes | K | all | base | novel | HM | {temps} |",
             "|---|---:|---:|---:|---:|---:|" + "---:|" * len(TEMPERATURES)]
    for variant in ("centred", "plain"):
        for k in shots:
            runs = ablation[str(k)][variant]
            accs = " | ".join(f"{statistics.fmean(r[m] for r in runs):.3f}"
                              for m in ("all", "base", "novel", "hm"))
            nll = [statistics.fmean(r["nll"][str(t)] for r in runs) for t in TEMPERATURES]
            best = int(np.argmin(nll))
            cells = " | ".join(f"**{v:.3f}**" if i == best else f"{v:.3f}"
                               for i, v in enumerate(nll))
            lines.append(f"| {variant} | {k} | {accs} | {cells} |")
    return lines


def centring_line(ablation: dict[str, dict[str, list[dict]]]) -> str:
    """Centred minus plain prototypes, paired by seed and K."""
    pairs = [(c, p) for by_k in ablation.values()
             for c, p in zip(by_k["centred"], by_k["plain"], strict=True)]
    parts = []
    for m in ("all", "base", "novel", "hm"):
        diffs = [c[m] - p[m] for c, p in pairs]
        wins = sum(d > 0 for d in diffs)
        parts.append(f"{m} {statistics.fmean(diffs):+.3f} (higher in {wins}/{len(diffs)})")
    return "centred minus plain prototypes, paired over seeds and K: " + ", ".join(parts)


def verdict(rows: dict[str, dict[str, dict]], runs: dict[str, dict[str, list[dict]]],
            shots: list[int]) -> tuple[str, dict]:
    """The few-shot method with the best harmonic mean (mean over K), against naive
    fine-tuning and the runner-up, with the share of seed/K runs it wins."""
    def hm(name: str, k: int) -> float:
        return rows[name][str(k)]["hm"]

    def paired_wins(a: str, b: str) -> str:
        pairs = [(ra["hm"], rb["hm"]) for k in shots
                 for ra, rb in zip(runs[a][str(k)], runs[b][str(k)], strict=True)]
        return f"higher in {sum(x > y for x, y in pairs)}/{len(pairs)} seed/K runs"

    mean_hm = {n: statistics.fmean(hm(n, k) for k in shots) for n in FEW_SHOT}
    best = max(FEW_SHOT, key=lambda n: mean_hm[n])
    runner = max((n for n in FEW_SHOT if n != best), key=lambda n: mean_hm[n])
    wins = all(hm(best, k) >= max(hm(n, k) for n in FEW_SHOT) for k in shots)
    ks = "/".join(f"K={k}" for k in shots)
    parts = [f"best few-shot method: {best} (HM {'/'.join(f'{hm(best, k):.3f}' for k in shots)}"
             f" at {ks}{', best mean at every K' if wins else ''})"]
    for other in dict.fromkeys(("naive", runner)):
        if other == best:
            continue
        diffs = "/".join(f"{hm(best, k) - hm(other, k):+.3f}" for k in shots)
        ratios = "/".join(f"{hm(best, k) / hm(other, k):.2f}x" if hm(other, k) > 0 else "inf"
                          for k in shots)
        parts.append(f"beats {other} (HM {'/'.join(f'{hm(other, k):.3f}' for k in shots)}) "
                     f"by {diffs} = {ratios}, {paired_wins(best, other)}")
    joint = rows["joint-mlp"]["all"]
    gap = "/".join(f"{joint['all'] - rows[best][str(k)]['all']:.3f}" for k in shots)
    parts.append(f"its all-class accuracy is {gap} below the joint MLP's {joint['all']:.3f}")
    line = "verdict: " + "; ".join(parts)
    return line, {"best": best, "runner_up": runner, "best_at_every_k": wins,
                  "mean_hm": mean_hm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", default="5,10")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--base-events", type=int, default=None,
                        help="events in the base session (default: the first half)")
    parser.add_argument("--epochs", type=int, default=3, help="MLP epochs, base and joint")
    parser.add_argument("--shot-epochs", type=int, default=10,
                        help="naive fine-tuning epochs per few-shot session")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--exemplars", type=int, default=20,
                        help="NME exemplars per class at the final class count")
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--no-centre", action="store_true", help="prototypes without centring")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="out/bench_fscil")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shots = [int(s) for s in args.shots.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    centre = not args.no_centre
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    events, feats = load_features(SentenceEncoder())
    dim = feats.shape[1]
    runs: dict[str, dict[str, list[dict]]] = {n: {str(k): [] for k in shots} for n in FEW_SHOT}
    runs |= {n: {"all": []} for n in JOINT}
    ablation: dict[str, dict[str, list[dict]]] = {
        str(k): {"centred": [], "plain": []} for k in shots}
    proto = build_protocol(events, feats, seeds[0], args.base_events)
    base_types = [proto.types[c] for c in sorted(proto.base_classes)]
    novel_types = [t for t in proto.types if t not in base_types]
    n_sessions = len(proto.events) - proto.n_base
    capacity = args.exemplars * len(proto.types)
    print(f"base session: {proto.n_base} events, {len(proto.base_rows()[1]):,} training "
          f"tweets, {len(base_types)} types ({', '.join(base_types)}); then {n_sessions} "
          f"few-shot sessions, {len(novel_types)} novel types ({', '.join(novel_types)}); "
          f"K = {', '.join(map(str, shots))}; seeds {seeds}", flush=True)
    for seed in seeds:
        proto = build_protocol(events, feats, seed, args.base_events)
        base_trainer, base_seconds = train_base_mlp(proto, cfg, args.hidden, args.dropout, seed)
        for k in shots:
            made: dict[str, Method] = {
                "prototypes": AdapterMethod(
                    PrototypeAdapter(temperature=args.temperature, centre=centre), dim, seed),
                "slda": AdapterMethod(StreamingLDA(shrinkage=0.1), dim, seed),
                "nme": NMEMethod(fork(base_trainer), capacity, seed),
                "naive": NaiveMethod(fork(base_trainer), args.shot_epochs),
            }
            for name, method in made.items():
                torch.manual_seed(seed)
                result = run_sessions(method, proto, k, seed)
                if name in ("nme", "naive"):
                    result["seconds"] += base_seconds
                runs[name][str(k)].append(result)
            for variant, r in prototype_ablation(proto, k, seed).items():
                ablation[str(k)][variant].append(r)
            print(f"  seed {seed} K={k}: " + "  ".join(
                f"{n} HM {runs[n][str(k)][-1]['hm']:.3f}" for n in FEW_SHOT), flush=True)
        for name in JOINT:
            runs[name]["all"].append(run_joint(proto, name, cfg, args.hidden, args.dropout,
                                               seed, args.temperature, centre))
    rows = {n: {k: summarise(r) for k, r in by_k.items()} for n, by_k in runs.items()}
    table = results_table(rows, shots)
    abl = [*ablation_table(ablation, shots), "", centring_line(ablation)]
    line, verdict_info = verdict(rows, runs, shots)
    header = (f"FSCIL on CrisisLex T26: base session {proto.n_base} events / "
              f"{len(base_types)} types, {n_sessions} few-shot sessions, {len(novel_types)} "
              f"novel types; mean ± sd over seeds {seeds}; accuracy per test row; HM = "
              f"harmonic mean of base and novel accuracy; prototypes: "
              f"{'centred' if centre else 'not centred'}, temperature {args.temperature}")
    print("\n" + header + "\n\n" + "\n".join(table))
    print("\nPrototype variants (test log-loss per temperature; the temperature never "
          "changes the predicted class):\n\n" + "\n".join(abl))
    print("\n" + line)
    report = {"settings": vars(args), "base_types": base_types, "novel_types": novel_types,
              "rows": rows, "ablation": ablation, "verdict": verdict_info,
              "verdict_line": line, "seconds": time.perf_counter() - started}
    (out / "results.json").write_text(json.dumps(report, indent=2, default=float))
    (out / "results.md").write_text("\n".join([header, "", *table, "",
                                               "Prototype variants:", "", *abl, "", line])
                                    + "\n")
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'} "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
