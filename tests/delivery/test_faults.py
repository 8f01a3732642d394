"""The daily send when Telegram fails, on SQLite and PostgreSQL.

Each scenario runs the real engine against the fake Bot API with a fault rule,
then checks the whole day: every subscriber's ledger state, that no chat got a
second message (counted on the server: a reply the client timed out on still
counts), and that everyone the fault did not touch was delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.request import BaseRequest

from bot.db.engine import session_factory
from bot.db.ledger import State
from bot.db.models import Delivery, Subscriber
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from tests.bot.harness import FakeClock
from tests.delivery.conftest import Rig, delivery_rig
from tests.fakes.bot_api_server import (
    FakeBotApi,
    Fault,
    Rule,
    chat_not_found_for,
    disconnect_for,
    fast_request,
    forbidden_for,
    migrate,
    retry_after_for,
    server_error_burst,
    slow_for,
    when,
)

# Every test here runs over each Bot API transport (the ``transport`` fixture, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("transport")

SENT, FAILED, BLOCKED, UNCERTAIN, PENDING = State.SENT, State.FAILED, State.BLOCKED, State.UNCERTAIN, State.PENDING

# A request the bot made just before a 429 came back may reach the server a
# moment after it; anything later than this, within the pause, is a violation.
IN_FLIGHT = 0.1

BAD_REQUEST = Fault.error(
    "bad_request", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "calf" at byte offset 3'
)
UNAUTHORIZED = Fault.error("unauthorized", 401, "Unauthorized")
CONFLICT = Fault.conflict()


# --- helpers ----------------------------------------------------------------------------


@asynccontextmanager
async def clock_follows_real_time(clock: FakeClock, *, step: float = 0.01) -> AsyncIterator[None]:
    """Advance ``clock`` as real time passes (manual ``advance`` calls still add up).

    The engine schedules retries (``not_before``) on its own clock, a FakeClock
    in the rig, while the pacer waits in real time: for retries to come due by
    themselves, the FakeClock has to move.
    """
    loop = asyncio.get_running_loop()

    async def follow() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            clock.advance(seconds=now - last)
            last = now

    task = asyncio.create_task(follow(), name="clock-follows-real-time")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def rig_with_request(
    catalog: Catalog, db: AsyncEngine, settings: DeliverySettings, request: BaseRequest
) -> AsyncIterator[Rig]:
    """Like ``delivery_rig``, with the Bot's HTTP client (pool size, timeouts) given."""
    async with delivery_rig(catalog, db, settings, request=request) as rig:
        yield rig


async def tick_at_seven(rig: Rig, expected: int) -> None:
    """Move from 06:59:30 to 07:00, when the rig's subscribers are due, and tick."""
    rig.clock.advance(seconds=30)
    assert await rig.engine.tick() == expected


async def until(check: Callable[[], Awaitable[bool]], what: str, *, within: float = 15.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(f"not within {within}s: {what}")
        await asyncio.sleep(0.02)


async def unsettled(db: AsyncEngine) -> int:
    """Ledger rows still pending or sending."""
    async with session_factory(db)() as session:
        count = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state.in_((PENDING, State.SENDING)))
        )
    return int(count or 0)


async def settle(rig: Rig, *, within: float = 15.0) -> None:
    """Wait until no row is pending or sending (call after a tick created rows)."""

    async def settled() -> bool:
        return await unsettled(rig.db) == 0

    await until(settled, "every delivery settled", within=within)


@dataclass(frozen=True, slots=True)
class Row:
    """A ledger row, as the tests look at it."""

    subscriber_id: int
    chat_id: int
    state: str
    attempts: int
    migrations: int
    not_before: datetime
    message_id: int | None
    last_error: str | None


async def ledger_rows(db: AsyncEngine) -> dict[int, Row]:
    """The ledger by chat id (one local date per test)."""
    async with session_factory(db)() as session:
        result = await session.execute(
            select(
                Delivery.subscriber_id,
                Delivery.chat_id,
                Delivery.state,
                Delivery.attempts,
                Delivery.migrations,
                Delivery.not_before,
                Delivery.message_id,
                Delivery.last_error,
            )
        )
        rows = [Row(*row) for row in result]
    by_chat = {row.chat_id: row for row in rows}
    assert len(by_chat) == len(rows), "two ledger rows for one chat"
    return by_chat


async def subscribers(db: AsyncEngine) -> dict[int, bool]:
    """Whether each subscriber is active, by chat id."""
    async with session_factory(db)() as session:
        result = await session.execute(select(Subscriber.chat_id, Subscriber.active))
        return {int(chat): bool(active) for chat, active in result}


def deliveries(api: FakeBotApi) -> Counter[int]:
    """Successful sendMessage requests per chat, as the server saw them (timed-out ones included)."""
    return Counter(r.chat_id for r in api.sent_messages() if r.chat_id is not None)


def tries(api: FakeBotApi) -> Counter[int]:
    """Every sendMessage request per chat, whatever the answer."""
    return Counter(r.chat_id for r in api.calls("sendMessage") if r.chat_id is not None)


async def check_the_day(rig: Rig, expected: Mapping[int, str]) -> None:
    """Exactly the expected ledger states; one message for each sent chat, at most one for an uncertain one."""
    assert await rig.states() == dict(expected)
    received = deliveries(rig.api)
    twice = {chat: n for chat, n in received.items() if n > 1}
    assert not twice, f"chats that got the day's message more than once: {twice}"
    sent = {chat for chat, state in expected.items() if state == SENT}
    maybe = {chat for chat, state in expected.items() if state == UNCERTAIN}
    assert sent <= set(received) <= sent | maybe


# --- Forbidden and "chat not found" ---------------------------------------------------------


@pytest.mark.parametrize("refusal", [forbidden_for, chat_not_found_for], ids=["forbidden", "chat_not_found"])
async def test_unreachable_chats_are_blocked_deactivated_and_never_retried(
    catalog: Catalog,
    engine: AsyncEngine,
    fast_settings: DeliverySettings,
    refusal: Callable[[Collection[int]], Rule],
) -> None:
    """403 (the user blocked the bot) or 400 "chat not found": blocked, subscriber inactive, one try only."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(40)
        gone = chats[3::8]
        rig.api.add_fault(refusal(gone))
        await tick_at_seven(rig, 40)
        await settle(rig)

        await check_the_day(rig, {chat: BLOCKED if chat in gone else SENT for chat in chats})
        assert tries(rig.api) == Counter(chats)
        active = await subscribers(engine)
        assert sorted(chat for chat, is_active in active.items() if not is_active) == gone

        # The next day the blocked subscribers are not even enqueued.
        rig.clock.advance(days=1)
        assert await rig.engine.tick() == len(chats) - len(gone)
        await settle(rig)
        assert tries(rig.api) == Counter({chat: 1 if chat in gone else 2 for chat in chats})


# --- RetryAfter -----------------------------------------------------------------------------


async def test_flood_control_pauses_every_sender_then_sends_the_same_row(catalog: Catalog, engine: AsyncEngine) -> None:
    """A 429 with retry_after=1: no sendMessage for a second, then the refused row is sent, once."""
    settings = DeliverySettings(rate=50.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2))
    async with delivery_rig(catalog, engine, settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(40)
        flooded = chats[10]
        rig.api.add_fault(retry_after_for([flooded], 1))
        await tick_at_seven(rig, 40)
        await settle(rig)

        await check_the_day(rig, dict.fromkeys(chats, SENT))
        rows = await ledger_rows(engine)
    requests = rig.api.calls("sendMessage")
    to_flooded = [r for r in requests if r.chat_id == flooded]
    assert [r.fault for r in to_flooded] == ["retry_after", None]
    refused = to_flooded[0]
    pause_end = refused.at + 1.0
    during = [round(r.at - refused.at, 3) for r in requests if refused.at + IN_FLIGHT <= r.at < pause_end]
    assert during == [], f"sendMessage arrived during the flood-control pause, at +{during}s"
    assert to_flooded[1].at >= pause_end
    # Everyone after the refused row waited too: 30 rows were still to go.
    assert sum(r.at >= pause_end for r in requests) >= 20
    # Flood control is not the row's fault: the attempt is given back.
    assert rows[flooded].attempts == 1


async def test_stopping_during_a_long_flood_control_pause_gives_every_unsent_row_back(
    catalog: Catalog, engine: AsyncEngine
) -> None:
    """A 429 with retry_after=30, then a shutdown: the senders waiting out the pause are let go, rows kept."""
    settings = DeliverySettings(rate=50.0, idle_poll=0.05, stop_timeout=0.5)
    async with delivery_rig(catalog, engine, settings) as rig:
        chats = await rig.add_subscribers(30)
        flooded = chats[5]
        rig.api.add_fault(retry_after_for([flooded], 30))
        await tick_at_seven(rig, 30)

        async def flooded_row_back() -> bool:
            return (await ledger_rows(engine))[flooded].state == PENDING

        await until(flooded_row_back, "the 429 was handled")
        await asyncio.sleep(0.2)
        await rig.engine.stop()

        rows = await ledger_rows(engine)
        sent = {chat for chat, row in rows.items() if row.state == SENT}
        await check_the_day(rig, {chat: SENT if chat in sent else PENDING for chat in chats})
        assert len(sent) < len(chats) - 10
        assert all(rows[chat].attempts == 0 for chat in chats if chat not in sent)


# --- ChatMigrated ---------------------------------------------------------------------------


async def test_a_migrated_group_gets_its_message_once_at_the_new_chat_id(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """The new chat id is stored and the row resent there once; a second migration fails the row."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(30)
        groups = await rig.add_subscribers(3, first_chat=-4003)
        moved = {group: -1_000_000_000_000 + group for group in groups[:2]}
        for old, new in moved.items():
            rig.api.add_fault(migrate(old, new))
        # A group that migrates, and whose new chat says it migrated again.
        restless, first_move, second_move = groups[2], -1_000_000_009_001, -1_000_000_009_002
        rig.api.add_fault(migrate(restless, first_move))
        rig.api.add_fault(migrate(first_move, second_move))
        await tick_at_seven(rig, 33)
        await settle(rig)

        expected = dict.fromkeys(chats, SENT) | dict.fromkeys(moved.values(), SENT) | {first_move: FAILED}
        await check_the_day(rig, expected)
        assert tries(rig.api) == Counter(chats) + Counter([*groups, *moved.values(), first_move])
        rows = await ledger_rows(engine)
        assert [rows[new].migrations for new in moved.values()] == [1, 1]
        assert all(rows[new].message_id is not None for new in moved.values())
        assert rows[first_move].last_error == "chat migrated twice"
        active = await subscribers(engine)
        assert set(active) == {*chats, *moved.values(), first_move}
        assert all(active.values())

        # Tomorrow's message goes straight to the new chats.
        rig.clock.advance(days=1)
        assert await rig.engine.tick() == 33
        await settle(rig)
        for old, new in moved.items():
            assert tries(rig.api)[old] == 1
            assert deliveries(rig.api)[new] == 2


# --- TimedOut -------------------------------------------------------------------------------


async def test_a_reply_slower_than_the_read_timeout_is_uncertain_and_not_resent(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """The rig's Bot gives up after 2 s; the server answers after 3 s (and did store the message)."""
    async with delivery_rig(catalog, engine, fast_settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(30)
        slow = chats[5::10]
        rig.api.add_fault(slow_for(slow, 3))
        await tick_at_seven(rig, 30)
        await settle(rig)
        # Time enough for any retry to have come due and gone out.
        await asyncio.sleep(0.5)

        await check_the_day(rig, {chat: UNCERTAIN if chat in slow else SENT for chat in chats})
        assert tries(rig.api) == Counter(chats)
        rows = await ledger_rows(engine)
        assert all(rows[chat].attempts == 1 and rows[chat].message_id is None for chat in slow)
        assert all((await subscribers(engine)).values())


async def test_a_connection_dropped_after_the_request_is_uncertain_not_resent(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """The server stores the message, then drops the connection: maybe delivered, so uncertain and never resent."""
    async with delivery_rig(catalog, engine, fast_settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(20)
        dropped = chats[3::7]
        rig.api.add_fault(disconnect_for(dropped, times=len(dropped)))
        await tick_at_seven(rig, 20)
        await settle(rig)
        await asyncio.sleep(0.5)

        await check_the_day(rig, {chat: UNCERTAIN if chat in dropped else SENT for chat in chats})
        assert tries(rig.api) == Counter(chats)


async def test_a_request_that_never_left_is_retried_not_uncertain(catalog: Catalog, engine: AsyncEngine) -> None:
    """PTB also raises TimedOut when no pooled connection came free: nothing was sent, so it is retried.

    A bot with two connections; two slow replies (1 s, under the 2 s read
    timeout) hold both, and the sends queued behind them give up waiting for a
    connection after 0.3 s.
    """
    settings = DeliverySettings(rate=200.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2))
    request = fast_request(connection_pool_size=2, pool_timeout=0.3, read_timeout=2.0)
    async with rig_with_request(catalog, engine, settings, request) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(20)
        slow = chats[:2]
        rig.api.add_fault(slow_for(slow, 1.0))
        await tick_at_seven(rig, 20)
        await settle(rig)

        await check_the_day(rig, dict.fromkeys(chats, SENT))
        assert tries(rig.api) == Counter(chats)
        assert rig.engine.status.errors.get("TimedOut", 0) > 0  # the pool did run dry


# --- other NetworkError and 5xx ---------------------------------------------------------------


async def test_server_errors_back_off_exponentially_up_to_the_cap_then_fail(
    catalog: Catalog, engine: AsyncEngine
) -> None:
    """A chat that always gets 500: retried after 2 s, 4 s, then the 5 s cap; failed after max_attempts.

    The engine's clock stands still here; the test moves it when a retry is due.
    """
    settings = DeliverySettings(rate=200.0, idle_poll=0.05, max_attempts=4, backoff_cap=timedelta(seconds=5))
    async with delivery_rig(catalog, engine, settings) as rig:
        chats = await rig.add_subscribers(40)
        broken = chats[1::10]
        rig.api.add_fault(when(Fault.server_error(500), chat_ids=broken))
        await tick_at_seven(rig, 40)

        for attempts, backoff in ((1, 2.0), (2, 4.0), (3, 5.0)):

            async def waiting(attempts: int = attempts) -> bool:
                rows = await ledger_rows(engine)
                return all(
                    (row.state, row.attempts) == ((PENDING, attempts) if chat in broken else (SENT, 1))
                    for chat, row in rows.items()
                )

            await until(waiting, f"the broken chats failed {attempts} time(s)")
            rows = await ledger_rows(engine)
            for chat in broken:
                assert rows[chat].not_before == rig.clock.now + timedelta(seconds=backoff), (attempts, chat)
            assert tries(rig.api) == Counter(chats) + Counter(dict.fromkeys(broken, attempts - 1))
            rig.clock.advance(seconds=backoff)
        await settle(rig)

        await check_the_day(rig, {chat: FAILED if chat in broken else SENT for chat in chats})
        assert tries(rig.api) == Counter(chats) + Counter(dict.fromkeys(broken, 3))
        rows = await ledger_rows(engine)
        assert all(rows[chat].attempts == 4 for chat in broken)
        assert all((rows[chat].last_error or "").startswith("NetworkError") for chat in broken)


@pytest.mark.parametrize("status", [500, 502])
async def test_a_burst_of_server_errors_that_ends_before_the_cap_is_delivered(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings, status: int
) -> None:
    """Twelve requests get a 5xx (500 as JSON, 502 as nginx's HTML page); each of those rows is sent on a retry."""
    async with delivery_rig(catalog, engine, fast_settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(40)
        rig.api.add_fault(server_error_burst(12, status, skip=5))
        await tick_at_seven(rig, 40)
        await settle(rig)

        await check_the_day(rig, dict.fromkeys(chats, SENT))
        hit = [r.chat_id for r in rig.api.calls("sendMessage") if r.fault is not None and r.chat_id is not None]
        assert len(hit) == len(set(hit)) == 12
        assert tries(rig.api) == Counter(chats) + Counter(hit)
        rows = await ledger_rows(engine)
        assert sorted(chat for chat, row in rows.items() if row.attempts == 2) == sorted(hit)


async def test_deliveries_resume_when_the_server_comes_back(catalog: Catalog, engine: AsyncEngine) -> None:
    """The Bot API is unreachable for 1.5 s in the middle of the send; afterwards the rest is delivered.

    Requests in flight when it went down reached the server and lost their
    answer: those are uncertain (each received once), never resent.
    """
    settings = DeliverySettings(rate=50.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2), max_attempts=20)
    async with delivery_rig(catalog, engine, settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(60)
        await tick_at_seven(rig, 60)

        async def some_delivered() -> bool:
            return len(rig.api.sent_messages()) >= 20

        await until(some_delivered, "20 messages before the outage")
        await rig.api.go_down()
        before_outage = len(rig.api.sent_messages())
        await asyncio.sleep(1.5)
        assert await unsettled(engine) > 0
        back = time.monotonic()
        await rig.api.come_back()
        await settle(rig)

        uncertain = {chat for chat, state in (await rig.states()).items() if state == UNCERTAIN}
        await check_the_day(rig, {chat: UNCERTAIN if chat in uncertain else SENT for chat in chats})
        assert len(uncertain) <= rig.engine.settings.workers()
        assert all(r.at < back for chat in uncertain for r in rig.api.sent_messages(chat))
        assert before_outage < len(chats)
        lost = {chat for chat in uncertain if not rig.api.sent_messages(chat)}  # cut off before the server saw it
        assert sum(r.at >= back for r in rig.api.sent_messages()) == len(chats) - before_outage - len(lost)
        rows = await ledger_rows(engine)
        assert any(row.attempts > 1 for row in rows.values())  # some tried while it was down


# --- InvalidToken and Conflict ------------------------------------------------------------------


@pytest.mark.parametrize("fault", [UNAUTHORIZED, CONFLICT], ids=["invalid_token", "conflict"])
async def test_invalid_token_or_conflict_stops_the_engine_and_loses_no_row(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings, fault: Fault
) -> None:
    """After 10 messages Telegram answers 401 (or 409): fatal, nothing more is sent, every unsent row is pending.

    A restart (with the problem fixed) then delivers exactly those rows.
    """
    settings = replace(fast_settings, rate=50.0)
    async with delivery_rig(catalog, engine, settings) as rig:
        chats = await rig.add_subscribers(40)
        rig.api.add_fault(when(fault, skip=10))
        await tick_at_seven(rig, 40)

        async def fatal() -> bool:
            return bool(rig.fatal)

        await until(fatal, "the engine reported a fatal error")
        await rig.engine.stop()

        assert len(rig.fatal) == 1
        assert rig.engine.fatal == rig.fatal[0]
        assert ("InvalidToken" if fault is UNAUTHORIZED else "Conflict") in rig.fatal[0]
        # Only requests already on their way when the first refusal came back; not the other 29.
        refused = [r for r in rig.api.calls("sendMessage") if r.fault is not None]
        assert 1 <= len(refused) < 10
        rows = await ledger_rows(engine)
        sent = {chat for chat, row in rows.items() if row.state == SENT}
        assert len(sent) == 10
        await check_the_day(rig, {chat: SENT if chat in sent else PENDING for chat in chats})
        # Pending as if never tried, and due at once.
        left = [rows[chat] for chat in chats if chat not in sent]
        assert all(row.attempts == 0 and row.not_before <= rig.clock.now for row in left)
        now = rig.clock.now

    async with delivery_rig(catalog, engine, settings, now=now) as restarted:
        await settle(restarted)
        assert await restarted.states() == dict.fromkeys(chats, SENT)
        assert deliveries(restarted.api) == Counter(set(chats) - sent)
        assert not restarted.fatal


# --- other BadRequest -------------------------------------------------------------------------


async def test_another_bad_request_fails_the_row_and_is_logged(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings, caplog: pytest.LogCaptureFixture
) -> None:
    """400 "can't parse entities": failed at once, an ERROR in the log, no retry."""
    caplog.set_level(logging.WARNING, logger="bot.delivery.engine")
    async with delivery_rig(catalog, engine, fast_settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(40)
        refused = chats[::9]
        rig.api.add_fault(when(BAD_REQUEST, chat_ids=refused))
        await tick_at_seven(rig, 40)
        await settle(rig)
        await asyncio.sleep(0.5)  # time enough for a retry loop to show

        await check_the_day(rig, {chat: FAILED if chat in refused else SENT for chat in chats})
        assert tries(rig.api) == Counter(chats)
        rows = await ledger_rows(engine)
        assert all("parse entities" in (rows[chat].last_error or "") for chat in refused)
    errors = [r for r in caplog.records if r.name == "bot.delivery.engine" and r.levelno >= logging.ERROR]
    assert len(errors) == len(refused)
    assert all("parse entities" in r.getMessage() for r in errors)


# --- all at once ------------------------------------------------------------------------------


async def test_a_day_with_every_kind_of_fault(catalog: Catalog, engine: AsyncEngine) -> None:
    """One run with all of the above; every row ends in its own state and nobody gets two messages."""
    settings = DeliverySettings(rate=100.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2), max_attempts=3)
    async with delivery_rig(catalog, engine, settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(60)
        blocked, not_found, bad, flooded, slow, broken, flaky = (
            chats[1:3],
            chats[5:7],
            chats[9:11],
            chats[20],
            chats[25],
            chats[30],
            chats[40:43],
        )
        moved = {chats[50]: -1_000_000_000_050}
        for rule in (
            forbidden_for(blocked),
            chat_not_found_for(not_found),
            when(BAD_REQUEST, chat_ids=bad),
            retry_after_for([flooded], 1),
            slow_for([slow], 3),
            when(Fault.server_error(500), chat_ids=[broken]),
            server_error_burst(len(flaky), 502, chat_ids=flaky),
            migrate(chats[50], moved[chats[50]]),
        ):
            rig.api.add_fault(rule)
        await tick_at_seven(rig, 60)
        await settle(rig)

        expected = dict.fromkeys(chats, SENT)
        expected |= dict.fromkeys(blocked, BLOCKED) | dict.fromkeys(not_found, BLOCKED) | dict.fromkeys(bad, FAILED)
        expected |= {slow: UNCERTAIN, broken: FAILED}
        del expected[chats[50]]
        expected[moved[chats[50]]] = SENT
        await check_the_day(rig, expected)
        assert tries(rig.api) == Counter(chats) + Counter([flooded, *flaky, broken, broken, moved[chats[50]]])
        active = await subscribers(engine)
        assert sorted(chat for chat, is_active in active.items() if not is_active) == [*blocked, *not_found]
