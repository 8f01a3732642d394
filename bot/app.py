"""The composition root: build the Application from Config and wire everything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from telegram import BotCommand
from telegram.ext import ApplicationBuilder, ContextTypes, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot import handlers
from bot.config import Config
from bot.db.engine import Engine, session_factory
from bot.domain import Catalog
from bot.faq_search import FaqIndex
from bot.handlers.context import DEPS_KEY, BotApplication, BotContext, Deps
from bot.replies import COMMANDS


class CalfBot(ExtBot[None]):
    """PTB's bot, whose repr would show the token (``Bot[token=...]``); this one does not."""

    def __repr__(self) -> str:
        return f"CalfBot[id={self.token.partition(':')[0]}]"


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


def build_application(
    config: Config,
    *,
    catalog: Catalog,
    engine: Engine,
    clock: Callable[[], datetime] = utc_now,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """A ready-to-run Application; request objects may be swapped (tests, transports)."""
    bot = CalfBot(
        config.token.get(),
        base_url=config.api_base_url,
        # PTB's own defaults: a pool for concurrent replies, one connection for long polling.
        request=request or HTTPXRequest(connection_pool_size=256),
        get_updates_request=get_updates_request or HTTPXRequest(),
    )
    app: BotApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_shutdown(lambda _app: engine.dispose())
        .build()
    )
    app.bot_data[DEPS_KEY] = Deps(
        catalog=catalog,
        faq_index=FaqIndex(catalog),
        sessions=session_factory(engine),
        clock=clock,
        default_send_time=config.default_send_time,
        default_timezone=config.default_timezone,
    )
    handlers.register(app)
    return app


async def _post_init(app: BotApplication) -> None:
    """Publish the command menu, so Telegram clients suggest the commands."""
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
