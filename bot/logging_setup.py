"""Logging that never prints a secret.

The Bot API puts the token in every request URL, and httpx logs request URLs
at INFO, so the token would reach the log through a library, an exception
message or a traceback. Redaction therefore happens on the final formatted
line, after tracebacks are appended, rather than on a message or its args.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "<redacted>"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces each secret in the whole formatted record."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def secrets_of_token(token: str) -> list[str]:
    """The token, and its secret half after the colon (the bot id is public)."""
    return [token, token.partition(":")[2]]


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr (the journal under systemd) with every secret redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL (which holds the token) at INFO; its
    # warnings and errors still come through, redacted.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # APScheduler logs each job run at INFO: one line a minute is noise.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
