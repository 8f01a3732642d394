"""SQLite's plans for what the delivery engine runs: rows named by id are looked up by id, due groups by range.

SQLite keeps no statistics here (nothing runs ANALYZE), so its choice of
index comes from the statement alone. A statement that names its rows by id
and also filters on an indexed column could be planned as a walk over that
index instead: ``mark_sending_many`` once read every pending entry of
``ix_deliveries_claim`` per batch, a million at a 1M broadcast. These tests
run the engine for real (tick, announcement, sends, a refusal) and a
release of reserved rows, capture each statement and check its plan.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import ledger
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from tests.delivery.conftest import delivery_rig
from tests.delivery.test_announce import _announce
from tests.delivery.test_faults import settle, tick_at_seven
from tests.fakes.bot_api_server import forbidden_for

# The tick's statements on a due group (or the oldest one): its range of the partial due index.
ON_DUE_GROUPS = "subscribers.active = 1 AND subscribers.next_send_at"
# ``WHERE <table>.id IN (?, ?, ...)``: rows named by a list of ids, not by a subquery.
BY_ID_LIST = re.compile(r"\bWHERE\s+(deliveries|subscribers)\.id IN \(\?")


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


@contextmanager
def captured(db: AsyncEngine) -> Iterator[dict[str, Any]]:
    """Every distinct statement run on ``db`` meanwhile, with the parameters of its last run."""
    seen: dict[str, Any] = {}

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        seen[statement] = parameters[0] if many else parameters

    event.listen(db.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", record)


def plan(path: Path, statement: str, parameters: Any) -> list[str]:
    with sqlite3.connect(path) as raw:
        return [str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]


async def test_rows_by_id_use_the_primary_key_and_due_groups_their_index(
    catalog: Catalog, sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Each ``id IN (...)`` searches by primary key whatever else it filters on; the tick reads its index range."""
    settings = DeliverySettings(rate=200.0, idle_poll=0.05)
    with captured(sqlite_engine) as seen:
        async with delivery_rig(catalog, sqlite_engine, settings) as rig:
            chats = await rig.add_subscribers(30)
            rig.api.add_fault(forbidden_for([chats[0]]))
            await _announce(rig)
            await rig.engine.enqueue_announcements()
            await tick_at_seven(rig, 30)
            await settle(rig)
        # What a stop does with rows it reserved but will not send (whether a
        # stop finds any depends on timing, so it is called here directly).
        async with session_factory(sqlite_engine).begin() as session:
            await ledger.release(session, [1, 2, 3], now=rig.clock())
    by_id = {statement: parameters for statement, parameters in seen.items() if BY_ID_LIST.search(statement)}
    kinds = {re.sub(r"\s+", " ", statement.split(" WHERE ")[0])[:40] for statement in by_id}
    # The statements this test is about did run: the marks before sending and a release.
    assert any(statement.startswith("UPDATE deliveries SET state=?") for statement in by_id), kinds
    assert any("claimed_until=?" in statement and "state" not in statement.split(" WHERE ")[0] for statement in by_id)
    for statement, parameters in by_id.items():
        table = BY_ID_LIST.search(statement).group(1)  # type: ignore[union-attr]
        steps = [step for step in plan(tmp_path / "calfbot.db", statement, parameters) if f" {table} " in f" {step} "]
        assert steps, (statement, steps)
        assert "INTEGER PRIMARY KEY" in steps[0], (statement, steps)
    # And the tick's statements read only the due groups' range of ix_subscribers_due.
    on_groups = [statement for statement in seen if ON_DUE_GROUPS in statement]
    assert len(on_groups) >= 4, on_groups  # the oldest group, a page's last id, its rows, its move
    for statement in on_groups:
        steps = plan(tmp_path / "calfbot.db", statement, seen[statement])
        assert any("USING INDEX ix_subscribers_due (next_send_at" in step for step in steps), (statement, steps)
        assert not any(step.startswith("SCAN subscribers") for step in steps), (statement, steps)
