"""Pacing sends under Telegram's limits: a global rate, one message a second per chat.

Slots are handed out 1/rate apart (plus a small margin), which spreads sends
evenly instead of bursting. ``pause`` stops every sender after a 429 until
``retry_after`` has passed; slots taken before it are taken again after it.

A sender gets its slot ``LEAD`` early (``acquire``), commits ``sending`` to
the ledger meanwhile (batched with the other senders of those milliseconds),
and then joins the line for its slot (``go``). The pacer lets the line go
one by one, in slot order, each once both limits allow it, checked against
the times sends really went: at most ``rate`` sends in any ``1 + margin``
seconds, and one per chat ``PER_CHAT_INTERVAL`` after the chat's last request
was answered (``finished``): until the answer, Telegram may not have seen it
yet. Senders that reach the line late (a stalled commit, a busy event loop)
leave ``MIN_SPACING`` gaps apart, so a late bunch catches up at twice the
rate instead of arriving at once.

A send counts from when it is really written to Telegram's connection when
the transport reports that (``written``; see :mod:`bot.transport.written`):
until then it counts as inside every window. Without such reports it counts
from ``go``.

Every wait is a future woken by the pacer's one alarm (an event-loop timer
for the earliest waiter): at 1000 msg/s, a timer per waiting sender, in a
heap of hundreds, and senders waking only to wait again cost a fifth of the
bot's CPU.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable

# The free rate's margin: 0.8 % slower than nominal (30/s: at most 29.76/s;
# the target is 99 %). The limits are checked against the times sends really
# left, so the margin only covers the jitter between leaving and reaching
# Telegram: 8 ms here. Paid broadcasts take 3 % (30 ms): a second holds a
# thousand sends, so every millisecond of jitter is one too many (at 2 % the
# fake Bot API, reading a bunch of requests one after another, counted 1001).
FREE_MARGIN = 0.008
PAID_MARGIN = 0.03
# Telegram's free limit; above it, messages are paid broadcasts.
FREE_RATE = 30.0
PER_CHAT_INTERVAL = 1.0
# A slot is handed out this long before it: time to commit ``sending``.
LEAD = 0.025
# Sends leave at least this many slot gaps apart (a late bunch catches up at twice the rate).
MIN_SPACING = 0.5
_WINDOW = 1.0
_PRUNE_EVERY = 10_000


def margin_for(rate: float) -> float:
    """How much slower than ``rate`` the pacer keeps, as a fraction."""
    return FREE_MARGIN if rate <= FREE_RATE else PAID_MARGIN


class Send:
    """One send let go by ``SendPacer.go``; tell the pacer when it is written, or that it is over."""

    __slots__ = ("_open", "_pacer")

    def __init__(self, pacer: SendPacer | None) -> None:
        self._pacer = pacer  # None: counted at go already
        self._open = pacer is not None

    def written(self) -> None:
        """The request is being handed to the socket now: count it from this moment."""
        if self._open and self._pacer is not None:
            self._open = False
            self._pacer._written()

    def over(self) -> None:
        """Answered or failed; if it was never written, Telegram never saw it: it counts nowhere."""
        if self._open and self._pacer is not None:
            self._open = False
            self._pacer._unwritten -= 1


class SendPacer:
    """Hands out send slots; every sender awaits ``acquire``, then ``go``, before each API call."""

    def __init__(self, rate: float, *, time: Callable[[], float], writes_reported: bool = False) -> None:
        """``time`` is the clock the limits are kept on (the event loop's, ``time.monotonic``)."""
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self._window = _WINDOW * (1.0 + margin_for(rate))
        self._gap = self._window / rate
        self._spacing = self._gap * MIN_SPACING
        self._last_go = -math.inf
        self._time = time
        self._next = 0.0
        self._paused_until = 0.0
        # When each chat may next be sent to: from its last real send, then from the answer to it.
        self._chat_next: dict[int, float] = {}
        self._records = 0
        # The latest real sends, as many as one window may hold.
        self._sent: deque[float] = deque(maxlen=max(1, math.floor(rate)))
        # With writes reported, sends let go but not yet written: inside every window.
        self._writes_reported = writes_reported
        self._unwritten = 0
        # Senders waiting for a time (acquire): (when, order, future), a heap.
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        # Senders waiting to go: (slot, order, chat, future), a heap; let go by ``_let_go``.
        self._line: list[tuple[float, int, int, asyncio.Future[Send]]] = []
        self._order = itertools.count()
        self._alarm: asyncio.TimerHandle | None = None
        self._alarm_at = math.inf

    def pause(self, seconds: float) -> None:
        """Stop every sender for ``seconds`` (flood control)."""
        self._paused_until = max(self._paused_until, self._time() + seconds)

    @property
    def paused(self) -> bool:
        return self._time() < self._paused_until

    def _take_slot(self) -> float:
        # No await between reading and moving ``_next``: one step for the event loop.
        slot = max(self._time(), self._next, self._paused_until)
        self._next = slot + self._gap
        return slot

    async def acquire(self, chat_id: int) -> float:
        """Wait for this chat's next allowed time and a global slot; return ``LEAD`` before the slot, with it."""
        while True:
            chat_ready = self._chat_next.get(chat_id, 0.0)
            if chat_ready > self._time():
                await self._sleep_until(chat_ready)
            slot = self._take_slot()
            if slot - LEAD > self._time():
                await self._sleep_until(slot - LEAD)
            if not self.paused:
                return slot

    async def go(self, chat_id: int, slot: float) -> Send:
        """The last step before the API call: wait in line until both limits allow this send; count it.

        The caller reports the returned ``Send`` written (if the transport
        can) and over. A sender cancelled while in line is never counted.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Send] = loop.create_future()
        heapq.heappush(self._line, (slot, next(self._order), chat_id, future))
        self._ring(loop)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # let go, but cancelled before it could send
                future.result().over()
            raise

    def finished(self, chat_id: int, send: Send | None = None) -> None:
        """Call when the request to ``chat_id`` has been answered (or has failed).

        Telegram may have received it at any moment until then, so the chat's
        next send waits a full interval from now.
        """
        if send is not None:
            send.over()
        ready = self._time() + PER_CHAT_INTERVAL
        if ready > self._chat_next.get(chat_id, 0.0):
            self._chat_next[chat_id] = ready

    # --- waking ---------------------------------------------------------------------------

    async def _sleep_until(self, when: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (when, next(self._order), future))
        if when < self._alarm_at:
            self._set_alarm(loop, when)
        await future  # a cancelled sleeper's entry is dropped when its time comes

    def _ring(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake the sleepers whose time has come, let the line go as far as it may; set the next alarm."""
        now = self._time()
        sleepers = self._sleepers
        while sleepers and sleepers[0][0] <= now:
            future = heapq.heappop(sleepers)[2]
            if not future.done():
                future.set_result(None)
        wake = self._let_go(now)
        if sleepers:
            wake = min(wake, sleepers[0][0])
        if wake != self._alarm_at:
            self._set_alarm(loop, wake)

    def _set_alarm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None
        self._alarm_at = when
        if when < math.inf:
            self._alarm = loop.call_later(max(0.0, when - self._time()), self._on_alarm, loop)

    def _on_alarm(self, loop: asyncio.AbstractEventLoop) -> None:
        self._alarm, self._alarm_at = None, math.inf
        self._ring(loop)

    def _let_go(self, now: float) -> float:
        """Let senders in line go while the limits allow; when the first of the rest may (inf: nobody waits)."""
        line = self._line
        while line:
            slot, order, chat_id, future = line[0]
            if future.done():  # cancelled while in line: nothing is sent
                heapq.heappop(line)
                continue
            if slot < self._paused_until:  # taken before flood control paused everyone
                heapq.heapreplace(line, (self._take_slot(), order, chat_id, future))
                continue
            at = max(slot, self._paused_until, self._ready_at())
            chat_at = self._chat_next.get(chat_id, 0.0)
            if chat_at > at:  # this chat is not ready: the others need not wait for it
                heapq.heapreplace(line, (chat_at, order, chat_id, future))
                continue
            if at > now:
                return at
            heapq.heappop(line)
            future.set_result(self._record(chat_id, now))
        return math.inf

    # --- the limits -----------------------------------------------------------------------

    def _ready_at(self) -> float:
        """The earliest time the next send keeps the global limits, given the real sends so far."""
        ready = self._last_go + self._spacing
        # This send and the unwritten ones are in the window; so may be at most
        # ``capacity - unwritten - 1`` of the written: the one before those must be a window old.
        capacity = self._sent.maxlen or 1
        room = capacity - self._unwritten
        if room <= 0:
            return max(ready, self._time() + self._gap)  # every place taken by unwritten sends
        if len(self._sent) >= room:
            ready = max(ready, self._sent[-room] + self._window)
        return ready

    def _record(self, chat_id: int, now: float) -> Send:
        self._last_go = now
        self._chat_next[chat_id] = now + PER_CHAT_INTERVAL * (1.0 + FREE_MARGIN)
        self._records += 1
        if self._records % _PRUNE_EVERY == 0:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if self._writes_reported:
            self._unwritten += 1
            return Send(self)
        self._sent.append(now)
        return Send(None)

    def _written(self) -> None:
        self._unwritten -= 1
        self._sent.append(self._time())
