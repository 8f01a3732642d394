"""``calfbot backup`` and ``calfbot restore`` for the SQLite database.

A backup is taken with SQLite's online backup API while the bot keeps
running (never a file copy, which could tear a live WAL database), written
under a temporary name, checked with ``PRAGMA integrity_check`` and only
then renamed into place. A restore refuses while a bot holds the data
directory, checks the backup the same way, keeps the current database aside,
and swaps the file atomically. PostgreSQL has ``pg_dump`` for this; the
commands say so.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.db.migrate import alembic_config
from bot.instance import running_pid

BACKUP_DIR = "backups"
PREFIX = "calfbot-"
SUFFIX = ".db"
PG_DUMP_HINT = (
    "for PostgreSQL use its own tools: "
    "pg_dump --format=custom --file=calfbot.dump 'postgresql://USER@HOST/DB' "
    "and pg_restore --clean --if-exists --dbname='postgresql://USER@HOST/DB' calfbot.dump"
)


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why in one line."""


def sqlite_path(url: str) -> Path:
    """The database file behind a SQLite URL; BackupError for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(f"calfbot backup and restore handle SQLite only; {PG_DUMP_HINT}")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("the database is in memory: there is nothing to back up")
    return Path(parsed.database)


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def verify(path: Path) -> str:
    """Check a database file: intact, and a calfbot database of a version this calfbot knows.

    Returns its schema version; raises BackupError naming the problem.
    """
    try:
        with _connect(path, read_only=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                problems = "; ".join(str(row[0]) for row in result[:3])
                raise BackupError(f"{path} is damaged (integrity_check: {problems})")
            try:
                row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                row = None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database ({exc})") from None
    if row is None:
        raise BackupError(f"{path} is not a calfbot database (it has no schema version)")
    version = str(row[0])
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if version not in known:
        raise BackupError(f"{path} has schema version {version}, which this calfbot does not know (a newer release?)")
    return version


def _copy(source: Path, target: Path) -> None:
    """An online, consistent copy through SQLite's backup API, then an atomic rename."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _connect(source) as src, _connect(partial) as dst:
            # The copy holds a read transaction: in WAL mode the bot keeps writing meanwhile.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        verify(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def default_backup_path(database: Path, now: datetime) -> Path:
    """``<data dir>/backups/calfbot-YYYYmmddTHHMMSSZ.db``."""
    return database.parent / BACKUP_DIR / f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def backup(url: str, target: Path | None, *, now: datetime, keep: int | None = None) -> tuple[Path, list[Path]]:
    """Back up the database to ``target`` (a file, a directory, or the default); prune to ``keep`` copies.

    Returns the backup's path and the old backups removed.
    """
    database = sqlite_path(url)
    if not database.is_file():
        raise BackupError(f"there is no database at {database} yet (has the bot run?)")
    if target is None:
        target = default_backup_path(database, now)
    elif target.is_dir():
        target = target / default_backup_path(database, now).name
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(database, target)
    removed = prune(target.parent, keep) if keep is not None else []
    return target, removed


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` timestamped backups in ``directory``."""
    backups = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"), key=lambda path: (path.stat().st_mtime, path.name))
    old = backups[: max(0, len(backups) - keep)]
    for path in old:
        path.unlink()
    return old


def restore(url: str, source: Path, *, data_dir: Path, now: datetime) -> Path | None:
    """Replace the database with ``source``; the current one is kept aside (its path is returned).

    Refuses while a bot runs with ``data_dir``.
    """
    database = sqlite_path(url)
    pid = running_pid(data_dir)
    if pid is not None:
        raise BackupError(
            f"the bot is running (pid {pid}) and uses {database}: stop it first "
            "(systemctl stop calfbot, or docker compose stop bot), then restore"
        )
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    verify(source)
    database.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if database.is_file():
        kept = database.with_name(f"{database.name}.before-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        _copy(database, kept)
    incoming = database.with_name(database.name + ".restoring")
    _copy(source, incoming)
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    incoming.replace(database)
    return kept
