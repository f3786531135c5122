"""A ceiling on request bodies, enforced while they stream in (before any parsing)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from gis_core.errors import PayloadTooLargeError


def _too_large(limit: int) -> PayloadTooLargeError:
    mb = limit // 2**20
    return PayloadTooLargeError(
        f"Dữ liệu gửi lên vượt giới hạn {mb} MB; hãy chia nhỏ tệp (ví dụ theo xã).",
        message_en=f"The upload exceeds the {mb} MB limit; split the file (for example by commune).")


class BodyLimit:
    """Refuse bodies over ``limit`` bytes: by Content-Length at once, else as bytes arrive."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``receive`` of HTTP requests to count the body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            err = _too_large(self.limit)
            response = problem(err.status, err.title, err.message, code=err.code,
                               detail_en=err.message_en, instance=scope["path"])
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _too_large(self.limit)
            return message

        await self.app(scope, counted, send)
