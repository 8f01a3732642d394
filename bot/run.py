"""``calfbot run`` and ``calfbot db upgrade``: start-up with one clear line per failure."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlparse

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, InvalidToken

from bot.app import build_application
from bot.config import Config, ConfigError, database_url, load_config, read_settings
from bot.content import ContentError, load_catalog
from bot.content.location import default_content_dir
from bot.db.engine import create_engine, describe_url
from bot.db.migrate import upgrade
from bot.handlers.context import BotApplication
from bot.logging_setup import configure_logging, secrets_of_token

log = logging.getLogger(__name__)

# Updates the bot handles; edited messages and others are not even fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def _fail(message: str, code: int = 1) -> int:
    print(f"calfbot: {message}", file=sys.stderr)
    return code


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def migrate_database(url: str) -> int:
    """Apply migrations; one line on failure."""
    try:
        asyncio.run(_migrate(url))
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        return _fail(f"cannot use the database {describe_url(url)}: {type(reason).__name__}: {reason}".splitlines()[0])
    return 0


def db_upgrade() -> int:
    """``calfbot db upgrade``: migrate DATABASE_URL (no token needed)."""
    url = database_url(read_settings())
    code = migrate_database(url)
    if code == 0:
        print(f"database {describe_url(url)} is up to date")
    return code


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
    try:
        catalog = load_catalog(config.content_dir or default_content_dir())
    except ContentError as exc:
        return _fail(f"content is broken, not starting.\n{exc}")
    code = migrate_database(config.database_url)
    if code:
        return code
    app = build_application(config, catalog=catalog, engine=create_engine(config.database_url))
    try:
        _serve(app, config)
    except InvalidToken:
        return _fail("Telegram rejected the bot token (InvalidToken): check TELEGRAM_BOT_TOKEN")
    except Conflict:
        return _fail("another process is already getting this bot's updates (Conflict): stop it first")
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
