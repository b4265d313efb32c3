"""Pipeline configuration: TOML files validated on load with pydantic."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Any, Literal, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from textcl.keywords.background import DEFAULT_LANGUAGES, HASHTAG_SHARE
from textcl.stream.csvfile import ColumnMap
from textcl.stream.readers import Format
from textcl.stream.tokenize import TokenizerOptions
from textcl.stream.window import WindowSpec


class ConfigError(ValueError):
    """A pipeline file that cannot be used: says which file, which key, and what is allowed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _at_most(bound: str) -> Callable[[float, ValidationInfo], float]:
    """A field validator: the value must not exceed the (earlier) field ``bound``."""

    def check(value: float, info: ValidationInfo) -> float:
        limit = info.data.get(bound)
        if limit is not None and value > limit:
            raise ValueError(
                f"must not exceed {bound} ({limit}); lower {info.field_name} or raise {bound}"
            )
        return value

    return check


class CsvSection(_Section):
    """Column mapping for CSV sources; unset fields are auto-detected from the header."""

    id: str | None = None
    text: str | None = None
    created_at: str | None = None
    lang: str | None = None
    author_id: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    time: Literal["auto", "id", "order"] = "auto"
    delimiter: str = Field(default="auto", pattern=r"^(auto|.)$", min_length=1)

    def column_map(self) -> ColumnMap:
        return ColumnMap(**self.model_dump())


class SourceSection(_Section):
    """How records are read: format, strictness, size limit, duplicate collapsing."""

    format: Format = "auto"
    strict: bool = False
    max_record_bytes: int = Field(default=64 * 1024, gt=0)
    collapse_duplicates: bool = False
    collapse_retweets: bool = False
    dedup_memory: int = Field(default=1_000_000, gt=0)
    sort: bool = False
    sort_run_size: int = Field(default=200_000, gt=0)
    csv: CsvSection = Field(default_factory=CsvSection)


def _tokenizer_section() -> type[_Section]:
    """A config section with exactly the fields, types and defaults of TokenizerOptions."""
    hints = get_type_hints(TokenizerOptions)
    fields: dict[str, Any] = {
        f.name: (hints[f.name], f.default) for f in dc_fields(TokenizerOptions)
    }
    return create_model("TokenizerSection", __base__=_Section, **fields)


TokenizerSection = _tokenizer_section()


class WindowSection(_Section):
    """Micro-batch size and window size (``"1d"``, ``"6h"`` or a tweet count like ``"5000"``).

    ``close_on_alarm``: also close the window early when ADWIN / Page-Hinkley detect a
    change in the micro-batches' out-of-vocabulary rate (a new event's vocabulary).
    """

    batch_size: int = Field(default=1000, gt=0)
    every: str = "1d"
    close_on_alarm: bool = False

    @field_validator("every")
    @classmethod
    def _valid_every(cls, value: str) -> str:
        WindowSpec.parse(value)
        return value


class Word2VecSection(_Section):
    """Continual word2vec (:class:`textcl.embed.word2vec.ContinualWord2Vec`) on the stream.

    Every key except ``enabled``, ``snapshots*`` and ``probe_terms`` is a constructor
    argument of the model with the same default. ``half_life = 0`` disables count decay.
    A snapshot is written at the first window end after ``snapshot_min_tweets`` tweets
    since the previous one (and at the end of the run), so a replayed file of many
    sparse windows does not write one per window.
    """

    enabled: bool = True
    snapshots: bool = True
    snapshot_min_tweets: int = Field(default=500, ge=0)
    snapshot_dtype: Literal["float16", "float32"] = "float16"
    probe_terms: list[str] = Field(default_factory=list)
    vector_size: int = Field(default=100, gt=0)
    window: int = Field(default=5, gt=0)
    sg: Literal[0, 1] = 1
    negative: int = Field(default=5, gt=0)
    min_count: float = Field(default=3, gt=0)
    max_vocab: int = Field(default=200_000, gt=0)
    half_life: float = Field(default=1_000_000, ge=0)
    half_life_unit: Literal["tweets", "seconds"] = "tweets"
    sample: float = Field(default=1e-3, ge=0)
    alpha: float = Field(default=0.05, gt=0)
    min_alpha: float = Field(default=0.0025, gt=0)
    lr_schedule: Literal["count", "constant", "warmup"] = "warmup"
    epochs: int = Field(default=1, gt=0)
    revisit: float = Field(default=0.0, ge=0)
    revisit_window: int = Field(default=2000, gt=0)
    replay_ratio: float = Field(default=0.0, ge=0)
    replay_size: int = Field(default=20_000, gt=0)
    anchor: float = Field(default=0.0, ge=0, le=1)
    anchor_top: int = Field(default=1000, ge=0)
    seed: int = 1
    workers: int = Field(default=1, ge=1)
    pinned: list[str] = Field(default_factory=list)
    compute_loss: bool = False

    _floor_below_alpha = field_validator("min_alpha")(_at_most("alpha"))

    def model_kwargs(self) -> dict[str, Any]:
        """Constructor arguments for ContinualWord2Vec."""
        kwargs = self.model_dump(
            exclude={"enabled", "snapshots", "snapshot_min_tweets", "snapshot_dtype", "probe_terms"}
        )
        kwargs["half_life"] = kwargs["half_life"] or None
        return kwargs


class KeywordsSection(_Section):
    """Top-N keyword set with in/out logic (:class:`textcl.keywords.KeywordTracker`).

    ``background``: the reference for distinctiveness — ``"wordfreq"`` (embedded word
    frequencies of ``languages``, no download), ``"history"`` (the stream's own decayed
    history), or a list of plain-text files of ordinary tweets (one per line).
    ``alarms``: river drift alarms on the window statistics; ``event_alarm_terms``: an
    alarm when an event group first holds this many terms at once (0: off).
    Every other key except ``enabled``, ``languages``, ``hashtag_share``, ``alarms`` and
    ``event_alarm_terms`` is a constructor argument of the tracker with the same default.
    """

    enabled: bool = True
    size: int = Field(default=50, gt=0)
    background: Literal["wordfreq", "history"] | list[str] = "wordfreq"
    languages: list[str] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES), min_length=1)
    hashtag_share: float = Field(default=HASHTAG_SHARE, gt=0, le=1)
    enter: float = 2.0
    leave: float = 0.0
    confidence: float = Field(default=1.645, ge=0)
    ratio_cap: float = Field(default=7.0, gt=0)
    min_count: int = Field(default=3, ge=1)
    carry: float = Field(default=4.0, ge=0)
    assoc: float = Field(default=0.3, gt=0, le=1)
    k: int = Field(default=1, gt=0)
    m: int = Field(default=1, gt=0)
    min_dwell: int = Field(default=1, ge=0)
    priority_half_life: float = Field(default=14.0, gt=0)
    pinned: list[str] = Field(default_factory=list)
    half_life: float = Field(default=7.0, gt=0)
    capacity: int = Field(default=100_000, gt=0)
    sample_size: int = Field(default=20_000, gt=0)
    alarms: bool = True
    event_alarm_terms: int = Field(default=3, ge=0)

    _leave_below_enter = field_validator("leave")(_at_most("enter"))

    def tracker_kwargs(self) -> dict[str, Any]:
        """Constructor arguments for KeywordTracker (the background excluded)."""
        return self.model_dump(
            exclude={
                "enabled", "background", "languages", "hashtag_share", "alarms",
                "event_alarm_terms",
            }
        )


class TransformerSection(_Section):
    """Continual masked-LM training (:class:`textcl.transformer.ContinualTransformer`).

    ``model_path`` is a local folder with a masked LM and its tokenizer; empty builds a
    tiny BERT (``hidden_size``, ``layers``, ``heads``) with a WordPiece vocabulary of
    ``vocab_size`` from the first training round. The model trains on every
    ``train_every`` tweets (and at each window end). ``replay`` rows of memory and an
    ``ewc`` weight guard against forgetting (0 = off). ``grow_vocab`` adds frequent
    words and hashtags that the tokenizer splits, every window. At each window end the
    contextual drift of ``probe_terms`` (default: the word2vec probe terms, else the
    keyword set's best terms, see :class:`DriftSection`) against the
    previous window is measured on up to ``term_texts`` tweets per term and window.
    """

    enabled: bool = False
    model_path: str = ""
    hidden_size: int = Field(default=64, gt=0)
    layers: int = Field(default=2, gt=0)
    heads: int = Field(default=2, gt=0)
    vocab_size: int = Field(default=4000, gt=10)
    max_length: int = Field(default=48, ge=3)
    batch_size: int = Field(default=32, gt=0)
    lr: float = Field(default=5e-4, gt=0)
    epochs: int = Field(default=1, gt=0)
    train_every: int = Field(default=2000, gt=0)
    replay: int = Field(default=0, ge=0)
    ewc: float = Field(default=0.0, ge=0)
    grow_vocab: bool = True
    grow_min_count: int = Field(default=20, gt=0)
    grow_max_new: int = Field(default=50, ge=0)
    probe_terms: list[str] = Field(default_factory=list)
    term_texts: int = Field(default=200, gt=1)
    checkpoint: bool = True
    seed: int = 0


class CompareSection(_Section):
    """``textcl drift --compare A B``: semantic change of target words between two corpora.

    ``epochs`` / ``vector_size`` / ``window`` at 0 are chosen from the smaller corpus'
    size (``textcl.drift.compare.adaptive_settings``); ``text``: ``auto`` detects per
    file whether lines are already tokenised, ``tokenized`` splits on spaces, ``raw``
    runs the tweet tokenizer. Command-line options override these.
    """

    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    epochs: int = Field(default=0, ge=0)
    vector_size: int = Field(default=0, ge=0)
    window: int = Field(default=0, ge=0)
    min_count: int = Field(default=5, ge=1)
    score: Literal["cosine", "lnc", "cosine+lnc"] = "cosine+lnc"
    measure_k: int = Field(default=25, gt=0)
    text: Literal["auto", "tokenized", "raw"] = "auto"

    def compare_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``compare_corpora`` (0 = adaptive becomes None)."""
        return {
            "seeds": list(self.seeds),
            "epochs": self.epochs or None,
            "vector_size": self.vector_size or None,
            "window": self.window or None,
            "min_count": self.min_count,
            "score": self.score,
            "measure_k": self.measure_k,
            "tokenized": {"auto": None, "tokenized": True, "raw": False}[self.text],
        }


class DriftSection(_Section):
    """Drift report over the word2vec snapshots, written to ``OUT/drift/`` at the end
    (and rewritten every ``every`` windows when ``every > 0``).

    With no ``terms`` (nor word2vec / transformer ``probe_terms``) the terms follow the
    stream: the probes at each window end are the keyword set's ``auto_terms`` best
    members, and the report covers the ``auto_terms`` keywords held longest plus the
    ``auto_movers`` top movers.
    """

    enabled: bool = True
    terms: list[str] = Field(default_factory=list)
    auto_terms: int = Field(default=10, ge=0)
    auto_movers: int = Field(default=5, ge=0)
    topn: int = Field(default=10, gt=0)
    movers: int = Field(default=20, ge=0)
    min_count: float = Field(default=5.0, ge=0)
    candidates: int = Field(default=2000, gt=0)
    every: int = Field(default=0, ge=0)
    compare: CompareSection = Field(default_factory=CompareSection)


class OutputSection(_Section):
    """Where and what ``textcl stream`` writes.

    ``checkpoint``: keep ``OUT/checkpoint`` for ``--resume``, written atomically at a
    window end (unless the last checkpoint is younger than ``checkpoint_window_seconds``:
    a replayed file closes many windows a second) and, inside a window, after every
    ``checkpoint_batches`` micro-batches or ``checkpoint_seconds`` seconds (0 turns
    either off).
    """

    dir: str = "out"
    top_terms: int = Field(default=20, ge=0)
    rejects: bool = True
    checkpoint: bool = True
    checkpoint_batches: int = Field(default=0, ge=0)
    checkpoint_seconds: float = Field(default=300.0, ge=0)
    checkpoint_window_seconds: float = Field(default=10.0, ge=0)


class PipelineConfig(_Section):
    """A whole pipeline file."""

    source: SourceSection = Field(default_factory=SourceSection)
    tokenizer: TokenizerSection = Field(default_factory=TokenizerSection)  # type: ignore[valid-type]
    window: WindowSection = Field(default_factory=WindowSection)
    word2vec: Word2VecSection = Field(default_factory=Word2VecSection)
    keywords: KeywordsSection = Field(default_factory=KeywordsSection)
    drift: DriftSection = Field(default_factory=DriftSection)
    transformer: TransformerSection = Field(default_factory=TransformerSection)
    output: OutputSection = Field(default_factory=OutputSection)

    def tokenizer_options(self) -> TokenizerOptions:
        """The tokenizer section as :class:`TokenizerOptions`."""
        return TokenizerOptions(**self.tokenizer.model_dump())


def load_config(path: str | Path | None = None) -> PipelineConfig:
    """Read and validate a pipeline TOML file (defaults when ``path`` is None)."""
    if path is None:
        return PipelineConfig()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such pipeline file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return config_from_dict(data, str(path))


def config_from_dict(data: dict[str, Any], origin: str = "<config>") -> PipelineConfig:
    """Validate a config mapping; errors name ``origin``, the key and the allowed values."""
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origin)) from None
    try:
        config.tokenizer_options()
    except ValueError as exc:
        raise ConfigError(f"{origin}: [tokenizer] {exc}") from None
    return config


def _explain(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        section = "[" + ".".join(loc[:-1]) + "]" if len(loc) > 1 else "top level"
        key = loc[-1] if loc else "?"
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            lines.append(
                f"{origin}: {section} unknown key '{key}'; allowed keys: {', '.join(allowed)}"
            )
        elif err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            lines.append(
                f"{origin}: {section} {key} = {err['input']!r} is not allowed; "
                f"allowed values: {expected}"
            )
        else:
            lines.append(f"{origin}: {section} {key} = {err.get('input')!r}: {err['msg']}")
    return "\n".join(lines)


def _allowed_keys(path: list[str]) -> list[str]:
    model: type[BaseModel] = PipelineConfig
    for part in path:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
