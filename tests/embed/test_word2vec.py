"""Tests for textcl.embed.word2vec.ContinualWord2Vec (small synthetic corpora, 1 worker)."""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import pytest

from textcl.embed.planted import topic_stream
from textcl.embed.vocab import DecayedVocab
from textcl.embed.word2vec import ContinualWord2Vec, load_keyed_vectors, save_keyed_vectors

N_CTX = 10
N_TOPICS = 12


def ctx(g: int) -> list[str]:
    return [f"g{g}c{c}" for c in range(N_CTX)]


@cache
def shift_periods(n: int = 20_000) -> tuple[list[list[str]], list[list[str]]]:
    """Period 1: 12 topics t0..t11 and ``shift`` in topic 0's context. Period 2: t0..t5
    go on, t6..t11 vanish and their context words are reused by new topics, ``shift``
    moves to topic 1's context."""
    p1 = [(f"t{g}", ctx(g)) for g in range(N_TOPICS)] + [("shift", ctx(0))]
    p2 = [(f"t{g}", ctx(g)) for g in range(N_TOPICS // 2)]
    p2 += [(f"n{g}", ctx(g)[:5] + ctx(N_TOPICS + g)[:5]) for g in range(N_TOPICS // 2, N_TOPICS)]
    p2 += [("shift", ctx(1))]
    return topic_stream(n, 1, p1), topic_stream(n, 2, p2)


def feed(model: ContinualWord2Vec, tweets: list[list[str]], bs: int = 1000) -> None:
    for i in range(0, len(tweets), bs):
        model.update(tweets[i : i + bs])


def top(kv, word: str, k: int = 10) -> set[str]:
    return {w for w, _ in kv.most_similar(word, topn=k)}


def small(**kw) -> ContinualWord2Vec:
    cfg = dict(vector_size=32, min_count=3, seed=1, workers=1)
    cfg.update(kw)
    return ContinualWord2Vec(**cfg)


# ----------------------------------------------------------------------------- vocabulary
def test_min_count_admission_across_batches() -> None:
    m = small(half_life=None)
    filler = [["a", "b", "c", "d"]] * 3
    m.update([*filler, ["rare", "x"], ["rare"]])
    assert "a" in m.wv.key_to_index
    assert "rare" not in m.wv.key_to_index and "rare" not in m
    assert "x" not in m.wv.key_to_index
    assert m.count("rare") == pytest.approx(2.0)
    with pytest.raises(KeyError):
        m.wv["rare"]
    assert all(w != "rare" for w, _ in m.most_similar("a", topn=10))
    m.update([*filler, ["rare"]])
    assert "rare" in m.wv.key_to_index
    assert m.wv["rare"].shape == (32,)
    assert "x" not in m.wv.key_to_index
    assert len(m.wv.vectors) == len(m.wv.index_to_key) == m.vocab_size


def test_min_count_with_decay_still_admits_after_min_count_sightings() -> None:
    m = small(half_life=10_000, min_count=3)
    for _ in range(3):
        m.update([["w", "z"]] + [["a", "b"]] * 99)
    assert "w" in m.wv.key_to_index
    assert m.count("w") < 3.0  # decayed a little


def test_counts_decay_with_half_life() -> None:
    m = small(half_life=1000, min_count=1)
    m.update([["old"]] * 10)
    m.update([["new"]] * 1000)
    assert m.count("old") == pytest.approx(5.0, rel=1e-6)
    assert m.count("new") == pytest.approx(1000.0)


def test_counts_decay_with_stream_time(tmp_path) -> None:
    day = 86_400.0
    m = small(half_life=day, half_life_unit="seconds", min_count=1)
    m.update([["old"]] * 8, now=0.0)
    m.update([["x"]] * 5000, now=60.0)  # many tweets, little time: almost no decay
    assert m.count("old") == pytest.approx(8.0 * 2 ** (-60 / day), rel=1e-6)
    m.update([["new"]], now=2 * day)  # two days after the first batch: two half-lives
    assert m.count("old") == pytest.approx(2.0, rel=1e-6)
    m.update([["late"]], now=day)  # a late batch does not move the clock back
    assert m.count("old") == pytest.approx(2.0, rel=1e-6)
    m.save(tmp_path / "m.npz")
    again = ContinualWord2Vec.load(tmp_path / "m.npz")
    again.update([["new"]], now=3 * day)
    assert again.count("old") == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="needs update"):
        m.update([["a"]])


def test_max_vocab_under_flood_keeps_frequent_and_pinned() -> None:
    max_vocab = 60
    m = small(min_count=1, max_vocab=max_vocab, max_candidates=500, pinned=["keep"])
    frequent = [f"f{i}" for i in range(10)]
    m.update([["keep", "once"]])
    assert "keep" in m.wv.key_to_index
    fresh = 0
    for _ in range(40):
        batch = []
        for _ in range(20):
            batch.append([*frequent, f"new{fresh}", f"new{fresh + 1}"])
            fresh += 2
        m.update(batch)
        assert m.vocab_size <= max_vocab
        assert len(m.wv.vectors) == m.vocab_size
        assert m.n_candidates <= 500
        for w, i in m.wv.key_to_index.items():
            assert m.wv.index_to_key[i] == w
    assert fresh > 10 * max_vocab
    for w in frequent:
        assert w in m.wv.key_to_index
    assert "keep" in m.wv.key_to_index  # pinned: seen once long ago, never evicted
    assert "once" not in m.wv.key_to_index  # same count as "keep", not pinned
    # a live query works after all the swapping
    assert len(m.most_similar("f0", topn=5)) == 5


def test_more_pinned_words_than_max_vocab() -> None:
    m = small(min_count=1, max_vocab=5, pinned=[f"p{i}" for i in range(8)])
    for _ in range(3):
        m.update([[f"p{i}" for i in range(8)] + ["x", "y"]])
        assert m.vocab_size == 5 and len(m.wv.vectors) == 5
    assert set(m.wv.index_to_key) <= {f"p{i}" for i in range(8)}


def test_eviction_removes_lowest_counts() -> None:
    v = DecayedVocab(max_vocab=20, min_count=1, half_life=None, max_candidates=100, evict_chunk=5)
    v.observe({f"w{i}": i + 1 for i in range(20)})  # counts 1..20
    before = {k: v.count(k) for k in v.key_to_index}
    res = v.observe({"x": 3, "y": 10})
    assert len(v) == 15  # cut back to max_vocab - evict_chunk
    kept = {k: v.count(k) for k in v.key_to_index}
    assert "y" in kept and "x" not in kept  # x (3) loses to w3..w19
    assert set(res.evicted_keys) == {"w0", "w1", "w2", "w3", "w4", "w5"}
    assert min(kept.values()) >= max(before[k] for k in res.evicted_keys)
    assert v.count("x") == 3.0  # rejected word stays a candidate
    for k, i in v.key_to_index.items():
        assert v.index_to_key[i] == k
        assert v.count(k) == (10 if k == "y" else before[k])


def test_candidate_counter_is_bounded() -> None:
    v = DecayedVocab(max_vocab=10, min_count=5, half_life=None, max_candidates=100, evict_chunk=1)
    v.pin(["pinned_rare"])
    v.observe({"pinned_rare": 1, "hot": 4})
    for b in range(50):
        v.observe({f"c{b}_{i}": 1 for i in range(20)} | {"hot": 0})
        assert len(v.candidates) <= 100
    assert "pinned_rare" in v.candidates and "hot" in v.candidates


# ----------------------------------------------------------------------------- quality
def test_planted_cooccurrence_and_context_shift() -> None:
    p1, p2 = shift_periods()
    m = small()
    feed(m, p1)
    hits = [len(set(ctx(g)) & top(m.wv, f"t{g}")) for g in range(N_TOPICS)]
    assert np.mean(hits) >= 8 and min(hits) >= 6, hits
    assert len(set(ctx(0)) & top(m.wv, "shift")) >= 6
    feed(m, p2)
    new = set(ctx(1)) & top(m.wv, "shift")
    old = set(ctx(0)) & top(m.wv, "shift")
    assert len(new) >= 6 and len(old) <= 2, (new, old)


def test_cbow_learns_planted_neighbours() -> None:
    p1, _ = shift_periods()
    m = small(sg=0)
    feed(m, p1)
    hits = [len(set(ctx(g)) & top(m.wv, f"t{g}")) for g in range(N_TOPICS)]
    assert np.mean(hits) >= 6, hits


@cache
def _forgetting(kind: str) -> float:
    """Mean top-10 overlap (snapshot 1 vs 2) of the heads of the topics that vanish,
    averaged over two seeds."""
    cfg = {
        "base": {"replay_ratio": 0.0},
        "replay": {"replay_ratio": 0.25},
        # anchoring is measured at the previous default rate (alpha 0.025): at the default
        # alpha 0.05 a 0.05 pull is too weak to matter here (0.57 -> 0.58)
        "slow": {"alpha": 0.025, "replay_ratio": 0.0},
        "anchor": {"alpha": 0.025, "replay_ratio": 0.0, "anchor": 0.05, "anchor_top": 200},
    }[kind]
    p1, p2 = shift_periods()
    heads = [f"t{g}" for g in range(N_TOPICS // 2, N_TOPICS)]
    scores = []
    for seed in (1, 2):
        m = small(seed=seed, **cfg)
        feed(m, p1)
        s1 = m.snapshot("p1")
        feed(m, p2)
        s2 = m.snapshot("p2")
        scores += [len(top(s1, w) & top(s2, w)) / 10 for w in heads]
    return float(np.mean(scores))


def test_replay_reduces_forgetting() -> None:
    base, replay = _forgetting("base"), _forgetting("replay")
    assert base <= 0.92, base  # the scenario does make the model forget
    assert replay >= base + 0.07, (base, replay)


def test_anchoring_reduces_forgetting() -> None:
    base, anchor = _forgetting("slow"), _forgetting("anchor")
    assert anchor >= base + 0.07, (base, anchor)


def test_anchoring_spares_pinned_words() -> None:
    p1, p2 = shift_periods()
    # The per-word "count" schedule settles frequent words at min_alpha, so a strong
    # anchor holds them in place; pinning must still leave a tracked word free to move.
    strong = small(anchor=0.3, anchor_top=100, lr_schedule="count")
    pinned = small(anchor=0.3, anchor_top=100, pinned=["shift"], lr_schedule="count")
    for m in (strong, pinned):
        feed(m, p1)
        m.snapshot()
        feed(m, p2)
    assert len(set(ctx(1)) & top(strong.wv, "shift")) <= 2  # anchored: cannot move
    assert len(set(ctx(1)) & top(pinned.wv, "shift")) >= 6  # tracked keyword stays plastic


# The previous default: one pass per batch at gensim's rate, no replay.
PREVIOUS_DEFAULT = {"alpha": 0.025}


def _rare_topic_hits(cfg: dict) -> float:
    """Planted context words (of 10) in the top-10 of six rare topic heads (~55 tweets
    each among 3000, three batches), averaged over the heads and two seeds."""
    common = [(f"t{g}", ctx(g)) for g in range(6)] * 8
    rare = [(f"r{g}", ctx(10 + g)) for g in range(6)]
    tweets = topic_stream(3000, 7, common + rare)
    hits = []
    for seed in (1, 2):
        m = small(seed=seed, **cfg)
        feed(m, tweets)
        hits += [len(set(ctx(10 + g)) & top(m.wv, f"r{g}")) for g in range(6)]
    return float(np.mean(hits))


def test_default_learns_more_per_tweet_than_one_pass_settings() -> None:
    """The default rate (alpha 0.05) puts a rare word next to its planted context after
    a few batches; the previous default (gensim's 0.025) barely starts to."""
    default, previous = _rare_topic_hits({}), _rare_topic_hits(PREVIOUS_DEFAULT)
    assert previous <= 4.0, previous  # the fixture is hard for one-pass settings
    assert default >= 6.5 and default >= previous + 3.0, (default, previous)


def test_revisit_retrains_recent_tweets_and_epochs_repeat_training() -> None:
    p1, _ = shift_periods()
    assert small().update(p1[:1000])["revisited"] == 0  # off by default
    m = small(revisit=0.1)
    st = m.update(p1[:1000])
    assert st["revisited"] == 0 and st["replayed"] == 0  # nothing seen before
    st = m.update(p1[1000:2000])
    assert st["revisited"] == 100 and st["replayed"] == 0
    m = small(revisit=0.1, revisit_window=300)
    m.update(p1[:1000])
    assert m._recent == p1[700:1000]  # only the last revisit_window tweets are kept
    m.update(p1[1000:1100])
    assert sorted(map(tuple, m._recent)) == sorted(map(tuple, p1[800:1100]))
    one = small(revisit=0.0)
    two = small(revisit=0.0, epochs=2)
    for model in (one, two):
        model.update(p1[:1000])
    t1, t2 = one.update(p1[1000:2000])["trained"], two.update(p1[1000:2000])["trained"]
    assert 1.8 * t1 <= t2 <= 2.2 * t1, (t1, t2)
    with pytest.raises(ValueError, match="epochs"):
        small(epochs=0)
    with pytest.raises(ValueError, match="revisit"):
        small(revisit=-1)


# ----------------------------------------------------------------------------- state
def _stream_for_state() -> list[list[list[str]]]:
    rng = np.random.default_rng(5)
    batches = []
    for b in range(10):
        batch = []
        for _ in range(200):
            ids = rng.zipf(1.3, size=8) % 400
            batch.append([f"w{i}" for i in ids] + [f"new{b}_{rng.integers(30)}"])
        batches.append(batch)
    return batches


STATE_CFG = dict(
    max_vocab=150,
    half_life=2000,
    replay_ratio=0.3,
    replay_size=300,
    anchor=0.1,
    anchor_top=20,
    anchor_every=2,
    max_candidates=400,
)


def test_fresh_runs_are_identical() -> None:
    batches = _stream_for_state()
    a, b = small(**STATE_CFG), small(**STATE_CFG)
    stats_a = [a.update(x) for x in batches]
    stats_b = [b.update(x) for x in batches]
    assert [s["trained"] for s in stats_a] == [s["trained"] for s in stats_b]
    assert sum(s["evicted"] for s in stats_a) > 0
    assert a.wv.index_to_key == b.wv.index_to_key
    assert np.array_equal(a.wv.vectors, b.wv.vectors)


def test_save_load_and_state_dict_round_trip(tmp_path) -> None:
    batches = _stream_for_state()
    a = small(**STATE_CFG, pinned=["w1"])
    for x in batches[:5]:
        a.update(x)
    assert a.vocab_size <= 150
    path = tmp_path / "model.npz"
    a.save(path)
    state = a.state_dict()
    b = ContinualWord2Vec.load(path)
    c = small(**STATE_CFG)
    c.load_state_dict(state)
    for m in (b, c):
        assert m.wv.index_to_key == a.wv.index_to_key
        assert np.array_equal(m.wv.vectors, a.wv.vectors)
        assert m.pinned == ["w1"]
        assert m.count("w3") == a.count("w3")
    stats = {}
    for name, m in (("a", a), ("b", b), ("c", c)):
        stats[name] = [m.update(x) for x in batches[5:]]
    for m in (b, c):
        assert m.wv.index_to_key == a.wv.index_to_key
        assert np.array_equal(m.wv.vectors, a.wv.vectors)
        assert np.array_equal(m.state_dict()["syn1neg"], a.state_dict()["syn1neg"])

    def strip(st: dict) -> dict:
        return {k: v for k, v in st.items() if "seconds" not in k}

    assert [strip(s) for s in stats["a"]] == [strip(s) for s in stats["b"]]
    assert any(s["evicted"] for s in stats["a"]) and any(s["replayed"] for s in stats["a"])


def test_state_dict_is_plain_data() -> None:
    import json

    m = small(replay_ratio=0.5)
    feed(m, shift_periods()[0][:2000])
    for k, v in m.state_dict().items():
        if not isinstance(v, np.ndarray):
            json.dumps(v)  # JSON-able
        else:
            assert v.dtype != object, k


def test_snapshot_is_frozen_copy(tmp_path) -> None:
    p1, p2 = shift_periods()
    m = small()
    feed(m, p1[:5000])
    snap = m.snapshot(tag="window-3")
    frozen = snap.vectors.copy()
    keys = list(snap.index_to_key)
    feed(m, p2[:5000])
    assert snap.tag == "window-3" and snap.meta["tag"] == "window-3"
    assert snap.index_to_key == keys
    assert np.array_equal(snap.vectors, frozen)
    assert not np.array_equal(m.wv["t0"], snap["t0"])
    assert len(m.wv.index_to_key) > len(keys)  # new words arrived in the live model only
    path = tmp_path / "snap.npz"
    save_keyed_vectors(snap, path)
    back = load_keyed_vectors(path)
    assert back.index_to_key == keys and np.array_equal(back.vectors, frozen)
    assert back.tag == "window-3"
    assert back.most_similar("t0", topn=3) == snap.most_similar("t0", topn=3)


# ----------------------------------------------------------------------------- cost
def _grow_to(m: ContinualWord2Vec, n_words: int, per_batch: int = 5000) -> None:
    fresh = 0
    for _ in range(1000):
        if m.vocab_size >= n_words:
            return
        batch = [[f"v{fresh + j * 10 + k}" for k in range(10)] for j in range(per_batch // 10)]
        fresh += per_batch
        m.update(batch)
    raise AssertionError(f"vocabulary stuck at {m.vocab_size} < {n_words}")


def test_batch_cost_does_not_grow_with_vocabulary() -> None:
    rng = np.random.default_rng(0)
    batches = [
        [[f"v{i}" for i in rng.integers(0, 2000, size=10)] for _ in range(1000)] for _ in range(12)
    ]
    result = {}
    for size in (5_000, 50_000):
        m = small(vector_size=16, min_count=1, max_vocab=200_000)
        _grow_to(m, size)
        rows0, times = m.maintenance_rows, []
        for b in batches:
            t = time.perf_counter()
            m.update(b)
            times.append(time.perf_counter() - t)
        tokens = sum(len(t) for b in batches for t in b)
        result[size] = (float(np.median(times)), (m.maintenance_rows - rows0) / tokens)
    (t_small, r_small), (t_big, r_big) = result[5_000], result[50_000]
    # O(vocabulary) maintenance is amortised: at most ~1 row per token at any size
    assert r_big <= 1.5 and r_small <= 1.5, result
    # and the wall time of a batch stays flat (loose: the machine is shared)
    assert t_big <= 3.0 * t_small + 0.005, result


def test_flood_maintenance_is_amortised() -> None:
    """Words admitted and evicted every batch: the O(n) work (victim selection, table
    rebuild) is paid per admitted word at the same rate at any vocabulary size."""
    rate = {}
    for size in (4_000, 32_000):
        m = small(vector_size=8, min_count=1, max_vocab=size)
        _grow_to(m, size - 2000, per_batch=2000)
        while m.update([[f"fill{m.vocab_size}_{j}"] for j in range(200)])["evicted"] == 0:
            pass  # run until the vocabulary is full and evicting
        rows0, admitted, fresh = m.maintenance_rows, 0, 10**7
        for _ in range(20):
            batch = [
                [f"v{i}" for i in range(j % 50, j % 50 + 8)] + [f"n{fresh + j}"] for j in range(200)
            ]
            fresh += 200
            st = m.update(batch)
            admitted += st["admitted"]
            assert st["vocab"] <= size
        assert admitted >= 20 * 150
        rate[size] = (m.maintenance_rows - rows0) / admitted
    # amortised: ~2 / table_refresh rows per admitted word whatever the size; one O(n)
    # pass per batch would cost 32_000 / 200 = 160 rows per admitted word at 32k
    assert max(rate.values()) <= 60, rate


# ----------------------------------------------------------------------------- misc
def test_two_workers_and_schedules_run() -> None:
    p1, _ = shift_periods()
    for kw in ({"workers": 2}, {"lr_schedule": "constant"}, {"lr_schedule": "warmup"}):
        m = small(**kw)
        feed(m, p1[:6000])
        hits = np.mean([len(set(ctx(g)) & top(m.wv, f"t{g}")) for g in range(N_TOPICS)])
        assert hits >= 5, (kw, hits)
        m.close()


def test_pin_before_seen_and_invalid_args() -> None:
    m = small(min_count=2)
    m.pin("later")
    assert m.pinned == ["later"]
    m.update([["later", "a"], ["later", "a"]])
    assert "later" in m.wv.key_to_index
    with pytest.raises(ValueError):
        small(negative=0)
    with pytest.raises(ValueError):
        small(lr_schedule="linear")
    st = m.update([])
    assert st["tweets"] == 0 and st["trained"] == 0
