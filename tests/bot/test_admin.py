"""/admin and /announce: figures for admins, a confirmed announcement, and nothing at all for anybody else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import callbacks
from bot.app import current_deps
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.db.models import Announcement
from bot.domain import Catalog
from tests.bot.conftest import START
from tests.bot.harness import CHAT, FakeClock, Harness, buttons, running_bot

ADMIN = 4242
STRANGER = 5151


@pytest.fixture
async def bot(catalog: Catalog, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with ADMIN_IDS naming one admin."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    async with running_bot(catalog, engine, FakeClock(START), settings={"ADMIN_IDS": f"{ADMIN}, 999"}) as harness:
        yield harness
    await engine.dispose()


async def _subscribe(bot: Harness, *chats: int) -> None:
    for chat in chats:
        await bot.say("/start", chat_id=chat, replies=2)


async def _announcements(bot: Harness) -> list[tuple[str, bool]]:
    async with current_deps(bot.app).sessions() as session:
        rows = await session.execute(select(Announcement.text, Announcement.confirmed_at.is_not(None)))
        return [(text, bool(confirmed)) for text, confirmed in rows]


async def test_admin_shows_subscribers_deliveries_sessions_and_the_last_tick(bot: Harness) -> None:
    """The figures an admin needs at a glance."""
    await _subscribe(bot, CHAT, 1002, 1003)
    await bot.say("/done")
    await bot.say("/stop", chat_id=1003)
    (report,) = await bot.say("/admin", chat_id=ADMIN)
    assert report.text is not None
    assert "Subscribers: 2 active · 0 paused · 1 stopped · 0 blocked" in report.text
    assert "Today's workouts (UTC date 2026-11-21): 0 pending" in report.text
    assert "Sessions logged: 1 today · 1 this week" in report.text
    assert "Last delivery tick: never" in report.text


@pytest.mark.parametrize("command", ["/admin", "/announce hello everyone", "/announce"])
async def test_non_admins_get_the_unknown_command_reply(bot: Harness, command: str) -> None:
    """Word for word what any unknown command gets: nothing hints at admin features."""
    (unknown,) = await bot.say("/frobnicate", chat_id=STRANGER)
    (reply,) = await bot.say(command, chat_id=STRANGER)
    assert reply.text == unknown.text
    assert reply.params.get("reply_markup") == unknown.params.get("reply_markup")
    assert await _announcements(bot) == []


async def test_announce_previews_exactly_then_confirms_once(bot: Harness) -> None:
    """The preview is the message itself (formatting kept); the button names the count; a second tap does nothing."""
    await _subscribe(bot, CHAT, 1002)
    update = bot.api.user_message(ADMIN, "/announce New week & new tips!")
    update["message"]["entities"].append({"type": "bold", "offset": 10, "length": 8})
    preview, question = await bot.push(update, chat_id=ADMIN, replies=2)
    assert preview.text == "<b>New week</b> &amp; new tips!"
    assert preview.params.get("parse_mode") == "HTML"
    assert question.text is not None
    assert "2 subscribers" in question.text
    (send, cancel) = buttons(question)
    assert send[0] == "📣 Send to 2 subscribers"
    assert callbacks.decode(send[1]) == callbacks.AnnounceSend(1)
    assert callbacks.decode(cancel[1]) == callbacks.AnnounceCancel(1)
    assert await _announcements(bot) == [("<b>New week</b> &amp; new tips!", False)]

    mark = bot.api.mark()
    await bot.press(question, send[1], chat_id=ADMIN)
    edited = await bot.api.wait_for("editMessageText", after=mark)
    assert "Announcement #1 is on its way" in str(edited.params.get("text"))
    assert await _announcements(bot) == [("<b>New week</b> &amp; new tips!", True)]

    toast = await bot.press(question, send[1], chat_id=ADMIN)
    assert toast.params.get("text") == "Already sent or cancelled."


async def test_cancel_drops_the_draft(bot: Harness) -> None:
    """Cancel sends nothing and the draft is gone; a later Send on it is a no-op."""
    await _subscribe(bot, CHAT)
    _, question = await bot.say("/announce Oops, wrong chat", chat_id=ADMIN, replies=2)
    (send, cancel) = buttons(question)
    mark = bot.api.mark()
    await bot.press(question, cancel[1], chat_id=ADMIN)
    edited = await bot.api.wait_for("editMessageText", after=mark)
    assert edited.params.get("text") == "Cancelled: nothing was sent."
    assert await _announcements(bot) == []
    toast = await bot.press(question, send[1], chat_id=ADMIN)
    assert toast.params.get("text") == "Already sent or cancelled."


async def test_a_forged_announce_button_from_a_non_admin_is_a_stale_button(bot: Harness) -> None:
    """Pressing ann:1 without being an admin confirms nothing and says what any stale button says."""
    await _subscribe(bot, CHAT)
    await bot.say("/announce Hello", chat_id=ADMIN, replies=2)
    (today,) = await bot.say("/today")
    toast = await bot.press(today, callbacks.encode(callbacks.AnnounceSend(1)))
    assert toast.params.get("text") == "This button is out of date. Send /today for a fresh one."
    assert await _announcements(bot) == [("Hello", False)]


async def test_announce_without_text_or_too_long_or_to_nobody_is_explained(bot: Harness) -> None:
    """Usage, Telegram's length limit, and an empty audience each get a clear reply and no draft to send."""
    (usage,) = await bot.say("/announce", chat_id=ADMIN)
    assert usage.text is not None
    assert "/announce New exercises" in usage.text
    (too_long,) = await bot.say("/announce " + "x" * 4097, chat_id=ADMIN)
    assert too_long.text is not None
    assert "4,097 characters; Telegram allows 4,096" in too_long.text
    (nobody,) = await bot.say("/announce Anyone there?", chat_id=ADMIN)
    assert nobody.text == "There are no active subscribers yet, so there is nobody to announce to."


async def test_admins_see_their_commands_in_their_own_menu(bot: Harness) -> None:
    """setMyCommands for everyone without admin commands, and per admin chat with them."""
    menus = bot.api.calls("setMyCommands")
    everyone = [m for m in menus if "scope" not in m.params]
    assert everyone
    assert "admin" not in str(everyone[0].params["commands"])
    scoped = {int(m.params["scope"]["chat_id"]) for m in menus if "scope" in m.params}
    assert scoped == {ADMIN, 999}
