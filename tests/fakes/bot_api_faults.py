"""Fault injection for the fake Bot API server (:mod:`tests.fakes.bot_api_server`).

A *rule* is any callable ``(Call) -> Fault | None``: the server asks the installed
rules, in order, about every request that passed the token and method checks; the
first rule that returns a :class:`Fault` decides the reply, and later rules are not
asked about that request. ``None`` means "answer normally".

The ready-made constructors return :class:`Rule` objects that count the requests in
their scope, so ``every``/``times``/``skip`` are deterministic even while a polling
loop runs next to the code under test. Unless ``methods`` says otherwise, a rule's
scope is the requests that *target a chat* (carry an integer ``chat_id``), which
keeps ``getUpdates``/``getMe`` polling out of the counts. Pass ``methods=[ANY_METHOD]``
to include every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = [
    "ANY_METHOD",
    "Call",
    "Fault",
    "FaultRule",
    "Rule",
    "chat_not_found_for",
    "conflict",
    "disconnect_for",
    "forbidden_for",
    "migrate",
    "retry_after_every",
    "retry_after_for",
    "server_error_burst",
    "slow_for",
    "when",
]

ANY_METHOD = "*"
"""Put in a rule's ``methods`` to match every method, chat-targeted or not."""

_JSON = "application/json"
_HTML = "text/html"


@dataclass(frozen=True, slots=True)
class Call:
    """What a rule sees about one request.

    ``method`` is the canonical Bot API name (``"sendMessage"``), ``index`` the
    position the request gets in ``FakeBotApi.requests`` and ``call_number`` how
    many requests of this method (including this one) the server has seen.
    """

    method: str
    params: Mapping[str, Any]
    chat_id: int | None
    index: int
    call_number: int


@dataclass(frozen=True, slots=True)
class Fault:
    """How to answer one request instead of (or before) the normal answer.

    ``name`` is what ``RecordedRequest.fault`` shows. The reply is ``status`` with
    ``body`` after ``delay`` seconds, unless ``passthrough`` is set, in which case
    the request is handled normally after the delay (a slow reply). With
    ``disconnect`` the request is handled normally (a message *is* stored) and the
    connection is then dropped without an answer.
    """

    name: str
    status: int = 200
    body: bytes = b""
    content_type: str = _JSON
    delay: float = 0.0
    passthrough: bool = False
    disconnect: bool = False

    @property
    def ok(self) -> bool:
        """Whether the client ends up with a successful answer."""
        return self.passthrough and not self.disconnect

    @classmethod
    def error(cls, name: str, status: int, description: str, parameters: Mapping[str, Any] | None = None) -> Fault:
        """A Bot API error object ``{"ok": false, "error_code", "description"[, "parameters"]}``."""
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = dict(parameters)
        return cls(name=name, status=status, body=json.dumps(payload).encode())

    @classmethod
    def forbidden(cls, description: str = "Forbidden: bot was blocked by the user") -> Fault:
        """403, what Telegram answers for a user who blocked the bot (or similar)."""
        return cls.error("forbidden", 403, description)

    @classmethod
    def retry_after(cls, seconds: int) -> Fault:
        """429 flood control with ``parameters.retry_after``."""
        return cls.error(
            "retry_after",
            429,
            f"Too Many Requests: retry after {seconds}",
            {"retry_after": seconds},
        )

    @classmethod
    def chat_not_found(cls) -> Fault:
        """400 for a chat the bot cannot reach."""
        return cls.error("chat_not_found", 400, "Bad Request: chat not found")

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        """400 with ``parameters.migrate_to_chat_id`` for a group that became a supergroup."""
        return cls.error(
            "migrated",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def server_error(cls, status: int = 502) -> Fault:
        """A 5xx: 500 is Telegram's JSON error, anything else the HTML page a proxy serves."""
        if status == 500:
            return cls.error("server_error_500", 500, "Internal Server Error")
        phrase = HTTPStatus(status).phrase
        page = (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return cls(name=f"server_error_{status}", status=status, body=page.encode(), content_type=_HTML)

    @classmethod
    def conflict(cls) -> Fault:
        """409 for ``getUpdates`` when another poller took over."""
        return cls.error(
            "conflict",
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Sleep ``seconds``, then answer normally (a client read timeout turns this into TimedOut)."""
        return cls(name="slow", delay=seconds, passthrough=True)

    @classmethod
    def dropped(cls) -> Fault:
        """Handle the request, then drop the connection: done on the server, unknown to the client."""
        return cls(name="disconnect", passthrough=True, disconnect=True)


FaultRule = Callable[[Call], Fault | None]
"""A rule: decides per request whether to inject a fault."""


@dataclass(slots=True)
class Rule:
    """A counting rule: fire ``fault`` on matching requests.

    Requests in scope are counted (``seen``); the first ``skip`` are let through,
    then every ``every``-th one gets the fault, at most ``times`` times (``None``:
    no limit). Scope: ``methods`` (lower-cased names, or ``ANY_METHOD``) and
    ``chat_ids``; with neither, requests that target a chat.
    """

    fault: Fault
    methods: frozenset[str] | None = None
    chat_ids: frozenset[int] | None = None
    every: int = 1
    times: int | None = None
    skip: int = 0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every}")

    def in_scope(self, call: Call) -> bool:
        """Whether ``call`` counts for this rule."""
        if self.methods is not None and ANY_METHOD not in self.methods and call.method.lower() not in self.methods:
            return False
        if self.chat_ids is not None:
            return call.chat_id in self.chat_ids
        return self.methods is not None or call.chat_id is not None

    def __call__(self, call: Call) -> Fault | None:
        if not self.in_scope(call):
            return None
        self.seen += 1
        position = self.seen - self.skip
        if position <= 0 or position % self.every:
            return None
        if self.times is not None and self.fired >= self.times:
            return None
        self.fired += 1
        return self.fault

    @property
    def exhausted(self) -> bool:
        """Whether the rule will not fire again."""
        return self.times is not None and self.fired >= self.times


def _methods(methods: Iterable[str] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(m.lower() for m in methods)


def _chats(chat_ids: Iterable[int] | None) -> frozenset[int] | None:
    return None if chat_ids is None else frozenset(chat_ids)


def when(
    fault: Fault,
    *,
    methods: Iterable[str] | None = None,
    chat_ids: Iterable[int] | None = None,
    every: int = 1,
    times: int | None = None,
    skip: int = 0,
) -> Rule:
    """The general constructor the others use: see :class:`Rule`."""
    return Rule(fault, _methods(methods), _chats(chat_ids), every=every, times=times, skip=skip)


def forbidden_for(
    chat_ids: Collection[int],
    *,
    methods: Iterable[str] | None = None,
    description: str = "Forbidden: bot was blocked by the user",
) -> Rule:
    """Requests to ``chat_ids`` get 403 (the user blocked the bot), every time."""
    return when(Fault.forbidden(description), methods=methods, chat_ids=chat_ids)


def retry_after_every(
    k: int,
    seconds: int,
    *,
    methods: Iterable[str] | None = None,
    chat_ids: Iterable[int] | None = None,
) -> Rule:
    """Every ``k``-th request in scope gets 429 with ``retry_after=seconds``."""
    return when(Fault.retry_after(seconds), methods=methods, chat_ids=chat_ids, every=k)


def retry_after_for(
    chat_ids: Iterable[int] | None,
    seconds: int,
    *,
    times: int | None = 1,
    methods: Iterable[str] | None = None,
) -> Rule:
    """The next ``times`` requests to ``chat_ids`` (``None``: any chat) get 429."""
    return when(Fault.retry_after(seconds), methods=methods, chat_ids=chat_ids, times=times)


def chat_not_found_for(chat_ids: Collection[int], *, methods: Iterable[str] | None = None) -> Rule:
    """Requests to ``chat_ids`` get 400 "Bad Request: chat not found", every time."""
    return when(Fault.chat_not_found(), methods=methods, chat_ids=chat_ids)


def migrate(chat_id: int, new_chat_id: int, *, methods: Iterable[str] | None = None) -> Rule:
    """Requests to ``chat_id`` get 400 with ``migrate_to_chat_id=new_chat_id``, every time."""
    return when(Fault.migrated(new_chat_id), methods=methods, chat_ids=[chat_id])


def server_error_burst(
    count: int,
    status: int = 502,
    *,
    methods: Iterable[str] | None = None,
    chat_ids: Iterable[int] | None = None,
    skip: int = 0,
) -> Rule:
    """The next ``count`` requests in scope (after ``skip``) get a 5xx, then all is well."""
    return when(Fault.server_error(status), methods=methods, chat_ids=chat_ids, times=count, skip=skip)


def slow_for(
    chat_ids: Iterable[int] | None,
    seconds: float,
    *,
    methods: Iterable[str] | None = None,
    times: int | None = None,
) -> Rule:
    """Requests to ``chat_ids`` (``None``: any chat) are answered normally after ``seconds``."""
    return when(Fault.slow(seconds), methods=methods, chat_ids=chat_ids, times=times)


def disconnect_for(
    chat_ids: Iterable[int] | None,
    *,
    times: int | None = 1,
    methods: Iterable[str] | None = None,
) -> Rule:
    """Requests to ``chat_ids`` are carried out, then the connection drops before the answer."""
    return when(Fault.dropped(), methods=methods, chat_ids=chat_ids, times=times)


def conflict(times: int | None = None) -> Rule:
    """``getUpdates`` gets 409 Conflict (another instance is polling), ``times`` times."""
    return when(Fault.conflict(), methods=["getUpdates"], times=times)
