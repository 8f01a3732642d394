"""The systemd units, checked by systemd's own tools and against the deploy contract.

``systemd-analyze verify`` loads the units as systemd would and reports unknown
directives and bad values, but only as messages (its exit status stays 0), so
a clean unit here is one it has nothing at all to say about. It also checks
that ExecStart's program exists: the bot's, /opt/calfbot/venv/bin/calfbot, is
not installed on a test machine, so the units are verified from copies in a
temporary directory where that one path (and nothing else) points at an
existing program.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import require_tool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("calfbot.service", "calfbot-backup.service", "calfbot-backup.timer")
BOT = "/opt/calfbot/venv/bin/calfbot"
# The sandbox both services share.
HARDENING = {
    "User": "calfbot",
    "Group": "calfbot",
    "StateDirectory": "calfbot",
    "WorkingDirectory": "/var/lib/calfbot",
    "Environment": "CALFBOT_DATA_DIR=/var/lib/calfbot PYTHONUNBUFFERED=1",
    "EnvironmentFile": "/etc/calfbot/calfbot.env",
    "LoadCredential": "telegram_bot_token:/etc/calfbot/telegram_bot_token",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter": "@system-service",
}

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """Sections of key -> values (systemd allows a key more than once)."""
    sections: Unit = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting outside any section: {line!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit(name: str) -> Unit:
    return parse_unit((DEPLOY / name).read_text(encoding="utf-8"))


def one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key)
    assert values is not None and len(values) == 1, f"{key}: {values}"
    return values[0]


def seconds(span: str) -> float:
    """A systemd time span such as 15s, 2min or 1h 30min, in seconds."""
    factors = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}
    total = 0.0
    for number, suffix in re.findall(r"(\d+)\s*([a-z]*)", span):
        total += int(number) * factors[suffix]
    return total


def stage(directory: Path, edit: tuple[str, str] | None = None) -> list[Path]:
    """Copies of the units with the bot's path pointed at an existing program (and an optional edit)."""
    program = shutil.which("true")
    assert program
    staged = []
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(BOT, program)
        if edit is not None and name == "calfbot.service":
            old, new = edit
            assert old in text
            text = text.replace(old, new)
        (directory / name).write_text(text, encoding="utf-8")
        staged.append(directory / name)
    return staged


def verify(units: list[Path]) -> tuple[int, str]:
    analyze = require_tool("systemd-analyze")
    result = subprocess.run(
        [analyze, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def test_systemd_analyze_verify_has_nothing_to_say(tmp_path: Path) -> None:
    code, output = verify(stage(tmp_path))
    assert (code, output) == (0, "")


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (("[Install]", "[Install]\nWantedByy=multi-user.target"), "Unknown key"),
        (("MemoryMax=384M", "MemoryMax=lots"), "Invalid memory limit"),
        (("Restart=on-failure", "Restart=sometimes"), "Failed to parse service restart specifier"),
        (("ProtectSystem=strict", "ProtectSystem=very"), "Failed to parse"),
        (("RestrictAddressFamilies=AF_INET", "RestrictAddressFamilies=AF_INTERNET"), "AF_INTERNET"),
    ],
)
def test_verify_catches_a_broken_unit(tmp_path: Path, edit: tuple[str, str], complaint: str) -> None:
    """The check above is only worth something if verify speaks up about mistakes like these."""
    _, output = verify(stage(tmp_path, edit))
    assert complaint in output


def test_hardening_exposure_is_low(tmp_path: Path) -> None:
    """systemd's own score of the sandbox: 0 (locked down) to 10 (unprotected); 'OK' is below 4."""
    analyze = require_tool("systemd-analyze")
    for staged in stage(tmp_path)[:2]:
        result = subprocess.run(
            [analyze, "security", "--offline=yes", "--threshold=20", str(staged)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout[-600:] + result.stderr
        assert re.search(r"Overall exposure level for \S+: [01]\.\d", result.stdout), result.stdout[-300:]


def test_bot_service_contract() -> None:
    service = unit("calfbot.service")
    main, unit_section = service["Service"], service["Unit"]
    for key, value in HARDENING.items():
        assert one(main, key) == value, key
    assert one(main, "ExecStart") == f"{BOT} run"
    assert one(main, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert one(main, "Restart") == "on-failure"
    assert one(main, "RestartPreventExitStatus") == "2"  # bad configuration: a restart cannot help
    # A start that keeps failing (a revoked token exits 1) stops being retried.
    assert seconds(one(unit_section, "StartLimitIntervalSec")) > 0
    burst = int(one(unit_section, "StartLimitBurst"))
    assert burst * seconds(one(main, "RestartSec")) < seconds(one(unit_section, "StartLimitIntervalSec"))
    # The bot exits within 10 s of SIGTERM; systemd waits a little longer before killing it.
    assert 10 < seconds(one(main, "TimeoutStopSec")) <= 30
    assert "StandardOutput" not in main  # stdout and stderr go to the journal
    assert one(main, "MemoryMax") == "384M"
    assert "MemoryHigh" in main
    assert one(service["Install"], "WantedBy") == "multi-user.target"


def test_backup_service_and_timer_contract() -> None:
    backup = unit("calfbot-backup.service")["Service"]
    for key, value in HARDENING.items():
        assert one(backup, key) == value, key
    assert one(backup, "Type") == "oneshot"
    assert one(backup, "ExecStart") == f"{BOT} backup --keep 7"
    timer = unit("calfbot-backup.timer")
    assert one(timer["Timer"], "Persistent") == "true"
    assert seconds(one(timer["Timer"], "RandomizedDelaySec")) > 0
    assert one(timer["Timer"], "Unit") == "calfbot-backup.service"
    assert one(timer["Install"], "WantedBy") == "timers.target"


def test_same_sandbox_for_both_services() -> None:
    """Every sandbox setting of the bot applies to the backup job too (they touch the same data)."""
    bot, backup = unit("calfbot.service")["Service"], unit("calfbot-backup.service")["Service"]
    sandbox = {key for key in bot if key.startswith(("Protect", "Private", "Restrict", "SystemCall", "Capability"))}
    sandbox |= {"NoNewPrivileges", "LockPersonality", "RemoveIPC", "UMask", "ProcSubset"}
    for key in sorted(sandbox):
        assert backup.get(key) == bot.get(key), key
