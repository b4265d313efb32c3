"""Tests for textcl.text.tokenize (no data files needed)."""

from __future__ import annotations

import pickle

import pytest

from textcl.text.tokenize import TokenizerOptions, TweetTokenizer


@pytest.fixture(scope="module")
def tok() -> TweetTokenizer:
    return TweetTokenizer()


# ----------------------------------------------------------------- default options


def test_hashtags_kept_and_lowercased(tok: TweetTokenizer) -> None:
    assert tok("Evacuations in #COfire area") == ["evacuations", "in", "#cofire", "area"]


def test_glued_hashtags_are_split(tok: TweetTokenizer) -> None:
    assert tok("#SantaMaria#ForçaSantaMaria") == ["#santamaria", "#forçasantamaria"]


def test_mentions_normalized(tok: TweetTokenizer) -> None:
    assert tok("@DenverPost thanks @bob_99!") == ["@user", "thanks", "@user"]


def test_email_is_not_a_mention(tok: TweetTokenizer) -> None:
    assert tok("mail a@b.com") == ["mail", "a", "b", "com"]


def test_retweet_prefix(tok: TweetTokenizer) -> None:
    assert tok("RT @x: hello") == ["rt", "@user", "hello"]


@pytest.mark.parametrize(
    "text",
    [
        "see http://t.co/x now",
        "see https://example.com/a/b?c=1&d=2 now",
        "see www.x.com now",
        "see HTTP://T.CO/AbC now",
        "see:http://t.co/x, now",
    ],
)
def test_urls_normalized(tok: TweetTokenizer, text: str) -> None:
    assert tok(text) == ["see", "http", "now"]


def test_emoji_are_separate_tokens(tok: TweetTokenizer) -> None:
    assert tok("fire 🔥🔥") == ["fire", "🔥", "🔥"]
    assert tok("fire🔥") == ["fire", "🔥"]


def test_emoji_sequences_stay_whole(tok: TweetTokenizer) -> None:
    family = "👨\u200d👩\u200d👧"
    assert tok(f"ok 👍🏽 {family} 🇺🇸🇲🇽 ❤️ 1️⃣") == ["ok", "👍🏽", family, "🇺🇸", "🇲🇽", "❤️", "1️⃣"]


def test_elongations_squeezed(tok: TweetTokenizer) -> None:
    assert tok("soooo scaryyyy") == ["soo", "scaryy"]


def test_digits_never_squeezed(tok: TweetTokenizer) -> None:
    assert TweetTokenizer(numbers="keep")("1000000 people") == ["1000000", "people"]


def test_numbers_normalized(tok: TweetTokenizer) -> None:
    assert tok("7 dead, 3.5 inches, 1,200 homes") == [
        "<num>",
        "dead",
        "<num>",
        "inches",
        "<num>",
        "homes",
    ]


def test_words_with_digits_are_not_numbers(tok: TweetTokenizer) -> None:
    assert tok("10km 3.5km 2nd covid19") == ["10km", "3.5km", "2nd", "covid19"]


def test_html_entities_unescaped() -> None:
    tok = TweetTokenizer(punctuation="keep")
    assert tok("rain &amp; wind &gt; 5") == ["rain", "&", "wind", ">", "<num>"]


def test_html_entities_without_unescape() -> None:
    tok = TweetTokenizer(punctuation="keep", unescape_html=False)
    assert tok("a &amp; b") == ["a", "&", "amp", ";", "b"]


def test_contractions_and_apostrophes(tok: TweetTokenizer) -> None:
    assert tok("Don't panic, it’s the students' bus") == [
        "don't",
        "panic",
        "it's",
        "the",
        "students",
        "bus",
    ]


def test_cashtags(tok: TweetTokenizer) -> None:
    assert tok("$AAPL down, $5 lost") == ["$aapl", "down", "<num>", "lost"]


def test_non_latin_letters(tok: TweetTokenizer) -> None:
    assert tok("Terremoto México, niño, Maynilà") == ["terremoto", "méxico", "niño", "maynilà"]
    assert tok("भूकंप हिन्दी") == ["भूकंप", "हिन्दी"]  # combining vowel signs stay in words


def test_decomposed_accents_are_composed(tok: TweetTokenizer) -> None:
    assert tok("Me\u0301xico") == ["méxico"]


def test_cjk_one_token_per_ideograph(tok: TweetTokenizer) -> None:
    assert tok("地震 earthquake") == ["地", "震", "earthquake"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "!!! ...", "\u200b"])
def test_empty_or_blank_text(tok: TweetTokenizer, text: str) -> None:
    assert tok(text) == []


def test_tokenize_many(tok: TweetTokenizer) -> None:
    assert tok.tokenize_many(["a b", "", "#X"]) == [["a", "b"], [], ["#x"]]
    assert tok.tokenize_many(iter(["c"])) == [["c"]]


# ----------------------------------------------------------------- alternatives


def test_lowercase_false() -> None:
    assert TweetTokenizer(lowercase=False)("Big #COfire NOW") == ["Big", "#COfire", "NOW"]


def test_hashtags_strip_and_drop() -> None:
    text = "#COfire spreads #2012"
    assert TweetTokenizer(hashtags="strip")(text) == ["cofire", "spreads", "<num>"]
    assert TweetTokenizer(hashtags="drop")(text) == ["spreads", "<num>"]


def test_mentions_keep_and_drop() -> None:
    text = "RT @Bob_Jones: hi @zzzz"
    assert TweetTokenizer(mentions="keep")(text) == ["rt", "@bob_jones", "hi", "@zzzz"]
    assert TweetTokenizer(mentions="drop")(text) == ["rt", "hi"]


def test_urls_keep_and_drop() -> None:
    text = "see http://www.x.com/2012/aaa?b=1. now"
    keep = TweetTokenizer(urls="keep", punctuation="keep")(text)
    assert keep == ["see", "http://www.x.com/2012/aaa?b=1", ".", "now"]
    assert TweetTokenizer(urls="drop")(text) == ["see", "now"]
    assert TweetTokenizer(urls="drop")("go www.x.com") == ["go"]


def test_numbers_keep_and_drop() -> None:
    text = "7 dead, 1,200 homes"
    assert TweetTokenizer(numbers="keep")(text) == ["7", "dead", "1,200", "homes"]
    assert TweetTokenizer(numbers="drop")(text) == ["dead", "homes"]


def test_emoji_drop() -> None:
    assert TweetTokenizer(emoji="drop")("fire 🔥🔥 👍🏽 1️⃣ ok") == ["fire", "ok"]
    keep_punct = TweetTokenizer(emoji="drop", punctuation="keep")
    assert keep_punct("fire 🔥! ❤️") == ["fire", "!"]


def test_punctuation_keep() -> None:
    tok = TweetTokenizer(punctuation="keep")
    assert tok("Help!!!!! We're trapped... (Boulder)") == [
        "help",
        "!!",
        "we're",
        "trapped",
        "..",
        "(",
        "boulder",
        ")",
    ]


def test_squeeze_disabled() -> None:
    assert TweetTokenizer(squeeze_elongations=False)("soooo") == ["soooo"]
    tok = TweetTokenizer(squeeze_elongations=False, punctuation="keep")
    assert tok("no!!!!") == ["no", "!!!!"]


def test_squeeze_spares_kept_urls_and_mentions() -> None:
    tok = TweetTokenizer(urls="keep", mentions="keep")
    assert tok("@zzzz wooow www.x.com") == ["@zzzz", "woow", "www.x.com"]


def test_stopwords_removed_but_hashtags_and_mentions_kept() -> None:
    tok = TweetTokenizer(stopwords=True, mentions="keep")
    assert tok("The fire is near #the @the") == ["fire", "near", "#the", "@the"]


def test_stopwords_with_strip_keeps_hashtag_words() -> None:
    tok = TweetTokenizer(stopwords=True, hashtags="strip")
    assert tok("the fire #the") == ["fire", "the"]


def test_stopwords_case_insensitive_when_not_lowercasing() -> None:
    tok = TweetTokenizer(stopwords=True, lowercase=False)
    assert tok("The FIRE is HUGE") == ["FIRE", "HUGE"]


def test_min_length() -> None:
    tok = TweetTokenizer(min_length=3)
    assert tok("a an the fire 🔥 #ab") == ["the", "fire", "#ab"]


# ----------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("hashtags", "remove"),
        ("mentions", "strip"),
        ("urls", None),
        ("numbers", "NORMALIZE"),
        ("emoji", "normalize"),
        ("punctuation", "strip"),
        ("lowercase", "yes"),
        ("min_length", -1),
        ("min_length", 1.5),
    ],
)
def test_invalid_option_value(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"'{option}'"):
        TweetTokenizer(**{option: value})


def test_invalid_value_message_lists_allowed_values() -> None:
    with pytest.raises(ValueError, match="'keep', 'strip', 'drop'"):
        TokenizerOptions(hashtags="remove")  # type: ignore[arg-type]


def test_unknown_option_name() -> None:
    with pytest.raises(TypeError, match="hashtag"):
        TweetTokenizer(hashtag="keep")


def test_options_and_overrides() -> None:
    base = TokenizerOptions(lowercase=False)
    tok = TweetTokenizer(base, numbers="drop")
    assert tok.options == TokenizerOptions(lowercase=False, numbers="drop")
    assert tok("Go 5") == ["Go"]


def test_pickle_roundtrip() -> None:
    tok = TweetTokenizer(hashtags="strip")
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.options == tok.options
    assert clone("#Fire") == ["fire"]


@pytest.mark.parametrize(
    "text",
    [
        "RT @x: fire near the plant in Texas explosio…",
        "fire near the plant in Texas explosio ...",
        "fire near the plant in Texas explosio... http://t.co/abc",
        "fire near the plant in Texas explosio… http://t.co/abc www.x.org",
    ],
)
def test_word_cut_by_truncation_is_dropped(tok: TweetTokenizer, text: str) -> None:
    tokens = tok(text)
    assert "explosio" not in tokens and "texas" in tokens and "plant" in tokens


def test_ellipsis_inside_a_tweet_and_keep_mode_leave_words_alone(tok: TweetTokenizer) -> None:
    assert "wait" in tok("wait... the plant exploded")
    keep = TweetTokenizer(TokenizerOptions(truncated="keep"))
    assert "explosio" in keep("Texas explosio…")
