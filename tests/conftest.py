"""Shared fixtures: the shared evaluation data must be present (CI fails loudly otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textcl.paths import shared_data_dir

DATA_FIXTURES = frozenset({"shared_data", "crisislex_t26"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the shared data carry the ``shared_data`` marker, so a clone
    without the data runs the rest with ``-m "not shared_data"`` (never a silent skip)."""
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; a missing folder is an error, never a skip."""
    return shared_data_dir(required=True)


@pytest.fixture(scope="session")
def crisislex_t26(shared_data: Path) -> Path:
    return shared_data / "crisislex" / "T26"
