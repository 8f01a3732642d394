"""Engines for SQLite (default) and PostgreSQL, set up for a long-running bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# The types the rest of the bot uses, so that only bot.db imports SQLAlchemy.
Engine: TypeAlias = AsyncEngine
SessionFactory: TypeAlias = async_sessionmaker[AsyncSession]

# How long SQLite waits for a lock before "database is locked" (ms).
SQLITE_BUSY_TIMEOUT_MS = 5000
# WAL pages between automatic checkpoints (SQLite's default is 1000).
SQLITE_WAL_CHECKPOINT_PAGES = 10_000


def create_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite, with WAL, busy_timeout and foreign keys on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer at a time anyway, and writers
        # queueing for the pool in asyncio are served in order, where writers
        # on many connections spin in SQLite's busy handler and can starve
        # past busy_timeout ("database is locked") under load.
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while the delivery engine writes; NORMAL is
    # durable across application crashes in WAL mode (only power loss can
    # drop the last transactions).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoint the WAL every 10,000 pages (40 MiB) instead of 1,000: a tick
    # that enqueues a minute of a million subscribers dirties a page per due
    # subscriber, and at 1,000 nearly every page of it was a checkpoint with
    # its fsyncs (tick 49,800 -> 53,900 rows/s, tests/bench/bench_enqueue.py).
    # A checkpoint copies each page once however often it changed, so rarer
    # ones copy less. The WAL file is cut back to 64 MiB after one.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def describe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
