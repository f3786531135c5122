"""``/field``: the field survey page for houses, and its API under ``/api/v1/field``.

A submission is one multipart request: ``data`` (JSON: client_uuid, position, household fields)
and ``photo``. The same client_uuid sent again answers 200 with the first submission.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import SignedIn
from api.routes.pages import WEB, templates
from gis_core.db import translate_db_errors
from gis_core.errors import (
    IocError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from governance import audit
from governance.access import Principal, require_write
from governance.field_photos import inspect_photo, served_path, store_photo
from governance.field_survey import existing_submission, form_fields, parse_client_uuid, submit_household
from layers.registry import require_layer

router = APIRouter(tags=["field"])
_MULTIPART = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["data", "photo"],
    "properties": {
        "data": {"type": "string", "description": "JSON: client_uuid, lon, lat, accuracy_m, "
                 "position_source (gps|exif|manual), fields {household fields}"},
        "photo": {"type": "string", "format": "binary"},
    }}}}}}


@router.get("/field", response_class=HTMLResponse, include_in_schema=False)
def field_page(request: Request) -> HTMLResponse:
    """The mobile survey page (works offline once loaded; records queue on the phone)."""
    return templates.TemplateResponse(request, "field.html", {"fields": form_fields()})


@router.get("/field-sw.js", include_in_schema=False)
def field_service_worker() -> FileResponse:
    """The page's service worker, served from the root so its scope covers ``/field``."""
    return FileResponse(WEB / "static" / "field-sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


def _number(data: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValidationError(f"'{name}' phải là số trong [{low}, {high}].",
                              message_en=f"'{name}' must be a number in [{low}, {high}].",
                              parameter=name)
    return float(value)


def _metadata(raw: Any) -> dict[str, Any]:
    try:
        data = orjson.loads(raw if isinstance(raw, str | bytes) else b"")
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict):
        raise ValidationError("Phần 'data' phải là JSON có 'client_uuid' và 'fields'.",
                              message_en="Part 'data' must be JSON with 'client_uuid' and 'fields'.",
                              parameter="data")
    return data


def _save(request: Request, principal: Principal, data: dict[str, Any], photo: bytes
          ) -> tuple[int, dict[str, Any]]:
    settings = request.app.state.settings
    engine = request.app.state.engine
    client_uuid = parse_client_uuid(data.get("client_uuid"))
    with engine.connect() as conn:
        earlier = existing_submission(conn, client_uuid)
    if earlier is not None:
        return 200, _own(principal, earlier)
    source = data.get("position_source", "gps")
    if source not in ("gps", "exif", "manual"):
        raise ValidationError("position_source: gps, exif hoặc manual.",
                              message_en="position_source: gps, exif or manual.",
                              parameter="position_source")
    lon = _number(data, "lon", -180, 180)
    lat = _number(data, "lat", -90, 90)
    accuracy = _number(data, "accuracy_m", 0, 100_000)
    info = inspect_photo(photo)
    with translate_db_errors(), engine.begin() as conn:
        edit, new = submit_household(conn, principal, client_uuid=client_uuid,
                                     fields=data.get("fields", {}), lon=lon, lat=lat,
                                     accuracy_m=accuracy, position_source=source, photo=info)
        if not new:  # the same record, sent again while the first was being saved
            return 200, _own(principal, edit)
        # The file is written inside the transaction: a failure here rolls the record back.
        store_photo(settings.var_dir / "field", photo, info)
    return 201, edit


def _own(principal: Principal, edit: dict[str, Any]) -> dict[str, Any]:
    """The earlier submission of this record id: the sender's own (403 for anyone else's)."""
    if edit["submitted_by"] != principal.username:
        raise PermissionDeniedError("Mã bản ghi đã được người khác dùng.",
                                    message_en="The record id belongs to someone else.")
    return edit


async def _read_photo(upload: Any, limit: int) -> bytes:
    if not isinstance(upload, UploadFile):
        raise ValidationError("Thiếu ảnh (photo).", message_en="The photo is missing.",
                              parameter="photo")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"Ảnh quá lớn: tối đa {limit // 2**20} MB.",
                                   message_en=f"The photo is too large: at most {limit // 2**20} MB.",
                                   parameter="photo")
    return data


def _out(edit: dict[str, Any]) -> dict[str, Any]:
    return jsonable_encoder(edit)


@router.post("/api/v1/field/households", status_code=201, openapi_extra=_MULTIPART,
             summary="Gửi khảo sát nhà ở / submit a house survey")
async def submit(request: Request, principal: SignedIn) -> JSONResponse:
    """Store the photo and enter the house as a pending edit (200 when already received)."""
    limit = request.app.state.settings.max_photo_mb * 2**20
    engine = request.app.state.engine
    try:
        require_write(principal, require_layer("housing"))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 2**20:
            raise PayloadTooLargeError(f"Ảnh quá lớn: tối đa {limit // 2**20} MB.",
                                       message_en=f"The photo is too large: at most {limit // 2**20} MB.",
                                       parameter="photo")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise UnsupportedMediaTypeError("Gửi dạng multipart/form-data (data, photo).",
                                            message_en="Send multipart/form-data (data, photo).")
        async with request.form(max_files=1, max_fields=5, max_part_size=2**20) as form:
            data = _metadata(form.get("data"))
            photo = await _read_photo(form.get("photo"), limit)
        status, edit = await run_in_threadpool(_save, request, principal, data, photo)
    except IocError as err:
        if err.status in (403, 413, 415, 422):
            await run_in_threadpool(audit.record_now, engine, "field.submit", actor=principal,
                                    outcome="refused", target="housing",
                                    details={"status": err.status, "why": err.message_en})
        raise
    except ValueError as err:  # malformed multipart
        raise ValidationError("Dữ liệu multipart không hợp lệ.",
                              message_en="The multipart body is malformed.") from err
    return JSONResponse(_out(edit), status_code=status,
                        headers={"Location": f"/api/v1/edits/{edit['id']}"})


@router.get("/api/v1/field/photos/{sha256}", summary="Ảnh khảo sát (đã xóa EXIF) / survey photo")
def photo(sha256: str, request: Request, principal: SignedIn,
          size: str = Query(default="full", pattern="^(full|thumb)$")) -> FileResponse:
    """A survey photo, re-encoded without EXIF, for signed-in staff."""
    if principal.role == "api_client":
        raise PermissionDeniedError("Ảnh khảo sát chỉ dành cho cán bộ.",
                                    message_en="Survey photos are for staff only.")
    path = served_path(request.app.state.settings.var_dir / "field", sha256, size)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private"})
