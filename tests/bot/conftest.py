"""Fixtures for handler tests: a running bot on a fresh SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.domain import Catalog
from bot.transport import Transport
from tests.bot.harness import FakeClock, Harness, running_bot

# A Saturday morning in UTC; the default zone is UTC, the default time 07:00.
START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
async def bot(catalog: Catalog, tmp_path: Path, transport: Transport) -> AsyncIterator[Harness]:
    """calfbot polling the fake Bot API over each transport, with its own SQLite file and a hand-moved clock."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    async with running_bot(catalog, engine, FakeClock(START), transport=transport) as harness:
        yield harness
    await engine.dispose()
