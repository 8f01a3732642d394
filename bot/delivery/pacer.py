"""Pacing sends under Telegram's limits: a global rate, one message a second per chat.

Slots are handed out 1/rate apart (plus a small margin), which spreads sends
evenly instead of bursting. ``pause`` stops every sender after a 429 until
``retry_after`` has passed.

A sender gets its slot ``LEAD`` early (``acquire``), commits ``sending`` to
the ledger meanwhile (batched with the other senders of those milliseconds),
and then waits for the slot itself (``go``). Senders that reach ``go`` late
(a stalled commit, a busy event loop) would go out in a bunch, and a bunch
reaches Telegram with jitter that can put rate + 1 requests into one second:
so real sends are also kept ``MIN_SPACING`` gaps apart, which spreads a bunch
while letting it catch up. Both limits are checked against the times senders
really went, as a last guard: at most ``rate`` sends in any ``1 + MARGIN`` s,
and one per chat ``PER_CHAT_INTERVAL`` after the chat's last request was
answered (``finished``): until the answer, Telegram may not have seen it yet.

A send counts from when it is really written to Telegram's connection when
the transport reports that (``written``; see :mod:`bot.transport.written`):
until then it counts as inside every window. Without such reports it counts
from ``go``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable

# 0.8 % slower than the nominal rate (30/s: at most 29.76/s). The limits are
# checked against the times sends really left, so the margin only has to
# cover the jitter between leaving and reaching Telegram: up to 8 ms here.
# More margin costs throughput (the target is 99 % of the rate).
MARGIN = 0.008
PER_CHAT_INTERVAL = 1.0
# A slot is handed out this long before it: time to commit ``sending``.
LEAD = 0.025
# Real sends are at least this many slot gaps apart (a late bunch catches up at twice the rate).
MIN_SPACING = 0.5
_WINDOW = 1.0
_PRUNE_ABOVE = 50_000


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
    """Hands out send slots; every sender awaits ``acquire`` before each API call."""

    def __init__(
        self,
        rate: float,
        *,
        time: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        writes_reported: bool = False,
    ) -> None:
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self._gap = (1.0 + MARGIN) / rate
        self._spacing = self._gap * MIN_SPACING
        self._last_go = -math.inf
        self._reserved = -math.inf
        self._time = time
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        # When each chat may next be sent to: from its last real send, then from the answer to it.
        self._chat_next: dict[int, float] = {}
        # The latest real sends, as many as one window may hold.
        self._sent: deque[float] = deque(maxlen=max(1, math.floor(rate)))
        # With writes reported, sends let go but not yet written: inside every window.
        self._writes_reported = writes_reported
        self._unwritten = 0

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
            chat_ready = self._chat_next.get(chat_id, 0.0) - self._time()
            if chat_ready > 0:
                await self._sleep(chat_ready)
            slot = self._take_slot()
            early = slot - LEAD - self._time()
            if early > 0:
                await self._sleep(early)
            if not self.paused:
                return slot

    async def go(self, chat_id: int, slot: float) -> Send:
        """The last step before the API call: wait for the slot, check both limits, then count this send.

        From the last check to the record there is no await: for the event
        loop they are one step. The caller reports the returned ``Send``
        written (if the transport can) and over.
        """
        held: float | None = None  # this sender's place in line, once it has waited
        while True:
            now = self._time()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                slot, held = self._take_slot(), None
                continue
            at = max(slot, self._ready_at(chat_id), held if held is not None else self._reserved + self._spacing)
            if at <= now:
                return self._record(chat_id)
            # Hold a place: senders waiting together leave one by one instead
            # of all waking for the same instant (a thundering herd).
            held = at
            self._reserved = max(self._reserved, at)
            await self._sleep(at - now)

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

    def _ready_at(self, chat_id: int) -> float:
        """The earliest time a send to ``chat_id`` keeps both limits, given the real sends so far."""
        ready = max(self._chat_next.get(chat_id, 0.0), self._last_go + self._spacing)
        # This send and the unwritten ones are in the window; so may be at most
        # ``capacity - unwritten - 1`` of the written: the one before those must be a window old.
        capacity = self._sent.maxlen or 1
        room = capacity - self._unwritten
        if room <= 0:
            return max(ready, self._time() + self._gap)  # every place taken by unwritten sends
        if len(self._sent) >= room:
            ready = max(ready, self._sent[-room] + _WINDOW * (1.0 + MARGIN))
        return ready

    def _record(self, chat_id: int) -> Send:
        now = self._time()
        self._last_go = now
        self._chat_next[chat_id] = now + PER_CHAT_INTERVAL * (1.0 + MARGIN)
        if len(self._chat_next) > _PRUNE_ABOVE:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if self._writes_reported:
            self._unwritten += 1
            return Send(self)
        self._sent.append(now)
        return Send(None)

    def _written(self) -> None:
        self._unwritten -= 1
        self._sent.append(self._time())
