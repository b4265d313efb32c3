"""Classifier heads for continual learning: growing, multi-head, MLP and DEN, and the
``Head`` / ``GrowingHead`` / ``TaskHead`` protocols they follow."""

from __future__ import annotations

from textcl.heads.den import DENReport, fit_task_den
from textcl.heads.expandable import ExpandableMLP
from textcl.heads.hashed import HashedTextClassifier
from textcl.heads.incremental import IncrementalClassifier
from textcl.heads.mlp import MLPClassifier
from textcl.heads.multihead import MultiHeadClassifier
from textcl.heads.protocol import GrowingHead, Head, TaskHead, growing_head

__all__ = [
    "DENReport",
    "ExpandableMLP",
    "GrowingHead",
    "HashedTextClassifier",
    "Head",
    "IncrementalClassifier",
    "MLPClassifier",
    "MultiHeadClassifier",
    "TaskHead",
    "fit_task_den",
    "growing_head",
]
