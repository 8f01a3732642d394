"""/stats: sessions done, streaks, and this week's progress."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.db import queries
from bot.handlers.context import BotContext, send, subscriber_or_prompt
from bot.progress import compute_stats


async def stats(update: Update, context: BotContext) -> None:
    """Send the subscriber's figures."""
    subscriber = await subscriber_or_prompt(update, context)
    if subscriber is None:
        return
    async with context.deps.sessions() as session:
        days = await queries.workout_days(session, subscriber.id)
    figures = compute_stats(
        program=context.deps.catalog.program,
        member=subscriber.member,
        done_days=days,
        today=context.local_today(subscriber),
    )
    await send(update, context, replies.stats(figures))
