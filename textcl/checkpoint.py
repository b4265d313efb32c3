"""Crash-safe checkpoints: nested state as JSON plus one ``.npz`` of arrays, never pickle.

A checkpoint is a folder with ``state.json`` (the nested state; every numpy array or torch
tensor replaced by a reference into ``arrays.npz``) and ``manifest.json`` (format, textcl
version and the SHA-256 of both files). It is written to a temporary folder, every file
is fsynced, and the folder is renamed into place, so a crash leaves either the old or the
new checkpoint, never half of one. Loading refuses a checkpoint of another format or
version, a truncated or edited file, or anything else textcl did not write, with the
reason and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "textcl-checkpoint/1"
ARRAY_KEY = "__array__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used (names the folder, the reason and the fix)."""


def _version() -> str:
    from textcl import __version__

    return __version__


def _flatten(value: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(value, np.ndarray):
        arrays[path] = value
        return {ARRAY_KEY: path}
    if type(value).__module__ == "torch" and hasattr(value, "detach"):
        arrays[path] = value.detach().cpu().numpy()
        return {ARRAY_KEY: path, "torch": True}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"checkpoint keys must be strings, got {key!r} at {path or '/'}")
            out[key] = _flatten(item, arrays, f"{path}/{key}")
        return out
    if isinstance(value, list | tuple):
        return [_flatten(item, arrays, f"{path}/{i}") for i, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot checkpoint a {type(value).__name__} at {path or '/'}")


def _restore(value: Any, arrays: Any) -> Any:
    if isinstance(value, dict):
        if ARRAY_KEY in value:
            array = arrays[value[ARRAY_KEY]]
            if value.get("torch"):
                import torch

                return torch.from_numpy(array.copy())
            return array
        return {key: _restore(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, arrays) for item in value]
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(folder: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (dicts, lists, numbers, strings, numpy arrays, torch tensors)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    arrays: dict[str, np.ndarray] = {}
    tree = _flatten(state, arrays, "")
    (tmp / "state.json").write_text(json.dumps(tree), encoding="utf-8")
    with (tmp / "arrays.npz").open("wb") as handle:
        np.savez(handle, **arrays)
    manifest = {
        "format": FORMAT,
        "textcl": _version(),
        "files": {name: _sha256(tmp / name) for name in ("state.json", "arrays.npz")},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for name in ("state.json", "arrays.npz", "manifest.json"):
        _fsync(tmp / name)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    _fsync(folder.parent)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def read_format_json(
    path: Path, fmt: str, error: type[Exception] = ValueError, missing: str | None = None
) -> dict[str, Any]:
    """A JSON object textcl wrote with ``"format": fmt``; anything else raises ``error``
    (``missing`` is the message when the file does not exist)."""
    if not path.exists():
        raise error(missing or f"{path}: not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid JSON ({exc})") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != fmt:
        raise error(f"{path}: format {found!r}; this textcl reads {fmt!r}")
    return data


def load_checkpoint(folder: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, after checking its integrity."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    old = folder.with_name(folder.name + ".old")
    hint = f" (an older one is at {old})" if old.exists() else ""
    manifest = read_format_json(
        manifest_path, FORMAT, CheckpointError,
        f"{folder}: no manifest.json, so not a textcl checkpoint{hint}; start without --resume",
    )
    if manifest.get("textcl") != _version():
        raise CheckpointError(f"{manifest_path}: written by textcl {manifest.get('textcl')}, "
                              f"this is {_version()}; resume with that version or start over")
    for name, digest in (manifest.get("files") or {}).items():
        path = folder / name
        if not path.exists() or _sha256(path) != digest:
            raise CheckpointError(f"{path}: missing, truncated or modified since it was "
                                  "written (checksum mismatch); start without --resume")
    if set(manifest.get("files") or {}) != {"state.json", "arrays.npz"}:
        raise CheckpointError(f"{manifest_path}: lists unexpected files")
    tree = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        return _restore(tree, {k: arrays[k] for k in arrays.files})
