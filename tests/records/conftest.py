"""Fixtures shared by the record tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios import World, pointed_world


@pytest.fixture
def w(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    """A fresh sandbox world, the toolkit pointed at it with cases under ``tmp_path / "cases"``."""
    with pointed_world(monkeypatch, tmp_path / "cases") as wd:
        yield wd
