"""/start, /stop, /today and /help as a person in Telegram meets them."""

from __future__ import annotations

from datetime import date

from bot.db.queries import get_subscriber
from bot.domain import Catalog
from bot.planner import plan_day
from bot.progress import Member
from bot.render import render_day
from tests.bot.harness import CHAT, Harness, buttons


async def test_start_subscribes_greets_and_shows_today(bot: Harness) -> None:
    """A first /start greets by name with the default time and zone, offers buttons, then sends today's workout."""
    greeting, workout = await bot.say("/start", replies=2, first_name="Ana")
    assert greeting.text is not None
    assert "Welcome to calfbot, Ana!" in greeting.text
    assert "<b>07:00</b> (UTC)" in greeting.text
    assert [data for _, data in buttons(greeting)] == ["menu:time", "menu:zone"]
    assert workout.text is not None
    assert "Bodyweight Calf Raise" in workout.text
    assert ("✅ Done", "done:2026-11-21") in buttons(workout)


async def test_a_second_start_keeps_progress(bot: Harness, catalog: Catalog) -> None:
    """/start again, days later, says welcome back and keeps day 1 where it was."""
    await bot.say("/start", replies=2)
    bot.clock.advance(days=3)
    (again,) = await bot.say("/start")
    assert again.text is not None
    assert "Welcome back" in again.text
    (today,) = await bot.say("/today")
    assert today.text is not None
    assert "Day 4 · Week 1" in today.text


async def test_start_with_a_deep_link_payload_is_a_normal_start(bot: Harness) -> None:
    """`/start ref-campaign_42` (a t.me deep link) subscribes like /start."""
    greeting, _ = await bot.say("/start ref-campaign_42", replies=2)
    assert greeting.text is not None
    assert "Welcome to calfbot" in greeting.text


async def test_today_is_exactly_the_planned_message(bot: Harness, catalog: Catalog) -> None:
    """/today sends the same text the scheduled message renders for that day."""
    await bot.say("/start", replies=2)
    bot.clock.advance(days=9)
    (reply,) = await bot.say("/today")
    async with bot.app.bot_data["calfbot.deps"].sessions() as session:
        subscriber = await get_subscriber(session, CHAT)
    assert subscriber is not None
    day = date(2026, 11, 30)
    expected = render_day(plan_day(catalog=catalog, enrollment=subscriber.member.enrollment_on(day), today=day))
    assert reply.text == expected.text
    assert subscriber.member == Member(date(2026, 11, 21), subscriber.member.seed)


async def test_stop_keeps_data_and_start_resumes(bot: Harness) -> None:
    """/stop unsubscribes; /start afterwards is a welcome back, not a new subscription."""
    await bot.say("/start", replies=2)
    (stopped,) = await bot.say("/stop")
    assert stopped.text is not None
    assert "Your progress is kept" in stopped.text
    (back,) = await bot.say("/start")
    assert back.text is not None
    assert "Welcome back" in back.text


async def test_commands_need_a_subscription_first(bot: Harness) -> None:
    """/today, /done, /stats, /settings, /pause 3 and /time 07:00 before /start point to /start."""
    for command in ("/today", "/done", "/stats", "/settings", "/pause 3", "/time 07:00", "/stop"):
        (reply,) = await bot.say(command)
        assert reply.text is not None
        assert "Send /start" in reply.text, command


async def test_help_lists_every_command_and_they_are_registered(bot: Harness) -> None:
    """/help names every command, and the same list was sent with setMyCommands at start."""
    (reply,) = await bot.say("/help")
    registered = bot.api.calls("setMyCommands")[0].params["commands"]
    names = [command["command"] for command in registered]
    assert names == ["today", "done", "faq", "stats", "settings", "time", "timezone", "pause", "resume", "stop", "help"]
    assert reply.text is not None
    for name in names:
        assert f"/{name}:" in reply.text
