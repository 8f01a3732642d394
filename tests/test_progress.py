"""Pauses freeze the program; rest and paused days never break a streak."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain import Catalog, DayKind
from bot.planner import plan_day
from bot.progress import Member, PauseSpan, compute_stats, day_kind

START = date(2026, 11, 2)  # a Monday; the week is train, train, rest, train, train, train, rest


def d(offset: int) -> date:
    return START + timedelta(days=offset)


def test_after_a_pause_the_program_continues_where_it_stopped(catalog: Catalog) -> None:
    """Day 4 before a 5-day pause is followed by day 5's plan on the first day after it."""
    member = Member(START, "s", (PauseSpan(d(4), d(8)),))
    unpaused = Member(START, "s")
    before = plan_day(catalog=catalog, enrollment=member.enrollment_on(d(3)), today=d(3))
    after = plan_day(catalog=catalog, enrollment=member.enrollment_on(d(9)), today=d(9))
    assert before == plan_day(catalog=catalog, enrollment=unpaused.enrollment_on(d(3)), today=d(3))
    expected = plan_day(catalog=catalog, enrollment=unpaused.enrollment_on(d(4)), today=d(4))
    assert (after.day_number, after.exercise, after.tip) == (expected.day_number, expected.exercise, expected.tip)
    assert day_kind(catalog.program, member, d(5)) is None


def test_streak_counts_through_rest_days_and_pauses(catalog: Catalog) -> None:
    """Done on every training day, with a pause in between: the streak never breaks."""
    member = Member(START, "s", (PauseSpan(d(7), d(9)),))
    days = [d(i) for i in range(20) if day_kind(catalog.program, member, d(i)) is DayKind.TRAIN]
    stats = compute_stats(program=catalog.program, member=member, done_days=days, today=d(19))
    assert stats.current_streak == stats.best_streak == stats.total == len(days)


def test_a_missed_training_day_breaks_the_streak_but_today_does_not(catalog: Catalog) -> None:
    """Missing day 2 (a training day) resets the streak; today, not yet done, does not."""
    member = Member(START, "s")
    done = [d(0), d(3), d(4)]  # day index 1 (training) missed; 2 is rest
    stats = compute_stats(program=catalog.program, member=member, done_days=done, today=d(5))
    assert (stats.current_streak, stats.best_streak, stats.total) == (2, 2, 3)
    assert not stats.done_today
    later = compute_stats(program=catalog.program, member=member, done_days=done, today=d(6))
    assert later.current_streak == 0  # day 5 (training) passed without a session


def test_an_extra_session_on_a_rest_day_counts(catalog: Catalog) -> None:
    """A session on a rest day adds to the streak and the total."""
    stats = compute_stats(program=catalog.program, member=Member(START, "s"), done_days=[d(0), d(1), d(2)], today=d(2))
    assert (stats.current_streak, stats.total, stats.done_today) == (3, 3, True)


def test_this_week_counts_monday_to_sunday(catalog: Catalog) -> None:
    """The week's plan has 5 training days; done days outside the week do not count."""
    stats = compute_stats(program=catalog.program, member=Member(START, "s"), done_days=[d(0), d(7), d(8)], today=d(9))
    assert (stats.week_done, stats.week_planned) == (2, 5)
