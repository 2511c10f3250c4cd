"""Fixtures for the content tests: content folders in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import FIXTURES


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """An empty content folder (the one holding course folders), shown as `lessons/...`."""
    root = tmp_path / "lessons"
    root.mkdir()
    return root


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A writable copy of the example course; returns the content folder."""
    root = tmp_path / "lessons"
    shutil.copytree(FIXTURES, root)
    return root
