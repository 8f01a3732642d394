"""Replies for the account commands, pickers and FAQ menus: Telegram HTML + buttons.

Pure, like ``render``: values in, ``Reply`` out. All user-visible wording of
the bot's commands lives here, apart from the workout messages in ``render``.
"""

from __future__ import annotations

from datetime import date, time

from bot import callbacks
from bot.domain import Catalog, Exercise
from bot.progress import PauseSpan, Stats
from bot.render import Button, Keyboard, Reply, long_date
from bot.render import escape_text as _e
from bot.timezones import COMMON_ZONES, format_send_time

# (command, description) for /help and Telegram's command menu, in menu order.
COMMANDS = (
    ("today", "Today's workout"),
    ("done", "Log today's session (/done yesterday back-fills)"),
    ("faq", "Questions and answers about the exercises"),
    ("stats", "Sessions, streaks and this week"),
    ("settings", "Your send time and time zone"),
    ("time", "Set the daily send time, e.g. /time 07:30"),
    ("timezone", "Set your time zone, e.g. /timezone Europe/Berlin"),
    ("pause", "Pause for N days, e.g. /pause 7"),
    ("resume", "End a pause early"),
    ("stop", "Unsubscribe (your progress is kept)"),
    ("help", "What I do and every command"),
)
SEND_TIMES = tuple(time(hour, 0) for hour in range(5, 23))
MAX_PAUSE_DAYS = 90


def settings_buttons() -> Keyboard:
    return (
        (
            Button("⏰ Change time", callbacks.encode(callbacks.Menu("time"))),
            Button("🌍 Change time zone", callbacks.encode(callbacks.Menu("zone"))),
        ),
    )


def _schedule_line(send_time: time, zone: str) -> str:
    return f"Your workout arrives every day at <b>{format_send_time(send_time)}</b> ({_e(zone)})."


def welcome(*, first_name: str | None, send_time: time, zone: str, returning: bool) -> Reply:
    """The /start greeting; today's workout follows as its own message."""
    name = f", {_e(first_name)}" if first_name else ""
    if returning:
        lines = [f"👋 Welcome back{name}! You're subscribed, and your progress is kept."]
    else:
        lines = [
            f"👋 Welcome to calfbot{name}!",
            "Every day I send you a short calf workout: how to do it, your sets and reps, "
            "and a tip. It starts gently and progresses week by week.",
        ]
    lines += ["", _schedule_line(send_time, zone), "Change it below, or any time with /time and /timezone."]
    return Reply("\n".join(lines), settings_buttons())


def settings(*, send_time: time, zone: str, active: bool, pause: PauseSpan | None) -> Reply:
    """The /settings overview."""
    if not active:
        status = "unsubscribed: /start to resume"
    elif pause is not None:
        status = f"paused until {long_date(pause.last)} (/resume to continue earlier)"
    else:
        status = "active"
    lines = ["⚙️ <b>Your settings</b>", _schedule_line(send_time, zone), f"Status: {status}"]
    return Reply("\n".join(lines), settings_buttons())


def time_picker() -> Reply:
    """Buttons for common send times."""
    buttons = [Button(format_send_time(t), callbacks.encode(callbacks.SetTime(t))) for t in SEND_TIMES]
    rows = tuple(tuple(buttons[i : i + 6]) for i in range(0, len(buttons), 6))
    return Reply("⏰ When should your workout arrive? For any other minute send e.g. <code>/time 06:45</code>.", rows)


def zone_picker() -> Reply:
    """Buttons for common time zones."""
    buttons = [Button(zone, callbacks.encode(callbacks.SetZone(zone))) for zone in COMMON_ZONES]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    text = (
        "🌍 Which time zone are you in? Not listed? Send e.g. <code>/timezone Asia/Singapore</code> "
        "or an offset like <code>/timezone +03:00</code>."
    )
    return Reply(text, rows)


def time_set(value: time, zone: str) -> Reply:
    return Reply(f"✅ Done. {_schedule_line(value, zone)}")


def zone_set(value: time, zone: str) -> Reply:
    return Reply(f"✅ Time zone set to <b>{_e(zone)}</b>. {_schedule_line(value, zone)}")


def time_help(given: str) -> Reply:
    shown = f" <code>{_e(given[:40])}</code> is not a time I understand." if given else ""
    return Reply(
        f"⏰{shown} Send the time as HH:MM in 24-hour form, e.g. <code>/time 07:00</code> or <code>/time 18:30</code>."
    )


def zone_help(given: str, suggestions: list[str]) -> Reply:
    if not given:
        return zone_picker()
    text = f"🌍 I don't know the time zone <code>{_e(given[:64])}</code>."
    if suggestions:
        text += " Did you mean one of these?"
        rows = tuple((Button(z, callbacks.encode(callbacks.SetZone(z))),) for z in suggestions)
        return Reply(text, rows)
    text += " Use an Area/City name like <code>Europe/Berlin</code> or an offset like <code>+03:00</code>."
    return Reply(text, zone_picker().keyboard)


def stats(s: Stats) -> Reply:
    """The /stats figures."""
    marks = "✅" * s.week_done + "▫️" * max(0, s.week_planned - s.week_done)
    today = "done ✅" if s.done_today else "not logged yet: /done when you've finished"
    lines = [
        "📊 <b>Your progress</b>",
        f"Sessions done: <b>{s.total}</b>",
        f"Current streak: <b>{s.current_streak}</b> · Best: <b>{s.best_streak}</b>",
        f"This week: {s.week_done} of {s.week_planned} workouts {marks}".rstrip(),
        f"Today: {today}",
        "",
        "<i>Rest days and paused days never break a streak.</i>",
    ]
    return Reply("\n".join(lines))


def faq_questions(exercise: Exercise) -> Reply:
    """The questions of one exercise as buttons, and a way to browse the others."""
    rows = [
        (Button(entry.question, callbacks.encode(callbacks.FaqAnswer(exercise.id, index))),)
        for index, entry in enumerate(exercise.faq)
    ]
    rows.append((Button("📚 Other exercises", callbacks.encode(callbacks.FaqBrowse())),))
    text = f"❓ Questions about <b>{_e(exercise.name)}</b>. Tap one, or type your own question."
    return Reply(text, tuple(rows))


def faq_browse(catalog: Catalog, text: str = "📚 Pick an exercise to see its questions.") -> Reply:
    """Every exercise as a button leading to its questions."""
    rows = tuple(
        (Button(exercise.name, callbacks.encode(callbacks.FaqList(exercise.id))),) for exercise in catalog.exercises
    )
    return Reply(text, rows)


def did_you_mean(alternatives: list[tuple[Exercise, int]]) -> Keyboard:
    """Buttons for other questions that matched, each naming its exercise (several share a wording)."""
    return tuple(
        (
            Button(
                f"🔎 {exercise.name}: {exercise.faq[index].question}",
                callbacks.encode(callbacks.FaqAnswer(exercise.id, index)),
            ),
        )
        for exercise, index in alternatives
    )


def faq_no_match(catalog: Catalog) -> Reply:
    return faq_browse(
        catalog, "🤔 I couldn't find an answer to that in the FAQ. Try other words, or browse the questions:"
    )


def faq_empty(catalog: Catalog) -> Reply:
    return faq_browse(
        catalog, "✍️ Ask me in words, e.g. <code>/faq how low should my heel go</code>, or browse the questions:"
    )


def help_text() -> Reply:
    lines = [
        "🦵 <b>calfbot</b> coaches you through a short daily calf workout, at the time you choose.",
        "",
        *(f"/{name}: {_e(description)}" for name, description in COMMANDS),
        "",
        "You can also just type a question, like <i>how high should I jump?</i>",
    ]
    return Reply("\n".join(lines))


def not_subscribed() -> Reply:
    return Reply("You're not subscribed yet. Send /start to begin the program.")


def paused_today(pause: PauseSpan) -> Reply:
    return Reply(f"⏸ You're paused until {long_date(pause.last)}. Send /resume to start again earlier.")


def paused(pause: PauseSpan) -> Reply:
    days = (pause.last - pause.first).days + 1
    plural = "s" if days != 1 else ""
    return Reply(
        f"⏸ Paused for {days} day{plural}, until {long_date(pause.last)}. "
        "The program waits for you: you'll continue where you stopped. /resume ends the pause early."
    )


def pause_help() -> Reply:
    return Reply(f"⏸ Send the number of days to pause, from 1 to {MAX_PAUSE_DAYS}, e.g. <code>/pause 7</code>.")


def already_paused(pause: PauseSpan) -> Reply:
    return Reply(f"⏸ You're already paused until {long_date(pause.last)}. /resume first to change it.")


def resumed() -> Reply:
    return Reply("▶️ Welcome back! Your program continues where you left it. Today's workout: /today")


def not_paused() -> Reply:
    return Reply("▶️ You're not paused. Today's workout: /today")


def stopped() -> Reply:
    return Reply("👋 Unsubscribed: no more daily messages. Your progress is kept; send /start to resume.")


def already_logged(day: date, today: date) -> Reply:
    when = "today" if day == today else f"for {long_date(day)}"
    return Reply(f"✅ Already logged {when}. See /stats.")


def logged(day: date, today: date, *, rest_day: bool) -> Reply:
    when = "today's" if day == today else f"the session of {long_date(day)}"
    extra = " An extra session on a rest day, nice!" if rest_day else ""
    return Reply(f"✅ Logged {when}.{extra} See your streak with /stats.")


def done_help() -> Reply:
    return Reply("Send /done for today's session, or /done yesterday to log yesterday's.")


def too_early(start: date) -> Reply:
    return Reply(f"Your program started on {long_date(start)}, so there's nothing to log before that.")


def unknown_command() -> Reply:
    return Reply("I don't know that command. /help lists everything I can do.")


def private_only(username: str) -> Reply:
    return Reply(f"I coach one person at a time: talk to me in a private chat, @{_e(username)}.")


def error() -> Reply:
    return Reply("😕 Sorry, something went wrong on my side. Please try again in a minute.")


def stale_button() -> str:
    """A callback-query toast (plain text, 200 characters at most)."""
    return "This button is out of date. Send /today for a fresh one."
