"""Shared fixtures: the shared evaluation data must be present (CI fails loudly otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textcl.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; a missing folder is an error, never a skip."""
    return shared_data_dir(required=True)


@pytest.fixture(scope="session")
def crisislex_t26(shared_data: Path) -> Path:
    return shared_data / "crisislex" / "T26"
