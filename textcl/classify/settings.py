"""The ``[classifier]`` section of a pipeline file, and building classifiers from it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from textcl.section import Section

AdapterName = Literal["replay", "class_balanced", "lwf", "ewc", "mas", "si", "agem",
                      "weight_aligning"]


class ClassifierSection(Section):
    """Continual classifiers trained on the stream's labelled tweets (prequential).

    ``labels``: the label names to learn, one classifier each (named after the label);
    ``[]`` turns classifiers off. Labels come from the records (a ``labels`` object, CSV
    label columns, CrisisLex's labels) and from ``label_files`` joined by tweet id.
    ``features``: ``hashed`` word uni+bigrams (``hash_features`` buckets, ``ngrams``),
    ``sentence`` vectors from ``sentence_model`` (a local encoder folder; empty: the
    packaged all-MiniLM-L6-v2), cached on disk in ``feature_cache`` (empty: the default),
    or ``transformer``: the stream's continual transformer (``[transformer] enabled``).
    ``hidden``: hidden layer sizes (``[]``: a linear model). ``adapters``: what keeps the
    classifier from forgetting, with ``memory`` rows of replay (or A-GEM) memory, of
    which ``replay_batch`` rows join every step (0: as many as the step's new rows).
    ``penalty_step``: EWC, MAS and SI pull weights back as a ``proximal`` step after the
    optimizer's (stable at any rate and strength) or as a ``gradient`` term (diverges
    once their importance, summed over hundreds of windows, times ``lr`` passes 2).
    ``chunk``: labelled tweets predicted, then learned, at a time (``epochs`` passes,
    ``optimizer`` at ``lr``). ``held_out``: the share of labelled tweets (by id) kept out
    of training to measure forgetting, at most ``held_out_per_window`` a window and
    ``held_out_max`` in all. ``wait``: unlabelled tweets remembered for late labels (only
    with label files).
    """

    labels: list[str] = Field(default_factory=list)
    label_files: list[str] = Field(default_factory=list)
    features: Literal["hashed", "sentence", "transformer"] = "hashed"
    hash_features: int = Field(default=16384, ge=2)
    ngrams: Literal[1, 2] = 2
    sentence_model: str = ""
    feature_cache: str = ""
    hidden: list[int] = Field(default_factory=list)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    adapters: list[AdapterName] = Field(default_factory=lambda: ["class_balanced"])
    memory: int = Field(default=1000, ge=1)
    replay_batch: int = Field(default=32, ge=0)
    lwf_weight: float = Field(default=1.0, ge=0.0)
    ewc_lambda: float = Field(default=100.0, ge=0.0)
    penalty_step: Literal["proximal", "gradient"] = "proximal"
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: float = Field(default=4.0, gt=0.0)
    bias_lr_scale: float = Field(default=1.0, ge=0.0)
    chunk: int = Field(default=16, ge=1)
    epochs: int = Field(default=1, ge=1)
    held_out: float = Field(default=0.1, ge=0.0, lt=1.0)
    held_out_per_window: int = Field(default=200, ge=1)
    held_out_max: int = Field(default=5000, ge=1)
    wait: int = Field(default=20000, ge=0)
    predictions: bool = True
    seed: int = 0

    @field_validator("labels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a label is listed twice: {value}")
        if any(not v.strip() or "/" in v or "\\" in v for v in value):
            raise ValueError(f"label names must be non-empty and hold no path separator: {value}")
        return value

    @field_validator("hidden")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError(f"hidden sizes must be positive, got {value}")
        return value


def build_adapters(section: ClassifierSection) -> list:
    """The adapters named in the section, in its order."""
    from textcl.cl import (
        AGEM,
        EWC,
        MAS,
        SI,
        ClassBalancedBuffer,
        LwF,
        Replay,
        ReservoirBuffer,
        WeightAligning,
    )

    seed = section.seed
    replay = section.replay_batch or None  # None: as many rows as the step's new ones
    makers = {
        "replay": lambda: Replay(ReservoirBuffer(section.memory, seed=seed), replay),
        "class_balanced": lambda: Replay(ClassBalancedBuffer(section.memory, seed=seed),
                                         replay),
        "lwf": lambda: LwF(weight=section.lwf_weight),
        "ewc": lambda: EWC(lam=section.ewc_lambda, mode="online", step=section.penalty_step),
        "mas": lambda: MAS(lam=section.ewc_lambda, step=section.penalty_step),
        "si": lambda: SI(step=section.penalty_step),
        "agem": lambda: AGEM(ReservoirBuffer(section.memory, seed=seed)),
        "weight_aligning": lambda: WeightAligning(),
    }
    return [makers[name]() for name in section.adapters]


def build_classifier(section: ClassifierSection, label: str, space: object,
                     wait: int) -> object:
    """A :class:`~textcl.classify.stream.StreamClassifier` for ``label``."""
    import torch

    from textcl.cl import ContinualTrainer, TrainConfig
    from textcl.classify.heldout import HeldOut
    from textcl.classify.stream import StreamClassifier

    torch.manual_seed(section.seed)  # the hidden layers' initial weights, if any
    model = space.model(section.hidden, section.dropout)  # type: ignore[attr-defined]
    config = TrainConfig(epochs=section.epochs, batch_size=section.chunk, lr=section.lr,
                         optimizer=section.optimizer, reset_optimizer=False, seed=section.seed,
                         bias_lr_scale=section.bias_lr_scale)
    trainer = ContinualTrainer(model, build_adapters(section), config)
    # torch imports its compiler on the first optimizer built (about a second): pay it
    # here, with the other start-up costs, not inside the first training step
    config.build_optimizer([torch.nn.Parameter(torch.zeros(1))], section.lr)
    heldout = HeldOut(section.held_out, section.held_out_per_window, section.held_out_max)
    return StreamClassifier(label, label, space, trainer, section.chunk, heldout, wait,
                            section.seed)


def build_space(section: ClassifierSection, transformer: object = None) -> object:
    """The feature space the section asks for (``transformer``: the stream's
    ContinualTransformer, for ``features = "transformer"``)."""
    from textcl.classify.features import HashedSpace, SentenceSpace, TransformerSpace

    if section.features == "transformer":
        if transformer is None:
            raise ValueError('[classifier] features = "transformer" needs the continual '
                             "transformer: set [transformer] enabled = true (or use "
                             '-p transformer), or features = "hashed"')
        return TransformerSpace(transformer)
    if section.features == "sentence":
        return SentenceSpace(Path(section.sentence_model) if section.sentence_model else None,
                             section.feature_cache or None)
    return HashedSpace(section.hash_features, section.ngrams)
