"""``/feedback`` (the citizens' page) and ``/api/v1/feedback``: intake from the page, the
reporter's tracking and rating, and the staff's handling of cases.

Staff: the operator and leaders see every case, a department's editors those of their
department; each case shows a pseudonym, never the reporter. Seeing the reporter takes a reveal
(``feedback.reveals``): a reason, a second person's approval, an audit entry.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from PIL import Image, ImageOps
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import require_role
from api.feedback_http import engine_and_key, public_request
from api.routes.pages import templates
from api.scenario_http import respond
from feedback import cases, escalation, identity, indicators, reveals, services
from feedback import schedule as _schedule  # noqa: F401 - the deadline sweep, for the worker
from gis_core.db import transaction
from gis_core.errors import (
    InvalidParameterError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from governance.access import INDICATOR_EDITORS, Principal
from governance.field_photos import inspect_photo
from layers.departments import DEPARTMENTS
from scenarios import reported

router = APIRouter(tags=["feedback"])
API = "/api/v1/feedback"
HANDLERS = frozenset({"operator", "leader", "department_editor"})
PHOTO_PX = 1600


def _handler(request: Request) -> Principal:
    return require_role(request, HANDLERS, event="feedback.denied",
                        message="Vai trò '{role}' không xử lý phản ánh.",
                        message_en="The role '{role}' does not handle feedback.")


def _may_handle(principal: Principal, case: dict[str, Any]) -> bool:
    return principal.role != "department_editor" or principal.department == case["department"]


def _json(body: Any, status: int = 200) -> Response:
    return respond(jsonable_encoder(body), status=status)


def _photo(data: bytes) -> bytes:
    """The photo re-encoded as JPEG of at most 1600 px, without EXIF (position, device)."""
    inspect_photo(data)
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((PHOTO_PX, PHOTO_PX))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
    return out.getvalue()


@router.get("/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_page(request: Request) -> HTMLResponse:
    """The citizens' page: report with a map pick, follow with a tracking code, rate the answer."""
    lang = "en" if request.query_params.get("lang") == "en" else "vi"
    return templates.TemplateResponse(request, "feedback.html", {
        "lang": lang, "services": services.SERVICES})


def _float(form: Any, name: str) -> float | None:
    raw = form.get(name)
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return float("nan")


@router.post(f"{API}/requests", status_code=201, summary="Gửi phản ánh / Send feedback")
async def submit(request: Request) -> Response:
    """A report from the page (multipart or form): category, description, position (lat/lon or
    an address naming a commune), optional photo and optional name, phone, email and ID number.
    Answers the request's number and the tracking code to keep."""
    form = await request.form()
    upload = form.get("photo")
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        limit = request.app.state.settings.max_photo_mb * 2**20
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLargeError(f"Ảnh quá lớn: tối đa {limit // 2**20} MB.",
                                       message_en=f"The photo is too large: at most "
                                       f"{limit // 2**20} MB.", parameter="photo")
        photo = await run_in_threadpool(_photo, data) if data else None
    lat, lon = _float(form, "lat"), _float(form, "lon")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = float("nan")
    report = cases.Submission(
        service_code=str(form.get("service_code") or ""),
        description=str(form.get("description") or ""), lat=lat, lon=lon,
        address=str(form.get("address") or "") or None,
        identity={k: str(form.get(k) or "").strip() for k in identity.FIELDS},
        client_token=str(form.get("client_token") or "") or None, photo=photo, channel="web")
    if lat is not None and lat != lat:  # NaN: not a number, or out of range
        raise InvalidParameterError("'lat'/'lon' phải là số độ hợp lệ.",
                                    message_en="'lat'/'lon' must be valid degrees.", parameter="lat")
    engine, secret = engine_and_key(request)

    def save() -> tuple[dict[str, Any], bool]:
        with engine.begin() as conn:
            return cases.submit(conn, secret, report)

    case, created = await run_in_threadpool(save)
    return _json({"service_request_id": str(case["id"]), "token": case["token"],
                  "due_on": case["due_on"], "department": case["department"]},
                 201 if created else 200)


@router.get(f"{API}/track/{{token}}", summary="Theo dõi phản ánh / Follow a report")
def track(request: Request, token: str) -> Response:
    """The reporter's view: status, deadline, the answer and the steps (without staff names)."""
    engine, _ = engine_and_key(request)
    with engine.connect() as conn:
        case = cases.by_token(conn, token)
        steps = [{"at": e["at"], "status": e["status"]} for e in cases.events(conn, case["id"])]
    view = public_request(case, request.app.state.settings.base_url)
    return _json({**view, "status_step": case["status"], "response": case["response"],
                  "due_on": case["due_on"], "rating": case["rating"], "steps": steps})


class Rating(BaseModel):
    """The reporter's rating of the answer."""

    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


@router.post(f"{API}/track/{{token}}/rating", summary="Đánh giá kết quả / Rate the answer")
def rate(request: Request, token: str, body: Rating) -> Response:
    """1–5 and a comment; 1 or 2 reopens the case for review."""
    engine, _ = engine_and_key(request)
    with engine.begin() as conn:
        case = cases.rate(conn, token, body.rating, body.comment)
    return _json({"status_step": case["status"], "rating": case["rating"]})


@router.get(f"{API}/photos/{{request_id}}.jpg", summary="Ảnh phản ánh (không EXIF) / Photo")
def photo(request: Request, request_id: int) -> Response:
    """The report's photo, re-encoded without EXIF (none for sensitive categories)."""
    engine, _ = engine_and_key(request)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT photo, service_code FROM feedback_requests WHERE id = :id"),
                           {"id": request_id}).first()
    if row is None or row[0] is None or services.require_service(row[1]).sensitive:
        raise NotFoundError("Không có ảnh.", message_en="There is no photo.")
    return Response(bytes(row[0]), media_type="image/jpeg")


def _staff_view(case: dict[str, Any], secret: bytes) -> dict[str, Any]:
    out = {k: v for k, v in case.items() if k not in ("token",)}
    return {**out, "reporter": identity.pseudonym(secret, case["id"]),
            **cases.deadline_state(case)}


@router.get(f"{API}/cases", summary="Phản ánh cần xử lý / Cases")
def list_cases(request: Request, status: str | None = None, overdue: bool = False,
               department: str | None = None, commune_code: str | None = None,
               limit: int = Query(200, ge=1, le=1000)) -> Response:
    """Cases the caller handles, newest first, each with its deadline state; ``overdue=true``
    for those past their deadline (the escalation list of the operator)."""
    principal = _handler(request)
    if principal.role == "department_editor":
        department = principal.department
    engine, secret = engine_and_key(request)
    with engine.connect() as conn:
        found = cases.search(conn, status=status, department=department,
                             commune_code=commune_code, limit=limit)
    views = [_staff_view(c, secret) for c in found]
    if overdue:
        views = [v for v in views if v["overdue"]]
    return _json({"cases": views, "overdue": sum(v["overdue"] for v in views),
                  "due_soon": sum(v["due_soon"] for v in views)})


def _case_for(conn: Any, principal: Principal, request_id: int) -> dict[str, Any]:
    case = cases.get(conn, request_id)
    if not _may_handle(principal, case):
        raise PermissionDeniedError(f"Phản ánh số {request_id} thuộc sở khác.",
                                    message_en=f"Request {request_id} belongs to another department.")
    return case


@router.get(f"{API}/cases/{{request_id}}", summary="Một phản ánh / One case")
def get_case(request: Request, request_id: int) -> Response:
    """One case with its steps and the open reports like it nearby (likely duplicates)."""
    principal = _handler(request)
    engine, secret = engine_and_key(request)
    with engine.connect() as conn:
        case = _case_for(conn, principal, request_id)
        steps = cases.events(conn, request_id)
        similar = cases.similar(conn, request_id)
    return _json({**_staff_view(case, secret), "steps": steps, "similar": similar})


@router.post(f"{API}/cases/{{request_id}}/take", summary="Nhận xử lý / Take the case")
def take(request: Request, request_id: int) -> Response:
    """Assign the case to oneself; 409 when another holds it."""
    principal = _handler(request)
    engine, secret = engine_and_key(request)
    with engine.begin() as conn:
        _case_for(conn, principal, request_id)
        case = cases.take(conn, request_id, principal.label)
    return _json(_staff_view(case, secret))


class Forward(BaseModel):
    """Where a case goes."""

    department: str = Field(max_length=50)
    note: str | None = Field(default=None, max_length=2000)


@router.post(f"{API}/cases/{{request_id}}/forward", summary="Chuyển sở / Forward")
def forward(request: Request, request_id: int, body: Forward) -> Response:
    """Send the case to a department."""
    principal = _handler(request)
    engine, secret = engine_and_key(request)
    with engine.begin() as conn:
        _case_for(conn, principal, request_id)
        case = cases.forward(conn, request_id, body.department, principal.label, body.note)
    return _json(_staff_view(case, secret))


class Step(BaseModel):
    """The next status, a note, and (to return a result) the answer to the citizen."""

    status: Literal["classified", "in_progress", "resolved", "returned", "closed"]
    note: str | None = Field(default=None, max_length=2000)
    response: str | None = Field(default=None, max_length=cases.MAX_DESCRIPTION)


@router.post(f"{API}/cases/{{request_id}}/status", summary="Chuyển bước / Next step")
def advance(request: Request, request_id: int, body: Step) -> Response:
    """Move the case along received → classified → forwarded → in_progress → resolved →
    returned (with the response) → closed."""
    principal = _handler(request)
    engine, secret = engine_and_key(request)
    with engine.begin() as conn:
        _case_for(conn, principal, request_id)
        case = cases.advance(conn, request_id, body.status, principal.label, body.note,
                             body.response)
    return _json(_staff_view(case, secret))


@router.get(f"{API}/notices", summary="Cảnh báo hạn, chuyển cấp / Deadline notices")
def list_notices(request: Request, unseen: bool = False, request_id: int | None = None,
                 limit: int = Query(200, ge=1, le=1000)) -> Response:
    """The deadline sweep's warnings (to a case's department) and escalations (to the
    operator), newest first: a department's editors see their department's, the operator and
    leaders all of them."""
    principal = _handler(request)
    department = principal.department if principal.role == "department_editor" else None
    engine, _ = engine_and_key(request)
    with engine.connect() as conn:
        found = escalation.notices(conn, department=department, request_id=request_id,
                                   unseen=unseen, limit=limit)
    return _json({"notices": found,
                  "unseen_escalations": sum(n["kind"] == "escalation" and n["seen_at"] is None
                                            for n in found)})


@router.post(f"{API}/notices/{{notice_id}}/seen", summary="Đã xem cảnh báo / Mark seen")
def notice_seen(request: Request, notice_id: int) -> Response:
    """Mark a notice seen (the first person to see it is kept)."""
    principal = _handler(request)
    engine, _ = engine_and_key(request)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT r.department FROM feedback_notices n JOIN "
                                "feedback_requests r ON r.id = n.request_id WHERE n.id = :id"),
                           {"id": notice_id}).first()
        if row is None:
            raise NotFoundError(f"Không có cảnh báo số {notice_id}.",
                                message_en=f"There is no notice {notice_id}.")
        if not _may_handle(principal, {"department": row[0]}):
            raise PermissionDeniedError(f"Cảnh báo số {notice_id} thuộc sở khác.",
                                        message_en=f"Notice {notice_id} belongs to another "
                                        "department.")
        notice = escalation.mark_seen(conn, notice_id, principal.label)
    return _json(notice)


class RevealAsk(BaseModel):
    """Why the reporter's identity is needed."""

    reason: str = Field(max_length=1000)


@router.post(f"{API}/cases/{{request_id}}/reveals", status_code=201,
             summary="Xin xem danh tính / Ask to reveal the reporter")
def ask_reveal(request: Request, request_id: int, body: RevealAsk) -> Response:
    """Ask, with a reason, to see who sent the report; a second person must approve."""
    principal = _handler(request)
    engine, _ = engine_and_key(request)
    with engine.begin() as conn:
        reveal = reveals.ask(conn, principal, request_id, body.reason)
    return _json(reveal, 201)


@router.post(f"{API}/reveals/{{reveal_id}}/approve", summary="Duyệt xem danh tính / Approve")
def approve_reveal(request: Request, reveal_id: int) -> Response:
    """Approve another person's request to see a reporter."""
    principal = _handler(request)
    engine, _ = engine_and_key(request)
    with engine.begin() as conn:
        return _json(reveals.approve(conn, principal, reveal_id))


@router.get(f"{API}/reveals/{{reveal_id}}/identity", summary="Danh tính (đã duyệt) / Identity")
def read_identity(request: Request, reveal_id: int) -> Response:
    """The reporter's identity, for the one who asked, once approved; audited."""
    principal = _handler(request)
    engine, secret = engine_and_key(request)
    with engine.begin() as conn:
        return _json(reveals.read(conn, principal, secret, reveal_id))


@router.get(f"{API}/indicators", summary="Trả lời đúng hạn / Answered on time")
def on_time(request: Request, by: Literal["commune_code", "department"] = "commune_code",
            period: str | None = Query(None, max_length=16)) -> Response:
    """The share of cases answered within their deadline per commune or department in a period
    (2026, 2026-Q3, 2026-07; this year by default), over the cases already due. Public: counts
    per unit, no case, no person."""
    period = period or str(cases.today().year)
    start, end = indicators.period_range(period)
    engine, _ = engine_and_key(request)
    with engine.connect() as conn:
        rows = indicators.on_time(conn, by, start, end, cases.today())
    names = DEPARTMENTS if by == "department" else {}
    return _json({"indicator": indicators.INDICATOR, "period": period, "by": by,
                  "province_pct": indicators.province_share(rows), "units": [
                      {**r, "name": names.get(r["unit"], {}).get("vi")} for r in rows]})


class Publish(BaseModel):
    """The period whose figures go to the indicator catalogue."""

    period: str = Field(max_length=16, examples=["2026"])


@router.post(f"{API}/indicators", status_code=201,
             summary="Đưa tỷ lệ đúng hạn vào chỉ tiêu / Publish to the indicators")
def publish_on_time(request: Request, body: Publish) -> Response:
    """Write the period's on-time shares per commune and for the province as the reported values
    of ``feedback_on_time_pct``, where the scenarios flag those under target."""
    who = require_role(request, INDICATOR_EDITORS, event="write.denied",
                       message="Vai trò '{role}' không nhập số liệu chỉ tiêu.",
                       message_en="The role '{role}' may not enter indicator values.").label
    start, end = indicators.period_range(body.period)
    engine, _ = engine_and_key(request)
    with engine.connect() as conn:
        rows = indicators.on_time(conn, "commune_code", start, end, cases.today())
    values = [reported.ReportedValue(indicator=indicators.INDICATOR, period=body.period,
                                     unit_code=r["unit"], value=r["share_pct"],
                                     note=f"{r['on_time']}/{r['due']}") for r in rows]
    share = indicators.province_share(rows)
    if share is not None:
        values.append(reported.ReportedValue(indicator=indicators.INDICATOR, period=body.period,
                                             value=share))
    if not values:
        raise InvalidParameterError(f"Chưa có phản ánh nào đến hạn trong kỳ {body.period}.",
                                    message_en=f"No feedback fell due in {body.period}.",
                                    parameter="period")
    with transaction(engine) as cursor:
        written = reported.enter_values(cursor, values, actor=who, source="feedback")
    return _json({"written": written, "province_pct": share}, 201)
