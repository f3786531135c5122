"""``/api/v1/opinion``: what is said online, for the operators and leaders: items (text, never
the author unless asked for with a reason, audited), spikes, skipped inputs, and an item made
into a feedback case. The public see only the ``opinion_points`` layer."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from sqlalchemy import text

import opinion.schedule  # noqa: F401 - the periodic fetch, declared for the worker
from api.auth import require_role
from api.feedback_http import engine_and_key
from api.scenario_http import respond
from feedback import cases
from gis_core.errors import InvalidParameterError
from governance.access import Principal
from opinion import watch

router = APIRouter(tags=["opinion"])
API = "/api/v1/opinion"
WATCHERS = frozenset({"operator", "leader"})


def _watcher(request: Request) -> Principal:
    return require_role(request, WATCHERS, event="opinion.denied",
                        message="Vai trò '{role}' không theo dõi dư luận.",
                        message_en="The role '{role}' does not monitor public opinion.")


def _json(body: Any, status: int = 200) -> Response:
    return respond(jsonable_encoder(body), status=status)


@router.get(f"{API}/items", summary="Tin, bài đăng đã thu thập / Items gathered")
def list_items(request: Request, commune: str | None = None, sector: str | None = None,
               urgent: bool | None = None, limit: int = Query(100, ge=1, le=1000),
               offset: int = Query(0, ge=0)) -> Response:
    """Newest first, with sector, tone, urgency, commune and text; no author."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json({"items": watch.items(conn, commune=commune, sector=sector, urgent=urgent,
                                           limit=limit, offset=offset)})


@router.get(f"{API}/items/{{item_id}}", summary="Một mục / One item")
def one_item(request: Request, item_id: int) -> Response:
    """One item, without its author."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json(watch.item(conn, item_id))


@router.get(f"{API}/items/{{item_id}}/author", summary="Tác giả (có lý do) / Author (with reason)")
def item_author(request: Request, item_id: int) -> Response:
    """The author handle: personal data, given with a reason (``X-Reason``) and audited."""
    principal = _watcher(request)
    with request.app.state.engine.begin() as conn:
        return _json(watch.author(conn, principal, item_id))


class CaseRequest(BaseModel):
    """Optional choices when an item becomes a case."""

    service_code: str | None = Field(None, max_length=50)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


@router.post(f"{API}/items/{{item_id}}/case", status_code=201,
             summary="Tạo phản ánh từ mục này / Make it a case")
def make_case(request: Request, item_id: int, body: CaseRequest | None = None) -> Response:
    """Open a feedback case for the item (201), or answer the case it already has (200)."""
    principal = _watcher(request)
    engine, secret = engine_and_key(request)
    body = body or CaseRequest()
    with engine.begin() as conn:
        found = watch.item(conn, item_id, lock=True)  # a second click waits, then finds the case
        if found["case_id"] is not None:
            case, new = cases.get(conn, found["case_id"]), False
        else:
            if found["lat"] is None and (body.lat is None or body.lon is None):
                raise InvalidParameterError(
                    "Mục dư luận chưa xác định được xã: gửi lat và lon của nơi xảy ra.",
                    message_en="The item names no commune: send the lat and lon of where it "
                    "happens.", parameter="lat")
            case, new = cases.submit(conn, secret, cases.Submission(
                service_code=body.service_code or watch.SERVICE[found["sector"]],
                description=watch.case_text(found),
                lat=body.lat if body.lat is not None else found["lat"],
                lon=body.lon if body.lon is not None else found["lon"],
                client_token=f"opinion-{item_id}", channel="opinion"),
                actor=principal.username or "")
            watch.attach_case(conn, principal, item_id, case["id"])
        state = cases.deadline_state(case)
    return _json({"item": item_id, "case": {k: v for k, v in case.items() if k != "token"},
                  "deadline": state}, status=201 if new else 200)


@router.get(f"{API}/spikes", summary="Tăng đột biến / Spikes")
def list_spikes(request: Request, day: date | None = None) -> Response:
    """Communes and sectors with more posts on ``day`` (default today) than usual: warnings."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        found = watch.spikes(conn, day or cases.today())
    return _json({"day": (day or cases.today()).isoformat(),
                  "warnings": [s.as_dict() for s in found]})


@router.get(f"{API}/skips", summary="Đầu vào bị bỏ qua / Skipped inputs")
def list_skips(request: Request, limit: int = Query(100, ge=1, le=1000)) -> Response:
    """What the runs did not keep, and why, newest first."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(text("SELECT at, source, ref, reason, detail FROM opinion_skips "
                                 "ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings()
        return _json({"skips": [dict(r) for r in rows]})
