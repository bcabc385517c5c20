"""What the HTTP layer logs about requests it could not parse.

aiohttp logs a malformed request (a header line over 8,190 bytes, a bad request line, broken
chunking) at ERROR with a traceback, and the exception's message quotes the first 100 bytes of
the offending line. That line is the client's: an oversized ``Authorization`` header put the
start of its token in the server's error log, and any scanner on the port filled it with
tracebacks. Such a request is the client's fault and is already answered 400; here it becomes
one INFO line with what was wrong (the exception's kind) and nothing the client sent.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["PROTOCOL_LOGGER", "protocol_logger"]

PROTOCOL_LOGGER = "baton.server.protocol"


class _MalformedRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            client = record.args[0] if isinstance(record.args, tuple) and record.args else "a client"
            record.msg = "refused a malformed request from %s (%s, answered %d)"
            record.args = (client, type(exc).__name__, exc.code or 400)
            record.exc_info = None
            record.exc_text = None
            # Level is checked before filters: a logger set to WARNING would still emit this
            # record, now at INFO, unless it is dropped here.
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


def protocol_logger() -> logging.Logger:
    """The logger to hand aiohttp's ``web.Server`` (its ``logger=``), filter attached once."""
    logger = logging.getLogger(PROTOCOL_LOGGER)
    if not any(isinstance(f, _MalformedRequests) for f in logger.filters):
        logger.addFilter(_MalformedRequests())
    return logger
