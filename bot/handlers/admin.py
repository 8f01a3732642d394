"""Admin commands: ``/admin`` figures and ``/announce`` with a confirm button.

The commands are registered only for ``ADMIN_IDS``: anybody else gets the
unknown-command reply, and a forged announce button the stale-button toast,
so nothing tells a non-admin these features exist.
"""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import admin_replies, replies
from bot.db import announcements
from bot.db.admin import admin_figures
from bot.handlers.context import BotContext, send
from bot.render import Reply, telegram_length

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
_COMMAND = re.compile(r"^/announce(@\w+)?\s*", re.IGNORECASE)


async def admin(update: Update, context: BotContext) -> None:
    """Subscribers, today's deliveries, sessions logged, the last tick and the last announcement."""
    now = context.deps.clock()
    async with context.deps.sessions() as session:
        figures = await admin_figures(session, today=now.date())
    await send(update, context, admin_replies.report(figures, now))


async def announce(update: Update, context: BotContext) -> None:
    """Store a draft, show it exactly as subscribers will see it, and ask to confirm."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    plain = _COMMAND.sub("", message.text or "", count=1).strip()
    if not plain:
        await send(update, context, admin_replies.announce_usage())
        return
    if telegram_length(plain) > MAX_MESSAGE:
        await send(update, context, admin_replies.announce_too_long(telegram_length(plain), MAX_MESSAGE))
        return
    # The admin's formatting (bold, links) is kept: Telegram hands it back as HTML.
    html = _COMMAND.sub("", message.text_html, count=1).strip()
    async with context.deps.sessions.begin() as session:
        draft = await announcements.create_draft(session, text=html, admin_id=user.id, now=context.deps.clock())
    if draft.recipients == 0:
        await send(update, context, admin_replies.announce_nobody())
        return
    await send(update, context, Reply(html))
    await send(update, context, admin_replies.announce_confirm(draft))


def _is_admin(query: CallbackQuery, context: BotContext) -> bool:
    return query.from_user is not None and query.from_user.id in context.deps.admin_ids


async def send_button(query: CallbackQuery, context: BotContext, announcement_id: int) -> None:
    """Confirm a draft: its ledger rows are created and the delivery workers send them."""
    if not _is_admin(query, context):
        await query.answer(replies.stale_button())
        return
    async with context.deps.sessions.begin() as session:
        confirmed = await announcements.confirm(session, announcement_id, now=context.deps.clock())
    if not confirmed:
        await query.answer(admin_replies.announce_settled())
        return
    log.info("admin %s confirmed announcement %s", query.from_user.id, announcement_id)
    await query.answer()
    context.deps.announce()
    await _edit(query, admin_replies.announce_started(announcement_id))


async def cancel_button(query: CallbackQuery, context: BotContext, announcement_id: int) -> None:
    """Drop a draft."""
    if not _is_admin(query, context):
        await query.answer(replies.stale_button())
        return
    async with context.deps.sessions.begin() as session:
        cancelled = await announcements.cancel(session, announcement_id)
    if not cancelled:
        await query.answer(admin_replies.announce_settled())
        return
    await query.answer()
    await _edit(query, admin_replies.announce_cancelled())


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    try:
        await query.edit_message_text(reply.text, parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        # The confirm message is gone or unchanged: the decision is what matters.
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise
