"""/done, the ✅ button and /stats."""

from __future__ import annotations

from tests.bot.harness import CHAT, Harness, buttons


async def test_done_logs_once_per_day(bot: Harness) -> None:
    """/done logs today; a second /done says it is already logged."""
    await bot.say("/start", replies=2)
    (first,) = await bot.say("/done")
    (second,) = await bot.say("/done")
    assert first.text is not None
    assert "Logged today's" in first.text
    assert second.text is not None
    assert "Already logged today" in second.text


async def test_the_done_button_logs_and_edits_the_message(bot: Harness) -> None:
    """Pressing ✅ logs the day, answers the press, and edits the message to show it was logged."""
    _, workout = await bot.say("/start", replies=2)
    mark = bot.api.mark()
    answer = await bot.press(workout, "done:2026-11-21")
    assert answer.params.get("text") == "✅ Logged!"
    edit = await bot.api.wait_for("editMessageText", after=mark)
    assert edit.text is not None
    assert "Logged. Well done!" in edit.text
    assert "done:2026-11-21" not in [d for _, d in buttons(edit)]
    again = await bot.press(workout, "done:2026-11-21")
    assert again.params.get("text") == "Already logged ✅"
    (today,) = await bot.say("/today")
    assert today.text is not None
    assert "Logged. Well done!" in today.text


async def test_done_yesterday_back_fills_one_day(bot: Harness) -> None:
    """/done yesterday logs the previous day; before the program started there is nothing to log."""
    await bot.say("/start", replies=2)
    (too_early,) = await bot.say("/done yesterday")
    assert too_early.text is not None
    assert "nothing to log before that" in too_early.text
    bot.clock.advance(days=1)
    (reply,) = await bot.say("/done yesterday")
    assert reply.text is not None
    assert "Logged the session of Saturday 21 November" in reply.text
    (help_reply,) = await bot.say("/done last tuesday")
    assert help_reply.text is not None
    assert "/done yesterday" in help_reply.text


async def test_stats_show_sessions_streaks_and_the_week(bot: Harness) -> None:
    """Three logged training days in a row make a streak of 3, across the rest day between them."""
    await bot.say("/start", replies=2)
    for _ in range(4):  # Sat, Sun (train), Mon (rest), Tue (train)
        (today,) = await bot.say("/today")
        if "Rest day" not in (today.text or ""):
            await bot.say("/done")
        bot.clock.advance(days=1)
    (stats,) = await bot.say("/stats")
    assert stats.text is not None
    assert "Sessions done: <b>3</b>" in stats.text
    assert "Current streak: <b>3</b> · Best: <b>3</b>" in stats.text
    assert "This week: 1 of" in stats.text  # Wednesday 25 November: only Tuesday is in this week
    assert bot.api.sent_messages(CHAT)
