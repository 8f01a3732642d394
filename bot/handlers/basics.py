"""/help, unknown commands, group chats and membership changes."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot import replies
from bot.db import queries
from bot.handlers.context import BotContext, send

log = logging.getLogger(__name__)


async def help_command(update: Update, context: BotContext) -> None:
    """Explain the bot and list every command."""
    await send(update, context, replies.help_text())


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not have."""
    await send(update, context, replies.unknown_command())


async def group_command(update: Update, context: BotContext) -> None:
    """Point people who use a command in a group to the private chat."""
    await send(update, context, replies.private_only(context.bot.username))


async def membership(update: Update, context: BotContext) -> None:
    """A user who blocks the bot (or leaves) stops being an active subscriber."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        async with context.deps.sessions.begin() as session:
            known = await queries.set_active(session, change.chat.id, active=False, blocked_at=context.deps.clock())
        if known:
            log.info("chat %s blocked the bot: subscriber made inactive", change.chat.id)
