"""No secret reaches a log line: not in messages, arguments, or tracebacks."""

from __future__ import annotations

import io
import logging

from bot.logging_setup import REDACTED, RedactingFormatter, configure_logging, secrets_of_token

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _log_to_string(emit: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s", secrets_of_token(TOKEN)))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        assert callable(emit)
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_token_in_a_message_its_args_and_a_traceback_is_redacted() -> None:
    """URLs with the token (as httpx and PTB errors carry them) are redacted everywhere."""

    def emit(logger: logging.Logger) -> None:
        logger.info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logger.info(f"secret half only: {TOKEN.partition(':')[2]}")
        try:
            raise RuntimeError(f"failed https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("boom")

    output = _log_to_string(emit)
    assert TOKEN.partition(":")[2] not in output
    assert output.count(REDACTED) == 3  # the URL in the message, the secret half, the exception text


def test_httpx_request_logging_is_silenced() -> None:
    """httpx logs each request URL at INFO; configure_logging raises it to WARNING."""
    configure_logging("DEBUG", secrets_of_token(TOKEN))
    try:
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    finally:
        logging.getLogger().handlers.clear()
