"""The real `calfbot run` process against the fake Bot API: start, serve, stop, never leak the token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.fakes.bot_api_server import FakeBotApi

CALFBOT = str(Path(sys.executable).with_name("calfbot"))
CHAT = 5005


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def calfbot_process(env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `calfbot run`; stop it by its PID with SIGTERM (SIGKILL if it hangs)."""
    process = await asyncio.create_subprocess_exec(
        CALFBOT, "run", cwd=cwd, env={**os.environ, **env}, stderr=asyncio.subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_polling_process_answers_and_stops_cleanly_without_leaking_the_token(tmp_path: Path) -> None:
    """`calfbot run` (DEBUG logs) answers /start, exits 0 on SIGTERM, and its log never holds the token."""
    async with FakeBotApi() as api:
        env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "CALFBOT_LOG_LEVEL": "DEBUG",
        }
        async with calfbot_process(env, tmp_path) as process:
            await api.wait_for("getUpdates", timeout=30)
            api.say(CHAT, "/start")
            reply = await api.wait_for("sendMessage", predicate=lambda r: r.chat_id == CHAT, timeout=15)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
            assert process.stderr is not None
            log = (await process.stderr.read()).decode()
    assert reply.text is not None
    assert "Welcome to calfbot" in reply.text
    assert (tmp_path / "data" / "calfbot.db").is_file()
    assert "DEBUG" in log
    assert api.token not in log
    assert api.token.partition(":")[2] not in log


async def test_a_token_telegram_rejects_stops_start_up_with_one_line(tmp_path: Path) -> None:
    """A well-formed but wrong token: exit 1 and one clear line, no traceback."""
    async with FakeBotApi() as api:
        wrong = "987654321:" + "Z" * 35
        env = {"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_BASE_URL": api.base_url, "CALFBOT_LOG_LEVEL": "WARNING"}
        async with calfbot_process(env, tmp_path) as process:
            code = await asyncio.wait_for(process.wait(), 30)
            assert process.stderr is not None
            err = (await process.stderr.read()).decode()
    assert code == 1
    assert "Telegram rejected the bot token (InvalidToken)" in err
    assert "Traceback" not in err
    assert "Z" * 35 not in err


async def test_webhook_mode_refuses_updates_without_the_secret(tmp_path: Path) -> None:
    """With WEBHOOK_URL the bot registers its webhook and serves it; a wrong secret header is refused."""
    port = _free_port()
    async with FakeBotApi() as api:
        env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "WEBHOOK_URL": "https://bot.example.org/telegram-hook",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": "right-secret_123",
        }
        async with calfbot_process(env, tmp_path):
            registered = await api.wait_for("setWebhook", timeout=30)
            assert registered.params["url"] == "https://bot.example.org/telegram-hook"
            assert registered.params["secret_token"] == "right-secret_123"
            update = api.user_message(CHAT, "/help")
            url = f"http://127.0.0.1:{port}/telegram-hook"
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # the listener comes up right after setWebhook
                    try:
                        async with http.post(url, data=json.dumps(update)) as response:
                            missing = response.status
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong", "Content-Type": "application/json"}
                async with http.post(url, data=json.dumps(update), headers=headers) as response:
                    wrong = response.status
                headers["X-Telegram-Bot-Api-Secret-Token"] = "right-secret_123"
                async with http.post(url, data=json.dumps(update), headers=headers) as response:
                    right = response.status
            reply = await api.wait_for("sendMessage", predicate=lambda r: r.chat_id == CHAT, timeout=15)
    assert (missing, wrong, right) == (403, 403, 200)
    assert reply.text is not None
    assert "/today" in reply.text
    assert len(api.sent_messages(CHAT)) == 1
