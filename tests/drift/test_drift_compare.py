"""``textcl drift --compare`` on real tweets: adaptive settings, injected change, CLI options."""

from __future__ import annotations

import inspect
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.consumers.drift_report import CompareSection
from textcl.drift.compare import (
    ADAPTIVE,
    DEFAULT_W2V,
    adaptive_settings,
    compare_corpora,
    inject_change,
)
from textcl.input.readers import read_tweets
from textcl.text.tokenize import TweetTokenizer

EVENTS = ("2012_Colorado_wildfires", "2013_Boston_bombings", "2013_Alberta_floods")
runner = CliRunner()


@pytest.fixture(scope="module")
def real_docs(crisislex_t26: Path) -> list[list[str]]:
    """About 10k tokenised CrisisLex tweets of three events, interleaved."""
    tok = TweetTokenizer()
    per_event = [
        tok.tokenize_many([t.text for t in read_tweets(crisislex_t26 / e, "crisislex")])
        for e in EVENTS
    ]
    docs = [d for group in zip(*per_event, strict=False) for d in group if d]
    seen, out = set(), []
    for d in docs:
        if tuple(d) not in seen:
            seen.add(tuple(d))
            out.append(d)
    return out


@pytest.fixture(scope="module")
def injected(real_docs: list[list[str]]) -> dict:
    """A/B halves of the slice; in B two targets fully take a donor's contexts."""
    a, b = real_docs[0::2], real_docs[1::2]
    freq = Counter(w for d in a for w in d) & Counter(w for d in b for w in d)
    words = [w for w, c in freq.most_common(400) if w.isalpha() and len(w) > 3 and c >= 40]
    targets = words[10:16]
    donors = words[20:26]
    shares = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    b2 = inject_change(b, list(zip(targets, donors, strict=True)), shares, seed=3)
    return {"a": a, "b": b2, "targets": targets, "changed": targets[:2]}


def test_adaptive_settings_follow_the_corpus_size() -> None:
    small, mid, big = (adaptive_settings(n) for n in (10_000, 150_000, 100_000_000))
    assert small["epochs"] == ADAPTIVE["max_epochs"]
    assert mid["epochs"] == round(ADAPTIVE["token_passes"] / 150_000)
    assert big["epochs"] == ADAPTIVE["min_epochs"]
    assert small["vector_size"] == big["vector_size"] == ADAPTIVE["vector_size"]


def test_inject_change_swaps_the_given_share() -> None:
    docs = [["a", "x", "b"], ["b", "y"], ["a", "z"], ["a"], ["b", "a"]] * 20
    full = inject_change(docs, [("a", "b")], [1.0], seed=1)
    assert full == [[{"a": "b", "b": "a"}.get(w, w) for w in d] for d in docs]
    half = inject_change(docs, [("a", "b")], [0.5], seed=1)
    before, after = Counter(w for d in docs for w in d), Counter(w for d in half for w in d)
    assert before["a"] == 80 and before["b"] == 60
    # 40 of a's 80 became b, 30 of b's 60 became a: a keeps 40 + 30, b 30 + 40
    assert after["a"] == 70 and after["b"] == 70
    assert after["x"] == before["x"] and inject_change(docs, [("a", "b")], [0.0]) == docs
    assert inject_change(docs, [("a", "b")], [0.5], seed=1) == half
    with pytest.raises(ValueError, match="more than one pair"):
        inject_change(docs, [("a", "b"), ("b", "x")], [0.1, 0.2])


def test_defaults_find_injected_change_in_real_tweets(injected: dict) -> None:
    result = compare_corpora(
        Path("a"), Path("b"), injected["targets"], docs_a=injected["a"], docs_b=injected["b"]
    )
    assert result["settings"]["adaptive"] == ["epochs", "vector_size", "window"]
    assert result["settings"]["epochs"] == ADAPTIVE["max_epochs"]  # a small corpus
    ranked = [r["term"] for r in result["targets"]]
    assert set(ranked[:2]) == set(injected["changed"]), ranked
    assert not result["missing"]


def test_compare_section_matches_compare_corpora() -> None:
    params = inspect.signature(compare_corpora).parameters
    kwargs = CompareSection().compare_kwargs()
    for key, value in kwargs.items():
        if key == "min_count":
            assert value == DEFAULT_W2V["min_count"]
        elif key == "seeds":
            assert value == list(params["seeds"].default)
        else:
            assert value == params[key].default, key


def _write(path: Path, docs: list[list[str]]) -> Path:
    path.write_text("".join(" ".join(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_cli_compare_options_and_pipeline_section(injected: dict, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", injected["a"][:1500])
    b = _write(tmp_path / "b.txt", injected["b"][:1500])
    targets = tmp_path / "targets.txt"
    targets.write_text("\n".join(injected["targets"]) + "\n", encoding="utf-8")
    base = ["drift", "--compare", str(a), str(b), "--targets", str(targets)]

    out = tmp_path / "flags"
    args = [*base, "--epochs", "2", "--dim", "16", "--window", "3", "--tokenized",
            "--score", "cosine", "--seeds", "4", "--out", str(out)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "epochs 2, vector_size 16, window 3; score cosine" in result.output
    settings = json.loads((out / "report.json").read_text())["settings"]
    assert (settings["epochs"], settings["vector_size"], settings["window"]) == (2, 16, 3)
    assert settings["adaptive"] == [] and settings["score"] == "cosine"
    assert json.loads((out / "report.json").read_text())["seeds"] == [4]

    pipeline = tmp_path / "p.toml"
    pipeline.write_text("[drift.compare]\nepochs = 3\nseeds = [7]\nscore = \"lnc\"\n")
    out = tmp_path / "pipe"
    result = runner.invoke(
        app, [*base, "-p", str(pipeline), "--dim", "12", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "window 10 (from corpus size)" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["seeds"] == [7] and report["settings"]["score"] == "lnc"
    assert (report["settings"]["epochs"], report["settings"]["vector_size"]) == (3, 12)
    assert report["settings"]["adaptive"] == ["window"]

    bad = runner.invoke(app, [*base, "--score", "euclid", "--epochs", "1"])
    assert bad.exit_code == 2 and "use one of cosine, lnc, cosine+lnc" in bad.output
    bad = runner.invoke(app, [*base, "--seeds", "one"])
    assert bad.exit_code == 2 and "--seeds 'one'" in bad.output
    pipeline.write_text("[drift.compare]\nscore = \"euclid\"\n")
    bad = runner.invoke(app, [*base, "-p", str(pipeline)])
    assert bad.exit_code == 2 and "[drift.compare] score" in bad.output
