"""An in-process fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

Point a real python-telegram-bot ``Bot``/``Application`` at it::

    async with FakeBotApi() as fake:
        app = (
            ApplicationBuilder().token(fake.token).base_url(fake.base_url)
            .request(fast_request()).get_updates_request(fast_request()).build()
        )
        ...  # app.initialize(), app.start(), app.updater.start_polling(poll_interval=0.0, timeout=1)
        mark = fake.mark()
        fake.push_update(fake.user_message(42, "/start"))  # or fake.say(42, "/start")
        reply = await fake.wait_for("sendMessage", predicate=lambda r: r.chat_id == 42, after=mark)
        fake.add_fault(forbidden_for([42]))  # see tests.fakes.bot_api_faults

``fast_request()`` is optional: it builds the client of the backend the test runs on
(``using_transport``) and saves the ~50 ms a plain ``HTTPXRequest`` spends loading CA
certificates. A 429 from the fake makes PTB 22 build ``RetryAfter``, which
warns (PTBDeprecationWarning) unless ``PTB_TIMEDELTA=true`` is set; under
``filterwarnings=error`` the warning replaces the exception.

What the server does:

* routes ``/bot{token}/{method}`` (method names case-insensitive); a wrong token is
  401, an unknown method 404, both as Bot API error objects;
* reads parameters from the query string and from JSON, urlencoded or multipart
  bodies. PTB 22 POSTs ``application/x-www-form-urlencoded`` (``multipart/form-data``
  when it uploads a file) where every non-string value is JSON-encoded (``chat_id=42``,
  ``reply_markup={"inline_keyboard": ...}``, ``disable_notification=true``); such
  values are decoded back, while known free-text parameters (``text``, ``caption``...)
  stay strings;
* answers the methods a bot needs (see ``FakeBotApi._methods``) in Telegram's shapes, keeps the
  bot's messages per chat in ``messages`` and long-polls ``getUpdates``;
* records every request in ``requests`` (a :class:`RecordedRequest`, appended when the
  request arrives, before any latency, slow reply or long-poll wait);
* injects faults from rules (:mod:`tests.fakes.bot_api_faults`) and can stop listening
  and come back on the same port (``go_down``/``come_back``).

Deviations from Telegram, on purpose: every update type is delivered unless
``getUpdates`` names ``allowed_updates`` (Telegram hides ``chat_member`` and reactions by
default); message text is stored as sent (HTML/Markdown is not parsed, no entities come
back); ``editMessageText`` without ``reply_markup`` drops the inline keyboard (as Telegram does);
``deleteMessage`` always succeeds. State changes (a stored message) happen before
the reply is delayed, so a client that times out on a slow reply has still "sent" it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, MultipartReader, web
from telegram.request import BaseRequest, HTTPXRequest

from bot.transport import DEFAULT_TRANSPORT, AiohttpRequest, Transport
from tests.fakes.bot_api_faults import (
    ANY_METHOD,
    Call,
    Fault,
    FaultRule,
    Rule,
    chat_not_found_for,
    conflict,
    disconnect_for,
    forbidden_for,
    migrate,
    retry_after_every,
    retry_after_for,
    server_error_burst,
    slow_for,
    when,
)

__all__ = [
    "ANY_METHOD",
    "DEFAULT_TOKEN",
    "BotMessage",
    "Call",
    "FakeBotApi",
    "Fault",
    "FaultRule",
    "RecordedRequest",
    "Rule",
    "UploadedFile",
    "chat_not_found_for",
    "conflict",
    "disconnect_for",
    "fast_request",
    "forbidden_for",
    "migrate",
    "retry_after_every",
    "retry_after_for",
    "server_error_burst",
    "slow_for",
    "using_transport",
    "when",
]

DEFAULT_TOKEN: Final = "123456789:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"  # fake, well-formed
DEFAULT_USER_ID: Final = 4242
"""The sender of pushed group messages when no ``user_id`` is given."""

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
MAX_TEXT: Final = 4096

# Parameters that are free text (or file ids/URLs): never JSON-decoded, so a text
# "123" or "true" stays a string.
_STRING_PARAMS: Final = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "inline_query_id",
        "url",
        "secret_token",
        "ip_address",
        "title",
        "description",
        "short_description",
        "name",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "custom_emoji_id",
        "query",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "address",
        "question",
        "payload",
        "provider_token",
        "currency",
        "start_parameter",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "custom_title",
        "invite_link",
        "sticker_set_name",
        "data",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
    ]
)
_JSON_START: Final = frozenset('{["-0123456789')
_JSON_WORDS: Final = frozenset({"true", "false", "null"})
_COMMAND: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_SUPERGROUP_BELOW: Final = -1_000_000_000_000
_JSON_TYPE: Final = "application/json"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it when it arrived.

    ``method`` is the canonical name for known methods (``"sendMessage"``), else as
    requested. ``fault`` names the injected fault, if any. ``ok``/``status`` are the
    answer decided on arrival (a slow fault is ``ok``; a ``getUpdates`` is recorded
    ``ok`` before its long poll). ``result`` is the ``result`` of a successful answer,
    e.g. the Message dict of a ``sendMessage`` (``None`` for ``getUpdates``).
    """

    method: str
    params: dict[str, Any]
    at: float
    chat_id: int | None
    fault: str | None = None
    ok: bool = True
    status: int = 200
    result: Any = None

    @property
    def text(self) -> str | None:
        """The ``text`` parameter, if a string."""
        text = self.params.get("text")
        return text if isinstance(text, str) else None


@dataclass(slots=True)
class BotMessage:
    """A message the bot sent, as it currently is (after edits)."""

    chat: dict[str, Any]
    message_id: int
    date: int
    text: str | None
    reply_markup: dict[str, Any] | None
    sender: dict[str, Any]
    parse_mode: str | None = None
    edit_date: int | None = None
    versions: list[str | None] = field(default_factory=list)
    """Texts before each edit, oldest first."""

    @property
    def chat_id(self) -> int:
        chat_id: int = self.chat["id"]
        return chat_id

    def to_dict(self) -> dict[str, Any]:
        """The Bot API Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message["text"] = self.text
        if self.reply_markup is not None:
            message["reply_markup"] = self.reply_markup
        return message


_TLS: ssl.SSLContext | None = None
_transport: Transport = DEFAULT_TRANSPORT


@contextmanager
def using_transport(transport: Transport) -> Iterator[None]:
    """Inside the block, ``fast_request()`` builds ``transport``'s client (the ``transport`` fixture does this)."""
    global _transport  # noqa: PLW0603  # the suite's current backend, set per test
    before, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = before


def fast_request(
    *,
    read_timeout: float | None = 5.0,
    connect_timeout: float | None = 1.0,
    pool_timeout: float | None = 1.0,
    connection_pool_size: int = 1,
    transport: Transport | None = None,
) -> BaseRequest:
    """A PTB request object for talking to the fake: cheap to make.

    Its backend is ``transport``, by default the one :func:`using_transport`
    chose (calfbot's default outside it). Every plain ``HTTPXRequest()`` loads
    the CA bundle into a new SSL context (~50 ms); this one shares one context.
    Use it for ``Bot(request=..., get_updates_request=...)`` or
    ``ApplicationBuilder().request(...)``.
    """
    if (transport or _transport) == "aiohttp":
        return AiohttpRequest(
            connection_pool_size=connection_pool_size,
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
    global _TLS  # noqa: PLW0603  # one SSL context, created on first use
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return HTTPXRequest(
        connection_pool_size=connection_pool_size,
        read_timeout=read_timeout,
        connect_timeout=connect_timeout,
        pool_timeout=pool_timeout,
        httpx_kwargs={"verify": _TLS},
    )


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: Mapping[str, Any] | None = None) -> None:
        super().__init__(description)
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = dict(parameters)
        self.status = status
        self.body = json.dumps(payload).encode()


_UNAUTHORIZED: Final = _ApiError(401, "Unauthorized")
_NOT_FOUND: Final = _ApiError(404, "Not Found")
_POLL_CONFLICT: Final = _ApiError(
    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

_Handler = Callable[[dict[str, Any], int | None], Any]


def _decode(key: str, value: str) -> Any:
    """A form/query value back to what PTB JSON-encoded, leaving free text alone."""
    if not value or key in _STRING_PARAMS:
        return value
    if value[0] in _JSON_START or value in _JSON_WORDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _json_params(body: bytes) -> dict[str, Any]:
    data = json.loads(body) if body.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the JSON body is not an object")  # answered as 400
    return {key: _decode(key, value) if isinstance(value, str) else value for key, value in data.items()}


async def _read_multipart(request: web.BaseRequest, params: dict[str, Any]) -> None:
    reader: MultipartReader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            params[part.name] = UploadedFile(part.filename, content_type, bytes(await part.read(decode=True)))
        else:
            params[part.name] = _decode(part.name, await part.text())


def _error_response(error: _ApiError) -> web.Response:
    return web.Response(status=error.status, body=error.body, content_type=_JSON_TYPE)


async def _respond(status: int, body: bytes, content_type: str, delay: float) -> web.Response:
    if delay > 0:
        await asyncio.sleep(delay)
    return web.Response(status=status, body=body, content_type=content_type)


def _inline_markup(markup: Any) -> dict[str, Any] | None:
    """What a Message carries of a reply_markup: only a non-empty inline keyboard."""
    return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None


def _default_chat_type(chat_id: int) -> str:
    return "private" if chat_id > 0 else "supergroup" if chat_id < _SUPERGROUP_BELOW else "group"


def _chat_id_of(params: Mapping[str, Any]) -> int | None:
    chat_id = params.get("chat_id")
    return chat_id if type(chat_id) is int else None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[dict[str, Any]] | None:
    match = _COMMAND.match(text)
    if match is None:
        return None
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember object of ``status`` with the fields PTB requires."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                False,
            )
        )
        member.update(dict.fromkeys(("can_manage_chat", "can_delete_messages", "can_change_info"), True))
        member.update(dict.fromkeys(("can_invite_users", "can_pin_messages"), True))
    elif status == "restricted":
        member.update(
            dict.fromkeys(
                (
                    "is_member",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_edit_tag",
                    "can_react_to_messages",
                ),
                False,
            )
        )
        member["is_member"] = True
        member["can_send_messages"] = False
        member["until_date"] = 0
    elif status == "kicked":
        member["until_date"] = 0
    return member


class FakeBotApi:
    """A fake Telegram Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int | None = None,
        bot_username: str = "calf_test_bot",
        bot_first_name: str = "Calf Test Bot",
        latency: float = 0.0,
        port: int = 0,
        on_request: Callable[[RecordedRequest], None] | None = None,
        keep_messages: bool = True,
    ) -> None:
        """``on_request`` takes each request instead of ``requests``; with ``keep_messages``
        False neither sent messages nor chats are stored (no edits; message ids are unique
        across chats): both keep a million-message benchmark small and free of stalls.
        """
        prefix = token.partition(":")[0]
        self.token: Final = token
        self.bot_id: Final = bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else 123456789)
        self.bot_username: Final = bot_username
        self.latency = latency
        self.bot_user: Final[dict[str, Any]] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.requests: list[RecordedRequest] = []
        self.messages: dict[int, dict[int, BotMessage]] = {}
        """Per chat, the bot's messages by message id, as currently edited."""
        self.faults: list[FaultRule] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """``setMyCommands`` lists by (JSON of the scope, language code)."""
        self.webhook_url = ""
        self.pending_updates: deque[dict[str, Any]] = deque()
        self._port = port
        self._runner: web.ServerRunner | None = None
        self._closing = False
        self._chats: dict[int, dict[str, Any]] = {}
        self._next_message_id: dict[int, int] = {}
        self._next_update_id = 1
        self._callback_ids = itertools.count(1)
        self._updates_event = asyncio.Event()
        self._poll_generation = 0
        self._allowed_updates: frozenset[str] = frozenset()
        self._calls: dict[str, int] = {}
        self._record_waiters: list[asyncio.Future[None]] = []
        self._on_request = on_request
        self._keep_messages = keep_messages
        self._message_ids = itertools.count(1)
        self._methods: dict[str, tuple[str, _Handler | None]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": None,  # async: _dispatch long-polls it
                "sendMessage": self._send_message,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                **dict.fromkeys(
                    (
                        "answerCallbackQuery",
                        "sendChatAction",
                        "logOut",
                        "close",
                        "deleteMessages",
                        "setMyDescription",
                        "setMyShortDescription",
                        "setMyName",
                        "setChatMenuButton",
                        "pinChatMessage",
                        "unpinChatMessage",
                        "leaveChat",
                    ),
                    self._true,
                ),
            }.items()
        }

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The port listened on (kept across ``go_down``/``come_back``)."""
        if not self._port:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``/``Bot(base_url=...)``: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time)."""
        if self._runner is not None:
            return
        self._closing = False
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening and close every connection; long polls end at once. State is kept."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._wake_pollers()
        await runner.cleanup()

    async def go_down(self) -> None:
        """Stop listening (clients get connection refused) until :meth:`come_back`."""
        await self.stop()

    async def come_back(self) -> None:
        """Listen again on the same port, with all state kept."""
        await self.start()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- faults

    def add_fault(self, rule: FaultRule) -> FaultRule:
        """Install ``rule`` after the existing ones; returns it (for :meth:`remove_fault`)."""
        self.faults.append(rule)
        return rule

    def remove_fault(self, rule: FaultRule) -> None:
        self.faults.remove(rule)

    def clear_faults(self) -> None:
        self.faults.clear()

    # ----------------------------------------------------------------- recording

    def mark(self) -> int:
        """The number of requests recorded so far: pass it as ``after`` to :meth:`wait_for`."""
        return len(self.requests)

    def sent_messages(self, chat_id: int | None = None) -> list[RecordedRequest]:
        """Successful ``sendMessage`` requests, optionally to one chat, in order."""
        return [
            r for r in self.requests if r.method == "sendMessage" and r.ok and (chat_id is None or r.chat_id == chat_id)
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str | None]:
        """The texts of :meth:`sent_messages`."""
        return [r.text for r in self.sent_messages(chat_id)]

    def calls(self, method: str) -> list[RecordedRequest]:
        """Every recorded request of ``method`` (case-insensitive), faulted or not."""
        wanted = method.lower()
        return [r for r in self.requests if r.method.lower() == wanted]

    async def wait_for(
        self,
        method: str,
        *,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109  # the documented API; a deadline, not a cancel scope
        after: int = 0,
    ) -> RecordedRequest:
        """The first request of ``method`` at index >= ``after`` matching ``predicate``.

        Waits up to ``timeout`` seconds for it; raises ``TimeoutError`` listing what
        was recorded instead.
        """
        wanted = method.lower()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = after
        while True:
            while index < len(self.requests):
                request = self.requests[index]
                index += 1
                if request.method.lower() == wanted and (predicate is None or predicate(request)):
                    return request
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._describe_miss(method, predicate, timeout, after))
            waiter: asyncio.Future[None] = loop.create_future()
            self._record_waiters.append(waiter)
            try:
                await asyncio.wait([waiter], timeout=remaining)
            finally:
                if not waiter.done():
                    waiter.cancel()
                    self._record_waiters.remove(waiter)

    def _describe_miss(
        self, method: str, predicate: Callable[[RecordedRequest], bool] | None, timeout: float, after: int
    ) -> str:
        seen = self.requests[after:]
        wanted = f"{method}" + (" matching the predicate" if predicate is not None else "")
        lines = [f"no {wanted} request within {timeout}s; {len(seen)} recorded since index {after}:"]
        shown = seen[-40:]
        if len(seen) > len(shown):
            lines.append(f"  ... {len(seen) - len(shown)} earlier ones left out")
        for request in shown:
            detail = f"chat_id={request.chat_id}" if request.chat_id is not None else ""
            if request.text is not None:
                detail += f" text={request.text[:60]!r}"
            status = "ok" if request.ok else f"{request.status}"
            fault = f" fault={request.fault}" if request.fault else ""
            lines.append(f"  {request.method} {detail} -> {status}{fault}".rstrip())
        return "\n".join(lines)

    def _record(self, request: RecordedRequest) -> None:
        if self._on_request is not None:
            self._on_request(request)
            return
        self.requests.append(request)
        if self._record_waiters:
            waiters, self._record_waiters = self._record_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # ----------------------------------------------------------------- updates

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an Update for ``getUpdates`` (an ``update_id`` is assigned if missing)."""
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            update["update_id"] = update_id = self._new_update_id()
        elif update_id >= self._next_update_id:
            self._next_update_id = update_id + 1
        self.pending_updates.append(update)
        self._wake_pollers()

    def say(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Build a :meth:`user_message` and push it; returns the Update."""
        update = self.user_message(chat_id, text, **kwargs)
        self.push_update(update)
        return update

    def chat(self, chat_id: int, chat_type: str | None = None, *, first_name: str | None = None) -> dict[str, Any]:
        """The Chat object for ``chat_id``: as last built, unless ``chat_type``/``first_name`` differ.

        A new chat is private for positive ids, a supergroup below -10**12 (``-100…``),
        else a group.
        """
        known = self._chats.get(chat_id)
        if (
            known is not None
            and chat_type in (None, known["type"])
            and first_name in (None, known.get("first_name", first_name))
        ):
            return known
        if chat_type is None:
            chat_type = known["type"] if known is not None else _default_chat_type(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name or "Test"
        else:
            chat["title"] = f"Test {chat_type}"
        if self._keep_messages:  # else a million chats' dicts (and their resizes) for nothing
            self._chats[chat_id] = chat
        return chat

    def _user(self, user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username is not None:
            user["username"] = username
        return user

    def _new_message_id(self, chat_id: int) -> int:
        if not self._keep_messages:
            return next(self._message_ids)  # unique across chats: no per-chat counter to keep
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _incoming(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None,
        first_name: str,
        chat_type: str | None,
        username: str | None,
        message_id: int | None,
    ) -> dict[str, Any]:
        chat = self.chat(chat_id, chat_type, first_name=first_name)
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else DEFAULT_USER_ID
        message: dict[str, Any] = {
            "message_id": message_id if message_id is not None else self._new_message_id(chat_id),
            "from": self._user(user_id, first_name, username),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = _command_entities(text)
        if entities is not None:
            message["entities"] = entities
        return message

    def user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        chat_type: str | None = None,
        username: str | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """An Update with a ``message`` from a user (not pushed).

        ``chat_type`` defaults to private for positive ids, else group/supergroup;
        ``user_id`` to the chat id in private chats. A leading /command gets its
        ``bot_command`` entity. Message ids share the per-chat counter with the bot's.
        """
        message = self._incoming(
            chat_id,
            text,
            user_id=user_id,
            first_name=first_name,
            chat_type=chat_type,
            username=username,
            message_id=message_id,
        )
        return {"update_id": self._new_update_id(), "message": message}

    def edited_message(
        self,
        chat_id: int,
        text: str,
        *,
        message_id: int,
        user_id: int | None = None,
        first_name: str = "Test",
        chat_type: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """An Update with an ``edited_message``: the user edited ``message_id`` to ``text``."""
        message = self._incoming(
            chat_id,
            text,
            user_id=user_id,
            first_name=first_name,
            chat_type=chat_type,
            username=username,
            message_id=message_id,
        )
        message["edit_date"] = message["date"]
        return {"update_id": self._new_update_id(), "edited_message": message}

    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> dict[str, Any]:
        """An Update with a ``channel_post`` in channel ``chat_id``."""
        chat = {"id": chat_id, "type": "channel", "title": title}
        self._chats[chat_id] = chat
        message = {
            "message_id": self._new_message_id(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = _command_entities(text)
        if entities is not None:
            message["entities"] = entities
        return {"update_id": self._new_update_id(), "channel_post": message}

    def callback_query(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        user_id: int | None = None,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        """An Update with a ``callback_query``: the user pressed a button of ``message_id``.

        The attached message is the bot's message as currently stored (text and
        inline keyboard), or a bare message from the bot if it is unknown.
        """
        chat = self.chat(chat_id)
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else DEFAULT_USER_ID
        stored = self.messages.get(chat_id, {}).get(message_id)
        message = (
            stored.to_dict()
            if stored is not None
            else {"message_id": message_id, "from": self.bot_user, "chat": chat, "date": int(time.time())}
        )
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id, first_name, None),
            "message": message,
            "chat_instance": str(-7_000_000_000_000_000_000 - chat_id),
            "data": data,
        }
        return {"update_id": self._new_update_id(), "callback_query": query}

    def my_chat_member(
        self,
        chat_id: int,
        new_status: str,
        old_status: str = "member",
        *,
        user_id: int | None = None,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        """An Update with ``my_chat_member``: the bot's status in ``chat_id`` changed.

        In a private chat ``"kicked"`` means the user blocked the bot, ``"member"``
        (from ``"kicked"``) that they unblocked it.
        """
        chat = self.chat(chat_id, first_name=first_name)
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else DEFAULT_USER_ID
        change = {
            "chat": chat,
            "from": self._user(user_id, first_name, None),
            "date": int(time.time()),
            "old_chat_member": _member(old_status, self.bot_user),
            "new_chat_member": _member(new_status, self.bot_user),
        }
        return {"update_id": self._new_update_id(), "my_chat_member": change}

    def _new_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _wake_pollers(self) -> None:
        event, self._updates_event = self._updates_event, asyncio.Event()
        event.set()

    def _take(self, limit: int) -> list[dict[str, Any]]:
        pending = self.pending_updates
        if self._allowed_updates:
            allowed = self._allowed_updates
            kept = [u for u in pending if any(key in allowed for key in u if key != "update_id")]
            if len(kept) != len(pending):
                pending.clear()
                pending.extend(kept)
        return list(itertools.islice(pending, limit))

    def _start_poll(self, params: dict[str, Any]) -> tuple[int, float]:
        """The synchronous part of getUpdates: confirm, remember settings; (limit, timeout)."""
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        pending = self.pending_updates
        if isinstance(offset, int) and offset < 0:
            while len(pending) > -offset:
                pending.popleft()
        elif isinstance(offset, int):
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed)
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        self._poll_generation += 1
        self._wake_pollers()  # an older long poll now ends with 409, as on Telegram
        return limit, timeout

    async def _poll(self, limit: int, seconds: float) -> list[dict[str, Any]] | None:
        """Wait for updates; ``None`` when a newer getUpdates took over (409)."""
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if generation != self._poll_generation:
                return None
            batch = self._take(limit)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            event = self._updates_event
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                return self._take(limit)

    # ----------------------------------------------------------------- HTTP

    async def _read_params(self, request: web.BaseRequest) -> dict[str, Any]:
        """Parameters from the query string and the body; raises ValueError for a bad body."""
        params: dict[str, Any] = {}
        if request.query_string:
            for key, value in request.query.items():
                params[key] = _decode(key, value)
        if not request.body_exists:
            return params
        content_type = request.content_type
        if content_type == "application/x-www-form-urlencoded":
            for key, value in parse_qsl((await request.read()).decode(), keep_blank_values=True):
                params[key] = _decode(key, value)
        elif content_type == _JSON_TYPE:
            params.update(_json_params(await request.read()))
        elif content_type.startswith("multipart/"):
            await _read_multipart(request, params)
        return params

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/bot"):
            return _error_response(_NOT_FOUND)
        token, _, method = path[4:].partition("/")
        try:
            params = await self._read_params(request)
        except ValueError as bad_body:
            return _error_response(_ApiError(400, f"Bad Request: {bad_body}"))
        at = time.monotonic()
        chat_id = _chat_id_of(params)
        entry = self._methods.get(method.lower()) if token == self.token else None
        if entry is None:
            refusal = _UNAUTHORIZED if token != self.token else _NOT_FOUND
            self._record(RecordedRequest(method, params, at, chat_id, ok=False, status=refusal.status))
            return _error_response(refusal)
        return await self._dispatch(request, entry, params, chat_id, at)

    async def _dispatch(
        self,
        request: web.BaseRequest,
        entry: tuple[str, _Handler | None],
        params: dict[str, Any],
        chat_id: int | None,
        at: float,
    ) -> web.StreamResponse:
        """Answer a request for a known method with the right token."""
        name, handler = entry
        call_number = self._calls[name] = self._calls.get(name, 0) + 1

        fault = self._fault_for(Call(name, params, chat_id, len(self.requests), call_number)) if self.faults else None
        delay = self.latency
        fault_name: str | None = None
        if fault is not None:
            delay += fault.delay
            fault_name = fault.name
            if not fault.passthrough:
                self._record(RecordedRequest(name, params, at, chat_id, fault_name, False, fault.status))
                return await _respond(fault.status, fault.body, fault.content_type, delay)

        if handler is None:
            return await self._get_updates(RecordedRequest(name, params, at, chat_id, fault_name), delay)
        try:
            result = handler(params, chat_id)
        except _ApiError as error:
            self._record(RecordedRequest(name, params, at, chat_id, fault_name, False, error.status))
            return await _respond(error.status, error.body, _JSON_TYPE, delay)
        self._record(RecordedRequest(name, params, at, chat_id, fault_name, result=result))
        if fault is not None and fault.disconnect:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp then drops the connection without an answer
        return await _respond(200, json.dumps({"ok": True, "result": result}).encode(), _JSON_TYPE, delay)

    def _fault_for(self, call: Call) -> Fault | None:
        for rule in self.faults:
            fault = rule(call)
            if fault is not None:
                return fault
        return None

    async def _get_updates(self, arrived: RecordedRequest, delay: float) -> web.Response:
        try:
            limit, timeout = self._start_poll(arrived.params)
        except _ApiError as error:
            self._record(dataclasses.replace(arrived, ok=False, status=error.status))
            return _error_response(error)
        self._record(arrived)
        updates = await self._poll(limit, timeout)
        if updates is None:
            return _error_response(_POLL_CONFLICT)
        return await _respond(200, json.dumps({"ok": True, "result": updates}).encode(), _JSON_TYPE, delay)

    # ----------------------------------------------------------------- methods

    @staticmethod
    def _true(params: dict[str, Any], chat_id: int | None) -> bool:
        return True

    def _get_me(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        return self.bot_user

    def _target(self, params: dict[str, Any], chat_id: int | None) -> int:
        if chat_id is not None:
            return chat_id
        if params.get("chat_id") in (None, ""):
            raise _ApiError(400, "Bad Request: chat_id is empty")
        raise _ApiError(400, "Bad Request: chat not found")

    def _send_message(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        target = self._target(params, chat_id)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        if parse_mode is None and len(text) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        message = BotMessage(
            chat=self.chat(target),
            message_id=self._new_message_id(target),
            date=int(time.time()),
            text=text,
            reply_markup=_inline_markup(markup),
            sender=self.bot_user,
            parse_mode=parse_mode if isinstance(parse_mode, str) else None,
        )
        if self._keep_messages:
            self.messages.setdefault(target, {})[message.message_id] = message
        return message.to_dict()

    def _send_document(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        """A document from an upload (multipart) or a file id; stored as a message without text."""
        target = self._target(params, chat_id)
        document = params.get("document")
        if isinstance(document, UploadedFile):
            file_id = f"upload-{len(self.requests)}"
            meta = {"file_name": document.filename, "mime_type": document.content_type, "file_size": len(document.data)}
        elif isinstance(document, str) and document:
            file_id, meta = document, {}
        else:
            raise _ApiError(400, "Bad Request: there is no document in the request")
        message = BotMessage(
            self.chat(target), self._new_message_id(target), int(time.time()), None, None, self.bot_user
        )
        self.messages.setdefault(target, {})[message.message_id] = message
        result = message.to_dict()
        result["document"] = {"file_id": file_id, "file_unique_id": file_id, **meta}
        caption = params.get("caption")
        if isinstance(caption, str):
            result["caption"] = caption
        return result

    def _stored(self, params: dict[str, Any], chat_id: int | None, action: str) -> BotMessage | None:
        if "inline_message_id" in params:
            return None
        target = self._target(params, chat_id)
        message_id = params.get("message_id")
        stored = self.messages.get(target, {}).get(message_id) if isinstance(message_id, int) else None
        if stored is None:
            raise _ApiError(400, f"Bad Request: message to {action} not found")
        return stored

    def _edit_message_text(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        stored = self._stored(params, chat_id, "edit")
        if stored is None:
            return True
        markup = _inline_markup(params.get("reply_markup"))  # omitted: the keyboard goes, as on Telegram
        if text == stored.text and markup == stored.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        stored.versions.append(stored.text)
        stored.text = text
        stored.reply_markup = markup
        parse_mode = params.get("parse_mode")
        stored.parse_mode = parse_mode if isinstance(parse_mode, str) else None
        stored.edit_date = int(time.time())
        return stored.to_dict()

    def _edit_message_reply_markup(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any] | bool:
        stored = self._stored(params, chat_id, "edit")
        if stored is None:
            return True
        markup = _inline_markup(params.get("reply_markup"))
        if markup == stored.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        stored.reply_markup = markup
        stored.edit_date = int(time.time())
        return stored.to_dict()

    def _delete_message(self, params: dict[str, Any], chat_id: int | None) -> bool:
        message_id = params.get("message_id")
        if chat_id is not None and isinstance(message_id, int):
            self.messages.get(chat_id, {}).pop(message_id, None)
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return json.dumps(scope, sort_keys=True), str(language)

    def _set_my_commands(self, params: dict[str, Any], chat_id: int | None) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, 'Bad Request: parameter "commands" is required')
        self.commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: dict[str, Any], chat_id: int | None) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any], chat_id: int | None) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_webhook(self, params: dict[str, Any], chat_id: int | None) -> bool:
        url = params.get("url")
        self.webhook_url = url if isinstance(url, str) else ""
        if params.get("drop_pending_updates") is True:
            self.pending_updates.clear()
        return True

    def _delete_webhook(self, params: dict[str, Any], chat_id: int | None) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self.pending_updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }

    def bot_messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's current messages in ``chat_id``, oldest first."""
        return list(self.messages.get(chat_id, {}).values())
