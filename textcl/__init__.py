"""textcl: continual learning on text streams.

The public API is re-exported here; heavy modules (gensim, torch) load on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from textcl.lazy import lazy_exports

try:
    __version__ = version("textcl")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

_EXPORTS = {
    "Tweet": "textcl.types",
    "Batch": "textcl.types",
    "Window": "textcl.types",
    "Origin": "textcl.types",
    "Consumer": "textcl.types",
    "TweetReader": "textcl.input.readers",
    "read_tweets": "textcl.input.readers",
    "Reject": "textcl.input.rejects",
    "TweetTokenizer": "textcl.text.tokenize",
    "TokenizerOptions": "textcl.text.tokenize",
    "Windower": "textcl.window",
    "Deduplicator": "textcl.text.dedup",
    "ColumnMap": "textcl.input.csvfile",
    "Pipeline": "textcl.pipeline",
    "PipelineConfig": "textcl.config",
    "load_config": "textcl.config",
    "sample_stream_path": "textcl.paths",
    "ContinualWord2Vec": "textcl.embed.word2vec",
    "save_keyed_vectors": "textcl.embed.word2vec",
    "load_keyed_vectors": "textcl.embed.word2vec",
    "KeywordTracker": "textcl.keywords",
    "DriftAlarms": "textcl.keywords",
    "ContinualTrainer": "textcl.cl",
    "TrainConfig": "textcl.cl",
    "EWC": "textcl.cl",
    "MAS": "textcl.cl",
    "SI": "textcl.cl",
    "LwF": "textcl.cl",
    "AGEM": "textcl.cl",
    "Replay": "textcl.cl",
    "GenerativeReplay": "textcl.cl",
    "ReservoirBuffer": "textcl.cl",
    "ClassBalancedBuffer": "textcl.cl",
    "HerdingBuffer": "textcl.cl",
    "BiC": "textcl.cl",
    "WeightAligning": "textcl.cl",
    "NearestMeanOfExemplars": "textcl.cl",
    "StreamingLDA": "textcl.cl",
    "IncrementalClassifier": "textcl.heads",
    "MultiHeadClassifier": "textcl.heads",
    "MLPClassifier": "textcl.heads",
    "ExpandableMLP": "textcl.heads",
    "fit_task_den": "textcl.heads",
    "AccuracyMatrix": "textcl.metrics",
    "ContinualTransformer": "textcl.transformer",
    "contextual_drift": "textcl.transformer",
    "Selector": "textcl.active",
    "Candidates": "textcl.active",
    "Context": "textcl.active",
    "LabelModel": "textcl.active.labelmodel",
    "StreamClassifier": "textcl.classify",
    "HeldOut": "textcl.classify",
    "LabelFiles": "textcl.classify",
    "RelearnMemory": "textcl.active.relearn",
    "HashedNgrams": "textcl.features.hashed",
    "HashedTextClassifier": "textcl.heads",
    "SentenceEncoder": "textcl.features",
    "cached_features": "textcl.features",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__ = lazy_exports("textcl", _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)
