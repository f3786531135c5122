"""Each request gets an id (``X-Request-ID``, taken from the caller when well-formed), carried by
its log lines and its database connection's ``application_name``, returned in the answer, and
counted with its latency under its route's template."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import LATENCY, REQUESTS, route_template
from gis_core.db import REQUEST_ID

LOG = logging.getLogger("ioc.access")
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Observe:
    """Outermost middleware: request id, access log line, request count and latency."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request under its id; count it whatever happens."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _WELL_FORMED.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            elapsed = time.perf_counter() - started
            route, method = route_template(scope), scope["method"]
            REQUESTS.labels(route, method, f"{status // 100}xx").inc()
            LATENCY.labels(route, method).observe(elapsed)
            LOG.info("%s %s %s %.1f ms", method, route, status, elapsed * 1000)
            REQUEST_ID.reset(token)
