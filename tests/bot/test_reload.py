"""Reloading content in a running bot: a sound edit shows up at once, a broken one changes nothing."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import reload_content
from bot.content.location import default_content_dir
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.domain import Catalog
from tests.bot.conftest import START
from tests.bot.harness import FakeClock, Harness, running_bot


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content the test may edit."""
    copy = tmp_path / "content"
    shutil.copytree(default_content_dir(), copy)
    return copy


@pytest.fixture
async def bot(catalog: Catalog, content: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    async with running_bot(
        catalog, engine, FakeClock(START), settings={"CALFBOT_CONTENT_DIR": str(content)}
    ) as harness:
        yield harness
    await engine.dispose()


def _rename_every_exercise(content: Path, suffix: str) -> None:
    for path in (content / "exercises").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"^name: (.*)$", rf"name: \1{suffix}", text, count=1, flags=re.M), encoding="utf-8")


async def _today_title(bot: Harness) -> str:
    (today,) = await bot.say("/today")
    assert today.text is not None
    return today.text.splitlines()[0]


async def test_a_sound_edit_reaches_the_next_message(bot: Harness, content: Path) -> None:
    """After a reload, /today uses the new names; FAQ search is rebuilt from the new content too."""
    await bot.say("/start", replies=2)
    assert "(edited)" not in await _today_title(bot)
    _rename_every_exercise(content, " (edited)")
    assert await reload_content(bot.app) is None
    assert "(edited)" in await _today_title(bot)


async def test_a_broken_edit_keeps_the_old_content_and_reports_the_error(
    bot: Harness, content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unclosed quote: the reload names file and line, logs it, and the bot goes on with what it had."""
    await bot.say("/start", replies=2)
    _rename_every_exercise(content, " (edited)")
    assert await reload_content(bot.app) is None
    broken = content / "exercises" / "pogo-hops.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("name: ", 'name: "unclosed ', 1), encoding="utf-8")
    _rename_every_exercise(content, " (twice)")

    with caplog.at_level(logging.ERROR):
        problem = await reload_content(bot.app)
    assert problem is not None
    assert "pogo-hops.yaml:2: is not valid YAML" in problem
    assert any("content reload failed; the bot keeps the content it had" in r.getMessage() for r in caplog.records)
    title = await _today_title(bot)
    assert "(edited)" in title
    assert "(twice)" not in title
