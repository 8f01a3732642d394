"""Day plans, FAQ answers and exercise descriptions as Telegram HTML messages.

Pure: values in, text and button specs out. Every piece of content is escaped
here, in one place, so content authors can write ``<`` and ``&`` freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from bot import callbacks
from bot.domain import DayKind, DayPlan, Exercise, FaqEntry, Prescription, Tempo, Unit

# Telegram's message limit. Counted in UTF-16 code units of the text before
# entity parsing, which is stricter than Telegram's own count after parsing.
MAX_MESSAGE_LENGTH = 4096
LOGGED_LINE = "✅ <b>Logged. Well done!</b> See your streak with /stats."


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: its label and the callback data it sends."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """A message ready to send: HTML text and an inline keyboard."""

    text: str
    keyboard: Keyboard = ()


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def escape_text(text: str) -> str:
    """Content as Telegram HTML text: only ``&``, ``<`` and ``>`` need escaping."""
    return escape(text, quote=False)


_e = escape_text


def long_date(day: date) -> str:
    """'Thursday 26 November'."""
    return f"{day:%A} {day.day} {day:%B}"


def render_day(plan: DayPlan, *, logged: bool = False) -> Reply:
    """Render a day's plan: the workout, or the rest-day message.

    ``logged`` marks the workout as done: a closing line instead of the ✅ button.
    """
    if plan.kind is DayKind.REST:
        return Reply(_rest_text(plan))
    exercise, prescription, tip = plan.exercise, plan.prescription, plan.tip
    if exercise is None or prescription is None or tip is None:
        raise ValueError("a training day needs an exercise, a prescription and a tip")
    lines = [
        f"🏋️ <b>{_e(exercise.name)}</b>",
        f"<i>{_e(exercise.summary)}</i>",
        "",
        f"📅 Day {plan.day_number} · Week {plan.week} · {_e(plan.stage.name)}",
        f"<b>Today:</b> {_e(describe_prescription(prescription))}",
    ]
    if prescription.tempo is not None:
        lines.append(f"<b>Tempo:</b> {_e(describe_tempo(prescription.tempo))}")
    if prescription.load is not None:
        lines.append(f"<b>Load:</b> {_e(prescription.load)}")
    lines += [
        f"<b>Equipment:</b> {_e(', '.join(exercise.equipment))}",
        f"🎯 {_e(plan.stage.focus)}",
        "",
        "<b>How to do it</b>",
        *(f"{number}. {_e(step)}" for number, step in enumerate(exercise.instructions, start=1)),
        "",
        f"💡 <b>Tip {tip.number} of {tip.of}:</b> {_e(tip.text)}",
        "",
        "Questions? Send /faq, or just type your question.",
    ]
    info_row = (
        Button("❓ FAQ", callbacks.encode(callbacks.FaqList(exercise.id))),
        Button("ℹ️ About", callbacks.encode(callbacks.About(exercise.id))),
    )
    if logged:
        lines += ["", LOGGED_LINE]
        return Reply("\n".join(lines), (info_row,))
    done_row = (Button("✅ Done", callbacks.encode(callbacks.Done(plan.day))),)
    return Reply("\n".join(lines), (done_row, info_row))


def _rest_text(plan: DayPlan) -> str:
    lines = [
        f"😴 <b>Rest day</b> · Day {plan.day_number} · Week {plan.week}",
        "Calves get stronger while they recover. A walk, some gentle stretching "
        "and a good night's sleep are all today asks.",
    ]
    if plan.next_exercise is not None and plan.next_date is not None:
        when = describe_next_date(plan.day, plan.next_date)
        lines += ["", f"Next workout: <b>{_e(plan.next_exercise.name)}</b>, {when}."]
    return "\n".join(lines)


def describe_next_date(today: date, then: date) -> str:
    """'tomorrow' or 'on Thursday 26 November'."""
    if (then - today).days == 1:
        return "tomorrow"
    return f"on {long_date(then)}"


def describe_prescription(prescription: Prescription) -> str:
    """'3 sets × 12 reps per leg · rest 1 min between sets'."""
    unit = {Unit.REPS: "reps", Unit.STEPS: "steps", Unit.SECONDS: "seconds"}[prescription.unit]
    side = " per leg" if prescription.per_side else ""
    sets = "1 set" if prescription.sets == 1 else f"{prescription.sets} sets"
    text = f"{sets} × {prescription.amount} {unit}{side}"
    if prescription.sets > 1:
        text += f" · rest {describe_seconds(prescription.rest_seconds)} between sets"
    return text


def describe_tempo(tempo: Tempo) -> str:
    """'2 s up · 1 s hold · 3 s down'."""
    return f"{tempo.up} s up · {tempo.hold} s hold · {tempo.down} s down"


def describe_seconds(seconds: int) -> str:
    """'45 s', '1 min', '1 min 30 s'."""
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def render_faq_answer(exercise: Exercise, entry: FaqEntry) -> Reply:
    """Render one FAQ answer with the question and the exercise it is about."""
    text = f"❓ <b>{_e(entry.question)}</b>\n\n{_e(entry.answer)}\n\n<i>{_e(exercise.name)}</i>"
    return Reply(text)


def render_about(exercise: Exercise) -> Reply:
    """Render an exercise's full description."""
    lines = [
        f"ℹ️ <b>{_e(exercise.name)}</b>",
        f"<i>{_e(exercise.summary)}</i>",
        "",
        f"<b>Equipment:</b> {_e(', '.join(exercise.equipment))}",
        f"<b>Muscles:</b> {_e(', '.join(exercise.muscles))}",
    ]
    for paragraph in exercise.description:
        lines += ["", _e(paragraph)]
    keyboard = ((Button("❓ FAQ", callbacks.encode(callbacks.FaqList(exercise.id))),),)
    return Reply("\n".join(lines), keyboard)
