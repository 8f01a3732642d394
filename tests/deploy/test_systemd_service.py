"""deploy/install.sh and the units under a real systemd, with the real bot.

A Debian 12 root booted with systemd-nspawn (``machine.py``): install.sh runs
with the real systemctl, so the hardened calfbot.service really starts the
bot, which gets its token through LoadCredential= and talks to the repo's fake
Bot API server on 127.0.0.1 (the machine shares the host's network). Then:
the bot answers /start; the sandbox is in force on its process; an upgrade
stops, migrates and starts it on the new code; it stops cleanly within
TimeoutStopSec; a token Telegram rejects makes install.sh
fail with the journal's reason; --purge removes the units.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.deploy.chroot import REPO, SOURCE_IN_ROOT
from tests.deploy.machine import Machine, booted_machine
from tests.fakes.bot_api_server import FakeBotApi, RecordedRequest

pytestmark = pytest.mark.slow_install

INSTALL = f"{SOURCE_IN_ROOT}/deploy/install.sh"
CHAT = 4242
# Well-formed, but not the fake server's token: it answers 401, as Telegram does for a revoked one.
REJECTED_TOKEN = "555555555:ZZZ-DEF1234ghIkl-zyx57W2v1u123ew99"


@pytest.fixture(scope="module")
def machine() -> Iterator[Machine]:
    missing = [tool for tool in ("debootstrap", "systemd-nspawn", "nsenter", "tar") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the systemd test needs {', '.join(missing)} (apt-get install debootstrap systemd-container)")
    if os.geteuid() != 0:
        pytest.fail("the systemd test needs root (for systemd-nspawn)")
    with booted_machine() as booted:
        yield booted


async def run(machine: Machine, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A command in the machine, off the event loop (the fake server must keep answering meanwhile)."""
    return await asyncio.to_thread(machine.run, list(command), env=env)


async def show(machine: Machine, unit: str, prop: str) -> str:
    result = await run(machine, "systemctl", "show", unit, f"--property={prop}", "--value")
    return result.stdout.strip()


def from_chat(request: RecordedRequest) -> bool:
    return request.chat_id == CHAT


async def test_install_runs_the_hardened_service_under_systemd(machine: Machine) -> None:
    async with FakeBotApi() as api:
        # Settings an admin prepared before installing: the Bot API is the fake one.
        config = machine.path("/etc/calfbot")
        config.mkdir(mode=0o700)
        template = (REPO / "deploy/calfbot.env").read_text(encoding="utf-8")
        (config / "calfbot.env").write_text(template + f"TELEGRAM_API_BASE_URL={api.base_url}\n", encoding="utf-8")

        started = time.monotonic()
        result = await run(machine, "bash", INSTALL, env={"TELEGRAM_BOT_TOKEN": api.token})
        print(f"install.sh under systemd: {time.monotonic() - started:.1f} s")
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "done: calfbot is running" in output
        assert api.token not in output

        # The bot, started by systemd, reached the API with the credential's token and answers.
        await api.wait_for("getUpdates", timeout=60)
        api.say(CHAT, "/start")
        await api.wait_for("sendMessage", predicate=from_chat, timeout=30)

        # The sandbox, as the kernel sees the bot's process.
        pid = await show(machine, "calfbot.service", "MainPID")
        assert pid.isdigit() and pid != "0"
        status = (await run(machine, "cat", f"/proc/{pid}/status")).stdout
        uid = (await run(machine, "id", "-u", "calfbot")).stdout.strip()
        assert re.search(rf"^Uid:\s+{uid}\s+{uid}\s+{uid}\s+{uid}$", status, re.MULTILINE), status
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.MULTILINE)
        assert re.search(r"^CapBnd:\s+0+$", status, re.MULTILINE)
        assert re.search(r"^CapEff:\s+0+$", status, re.MULTILINE)
        assert re.search(r"^Seccomp:\s+2$", status, re.MULTILINE)  # a system call filter
        assert await show(machine, "calfbot.service", "MemoryMax") == str(384 * 1024 * 1024)
        assert await show(machine, "calfbot.service", "ActiveState") == "active"
        assert (await run(machine, "systemctl", "is-enabled", "calfbot.service")).stdout.strip() == "enabled"
        assert (await run(machine, "systemctl", "is-active", "calfbot-backup.timer")).stdout.strip() == "active"
        # The data directory: read-write for the bot, and its database there.
        database = await run(machine, "stat", "-c", "%U %a", "/var/lib/calfbot", "/var/lib/calfbot/calfbot.db")
        assert database.stdout.split("\n")[0] == "calfbot 750"
        assert database.stdout.split("\n")[1].startswith("calfbot ")

        # Logs reach the journal, without the token.
        journal = (await run(machine, "journalctl", "--unit=calfbot.service", "--output=cat", "--no-pager")).stdout
        assert "calfbot starting (polling)" in journal
        assert api.token not in journal

        # An upgrade of the running bot: stopped, migrated, started on the new release.
        release = machine.path("/opt/calfbot/venv").readlink()
        mark = api.mark()
        result = await run(machine, "bash", INSTALL)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "stopping calfbot.service for the upgrade" in output
        assert "started calfbot.service on the new version" in output
        assert machine.path("/opt/calfbot/venv").readlink() != release
        assert await show(machine, "calfbot.service", "MainPID") != pid
        await api.wait_for("getUpdates", after=mark, timeout=60)
        api.say(CHAT, "/today")
        await api.wait_for("sendMessage", predicate=from_chat, after=mark, timeout=30)

        # A clean stop: SIGTERM, exit 0, well within TimeoutStopSec.
        started = time.monotonic()
        stopped = await run(machine, "systemctl", "stop", "calfbot.service")
        assert stopped.returncode == 0, stopped.stderr
        assert time.monotonic() - started < 12
        assert await show(machine, "calfbot.service", "Result") == "success"
        assert await show(machine, "calfbot.service", "ExecMainStatus") == "0"

        # A token Telegram rejects: install.sh sees the service fail and shows why.
        result = await run(machine, "bash", INSTALL, env={"TELEGRAM_BOT_TOKEN": REJECTED_TOKEN})
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert "calfbot.service is activating, not running" in output or "is failed, not running" in output
        assert "Telegram rejected the bot token" in output  # the journal's last lines
        assert REJECTED_TOKEN not in output

        # --purge: no unit left, no user, no data.
        result = await run(machine, "bash", INSTALL, "--purge")
        assert result.returncode == 0, result.stdout + result.stderr
        found = await run(machine, "systemctl", "list-unit-files", "calfbot.service", "calfbot-backup.timer")
        assert "0 unit files listed" in found.stdout, found.stdout
        assert (await run(machine, "id", "calfbot")).returncode != 0
        assert not machine.path("/var/lib/calfbot").exists()
