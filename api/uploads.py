"""A ceiling on every request body, by route class, enforced while it streams in (before parsing).

Files (imports, field photos, indicator spreadsheets) and single features have ceilings of their
own; every other body (JSON and forms: scenario runs, process executions, sign-in, documents,
rows) gets ``IOC_MAX_BODY_KB``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.ogc_writes import MAX_BODY as MAX_FEATURE_BODY
from api.routes.indicators import MAX_UPLOAD_BYTES as MAX_SHEET_BYTES
from gis_core.errors import PayloadTooLargeError
from gis_core.settings import Settings

MB = 2**20


@dataclass(frozen=True)
class BodyClass:
    """Routes whose bodies share a ceiling, and what to tell a sender who exceeds it."""

    name: str
    path: re.Pattern[str]
    limit: Callable[[Settings], int]
    hint_vi: str
    hint_en: str
    by_length: bool = True  # refuse on Content-Length here (False: the route does, and audits it)


_SPLIT = ("hãy chia nhỏ tệp (ví dụ theo xã)", "split the file (for example by commune)")
# Photo and feature routes refuse (and audit) a body whose declared length is too large
# themselves; here their ceiling, a little above the routes', only counts the bytes that arrive.
BODY_CLASSES = (
    BodyClass("import", re.compile(r"^/api/v1/layers/[^/]+/imports/?$"),
              lambda s: s.max_upload_mb * MB, *_SPLIT),
    BodyClass("register", re.compile(r"^/api/v1/reconciliations/?$"),
              lambda s: s.max_upload_mb * MB, *_SPLIT),
    BodyClass("document", re.compile(r"^/api/v1/layers/[^/]+/features/[^/]+/documents/?$"),
              lambda s: (s.max_document_mb + 1) * MB, "hãy gửi tệp nhỏ hơn", "send a smaller file"),
    BodyClass("photo", re.compile(r"^/api/v1/field/households/?$"),
              lambda s: (s.max_photo_mb + 2) * MB, "hãy gửi ảnh nhỏ hơn", "send a smaller photo",
              by_length=False),
    BodyClass("feedback", re.compile(r"^/api/v1/feedback/requests/?$"),
              lambda s: (s.max_photo_mb + 1) * MB, "hãy gửi ảnh nhỏ hơn", "send a smaller photo"),
    BodyClass("sheet", re.compile(r"^/api/v1/reported-values/upload/?$"),
              lambda s: MAX_SHEET_BYTES + MB, *_SPLIT),
    BodyClass("report", re.compile(r"^/api/v1/reports/verify/?$"), lambda s: 21 * MB,
              "tệp báo cáo không quá 20 MB", "a report file is at most 20 MB"),
    BodyClass("feature", re.compile(r"^/ogc/collections/[^/]+/items(/[^/]+)?/?$"),
              lambda s: MAX_FEATURE_BODY + MB, "hãy đơn giản hóa hình học",
              "simplify the geometry", by_length=False),
)
OTHER = BodyClass("request", re.compile(""), lambda s: s.max_body_kb * 1024,
                  "hãy gửi ít hơn (đa giác đơn giản hơn, ít dòng hơn)",
                  "send less (a simpler polygon, fewer rows)")


def body_class(path: str) -> BodyClass:
    """The class of the route at ``path``."""
    return next((c for c in BODY_CLASSES if c.path.match(path)), OTHER)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // 1024} KB"


def too_large(body: BodyClass, limit: int) -> PayloadTooLargeError:
    """The 413 for a body over ``limit`` bytes."""
    return PayloadTooLargeError(
        f"Dữ liệu gửi lên vượt giới hạn {_size(limit)}; {body.hint_vi}.",
        message_en=f"The request body exceeds the {_size(limit)} limit; {body.hint_en}.")


class BodyLimit:
    """Refuse bodies over their class's ceiling: by Content-Length at once, else as bytes arrive."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``receive`` of HTTP requests to count the body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = body_class(scope["path"])
        limit = kind.limit(self.settings)
        length = dict(scope["headers"]).get(b"content-length")
        if kind.by_length and length is not None and length.isdigit() and int(length) > limit:
            err = too_large(kind, limit)
            response = problem(err.status, err.title, err.message, code=err.code,
                               detail_en=err.message_en, instance=scope["path"])
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(kind, limit)
            return message

        await self.app(scope, counted, send)
