"""The coverage sample: a few tweets that say what the window says, in proportion."""

from __future__ import annotations

from collections import Counter

from textcl.active.coverage import coverage_sample, stratified_coverage, term_weights

FLOOD = ["#flood", "river", "levee", "evacuate"]
FIRE = ["#wildfire", "smoke", "canyon"]


def _window() -> list[list[str]]:
    """60 flood tweets, 20 fire tweets (each a different pair of its terms plus filler),
    and 120 chatter tweets with no distinctive term."""
    docs = []
    for i in range(60):
        docs.append([FLOOD[i % 4], FLOOD[(i + 1 + i // 4) % 4], f"word{i}"])
    for i in range(20):
        docs.append([FIRE[i % 3], FIRE[(i + 1) % 3], f"fire{i}"])
    docs += [["lunch", "today", f"chat{i}"] for i in range(120)]
    return docs


def _z(docs: list[list[str]]) -> dict[str, float]:
    """A stand-in for log-odds: the event terms are distinctive, the rest is not."""
    return {t: (2.0 if t in FLOOD + FIRE else -1.0) for doc in docs for t in doc}


def test_the_sample_shares_itself_between_events_by_how_much_the_window_says() -> None:
    docs = _window()
    picked = coverage_sample(docs, term_weights(docs, _z(docs)), 8)
    kinds = Counter("flood" if i < 60 else "fire" if i < 80 else "chatter" for i in picked)
    assert kinds == {"flood": 6, "fire": 2}, kinds  # 3:1 as in the window, no chatter
    # every distinctive term is held by some pick
    assert {t for i in picked for t in docs[i]} >= set(FLOOD + FIRE)


def test_a_tweet_with_several_of_the_windows_terms_beats_one_with_a_single_rare_word() -> None:
    docs = [["#quake"], ["#quake", "tsunami", "alert", "coast"]] * 10
    z = {"#quake": 5.0, "tsunami": 3.0, "alert": 3.0, "coast": 3.0}
    assert coverage_sample(docs, term_weights(docs, z), 1) == [1]


def test_copies_are_picked_once_and_tweets_without_a_weighted_term_never() -> None:
    docs = [["rt", "#flood", "levee"], ["#flood", "levee", "rt"], ["#flood", "river"],
            ["lunch"], ["lunch", "today"]]
    weights = term_weights(docs, {"#flood": 3.0, "levee": 2.0, "river": 1.0, "lunch": -2.0})
    assert weights == {"#flood": 9.0, "levee": 4.0, "river": 1.0}  # in-window count x z
    assert coverage_sample(docs, weights, 5) == [0, 2]  # the copy at 1 is left out
    assert coverage_sample(docs, {}, 5) == [] and coverage_sample(docs, weights, 0) == []


def test_strata_keep_the_windows_label_mix_and_fill_up_a_label_without_event_words() -> None:
    import numpy as np

    docs = _window()
    weights = term_weights(docs, _z(docs))
    # the chatter is 60% of the window: a plain coverage sample leaves it out entirely
    assert all(i < 80 for i in coverage_sample(docs, weights, 10))
    strata = ["on-topic"] * 80 + ["off-topic"] * 120
    picked = stratified_coverage(docs, lambda rows: weights, 20, strata,
                                 np.random.default_rng(0))
    assert sum(strata[i] == "off-topic" for i in picked) == 12  # 60% of 20, chatter or not
    on_topic = [i for i in picked if strata[i] == "on-topic"]
    assert Counter(i < 60 for i in on_topic) == {True: 6, False: 2}  # flood:fire 3:1 inside
    assert len({" ".join(sorted(docs[i])) for i in picked}) == 20  # all distinct
