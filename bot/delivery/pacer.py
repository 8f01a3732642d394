"""Pacing sends under Telegram's limits: a global rate, one message a second per chat.

Slots are handed out 1/rate apart (plus a small margin, so that scheduling
jitter cannot put rate + 1 sends into one second), which also spreads sends
evenly instead of bursting. ``pause`` stops every sender after a 429 until
``retry_after`` has passed; a sender that reserved a slot before the pause
checks again after waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# 0.5 % slower than the nominal rate: 30/s becomes one send per 33.5 ms.
MARGIN = 0.005
PER_CHAT_INTERVAL = 1.0
_PRUNE_ABOVE = 50_000


class SendPacer:
    """Hands out send slots; every sender awaits ``acquire`` before each API call."""

    def __init__(
        self,
        rate: float,
        *,
        time: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self._gap = (1.0 + MARGIN) / rate
        self._time = time
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop every sender for ``seconds`` (flood control)."""
        self._paused_until = max(self._paused_until, self._time() + seconds)

    @property
    def paused(self) -> bool:
        return self._time() < self._paused_until

    async def acquire(self, chat_id: int) -> None:
        """Wait for this chat's next allowed time and a global slot."""
        while True:
            chat_ready = self._chat_next.get(chat_id, 0.0) - self._time()
            if chat_ready > 0:
                await self._sleep(chat_ready)
            async with self._lock:
                now = self._time()
                slot = max(now, self._next, self._paused_until)
                self._next = slot + self._gap
                self._chat_next[chat_id] = slot + PER_CHAT_INTERVAL
                if len(self._chat_next) > _PRUNE_ABOVE:
                    self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if slot > now:
                await self._sleep(slot - now)
            if not self.paused:
                return
