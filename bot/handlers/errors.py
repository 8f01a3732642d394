"""The last resort: log an unexpected exception with context, tell the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from bot import replies
from bot.handlers.context import BotContext, send

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log what failed (ids only, never message text) and apologise in the chat."""
    error = context.error
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        where = f"update {update.update_id} in chat {chat}"
    else:
        update, where = None, "outside an update"
    if isinstance(error, Forbidden):
        # The user blocked the bot between their message and our reply.
        log.info("could not reply %s: %s", where, error)
        return
    if isinstance(error, NetworkError):
        # Polling and replies retry on their own; one line, no traceback.
        log.warning("network problem %s: %s", where, error)
        return
    log.error("unexpected error %s", where, exc_info=error)
    if update is not None:
        try:
            await send(update, context, replies.error())
        except TelegramError as exc:
            log.warning("could not tell chat about the error: %s", exc)
