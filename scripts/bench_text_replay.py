"""Text generative replay (LAMOL-style) against stored and feature-space replay.

    python scripts/bench_text_replay.py [--seeds 0] [--per-class 20] [--lm-replay 60]
                                        [--lm-epochs 3] [--out out/bench_text_replay]

Scenario: CrisisLex T26's ``event_type`` of ``scripts/bench_cl.py`` (26 events in time
order, class-incremental: a new output unit when an event type first appears; frozen
all-MiniLM-L6-v2 features, MLP classifier). Rows: naive fine-tuning; stored replay
(reservoir, 5% of the stream); feature-space generative replay (diagonal Gaussians per
task and class); text generative replay (a small GPT-2 learns label-prefixed tweets with
its own replay; its pseudo-tweets are embedded and replayed by the classifier); joint
training. Pseudo-tweets are embedded with the same encoder, directly (they are new texts
each task, so the feature cache is neither read nor grown for them). Prints a markdown
table, a verdict and sample pseudo-tweets per class; writes ``results.md`` and
``results.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cl

from textcl.cl import ContinualTrainer, GenerativeReplay, Replay, ReservoirBuffer, TrainConfig
from textcl.cl.text_replay import LabelPrefixLM, TextGenerativeReplay
from textcl.datasets import crisislex_events
from textcl.features import SentenceEncoder
from textcl.metrics import AccuracyMatrix
from textcl.paths import shared_data_dir


def task_texts(seed: int) -> list[list[str]]:
    """Training texts of every event, split exactly as ``bench_cl.crisislex_scenarios``."""
    events = crisislex_events(shared_data_dir() / "crisislex" / "T26")
    out = []
    for k, event in enumerate(events):
        tr, _ = bench_cl.split(len(event), 0.3, seed + k)
        out.append([event.texts[i] for i in tr])
    return out


def run_text_replay(scenario: bench_cl.Scenario, texts: list[list[str]], cfg: TrainConfig,
                    seed: int, args: argparse.Namespace, encoder: SentenceEncoder) -> dict:
    """One seed of text generative replay; also returns the generator (for samples)."""
    torch.manual_seed(seed)
    dim = scenario.tasks[0].x_train.shape[1]
    model = bench_cl.make_model(scenario, dim, args.hidden, args.dropout)
    generator = LabelPrefixLM(vocab_size=args.lm_vocab, n_embd=args.lm_embd, n_layer=2,
                              n_head=4, epochs=args.lm_epochs, replay_per_class=args.lm_replay,
                              max_new_words=args.lm_new_words, seed=seed)
    embed_seconds = 0.0

    def featurize(batch: list[str]) -> torch.Tensor:
        nonlocal embed_seconds
        started = time.perf_counter()
        out = torch.from_numpy(encoder.encode(batch))
        embed_seconds += time.perf_counter() - started
        return out

    adapter = TextGenerativeReplay(generator, featurize, per_class=args.per_class, seed=seed)
    trainer = ContinualTrainer(model, [adapter], TrainConfig(**{**cfg.__dict__, "seed": seed}))
    matrix = AccuracyMatrix([t.name for t in scenario.tasks])
    started = time.perf_counter()
    for i, task in enumerate(scenario.tasks):
        adapter.set_texts(texts[i])
        trainer.fit_task(task.x_train, task.y_train, None, n_classes=task.n_classes)
        bench_cl.evaluate_row(lambda t: bench_cl.task_score(trainer, scenario, t), matrix, i,
                              scenario.tasks)
    return {"matrix": matrix, "seconds": time.perf_counter() - started, "memory": 0,
            "parameters": sum(p.numel() for p in model.parameters()),
            "lm_parameters": generator.num_parameters(), "lm_bytes": generator.nbytes(),
            "vocab_words": len(generator.vocab.words), "embed_seconds": embed_seconds,
            "generator": generator}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--memory", type=float, default=0.05, help="stored replay, share")
    parser.add_argument("--per-class", type=int, default=20,
                        help="pseudo-tweets per class the classifier replays each task")
    parser.add_argument("--lm-replay", type=int, default=60,
                        help="pseudo-tweets per class the language model replays each task")
    parser.add_argument("--lm-epochs", type=int, default=3)
    parser.add_argument("--lm-embd", type=int, default=64)
    parser.add_argument("--lm-vocab", type=int, default=5000)
    parser.add_argument("--lm-new-words", type=int, default=400,
                        help="most words a task adds to the vocabulary")
    parser.add_argument("--out", default="out/bench_text_replay")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    encoder = SentenceEncoder()
    scenario = bench_cl.crisislex_scenarios(encoder, ["event_type"], seeds[0])[0]
    texts = task_texts(seeds[0])
    if [len(t) for t in texts] != [len(t.y_train) for t in scenario.tasks]:
        raise RuntimeError("texts and features of the tasks do not line up")
    capacity = int(args.memory * scenario.stream_size)
    dim = scenario.tasks[0].x_train.shape[1]
    print(f"== {scenario.name}: {len(scenario.tasks)} tasks, {scenario.stream_size:,} training "
          f"tweets, {scenario.n_classes} classes; stored replay {capacity} rows "
          f"({100 * args.memory:.0f}%); seeds {seeds}", flush=True)

    factories = {
        "naive": lambda cap, seed: [],
        "replay-reservoir": lambda cap, seed: [Replay(ReservoirBuffer(cap, seed=seed))],
        "generative-replay-diag": lambda cap, seed: [GenerativeReplay(covariance="diag",
                                                                      seed=seed)],
    }
    rows: dict[str, dict] = {}
    memory: dict[str, str] = {}
    for name, factory in factories.items():
        runs = [bench_cl.run_method(scenario, name, factory, cfg, s, capacity, args.hidden,
                                    args.dropout) for s in seeds]
        rows[name] = bench_cl.summarise(runs)
        print(f"  {name:24s} ACC {rows[name]['acc']:.3f}  forgetting "
              f"{rows[name]['forgetting']:.3f}  {rows[name]['seconds']:.1f}s", flush=True)
    text_bytes = sum(len(t.encode("utf-8")) for ts in texts for t in ts) / scenario.stream_size
    feat_mb = capacity * dim * 4 / 1e6
    memory["naive"] = "0"
    memory["replay-reservoir"] = (f"{capacity} stored tweets = {feat_mb:.2f} MB as float32 "
                                  f"features ({capacity * text_bytes / 1e3:.0f} kB as text)")
    gr_floats = rows["generative-replay-diag"]["memory"] * dim
    memory["generative-replay-diag"] = (f"{gr_floats:,} floats (mean + variance per task and "
                                        f"class) = {gr_floats * 4 / 1e6:.2f} MB")

    text_runs = [run_text_replay(scenario, texts, cfg, s, args, encoder) for s in seeds]
    name = "text-generative-replay"
    rows[name] = bench_cl.summarise(text_runs)
    lm = text_runs[0]
    rows[name] |= {"lm_parameters": lm["lm_parameters"], "lm_bytes": lm["lm_bytes"],
                   "vocab_words": lm["vocab_words"],
                   "embed_seconds": statistics.fmean(r["embed_seconds"] for r in text_runs)}
    memory[name] = (f"LM {lm['lm_parameters']:,} parameters + {lm['vocab_words']:,} words = "
                    f"{lm['lm_bytes'] / 1e6:.2f} MB ({lm['lm_bytes'] / (feat_mb * 1e6):.1f}x the "
                    f"stored replay's features); no stored tweet")
    print(f"  {name:24s} ACC {rows[name]['acc']:.3f}  forgetting "
          f"{rows[name]['forgetting']:.3f}  {rows[name]['seconds']:.1f}s (embedding pseudo-"
          f"tweets {rows[name]['embed_seconds']:.1f}s)", flush=True)

    joint_runs = [bench_cl.run_joint(scenario, cfg, s, args.hidden, args.dropout) for s in seeds]
    rows["joint"] = {"acc": statistics.fmean(r["acc"] for r in joint_runs),
                     "seconds": statistics.fmean(r["seconds"] for r in joint_runs)}
    memory["joint"] = f"the whole stream ({scenario.stream_size:,} tweets)"

    lines = [f"### {scenario.name} (class-incremental, {len(scenario.tasks)} tasks, "
             f"{scenario.stream_size:,} training tweets, seeds {','.join(map(str, seeds))})", "",
             "| method | ACC | BWT | forgetting | seconds | memory |",
             "|---|---:|---:|---:|---:|---|"]
    for key, r in rows.items():
        if "bwt" not in r:
            lines.append(f"| {key} | {r['acc']:.3f} | – | – | {r['seconds']:.1f} | "
                         f"{memory[key]} |")
            continue
        lines.append(f"| {key} | {r['acc']:.3f} ± {r['acc_sd']:.3f} | {r['bwt']:+.3f} | "
                     f"{r['forgetting']:.3f} | {r['seconds']:.1f} | {memory[key]} |")
    mine = rows[name]
    beats = [k for k in ("naive", "replay-reservoir", "generative-replay-diag")
             if mine["acc"] > rows[k]["acc"]]
    loses = [k for k in ("naive", "replay-reservoir", "generative-replay-diag") if k not in beats]
    verdict = (f"verdict: text generative replay (ACC {mine['acc']:.3f}, forgetting "
               f"{mine['forgetting']:.3f}) beats on ACC: {', '.join(beats) or 'none'}; "
               f"does not beat: {', '.join(loses) or 'none'}; joint {rows['joint']['acc']:.3f} "
               f"is {100 * (rows['joint']['acc'] - mine['acc']):.1f} points above it")
    print("\n" + "\n".join(lines) + "\n\n" + verdict)

    generator: LabelPrefixLM = lm["generator"]
    type_order = list(dict.fromkeys(crisislex_event_types()))
    sample_lines = ["", "Pseudo-tweets after the last task (seed "
                    f"{seeds[0]}, 3 per class, temperature {generator.temperature}, top-k "
                    f"{generator.top_k}):"]
    for c in generator.labels:
        for text in generator.generate(3, c, seed=1000 + c):
            sample_lines.append(f"- [{type_order[c]}] {text}")
    print("\n".join(sample_lines))
    (out / "results.md").write_text("\n".join([*lines, "", verdict, *sample_lines]) + "\n")
    report = {"settings": vars(args), "rows": rows, "memory": memory, "verdict": verdict}
    (out / "results.json").write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'}")


def crisislex_event_types() -> list[str]:
    """Event types of the T26 events in time order (the class order of ``event_type``)."""
    return [e.event_type for e in crisislex_events(shared_data_dir() / "crisislex" / "T26")]


if __name__ == "__main__":
    main()
