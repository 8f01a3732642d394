"""Delivery throughput and cost: the real DeliveryEngine against the fake Bot API with a round trip.

    python -m tests.bench.bench_delivery --subscribers 2000
    python -m tests.bench.bench_delivery --paid --rate 300 --latency 0.05
    python -m tests.bench.bench_delivery --database-url postgresql+asyncpg://user@host/db --wipe

N subscribers are due at once (a minute ago, by the real clock). This process
runs what ``calfbot run`` runs for delivery: the catch-up tick, the dispatcher
and the workers, with the bot's own request settings (``--transport``). The fake Bot API
runs in a child process, so the CPU and memory figures are the bot's alone.

Figures, one table row:

* ``msg/s``: sustained rate at the server, from the arrival time of the first
  sendMessage after the warm-up (``--warmup`` seconds) to the last one;
* ``max/1s``: most sendMessage arrivals in any 1-second sliding window;
* ``CPU ms/msg``: this process's CPU time (all threads, ``time.process_time``)
  from the tick until the ledger settled, per delivered message;
* ``RSS MB``: this process's peak resident set (``ru_maxrss``), set-up included;
* ``dups``: chats that got more than one message (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import make_url

from bot.app import REPLY_CONNECTIONS, CalfBot, utc_now
from bot.content import load_catalog
from bot.content.location import default_content_dir
from bot.db.engine import SessionFactory, create_engine, describe_url, session_factory
from bot.db.migrate import upgrade
from bot.db.models import Delivery, Pause, Subscriber, Workout
from bot.delivery.engine import FREE_RATE, DeliveryEngine, DeliverySettings
from bot.schedule import local_date_of
from bot.timezones import zone_info
from bot.transport import DEFAULT_TRANSPORT, TRANSPORTS, make_request

FIRST_CHAT = 1_000_000
MAX_RATE = 1000.0
STALL = 60.0  # seconds without progress before giving up on rows stuck in sending
T = TypeVar("T")
# (arrival time on the monotonic clock, chat id, answered ok) of each sendMessage.
Arrival = tuple[float, int | None, bool]


class LogTally(logging.Handler):
    """Counts the bot's warnings and errors by message and exception, instead of printing tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.levelname} {record.name}: {record.msg}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            cause = exc.__cause__ or exc
            line += f" [{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}]"
        self.counts[line] += 1


# --- the fake Bot API, in a child process ----------------------------------------------------


def _serve_fake(latency: float, conn: Connection) -> None:
    """Child process: run FakeBotApi; send its base URL and token; on any message, send the arrivals and exit."""
    asyncio.run(_fake_main(latency, conn))


async def _fake_main(latency: float, conn: Connection) -> None:
    from tests.fakes.bot_api_server import FakeBotApi  # noqa: PLC0415 - only the child needs aiohttp

    async with FakeBotApi(latency=latency) as api:
        conn.send((api.base_url, api.token))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send([(r.at, r.chat_id, r.ok) for r in api.calls("sendMessage")])


# --- the database ----------------------------------------------------------------------------


def _zone_for(now: datetime, minutes: float) -> str:
    """UTC, unless the run could cross midnight there (late rows expire); then UTC+12."""
    local = now.time()
    end = (now + timedelta(minutes=minutes + 5)).time()
    return "UTC" if clock_time(0, 5) <= local <= end else "Etc/GMT-12"


async def _prepare(sessions: SessionFactory, count: int, now: datetime, zone: str, *, wipe: bool) -> None:
    """Add ``count`` active subscribers whose send time was a minute ago."""
    async with sessions.begin() as session:
        existing = await session.scalar(select(func.count()).select_from(Subscriber))
        if existing and not wipe:
            raise SystemExit(f"the database already holds {existing} subscribers: pass --wipe to delete every row")
        for table in (Delivery, Pause, Workout, Subscriber):
            await session.execute(delete(table))
    due = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    local = due.astimezone(zone_info(zone))
    day = local_date_of(due, zone)
    step = 5000
    for first in range(0, count, step):
        rows = [
            {
                "chat_id": FIRST_CHAT + n,
                "user_id": FIRST_CHAT + n,
                "created_at": now - timedelta(days=1),
                "active": True,
                "send_time": local.time(),
                "timezone": zone,
                "program_start": day,
                "seed": secrets.token_hex(8),
                "next_send_at": due,
            }
            for n in range(first, min(count, first + step))
        ]
        async with sessions.begin() as session:
            await session.execute(insert(Subscriber), rows)


async def _unsettled(sessions: SessionFactory) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state.in_(("pending", "sending")))
        )
    return int(found or 0)


async def _states(sessions: SessionFactory) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {str(state): int(n) for state, n in rows}


def with_fake_server(latency: float, work: Callable[[str, str], T]) -> tuple[T, list[Arrival]]:
    """Run ``work(base_url, token)`` against a fresh fake Bot API in a child process; its result and the arrivals."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    fake = context.Process(target=_serve_fake, args=(latency, child), name="fake-bot-api", daemon=True)
    fake.start()
    try:
        if not parent.poll(60):
            raise SystemExit("the fake Bot API did not start within 60 s")
        base_url, token = parent.recv()
        result = work(base_url, token)
        parent.send("stop")
        if not parent.poll(60):
            raise SystemExit("the fake Bot API did not report its requests within 60 s")
        arrivals: list[Arrival] = parent.recv()
    finally:
        fake.join(timeout=10)
        if fake.is_alive():
            fake.kill()
            fake.join()
    return result, arrivals


# --- figures -----------------------------------------------------------------------------------


def max_in_window(times: Sequence[float], width: float = 1.0) -> int:
    """Most timestamps in any half-open window [t, t + width) of the sorted ``times``."""
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def sustained_rate(times: Sequence[float], warmup: float) -> float:
    """Messages per second from the first arrival after ``warmup`` seconds to the last one."""
    if len(times) < 2:
        return float("nan")
    steady = [t for t in times if t >= times[0] + warmup]
    if len(steady) < 2:
        steady = list(times)
    return (len(steady) - 1) / (steady[-1] - steady[0])


@dataclass(frozen=True)
class Result:
    database: str
    subscribers: int
    rate: float
    latency: float
    workers: int
    delivered: int
    seconds: float
    sustained: float
    overall: float
    max_per_second: int
    cpu_ms_per_message: float
    peak_rss_mb: float
    duplicates: int
    states: dict[str, int]
    errors: dict[str, int]
    log: dict[str, int]


def print_table(result: Result) -> None:
    columns = [
        ("db", result.database),
        ("N", str(result.subscribers)),
        ("rate", f"{result.rate:g}"),
        ("RTT s", f"{result.latency:g}"),
        ("workers", str(result.workers)),
        ("sent", str(result.delivered)),
        ("wall s", f"{result.seconds:.1f}"),
        ("msg/s", f"{result.sustained:.2f}"),
        ("msg/s all", f"{result.overall:.2f}"),
        ("max/1s", str(result.max_per_second)),
        ("CPU ms/msg", f"{result.cpu_ms_per_message:.2f}"),
        ("RSS MB", f"{result.peak_rss_mb:.0f}"),
        ("dups", str(result.duplicates)),
    ]
    widths = [max(len(name), len(value)) for name, value in columns]
    print(" | ".join(name.rjust(w) for (name, _), w in zip(columns, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    print(" | ".join(value.rjust(w) for (_, value), w in zip(columns, widths, strict=True)))
    print(f"ledger: {result.states}; Telegram errors: {result.errors or 'none'}")
    for line, count in sorted(result.log.items(), key=lambda item: -item[1]):
        print(f"log: {count} x {line}")


# --- the run -----------------------------------------------------------------------------------


async def _deliver(
    args: argparse.Namespace, url: str, base_url: str, token: str
) -> tuple[float, float, dict[str, int], dict[str, int], int]:
    """Seed, then tick and deliver until the ledger settles: (wall s, CPU s, states, errors, workers)."""
    settings = DeliverySettings(
        rate=args.rate, paid_broadcast=args.paid, concurrency=args.concurrency, idle_poll=args.idle_poll
    )
    catalog = load_catalog(default_content_dir())
    db = create_engine(url)
    try:
        await upgrade(db)
        sessions = session_factory(db)
        now = utc_now()
        zone = _zone_for(now, args.subscribers / args.rate / 60 * 1.5)
        await _prepare(sessions, args.subscribers, now, zone, wipe=args.wipe)
        bot = CalfBot(
            token,
            base_url=base_url,
            request=make_request(args.transport, pool_size=settings.workers() + REPLY_CONNECTIONS),
        )
        async with bot:
            fatal: list[str] = []
            engine = DeliveryEngine(
                sessions=sessions,
                bot=bot,
                catalog=lambda: catalog,
                clock=utc_now,
                settings=settings,
                on_fatal=fatal.append,
            )
            wall, cpu = time.perf_counter(), time.process_time()
            await engine.start()
            created = await engine.tick()
            if created != args.subscribers:
                raise SystemExit(f"the tick enqueued {created} of {args.subscribers} subscribers")
            next_report = wall + 10
            last, last_change = -1, wall
            while (left := await _unsettled(sessions)) and not fatal:
                if left != last:
                    last, last_change = left, time.perf_counter()
                elif time.perf_counter() - last_change > STALL:
                    print(f"giving up: {left} rows pending or sending for {STALL:g} s", file=sys.stderr)
                    break
                await asyncio.sleep(0.25)
                if time.perf_counter() >= next_report and not args.quiet:
                    next_report += 10
                    print(f"  {time.perf_counter() - wall:5.0f} s: {engine.status.sent} sent", file=sys.stderr)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            await engine.stop()
            if fatal:
                raise SystemExit(f"the engine stopped: {fatal[0]}")
            return wall, cpu, await _states(sessions), dict(engine.status.errors), settings.workers()
    finally:
        await db.dispose()


def run(args: argparse.Namespace) -> Result:
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    with tempfile.TemporaryDirectory(prefix="calfbot-bench-") as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        (wall, cpu, states, errors, workers), arrivals = with_fake_server(
            args.latency, lambda base_url, token: asyncio.run(_deliver(args, url, base_url, token))
        )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    ok = sorted((at, chat) for at, chat, good in arrivals if good)
    times = [at for at, _ in ok]
    per_chat = Counter(chat for _, chat in ok)
    delivered = len(ok)
    return Result(
        database=make_url(url).get_backend_name(),
        subscribers=args.subscribers,
        rate=args.rate,
        latency=args.latency,
        workers=workers,
        delivered=delivered,
        seconds=wall,
        sustained=sustained_rate(times, args.warmup),
        overall=(delivered - 1) / (times[-1] - times[0]) if delivered > 1 else float("nan"),
        max_per_second=max_in_window(times),
        cpu_ms_per_message=cpu * 1000 / max(delivered, 1),
        peak_rss_mb=peak_rss_mb,
        duplicates=sum(1 for n in per_chat.values() if n > 1),
        states=states,
        errors=errors,
        log=dict(tally.counts),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_delivery",
        description="Deliver to N due subscribers through the real DeliveryEngine and the fake Bot API.",
    )
    parser.add_argument("--subscribers", type=int, default=10_000, help="due subscribers (default 10000)")
    parser.add_argument("--rate", type=float, default=FREE_RATE, help="DeliverySettings.rate, msg/s (default 30)")
    parser.add_argument("--latency", type=float, default=0.15, help="the fake's round trip in seconds (default 0.15)")
    parser.add_argument("--paid", action="store_true", help="paid broadcast: allows --rate above 30 (up to 1000)")
    parser.add_argument("--concurrency", type=int, help="DeliverySettings.concurrency (default: derived from the rate)")
    parser.add_argument(
        "--idle-poll",
        type=float,
        default=DeliverySettings().idle_poll,
        help=f"DeliverySettings.idle_poll in seconds (default {DeliverySettings().idle_poll:g})",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds left out of msg/s (default 2)")
    parser.add_argument(
        "--database-url", help="e.g. postgresql+asyncpg://user@host/db (default: a SQLite file in a temp dir)"
    )
    parser.add_argument(
        "--transport", choices=TRANSPORTS, default=DEFAULT_TRANSPORT, help=f"default {DEFAULT_TRANSPORT}, as calfbot"
    )
    parser.add_argument("--wipe", action="store_true", help="delete every subscriber and ledger row first")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # As `calfbot` does: RetryAfter.retry_after is a timedelta (and PTB does not warn).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.subscribers < 1:
        raise SystemExit("--subscribers must be at least 1")
    if not 0 < args.rate <= MAX_RATE or (args.rate > FREE_RATE and not args.paid):
        raise SystemExit(f"--rate must be above 0 and at most {FREE_RATE:g} (or {MAX_RATE:g} with --paid)")
    if not args.quiet:
        where = describe_url(args.database_url) if args.database_url else "a temporary SQLite file"
        estimate = args.subscribers / args.rate
        print(f"delivering to {args.subscribers} subscribers in {where}: about {estimate:.0f} s", file=sys.stderr)
    print_table(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
