"""What a failed Bot API request means for the message: never sent, or maybe delivered.

Both transports raise PTB's own exceptions (``TimedOut``, ``NetworkError``), so
callers keep their ``isinstance`` checks; the transport's exception is the
``__cause__``, and that tells how far the request got:

* never sent: no pooled connection came free in time, or no connection could be
  made (refused, unreachable, connect timeout). Safe to send again.
* answer lost: the request went out and the connection broke before a full
  answer came back (server disconnected, connection reset, truncated body). It
  may have been delivered. A read timeout (``TimedOut``, not "never sent") is the
  other such case; callers test for it with ``isinstance(exc, TimedOut)``.
"""

from __future__ import annotations

import aiohttp
import httpx
from telegram.error import NetworkError, TelegramError


class PoolTimeout(Exception):
    """No pooled connection came free within the pool timeout: the request never left.

    The aiohttp transport raises ``TimedOut`` from this (aiohttp has no pool
    timeout of its own that tells it apart from a connect timeout).
    """


_NEVER_SENT: tuple[type[BaseException], ...] = (
    PoolTimeout,
    httpx.PoolTimeout,
    httpx.ConnectTimeout,
    httpx.ConnectError,
    aiohttp.ConnectionTimeoutError,  # connecting took longer than the connect timeout
    aiohttp.ClientConnectorError,  # refused, unreachable, DNS, TLS handshake
)
_ANSWER_LOST: tuple[type[BaseException], ...] = (
    httpx.RemoteProtocolError,  # "Server disconnected without sending a response"
    httpx.ReadError,  # connection reset while reading the answer
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientPayloadError,  # the answer's body was cut off
    aiohttp.ClientConnectionResetError,
    aiohttp.ClientOSError,  # a reset or broken pipe on an open connection (ClientConnectorError is ruled out first)
)


def never_sent(exc: TelegramError) -> bool:
    """The request never left this process: sending it again cannot duplicate it."""
    return isinstance(exc, NetworkError) and isinstance(exc.__cause__, _NEVER_SENT)


def answer_lost(exc: TelegramError) -> bool:
    """The request went out and the connection broke before the answer: it may have been delivered."""
    cause = exc.__cause__
    return isinstance(exc, NetworkError) and isinstance(cause, _ANSWER_LOST) and not isinstance(cause, _NEVER_SENT)
