"""/today shows the day's workout, exactly as the scheduled message has it."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.db import queries
from bot.handlers.context import BotContext, send, subscriber_or_prompt
from bot.planner import plan_day
from bot.render import render_day


async def today(update: Update, context: BotContext) -> None:
    """Send today's workout (or rest day), marked logged if it was."""
    subscriber = await subscriber_or_prompt(update, context)
    if subscriber is None:
        return
    day = context.local_today(subscriber)
    async with context.deps.sessions() as session:
        logged = day in await queries.workout_days(session, subscriber.id)
    pause = subscriber.member.paused_on(day)
    if pause is not None:
        await send(update, context, replies.paused_today(pause))
        return
    plan = plan_day(catalog=context.deps.catalog, enrollment=subscriber.member.enrollment_on(day), today=day)
    await send(update, context, render_day(plan, logged=logged))
