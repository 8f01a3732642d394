"""What every handler gets: typed dependencies and helpers to reply.

Dependencies live on a custom CallbackContext (PTB's own dependency
injection), so handlers stay plain ``async def f(update, context)`` functions
and nothing reaches for a global or the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, ExtBot

from bot.db.engine import SessionFactory
from bot.db.queries import SubscriberInfo, get_subscriber
from bot.domain import Catalog
from bot.faq_search import FaqIndex
from bot.keyboards import markup
from bot.render import Reply
from bot.replies import not_subscribed
from bot.timezones import local_now

DEPS_KEY = "calfbot.deps"


@dataclass(frozen=True, slots=True)
class Deps:
    """The services handlers use, built once by the composition root."""

    catalog: Catalog
    faq_index: FaqIndex
    sessions: SessionFactory
    clock: Callable[[], datetime]
    default_send_time: time
    default_timezone: str
    admin_ids: frozenset[int] = frozenset()
    # Start delivering confirmed announcements now (the delivery engine's hook).
    announce: Callable[[], None] = lambda: None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context with calfbot's dependencies."""

    @property
    def deps(self) -> Deps:
        deps = self.bot_data.get(DEPS_KEY)
        if not isinstance(deps, Deps):
            raise RuntimeError("the application was built without calfbot's dependencies")
        return deps

    def local_today(self, subscriber: SubscriberInfo) -> date:
        """The subscriber's calendar date right now."""
        return local_now(self.deps.clock(), subscriber.timezone).date()


# The bot type is left open: the composition root uses a subclass of ExtBot.
BotApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


async def send_to(context: BotContext, chat_id: int, reply: Reply) -> Message:
    """Send a reply to a chat."""
    return await context.bot.send_message(
        chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup(reply.keyboard)
    )


async def send(update: Update, context: BotContext, reply: Reply) -> Message | None:
    """Send a reply to the chat an update came from."""
    chat = update.effective_chat
    return None if chat is None else await send_to(context, chat.id, reply)


async def subscriber_or_prompt(update: Update, context: BotContext) -> SubscriberInfo | None:
    """The chat's subscriber; if the chat never subscribed, tell it to /start and return None."""
    chat = update.effective_chat
    if chat is None:
        return None
    async with context.deps.sessions() as session:
        subscriber = await get_subscriber(session, chat.id)
    if subscriber is None:
        await send_to(context, chat.id, not_subscribed())
    return subscriber
