"""The pacer's line on its own, on the real clock (each test well under two seconds)."""

from __future__ import annotations

import asyncio
import time

from bot.delivery.pacer import FREE_MARGIN, PER_CHAT_INTERVAL, SendPacer


async def _let_go(pacer: SendPacer, chat_id: int) -> float:
    """Acquire and go for ``chat_id``; the monotonic time it was let go."""
    slot = await pacer.acquire(chat_id)
    send = await pacer.go(chat_id, slot)
    send.written()
    pacer.finished(chat_id, send)
    return time.monotonic()


async def test_a_send_counts_from_when_it_is_written() -> None:
    pacer = SendPacer(20, time=time.monotonic, writes_reported=True)
    sends = [await pacer.go(chat, await pacer.acquire(chat)) for chat in range(20)]
    late = asyncio.create_task(_let_go(pacer, 99))
    await asyncio.sleep(0.2)
    assert not late.done(), "20 sends not yet written fill the window: the 21st must wait"
    written_at = time.monotonic()
    for send in sends:
        send.written()
    went = await asyncio.wait_for(late, 3)
    assert went - written_at >= 1.0, "the window counts from the writes, not from go"


async def test_a_send_never_written_counts_nowhere() -> None:
    pacer = SendPacer(3, time=time.monotonic, writes_reported=True)
    sends = [await pacer.go(chat, await pacer.acquire(chat)) for chat in range(3)]
    late = asyncio.create_task(_let_go(pacer, 99))
    await asyncio.sleep(0.5)  # its slot has come; three unwritten sends fill the window
    assert not late.done()
    sends[0].over()  # failed before a byte left: Telegram never saw it
    await asyncio.wait_for(late, 0.5)


async def test_a_chat_that_is_not_ready_does_not_hold_up_the_line() -> None:
    pacer = SendPacer(100, time=time.monotonic)
    first = await pacer.go(1, await pacer.acquire(1))
    pacer.finished(1, first)
    started = time.monotonic()
    # Chat 1 joins the line again with a slot now; chat 2 after it.
    again = asyncio.create_task(pacer.go(1, started))
    other = asyncio.create_task(pacer.go(2, started + 0.001))
    await asyncio.wait_for(other, 0.5)
    assert not again.done(), "chat 1 waits its second"
    await asyncio.wait_for(again, 2)
    assert time.monotonic() - started >= PER_CHAT_INTERVAL * (1 - FREE_MARGIN)


async def test_a_sender_cancelled_in_line_is_not_counted() -> None:
    pacer = SendPacer(2, time=time.monotonic, writes_reported=True)
    sends = [await pacer.go(chat, await pacer.acquire(chat)) for chat in range(2)]
    waiting = asyncio.create_task(pacer.go(50, time.monotonic()))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    for send in sends:
        send.over()  # both failed unwritten: the window is empty again
    # Slots are 0.5 s apart; had the cancelled sender kept a place, 52 would wait a whole window.
    await asyncio.wait_for(_let_go(pacer, 51), 0.8)
    await asyncio.wait_for(_let_go(pacer, 52), 0.8)
