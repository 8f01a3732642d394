"""One entry point for inline buttons: decode the data, then hand it to its feature."""

from __future__ import annotations

from telegram import Update

from bot import callbacks, replies
from bot.handlers import admin, done, faq, settings
from bot.handlers.context import BotContext


async def button(update: Update, context: BotContext) -> None:
    """Route a button press; stale or forged data gets a polite toast."""
    query = update.callback_query
    if query is None:
        return
    data = callbacks.decode(query.data or "")
    match data:
        case callbacks.Done(day=day):
            await done.done_button(query, context, day)
        case callbacks.FaqList(exercise_id=exercise_id):
            await faq.list_button(query, context, exercise_id)
        case callbacks.FaqBrowse():
            await faq.list_button(query, context, None)
        case callbacks.FaqAnswer(exercise_id=exercise_id, index=index):
            await faq.answer_button(query, context, exercise_id, index)
        case callbacks.About(exercise_id=exercise_id):
            await faq.about_button(query, context, exercise_id)
        case callbacks.Menu(kind=kind):
            await settings.picker_button(query, context, kind)
        case callbacks.SetTime(value=value):
            await settings.save_button(query, context, send_time=value, zone=None)
        case callbacks.SetZone(zone=zone):
            await settings.save_button(query, context, send_time=None, zone=zone)
        case callbacks.AnnounceSend(announcement_id=announcement_id):
            await admin.send_button(query, context, announcement_id)
        case callbacks.AnnounceCancel(announcement_id=announcement_id):
            await admin.cancel_button(query, context, announcement_id)
        case None:
            await query.answer(replies.stale_button())
