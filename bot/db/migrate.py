"""Apply Alembic migrations from code: on start and with ``calfbot db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, describe_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database schema to the newest version."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


class DatabaseError(Exception):
    """The database cannot be reached or migrated; the message is one line, without a password."""


async def upgrade_url(url: str) -> None:
    """Migrate the database at ``url`` with a short-lived engine of its own."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        first_line = f"{type(reason).__name__}: {reason}".splitlines()[0]
        raise DatabaseError(f"cannot use the database {describe_url(url)}: {first_line}") from exc
    finally:
        await engine.dispose()
