"""Classifier heads for continual learning: growing, multi-head, MLP and DEN."""

from __future__ import annotations

from textcl.heads.den import DENReport, fit_task_den
from textcl.heads.expandable import ExpandableMLP
from textcl.heads.incremental import IncrementalClassifier
from textcl.heads.mlp import MLPClassifier
from textcl.heads.multihead import MultiHeadClassifier

__all__ = [
    "DENReport",
    "ExpandableMLP",
    "IncrementalClassifier",
    "MLPClassifier",
    "MultiHeadClassifier",
    "fit_task_den",
]
