"""Continual-learning benchmark: forgetting of adapters on real tweet streams.

    python scripts/bench_cl.py [--scenarios informativeness,info_type,event_type,tweeteval]
                               [--seeds 0,1,2] [--epochs 3] [--memory 0.05] [--out out/bench_cl]

Features are frozen all-MiniLM-L6-v2 sentence embeddings (``scripts/cache_features.py``
computes them once; this script embeds only what is missing) and the classifier is an MLP.
Scenarios, all over CrisisLex T26's 26 events in time order unless noted:

- ``informativeness`` (domain-incremental): informative or not, one shared head;
- ``info_type`` (domain-incremental): the 8 information types, one shared head;
- ``event_type`` (class-incremental): the event's type; a new output unit appears when the
  first event of a type arrives (``IncrementalClassifier``);
- ``tweeteval`` (task-incremental): emotion -> hate -> irony -> offensive -> stance, one
  head per task (``MultiHeadClassifier``).

Rows: naive fine-tuning, joint training (upper bound), EWC, MAS, SI, LwF, replay
(reservoir, class-balanced), A-GEM (its reference gradient every step, and every 4th
step), GEM, replay + LwF, streaming LDA, VCL (a mean-field
Bayesian MLP with a 20-row coreset per task), AGS-CL, DEN; for class-incremental use also
iCaRL (herding + nearest mean), replay + BiC, replay + weight aligning, generative replay
and nearest prototypes; for task-incremental use the parameter-isolation methods
(progressive networks, PackNet, Piggyback, CPG). Columns: ACC, BWT, forgetting (mean over
seeds), seconds, memory as a share of the training stream, parameters. Then the per-step
cost of each adapter against a plain step in the same run. Writes ``results.json``,
``results.md`` and accuracy-matrix heatmaps to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from textcl.cl import (
    AGEM,
    AGSCL,
    EWC,
    GEM,
    MAS,
    SI,
    VCL,
    BayesianMLP,
    BiC,
    ClassBalancedBuffer,
    ContinualTrainer,
    GenerativeReplay,
    HerdingBuffer,
    LwF,
    NearestMeanOfExemplars,
    PrototypeAdapter,
    Replay,
    ReservoirBuffer,
    StepBatch,
    StreamingLDA,
    TrainConfig,
    WeightAligning,
)
from textcl.cl.isolation import equal_shares, make_isolation
from textcl.datasets import TWEETEVAL_TASKS, crisislex_events, tweeteval_task
from textcl.features import SentenceEncoder, cached_features
from textcl.heads import ExpandableMLP, MLPClassifier, MultiHeadClassifier, fit_task_den
from textcl.metrics import AccuracyMatrix
from textcl.paths import shared_data_dir

SCENARIOS = ("informativeness", "info_type", "event_type", "tweeteval")


@dataclass
class Task:
    """One task of a scenario: train/test features and class indices."""

    name: str
    key: object
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int


@dataclass
class Scenario:
    name: str
    kind: str  # domain | class | task
    tasks: list[Task]
    n_classes: int

    @property
    def stream_size(self) -> int:
        return sum(len(t.y_train) for t in self.tasks)


# -- data -------------------------------------------------------------------------------
def split(n: int, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * (1 - test_share))
    return np.sort(order[:cut]), np.sort(order[cut:])


def crisislex_scenarios(encoder: SentenceEncoder, names: list[str], seed: int) -> list[Scenario]:
    events = crisislex_events(shared_data_dir() / "crisislex" / "T26")
    texts = [t for e in events for t in e.texts]
    feats = torch.from_numpy(cached_features(texts, encoder))
    out = []
    info_types = sorted({v for e in events for v in e.labels["information_type"]})
    type_order = list(dict.fromkeys(e.event_type for e in events))
    for name in names:
        tasks, offset = [], 0
        for k, event in enumerate(events):
            x = feats[offset : offset + len(event)]
            offset += len(event)
            if name == "informativeness":
                y = [int(v == "Related and informative") for v in event.labels["informativeness"]]
                n_classes = 2
            elif name == "info_type":
                y = [info_types.index(v) for v in event.labels["information_type"]]
                n_classes = len(info_types)
            else:
                y = [type_order.index(event.event_type)] * len(event)
                n_classes = type_order.index(event.event_type) + 1
            tr, te = split(len(event), 0.3, seed + k)
            yt = torch.tensor(y)
            tasks.append(Task(event.name, event.name, x[tr], yt[tr], x[te], yt[te], n_classes))
        kind = "class" if name == "event_type" else "domain"
        total = len(type_order) if name == "event_type" else tasks[0].n_classes
        out.append(Scenario(name, kind, tasks, total))
    return out


def tweeteval_scenario(encoder: SentenceEncoder, train: int, test: int) -> Scenario:
    tasks = []
    for name in TWEETEVAL_TASKS:
        data = tweeteval_task(shared_data_dir() / "tweeteval", name, train, test)
        x = torch.from_numpy(cached_features(data.train_texts + data.test_texts, encoder))
        n = len(data.train_texts)
        tasks.append(Task(name, name, x[:n], torch.from_numpy(data.train_labels), x[n:],
                          torch.from_numpy(data.test_labels), len(data.label_names)))
    return Scenario("tweeteval", "task", tasks, max(t.n_classes for t in tasks))


# -- models and methods -----------------------------------------------------------------
def make_model(scenario: Scenario, dim: int, hidden: int, dropout: float,
               bayesian: bool = False) -> nn.Module:
    if bayesian:  # VCL's mean-field body (and growing head); no dropout
        if scenario.kind == "task":
            return BayesianMLP(dim, (hidden,), head=MultiHeadClassifier(hidden))
        return BayesianMLP(dim, (hidden,), n_classes=0 if scenario.kind == "class"
                           else scenario.n_classes)
    if scenario.kind == "task":
        return MLPClassifier(dim, (hidden,), head=MultiHeadClassifier(hidden),
                             dropout=dropout)
    if scenario.kind == "class":
        return MLPClassifier(dim, (hidden,), n_classes=0, dropout=dropout)
    return MLPClassifier(dim, (hidden,), n_classes=scenario.n_classes, dropout=dropout)


Adapters = Callable[[int, int], list]


def methods(kind: str, replay_batch: int | None = None) -> dict[str, Adapters]:
    """Method name -> adapter factory (memory capacity, seed)."""
    rb = replay_batch

    def replay_cb(cap: int, seed: int) -> list:
        return [Replay(ClassBalancedBuffer(cap, seed=seed), rb)]

    table: dict[str, Adapters] = {
        "naive": lambda cap, seed: [],
        "ewc": lambda cap, seed: [EWC(lam=200.0 if kind == "domain" else 1000.0)],
        "ewc-online": lambda cap, seed: [EWC(lam=200.0, mode="online", gamma=0.9)],
        "mas": lambda cap, seed: [MAS(lam=1.0)],
        "si": lambda cap, seed: [SI(c=1.0)],
        "lwf": lambda cap, seed: [LwF(weight=1.0, temperature=2.0)],
        "replay-reservoir": lambda cap, seed: [Replay(ReservoirBuffer(cap, seed=seed), rb)],
        "replay-balanced": replay_cb,
        "agem": lambda cap, seed: [AGEM(ReservoirBuffer(cap, seed=seed))],
        "agem-refresh4": lambda cap, seed: [AGEM(ReservoirBuffer(cap, seed=seed),
                                                 refresh_every=4)],
        "gem": lambda cap, seed: [GEM(ReservoirBuffer(cap, seed=seed))],
        "replay+lwf": lambda cap, seed: [*replay_cb(cap, seed), LwF(weight=1.0)],
        "slda": lambda cap, seed: [StreamingLDA(shrinkage=0.1)],
        "vcl": lambda cap, seed: [VCL(coreset_size=20, seed=seed)],
        "ags-cl": lambda cap, seed: [AGSCL(seed=seed)],
    }
    if kind == "class":
        def bic(cap: int, seed: int) -> list:
            buffer = ClassBalancedBuffer(cap, seed=seed)
            return [Replay(buffer, rb), BiC(buffer, val_per_class=10)]

        def icarl(cap: int, seed: int) -> list:
            buffer = HerdingBuffer(cap, seed=seed)
            return [Replay(buffer, rb), LwF(weight=1.0), NearestMeanOfExemplars(buffer)]

        table["replay+bic"] = bic
        table["replay+wa"] = lambda cap, seed: [*replay_cb(cap, seed), WeightAligning()]
        table["icarl"] = icarl
        table["prototypes"] = lambda cap, seed: [PrototypeAdapter()]
        table["generative-replay"] = lambda cap, seed: [GenerativeReplay(seed=seed)]
        table["generative-replay-diag"] = lambda cap, seed: [
            GenerativeReplay(covariance="diag", seed=seed)]
    if kind == "task":  # built by make_isolation in run_method (model and adapters)
        table |= {name: lambda cap, seed: [] for name in ("pnn", "packnet", "piggyback", "cpg")}
    return table


def isolation_methods(n_tasks: int) -> dict[str, dict]:
    """Parameter-isolation rows (task-incremental only): method -> factory options. PackNet
    gives each task an equal share of the body; PNN columns are 64 units wide; CPG keeps
    half of the free weights per task (later tasks reuse old ones through their masks)."""
    return {"pnn": {"hidden": (64,)},
            "packnet": {"hidden": (256,), "keep": equal_shares(n_tasks)},
            "piggyback": {"hidden": (256,)},
            "cpg": {"hidden": (256,)}}


def evaluate_row(scores: Callable[[Task], float], matrix: AccuracyMatrix, after: int,
                 tasks: list[Task]) -> None:
    for j, task in enumerate(tasks):
        if j <= after + 1:
            score = scores(task)
            if not np.isnan(score):  # a task-incremental model has no head for task j yet
                matrix.record(after, j, score)


def task_score(trainer: ContinualTrainer, scenario: Scenario, task: Task) -> float:
    if scenario.kind == "task" and task.key not in getattr(trainer.model, "head",
                                                           trainer.model).tasks:
        return float("nan")
    if scenario.kind == "class":
        known = trainer.model.head.n_classes
        if known == 0:
            return 0.0
        scores = trainer.scores(task.x_test, None)
        return float((scores.argmax(1) == task.y_test).float().mean())
    return trainer.evaluate(task.x_test, task.y_test, task.key if scenario.kind == "task"
                            else None)


def run_method(scenario: Scenario, name: str, factory: Adapters, cfg: TrainConfig, seed: int,
               capacity: int, hidden: int, dropout: float) -> dict:
    torch.manual_seed(seed)
    dim = scenario.tasks[0].x_train.shape[1]
    isolation = isolation_methods(len(scenario.tasks)) if scenario.kind == "task" else {}
    if name in isolation:
        model, adapters = make_isolation(name, dim, **isolation[name])
    else:
        model = make_model(scenario, dim, hidden, dropout, bayesian=name == "vcl")
        adapters = factory(capacity, seed)
    trainer = ContinualTrainer(model, adapters, TrainConfig(**{**cfg.__dict__, "seed": seed}))
    matrix = AccuracyMatrix([t.name for t in scenario.tasks])
    started = time.perf_counter()
    for i, task in enumerate(scenario.tasks):
        trainer.fit_task(task.x_train, task.y_train, task.key if scenario.kind == "task" else None,
                         n_classes=task.n_classes if scenario.kind != "domain" else None)
        evaluate_row(lambda t: task_score(trainer, scenario, t), matrix, i, scenario.tasks)
    seconds = time.perf_counter() - started
    out = {"matrix": matrix, "seconds": seconds, "memory": trainer.memory_size(),
           "parameters": sum(p.numel() for p in model.parameters())}
    if hasattr(model, "parameter_report"):  # isolation: frozen backbones and mask bits too
        report = model.parameter_report().as_dict()
        out["parameters"], out["parameter_report"] = report["total_parameters"], report
    return out


def run_den(scenario: Scenario, cfg: TrainConfig, seed: int, hidden: int) -> dict:
    torch.manual_seed(seed)
    dim = scenario.tasks[0].x_train.shape[1]
    n0 = scenario.n_classes if scenario.kind == "domain" else max(scenario.tasks[0].n_classes, 1)
    model = ExpandableMLP(dim, (hidden // 2,), n_classes=n0)
    matrix = AccuracyMatrix([t.name for t in scenario.tasks])
    started = time.perf_counter()
    grown = 0

    def score(task: Task) -> float:
        model.eval()
        with torch.no_grad():
            logits = model(task.x_test)
        return float((logits.argmax(1) == task.y_test).float().mean())

    for i, task in enumerate(scenario.tasks):
        report = fit_task_den(model, task.x_train, task.y_train, tau=0.4, k=16, sigma=2.0,
                              epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                              seed=seed + i)
        grown += int(report.expanded)
        evaluate_row(score, matrix, i, scenario.tasks)
    seconds = time.perf_counter() - started
    return {"matrix": matrix, "seconds": seconds, "memory": 0, "expansions": grown,
            "parameters": sum(p.numel() for p in model.parameters()),
            "hidden": list(model.hidden_sizes)}


def run_joint(scenario: Scenario, cfg: TrainConfig, seed: int, hidden: int,
              dropout: float) -> dict:
    """Upper bound: one model trained on every task's data at once, shuffled together."""
    torch.manual_seed(seed)
    dim = scenario.tasks[0].x_train.shape[1]
    model = make_model(scenario, dim, hidden, dropout)
    trainer = ContinualTrainer(model, [], TrainConfig(**{**cfg.__dict__, "seed": seed}))
    started = time.perf_counter()
    x = torch.cat([t.x_train for t in scenario.tasks])
    y = torch.cat([t.y_train for t in scenario.tasks])
    if scenario.kind == "task":
        for t in scenario.tasks:
            model.head.add_task(t.key, t.n_classes)
        keys = [t.key for t in scenario.tasks for _ in range(len(t.y_train))]
        opt = cfg.build_optimizer(trainer.parameters(), cfg.lr)
        g = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(cfg.epochs):
            order = torch.randperm(len(y), generator=g)
            for s in range(0, len(y), cfg.batch_size):
                idx = order[s : s + cfg.batch_size]
                batch = StepBatch(x[idx], y[idx], None, [keys[int(i)] for i in idx], len(idx))
                trainer.train_step(batch, opt)
        model.eval()
    else:
        trainer.fit_task(x, y, None, n_classes=scenario.n_classes)
    scores = [task_score(trainer, scenario, t) for t in scenario.tasks]
    return {"acc": float(np.mean(scores)), "seconds": time.perf_counter() - started,
            "memory": len(y)}


# -- per-step overhead ------------------------------------------------------------------
def step_overhead(scenario: Scenario, cfg: TrainConfig, capacity: int, hidden: int,
                  steps: int, repeats: int) -> dict[str, float]:
    """Seconds per training step with each adapter, divided by a plain step's, same data.

    Each adapter first learns two tasks (so penalties and buffers are populated); then the
    same ``steps`` steps of the third task are timed with the adapter and without, back to
    back, ``repeats`` times; the median of the paired ratios is kept (robust to the load
    of a shared machine).
    """
    dim = scenario.tasks[0].x_train.shape[1]
    factories = {"plain": lambda cap, seed: [], **{
        k: v for k, v in methods(scenario.kind).items()
        if k in ("ewc", "ewc-online", "mas", "si", "lwf", "replay-reservoir", "agem",
                 "agem-refresh4", "gem")}}
    trainers = {}
    for name, factory in factories.items():
        torch.manual_seed(0)
        trainer = ContinualTrainer(make_model(scenario, dim, hidden, 0.0), factory(capacity, 0),
                                   cfg)
        for task in scenario.tasks[:2]:
            trainer.fit_task(task.x_train, task.y_train, None)
        for adapter in trainer.adapters:
            adapter.before_task(trainer, scenario.tasks[2].x_train, scenario.tasks[2].y_train,
                                None)
        trainers[name] = trainer
    task = scenario.tasks[2]
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(len(task.y_train), (cfg.batch_size,), generator=g)
               for _ in range(steps)]
    optimizers = {n: cfg.build_optimizer(t.parameters(), cfg.lr) for n, t in trainers.items()}

    def block(name: str) -> float:
        trainer = trainers[name]
        trainer.model.train()
        started = time.perf_counter()
        for idx in batches:
            trainer.train_step(StepBatch(task.x_train[idx], task.y_train[idx], None,
                                         n_new=len(idx)), optimizers[name])
        return (time.perf_counter() - started) / steps

    ratios: dict[str, list[float]] = {name: [] for name in trainers if name != "plain"}
    plain: list[float] = []
    for r in range(repeats):
        for name in ratios:  # plain and adapter timed back to back, order alternating
            if r % 2:
                t_adapter, t_plain = block(name), block("plain")
            else:
                t_plain, t_adapter = block("plain"), block(name)
            ratios[name].append(t_adapter / t_plain)
            plain.append(t_plain)
    return {name: statistics.median(v) for name, v in ratios.items()} | {
        "plain_step_ms": statistics.median(plain) * 1000}


# -- reporting --------------------------------------------------------------------------
def summarise(runs: list[dict]) -> dict:
    summaries = [r["matrix"].summary() for r in runs]
    out = {}
    for key in ("acc", "bwt", "forgetting"):
        values = [s[key] for s in summaries]
        out[key] = statistics.fmean(values)
        out[key + "_sd"] = statistics.pstdev(values) if len(values) > 1 else 0.0
    out["seconds"] = statistics.fmean(r["seconds"] for r in runs)
    out["memory"] = max(r["memory"] for r in runs)
    out["parameters"] = max(r["parameters"] for r in runs)
    if "parameter_report" in runs[0]:
        out["mask_bits"] = runs[0]["parameter_report"]["total_bits"]
    return out


def table(scenario: Scenario, rows: dict[str, dict]) -> str:
    lines = [f"### {scenario.name} ({scenario.kind}-incremental, {len(scenario.tasks)} tasks, "
             f"{scenario.stream_size:,} training tweets)", "",
             "| method | ACC | BWT | forgetting | seconds | memory (% of stream) | parameters |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        mem = 100 * r["memory"] / scenario.stream_size
        if "bwt" not in r:
            lines.append(f"| {name} | {r['acc']:.3f} | – | – | {r['seconds']:.1f} | {mem:.0f} "
                         "| – |")
            continue
        bits = f" + {r['mask_bits'] / 8 / 1024:.0f} KiB of masks" if r.get("mask_bits") else ""
        lines.append(f"| {name} | {r['acc']:.3f} ± {r['acc_sd']:.3f} | {r['bwt']:+.3f} | "
                     f"{r['forgetting']:.3f} | {r['seconds']:.1f} | {mem:.1f} | "
                     f"{r['parameters']:,}{bits} |")
    return "\n".join(lines)


def goals(scenario: Scenario, rows: dict[str, dict], budget: float) -> tuple[str, dict]:
    """Which adapters (memory within budget) forget <= half of naive and stay within 3
    points of joint; the reported one is the most accurate that meets both, else the most
    accurate overall."""
    naive, joint = rows["naive"], rows["joint"]
    candidates = {k: r for k, r in rows.items() if k not in ("naive", "joint")
                  and r["memory"] <= budget * scenario.stream_size}

    def ratio(r: dict) -> float:
        return r["forgetting"] / naive["forgetting"] if naive["forgetting"] > 0 else float("inf")

    meeting = [k for k, r in candidates.items()
               if ratio(r) <= 0.5 and joint["acc"] - r["acc"] <= 0.03]
    pool = meeting or list(candidates)
    best_name = max(pool, key=lambda k: candidates[k]["acc"])
    best = candidates[best_name]
    gap = joint["acc"] - best["acc"]
    ok = bool(meeting)
    line = (f"best adapter {best_name}: forgetting {best['forgetting']:.3f} = "
            f"{ratio(best):.2f}x naive's {naive['forgetting']:.3f} (goal <= 0.50); ACC "
            f"{best['acc']:.3f} is {100 * gap:.1f} points below joint's {joint['acc']:.3f} "
            f"(goal <= 3.0); memory {100 * best['memory'] / scenario.stream_size:.1f}% -> "
            f"{'PASS' if ok else 'FAIL'}; meeting both: {', '.join(meeting) or 'none'}")
    return line, {"best": best_name, "forgetting_ratio": ratio(best), "acc_gap": gap,
                  "pass": ok, "meeting": meeting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--methods", default="", help="comma list; empty = all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--memory", type=float, default=0.05, help="replay budget, share")
    parser.add_argument("--replay-batch", type=int, default=None,
                        help="replayed rows per step (default: as many as new rows)")
    parser.add_argument("--lr-task-decay", type=float, default=1.0)
    parser.add_argument("--tweeteval-train", type=int, default=3000)
    parser.add_argument("--tweeteval-test", type=int, default=1000)
    parser.add_argument("--overhead-steps", type=int, default=100)
    parser.add_argument("--overhead-repeats", type=int, default=15)
    parser.add_argument("--overhead-batches", default="32,128",
                        help="batch sizes at which per-step overhead is measured")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="out/bench_cl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    wanted = [s for s in args.scenarios.split(",") if s]
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      lr_task_decay=args.lr_task_decay)
    encoder = SentenceEncoder()
    scenarios = crisislex_scenarios(encoder, [s for s in wanted if s != "tweeteval"], seeds[0])
    if "tweeteval" in wanted:
        scenarios.append(tweeteval_scenario(encoder, args.tweeteval_train, args.tweeteval_test))
    report: dict = {"settings": vars(args), "scenarios": {}}
    markdown = []
    for scenario in scenarios:
        capacity = int(args.memory * scenario.stream_size)
        table_methods = methods(scenario.kind, args.replay_batch)
        if args.methods:
            keep = set(args.methods.split(","))
            table_methods = {k: v for k, v in table_methods.items() if k in keep | {"naive"}}
        print(f"\n== {scenario.name}: {len(scenario.tasks)} tasks, {scenario.stream_size:,} "
              f"training tweets, replay memory {capacity} ({100 * args.memory:.0f}%)", flush=True)
        rows: dict[str, dict] = {}
        matrices: dict[str, AccuracyMatrix] = {}
        for name, factory in table_methods.items():
            runs = [run_method(scenario, name, factory, cfg, s, capacity, args.hidden,
                               args.dropout) for s in seeds]
            rows[name] = summarise(runs)
            matrices[name] = runs[0]["matrix"]
            print(f"  {name:18s} ACC {rows[name]['acc']:.3f}  forgetting "
                  f"{rows[name]['forgetting']:.3f}  {rows[name]['seconds']:.1f}s", flush=True)
        if scenario.kind != "task":
            den_runs = [run_den(scenario, cfg, s, args.hidden) for s in seeds]
            rows["den"] = summarise(den_runs) | {"expansions": den_runs[0]["expansions"],
                                                 "hidden": den_runs[0]["hidden"]}
            matrices["den"] = den_runs[0]["matrix"]
            print(f"  {'den':18s} ACC {rows['den']['acc']:.3f}  forgetting "
                  f"{rows['den']['forgetting']:.3f}  hidden {den_runs[0]['hidden']}", flush=True)
        joint_runs = [run_joint(scenario, cfg, s, args.hidden, args.dropout) for s in seeds]
        rows["joint"] = {"acc": statistics.fmean(r["acc"] for r in joint_runs),
                         "seconds": statistics.fmean(r["seconds"] for r in joint_runs),
                         "memory": joint_runs[0]["memory"]}
        print(f"  {'joint':18s} ACC {rows['joint']['acc']:.3f}", flush=True)
        goal_line, goal = goals(scenario, rows, args.memory)
        print("  " + goal_line)
        for name in ("naive", goal["best"]):
            matrices[name].heatmap(out / f"{scenario.name}-{name}.png",
                                   title=f"{scenario.name}: {name}")
            matrices[name].save_json(out / f"{scenario.name}-{name}.json")
        report["scenarios"][scenario.name] = {"rows": rows, "goal": goal}
        markdown += [table(scenario, rows), "", goal_line, ""]
    overhead_scenario = next((s for s in scenarios if s.kind == "domain"), None)
    if overhead_scenario is not None:
        capacity = int(args.memory * overhead_scenario.stream_size)
        batches = [int(b) for b in args.overhead_batches.split(",")]
        results = {}
        for batch in batches:
            bcfg = TrainConfig(**{**cfg.__dict__, "batch_size": batch})
            results[batch] = step_overhead(overhead_scenario, bcfg, capacity, args.hidden,
                                           args.overhead_steps, args.overhead_repeats)
        header = " | ".join(f"batch {b} ({results[b]['plain_step_ms']:.2f} ms)" for b in batches)
        print(f"\n== per-step cost against a plain step ({overhead_scenario.name}; goal for "
              f"EWC/MAS/SI <= 1.10x):\n  {'adapter':18s} {header}")
        lines = [f"| adapter | {header} |", "|---|" + "---:|" * len(batches)]
        for name in results[batches[0]]:
            if name == "plain_step_ms":
                continue
            cells = []
            for b in batches:
                ratio = results[b][name]
                goal = name in ("ewc", "ewc-online", "mas", "si")
                cells.append(f"{ratio:.2f}x" + ((" PASS" if ratio <= 1.10 else " FAIL")
                                                if goal else ""))
            print(f"  {name:18s} " + "   ".join(cells))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        report["overhead"] = {str(b): r for b, r in results.items()}
        markdown += ["Per-step cost against a plain step in the same run:", "", *lines]
    (out / "results.json").write_text(json.dumps(report, indent=2, default=float))
    (out / "results.md").write_text("\n".join(markdown) + "\n")
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'}")


if __name__ == "__main__":
    main()
