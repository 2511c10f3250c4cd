"""The external-tool guard: skip loudly on a developer machine, fail on CI."""

from __future__ import annotations

import pytest

from .conftest import require_tool

MISSING = "no-such-tool-for-coaching-tests"


def test_missing_tool_fails_on_ci(monkeypatch):
    """With CI=true a missing tool is a failure, so CI cannot pass by skipping."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="IS NOT INSTALLED"):
        require_tool(MISSING)


def test_missing_tool_skips_elsewhere(monkeypatch):
    """Outside CI a missing tool skips with a loud reason."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="IS NOT INSTALLED"):
        require_tool(MISSING)


def test_present_tool_is_found():
    """A tool on PATH is returned."""
    assert require_tool("sh").endswith("sh")
