"""The planner: every day has a valid plan, rest days and tips follow the rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import (
    Catalog,
    DayKind,
    DayPlan,
    Enrollment,
    Exercise,
    FaqEntry,
    Prescription,
    Program,
    Stage,
    Unit,
)
from bot.planner import plan_day

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
seeds = st.text(min_size=1, max_size=12)


def plans(catalog: Catalog, enrollment: Enrollment, first: date, days: int) -> list[DayPlan]:
    return [
        plan_day(catalog=catalog, enrollment=enrollment, today=first + timedelta(days=offset)) for offset in range(days)
    ]


def assert_valid(catalog: Catalog, enrollment: Enrollment, plan: DayPlan) -> None:
    """One plan is internally consistent and follows the program."""
    program = catalog.program
    index = (plan.day - enrollment.start).days
    assert plan.day_number == index + 1
    assert plan.week == max(1, index // 7 + 1)
    assert plan.stage == max((s for s in program.stages if s.from_week <= plan.week), key=lambda s: s.from_week)
    assert plan.kind is program.week[index % 7]
    if plan.kind is DayKind.TRAIN:
        assert plan.exercise is not None
        assert plan.tip is not None
        assert plan.exercise.id in plan.stage.rotation
        assert plan.prescription == plan.stage.prescription_for(plan.exercise.id)
        assert plan.tip.text in plan.exercise.tips
        assert 1 <= plan.tip.number <= plan.tip.of == len(plan.exercise.tips)
    else:
        assert plan.exercise is None
        assert plan.next_date is not None
        assert plan.next_exercise is not None
        assert 1 <= (plan.next_date - plan.day).days <= 7
        assert program.week[(plan.next_date - enrollment.start).days % 7] is DayKind.TRAIN


def assert_span_is_sound(catalog: Catalog, enrollment: Enrollment, first: date) -> None:
    """Over 400 days from ``first``, every plan is valid and tips rotate."""
    sequence = plans(catalog, enrollment, first, 400)
    for plan in sequence:
        assert_valid(catalog, enrollment, plan)
    assert_tips_rotate(sequence)


def assert_tips_rotate(sequence: list[DayPlan]) -> None:
    """Per exercise, any run of T consecutive meetings shows T different tips."""
    tips_by_exercise: dict[str, list[str]] = defaultdict(list)
    for plan in sequence:
        if plan.kind is DayKind.TRAIN and plan.exercise is not None and plan.tip is not None:
            tips_by_exercise[plan.exercise.id].append(plan.tip.text)
    for exercise_id, shown in tips_by_exercise.items():
        total = next(len(p.exercise.tips) for p in sequence if p.exercise and p.exercise.id == exercise_id)
        for start in range(len(shown)):
            window = shown[start : start + total]
            assert len(set(window)) == len(window), f"{exercise_id}: a tip repeated before all were shown"


@settings(max_examples=60, deadline=None)
@given(start=starts, offset=st.integers(min_value=0, max_value=3000), seed=seeds)
def test_every_day_of_any_400_day_span_has_a_valid_plan(catalog: Catalog, start: date, offset: int, seed: str) -> None:
    """Over any start and any 400-day span, plans are valid, rest days follow the week, tips rotate."""
    assert_span_is_sound(catalog, Enrollment(start=start, seed=seed), start + timedelta(days=offset))


@settings(max_examples=30, deadline=None)
@given(start=starts, seed=seeds)
def test_each_exercise_shows_all_its_tips_within_its_tip_count(catalog: Catalog, start: date, seed: str) -> None:
    """From the first day, the first T meetings of an exercise show each of its T tips once."""
    sequence = plans(catalog, Enrollment(start=start, seed=seed), start, 800)
    meetings: dict[str, list[str]] = defaultdict(list)
    for plan in sequence:
        if plan.exercise is not None and plan.tip is not None:
            meetings[plan.exercise.id].append(plan.tip.text)
    for exercise in catalog.exercises:
        first = meetings[exercise.id][: len(exercise.tips)]
        assert sorted(first) == sorted(exercise.tips)


def test_the_same_inputs_always_give_the_same_plan(catalog: Catalog) -> None:
    """Planning is deterministic: /today and the scheduled message agree."""
    enrollment = Enrollment(start=date(2026, 11, 2), seed="chat-42")
    day = date(2026, 12, 24)
    assert plan_day(catalog=catalog, enrollment=enrollment, today=day) == plan_day(
        catalog=catalog, enrollment=enrollment, today=day
    )


def test_subscribers_see_tips_in_different_orders(catalog: Catalog) -> None:
    """The tip order is shuffled per subscriber seed."""
    start = date(2026, 11, 2)
    orders = {
        tuple(p.tip.text for p in plans(catalog, Enrollment(start, f"chat-{n}"), start, 120) if p.tip) for n in range(5)
    }
    assert len(orders) > 1


def test_the_program_starts_gently_and_adds_hopping_later(catalog: Catalog) -> None:
    """Day 1 is the bodyweight raise, day 3 a rest day, and pogo hops wait for stage 3 (week 5)."""
    start = date(2026, 11, 21)
    sequence = plans(catalog, Enrollment(start, "x"), start, 63)
    assert sequence[0].exercise is not None
    assert sequence[0].exercise.id == "bodyweight-calf-raise"
    assert sequence[2].kind is DayKind.REST
    first_pogo = next(p for p in sequence if p.exercise is not None and p.exercise.id == "pogo-hops")
    assert first_pogo.week >= 5


def test_a_date_before_the_start_still_gets_a_plan(catalog: Catalog) -> None:
    """A zone change can put 'today' a day before the start; the planner stays total."""
    enrollment = Enrollment(start=date(2026, 11, 21), seed="x")
    plan = plan_day(catalog=catalog, enrollment=enrollment, today=date(2026, 11, 20))
    assert plan.week == 1
    assert plan.kind is catalog.program.week[-1]


# --- random programs: the counting holds for any week, rotation and stages ---

PRESCRIPTION = Prescription(sets=2, amount=10, unit=Unit.REPS, per_side=False, rest_seconds=30)


def make_exercise(number: int, tips: int) -> Exercise:
    return Exercise(
        id=f"e{number}",
        name=f"Exercise {number}",
        summary="s",
        equipment=("none",),
        muscles=("calves",),
        description=("d",),
        instructions=("i",),
        tips=tuple(f"e{number} tip {t}" for t in range(tips)),
        faq=(FaqEntry("q?", "a."),),
    )


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    exercises = [make_exercise(n, draw(st.integers(1, 6))) for n in range(draw(st.integers(1, 5)))]
    ids = [e.id for e in exercises]
    week = draw(st.lists(st.sampled_from(DayKind), min_size=7, max_size=7).filter(lambda w: DayKind.TRAIN in w))
    starts = sorted(draw(st.sets(st.integers(2, 20), max_size=3)))
    stages = []
    for position, from_week in enumerate([1, *starts]):
        rotation = tuple(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6)))
        prescriptions = tuple((exercise_id, PRESCRIPTION) for exercise_id in dict.fromkeys(rotation))
        stages.append(Stage(f"stage {position}", from_week, "focus", rotation, prescriptions))
    return Catalog(exercises=tuple(exercises), program=Program("p", tuple(week), tuple(stages)))


@settings(max_examples=150, deadline=None)
@given(catalog=catalogs(), start=starts, offset=st.integers(-14, 400), seed=seeds)
def test_any_program_gives_valid_plans_and_rotating_tips(catalog: Catalog, start: date, offset: int, seed: str) -> None:
    """Rotations with repeats, several stages, any week pattern: plans stay valid, tips never repeat early."""
    assert_span_is_sound(catalog, Enrollment(start=start, seed=seed), start + timedelta(days=offset))


@settings(max_examples=100, deadline=None)
@given(catalog=catalogs(), start=starts)
def test_training_days_walk_each_stage_rotation_in_order(catalog: Catalog, start: date) -> None:
    """Within a stage, the k-th training day does rotation[k mod len], starting from the top."""
    by_stage: dict[str, list[str]] = defaultdict(list)
    for plan in plans(catalog, Enrollment(start, "s"), start, 200):
        if plan.exercise is not None:
            by_stage[plan.stage.name].append(plan.exercise.id)
    for stage in catalog.program.stages:
        done = by_stage[stage.name]
        expected = [stage.rotation[k % len(stage.rotation)] for k in range(len(done))]
        assert done == expected
