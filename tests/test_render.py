"""Rendering: valid Telegram HTML, escaped content, within 4096 characters."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import callbacks
from bot.domain import Catalog, DayKind, Enrollment, Prescription, Tempo, Unit
from bot.plaintext import html_to_text, reply_to_text
from bot.planner import plan_day
from bot.render import (
    MAX_MESSAGE_LENGTH,
    describe_prescription,
    describe_seconds,
    render_about,
    render_day,
    render_faq_answer,
    telegram_length,
)
from tests.telegram_html import telegram_html_problems


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    offset=st.integers(0, 3000),
    seed=st.text(min_size=1, max_size=8),
)
def test_every_daily_message_of_any_400_day_span_is_valid_and_fits(
    catalog: Catalog, start: date, offset: int, seed: str
) -> None:
    """Each day's message is valid Telegram HTML (balanced, allowed tags) and at most 4096 characters."""
    enrollment = Enrollment(start=start, seed=seed)
    for day in range(400):
        plan = plan_day(catalog=catalog, enrollment=enrollment, today=start + timedelta(days=offset + day))
        reply = render_day(plan)
        assert telegram_length(reply.text) <= MAX_MESSAGE_LENGTH
        assert telegram_html_problems(reply.text) == []
        for row in reply.keyboard:
            for button in row:
                assert len(button.data.encode()) <= callbacks.MAX_BYTES
                assert callbacks.decode(button.data) is not None


def test_every_faq_answer_and_about_message_is_valid_and_fits(catalog: Catalog) -> None:
    """FAQ answers and About messages of all exercises are valid and fit."""
    for exercise in catalog.exercises:
        replies = [render_about(exercise), *(render_faq_answer(exercise, entry) for entry in exercise.faq)]
        for reply in replies:
            assert telegram_length(reply.text) <= MAX_MESSAGE_LENGTH
            assert telegram_html_problems(reply.text) == []


def test_content_with_html_characters_is_escaped(catalog: Catalog) -> None:
    """Text like '<b>' or 'A & B' in content is shown literally, never parsed as markup."""
    hostile = "Use <b>bold</b> & <script>x</script> 5 < 6 > 4"
    base = catalog.exercises[0]
    exercise = replace(base, name=hostile, summary=hostile, instructions=(hostile,), tips=(hostile,))
    plan = plan_day(catalog=catalog, enrollment=Enrollment(date(2026, 1, 1), "x"), today=date(2026, 1, 1))
    assert plan.kind is DayKind.TRAIN
    assert plan.tip is not None
    plan = replace(plan, exercise=exercise, tip=replace(plan.tip, text=hostile))
    for reply in (render_day(plan), render_about(exercise), render_faq_answer(exercise, exercise.faq[0])):
        assert telegram_html_problems(reply.text) == []
        assert hostile in html_to_text(reply.text)


def test_the_html_checker_rejects_what_telegram_rejects() -> None:
    """The checker used above can fail: unknown or unbalanced tags and bare '&' or '<'."""
    assert telegram_html_problems("<b>ok</b> &amp; &lt;") == []
    assert telegram_html_problems("<div>x</div>")
    assert telegram_html_problems("<b><i>x</b></i>")
    assert telegram_html_problems("<b>open")
    assert telegram_html_problems("fish & chips")
    assert telegram_html_problems("5 < 6")
    assert telegram_html_problems("&nbsp;")


def test_a_daily_message_shows_prescription_instructions_tip_and_buttons(catalog: Catalog) -> None:
    """The workout message has the title, the sets, numbered steps, the tip, a pointer to /faq and buttons."""
    start = date(2026, 11, 21)
    plan = plan_day(catalog=catalog, enrollment=Enrollment(start, "x"), today=start)
    assert plan.exercise is not None
    assert plan.tip is not None
    text = reply_to_text(render_day(plan))
    assert plan.exercise.name in text
    assert "Day 1 · Week 1 · Learn the movement" in text
    assert "2 sets × 12 reps · rest 45 s between sets" in text
    assert "Tempo: 2 s up · 1 s hold · 3 s down" in text
    assert f"1. {plan.exercise.instructions[0]}" in text
    assert f"{len(plan.exercise.instructions)}. {plan.exercise.instructions[-1]}" in text
    assert plan.tip.text in text
    assert "/faq" in text
    assert "[ ✅ Done ]" in text
    done = render_day(plan).keyboard[0][0]
    assert callbacks.decode(done.data) == callbacks.Done(start)


def test_a_rest_day_names_the_next_workout(catalog: Catalog) -> None:
    """Day 3 is a rest day; its message says so and names tomorrow's exercise."""
    start = date(2026, 11, 21)
    plan = plan_day(catalog=catalog, enrollment=Enrollment(start, "x"), today=start + timedelta(days=2))
    assert plan.kind is DayKind.REST
    assert plan.next_exercise is not None
    text = html_to_text(render_day(plan).text)
    assert "Rest day" in text
    assert f"Next workout: {plan.next_exercise.name}, tomorrow." in text
    assert render_day(plan).keyboard == ()


def test_prescriptions_read_naturally() -> None:
    """Units, sides, single sets and rest durations are phrased for people."""
    per_leg = Prescription(
        sets=3, amount=10, unit=Unit.REPS, per_side=True, rest_seconds=90, tempo=Tempo(2, 1, 3), load=None
    )
    assert describe_prescription(per_leg) == "3 sets × 10 reps per leg · rest 1 min 30 s between sets"
    single = Prescription(sets=1, amount=20, unit=Unit.STEPS, per_side=False, rest_seconds=60)
    assert describe_prescription(single) == "1 set × 20 steps"
    timed = Prescription(sets=2, amount=15, unit=Unit.SECONDS, per_side=False, rest_seconds=120)
    assert describe_prescription(timed) == "2 sets × 15 seconds · rest 2 min between sets"
    assert [describe_seconds(s) for s in (0, 45, 60, 75)] == ["0 s", "45 s", "1 min", "1 min 15 s"]


def test_callback_data_round_trips_and_rejects_forgeries() -> None:
    """Encoded data decodes to the same value; unknown, malformed or oversized data decodes to None."""
    for value in (callbacks.Done(date(2026, 3, 29)), callbacks.FaqList("pogo-hops"), callbacks.About("x")):
        assert callbacks.decode(callbacks.encode(value)) == value
    for forged in ("", "done:", "done:2026-02-30", "nope:1", "faq", "about:" + "x" * 80, ":::"):
        assert callbacks.decode(forged) is None
