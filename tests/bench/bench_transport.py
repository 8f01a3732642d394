"""The Bot API transports head to head: sendMessage throughput and client CPU, aiohttp against httpx.

    python -m tests.bench.bench_transport
    python -m tests.bench.bench_transport --messages 5000 --in-flight 128 --runs 1

N sendMessage calls (``--messages``) go out with K in flight (``--in-flight``,
K workers each sending one after another, as the delivery engine's workers
do) through calfbot's own ``CalfBot`` and ``bot.transport.make_request``. The
fake Bot API answers after ``--latency`` seconds; it runs in a child process
(a fresh one per run, started as ``bench_delivery`` starts it), so the CPU
figure is the client's alone.

Two ways to send (``--modes``):

* ``message``: ``bot.send_message(...)``, what the engine calls; PTB builds a
  ``Message`` (with its ``User``, ``Chat`` and keyboard objects) from each answer;
* ``raw``: ``bot.do_api_request("sendMessage", api_kwargs=..., return_type=None)``;
  the same request and error mapping, and the answer stays a dict. PTB warns
  (PTBUserWarning) that ``send_message`` exists; the warning is silenced here.

Per (transport, mode, K), the median of ``--runs`` runs of:

* ``msg/s``: N over the wall time from the first request to the last answer;
* ``CPU ms/msg``: this process's CPU time (``time.process_time``) over the same
  span, per message;
* ``ok``: answers the fake counted as successful sendMessage (must be N).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.warnings import PTBUserWarning

from bot.app import CalfBot
from bot.transport import TRANSPORTS, Transport, make_request
from tests.bench.bench_delivery import print_columns, with_fake_server

MODES = ("message", "raw")
FIRST_CHAT = 2_000_000
# About the size and shape of a daily message: HTML, a few lines, three buttons.
TEXT = (
    "<b>Day 12 · Week 2</b>\n\n"
    + "\n".join(f"• <b>Exercise {n}</b>: 3 × 15 reps, 2 s up, 2 s down, 60 s rest between sets" for n in range(1, 7))
    + "\n\n<i>Tip:</i> keep the knee straight and rise as high as you can; lower slowly past level."
)
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("✅ Done", callback_data="done:2026-11-21")],
        [
            InlineKeyboardButton("❓ FAQ", callback_data="faq:2026-11-21"),
            InlineKeyboardButton("ℹ️ About", callback_data="about:x"),
        ],
    ]
)


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    cpu: float
    ok: int


@dataclass(frozen=True, slots=True)
class Row:
    transport: Transport
    mode: str
    in_flight: int
    runs: list[Run]

    def rates(self, messages: int) -> list[float]:
        return [messages / run.wall for run in self.runs]

    def cpu_ms(self, messages: int) -> list[float]:
        return [run.cpu * 1000 / messages for run in self.runs]


async def _send_all(base_url: str, token: str, transport: Transport, mode: str, messages: int, in_flight: int) -> Run:
    """K workers send ``messages`` messages between them; returns (wall, CPU) of the sending alone."""
    bot = CalfBot(token, base_url=base_url, request=make_request(transport, pool_size=max(256, in_flight)))
    chats = iter(range(FIRST_CHAT, FIRST_CHAT + messages))
    send: Callable[[int], Awaitable[Any]]

    async def as_message(chat: int) -> int:
        message = await bot.send_message(chat, TEXT, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)
        return message.message_id

    async def as_raw(chat: int) -> int:
        kwargs = {"chat_id": chat, "text": TEXT, "parse_mode": ParseMode.HTML, "reply_markup": KEYBOARD}
        result = await bot.do_api_request("sendMessage", api_kwargs=kwargs, return_type=None)
        return int(result["message_id"])

    send = as_message if mode == "message" else as_raw

    async def worker() -> None:
        for chat in chats:
            await send(chat)

    async with bot:
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(wall, cpu, 0)


def run_once(transport: Transport, mode: str, messages: int, in_flight: int, latency: float) -> Run:
    """One run against a fresh fake Bot API in a child process."""
    run, arrivals = with_fake_server(
        latency,
        lambda base_url, token: asyncio.run(_send_all(base_url, token, transport, mode, messages, in_flight)),
    )
    return Run(run.wall, run.cpu, arrivals.delivered)


def _table(rows: list[Row], messages: int, latency: float) -> None:
    print(f"{messages} sendMessage calls, {latency * 1000:g} ms round trip, median of {len(rows[0].runs)} run(s)")
    print(f"on {os.cpu_count()} CPUs; the fake Bot API in a child process")
    header = ("transport", "mode", "K", "msg/s", "CPU ms/msg", "msg/s runs", "ok")
    lines = [
        (
            row.transport,
            row.mode,
            str(row.in_flight),
            f"{statistics.median(row.rates(messages)):.0f}",
            f"{statistics.median(row.cpu_ms(messages)):.3f}",
            " ".join(f"{rate:.0f}" for rate in row.rates(messages)),
            "/".join(str(run.ok) for run in row.runs),
        )
        for row in rows
    ]
    print_columns(header, lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_transport",
        description="sendMessage throughput and client CPU through each Bot API transport.",
    )
    parser.add_argument("--messages", type=int, default=20_000, help="sendMessage calls per run (default 20000)")
    parser.add_argument("--in-flight", type=int, nargs="+", default=[32, 128, 256], help="K (default 32 128 256)")
    parser.add_argument("--latency", type=float, default=0.1, help="the fake's round trip in seconds (default 0.1)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    warnings.filterwarnings("ignore", category=PTBUserWarning, message="Please use 'Bot.sendMessage'")
    rows = []
    for in_flight in args.in_flight:
        for mode in args.modes:
            for transport in args.transports:
                runs = []
                for n in range(args.runs):
                    run = run_once(transport, mode, args.messages, in_flight, args.latency)
                    print(
                        f"  {transport} {mode} K={in_flight} run {n + 1}: {args.messages / run.wall:.0f} msg/s, "
                        f"{run.cpu * 1000 / args.messages:.3f} CPU ms/msg, {run.ok} ok",
                        file=sys.stderr,
                    )
                    runs.append(run)
                rows.append(Row(transport, mode, in_flight, runs))
    _table(rows, args.messages, args.latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
