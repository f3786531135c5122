"""``/sta/v1.1``: the stations' time series as OGC SensorThings API 1.1 (read), and
``CreateObservations`` (the data-array extension, OGC 18-088 §14.2) for a station's API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Caller
from api.observation_posts import store_posted
from api.ogc_writes import read_json
from gis_core.db import raw_cursor
from sensors import posts
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


def _datastreams(cursor: Any) -> dict[int, tuple[int, str]]:
    cursor.execute("SELECT id, station_id, property FROM datastreams")
    return {i: (s, p) for i, s, p in cursor.fetchall()}


@router.post("/CreateObservations", status_code=201,
             summary="SensorThings: tạo nhiều số đo / CreateObservations (data array)")
async def create_observations(request: Request, caller: Caller) -> JSONResponse:
    """``[{"Datastream": {"@iot.id": 1}, "components": [...], "dataArray": [[...]]}]``; answers,
    once committed, the selfLink of each observation (a resent one keeps its own) or "error"
    (the reason is kept in the quarantine). The key must hold ``observe:<station>`` for the
    station of every datastream named (else 403, nothing stored)."""
    body = await read_json(request)
    done = await run_in_threadpool(store_posted, request, caller, "sta",
                                   lambda cursor, _: posts.data_arrays(body, _datastreams(cursor)))
    base = f"{request.app.state.settings.base_url}/sta/v1.1"
    return JSONResponse([f"{base}/Observations({f})" if isinstance(f, int) else "error"
                         for f in done.fates], status_code=201)


@router.get("/{path:path}", summary="SensorThings: thực thể / entities")
def entities(request: Request, path: str) -> dict[str, Any]:
    """``Things``, ``Datastreams(1)/Observations``… with ``$filter``, ``$expand`` and the rest."""
    with raw_cursor(request.app.state.engine) as cursor:
        return _reader(request, cursor).get(path, dict(request.query_params))
