"""`calfbot backup` and `calfbot restore` as an admin runs them: real processes, a real SQLite file under writes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CALFBOT = str(Path(sys.executable).with_name("calfbot"))

# Subscribers inserted one transaction at a time, chat ids 1, 2, 3, ... until stopped.
WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
chat = 0
while True:
    chat += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO subscribers (chat_id, user_id, created_at, active, send_time, timezone, program_start, seed)"
        " VALUES (?, ?, '2026-11-21 07:00:00', 1, '07:00:00', 'UTC', '2026-11-21', 'seed')", (chat, chat))
    db.execute("INSERT INTO workouts (subscriber_id, day, logged_at) VALUES (last_insert_rowid(), '2026-11-21',"
               " '2026-11-21 08:00:00')")
    db.execute("COMMIT")
    if chat == 200:
        open(sys.argv[2], "w").close()  # warmed up: the backup may start
"""

# Holds the data directory like a running bot does, until killed.
LOCK_HOLDER = """
import sys, time
from pathlib import Path
from bot.instance import InstanceLock
lock = InstanceLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(600)
"""


def calfbot(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALFBOT_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([CALFBOT, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def chats(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT chat_id FROM subscribers ORDER BY chat_id")]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data directory with a migrated, empty calfbot database."""
    directory = tmp_path / "data"
    assert calfbot(directory, "db", "upgrade").returncode == 0
    return directory


@contextmanager
def writing(database: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process writing to ``database`` until the block ends (stopped by its pid)."""
    ready = tmp_path / "writer-ready"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(ready)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert writer.poll() is None, "the writer died"
            assert time.monotonic() < deadline, "the writer never warmed up"
            time.sleep(0.01)
        yield writer
    finally:
        writer.terminate()
        writer.wait(10)


def test_a_backup_during_writes_is_consistent_and_restores_identically(data: Path, tmp_path: Path) -> None:
    """Backed up while another process commits: a clean prefix of the writes; restored, byte-for-row identical."""
    database = data / "calfbot.db"
    with writing(database, tmp_path):
        result = calfbot(data, "backup")
        time.sleep(0.2)  # writes go on after the backup
    assert result.returncode == 0, result.stderr
    (backup,) = (data / "backups").glob("calfbot-*.db")
    assert f"backup written and verified: {backup}" in result.stdout
    assert not list((data / "backups").glob("*.partial"))

    snapshot = chats(backup)
    written = chats(database)
    assert snapshot == list(range(1, len(snapshot) + 1)), "the backup is not a consistent prefix of the writes"
    assert 200 <= len(snapshot) < len(written), "the backup was not taken while writes went on"
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert db.execute("SELECT count(*) FROM workouts").fetchone() == (len(snapshot),)

    before = dump(database)
    restored = calfbot(data, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert dump(database) == dump(backup)
    (kept,) = data.glob("calfbot.db.before-restore-*")
    assert f"the previous database is kept at {kept}" in restored.stdout
    assert dump(kept) == before
    assert not (data / "calfbot.db-wal").exists()
    # The restored database is usable by the bot: migrations and reports run on it.
    stats = calfbot(data, "stats")
    assert stats.returncode == 0, stats.stderr
    assert f"Subscribers: {len(snapshot):,} active" in stats.stdout


def test_restore_refuses_while_a_bot_holds_the_data_directory(data: Path, tmp_path: Path) -> None:
    """A running bot's database is never overwritten; once it stops, the same restore works."""
    backup = tmp_path / "copy.db"
    assert calfbot(data, "backup", str(backup)).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(data)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        refused = calfbot(data, "restore", str(backup))
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
    assert refused.returncode == 1
    assert f"the bot is running (pid {holder.pid})" in refused.stderr
    assert "stop it first" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list(data.glob("calfbot.db.before-restore-*"))
    assert calfbot(data, "restore", str(backup)).returncode == 0


def test_keep_prunes_to_the_newest_backups(data: Path) -> None:
    """`--keep 2` leaves the two newest timestamped backups in the directory."""
    backups = data / "backups"
    backups.mkdir()
    for old in ("calfbot-20261101T030000Z.db", "calfbot-20261102T030000Z.db", "calfbot-20261103T030000Z.db"):
        (backups / old).write_bytes(b"old")
    result = calfbot(data, "backup", "--keep", "2")
    assert result.returncode == 0, result.stderr
    assert "removed 2 older" in result.stdout
    left = sorted(path.name for path in backups.iterdir())
    assert len(left) == 2
    assert left[0] == "calfbot-20261103T030000Z.db"
    assert left[1].startswith("calfbot-2") and left[1] != left[0]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a database at all, just text" * 100, "is not a usable SQLite database"),
        (None, "is not a calfbot database (it has no schema version)"),
    ],
    ids=["garbage", "foreign-sqlite"],
)
def test_restore_refuses_a_file_that_is_not_a_sound_calfbot_database(
    data: Path, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    """The current database stays untouched when the backup is unusable."""
    candidate = tmp_path / "candidate.db"
    if content is None:
        with sqlite3.connect(candidate) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
    else:
        candidate.write_bytes(content)
    before = dump(data / "calfbot.db")
    result = calfbot(data, "restore", str(candidate))
    assert result.returncode == 1
    assert problem in result.stderr
    assert dump(data / "calfbot.db") == before


def test_postgresql_and_missing_databases_get_clear_answers(tmp_path: Path) -> None:
    """PostgreSQL points to pg_dump; a data directory without a database says so."""
    env = {**os.environ, "DATABASE_URL": "postgresql+asyncpg://calfbot:s3cret@db.example/calfbot"}
    result = subprocess.run([CALFBOT, "backup"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "pg_dump --format=custom" in result.stderr
    assert "s3cret" not in result.stderr
    missing = calfbot(tmp_path / "empty", "backup")
    assert missing.returncode == 1
    assert "there is no database at" in missing.stderr
    bad_keep = calfbot(tmp_path / "empty", "backup", "--keep", "0")
    assert bad_keep.returncode == 2
    assert "is not a whole number of backups" in bad_keep.stderr
