"""What the scenario routes share: JSON/GeoJSON negotiation, who is acting, a cached overview."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request, Response

from api.auth import require_role
from gis_core.errors import InvalidParameterError

GEOJSON = "application/geo+json"
JSON = "application/json"


def wants_geojson(request: Request) -> bool:
    """``?f=geojson`` or an Accept header preferring GeoJSON."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "geojson"):
            raise InvalidParameterError(f"Tham số 'f' không hợp lệ: '{f}'. Dùng json hoặc geojson.",
                                        message_en=f"Parameter 'f' is invalid: '{f}'. Use json or "
                                        "geojson.", parameter="f")
        return f == "geojson"
    return GEOJSON in request.headers.get("accept", "")


def respond(body: Any, media_type: str = JSON, status: int = 200) -> Response:
    """Serialise with orjson (fast, UTF-8, no ASCII escaping)."""
    return Response(orjson.dumps(body), media_type=media_type, status_code=status)


def actor(request: Request, roles: frozenset[str]) -> str:
    """The signed-in caller's name, when its role is one of ``roles`` (401/403 otherwise)."""
    return require_role(request, roles, event="write.denied",
                        message="Vai trò '{role}' không được làm việc này.",
                        message_en="The role '{role}' may not do this.").label


class StampCache:
    """A few computed answers kept while the data they came from is unchanged.

    Thread-safe; callers asking for a key being computed wait for that computation instead of
    starting their own (16 callers of one province-wide evaluation run it once).
    """

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._pending: dict[tuple, threading.Lock] = {}

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The cached value for ``key`` (which includes the data stamp), computing it when absent."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = threading.Lock()
                    pending.acquire()
                    break
            with pending:  # another caller computes it: wait, then look again
                pass
        try:
            value = compute()
            with self._lock:
                self._items[key] = value
                if len(self._items) > self._size:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            pending.release()


def overview_cache(request: Request) -> StampCache:
    """The application's overview cache (created on first use)."""
    cache = getattr(request.app.state, "scenario_cache", None)
    if cache is None:
        cache = request.app.state.scenario_cache = StampCache(256)
    return cache
