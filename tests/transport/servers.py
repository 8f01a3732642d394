"""Tiny misbehaving HTTP servers on 127.0.0.1, each failing one way a real Bot API connection can.

Each reads whole requests (headers and a Content-Length body) and keeps them in
``requests``, then misbehaves as its ``behaviour`` says:

* ``"silent"``: never answers (a read timeout on the client);
* ``"close"``: closes the connection cleanly (FIN) right after reading a request;
* ``"reset"``: resets it (RST) right after reading a request;
* ``"truncate"``: sends a status line and headers promising a longer body, a
  part of it, and closes;
* ``"answer"``: answers ``200 {"ok": true, "result": true}`` after ``delay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

Behaviour = Literal["silent", "close", "reset", "truncate", "answer"]
ANSWER = b'{"ok": true, "result": true}'


@dataclass(frozen=True, slots=True)
class RawRequest:
    """One request as it came off the socket."""

    request_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass
class RawServer:
    """A listening server; ``url(method)`` is a Bot API method URL on it."""

    port: int
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request has been read."""

    def url(self, method: str = "sendMessage") -> str:
        return f"http://127.0.0.1:{self.port}/bot123456789:RAW-server-token-000000000000/{method}"


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(request_line, headers, body)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST: SO_LINGER on, with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@asynccontextmanager
async def raw_server(behaviour: Behaviour, *, delay: float = 0.0) -> AsyncIterator[RawServer]:
    """Serve ``behaviour`` on a free port until the block ends; open connections are closed then."""
    writers: set[asyncio.StreamWriter] = set()
    server_state = RawServer(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        server_state.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                server_state.requests.append(request)
                server_state.arrived.set()
                if behaviour == "silent":
                    await asyncio.Event().wait()  # until the server closes
                elif behaviour == "close":
                    return
                elif behaviour == "reset":
                    _reset(writer)
                    return
                elif behaviour == "truncate":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
                    writer.write(ANSWER[:10])
                    await writer.drain()
                    return
                else:
                    await asyncio.sleep(delay)
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(ANSWER)}\r\n\r\n".encode()
                        + ANSWER
                    )
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    try:
        yield server_state
    finally:
        server.close()
        for writer in list(writers):
            writer.transport.abort()
        await server.wait_closed()


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on (bound, never listening, so no one else takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@contextlib.contextmanager
def unconnectable_port() -> Iterator[int]:
    """A port whose accept queue is full: Linux drops further SYNs, so connecting hangs until it times out.

    A listening socket with a backlog of 0 that never accepts holds one
    connection (made here); a second one gets no answer to its SYN.
    """
    with socket.socket() as listener, socket.socket() as filler, socket.socket() as probe:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        filler.connect(("127.0.0.1", port))
        probe.settimeout(0.2)
        with contextlib.suppress(TimeoutError):
            probe.connect(("127.0.0.1", port))
            raise AssertionError("the accept queue took a second connection: no connect timeout can be made here")
        yield port
