"""Structured (JSON) logs. Records carry ids, decisions and timings, never request bodies or PII."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        entry |= {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        if record.exc_info:
            # the whole stack an operator needs, still one JSON line (json escapes the newlines)
            stack = self.formatException(record.exc_info)
            entry["exc"], entry["stack"] = stack.splitlines()[-1], stack
        return json.dumps(entry, default=str)


def configure(level: str = "info") -> None:
    """JSON lines on stdout for arbiter and uvicorn loggers."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    for name in ("arbiter", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
