"""Which exercise, prescription and tip a subscriber gets on a local date.

Pure and deterministic: the date is passed in, never read from a clock, and
the plan is computed from the enrollment alone, so /today and the scheduled
message always agree and nothing needs storing to rotate tips.

Days are counted from the enrollment's start (day index 0). Each stage has a
rotation; its k-th training day does ``rotation[k mod len]``. Tips rotate by
counting too: the m-th time a subscriber meets an exercise they get tip
``order[m mod T]``, where ``order`` is that exercise's tips shuffled once per
subscriber, so any T consecutive meetings show all T tips. Floor arithmetic
keeps every function total, even for dates before the start.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache, partial
from itertools import pairwise

from bot.domain import Catalog, DayKind, DayPlan, Enrollment, Program, Stage, TipPick

DAYS_PER_WEEK = 7


def plan_day(*, catalog: Catalog, enrollment: Enrollment, today: date) -> DayPlan:
    """Return the plan for ``today`` (a local date) for one subscriber."""
    program = catalog.program
    index = (today - enrollment.start).days
    week = max(1, index // DAYS_PER_WEEK + 1)
    stage = program.stages[_stage_number(program, index)]
    day_plan = partial(DayPlan, day=today, day_number=index + 1, week=week, stage=stage)
    if program.week[index % DAYS_PER_WEEK] is DayKind.REST:
        next_index = _next_training_index(program, index)
        return day_plan(
            kind=DayKind.REST,
            next_exercise=catalog.exercise(_exercise_id(program, next_index)),
            next_date=today + timedelta(days=next_index - index),
        )
    exercise = catalog.exercise(_exercise_id(program, index))
    order = _tip_order(enrollment.seed, exercise.id, len(exercise.tips))
    position = _meetings_before(program, index, exercise.id) % len(order)
    return day_plan(
        kind=DayKind.TRAIN,
        exercise=exercise,
        prescription=stage.prescription_for(exercise.id),
        tip=TipPick(text=exercise.tips[order[position]], number=position + 1, of=len(order)),
    )


def _start_index(stage: Stage) -> int:
    return (stage.from_week - 1) * DAYS_PER_WEEK


def _stage_number(program: Program, index: int) -> int:
    """The position of the stage that covers program day ``index``."""
    number = 0
    for position, stage in enumerate(program.stages):
        if _start_index(stage) <= index:
            number = position
    return number


def _training_days_before(program: Program, index: int) -> int:
    """Count training days in program days ``[0, index)``."""
    weeks, rest = divmod(index, DAYS_PER_WEEK)
    return weeks * program.week.count(DayKind.TRAIN) + program.week[:rest].count(DayKind.TRAIN)


def _training_days_into_stage(program: Program, stage: Stage, index: int) -> int:
    return _training_days_before(program, index) - _training_days_before(program, _start_index(stage))


def _exercise_id(program: Program, index: int) -> str:
    """The exercise of the training day at program day ``index``."""
    stage = program.stages[_stage_number(program, index)]
    return stage.rotation[_training_days_into_stage(program, stage, index) % len(stage.rotation)]


def _count_in_rounds(rotation: tuple[str, ...], days: int, exercise_id: str) -> int:
    """How often ``exercise_id`` comes up in the first ``days`` days of a rotation."""
    rounds, rest = divmod(days, len(rotation))
    return rounds * rotation.count(exercise_id) + rotation[:rest].count(exercise_id)


def _meetings_before(program: Program, index: int, exercise_id: str) -> int:
    """How many earlier training days did the same exercise, across stages."""
    current = _stage_number(program, index)
    stages = program.stages
    meetings = sum(
        _count_in_rounds(stage.rotation, _training_days_into_stage(program, stage, _start_index(after)), exercise_id)
        for stage, after in pairwise(stages[: current + 1])
    )
    stage = stages[current]
    return meetings + _count_in_rounds(stage.rotation, _training_days_into_stage(program, stage, index), exercise_id)


def _next_training_index(program: Program, index: int) -> int:
    for ahead in range(1, DAYS_PER_WEEK + 1):
        if program.week[(index + ahead) % DAYS_PER_WEEK] is DayKind.TRAIN:
            return index + ahead
    raise ValueError("the program week has no training day")


@lru_cache(maxsize=4096)
def _tip_order(seed: str, exercise_id: str, count: int) -> tuple[int, ...]:
    """A per-subscriber shuffle of an exercise's tip indices.

    ``random.Random`` seeded with a string hashes it with SHA-512, so the order
    is the same in every process and on every Python version since 3.2.
    """
    order = list(range(count))
    random.Random(f"{seed}/{exercise_id}").shuffle(order)
    return tuple(order)
