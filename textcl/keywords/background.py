"""Reference rates for distinctiveness: how often a term occurs in ordinary text.

A :class:`Background` maps a term to its share of all tokens in ordinary, non-event
text. Two sources:

* :func:`wordfreq_background` (the default, no download): the ``wordfreq`` package's
  word frequencies (built from Wikipedia, subtitles, news, books, web text and Twitter).
  English is taken whole; for other languages only their common words (frequency at
  least ``other_min``), so that a Spanish or Italian tweet's function words are not
  mistaken for an event's vocabulary. A term's rate is its highest frequency over the
  languages.
* :func:`corpus_background`: token counts of your own files of ordinary tweets.

``wordfreq`` has no hashtags: a ``#word`` absent from the source gets ``hashtag_share``
times the rate of ``word``. 0.05 is what ordinary tweets show: in the TweetEval
training texts the median ratio of ``#word`` to ``word`` occurrences, over the words
seen at least 20 times, is 0.043 (aggregate 0.053). Terms missing altogether get the
``floor`` rate (half the rarest listed rate).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from textcl.text.tokenize import TweetTokenizer

__all__ = [
    "DEFAULT_LANGUAGES",
    "Background",
    "background_counts",
    "corpus_background",
    "wordfreq_background",
]

# Twitter's most used languages that wordfreq covers well.
DEFAULT_LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl", "id", "fil", "tr", "ru", "ar", "ja")
HASHTAG_SHARE = 0.05


COMMON_RATE = 3e-4  # ~ the 500 most frequent words of a language


class Background:
    """Per-term reference rates (share of all tokens) of ordinary text.

    Args:
        rates: term -> share of all tokens.
        floor: rate of a term that is not in ``rates`` (nor its bare word, for hashtags).
        hashtag_share: rate of an unlisted ``#word`` relative to ``word``.
        name: a short description, recorded in outputs.
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        floor: float,
        hashtag_share: float = HASHTAG_SHARE,
        name: str = "background",
    ) -> None:
        if floor <= 0:
            raise ValueError(f"floor must be positive, got {floor}")
        if not 0 < hashtag_share <= 1:
            raise ValueError(f"hashtag_share must be in (0, 1], got {hashtag_share}")
        self.rates = dict(rates)
        self.floor = float(floor)
        self.hashtag_share = float(hashtag_share)
        self.name = name

    def rate(self, term: str) -> float:
        """The term's reference rate (at least ``floor``)."""
        r = self.rates.get(term)
        if r is None:
            if term.startswith("#") and len(term) > 1:
                r = self.rates.get(term[1:], 0.0) * self.hashtag_share
            else:
                r = 0.0
        return r if r > self.floor else self.floor

    def common(self, min_rate: float = COMMON_RATE) -> frozenset[str]:
        """Terms at least ``min_rate`` of ordinary text: the function words of its languages
        (``de``, ``la``, ``the``), whose neighbourhoods say nothing about an event."""
        return frozenset(t for t, r in self.rates.items() if r >= min_rate)

    def __contains__(self, term: str) -> bool:
        return term in self.rates

    def __len__(self) -> int:
        return len(self.rates)


@lru_cache(maxsize=4)
def wordfreq_background(
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    hashtag_share: float = HASHTAG_SHARE,
    other_min: float = 1e-6,
) -> Background:
    """The embedded background: ``wordfreq``'s frequencies (first language whole, the
    others' words of frequency >= ``other_min``), highest over the languages.

    Built once per process (about a second; ~100 MB for the default languages).
    """
    import wordfreq

    if not languages:
        raise ValueError("at least one language is needed")
    available = wordfreq.available_languages(wordlist="best")
    unknown = [lang for lang in languages if lang not in available]
    if unknown:
        raise ValueError(
            f"wordfreq has no 'best' word list for {', '.join(unknown)}; "
            f"available: {', '.join(sorted(available))}"
        )
    rates: dict[str, float] = {}
    rarest = 1.0
    for position, lang in enumerate(languages):
        bins = wordfreq.get_frequency_list(lang, wordlist="best")
        # bin i holds the words of frequency 10 ** (-i / 100) (centibels)
        stop = len(bins) if position == 0 else _bin_limit(other_min, len(bins))
        get = rates.get
        for i in range(stop):
            freq = 10.0 ** (-i / 100.0)
            for word in bins[i]:
                if freq > get(word, 0.0):
                    rates[word] = freq
            if bins[i]:
                rarest = min(rarest, freq)
        wordfreq.get_frequency_list.cache_clear()
        del bins
    gc.collect()
    name = f"wordfreq ({', '.join(languages)})"
    return Background(rates, floor=rarest / 2, hashtag_share=hashtag_share, name=name)


def _bin_limit(min_freq: float, n_bins: int) -> int:
    import math

    return min(n_bins, math.floor(-100.0 * math.log10(min_freq)) + 1)


def background_counts(paths: Iterable[str | Path], tokenizer: TweetTokenizer) -> Counter[str]:
    """Token counts of plain-text files (one document per line, gzip not supported)."""
    counts: Counter[str] = Counter()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: background corpus file not found")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for tokens in tokenizer.tokenize_many(lines):
            counts.update(tokens)
    return counts


def corpus_background(
    counts: Mapping[str, float], hashtag_share: float = HASHTAG_SHARE, name: str = "corpus"
) -> Background:
    """A background from token counts of ordinary text (e.g. :func:`background_counts`)."""
    total = float(sum(counts.values()))
    if total <= 0:
        raise ValueError("the background corpus has no tokens")
    rates = {t: c / total for t, c in counts.items() if c > 0}
    return Background(rates, floor=0.5 / total, hashtag_share=hashtag_share, name=name)
