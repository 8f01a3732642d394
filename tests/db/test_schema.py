"""Migrations, models and engine settings agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import SQLITE_WAL_CHECKPOINT_PAGES, session_factory
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import Base, Subscriber


def _diff(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    """After `upgrade`, autogenerate finds nothing to change: no model change without a migration."""
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_upgrade_twice_is_harmless(engine: AsyncEngine) -> None:
    """Running migrations on an up-to-date database changes nothing (calfbot run does it on every start)."""
    await upgrade(engine)
    async with engine.connect() as connection:
        version = await connection.scalar(text("select version_num from alembic_version"))
    assert version == "0005"


def _downgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_the_newest_migration_goes_down_and_up_again_with_rows_in_place(engine: AsyncEngine) -> None:
    """An admin can step back one release and forward again: the rows stay, the schema matches the models."""
    async with session_factory(engine).begin() as session:
        session.add(_subscriber(datetime(2026, 11, 21, 12, 0, tzinfo=UTC)))
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade_to, "0004")
    async with engine.connect() as connection:
        assert await connection.scalar(text("select version_num from alembic_version")) == "0004"
    await upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        assert await connection.scalar(text("select count(*) from subscribers")) == 1


def _subscriber(created_at: datetime) -> Subscriber:
    return Subscriber(
        chat_id=1,
        user_id=1,
        created_at=created_at,
        active=True,
        send_time=time(7, 0),
        timezone="UTC",
        program_start=date(2026, 11, 21),
        seed="s",
    )


async def test_datetimes_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    """An aware datetime in any offset is stored as that instant and read back as UTC."""
    berlin_evening = datetime(2026, 11, 21, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    async with session_factory(engine).begin() as session:
        session.add(_subscriber(berlin_evening))
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(Subscriber.created_at))
    assert stored == berlin_evening
    assert stored is not None
    assert stored.tzinfo == UTC


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    """A naive datetime would be ambiguous; storing one is a bug and fails loudly."""
    with pytest.raises(StatementError, match="naive datetimes are not stored"):
        async with session_factory(engine).begin() as session:
            session.add(_subscriber(datetime(2026, 11, 21, 12, 0)))  # naive on purpose


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(engine: AsyncEngine) -> None:
    """Every SQLite connection gets WAL (checkpointed every 10,000 pages), a busy timeout and foreign keys."""
    async with engine.connect() as connection:
        assert await connection.scalar(text("pragma journal_mode")) == "wal"
        assert await connection.scalar(text("pragma busy_timeout")) == 5000
        assert await connection.scalar(text("pragma foreign_keys")) == 1
        assert await connection.scalar(text("pragma wal_autocheckpoint")) == SQLITE_WAL_CHECKPOINT_PAGES
        assert await connection.scalar(text("pragma journal_size_limit")) == 64 * 1024 * 1024
