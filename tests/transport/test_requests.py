"""The aiohttp and httpx transports, side by side: the same requests, answers and failures.

Each test runs over both backends (the ``transport`` fixture), against the fake
Bot API or a tiny misbehaving server on 127.0.0.1 (tests/transport/servers.py),
and checks what PTB raises and how :mod:`bot.transport.outcome` reads it:
whether the request never left (safe to resend) or may have been delivered.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.transport import TRANSPORTS, Transport
from bot.transport.aiohttp_request import urlencode
from bot.transport.outcome import answer_lost, never_sent
from bot.transport.written import on_written, reports_writes
from tests.fakes.bot_api_server import FakeBotApi, Fault, UploadedFile, fast_request, when
from tests.transport.servers import Behaviour, raw_server, refused_port, unconnectable_port

CHAT = 4711
TEXT = "Grüße & <b>1+1=2</b> ✓ — a line\nand another"
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Done ✓", callback_data="done:2026-11-21")]])


@asynccontextmanager
async def opened(request: BaseRequest) -> AsyncIterator[BaseRequest]:
    """``request`` initialized inside the running loop, shut down afterwards."""
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def post(request: BaseRequest, url: str, **timeouts: float | None) -> Any:
    """A sendMessage through ``request`` as PTB's Bot posts it (its ``post``, with PTB's exceptions)."""
    data = RequestData(
        [RequestParameter.from_input("chat_id", CHAT), RequestParameter.from_input("text", TEXT)],
    )
    return await request.post(url, request_data=data, **timeouts)


async def failure(request: BaseRequest, url: str, **timeouts: float | None) -> TelegramError:
    """The PTB exception a post raises (the test fails if it succeeds)."""
    with pytest.raises(TelegramError) as caught:
        await post(request, url, **timeouts)
    return caught.value


def maybe_delivered(exc: TelegramError) -> bool:
    """The engine's reading (bot/delivery/engine.py): such a row becomes ``uncertain``, never resent."""
    return (isinstance(exc, TimedOut) and not never_sent(exc)) or answer_lost(exc)


# --- the happy path, against the fake Bot API ------------------------------------------------


async def test_a_message_goes_out_and_comes_back_as_a_message(transport: Transport) -> None:
    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url, request=fast_request()) as bot:
        message = await bot.send_message(
            CHAT, TEXT, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD, disable_notification=True
        )
        assert (message.chat_id, message.text, message.reply_markup) == (CHAT, TEXT, KEYBOARD)
        [sent] = api.sent_messages(CHAT)
        assert sent.params == {
            "chat_id": CHAT,
            "text": TEXT,
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "Done ✓", "callback_data": "done:2026-11-21"}]]},
            "disable_notification": True,
        }
        assert message.message_id == sent.result["message_id"]


async def test_a_send_reports_when_it_is_written_if_the_backend_can(transport: Transport) -> None:
    """The pacer counts a send from its write (bot/transport/written.py): aiohttp reports it, once, before the
    server has it; httpx cannot, and says so."""
    request = fast_request()
    calls: list[int] = []
    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url, request=request) as bot:
        reporting = on_written.set(lambda: calls.append(len(api.sent_messages())))
        try:
            await bot.send_message(CHAT, TEXT)
        finally:
            on_written.reset(reporting)
        await bot.send_message(CHAT, TEXT)  # no callback set: nothing reported
    assert reports_writes(request) is (transport == "aiohttp")
    assert calls == ([0] if transport == "aiohttp" else [])


async def test_an_upload_goes_as_multipart_with_the_other_parameters(transport: Transport) -> None:
    """A file PTB uploads (multipart/form-data), large enough to need several writes."""
    content = os.urandom(600_000)
    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url, request=fast_request()) as bot:
        message = await bot.send_document(
            CHAT, document=content, filename="progress.csv", caption=TEXT, disable_notification=True
        )
        [upload] = api.calls("sendDocument")
    assert upload.params == {
        "chat_id": CHAT,
        "document": UploadedFile("progress.csv", "text/csv", content),
        "caption": TEXT,
        "disable_notification": True,
    }
    assert message.document is not None
    assert (message.document.file_name, message.document.file_size, message.caption) == (
        "progress.csv",
        len(content),
        TEXT,
    )


async def test_many_requests_share_a_small_pool(transport: Transport) -> None:
    """300 sends at once through 16 connections, waiting for a free one as long as it takes."""
    request = fast_request(connection_pool_size=16, pool_timeout=None)
    async with FakeBotApi(latency=0.01) as api, Bot(api.token, base_url=api.base_url, request=request) as bot:
        messages = await asyncio.gather(*(bot.send_message(chat, f"hi {chat}") for chat in range(1, 301)))
    assert [m.chat_id for m in messages] == list(range(1, 301))
    assert sorted(r.chat_id for r in api.sent_messages() if r.chat_id is not None) == list(range(1, 301))


async def test_a_long_poll_outlasts_the_read_timeout(transport: Transport) -> None:
    """PTB adds getUpdates' ``timeout`` to the client's read timeout: a 1 s poll on a 0.3 s client is no timeout."""
    request = fast_request(read_timeout=0.3)
    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url, get_updates_request=request) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        waited = time.monotonic() - started
        api.say(CHAT, "/start")
        [update] = await bot.get_updates(timeout=1)
    assert waited >= 0.9
    assert update.message is not None
    assert update.message.text == "/start"


async def test_both_backends_send_the_same_bytes() -> None:
    """The same sendMessage, through each backend: identical request line, content type and body."""
    seen: dict[str, tuple[str, str, bytes, str]] = {}
    async with raw_server("answer") as server:
        for name in TRANSPORTS:
            async with opened(fast_request(transport=name)) as request:
                assert await post(request, server.url()) is True
            raw = server.requests[-1]
            seen[name] = (raw.request_line, raw.content_type, raw.body, raw.headers.get("user-agent", ""))
    assert seen["aiohttp"] == seen["httpx"]
    request_line, content_type, body, agent = seen["aiohttp"]
    assert request_line.startswith("POST /bot123456789:")
    assert content_type == "application/x-www-form-urlencoded"
    assert body.startswith(b"chat_id=4711&text=Gr%C3%BC%C3%9Fe+%26+%3Cb%3E")
    assert agent == BaseRequest.USER_AGENT


async def test_both_backends_upload_the_same_parts() -> None:
    """The same upload through each backend reaches the fake as the same parameters and file."""
    uploads = []
    async with FakeBotApi() as api:
        for name in TRANSPORTS:
            async with Bot(api.token, base_url=api.base_url, request=fast_request(transport=name)) as bot:
                await bot.send_document(CHAT, document=b"a,b\n1,2\n", filename="t.csv", caption="two rows")
        uploads = [r.params for r in api.calls("sendDocument")]
    assert len(uploads) == 2
    assert uploads[0] == uploads[1]
    assert uploads[0]["document"] == UploadedFile("t.csv", "text/csv", b"a,b\n1,2\n")


# --- failures, and what they mean for the message -------------------------------------------


@pytest.mark.parametrize("where", ["default", "per_call"])
async def test_no_answer_is_a_read_timeout_that_may_have_been_delivered(transport: Transport, where: str) -> None:
    """The server read the request and never answers: TimedOut after the read timeout, maybe delivered."""
    client_timeout, call_timeouts = (0.3, {}) if where == "default" else (30.0, {"read_timeout": 0.3})
    async with raw_server("silent") as server, opened(fast_request(read_timeout=client_timeout)) as request:
        started = time.monotonic()
        exc = await failure(request, server.url(), **call_timeouts)
        elapsed = time.monotonic() - started
    assert isinstance(exc, TimedOut)
    assert not never_sent(exc)
    assert maybe_delivered(exc)
    assert 0.25 <= elapsed < 3
    assert [r.body.count(b"chat_id=4711") for r in server.requests] == [1]


@pytest.mark.parametrize("behaviour", ["close", "reset", "truncate"])
async def test_a_connection_broken_after_the_request_loses_the_answer(
    transport: Transport, behaviour: Behaviour
) -> None:
    """Closed (FIN), reset (RST) or cut off mid-answer after the server read the request: maybe delivered."""
    async with raw_server(behaviour) as server, opened(fast_request()) as request:
        exc = await failure(request, server.url())
    assert isinstance(exc, NetworkError)
    assert not isinstance(exc, TimedOut)
    assert answer_lost(exc)
    assert not never_sent(exc)
    assert maybe_delivered(exc)
    assert len(server.requests) == 1


async def test_a_refused_connection_never_left(transport: Transport) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}/bot123456789:RAW-server-token-000000000000/sendMessage"
        async with opened(fast_request()) as request:
            exc = await failure(request, url)
    assert isinstance(exc, NetworkError)
    assert not isinstance(exc, TimedOut)
    assert never_sent(exc)
    assert not answer_lost(exc)
    assert not maybe_delivered(exc)
    assert "RAW-server-token" not in str(exc)  # messages reach logs and the ledger


async def test_a_connect_timeout_never_left(transport: Transport) -> None:
    with unconnectable_port() as port:
        url = f"http://127.0.0.1:{port}/bot123456789:RAW-server-token-000000000000/sendMessage"
        async with opened(fast_request(connect_timeout=0.3)) as request:
            started = time.monotonic()
            exc = await failure(request, url)
            elapsed = time.monotonic() - started
    assert isinstance(exc, TimedOut)
    assert never_sent(exc)
    assert not maybe_delivered(exc)
    assert 0.25 <= elapsed < 3
    assert "RAW-server-token" not in str(exc)


async def test_a_full_pool_times_out_without_sending(transport: Transport) -> None:
    """One connection, held by a slow answer: the next request gives up after the pool timeout, unsent.

    A third, willing to wait, goes out once the connection is free.
    """
    request = fast_request(connection_pool_size=1, pool_timeout=0.2)
    async with raw_server("answer", delay=0.8) as server, opened(request):
        holder = asyncio.create_task(post(request, server.url()))
        await asyncio.wait_for(server.arrived.wait(), 5)
        started = time.monotonic()
        exc = await failure(request, server.url())
        elapsed = time.monotonic() - started
        assert len(server.requests) == 1
        waiter = await post(request, server.url(), pool_timeout=None)
        assert await holder is True
    assert isinstance(exc, TimedOut)
    assert "Pool timeout" in exc.message
    assert never_sent(exc)
    assert not maybe_delivered(exc)
    assert 0.15 <= elapsed < 0.8
    assert waiter is True
    assert len(server.requests) == 2


async def test_a_server_error_page_is_a_network_error_that_is_neither(transport: Transport) -> None:
    """A 502 HTML page is an answer: NetworkError (the engine retries it), neither never-sent nor lost."""
    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url, request=fast_request()) as bot:
        api.add_fault(when(Fault.server_error(502), chat_ids=[CHAT]))
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(CHAT, "hello")
    assert not isinstance(caught.value, TimedOut)
    assert not never_sent(caught.value)
    assert not answer_lost(caught.value)


# --- lifecycle ---------------------------------------------------------------------------------


async def test_a_shut_down_client_refuses_and_opens_again(transport: Transport) -> None:
    request = fast_request()
    async with raw_server("answer") as server:
        await request.initialize()
        await request.initialize()  # twice is harmless
        assert await post(request, server.url()) is True
        await request.shutdown()
        await request.shutdown()  # so is shutting down twice
        with pytest.raises(NetworkError, match="not initialized"):
            await post(request, server.url())
        async with opened(request):
            assert await post(request, server.url()) is True
    assert len(server.requests) == 2


# --- the form body -------------------------------------------------------------------------------


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=6))
def test_the_form_body_is_urllibs_byte_for_byte(fields: dict[str, str]) -> None:
    """aiohttp_request's urlencode replaces urllib's (a Python loop per byte) and must match it exactly."""
    assert urlencode(fields) == urllib.parse.urlencode(fields).encode()
