"""Prove every message the content can produce fits Telegram's 4096 limit.

The check renders the real messages rather than estimating, so a change to the
message layout is covered too. A daily message differs by stage and tip only,
so rendering each stage with the longest tip and the widest numbers covers it.
A message that does not fit is blamed on its largest part, where the author
has to cut: the instructions, the longest tip, or the stage's focus line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from bot.content.errors import ContentIssue
from bot.content.yaml_source import Loc, YamlDocument
from bot.domain import DayKind, DayPlan, Exercise, Program, Stage, TipPick
from bot.render import MAX_MESSAGE_LENGTH, Reply, render_about, render_day, render_faq_answer, telegram_length

# Wider than any day or week number a subscriber will reach (273 years).
WIDEST_NUMBER = 99_999


def oversized_messages(
    exercises: Sequence[tuple[Exercise, YamlDocument]],
    program: Program | None,
    program_doc: YamlDocument | None,
) -> Iterator[ContentIssue]:
    """Yield an issue for every message that would exceed Telegram's limit."""
    for exercise, doc in exercises:
        yield from _too_long(doc, ("description",), "the 'About' message", render_about(exercise))
        for index, entry in enumerate(exercise.faq):
            yield from _too_long(doc, ("faq", index, "answer"), "this FAQ answer", render_faq_answer(exercise, entry))
    if program is None or program_doc is None:
        return
    blamed: set[tuple[str, Loc]] = set()
    for stage_index, stage in enumerate(program.stages):
        for exercise, doc in exercises:
            if exercise.id not in stage.rotation:
                continue
            tip_index = max(range(len(exercise.tips)), key=lambda i: telegram_length(exercise.tips[i]))
            # The logged variant is the longer one (a closing line replaces a button).
            reply = render_day(_worst_case_plan(exercise, stage, tip_index), logged=True)
            parts: list[tuple[int, YamlDocument, Loc]] = [
                (sum(map(telegram_length, exercise.instructions)), doc, ("instructions",)),
                (telegram_length(exercise.tips[tip_index]), doc, ("tips", tip_index)),
                (telegram_length(stage.focus), program_doc, ("stages", stage_index, "focus")),
            ]
            _, culprit, loc = max(parts, key=lambda part: part[0])
            if (str(culprit.path), loc) not in blamed:
                issues = list(_too_long(culprit, loc, f"the daily message in stage {stage.name!r}", reply))
                blamed.update((str(culprit.path), loc) for _ in issues)
                yield from issues


def _worst_case_plan(exercise: Exercise, stage: Stage, tip_index: int) -> DayPlan:
    return DayPlan(
        day=date(2026, 1, 1),
        day_number=WIDEST_NUMBER,
        week=WIDEST_NUMBER,
        stage=stage,
        kind=DayKind.TRAIN,
        exercise=exercise,
        prescription=stage.prescription_for(exercise.id),
        tip=TipPick(text=exercise.tips[tip_index], number=len(exercise.tips), of=len(exercise.tips)),
    )


def _too_long(doc: YamlDocument, loc: Loc, what: str, reply: Reply) -> Iterator[ContentIssue]:
    length = telegram_length(reply.text)
    if length > MAX_MESSAGE_LENGTH:
        yield doc.issue(loc, f"{what} would be {length} characters; Telegram allows {MAX_MESSAGE_LENGTH}")
