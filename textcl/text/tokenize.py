"""Fast, tweet-aware tokenizer.

Design (for speed): the options are compiled in ``TweetTokenizer.__init__`` into
one specialised function.  Per text it runs a few cheap whole-text steps
(``str.lower``, HTML unescaping and URL / mention rewriting only when a cheap
substring test says they are needed, one elongation ``re.sub``), then a single
``findall`` over one alternation: keycap, mention, hashtag, cashtag, measure
("3.5km"), CJK ideograph (one token each), word, emoji, punctuation.  Numbers are
matched outside the pattern's only capturing group, so ``findall`` returns ``""``
for them, replaced by ``"<num>"`` in one list comprehension.

Example::

    >>> TweetTokenizer()("RT @nws: Soooo much rain in #Boulder!!! http://t.co/x 🌧️")
    ['rt', '@user', 'soo', 'much', 'rain', 'in', '#boulder', 'http', '🌧️']
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal, get_args, get_type_hints

__all__ = ["TokenizerOptions", "TweetTokenizer"]

HashtagMode = Literal["keep", "strip", "drop"]
NormalizeMode = Literal["normalize", "keep", "drop"]
EmojiMode = Literal["keep", "drop"]
PunctuationMode = Literal["drop", "keep"]
TruncatedMode = Literal["drop", "keep"]

URL_TOKEN = "http"
MENTION_TOKEN = "@user"
NUMBER_TOKEN = "<num>"


@dataclass(frozen=True)
class TokenizerOptions:
    """Options of :class:`TweetTokenizer`; invalid values raise ``ValueError``.

    * ``hashtags``: ``keep`` -> ``"#tag"``, ``strip`` -> ``"tag"``, ``drop``.
    * ``mentions``: ``normalize`` -> ``"@user"``, ``keep``, ``drop``.
    * ``urls``: ``normalize`` -> ``"http"``, ``keep``, ``drop``.
    * ``numbers`` (pure numbers such as ``7``, ``3.5``, ``1,200``; not ``10km``):
      ``normalize`` -> ``"<num>"``, ``keep``, ``drop``.
    * ``emoji``: each emoji (ZWJ sequence, skin tone, flag, keycap) is one token.
    * ``punctuation``: ``drop`` or ``keep`` (runs of ``.``, ``!``, ``?`` are one token).
    * ``squeeze_elongations``: a word character (and, with punctuation kept, an ASCII
      punctuation mark) repeated 3+ times is cut to 2 (``"soooo"`` -> ``"soo"``,
      ``"!!!!"`` -> ``"!!"``); digits, emoji, kept URLs and mentions are untouched.
    * ``stopwords``: drop spaCy's English stop words (hashtags/mentions are kept).
    * ``min_length``: drop tokens (of any kind) shorter than this many code points.
    * ``unescape_html``: decode HTML entities (``"&amp;"`` -> ``"&"``).
    * ``truncated``: ``drop`` the word cut off where a tweet was truncated: the last word
      before a closing ``…`` or `` ...`` (or ``...`` followed only by links), as in
      ``"RT @x: ... Texas explosio…"``; ``keep`` it.
    """

    lowercase: bool = True
    hashtags: HashtagMode = "keep"
    mentions: NormalizeMode = "normalize"
    urls: NormalizeMode = "normalize"
    numbers: NormalizeMode = "normalize"
    emoji: EmojiMode = "keep"
    punctuation: PunctuationMode = "drop"
    squeeze_elongations: bool = True
    stopwords: bool = False
    min_length: int = 1
    unescape_html: bool = True
    truncated: TruncatedMode = "drop"

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            allowed = get_args(hints[f.name])
            if allowed:
                if not isinstance(value, str) or value not in allowed:
                    choices = ", ".join(repr(a) for a in allowed)
                    raise ValueError(
                        f"invalid value {value!r} for option {f.name!r}; allowed: {choices}"
                    )
            elif hints[f.name] is bool:
                if not isinstance(value, bool):
                    raise ValueError(
                        f"invalid value {value!r} for option {f.name!r}; allowed: True, False"
                    )
            elif f.name == "min_length" and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(
                    f"invalid value {value!r} for option 'min_length'; allowed: an integer >= 0"
                )


# --------------------------------------------------------------------------- patterns


def _char_ranges(codepoints: Iterable[int]) -> str:
    """Render sorted code points as a regex character-class body of ranges."""
    out: list[str] = []
    start = prev = -2
    for cp in [*sorted(codepoints), -10]:
        if cp == prev + 1:
            prev = cp
            continue
        if start >= 0:
            out.append(re.escape(chr(start)))
            if prev > start:
                out.append("-" + re.escape(chr(prev)))
        start = prev = cp
    return "".join(out)


# Combining marks are not matched by ``\w`` in ``re`` (Devanagari vowel signs,
# decomposed accents, ...), so they are added to the word class.  Only BMP marks:
# astral ranges would make ``re`` test the class range by range (much slower).
# Marks used by emoji (variation selectors, enclosing keycap) are kept out of it.
_EMOJI_MARKS = {*range(0x20D0, 0x2100), *range(0xFE00, 0xFE10)}
_MARKS = _char_ranges(
    cp
    for cp in range(0x300, 0x10000)
    if cp not in _EMOJI_MARKS and unicodedata.category(chr(cp))[0] == "M"
)
_WCHAR = rf"[\w{_MARKS}]"

# Zero-width / formatting characters that are never tokens on their own.
_INVISIBLE = (
    r"\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f\u20d0-\u20ff"
    r"\U000e0000-\U000e007f"
)

# Lookbehinds come after the first literal so that ``re`` can reject most
# positions on the first character.
_URL = r"(?:(?i:https?://)|(?<![\w.@/])(?i:www\.))[^\s<>\"]*[^\s<>\"'.,;:!?)\]}…]"
_MENTION = r"@(?<!\w@)\w+"
_HASHTAG = rf"#(?<!&#)\d*[^\W\d]{_WCHAR}*"
_CASHTAG = r"\$(?<![\w$]\$)[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?![\w$])"
# Pure numbers only ("7", "3.5", "1,200"); "10km" is a word, "1️⃣" an emoji.
_NUMBER = r"\d(?<!\w\d)(?>\d*(?:[.,]\d+)*)(?![\w\ufe0f\u20e3])"
# Measurements with a decimal point stay one token ("3.5km").
_MEASURE = r"\d+(?:[.,]\d+)+\w+"
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
_WORD = rf"{_WCHAR}+(?:'{_WCHAR}+)*"
_PUNCT = rf"\.+|!+|\?+|[^\w\s{_INVISIBLE}]"

# Emoji: keycaps, flag pairs, and (ZWJ-joined) pictographs with optional
# variation selector / skin tone / tag characters.  Text-default symbols such as
# (c) or (tm) only count as emoji when followed by U+FE0F.
_KEYCAP = r"[0-9#*]\ufe0f?\u20e3"
_EMOJI_BASE = (
    r"\U0001f000-\U0001faff\u2600-\u27bf\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    r"\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2934\u2935"
    r"\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
)
_EMOJI_TEXT = r"\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa"
_EMOJI_MODS = r"[\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]*"
_EMOJI_ELEM = rf"(?:[{_EMOJI_BASE}]|[{_EMOJI_TEXT}]\ufe0f){_EMOJI_MODS}"
_PICTO = rf"[\U0001f1e6-\U0001f1ff]{{2}}|{_EMOJI_ELEM}(?:\u200d{_EMOJI_ELEM})*"
_EMOJI = f"{_KEYCAP}|{_PICTO}"

# Elongations: a word character (or, with punctuation kept, an ASCII punctuation
# mark) repeated 3+ times.  ``\w`` scans faster than ``[^\W\d]``; digit runs
# ("1000") are put back unchanged by the callback (they are rare).
_SQUEEZE_WORD = r"(?P<c>\w)(?P=c)(?P=c)+"
_SQUEEZE_ALL = r"(?P<c>[\w!-/:-@\[-`{-~])(?P=c)(?P=c)+"

# The word cut off by a truncation at the end of a text ("explosio…", "#prayfo ...",
# "explosio... http://t.co/x"), with any links after it.
_TRUNCATED = re.compile(
    r"\S+(?:\s?…|\s\.{3}|\.{3}(?=\s+https?://))(?=(?:\s+(?:https?://|www\.)\S*)*\s*$)"
)

_STOPWORDS: frozenset[str] | None = None


def _stopwords() -> frozenset[str]:
    """spaCy's English stop list.

    Its module (a plain word list) is loaded on its own: importing it the usual way runs
    ``spacy/__init__``, which imports thinc and torch (~1 s and ~100 MB) for a list.
    """
    global _STOPWORDS
    if _STOPWORDS is None:
        import importlib.util

        spec = importlib.util.find_spec("spacy")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("spaCy is not installed (pip install spacy)")
        path = Path(spec.submodule_search_locations[0]) / "lang" / "en" / "stop_words.py"
        words = importlib.util.spec_from_file_location("_textcl_spacy_en_stop_words", path)
        assert words is not None and words.loader is not None
        module = importlib.util.module_from_spec(words)
        words.loader.exec_module(module)
        _STOPWORDS = frozenset(module.STOP_WORDS)
    return _STOPWORDS


def _make_squeeze(core: str, protect: list[str]) -> Callable[[str], str]:
    """Return ``f(text)`` cutting runs matched by ``core`` (group ``c``) to two chars.

    Matches of the ``protect`` patterns (kept URLs / mentions) are left intact.
    """
    if protect:
        pattern = re.compile(f"(?P<p>{'|'.join(protect)})|{core}")

        def callback(m: re.Match[str]) -> str:
            c = m["c"]
            return m[0] if c is None or c.isdigit() else c + c
    else:
        pattern = re.compile(core)

        def callback(m: re.Match[str]) -> str:
            c = m["c"]
            return m[0] if c.isdigit() else c + c

    sub = pattern.sub
    return lambda text: sub(callback, text)


# --------------------------------------------------------------------------- tokenizer


class TweetTokenizer:
    """Tweet-aware tokenizer: ``TweetTokenizer(**options)(text) -> list[str]``.

    ``options`` is a :class:`TokenizerOptions`; keyword ``overrides`` replace
    individual fields (``TweetTokenizer(hashtags="strip")``).
    """

    options: TokenizerOptions

    def __init__(self, options: TokenizerOptions | None = None, **overrides: object) -> None:
        if options is None:
            options = TokenizerOptions()
        elif not isinstance(options, TokenizerOptions):
            raise TypeError(f"options must be a TokenizerOptions, not {type(options).__name__}")
        if overrides:
            known = {f.name for f in fields(TokenizerOptions)}
            unknown = sorted(set(overrides) - known)
            if unknown:
                raise TypeError(
                    f"unknown tokenizer option(s) {unknown}; known: {', '.join(sorted(known))}"
                )
            options = replace(options, **overrides)  # type: ignore[arg-type]
        self.options = options
        self._fn = self._build(options)

    def __call__(self, text: str) -> list[str]:
        """Tokenize one text; empty or whitespace-only text gives ``[]``."""
        return self._fn(text)

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokenize every text of ``texts`` (faster than calling one by one)."""
        fn = self._fn
        return [fn(text) for text in texts]

    def __repr__(self) -> str:
        return f"TweetTokenizer({self.options!r})"

    def __reduce__(self) -> tuple[type[TweetTokenizer], tuple[TokenizerOptions]]:
        return (TweetTokenizer, (self.options,))

    @staticmethod
    def _build(o: TokenizerOptions) -> Callable[[str], list[str]]:
        """Compile the options into one specialised tokenize function."""
        # Whole-text rewrites, applied in this order before the final findall.
        url_repl = {"normalize": f" {URL_TOKEN} ", "drop": " "}.get(o.urls)
        mention_repl = {"normalize": MENTION_TOKEN, "drop": " "}.get(o.mentions)
        url_sub = re.compile(_URL).sub if url_repl is not None else None
        mention_sub = re.compile(_MENTION).sub if mention_repl is not None else None
        hashtag_drop = re.compile(_HASHTAG).sub if o.hashtags == "drop" else None
        emoji_drop = re.compile(_EMOJI).sub if o.emoji == "drop" else None
        squeeze = None
        if o.squeeze_elongations:
            # Kept URLs / mentions must survive the squeeze ("www", "@zzz").
            protect = [p for p, mode in ((_URL, o.urls), (_MENTION, o.mentions)) if mode == "keep"]
            core = _SQUEEZE_ALL if o.punctuation == "keep" else _SQUEEZE_WORD
            squeeze = _make_squeeze(core, protect)

        # The token pattern.  Leading whitespace is skipped inside the match
        # (cheaper than a failed attempt per space).  Numbers are matched outside
        # the single capturing group, so findall() yields "" for them, which is
        # then replaced by "<num>" (normalize) or filtered out (drop).
        alts = [_KEYCAP]
        if o.urls == "keep":
            alts.insert(0, _URL)
        if o.mentions != "drop":
            alts.append(_MENTION)
        if o.hashtags != "drop":
            alts.append(_HASHTAG)
        alts += [_CASHTAG, _MEASURE, _CJK, _WORD]
        if o.emoji == "keep":
            alts.append(_PICTO)
        if o.punctuation == "keep":
            alts.append(_PUNCT)
        if o.numbers == "keep":
            token_re = rf"\s*+({_NUMBER}|{'|'.join(alts)})"
        else:
            token_re = rf"\s*+(?:{_NUMBER}|({'|'.join(alts)}))"
        findall = re.compile(token_re).findall

        # Post-processing: numbers, stop words, hashtag stripping, short tokens.
        num_token = NUMBER_TOKEN if o.numbers == "normalize" else None
        stop: frozenset[str] | None = None
        if o.stopwords:
            stop = _stopwords() | {""}
        elif o.numbers == "drop":
            stop = frozenset({""})
        lower_stop = o.stopwords and not o.lowercase
        min_len = o.min_length
        strip_hash = o.hashtags == "strip"
        keycap_marks = "\ufe0f\u20e3"

        lowercase = o.lowercase
        unescape = html.unescape if o.unescape_html else None
        is_nfc = unicodedata.is_normalized
        nfc = unicodedata.normalize

        truncated = _TRUNCATED.sub if o.truncated == "drop" else None

        def tokenize(text: str) -> list[str]:
            if truncated is not None and ("…" in text or "..." in text):
                text = truncated(" ", text)
            if unescape is not None and "&" in text:
                text = unescape(text)
            if not text.isascii():
                if not is_nfc("NFC", text):
                    text = nfc("NFC", text)
                if "’" in text:
                    text = text.replace("’", "'")
                if emoji_drop is not None:
                    text = emoji_drop(" ", text)
            if lowercase:
                text = text.lower()
            if url_sub is not None and ("://" in text or "ww." in text or "WW." in text):
                text = url_sub(url_repl, text)
            if mention_sub is not None and "@" in text:
                text = mention_sub(mention_repl, text)
            if hashtag_drop is not None and "#" in text:
                text = hashtag_drop(" ", text)
            if squeeze is not None:
                text = squeeze(text)
            tokens: list[str] = findall(text)
            if num_token is not None and "" in tokens:
                tokens = [t or num_token for t in tokens]
            if stop is not None:
                if lower_stop:
                    tokens = [t for t in tokens if t.lower() not in stop]
                else:
                    tokens = [t for t in tokens if t not in stop]
            if strip_hash:
                tokens = [
                    t[1:] if t[0] == "#" and len(t) > 1 and t[1] not in keycap_marks else t
                    for t in tokens
                ]
            if min_len > 1:
                tokens = [t for t in tokens if len(t) >= min_len]
            return tokens

        return tokenize
