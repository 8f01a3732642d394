"""``calfbot run`` and ``calfbot db upgrade``: start-up with one clear line per failure."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlparse

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, TelegramError

from bot.app import build_application, delivery_engine
from bot.config import Config, ConfigError, database_url, load_config, read_settings
from bot.content import ContentError, load_catalog
from bot.content.location import default_content_dir
from bot.db.engine import create_engine, describe_url
from bot.db.migrate import DatabaseError, upgrade_url
from bot.domain import Catalog
from bot.handlers.context import BotApplication
from bot.instance import AlreadyRunning, InstanceLock
from bot.logging_setup import REDACTED, configure_logging, secrets_of_token

log = logging.getLogger(__name__)

# Updates the bot handles; edited messages and others are not even fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def _fail(message: str, code: int = 1) -> int:
    print(f"calfbot: {message}", file=sys.stderr)
    return code


def _migration_problem(url: str) -> str | None:
    """Apply migrations; the one-line reason on failure."""
    try:
        asyncio.run(upgrade_url(url))
    except DatabaseError as exc:
        return str(exc)
    return None


async def _check_telegram(config: Config) -> str | None:
    """One getMe before starting: a rejected token or an unreachable API is one line, not a traceback."""
    token = config.token.get()
    try:
        async with Bot(token, base_url=config.api_base_url):
            return None
    except InvalidToken:
        return "Telegram rejected the bot token (InvalidToken): check TELEGRAM_BOT_TOKEN"
    except TelegramError as exc:
        reason = str(exc).replace(token, REDACTED)
        return f"cannot reach the Telegram Bot API at {config.api_base_url}: {type(exc).__name__}: {reason}"


def db_upgrade() -> int:
    """``calfbot db upgrade``: migrate DATABASE_URL (no token needed)."""
    url = database_url(read_settings())
    problem = _migration_problem(url)
    if problem:
        return _fail(problem)
    print(f"database {describe_url(url)} is up to date")
    return 0


def _prepare(config: Config) -> Catalog | str:
    """Content, database and token checks, in that order: the catalog, or why not to start."""
    try:
        catalog = load_catalog(config.content_dir or default_content_dir())
    except ContentError as exc:
        return f"content is broken, not starting.\n{exc}"
    problem = _migration_problem(config.database_url) or asyncio.run(_check_telegram(config))
    return problem or catalog


def run() -> int:
    """``calfbot run``: validate everything, migrate, then poll or serve the webhook."""
    try:
        config = load_config()
    except ConfigError as exc:
        return _fail(str(exc), 2)
    secrets = secrets_of_token(config.token.get())
    if config.webhook and config.webhook.secret:
        secrets.append(config.webhook.secret.get())
    configure_logging(config.log_level, secrets)
    # One bot per data directory: a second one would double every delivery.
    lock = InstanceLock(config.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        return _fail(f"{exc}: stop it first")
    except OSError as exc:
        return _fail(f"cannot use the data directory {config.data_dir}: {exc.strerror}")
    try:
        return _start(config)
    finally:
        lock.release()


def _start(config: Config) -> int:
    prepared = _prepare(config)
    if isinstance(prepared, str):
        return _fail(prepared)
    app = build_application(config, catalog=prepared, engine=create_engine(config.database_url))
    try:
        _serve(app, config)
        engine = delivery_engine(app)
        if engine is not None and engine.fatal:
            return _fail(engine.fatal)
    except InvalidToken:
        return _fail("Telegram rejected the bot token (InvalidToken): check TELEGRAM_BOT_TOKEN")
    except Conflict:
        return _fail("another process is already getting this bot's updates (Conflict): stop it first")
    except OSError as exc:
        # The health endpoint's port is taken, say.
        return _fail(str(exc))
    return 0


def _serve(app: BotApplication, config: Config) -> None:
    log.info("calfbot starting (%s)", "webhook" if config.webhook else "polling")
    if config.webhook is None:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
        return
    webhook = config.webhook
    app.run_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=urlparse(webhook.url).path.lstrip("/"),
        webhook_url=webhook.url,
        secret_token=webhook.secret.get() if webhook.secret else None,
        allowed_updates=ALLOWED_UPDATES,
    )
