"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import load_catalog
from bot.content.location import default_content_dir
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.domain import Catalog
from bot.transport import TRANSPORTS, Transport
from tests.fakes.bot_api_server import using_transport

REPO = Path(__file__).resolve().parent.parent

# As `calfbot` does (bot/cli.py): RetryAfter.retry_after is a timedelta, no deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

pytest_plugins = ["tests.postgres_server"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The real content the bot ships, loaded once."""
    return load_catalog(default_content_dir())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each real engine: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated fresh database, disposed after the test."""
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    """Each Bot API client calfbot can use (``CALFBOT_TELEGRAM_TRANSPORT``); ``fast_request()`` builds it."""
    chosen: Transport = request.param
    with using_transport(chosen):
        yield chosen
