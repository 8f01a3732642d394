"""Every instruction, tip and FAQ answer of the seed documents reaches users.

The seed documents are read here with a parser of their own, independent of
the content files, and compared with the loaded catalog and with the messages
the bot renders from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.domain import Catalog, DayKind, Enrollment, Exercise
from bot.plaintext import html_to_text
from bot.planner import plan_day
from bot.render import render_about, render_day, render_faq_answer

SEEDS = Path(__file__).resolve().parent / "seeds"
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SECTIONS = ("Instructions", "Tips & Tricks", "Frequently Asked Questions")


@dataclass(frozen=True)
class Seed:
    name: str
    description: tuple[str, ...]
    instructions: tuple[str, ...]
    tips: tuple[str, ...]
    faq: tuple[tuple[str, str], ...]


def parse_seed(path: Path) -> Seed:
    """Split a seed document into its title, paragraphs and sections."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    name, body = lines[0], lines[1:]
    cuts = [body.index(section) for section in SECTIONS]
    description = body[: cuts[0]]
    instructions = body[cuts[0] + 1 : cuts[1]]
    tips = body[cuts[1] + 1 : cuts[2]]
    faq_lines = body[cuts[2] + 1 :]
    assert all(line.startswith("- ") for line in instructions + tips)
    assert len(faq_lines) % 2 == 0
    return Seed(
        name=name,
        description=tuple(description),
        instructions=tuple(line[2:] for line in instructions),
        tips=tuple(line[2:] for line in tips),
        faq=tuple(zip(faq_lines[::2], faq_lines[1::2], strict=True)),
    )


SEED_FILES = sorted(SEEDS.glob("*.txt"))


def exercise_named(catalog: Catalog, name: str) -> Exercise:
    matches = [exercise for exercise in catalog.exercises if exercise.name == name]
    assert len(matches) == 1, f"no exercise named {name!r} in the catalog"
    return matches[0]


def test_there_are_two_seed_documents() -> None:
    """The suite reads both seed documents, so the tests below cannot pass vacuously."""
    assert len(SEED_FILES) == 2


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="the team's shared/seeds is not beside this checkout")
def test_in_repo_seed_copies_match_the_shared_originals() -> None:
    """tests/seeds holds byte-identical copies of ../shared/seeds."""
    originals = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SHARED_SEEDS.glob("*.txt")}
    copies = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SEED_FILES}
    assert copies == originals


@pytest.mark.parametrize("seed_file", SEED_FILES, ids=lambda p: p.name)
def test_seed_content_is_in_the_catalog_unchanged(catalog: Catalog, seed_file: Path) -> None:
    """Name, paragraphs, every instruction in order, every tip and FAQ pair are loaded verbatim."""
    seed = parse_seed(seed_file)
    exercise = exercise_named(catalog, seed.name)
    assert exercise.description == seed.description
    assert exercise.instructions == seed.instructions
    assert exercise.tips == seed.tips
    assert tuple((entry.question, entry.answer) for entry in exercise.faq) == seed.faq


@pytest.mark.parametrize("seed_file", SEED_FILES, ids=lambda p: p.name)
def test_seed_content_reaches_the_messages_users_get(catalog: Catalog, seed_file: Path) -> None:
    """Daily messages carry every instruction and, over the program, every tip; FAQ and About carry the rest."""
    seed = parse_seed(seed_file)
    exercise = exercise_named(catalog, seed.name)
    start = date(2026, 1, 5)
    enrollment = Enrollment(start=start, seed="subscriber-1")
    daily_texts = []
    for offset in range(365):
        plan = plan_day(catalog=catalog, enrollment=enrollment, today=start + timedelta(days=offset))
        if plan.kind is DayKind.TRAIN and plan.exercise == exercise:
            daily_texts.append(html_to_text(render_day(plan).text))
    assert daily_texts, "the program never schedules this seed exercise"
    for step in seed.instructions:
        assert all(step in text for text in daily_texts)
    for tip in seed.tips:
        assert any(tip in text for text in daily_texts), f"tip never sent: {tip!r}"
    for entry in exercise.faq:
        answer = html_to_text(render_faq_answer(exercise, entry).text)
        assert entry.question in answer
        assert entry.answer in answer
    about = html_to_text(render_about(exercise).text)
    for paragraph in seed.description:
        assert paragraph in about
