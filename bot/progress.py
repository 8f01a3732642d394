"""Pauses, streaks and stats: pure functions of a member's history.

A pause freezes the program: the effective start on a day is the stored start
moved forward by every paused day before it, so after a pause the program
resumes where it stopped. Rest days and paused days never break a streak; a
missed training day does, except today, which can still be done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain import DayKind, Enrollment, Program

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PauseSpan:
    """Local days ``first`` to ``last``, inclusive, without workouts."""

    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class Member:
    """What planning and stats need to know about one subscriber."""

    program_start: date
    seed: str
    pauses: tuple[PauseSpan, ...] = ()

    def paused_on(self, day: date) -> PauseSpan | None:
        """The pause covering ``day``, if any."""
        return next((pause for pause in self.pauses if pause.covers(day)), None)

    def enrollment_on(self, day: date) -> Enrollment:
        """The planner's view on ``day``: the start shifted by the paused days before it."""
        paused_before = sum(max(0, (min(pause.last, day - ONE_DAY) - pause.first).days + 1) for pause in self.pauses)
        return Enrollment(start=self.program_start + timedelta(days=paused_before), seed=self.seed)


def day_kind(program: Program, member: Member, day: date) -> DayKind | None:
    """TRAIN or REST as the program says, or None on a paused day."""
    if member.paused_on(day) is not None:
        return None
    start = member.enrollment_on(day).start
    return program.week[(day - start).days % 7]


@dataclass(frozen=True, slots=True)
class Stats:
    """Figures for /stats."""

    total: int
    current_streak: int
    best_streak: int
    week_done: int
    week_planned: int
    done_today: bool


def compute_stats(*, program: Program, member: Member, done_days: Iterable[date], today: date) -> Stats:
    """Totals and streaks up to ``today``; the week is Monday to Sunday around ``today``."""
    done = frozenset(done_days)
    current = best = 0
    first = min([member.program_start, *done])
    day = first
    while day <= today:
        if day in done:
            current += 1
            best = max(best, current)
        elif day != today and day_kind(program, member, day) is DayKind.TRAIN:
            current = 0
        day += ONE_DAY
    monday = today - timedelta(days=today.weekday())
    week = [monday + timedelta(days=offset) for offset in range(7)]
    return Stats(
        total=sum(1 for d in done if d <= today),
        current_streak=current,
        best_streak=best,
        week_done=sum(1 for d in week if d in done),
        week_planned=sum(
            1 for d in week if d >= member.program_start and day_kind(program, member, d) is DayKind.TRAIN
        ),
        done_today=today in done,
    )
