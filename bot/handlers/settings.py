"""/settings, /time and /timezone, and their picker buttons."""

from __future__ import annotations

from datetime import time

from telegram import CallbackQuery, Update

from bot import replies
from bot.db import ledger, queries
from bot.handlers.context import BotContext, send, send_to, subscriber_or_prompt
from bot.render import Reply
from bot.timezones import normalize_zone, parse_send_time, suggest_zones


async def settings(update: Update, context: BotContext) -> None:
    """Show the send time, the zone and the status."""
    subscriber = await subscriber_or_prompt(update, context)
    if subscriber is None:
        return
    pause = subscriber.member.paused_on(context.local_today(subscriber))
    reply = replies.settings(
        send_time=subscriber.send_time, zone=subscriber.timezone, active=subscriber.active, pause=pause
    )
    await send(update, context, reply)


async def _save(context: BotContext, chat_id: int, *, send_time: time | None = None, zone: str | None = None) -> Reply:
    async with context.deps.sessions.begin() as session:
        subscriber = await queries.get_subscriber(session, chat_id)
        if subscriber is None:
            return replies.not_subscribed()
        if send_time is not None:
            await queries.set_send_time(session, subscriber.id, send_time)
            reply = replies.time_set(send_time, subscriber.timezone)
        elif zone is not None:
            await queries.set_timezone(session, subscriber.id, zone)
            reply = replies.zone_set(subscriber.send_time, zone)
        else:
            raise ValueError("nothing to save")
        # Later today if today's message has not gone out yet, else tomorrow.
        await ledger.replan(session, subscriber.id, now=context.deps.clock())
    return reply


async def set_time(update: Update, context: BotContext) -> None:
    """``/time HH:MM``; without an argument, offer buttons."""
    chat = update.effective_chat
    if chat is None:
        return
    text = " ".join(context.args or [])
    if not text:
        await send(update, context, replies.time_picker())
        return
    value = parse_send_time(text)
    reply = replies.time_help(text) if value is None else await _save(context, chat.id, send_time=value)
    await send(update, context, reply)


async def set_timezone(update: Update, context: BotContext) -> None:
    """``/timezone Area/City`` or ``+03:00``; unknown names get suggestions."""
    chat = update.effective_chat
    if chat is None:
        return
    text = " ".join(context.args or [])
    zone = normalize_zone(text) if text else None
    if zone is None:
        await send(update, context, replies.zone_help(text, suggest_zones(text) if text else []))
        return
    await send(update, context, await _save(context, chat.id, zone=zone))


async def picker_button(query: CallbackQuery, context: BotContext, kind: str) -> None:
    """Open the time or zone picker."""
    await query.answer()
    if query.message is not None:
        reply = replies.time_picker() if kind == "time" else replies.zone_picker()
        await send_to(context, query.message.chat.id, reply)


async def save_button(query: CallbackQuery, context: BotContext, *, send_time: time | None, zone: str | None) -> None:
    """Save a time or zone picked from buttons."""
    if query.message is None:
        await query.answer(replies.stale_button())
        return
    reply = await _save(context, query.message.chat.id, send_time=send_time, zone=zone)
    await query.answer("Saved ✅")
    await send_to(context, query.message.chat.id, reply)
