"""``/api/v1/sensors``: the stations' latest readings and open alerts, once or as a live stream
(server-sent events) for the situation view."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from gis_core.db import raw_cursor
from sensors import live

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])
POLL_SECONDS = 1.0
KEEPALIVE_EVERY = 15


def _latest(request: Request) -> dict[str, Any]:
    with raw_cursor(request.app.state.engine) as cursor:
        return live.latest(cursor)


@router.get("/latest", summary="Số đo mới nhất và cảnh báo / Latest readings and alerts")
def latest(request: Request) -> dict[str, Any]:
    """Each station's latest reading and the alerts not yet cleared."""
    return _latest(request)


@router.get("/stream", summary="Luồng trực tiếp (SSE) / Live stream (server-sent events)")
async def stream(request: Request) -> StreamingResponse:
    """An ``update`` event with the latest readings and open alerts whenever they change."""

    async def events() -> AsyncIterator[str]:
        last, quiet = None, 0
        while not await request.is_disconnected():
            state = json.dumps(await run_in_threadpool(_latest, request), ensure_ascii=False)
            if state != last:
                last, quiet = state, 0
                yield f"event: update\ndata: {state}\n\n"
            else:
                quiet += 1
                if quiet % KEEPALIVE_EVERY == 0:
                    yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
