"""The composition root: build the Application from Config and wire everything."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from telegram import BotCommand
from telegram.ext import ApplicationBuilder, ContextTypes, ExtBot
from telegram.request import BaseRequest

from bot import handlers
from bot.config import Config
from bot.db.engine import Engine, session_factory
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.domain import Catalog
from bot.faq_search import FaqIndex
from bot.handlers.context import DEPS_KEY, BotApplication, BotContext, Deps
from bot.replies import COMMANDS
from bot.transport import make_request

log = logging.getLogger(__name__)
ENGINE_KEY = "calfbot.delivery"


class CalfBot(ExtBot[None]):
    """PTB's bot, whose repr would show the token (``Bot[token=...]``); this one does not."""

    def __repr__(self) -> str:
        return f"CalfBot[id={self.token.partition(':')[0]}]"


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


def delivery_settings(config: Config) -> DeliverySettings:
    """The engine's settings from the validated config."""
    grace = config.delivery.catchup_grace_minutes
    return DeliverySettings(
        rate=config.delivery.send_rate,
        paid_broadcast=config.delivery.paid_broadcast,
        catchup_grace=timedelta(minutes=grace) if grace is not None else None,
    )


def build_application(
    config: Config,
    *,
    catalog: Catalog,
    engine: Engine,
    clock: Callable[[], datetime] = utc_now,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    deliver: bool = True,
) -> BotApplication:
    """A ready-to-run Application; request objects may be swapped (tests, transports).

    ``deliver=False`` leaves out the scheduled sends (handler tests drive time by hand).
    """
    bot = CalfBot(
        config.token.get(),
        base_url=config.api_base_url,
        # PTB's own defaults: a pool for concurrent replies, one connection for long polling.
        request=request or make_request(config.transport, pool_size=256),
        get_updates_request=get_updates_request or make_request(config.transport, pool_size=1, for_updates=True),
    )
    app: BotApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(lambda _app: engine.dispose())
        .build()
    )
    deps = Deps(
        catalog=catalog,
        faq_index=FaqIndex(catalog),
        sessions=session_factory(engine),
        clock=clock,
        default_send_time=config.default_send_time,
        default_timezone=config.default_timezone,
    )
    app.bot_data[DEPS_KEY] = deps
    if deliver:
        app.bot_data[ENGINE_KEY] = DeliveryEngine(
            sessions=deps.sessions,
            bot=bot,
            catalog=lambda: deps.catalog,
            clock=clock,
            settings=delivery_settings(config),
            on_fatal=lambda _reason: app.stop_running(),
        )
    handlers.register(app)
    return app


def delivery_engine(app: BotApplication) -> DeliveryEngine | None:
    """The app's delivery engine, if it delivers."""
    return _engine_in(app.bot_data)


def _engine_in(bot_data: Mapping[str, object]) -> DeliveryEngine | None:
    engine = bot_data.get(ENGINE_KEY)
    return engine if isinstance(engine, DeliveryEngine) else None


async def _post_init(app: BotApplication) -> None:
    """Publish the command menu; start delivering, catch up, and tick every minute."""
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
    engine = delivery_engine(app)
    if engine is None:
        return
    await engine.start()
    await _tick(engine)  # catch up at once on what came due while the bot was down
    now = datetime.now(UTC)
    first = timedelta(seconds=60 - now.second - now.microsecond / 1e6)
    if app.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    # One tick a minute at second 0. misfire_grace_time=None runs a late tick
    # instead of skipping it; coalesce folds missed ticks into one.
    app.job_queue.run_repeating(
        _tick_job,
        interval=60,
        first=first,
        name="delivery-tick",
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )


async def _tick(engine: DeliveryEngine) -> None:
    try:
        await engine.tick()
    except Exception:
        log.exception("the delivery tick failed; the next one retries")


async def _tick_job(context: BotContext) -> None:
    engine = _engine_in(context.bot_data)
    if engine is not None:
        await _tick(engine)


async def _post_stop(app: BotApplication) -> None:
    """Stop claiming and let in-flight sends finish (SIGTERM, SIGINT)."""
    engine = delivery_engine(app)
    if engine is not None:
        await engine.stop()
