"""The delivery engine: a minute tick enqueues who is due; workers drain the ledger.

The database is the source of truth. The tick turns due subscribers into
``pending`` ledger rows (one per subscriber and local date, UNIQUE) and moves
each subscriber's ``next_send_at`` to their next local day. A dispatcher
claims pending rows (``sending`` is committed before any API call) and hands
them to a bounded pool of workers, which send under the pacer's limits and
record the outcome. Nothing is marked sent before Telegram said so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.db import admin, announcements, ledger
from bot.db.engine import SessionFactory
from bot.db.ledger import Claim, Outcome, State
from bot.delivery.ledger_writer import LedgerWriter
from bot.delivery.pacer import FREE_RATE, SendPacer
from bot.domain import Catalog
from bot.metrics import Metrics
from bot.planner import plan_day
from bot.render import Reply, render_day
from bot.schedule import end_of_local_day, local_date_of, next_send_at
from bot.transport.outcome import answer_lost, never_sent
from bot.transport.prepared import payload, send_prepared
from bot.transport.written import on_written, reports_writes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How fast and how persistently to deliver."""

    rate: float = FREE_RATE
    paid_broadcast: bool = False
    # Requests in flight; None derives it from rate x round trip (Little's law).
    concurrency: int | None = None
    expected_round_trip: float = 0.25
    # Subscribers enqueued per tick transaction (one group's page).
    page_size: int = 1000
    # Announcement rows are created with INSERT ... SELECT, this many recipients per transaction.
    announce_page: int = 20_000
    # How long a reserved row stays this process's before another may take it.
    claim_hold: timedelta = timedelta(seconds=30)
    # How long a ``sending`` row may go unanswered before it counts as orphaned.
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 5
    backoff_cap: timedelta = timedelta(minutes=5)
    # None: a missed message may still go out until the subscriber's local day ends.
    catchup_grace: timedelta | None = None
    stop_timeout: float = 8.0
    idle_poll: float = 1.0
    # An announcement not delivered within this long (an outage) is dropped as stale.
    announcement_ttl: timedelta = timedelta(hours=24)

    def workers(self) -> int:
        """Enough requests in flight to reach the rate at the expected round trip, twice over."""
        if self.concurrency is not None:
            return self.concurrency
        return max(4, min(512, math.ceil(self.rate * self.expected_round_trip * 2)))


@dataclass(frozen=True, slots=True)
class _Job:
    claim: Claim
    timezone: str
    reply: Reply | None  # None: the subscriber is gone or paused that day


@dataclass
class EngineStatus:
    """Figures for health checks and admins."""

    last_tick: datetime | None = None
    enqueued: int = 0
    sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class DeliveryEngine:
    """Owns the dispatcher and workers; ``tick`` is called every minute."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        bot: Bot,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
        settings: DeliverySettings,
        on_fatal: Callable[[str], None],
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._bot = bot
        self._catalog = catalog
        self._clock = clock
        self.settings = settings
        self._on_fatal = on_fatal
        self.status = EngineStatus()
        self.metrics = metrics or Metrics()
        self._sent_total = self.metrics.deliveries_finished.labels(State.SENT.value)  # once, not per message
        self.fatal: str | None = None
        self._announcing = asyncio.Lock()
        self._pacer = SendPacer(settings.rate, time=time.monotonic, writes_reported=reports_writes(bot.request))
        self._writer = LedgerWriter(sessions, clock=clock, lease=settings.lease)
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._wake = asyncio.Event()
        # The dispatcher reserves once this many places are free in the queue.
        self._refill = max(1, settings.workers() // 2)
        self._refill_below = settings.workers() - self._refill
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._dispatcher: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Turn crash leftovers into ``uncertain``, then start claiming."""
        async with self._sessions.begin() as session:
            orphans = await ledger.recover_orphans(session, now=self._clock(), at_start=True)
        if orphans:
            log.warning("%d deliveries were being sent when the bot stopped: marked uncertain, not resent", orphans)
        self._stopping = False
        self._writer.start()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="delivery-dispatcher")
        self._tasks = [self._dispatcher]
        self._tasks += [
            asyncio.create_task(self._work(), name=f"delivery-worker-{n}") for n in range(self.settings.workers())
        ]

    async def stop(self) -> None:
        """Stop claiming, give claimed-but-unsent rows back, let in-flight sends finish."""
        self._stopping = True
        self._wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.stop_timeout
        # A claim may be under way: its jobs reach the queue when it ends. Empty
        # the queue only after that, or their reservations outlive this process.
        if self._dispatcher is not None:
            await asyncio.wait([self._dispatcher], timeout=self.settings.stop_timeout)
        leftovers: list[int] = []
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait().claim.id)
        await self._release(leftovers)
        remaining = max(0.0, deadline - loop.time())
        _, pending = await asyncio.wait(self._tasks, timeout=remaining) if self._tasks else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []
        self._dispatcher = None
        await self._writer.close()

    # --- the tick -------------------------------------------------------------------

    async def tick(self) -> int:
        """Enqueue every due subscriber, a page at a time; returns how many rows were created.

        Also turns rows whose sender vanished (lease run out) into ``uncertain``.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            orphans = await ledger.recover_orphans(session, now=now, at_start=False)
        if orphans:
            log.warning("%d deliveries were left sending past their lease: marked uncertain, not resent", orphans)
        created = 0
        stuck: ledger.DueGroup | None = None
        while True:
            # A page of one group per transaction: writers (the senders' marks) wait at most one page.
            async with self._sessions.begin() as session:
                group = await ledger.oldest_due_group(session, now=now)
                if group is None:
                    break
                day, late, upcoming = self._plan_group(group, now)
                done = await ledger.advance_group(
                    session,
                    group,
                    send_on=None if late else day,
                    upcoming=upcoming,
                    now=now,
                    limit=self.settings.page_size,
                )
            created += done.created
            # Moved subscribers leave the group, so the loop ends. Nobody moved: another
            # replica moved them meanwhile (look again), unless that already happened to
            # this very group, which would mean its rows cannot be matched: stop, not spin.
            if done.moved == 0:
                if group == stuck:
                    log.error(
                        "the tick could not move the subscribers due at %s; stopping this tick", group.next_send_at
                    )
                    break
                stuck = group
        async with self._sessions.begin() as session:
            await admin.beat(session, admin.TICK, now)
        self.status.last_tick = now
        self.status.enqueued += created
        if created:
            self._wake.set()
        # Announcements whose rows a stop interrupted resume here.
        return created + await self.enqueue_announcements()

    async def enqueue_announcements(self) -> int:
        """Create the ledger rows of every confirmed announcement, a page per transaction.

        Workers start sending after the first page, while later pages are created.
        """
        created = 0
        async with self._announcing:
            async with self._sessions() as session:
                waiting = await announcements.unfinished(session)
            for announcement_id in waiting:
                while True:
                    async with self._sessions.begin() as session:
                        page = await announcements.enqueue_page(
                            session, announcement_id, now=self._clock(), page=self.settings.announce_page
                        )
                    if page is None:
                        break
                    created += page
                    self._wake.set()
        self.status.enqueued += created
        return created

    def _plan_group(self, group: ledger.DueGroup, now: datetime) -> tuple[date, bool, datetime]:
        """A group's local date, whether it is too late to send, and its next instant."""
        day = local_date_of(group.next_send_at, group.timezone)
        # The next occurrence after this one, even if it is already past:
        # after days of downtime the tick meets the group again at that
        # instant, skips each stale day and enqueues today's.
        upcoming, _ = next_send_at(
            send_time=group.send_time,
            zone=group.timezone,
            after=group.next_send_at,
            not_before=day + timedelta(days=1),
        )
        return day, self._too_late(group.next_send_at, day, group.timezone, now), upcoming

    def _too_late(self, due_at: datetime, day: date, zone: str, now: datetime) -> bool:
        """A missed send still goes out within the grace, by default until its local day ends."""
        grace = self.settings.catchup_grace
        if grace is not None:
            return now > due_at + grace
        return now >= end_of_local_day(day, zone)

    # --- claiming ---------------------------------------------------------------------

    async def _dispatch(self) -> None:
        workers = self.settings.workers()
        while not self._stopping:
            # Cleared before looking, so a wake-up that comes while claiming is kept.
            self._wake.clear()
            room = workers - self._queue.qsize()
            # Reserve in batches of half the queue (or at once when it ran dry): at 1000 msg/s,
            # a claim for every few taken jobs was 30 transactions a second.
            claiming = room >= self._refill or room == workers
            try:
                jobs = await self._claim(room) if claiming and not self._pacer.paused else []
            except Exception:
                log.exception("claiming deliveries failed; retrying shortly")
                jobs = []
            for job in jobs:
                self._queue.put_nowait(job)
            if len(jobs) < room or not claiming:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.idle_poll)

    async def _claim(self, limit: int) -> list[_Job]:
        now = self._clock()
        async with self._sessions.begin() as session:
            claims = await ledger.claim(session, now=now, claimed_until=now + self.settings.claim_hold, limit=limit)
            if not claims:
                return []
            members = await ledger.members_of(session, [c.subscriber_id for c in claims])
            texts = await announcements.texts_of(
                session, [c.announcement_id for c in claims if c.announcement_id is not None]
            )
        catalog = self._catalog()
        jobs = []
        for claim in claims:
            member_zone = members.get(claim.subscriber_id)
            reply = None
            if claim.announcement_id is not None:
                # Paused subscribers get announcements too; those who left do not.
                text = texts.get(claim.announcement_id)
                reply = Reply(text) if member_zone is not None and text is not None else None
            elif member_zone is not None and member_zone[0].paused_on(claim.local_date) is None:
                member, _ = member_zone
                plan = plan_day(
                    catalog=catalog, enrollment=member.enrollment_on(claim.local_date), today=claim.local_date
                )
                reply = render_day(plan)
            jobs.append(_Job(claim, member_zone[1] if member_zone else "UTC", reply))
        return jobs

    # --- sending ----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            if self._stopping and self._queue.empty():
                return
            if self._queue.empty():
                try:
                    job = await asyncio.wait_for(self._queue.get(), self.settings.idle_poll)
                except TimeoutError:
                    continue
            else:
                # No wait_for (a task and a timer per message at 1000 msg/s) when a job is ready.
                job = self._queue.get_nowait()
            if self._queue.qsize() <= self._refill_below:
                self._wake.set()  # room for a batch in the queue: the dispatcher may reserve more
            try:
                await self._deliver(job)
            except Exception as exc:
                log.exception("delivery %s failed unexpectedly", job.claim.id)
                with contextlib.suppress(Exception):
                    await self._finish(job.claim, State.FAILED, error=f"bug: {type(exc).__name__}: {exc}")

    def _unsendable(self, job: _Job, now: datetime) -> str | None:
        """Why a claimed row must not be sent any more, if it must not."""
        claim = job.claim
        if job.reply is None:
            return "unsubscribed, gone, or paused that day"
        if claim.announcement_id is not None:
            if now >= claim.due_at + self.settings.announcement_ttl:
                return "expired: the announcement is stale"
        elif now >= end_of_local_day(claim.local_date, job.timezone):
            return "expired: the subscriber's day is over"
        return None

    async def _take(self, claim: Claim) -> bool:
        """Commit ``sending`` before the call; False if the row is not this process's to send."""
        try:
            return await self._writer.mark_sending(claim.id)
        except Exception:
            # Nothing was sent: the reservation runs out and the row is claimed again.
            log.warning("could not mark delivery %s as sending; it will be retried", claim.id, exc_info=True)
            return False

    async def _deliver(self, job: _Job) -> None:
        claim = job.claim
        now = self._clock()
        reason = self._unsendable(job, now)
        if reason is not None or job.reply is None:
            await self._finish(claim, State.FAILED, error=reason)
            return
        try:
            slot = await self._pacer.acquire(claim.chat_id)
        except asyncio.CancelledError:
            # Stopped while waiting for a slot (say, out a long flood-control pause): nothing was sent.
            await self._release([claim.id])
            raise
        if self.fatal is not None:
            # Telegram refuses this bot (InvalidToken, Conflict): send nothing more, keep the row.
            await self._release([claim.id])
            return
        # A row taken meanwhile by another process (its reservation ran out) is left to that process.
        if not await self._take(claim):
            return
        try:
            send = await self._pacer.go(claim.chat_id, slot)
        except asyncio.CancelledError:
            # Stopped in the last check before the call: nothing was sent.
            await self._retry(claim, now, "released at shutdown", count_attempt=False)
            raise
        started = time.perf_counter()
        reporting = on_written.set(send.written)
        try:
            try:
                message_id = await send_prepared(
                    self._bot, payload(claim.chat_id, job.reply, paid_broadcast=self.settings.paid_broadcast)
                )
            finally:
                on_written.reset(reporting)
                # The chat's next message waits from the answer, not from the request.
                self._pacer.finished(claim.chat_id, send)
        except TelegramError as exc:
            await self._on_error(claim, exc)
            return
        self.status.sent += 1
        self.metrics.send_seconds.observe(time.perf_counter() - started)
        self.metrics.delivery_delay_seconds.observe(max(0.0, (self._clock() - claim.due_at).total_seconds()))
        # Buffered and written in a batch; a busy database is retried, never turned into ``failed``.
        self._writer.finish(Outcome(claim.id, State.SENT, message_id=message_id))
        self._sent_total.inc()

    async def _on_error(self, claim: Claim, exc: TelegramError) -> None:  # noqa: PLR0911 - one outcome per error
        """Map a Telegram error to the ledger, as the delivery design says."""
        kind = type(exc).__name__
        self.status.errors[kind] = self.status.errors.get(kind, 0) + 1
        self.metrics.telegram_errors.labels(kind).inc()
        now = self._clock()
        if isinstance(exc, RetryAfter):
            seconds = _seconds(exc)
            self._pacer.pause(seconds)
            log.warning("flood control: every sender pauses for %.0f s", seconds)
            await self._retry(claim, now + timedelta(seconds=seconds), str(exc), count_attempt=False)
            return
        if isinstance(exc, ChatMigrated):
            if claim.migrations >= 1:
                await self._finish(claim, State.FAILED, error="chat migrated twice")
                return
            async with self._sessions.begin() as session:
                await ledger.migrate_chat(session, claim, exc.new_chat_id, now=now)
            self._wake.set()
            return
        if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()):
            async with self._sessions.begin() as session:
                await ledger.finish(session, claim.id, State.BLOCKED, now=now, error=str(exc))
                await ledger.deactivate(session, claim.subscriber_id, now=now)
            self.metrics.deliveries_finished.labels(State.BLOCKED.value).inc()
            return
        if isinstance(exc, InvalidToken | Conflict):
            # Stop claiming first: a row given back while the dispatcher still
            # claims would be taken again and sent with the same fate.
            self._fail_fatally(f"Telegram answered {kind} while delivering: {exc}")
            await self._retry(claim, now, str(exc), count_attempt=False)
            return
        if (isinstance(exc, TimedOut) and not _never_sent(exc)) or _lost_answer(exc):
            # The request may have reached Telegram: never send it again blindly.
            await self._finish(claim, State.UNCERTAIN, error=str(exc))
            return
        if isinstance(exc, BadRequest):
            log.error("Telegram refused delivery %s as a bad request (a bug in the message?): %s", claim.id, exc)
            await self._finish(claim, State.FAILED, error=str(exc))
            return
        attempt = claim.attempts + 1  # the claim was read before this attempt counted
        if isinstance(exc, NetworkError) and attempt < self.settings.max_attempts:
            delay = min(self.settings.backoff_cap.total_seconds(), 2.0**attempt)
            await self._retry(claim, now + timedelta(seconds=delay), str(exc), count_attempt=True)
            return
        await self._finish(claim, State.FAILED, error=f"{kind}: {exc}")

    def _fail_fatally(self, reason: str) -> None:
        if self.fatal is None:
            self.fatal = reason
            self._stopping = True
            self._on_fatal(reason)

    async def _finish(
        self, claim: Claim, state: State, *, message_id: int | None = None, error: str | None = None
    ) -> None:
        async with self._sessions.begin() as session:
            await ledger.finish(session, claim.id, state, now=self._clock(), message_id=message_id, error=error)
        self.metrics.deliveries_finished.labels(state.value).inc()

    async def _release(self, delivery_ids: list[int]) -> None:
        if delivery_ids:
            async with self._sessions.begin() as session:
                await ledger.release(session, delivery_ids, now=self._clock())

    async def _retry(self, claim: Claim, when: datetime, error: str, *, count_attempt: bool) -> None:
        async with self._sessions.begin() as session:
            await ledger.retry_later(
                session, claim.id, now=self._clock(), not_before=when, error=error, count_attempt=count_attempt
            )


def _never_sent(exc: TimedOut) -> bool:
    """PTB also raises TimedOut when the request never left: no pooled connection came free, or none was made.

    Such a timeout is like any other network error (retried); only one that
    may have reached Telegram makes a delivery uncertain.
    """
    return never_sent(exc)


def _lost_answer(exc: TelegramError) -> bool:
    """The request went out and the connection broke before an answer: it may have been delivered."""
    return answer_lost(exc)


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
