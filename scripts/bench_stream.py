"""Load test: a generated 1,000,000-tweet stream through the default pipeline.

    python scripts/bench_stream.py [--tweets 1000000] [--stream out/load/stream.jsonl.gz]

The stream is made once by ``scripts/make_sample_stream.py --tweets N`` (same generator as
the embedded sample: events, shifted words, retweets, malformed lines). Two runs of
``textcl stream``, each in its own process with its resident memory sampled every 0.25 s:

- baseline: reader + tokenizer + windows alone (word2vec, keywords and drift off);
- default: ``pipelines/default.toml`` (word2vec, keywords, drift report).

Prints tweets/s of both, their ratio (what the models cost), peak RSS, and RSS at 25%,
50%, 75% and 100% of the run (flat memory: the late samples stay near the early ones).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_stream(stream: Path, pipeline: Path, out: Path) -> dict:
    """Run ``textcl stream`` in a subprocess; sample its memory until it exits."""
    cmd = [sys.executable, "-c", "from textcl.cli import app; app()", "stream", str(stream),
           "-p", str(pipeline), "-o", str(out), "-q"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        value = rss_mib(proc.pid)
        if value is not None:
            samples.append((time.perf_counter() - started, value))
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"textcl stream failed ({proc.returncode}): {proc.stderr.read()}")
    summary = json.loads((out / "summary.json").read_text())
    values = [v for _, v in samples] or [float("nan")]

    def at(share: float) -> float:
        return values[min(int(share * len(values)), len(values) - 1)]

    return {"tweets": summary["tweets"], "read": summary["read"],
            "rejected": summary["rejected"], "seconds": seconds,
            "pipeline_seconds": summary["seconds"],
            "tweets_per_s": summary["read"] / summary["seconds"],
            "peak_rss_mib": max(values), "rss_quartiles_mib": [at(q) for q in (0.25, 0.5, 0.75)]
            + [values[-1]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=1_000_000)
    parser.add_argument("--stream", type=Path, default=ROOT / "out" / "load" / "stream.jsonl.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "load")
    args = parser.parse_args()
    if not args.stream.exists():
        print(f"generating {args.tweets:,} tweets into {args.stream.parent} ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_stream.py"),
                        "--tweets", str(args.tweets), "--out-dir", str(args.stream.parent)],
                       check=True)
        (args.stream.parent / "sample_stream.jsonl.gz").rename(args.stream)
    baseline_cfg = args.out / "baseline.toml"
    baseline_cfg.write_text("[word2vec]\nenabled = false\n[keywords]\nenabled = false\n"
                            "[drift]\nenabled = false\n")
    results = {}
    for name, cfg in (("baseline", baseline_cfg), ("default", ROOT / "pipelines" / "default.toml")):
        print(f"{name}: textcl stream {args.stream.name} -p {cfg.name} ...", flush=True)
        results[name] = run_stream(args.stream, cfg, args.out / name)
        r = results[name]
        print(f"  {r['read']:,} read, {r['tweets']:,} tweets, {r['rejected']:,} rejected in "
              f"{r['pipeline_seconds']:.1f} s: {r['tweets_per_s']:,.0f} tweets/s; peak RSS "
              f"{r['peak_rss_mib']:.0f} MiB; RSS at 25/50/75/100%: "
              + ", ".join(f"{v:.0f}" for v in r["rss_quartiles_mib"]), flush=True)
    ratio = results["default"]["tweets_per_s"] / results["baseline"]["tweets_per_s"]
    q = results["default"]["rss_quartiles_mib"]
    growth = q[-1] / q[0]
    print(f"\ndefault pipeline runs at {ratio:.2f}x the reader+tokenizer baseline; its RSS at "
          f"the end is {growth:.2f}x its RSS at 25% of the run "
          f"({'flat' if growth <= 1.15 else 'GROWING'})")
    results["ratio"] = ratio
    results["rss_growth_25_to_100"] = growth
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
