"""Operating a real `calfbot run` process as an admin would: health, metrics, stats, reload, one bot per data dir."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.content.location import default_content_dir
from tests.fakes.bot_api_server import FakeBotApi
from tests.test_process import CALFBOT, _free_port, calfbot_process

ADMIN = 777


async def _calfbot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """An admin command, run while the event loop keeps serving the fake API."""
    return await asyncio.to_thread(
        subprocess.run,
        [CALFBOT, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _read_until(stream: asyncio.StreamReader, pattern: str, *, within: float = 20.0) -> str:
    """Read the bot's log until a line matches ``pattern``; returns what was read."""
    seen: list[str] = []

    async def scan() -> str:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the log ended before {pattern!r}:\n{''.join(seen)}")
            seen.append(line)
            if re.search(pattern, line):
                return "".join(seen)

    return await asyncio.wait_for(scan(), within)


async def test_an_admin_operates_the_running_bot(tmp_path: Path) -> None:
    """Health check, metrics, stats, a good and a bad content reload, a refused second bot, then SIGTERM -> 0."""
    content = tmp_path / "content"
    shutil.copytree(default_content_dir(), content)
    port = _free_port()
    async with FakeBotApi() as api:
        env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "CALFBOT_HTTP_PORT": str(port),
            "CALFBOT_CONTENT_DIR": str(content),
            "ADMIN_IDS": str(ADMIN),
            "CALFBOT_LOG_LEVEL": "INFO",
        }
        async with calfbot_process(env, tmp_path) as process:
            assert process.stderr is not None
            await _read_until(process.stderr, r"health and metrics on http://127\.0\.0\.1:\d+/healthz")
            await api.wait_for("getUpdates", timeout=30)

            health = await _calfbot(env, tmp_path, "healthcheck")
            assert (health.returncode, health.stdout.strip()) == (0, "healthy: ok"), health.stderr
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert "calfbot_subscribers" in await response.text()

            api.say(ADMIN, "/admin")
            report = await api.wait_for("sendMessage", predicate=lambda r: r.chat_id == ADMIN, timeout=15)
            assert report.text is not None
            assert "Last delivery tick: 20" in report.text

            stats = await _calfbot(env, tmp_path, "stats")
            assert stats.returncode == 0, stats.stderr
            assert "Subscribers: 0 active" in stats.stdout
            assert "Last delivery tick: 20" in stats.stdout

            second = await _calfbot(env, tmp_path, "run")
            assert second.returncode == 1
            assert f"another calfbot (pid {process.pid}) is running" in second.stderr

            pogo = content / "exercises" / "pogo-hops.yaml"
            pogo.write_text(pogo.read_text(encoding="utf-8").replace("name: ", "name: Reloaded ", 1), encoding="utf-8")
            reload = await _calfbot(env, tmp_path, "reload-content")
            assert reload.returncode == 0, reload.stderr
            assert f"asked the running bot (pid {process.pid}) to reload it" in reload.stdout
            await _read_until(process.stderr, r"content reloaded from .*: 7 exercises")

            pogo.write_text(pogo.read_text(encoding="utf-8").replace("name: ", 'name: "', 1), encoding="utf-8")
            refused = await _calfbot(env, tmp_path, "reload-content")
            assert refused.returncode == 1
            assert "content is broken; the running bot keeps its current content" in refused.stderr
            assert "pogo-hops.yaml:2" in refused.stderr
            # A SIGHUP with broken content (systemctl reload) is reported in the log and changes nothing.
            process.send_signal(signal.SIGHUP)
            await _read_until(process.stderr, r"content reload failed; the bot keeps the content it had")
            api.say(5005, "/help")
            await api.wait_for("sendMessage", predicate=lambda r: r.chat_id == 5005, timeout=15)

            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
    unhealthy = await _calfbot(env, tmp_path, "healthcheck")
    assert unhealthy.returncode == 1
    assert "no answer from" in unhealthy.stderr


async def test_a_taken_health_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    """CALFBOT_HTTP_PORT already in use: exit 1 with the address, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeBotApi() as api:
            env = {
                "TELEGRAM_BOT_TOKEN": api.token,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "CALFBOT_HTTP_PORT": str(port),
            }
            async with calfbot_process(env, tmp_path) as process:
                code = await asyncio.wait_for(process.wait(), 30)
                assert process.stderr is not None
                err = (await process.stderr.read()).decode()
    assert code == 1, err
    assert f"cannot serve /healthz on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_healthcheck_without_the_endpoint_explains_how_to_turn_it_on(tmp_path: Path) -> None:
    """No CALFBOT_HTTP_PORT: exit 2 and the setting to use."""
    env = {key: value for key, value in os.environ.items() if key != "CALFBOT_HTTP_PORT"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "healthcheck"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "the health endpoint is off: set CALFBOT_HTTP_PORT" in result.stderr
