"""Rate limits on costly work, counted in PostgreSQL so every worker shares them and a restart
forgets nothing.

Two classes of requests are counted per client address and minute (``IOC_RATE_WINDOW_SECONDS``):
*compute* — scenario runs, process executions, choropleths, warnings, quality reports and
exports — when the caller is anonymous (signed-in callers are accountable and not limited), and
*sign-in* attempts from anyone (each costs a password hash). Over the limit a request gets 429
with ``Retry-After``. The counts live in ``rate_limits`` (one upsert per counted request; rows a
few windows old are deleted as new windows start). PostgreSQL rather than Redis: it is always there,
is already the arbiter of every other shared state, and keeps its counts across restarts.

The count is exact under any concurrency: one row per address and window, and its row lock orders
every increment, so no request slips past the limit. That lock is held for microseconds only: the
counting transaction commits without waiting for its WAL flush (``synchronous_commit = off``, for
that transaction alone), so a burst from one address (an app posting Open311 reports for many
citizens) is not paced by the disk. The price: a crash of the database server (not a restart)
may forget the last fraction of a second of counts, which lets a flood through for no longer.

A refusal on the Open311 endpoints is written in the GeoReport v2 error format (``api.errors``),
everywhere else as problem+json.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem_or_open311
from gis_core.errors import TooManyRequestsError
from gis_core.settings import Settings
from governance.access import Principal

LOG = logging.getLogger("ioc.api")


@dataclass(frozen=True)
class RateClass:
    """Requests counted together: which, whose, and how many a minute."""

    name: str
    methods: frozenset[str]
    path: re.Pattern[str]
    anonymous_only: bool

    def limit(self, settings: Settings) -> int:
        """Requests allowed per client address and minute."""
        if self.name == "feedback":
            return settings.feedback_posts_per_minute
        return settings.sign_ins_per_minute if self.name == "sign-in" \
            else settings.anonymous_runs_per_minute


RATE_CLASSES = (
    RateClass("compute", frozenset({"POST"}), re.compile(
        r"^/(api/v1/scenarios/[^/]+/run|ogc/processes/[^/]+/execution)/?$"), True),
    RateClass("compute", frozenset({"GET", "HEAD"}), re.compile(
        r"^/api/v1/(layers/[^/]+/export|indicators/[^/]+/choropleth|warnings|quality(/.*)?)/?$"),
        True),
    RateClass("sign-in", frozenset({"POST"}), re.compile(r"^/api/v1/auth/token/?$"), False),
    # Citizen reports, and look-ups of tracking codes (guesses), from anyone.
    RateClass("feedback", frozenset({"POST"}), re.compile(
        r"^/(open311/v2/requests\.\w+|api/v1/feedback/requests)/?$"), False),
    RateClass("feedback", frozenset({"GET", "HEAD", "POST"}), re.compile(
        r"^/(open311/v2/tokens/[^/]+|api/v1/feedback/track/.+)$"), False),
)

# ``minute`` holds the start of the counting window (a minute unless IOC_RATE_WINDOW_SECONDS
# says otherwise); the answer gives the requests counted in it and the seconds it has left.
_COUNT = text(
    "WITH w AS (SELECT date_bin(make_interval(secs => :window), now(), "
    "TIMESTAMPTZ '2001-01-01') AS start) "
    "INSERT INTO rate_limits (bucket, minute, hits) SELECT :bucket, w.start, 1 FROM w "
    "ON CONFLICT (bucket, minute) DO UPDATE SET hits = rate_limits.hits + 1 "
    "RETURNING hits, ceil(extract(epoch FROM minute + make_interval(secs => :window) - now()))::int")
_ASYNC = text("SET LOCAL synchronous_commit = off")
_FORGET = text("DELETE FROM rate_limits WHERE minute < now() - make_interval(secs => 5 * :window)")


WHAT = {
    "sign-in": ("lần đăng nhập", "sign-in attempts"),
    "compute": ("yêu cầu tính toán (kịch bản, xuất dữ liệu, báo cáo)",
                "computing requests (scenarios, exports, reports)"),
    "feedback": ("lần gửi hoặc tra cứu phản ánh", "feedback reports or look-ups"),
}


def rate_class(method: str, path: str) -> RateClass | None:
    """The class a request is counted in, if any."""
    return next((c for c in RATE_CLASSES if method in c.methods and c.path.match(path)), None)


def count(engine: Engine, bucket: str, window: int = 60) -> tuple[int, int]:
    """Count one request in ``bucket``: the requests it made in this window of ``window``
    seconds, and the seconds the window has left."""
    with engine.begin() as conn:
        conn.execute(_ASYNC)
        hits, left = conn.execute(_COUNT, {"bucket": bucket, "window": window}).one()
        if hits == 1:
            conn.execute(_FORGET, {"window": window})
    return hits, max(int(left), 1)


class RateLimit:
    """ASGI middleware: 429 for a request over its class's limit (runs after ``CallerContext``)."""

    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings):
        self.app = app
        self.engine = engine
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request when it is of a limited class; refuse it when over the limit."""
        kind = rate_class(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if kind is not None:
            principal = scope.get("state", {}).get("principal")
            signed_in = isinstance(principal, Principal) and not principal.is_anonymous
            if not (kind.anonymous_only and signed_in):
                client = scope.get("client")
                address = client[0] if client else "unknown"
                hits, left = await run_in_threadpool(count, self.engine, f"{kind.name}:{address}",
                                                     self.settings.rate_window_seconds)
                limit = kind.limit(self.settings)
                if hits > limit:
                    await self._refuse(scope, receive, send, kind, limit, left, address)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, kind: RateClass,
                      limit: int, left: int, address: str) -> None:
        LOG.warning("rate limit: %s from %s over %d a minute", kind.name, address, limit)
        what_vi, what_en = WHAT.get(kind.name, WHAT["compute"])
        after_vi = "" if kind.name != "compute" else " hoặc đăng nhập"
        after_en = "" if kind.name != "compute" else ", or sign in"
        window = self.settings.rate_window_seconds
        per_vi, per_en = ("mỗi phút", "a minute") if window == 60 else \
            (f"trong {window} giây", f"in {window} seconds")
        err = TooManyRequestsError(
            f"Quá {limit} {what_vi} {per_vi} từ địa chỉ này; thử lại sau {left} giây{after_vi}.",
            message_en=f"More than {limit} {what_en} {per_en} from this address; try again in "
            f"{left} seconds{after_en}.")
        response = problem_or_open311(scope["path"], err.status, err.title, err.message,
                                      code=err.code, detail_en=err.message_en)
        response.headers["Retry-After"] = str(left)
        await response(scope, receive, send)
