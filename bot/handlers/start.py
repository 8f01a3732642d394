"""/start subscribes (idempotently) and /stop unsubscribes, keeping the data."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.db import ledger, queries
from bot.handlers.context import BotContext, send
from bot.planner import plan_day
from bot.render import render_day
from bot.timezones import local_now


async def start(update: Update, context: BotContext) -> None:
    """Subscribe, greet, and show today's workout to a new subscriber.

    A deep-link payload (``/start something``) is accepted and ignored.
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    deps = context.deps
    now = deps.clock()
    async with deps.sessions.begin() as session:
        result = await queries.subscribe(
            session,
            chat_id=chat.id,
            user_id=user.id if user else None,
            now=now,
            send_time=deps.default_send_time,
            timezone=deps.default_timezone,
            local_today=local_now(now, deps.default_timezone).date(),
        )
        # New or returning: the next scheduled message is the next future
        # occurrence of the send time (today's /start reply does not count).
        await ledger.replan(session, result.subscriber.id, now=now)
    subscriber = result.subscriber
    greeting = replies.welcome(
        first_name=user.first_name if user else None,
        send_time=subscriber.send_time,
        zone=subscriber.timezone,
        returning=not result.created,
    )
    await send(update, context, greeting)
    if result.created:
        today = context.local_today(subscriber)
        plan = plan_day(catalog=deps.catalog, enrollment=subscriber.member.enrollment_on(today), today=today)
        await send(update, context, render_day(plan))


async def stop(update: Update, context: BotContext) -> None:
    """Unsubscribe; progress and settings stay for a later /start."""
    chat = update.effective_chat
    if chat is None:
        return
    async with context.deps.sessions.begin() as session:
        known = await queries.set_active(session, chat.id, active=False)
    await send(update, context, replies.stopped() if known else replies.not_subscribed())
