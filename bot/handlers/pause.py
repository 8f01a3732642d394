"""/pause N days and /resume: the program waits and continues where it stopped."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot import replies
from bot.db import queries
from bot.handlers.context import BotContext, send
from bot.progress import PauseSpan


def _days(args: list[str]) -> int | None:
    if len(args) != 1 or not args[0].isdigit():
        return None
    days = int(args[0])
    return days if 1 <= days <= replies.MAX_PAUSE_DAYS else None


async def pause(update: Update, context: BotContext) -> None:
    """Pause from today for N days."""
    chat = update.effective_chat
    if chat is None:
        return
    days = _days(context.args or [])
    if days is None:
        await send(update, context, replies.pause_help())
        return
    async with context.deps.sessions.begin() as session:
        subscriber = await queries.get_subscriber(session, chat.id)
        if subscriber is None:
            reply = replies.not_subscribed()
        else:
            today = context.local_today(subscriber)
            current = subscriber.member.paused_on(today)
            if current is not None:
                reply = replies.already_paused(current)
            else:
                span = PauseSpan(today, today + timedelta(days=days - 1))
                await queries.add_pause(session, subscriber.id, span)
                reply = replies.paused(span)
    await send(update, context, reply)


async def resume(update: Update, context: BotContext) -> None:
    """End the current pause: today is a normal day again."""
    chat = update.effective_chat
    if chat is None:
        return
    async with context.deps.sessions.begin() as session:
        subscriber = await queries.get_subscriber(session, chat.id)
        if subscriber is None:
            reply = replies.not_subscribed()
        else:
            ended = await queries.end_pause(session, subscriber.id, context.local_today(subscriber))
            reply = replies.resumed() if ended else replies.not_paused()
    await send(update, context, reply)
