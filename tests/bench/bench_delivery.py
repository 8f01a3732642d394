"""Delivery throughput and cost: the real DeliveryEngine against the fake Bot API with a round trip.

    python -m tests.bench.bench_delivery --subscribers 2000
    python -m tests.bench.bench_delivery --paid --rate 300 --latency 0.05
    python -m tests.bench.bench_delivery --database-url postgresql+asyncpg://user@host/db --wipe
    python -m tests.bench.bench_delivery --postgres --paid --rate 1000 --latency 0.1 --subscribers 20000

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
import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
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
from bot.db import announcements
from bot.db.engine import SessionFactory, create_engine, describe_url, session_factory
from bot.db.migrate import upgrade
from bot.db.models import Announcement, Delivery, Pause, Subscriber, Workout
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.delivery.pacer import FREE_RATE
from bot.heap import freeze_startup_objects
from bot.schedule import local_date_of
from bot.timezones import zone_info
from bot.transport import DEFAULT_TRANSPORT, TRANSPORTS, Transport, make_request
from tests.postgres_server import find_bindir, running_postgres

FIRST_CHAT = 1_000_000
MAX_RATE = 1000.0
ANNOUNCEMENT = (
    "<b>Calf challenge week!</b> Seven days, one extra set of single-leg raises a day."
    " Reply /today to see yours, and /done when it is done."
)
STALL = 60.0  # seconds without progress before giving up on rows stuck in sending
T = TypeVar("T")


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
    """Child process: run FakeBotApi; send its base URL and token; on a warm-up figure, send the arrival figures."""
    # The fake stands in for Telegram's own machines: its full garbage collections
    # (70 to 170 ms over 20,000 requests) held up reading requests, which then
    # counted as arriving together. Up to 10**6 middle collections before a full one.
    gc.set_threshold(700, 10, 1_000_000)
    # Likewise the CPU: on a shared machine a waiting fake read requests late, in a bunch.
    # Real-time priority (root only) lets it read each one as it comes; it sleeps in epoll between.
    with contextlib.suppress(PermissionError, OSError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    asyncio.run(_fake_main(latency, conn))


async def _fake_main(latency: float, conn: Connection) -> None:
    from tests.fakes.bot_api_server import FakeBotApi, RecordedRequest  # noqa: PLC0415 - only the child needs aiohttp

    times: list[float] = []
    per_chat: Counter[int | None] = Counter()

    def arrived(request: RecordedRequest) -> None:
        if request.method == "sendMessage" and request.ok:
            times.append(request.at)
            per_chat[request.chat_id] += 1

    async with FakeBotApi(latency=latency, on_request=arrived, keep_messages=False) as api:
        conn.send((api.base_url, api.token))
        warmup = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(Arrivals.of(sorted(times), per_chat, warmup))


@dataclass(frozen=True)
class Arrivals:
    """What the fake saw: successful sendMessage requests, their rates, the busiest second, duplicates."""

    delivered: int
    sustained: float
    overall: float
    max_per_second: int
    duplicates: int

    @classmethod
    def of(cls, times: Sequence[float], per_chat: Counter[int | None], warmup: float) -> Arrivals:
        return cls(
            delivered=len(times),
            sustained=sustained_rate(times, warmup),
            overall=(len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan"),
            max_per_second=max_in_window(times),
            duplicates=sum(1 for n in per_chat.values() if n > 1),
        )


# --- the database ----------------------------------------------------------------------------


def _zone_for(now: datetime, minutes: float) -> str:
    """UTC, unless the run could cross midnight there (late rows expire); then UTC+12."""
    local = now.time()
    end = (now + timedelta(minutes=minutes + 5)).time()
    return "UTC" if clock_time(0, 5) <= local <= end else "Etc/GMT-12"


async def _prepare(sessions: SessionFactory, count: int, now: datetime, zone: str, *, wipe: bool, due: bool) -> None:
    """Add ``count`` active subscribers whose send time was a minute ago (``due``), else is tomorrow."""
    async with sessions.begin() as session:
        existing = await session.scalar(select(func.count()).select_from(Subscriber))
        if existing and not wipe:
            raise SystemExit(f"the database already holds {existing} subscribers: pass --wipe to delete every row")
        for table in (Delivery, Announcement, Pause, Workout, Subscriber):
            await session.execute(delete(table))
    sent_at = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    local = sent_at.astimezone(zone_info(zone))
    day = local_date_of(sent_at, zone)
    next_send = sent_at if due else sent_at + timedelta(days=1)
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
                "next_send_at": next_send,
            }
            for n in range(first, min(count, first + step))
        ]
        async with sessions.begin() as session:
            await session.execute(insert(Subscriber), rows)


async def _unsettled(sessions: SessionFactory) -> bool:
    """Whether any row is still pending or sending (an EXISTS: a count over a million rows cost a core)."""
    async with sessions() as session:
        found = await session.scalar(select(Delivery.id).where(Delivery.state.in_(("pending", "sending"))).limit(1))
    return found is not None


async def _states(sessions: SessionFactory) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {str(state): int(n) for state, n in rows}


def with_fake_server(latency: float, work: Callable[[str, str], T], *, warmup: float = 0.0) -> tuple[T, Arrivals]:
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
        parent.send(warmup)
        if not parent.poll(120):
            raise SystemExit("the fake Bot API did not report its requests within 120 s")
        arrivals: Arrivals = parent.recv()
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
    kind: str
    transport: str
    database: str
    subscribers: int
    rate: float
    paid: bool
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


def print_columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A right-aligned text table: the header, a rule, one line per row."""
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(header)]
    print(" | ".join(name.rjust(w) for name, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(value.rjust(w) for value, w in zip(row, widths, strict=True)))


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server, as the tests start one, for the time of the block: its URL."""
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server programs not found (see tests/postgres_server.py)")
    with running_postgres(bindir) as server:
        yield server.url("postgres")


def print_table(results: Sequence[Result]) -> None:
    """One row per run, then each run's ledger, errors and log lines."""
    names = ["mode", "backend", "db", "kind", "N", "RTT s", "workers", "sent", "wall s"]
    names += ["msg/s", "msg/s all", "max/1s", "CPU ms/msg", "RSS MB", "dups"]
    rows = [
        [
            f"{'paid' if r.paid else 'free'} {r.rate:g}/s",
            r.transport,
            r.database,
            r.kind,
            str(r.subscribers),
            f"{r.latency:g}",
            str(r.workers),
            str(r.delivered),
            f"{r.seconds:.1f}",
            f"{r.sustained:.2f}",
            f"{r.overall:.2f}",
            str(r.max_per_second),
            f"{r.cpu_ms_per_message:.2f}",
            f"{r.peak_rss_mb:.0f}",
            str(r.duplicates),
        ]
        for r in results
    ]
    print_columns(names, rows)
    for r in results:
        print(f"{r.transport}, N={r.subscribers}: ledger {r.states}; Telegram errors: {r.errors or 'none'}")
        for line, count in sorted(r.log.items(), key=lambda item: -item[1]):
            print(f"  log: {count} x {line}")


# --- the run -----------------------------------------------------------------------------------


def _seed(url: str, subscribers: int, now: datetime, zone: str, *, due: bool, wipe: bool) -> None:
    """Child process: migrate and add the subscribers, so the bot's peak RSS holds none of it."""

    async def main() -> None:
        db = create_engine(url)
        try:
            await upgrade(db)
            await _prepare(session_factory(db), subscribers, now, zone, wipe=wipe, due=due)
        finally:
            await db.dispose()

    asyncio.run(main())


def seed(url: str, subscribers: int, now: datetime, zone: str, *, due: bool, wipe: bool) -> None:
    """Run :func:`_seed` in a child process; raise if it fails."""
    context = multiprocessing.get_context("spawn")
    seeder = context.Process(target=_seed, args=(url, subscribers, now, zone), kwargs={"due": due, "wipe": wipe})
    seeder.start()
    seeder.join()
    if seeder.exitcode != 0:
        raise SystemExit(f"seeding {subscribers} subscribers failed (exit {seeder.exitcode})")


async def _enqueue(engine: DeliveryEngine, sessions: SessionFactory, kind: str) -> int:
    """The daily tick, or an announcement confirmed by an admin and enqueued as calfbot does."""
    if kind == "daily":
        return await engine.tick()
    await engine.tick()  # nobody is due: the catch-up tick finds nothing
    async with sessions.begin() as session:
        draft = await announcements.create_draft(session, text=ANNOUNCEMENT, admin_id=1, now=utc_now())
        await announcements.confirm(session, draft.id, now=utc_now())
    return await engine.enqueue_announcements()


async def _deliver(
    args: argparse.Namespace, transport: Transport, subscribers: int, url: str, base_url: str, token: str
) -> tuple[float, float, dict[str, int], dict[str, int], int]:
    """Tick (or announce) and deliver until the ledger settles: (wall s, CPU s, states, errors, workers)."""
    settings = DeliverySettings(
        rate=args.rate, paid_broadcast=args.paid, concurrency=args.concurrency, idle_poll=args.idle_poll
    )
    catalog = load_catalog(default_content_dir())
    db = create_engine(url)
    try:
        sessions = session_factory(db)
        bot = CalfBot(
            token,
            base_url=base_url,
            request=make_request(transport, pool_size=settings.workers() + REPLY_CONNECTIONS),
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
            freeze_startup_objects()  # as calfbot does once started
            wall, cpu = time.perf_counter(), time.process_time()
            await engine.start()
            created = await _enqueue(engine, sessions, args.kind)
            if created != subscribers:
                raise SystemExit(f"{args.kind}: {created} of {subscribers} subscribers enqueued")
            next_report = wall + 10
            last, last_change = -1, wall
            while await _unsettled(sessions) and not fatal:
                done = engine.status.sent + sum(engine.status.errors.values())
                if done != last:
                    last, last_change = done, time.perf_counter()
                elif time.perf_counter() - last_change > STALL:
                    print(f"giving up: no send finished for {STALL:g} s", file=sys.stderr)
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


def run(args: argparse.Namespace, transport: Transport, subscribers: int) -> Result:
    """One run in a child process of its own, so each row's peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    runner = context.Process(target=_run_child, args=(args, transport, subscribers, child), name="bench-bot")
    runner.start()
    try:
        while not parent.poll(1):
            if not runner.is_alive():
                raise SystemExit(f"the {transport} run failed (exit {runner.exitcode})")
        result: Result = parent.recv()
    finally:
        runner.join()
    return result


def _run_child(args: argparse.Namespace, transport: Transport, subscribers: int, conn: Connection) -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `calfbot` does: RetryAfter.retry_after is a timedelta
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    with tempfile.TemporaryDirectory(prefix="calfbot-bench-") as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        now = utc_now()
        zone = _zone_for(now, subscribers / args.rate / 60 * 1.5)
        seed(url, subscribers, now, zone, due=args.kind == "daily", wipe=args.wipe or args.database_url is not None)
        (wall, cpu, states, errors, workers), arrivals = with_fake_server(
            args.latency,
            lambda base_url, token: asyncio.run(_deliver(args, transport, subscribers, url, base_url, token)),
            warmup=args.warmup,
        )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    conn.send(
        Result(
            kind=args.kind,
            transport=transport,
            database=make_url(url).get_backend_name(),
            subscribers=subscribers,
            rate=args.rate,
            paid=args.paid,
            latency=args.latency,
            workers=workers,
            delivered=arrivals.delivered,
            seconds=wall,
            sustained=arrivals.sustained,
            overall=arrivals.overall,
            max_per_second=arrivals.max_per_second,
            cpu_ms_per_message=cpu * 1000 / max(arrivals.delivered, 1),
            peak_rss_mb=peak_rss_mb,
            duplicates=arrivals.duplicates,
            states=states,
            errors=errors,
            log=dict(tally.counts),
        )
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
        "--transports",
        nargs="+",
        choices=TRANSPORTS,
        default=[DEFAULT_TRANSPORT],
        help=f"one table row each (default {DEFAULT_TRANSPORT}, as calfbot); httpx is PTB's stock backend",
    )
    parser.add_argument(
        "--stock-subscribers",
        type=int,
        help="subscribers for the rows of other transports than the default (httpx is slow; default: --subscribers)",
    )
    parser.add_argument(
        "--kind",
        choices=("daily", "announcement"),
        default="daily",
        help="daily: everyone is due and the tick enqueues; announcement: an admin's broadcast to everyone",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL server (as the tests do) and use it"
    )
    parser.add_argument("--wipe", action="store_true", help="delete every subscriber and ledger row first")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.subscribers < 1:
        raise SystemExit("--subscribers must be at least 1")
    if not 0 < args.rate <= MAX_RATE or (args.rate > FREE_RATE and not args.paid):
        raise SystemExit(f"--rate must be above 0 and at most {FREE_RATE:g} (or {MAX_RATE:g} with --paid)")
    if args.postgres:
        with throwaway_postgres() as url:
            args.database_url = url
            return _run_all(args)
    return _run_all(args)


def _run_all(args: argparse.Namespace) -> int:
    results = []
    for transport in args.transports:
        subscribers = args.subscribers
        if transport != DEFAULT_TRANSPORT and args.stock_subscribers:
            subscribers = args.stock_subscribers
        if not args.quiet:
            where = describe_url(args.database_url) if args.database_url else "a temporary SQLite file"
            print(
                f"{transport}: {args.kind} delivery to {subscribers} subscribers in {where},"
                f" about {subscribers / args.rate:.0f} s at best",
                file=sys.stderr,
            )
        results.append(run(args, transport, subscribers))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
