"""Crash-safety measurement: SIGKILL a 200k-tweet run at >= 20 random points, resume each time.

    python scripts/bench_kill_resume.py [--tweets 200000] [--kills 20] [--seed 7]
                                        [--work out/kill-resume]

The stream is made once by ``scripts/make_sample_stream.py --tweets N`` (events, retweets,
duplicates, malformed lines). Each run is a separate process running the default
pipeline (word2vec, keywords, drift report) plus one extra consumer that appends the id of
every tweet it is given to ``OUT/ids.txt`` (an append-only output, cut back on resume like
the others). Checkpoints are taken every 2 s and at every window end, so kills land
between checkpoints all through the run.

- baseline: one uninterrupted run (its wall time and outputs);
- killed: start, SIGKILL after a random ``S/2`` to ``S + 2 + 2*(T-S)/kills`` seconds
  (``T``: the baseline's time, ``S``: a worker's start-up, measured; 2 s: the checkpoint
  interval), ``--resume``, ... until ``--kills`` kills, then let the last run finish.

Prints the kills survived, where each kill's resume restarted (records already covered by
the checkpoint), tweets lost and processed twice (by id, against the baseline's ids),
which output files are byte-identical, and the wall-time ratio killed / uninterrupted.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import itertools
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = {"checkpoint_batches": 0, "checkpoint_seconds": 2.0,
               "checkpoint_window_seconds": 0.0}
# timings and the resume story differ by design; everything else must be identical
SUMMARY_VOLATILE = ("seconds", "tweets_per_s", "resume")


class IdLog:
    """A consumer writing every tweet id it is given, one per line, to ``OUT/ids.txt``."""

    name = "ids"

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    def open(self, out_dir: Path | None) -> None:
        from textcl.outputs import open_output

        assert out_dir is not None
        self._file = open_output(out_dir / "ids.txt")  # continued on resume

    def update(self, batch) -> None:
        assert self._file is not None
        self._file.write("".join(f"{t.id}\n" for t in batch.tweets).encode())

    def end_window(self, window) -> None:
        pass

    def summary(self) -> dict:
        return {}

    def close(self, out_dir: Path | None) -> None:
        if self._file is not None:
            self._file.close()

    def state_dict(self) -> dict:
        return {}  # the file's size at each checkpoint is kept by the pipeline

    def load_state_dict(self, state: dict) -> None:
        pass


def worker(stream: Path, out: Path, resume: bool) -> None:
    """One run (``--worker``): the default pipeline plus :class:`IdLog`."""
    from textcl.config import load_config
    from textcl.paths import pipeline_path
    from textcl.pipeline import Pipeline

    config = load_config(pipeline_path("default"))
    config.output = config.output.model_copy(update=CHECKPOINTS)
    Pipeline(config).add(IdLog()).run(stream, out, resume=resume)


def start(stream: Path, out: Path, resume: bool) -> subprocess.Popen:
    args = [sys.executable, str(Path(__file__).resolve()), "--worker", str(out),
            "--stream", str(stream), *(["--resume"] if resume else [])]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def start_up_seconds(stream: Path, work: Path) -> float:
    """Seconds a worker takes to start, stream 50 lines and write its outputs (median of 3):
    the fixed cost of every run."""
    head = work / "head-50.jsonl"
    with gzip.open(stream, "rb") as handle:
        head.write_bytes(b"".join(itertools.islice(handle, 50)))
    times = []
    for attempt in range(3):
        began = time.perf_counter()
        if start(head, work / f"probe-{attempt}", resume=False).wait() != 0:
            raise SystemExit("the worker does not start")
        times.append(time.perf_counter() - began)
    return sorted(times)[1]


def covered(out: Path) -> int | None:
    """Records processed at ``out``'s checkpoint (None: no checkpoint yet)."""
    from textcl.checkpoint import CheckpointError, load_checkpoint

    try:
        return int(load_checkpoint(out / "checkpoint")["stats"]["read"])
    except (CheckpointError, FileNotFoundError, KeyError):
        return None


def compare(reference: Path, out: Path) -> tuple[list[str], list[str]]:
    """Output files (checkpoint, lock and summary aside) identical / differing."""
    same, differ = [], []
    for path in sorted(p for p in reference.rglob("*") if p.is_file()):
        rel = path.relative_to(reference)
        if rel.parts[0] in ("checkpoint", ".textcl.lock") or rel.name == "summary.json":
            continue
        other = out / rel
        ok = other.exists() and filecmp.cmp(path, other, shallow=False)
        (same if ok else differ).append(str(rel))
    extra = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    differ += sorted(x for x in extra - {str(p.relative_to(reference))
                                         for p in reference.rglob("*")}
                     if not x.startswith(("checkpoint", ".textcl")))
    return same, differ


def timeless(value: object) -> object:
    """``value`` without timings (keys with "seconds") and with paths made relative."""
    if isinstance(value, dict):
        return {k: timeless(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [timeless(v) for v in value]
    return Path(value).name if isinstance(value, str) and value.startswith("/") else value


def summary_diff(reference: Path, out: Path) -> list[str]:
    """``summary.json`` fields that differ (timings, paths and the resume story aside)."""
    a = json.loads((reference / "summary.json").read_text())
    b = json.loads((out / "summary.json").read_text())
    return sorted(k for k in a.keys() | b.keys()
                  if k not in SUMMARY_VOLATILE and timeless(a.get(k)) != timeless(b.get(k)))


def measure(args: argparse.Namespace) -> int:
    work = Path(args.work)
    stream = work / f"stream-{args.tweets}.jsonl.gz"
    if not stream.exists():
        made = work / f"gen-{args.tweets}"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_stream.py"),
                        "--tweets", str(args.tweets), "--out-dir", str(made)], check=True,
                       stdout=subprocess.DEVNULL)
        (made / "sample_stream.jsonl.gz").rename(stream)
    reference, killed = work / "uninterrupted", work / "killed"
    for folder in (reference, killed):
        subprocess.run(["rm", "-rf", str(folder)], check=True)

    began = time.perf_counter()
    proc = start(stream, reference, resume=False)
    if proc.wait() != 0:
        raise SystemExit(f"the uninterrupted run failed: {proc.stderr.read()}")
    baseline = time.perf_counter() - began
    print(f"stream: {stream} ({args.tweets:,} lines)")
    print(f"baseline (uninterrupted run): {baseline:.1f} s")

    startup = start_up_seconds(stream, work)
    print(f"worker start-up (a 50-line run): {startup:.1f} s")
    rng = random.Random(args.seed)
    kills, restarts, spent = 0, [], 0.0
    # each run streams for a uniform time whose mean is half a checkpoint interval (lost on
    # average) plus 1/kills of the stream: the kills spread over the whole run, and a few
    # land in the start-up
    cadence = CHECKPOINTS["checkpoint_seconds"]
    low = 0.5 * startup
    high = startup + cadence + 2 * max(baseline - startup, 1.0) / args.kills
    while True:
        resume = killed.exists()
        restarts.append(covered(killed) if resume else None)
        began = time.perf_counter()
        proc = start(stream, killed, resume=resume)
        if kills < args.kills:
            time.sleep(rng.uniform(low, high))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                spent += time.perf_counter() - began
                kills += 1
                continue
        code = proc.wait()
        spent += time.perf_counter() - began
        if code != 0:
            raise SystemExit(f"a resumed run failed ({code}): {proc.stderr.read()}")
        break

    ids_a = Counter((reference / "ids.txt").read_text().split())
    ids_b = Counter((killed / "ids.txt").read_text().split())
    lost, twice = sum((ids_a - ids_b).values()), sum((ids_b - ids_a).values())
    same, differ = compare(reference, killed)
    fields = summary_diff(reference, killed)
    total = json.loads((reference / "summary.json").read_text())
    starts = [r for r in restarts[1:]]
    print(f"kills: {kills}, every one resumed (runs: {len(restarts)}); the last run finished")
    print("records covered by the checkpoint at each restart: "
          + ", ".join("none" if r is None else f"{r:,}" for r in starts))
    print(f"tweets given to the models: {sum(ids_a.values()):,} "
          f"(read {total['read']:,}, rejected {total['rejected']:,})")
    print(f"tweets lost: {lost}   processed twice: {twice}   (goal 0 / 0)")
    print(f"output files byte-identical: {len(same)}/{len(same) + len(differ)}"
          + (f"; differing: {', '.join(differ)}" if differ else ""))
    print("summary.json fields differing (timings aside): "
          + (", ".join(fields) if fields else "none"))
    print(f"wall time: killed+resumed {spent:.1f} s vs uninterrupted {baseline:.1f} s "
          f"= {spent / baseline:.2f}x")
    ok = kills >= args.kills and lost == twice == 0 and not differ and not fields
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tweets", type=int, default=200_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default=str(ROOT / "out" / "kill-resume"))
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stream", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.stream, args.worker, args.resume)
        return 0
    return measure(args)


if __name__ == "__main__":
    raise SystemExit(main())
