"""A reverse proxy that makes the telegram-test-api emulator look like the real Bot API to PTB.

The bot under test gets ``QuirksAdapter.base_url`` ("http://127.0.0.1:PORT/bot") as its Bot API
``base_url``. The adapter reads each request (JSON, form or multipart body), forwards it as JSON to
the emulator, and repairs what the emulator (telegram-test-api 4.2.1) gets wrong for PTB 22. Each
repair below is marked ``Quirk:`` with what it fixes. Methods the emulator lacks but bots call at
startup or in passing are answered here.

Every method name the bot called is kept in ``calls``, and the commands it set in ``commands``, so
tests can check them.
"""

from __future__ import annotations

import json
import time
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from tests.e2e.emulator import EMULATOR_BOT_USER, HOST, JSONDict, bot_message_from_history

# Parameters whose values PTB sends JSON-encoded in form bodies; every other value stays a string
# (a text of "123" must not turn into a number).
JSON_PARAMETERS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "message_ids",
        "reply_markup",
        "reply_parameters",
        "results",
        "scope",
    }
)
EDITS = frozenset({"editmessagetext", "editmessagereplymarkup"})
# Quirk: these answer `result: null`; the Bot API answers True.
NULL_MEANS_TRUE = frozenset({"answercallbackquery", "deletemessage", "setwebhook"})
# Quirk: dates are milliseconds (JavaScript's Date.now()); no real date in seconds reaches 10**11.
DATE_FIELDS = frozenset({"date", "edit_date", "forward_date"})
MILLISECONDS_FROM = 10**11


class _BadRequest(Exception):
    """A request the adapter refuses, with the Bot API-style description."""


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)


def _chat_id(params: JSONDict) -> int | str | None:
    value = params.get("chat_id")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None if value is None else str(value)


def _in_seconds(value: Any) -> Any:
    """``value`` with every millisecond date inside it (at any depth) turned into seconds."""
    if isinstance(value, list):
        return [_in_seconds(item) for item in value]
    if isinstance(value, dict):
        return {
            key: item // 1000
            if key in DATE_FIELDS and isinstance(item, int) and item >= MILLISECONDS_FROM
            else _in_seconds(item)
            for key, item in value.items()
        }
    return value


def _bot_message(
    *,
    message_id: int,
    chat_id: Any,
    date: int,
    text: Any,
    reply_markup: Any = None,
    entities: Any = None,
    edit_date: int | None = None,
) -> JSONDict:
    """A Bot API Message the bot sent, built from what the emulator keeps of it.

    Quirk: the emulator answers sendMessage with the bot's own parameters echoed into the message
    (``chat_id``, ``parse_mode``, ``link_preview_options`` as a JSON string that PTB cannot parse,
    ...), with no ``from`` and with a millisecond ``date``; edits answer null. This builds a clean one.
    """
    message: JSONDict = {
        "message_id": message_id,
        "from": EMULATOR_BOT_USER,
        "chat": {"id": chat_id, "type": "private"},
        "date": date // 1000 if date >= MILLISECONDS_FROM else date,
        "text": "" if text is None else str(text),
    }
    if edit_date is not None:
        message["edit_date"] = edit_date
    if isinstance(entities, list) and entities:
        message["entities"] = entities
    if isinstance(reply_markup, dict) and reply_markup.get("inline_keyboard"):
        message["reply_markup"] = reply_markup  # only inline keyboards come back on a Message
    return message


def _fix_update(update: JSONDict) -> JSONDict:
    message = update.get("message")
    if isinstance(message, dict):
        # Quirk: a user's message is stored as the client's request body, bot token included.
        message.pop("botToken", None)
    query = update.get("callback_query")
    if isinstance(query, dict) and "chat_instance" not in query:
        # Quirk: callback queries have no chat_instance, which PTB's CallbackQuery requires; Telegram
        # sends one stable value per chat, so the chat id will do.
        chat = (query.get("message") or {}).get("chat") or {}
        query["chat_instance"] = str(chat.get("id", "emulator"))
    return update


async def _read_params(request: web.Request) -> JSONDict:
    """The request's parameters from its query string and its JSON, form or multipart body."""
    params: JSONDict = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise _BadRequest("Bad Request: the JSON body must be an object")
        params.update(body)
        return params
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise _BadRequest(f"Bad Request: unsupported Content-Type {request.content_type}")
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            # Quirk: the emulator parses no multipart bodies (a multipart sendMessage "succeeds" with
            # an empty message) and has no media methods to upload files to.
            raise _BadRequest(f"Bad Request: file uploads ({key}) are not supported by the telegram-test-api emulator")
        params[key] = value
    for key in JSON_PARAMETERS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise _BadRequest(f"Bad Request: can't parse {key} JSON object") from None
    return params


def _emulator_failure(method_name: str, status: int, body: Any) -> web.Response | None:
    """The Bot API error response for an emulator failure, or None if the emulator answered ok."""
    if not isinstance(body, dict):
        return _error(502, f"Bad Gateway: the emulator answered {status} {body!r}")
    if "ok" not in body:
        # Quirk: emulator errors are HTTP 500 {"message": ...}, unknown methods included; PTB wants
        # {"ok": false, "description": ...}, and its BadRequest reads better than NetworkError.
        description = str(body.get("message") or body)
        if "is not supported" in description:
            description = f"method {method_name} is not implemented by the telegram-test-api emulator"
        return _error(400, f"Bad Request: {description}")
    if body["ok"] is not True:
        # Quirk: failures (deleteMessage's) come with HTTP 200; PTB goes by the HTTP status.
        return web.json_response(body, status=int(body.get("error_code") or 400))
    return None


class QuirksAdapter:
    """The reverse proxy between the bot (PTB) and the emulator, on 127.0.0.1 and a free port."""

    def __init__(self, emulator_url: str) -> None:
        self.emulator_url = emulator_url.rstrip("/")
        self.port: int | None = None
        self.calls: list[str] = []  # Bot API method names, in the order the bot called them
        # setMyCommands answered here: (scope as JSON, language_code) -> commands
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        """The Bot API base URL for the bot: ``ApplicationBuilder().base_url(adapter.base_url)``."""
        if self.port is None:
            raise RuntimeError("the quirks adapter is not running")
        return f"http://{HOST}:{self.port}/bot"

    def commands_for(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The commands the bot set for this scope (default: the default scope) and language."""
        return self.commands.get(self._commands_key({"scope": scope, "language_code": language_code}), [])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, "Not Found")

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return (json.dumps(scope, sort_keys=True), str(params.get("language_code") or ""))

    def _answer_locally(self, method: str, params: JSONDict) -> tuple[bool, Any]:
        """(True, result) for the methods answered here, (False, None) for those to forward.

        Quirk: the emulator answers HTTP 500 "not supported" to all of these.
        """
        key = self._commands_key(params)
        match method:
            case "setmycommands":
                self.commands[key] = list(params.get("commands") or [])
                result: Any = True
            case "deletemycommands":
                self.commands.pop(key, None)
                result = True
            case "getmycommands":
                result = self.commands.get(key, [])
            case "sendchataction":
                result = True
            case "getwebhookinfo":
                result = {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
            case _ if method in EDITS and "inline_message_id" in params:
                result = True  # the emulator has no inline messages; the Bot API answers True for them
            case _:
                return False, None
        return True, result

    async def _emulator(self, token: str, method: str, params: JSONDict) -> tuple[int, Any]:
        """Forward a Bot API call to the emulator; (HTTP status, parsed JSON or raw text)."""
        assert self._session is not None
        # Quirk: the emulator parses JSON and url-encoded bodies but not multipart ones (it takes
        # them as empty), so whatever PTB sent goes on as JSON.
        async with self._session.post(f"{self.emulator_url}/bot{token}/{method}", json=params) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def _stored_bot_message(self, token: str, params: JSONDict) -> JSONDict | None:
        """The emulator's record of the bot message that ``params`` (chat_id, message_id) point at."""
        assert self._session is not None
        async with self._session.post(f"{self.emulator_url}/getUpdatesHistory", json={"token": token}) as response:
            history = (await response.json()).get("result") or []
        for entry in history:
            message = bot_message_from_history(entry)
            if (
                message is not None
                and str(message.message_id) == str(params.get("message_id"))
                and str(message.chat_id) == str(params.get("chat_id"))
            ):
                return _bot_message(
                    message_id=message.message_id,
                    chat_id=message.chat_id,
                    date=message.date,
                    text=message.text,
                    reply_markup=message.reply_markup,
                    entities=entry["message"].get("entities"),
                    edit_date=int(time.time()),
                )
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method_name = request.match_info["method"]
        method = method_name.lower()  # Bot API method names are case-insensitive
        self.calls.append(method_name)
        try:
            params = await _read_params(request)
            answered, result = self._answer_locally(method, params)
            if not answered:
                await self._before_forwarding(token, method, params)
        except _BadRequest as refusal:
            return _error(400, str(refusal))
        if answered:
            return _ok(result)

        status, body = await self._emulator(token, method_name, params)
        failure = _emulator_failure(method_name, status, body)
        if failure is not None:
            return failure
        result = await self._fix_result(method, token, params, body.get("result"))
        return _ok(_in_seconds(result))

    async def _before_forwarding(self, token: str, method: str, params: JSONDict) -> None:
        if method in EDITS:
            # Quirk: an edit without reply_markup keeps the old inline keyboard in the emulator;
            # Telegram drops it. An empty keyboard makes the emulator drop it too.
            params.setdefault("reply_markup", {"inline_keyboard": []})
            # Quirk: the emulator answers ok to edits of messages that do not exist.
            if await self._stored_bot_message(token, params) is None:
                raise _BadRequest("Bad Request: message to edit not found")
        if method == "setwebhook":
            self.webhook_url = str(params.get("url") or "")
        elif method == "deletewebhook":
            self.webhook_url = ""

    async def _fix_result(self, method: str, token: str, params: JSONDict, result: Any) -> Any:
        if method == "getme":
            # Quirk: getMe has no is_bot (PTB's User requires it) nor the bot-only fields.
            return {**EMULATOR_BOT_USER, **(result or {}), "is_bot": True}
        if method == "getupdates":
            return [_fix_update(update) for update in result or []]
        if method == "sendmessage":
            return _bot_message(
                message_id=int(result["message_id"]),
                chat_id=_chat_id(params),
                date=int(result["date"]),
                text=result.get("text"),
                reply_markup=result.get("reply_markup"),
                entities=params.get("entities"),
            )
        if method in EDITS:
            # Quirk: edits answer `result: null`; the Bot API answers the edited Message.
            return await self._stored_bot_message(token, params) or True
        if method in NULL_MEANS_TRUE and result is None:
            return True
        return result
