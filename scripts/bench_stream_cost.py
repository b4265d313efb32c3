"""Cost of the default ``textcl stream`` on a real file: wall time, peak memory, bytes written.

Runs ``textcl stream <data>/crisislex/T26 --format crisislex`` (27,933 tweets over 390
daily windows: most windows hold a handful of tweets) as a separate process, twice in one
run:

* ``defaults``: the shipped pipeline (snapshots every ``snapshot_min_tweets`` = 500
  tweets in float16, window-end checkpoints at most every 10 s);
* ``one per window`` (the baseline, the former behaviour): a float32 snapshot and a
  checkpoint at every window end (``snapshot_min_tweets = 0``, ``snapshot_dtype =
  "float32"``, ``checkpoint_window_seconds = 0``).

Prints seconds, peak RSS (MiB), bytes left in OUT and bytes written (``/proc`` I/O
counters), snapshots, and the ratio baseline / defaults, with PASS/FAIL for the goals
"under 20 s, under 500 MiB, under 100 MB of output". ``--quick`` skips the baseline.

Usage: python scripts/bench_stream_cost.py [--data DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textcl.paths import shared_data_dir

BASELINE_TOML = """[word2vec]
snapshot_min_tweets = 0
snapshot_dtype = "float32"
[output]
checkpoint_window_seconds = 0
"""
GOALS = {"seconds": 20.0, "rss_mib": 500.0, "out_mb": 100.0}


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_stream(source: Path, out: Path, pipeline: Path | None) -> dict[str, float]:
    """One ``textcl stream`` process: wall time, peak RSS, bytes left in OUT and written."""
    cmd = [sys.executable, "-c", "from textcl.cli import app; app()", "stream", str(source),
           "--format", "crisislex", "--out", str(out), "--quiet"]
    if pipeline is not None:
        cmd += ["--pipeline", str(pipeline)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    io_path = Path(f"/proc/{proc.pid}/io")
    written = 0
    while True:  # sample the write counter until the process ends, then reap it
        try:
            for line in io_path.read_text().splitlines():
                if line.startswith("write_bytes:"):
                    written = int(line.split()[1])
        except OSError:
            pass
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"textcl stream failed: {' '.join(cmd)}")
    summary = json.loads((out / "summary.json").read_text())
    return {
        "seconds": seconds,
        "rss_mib": usage.ru_maxrss / 1024,
        "out_mb": _folder_bytes(out) / 1e6,
        "written_mb": written / 1e6,
        "snapshots": summary["consumers"]["word2vec"]["snapshots"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="defaults only, no baseline")
    args = ap.parse_args()
    source = (args.data or shared_data_dir()) / "crisislex" / "T26"
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        baseline_toml = tmpdir / "one_per_window.toml"
        baseline_toml.write_text(BASELINE_TOML)
        runs = [("defaults", None)] + ([] if args.quick else [("one per window", baseline_toml)])
        for name, pipeline in runs:
            rows[name] = run_stream(source, tmpdir / name.replace(" ", "_"), pipeline)
    print(f"textcl stream {source} --format crisislex (27,933 tweets, 390 daily windows)")
    print(f"{'run':<16} {'seconds':>8} {'peak MiB':>9} {'OUT MB':>8} {'written MB':>11} "
          f"{'snapshots':>10}")
    for name, r in rows.items():
        print(f"{name:<16} {r['seconds']:>8.1f} {r['rss_mib']:>9.0f} {r['out_mb']:>8.1f} "
              f"{r['written_mb']:>11.1f} {r['snapshots']:>10.0f}")
    if "one per window" in rows:
        b, d = rows["one per window"], rows["defaults"]
        print("ratio one per window / defaults: "
              + ", ".join(f"{k} {b[k] / d[k]:.1f}x" for k in
                          ("seconds", "rss_mib", "out_mb", "written_mb")))
    d = rows["defaults"]
    for key, goal in GOALS.items():
        print(f"{'PASS' if d[key] < goal else 'FAIL'}: defaults {key} {d[key]:.1f} < {goal:g}")


if __name__ == "__main__":
    main()
