"""/done and the ✅ button: log a session once per local day."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import replies
from bot.db import queries
from bot.db.queries import SubscriberInfo
from bot.domain import DayKind
from bot.handlers.context import BotContext, send, subscriber_or_prompt
from bot.keyboards import markup
from bot.planner import plan_day
from bot.render import render_day

# How far back the ✅ button of an old message still logs its day.
BUTTON_DAYS_BACK = 7


async def _log(context: BotContext, subscriber: SubscriberInfo, day: date) -> tuple[bool, DayKind]:
    """Log ``day``; return whether it was new and whether it was a training day."""
    plan = plan_day(catalog=context.deps.catalog, enrollment=subscriber.member.enrollment_on(day), today=day)
    async with context.deps.sessions.begin() as session:
        created = await queries.log_workout(
            session,
            subscriber_id=subscriber.id,
            day=day,
            exercise_id=plan.exercise.id if plan.exercise else None,
            now=context.deps.clock(),
        )
    return created, plan.kind


async def done(update: Update, context: BotContext) -> None:
    """Log today's session, or yesterday's with ``/done yesterday``."""
    args = [arg.casefold() for arg in context.args or []]
    if args not in ([], ["today"], ["yesterday"]):
        await send(update, context, replies.done_help())
        return
    subscriber = await subscriber_or_prompt(update, context)
    if subscriber is None:
        return
    today = context.local_today(subscriber)
    day = today - timedelta(days=1) if args == ["yesterday"] else today
    if day < subscriber.member.program_start:
        await send(update, context, replies.too_early(subscriber.member.program_start))
        return
    created, kind = await _log(context, subscriber, day)
    reply = replies.logged(day, today, rest_day=kind is DayKind.REST) if created else replies.already_logged(day, today)
    await send(update, context, reply)


async def done_button(query: CallbackQuery, context: BotContext, day: date) -> None:
    """Log the day a ✅ button belongs to and mark its message as logged."""
    chat = query.message.chat if query.message else None
    if chat is None:
        await query.answer(replies.stale_button())
        return
    async with context.deps.sessions() as session:
        subscriber = await queries.get_subscriber(session, chat.id)
    if subscriber is None:
        await query.answer(replies.not_subscribed().text)
        return
    today = context.local_today(subscriber)
    if not (today - timedelta(days=BUTTON_DAYS_BACK) <= day <= today) or day < subscriber.member.program_start:
        await query.answer(replies.stale_button())
        return
    created, _ = await _log(context, subscriber, day)
    await query.answer("✅ Logged!" if created else "Already logged ✅")
    plan = plan_day(catalog=context.deps.catalog, enrollment=subscriber.member.enrollment_on(day), today=day)
    reply = render_day(plan, logged=True)
    try:
        await query.edit_message_text(reply.text, parse_mode=ParseMode.HTML, reply_markup=markup(reply.keyboard))
    except BadRequest as exc:
        # Pressed twice, or the message is gone: the log is what matters.
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise
