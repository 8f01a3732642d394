"""A real calfbot Application polling the fake Bot API server over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_application
from bot.config import load_config
from bot.domain import Catalog
from bot.handlers.context import BotApplication
from bot.transport import DEFAULT_TRANSPORT, Transport
from tests.fakes.bot_api_server import FakeBotApi, RecordedRequest

CHAT = 1001


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    """The fake server, the running app, and the clock they share."""

    api: FakeBotApi
    app: BotApplication
    clock: FakeClock

    async def say(self, text: str, *, chat_id: int = CHAT, replies: int = 1, **kwargs: Any) -> list[RecordedRequest]:
        """Send a message as the user; return the bot's ``replies`` messages to that chat."""
        return await self.push(self.api.user_message(chat_id, text, **kwargs), chat_id=chat_id, replies=replies)

    async def push(self, update: dict[str, Any], *, chat_id: int = CHAT, replies: int = 1) -> list[RecordedRequest]:
        """Push any update; wait for ``replies`` sendMessage requests to ``chat_id``."""
        mark = self.api.mark()
        self.api.push_update(update)
        found: list[RecordedRequest] = []
        for _ in range(replies):
            after = self.api.requests.index(found[-1]) + 1 if found else mark
            found.append(await self.api.wait_for("sendMessage", predicate=lambda r: r.chat_id == chat_id, after=after))
        return found

    async def settle(self, *, chat_id: int = CHAT) -> int:
        """Wait until every pushed update was handled; return the request mark before the probe.

        Updates are handled one at a time in order, so when a /help sent
        now is answered, everything pushed before it is done.
        """
        mark = self.api.mark()
        await self.say("/help", chat_id=chat_id)
        return mark

    async def press(self, message: RecordedRequest, data: str, *, chat_id: int = CHAT) -> RecordedRequest:
        """Press a button of a bot message; return the answerCallbackQuery request."""
        message_id = int(message.result["message_id"])
        mark = self.api.mark()
        self.api.push_update(self.api.callback_query(chat_id, data, message_id=message_id))
        return await self.api.wait_for("answerCallbackQuery", after=mark)

    async def tap(self, message: RecordedRequest, data: str, *, chat_id: int = CHAT) -> RecordedRequest:
        """Press a button that answers with a new message; return that message."""
        mark = self.api.mark()
        await self.press(message, data, chat_id=chat_id)
        return await self.api.wait_for("sendMessage", predicate=lambda r: r.chat_id == chat_id, after=mark)


@asynccontextmanager
async def running_bot(
    catalog: Catalog,
    engine: AsyncEngine,
    clock: FakeClock,
    *,
    transport: Transport = DEFAULT_TRANSPORT,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Harness]:
    """Start the fake server and a polling calfbot against it (over ``transport``, ``settings``: more environment)."""
    async with FakeBotApi() as api:
        environ = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "CALFBOT_TELEGRAM_TRANSPORT": transport,
            **(settings or {}),
        }
        config = load_config(environ, env_file=None)
        app = build_application(config, catalog=catalog, engine=engine, clock=clock, deliver=False)
        # What run_polling does, minus signal handling and the blocking loop.
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield Harness(api, app, clock)
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


def buttons(request: RecordedRequest) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button in a sent message."""
    markup = request.params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]
