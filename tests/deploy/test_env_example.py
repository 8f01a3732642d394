""".env.example: valid for python-dotenv, every setting once, each explained, each example valid.

Settings that are not required appear commented out (``# NAME=value``), since
a present but empty setting is not the same as an absent one for the bot.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from dotenv import dotenv_values

from bot.config import load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / ".env.example"
BOT_SETTINGS = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BOT_TOKEN_FILE",
    "DATABASE_URL",
    "CALFBOT_DATA_DIR",
    "CALFBOT_CONTENT_DIR",
    "CALFBOT_DEFAULT_SEND_TIME",
    "CALFBOT_DEFAULT_TIMEZONE",
    "TELEGRAM_API_BASE_URL",
    "CALFBOT_LOG_LEVEL",
    "WEBHOOK_URL",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET",
    "CALFBOT_SEND_RATE",
    "CALFBOT_PAID_BROADCAST",
    "CALFBOT_CATCHUP_GRACE_MINUTES",
    "ADMIN_IDS",
    "CALFBOT_HTTP_HOST",
    "CALFBOT_HTTP_PORT",
    "CALFBOT_TELEGRAM_TRANSPORT",
}
# Read by compose.yaml only.
COMPOSE_SETTINGS = {"COMPOSE_PROFILES", "POSTGRES_PASSWORD"}
SETTING = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$")
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def uncommented() -> str:
    """The example with every setting switched on."""
    return "\n".join(re.sub(r"^# ([A-Z][A-Z0-9_]*=)", r"\1", line) for line in lines()) + "\n"


def test_parses_with_python_dotenv_and_only_the_token_is_set() -> None:
    values = dotenv_values(EXAMPLE)
    assert values == {"TELEGRAM_BOT_TOKEN": ""}


def test_every_setting_once_and_explained() -> None:
    seen: list[str] = []
    text = lines()
    for number, line in enumerate(text):
        match = SETTING.match(line)
        if not match:
            assert not line or line.startswith("#"), f"line {number + 1}: {line!r}"
            continue
        name = match.group(1)
        seen.append(name)
        above = text[number - 1] if number else ""
        assert above.startswith("#") and not SETTING.match(above), f"{name} has no comment line above it"
    assert sorted(seen) == sorted(BOT_SETTINGS | COMPOSE_SETTINGS)


def test_all_settings_switched_on_still_parse() -> None:
    values = dotenv_values(stream=io.StringIO(uncommented()))
    assert set(values) == BOT_SETTINGS | COMPOSE_SETTINGS
    assert all(values[name] for name in values if name != "TELEGRAM_BOT_TOKEN")


def test_the_examples_are_values_the_bot_accepts() -> None:
    raw = dotenv_values(stream=io.StringIO(uncommented()))
    values = {name: value or "" for name, value in raw.items()} | {"TELEGRAM_BOT_TOKEN": TOKEN}
    config = load_config(values, env_file=None)
    assert config.token.get() == TOKEN
    assert config.webhook is not None
    assert config.webhook.url == values["WEBHOOK_URL"]
    assert config.webhook.port == int(values["WEBHOOK_PORT"])
    assert config.database_url == values["DATABASE_URL"]
    assert config.delivery.catchup_grace_minutes == int(values["CALFBOT_CATCHUP_GRACE_MINUTES"])
