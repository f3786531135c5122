"""OGC API - Features Part 4 on the items paths: create (POST), replace (PUT), update (PATCH, a
JSON merge patch) and delete, as QGIS's OAPIF provider and scripts send them.

``If-Match`` is optional: with it a write applies only to that version of the feature (412
otherwise); without it (QGIS sends none) it is made against the feature as it is when it arrives,
and a merge patch changes only the fields it names. Geometries are WGS 84 longitude/latitude
unless ``Content-Crs`` names another offered CRS (VN-2000, for instance). An operator's write is
applied at once (201/200/204); everyone else's becomes a pending edit (202) applied when an
approver of the owning department approves it: its ``Content-Location`` is the edit, and for a
creation ``Location`` is the feature it will become (QGIS reads the new id there).
Refusals (401/403/409/412/413/415) are audited and write nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gis_core.crs import CRS84_URI, OutputCrs, parse_crs
from gis_core.db import translate_db_errors
from gis_core.errors import (
    AuthenticationError,
    IocError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from governance import audit
from governance.access import Principal, require_write
from governance.editing import Op, submit_edit, to_wgs84, validate_feature
from layers.spec import LayerSpec

MAX_BODY = 5 * 2**20
_JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")


async def read_json(request: Request) -> Any:
    """The request body as JSON; 413 when too large, 415 when not JSON, 422 when malformed."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _JSON_TYPES:
        raise UnsupportedMediaTypeError(
            "Gửi GeoJSON (Content-Type: application/geo+json hoặc application/json; PATCH cũng "
            "nhận application/merge-patch+json).",
            message_en="Send GeoJSON (Content-Type: application/geo+json or application/json; "
            "PATCH also takes application/merge-patch+json).")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLargeError(f"Nội dung quá {MAX_BODY // 2**20} MB.",
                                   message_en=f"The body exceeds {MAX_BODY // 2**20} MB.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLargeError(f"Nội dung quá {MAX_BODY // 2**20} MB.",
                                       message_en=f"The body exceeds {MAX_BODY // 2**20} MB.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationError("Nội dung không phải JSON hợp lệ.",
                              message_en="The body is not valid JSON.") from None


def _feature_id(layer: LayerSpec, item: str) -> int:
    if not item.isdigit() or len(item) > 18:
        raise NotFoundError(f"Không có đối tượng '{item}' trong lớp '{layer.id}'.",
                            message_en=f"There is no feature '{item}' in collection '{layer.id}'.")
    return int(item)


def _write(engine: Engine, principal: Principal, layer: LayerSpec, op: Op, feature_id: int | None,
           body: Any, if_match: str | None, crs: OutputCrs) -> dict[str, Any]:
    if isinstance(body, dict) and crs.srid != 4326 and isinstance(body.get("geometry"), dict):
        # Geometry types are checked before transforming, the rest after.
        validate_feature(layer, body, op=op, feature_id=feature_id)
    with translate_db_errors(), engine.begin() as conn:
        if isinstance(body, dict) and isinstance(body.get("geometry"), dict):
            body = {**body, "geometry": to_wgs84(conn, body["geometry"], crs.srid, crs.lat_first)}
        geometry, properties = (None, {}) if op == "delete" else validate_feature(
            layer, body, op=op, feature_id=feature_id)
        return submit_edit(conn, principal, layer, op, feature_id=feature_id, geometry=geometry,
                           properties=properties, if_match=if_match)


async def handle_write(request: Request, engine: Engine, principal: Principal, layer: LayerSpec,
                       item: str | None, *, base_url: str) -> Response:
    """Serve one Part 4 request; IocErrors propagate to the caller's problem+json handler."""
    op: Op = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}[
        request.method]  # type: ignore[assignment]
    try:
        if principal.is_anonymous:
            raise AuthenticationError("Cần đăng nhập để sửa dữ liệu.",
                                      message_en="Sign in to edit data.")
        require_write(principal, layer)
        feature_id = _feature_id(layer, item) if item is not None else None
        body = await read_json(request) if op != "delete" else None
        crs = parse_crs(request.headers.get("content-crs", CRS84_URI).strip().strip("<>"),
                        "Content-Crs")
        result = await run_in_threadpool(_write, engine, principal, layer, op, feature_id, body,
                                         request.headers.get("if-match"), crs)
    except IocError as err:
        if err.status in (401, 403, 409, 412, 413, 415):
            await run_in_threadpool(
                audit.record_now, engine, f"feature.{op}", actor=principal, outcome="refused",
                target=f"{layer.id}/{item or 'new'}",
                details={"status": err.status, "why": err.message_en})
        raise
    items = f"{base_url}/ogc/collections/{layer.id}/items"
    if result["status"] == "pending":
        edit = f"{base_url}/api/v1/edits/{result['edit_id']}"
        feature = f"{items}/{result['feature_id']}"
        return JSONResponse(
            {"status": "pending", "edit_id": result["edit_id"], "feature_id": result["feature_id"],
             "detail": "Bản sửa đã được ghi nhận và chờ duyệt; đối tượng thay đổi khi được duyệt.",
             "detail_en": "The edit is recorded and awaits approval; the feature changes when it "
             "is approved.", "href": edit},
            status_code=202,
            headers={"Location": feature if op == "create" else edit, "Content-Location": edit})
    if op == "delete":
        return Response(status_code=204)
    headers = {"ETag": result["etag"], "Location": f"{items}/{result['feature_id']}"}
    return Response(orjson.dumps({"id": result["feature_id"], "status": "applied"}),
                    status_code=201 if op == "create" else 200, media_type="application/json",
                    headers=headers)
