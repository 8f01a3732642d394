"""The few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


def rowcount(result: Result[Any]) -> int:
    """Rows an INSERT/UPDATE/DELETE touched (execute() types it as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount


# Each dialect's INSERT, which has ``on_conflict_do_nothing``, by dialect name.
INSERTS: dict[str, Callable[[Any], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_of(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: which of ``INSERTS`` (and of the statements built for each) applies."""
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing``."""
    return INSERTS[dialect_of(session)](table)
