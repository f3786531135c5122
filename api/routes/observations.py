"""``/api/v1/sensors``: observations posted in batches with a station's API key, and a
datastream's aggregates by hour, day or month computed in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

import sensors.schedule  # noqa: F401 - the hourly maintenance, declared for the worker
from api.deps import Caller, Db
from api.observation_posts import store_posted
from api.ogc_writes import read_json
from gis_core.errors import InvalidParameterError, NotFoundError
from sensors import aggregates, posts

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])


@router.post("/observations", summary="Gửi một loạt số đo / Post a batch of observations")
async def post_batch(request: Request, caller: Caller) -> dict[str, Any]:
    """A JSON array of ``{station, phenomenonTime, result[, property]}``; the key must hold
    ``observe:<station>`` for every station named (else 403, nothing stored). Answered once
    committed: per item the observation id (a resent one keeps its id) or why it was refused
    (and quarantined)."""
    body = await read_json(request)
    done = await run_in_threadpool(store_posted, request, caller, "http",
                                   lambda _, __: posts.batch(body))
    o = done.outcome
    return {"stored": o.stored, "duplicates": o.duplicates, "refused": o.refused,
            "items": [{"id": f} if isinstance(f, int) else {"error": f} for f in done.fates]}


@router.get("/datastreams/{datastream}/aggregates",
            summary="Số liệu tổng hợp theo giờ, ngày, tháng / Hourly, daily, monthly aggregates")
def datastream_aggregates(
        cursor: Db, datastream: int,
        start: Annotated[datetime, Query(description="ISO 8601, included")],
        end: Annotated[datetime, Query(description="ISO 8601, excluded")],
        grain: Literal["hour", "day", "month"] = "hour") -> dict[str, Any]:
    """Count, min, max, sum and mean of each bucket with observations (days and months of
    UTC+7), from the raw observations and, for months no longer kept raw, the hourly ones."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise InvalidParameterError(
            "start và end cần múi giờ (ví dụ 2026-07-01T00:00:00+07:00) và end sau start.",
            message_en="start and end need a UTC offset (e.g. 2026-07-01T00:00:00+07:00) and "
            "end must follow start.", parameter="start")
    cursor.execute("SELECT property, unit FROM datastreams WHERE id = %s", (datastream,))
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"Không có chuỗi số đo {datastream}.",
                            message_en=f"No datastream {datastream}.")
    buckets = aggregates.series(cursor, datastream, grain, start, end)
    return {"datastream": datastream, "property": row[0], "unit": row[1], "grain": grain,
            "timezone": aggregates.ZONE,
            "buckets": [{**b, "time": b["time"].isoformat()} for b in buckets]}
