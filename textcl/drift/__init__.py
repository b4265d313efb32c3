"""Drift reports: how the meaning of terms moves over snapshots or between two corpora.

* :func:`load_snapshots` / :func:`snapshot_drift`: per query term and window the top
  neighbours, Jaccard@k overlap, cosine change and local-neighbourhood change, plus the
  "top movers" among all frequent terms (one continually-trained space is used as is;
  separately trained snapshots are aligned with orthogonal Procrustes).
* :func:`compare_corpora`: change of target words between two plain-text corpora, from
  an ensemble of word2vec models (seeds), with rank stability across seeds.
* :func:`write_report`: ``report.json``, ``report.md`` and a self-contained
  ``report.html`` with PNG plots.
"""

from textcl.drift.align import align_to, procrustes
from textcl.drift.compare import compare_corpora, corpora_from_stream, read_corpus, read_targets
from textcl.drift.report import write_report
from textcl.drift.snapshots import load_snapshots, shared_space, snapshot_drift

__all__ = [
    "align_to",
    "compare_corpora",
    "corpora_from_stream",
    "load_snapshots",
    "procrustes",
    "read_corpus",
    "read_targets",
    "shared_space",
    "snapshot_drift",
    "write_report",
]
