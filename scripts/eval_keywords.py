"""Evaluate the keyword tracker against the real events of CrisisLex T26.

Streams ``<data>/crisislex/T26`` in time order, one window per UTC day that has tweets
(as the pipeline's Windower does), micro-batches of 1000 tweets, through a
:class:`KeywordTracker` with its default settings (override with ``--set key=value``).

Ground truth: each event's collection keywords (``keywords`` in
``*-event_description.json``), tokenised with the pipeline's tokenizer; tokens the
tracker never scores (stop words, ``http``, ...) are dropped, so ``"colorado fire"`` is
the phrase ``(colorado, fire)``. A phrase is *in the set* when **all** its tokens are in
the top-N set (``--match any``: when any of them is). Only *trackable* phrases are
scored: those whose tokens all occur at least ``--min-occ`` times in the event's own
tweets (a keyword absent from the sample cannot be found in it).

Per event:
* ``recall``: share of trackable phrases that are in the set in at least one window
  while the event is active (windows holding at least one of its tweets);
* ``day_recall``: mean share of trackable phrases in the set over the event's active
  windows holding at least ``--busy`` of its tweets;
* ``exit``: emitted windows after the event's last active window until none of its
  phrases is in the set (0: already out at its last window; ``-`` when the stream ends
  first); ``exit_tok`` (stricter, informational): until no token of its phrases is in
  the set (shared words such as ``earthquake`` can be held by a later event).

Background for distinctiveness: token counts of the TweetEval training texts
(``<data>/tweeteval/*/train_text.txt``); ``--no-background`` uses the decayed history.

    python scripts/eval_keywords.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from itertools import groupby
from pathlib import Path

from textcl.keywords import KeywordTracker
from textcl.keywords.background import background_counts
from textcl.keywords.tracker import default_ignore
from textcl.paths import shared_data_dir
from textcl.stream.readers import read_tweets
from textcl.stream.timeparse import to_iso
from textcl.stream.tokenize import TweetTokenizer


def event_phrases(folder: Path, tokenizer: TweetTokenizer) -> list[tuple[str, ...]]:
    ignore = default_ignore()
    desc = next(folder.glob("*-event_description.json"))
    keywords = json.loads(desc.read_text(encoding="utf-8"))["keywords"]
    phrases: dict[tuple[str, ...], None] = {}
    for keyword in keywords:
        tokens = tuple(t for t in tokenizer(keyword) if t not in ignore and len(t) >= 2)
        if tokens:
            phrases[tokens] = None
    return list(phrases)


def parse_value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--set", action="append", default=[], help="tracker option key=value")
    ap.add_argument("--match", choices=("all", "any"), default="all")
    ap.add_argument("--min-occ", type=int, default=3)
    ap.add_argument("--busy", type=int, default=20)
    ap.add_argument("--no-background", action="store_true")
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args(argv)
    data = args.data or shared_data_dir()
    tokenizer = TweetTokenizer()
    t0 = time.perf_counter()

    t26 = data / "crisislex" / "T26"
    tweets = sorted(read_tweets(t26, "crisislex"), key=lambda t: t.created_at)
    tokens = tokenizer.tokenize_many([t.text for t in tweets])
    events = sorted({t.labels["event"] for t in tweets})
    phrases = {e: event_phrases(t26 / e, tokenizer) for e in events}
    occ: dict[str, Counter[str]] = defaultdict(Counter)
    for tw, toks in zip(tweets, tokens, strict=True):
        occ[tw.labels["event"]].update(toks)

    options = dict(kv.split("=", 1) for kv in args.set)
    kwargs = {k: parse_value(v) for k, v in options.items()}
    if not args.no_background:
        kwargs["background"] = background_counts(
            sorted((data / "tweeteval").glob("*/train_text.txt")), tokenizer
        )
    tracker = KeywordTracker(**kwargs)  # type: ignore[arg-type]

    # daily windows; record the set and each event's tweets per window
    sets: list[frozenset[str]] = []
    per_window: list[Counter[str]] = []
    index = list(range(len(tweets)))
    for _day, group in groupby(index, key=lambda i: tweets[i].created_at.date()):
        ids = list(group)
        for s in range(0, len(ids), args.batch):
            tracker.update([tokens[i] for i in ids[s : s + args.batch]])
        start = tweets[ids[0]].created_at
        tracker.end_window(start, tweets[ids[-1]].created_at)
        sets.append(frozenset(x["term"] for x in tracker.current()))
        per_window.append(Counter(tweets[i].labels["event"] for i in ids))
    elapsed = time.perf_counter() - t0

    match = all if args.match == "all" else any
    rows = []
    for event in events:
        trackable = [p for p in phrases[event] if all(occ[event][t] >= args.min_occ for t in p)]
        active = [w for w, c in enumerate(per_window) if c[event]]
        busy = [w for w in active if per_window[w][event] >= args.busy]
        if not trackable:
            rows.append((event, len(phrases[event]), 0, len(active), None, None, None, None))
            continue

        def inside(w: int, trackable: list[tuple[str, ...]] = trackable) -> list[bool]:
            return [match(t in sets[w] for t in p) for p in trackable]

        found = [any(inside(w)[i] for w in active) for i in range(len(trackable))]
        recall = sum(found) / len(trackable)
        day_recall = (
            statistics.fmean(sum(inside(w)) / len(trackable) for w in busy) if busy else None
        )
        last = active[-1]
        exit_: int | None = None
        for j in range(0, len(sets) - last):
            if not any(inside(last + j)):
                exit_ = j
                break
        vocab = {t for p in trackable for t in p}
        exit_tok: int | None = None
        for j in range(0, len(sets) - last):
            if not vocab & sets[last + j]:
                exit_tok = j
                break
        rows.append(
            (
                event,
                len(phrases[event]),
                len(trackable),
                len(active),
                recall,
                day_recall,
                exit_,
                exit_tok,
            )
        )

    print(f"T26: {len(tweets)} tweets, {len(sets)} daily windows, {len(events)} events")
    print(f"tracker: {tracker.__dict__.get('size')} terms, options {options or 'defaults'}")
    print(f"background: {'decayed history' if args.no_background else 'TweetEval train'}")
    print(f"phrase in set: {args.match} of its tokens; trackable: tokens >= {args.min_occ}x")
    print(
        f"{'event':32s} {'kw':>3s} {'trk':>3s} {'win':>4s} {'recall':>7s} {'dayrec':>7s} "
        f"{'exit':>4s} {'exit_tok':>8s}"
    )
    for event, nkw, ntrk, nwin, rec, drec, ex, ext in rows:
        rec_s = f"{rec:7.2f}" if rec is not None else "      -"
        drec_s = f"{drec:7.2f}" if drec is not None else "      -"
        ex_s = str(ex) if ex is not None else "-"
        ext_s = str(ext) if ext is not None else "-"
        print(f"{event:32s} {nkw:3d} {ntrk:3d} {nwin:4d} {rec_s} {drec_s} {ex_s:>4s} {ext_s:>8s}")
    recalls = [r[4] for r in rows if r[4] is not None]
    day_recalls = [r[5] for r in rows if r[5] is not None]
    exits = [r[6] for r in rows if r[6] is not None]
    censored = sum(1 for r in rows if r[4] is not None and r[6] is None)
    mean_recall = statistics.fmean(recalls)
    median_exit = statistics.median(exits) if exits else float("inf")
    print(
        f"mean recall {mean_recall:.3f} (goal >= 0.7: {'PASS' if mean_recall >= 0.7 else 'FAIL'})"
    )
    if day_recalls:
        print(f"mean day recall {statistics.fmean(day_recalls):.3f}")
    verdict = "PASS" if median_exit <= 2 else "FAIL"
    print(
        f"median exit {median_exit} windows over {len(exits)} events, {censored} censored "
        f"(goal <= 2: {verdict})"
    )
    tok_exits = [r[7] for r in rows if r[7] is not None]
    if tok_exits:
        print(
            f"median exit_tok (until no token of its phrases is in the set) "
            f"{statistics.median(tok_exits)} over {len(tok_exits)} events"
        )
    print(f"transitions {tracker.transitions}; final set size {len(tracker)}; {elapsed:.1f}s")
    print(f"last window end {to_iso(tweets[-1].created_at)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
