"""Admin reports for the terminal: ``calfbot deliveries``."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.config import database_url, read_settings
from bot.db.engine import create_engine, describe_url, session_factory
from bot.db.ledger import State, counts_by_state
from bot.db.migrate import DatabaseError, upgrade_url


async def _counts(url: str, day: date) -> dict[str, int]:
    await upgrade_url(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await counts_by_state(session, day)
    finally:
        await engine.dispose()


def format_deliveries(day: date, counts: dict[str, int]) -> str:
    """A small table of a day's ledger rows by state, every state listed."""
    lines = [f"deliveries for local date {day.isoformat()}"]
    for state in State:
        lines.append(f"  {state.value:<10} {counts.get(state.value, 0):>8}")
    lines.append(f"  {'total':<10} {sum(counts.values()):>8}")
    return "\n".join(lines)


def deliveries(day: date) -> tuple[int, str]:
    """Exit status and text for ``calfbot deliveries``."""
    url = database_url(read_settings())
    try:
        counts = asyncio.run(_counts(url, day))
    except DatabaseError as exc:
        return 1, str(exc)
    return 0, f"{format_deliveries(day, counts)}\n  (database {describe_url(url)})"
