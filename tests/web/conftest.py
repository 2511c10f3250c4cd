"""Fixtures shared by the web tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DEMO_CONTENT


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo content."""
    target = tmp_path / "content"
    shutil.copytree(DEMO_CONTENT, target)
    return target
