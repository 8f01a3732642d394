"""The tick's due-subscriber query and the enqueue of one page, on SQLite at 100k and 1M subscribers.

    python -m tests.bench.bench_due_query
    python -m tests.bench.bench_due_query --sizes 100000 --runs 15 --due-minutes 3

For each size, a migrated SQLite file is filled with INSERT ... SELECT from a
recursive CTE: send times spread evenly over the day (``--due-minutes`` of the
1440 minutes are due), 5 % of subscribers inactive, 1 % with a pause. Then:

* the SQL ``bot.db.ledger.due_subscribers`` runs (captured from SQLAlchemy as
  it executes, with its parameters) is timed on the stdlib driver, alone;
* ``ledger.due_subscribers`` itself (SQLAlchemy + aiosqlite, with the pauses
  query and the result objects) is timed;
* one page is enqueued as the tick does it (``ledger.enqueue``,
  ``ledger.set_next_send``, commit), each part timed, then undone untimed;
* ``EXPLAIN QUERY PLAN`` of the captured SQL is printed, with whether it
  uses ``ix_subscribers_due``; for comparison, the same SQL with the partial
  index's own predicate (``WHERE subscribers.active`` instead of ``= 1``).

Every figure is the median of ``--runs`` runs (after one warm-up run), in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import ledger
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade

TARGET_MS = 5.0
INDEX = "ix_subscribers_due"
# Subscriber i is due at FIRST_SEND + (i % 1440) minutes; "now" is 30 s into the last due minute.
FIRST_SEND = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
PROGRAM_START = date(2026, 11, 1)

FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO subscribers
    (id, chat_id, user_id, created_at, active, send_time, timezone, program_start, seed, next_send_at)
SELECT
    i,
    1000000 + i,
    1000000 + i,
    '2026-10-01 12:00:00.000000',
    i % 20 != 7,
    strftime('%H:%M:%S.000000', '07:00:00', '+' || (i % 1440) || ' minutes'),
    'UTC',
    :start,
    printf('%016x', i),
    strftime('%Y-%m-%d %H:%M:%S.000000', :first, '+' || (i % 1440) || ' minutes')
FROM n
"""
PAUSES = """
INSERT INTO pauses (subscriber_id, first_day, last_day)
SELECT id, '2026-11-10', '2026-11-12' FROM subscribers WHERE id % 100 = 1
"""


@dataclass(frozen=True)
class Captured:
    sql: str
    params: tuple[Any, ...]


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def fill(path: Path, count: int) -> float:
    """Bulk-insert ``count`` subscribers (and 1 % pauses); returns the seconds it took."""
    started = time.perf_counter()
    with sqlite3.connect(path) as db:
        db.execute(
            FILL,
            {
                "count": count,
                "start": PROGRAM_START.isoformat(),
                "first": FIRST_SEND.replace(tzinfo=None).isoformat(sep=" "),
            },
        )
        db.execute(PAUSES)
    return time.perf_counter() - started


async def capture_due_query(db: AsyncEngine, now: datetime, page: int) -> tuple[Captured, list[ledger.DueSubscriber]]:
    """Run ``ledger.due_subscribers`` once and keep the SQL and parameters of its query on subscribers."""
    seen: list[Captured] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append(Captured(statement, tuple(parameters)))

    event.listen(db.sync_engine, "before_cursor_execute", record)
    try:
        async with session_factory(db)() as session:
            due = await ledger.due_subscribers(session, now=now, after=None, limit=page)
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", record)
    query = next(c for c in seen if "FROM subscribers" in c.sql)
    return query, due


def plan(path: Path, captured: Captured) -> list[str]:
    with sqlite3.connect(path) as db:
        return [str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {captured.sql}", captured.params)]


def time_raw(path: Path, captured: Captured, runs: int) -> tuple[float, int]:
    """Median ms of the SQL alone on the stdlib driver, and the rows it returns."""
    samples: list[float] = []
    with sqlite3.connect(path) as db:
        rows = len(db.execute(captured.sql, captured.params).fetchall())  # warm-up
        for _ in range(runs):
            started = time.perf_counter()
            db.execute(captured.sql, captured.params).fetchall()
            samples.append(time.perf_counter() - started)
    return median_ms(samples), rows


async def time_async(call: Callable[[], Awaitable[object]], runs: int) -> float:
    await call()  # warm-up
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


class CursorTimer:
    """Time spent inside the DB-API driver (the SQL itself), summed over statements."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db
        self._started = 0.0
        self.total = 0.0

    def _before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.total += time.perf_counter() - self._started

    def __enter__(self) -> CursorTimer:
        event.listen(self._db.sync_engine, "before_cursor_execute", self._before)
        event.listen(self._db.sync_engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._db.sync_engine, "before_cursor_execute", self._before)
        event.remove(self._db.sync_engine, "after_cursor_execute", self._after)


@dataclass(frozen=True)
class Writes:
    """Median ms of one page's writes; ``*_sql`` is the part spent in the driver."""

    enqueue: float
    enqueue_sql: float
    set_next_send: float
    set_next_send_sql: float
    commit: float


async def time_enqueue(
    db: AsyncEngine, path: Path, due: list[ledger.DueSubscriber], now: datetime, runs: int
) -> Writes:
    """Enqueue, set_next_send and commit of one page, as the tick does them; each run undone afterwards."""
    sessions = session_factory(db)
    by_instant: dict[datetime, list[int]] = {}
    for subscriber in due:
        by_instant.setdefault(subscriber.next_send_at, []).append(subscriber.id)
    batches = [ledger.DailyBatch(at.date(), at, ids) for at, ids in by_instant.items()]
    moves: dict[datetime | None, list[int]] = {at + timedelta(days=1): ids for at, ids in by_instant.items()}
    restore = [(s.next_send_at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"), s.id) for s in due]
    parts: list[tuple[float, float, float, float, float]] = []
    for run in range(runs + 1):
        session = sessions()
        try:
            await session.begin()
            with CursorTimer(db) as insert_sql:
                started = time.perf_counter()
                created = await ledger.enqueue_daily(session, batches, now=now)
                enqueued = time.perf_counter()
            with CursorTimer(db) as update_sql:
                await ledger.set_next_send(session, moves)
                moved = time.perf_counter()
            await session.commit()
            committed = time.perf_counter()
        finally:
            await session.close()
        if created != len(due):
            raise RuntimeError(f"enqueue created {created} of {len(due)} rows")
        if run:  # the first run warms up
            parts.append((enqueued - started, insert_sql.total, moved - enqueued, update_sql.total, committed - moved))
        with sqlite3.connect(path) as raw:
            raw.execute("DELETE FROM deliveries")
            raw.executemany("UPDATE subscribers SET next_send_at = ? WHERE id = ?", restore)
    return Writes(*(median_ms([p[i] for p in parts]) for i in range(5)))


async def bench_size(count: int, args: argparse.Namespace, scratch: Path) -> None:
    path = scratch / f"due-{count}.db"
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        fill_seconds = fill(path, count)
        now = FIRST_SEND + timedelta(minutes=args.due_minutes - 1, seconds=30)
        captured, due = await capture_due_query(db, now, args.page)
        with_index = Captured(captured.sql.replace("subscribers.active = 1", "subscribers.active"), captured.params)
        raw_ms, rows = time_raw(path, captured, args.runs)
        fixed_ms, fixed_rows = time_raw(path, with_index, args.runs)
        if fixed_rows != rows:
            raise RuntimeError(f"the variant returned {fixed_rows} rows, the bot's SQL {rows}")

        async def call() -> None:
            async with session_factory(db)() as session:
                await ledger.due_subscribers(session, now=now, after=None, limit=args.page)

        orm_ms = await time_async(call, args.runs)
        writes = await time_enqueue(db, path, due, now, args.runs)
        bot_plan, fixed_plan = plan(path, captured), plan(path, with_index)
    finally:
        await db.dispose()

    active = count - count // 20
    print(f"\n== {count:,} subscribers ({active:,} active; filled in {fill_seconds:.1f} s); now = {now:%H:%M:%S} UTC")
    print(f"   due page: LIMIT {args.page}, {rows} rows due ({args.due_minutes} minute(s) of 1440)")
    print("   the bot's SQL:", " ".join(captured.sql.split()))
    print("   EXPLAIN QUERY PLAN:", "; ".join(bot_plan), f"-> {INDEX} used: {_uses_index(bot_plan)}")
    print(
        "   same SQL with WHERE subscribers.active:",
        "; ".join(fixed_plan),
        f"-> {INDEX} used: {_uses_index(fixed_plan)}",
    )
    print(f"   median of {args.runs} runs, ms:")
    figures = [
        ("due query, the bot's SQL (stdlib sqlite3)", raw_ms),
        ("due query, with WHERE subscribers.active", fixed_ms),
        ("ledger.due_subscribers() (SQLAlchemy, + pauses)", orm_ms),
        (f"enqueue of the page: ledger.enqueue ({rows} rows)", writes.enqueue),
        ("    of which in the driver (the INSERT itself)", writes.enqueue_sql),
        ("  + ledger.set_next_send", writes.set_next_send),
        ("    of which in the driver (the UPDATE)", writes.set_next_send_sql),
        ("  + commit", writes.commit),
        ("  = the page's writes", writes.enqueue + writes.set_next_send + writes.commit),
    ]
    for label, value in figures:
        print(f"     {label:<52} {value:9.2f}")
    verdict = "meets" if raw_ms <= TARGET_MS else "MISSES"
    print(f"   the bot's due query {verdict} the {TARGET_MS:g} ms target ({raw_ms:.2f} ms)")


def _uses_index(steps: Sequence[str]) -> str:
    return "yes" if any(INDEX in step for step in steps) else "NO"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_due_query",
        description="Time the delivery tick's due-subscriber query and one page's enqueue on SQLite.",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="subscriber counts (default 100000 1000000)"
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure; the median is shown (default 7)")
    parser.add_argument("--page", type=int, default=1000, help="the tick's page size (default 1000)")
    parser.add_argument("--due-minutes", type=int, default=1, help="minutes of send times that are due (default 1)")
    parser.add_argument("--dir", type=Path, help="where to put the database files (default: a temporary directory)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.runs < 1 or args.page < 1 or not 1 <= args.due_minutes <= 1440:
        raise SystemExit("--runs and --page must be positive, --due-minutes from 1 to 1440")
    print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="calfbot-due-", dir=args.dir) as scratch:
        for count in args.sizes:
            asyncio.run(bench_size(count, args, Path(scratch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
