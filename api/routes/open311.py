"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, requests (GET and POST) and
tokens, in JSON and XML, with the specification's field names and error format (``api.errors``
answers every error under ``/open311/`` that way, those of the middlewares too: 413, 429).

Reports are posted form-encoded with an ``api_key`` (an API client's key, ``ioc users create NAME
--role api_client``); ``Idempotency-Key`` (or the field ``client_token``) makes a retry answer
with the first request instead of a second one. Nothing about the reporter is ever returned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.feedback_http import engine_and_key, public_request, store
from feedback import cases, services
from gis_core.errors import AuthenticationError, InvalidParameterError, NotFoundError
from layers.departments import DEPARTMENTS

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_IDS = 100


def _xml(root: str, item: str, rows: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    top = ET.Element(root)
    for row in rows if isinstance(rows, list) else [rows]:
        node = ET.SubElement(top, item) if item else top
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, list):
                for sub in value:
                    ET.SubElement(child, key.rstrip("s")).text = _text(sub)
            else:
                child.text = _text(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(top, encoding="unicode").encode()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _answer(fmt: str, body: Any, root: str, item: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(_xml(root, item, body), status_code=status, media_type=FORMATS["xml"])
    return Response(orjson.dumps(body), status_code=status, media_type=FORMATS["json"])


def open311(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Check the format; errors (here, and in the middlewares: 413, 429) are answered the
    GeoReport way, ``[{code, description}]`` or ``<errors>``, by ``api.errors``."""

    @functools.wraps(handler)
    async def wrapper(request: Request, fmt: str, **kwargs: Any) -> Response:
        if fmt not in FORMATS:
            raise NotFoundError(f"Định dạng '{fmt}' không có: dùng .json hoặc .xml.",
                                message_en=f"The format '{fmt}' is not offered: use .json or .xml.")
        return await handler(request, fmt, **kwargs)

    return wrapper


@router.get("/discovery.{fmt}", summary="Open311 discovery")
@open311
async def discovery(request: Request, fmt: str) -> Response:
    """Where the GeoReport v2 endpoint is and what it accepts."""
    base = request.app.state.settings.base_url
    body = {"changeset": "2026-12-01T00:00:00Z", "contact": "Trung tâm IOC Lai Châu",
            "key_service": f"{base}/docs",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": f"{base}/open311/v2", "changeset": "2026-12-01T00:00:00Z",
                           "type": "production", "formats": list(FORMATS.values())}]}
    return _answer(fmt, body, "discovery", "")


@router.get("/services.{fmt}", summary="Open311: loại phản ánh / service list")
@open311
async def service_list(request: Request, fmt: str) -> Response:
    """Every category a citizen can report."""
    lang = "en" if request.query_params.get("lang") == "en" else "vi"
    return _answer(fmt, [s.describe(lang) for s in services.SERVICES], "services", "service")


@router.get("/services/{code}.{fmt}", summary="Open311: thuộc tính loại / service definition")
@open311
async def service_definition(request: Request, fmt: str, code: str) -> Response:
    """A category's extra attributes (none: every category needs only the common fields)."""
    service = services.require_service(code)
    return _answer(fmt, {"service_code": service.code, "attributes": []}, "service_definition", "")


def _date(raw: str | None, name: str, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameterError(
            f"'{name}' không phải thời điểm W3C (ví dụ 2026-01-01T00:00:00Z).",
            message_en=f"'{name}' is not a W3C datetime (e.g. 2026-01-01T00:00:00Z).",
            parameter=name) from None
    if value.tzinfo is None:
        value = datetime.combine(value.date(), time.max if end and len(raw) <= 10 else value.time(),
                                 cases.LOCAL)
    return value


def _ids(raw: str | None) -> list[int] | None:
    if not raw:
        return None
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > MAX_IDS or not all(p.isdigit() and len(p) < 18 for p in parts):
        raise InvalidParameterError(
            f"'service_request_id': tối đa {MAX_IDS} số, cách nhau bằng dấu phẩy.",
            message_en=f"'service_request_id': at most {MAX_IDS} numbers, comma-separated.",
            parameter="service_request_id")
    return [int(p) for p in parts]


@router.get("/requests.{fmt}", summary="Open311: tra cứu phản ánh / query requests")
@open311
async def request_list(request: Request, fmt: str) -> Response:
    """Requests by id, category, date range and status (open/closed); the newest 1000."""
    q = request.query_params
    status = q.get("status")
    if status not in (None, "", "open", "closed"):
        raise InvalidParameterError("'status' là open hoặc closed.",
                                    message_en="'status' is open or closed.", parameter="status")
    codes = [c for c in (q.get("service_code") or "").split(",") if c]
    for code in codes:
        services.require_service(code)
    ids = _ids(q.get("service_request_id"))
    start, end = _date(q.get("start_date"), "start_date"), _date(q.get("end_date"), "end_date", True)
    engine, _ = engine_and_key(request)

    def query() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            found: list[dict[str, Any]] = []
            for code in codes or [None]:
                found += cases.search(conn, ids=ids, service_code=code, status=status or None,
                                      start=None if ids else start, end=None if ids else end)
            return found

    rows = await run_in_threadpool(query)
    base = request.app.state.settings.base_url
    return _answer(fmt, [public_request(r, base) for r in rows], "service_requests", "request")


@router.get("/requests/{rid}.{fmt}", summary="Open311: một phản ánh / one request")
@open311
async def one_request(request: Request, fmt: str, rid: str) -> Response:
    """One request, as a list of one (the specification's shape)."""
    ids = _ids(rid) or []
    engine, _ = engine_and_key(request)

    def query() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return cases.search(conn, ids=ids[:1])

    rows = await run_in_threadpool(query)
    if len(ids) != 1 or not rows:
        raise NotFoundError(f"Không có phản ánh '{rid}'.", message_en=f"There is no request '{rid}'.")
    base = request.app.state.settings.base_url
    return _answer(fmt, [public_request(rows[0], base)], "service_requests", "request")


@router.get("/tokens/{token}.{fmt}", summary="Open311: mã theo dõi → số phản ánh / token")
@open311
async def token_lookup(request: Request, fmt: str, token: str) -> Response:
    """The request a tracking code belongs to."""
    engine, _ = engine_and_key(request)

    def query() -> dict[str, Any]:
        with engine.connect() as conn:
            return cases.by_token(conn, token)

    case = await run_in_threadpool(query)
    return _answer(fmt, [{"service_request_id": str(case["id"]), "token": token}],
                   "service_requests", "request")


def _number(form: Any, name: str, low: float, high: float) -> float | None:
    raw = form.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise InvalidParameterError(f"'{name}' phải là số từ {low} đến {high}.",
                                    message_en=f"'{name}' must be a number from {low} to {high}.",
                                    parameter=name)
    return value


@router.post("/requests.{fmt}", summary="Open311: gửi phản ánh / create a request")
@open311
async def create_request(request: Request, fmt: str) -> Response:
    """Create a request from a form-encoded GeoReport POST (``api_key`` required)."""
    form = await request.form()
    key = form.get("api_key")
    if not key:
        raise AuthenticationError("Thiếu 'api_key': ứng dụng gửi phản ánh cần khóa API.",
                                  message_en="'api_key' is missing: apps that post need an API key.")
    authenticator = request.app.state.authenticator
    client = request.client.host if request.client else None
    app_account = await run_in_threadpool(authenticator.principal, {"x-api-key": str(key)}, client)
    lat, lon = _number(form, "lat", -90, 90), _number(form, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise InvalidParameterError("Gửi cả 'lat' và 'long', hoặc 'address_string'.",
                                    message_en="Send both 'lat' and 'long', or 'address_string'.",
                                    parameter="lat" if lat is None else "long")
    name = " ".join(str(form.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    report = cases.Submission(
        service_code=str(form.get("service_code") or ""),
        description=str(form.get("description") or ""), lat=lat, lon=lon,
        address=str(form.get("address_string") or "") or None,
        identity={"name": name, "phone": str(form.get("phone") or ""),
                  "email": str(form.get("email") or "")},
        client_token=request.headers.get("idempotency-key") or str(form.get("client_token") or "")
        or None, channel=f"open311:{app_account.label}")
    case, created = await run_in_threadpool(store, request, report, app_account.label)
    department = DEPARTMENTS[case["department"]]["vi"]
    body = [{"service_request_id": str(case["id"]), "token": case["token"],
             "service_notice": f"{department} trả lời trước ngày {case['due_on']:%d/%m/%Y}",
             "account_id": None}]
    return _answer(fmt, body, "service_requests", "request", 201 if created else 200)
