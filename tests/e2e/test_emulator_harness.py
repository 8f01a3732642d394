"""The e2e harness proves itself: a real PTB Application polls the emulator through the quirks adapter.

Also pins down the emulator quirks the adapter repairs, so that an upgrade of telegram-test-api that
fixes one (or breaks another) shows up here.
"""

from __future__ import annotations

import datetime as dtm
import json
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, ExtBot

from tests.e2e.conftest import skip_or_fail_without_emulator
from tests.e2e.emulator import (
    INSTALL_COMMAND,
    TEST_TOKEN,
    Emulator,
    EmulatorUser,
    command_entities,
    emulator_install_problem,
)
from tests.e2e.quirks_adapter import QuirksAdapter, _in_seconds

GREETING = "Ready for today's calf raises?"
GO = "go"
STARTED = "Set 1 of 3: 15 raises. Go!"
COMMANDS = [BotCommand("start", "Start today's workout")]
REPLY_TIMEOUT = 3.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class RunningBot:
    app: AnyApplication
    adapter: QuirksAdapter
    errors: list[object] = field(default_factory=list)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Let's go", callback_data=GO)]])
    await update.effective_message.reply_text(GREETING, reply_markup=keyboard)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(STARTED)


@pytest.fixture
async def bot(quirks_adapter: QuirksAdapter) -> AsyncIterator[RunningBot]:
    """A minimal PTB bot polling the emulator through the adapter, run in-process for one test."""
    app = ApplicationBuilder().token(TEST_TOKEN).base_url(quirks_adapter.base_url).build()
    running = RunningBot(app, quirks_adapter)

    async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        running.errors.append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed, pattern=f"^{GO}$"))
    app.add_error_handler(record_error)
    await app.initialize()
    try:
        await app.bot.set_my_commands(COMMANDS)  # what a bot does at startup (post_init)
        await app.start()
        assert app.updater is not None
        # The emulator does not long-poll (getUpdates answers at once), so poll often and with timeout 0.
        await app.updater.start_polling(poll_interval=0.02, timeout=dtm.timedelta(seconds=0))
        try:
            yield running
        finally:
            await app.updater.stop()
            await app.stop()
    finally:
        await app.shutdown()


# --- the harness end to end ---------------------------------------------------------------------------


async def test_start_gets_a_reply_with_a_button(bot: RunningBot, user: EmulatorUser) -> None:
    await user.send_text("/start")

    reply = await user.wait_for_reply(timeout=REPLY_TIMEOUT)

    assert reply.text == GREETING
    assert reply.button("Let's go").callback_data == GO
    assert bot.errors == []


async def test_pressing_the_button_edits_the_message(bot: RunningBot, user: EmulatorUser) -> None:
    await user.send_text("/start")
    reply = await user.wait_for_reply(lambda m: m.text == GREETING, REPLY_TIMEOUT)

    await user.press_button(GO, reply.message_id)
    edited = await user.wait_for_reply(lambda m: m.message_id == reply.message_id, REPLY_TIMEOUT)

    assert edited.text == STARTED
    assert edited.buttons == ()  # editMessageText without reply_markup drops the keyboard, as in Telegram
    assert [m.text for m in await user.bot_messages()] == [STARTED]
    assert {"answerCallbackQuery", "editMessageText"} <= set(bot.adapter.calls)
    assert bot.errors == []


async def test_set_my_commands_at_startup_goes_through_the_adapter(bot: RunningBot) -> None:
    assert bot.adapter.commands_for() == [c.to_dict() for c in COMMANDS]
    assert await bot.app.bot.get_my_commands() == tuple(COMMANDS)
    assert bot.adapter.calls[:2] == ["getMe", "setMyCommands"]


async def test_a_button_that_is_not_there_cannot_be_pressed(bot: RunningBot, user: EmulatorUser) -> None:
    await user.send_text("/start")
    reply = await user.wait_for_reply(timeout=REPLY_TIMEOUT)

    with pytest.raises(LookupError, match="no button"):
        await user.press_button("nope", reply.message_id)
    with pytest.raises(LookupError, match="no message"):
        await user.press_button(GO, reply.message_id + 100)


async def test_wait_for_reply_times_out_listing_what_arrived(user: EmulatorUser) -> None:
    with pytest.raises(TimeoutError, match=r"within 0.1 s; the bot's messages: \[\]"):
        await user.wait_for_reply(timeout=0.1)


# --- the adapter's repairs, through PTB's Bot -------------------------------------------------------


async def test_the_adapter_gives_ptb_valid_bot_api_answers(quirks_adapter: QuirksAdapter, user: EmulatorUser) -> None:
    async with ExtBot(TEST_TOKEN, base_url=quirks_adapter.base_url) as tg:  # initialize() calls getMe
        assert tg.bot.is_bot
        assert tg.username == "TestNameBot"

        sent = await tg.send_message(
            user.chat_id,
            "<b>hi</b>",
            parse_mode="HTML",
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]),
        )
        assert abs(sent.date - dtm.datetime.now(dtm.UTC)) < dtm.timedelta(minutes=1)
        assert sent.from_user is not None
        assert sent.from_user.is_bot
        assert sent.chat.id == user.chat_id
        assert sent.reply_markup is not None

        edited = await tg.edit_message_text("edited", chat_id=user.chat_id, message_id=sent.message_id)
        assert not isinstance(edited, bool)
        assert (edited.message_id, edited.text, edited.reply_markup) == (sent.message_id, "edited", None)
        assert edited.edit_date is not None

        markup = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="b")]])
        edited = await tg.edit_message_reply_markup(user.chat_id, sent.message_id, reply_markup=markup)
        assert not isinstance(edited, bool)
        assert edited.reply_markup == markup
        assert (await user.bot_message(sent.message_id)).button("b").callback_data == "b"

        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await tg.edit_message_text("x", chat_id=user.chat_id, message_id=sent.message_id + 100)

        assert await tg.send_chat_action(user.chat_id, "typing") is True
        assert await tg.answer_callback_query("1") is True
        assert (await tg.get_webhook_info()).url == ""
        assert await tg.delete_message(user.chat_id, sent.message_id) is True
        with pytest.raises(BadRequest, match=r"(?i)wasn't found"):
            await tg.delete_message(user.chat_id, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)file uploads"):
            await tg.send_photo(user.chat_id, b"\x89PNG not really")
        with pytest.raises(BadRequest, match=r"(?i)sendPhoto is not implemented by the telegram-test-api emulator"):
            await tg.send_photo(user.chat_id, "AgACAgIAAxkBAAIBfake")


async def test_updates_reach_ptb_in_bot_api_shape(quirks_adapter: QuirksAdapter, user: EmulatorUser) -> None:
    async with ExtBot(TEST_TOKEN, base_url=quirks_adapter.base_url) as tg:
        sent = await tg.send_message(
            user.chat_id, "pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]])
        )
        await user.send_text("/start now")
        await user.press_button("x", sent.message_id)

        message_update, press_update = await tg.get_updates(timeout=0)

    assert message_update.message is not None
    assert message_update.message.text == "/start now"
    assert message_update.message.entities[0].type == "bot_command"
    assert message_update.message.api_kwargs == {}  # no botToken
    query = press_update.callback_query
    assert query is not None
    assert query.chat_instance == str(user.chat_id)
    assert query.data == "x"
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert query.message.date == sent.date


# --- the emulator's quirks, raw (what the adapter exists for) -------------------------------------------


async def test_the_emulator_still_has_the_quirks_the_adapter_repairs(emulator: Emulator, user: EmulatorUser) -> None:
    """If this fails after an upgrade of telegram-test-api, drop the repairs that are no longer needed."""
    bot_api = f"{emulator.bot_api_base_url}{TEST_TOKEN}"
    async with aiohttp.ClientSession() as http:

        async def call(method: str, **params: Any) -> tuple[int, Any]:
            async with http.post(f"{bot_api}/{method}", json=params) as response:
                return response.status, await response.json()

        status, me = await call("getMe")
        assert "is_bot" not in me["result"]
        status, sent = await call("sendMessage", chat_id=user.chat_id, text="hi")
        assert sent["result"]["date"] > 10**11  # milliseconds
        assert sent["result"]["chat_id"] == user.chat_id  # the parameters come back in the message
        assert "from" not in sent["result"]
        status, edit = await call("editMessageText", chat_id=user.chat_id, message_id=10**6, text="x")
        assert (status, edit) == (200, {"ok": True, "result": None})  # even for a message that is not there
        keyboard = {"inline_keyboard": [[{"text": "k", "callback_data": "k"}]]}
        status, keyed = await call("sendMessage", chat_id=user.chat_id, text="k", reply_markup=keyboard)
        await call("editMessageText", chat_id=user.chat_id, message_id=keyed["result"]["message_id"], text="k2")
        kept = await user.bot_message(keyed["result"]["message_id"])
        assert (kept.text, kept.reply_markup) == ("k2", keyboard)  # Telegram drops the keyboard
        status, answer = await call("answerCallbackQuery", callback_query_id="1")
        assert answer["result"] is None
        for method in ("setMyCommands", "getMyCommands", "deleteMyCommands", "sendChatAction", "getWebhookInfo"):
            status, error = await call(method, chat_id=user.chat_id)
            assert status == 500
            assert "ok" not in error
            assert "is not supported" in error["message"]
        status, failure = await call("deleteMessage", chat_id=user.chat_id, message_id=10**6)
        assert (status, failure["ok"]) == (200, False)

        form = aiohttp.MultipartWriter("form-data")
        for name, value in (("chat_id", str(user.chat_id)), ("text", "multipart")):
            form.append(value).set_content_disposition("form-data", name=name)
        async with http.post(f"{bot_api}/sendMessage", data=form) as response:
            empty = (await response.json())["result"]
        assert "text" not in empty  # multipart bodies are not parsed, yet "ok"
        assert empty["chat"]["id"] is None

        async with http.post(
            f"{emulator.url}/sendCallback",
            json={"botToken": TEST_TOKEN, "from": user.user, "message": {"chat": user.chat}, "data": "x"},
        ) as response:
            assert response.status == 200
        status, updates = await call("getUpdates")
        assert "chat_instance" not in updates["result"][0]["callback_query"]


async def test_edits_of_read_messages_only_show_in_the_history(emulator: Emulator, user: EmulatorUser) -> None:
    """Why wait_for_reply reads /getUpdatesHistory rather than the client's /getUpdates."""
    bot_api = f"{emulator.bot_api_base_url}{TEST_TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{bot_api}/sendMessage", json={"chat_id": user.chat_id, "text": "one"}) as response:
            message_id = (await response.json())["result"]["message_id"]
        body = {"token": TEST_TOKEN, "chatId": user.chat_id}
        async with http.post(f"{emulator.url}/getUpdates", json=body) as response:
            assert [u["message"]["text"] for u in (await response.json())["result"]] == ["one"]
        edit = {"chat_id": user.chat_id, "message_id": message_id, "text": "two"}
        async with http.post(f"{bot_api}/editMessageText", json=edit) as response:
            assert response.status == 200
        async with http.post(f"{emulator.url}/getUpdates", json=body) as response:
            assert (await response.json())["result"] == []
    assert [m.text for m in await user.bot_messages()] == ["two"]


# --- the harness's own plumbing ------------------------------------------------------------------------


def test_millisecond_dates_become_seconds_at_any_depth() -> None:
    update = {"update_id": 1, "message": {"date": 1_700_000_000_123, "reply_to_message": {"date": 1_700_000_000}}}
    assert _in_seconds(update) == {
        "update_id": 1,
        "message": {"date": 1_700_000_000, "reply_to_message": {"date": 1_700_000_000}},
    }


def test_commands_get_the_entity_telegram_adds() -> None:
    assert command_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("/start@TestNameBot go") == [{"type": "bot_command", "offset": 0, "length": 18}]
    assert command_entities("hello /start") == []


def test_a_missing_or_stale_emulator_install_is_explained(tmp_path: Path) -> None:
    problem = emulator_install_problem(tmp_path)
    assert problem is not None
    assert INSTALL_COMMAND in problem

    installed = tmp_path / "node_modules" / "telegram-test-api"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"version": "4.0.0"}))
    lock = {"packages": {"node_modules/telegram-test-api": {"version": "4.2.1"}}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    problem = emulator_install_problem(tmp_path)
    assert problem is not None
    assert "4.0.0 is installed but package-lock.json pins 4.2.1" in problem

    lock["packages"]["node_modules/telegram-test-api"]["version"] = "4.0.0"
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    assert emulator_install_problem(tmp_path) is None


def test_without_the_emulator_tests_skip_unless_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALFBOT_REQUIRE_E2E", raising=False)
    with pytest.raises(pytest.skip.Exception, match=INSTALL_COMMAND):
        skip_or_fail_without_emulator(tmp_path)
    monkeypatch.setenv("CALFBOT_REQUIRE_E2E", "1")
    with pytest.raises(pytest.fail.Exception, match="CALFBOT_REQUIRE_E2E=1"):
        skip_or_fail_without_emulator(tmp_path)


async def test_the_emulator_is_stopped_by_its_pid_and_killed_if_it_hangs() -> None:
    skip_or_fail_without_emulator()
    async with Emulator() as emu:
        pid = emu.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

    emu = Emulator(stop_timeout=0.2)
    await emu.start()
    process = emu._process
    assert process is not None
    os.kill(emu.pid, signal.SIGSTOP)  # a stopped process ignores SIGTERM until it is continued
    await emu.stop()
    assert process.returncode == -signal.SIGKILL
