"""A person's first days with calfbot, end to end through the telegram-test-api emulator.

The real calfbot Application (the composition root, handlers, SQLite file)
polls the third-party emulator through the quirks adapter; the test plays the
user with the emulator's client API and reads what the user would see.
"""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import load_config
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.domain import Catalog
from bot.handlers.context import BotApplication
from tests.bot.harness import FakeClock
from tests.e2e.emulator import BotMessage, Emulator, EmulatorUser
from tests.e2e.quirks_adapter import QuirksAdapter

# calfbot validates its token like Telegram's; the emulator accepts any.
TOKEN = "123456789:" + "E2eJourneyTokenForTheEmulator0000000"[:35]
SATURDAY_MORNING = dtm.datetime(2026, 11, 21, 9, 0, tzinfo=dtm.UTC)


@pytest.fixture
async def calfbot(catalog: Catalog, quirks_adapter: QuirksAdapter, tmp_path: Path) -> AsyncIterator[BotApplication]:
    """calfbot in polling mode against the emulator, on its own SQLite file."""
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": quirks_adapter.base_url}, env_file=None)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    app = build_application(config, catalog=catalog, engine=engine, clock=FakeClock(SATURDAY_MORNING), deliver=False)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    # The emulator answers getUpdates at once (no long polling): poll every 20 ms.
    await app.updater.start_polling(poll_interval=0.02, timeout=dtm.timedelta(seconds=0))
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await engine.dispose()


@pytest.fixture
def person(emulator: Emulator) -> EmulatorUser:
    return emulator.user(TOKEN, user_id=777, first_name="Mia")


async def ask(person: EmulatorUser, text: str) -> BotMessage:
    await person.send_text(text)
    return await person.wait_for_reply(timeout=10)


def shown(message: BotMessage) -> str:
    """The text the user sees (every calfbot message has one)."""
    assert message.text is not None
    return message.text


async def test_a_new_users_first_day(
    calfbot: BotApplication, person: EmulatorUser, quirks_adapter: QuirksAdapter
) -> None:
    """/start, /today, /faq, ✅, /stats, /time and /timezone, as the user sees each reply."""
    assert [c["command"] for c in quirks_adapter.commands_for()][:3] == ["today", "done", "faq"]

    await person.send_text("/start")
    greeting = await person.wait_for_reply(timeout=10)
    assert "Welcome to calfbot, Mia!" in shown(greeting)
    assert "07:00" in shown(greeting)
    workout = await person.wait_for_reply(timeout=10)
    assert "Bodyweight Calf Raise" in shown(workout)
    assert "Day 1 · Week 1" in shown(workout)

    today = await ask(person, "/today")
    assert shown(today) == shown(workout)

    answer = await ask(person, "/faq What is the most common mistake with this movement?")
    assert "Bouncing out of the bottom or leaning into the support hand" in shown(answer)

    await person.press_button(workout.button("✅ Done").callback_data or "", workout.message_id)
    edited = await person.wait_for_reply(lambda m: m.message_id == workout.message_id, timeout=10)
    assert "Logged. Well done!" in shown(edited)
    assert all(b.text != "✅ Done" for row in edited.buttons for b in row)

    stats = await ask(person, "/stats")
    assert "Sessions done: <b>1</b>" in shown(stats)
    assert "Current streak: <b>1</b>" in shown(stats)

    time_set = await ask(person, "/time 18:30")
    assert "<b>18:30</b>" in shown(time_set)
    bad_time = await ask(person, "/time 25:99")
    assert "HH:MM" in shown(bad_time)
    zone_set = await ask(person, "/timezone Europe/Berlin")
    assert "Time zone set to <b>Europe/Berlin</b>" in shown(zone_set)
    suggestion = await ask(person, "/timezone Europ/Berln")
    assert any(b.callback_data == "tz:Europe/Berlin" for row in suggestion.buttons for b in row)
