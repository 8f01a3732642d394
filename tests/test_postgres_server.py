"""The throwaway PostgreSQL server (tests/postgres_server.py) is real and behaves like production.

Every test talks to the server through SQLAlchemy's async engine and asyncpg, the
stack the bot uses, and disposes its engines so no connection outlives its test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.postgres_server import PostgresServer, is_running, running_postgres

# Databases handed to earlier runs of test_each_test_gets_its_own_empty_database.
_seen_databases: list[str] = []


@asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    """An async engine on ``url``, disposed (all connections closed) on exit."""
    engine = create_async_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_connects_with_sqlalchemy_and_asyncpg(postgres_url: str) -> None:
    """The URL opens an asyncpg connection to a real PostgreSQL server, on the test's own database."""
    url = make_url(postgres_url)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "127.0.0.1"
    async with engine_for(postgres_url) as engine, engine.connect() as conn:
        version = (await conn.execute(text("select version()"))).scalar_one()
        database = (await conn.execute(text("select current_database()"))).scalar_one()
    assert version.startswith("PostgreSQL ")
    assert database == url.database


async def test_creates_a_table_and_reads_back_what_it_inserted(postgres_url: str) -> None:
    """DDL and DML commit, and a new connection reads the rows back (UTF-8 text included)."""
    async with engine_for(postgres_url) as engine:
        async with engine.begin() as conn:
            await conn.execute(text("create table users (id bigint primary key, name text not null)"))
            await conn.execute(
                text("insert into users (id, name) values (:id, :name)"),
                [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grete 🐄"}],
            )
        async with engine.connect() as conn:
            rows = (await conn.execute(text("select id, name from users order by id"))).all()
    assert [tuple(row) for row in rows] == [(1, "Ada"), (2, "Grete 🐄")]


@pytest.mark.parametrize("run", ["first", "second"])
async def test_each_test_gets_its_own_empty_database(
    postgres_url: str, postgres_server: PostgresServer, run: str
) -> None:
    """Each test's database is new and empty, whatever other tests created, and is dropped after the test.

    The test runs twice: whichever runs second finds none of the first run's table,
    gets a different database, and the first run's database no longer exists.
    """
    database = make_url(postgres_url).database
    assert database is not None
    assert database not in _seen_databases
    async with engine_for(postgres_url) as engine:
        async with engine.connect() as conn:
            tables = (
                (await conn.execute(text("select tablename from pg_tables where schemaname = 'public'")))
                .scalars()
                .all()
            )
            earlier = (
                (
                    await conn.execute(
                        text("select datname from pg_database where datname = any(:names)"),
                        {"names": _seen_databases},
                    )
                )
                .scalars()
                .all()
            )
        assert tables == []
        assert earlier == []
        async with engine.begin() as conn:
            await conn.execute(text(f"create table left_by_{run} (id int)"))
    _seen_databases.append(database)


async def test_skip_locked_hands_each_row_to_one_worker(postgres_url: str) -> None:
    """``FOR UPDATE SKIP LOCKED`` across two connections: a row locked by one is skipped by the other.

    Two workers each claim the first free job: the first gets job 1, the second skips
    it and gets job 2. Asking for job 1 with ``NOWAIT`` fails while it is locked, and
    once the first worker commits, job 1 can be claimed again.
    """
    claim = text("select id from jobs order by id limit 1 for update skip locked")
    async with engine_for(postgres_url) as engine:
        async with engine.begin() as conn:
            await conn.execute(text("create table jobs (id int primary key)"))
            await conn.execute(text("insert into jobs (id) values (1), (2), (3)"))

        async with engine.connect() as first, engine.connect() as second:
            assert (await first.execute(claim)).scalar_one() == 1
            assert (await second.execute(claim)).scalar_one() == 2
            free = (await second.execute(text("select id from jobs order by id for update skip locked"))).scalars()
            assert free.all() == [2, 3]  # its own lock on 2 does not hide 2 from itself
            await second.rollback()

            with pytest.raises(DBAPIError, match="could not obtain lock"):
                await second.execute(text("select id from jobs where id = 1 for update nowait"))
            await second.rollback()

            await first.commit()
            assert (await second.execute(claim)).scalar_one() == 1
            await second.rollback()


async def test_server_is_a_fast_loopback_only_cluster(postgres_server: PostgresServer) -> None:
    """The server listens on 127.0.0.1 only, keeps its socket in its own directory, has
    durability off for speed and room for 200 connections."""
    async with engine_for(postgres_server.url("postgres")) as engine, engine.connect() as conn:
        settings = {
            name: (await conn.execute(text(f"show {name}"))).scalar_one()
            for name in (
                "listen_addresses",
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "max_connections",
                "unix_socket_directories",
                "server_encoding",
            )
        }
        backend_pid = (await conn.execute(text("select pg_backend_pid()"))).scalar_one()
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "unix_socket_directories": str(postgres_server.socket_dir),
        "server_encoding": "UTF8",
    }
    assert postgres_server.socket_dir.is_relative_to(postgres_server.base_dir)
    assert backend_pid != postgres_server.pid


def test_postmaster_runs_as_the_data_directory_owner_never_root(postgres_server: PostgresServer) -> None:
    """The postmaster whose pid the fixture reports is running, as the owner of the cluster's
    data directory, and that is never root (under root the fixture uses the postgres user)."""
    assert is_running(postgres_server.pid)
    status = Path(f"/proc/{postgres_server.pid}/status").read_text(encoding="utf-8")
    real_uid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
    assert real_uid == postgres_server.data_dir.stat().st_uid
    assert real_uid != 0


def test_creates_and_drops_databases(postgres_server: PostgresServer) -> None:
    """``create_database`` makes a uniquely named database (or the named one); ``drop_database`` removes it."""
    exists = "select count(*) from pg_database where datname = '{}'"
    generated = postgres_server.create_database()
    named = postgres_server.create_database("calfbot_named_db")
    try:
        assert generated != named
        assert postgres_server.psql(exists.format(generated)) == "1"
        assert postgres_server.psql(exists.format(named)) == "1"
        assert postgres_server.url(named) == f"postgresql+asyncpg://calfbot@127.0.0.1:{postgres_server.port}/{named}"
    finally:
        postgres_server.drop_database(generated)
        postgres_server.drop_database(named)
    assert postgres_server.psql(exists.format(generated)) == "0"
    assert postgres_server.psql(exists.format(named)) == "0"
    with pytest.raises(ValueError, match="must match"):
        postgres_server.create_database('x"; drop database postgres; --')


def test_cluster_is_stopped_and_deleted_even_when_the_block_fails(postgres_server: PostgresServer) -> None:
    """Leaving ``running_postgres`` (as the session fixture does at the end) stops the server with
    its own pg_ctl and deletes its directory, also when the code inside raised."""
    seen: list[PostgresServer] = []
    with pytest.raises(RuntimeError, match="test failed"), running_postgres(postgres_server.bindir) as other:
        seen.append(other)
        assert other.port != postgres_server.port
        assert is_running(other.pid)
        assert other.psql("select 1") == "1"
        raise RuntimeError("test failed")
    (other,) = seen
    assert not is_running(other.pid)
    assert not other.base_dir.exists()
    assert is_running(postgres_server.pid)
