"""``/api/v1/sensors``: the stations' latest readings and open alerts, once or as a live stream
(server-sent events) for the situation view; the alerts' lifecycle for staff (list, read,
acknowledge with a note)."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

import sensors.silence  # noqa: F401 - the periodic silence check, declared for the worker
from api.auth import require_role
from gis_core.db import raw_cursor
from gis_core.errors import PermissionDeniedError
from governance import audit
from scenarios import incidents
from sensors import alerts, lifecycle, live

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])
alerts.rules()  # read with the app: a bad rule stops start-up with its id and the reason
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


STAFF = frozenset({"operator", "leader", "department_editor", "commune_editor", "viewer"})
Status = Literal["raised", "acknowledged", "cleared"]


class Acknowledgement(BaseModel):
    """What a person says when acknowledging an alert."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000, examples=["Đã báo UBND xã, đội xung kích trực"])


def _staff(request: Request) -> Any:
    return require_role(request, STAFF, event="sensor_alert.denied",
                        message="Vai trò '{role}' không xem được danh sách cảnh báo.",
                        message_en="The role '{role}' may not read the alerts.")


@router.get("/alerts", summary="Cảnh báo / Alerts")
def list_alerts(request: Request, status: Status | None = None, open: bool = False,  # noqa: A002
                limit: int = 200) -> dict[str, Any]:
    """Alerts newest first (``open=true``: not cleared), with who acknowledged them (staff)."""
    _staff(request)
    with request.app.state.engine.connect() as conn:
        return {"alerts": lifecycle.listing(conn, status=status, open_only=open,
                                            limit=max(1, min(limit, 1000)))}


@router.get("/alerts/{alert_id}", summary="Một cảnh báo / One alert")
def get_alert(request: Request, alert_id: int) -> dict[str, Any]:
    """One alert: raised, acknowledged (by whom, with what note), cleared."""
    _staff(request)
    with request.app.state.engine.connect() as conn:
        return lifecycle.get(conn, alert_id)


@router.post("/alerts/{alert_id}/acknowledge", summary="Xác nhận cảnh báo / Acknowledge an alert")
def acknowledge(request: Request, alert_id: int, body: Acknowledgement) -> dict[str, Any]:
    """Raised → acknowledged, with a note, by an operator, a leader or an editor of the rule's
    department; audited, and noted on the alert's incident. 409 when someone was first."""
    engine = request.app.state.engine
    principal = require_role(request, lifecycle.ACKNOWLEDGERS, event="sensor_alert.denied",
                             message="Vai trò '{role}' không được xác nhận cảnh báo.",
                             message_en="The role '{role}' may not acknowledge alerts.")
    with engine.connect() as conn:
        rule = alerts.rule(lifecycle.get(conn, alert_id)["rule"])
    if not lifecycle.may_acknowledge(principal, rule):
        audit.record_now(engine, "sensor_alert.denied", actor=principal, outcome="denied",
                         target=f"sensor_alerts/{alert_id}")
        owner = lifecycle.UNIT_TITLES.get(rule.department or "", {}) if rule else {}
        raise PermissionDeniedError(
            f"Cảnh báo này do {owner.get('vi', 'bộ phận vận hành')} hoặc bộ phận vận hành xác nhận.",
            message_en=f"This alert is acknowledged by {owner.get('en', 'operations')} or by "
            "the operators.")
    note = unicodedata.normalize("NFC", body.note)
    with engine.begin() as conn:
        alert = lifecycle.acknowledge(conn, alert_id, principal, note)
        if alert["incident"] is not None:
            with conn.connection.cursor() as cursor:
                incidents.note(cursor, alert["incident"], f"Đã xác nhận cảnh báo "
                               f"{alert['title']['vi']} — {alert['station_name']}: {note}",
                               actor=principal.label)
    return alert
