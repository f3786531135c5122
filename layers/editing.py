"""Safe editing: validate a submitted feature, version features (ETag), queue edits for approval,
and apply approved edits with the actor and source recorded for the history triggers. Pending
imports (``op = 'import'``) are reviewed here too and applied by ``pending_imports``.

Writes run in the caller's transaction: a refused edit leaves every table as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    ValidationError,
)
from layers import audit, pending_imports
from layers.access import (
    Principal,
    may_approve,
    may_read_personal,
    personal_names,
    require_write,
    spatial_limit,
)
from layers.registry import require_layer
from layers.spec import FieldSpec, LayerSpec

Op = Literal["create", "replace", "update", "delete"]
_GEOMETRY_KINDS = {
    "Point": ("Point",),
    "MultiLineString": ("LineString", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}
_PROTECTED = {"approval_status"}
# Filled from the geometry when left out: the commune the feature lies in.
_DERIVED = {"commune_code"}


def _bad(vi: str, en: str, parameter: str | None = None) -> ValidationError:
    return ValidationError(vi, message_en=en, parameter=parameter)


def _value(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        if spec.required:
            raise _bad(f"Trường '{spec.name}' là bắt buộc.", f"Field '{spec.name}' is required.",
                       spec.name)
        return None
    wrong = _bad(f"Trường '{spec.name}': giá trị '{value}' không hợp kiểu '{spec.type}'.",
                 f"Field '{spec.name}': the value '{value}' does not fit type '{spec.type}'.",
                 spec.name)
    kind = spec.type
    if kind == "text":
        if not isinstance(value, str) or "\x00" in value or len(value) > 10_000:
            raise wrong
        value = unicodedata.normalize("NFC", value)
    elif kind == "text[]":
        if not isinstance(value, list) or not all(isinstance(v, str) and "\x00" not in v
                                                  for v in value):
            raise wrong
        value = [unicodedata.normalize("NFC", v) for v in value]
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
            raise wrong
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise wrong
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise wrong
    elif kind in ("date", "datetime"):
        try:
            parsed = (date.fromisoformat(value) if kind == "date"
                      else datetime.fromisoformat(value.replace("Z", "+00:00")))
        except (TypeError, ValueError, AttributeError):
            raise wrong from None
        if kind == "datetime" and parsed.tzinfo is None:
            raise _bad(f"Trường '{spec.name}' cần múi giờ (ví dụ ...Z).",
                       f"Field '{spec.name}' needs a time zone (e.g. ...Z).", spec.name)
    if spec.domain and value not in spec.domain:
        raise _bad(f"Trường '{spec.name}': '{value}' không thuộc {', '.join(spec.domain)}.",
                   f"Field '{spec.name}': '{value}' is not one of {', '.join(spec.domain)}.",
                   spec.name)
    if isinstance(value, int | float) and not isinstance(value, bool) and (
        (spec.minimum is not None and value < spec.minimum)
        or (spec.maximum is not None and value > spec.maximum)
    ):
        raise _bad(f"Trường '{spec.name}': {value} ngoài khoảng [{spec.minimum}, {spec.maximum}].",
                   f"Field '{spec.name}': {value} is outside [{spec.minimum}, {spec.maximum}].",
                   spec.name)
    return value


def validate_feature(layer: LayerSpec, body: Any, *, partial: bool) -> tuple[Any, dict[str, Any]]:
    """A GeoJSON Feature checked against the layer: (geometry or None, properties).

    ``partial`` (PATCH) allows leaving fields and the geometry out.
    """
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise _bad("Nội dung phải là một GeoJSON Feature.", "The body must be a GeoJSON Feature.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise _bad("'properties' phải là một đối tượng.", "'properties' must be an object.")
    names = {f.name for f in layer.fields}
    unknown = sorted(set(props) - names)
    if unknown:
        raise _bad(f"Lớp '{layer.id}' không có trường: {', '.join(unknown)}.",
                   f"Layer '{layer.id}' has no field: {', '.join(unknown)}.", unknown[0])
    if _PROTECTED & set(props):
        raise _bad("Trạng thái duyệt do quy trình duyệt đặt, không gửi kèm.",
                   "The approval status is set by the review, not by the editor.",
                   "approval_status")
    checked = {}
    for spec in layer.fields:
        if spec.name in props:
            checked[spec.name] = _value(spec, props[spec.name])
        elif not partial and spec.required and spec.name not in _PROTECTED | _DERIVED:
            _value(spec, None)
    geometry = body.get("geometry")
    if geometry is None:
        if not partial:
            raise _bad("Thiếu hình học (geometry).", "The geometry is missing.", "geometry")
        return None, checked
    if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_KINDS[layer.geometry]:
        raise _bad(f"Lớp '{layer.id}' cần hình học kiểu {layer.geometry}.",
                   f"Layer '{layer.id}' takes {layer.geometry} geometries.", "geometry")
    return geometry, checked


def check_geometry(conn: Connection, geometry: Any) -> None:
    """422 unless the geometry parses, is valid and lies in longitude/latitude range."""
    row = conn.execute(text(
        "SELECT ST_IsValid(g), ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 "
        "AND ST_YMax(g) <= 90 FROM (SELECT ST_GeomFromGeoJSON(:g) AS g) s"),
        {"g": json.dumps(geometry)}).first() if _parses(conn, geometry) else None
    if row is None or not row[0] or not row[1]:
        raise _bad("Hình học không hợp lệ (tọa độ WGS 84 kinh độ, vĩ độ).",
                   "The geometry is invalid (WGS 84 longitude, latitude).", "geometry")


def _parses(conn: Connection, geometry: Any) -> bool:
    with conn.begin_nested() as nested:
        try:
            conn.execute(text("SELECT ST_GeomFromGeoJSON(:g)"), {"g": json.dumps(geometry)})
        except Exception:  # noqa: BLE001 - PostGIS rejects malformed GeoJSON with varied errors
            nested.rollback()
            return False
    return True


def to_wgs84(conn: Connection, geometry: Any, srid: int, lat_first: bool) -> Any:
    """A GeoJSON geometry given in another CRS (``Content-Crs``), as WGS 84 longitude/latitude."""
    if geometry is None or (srid == 4326 and not lat_first):
        return geometry
    if not _parses(conn, geometry):
        raise _bad("Hình học không hợp lệ.", "The geometry is invalid.", "geometry")
    flip = "ST_FlipCoordinates(g)" if lat_first else "g"
    return conn.execute(text(
        f"SELECT ST_AsGeoJSON(ST_Transform(ST_SetSRID({flip}, :srid), 4326), 9)::json "  # noqa: S608
        "FROM (SELECT ST_GeomFromGeoJSON(:g) AS g) s"),
        {"g": json.dumps(geometry), "srid": srid}).scalar_one()


def feature_etag_sql(layer: LayerSpec) -> str:
    """SQL (DB-API ``%(id)s`` parameter) computing the version hash of one feature's whole row."""
    return f'SELECT md5(row_to_json(t)::text) FROM "{layer.id}" t WHERE id = %(id)s'  # noqa: S608


def feature_etag(conn: Connection, layer: LayerSpec, feature_id: int) -> str | None:
    """A strong ETag of the feature's whole row, or None when there is no such feature."""
    value = conn.exec_driver_sql(feature_etag_sql(layer), {"id": feature_id}).scalar()
    return f'"{value}"' if value else None


def check_version(conn: Connection, layer: LayerSpec, feature_id: int, if_match: str | None
                  ) -> str:
    """The current ETag; 404 without the feature, 428 without If-Match, 412 when it is stale."""
    current = feature_etag(conn, layer, feature_id)
    if current is None:
        raise NotFoundError(f"Không có đối tượng '{feature_id}' trong lớp '{layer.id}'.",
                            message_en=f"There is no feature '{feature_id}' in '{layer.id}'.")
    if not if_match:
        raise PreconditionRequiredError(
            "Cần tiêu đề If-Match với ETag của đối tượng (đọc đối tượng trước khi sửa).",
            message_en="An If-Match header with the feature's ETag is required (read it first).")
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise PreconditionFailedError(
            "Đối tượng đã được người khác sửa; hãy tải lại rồi sửa tiếp.",
            message_en="Someone else changed the feature; reload it and edit again.")
    return current


def _commune_of(conn: Connection, geometry: Any) -> list[str]:
    return list(conn.execute(text(
        "SELECT code FROM communes WHERE ST_Intersects(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))"),
        {"g": json.dumps(geometry)}).scalars())


def check_inside(conn: Connection, principal: Principal, layer: LayerSpec, geometry: Any,
                 properties: dict[str, Any], feature_id: int | None) -> None:
    """403 when a commune-bound caller edits outside its commune (new place or existing one)."""
    commune = spatial_limit(principal)
    if commune is None:
        return
    outside = PermissionDeniedError(
        f"Tài khoản '{principal.label}' chỉ được sửa dữ liệu trong xã {commune}.",
        message_en=f"Account '{principal.label}' may edit only inside commune {commune}.")
    if properties.get("commune_code", commune) != commune:
        raise outside
    if geometry is not None and not conn.execute(text(
            "SELECT ST_CoveredBy(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326), geom) FROM communes "
            "WHERE code = :c"), {"g": json.dumps(geometry), "c": commune}).scalar():
        raise outside
    if feature_id is not None:
        inside = conn.execute(text(
            f'SELECT t.commune_code = :c FROM "{layer.id}" t WHERE t.id = :id'),  # noqa: S608 - registry id
            {"c": commune, "id": feature_id}).scalar()
        if not inside:
            raise outside


def _masked(layer: LayerSpec, feature: dict[str, Any] | None) -> dict[str, Any] | None:
    """The feature with personal values replaced by a digest: the audit log shows that and when
    they changed without becoming a second copy of citizens' data."""
    if feature is None:
        return None
    props = dict(feature["properties"])
    for name in personal_names(layer):
        if props.get(name) is not None:
            props[name] = "sha256:" + hashlib.sha256(str(props[name]).encode()).hexdigest()[:16]
    return {**feature, "properties": props}


def _row(conn: Connection, layer: LayerSpec, feature_id: int) -> dict[str, Any] | None:
    value = conn.execute(text(
        f"SELECT json_build_object('id', id, 'geometry', ST_AsGeoJSON(geom)::json, "  # noqa: S608
        f"'properties', to_jsonb(t) - 'geom' - 'id') FROM \"{layer.id}\" t WHERE id = :id"),
        {"id": feature_id}).scalar()
    return value


def _geom_sql(layer: LayerSpec) -> str:
    geom = "ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326)"
    return f"ST_Multi({geom})" if layer.geometry.startswith("Multi") else geom


def apply_edit(conn: Connection, layer: LayerSpec, op: Op, *, feature_id: int | None,
               geometry: Any, properties: dict[str, Any], actor: Principal | str, source: str
               ) -> int:
    """Write one edit to the layer table, with actor and source set for the history triggers.

    The audit entry carries the feature before and after.
    """
    actor_name = actor.username if isinstance(actor, Principal) else actor
    conn.execute(text("SELECT set_config('ioc.actor', :a, true), set_config('ioc.source', :s, true)"),
                 {"a": actor_name or "", "s": source})
    table = f'"{layer.id}"'
    params: dict[str, Any] = {f"p_{k}": v for k, v in properties.items()}
    if geometry is not None:
        params["geom"] = json.dumps(geometry)
    before = _row(conn, layer, feature_id) if feature_id is not None else None
    if op == "create":
        columns = [*(f'"{k}"' for k in properties), "geom"]
        values = [*(f":p_{k}" for k in properties), _geom_sql(layer)]
        feature_id = conn.execute(text(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) RETURNING id"),  # noqa: S608
            params).scalar_one()
    elif op == "delete":
        conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": feature_id})  # noqa: S608
    else:
        fields = dict(properties)
        if op == "replace":
            fields = {f.name: properties.get(f.name) for f in layer.fields if f.name not in _PROTECTED}
            params = {f"p_{k}": v for k, v in fields.items()} | params
        sets = [f'"{k}" = :p_{k}' for k in fields] + ["updated_at = now()"]
        if geometry is not None:
            sets.append(f"geom = {_geom_sql(layer)}")
        conn.execute(text(f"UPDATE {table} SET {', '.join(sets)} WHERE id = :id"),  # noqa: S608
                     {**params, "id": feature_id})
    after = _row(conn, layer, feature_id) if op != "delete" else None
    audit.record(conn, f"feature.{op}", actor=actor, target=f"{layer.id}/{feature_id}",
                 details={"source": source, "before": _masked(layer, before),
                          "after": _masked(layer, after)})
    assert feature_id is not None
    return feature_id


def submit_edit(conn: Connection, principal: Principal, layer: LayerSpec, op: Op, *,
                feature_id: int | None, geometry: Any, properties: dict[str, Any],
                if_match: str | None = None, client_uuid: str | None = None,
                warnings: list[dict[str, Any]] | None = None, always_pending: bool = False
                ) -> dict[str, Any]:
    """Check rights, version and place, then apply (operator) or queue the edit (everyone else).

    ``always_pending`` queues even an operator's edit (field surveys are always reviewed).

    Returns ``{"status": "applied", "feature_id", "etag"}`` or ``{"status": "pending", "edit_id"}``.
    """
    mode = require_write(principal, layer)
    base_etag = None
    if op != "create":
        assert feature_id is not None
        base_etag = check_version(conn, layer, feature_id, if_match)
    if geometry is not None:
        check_geometry(conn, geometry)
    if op in ("create", "replace") and "commune_code" in {f.name for f in layer.fields} \
            and properties.get("commune_code") is None:
        found = _commune_of(conn, geometry)
        if not found:
            raise _bad("Vị trí nằm ngoài các xã của tỉnh; cần ghi mã xã (commune_code).",
                       "The position lies outside the province's communes; give commune_code.",
                       "commune_code")
        limit = spatial_limit(principal)
        properties = {**properties, "commune_code": limit if limit in found else found[0]}
    check_inside(conn, principal, layer, geometry, properties, feature_id)
    if mode == "direct" and not always_pending:
        if op in ("create", "replace") and "approval_status" in {f.name for f in layer.fields}:
            properties = {**properties, "approval_status": "approved"}
        fid = apply_edit(conn, layer, op, feature_id=feature_id, geometry=geometry,
                         properties=properties, actor=principal, source="edit:direct")
        return {"status": "applied", "feature_id": fid,
                "etag": feature_etag(conn, layer, fid) if op != "delete" else None}
    communes = _commune_of(conn, geometry) if geometry is not None else []
    edit_id = conn.execute(text(
        "INSERT INTO pending_edits (layer, feature_id, op, geometry, properties, base_etag, "
        "commune_code, submitted_by, client_uuid, warnings) VALUES (:layer, :fid, :op, "
        "CAST(:geom AS jsonb), CAST(:props AS jsonb), :etag, :commune, :by, :uuid, "
        "CAST(:warnings AS jsonb)) RETURNING id"),
        {"layer": layer.id, "fid": feature_id, "op": op,
         "geom": json.dumps(geometry) if geometry is not None else None,
         "props": json.dumps(properties, ensure_ascii=False, default=str), "etag": base_etag,
         "commune": properties.get("commune_code") or (communes[0] if communes else None),
         "by": principal.username, "uuid": client_uuid,
         "warnings": json.dumps(warnings or [], ensure_ascii=False)}).scalar_one()
    audit.record(conn, "edit.submit", actor=principal, target=f"{layer.id}/{feature_id or 'new'}",
                 details={"edit": edit_id, "op": op})
    return {"status": "pending", "edit_id": edit_id}


_EDIT_COLUMNS = ("id, layer, feature_id, op, geometry, properties, base_etag, commune_code, "
                 "submitted_by, submitted_at, status, reviewer, reviewed_at, reason, "
                 "applied_feature_id, client_uuid, warnings, import_job")


def get_edit(conn: Connection, edit_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One pending (or reviewed) edit; 404 when there is none."""
    row = conn.execute(text(
        f"SELECT {_EDIT_COLUMNS} FROM pending_edits WHERE id = :id"  # noqa: S608 - constants
        + (" FOR UPDATE" if lock else "")), {"id": edit_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"Không có bản sửa chờ duyệt số {edit_id}.",
                            message_en=f"There is no edit {edit_id}.")
    return dict(row)


def list_edits(conn: Connection, principal: Principal, status: str | None = "pending",
               limit: int = 100) -> list[dict[str, Any]]:
    """The edits the caller may review, and the caller's own submissions."""
    rows = conn.execute(text(
        f"SELECT {_EDIT_COLUMNS} FROM pending_edits "  # noqa: S608 - constants
        "WHERE CAST(:status AS text) IS NULL OR status = :status ORDER BY id DESC LIMIT :limit"),
        {"status": status, "limit": limit}).mappings()
    return [dict(r) for r in rows
            if r["submitted_by"] == principal.username
            or may_approve(principal, require_layer(r["layer"]))]


def edit_for(principal: Principal, edit: dict[str, Any]) -> dict[str, Any]:
    """An edit as the caller may see it: personal values only for those allowed and the submitter."""
    layer = require_layer(edit["layer"])
    if principal.username == edit["submitted_by"] or may_read_personal(principal, layer):
        return edit
    props = {k: v for k, v in edit["properties"].items() if k not in personal_names(layer)}
    return {**edit, "properties": props}


def review_edit(conn: Connection, principal: Principal, edit_id: int, *, approve: bool,
                reason: str | None = None) -> dict[str, Any]:
    """Approve (apply to the layer) or reject (with a reason) a pending edit."""
    edit = get_edit(conn, edit_id, lock=True)
    layer = require_layer(edit["layer"])
    if not may_approve(principal, layer, edit["submitted_by"]):
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không được duyệt bản sửa này (cần người duyệt của "
            "sở sở hữu lớp, không phải người gửi).",
            message_en=f"Account '{principal.label}' may not review this edit (an approver of the "
            "owning department other than the submitter is needed).")
    if edit["status"] != "pending":
        raise ConflictError(f"Bản sửa {edit_id} đã được xử lý ({edit['status']}).",
                            message_en=f"Edit {edit_id} was already reviewed ({edit['status']}).")
    if not approve and not (reason and reason.strip()):
        raise _bad("Cần nêu lý do từ chối.", "A rejection needs a reason.", "reason")
    applied = None
    if edit["op"] == "import":
        if approve:
            pending_imports.apply(conn, principal, edit)
        else:
            pending_imports.decline(conn, principal, edit, reason or "")
    elif approve:
        if edit["op"] != "create":
            current = feature_etag(conn, layer, edit["feature_id"])
            if current != edit["base_etag"]:
                raise PreconditionFailedError(
                    "Đối tượng đã thay đổi sau khi bản sửa được gửi; hãy từ chối và gửi lại.",
                    message_en="The feature changed after the edit was submitted; reject it and "
                    "submit again.")
        properties = dict(edit["properties"])
        if "approval_status" in {f.name for f in layer.fields} and edit["op"] in ("create", "replace"):
            properties["approval_status"] = "approved"
        applied = apply_edit(conn, layer, edit["op"], feature_id=edit["feature_id"],
                             geometry=edit["geometry"], properties=properties, actor=principal,
                             source=f"edit:{edit_id}")
    conn.execute(text(
        "UPDATE pending_edits SET status = :s, reviewer = :r, reviewed_at = now(), reason = :why, "
        "applied_feature_id = :fid WHERE id = :id"),
        {"s": "approved" if approve else "rejected", "r": principal.username, "why": reason,
         "fid": applied, "id": edit_id})
    target = (f"import:{edit['import_job']}" if edit["op"] == "import"
              else applied or edit["feature_id"] or "new")
    audit.record(conn, "edit.approve" if approve else "edit.reject", actor=principal,
                 target=f"{layer.id}/{target}",
                 reason=reason or principal.reason, details={"edit": edit_id,
                                                             "submitted_by": edit["submitted_by"]})
    return get_edit(conn, edit_id)
