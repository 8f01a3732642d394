"""The ``calfbot`` command as an author or admin runs it, through the installed script."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CALFBOT = Path(sys.executable).with_name("calfbot")


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CALFBOT), *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def test_check_content_passes_on_the_shipped_content_with_one_summary_line() -> None:
    """`calfbot check-content content/` exits 0 and prints one line."""
    result = run("check-content", "content/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("content OK: 7 exercises")


def test_check_content_fails_with_file_line_and_field(tmp_path: Path) -> None:
    """A broken file makes check-content exit 1 and name file, line and field on stderr, without a traceback."""
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    broken = content / "exercises" / "pogo-hops.yaml"
    broken.write_text(broken.read_text().replace("tips:\n", "tipps:\n"))
    result = run("check-content", str(content))
    assert result.returncode == 1
    assert f"{broken}:" in result.stderr
    assert "tipps: unknown key" in result.stderr
    assert "tips: required field is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_bot_is_the_same_command() -> None:
    """`python -m bot` runs the calfbot command."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-content"], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("content OK")


def test_preview_prints_the_coming_days_as_plain_text() -> None:
    """`calfbot preview` prints each day with its date, plain text (no tags) and the buttons."""
    result = run("preview", "--days", "3", "--start", "2026-11-21")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("──── ") == 3
    assert "Sat 2026-11-21" in out
    assert "Mon 2026-11-23" in out
    assert "Bodyweight Calf Raise" in out
    assert "Rest day" in out
    assert "<b>" not in out
    assert "[ ✅ Done ]" in out


def test_preview_rejects_bad_arguments_with_a_clear_message() -> None:
    """A malformed date or day count is an argparse error (exit 2) naming the problem."""
    bad_date = run("preview", "--start", "2026-13-01")
    assert bad_date.returncode == 2
    assert "'2026-13-01' is not a date like 2026-11-21" in bad_date.stderr
    bad_days = run("preview", "--days", "0")
    assert bad_days.returncode == 2
    assert "is not a whole number from 1 to 366" in bad_days.stderr


def test_check_content_on_a_missing_directory_says_so(tmp_path: Path) -> None:
    """A directory that does not exist is reported, not a traceback."""
    result = run("check-content", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    """`calfbot db upgrade` needs no token and creates ./data/calfbot.db."""
    result = subprocess.run(
        [str(CALFBOT), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout
    assert (tmp_path / "data" / "calfbot.db").is_file()


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    """A database that refuses connections stops start-up with one line; the password is hidden."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql+asyncpg://calf:hunter2@127.0.0.1:1/calf"}
    result = subprocess.run(
        [str(CALFBOT), "db", "upgrade"], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False, env=env
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cannot use the database postgresql+asyncpg://calf:***@127.0.0.1:1/calf" in result.stderr
    assert "hunter2" not in result.stderr


def test_deliveries_counts_a_days_ledger_by_state(tmp_path: Path) -> None:
    """`calfbot deliveries --date D` lists every state with its count for that local date."""
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run([str(CALFBOT), "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True)
    with sqlite3.connect(tmp_path / "data" / "calfbot.db") as db:
        db.execute(
            "insert into subscribers (id, chat_id, created_at, active, send_time, timezone, program_start, seed)"
            " values (1, 1, '2026-11-21 00:00:00', 1, '07:00:00', 'UTC', '2026-11-21', 's')"
        )
        for day, state in [("2026-11-21", "sent"), ("2026-11-22", "uncertain"), ("2026-11-23", "sent")]:
            db.execute(
                "insert into deliveries (subscriber_id, chat_id, local_date, due_at, state, not_before, attempts,"
                " migrations, created_at, updated_at) values (1, 1, ?, '2026-11-21 07:00:00', ?,"
                " '2026-11-21 07:00:00', 1, 0, '2026-11-21 07:00:00', '2026-11-21 07:00:00')",
                (day, state),
            )
    result = subprocess.run(
        [str(CALFBOT), "deliveries", "--date", "2026-11-22"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "deliveries for local date 2026-11-22" in result.stdout
    assert "  uncertain         1" in result.stdout
    assert "  sent              0" in result.stdout
    assert "  total             1" in result.stdout
