"""/faq, plain-text questions, and the FAQ and About buttons."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot import replies
from bot.db import queries
from bot.domain import Exercise
from bot.faq_search import SearchResult
from bot.handlers.context import BotContext, send, send_to
from bot.planner import plan_day
from bot.render import Reply, render_about, render_faq_answer


async def _todays_exercise(update: Update, context: BotContext) -> Exercise | None:
    """Today's exercise for a subscriber, the next one on a rest day, else None."""
    chat = update.effective_chat
    if chat is None:
        return None
    async with context.deps.sessions() as session:
        subscriber = await queries.get_subscriber(session, chat.id)
    if subscriber is None:
        return None
    day = context.local_today(subscriber)
    plan = plan_day(catalog=context.deps.catalog, enrollment=subscriber.member.enrollment_on(day), today=day)
    return plan.exercise or plan.next_exercise


def _answer(result: SearchResult, context: BotContext) -> Reply:
    catalog = context.deps.catalog
    if result.problem == "empty":
        return replies.faq_empty(catalog)
    alternatives = replies.did_you_mean([(hit.exercise, hit.index) for hit in result.alternatives])
    if result.best is None:
        if alternatives:
            return Reply("🤔 I'm not sure what you mean. Is it one of these?", alternatives)
        return replies.faq_no_match(catalog)
    answer = render_faq_answer(result.best.exercise, result.best.entry)
    return Reply(answer.text, alternatives)


async def faq(update: Update, context: BotContext) -> None:
    """Without words, list today's questions; with words, answer the best match."""
    words = " ".join(context.args or [])
    exercise = await _todays_exercise(update, context)
    if not words:
        reply = replies.faq_questions(exercise) if exercise else replies.faq_browse(context.deps.catalog)
        await send(update, context, reply)
        return
    result = context.deps.faq_index.search(words, prefer_exercise=exercise.id if exercise else None)
    await send(update, context, _answer(result, context))


async def question(update: Update, context: BotContext) -> None:
    """Treat a plain text message as a question for the FAQ."""
    message = update.effective_message
    if message is None or not message.text:
        return
    exercise = await _todays_exercise(update, context)
    result = context.deps.faq_index.search(message.text, prefer_exercise=exercise.id if exercise else None)
    await send(update, context, _answer(result, context))


def _exercise(context: BotContext, exercise_id: str) -> Exercise | None:
    return context.deps.catalog.find_exercise(exercise_id)


async def list_button(query: CallbackQuery, context: BotContext, exercise_id: str | None) -> None:
    """Show an exercise's questions, or (None) every exercise to browse."""
    exercise = _exercise(context, exercise_id) if exercise_id else None
    if query.message is None or (exercise_id and exercise is None):
        await query.answer(replies.stale_button())
        return
    await query.answer()
    reply = replies.faq_questions(exercise) if exercise else replies.faq_browse(context.deps.catalog)
    await send_to(context, query.message.chat.id, reply)


async def answer_button(query: CallbackQuery, context: BotContext, exercise_id: str, index: int) -> None:
    """Answer the FAQ entry a button names."""
    exercise = _exercise(context, exercise_id)
    if query.message is None or exercise is None or index >= len(exercise.faq):
        await query.answer(replies.stale_button())
        return
    await query.answer()
    await send_to(context, query.message.chat.id, render_faq_answer(exercise, exercise.faq[index]))


async def about_button(query: CallbackQuery, context: BotContext, exercise_id: str) -> None:
    """Show an exercise's full description."""
    exercise = _exercise(context, exercise_id)
    if query.message is None or exercise is None:
        await query.answer(replies.stale_button())
        return
    await query.answer()
    await send_to(context, query.message.chat.id, render_about(exercise))
