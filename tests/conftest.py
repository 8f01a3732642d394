"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import load_catalog
from bot.content.location import default_content_dir
from bot.domain import Catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The real content the bot ships, loaded once."""
    return load_catalog(default_content_dir())
