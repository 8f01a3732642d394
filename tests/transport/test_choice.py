"""Choosing the transport: CALFBOT_TELEGRAM_TRANSPORT, make_request, and the Application built from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from telegram.request import BaseRequest, HTTPXRequest

from bot.app import build_application
from bot.config import Config, ConfigError, load_config
from bot.db.engine import create_engine
from bot.domain import Catalog
from bot.transport import AiohttpRequest, Transport, make_request

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KINDS: dict[str, type[BaseRequest]] = {"aiohttp": AiohttpRequest, "httpx": HTTPXRequest}


def config(**settings: str) -> Config:
    return load_config({"TELEGRAM_BOT_TOKEN": TOKEN, **settings}, env_file=None)


def test_aiohttp_is_the_default() -> None:
    assert config().transport == "aiohttp"


@pytest.mark.parametrize(("value", "expected"), [("aiohttp", "aiohttp"), ("httpx", "httpx"), ("HTTPX", "httpx")])
def test_the_setting_picks_a_transport(value: str, expected: str) -> None:
    assert config(CALFBOT_TELEGRAM_TRANSPORT=value).transport == expected


@pytest.mark.parametrize("value", ["requests", "aiohttp ", "http"])
def test_an_unknown_transport_names_the_setting_and_the_choices(value: str) -> None:
    with pytest.raises(ConfigError, match=r"CALFBOT_TELEGRAM_TRANSPORT must be one of aiohttp, httpx"):
        config(CALFBOT_TELEGRAM_TRANSPORT=value)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_make_request_builds_the_backend_with_ptbs_defaults(transport: Transport) -> None:
    sends = make_request(transport, pool_size=64)
    updates = make_request(transport, pool_size=64, for_updates=True)
    assert type(sends) is type(updates) is KINDS[transport]
    assert sends.read_timeout == updates.read_timeout == 5.0
    if isinstance(sends, AiohttpRequest) and isinstance(updates, AiohttpRequest):
        assert (sends.connection_pool_size, updates.connection_pool_size) == (64, 1)


def test_make_request_refuses_an_unknown_transport() -> None:
    with pytest.raises(ValueError, match="unknown transport 'curl'"):
        make_request("curl", pool_size=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_the_application_talks_over_the_configured_transport(
    transport: Transport, catalog: Catalog, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    app = build_application(config(CALFBOT_TELEGRAM_TRANSPORT=transport), catalog=catalog, engine=engine)
    await engine.dispose()
    requests = app.bot._request  # (getUpdates, everything else), as PTB keeps them
    assert [type(r) for r in requests] == [KINDS[transport]] * 2


def test_a_config_built_by_hand_keeps_the_default() -> None:
    """Config gained ``transport`` with a default: code that builds one field by field still works."""
    built = config()
    assert replace(built, transport="httpx").transport == "httpx"
    assert (
        Config(
            token=built.token,
            database_url=built.database_url,
            data_dir=built.data_dir,
            content_dir=None,
            default_send_time=built.default_send_time,
            default_timezone=built.default_timezone,
            api_base_url=built.api_base_url,
            log_level=built.log_level,
            webhook=None,
        ).transport
        == "aiohttp"
    )
