"""Does the keyword set follow real events? CrisisLex T26 (and T6) through `textcl stream`.

The stream runs through textcl's pipeline with the **default** pipeline file
(``pipelines/default.toml``; word2vec, drift and checkpoints switched off, which the
keyword set does not depend on — ``--full`` keeps them on), daily windows, and the set
at each day's end is rebuilt from ``OUT/keywords.jsonl``.

Ground truth: each event's **single-word collection keywords** (``keywords`` in
``*-event_description.json`` without a space, tokenised with the pipeline's tokenizer to
one token: mostly hashtags) that occur at least ``--min-occ`` (5) times in the event's
tweets. An event is *active* on a UTC day with at least ``--active`` (5) of its tweets.

* ``coverage``: share of the event's keywords in the set at the end of each active day,
  averaged over its active days, then over events;
* ``churn``: terms new to the set per day, as a share of N (mean over days);
* ``exit``: days (windows) after the event's last active day until none of its own
  keywords (those of no other event active that day) is in the set; the median over
  events (events whose keywords never leave before the stream ends are left out and
  counted as censored).

Baselines on the same windows and tokens, in the same run (stop words and special
tokens removed, as for the tracker): daily top-N by frequency; daily top-N by Monroe et
al.'s z-scored log-odds with an informative Dirichlet prior against the decayed past
(half-life 7 days); a MABED-style anomaly (observed minus expected count, expected from
the term's share of all earlier tokens) top-N. Also textcl with the stream's own history
as the reference (``background = "history"``).

T6 is a held-out check: six events, half of each file ordinary off-topic chatter; the
four events also in T26 are scored with their T26 keywords, active days counted on
on-topic tweets.

    python scripts/eval_keywords.py [--data DIR] [--full] [--per-event]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textcl.config import config_from_dict, load_config
from textcl.input.readers import read_tweets
from textcl.keywords.tracker import default_ignore
from textcl.paths import PROJECT_ROOT, shared_data_dir
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer

GOAL_COVERAGE, GOAL_CHURN, GOAL_EXIT = 0.80, 0.20, 2.0


@dataclass
class Truth:
    """Per event: keywords, active windows; per window: tokens of all its tweets."""

    keywords: dict[str, list[str]]
    active: dict[str, list[int]]
    windows: list[list[list[str]]]
    starts: list[str]


@dataclass
class Result:
    name: str
    coverage: float
    churn: float
    exit: float
    censored: int
    per_event: list[tuple[str, float, int | None]]
    seconds: float


def event_keywords(t26: Path, event: str, tokenizer: TweetTokenizer) -> list[str]:
    """The event's one-token collection keywords (no space in the keyword)."""
    desc = next((t26 / event).glob("*-event_description.json"))
    out: dict[str, None] = {}
    for keyword in json.loads(desc.read_text(encoding="utf-8"))["keywords"]:
        if " " in keyword.strip():
            continue
        tokens = tokenizer(keyword)
        if len(tokens) == 1:
            out[tokens[0]] = None
    return list(out)


def build_truth(
    source: Path,
    t26: Path,
    tokenizer: TweetTokenizer,
    min_occ: int,
    min_active: int,
    event_of: Callable[[dict], str | None],
) -> Truth:
    """Daily windows (UTC days with tweets, as the pipeline's ``1d`` windows)."""
    tweets = sorted(read_tweets(source, "crisislex"), key=lambda t: (t.created_at, t.id))
    day_index: dict[object, int] = {}
    windows: list[list[list[str]]] = []
    starts: list[str] = []
    per_day_event: list[Counter[str]] = []
    occurrences: dict[str, Counter[str]] = defaultdict(Counter)
    tokens = tokenizer.tokenize_many([t.text for t in tweets])
    for tweet, toks in zip(tweets, tokens, strict=True):
        day = tweet.created_at.date()
        if day not in day_index:
            day_index[day] = len(windows)
            windows.append([])
            starts.append(day.isoformat())
            per_day_event.append(Counter())
        w = day_index[day]
        windows[w].append(toks)
        event = event_of(tweet.labels)
        if event is not None:
            per_day_event[w][event] += 1
            occurrences[event].update(toks)
    events = sorted(occurrences)
    keywords: dict[str, list[str]] = {}
    active: dict[str, list[int]] = {}
    for event in events:
        folder = _t26_name(t26, event)
        if folder is None:
            continue
        found = event_keywords(t26, folder, tokenizer)
        kws = [k for k in found if occurrences[event][k] >= min_occ]
        act = [w for w, c in enumerate(per_day_event) if c[event] >= min_active]
        if kws and act:
            keywords[event], active[event] = kws, act
    return Truth(keywords, active, windows, starts)


def _t26_name(t26: Path, event: str) -> str | None:
    for folder in t26.iterdir():
        if folder.name.lower() == event.lower():
            return folder.name
    return None


def score_sets(name: str, sets: Sequence[set[str]], truth: Truth, n: int, seconds: float) -> Result:
    """Coverage over active days, churn per day, median exit (see the module docstring)."""
    rows = []
    exits = []
    censored = 0
    for event, kws in truth.keywords.items():
        act = truth.active[event]
        cover = statistics.fmean(sum(k in sets[w] for k in kws) / len(kws) for w in act)
        last = act[-1]
        gone = None
        for j in range(len(sets) - last):
            w = last + j
            others = {
                k for e, ks in truth.keywords.items() if e != event and w in truth.active[e]
                for k in ks
            }
            own = [k for k in kws if k not in others]
            if not any(k in sets[w] for k in own):
                gone = j
                break
        if gone is None:
            censored += 1
        else:
            exits.append(gone)
        rows.append((event, cover, gone))
    churn = statistics.fmean(len(sets[w] - sets[w - 1]) / n for w in range(1, len(sets)))
    coverage = statistics.fmean(r[1] for r in rows)
    median_exit = statistics.median(exits) if exits else math.inf
    return Result(name, coverage, churn, median_exit, censored, rows, seconds)


# -- textcl through its own pipeline ---------------------------------------------------


def textcl_sets(
    source: Path, overrides: dict, full: bool, n_windows: int
) -> tuple[list[set[str]], int, float, list[int]]:
    """Run the default pipeline (plus ``overrides``) and rebuild the set per window;
    also the windows (indices) with an event alarm."""
    default = PROJECT_ROOT / "pipelines" / "default.toml"
    config = load_config(default)
    data = config.model_dump()
    if not full:
        data["word2vec"]["enabled"] = False
        data["drift"]["enabled"] = False
        data["output"]["checkpoint"] = False
    for section, values in overrides.items():
        data[section].update(values)
    config = config_from_dict(data, f"{default} + {overrides}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        Pipeline(config).run(str(source), out)
        seconds = time.perf_counter() - started
        windows = [json.loads(x) for x in (out / "windows.jsonl").read_text().splitlines()]
        transitions = [json.loads(x) for x in (out / "keywords.jsonl").read_text().splitlines()]
        alarms = [json.loads(x) for x in (out / "alarms.jsonl").read_text().splitlines()]
    if len(windows) != n_windows:
        raise SystemExit(f"the pipeline made {len(windows)} windows, the truth {n_windows}")
    by_end: dict[str, list[dict]] = defaultdict(list)
    for t in transitions:
        by_end[t["time"]].append(t)
    current: set[str] = set()
    sets = []
    for window in windows:
        for t in by_end.get(window["end"], []):
            if t["action"] == "in":
                current.add(t["term"])
            else:
                current.discard(t["term"])
        sets.append(set(current))
    window_of = {w["end"]: i for i, w in enumerate(windows)}
    alarmed = sorted({window_of[a["time"]] for a in alarms if a["statistic"] == "event"})
    return sets, config.keywords.size, seconds, alarmed


# -- event alarms ----------------------------------------------------------------------


@dataclass
class AlarmResult:
    name: str
    alarm_days: int
    detected: int
    events: int
    false_days: int


def score_alarms(name: str, alarmed: Sequence[int], truth: Truth) -> AlarmResult:
    """An event is detected when an alarm falls on its first active day or the next;
    an alarm day near no event's start is a false alarm."""
    starts = {event: act[0] for event, act in truth.active.items()}
    hits = set(alarmed)
    detected = sum(1 for w in starts.values() if w in hits or w + 1 in hits)
    near = {w + d for w in starts.values() for d in (0, 1)}
    false_days = sum(1 for w in hits if w not in near)
    return AlarmResult(name, len(hits), detected, len(starts), false_days)


def volume_spikes(truth: Truth, factor: float = 3.0, past: int = 7, least: int = 10) -> list[int]:
    """Baseline: a day with at least ``factor`` times the median tweet count of the
    ``past`` earlier days (and ``least`` tweets); the first day alarms when it has them."""
    counts = [len(tweets) for tweets in truth.windows]
    out = []
    for w, c in enumerate(counts):
        before = counts[max(0, w - past):w]
        ref = statistics.median(before) if before else 0.0
        if c >= least and c >= factor * ref:
            out.append(w)
    return out


def report_alarms(results: list[AlarmResult]) -> None:
    print(f"\n{'event alarms':44s} {'alarm days':>10s} {'detected':>9s} {'false days':>10s}")
    for r in results:
        print(f"{r.name:44s} {r.alarm_days:10d} {r.detected:4d}/{r.events:<4d} {r.false_days:10d}")


# -- baselines -------------------------------------------------------------------------


def _scorable(counts: Counter[str], ignore: frozenset[str]) -> dict[str, int]:
    return {t: c for t, c in counts.items() if t not in ignore and len(t) >= 2}


def _top(scores: dict[str, float] | dict[str, int], n: int) -> set[str]:
    """The ``n`` best; ties in first-seen order, as ``Counter.most_common``."""
    return {t for t, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:n]}


def top_frequency(truth: Truth, n: int, ignore: frozenset[str]) -> list[set[str]]:
    sets = []
    for tweets in truth.windows:
        counts = _scorable(Counter(t for toks in tweets for t in toks), ignore)
        sets.append(_top(counts, n))
    return sets


def top_log_odds_past(
    truth: Truth, n: int, ignore: frozenset[str], half_life: float = 7.0, prior: float = 1000.0
) -> list[set[str]]:
    """Monroe et al. z-scored log-odds, window vs the decayed past, informative prior."""
    decay = 0.5 ** (1.0 / half_life)
    past: dict[str, float] = {}
    past_total = 0.0
    sets = []
    for tweets in truth.windows:
        counts = Counter(t for toks in tweets for t in toks)
        total = float(counts.total())
        scores = {}
        for term, c in _scorable(counts, ignore).items():
            ref = past.get(term, 0.0)
            alpha = prior * (ref + 0.5) / (past_total + 1.0) + 0.01
            a, b = c + alpha, ref + alpha
            delta = math.log(a / (total + prior - a)) - math.log(b / (past_total + prior - b))
            scores[term] = delta / math.sqrt(1.0 / a + 1.0 / b)
        sets.append(_top(scores, n))
        past = {t: v * decay for t, v in past.items() if v * decay > 0.01}
        for term, c in counts.items():
            past[term] = past.get(term, 0.0) + c
        past_total = past_total * decay + total
    return sets


def top_anomaly(truth: Truth, n: int, ignore: frozenset[str]) -> list[set[str]]:
    """MABED-style anomaly: observed minus expected count, expected from all earlier
    tokens (the term's share of them times the window's size); positive anomalies only."""
    seen: Counter[str] = Counter()
    seen_total = 0
    sets = []
    for tweets in truth.windows:
        counts = Counter(t for toks in tweets for t in toks)
        total = counts.total()
        scores = {}
        for term, c in _scorable(counts, ignore).items():
            expected = total * seen[term] / seen_total if seen_total else 0.0
            if c > expected:
                scores[term] = c - expected
        sets.append(_top(scores, n))
        seen.update(counts)
        seen_total += total
    return sets


# -- report ----------------------------------------------------------------------------


def report(title: str, results: list[Result], per_event: bool) -> bool:
    print(f"\n== {title}")
    header = (
        f"{'method':44s} {'coverage':>8s} {'churn/day':>9s} {'median exit':>11s} "
        f"{'censored':>8s} {'seconds':>7s}"
    )
    print(header)
    for r in results:
        print(
            f"{r.name:44s} {r.coverage:8.3f} {r.churn:9.3f} {r.exit:11.1f} {r.censored:8d} "
            f"{r.seconds:7.1f}"
        )
    ours, baselines = results[0], results[1:]
    best = max(baselines, key=lambda r: r.coverage)
    checks = [
        (f"coverage >= {GOAL_COVERAGE}", ours.coverage >= GOAL_COVERAGE),
        (f"churn <= {GOAL_CHURN} of the set per day", ours.churn <= GOAL_CHURN),
        (f"median exit <= {GOAL_EXIT:g} days", ours.exit <= GOAL_EXIT),
        (
            f"coverage beats every baseline (best: {best.name}, {best.coverage:.3f}; "
            f"ratio {ours.coverage / best.coverage:.2f}x)",
            all(ours.coverage > r.coverage for r in baselines),
        ),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {ours.name}: {text}")
    if per_event:
        print(f"\n{'event':34s} {'coverage':>8s} {'exit':>5s}")
        for event, cover, gone in ours.per_event:
            print(f"{event:34s} {cover:8.2f} {'-' if gone is None else gone:>5}")
    return all(ok for _, ok in checks)


def evaluate(
    title: str,
    source: Path,
    t26: Path,
    args: argparse.Namespace,
    event_of: Callable[[dict], str | None],
) -> bool:
    tokenizer = TweetTokenizer(load_config(PROJECT_ROOT / "pipelines" / "default.toml")
                               .tokenizer_options())
    truth = build_truth(source, t26, tokenizer, args.min_occ, args.active, event_of)
    ignore = default_ignore()
    overrides = {"keywords": dict(_parse(kv) for kv in args.set)} if args.set else {}
    sets, n, seconds, alarmed = textcl_sets(source, overrides, args.full, len(truth.windows))
    name = "textcl stream, default pipeline" + (f" {' '.join(args.set)}" if args.set else "")
    results = [score_sets(name, sets, truth, n, seconds)]
    hist, _, hist_s, _ = textcl_sets(
        source, {"keywords": {"background": "history"}}, False, len(truth.windows)
    )
    for name, run in (
        (f"daily top-{n} by frequency", lambda: top_frequency(truth, n, ignore)),
        (f"daily top-{n} by log-odds vs decayed past", lambda: top_log_odds_past(truth, n, ignore)),
        (f"daily top-{n} by MABED-style anomaly", lambda: top_anomaly(truth, n, ignore)),
    ):
        started = time.perf_counter()
        baseline = run()
        results.append(score_sets(name, baseline, truth, n, time.perf_counter() - started))
    results.append(score_sets("textcl, background = history (no wordfreq)", hist, truth, n, hist_s))
    events = len(truth.keywords)
    days = len(truth.windows)
    detail = f"{title}: {events} events with keywords, {days} daily windows, N = {n}"
    ok = report(detail, results, args.per_event)
    report_alarms([
        score_alarms("textcl event alarms (an event group reaches 3 terms)", alarmed, truth),
        score_alarms("daily volume >= 3x the median of 7 days before", volume_spikes(truth), truth),
    ])
    return ok


def _parse(pair: str) -> tuple[str, object]:
    key, _, value = pair.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--min-occ", type=int, default=5, help="least occurrences of a keyword")
    ap.add_argument("--active", type=int, default=5, help="least tweets of an active day")
    ap.add_argument("--full", action="store_true", help="keep word2vec, drift, checkpoints on")
    ap.add_argument("--per-event", action="store_true", help="print each event's figures")
    ap.add_argument("--no-t6", action="store_true", help="skip the held-out T6 check")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a [keywords] key of the default pipeline, e.g. --set carry=2",
    )
    args = ap.parse_args(argv)
    data = args.data or shared_data_dir()
    t26 = data / "crisislex" / "T26"
    ok = evaluate("CrisisLex T26", t26, t26, args, lambda labels: labels.get("event"))
    if not args.no_t6:
        evaluate(
            "CrisisLex T6 (held out; half of it off-topic chatter)",
            data / "crisislex" / "T6",
            t26,
            args,
            lambda labels: labels["event"] if labels.get("topic") == "on-topic" else None,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
