"""Prove every message the catalog can produce fits Telegram's 4096 limit.

The check renders the real messages rather than estimating, so a change to the
message layout is covered too. A daily message differs by stage and tip only,
so rendering each stage with the longest tip and the widest numbers covers it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from bot.content.errors import ContentIssue
from bot.content.yaml_source import YamlDocument
from bot.domain import Catalog, DayKind, DayPlan, Exercise, TipPick
from bot.render import MAX_MESSAGE_LENGTH, Reply, render_about, render_day, render_faq_answer, telegram_length

# Wider than any day or week number a subscriber will reach (273 years).
WIDEST_NUMBER = 99_999


def oversized_messages(
    catalog: Catalog,
    exercise_docs: Mapping[str, YamlDocument],
    program_doc: YamlDocument | None,
) -> Iterator[ContentIssue]:
    """Yield an issue for every message that would exceed Telegram's limit."""
    for exercise in catalog.exercises:
        doc = exercise_docs[exercise.id]
        yield from _too_long(doc, ("description",), "the 'About' message", render_about(exercise))
        for index, entry in enumerate(exercise.faq):
            yield from _too_long(doc, ("faq", index, "answer"), "this FAQ answer", render_faq_answer(exercise, entry))
        for stage in catalog.program.stages:
            if exercise.id in {key for key, _ in stage.prescriptions}:
                plan = _worst_case_plan(catalog, exercise, stage.name)
                yield from _too_long(
                    doc, ("instructions",), f"the daily message in stage {stage.name!r}", render_day(plan)
                )
    if program_doc is not None:
        for stage in catalog.program.stages:
            for exercise in catalog.exercises:
                rest = DayPlan(
                    day=date(2026, 1, 1),
                    day_number=WIDEST_NUMBER,
                    week=WIDEST_NUMBER,
                    stage=stage,
                    kind=DayKind.REST,
                    next_exercise=exercise,
                    next_date=date(2026, 9, 30),
                )
                yield from _too_long(program_doc, ("stages",), "a rest-day message", render_day(rest))


def _worst_case_plan(catalog: Catalog, exercise: Exercise, stage_name: str) -> DayPlan:
    stage = next(s for s in catalog.program.stages if s.name == stage_name)
    longest_tip = max(exercise.tips, key=telegram_length)
    return DayPlan(
        day=date(2026, 1, 1),
        day_number=WIDEST_NUMBER,
        week=WIDEST_NUMBER,
        stage=stage,
        kind=DayKind.TRAIN,
        exercise=exercise,
        prescription=stage.prescription_for(exercise.id),
        tip=TipPick(text=longest_tip, number=len(exercise.tips), of=len(exercise.tips)),
    )


def _too_long(doc: YamlDocument, loc: tuple[str | int, ...], what: str, reply: Reply) -> Iterator[ContentIssue]:
    length = telegram_length(reply.text)
    if length > MAX_MESSAGE_LENGTH:
        yield doc.issue(loc, f"{what} would be {length} characters; Telegram allows {MAX_MESSAGE_LENGTH}")
