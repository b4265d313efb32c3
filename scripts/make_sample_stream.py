#!/usr/bin/env python3
"""Write the embedded default tweet stream ``data/sample_stream.jsonl.gz`` and its ground truth.

The stream is synthetic and fully deterministic given ``--seed``: 20 days of English tweets
(starting 2026-03-01T00:00:00Z) made of background chatter, planted bursty events with their
own vocabulary, and shifted words whose context changes halfway through. A few lines are
deliberately malformed. Everything planted is described in ``data/sample_stream.truth.json``.

Line formats (one JSON object per line, UTF-8):

* ``v2``: ``{"id", "text", "created_at": "2026-03-01T00:00:12.000Z", "lang", "author_id"}``
* ``v2_envelope``: ``{"data": {...v2...}, "includes": {"users": [{"id", "username"}]}}``
* ``v1.1``: ``{"id_str", "full_text", "created_at": "Sun Mar 01 00:00:12 +0000 2026", "lang",
  "user": {"id_str", "screen_name"}}``; retweets are v1.1 objects with ``"retweeted_status"``
  (the original as a v1.1 object) and text ``"RT @name: <original text>"``.

Usage: ``python scripts/make_sample_stream.py [--seed 7] [--tweets 24000] [--out-dir data]``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STREAM_NAME = "sample_stream.jsonl.gz"
TRUTH_NAME = "sample_stream.truth.json"

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 20
DAY_MS = 86_400_000
TWITTER_EPOCH_MS = 1_288_834_974_657
SPLIT_DAY = 10  # shifted words change context at this day

# Shares of the total line count.
REJECT_SHARE = 0.005
RETWEET_SHARE = 0.03
DUPLICATE_SHARE = 0.01
ENVELOPE_SHARE = 0.10
V11_SHARE = 0.10
SHIFTED_SHARE = 0.0175  # per shifted word and period
LABEL_SHARE = 0.3  # original tweets carrying a gold "topic" label: the event, or "chatter"
OVERSIZE_CHARS = 120_000

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TOKEN_RE = re.compile(r"#?[a-z]+")
URL_RE = re.compile(r"https?://\S+")
MENTION_RE = re.compile(r"@\w+")


# --------------------------------------------------------------------------- vocabulary


def _w(spec: str) -> tuple[str, ...]:
    """Split a word list: ``|`` separates phrases, otherwise whitespace separates words."""
    return tuple(x.strip() for x in spec.split("|")) if "|" in spec else tuple(spec.split())


EMOJI = _w("😂 ❤️ 😭 🙌 🔥 ✨ 😴 🎉 👀 💀 🙃 😍 🥲 👏 😅")
FOODS = _w(
    "pizza|tacos|ramen|sushi|burgers|pancakes|pasta|curry|salad|noodles|dumplings|waffles|"
    "nachos|bagels|burritos|pho|donuts|lasagna|falafel|grilled cheese"
)
FOOD_PLACES = _w(
    "the corner diner|that new place downtown|my favorite food truck|my grandmas kitchen|"
    "the spot near campus|the mall food court|that tiny place on fifth"
)
MEALS = _w("breakfast lunch dinner brunch dessert")
FOOD_ADJ = _w("amazing|mid|incredible|so bad|perfect|underwhelming|elite")
DRINKS = _w(
    "latte|oat milk latte|espresso|cold brew|cappuccino|americano|mocha|flat white|"
    "chai latte|matcha"
)
CAFES = _w("the corner cafe|my local spot|the place by the office|that hipster cafe")
ORDINALS = _w("second third fourth fifth")
TEMP_ADJ = _w("cold warm hot chilly freezing humid sunny gorgeous nice windy mild")
CITIES = _w("boston denver austin seattle chicago portland atlanta miami phoenix detroit")
DAY_PARTS = _w("morning afternoon evening night")
TEAMS = _w(
    "the hawks|the tigers|the rovers|city|united|the bears|the sharks|the comets|the wolves|"
    "the pilots"
)
RESULTS = _w("beat|lost to|tied with|crushed|edged past|got destroyed by")
SCORES = _w("3-1 2-2 1-0 101-98 24-17 4-3 112-104 0-0")
SPORT_ADJ = _w("unreal sloppy unstoppable tired lost sharp awful")
PLAYERS = _w("jackson martinez okafor nguyen silva kowalski brooks")
ARTISTS = _w(
    "taylor|the weeknd|dua|drake|sza|olivia|harry|bad bunny|adele|frank ocean|phoebe|lizzo|"
    "kendrick|billie"
)
MUSIC_ADJ = _w("a masterpiece|so good|growing on me|overrated|a vibe|perfect")
PETS = _w("dog|cat|puppy|kitten|parrot|hamster|bunny|golden retriever")
PET_ACTIONS = _w(
    "stole my sock|knocked my mug off the table|learned to sit|fell asleep on my keyboard|"
    "ate my homework for real|is judging me|demands breakfast|chased its own tail for ten minutes"
)
ACTIVITIES = _w(
    "hiking|brunch|netflix|laundry|gaming|board games|baking|cycling|yoga|running|painting|"
    "thrifting|a long nap|meal prep"
)
SHOWS = _w("the bear|severance|the office|bluey|succession|survivor|love island")
BG_TAGS = _w(
    "#mondaymotivation #tgif #caturday #foodie #coffee #weekendvibes #gameday #nowplaying #wfh "
    "#dogsoftwitter #catsoftwitter #tbt #blessed #selfcare"
)
INTERJECTIONS = _w("lol haha lmao tbh ngl smh imo idk omg fr")
ELONGATABLE = _w("so yes no please why good love finally omg lol")
BG_SNIPPETS = _w(
    "on my way to work|cannot sleep|with my coffee|from my couch|before my shift|"
    "while walking the dog|at my desk|in the group chat"
)
CLOCKS = ["7am", "8:30", "9am", "10:15", "noon", "3pm", "4:45", "midnight", "2am", "6am"]

BACKGROUND_TEMPLATES: list[tuple[str, str]] = [
    ("food", "just had the best {food} from {food_place} {emoji}"),
    ("food", "{food} for {meal} again, no regrets"),
    ("food", "who wants to get {food} tonight"),
    ("food", "making {food} at home, wish me luck {emoji}"),
    ("food", "the {food} at {food_place} is {so} good"),
    ("food", "hot take: {food} is overrated"),
    ("food", "{meal} was {food_adj} today {emoji}"),
    ("food", "craving {food} and {food} at {clock}, {interj}"),
    ("coffee", "{ordinal} coffee of the day and it is only {clock}"),
    ("coffee", "need coffee asap {emoji}"),
    ("coffee", "{drink} from {cafe} hits different"),
    ("coffee", "no coffee no talkie {emoji}"),
    ("coffee", "decaf is a crime, change my mind"),
    ("coffee", "spent ${num} on a {drink}, i need help"),
    ("weather", "{so} {temp_adj} out today {emoji}"),
    ("weather", "{num}° and {temp_adj} in {city}, perfect {day_part} for a walk"),
    ("weather", "forecast says {temp_adj} all week in {city}"),
    ("weather", "forgot my jacket and it is {temp_adj}, {interj}"),
    ("weather", "finally some sunshine {emoji}"),
    ("weather", "why is it {temp_adj} in march, make it make sense"),
    ("sports", "{team} {result} {team} {score} {emoji}"),
    ("sports", "what a game last night, {team} looked {sport_adj}"),
    ("sports", "cannot believe the ref missed that, {team} got robbed"),
    ("sports", "{player} is the goat and i will not be taking questions"),
    ("sports", "heading to the game with {mention} {emoji} #gameday"),
    ("sports", "{player} with {num} points tonight, {so} good"),
    ("music", "listening to {artist} on repeat"),
    ("music", "new {artist} album is {music_adj}"),
    ("music", "this song has been stuck in my head all day {emoji}"),
    ("music", "playlist for the {day_part} drive: {artist}, {artist}, {artist}"),
    ("music", "{artist} live would change my life {emoji} #nowplaying"),
    ("work", "{num} meetings today and none of them needed to happen"),
    ("work", "this meeting could have been an email"),
    ("work", "monday again {emoji} #mondaymotivation"),
    ("work", "deadline at {clock}, send help"),
    ("work", "working from home today, the {pet} is my coworker #wfh"),
    ("work", "inbox zero, feeling unstoppable"),
    ("work", "my manager just scheduled a call for {clock} on a friday {emoji}"),
    ("weekend", "finally friday {emoji} #tgif"),
    ("weekend", "weekend plans: {activity} and {activity}"),
    ("weekend", "lazy sunday, {activity} all day"),
    ("weekend", "who is up for {activity} on saturday"),
    ("weekend", "{activity} then {food}, perfect {day_part}"),
    ("pets", "my {pet} just {pet_action} {emoji}"),
    ("pets", "{pet} tax {emoji} #caturday"),
    ("pets", "the {pet} woke me up at {clock} again"),
    ("pets", "took the {pet} to the park, best {day_part} ever"),
    ("pets", "my {pet} {pet_action} and honestly same"),
    ("misc", "cannot sleep, anyone else up"),
    ("misc", "{interj} this is so true {url}"),
    ("misc", "happy birthday {mention}!! {emoji}"),
    ("misc", "good {day_part} everyone {emoji}"),
    ("misc", "gym time, day {num} of being consistent"),
    ("misc", "traffic in {city} is insane today"),
    ("misc", "my phone battery is at {num}% and i am scared"),
    ("misc", "watching {show} tonight, no spoilers please"),
    ("misc", "{so} tired but cannot stop scrolling {emoji}"),
    ("misc", "{interj} {mention} you have to see this {url}"),
]


@dataclass(frozen=True)
class EventSpec:
    """A planted event: its time profile (in days from START), words and templates."""

    name: str
    start: float
    peak: float
    end: float
    share: float
    words: tuple[str, ...]
    tags: tuple[str, ...]
    templates: tuple[str, ...]
    places: tuple[str, ...]


_DISASTER_TEMPLATES = (
    "{k} {k} {k} {tag}",
    "{k} and {k} all over the news {emoji}",
    "omg the {k} {k} {url}",
    "{k} {k} near my {where} {tag}",
    "cannot stop watching the {k} coverage, {k} and {k}",
    "latest on the {k}: {k} {k} {url} {tag}",
    "{mention} did you see the {k} {k} {emoji}",
    "{k} {k} {place}, stay safe {tag}",
    "{k} {k} {k} {place} {tag} {tag}",
)
_FUN_TEMPLATES = (
    "{k} {k} {k} {tag}",
    "{k} and {k} all over my timeline {emoji}",
    "omg the {k} {k} {url}",
    "{mention} did you see the {k} {k} {emoji}",
    "not me refreshing for {k} {k} {k} news {tag}",
    "{k} {k} {place} {tag} {tag}",
    "{k} {k} {k} {place} {emoji}",
)

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        name="ridge_wildfire",
        start=1.5,
        peak=3.0,
        end=6.5,
        share=0.058,
        words=_w(
            "wildfire blaze firefighters evacuees acres "
            "containment smoke embers ridgeline firebreak"
        ),
        tags=_w("#ridgefire #ridgefireupdate"),
        templates=(
            *_DISASTER_TEMPLATES,
            "the air smells like {k} {emoji} {tag}",
            "{k} crews working the {k} all night, {k} {tag}",
        ),
        places=_w("off highway nine|above the valley|north of town|by the reservoir"),
    ),
    EventSpec(
        name="riverton_flood",
        start=4.25,
        peak=5.5,
        end=7.75,
        share=0.046,
        words=_w(
            "riverton floodwaters levee sandbags submerged "
            "rescuers overflowed swollen floodplain kayaks"
        ),
        tags=_w("#rivertonflood #floodwatch"),
        templates=(
            *_DISASTER_TEMPLATES,
            "{k} {k} filling {k} on every corner {tag}",
            "whole street {k}, {k} out with {k} {tag}",
        ),
        places=_w("on the east side|downtown|by the old bridge|near the school"),
    ),
    EventSpec(
        name="harborview_earthquake",
        start=8.6,
        peak=8.62,
        end=10.1,
        share=0.038,
        words=_w(
            "earthquake magnitude aftershock epicenter tremor "
            "seismic rubble harborview quake richter shaking"
        ),
        tags=_w("#harborquake #earthquake"),
        templates=(
            *_DISASTER_TEMPLATES,
            "felt that {k} {k} {k} {tag}",
            "another {k} just now, {k} {k} {emoji} {tag}",
        ),
        places=_w("near the harbor|downtown|out by the pier|across the bay"),
    ),
    EventSpec(
        name="nova_stadium_concert",
        start=11.8,
        peak=12.9,
        end=13.8,
        share=0.042,
        words=_w(
            "nova setlist encore soundcheck merch opener pyrotechnics singalong novanauts spotlight"
        ),
        tags=_w("#novalive #novaworldtour"),
        templates=(
            *_FUN_TEMPLATES,
            "the {k} at {k} {k} was unreal {emoji} {tag}",
            "still screaming about that {k} {k} {tag}",
        ),
        places=_w("at the stadium tonight|from the pit|in the nosebleeds|outside gate c"),
    ),
    EventSpec(
        name="zephyr_fold_launch",
        start=13.25,
        peak=14.0,
        end=15.75,
        share=0.046,
        words=_w(
            "zephyr unboxing preorder keynote chipset benchmarks bezels foldable hinge teardown"
        ),
        tags=_w("#zephyrfold #zephyrlaunch"),
        templates=(
            *_FUN_TEMPLATES,
            "{k} {k} looks {so} clean, {k} {tag}",
            "my {k} {k} video is up {url} {tag}",
        ),
        places=_w("at the event|in the store line|on the livestream|in my hands"),
    ),
    EventSpec(
        name="blizzard_olga",
        start=16.0,
        peak=17.5,
        end=19.5,
        share=0.050,
        words=_w(
            "blizzard olga snowdrifts whiteout snowplows "
            "snowfall frostbite snowbound shovels plowed"
        ),
        tags=_w("#blizzardolga #snowday #olgastorm"),
        templates=(
            *_DISASTER_TEMPLATES,
            "{k} {k} outside my window, {k} everywhere {tag}",
            "day two of {k} {k} {k} {emoji} {tag}",
        ),
        places=_w("on the interstate|in our driveway|on main street|up north"),
    ),
)


@dataclass(frozen=True)
class ShiftSpec:
    """A word whose planted context changes at SPLIT_DAY."""

    word: str
    contexts: tuple[tuple[str, ...], tuple[str, ...]]


SHIFTED: tuple[ShiftSpec, ...] = (
    ShiftSpec(
        "crash",
        (
            _w("stocks market shares investors nasdaq prices trading selloff dow economy"),
            _w(
                "train derailment passengers rail carriages "
                "station track injured locomotive commuters"
            ),
        ),
    ),
    ShiftSpec(
        "cloud",
        (
            _w("rain grey sky thunder drizzle overcast fluffy sunset horizon raincoat"),
            _w("storage servers aws datacenter backup kubernetes azure migration latency compute"),
        ),
    ),
    ShiftSpec(
        "virus",
        (
            _w(
                "malware antivirus hackers ransomware firewall "
                "laptop phishing trojan encrypted infected"
            ),
            _w("flu fever symptoms vaccine cough clinic outbreak doctors infection contagious"),
        ),
    ),
)
SHIFT_FILLERS = _w("the a after today again this just so big another wow now all more of is in and")

USER_FIRST = _w(
    "alex sam jordan maria chris taylor jamie priya leo mia noah emma liam ava omar sofia kai zoe "
    "ben nina raj luca ella finn ivy max lena theo ruby ezra"
)
USER_LAST = _w(
    "smith lee garcia chen patel brown kim lopez wright hughes moreno park reyes khan foster "
    "ortiz wood bell"
)
USER_EXTRA = ["", "_", "x", "tweets", "irl", "_official", "writes", "fan", "og", "codes"]


# --------------------------------------------------------------------------- helpers


def tokens(text: str) -> list[str]:
    """Lowercase word tokens as a tweet tokenizer would see them (no URLs, mentions, digits)."""
    text = MENTION_RE.sub(" ", URL_RE.sub(" ", text.lower()))
    return TOKEN_RE.findall(text)


def day_ms(day: float) -> int:
    """Milliseconds from START for a (fractional) day offset."""
    return round(day * DAY_MS)


def iso(ms: int) -> str:
    """ISO-8601 UTC with seconds, e.g. ``2026-03-01T00:00:00Z``."""
    return (START + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_date(ms: int) -> str:
    """X API v2 ``created_at``: ``2026-03-01T00:00:12.000Z``."""
    dt = START + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def v1_date(ms: int) -> str:
    """Twitter v1.1 ``created_at``: ``Sun Mar 01 00:00:12 +0000 2026`` (locale independent)."""
    dt = START + timedelta(milliseconds=ms)
    return (
        f"{WEEKDAYS[dt.weekday()]} {MONTHS[dt.month - 1]} {dt.day:02d} "
        f"{dt.strftime('%H:%M:%S')} +0000 {dt.year}"
    )


def diurnal(ms: int) -> float:
    """Relative posting rate by UTC hour (quiet around 04:00, busiest around 16:00)."""
    hour = (ms % DAY_MS) / 3_600_000
    return 0.3 + 0.7 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4) / 24))


def burst(day: float, ev: EventSpec) -> float:
    """Burst profile of an event in [0, 1]: ramp up to the peak, then exponential fade."""
    if day < ev.start or day > ev.end:
        return 0.0
    if day <= ev.peak:
        rise = (day - ev.start) / max(ev.peak - ev.start, 1e-9)
        return 0.08 + 0.92 * rise**1.5
    return math.exp(-3.0 * (day - ev.peak) / (ev.end - ev.peak))


def sample_times(
    rng: random.Random, n: int, lo_ms: int, hi_ms: int, rate: Callable[[int], float]
) -> list[int]:
    """Draw ``n`` times in ``[lo_ms, hi_ms)`` by rejection sampling against ``rate`` (max 1)."""
    out: list[int] = []
    while len(out) < n:
        t = lo_ms + int(rng.random() * (hi_ms - lo_ms))
        if rng.random() < rate(t):
            out.append(t)
    return out


def elongate(rng: random.Random, word: str) -> str:
    """Tweet-style elongation: ``so`` -> ``sooo``."""
    return word + word[-1] * rng.randint(2, 4)


def url(rng: random.Random) -> str:
    """A t.co-style short link."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "https://t.co/" + "".join(rng.choice(alphabet) for _ in range(10))


def cap_first(text: str) -> str:
    """Capitalise the first character."""
    return text[:1].upper() + text[1:]


def tidy(text: str) -> str:
    """Collapse whitespace left by empty slots."""
    return re.sub(r"\s+", " ", text).strip().replace(" ,", ",")


@dataclass
class User:
    """A synthetic account."""

    id: str
    username: str


def make_users(rng: random.Random, n: int) -> list[User]:
    """``n`` users with unique usernames and numeric ids."""
    users: list[User] = []
    seen: set[str] = set()
    while len(users) < n:
        name = rng.choice(USER_FIRST) + rng.choice(["", "_", "."]) + rng.choice(USER_LAST)
        name = name.replace(".", "") + rng.choice(USER_EXTRA)
        if rng.random() < 0.5:
            name += str(rng.randint(1, 999))
        if name in seen or len(name) > 15:
            continue
        seen.add(name)
        created = rng.randint(1_300_000_000_000, 1_760_000_000_000)
        uid = ((created - TWITTER_EPOCH_MS) << 22) | rng.randint(0, 4095)
        users.append(User(str(uid), name))
    return users


# --------------------------------------------------------------------------- text generators


class TextMaker:
    """Generates tweet texts for each category from its own random stream."""

    def __init__(self, seed: int, users: list[User]) -> None:
        self.users = users
        self.bg = random.Random(f"{seed}:background")
        self.ev = random.Random(f"{seed}:events")
        self.sh = random.Random(f"{seed}:shifted")

    def mention(self, rng: random.Random) -> str:
        """``@username`` of a random user."""
        return "@" + rng.choice(self.users).username

    def decorate(self, rng: random.Random, text: str, *, tags: bool = True) -> str:
        """Add the usual tweet surface: leading mention, emoji, hashtag, link, casing."""
        if rng.random() < 0.15:
            text = f"{self.mention(rng)} {text}"
        if rng.random() < 0.2:
            text += " " + rng.choice(EMOJI)
        if tags and rng.random() < 0.12:
            text += " " + rng.choice(BG_TAGS)
        if rng.random() < 0.08 and "https://" not in text:
            text += " " + url(rng)
        r = rng.random()
        if r < 0.45:
            text = cap_first(text)
        elif r < 0.48:
            text = text.upper()
        return tidy(text)

    def background(self) -> str:
        """Everyday chatter from the background templates."""
        rng = self.bg
        _, template = rng.choice(BACKGROUND_TEMPLATES)
        fillers: dict[str, Callable[[], str]] = {
            "food": lambda: rng.choice(FOODS),
            "food_place": lambda: rng.choice(FOOD_PLACES),
            "meal": lambda: rng.choice(MEALS),
            "food_adj": lambda: rng.choice(FOOD_ADJ),
            "drink": lambda: rng.choice(DRINKS),
            "cafe": lambda: rng.choice(CAFES),
            "ordinal": lambda: rng.choice(ORDINALS),
            "temp_adj": lambda: rng.choice(TEMP_ADJ),
            "city": lambda: rng.choice(CITIES),
            "day_part": lambda: rng.choice(DAY_PARTS),
            "team": lambda: rng.choice(TEAMS),
            "result": lambda: rng.choice(RESULTS),
            "score": lambda: rng.choice(SCORES),
            "sport_adj": lambda: rng.choice(SPORT_ADJ),
            "player": lambda: rng.choice(PLAYERS),
            "artist": lambda: rng.choice(ARTISTS),
            "music_adj": lambda: rng.choice(MUSIC_ADJ),
            "pet": lambda: rng.choice(PETS),
            "pet_action": lambda: rng.choice(PET_ACTIONS),
            "activity": lambda: rng.choice(ACTIVITIES),
            "show": lambda: rng.choice(SHOWS),
            "clock": lambda: rng.choice(CLOCKS),
            "num": lambda: str(rng.randint(2, 99)),
            "emoji": lambda: rng.choice(EMOJI) if rng.random() < 0.7 else "",
            "interj": lambda: rng.choice(INTERJECTIONS),
            "mention": lambda: self.mention(rng),
            "url": lambda: url(rng),
            "so": lambda: elongate(rng, "so") if rng.random() < 0.5 else "so",
        }
        text = re.sub(r"\{(\w+)\}", lambda m: fillers[m.group(1)](), template)
        if rng.random() < 0.15:
            word = rng.choice(ELONGATABLE)
            text = f"{elongate(rng, word)} {text}" if rng.random() < 0.5 else f"{text} {word}"
        if rng.random() < 0.1:
            text += " " + rng.choice(INTERJECTIONS)
        return self.decorate(rng, text)

    def event(self, ev: EventSpec) -> str:
        """An event tweet: 2-4 event words (plus hashtags) mixed with a little chatter."""
        rng = self.ev
        template = rng.choice(ev.templates)
        n_k = template.count("{k}")
        words = rng.sample(ev.words, n_k)
        if n_k < 2:
            words.append(rng.choice([w for w in ev.words if w not in words]))
        it = iter(words)
        tag_weights = [3] + [1] * (len(ev.tags) - 1)

        def fill(m: re.Match[str]) -> str:
            key = m.group(1)
            if key == "k":
                return next(it)
            if key == "tag":
                return rng.choices(ev.tags, tag_weights)[0] if rng.random() < 0.7 else ""
            if key == "place":
                return rng.choice(ev.places)
            if key == "where":
                return rng.choice(["house", "office", "school", "parents place", "work"])
            if key == "emoji":
                return rng.choice(EMOJI)
            if key == "url":
                return url(rng)
            if key == "mention":
                return self.mention(rng)
            if key == "so":
                return elongate(rng, "so")
            raise KeyError(key)

        text = re.sub(r"\{(\w+)\}", fill, template)
        extra = list(it)
        if extra:
            text += " " + " ".join(extra)
        if rng.random() < 0.25:
            text += " " + rng.choice(BG_SNIPPETS)
        if not any(t in text.lower() for t in ev.tags) and rng.random() < 0.3:
            text += " " + rng.choice(ev.tags)
        text = self.decorate(rng, text, tags=False)
        if rng.random() < 0.3:  # hashtags in CamelCase now and then
            text = re.sub(r"#(\w)", lambda m: "#" + m.group(1).upper(), text)
        return text

    def shifted(self, spec: ShiftSpec, period: int) -> str:
        """A short, dense tweet: the shifted word, 3-6 context words and a few fillers."""
        rng = self.sh
        ctx = rng.sample(spec.contexts[period], rng.randint(3, 6))
        fill = rng.sample(SHIFT_FILLERS, rng.randint(2, 3))
        words = ctx + fill
        rng.shuffle(words)
        words.insert(len(words) // 2, spec.word)
        text = " ".join(words)
        r = rng.random()
        if r < 0.3:
            text += "!"
        elif r < 0.4:
            text += "?"
        elif r < 0.55:
            text += " " + rng.choice(EMOJI)
        if rng.random() < 0.5:
            text = cap_first(text)
        if rng.random() < 0.08:
            text = f"{self.mention(rng)} {text}"
        if rng.random() < 0.05:
            text += " " + url(rng)
        return text


# --------------------------------------------------------------------------- stream assembly


@dataclass
class Item:
    """One line of the stream before serialisation."""

    ms: int
    kind: str  # background | event | shifted | retweet | duplicate | reject
    tag: str = ""  # event name, "<word>:<period>", or reject kind
    text: str = ""
    user: User | None = None
    fmt: str = "v2"
    id: str = ""
    source: Item | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def snowflake(ms: int, seq: int) -> str:
    """Snowflake-like id for a tweet created at ``START + ms``."""
    abs_ms = int((START.timestamp()) * 1000) + ms
    return str(((abs_ms - TWITTER_EPOCH_MS) << 22) | seq)


def period_of(ms: int) -> int:
    """0 before SPLIT_DAY, 1 after."""
    return 0 if ms < SPLIT_DAY * DAY_MS else 1


def eligible(src: Item, ms: int) -> bool:
    """May ``src`` be retweeted/duplicated at ``ms`` without leaking planted words out of span?"""
    if src.kind == "event":
        ev = next(e for e in EVENTS if e.name == src.tag)
        return ms <= day_ms(ev.end)
    if src.kind == "shifted":
        return period_of(ms) == period_of(src.ms)
    return ms - src.ms < 3 * DAY_MS


def v2_obj(it: Item) -> dict[str, Any]:
    """X API v2 flat tweet object (with its gold ``labels`` when it has one)."""
    assert it.user is not None
    obj = {
        "id": it.id,
        "text": it.text,
        "created_at": v2_date(it.ms),
        "lang": "en",
        "author_id": it.user.id,
    }
    if "topic" in it.extra:
        obj["labels"] = {"topic": it.extra["topic"]}
    return obj


def v1_obj(it: Item) -> dict[str, Any]:
    """Twitter v1.1 tweet object (retweets carry the original under ``retweeted_status``)."""
    assert it.user is not None
    obj: dict[str, Any] = {
        "id_str": it.id,
        "full_text": it.text,
        "created_at": v1_date(it.ms),
        "lang": "en",
        "user": {"id_str": it.user.id, "screen_name": it.user.username},
    }
    if it.source is not None:
        obj["retweeted_status"] = v1_obj(it.source)
    if "topic" in it.extra:
        obj["labels"] = {"topic": it.extra["topic"]}
    return obj


def serialise(it: Item) -> dict[str, Any]:
    """The JSON object for a valid line in its format."""
    if it.fmt == "v1.1":
        return v1_obj(it)
    if it.fmt == "v2_envelope":
        assert it.user is not None
        return {
            "data": v2_obj(it),
            "includes": {"users": [{"id": it.user.id, "username": it.user.username}]},
        }
    return v2_obj(it)


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def reject_line(rng: random.Random, it: Item, bg: TextMaker) -> bytes:
    """A deliberately malformed line of kind ``it.tag``."""
    obj = v2_obj(it)
    kind = it.tag
    if kind == "broken_json":
        raw = dumps(obj).decode("utf-8")
        style = rng.randrange(4)
        if style == 0:  # truncated mid-record
            return raw[: rng.randint(10, len(raw) - 5)].encode("utf-8")
        if style == 1:  # python-style single quotes
            return str(obj).encode("utf-8")
        if style == 2:  # trailing comma
            return (raw[:-1] + ",}").encode("utf-8")
        return raw.replace('"text":', '"text" ', 1).encode("utf-8")  # missing colon
    if kind == "empty_text":
        obj["text"] = rng.choice(["", " ", "   "])
        return dumps(obj)
    if kind == "missing_text":
        del obj["text"]
        return dumps(obj)
    if kind == "bad_date":
        obj["created_at"] = rng.choice(
            [
                "2026-02-30T12:00:00.000Z",
                "2026-03-05T25:61:00.000Z",
                "yesterday",
                "",
                "Sun Mar 32 10:00:00 +0000 2026",
                "03/05/2026 10:00",
                "2026-13-01T00:00:00.000Z",
            ]
        )
        return dumps(obj)
    if kind == "invalid_utf8":
        obj["text"] = obj["text"] + " BADBYTES"
        return dumps(obj).replace(b"BADBYTES", rng.choice([b"\xff\xfe", b"caf\xe9", b"\xc3\x28"]))
    if kind == "oversize":
        parts: list[str] = []
        size = 0
        while size < OVERSIZE_CHARS:
            parts.append(bg.background())
            size += len(parts[-1]) + 1
        obj["text"] = " ".join(parts)
        return dumps(obj)
    raise ValueError(kind)


def build(seed: int, n_lines: int) -> tuple[list[bytes], dict[str, Any]]:
    """Build the stream lines and the ground truth."""
    if n_lines < 2000:
        raise ValueError("need at least 2000 lines for the planted structure")
    rng = random.Random(f"{seed}:layout")
    users = make_users(random.Random(f"{seed}:users"), max(500, n_lines // 10))
    cum_weights = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(users))))
    maker = TextMaker(seed, users)
    span_ms = DAYS * DAY_MS

    n_rej = max(6, round(n_lines * REJECT_SHARE))
    n_rt = round(n_lines * RETWEET_SHARE)
    n_dup = round(n_lines * DUPLICATE_SHARE)
    n_shift = round(n_lines * SHIFTED_SHARE)
    ev_counts = {ev.name: round(n_lines * ev.share) for ev in EVENTS}
    n_orig = n_lines - n_rej - n_rt - n_dup
    n_bg = n_orig - 2 * n_shift * len(SHIFTED) - sum(ev_counts.values())

    items: list[Item] = []
    for t in sample_times(rng, n_bg, 0, span_ms, diurnal):
        items.append(Item(t, "background"))
    for ev in EVENTS:
        lo, hi = day_ms(ev.start), day_ms(ev.end)

        def rate(t: int, ev: EventSpec = ev) -> float:
            return burst(t / DAY_MS, ev) * diurnal(t)

        for t in sample_times(rng, ev_counts[ev.name], lo, hi + 1, rate):
            items.append(Item(t, "event", ev.name))
    for spec in SHIFTED:
        for period in (0, 1):
            lo, hi = period * SPLIT_DAY * DAY_MS, (period + 1) * SPLIT_DAY * DAY_MS
            for t in sample_times(rng, n_shift, lo, hi, diurnal):
                items.append(Item(t, "shifted", f"{spec.word}:{period}"))
    two_h = 2 * 3_600_000
    for t in sample_times(rng, n_rt, two_h, span_ms, diurnal):
        items.append(Item(t, "retweet"))
    for t in sample_times(rng, n_dup, two_h, span_ms, diurnal):
        items.append(Item(t, "duplicate"))
    reject_kinds = ["oversize"] + [
        ["broken_json", "broken_json", "empty_text", "missing_text", "bad_date", "invalid_utf8"][
            i % 6
        ]
        for i in range(n_rej - 1)
    ]
    rng.shuffle(reject_kinds)
    for t, kind in zip(sample_times(rng, n_rej, 0, span_ms, diurnal), reject_kinds, strict=True):
        items.append(Item(t, "reject", kind))
    order = {"background": 0, "event": 0, "shifted": 0, "retweet": 1, "duplicate": 1, "reject": 1}
    items.sort(key=lambda it: (it.ms, order[it.kind]))

    # Assign ids, authors, formats and texts in time order.
    shifts = {s.word: s for s in SHIFTED}
    events = {e.name: e for e in EVENTS}
    seen_texts: set[str] = set()
    originals: list[Item] = []
    last_ms, seq = -1, 0
    for it in items:
        seq = seq + 1 if it.ms == last_ms else rng.randrange(8)
        last_ms = it.ms
        it.id = snowflake(it.ms, seq)
        it.user = users[rng.choices(range(len(users)), cum_weights=cum_weights)[0]]
        r = rng.random()
        it.fmt = (
            "v2_envelope"
            if r < ENVELOPE_SHARE
            else "v1.1"
            if r < ENVELOPE_SHARE + V11_SHARE
            else "v2"
        )
        if it.kind in ("retweet", "duplicate"):
            pool = [s for s in originals[-600:] if eligible(s, it.ms)]
            if not pool:
                pool = [s for s in originals if s.kind == "background"]
            weights = [3.0 if s.kind == "event" else 1.0 for s in pool]
            src = rng.choices(pool, weights)[0]
            it.tag = src.tag
            it.extra["source_kind"] = src.kind
            if it.kind == "retweet":
                assert src.user is not None
                it.fmt = "v1.1"
                it.source = src
                it.text = f"RT @{src.user.username}: {src.text}"
            else:
                it.text = src.text
            continue
        if it.kind == "reject":
            continue
        for _ in range(100):
            if it.kind == "background":
                text = maker.background()
            elif it.kind == "event":
                text = maker.event(events[it.tag])
            else:
                word, period = it.tag.split(":")
                text = maker.shifted(shifts[word], int(period))
            if text not in seen_texts:
                break
        else:
            raise RuntimeError("could not make a unique text")
        seen_texts.add(text)
        it.text = text
        originals.append(it)

    # Gold labels on a share of the original tweets (their own generator: the rest of
    # the stream is the same with or without them).
    label_rng = random.Random(f"{seed}:labels")
    for it in originals:
        if label_rng.random() < LABEL_SHARE:
            it.extra["topic"] = it.tag if it.kind == "event" else "chatter"

    # Serialise.
    rej_rng = random.Random(f"{seed}:rejects")
    lines: list[bytes] = []
    rejects: list[dict[str, Any]] = []
    formats = {"v2": 0, "v2_envelope": 0, "v1.1": 0}
    for lineno, it in enumerate(items, start=1):
        if it.kind == "reject":
            it.text = maker.background()
            lines.append(reject_line(rej_rng, it, maker))
            rejects.append({"line": lineno, "kind": it.tag})
            continue
        formats[it.fmt] += 1
        lines.append(dumps(serialise(it)))
    truth = make_truth(seed, items, rejects, formats)
    check_planted_vocabulary(items, truth)
    return lines, truth


def make_truth(
    seed: int, items: list[Item], rejects: list[dict[str, Any]], formats: dict[str, int]
) -> dict[str, Any]:
    """Ground truth for the planted structure."""
    valid = [it for it in items if it.kind != "reject"]
    events_out = []
    for ev in EVENTS:
        peak_ms = day_ms(ev.peak)
        events_out.append(
            {
                "name": ev.name,
                "start": iso(day_ms(ev.start)),
                "end": iso(day_ms(ev.end)),
                "peak": iso(peak_ms),
                "keywords": [*ev.words, *ev.tags],
                "tweets": sum(1 for it in valid if it.tag == ev.name),
            }
        )
    shifted_out = []
    for spec in SHIFTED:
        periods = []
        for p in (0, 1):
            lo, hi = p * SPLIT_DAY * DAY_MS, (p + 1) * SPLIT_DAY * DAY_MS
            periods.append(
                {
                    "start": iso(lo),
                    "end": iso(hi),
                    "context_words": list(spec.contexts[p]),
                    "tweets": sum(1 for it in valid if it.tag == f"{spec.word}:{p}"),
                }
            )
        shifted_out.append({"word": spec.word, "periods": periods})
    bg_words: set[str] = set()
    for it in valid:
        if it.kind == "background" or it.extra.get("source_kind") == "background":
            bg_words.update(tokens(it.text))
    n_bg = sum(
        1 for it in valid if it.kind == "background" or it.extra.get("source_kind") == "background"
    )
    return {
        "seed": seed,
        "tweets": len(items),
        "valid_records": len(valid),
        "line_numbers": "1-based",
        "start": iso(0),
        "end": iso(DAYS * DAY_MS),
        "events": events_out,
        "shifted_words": shifted_out,
        "background_words": sorted(bg_words),
        "background_tweets": n_bg,
        "planted_rejects": rejects,
        "retweets": sum(1 for it in valid if it.kind == "retweet"),
        "duplicates": sum(1 for it in valid if it.kind == "duplicate"),
        "formats": formats,
        "labels": {
            "name": "topic",
            "share": LABEL_SHARE,
            "counts": dict(Counter(it.extra["topic"] for it in valid if "topic" in it.extra)),
        },
    }


def check_planted_vocabulary(items: list[Item], truth: dict[str, Any]) -> None:
    """Fail loudly if planted words leak into the wrong tweets (a bug in the vocabularies)."""
    owner: dict[str, str] = {}
    for ev in truth["events"]:
        for w in ev["keywords"]:
            if w in owner:
                raise AssertionError(f"{w!r} planted twice")
            owner[w] = ev["name"]
    for sw in truth["shifted_words"]:
        for p, period in enumerate(sw["periods"]):
            for w in [sw["word"], *period["context_words"]]:
                key = sw["word"] if w == sw["word"] else f"{sw['word']}:{p}"
                if w in owner and owner[w] != key:
                    raise AssertionError(f"{w!r} planted twice")
                owner[w] = key
    for it in items:
        if it.kind == "reject":
            continue
        for tok in set(tokens(it.text)):
            own = owner.get(tok)
            if own is None:
                continue
            same_word = it.tag.split(":")[0] == own
            ok = own == it.tag or (it.kind in ("shifted", "retweet", "duplicate") and same_word)
            if not ok:
                raise AssertionError(f"planted word {tok!r} leaked into {it.kind}: {it.text!r}")


def write(lines: list[bytes], truth: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write the gzip stream (mtime 0, reproducible bytes) and the truth JSON."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stream_path = out_dir / STREAM_NAME
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        for line in lines:
            gz.write(line + b"\n")
    stream_path.write_bytes(buf.getvalue())
    truth_path = out_dir / TRUTH_NAME
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return stream_path, truth_path


def generate(out_dir: Path, seed: int = 7, tweets: int = 24_000) -> dict[str, Any]:
    """Build and write the sample stream; returns the truth dict."""
    lines, truth = build(seed, tweets)
    write(lines, truth, out_dir)
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tweets", type=int, default=24_000, help="number of lines")
    parser.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "data")
    args = parser.parse_args(argv)
    truth = generate(args.out_dir, args.seed, args.tweets)
    print(
        f"wrote {truth['tweets']} lines ({len(truth['planted_rejects'])} rejects, "
        f"{truth['retweets']} retweets, {truth['duplicates']} duplicates) to {args.out_dir}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
