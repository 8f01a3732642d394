"""Enqueueing at a million subscribers: the tick's ledger rows/s, an announcement's, the claim and due queries.

    python -m tests.bench.bench_enqueue                       # SQLite: 1,000,000 subscribers, 50,000 due at once
    python -m tests.bench.bench_enqueue --subscribers 100000 --due 5000
    python -m tests.bench.bench_enqueue --postgres            # a throwaway PostgreSQL server, started and stopped here
    python -m tests.bench.bench_enqueue --database-url postgresql+asyncpg://calfbot@127.0.0.1:5432/postgres

A migrated database is filled with ``--subscribers`` (5 % inactive, 1 % with
a pause; see ``bench_due_query.fill``) and ``--due`` of them are made due in
the same minute. Then, with the real ``DeliveryEngine`` (no sending):

* the tick's first page of 1000: each of its statements (the oldest due
  group, the page's last id, the ``INSERT ... SELECT`` of the ledger rows,
  the ``UPDATE`` of the next send instants), median ms alone on the driver,
  with its plan;
* the tick: ``engine.tick()`` from the due query to the committed pending rows
  and next-send instants, in pages of 1000: rows/s;
* an announcement to every active subscriber: ``engine.enqueue_announcements()``
  (``INSERT ... SELECT`` in pages of 20,000): rows/s;
* the claim query with every one of those rows pending: median ms of
  ``ledger.claim`` for a batch of 500 (rolled back each time), with its plan.

Each figure is the median of ``--runs`` runs on a fresh copy of the filled
database. On SQLite that is a copy of a file in a temporary directory and the
plan is ``EXPLAIN QUERY PLAN``. On PostgreSQL (``--database-url``, or
``--postgres`` for a throwaway cluster as the tests start one: durability off)
the bench creates its own databases on that server (the role needs CREATEDB),
a filled template and a ``CREATE DATABASE ... TEMPLATE`` copy per run, drops
them at the end, and the plan is ``EXPLAIN``; ``deliveries`` is analyzed
before the claims, as autovacuum would have done.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from telegram import Bot

from bot.db import announcements, ledger
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.domain import Catalog
from bot.heap import freeze_startup_objects
from tests.bench.bench_delivery import throwaway_postgres
from tests.bench.bench_due_query import (
    FIRST_SEND,
    PAUSES,
    PROGRAM_START,
    capture_page,
    captured_statements,
    fill,
    page_statement_kind,
)

NOW = FIRST_SEND + timedelta(seconds=30)
TOKEN = "123456789:" + "A" * 35
PAGE = 1000
CLAIM_BATCH = 500
SAMPLES = 8  # per query and run; the first warms up

# bench_due_query.FILL for PostgreSQL: the same subscribers, from generate_series.
PG_FILL = """
INSERT INTO subscribers
    (id, chat_id, user_id, created_at, active, send_time, timezone, program_start, seed, next_send_at)
SELECT
    i,
    1000000 + i,
    1000000 + i,
    TIMESTAMPTZ '2026-10-01 12:00:00+00',
    i % 20 != 7,
    TIME '07:00' + (i % 1440) * INTERVAL '1 minute',
    'UTC',
    CAST(:start AS DATE),
    lpad(to_hex(i), 16, '0'),
    CAST(:first AS TIMESTAMPTZ) + (i % 1440) * INTERVAL '1 minute'
FROM generate_series(1, :count) AS i
"""
PG_DUE = (
    "UPDATE subscribers SET next_send_at = CAST(:first AS TIMESTAMPTZ), send_time = TIME '07:00'"
    " WHERE id % :step = 0 AND id / :step <= :due"
)


def _no_catalog() -> Catalog:
    raise AssertionError("enqueueing never renders a message")


class Target:
    """Where the runs happen: a template filled once, and a fresh copy of it per run."""

    name = ""

    def prepare(self, subscribers: int, due: int) -> float:
        """Migrate and fill the template; ``due`` subscribers due at FIRST_SEND. Returns the fill seconds."""
        raise NotImplementedError

    def fresh(self, run: int) -> str:
        """The URL of a fresh copy of the template."""
        raise NotImplementedError

    def discard(self, url: str) -> None:
        """Delete a copy made by ``fresh``."""
        raise NotImplementedError

    async def explain(self, db: AsyncEngine, statement: str, parameters: Any) -> list[str]:
        """The plan of a statement as the bot ran it, one line per step."""
        raise NotImplementedError

    async def settle(self, db: AsyncEngine) -> None:
        """After the enqueues, before the claims: what the server would have done by itself meanwhile."""


class SqliteTarget(Target):
    """Files in a temporary directory."""

    name = "SQLite"

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._template = scratch / "template.db"

    def prepare(self, subscribers: int, due: int) -> float:
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{self._template}"))
        seconds = fill(self._template, subscribers)
        step = max(1, subscribers // due)
        with sqlite3.connect(self._template) as db:
            db.execute(
                "UPDATE subscribers SET next_send_at = strftime('%Y-%m-%d %H:%M:%S.000000', ?),"
                " send_time = '07:00:00.000000' WHERE id % ? = 0 AND id / ? <= ?",
                (FIRST_SEND.replace(tzinfo=None).isoformat(sep=" "), step, step, due),
            )
        return seconds

    def fresh(self, run: int) -> str:
        path = self._scratch / f"run{run}.db"
        shutil.copy(self._template, path)
        return f"sqlite+aiosqlite:///{path}"

    def discard(self, url: str) -> None:
        path = Path(str(make_url(url).database))
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)

    async def explain(self, db: AsyncEngine, statement: str, parameters: Any) -> list[str]:
        path = str(make_url(str(db.url)).database)
        with sqlite3.connect(path) as raw:
            return [str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]


class PostgresTarget(Target):
    """Databases of its own on a PostgreSQL server, reached through ``url``'s database."""

    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._prefix = f"calfbot_bench_{uuid.uuid4().hex[:8]}"
        self._template = f"{self._prefix}_template"

    def _url_of(self, database: str) -> str:
        return self._url.set(database=database).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        async def run() -> None:
            engine = create_async_engine(self._url_of(str(self._url.database)), isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as connection:
                    await connection.execute(text(sql))
            finally:
                await engine.dispose()

        asyncio.run(run())

    def prepare(self, subscribers: int, due: int) -> float:
        self._admin(f"CREATE DATABASE {self._template}")
        url = self._url_of(self._template)
        asyncio.run(_migrate(url))
        return asyncio.run(self._fill(url, subscribers, due))

    async def _fill(self, url: str, subscribers: int, due: int) -> float:
        engine = create_engine(url)
        step = max(1, subscribers // due)
        try:
            started = time.perf_counter()
            async with engine.begin() as connection:
                await connection.execute(
                    text(PG_FILL), {"count": subscribers, "start": PROGRAM_START, "first": FIRST_SEND}
                )
                await connection.execute(text(PAUSES))
                await connection.execute(text("SELECT setval('subscribers_id_seq', :count)"), {"count": subscribers})
            seconds = time.perf_counter() - started
            async with engine.begin() as connection:
                await connection.execute(text(PG_DUE), {"first": FIRST_SEND, "step": step, "due": due})
                await connection.execute(text("ANALYZE"))
        finally:
            await engine.dispose()
        return seconds

    def fresh(self, run: int) -> str:
        name = f"{self._prefix}_run{run}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self._template}")
        return self._url_of(name)

    def discard(self, url: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")

    def drop_template(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self._template} WITH (FORCE)")

    async def settle(self, db: AsyncEngine) -> None:
        # Autovacuum analyzes a table a million rows bigger within a minute;
        # with the empty table's statistics the planner expects no pending row.
        async with db.begin() as connection:
            await connection.execute(text("ANALYZE deliveries"))

    async def explain(self, db: AsyncEngine, statement: str, parameters: Any) -> list[str]:
        async with db.connect() as connection:
            raw = await connection.get_raw_connection()
            rows = await raw.driver_connection.fetch(f"EXPLAIN {statement}", *parameters)  # type: ignore[union-attr]
        return [str(row[0]) for row in rows]


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class PageQuery:
    """One statement of a tick's page: what it does, median ms alone on the driver, its plan."""

    kind: str
    ms: float
    plan: list[str]


@dataclass(frozen=True)
class Run:
    """The figures of one run."""

    ticked: int
    tick_rows_per_s: float
    announced: int
    announce_rows_per_s: float
    claim_ms: float
    claim_plan: list[str]
    page_queries: list[PageQuery]


async def _page_queries(db: AsyncEngine, target: Target) -> list[PageQuery]:
    """The statements of the tick's first page, each timed alone on the driver (median ms), with its plan.

    The page is run once and rolled back to capture them; each timing runs
    in a transaction rolled back afterwards, so the writes time the same rows.
    """
    statements, done = await capture_page(db, NOW, PAGE)
    assert done.created == PAGE, done
    figures = []
    for captured in statements:
        samples = []
        async with db.connect() as connection:
            for _ in range(SAMPLES):
                started = time.perf_counter()
                await connection.exec_driver_sql(captured.sql, captured.params)
                samples.append(time.perf_counter() - started)
                await connection.rollback()
        plan = await target.explain(db, captured.sql, captured.params)
        figures.append(PageQuery(page_statement_kind(captured.sql), _median_ms(samples), plan))
    return figures


async def _claims(db: AsyncEngine, target: Target) -> tuple[float, list[str]]:
    """Median ms of ``ledger.claim`` for a batch with every row pending, each rolled back; and its plan."""
    sessions = session_factory(db)
    samples = []
    with captured_statements(db, lambda sql: sql.startswith("UPDATE DELIVERIES")) as seen:
        for _ in range(SAMPLES):
            async with sessions() as session:
                started = time.perf_counter()
                claims = await ledger.claim(
                    session, now=NOW, claimed_until=NOW + timedelta(seconds=30), limit=CLAIM_BATCH
                )
                samples.append(time.perf_counter() - started)
                await session.rollback()
            assert len(claims) == CLAIM_BATCH
    return _median_ms(samples), await target.explain(db, seen[-1].sql, seen[-1].params)


def _median_ms(samples: Sequence[float]) -> float:
    """The median after the first sample, which warms up."""
    return statistics.median(samples[1:]) * 1000


async def measure(url: str, target: Target) -> Run:
    """One run on a fresh copy: due query, tick rows/s, announcement rows/s, claim ms, plans."""
    db = create_engine(url)
    sessions = session_factory(db)
    engine = DeliveryEngine(
        sessions=sessions,
        bot=Bot(TOKEN),
        catalog=_no_catalog,
        clock=lambda: NOW,
        settings=DeliverySettings(page_size=PAGE),
        on_fatal=lambda _reason: None,
    )
    try:
        page_queries = await _page_queries(db, target)
        freeze_startup_objects()  # as the bot does once started

        started = time.perf_counter()
        ticked = await engine.tick()
        tick_seconds = time.perf_counter() - started

        async with sessions.begin() as session:
            draft = await announcements.create_draft(session, text="bench", admin_id=1, now=NOW)
            await announcements.confirm(session, draft.id, now=NOW)
        started = time.perf_counter()
        announced = await engine.enqueue_announcements()
        announce_seconds = time.perf_counter() - started

        await target.settle(db)
        claim_ms, claim_plan = await _claims(db, target)
    finally:
        await db.dispose()
    return Run(
        ticked=ticked,
        tick_rows_per_s=ticked / tick_seconds,
        announced=announced,
        announce_rows_per_s=announced / announce_seconds,
        claim_ms=claim_ms,
        claim_plan=claim_plan,
        page_queries=page_queries,
    )


def run_all(target: Target, args: argparse.Namespace) -> list[Run]:
    """Fill the template, then ``--runs`` runs on fresh copies."""
    fill_seconds = target.prepare(args.subscribers, args.due)
    print(f"filled {args.subscribers:,} subscribers in {fill_seconds:.1f} s ({target.name})", file=sys.stderr)
    runs = []
    for run in range(args.runs):
        url = target.fresh(run)
        try:
            runs.append(asyncio.run(measure(url, target)))
        finally:
            target.discard(url)
        print(f"run {run + 1}: {runs[-1].tick_rows_per_s:,.0f} tick rows/s", file=sys.stderr)
    return runs


def report(target: Target, args: argparse.Namespace, runs: list[Run]) -> None:
    """The medians over the runs, and the plans of the first."""

    def median(figure: Callable[[Run], float]) -> float:
        return float(statistics.median(figure(run) for run in runs))

    first = runs[0]
    print(f"{target.name}, subscribers {args.subscribers:,}; median of {args.runs} runs")
    print(f"  the tick's first page of {PAGE} due (median ms alone on the driver, writes rolled back):")
    for at, query in enumerate(first.page_queries):
        ms = statistics.median(run.page_queries[at].ms for run in runs)
        print(f"    {query.kind:<40} {ms:7.2f} ms")
        for line in query.plan:
            print(f"      plan: {line}")
    print(f"  tick: {first.ticked:,} due rows enqueued at {median(lambda r: r.tick_rows_per_s):,.0f} rows/s")
    print(f"  announcement: {first.announced:,} rows enqueued at {median(lambda r: r.announce_rows_per_s):,.0f} rows/s")
    pending = first.announced + first.ticked
    print(f"  claim of {CLAIM_BATCH} with {pending:,} pending: {median(lambda r: r.claim_ms):.2f} ms")
    for line in first.claim_plan:
        print(f"    plan: {line}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_enqueue", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=50_000, help="subscribers due in the same minute")
    parser.add_argument("--runs", type=int, default=3)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        help="a postgresql+asyncpg:// URL; the bench creates and drops databases of its own on that server",
    )
    where.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL server (as the tests do) and use it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.due < PAGE or args.runs < 1:
        raise SystemExit(f"--due must be at least {PAGE} (a full page), --runs at least 1")
    if args.postgres:
        with throwaway_postgres() as url:
            return _on_postgres(url, args)
    if args.database_url:
        if make_url(args.database_url).get_backend_name() != "postgresql":
            raise SystemExit("--database-url must be a postgresql+asyncpg:// URL (SQLite is the default)")
        return _on_postgres(args.database_url, args)
    with tempfile.TemporaryDirectory(prefix="calfbot-bench-") as scratch:
        target = SqliteTarget(Path(scratch))
        report(target, args, run_all(target, args))
    return 0


def _on_postgres(url: str, args: argparse.Namespace) -> int:
    target = PostgresTarget(url)
    try:
        report(target, args, run_all(target, args))
    finally:
        target.drop_template()
    return 0


if __name__ == "__main__":
    sys.exit(main())
