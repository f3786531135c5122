"""``/sta/v1.1``: the stations' time series as OGC SensorThings API 1.1 (read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gis_core.db import raw_cursor
from sensors.sta import Reader

router = APIRouter(prefix="/sta/v1.1", tags=["sensorthings"])


def _reader(request: Request, cursor: Any) -> Reader:
    settings = request.app.state.settings
    return Reader(cursor, f"{settings.base_url}/sta/v1.1", max_top=settings.max_limit)


@router.get("", summary="SensorThings: gốc dịch vụ / service root")
def root(request: Request) -> dict[str, Any]:
    """The entity sets and the conformance classes claimed."""
    with raw_cursor(request.app.state.engine) as cursor:
        return _reader(request, cursor).root()


@router.get("/{path:path}", summary="SensorThings: thực thể / entities")
def entities(request: Request, path: str) -> dict[str, Any]:
    """``Things``, ``Datastreams(1)/Observations``… with ``$filter``, ``$expand`` and the rest."""
    with raw_cursor(request.app.state.engine) as cursor:
        return _reader(request, cursor).get(path, dict(request.query_params))
