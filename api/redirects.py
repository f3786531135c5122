"""Every redirect points at the configured public URL, never at the request's ``Host`` header.

Starlette's slash redirects (``/ogc`` → ``/ogc/``, in our app and in pygeoapi's) build the
``Location`` from the ``Host`` header, which a client or a proxy-cache poisoner chooses. This
middleware rebases each ``Location`` that points back at this server (relative, or naming the
request's own host) onto ``Settings.base_url``; links to other sites are left as they are.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def public_location(location: str, base_url: str, host: str | None) -> str:
    """``location`` rebased onto ``base_url`` when it points back at this server."""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() != (host or "").lower():
        return location  # another site's address, deliberately
    path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
    return urlunsplit(("", "", base_url.rstrip("/") + path, parts.query, parts.fragment))


class PublicRedirects:
    """ASGI middleware: ``Location`` headers relative to the public URL (see the module doc)."""

    def __init__(self, app: ASGIApp, base_url: str):
        self.app = app
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; rewrite the ``Location`` of its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")

        async def send_public(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "location" in headers:
                    headers["location"] = public_location(headers["location"], self.base_url, host)
            await send(message)

        await self.app(scope, receive, send_public)
