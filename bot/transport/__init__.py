"""The HTTP clients the bot talks to Telegram with: aiohttp (default) or PTB's httpx.

``make_request`` builds PTB ``BaseRequest`` objects for either; both raise the
same PTB exceptions, which :mod:`bot.transport.outcome` reads for whether a
failed request may have reached Telegram.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from telegram.request import BaseRequest, HTTPXRequest

from bot.transport.aiohttp_request import AiohttpRequest

Transport = Literal["aiohttp", "httpx"]
TRANSPORTS: Final[tuple[Transport, ...]] = get_args(Transport)
DEFAULT_TRANSPORT: Final[Transport] = "aiohttp"

__all__ = ["DEFAULT_TRANSPORT", "TRANSPORTS", "AiohttpRequest", "Transport", "make_request"]


def make_request(transport: Transport, *, pool_size: int, for_updates: bool = False) -> BaseRequest:
    """A client with PTB's default timeouts (connect, read and write 5 s, pool 1 s) and ``pool_size`` connections.

    ``for_updates``: the client for ``getUpdates``: one connection whatever
    ``pool_size`` says, as PTB's own default, since one long poll runs at a
    time. PTB lengthens its read timeout by each poll's timeout.
    """
    size = 1 if for_updates else pool_size
    if transport == "aiohttp":
        return AiohttpRequest(connection_pool_size=size)
    if transport == "httpx":
        return HTTPXRequest(connection_pool_size=size)
    raise ValueError(f"unknown transport {transport!r}; expected one of {', '.join(TRANSPORTS)}")
