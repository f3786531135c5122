"""Logs: one JSON object a line, each with the request id of the request it belongs to."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from gis_core.db import REQUEST_ID
from gis_core.settings import Settings


class JsonFormatter(logging.Formatter):
    """A record as ``{"time", "level", "logger", "message", "request_id", "error"}``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON."""
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Send every log (ours, uvicorn's, procrastinate's) to stderr at ``IOC_LOG_LEVEL``, as JSON
    lines unless ``IOC_LOG_JSON=false``."""
    handler = logging.StreamHandler()
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Each request's line comes from ``ioc.access``, with its id; uvicorn's would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
