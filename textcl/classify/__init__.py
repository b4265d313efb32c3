"""Continual classifiers on a tweet stream: test-then-train scores, forgetting, late labels.

* :class:`StreamClassifier`: one classifier learning a label from the stream (predict a
  chunk of labelled tweets, then learn it, with the :mod:`textcl.cl` adapters; the head
  grows when a new label arrives).
* :class:`HashedSpace` / :class:`SentenceSpace`: what the classifier sees of a tweet.
* :class:`PrequentialScores`, :class:`HeldOut`: accuracy and macro-F1 as the stream goes,
  forgetting on held-out tweets of earlier windows.
* :class:`LabelFiles`: labels from files joined to tweets by id, arriving late.
* :class:`ClassifierSection`, :func:`build_classifier`: the ``[classifier]`` pipeline
  section and the classifier it describes.
"""

from __future__ import annotations

from textcl.lazy import lazy_exports

# imported on first use: the pipeline reads the section without importing torch
_LAZY = {
    "StreamClassifier": "stream", "Prediction": "stream",
    "HashedSpace": "features", "SentenceSpace": "features", "FeatureSpace": "features",
    "PrequentialScores": "scores", "ClassCounts": "scores",
    "HeldOut": "heldout", "held_out": "heldout",
    "LabelFiles": "labels", "LabelRow": "labels", "LabelReject": "labels",
    "RecentTweets": "labels",
    "ClassifierSection": "settings", "build_classifier": "settings",
    "build_space": "settings", "build_adapters": "settings",
    "plot_scores": "plot",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_exports("textcl.classify", _LAZY)
