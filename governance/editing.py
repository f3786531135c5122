"""Safe editing: validate a submitted feature or merge patch, apply it (the operator) or queue it
for approval, and apply approved edits with the actor and source recorded for the history
triggers. Versions are compared as ``governance.feature_versions`` states: under the feature's row
lock wherever something is written. Pending imports (``op = 'import'``) are reviewed here too
and applied by ``pending_imports``.

Writes run in the caller's transaction: a refused edit leaves every table as it was.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    ValidationError,
)
from governance import audit, pending_imports
from governance.access import (
    Principal,
    may_approve,
    may_read_personal,
    personal_names,
    require_write,
    spatial_limit,
)
from governance.feature_versions import (
    GEOMETRY,
    Version,
    changed_since,
    feature_etag,
    read_version,
    require_version,
)
from layers.fields import FieldError, from_json
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
    try:
        return from_json(spec, value)
    except FieldError as err:
        raise _bad(f"Trường '{spec.name}': {err.vi}.", f"Field '{spec.name}': {err.en}.",
                   spec.name) from None


def validate_feature(layer: LayerSpec, body: Any, *, op: Op = "create",
                     feature_id: int | None = None) -> tuple[Any, dict[str, Any]]:
    """A feature checked against the layer: (geometry or None, properties).

    POST and PUT take a GeoJSON Feature. PATCH takes a JSON merge patch (RFC 7396) of one:
    ``properties``, ``geometry`` or both, with or without ``type``; it names only what changes
    (a ``null`` property empties that field). An ``id`` member must be the feature's own.
    """
    partial = op == "update"
    if not isinstance(body, dict) or body.get("type", "Feature" if partial else None) != "Feature":
        raise _bad("Nội dung phải là một GeoJSON Feature (PATCH: một bản vá JSON merge patch của "
                   "nó).", "The body must be a GeoJSON Feature (PATCH: a JSON merge patch of one).")
    if feature_id is not None and body.get("id") is not None and str(body["id"]) != str(feature_id):
        raise _bad(f"'id' trong nội dung ({body['id']}) khác đối tượng đang sửa ({feature_id}).",
                   f"The body's 'id' ({body['id']}) is not the edited feature's ({feature_id}).", "id")
    props = body.get("properties", {})
    if not isinstance(props, dict) and not (props is None and not partial):
        raise _bad("'properties' phải là một đối tượng.", "'properties' must be an object.",
                   "properties")
    # QGIS sends every field, null when empty: an empty status or (for a whole feature) an empty
    # commune code asks for nothing; the review sets the one, the position gives the other.
    empty = _PROTECTED | (set() if partial else _DERIVED)
    props = {k: v for k, v in (props or {}).items() if not (k in empty and v is None)}
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
        if not partial or "geometry" in body:
            raise _bad("Thiếu hình học (geometry); một đối tượng luôn có hình học.",
                       "The geometry is missing; a feature always has one.", "geometry")
        if not checked:
            raise _bad("Bản vá không thay đổi gì: cần 'properties' hoặc 'geometry'.",
                       "The patch changes nothing: give 'properties' or 'geometry'.")
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

    A creation takes ``feature_id`` (the id reserved when it was submitted) while it is free.
    The audit entry carries the feature before and after.
    """
    actor_name = actor.username if isinstance(actor, Principal) else actor
    conn.execute(text("SELECT set_config('ioc.actor', :a, true), set_config('ioc.source', :s, true)"),
                 {"a": actor_name or "", "s": source})
    table = f'"{layer.id}"'
    params: dict[str, Any] = {f"p_{k}": v for k, v in properties.items()}
    if geometry is not None:
        params["geom"] = json.dumps(geometry)
    before = _row(conn, layer, feature_id) if feature_id is not None and op != "create" else None
    if op == "create":
        columns = [*(f'"{k}"' for k in properties), "geom"]
        values = [*(f":p_{k}" for k in properties), _geom_sql(layer)]
        if feature_id is not None and _row(conn, layer, feature_id) is None:
            columns.append("id")
            values.append(":id")
            params["id"] = feature_id
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


def changed_names(layer: LayerSpec, op: Op, properties: dict[str, Any], geometry: Any
                  ) -> list[str]:
    """The fields (and ``GEOMETRY``) an edit writes: a merge patch those it names, the others all."""
    if op == "update":
        return [*properties, *([GEOMETRY] if geometry is not None else [])]
    return [f.name for f in layer.fields if f.name not in _PROTECTED] + [GEOMETRY]


def _reserve_id(conn: Connection, layer: LayerSpec) -> int:
    """The id a pending creation will have once approved, so a client can be told it at once."""
    return conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"),
                        {"t": layer.id}).scalar_one()


def submit_edit(conn: Connection, principal: Principal, layer: LayerSpec, op: Op, *,
                feature_id: int | None, geometry: Any, properties: dict[str, Any],
                if_match: str | None = None, client_uuid: str | None = None,
                warnings: list[dict[str, Any]] | None = None, always_pending: bool = False
                ) -> dict[str, Any]:
    """Check rights, version and place, then apply (operator) or queue the edit (everyone else).

    The version the edit is made against is the one ``If-Match`` names or, without it, the
    feature as it is when the edit arrives. An applied edit compares and writes while holding the
    feature's row; a queued one keeps that version for the approval's check.
    ``always_pending`` queues even an operator's edit (field surveys are always reviewed).
    A ``client_uuid`` already recorded (the same submission sent twice) returns that edit.

    Returns ``{"status": "applied", "feature_id", "etag"}`` or ``{"status": "pending", "edit_id",
    "feature_id", "repeated"}`` (``feature_id`` of a creation: the id it will have).
    """
    direct = require_write(principal, layer) == "direct" and not always_pending
    base = None
    if op != "create":
        assert feature_id is not None
        base = require_version(conn, layer, feature_id, if_match, lock=direct)
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
    if direct:
        if op in ("create", "replace") and "approval_status" in {f.name for f in layer.fields}:
            properties = {**properties, "approval_status": "approved"}
        fid = apply_edit(conn, layer, op, feature_id=feature_id, geometry=geometry,
                         properties=properties, actor=principal, source="edit:direct")
        return {"status": "applied", "feature_id": fid,
                "etag": feature_etag(conn, layer, fid) if op != "delete" else None}
    if op == "create":
        feature_id = _reserve_id(conn, layer)
    communes = _commune_of(conn, geometry) if geometry is not None else []
    edit_id = conn.execute(text(
        "INSERT INTO pending_edits (layer, feature_id, op, geometry, properties, base_etag, base, "
        "if_match, commune_code, submitted_by, client_uuid, warnings) VALUES (:layer, :fid, :op, "
        "CAST(:geom AS jsonb), CAST(:props AS jsonb), :etag, CAST(:base AS jsonb), :if_match, "
        ":commune, :by, :uuid, CAST(:warnings AS jsonb)) "
        "ON CONFLICT (client_uuid) DO NOTHING RETURNING id"),
        {"layer": layer.id, "fid": feature_id, "op": op,
         "geom": json.dumps(geometry) if geometry is not None else None,
         "props": json.dumps(properties, ensure_ascii=False, default=str),
         "etag": base.etag if base else None,
         "base": json.dumps(base.as_json(), ensure_ascii=False) if base else None,
         "if_match": bool(if_match) and op != "create",
         "commune": properties.get("commune_code") or (communes[0] if communes else None),
         "by": principal.username, "uuid": client_uuid,
         "warnings": json.dumps(warnings or [], ensure_ascii=False)}).scalar()
    if edit_id is None:
        # The same submission committed meanwhile (the insert waited for it): answer with it.
        first = conn.execute(text("SELECT id, feature_id FROM pending_edits WHERE client_uuid = :u"),
                             {"u": client_uuid}).one()
        return {"status": "pending", "edit_id": first[0], "feature_id": first[1], "repeated": True}
    audit.record(conn, "edit.submit", actor=principal, target=f"{layer.id}/{feature_id}",
                 details={"edit": edit_id, "op": op, "if_match": bool(if_match)})
    return {"status": "pending", "edit_id": edit_id, "feature_id": feature_id, "repeated": False}


_EDIT_COLUMNS = ("id, layer, feature_id, op, geometry, properties, base_etag, base, if_match, "
                 "commune_code, submitted_by, submitted_at, status, reviewer, reviewed_at, reason, "
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


def _digest(value: Any) -> Any:
    if value is None:
        return None
    return "sha256:" + hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:16]


def edit_for(principal: Principal, edit: dict[str, Any]) -> dict[str, Any]:
    """An edit as the caller may see it: personal values only for those allowed and the submitter
    (others see a digest in the version it was made against and its conflicts)."""
    layer = require_layer(edit["layer"])
    if principal.username == edit["submitted_by"] or may_read_personal(principal, layer):
        return edit
    hidden = personal_names(layer)
    props = {k: v for k, v in edit["properties"].items() if k not in hidden}
    shown = {**edit, "properties": props}
    if edit.get("base"):
        shown["base"] = {**edit["base"], "properties": {
            k: _digest(v) if k in hidden else v for k, v in edit["base"]["properties"].items()}}
    if edit.get("conflicts"):
        shown["conflicts"] = [
            {k: _digest(v) if c["field"] in hidden and k != "field" else v for k, v in c.items()}
            for c in edit["conflicts"]]
    return shown


def conflicts(layer: LayerSpec, edit: dict[str, Any], now: Version | None) -> list[dict[str, Any]] | None:
    """What changed since the edit was submitted that applying it would overwrite, field by field.

    Without ``If-Match`` an edit conflicts only on the fields it writes that hold other values
    now than when it arrived (unless they already hold the proposed value); with ``If-Match``
    any change of the feature is a conflict. None when the edit still applies; ``[]`` when the
    feature changed but no declared field tells how (its version differs).
    """
    if edit["op"] == "create":
        return None
    base = edit["base"] or {}
    if now is None:
        return [{"field": "*", "submitted_against": "exists", "now": "deleted",
                 "proposed": edit["op"]}]
    if edit["if_match"]:
        if now.etag == edit["base_etag"]:
            return None
        names = changed_names(layer, "replace", {}, None)
        found = changed_since(base, now, names) if base else []
    else:
        names = changed_names(layer, edit["op"], edit["properties"], edit["geometry"])
        found = [n for n in changed_since(base, now, names)
                 if n == GEOMETRY or edit["op"] == "delete"
                 or now.value(n) != edit["properties"].get(n)]
        if not found:
            return None

    def proposed(name: str) -> Any:
        if edit["op"] == "delete":
            return None
        return edit["geometry"] if name == GEOMETRY else edit["properties"].get(name)

    return [{"field": n, "submitted_against": (base.get(GEOMETRY) if n == GEOMETRY
                                               else base.get("properties", {}).get(n)),
             "now": now.value(n), "proposed": proposed(n)} for n in found]


def current_conflicts(conn: Connection, edit: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The conflicts of a pending edit as things stand (a read, for the approver's view)."""
    if edit["status"] != "pending" or edit["op"] in ("create", "import"):
        return None  # an import is checked again as a whole when approved
    layer = require_layer(edit["layer"])
    return conflicts(layer, edit, read_version(conn, layer, edit["feature_id"], lock=False))


def _stale(edit_id: int, found: list[dict[str, Any]]) -> PreconditionFailedError:
    names = ", ".join(c["field"] for c in found if c["field"] != "*")
    if any(c["field"] == "*" for c in found):
        vi, en = "Đối tượng đã bị xóa", "The feature was deleted"
    elif names:
        vi, en = f"Các trường đã bị người khác sửa: {names}", f"Others changed the fields: {names}"
    else:
        vi, en = "Đối tượng đã thay đổi", "The feature changed"
    err = PreconditionFailedError(
        f"{vi} sau khi bản sửa {edit_id} được gửi; hãy xem 'conflicts', từ chối bản sửa và gửi lại "
        "từ dữ liệu hiện tại.",
        message_en=f"{en} after edit {edit_id} was submitted; see 'conflicts', reject the edit and "
        "submit it again from the current data.")
    err.extra = {"edit": edit_id, "conflicts": found}
    return err


def review_edit(conn: Connection, principal: Principal, edit_id: int, *, approve: bool,
                reason: str | None = None) -> dict[str, Any]:
    """Approve (apply to the layer) or reject (with a reason) a pending edit.

    Approval holds the edit and the feature's row while it checks that the edit still applies
    (``conflicts``): two approvals of edits made from one version cannot both pass the check.
    """
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
            now = read_version(conn, layer, edit["feature_id"], lock=True)
            found = conflicts(layer, edit, now)
            if found is not None:
                raise _stale(edit_id, edit_for(principal, {**edit, "conflicts": found})["conflicts"])
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
