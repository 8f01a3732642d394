"""The tick's statements for one due group, on SQLite at 100k and 1M subscribers.

    python -m tests.bench.bench_due_query
    python -m tests.bench.bench_due_query --sizes 100000 --runs 15 --due-minutes 3

For each size, a migrated SQLite file is filled with INSERT ... SELECT from a
recursive CTE: send times spread evenly over the day (``--due-minutes`` of the
1440 minutes are due), 5 % of subscribers inactive, 1 % with a pause. Every
minute of send times is one due group (instant, send time, zone). Then:

* one page of the tick (``ledger.oldest_due_group`` and
  ``ledger.advance_group``) runs once, rolled back, and its statements are
  captured from SQLAlchemy with their parameters: the group query, the
  page's last id, the ``INSERT ... SELECT`` of the ledger rows and the
  ``UPDATE`` of the next send instants;
* each of them is timed alone on the stdlib driver (the writes in a
  transaction rolled back each time), with ``EXPLAIN QUERY PLAN`` and whether
  it uses ``ix_subscribers_due``;
* the page as the tick runs it (SQLAlchemy + aiosqlite, commit included) is
  timed, and undone untimed after each run.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


async def run_page(db: AsyncEngine, now: datetime, page: int, *, commit: bool) -> ledger.Advanced:
    """One page of the tick, as ``DeliveryEngine.tick`` runs it (the next instant is a day later)."""
    async with session_factory(db)() as session:
        group = await ledger.oldest_due_group(session, now=now)
        if group is None:
            raise RuntimeError("nobody is due: --due-minutes must be at least 1")
        done = await ledger.advance_group(
            session,
            group,
            send_on=group.next_send_at.date(),
            upcoming=group.next_send_at + timedelta(days=1),
            now=now,
            limit=page,
        )
        if commit:
            await session.commit()
        else:
            await session.rollback()
    return done


@contextmanager
def captured_statements(db: AsyncEngine, keep: Callable[[str], bool] = lambda _sql: True) -> Iterator[list[Captured]]:
    """The statements run on ``db`` meanwhile, with their parameters, that ``keep`` accepts (given upper case)."""
    seen: list[Captured] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if keep(statement.lstrip().upper()):
            seen.append(Captured(statement, tuple(parameters)))

    event.listen(db.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", record)


async def capture_page(db: AsyncEngine, now: datetime, page: int) -> tuple[list[Captured], ledger.Advanced]:
    """Run one page, rolled back, and keep the SQL and parameters of each of its statements."""
    with captured_statements(db) as seen:
        done = await run_page(db, now, page, commit=False)
    return seen, done


def plan(path: Path, captured: Captured) -> list[str]:
    with sqlite3.connect(path) as db:
        return [str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {captured.sql}", captured.params)]


def time_raw(path: Path, captured: Captured, runs: int) -> float:
    """Median ms of one statement alone on the stdlib driver; writes are rolled back each time."""
    samples: list[float] = []
    with sqlite3.connect(path, isolation_level=None) as db:
        for run in range(runs + 1):
            db.execute("BEGIN")
            started = time.perf_counter()
            db.execute(captured.sql, captured.params).fetchall()
            elapsed = time.perf_counter() - started
            db.execute("ROLLBACK")
            if run:  # the first run warms up
                samples.append(elapsed)
    return median_ms(samples)


async def time_page(db: AsyncEngine, path: Path, now: datetime, page: int, runs: int) -> float:
    """Median ms of one committed page through SQLAlchemy; each run undone afterwards."""
    samples: list[float] = []
    for run in range(runs + 1):
        started = time.perf_counter()
        await run_page(db, now, page, commit=True)
        elapsed = time.perf_counter() - started
        if run:  # the first run warms up
            samples.append(elapsed)
        with sqlite3.connect(path) as raw:
            # Back to the instants of the fill: nobody else is due half a day or more later.
            raw.execute(
                "UPDATE subscribers SET next_send_at = strftime('%Y-%m-%d %H:%M:%S.000000', next_send_at, '-1 day')"
                " WHERE next_send_at > ?",
                ((now + timedelta(hours=12)).replace(tzinfo=None).isoformat(sep=" "),),
            )
            raw.execute("DELETE FROM deliveries")
    return median_ms(samples)


def page_statement_kind(sql: str) -> str:
    """What a captured statement of a tick's page does, in a few words."""
    words = " ".join(sql.split())
    if words.startswith("INSERT"):
        return "INSERT ... SELECT of the ledger rows"
    if words.startswith("UPDATE"):
        return "UPDATE of the next send instants"
    if "max(" in words:
        return "the page's last id"
    return "the oldest due group"


async def bench_size(count: int, args: argparse.Namespace, scratch: Path) -> None:
    path = scratch / f"due-{count}.db"
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        fill_seconds = fill(path, count)
        now = FIRST_SEND + timedelta(minutes=args.due_minutes - 1, seconds=30)
        statements, done = await capture_page(db, now, args.page)
        timed = [(captured, time_raw(path, captured, args.runs), plan(path, captured)) for captured in statements]
        page_ms = await time_page(db, path, now, args.page, args.runs)
    finally:
        await db.dispose()

    active = count - count // 20
    print(f"\n== {count:,} subscribers ({active:,} active; filled in {fill_seconds:.1f} s); now = {now:%H:%M:%S} UTC")
    print(
        f"   one page (LIMIT {args.page}) of the oldest due group: {done.created} rows created, {done.moved} moved"
        f" ({args.due_minutes} minute(s) of 1440 due)"
    )
    print(f"   median of {args.runs} runs, ms:")
    for captured, ms, steps in timed:
        print(f"     {page_statement_kind(captured.sql):<40} {ms:9.2f}   {INDEX} used: {_uses_index(steps)}")
        print("       SQL:", " ".join(captured.sql.split()))
        print("       EXPLAIN QUERY PLAN:", "; ".join(steps))
    print(f"     {'the page through SQLAlchemy, commit included':<40} {page_ms:9.2f}")
    slowest = max(ms for _, ms, _ in timed)
    verdict = "meets" if slowest <= TARGET_MS else "MISSES"
    print(f"   every statement {verdict} the {TARGET_MS:g} ms target (slowest {slowest:.2f} ms)")


def _uses_index(steps: Sequence[str]) -> str:
    return "yes" if any(INDEX in step for step in steps) else "NO"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_due_query",
        description="Time the delivery tick's statements for one due group on SQLite.",
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
