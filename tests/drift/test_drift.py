"""Drift reports on the sample stream: planted shifted words move, stable words do not."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from gensim.models.keyedvectors import KeyedVectors

from textcl.drift import (
    align_to,
    compare_corpora,
    corpora_from_stream,
    load_snapshots,
    procrustes,
    read_corpus,
    read_targets,
    shared_space,
    snapshot_drift,
    write_report,
)
from textcl.drift.measures import jaccard
from textcl.paths import sample_stream_path, sample_truth_path
from textcl.pipeline import Pipeline

TRUTH = json.loads(sample_truth_path().read_text())
SHIFTED = [s["word"] for s in TRUTH["shifted_words"]]
BOUNDARY = TRUTH["shifted_words"][0]["periods"][1]["start"]
STABLE = ["coffee", "birthday", "afternoon", "evening", "battery", "album", "craving"]


@pytest.fixture(scope="module")
def snap_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drift_stream")
    Pipeline().run(sample_stream_path(), out_dir=out)
    return out / "snapshots"


@pytest.fixture(scope="module")
def snaps(snap_dir: Path) -> list[KeyedVectors]:
    return load_snapshots(snap_dir)


@pytest.fixture(scope="module")
def drift(snaps: list[KeyedVectors]) -> dict:
    return snapshot_drift(snaps, [*SHIFTED, "coffee", "notaword"], topn=10, movers=20)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return corpora_from_stream(
        sample_stream_path(), BOUNDARY, tmp_path_factory.mktemp("drift_corpora")
    )


@pytest.fixture(scope="module")
def compared(corpora: tuple[Path, Path]) -> dict:
    a, b = corpora
    return compare_corpora(a, b, [*SHIFTED, *STABLE, "notaword"], seeds=(1, 2))


def test_load_snapshots_sorted_with_tags(snaps: list[KeyedVectors], snap_dir: Path) -> None:
    assert len(snaps) == 20
    assert [kv.tag["window"] for kv in snaps] == list(range(20))
    assert all("start" in kv.tag and "count" in kv.expandos for kv in snaps)
    assert shared_space(snaps)  # one continually-trained model: no alignment
    assert len(load_snapshots(snap_dir.parent)) == 20  # the OUT folder works too
    with pytest.raises(FileNotFoundError):
        load_snapshots(snap_dir.parent / "nothing-here")


def test_shifted_words_are_top_movers(drift: dict) -> None:
    assert drift["mode"] == "snapshots" and drift["aligned"] is False
    top = [m["term"] for m in drift["movers"][:5]]
    assert set(SHIFTED) <= set(top), top
    assert len(drift["movers"]) == 20
    first = drift["movers"][0]
    assert set(first) >= {"term", "score", "neighbors_first", "neighbors_last"}
    scores = [m["score"] for m in drift["movers"]]
    assert scores == sorted(scores, reverse=True)
    # the change is located at the planted boundary (window 10 starts 2026-03-11)
    for m in drift["movers"]:
        if m["term"] in SHIFTED:
            assert 3 <= m["split_window"] <= 12


def _window(drift: dict, term: str, window: int) -> dict:
    return next(r for r in drift["terms"][term]["windows"] if r["window"] == window)


def test_neighbour_overlap_across_the_boundary(drift: dict) -> None:
    periods = {s["word"]: s["periods"] for s in TRUTH["shifted_words"]}
    for word in SHIFTED:
        before = [w for w, _ in _window(drift, word, 9)["neighbours"]]
        after = [w for w, _ in _window(drift, word, 19)["neighbours"]]
        assert jaccard(before, after) <= 0.2, (word, before, after)
        # neighbours are the planted context words of each period
        assert len(set(before) & set(periods[word][0]["context_words"])) >= 7
        assert len(set(after) & set(periods[word][1]["context_words"])) >= 7
        assert _window(drift, word, 19)["jaccard_last"] == 1.0
    before = [w for w, _ in _window(drift, "coffee", 9)["neighbours"]]
    after = [w for w, _ in _window(drift, "coffee", 19)["neighbours"]]
    assert jaccard(before, after) >= 0.4, (before, after)
    rows = drift["terms"]["crash"]["windows"]
    assert rows[0]["jaccard_prev"] is None and rows[1]["jaccard_prev"] is not None
    assert all(
        set(r) >= {"window", "start", "neighbours", "jaccard_prev", "cosine_prev", "lnc_prev"}
        for r in rows
    )
    missing = drift["terms"]["notaword"]
    assert missing["present"] is False and missing["windows"][0]["neighbours"] == []


def test_aligned_mode_keeps_top_movers(snaps: list[KeyedVectors]) -> None:
    res = snapshot_drift(snaps[8:], SHIFTED, movers=10, align=True)
    plain = snapshot_drift(snaps[8:], SHIFTED, movers=10)
    assert res["aligned"] is True and plain["aligned"] is False
    aligned_top = [m["term"] for m in res["movers"]]
    assert set(SHIFTED) <= set(aligned_top[:8]), aligned_top
    # aligning a shared space changes little: most movers are the same
    assert len(set(aligned_top) & {m["term"] for m in plain["movers"]}) >= 7


def test_procrustes_recovers_a_rotation() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 20))
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    b = a @ q.T  # b = a rotated by q^-1
    r = procrustes(b, a)
    np.testing.assert_allclose(r, q, atol=1e-8)
    np.testing.assert_allclose(b @ r, a, atol=1e-8)

    keys = [f"w{i}" for i in range(300)]
    base, other = KeyedVectors(20), KeyedVectors(20)
    base.add_vectors(keys, a.astype(np.float32))
    noise = rng.normal(scale=0.01, size=a.shape)
    other.add_vectors(keys, (b + noise).astype(np.float32))
    al = align_to(base, other)
    unit_a = a / np.linalg.norm(a, axis=1, keepdims=True)
    cos = np.sum(unit_a * al.vectors, axis=1) / np.linalg.norm(al.vectors, axis=1)
    assert cos.min() > 0.99
    # without alignment the spaces disagree
    unit_b = b / np.linalg.norm(b, axis=1, keepdims=True)
    assert np.median(np.sum(unit_a * unit_b, axis=1)) < 0.5


def test_read_corpus_detects_tokenised(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text("Hello WORLD!! http://x.co @bob\n\nSecond Line, here\n")
    assert read_corpus(raw) == [["hello", "world", "http", "@user"], ["second", "line", "here"]]
    tok = tmp_path / "tok.txt"
    tok.write_text("hello world <num>\nsecond line\n")
    assert read_corpus(tok) == [["hello", "world", "<num>"], ["second", "line"]]
    targets = tmp_path / "targets.txt"
    targets.write_text("crash\n# a comment\n\n#hashtag\ncrash\n")
    assert read_targets(targets) == ["crash", "#hashtag"]


def test_compare_corpora_ranks_shifted_words_first(compared: dict) -> None:
    assert compared["mode"] == "compare"
    ranked = [r["term"] for r in compared["targets"]]
    assert set(ranked[:3]) == set(SHIFTED), ranked
    assert set(ranked[3:]) == set(STABLE)
    assert [m["term"] for m in compared["missing"]] == ["notaword"]
    worst_shift = min(r["score"] for r in compared["targets"] if r["term"] in SHIFTED)
    best_stable = max(r["score"] for r in compared["targets"] if r["term"] in STABLE)
    assert worst_shift > best_stable + 0.1
    crash = next(r for r in compared["targets"] if r["term"] == "crash")
    assert {"stocks", "market"} & {w for w, _, _ in crash["neighbors_a"]}
    assert {"train", "rail"} & {w for w, _, _ in crash["neighbors_b"]}
    # a neighbour's similarity is its mean over the seeds that found it, with that support
    for _, sim, support in crash["neighbors_a"] + crash["neighbors_b"]:
        assert 0.0 < sim <= 1.0 and support in (1, 2)
    assert crash["neighbors_a"][0][2] == 2 and crash["neighbors_a"][0][1] > 0.3
    assert compared["settings"]["adaptive"] == ["epochs", "vector_size", "window"]
    st = compared["stability"]
    assert len(st["between_single_seeds"]) == 1 and st["spearman_mean"] > 0.5
    assert 80_000 < compared["corpora"]["tokens_a"] < 200_000


def _parse_html(path: Path) -> tuple[int, str]:
    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.imgs = 0
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "img":
                src = dict(attrs)["src"]
                assert src.startswith("data:image/png;base64,") and len(src) > 1000
                self.imgs += 1

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    p = P()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p.imgs, " ".join(p.text)


def test_snapshot_report_renders(drift: dict, tmp_path: Path) -> None:
    paths = write_report(drift, tmp_path / "rep", title="sample drift")
    for key in ("json", "md", "html"):
        assert paths[key].exists()
    pngs = [p for k, p in paths.items() if k.startswith("png:")]
    assert len(pngs) == 2 + len(SHIFTED) + 1  # movers, change, one timeline per present term
    for p in pngs:
        assert p.stat().st_size > 1000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    imgs, text = _parse_html(paths["html"])
    assert imgs == len(pngs)
    for term in [*SHIFTED, "coffee"]:
        assert term in text
    assert "sample drift" in text
    data = json.loads(paths["json"].read_text())
    assert set(data) >= {"mode", "windows", "terms", "movers"}
    assert data["movers"][0]["term"] in SHIFTED
    assert "crash" in paths["md"].read_text()


def test_compare_report_renders(compared: dict, tmp_path: Path) -> None:
    paths = write_report(compared, tmp_path / "rep")
    imgs, text = _parse_html(paths["html"])
    assert imgs == 1 and paths["png:targets.png"].stat().st_size > 1000
    for term in [*SHIFTED, *STABLE]:
        assert term in text
    data = json.loads(paths["json"].read_text())
    assert set(data) >= {"targets", "stability", "mode"}
    assert set(data["targets"][0]) >= {"term", "score", "neighbors_a", "neighbors_b"}


def test_movers_never_rank_special_tokens_or_stop_words(snaps: list[KeyedVectors]) -> None:
    from textcl.drift.measures import Space, mover_scores
    from textcl.keywords.tracker import default_ignore

    spaces = [Space(kv, 5.0) for kv in snaps[-4:]]
    ranked = {r["term"] for r in mover_scores(spaces)}
    unfiltered = {r["term"] for r in mover_scores(spaces, ignore=())}
    assert ranked and not ranked & default_ignore()
    assert {"@user", "the"} & unfiltered  # without the filter they would be ranked
