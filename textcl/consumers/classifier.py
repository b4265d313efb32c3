"""Continual classifiers as a stream consumer: prequential scores, forgetting, growth.

For each label name in ``[classifier] labels`` one
:class:`~textcl.classify.stream.StreamClassifier` learns from the labelled tweets of the
stream. Writes, under ``OUT/classifier/<label>/``:

* ``predictions.jsonl``: every labelled tweet as predicted before it was learned
  (``id``, ``window``, ``label``, ``predicted``, ``p``, ``late``);
* ``metrics.jsonl``: one row per window: tweets learned and held out, classes, the
  window's and the running accuracy and macro-F1 (per label too), and accuracy and
  forgetting on the held-out tweets of earlier windows;
* ``growth.jsonl``: every new class (window, class, classes after it);
* ``accuracy.png`` at the end: those scores over the run.

and ``OUT/classifier/label_rejects.jsonl``: label-file lines that could not be used, with
the file, line and reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from textcl.classify.settings import ClassifierSection
from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.input.timeparse import to_iso
from textcl.outputs import open_output
from textcl.types import Batch, Window


class ClassifierConsumer:
    """Feeds each micro-batch's labelled tweets (and labels from files) to the classifiers."""

    name = "classifier"

    def __init__(self, classifiers: list[Any], out_dir: Path | None,
                 label_files: Any = None, predictions: bool = True) -> None:
        self.classifiers = classifiers
        self.by_label = {c.label: c for c in classifiers}
        self.label_files = label_files
        self.out_dir = out_dir / "classifier" if out_dir is not None else None
        self.matched: set[str] = set()  # file labels joined to a tweet
        self.windows = 0
        self._files: dict[str, dict[str, IO[bytes]]] = {}
        self._rejects: IO[bytes] | None = None
        if self.out_dir is None:
            return
        for clf in classifiers:
            folder = self.out_dir / clf.name
            folder.mkdir(parents=True, exist_ok=True)
            names = ["metrics", "growth"] + (["predictions"] if predictions else [])
            self._files[clf.name] = {n: open_output(folder / f"{n}.jsonl") for n in names}
        if label_files is not None:
            self._rejects = open_output(self.out_dir / "label_rejects.jsonl")

    def probabilities_of(self, label: str | None) -> Any:
        """A function of (texts, tokens) giving the classifier's class probabilities
        (``None`` until it knows two classes): the one learning ``label``, or the first."""
        if label is not None and label not in self.by_label:
            raise ValueError(f"[selection] uncertainty_from = {label!r} is not a classifier; "
                             f"[classifier] labels are {list(self.by_label)}")
        clf = self.by_label[label] if label is not None else self.classifiers[0]

        def probabilities(texts: list[str], tokens: list[list[str]]) -> Any:
            with one_thread():
                probs = clf.probabilities(texts, tokens)
            return None if probs is None else probs.numpy()

        return probabilities

    def is_labelled(self, tweet_id: str) -> bool:
        """Whether a label file gave ``tweet_id`` a label (for any classifier)."""
        if self.label_files is None:
            return False
        applied = self.label_files.applied
        return any(f"{c.label}\t{tweet_id}" in applied for c in self.classifiers)

    def attach_relearn(self, memory: Any) -> None:
        """Every classifier re-learns the tweets it draws from ``memory`` that carry its
        label (from the record or a label file)."""
        for clf in self.classifiers:
            clf.attach_relearn(memory, lambda item, name=clf.label: self._known(
                name, item.id, item.labels))

    def _known(self, name: str, tweet_id: str, record: dict[str, str]) -> str | None:
        value = record.get(name)
        if value or self.label_files is None:
            return value or None
        return self.label_files.applied.get(f"{name}\t{tweet_id}") or None

    def _write(self, clf: Any, kind: str, rows: list[dict[str, Any]]) -> None:
        handle = self._files.get(clf.name, {}).get(kind)
        if handle is not None and rows:
            handle.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))

    def update(self, batch: Batch) -> None:
        with one_thread():
            self._update(batch)

    def _update(self, batch: Batch) -> None:
        self._poll(batch.window)
        ids = [t.id for t in batch.tweets]
        texts = [t.text for t in batch.tweets]
        for clf in self.classifiers:
            labels = [self._label(clf.label, t.id, t.labels) for t in batch.tweets]
            predictions = clf.observe(ids, texts, batch.tokens, labels, batch.window)
            self._write(clf, "predictions", [p.to_json() for p in predictions])

    def _label(self, name: str, tweet_id: str, record: dict[str, str]) -> str | None:
        value = record.get(name)
        if value:
            return value
        if self.label_files is None:
            return None
        key = f"{name}\t{tweet_id}"
        value = self.label_files.applied.get(key)
        if value:
            self.matched.add(key)
        return value

    def _poll(self, window: int) -> None:
        """Labels that arrived in the label files: learn those whose tweet has passed."""
        if self.label_files is None:
            return
        rows, rejects = self.label_files.poll()
        if self._rejects is not None and rejects:
            self._rejects.write(b"".join(orjson.dumps(r.to_json()) + b"\n" for r in rejects))
            self._rejects.flush()
        late: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            clf = self.by_label.get(row.name)
            if clf is not None and clf.remembers(row.id):
                late.setdefault(row.name, []).append((row.id, row.value))
                self.matched.add(f"{row.name}\t{row.id}")
        for name, pairs in late.items():
            clf = self.by_label[name]
            predictions = clf.late_labels(pairs, window)
            self._write(clf, "predictions", [p.to_json() for p in predictions])

    def end_window(self, window: Window) -> None:
        self.windows += 1
        for clf in self.classifiers:
            with one_thread():
                scores = clf.end_window(window.index)
            row = {"window": window.index, "start": to_iso(window.start),
                   "end": to_iso(window.end), **scores}
            self._write(clf, "metrics", [row])
            self._write(clf, "growth", clf.growth)
            clf.growth = []
            for handle in self._files.get(clf.name, {}).values():
                handle.flush()

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"windows": self.windows,
                               "classifiers": {c.name: c.summary() for c in self.classifiers}}
        if self.label_files is not None:
            files = self.label_files
            out["label_files"] = {"labels": len(files.applied), "joined": len(self.matched),
                                  "not_joined": len(files.applied) - len(self.matched),
                                  "rejected": files.rejected}
        out["warnings"] = [
            f"classifier {c.name!r}: no tweet carried the label {c.label!r}, so nothing was "
            "learned; labels come from a record's labels object, CSV label columns "
            "([source.csv] labels = {\"Column\" = \"name\"}) or [classifier] label_files"
            for c in self.classifiers if not c.learned and not len(c.heldout)
        ]
        out["warnings"] += [
            f"classifier {c.name!r}: {c.unready:,} labelled tweets came before its features "
            "could be made (the transformer learns its vocabulary in its first training "
            "round) and were not learned" for c in self.classifiers if c.unready]
        if self.label_files is not None and out["label_files"]["rejected"]:
            out["warnings"].append(
                f"{out['label_files']['rejected']:,} label-file lines could not be used: see "
                "classifier/label_rejects.jsonl for the file, line and reason")
        return out

    def close(self, out_dir: Path | None) -> None:
        for handles in self._files.values():
            for handle in handles.values():
                handle.close()
        if self._rejects is not None:
            self._rejects.close()
        if out_dir is None or self.out_dir is None:
            return
        from textcl.classify.plot import plot_scores

        for clf in self.classifiers:
            folder = self.out_dir / clf.name
            plot_scores(folder / "metrics.jsonl", folder / "growth.jsonl",
                        folder / "accuracy.png", clf.name)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "classifiers": {c.name: c.state_dict() for c in self.classifiers},
            "matched": sorted(self.matched), "windows": self.windows,
        }
        if self.label_files is not None:
            state["label_files"] = self.label_files.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for clf in self.classifiers:
            clf.load_state_dict(state["classifiers"][clf.name])
        self.matched = set(state["matched"])
        self.windows = int(state["windows"])
        if self.label_files is not None:
            self.label_files.load_state_dict(state["label_files"])


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread: the classifiers' steps are small, and a second thread spinning
    beside the other consumers costs far more than it gains (4x slower on 2 busy cores)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _build(context: BuildContext) -> ClassifierConsumer | None:
    section: ClassifierSection = context.section("classifier")
    if not section.labels:
        return None
    from textcl.classify.labels import LabelFiles
    from textcl.classify.settings import build_classifier, build_space

    files = LabelFiles(section.label_files, section.labels) if section.label_files else None
    wait = section.wait if files is not None else 0
    transformer = context.built.get("transformer")
    # one encoder (and cache) for every classifier
    space = build_space(section, getattr(transformer, "model", None))
    classifiers = [build_classifier(section, label, space, wait) for label in section.labels]
    return ClassifierConsumer(classifiers, context.out_dir, files, section.predictions)


def _rows(summary: dict[str, Any]) -> Rows:
    rows = []
    for name, info in summary["classifiers"].items():
        accuracy = "-" if info["accuracy"] is None else f"{info['accuracy']:.3f}"
        f1 = "-" if info["macro_f1"] is None else f"{info['macro_f1']:.3f}"
        rows.append((f"classifier {name}",
                     f"{info['learned']:,} learned, accuracy {accuracy}, macro-F1 {f1}, "
                     f"{len(info['classes'])} classes"))
    files = summary.get("label_files")
    if files:
        rows.append(("label files", f"{files['labels']:,} labels, {files['joined']:,} "
                     f"joined, {files['rejected']:,} rejected"))
    return rows


SPEC = ConsumerSpec(
    name="classifier",
    section=ClassifierSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["classifier/"],
)
