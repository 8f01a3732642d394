"""The fake Bot API server against a real python-telegram-bot client, over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.bot_api_server import (
    FakeBotApi,
    Fault,
    chat_not_found_for,
    conflict,
    disconnect_for,
    fast_request,
    forbidden_for,
    migrate,
    retry_after_every,
    server_error_burst,
    slow_for,
    when,
)

AnyApp = Application[Any, Any, Any, Any, Any, Any]

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@asynccontextmanager
async def make_bot(fake: FakeBotApi, *, token: str | None = None, read_timeout: float = 5.0) -> AsyncIterator[Bot]:
    bot = Bot(
        token or fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=fast_request(read_timeout=read_timeout),
        get_updates_request=fast_request(read_timeout=read_timeout),
    )
    async with bot:
        yield bot


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with make_bot(fake) as client:
        yield client


@asynccontextmanager
async def running_app(fake: FakeBotApi, *handlers: BaseHandler[Any, Any, Any]) -> AsyncIterator[AnyApp]:
    """A real Application polling the fake; shut down in PTB's documented order."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .request(fast_request())
        .get_updates_request(fast_request())
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    updater = app.updater
    assert updater is not None
    await app.initialize()
    try:
        await app.start()
        try:
            await updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield app
            finally:
                await updater.stop()  # ends the long poll, then confirms what was fetched
        finally:
            await app.stop()  # lets running handlers finish
    finally:
        await app.shutdown()


async def test_get_me_returns_the_bot_user(fake: FakeBotApi, bot: Bot) -> None:
    """getMe answers the configured bot as a User with the bot capability flags."""
    me = await bot.get_me()
    assert me.id == fake.bot_id == 123456789
    assert me.is_bot
    assert me.username == fake.bot_username
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False
    assert fake.calls("getme")[-1].ok


async def test_base_url_has_ptb_form(fake: FakeBotApi) -> None:
    """base_url/base_file_url are what PTB expects: the token is appended to them."""
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    assert fake.base_file_url == f"http://127.0.0.1:{fake.port}/file/bot"


async def test_send_message_returns_message_and_is_recorded(fake: FakeBotApi, bot: Bot) -> None:
    """sendMessage returns a Message from the bot in a private chat; the request is recorded."""
    before = time.monotonic()
    message = await bot.send_message(chat_id=42, text="hello 👋")
    assert isinstance(message, Message)
    assert message.chat.id == 42
    assert message.chat.type == "private"
    assert message.text == "hello 👋"
    assert message.from_user is not None and message.from_user.id == fake.bot_id
    assert message.message_id == 1

    [recorded] = fake.sent_messages(42)
    assert recorded.params == {"chat_id": 42, "text": "hello 👋"}
    assert recorded.chat_id == 42
    assert recorded.fault is None
    assert recorded.at >= before
    assert recorded.result["message_id"] == 1
    assert fake.messages[42][1].text == "hello 👋"


async def test_message_ids_increase_per_chat_and_groups_get_group_chats(bot: Bot) -> None:
    """Message ids count per chat; negative ids are groups, -100… ids supergroups."""
    ids = [(await bot.send_message(chat_id=c, text="x")).message_id for c in (1, 1, 2, 1)]
    assert ids == [1, 2, 1, 3]
    group = await bot.send_message(chat_id=-5, text="x")
    supergroup = await bot.send_message(chat_id=-1001234567890, text="x")
    assert group.chat.type == "group"
    assert supergroup.chat.type == "supergroup"


async def test_reply_markup_round_trips_as_inline_keyboard(fake: FakeBotApi, bot: Bot) -> None:
    """An inline keyboard comes back as InlineKeyboardMarkup and is decoded to a dict in the record."""
    message = await bot.send_message(chat_id=7, text="Ready?", reply_markup=KEYBOARD)
    assert message.reply_markup == KEYBOARD
    recorded = fake.sent_messages(7)[0]
    assert recorded.params["reply_markup"] == {"inline_keyboard": [[{"text": "Done", "callback_data": "done"}]]}
    assert fake.messages[7][message.message_id].reply_markup == recorded.params["reply_markup"]


async def test_edits_update_the_stored_message(fake: FakeBotApi, bot: Bot) -> None:
    """editMessageText/editMessageReplyMarkup return the edited Message and update fake.messages."""
    sent = await bot.send_message(chat_id=7, text="v1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("v2", chat_id=7, message_id=sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(edited, Message)
    assert edited.text == "v2"
    assert edited.edit_date is not None
    stored = fake.messages[7][sent.message_id]
    assert (stored.text, stored.versions) == ("v2", ["v1"])
    assert stored.reply_markup is not None

    unmarked = await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id, reply_markup=None)
    assert isinstance(unmarked, Message)
    assert unmarked.reply_markup is None
    assert stored.reply_markup is None


async def test_edit_of_unknown_message_is_bad_request(bot: Bot) -> None:
    """Editing a message the bot never sent is 400 "message to edit not found"."""
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", chat_id=7, message_id=999)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=999, reply_markup=KEYBOARD)


async def test_identical_edit_is_not_modified(bot: Bot) -> None:
    """Editing to the same text and keyboard is 400 "message is not modified"."""
    sent = await bot.send_message(chat_id=7, text="same", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("same", chat_id=7, message_id=sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id, reply_markup=KEYBOARD)


async def test_simple_methods_answer_true_and_commands_round_trip(fake: FakeBotApi, bot: Bot) -> None:
    """The housekeeping methods answer true; setMyCommands is what getMyCommands returns."""
    assert await bot.set_my_commands([("start", "Begin"), ("help", "Help")])
    commands = await bot.get_my_commands()
    assert [(c.command, c.description) for c in commands] == [("start", "Begin"), ("help", "Help")]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.send_chat_action(chat_id=7, action="typing")
    assert await bot.delete_message(chat_id=7, message_id=1)
    assert await bot.answer_callback_query("123", text="ok")
    assert await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert fake.calls("answerCallbackQuery")[0].params == {"callback_query_id": "123", "text": "ok"}


async def test_get_updates_honours_offset_limit_and_confirmation(fake: FakeBotApi, bot: Bot) -> None:
    """getUpdates returns updates >= offset up to limit; confirmed ones (below offset) are dropped."""
    pushed = [fake.user_message(5, f"m{i}") for i in range(3)]
    for update in pushed:
        fake.push_update(update)
    ids = [u["update_id"] for u in pushed]
    assert ids == sorted(ids)

    first_two = await bot.get_updates(limit=2)
    assert [u.update_id for u in first_two] == ids[:2]
    again = await bot.get_updates()
    assert [u.update_id for u in again] == ids  # nothing confirmed yet
    rest = await bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in rest] == ids[2:]
    assert [u["update_id"] for u in fake.pending_updates] == ids[2:]
    assert rest[0].message is not None and rest[0].message.text == "m2"


async def test_long_poll_wakes_on_push_and_times_out_when_empty(fake: FakeBotApi, bot: Bot) -> None:
    """An empty long poll blocks for `timeout`, and returns at once when an update is pushed."""
    start = time.monotonic()
    assert await bot.get_updates(timeout=dt.timedelta(seconds=0.3)) == ()
    assert 0.25 <= time.monotonic() - start < 2

    mark = fake.mark()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for("getUpdates", after=mark)
    start = time.monotonic()
    fake.say(5, "wake up")
    updates = await poll
    assert time.monotonic() - start < 1
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_a_newer_get_updates_ends_the_older_with_conflict(fake: FakeBotApi, bot: Bot) -> None:
    """As on Telegram, a second poller terminates the waiting one with 409 Conflict."""
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for("getUpdates")
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{fake.base_url}{fake.token}/getUpdates", data={"timeout": "0"})
    assert answer.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await poll


async def test_application_polling_replies_to_start(fake: FakeBotApi) -> None:
    """A real Application in polling mode receives a pushed /start and its reply is recorded."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        await update.message.reply_text(f"Welcome! You said {update.message.text}")

    async with running_app(fake, CommandHandler("start", start)):
        mark = fake.mark()
        fake.say(42, "/start")
        reply = await fake.wait_for("sendMessage", predicate=lambda r: r.chat_id == 42, after=mark, timeout=5)
    assert reply.text == "Welcome! You said /start"
    assert fake.calls("deleteWebhook"), "start_polling bootstraps with deleteWebhook"
    assert not fake.pending_updates, "shutdown confirms the fetched updates"


async def test_command_with_bot_name_in_a_group(fake: FakeBotApi) -> None:
    """A group /start@botname gets a bot_command entity covering the @botname and is handled."""
    update = fake.user_message(-100, f"/start@{fake.bot_username} now")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 20}]
    assert update["message"]["chat"]["type"] == "group"

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "hi group")

    async with running_app(fake, CommandHandler("start", start)):
        fake.push_update(update)
        reply = await fake.wait_for("sendMessage", predicate=lambda r: r.chat_id == -100)
    assert reply.text == "hi group"


async def test_callback_query_carries_the_bots_message(fake: FakeBotApi) -> None:
    """A pressed button arrives with the bot's message (text + keyboard); the handler's edit is stored."""

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        assert query.message.text == "Ready?"
        assert query.message.reply_markup == KEYBOARD
        await query.answer()
        await query.edit_message_text(f"Pressed {query.data}")

    async with running_app(fake, CallbackQueryHandler(pressed)) as app:
        sent = await app.bot.send_message(chat_id=9, text="Ready?", reply_markup=KEYBOARD)
        fake.push_update(fake.callback_query(9, "done", message_id=sent.message_id))
        await fake.wait_for("editMessageText")
    assert fake.calls("answerCallbackQuery")
    stored = fake.messages[9][sent.message_id]
    assert (stored.text, stored.reply_markup) == ("Pressed done", None)


async def test_update_builders_parse_as_ptb_updates(fake: FakeBotApi, bot: Bot) -> None:
    """Every builder produces an Update that PTB parses into the expected attribute."""
    blocked = Update.de_json(fake.my_chat_member(5, "kicked"), bot)
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    assert blocked.my_chat_member.old_chat_member.status == "member"
    for status in ("administrator", "restricted", "creator", "left"):
        parsed = Update.de_json(fake.my_chat_member(-5, status), bot)
        assert parsed.my_chat_member is not None
        assert parsed.my_chat_member.new_chat_member.status == status

    post = Update.de_json(fake.channel_post(-1009, "news"), bot)
    assert post.channel_post is not None and post.channel_post.chat.type == "channel"

    original = fake.user_message(5, "tpyo")
    edit = Update.de_json(fake.edited_message(5, "typo", message_id=original["message"]["message_id"]), bot)
    assert edit.edited_message is not None and edit.edited_message.text == "typo"

    query = Update.de_json(fake.callback_query(5, "x", message_id=77), bot)
    assert query.callback_query is not None and query.callback_query.chat_instance
    ids = [u.update_id for u in (blocked, post, edit, query)]
    assert ids == sorted(ids) and len(set(ids)) == 4


async def test_parameters_are_decoded_from_every_encoding(fake: FakeBotApi) -> None:
    """Form, JSON and query parameters decode alike: JSON objects to dicts, free text stays text."""
    url = f"{fake.base_url}{fake.token}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{url}/sendMessage", data={"chat_id": "7", "text": "123", "reply_markup": json.dumps(markup)}
        )
        await client.post(
            f"{url}/sendMessage", json={"chat_id": "7", "text": "true", "reply_markup": json.dumps(markup)}
        )
        await client.post(f"{url}/sendMessage", json={"chat_id": 7, "text": "t", "reply_markup": markup})
        await client.get(f"{url}/SENDMESSAGE", params={"chat_id": "7", "text": "q"})
        await client.post(f"{url}/sendMessage", files={"chat_id": (None, "7"), "text": (None, "m")})
    sent = fake.sent_messages(7)
    assert [r.text for r in sent] == ["123", "true", "t", "q", "m"]
    assert all(r.params["chat_id"] == 7 for r in sent)
    assert [r.params.get("reply_markup") for r in sent[:3]] == [markup] * 3


async def test_wrong_token_and_unknown_method_answer_like_telegram(fake: FakeBotApi, bot: Bot) -> None:
    """A wrong token is 401 (PTB: InvalidToken); an unknown method 404 (PTB: EndPointNotFound)."""
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{fake.base_url}999:wrong/getMe")
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="999:wrong"):  # a deliberately wrong fake token
            pass

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    unknown = fake.calls("noSuchMethod")[0]
    assert (unknown.ok, unknown.status) == (False, 404)


async def test_forbidden_fault_is_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    """forbidden_for(chats) answers 403 "bot was blocked by the user" for those chats only."""
    fake.add_fault(forbidden_for([5]))
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat_id=5, text="x")
    await bot.send_message(chat_id=6, text="y")
    assert [r.fault for r in fake.calls("sendMessage")] == ["forbidden", None]
    assert fake.sent_texts() == ["y"]
    assert 5 not in fake.messages


async def test_retry_after_fault_is_retry_after(fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """retry_after_every(2, 7): every 2nd request is 429 with retry_after=7 (PTB RetryAfter)."""
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) while *constructing* RetryAfter,
    # which filterwarnings=error turns into the raised exception.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.add_fault(retry_after_every(2, 7))
    await bot.send_message(chat_id=5, text="1")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id=5, text="2")
    assert caught.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]  # timedelta with PTB_TIMEDELTA
    await bot.send_message(chat_id=5, text="3")
    with pytest.raises(RetryAfter):
        await bot.send_message(chat_id=5, text="4")
    assert fake.sent_texts(5) == ["1", "3"]


async def test_retry_after_without_timedelta_opt_in_raises_the_deprecation(
    fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents a PTB 22 trap: with filterwarnings=error a 429 surfaces as PTBDeprecationWarning."""
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    fake.add_fault(retry_after_every(1, 3))
    with pytest.raises(Warning, match="PTB_TIMEDELTA"):
        await bot.send_message(chat_id=5, text="x")


async def test_chat_not_found_fault_is_bad_request(fake: FakeBotApi, bot: Bot) -> None:
    """chat_not_found_for(chats) answers 400 "chat not found" (PTB: BadRequest "Chat not found")."""
    fake.add_fault(chat_not_found_for([5]))
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(chat_id=5, text="x")


async def test_migrate_fault_is_chat_migrated(fake: FakeBotApi, bot: Bot) -> None:
    """migrate(old, new) answers 400 with migrate_to_chat_id (PTB: ChatMigrated.new_chat_id)."""
    fake.add_fault(migrate(-5, -1001234567890))
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(chat_id=-5, text="x")
    assert caught.value.new_chat_id == -1001234567890
    assert (await bot.send_message(chat_id=-1001234567890, text="x")).chat.type == "supergroup"


async def test_server_errors_are_network_errors(fake: FakeBotApi, bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A 502 HTML page and a 500 JSON error both become NetworkError; the burst then ends."""
    fake.add_fault(server_error_burst(1, status=502))
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)\. Parsing the server response"):
        await bot.send_message(chat_id=5, text="a")
    fake.clear_faults()
    fake.add_fault(server_error_burst(2, status=500))
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"^Internal Server Error$"):
            await bot.send_message(chat_id=5, text="b")
    await bot.send_message(chat_id=5, text="c")
    assert [r.fault for r in fake.calls("sendMessage")] == [
        "server_error_502",
        "server_error_500",
        "server_error_500",
        None,
    ]
    assert "Can not load invalid JSON data" in caplog.text  # PTB logs the HTML body as an error


async def test_slow_reply_with_short_read_timeout_is_timed_out(fake: FakeBotApi) -> None:
    """slow_for(None, s) delays replies; a client read timeout below s raises TimedOut."""
    fake.add_fault(slow_for(None, 1.0))
    async with make_bot(fake, read_timeout=0.2) as slow_bot:
        start = time.monotonic()
        with pytest.raises(TimedOut):
            await slow_bot.send_message(chat_id=5, text="x")
        assert time.monotonic() - start < 0.9
    [recorded] = fake.calls("sendMessage")
    assert (recorded.fault, recorded.ok) == ("slow", True)
    assert fake.messages[5][1].text == "x", "the message was delivered even though the client timed out"


async def test_conflict_fault_for_get_updates(fake: FakeBotApi, bot: Bot) -> None:
    """conflict() answers getUpdates with 409 (PTB: Conflict) and leaves other methods alone."""
    fake.add_fault(conflict(times=1))
    with pytest.raises(Conflict, match="only one bot instance"):
        await bot.get_updates()
    await bot.send_message(chat_id=5, text="fine")
    assert await bot.get_updates() == ()


async def test_disconnect_fault_delivers_but_drops_the_answer(fake: FakeBotApi, bot: Bot) -> None:
    """disconnect_for carries the request out, then drops the connection: NetworkError, message stored."""
    fake.add_fault(disconnect_for([5]))
    with pytest.raises(NetworkError):
        await bot.send_message(chat_id=5, text="maybe")
    assert fake.messages[5][1].text == "maybe"
    assert (await bot.send_message(chat_id=5, text="again")).message_id == 2


async def test_generic_rule_counts_only_its_scope(fake: FakeBotApi, bot: Bot) -> None:
    """when(...) with skip/times counts requests in scope only (getUpdates never counts by default)."""
    fake.add_fault(when(Fault.forbidden(), chat_ids=[5], skip=1, times=1))
    await bot.get_updates()
    await bot.send_message(chat_id=6, text="other chat")
    await bot.send_message(chat_id=5, text="first passes")
    with pytest.raises(Forbidden):
        await bot.send_message(chat_id=5, text="second fails")
    await bot.send_message(chat_id=5, text="third passes")
    assert fake.sent_texts(5) == ["first passes", "third passes"]


async def test_go_down_refuses_connections_until_come_back(fake: FakeBotApi, bot: Bot) -> None:
    """go_down closes the port (NetworkError, not a timeout); come_back listens on the same port."""
    port = fake.port
    await fake.go_down()
    assert not fake.running
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(chat_id=5, text="x")
    assert not isinstance(caught.value, TimedOut)
    await fake.come_back()
    assert fake.port == port
    assert (await bot.send_message(chat_id=5, text="y")).text == "y"
    assert fake.sent_texts() == ["y"]


async def test_go_down_ends_long_polls_at_once(fake: FakeBotApi, bot: Bot) -> None:
    """A long poll in flight is answered (empty) straight away when the server goes down."""
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for("getUpdates")
    start = time.monotonic()
    await fake.go_down()
    assert await poll == ()
    assert time.monotonic() - start < 1
    await fake.come_back()


async def test_latency_delays_every_reply(bot: Bot, fake: FakeBotApi) -> None:
    """latency adds that many seconds to each answer."""
    fake.latency = 0.2
    start = time.monotonic()
    await bot.send_message(chat_id=5, text="x")
    assert time.monotonic() - start >= 0.2


async def test_wait_for_timeout_lists_what_was_recorded(fake: FakeBotApi, bot: Bot) -> None:
    """wait_for raises TimeoutError naming the requests it saw instead."""
    mark = fake.mark()
    await bot.send_message(chat_id=5, text="not this one")
    with pytest.raises(TimeoutError, match=r"(?s)no editMessageText.*sendMessage chat_id=5 text='not this one'"):
        await fake.wait_for("editMessageText", timeout=0.1, after=mark)
    found = await fake.wait_for("SendMessage", predicate=lambda r: r.text == "not this one", after=mark)
    assert found.chat_id == 5


async def test_many_concurrent_requests(fake: FakeBotApi) -> None:
    """Hundreds of concurrent sendMessage calls are all answered, with unique per-chat ids."""
    url = f"{fake.base_url}{fake.token}/sendMessage"

    async def send(session: aiohttp.ClientSession, i: int) -> int:
        async with session.post(url, data={"chat_id": str(i % 5 + 1), "text": f"m{i}"}) as answer:
            await answer.read()
            return answer.status

    # aiohttp's client: httpx needs seconds for this many concurrent requests (its pool, not the server).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:
        statuses = await asyncio.gather(*(send(session, i) for i in range(1000)))
    assert set(statuses) == {200}
    assert len(fake.sent_messages()) == 1000
    assert all(sorted(fake.messages[c]) == list(range(1, 201)) for c in range(1, 6))
