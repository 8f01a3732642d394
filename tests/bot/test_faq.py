"""/faq, typed questions and the FAQ buttons."""

from __future__ import annotations

import logging

import pytest

from tests.bot.harness import Harness, buttons

SEED_QUESTION = "How low should my heel go at the bottom?"
SEED_ANSWER = "Lower until you get a clear calf stretch, but do not let the arch collapse or the ankle roll outward."


async def test_faq_without_words_lists_todays_questions(bot: Harness) -> None:
    """/faq shows today's exercise's questions as buttons and a way to browse the others."""
    await bot.say("/start", replies=2)
    (reply,) = await bot.say("/faq")
    assert reply.text is not None
    assert "Bodyweight Calf Raise" in reply.text
    data = [d for _, d in buttons(reply)]
    assert data[0] == "fq:bodyweight-calf-raise:0"
    assert data[-1] == "faqs:all"


async def test_faq_with_a_seed_question_answers_it(bot: Harness) -> None:
    """/faq with a seed FAQ question answers with that seed's answer, verbatim."""
    (reply,) = await bot.say(f"/faq {SEED_QUESTION}")
    assert reply.text is not None
    assert SEED_QUESTION in reply.text
    assert SEED_ANSWER in reply.text


async def test_typos_and_word_order_are_tolerated(bot: Harness) -> None:
    """A question with typos in another order still finds its answer."""
    (reply,) = await bot.say("/faq heel bottom how lowe shoud go")
    assert reply.text is not None
    assert SEED_ANSWER in reply.text


async def test_plain_text_is_a_question(bot: Harness) -> None:
    """A message that is not a command goes to the same search."""
    (reply,) = await bot.say("can I do walking calf raises with one dumbbell?")
    assert reply.text is not None
    assert "using two dumbbells usually keeps the load balanced" in reply.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/faq pizza recipe with extra cheese", "couldn't find"),
        ("/faq 🦵🦵🔥", "Ask me in words"),
        ("🦵🔥", "Ask me in words"),
        ("/faq " + "calf " * 1000, ""),
    ],
)
async def test_no_match_gets_a_helpful_reply_not_silence(
    bot: Harness, caplog: pytest.LogCaptureFixture, text: str, expected: str
) -> None:
    """Nonsense, emoji only and 5000 characters each get a reply with a way on; nothing is logged as an error."""
    with caplog.at_level(logging.WARNING):
        (reply,) = await bot.say(text)
    assert reply.text is not None
    assert expected in reply.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_faq_buttons_answer_browse_and_describe(bot: Harness) -> None:
    """Question buttons answer, 'Other exercises' lists them all, and About shows the description."""
    await bot.say("/start", replies=2)
    (listing,) = await bot.say("/faq")
    answer = await bot.tap(listing, "fq:dumbbell-walking-calf-raise:2")
    assert answer.text is not None
    assert "How far should each step be?" in answer.text
    browse = await bot.tap(listing, "faqs:all")
    assert len(buttons(browse)) == 7
    about = await bot.tap(listing, "about:pogo-hops")
    assert about.text is not None
    assert "Pogo hops are small, rhythmic bounces" in about.text
