"""PTB's ``BaseRequest`` on aiohttp: one ``ClientSession``, a bounded pool, PTB's timeout semantics.

httpx (PTB's default backend) spends milliseconds of CPU per request once many
are in flight; aiohttp sends the same requests for a fraction of that, which
is what a 1000 msg/s broadcast needs. The wire format is PTB's: parameters as
an ``application/x-www-form-urlencoded`` body of JSON-encoded values, or
``multipart/form-data`` when files are uploaded.

Timeouts, as ``HTTPXRequest`` reads them (``None`` waits forever; an argument
left at ``DEFAULT_NONE`` takes the value given to the constructor):

* ``pool_timeout``: waiting for one of the ``connection_pool_size`` slots.
  Expiry raises ``TimedOut`` from :class:`~bot.transport.outcome.PoolTimeout`:
  the request never left.
* ``connect_timeout``: name resolution and the TCP (and TLS) handshake. Expiry
  raises ``TimedOut`` from ``aiohttp.ConnectionTimeoutError``: never left.
* ``read_timeout``: the longest wait for data of the answer, as httpx's. Expiry
  raises ``TimedOut`` from ``aiohttp.SocketTimeoutError``: may have been delivered.
* ``write_timeout``: aiohttp has no timeout per write; the request is given
  ``connect + write + read`` seconds until the answer's headers arrive, which
  never ends sooner than httpx would and catches a peer that stops reading an
  upload. Expiry raises ``TimedOut`` from ``TimeoutError``: may have been delivered.

Other failures raise ``NetworkError`` from the aiohttp exception, whose type
:mod:`bot.transport.outcome` reads. Error messages never hold the request URL
(it carries the bot token).

When the current send has an ``on_written`` callback
(:mod:`bot.transport.written`), it is called as the body is handed to the
socket, which is what the pacer counts.

Environment proxies (``HTTPS_PROXY``) are not read: aiohttp would look them and
``.netrc`` up on every request. Use the httpx transport behind a proxy.
"""

from __future__ import annotations

import asyncio
import functools
import re
import string
from collections.abc import Callable

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.transport.outcome import PoolTimeout
from bot.transport.written import on_written

_POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to Telegram. "
    "Consider adjusting the connection pool size or the pool timeout."
)
# A bot token in a URL path ("/bot123456:AbC.../sendMessage"), should one reach a message.
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# urllib.parse.quote_plus(safe="") as a str.translate table over the UTF-8 bytes (read as latin-1):
# the same text, in C instead of a Python loop over every byte.
_SAFE = frozenset(string.ascii_letters + string.digits + "_.-~")
_QUOTE_PLUS = {
    byte: chr(byte) if chr(byte) in _SAFE else "+" if byte == 0x20 else f"%{byte:02X}" for byte in range(256)
}


class _ReportedForm(aiohttp.BytesPayload):
    """A form body that calls ``written`` as it is handed to the socket (headers go with it)."""

    def __init__(self, value: bytes, written: Callable[[], None]) -> None:
        super().__init__(value, content_type=_FORM["Content-Type"])
        self._written = written

    async def write(self, writer: AbstractStreamWriter) -> None:
        self._written()
        await super().write(writer)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        self._written()
        await super().write_with_length(writer, content_length)


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on one ``aiohttp.ClientSession``, opened by :meth:`initialize` in the running loop."""

    # Calls ``bot.transport.written.on_written`` when a form body is written (see there).
    REPORTS_WRITES = True

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        # ClientTimeout objects by (connect, read): a handful of distinct pairs, built once.
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds getUpdates' long-poll timeout to it)."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        """Requests in flight at most (and open connections at most)."""
        return self._pool_size

    async def initialize(self) -> None:
        """Open the session (again, after :meth:`shutdown`); must run inside the event loop that uses it."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            timeout=aiohttp.ClientTimeout(),  # per request, see do_request
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        # The pool's slots: a wait that can time out on its own, apart from connecting.
        self._pool = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections; a no-op when not open."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; PTB turns the status and body into a result or its exception."""
        session, pool = self._session, self._pool
        if session is None or session.closed or pool is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        waiting = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout

        body: aiohttp.FormData | aiohttp.BytesPayload | bytes | None = urlencode(fields) if fields else None
        written = on_written.get()
        if written is not None and isinstance(body, bytes):
            body = _ReportedForm(body, written)
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form

        if pool.locked():
            try:
                async with asyncio.timeout(waiting):
                    await pool.acquire()
            except TimeoutError:
                raise TimedOut(_POOL_TIMEOUT_MESSAGE) from PoolTimeout(f"no connection came free within {waiting} s")
        else:
            await pool.acquire()
        until_answer = None if connect is None or write is None or read is None else connect + write + read
        try:
            return await self._exchange(session, url, method, body, self._limits(connect, read), until_answer)
        finally:
            pool.release()

    @staticmethod
    async def _exchange(
        session: aiohttp.ClientSession,
        url: str,
        method: str,
        body: aiohttp.FormData | aiohttp.BytesPayload | bytes | None,
        limits: aiohttp.ClientTimeout,
        until_answer: float | None,
    ) -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(until_answer):
                response = await session.request(
                    method,
                    url,
                    data=body,
                    headers=_FORM if isinstance(body, bytes) else None,
                    timeout=limits,
                    allow_redirects=False,
                )
            async with response:
                return response.status, await response.read()
        except aiohttp.ServerTimeoutError as err:  # ConnectionTimeoutError (never sent) or a read timeout
            raise TimedOut from err
        except TimeoutError as err:  # until_answer ran out: the request was (partly) written
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_without_url(str(err), url)}") from err

    def _limits(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        limits = self._timeouts.get((connect, read))
        if limits is None:
            # connect: resolving and connecting (the pool's slots are waited for before); sock_read: between reads.
            limits = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
            if len(self._timeouts) < 64:
                self._timeouts[(connect, read)] = limits
        return limits


def urlencode(fields: dict[str, str]) -> bytes:
    """``urllib.parse.urlencode(fields).encode()``, PTB's and httpx's form body, byte for byte, faster."""
    return "&".join(
        f"{_quote_plus(name)}={_quote_long(value) if len(value) > _LONG else _quote_plus(value)}"
        for name, value in fields.items()
    ).encode("ascii")


def _quote_plus(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").translate(_QUOTE_PLUS)


# A message text is quoted once: a broadcast sends one text to everyone, and
# a day's workouts are a few hundred distinct texts. Quoting 2 KB took 40 us.
_LONG = 256
_quote_long = functools.lru_cache(maxsize=256)(_quote_plus)


def _without_url(text: str, url: str) -> str:
    """``text`` with the request URL (and any bot token) taken out: messages end up in logs and the ledger."""
    return _TOKEN.sub("<token>", text.replace(url, "<url>"))
