"""Drift reports: how the meaning of terms moves over snapshots or between two corpora.

* :func:`load_snapshots` / :func:`snapshot_drift`: per query term and window the top
  neighbours, Jaccard@k overlap, cosine change and local-neighbourhood change, plus the
  "top movers" among all frequent terms (one continually-trained space is used as is;
  separately trained snapshots are aligned with orthogonal Procrustes).
* :func:`compare_corpora`: change of target words between two plain-text corpora, from
  an ensemble of word2vec models (seeds), with rank stability across seeds.
* :func:`write_report`: ``report.json``, ``report.md`` and a self-contained
  ``report.html`` with PNG plots.
* :class:`DriftAlarms` (ADWIN / Page-Hinkley over window statistics) and
  :class:`OovRate` (a batch's share of unseen tokens): drift of the stream itself.
* :func:`contextual_drift` / :func:`term_drift`: how far a term's usage vectors in the
  continual transformer moved between two periods.
"""

from __future__ import annotations

from textcl.lazy import lazy_exports

# name -> submodule; imported on first use so that `import textcl.drift.<x>` (e.g. the
# stream's report writer) does not pull in gensim and matplotlib at start-up
_LAZY = {
    "align_to": "align", "procrustes": "align",
    "compare_corpora": "compare", "corpora_from_stream": "compare", "read_corpus": "compare",
    "read_targets": "compare",
    "write_report": "report",
    "load_snapshots": "snapshots", "shared_space": "snapshots", "snapshot_drift": "snapshots",
    "DriftAlarms": "alarms", "OovRate": "oov",
    "contextual_drift": "contextual", "term_drift": "contextual",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_exports("textcl.drift", _LAZY)
