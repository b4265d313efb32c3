"""The installed package runs the same defaults as the checkout, from any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from textcl.config import PipelineConfig
from textcl.paths import PROJECT_ROOT


def _project_copy(dest: Path) -> Path:
    """What a source distribution holds (the build writes into its tree, not the checkout)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, dest / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("textcl", "data", "pipelines"):
        shutil.copytree(PROJECT_ROOT / name, dest / name, ignore=skip)
    return dest


def test_an_installed_wheel_runs_the_default_job_from_an_empty_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    source = _project_copy(tmp_path / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(source)],
        check=True, capture_output=True,
    )
    (wheel,) = wheels.glob("textcl-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # the wheel alone into the fresh environment; its dependencies from this one
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed",
         "--prefix", str(env_dir), str(wheel)],
        check=True, capture_output=True,
    )
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": deps, "PYTHONNOUSERSITE": "1"}
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.rmtree(source)  # nothing of the sources is left to fall back on
    where = subprocess.run(
        [str(python), "-c", "import textcl, textcl.paths as p; print(textcl.__file__); "
         "print(p.pipeline_path('default')); print(p.sample_stream_path())"],
        cwd=empty, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()
    assert all(str(env_dir) in line for line in where), where  # nothing from the checkout
    run = subprocess.run(
        [str(python), "-m", "textcl", "stream", "--quiet", "--out", "out"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((empty / "out" / "summary.json").read_text())
    assert summary["processed"] == 23_880 and summary["rejected"] == 120
    assert summary["config"] == json.loads(PipelineConfig().model_dump_json())
    shown = subprocess.run(
        [str(python), "-m", "textcl", "config", "show", "-p", "transformer"],
        cwd=empty, env=env, check=True, capture_output=True, text=True,
    ).stdout
    assert "share/textcl/pipelines/transformer.toml" in shown.splitlines()[0]
    shown = subprocess.run(
        [str(python), "-m", "textcl", "config", "show", "-p", "classify"],
        cwd=empty, env=env, check=True, capture_output=True, text=True,
    ).stdout
    assert "share/textcl/pipelines/classify.toml" in shown.splitlines()[0]
    assert 'labels = [\n    "topic",\n]' in shown or 'labels = ["topic"]' in shown


def test_the_command_starts_without_the_heavy_libraries() -> None:
    """`textcl --help` and the parsing of every command load none of the machine-learning
    libraries (they cost seconds; each command imports what it uses when it runs)."""
    heavy = ("river", "gensim", "torch", "matplotlib", "transformers", "spacy", "sklearn")
    code = (
        "import sys, textcl.cli; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert loaded == "", f"imported at start-up: {loaded}"
