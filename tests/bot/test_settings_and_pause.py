"""/time, /timezone, /settings, their buttons, /pause and /resume."""

from __future__ import annotations

import pytest

from tests.bot.harness import Harness, buttons


@pytest.mark.parametrize("text", ["/time 25:99", "/time 7", "/time seven", "/time " + "9" * 3000])
async def test_a_bad_time_gets_the_format(bot: Harness, text: str) -> None:
    """A time that is not HH:MM gets an example of the right form."""
    await bot.say("/start", replies=2)
    (reply,) = await bot.say(text)
    assert reply.text is not None
    assert "HH:MM" in reply.text


async def test_time_and_zone_are_saved_and_shown(bot: Harness) -> None:
    """/time 18:30 and /timezone Europe/Berlin are saved; /settings shows both."""
    await bot.say("/start", replies=2)
    (time_reply,) = await bot.say("/time 18:30")
    assert time_reply.text is not None
    assert "<b>18:30</b>" in time_reply.text
    (zone_reply,) = await bot.say("/timezone Europe/Berlin")
    assert zone_reply.text is not None
    assert "Time zone set to <b>Europe/Berlin</b>" in zone_reply.text
    (settings,) = await bot.say("/settings")
    assert settings.text is not None
    assert "<b>18:30</b> (Europe/Berlin)" in settings.text
    assert "Status: active" in settings.text


async def test_an_unknown_zone_gets_close_matches_as_buttons(bot: Harness) -> None:
    """/timezone Europ/Berln suggests Europe/Berlin; Mars/Olympus is explained."""
    await bot.say("/start", replies=2)
    (typo,) = await bot.say("/timezone Europ/Berln")
    assert ("Europe/Berlin", "tz:Europe/Berlin") in buttons(typo)
    (mars,) = await bot.say("/timezone Mars/Olympus")
    assert mars.text is not None
    assert "I don't know the time zone" in mars.text


async def test_an_offset_is_a_zone(bot: Harness) -> None:
    """/timezone +03:00 is accepted as a fixed offset."""
    await bot.say("/start", replies=2)
    (reply,) = await bot.say("/timezone +03:00")
    assert reply.text is not None
    assert "UTC+03:00" in reply.text


async def test_picker_buttons_set_time_and_zone(bot: Harness) -> None:
    """The greeting's buttons open pickers; picking saves."""
    greeting, _ = await bot.say("/start", replies=2)
    picker = await bot.tap(greeting, "menu:time")
    assert ("06:00", "time:06:00") in buttons(picker)
    saved = await bot.tap(picker, "time:06:00")
    assert saved.text is not None
    assert "<b>06:00</b>" in saved.text
    zone = await bot.tap(greeting, "tz:Asia/Tokyo")
    assert zone.text is not None
    assert "Asia/Tokyo" in zone.text


@pytest.mark.parametrize("text", ["/pause -3", "/pause", "/pause 0", "/pause 91", "/pause many"])
async def test_a_bad_pause_gets_the_range(bot: Harness, text: str) -> None:
    """A pause that is not 1 to 90 days gets the range and an example."""
    await bot.say("/start", replies=2)
    (reply,) = await bot.say(text)
    assert reply.text is not None
    assert "from 1 to 90" in reply.text


async def test_pause_and_resume(bot: Harness) -> None:
    """/pause 3 pauses today; /today says so; /resume continues where the program stopped."""
    await bot.say("/start", replies=2)
    (paused,) = await bot.say("/pause 3")
    assert paused.text is not None
    assert "Paused for 3 days, until Monday 23 November" in paused.text
    (again,) = await bot.say("/pause 5")
    assert again.text is not None
    assert "already paused" in again.text
    bot.clock.advance(days=1)
    (today,) = await bot.say("/today")
    assert today.text is not None
    assert "You're paused until Monday 23 November" in today.text
    (resumed,) = await bot.say("/resume")
    assert resumed.text is not None
    assert "continues where you left it" in resumed.text
    (workout,) = await bot.say("/today")
    assert workout.text is not None
    # The pause began on day 1 (Saturday), so the program resumes at day 1 on Sunday.
    assert "Day 1 · Week 1" in workout.text
    (not_paused,) = await bot.say("/resume")
    assert not_paused.text is not None
    assert "You're not paused" in not_paused.text
