"""Continual-learning evaluation.

* :class:`AccuracyMatrix`: scores ``R[i, j]`` of task j after training on task i, with
  ACC, BWT, FWT (GEM), average forgetting (Chaudhry et al.), JSON I/O and a PNG heatmap.
* :func:`accuracy`, :func:`macro_f1`: per-batch scores for numpy arrays or torch tensors.
"""

from textcl.metrics.accuracy_matrix import AccuracyMatrix
from textcl.metrics.plot import plot_matrix
from textcl.metrics.scores import accuracy, macro_f1

__all__ = ["AccuracyMatrix", "accuracy", "macro_f1", "plot_matrix"]
