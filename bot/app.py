"""The composition root: build the Application from Config and wire everything."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, ExtBot
from telegram.request import BaseRequest

from bot import handlers
from bot.admin_replies import ADMIN_COMMANDS
from bot.config import Config
from bot.content import ContentError, load_catalog
from bot.content.location import default_content_dir
from bot.db.engine import Engine, session_factory
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.domain import Catalog
from bot.faq_search import FaqIndex
from bot.handlers.context import DEPS_KEY, BotApplication, BotContext, Deps
from bot.health import HealthServer
from bot.heap import freeze_startup_objects
from bot.metrics import Metrics
from bot.replies import COMMANDS
from bot.transport import make_request

log = logging.getLogger(__name__)
ENGINE_KEY = "calfbot.delivery"
HEALTH_KEY = "calfbot.health"
CONFIG_KEY = "calfbot.config"
REPLY_CONNECTIONS = 64


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
        # A connection for every delivery worker and some for replies: a send
        # that waited for a connection would leave later than the pacer said.
        request=request
        or make_request(config.transport, pool_size=delivery_settings(config).workers() + REPLY_CONNECTIONS),
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
    sessions = session_factory(engine)
    metrics = Metrics()
    delivery = (
        DeliveryEngine(
            sessions=sessions,
            bot=bot,
            # Read at each claim: a content reload reaches the next messages.
            catalog=lambda: current_deps(app).catalog,
            clock=clock,
            settings=delivery_settings(config),
            on_fatal=lambda _reason: app.stop_running(),
            metrics=metrics,
        )
        if deliver
        else None
    )
    app.bot_data[DEPS_KEY] = Deps(
        catalog=catalog,
        faq_index=FaqIndex(catalog),
        sessions=sessions,
        clock=clock,
        default_send_time=config.default_send_time,
        default_timezone=config.default_timezone,
        admin_ids=config.admin_ids,
        announce=(lambda: _announce(app, delivery)) if delivery is not None else (lambda: None),
    )
    app.bot_data[CONFIG_KEY] = config
    if delivery is not None:
        app.bot_data[ENGINE_KEY] = delivery
    if config.http is not None:
        app.bot_data[HEALTH_KEY] = HealthServer(
            host=config.http.host,
            port=config.http.port,
            sessions=sessions,
            engine=delivery,
            metrics=metrics,
            clock=clock,
        )
    handlers.register(app, admin_ids=config.admin_ids)
    return app


def current_deps(app: BotApplication) -> Deps:
    """The dependencies handlers see now (a content reload replaces them)."""
    deps = app.bot_data[DEPS_KEY]
    if not isinstance(deps, Deps):
        raise RuntimeError("the application was built without calfbot's dependencies")
    return deps


def _announce(app: BotApplication, delivery: DeliveryEngine) -> None:
    async def enqueue() -> None:
        try:
            await delivery.enqueue_announcements()
        except Exception:
            log.exception("creating announcement deliveries failed; the next tick resumes")

    app.create_task(enqueue(), name="announce")


async def reload_content(app: BotApplication) -> str | None:
    """Load and validate the content again; swap it in only if it is sound.

    Returns None on success, else the problems (the old content keeps running).
    """
    config = app.bot_data.get(CONFIG_KEY)
    directory = (config.content_dir if isinstance(config, Config) else None) or default_content_dir()
    try:
        catalog = await asyncio.to_thread(load_catalog, directory)
    except ContentError as exc:
        log.error("content reload failed; the bot keeps the content it had:\n%s", exc)
        return str(exc)
    index = await asyncio.to_thread(FaqIndex, catalog)
    app.bot_data[DEPS_KEY] = dataclasses.replace(current_deps(app), catalog=catalog, faq_index=index)
    log.info("content reloaded from %s: %d exercises", directory, len(catalog.exercises))
    freeze_startup_objects()
    return None


def delivery_engine(app: BotApplication) -> DeliveryEngine | None:
    """The app's delivery engine, if it delivers."""
    return _engine_in(app.bot_data)


def _engine_in(bot_data: Mapping[str, object]) -> DeliveryEngine | None:
    engine = bot_data.get(ENGINE_KEY)
    return engine if isinstance(engine, DeliveryEngine) else None


async def _post_init(app: BotApplication) -> None:
    """Publish the command menus; serve health; start delivering, catch up, and tick every minute."""
    await _publish_commands(app)
    _on_sighup(app, install=True)
    health = app.bot_data.get(HEALTH_KEY)
    if isinstance(health, HealthServer):
        await health.start()
    # Everything alive now lives as long as the process: keep full collections off it.
    freeze_startup_objects()
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


async def _publish_commands(app: BotApplication) -> None:
    """Everyone's command menu; admins also see theirs, in their own chat only."""
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
    for admin_id in sorted(current_deps(app).admin_ids):
        try:
            await app.bot.set_my_commands(
                [BotCommand(name, description) for name, description in (*COMMANDS, *ADMIN_COMMANDS)],
                scope=BotCommandScopeChat(admin_id),
            )
        except TelegramError as exc:
            # An admin who never opened a chat with the bot: the commands still work once they do.
            log.warning("could not show admin commands to %s (%s); they work anyway", admin_id, exc)


def _on_sighup(app: BotApplication, *, install: bool) -> None:
    """SIGHUP reloads the content (``systemctl reload calfbot``, ``calfbot reload-content``)."""
    loop = asyncio.get_running_loop()
    try:
        if install:
            loop.add_signal_handler(signal.SIGHUP, lambda: app.create_task(reload_content(app), name="reload"))
        else:
            loop.remove_signal_handler(signal.SIGHUP)
    except (NotImplementedError, RuntimeError, ValueError):
        # No signals here (not the main thread, or not Unix): reload-content needs a restart then.
        log.debug("SIGHUP handling unavailable in this thread")


async def _post_stop(app: BotApplication) -> None:
    """Stop claiming and let in-flight sends finish (SIGTERM, SIGINT); stop serving health."""
    _on_sighup(app, install=False)
    engine = delivery_engine(app)
    if engine is not None:
        await engine.stop()
    health = app.bot_data.get(HEALTH_KEY)
    if isinstance(health, HealthServer):
        await health.stop()
