"""Bad input gets a clear reply or is ignored politely; nothing reaches the log as an error."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.db import queries
from tests.bot.harness import CHAT, Harness

GROUP = -100200300


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here ends with no ERROR record in the log (except where it says otherwise)."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not getattr(r, "expected", False)]
    assert errors == [], [r.getMessage() for r in errors]


async def test_unknown_commands_get_pointed_to_help(bot: Harness) -> None:
    """/frobnicate and /start_over are unknown: the reply points to /help."""
    for command in ("/frobnicate", "/start_over", "/today_please"):
        (reply,) = await bot.say(command)
        assert reply.text is not None
        assert "/help lists everything" in reply.text, command


async def test_edited_messages_are_ignored(bot: Harness) -> None:
    """Editing a message into /done does not log a session (and is not answered)."""
    await bot.say("/start", replies=2)
    bot.api.push_update(bot.api.edited_message(CHAT, "/done", message_id=1))
    mark = await bot.settle()
    assert [r.text for r in bot.api.sent_messages(CHAT)[-1:]] != []
    replies_to_edit = [r for r in bot.api.requests[mark:] if r.method == "sendMessage"]
    assert len(replies_to_edit) == 1  # only the /help probe
    (stats,) = await bot.say("/stats")
    assert stats.text is not None
    assert "Sessions done: <b>0</b>" in stats.text


async def test_groups_get_a_pointer_to_the_private_chat_and_chatter_is_ignored(bot: Harness) -> None:
    """A command in a group is answered with a pointer to the private chat; other group messages are ignored."""
    (reply,) = await bot.say("/start@calf_test_bot", chat_id=GROUP, chat_type="supergroup")
    assert reply.text is not None
    assert "private chat, @calf_test_bot" in reply.text
    mark = bot.api.mark()
    bot.api.push_update(bot.api.user_message(GROUP, "how low should my heel go?", chat_type="supergroup"))
    bot.api.push_update(bot.api.channel_post(-100999, "/start"))
    await bot.settle()
    assert [r for r in bot.api.requests[mark:] if r.method == "sendMessage" and r.chat_id != CHAT] == []


@pytest.mark.parametrize(
    "data",
    [
        "nope",
        "x" * 64,
        "done:2020-01-01",
        "done:2026-13-45",
        "done:2026-11-22",  # tomorrow: forged
        "fq:no-such-exercise:1",
        "fq:pogo-hops:999",
        "fq:pogo-hops:-1",
        "faq:no-such-exercise",
        "about:../../etc/passwd",
        "tz:Mars/Olympus",
        "time:25:99",
        "menu:everything",
        "",
    ],
)
async def test_stale_or_forged_buttons_get_a_polite_toast(bot: Harness, data: str) -> None:
    """Unknown, malformed, out-of-range or forged callback data is answered, never crashes."""
    _, workout = await bot.say("/start", replies=2)
    answer = await bot.press(workout, data)
    assert answer.params.get("text") == "This button is out of date. Send /today for a fresh one."


async def test_blocking_the_bot_makes_the_subscriber_inactive(bot: Harness) -> None:
    """my_chat_member 'kicked' in a private chat deactivates; data stays for a later /start."""
    await bot.say("/start", replies=2)
    bot.api.push_update(bot.api.my_chat_member(CHAT, "kicked"))
    await bot.settle()
    async with bot.app.bot_data["calfbot.deps"].sessions() as session:
        subscriber = await queries.get_subscriber(session, CHAT)
    assert subscriber is not None
    assert not subscriber.active


async def test_an_unexpected_failure_is_logged_with_context_and_the_user_is_told(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken database makes /stats fail: the error is logged once with the chat, the user gets an apology."""
    await bot.say("/start", replies=2)
    async with bot.app.bot_data["calfbot.deps"].sessions.begin() as session:
        await session.execute(text("DROP TABLE workouts"))
    (reply,) = await bot.say("/stats")
    assert reply.text is not None
    assert "Sorry, something went wrong on my side" in reply.text
    assert "Traceback" not in reply.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert f"in chat {CHAT}" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    errors[0].expected = True
