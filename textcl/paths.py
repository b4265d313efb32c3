"""Where textcl finds its embedded sample stream and the shared evaluation data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NAME = "sample_stream.jsonl.gz"
TRUTH_NAME = "sample_stream.truth.json"
DATA_ENV = "TEXTCL_DATA"


def _data_dirs() -> list[Path]:
    return [PROJECT_ROOT / "data", Path(sys.prefix) / "share" / "textcl"]


def _pipeline_dirs() -> list[Path]:
    """The checkout's ``pipelines/``, then the installed copy (the wheel's data files)."""
    return [PROJECT_ROOT / "pipelines", Path(sys.prefix) / "share" / "textcl" / "pipelines"]


def pipeline_path(name: str = "default") -> Path | None:
    """A shipped pipeline file (``default``, ``transformer``): the checkout's
    ``pipelines/NAME.toml``, else the installed copy; ``None`` when neither exists (the
    built-in defaults equal ``default.toml``, a tested invariant)."""
    for folder in _pipeline_dirs():
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    return None


def shipped_pipelines() -> list[str]:
    """Names of the shipped pipeline files (``-p NAME``)."""
    names: set[str] = set()
    for folder in _pipeline_dirs():
        names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def sample_stream_path() -> Path:
    """The embedded synthetic stream (``data/sample_stream.jsonl.gz``)."""
    for folder in _data_dirs():
        if (folder / SAMPLE_NAME).exists():
            return folder / SAMPLE_NAME
    raise FileNotFoundError(
        f"the embedded sample stream {SAMPLE_NAME} is missing; regenerate it with "
        "python scripts/make_sample_stream.py"
    )


def sample_truth_path() -> Path:
    """Ground truth of the sample stream (events, shifted words, planted rejects)."""
    return sample_stream_path().with_name(TRUTH_NAME)


def shared_data_dir(required: bool = True) -> Path:
    """The shared evaluation data: ``$TEXTCL_DATA``, else ``../shared/data`` beside the project."""
    env = os.environ.get(DATA_ENV)
    path = Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"
    if required and not (path / "crisislex").is_dir():
        raise FileNotFoundError(
            f"shared data not found at {path} (no crisislex/ folder); set {DATA_ENV} to the "
            "folder holding crisislex/ and tweeteval/"
        )
    return path
