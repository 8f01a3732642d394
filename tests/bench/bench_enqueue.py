"""Enqueueing at a million subscribers: the tick's ledger rows/s, an announcement's, and the claim query.

    python -m tests.bench.bench_enqueue                       # 1,000,000 subscribers, 50,000 due at once
    python -m tests.bench.bench_enqueue --subscribers 100000 --due 5000

A migrated SQLite file is filled with ``--subscribers`` (5 % inactive, 1 %
with a pause; see ``bench_due_query.fill``) and ``--due`` of them are made due
in the same minute. Then, with the real ``DeliveryEngine`` (no sending):

* the tick: ``engine.tick()`` from the due query to the committed pending rows
  and next-send instants, in pages of 1000: rows/s;
* an announcement to every active subscriber: ``engine.enqueue_announcements()``
  (``INSERT ... SELECT`` in pages of 20,000): rows/s;
* the claim query with every one of those rows pending: median ms of
  ``ledger.claim`` for a batch of 500 (rolled back each time), with its
  ``EXPLAIN QUERY PLAN``.

Each figure is the median of ``--runs`` runs on a fresh copy of the filled file.
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
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from telegram import Bot

from bot.db import announcements, ledger
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.domain import Catalog
from tests.bench.bench_due_query import FIRST_SEND, fill

NOW = FIRST_SEND + timedelta(seconds=30)
TOKEN = "123456789:" + "A" * 35


def _no_catalog() -> Catalog:
    raise AssertionError("enqueueing never renders a message")


async def _migrate(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def prepare(path: Path, subscribers: int, due: int) -> float:
    """Migrated file, filled; ``due`` subscribers due at FIRST_SEND. Returns the fill seconds."""
    asyncio.run(_migrate(path))
    seconds = fill(path, subscribers)
    step = max(1, subscribers // due)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE subscribers SET next_send_at = strftime('%Y-%m-%d %H:%M:%S.000000', ?),"
            " send_time = '07:00:00.000000' WHERE id % ? = 0 AND id / ? <= ?",
            (FIRST_SEND.replace(tzinfo=None).isoformat(sep=" "), step, step, due),
        )
    return seconds


async def measure(path: Path) -> dict[str, Any]:
    """One run on ``path``: tick rows/s, announcement rows/s, claim ms and plan."""
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(db)
    engine = DeliveryEngine(
        sessions=sessions,
        bot=Bot(TOKEN),
        catalog=_no_catalog,
        clock=lambda: NOW,
        settings=DeliverySettings(),
        on_fatal=lambda _reason: None,
    )
    try:
        started = time.perf_counter()
        ticked = await engine.tick()
        tick_seconds = time.perf_counter() - started

        async with sessions.begin() as session:
            draft = await announcements.create_draft(session, text="bench", admin_id=1, now=NOW)
            await announcements.confirm(session, draft.id, now=NOW)
        started = time.perf_counter()
        announced = await engine.enqueue_announcements()
        announce_seconds = time.perf_counter() - started

        claim_sql: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
            if statement.lstrip().upper().startswith("UPDATE DELIVERIES"):
                claim_sql.append((statement, parameters))

        samples = []
        for run in range(8):
            if run == 1:
                event.listen(db.sync_engine, "before_cursor_execute", record)
            async with sessions() as session:
                started = time.perf_counter()
                claims = await ledger.claim(session, now=NOW, claimed_until=NOW + timedelta(seconds=30), limit=500)
                samples.append(time.perf_counter() - started)
                await session.rollback()
            assert len(claims) == 500
        event.remove(db.sync_engine, "before_cursor_execute", record)
    finally:
        await db.dispose()
    statement, parameters = claim_sql[0]
    with sqlite3.connect(path) as raw:
        plan = [str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    return {
        "ticked": ticked,
        "tick_rows_per_s": ticked / tick_seconds,
        "announced": announced,
        "announce_rows_per_s": announced / announce_seconds,
        "claim_ms": statistics.median(samples[1:]) * 1000,
        "claim_plan": plan,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=50_000, help="subscribers due in the same minute")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="calfbot-bench-") as tmp:
        template = Path(tmp) / "template.db"
        fill_seconds = prepare(template, args.subscribers, args.due)
        print(f"filled {args.subscribers:,} subscribers in {fill_seconds:.1f} s", file=sys.stderr)
        runs = []
        for run in range(args.runs):
            path = Path(tmp) / f"run{run}.db"
            shutil.copy(template, path)
            runs.append(asyncio.run(measure(path)))
            path.unlink()
            print(f"run {run + 1}: {runs[-1]['tick_rows_per_s']:,.0f} tick rows/s", file=sys.stderr)

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    print(f"subscribers {args.subscribers:,}; median of {args.runs} runs")
    print(f"  tick: {runs[0]['ticked']:,} due rows enqueued at {median('tick_rows_per_s'):,.0f} rows/s")
    print(f"  announcement: {runs[0]['announced']:,} rows enqueued at {median('announce_rows_per_s'):,.0f} rows/s")
    print(f"  claim of 500 with {runs[0]['announced'] + runs[0]['ticked']:,} pending: {median('claim_ms'):.2f} ms")
    for line in runs[0]["claim_plan"]:
        print(f"    plan: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
