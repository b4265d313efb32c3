"""Event examples and bursts: a group that a word written everywhere holds together shows
as the events it holds, each with its own representative tweets."""

from __future__ import annotations

import random

from textcl.keywords.examples import EventExamples

FIRE = ["wildfire", "blaze", "embers", "evacuees", "firefighters"]
FLOOD = ["levee", "sandbags", "floodwaters", "submerged", "rescuers"]
CHATTER = ["lunch", "coffee", "monday", "weekend", "music", "traffic", "netflix", "gym"]


def _tweets(seed: int = 0) -> list[tuple[str, str, list[str]]]:
    rng = random.Random(seed)
    tweets = []
    for i in range(600):
        kind = i % 3
        words = rng.sample((FIRE, FLOOD, CHATTER)[kind], 3) + rng.sample(CHATTER, 2)
        if rng.random() < 0.25:
            words.append("❤️")  # everywhere, whatever the tweet is about
        tweets.append((str(i), " ".join(words), words))
    return tweets


def test_a_group_glued_by_a_word_written_everywhere_splits_into_its_events() -> None:
    examples = EventExamples(size=1000)
    for tweet_id, text, tokens in _tweets():
        examples.offer(tweet_id, text, tokens)
    group = [*FIRE, "❤️", *FLOOD]  # one group of the keyword set
    bursts, loose = examples.bursts(group)
    assert sorted(map(sorted, bursts)) == sorted([sorted(FIRE), sorted(FLOOD)])
    assert loose == ["❤️"]
    for burst in bursts:  # each event's own tweets, holding the most of its terms
        picked = examples.pick(burst)
        assert len(picked) == 3
        assert all(p["terms"] == 3 and set(p["text"].split()) & set(burst) for p in picked)


def test_the_sample_and_its_bursts_do_not_depend_on_arrival_order_or_restarts() -> None:
    tweets = _tweets(1)
    first, second = EventExamples(size=200), EventExamples(size=200)
    for tweet in tweets:
        first.offer(*tweet)
    shuffled = tweets[:]
    random.Random(2).shuffle(shuffled)
    for tweet in shuffled[:300]:
        second.offer(*tweet)
    restored = EventExamples()
    restored.load_state_dict(second.state_dict())  # a checkpoint mid-window
    for tweet in shuffled[300:] + shuffled[:10]:  # copies are kept once
        restored.offer(*tweet)
    group = [*FIRE, *FLOOD, "❤️"]
    assert restored.state_dict()["tweets"] and len(restored._heap) == 200
    assert sorted(restored.state_dict()["tweets"]) == sorted(first.state_dict()["tweets"])
    assert restored.bursts(group) == first.bursts(group)
    assert restored.pick(FIRE) == first.pick(FIRE)
