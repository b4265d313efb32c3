"""Pipeline configuration: TOML files validated on load with pydantic.

The input sections (``[source]``, ``[tokenizer]``, ``[window]``) and ``[output]`` are
defined here; every consumer's section is defined in its own module and joins the
pipeline through :mod:`textcl.consumers.registry`.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Any, Literal, get_type_hints

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from textcl.consumers.registry import consumer_specs
from textcl.input.csvfile import ColumnMap
from textcl.input.readers import Format
from textcl.section import Section
from textcl.text.tokenize import TokenizerOptions
from textcl.window import WindowSpec


class ConfigError(ValueError):
    """A pipeline file that cannot be used: says which file, which key, and what is allowed."""


_Section = Section


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


class _PipelineBase(_Section):
    def tokenizer_options(self) -> TokenizerOptions:
        """The tokenizer section as :class:`TokenizerOptions`."""
        return TokenizerOptions(**self.tokenizer.model_dump())  # type: ignore[attr-defined]


def _pipeline_model() -> type[_PipelineBase]:
    """A whole pipeline file: the input sections, one section per registered consumer
    (:mod:`textcl.consumers.registry`, in its order), and ``[output]``."""
    sections: dict[str, type[_Section]] = {
        "source": SourceSection, "tokenizer": TokenizerSection, "window": WindowSection,
    }
    for spec in consumer_specs():
        if spec.name in sections or spec.name == "output":
            raise TypeError(f"consumer {spec.name!r}: its section name is taken")
        sections[spec.name] = spec.section
    sections["output"] = OutputSection
    fields: dict[str, Any] = {
        name: (model, Field(default_factory=model)) for name, model in sections.items()
    }
    return create_model(
        "PipelineConfig", __base__=_PipelineBase, __module__=__name__,
        __doc__="A whole pipeline file.", **fields,
    )


PipelineConfig = _pipeline_model()


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
