"""Field survey of houses: one submission = a photo, a position and the household's fields,
entered as a pending edit of the housing layer.

Submissions carry a client-generated UUID: sending the same record again (a phone that lost the
answer and retried) returns the first submission instead of creating a second.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import ValidationError
from governance import audit
from governance.access import Principal
from governance.editing import get_edit, submit_edit, validate_feature
from governance.field_photos import PhotoInfo
from layers.registry import require_layer

FAR_FROM_HOUSE_M = 50.0
NEIGHBOUR_M = 5.0
# Fields the survey fills itself rather than the surveyor.
AUTOMATIC = ("photo_refs", "surveyed_by", "surveyed_at", "approval_status", "commune_code")


def form_fields() -> list[Any]:
    """The housing fields the surveyor fills, in declaration order (the page is built from them)."""
    return [f for f in require_layer("housing").fields if f.name not in AUTOMATIC]


def parse_client_uuid(value: Any) -> str:
    """The submission's UUID in canonical form; 422 when missing or malformed."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        raise ValidationError("Thiếu hoặc sai mã bản ghi (client_uuid).",
                              message_en="The record id (client_uuid) is missing or malformed.",
                              parameter="client_uuid") from None


def existing_submission(conn: Connection, client_uuid: str) -> dict[str, Any] | None:
    """The submission already recorded under this UUID, or None."""
    found = conn.execute(text("SELECT id FROM pending_edits WHERE client_uuid = :u"),
                         {"u": client_uuid}).scalar()
    return get_edit(conn, found) if found is not None else None


def _distance_m(conn: Connection, a: tuple[float, float], b: tuple[float, float]) -> float:
    return conn.execute(text(
        "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:x1, :y1), 4326)::geography, "
        "ST_SetSRID(ST_MakePoint(:x2, :y2), 4326)::geography)"),
        {"x1": a[0], "y1": a[1], "x2": b[0], "y2": b[1]}).scalar_one()


def position_warnings(conn: Connection, lon: float, lat: float, photo: PhotoInfo
                      ) -> list[dict[str, Any]]:
    """Warnings for the reviewer: photo taken far from the house, another house very close."""
    found: list[dict[str, Any]] = list(photo.warnings)
    if photo.lon is not None and photo.lat is not None:
        distance = _distance_m(conn, (lon, lat), (photo.lon, photo.lat))
        if distance > FAR_FROM_HOUSE_M:
            found.append({"code": "photo-far-from-house", "distance_m": round(distance, 1),
                          "vi": f"Ảnh chụp cách vị trí nhà {distance:.0f} m.",
                          "en": f"The photo was taken {distance:.0f} m from the house."})
    neighbours = conn.execute(text(
        "SELECT id, household_code, round(ST_Distance(geom::geography, p::geography)::numeric, 1) "
        "FROM housing, (SELECT ST_SetSRID(ST_MakePoint(:x, :y), 4326) AS p) q "
        "WHERE ST_DWithin(geom::geography, p::geography, :r) ORDER BY 3 LIMIT 5"),
        {"x": lon, "y": lat, "r": NEIGHBOUR_M}).all()
    for fid, code, distance in neighbours:
        found.append({"code": "house-nearby", "feature_id": fid, "household_code": code,
                      "distance_m": float(distance),
                      "vi": f"Đã có nhà {code} cách {float(distance):.1f} m — có thể trùng.",
                      "en": f"House {code} is {float(distance):.1f} m away — maybe a duplicate."})
    return found


def submit_household(conn: Connection, principal: Principal, *, client_uuid: str,
                     fields: dict[str, Any], lon: float | None, lat: float | None,
                     accuracy_m: float | None, position_source: str, photo: PhotoInfo
                     ) -> tuple[dict[str, Any], bool]:
    """Record one survey as a pending creation of a house: (the pending edit, whether it is new).

    The same ``client_uuid`` sent twice at once is recorded once: the unique key decides, and the
    later request gets the first one's edit (not new).
    """
    if position_source == "exif":
        if photo.lon is None or photo.lat is None:
            raise ValidationError("Ảnh không có tọa độ GPS hợp lệ; hãy lấy vị trí từ điện thoại.",
                                  message_en="The photo has no valid GPS position; use the phone's.",
                                  parameter="position_source")
        lon, lat = photo.lon, photo.lat
    if lon is None or lat is None:
        raise ValidationError("Thiếu vị trí (lon, lat).", message_en="The position is missing.",
                              parameter="lon")
    unknown = sorted(set(fields) - {f.name for f in form_fields()})
    if unknown:
        raise ValidationError(f"Trường không được nhập ở đây: {', '.join(unknown)}.",
                              message_en=f"Fields not entered here: {', '.join(unknown)}.",
                              parameter=unknown[0])
    surveyed_at = (photo.taken_at or datetime.now(UTC)).isoformat()
    properties = {**fields, "photo_refs": [photo.sha256], "surveyed_by": principal.username,
                  "surveyed_at": surveyed_at}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": properties}
    geometry, checked = validate_feature(require_layer("housing"), feature)
    warnings = position_warnings(conn, lon, lat, photo)
    if accuracy_m is not None:
        warnings.append({"code": "gps-accuracy", "accuracy_m": accuracy_m, "source": position_source,
                         "vi": f"Độ chính xác vị trí ±{accuracy_m:.0f} m.",
                         "en": f"Position accuracy ±{accuracy_m:.0f} m."})
    result = submit_edit(conn, principal, require_layer("housing"), "create", feature_id=None,
                         geometry=geometry, properties=checked, client_uuid=client_uuid,
                         warnings=warnings, always_pending=True)
    edit_id = result["edit_id"]
    if result["repeated"]:
        return get_edit(conn, edit_id), False
    conn.execute(text(
        "INSERT INTO field_photos (sha256, content_type, size, width, height, exif_lon, exif_lat, "
        "exif_time, uploaded_by, pending_edit_id) VALUES (:sha, :ct, :size, :w, :h, :lon, :lat, "
        ":t, :by, :edit) ON CONFLICT (sha256) DO NOTHING"),
        {"sha": photo.sha256, "ct": photo.content_type, "size": photo.size, "w": photo.width,
         "h": photo.height, "lon": photo.lon, "lat": photo.lat, "t": photo.taken_at,
         "by": principal.username, "edit": edit_id})
    audit.record(conn, "field.submit", actor=principal, target=f"housing/edit:{edit_id}",
                 details={"client_uuid": client_uuid, "photo": photo.sha256,
                          "warnings": [w["code"] for w in warnings]})
    return get_edit(conn, edit_id), True
