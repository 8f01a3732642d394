"""deploy/install.sh, run for real as root in a fresh Debian 12 root.

The script installs Debian's packages with apt, the bot with pip from PyPI,
creates the user, writes the files and migrates a real SQLite database; only
systemctl and journalctl are stubs (recording their calls), since no systemd
runs in a chroot. One root serves the whole module, in order: refusals that
must leave nothing behind, then install, upgrade, token change, uninstall and
purge.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.deploy.chroot import JOURNALCTL_LOG, REPO, SOURCE_IN_ROOT, SYSTEMCTL_LOG, Chroot, debian_root

pytestmark = pytest.mark.slow_install

INSTALL = f"{SOURCE_IN_ROOT}/deploy/install.sh"
# Made up, in Telegram's shape.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
NEW_TOKEN = "987654321:BBGfrTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
UNITS = ("calfbot.service", "calfbot-backup.service", "calfbot-backup.timer")
# The stub says the service is active at once; a real start is watched longer.
QUICK = {"CALFBOT_INSTALL_WATCH_SECONDS": "1"}


@pytest.fixture(scope="module")
def root() -> Iterator[Chroot]:
    missing = [tool for tool in ("debootstrap", "chroot", "mount", "umount", "tar") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the install test needs {', '.join(missing)} (apt-get install debootstrap)")
    if os.geteuid() != 0:
        pytest.fail("the install test needs root (for chroot and mount)")
    with debian_root() as chroot:
        yield chroot


def install(root: Chroot, *args: str, env: dict[str, str] | None = None) -> str:
    """Run install.sh in the root; its output, after checking it succeeded and never showed a token."""
    started = time.monotonic()
    result = root.run(["bash", INSTALL, *args], env={**QUICK, **(env or {})})
    output = result.stdout + result.stderr
    print(f"install.sh {' '.join(args)}: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, output
    assert TOKEN not in output
    assert NEW_TOKEN not in output
    return output


def mode_of(path: Path) -> tuple[int, int, int]:
    info = path.lstat()
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def passwd_entry(root: Chroot, name: str) -> list[str] | None:
    for line in root.path("/etc/passwd").read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    return None


def group_exists(root: Chroot, name: str) -> bool:
    lines = root.path("/etc/group").read_text(encoding="utf-8").splitlines()
    return any(line.split(":")[0] == name for line in lines)


def systemctl_calls(root: Chroot) -> list[str]:
    log = root.path(SYSTEMCTL_LOG)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def query(database: Path, *statements: str) -> list[tuple[object, ...]]:
    """Run the statements on the SQLite file (committed); the last one's rows."""
    with closing(sqlite3.connect(database)) as connection, connection:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            rows = connection.execute(statement).fetchall()
    return rows


def run_ok(root: Chroot, *command: str) -> str:
    result = root.run(list(command))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_refuses_without_a_usable_token_and_changes_nothing(root: Chroot) -> None:
    result = root.run(["bash", INSTALL])
    assert result.returncode == 1
    assert "no bot token: set TELEGRAM_BOT_TOKEN" in result.stderr
    assert "standard input is not a terminal" in result.stderr

    malformed = "12345:not-a-token"
    result = root.run(["bash", INSTALL], env={"TELEGRAM_BOT_TOKEN": malformed})
    assert result.returncode == 1
    assert "the bot token is malformed" in result.stderr
    assert malformed not in result.stdout + result.stderr

    result = root.run(["sh", INSTALL])
    assert result.returncode == 1
    assert "run me with bash" in result.stderr

    result = root.run(["bash", INSTALL, "--help"])
    assert result.returncode == 0
    assert "--uninstall" in result.stdout
    assert "--purge" in result.stdout

    result = root.run(["bash", INSTALL, "--frobnicate"])
    assert result.returncode == 1
    assert "unknown argument '--frobnicate'" in result.stderr

    for path in ("/opt/calfbot", "/etc/calfbot", "/var/lib/calfbot", "/etc/systemd/system/calfbot.service"):
        assert not root.path(path).exists(), path
    assert passwd_entry(root, "calfbot") is None
    assert systemctl_calls(root) == []


def test_install_upgrade_uninstall_purge(root: Chroot) -> None:
    fresh_install(root)
    upgrade(root)
    change_token(root)
    uninstall(root)
    purge(root)


def fresh_install(root: Chroot) -> None:
    output = install(root, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert "installing OS packages" in output

    # The code: a non-editable install in a release directory behind the venv symlink.
    venv = root.path("/opt/calfbot/venv")
    assert venv.is_symlink()
    assert venv.readlink().as_posix().startswith("releases/")  # relative: it resolves from the host too
    calfbot = root.path("/opt/calfbot/venv/bin/calfbot")
    assert calfbot.is_file()
    assert os.access(calfbot, os.X_OK)
    where = "import os, bot; print(os.path.realpath(bot.__file__))"
    package = run_ok(root, "/opt/calfbot/venv/bin/python", "-c", where)
    assert package.startswith("/opt/calfbot/releases/") and "/site-packages/bot/" in package, package
    assert mode_of(root.path("/opt/calfbot")) == (0o755, 0, 0)

    # The service user, and the bot working as it.
    user = passwd_entry(root, "calfbot")
    assert user is not None
    uid, gid, home, shell = int(user[2]), int(user[3]), user[5], user[6]
    assert 0 < uid < 1000  # a system user
    assert (home, shell) == ("/var/lib/calfbot", "/usr/sbin/nologin")
    checked = run_ok(root, "runuser", "-u", "calfbot", "--", "/opt/calfbot/venv/bin/calfbot", "check-content")
    assert checked.startswith("content OK:")

    # Secrets and settings: root only.
    assert mode_of(root.path("/etc/calfbot")) == (0o700, 0, 0)
    token_file = root.path("/etc/calfbot/telegram_bot_token")
    assert mode_of(token_file) == (0o600, 0, 0)
    assert token_file.read_text(encoding="utf-8") == TOKEN + "\n"
    env_file = root.path("/etc/calfbot/calfbot.env")
    assert mode_of(env_file) == (0o600, 0, 0)
    assert env_file.read_text(encoding="utf-8") == (REPO / "deploy/calfbot.env").read_text(encoding="utf-8")

    # The data directory and the migrated database, owned by the service user.
    assert mode_of(root.path("/var/lib/calfbot")) == (0o750, uid, gid)
    database = root.path("/var/lib/calfbot/calfbot.db")
    assert (database.stat().st_uid, database.stat().st_gid) == (uid, gid)
    assert query(database, "SELECT count(*) FROM alembic_version") == [(1,)]

    # The units, the admin command, and what ExecReload needs.
    for unit in UNITS:
        installed = root.path(f"/etc/systemd/system/{unit}")
        assert installed.read_bytes() == (REPO / "deploy" / unit).read_bytes()
        assert mode_of(installed) == (0o644, 0, 0)
    assert mode_of(root.path("/usr/local/bin/calfbot")) == (0o755, 0, 0)
    assert root.path("/bin/kill").exists()

    calls = systemctl_calls(root)
    assert "daemon-reload" in calls
    assert "enable --now calfbot.service calfbot-backup.timer" in calls
    assert calls.index("daemon-reload") < calls.index("enable --now calfbot.service calfbot-backup.timer")
    assert "stop calfbot.service" not in calls  # nothing to stop on a fresh install
    assert not root.path(JOURNALCTL_LOG).exists()  # only read when the service fails

    # The admin command runs as the service, with its token as a credential, and leaves no copy.
    upgraded = run_ok(root, "/usr/local/bin/calfbot", "db", "upgrade")
    assert "/var/lib/calfbot/calfbot.db is up to date" in upgraded
    assert not list(root.path("/run").glob("calfbot-credentials.*"))


def upgrade(root: Chroot) -> None:
    env_file = root.path("/etc/calfbot/calfbot.env")
    token_file = root.path("/etc/calfbot/telegram_bot_token")
    # An admin's own settings, in the forms systemd reads: comments, quotes, spaces.
    settings = env_file.read_text(encoding="utf-8") + (
        '; an admin comment\nCALFBOT_DEFAULT_SEND_TIME=06:30\n  DATABASE_URL = "sqlite+aiosqlite:////var/lib/calfbot/custom.db"\n'
    )
    env_file.write_text(settings, encoding="utf-8")
    database = root.path("/var/lib/calfbot/calfbot.db")
    query(database, "CREATE TABLE upgrade_marker (note TEXT)", "INSERT INTO upgrade_marker VALUES ('kept')")
    before_release = root.path("/opt/calfbot/venv").readlink().as_posix()
    calls_before = len(systemctl_calls(root))

    output = install(root)  # no token in the environment: keep the installed one
    assert "keeping the installed bot token" in output
    assert "keeping the settings in /etc/calfbot/calfbot.env" in output
    assert "installing OS packages" not in output

    assert token_file.read_text(encoding="utf-8") == TOKEN + "\n"
    assert mode_of(token_file) == (0o600, 0, 0)
    assert env_file.read_text(encoding="utf-8") == settings
    assert root.path("/etc/calfbot/calfbot.env.dist").read_bytes() == (REPO / "deploy/calfbot.env").read_bytes()
    assert query(database, "SELECT note FROM upgrade_marker") == [("kept",)]
    # Migrations ran with the admin's settings (DATABASE_URL, read through the env file).
    assert root.path("/var/lib/calfbot/custom.db").is_file()

    after_release = root.path("/opt/calfbot/venv").readlink().as_posix()
    assert after_release != before_release
    assert root.path(f"/opt/calfbot/{before_release}").is_dir()  # the previous release stays for a rollback
    calls = systemctl_calls(root)[calls_before:]
    # It was running: stopped before the migration, started on the new code after it.
    stop = calls.index("stop calfbot.service")
    assert calls.index("enable --now calfbot.service calfbot-backup.timer", stop) > stop
    assert "started calfbot.service on the new version" in output


def change_token(root: Chroot) -> None:
    """Without a token in the environment but with a terminal, the script asks, and does not echo it."""
    (root.path("/etc/calfbot/telegram_bot_token")).unlink()
    code, shown = root.run_in_terminal(["bash", INSTALL], prompt="Telegram bot token", answer=NEW_TOKEN, env=QUICK)
    assert code == 0, shown
    assert "Telegram bot token (from @BotFather; it is not shown): " in shown
    assert NEW_TOKEN not in shown
    assert "stored the bot token" in shown
    token_file = root.path("/etc/calfbot/telegram_bot_token")
    assert token_file.read_text(encoding="utf-8") == NEW_TOKEN + "\n"
    assert mode_of(token_file) == (0o600, 0, 0)
    assert not list(root.path("/etc/calfbot").glob(".telegram_bot_token.*"))
    # Three installs, two releases kept: the current one and the one before.
    assert len(list(root.path("/opt/calfbot/releases").iterdir())) == 2


def uninstall(root: Chroot) -> None:
    calls_before = len(systemctl_calls(root))
    install(root, "--uninstall")
    for unit in UNITS:
        assert not root.path(f"/etc/systemd/system/{unit}").exists()
    assert not root.path("/opt/calfbot").exists()
    assert not root.path("/usr/local/bin/calfbot").exists()
    # Kept: the data, the settings, the token and the user.
    assert root.path("/var/lib/calfbot/calfbot.db").is_file()
    assert root.path("/etc/calfbot/calfbot.env").is_file()
    assert root.path("/etc/calfbot/telegram_bot_token").read_text(encoding="utf-8") == NEW_TOKEN + "\n"
    assert passwd_entry(root, "calfbot") is not None
    calls = systemctl_calls(root)[calls_before:]
    assert "disable --now calfbot-backup.timer calfbot.service" in calls
    assert "daemon-reload" in calls


def purge(root: Chroot) -> None:
    install(root, "--purge")
    assert not root.path("/var/lib/calfbot").exists()
    assert not root.path("/etc/calfbot").exists()
    assert passwd_entry(root, "calfbot") is None
    assert not group_exists(root, "calfbot")
