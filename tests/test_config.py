"""Configuration: validated, and the token never shows."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, HttpConfig, load_config

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def config_from(env: dict[str, str], env_file: Path | None = None) -> object:
    return load_config(env, env_file=env_file)


def test_defaults_with_only_a_token() -> None:
    """A token is all the bot needs; the rest has defaults (SQLite in ./data, 07:00 UTC, polling)."""
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert config.token.get() == TOKEN
    assert config.database_url == "sqlite+aiosqlite:///data/calfbot.db"
    assert (config.default_send_time, config.default_timezone) == (time(7, 0), "UTC")
    assert config.api_base_url == "https://api.telegram.org/bot"
    assert config.webhook is None


def test_the_token_never_appears_in_repr_or_str() -> None:
    """repr and str of the config and of the secret hide the token."""
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    for text in (repr(config), str(config), repr(config.token), str(config.token)):
        assert TOKEN not in text
        assert TOKEN.partition(":")[2] not in text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no bot token"),
        ({"TELEGRAM_BOT_TOKEN": "nope"}, "malformed"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN + " extra"}, "malformed"),
        ({"TELEGRAM_BOT_TOKEN_FILE": "/nonexistent/token"}, "cannot read the token file"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_DEFAULT_SEND_TIME": "25:00"}, "CALFBOT_DEFAULT_SEND_TIME"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_DEFAULT_TIMEZONE": "Mars/Olympus"}, "CALFBOT_DEFAULT_TIMEZONE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_LOG_LEVEL": "LOUD"}, "CALFBOT_LOG_LEVEL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "http://x.example/hook"}, "https://"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example/h", "WEBHOOK_PORT": "0"}, "WEBHOOK_PORT"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example/h", "WEBHOOK_SECRET": "a b"},
            "WEBHOOK_SECRET",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": "12, @alice"}, "ADMIN_IDS must be Telegram user ids"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_HTTP_PORT": "http"}, "CALFBOT_HTTP_PORT"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_HTTP_PORT": "70000"}, "CALFBOT_HTTP_PORT"),
    ],
)
def test_bad_settings_name_the_setting_never_the_token(env: dict[str, str], message: str) -> None:
    """Each bad setting is a ConfigError that names it, and no message carries a token."""
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(env, env_file=None)
    assert TOKEN.partition(":")[2] not in str(caught.value)


def test_a_malformed_token_is_not_echoed() -> None:
    """Even a wrong token may be a real secret: the error does not quote it."""
    secret = "123:short-but-secret"
    with pytest.raises(ConfigError) as caught:
        load_config({"TELEGRAM_BOT_TOKEN": secret}, env_file=None)
    assert "short-but-secret" not in str(caught.value)


def test_token_from_a_file_or_a_systemd_credential(tmp_path: Path) -> None:
    """TELEGRAM_BOT_TOKEN_FILE, or $CREDENTIALS_DIRECTORY/telegram_bot_token (LoadCredential=), with a newline."""
    token_file = tmp_path / "telegram_bot_token"
    token_file.write_text(TOKEN + "\n")
    assert load_config({"TELEGRAM_BOT_TOKEN_FILE": str(token_file)}, env_file=None).token.get() == TOKEN
    assert load_config({"CREDENTIALS_DIRECTORY": str(tmp_path)}, env_file=None).token.get() == TOKEN


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    """Settings come from .env, and a real environment variable overrides the file."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nCALFBOT_DEFAULT_TIMEZONE=Europe/Berlin\nCALFBOT_LOG_LEVEL=DEBUG\n"
    )
    config = load_config({"CALFBOT_LOG_LEVEL": "warning"}, env_file=env_file)
    assert (config.default_timezone, config.log_level) == ("Europe/Berlin", "WARNING")


def test_webhook_settings() -> None:
    """WEBHOOK_URL turns on webhook mode, loopback by default, with an optional secret."""
    config = load_config(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example/telegram", "WEBHOOK_SECRET": "s3cr3t_-"},
        env_file=None,
    )
    assert config.webhook is not None
    assert (config.webhook.listen, config.webhook.port) == ("127.0.0.1", 8080)
    assert config.webhook.secret is not None
    assert "s3cr3t" not in repr(config)


def test_admin_ids_and_the_health_endpoint() -> None:
    """ADMIN_IDS takes commas and spaces; the endpoint is off by default and on loopback when on."""
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": " 12,34  56,"}, env_file=None)
    assert config.admin_ids == frozenset({12, 34, 56})
    assert config.http is None
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "CALFBOT_HTTP_PORT": "9090"}, env_file=None)
    assert config.admin_ids == frozenset()
    assert config.http == HttpConfig(host="127.0.0.1", port=9090)
