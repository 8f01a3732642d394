"""Settings from the environment: the only module that reads it.

The bot token is a secret. It lives in ``Secret``, whose repr and str are
masked, and no error message here ever includes a setting's value for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from dotenv import dotenv_values

from bot.timezones import normalize_zone, parse_send_time
from bot.transport import DEFAULT_TRANSPORT, TRANSPORTS, Transport

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram tokens look like "123456789:AA..." (bot id, colon, 35 url-safe characters).
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
# systemd's LoadCredential= places the token here (see deploy/).
CREDENTIAL_NAME = "telegram_bot_token"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Telegram's broadcast limits: about 30 messages a second free, up to 1000 paid.
FREE_RATE = 30.0
MAX_PAID_RATE = 1000.0


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it, never its value."""


class Secret:
    """A string that never shows itself in a repr, a str or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret itself, for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Where Telegram posts updates, and where the bot listens for them."""

    url: str
    listen: str
    port: int
    secret: Secret | None


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How fast daily messages go out, and how late a missed one may still go."""

    send_rate: float = 30.0
    paid_broadcast: bool = False
    catchup_grace_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Where the health and metrics endpoint listens (off unless CALFBOT_HTTP_PORT is set)."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot needs to start, validated."""

    token: Secret = field(repr=False)
    database_url: str
    data_dir: Path
    content_dir: Path | None
    default_send_time: time
    default_timezone: str
    api_base_url: str
    log_level: str
    webhook: WebhookConfig | None
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    admin_ids: frozenset[int] = frozenset()
    http: HttpConfig | None = None
    transport: Transport = DEFAULT_TRANSPORT


def read_settings(environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")) -> dict[str, str]:
    """Settings from ``environ`` (default: the process environment) over an optional ``.env``.

    Real environment variables win over the file, as with docker and systemd.
    """
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def data_dir(values: Mapping[str, str]) -> Path:
    """CALFBOT_DATA_DIR, default ``./data``: the SQLite database, its backups and the pid file."""
    return Path(values.get("CALFBOT_DATA_DIR") or "./data")


def content_dir(values: Mapping[str, str]) -> Path | None:
    """CALFBOT_CONTENT_DIR, if set (else the bundled content)."""
    text = values.get("CALFBOT_CONTENT_DIR")
    return Path(text) if text else None


def database_url(values: Mapping[str, str]) -> str:
    """DATABASE_URL, or the SQLite file in the data directory."""
    return values.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir(values) / 'calfbot.db'}"


def load_config(environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")) -> Config:
    """Validate every setting the bot needs to run; raise ConfigError naming the first bad one."""
    values = read_settings(environ, env_file=env_file)
    return Config(
        token=_token(values),
        database_url=database_url(values),
        data_dir=data_dir(values),
        content_dir=content_dir(values),
        default_send_time=_send_time(values.get("CALFBOT_DEFAULT_SEND_TIME") or "07:00"),
        default_timezone=_zone(values.get("CALFBOT_DEFAULT_TIMEZONE") or "UTC"),
        api_base_url=values.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL,
        log_level=_log_level(values.get("CALFBOT_LOG_LEVEL") or "INFO"),
        webhook=_webhook(values),
        delivery=_delivery(values),
        admin_ids=_admin_ids(values.get("ADMIN_IDS") or ""),
        http=http_config(values),
        transport=_transport(values.get("CALFBOT_TELEGRAM_TRANSPORT") or DEFAULT_TRANSPORT),
    )


def _token(values: Mapping[str, str]) -> Secret:
    raw = values.get("TELEGRAM_BOT_TOKEN")
    source = "TELEGRAM_BOT_TOKEN"
    if not raw:
        path = values.get("TELEGRAM_BOT_TOKEN_FILE")
        credentials = values.get("CREDENTIALS_DIRECTORY")
        if not path and credentials:
            path = str(Path(credentials) / CREDENTIAL_NAME)
        if not path:
            raise ConfigError("no bot token: set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE")
        source = f"the token file {path}"
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {source}: {exc.strerror}") from None
    token = raw.strip()
    if not _TOKEN.match(token):
        raise ConfigError(f"the bot token in {source} is malformed (expected digits, a colon and 35 characters)")
    return Secret(token)


def _send_time(text: str) -> time:
    value = parse_send_time(text)
    if value is None:
        raise ConfigError(f"CALFBOT_DEFAULT_SEND_TIME must be HH:MM (24-hour), not {text!r}")
    return value


def _zone(text: str) -> str:
    zone = normalize_zone(text)
    if zone is None:
        raise ConfigError(f"CALFBOT_DEFAULT_TIMEZONE must be an IANA zone like Europe/Berlin, not {text!r}")
    return zone


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"CALFBOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def _port(name: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name} must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def _admin_ids(text: str) -> frozenset[int]:
    ids = set()
    for part in text.replace(",", " ").split():
        if not part.isdigit():
            raise ConfigError(
                f"ADMIN_IDS must be Telegram user ids (digits) separated by commas, not {part!r} "
                "(a user id is a number; @userinfobot tells you yours)"
            )
        ids.add(int(part))
    return frozenset(ids)


def http_config(values: Mapping[str, str]) -> HttpConfig | None:
    """The health endpoint's address, or None when it is off."""
    port = values.get("CALFBOT_HTTP_PORT")
    if not port:
        return None
    return HttpConfig(host=values.get("CALFBOT_HTTP_HOST") or "127.0.0.1", port=_port("CALFBOT_HTTP_PORT", port))


def _transport(text: str) -> Transport:
    for transport in TRANSPORTS:
        if text.lower() == transport:
            return transport
    raise ConfigError(f"CALFBOT_TELEGRAM_TRANSPORT must be one of {', '.join(TRANSPORTS)}, not {text!r}")


def _webhook(values: Mapping[str, str]) -> WebhookConfig | None:
    url = values.get("WEBHOOK_URL")
    if not url:
        return None
    if not url.startswith("https://"):
        raise ConfigError("WEBHOOK_URL must start with https:// (Telegram only posts to HTTPS)")
    port = _port("WEBHOOK_PORT", values.get("WEBHOOK_PORT") or "8080")
    secret = values.get("WEBHOOK_SECRET")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
    return WebhookConfig(
        url=url,
        listen=values.get("WEBHOOK_LISTEN") or "127.0.0.1",
        port=port,
        secret=Secret(secret) if secret else None,
    )


def _delivery(values: Mapping[str, str]) -> DeliveryConfig:
    paid = (values.get("CALFBOT_PAID_BROADCAST") or "").lower() in ("1", "true", "yes")
    rate_text = values.get("CALFBOT_SEND_RATE") or "30"
    try:
        rate = float(rate_text)
    except ValueError:
        raise ConfigError(f"CALFBOT_SEND_RATE must be messages per second, not {rate_text!r}") from None
    if not 0 < rate <= MAX_PAID_RATE:
        raise ConfigError(f"CALFBOT_SEND_RATE must be above 0 and at most {MAX_PAID_RATE:.0f}")
    if rate > FREE_RATE and not paid:
        raise ConfigError(
            f"CALFBOT_SEND_RATE above {FREE_RATE:.0f}/s needs paid broadcasts: set CALFBOT_PAID_BROADCAST=1 "
            "(Telegram charges Stars for each message above the free limit)"
        )
    grace_text = values.get("CALFBOT_CATCHUP_GRACE_MINUTES")
    if grace_text is not None and not grace_text.isdigit():
        raise ConfigError(f"CALFBOT_CATCHUP_GRACE_MINUTES must be a whole number of minutes, not {grace_text!r}")
    return DeliveryConfig(
        send_rate=rate,
        paid_broadcast=paid,
        catchup_grace_minutes=int(grace_text) if grace_text is not None else None,
    )
