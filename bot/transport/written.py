"""Telling the pacer when a request was really written to Telegram's connection.

The pacer's last check before a call (at most ``rate`` sends in any second)
is worth only as much as the times it counts. With aiohttp on Python 3.11 a
request's body is written by a task of its own, a turn of the event loop
after the call: under load up to 30 ms later, long enough for a second's
worth of sends to reach Telegram 1000 + 3 to a second. So a transport that
can (``REPORTS_WRITES``) calls the ``on_written`` callback set for the
current send at the moment it hands the request to the socket, and the
pacer counts that moment instead.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from telegram.request import BaseRequest

# Set by the delivery engine around one send; read by the transport when it builds the request.
on_written: ContextVar[Callable[[], None] | None] = ContextVar("calfbot_on_written", default=None)


def reports_writes(request: BaseRequest) -> bool:
    """Whether ``request`` calls ``on_written`` (else the pacer counts a send when it is let go)."""
    return getattr(request, "REPORTS_WRITES", False) is True
