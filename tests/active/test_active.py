"""Active learning: budgets, deduplication, determinism, strategies and feedback."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import numpy as np
import pytest
import torch
from torch import nn

from textcl.active import (
    Candidates,
    Context,
    EmbeddingDensityRatio,
    KCenterGreedy,
    KMeansPlusPlus,
    LabelFeedback,
    Novelty,
    Selector,
    TermLogOdds,
    Uncertainty,
    allocate,
    duplicate_groups,
    fit_power_law,
    log_odds_z,
    unique_indices,
)
from textcl.cl import ContinualTrainer, Replay, ReservoirBuffer
from textcl.input.readers import read_tweets
from textcl.paths import sample_stream_path, sample_truth_path
from textcl.text.tokenize import TweetTokenizer

TOK = TweetTokenizer()
WORDS = [
    "coffee", "morning", "rain", "levee", "river", "bridge", "game", "night", "pizza", "music",
    "storm", "city", "road", "traffic", "school", "dog", "cat", "movie", "train", "power",
    "outage", "fire", "smoke", "crowd", "stadium", "phone",
]


def pool(n: int, seed: int = 0, classes: int = 3, dim: int = 8) -> Candidates:
    """``n`` distinct random tweets with random probabilities and embeddings."""
    rng = np.random.default_rng(seed)
    texts = [
        " ".join(rng.choice(WORDS, size=6, replace=False)) + f" item{i}" for i in range(n)
    ]
    return Candidates(
        ids=[f"t{i}" for i in range(n)],
        texts=texts,
        tokens=TOK.tokenize_many(texts),
        embeddings=rng.normal(size=(n, dim)),
        probs=rng.dirichlet(np.ones(classes), size=n),
    )


def clusters(per: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three tight, well-separated clusters; returns points and their cluster labels."""
    rng = np.random.default_rng(seed)
    centres = np.array([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(per, 3)) for c in centres])
    return x, np.repeat(np.arange(3), per)


# ------------------------------------------------------------------------ candidates


def test_candidates_validate_and_subset() -> None:
    with pytest.raises(ValueError, match="texts"):
        Candidates(["a", "b"], ["x"], [["x"], ["y"]])
    with pytest.raises(ValueError, match="tokens"):
        Candidates(["a"], ["x"], [])
    with pytest.raises(ValueError, match="embeddings"):
        Candidates(["a"], ["x"], [["x"]], embeddings=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="probs"):
        Candidates(["a"], ["x"], [["x"]], probs=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="groups"):
        Candidates(["a"], ["x"], [["x"]], groups=["g", "h"])
    c = pool(5)
    sub = c.subset([3, 1])
    assert sub.ids == ["t3", "t1"]
    assert np.allclose(sub.embeddings, c.embeddings[[3, 1]])
    assert np.allclose(sub.probs, c.probs[[3, 1]])
    binary = Candidates(["a"], ["x"], [["x"]], probs=np.array([0.8]))
    assert binary.probs.shape == (1, 2)


# ---------------------------------------------------------------------------- budget


def test_budget_is_respected_exactly() -> None:
    c = pool(40)
    for budget in (1, 7, 40):
        picks = Selector([Uncertainty()], budget=budget).select(c, Context())
        assert len(picks) == budget
        assert len({p.index for p in picks}) == budget
    assert len(Selector([Uncertainty()], budget=100).select(c, Context())) == 40
    assert Selector([Uncertainty()], budget=0).select(c, Context()) == []
    mmr = Selector([Uncertainty()], budget=12, diversity=0.5).select(c, Context())
    assert len(mmr) == 12


# ------------------------------------------------------------------------ duplicates


def dup_pool() -> tuple[Candidates, list[set[int]]]:
    texts = [
        "The levee near Riverton bridge broke, water everywhere downtown",  # 0 group A
        "RT @nws: The levee near Riverton bridge broke, water everywhere downtown",  # 1 A
        "RT @bob: RT @nws: The levee near Riverton bridge broke, water everywhere downtown",
        "the levee near riverton bridge broke water everywhere downtown!! http://t.co/x",  # A
        "Power outage on the east side after the storm, crews on the way",  # 4 group B
        "RT @city: Power outage on the east side after the storm, crews on the way",  # 5 B
        "power outage on the east side after the storm crews on the way now",  # 6 B
        "great coffee this morning",
        "who is watching the game tonight",
        "new phone arrived, unboxing later",
        "my dog hates the rain",
    ]
    n = len(texts)
    probs = np.tile([[0.9, 0.1]], (n, 1))
    probs[:7] = [0.5, 0.5]  # the duplicates are the most uncertain tweets
    emb = np.eye(n)
    emb[1:4] = emb[0]
    emb[5:7] = emb[4] + 0.01
    c = Candidates([str(i) for i in range(n)], texts, TOK.tokenize_many(texts), emb, probs)
    return c, [{0, 1, 2, 3}, {4, 5, 6}]


@pytest.mark.parametrize("method", ["minhash", "cosine"])
def test_near_duplicates_grouped(method: str) -> None:
    c, groups = dup_pool()
    labels = duplicate_groups(c, threshold=0.8, method=method)
    for group in groups:
        assert len({labels[i] for i in group}) == 1
    assert len(set(labels)) == len(c) - sum(len(g) - 1 for g in groups)
    assert unique_indices(c, method=method) == [0, 4, 7, 8, 9, 10]


def test_duplicates_never_selected_twice() -> None:
    c, groups = dup_pool()
    for diversity in (0.0, 0.3):
        picks = Selector([Uncertainty("margin")], budget=5, diversity=diversity).select(
            c, Context()
        )
        chosen = {p.index for p in picks}
        assert len(picks) == 5
        for group in groups:
            assert len(chosen & group) == 1
    # Without deduplication the top scores are all copies.
    raw = Selector([Uncertainty("margin")], budget=5, dedup=None).select(c, Context())
    assert {p.index for p in raw} <= groups[0] | groups[1]


def test_retweet_storm_collapses_fast() -> None:
    texts = ["RT @a: same text about the flood"] * 500 + ["other words entirely here"]
    c = Candidates([str(i) for i in range(501)], texts, TOK.tokenize_many(texts))
    assert unique_indices(c) == [0, 500]


# ---------------------------------------------------------------------- determinism


def test_deterministic_under_seed() -> None:
    c = pool(60, seed=3)
    strategies = [(Uncertainty(), 1.0), (KCenterGreedy(), 0.5)]

    def run(seed: int) -> list[str]:
        picks = Selector(strategies, budget=10, diversity=0.2, seed=seed).select(
            c, Context(labelled_embeddings=c.embeddings[:3])
        )
        return [p.id for p in picks]

    assert run(1) == run(1)
    km = KMeansPlusPlus()
    assert km.select(c, 8, Context(seed=5)) == km.select(c, 8, Context(seed=5))
    assert km.select(c, 8, Context(seed=5)) != km.select(c, 8, Context(seed=6))


# ----------------------------------------------------------------------- uncertainty


def test_uncertainty_orderings() -> None:
    probs = np.array(
        [
            [0.98, 0.01, 0.01],  # confident
            [0.34, 0.33, 0.33],  # maximally unsure
            [0.50, 0.49, 0.01],  # two-way tie: small margin, mid entropy
            [0.70, 0.20, 0.10],
        ]
    )
    c = Candidates(["a", "b", "c", "d"], [""] * 4, [[]] * 4, probs=probs)
    entropy = Uncertainty("entropy").score(c, Context())
    margin = Uncertainty("margin").score(c, Context())
    least = Uncertainty("least_confidence").score(c, Context())
    # Entropy looks at the whole distribution (the spread-out row 3 beats the 2-way tie);
    # margin and least confidence only at the top classes.
    assert list(np.argsort(-entropy)) == [1, 3, 2, 0]
    assert list(np.argsort(-margin)) == [1, 2, 3, 0]
    assert list(np.argsort(-least)) == [1, 2, 3, 0]
    assert margin[2] > 0.98 and least[2] == pytest.approx(0.5)
    assert entropy[1] == pytest.approx(np.log(3), abs=1e-3)
    with pytest.raises(ValueError, match="probs"):
        Uncertainty().score(Candidates(["a"], ["x"], [["x"]]), Context())
    with pytest.raises(ValueError):
        Uncertainty("bogus")  # type: ignore[arg-type]


# ------------------------------------------------------------------------ diversity


def test_kcenter_picks_one_per_cluster() -> None:
    x, labels = clusters()
    c = Candidates([str(i) for i in range(len(x))], [""] * len(x), [[]] * len(x), x)
    for seed in range(3):
        for strategy in (KCenterGreedy(), KMeansPlusPlus()):
            picks = strategy.select(c, 3, Context(seed=seed))
            assert sorted(labels[picks]) == [0, 1, 2]
    # With cluster 0 already labelled, two picks cover clusters 1 and 2.
    ctx = Context(labelled_embeddings=x[labels == 0][:2])
    assert sorted(labels[KCenterGreedy().select(c, 2, ctx)]) == [1, 2]
    scores = KCenterGreedy().score(c, ctx)
    assert scores[labels == 0].max() < scores[labels != 0].min()
    assert np.all(KCenterGreedy().score(c, Context()) == 1.0)


def test_mmr_diversity_spreads_picks() -> None:
    x, labels = clusters()
    probs = np.where(labels[:, None] == 0, [0.5, 0.5], [0.6, 0.4])  # cluster 0 most uncertain
    n = len(x)
    names = [f"t{i}" for i in range(n)]
    c = Candidates(names, names, [[t] for t in names], x, probs)
    plain = Selector([Uncertainty()], budget=3, dedup=None).select(c, Context())
    assert set(labels[[p.index for p in plain]]) == {0}
    diverse = Selector([Uncertainty()], budget=3, dedup=None, diversity=2.0).select(c, Context())
    assert sorted(labels[[p.index for p in diverse]]) == [0, 1, 2]
    assert "unlike earlier picks" in diverse[1].reason


# ------------------------------------------------------------------ representativeness


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def earthquake_window() -> tuple[Candidates, Context, set[str]]:
    """The harborview earthquake's span as the window; everything before it as background."""
    truth = json.loads(sample_truth_path().read_text())
    event = next(e for e in truth["events"] if e["name"] == "harborview_earthquake")
    start, end = _ts(event["start"]), _ts(event["end"])
    ids, texts, tokens = [], [], []
    background: Counter[str] = Counter()
    for tweet in read_tweets(sample_stream_path()):
        if tweet.created_at < start:
            background.update(TOK(tweet.text))
        elif tweet.created_at < end:
            ids.append(tweet.id)
            texts.append(tweet.text)
            tokens.append(TOK(tweet.text))
    return Candidates(ids, texts, tokens), Context(background_counts=background), set(
        event["keywords"]
    )


def test_term_log_odds_ranks_planted_event_tweets(earthquake_window) -> None:
    c, ctx, keywords = earthquake_window
    scores = TermLogOdds().score(c, ctx)
    is_event = np.array([bool(keywords & set(t)) for t in c.tokens])
    assert 0.2 < is_event.mean() < 0.8  # the window mixes event tweets and chatter
    assert scores[is_event].mean() > 2 * scores[~is_event].mean()
    picks = Selector([TermLogOdds()], budget=20).select(c, ctx)
    assert len(picks) == 20
    assert sum(is_event[p.index] for p in picks) >= 16
    assert all("term_log_odds" in p.reason for p in picks)
    z = TermLogOdds().term_z(c, ctx)
    assert z["#harborquake"] > 5 and z["#harborquake"] > z.get("coffee", 0.0)


def test_log_odds_z_sign() -> None:
    window = Counter({"flood": 30, "the": 100, "coffee": 2})
    background = Counter({"flood": 1, "the": 1000, "coffee": 50})
    z = log_odds_z(window, background)
    assert z["flood"] > 3 > 0 > z["coffee"]
    with pytest.raises(ValueError, match="background_counts"):
        TermLogOdds().score(pool(3), Context())


def test_density_ratio_prefers_window_only_cluster() -> None:
    rng = np.random.default_rng(0)
    common = rng.normal(size=(40, 5))
    burst = np.array([5.0, 5, 0, 0, 0]) + 0.05 * rng.normal(size=(15, 5))
    window = np.concatenate([common[:20], burst])
    c = Candidates([str(i) for i in range(35)], [""] * 35, [[]] * 35, window)
    scores = EmbeddingDensityRatio(k=5).score(c, Context(background_embeddings=common[20:]))
    assert scores[20:].mean() > scores[:20].mean() + 1.0


def test_novelty_counts_new_frequent_terms() -> None:
    texts = ["levee breach now", "levee breach again", "levee breach", "quiet day"]
    c = Candidates(list("abcd"), texts, TOK.tokenize_many(texts))
    scores = Novelty().score(c, Context(keywords={"levee"}))
    assert scores[2] == pytest.approx(0.5)  # breach is new and frequent, levee is tracked
    assert scores[3] == 0.0
    assert Novelty().score(c, Context())[2] == pytest.approx(1.0)


# ------------------------------------------------------------------------- reasons


def test_every_pick_has_a_reason_naming_its_drivers() -> None:
    c = pool(50, seed=1)
    background = Counter({w: 100 for w in WORDS[:10]})
    selector = Selector(
        [(TermLogOdds(), 1.0), (Uncertainty("entropy"), 1.0), (Novelty(), 0.5)], budget=8
    )
    picks = selector.select(c, Context(background_counts=background, keywords={"coffee"}))
    assert len(picks) == 8
    for p in picks:
        assert p.reason
        contrib = {n: w * p.scores[f"{n}.rank"] for n, w in
                   [("term_log_odds", 1.0), ("uncertainty_entropy", 1.0), ("novelty", 0.5)]}
        top = max(contrib, key=lambda n: contrib[n])
        assert top in p.reason
        assert p.total == pytest.approx(sum(contrib.values()))
        assert set(p.scores) >= {"term_log_odds", "uncertainty_entropy.rank"}
    assert [p.total for p in picks] == sorted((p.total for p in picks), reverse=True)


def test_select_per_group() -> None:
    c = pool(30, seed=2)
    c.groups = ["a"] * 10 + ["b"] * 20
    out = Selector([Uncertainty()], budget=99).select_per_group(c, Context(), {"a": 3, "b": 5})
    assert [len(out["a"]), len(out["b"])] == [3, 5]
    assert all(c.groups[p.index] == "a" and p.group == "a" for p in out["a"])
    assert all(p.index >= 10 for p in out["b"])


# ------------------------------------------------------------------- slice allocation


def test_power_law_fit_and_fallback() -> None:
    pts = [(n, 2.0 * n**-0.5) for n in (10, 20, 40, 80)]
    law = fit_power_law(pts)
    assert law.a == pytest.approx(2.0, rel=1e-6) and law.b == pytest.approx(0.5, rel=1e-6)
    one = fit_power_law([(100, 0.2)])
    assert one(100) == pytest.approx(0.2)
    assert fit_power_law([]).b > 0


def test_allocation_sums_to_budget_and_favours_steep_slice() -> None:
    curves = {
        "flood": [(n, 2.0 * n**-0.8) for n in (10, 50, 100)],  # steep: labels help
        "chatter": [(n, 0.3 * n**-0.05) for n in (10, 50, 100)],  # flat
    }
    counts = {"flood": 100, "chatter": 100}
    out = allocate(curves, counts, 50)
    assert sum(out.values()) == 50 and set(out) == {"flood", "chatter"}
    assert out["flood"] > 40
    assert allocate(curves, counts, 0) == {"flood": 0, "chatter": 0}
    capped = allocate(curves, counts, 50, available={"flood": 3, "chatter": 100})
    assert capped == {"flood": 3, "chatter": 47}
    weighted = allocate(curves, counts, 50, sizes={"flood": 0.0, "chatter": 1.0})
    assert weighted["chatter"] == 50
    # A slice with no labels and no curve yet borrows the others' scale and goes first.
    fresh = allocate({**curves, "new": []}, counts, 30)
    assert sum(fresh.values()) == 30 and fresh["new"] > 0


# ------------------------------------------------------------------------- feedback


def test_label_feedback_trains_and_fills_buffer() -> None:
    torch.manual_seed(0)
    x = torch.cat([torch.randn(30, 4) + 2, torch.randn(30, 4) - 2])
    y = torch.tensor([0] * 30 + [1] * 30)
    trainer = ContinualTrainer(nn.Linear(4, 2), epochs=5, lr=0.05, seed=0)
    buffer = ReservoirBuffer(100)
    feedback = LabelFeedback(trainer, buffer)
    first = feedback.add(x[:40:2], y[:40:2], task="w1")
    second = feedback.add(x[1::2], y[1::2], task="w2")
    assert second.final_loss < first.losses[0]
    assert trainer.evaluate(x, y) > 0.9
    assert len(buffer) == 50 and feedback.labelled == 50 and feedback.rounds == 2
    assert feedback.per_task == {"w1": 20, "w2": 30}
    # A buffer the trainer already replays from is filled by the adapter, not twice.
    shared = ReservoirBuffer(500)
    replaying = ContinualTrainer(nn.Linear(4, 2), [Replay(shared)], epochs=1, batch_size=10)
    LabelFeedback(replaying, shared).add(x, y)
    assert shared.seen == len(y)
