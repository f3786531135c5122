"""Emergency scenario (Article 9d): what an incident reaches, at once.

From a kind, a point or polygon, a radius and a time: the affected communes, households, people,
poor and near-poor households, temporary houses, and the schools and health facilities inside the
area; outside it, the nearest health facilities and safe points (permanent school buildings, the
province's usual evacuation shelters) with geodesic distances.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from psycopg2 import sql
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_core.errors import InvalidParameterError
from governance.access import CURRENT, MIN_CELL, withholds_small_cells
from layers.registry import require_layer
from scenarios.base import Outcome, Scenario
from scenarios.engine import public_props, small_cell_note
from scenarios.selection import MAX_RADIUS_M, PolygonSelection, check_lonlat, outside_error, polygon_wkt

IncidentKind = Literal["flood", "flash_flood", "landslide", "fire", "forest_fire", "epidemic",
                       "storm", "earthquake", "rescue", "other"]
KIND_TITLES: dict[str, str] = {
    "flood": "Lũ, ngập lụt", "flash_flood": "Lũ quét", "landslide": "Sạt lở đất", "fire": "Cháy",
    "forest_fire": "Cháy rừng", "epidemic": "Dịch bệnh", "storm": "Dông, lốc, mưa đá",
    "earthquake": "Động đất", "rescue": "Cứu nạn, cứu hộ", "other": "Sự cố khác",
}
SAFE_POINTS = "f.building_type = 'permanent'"
KEYS = ("households", "people", "poor_households", "near_poor_households", "temporary_houses")


class EmergencyParams(BaseModel):
    """An incident: kind, where (a point or a polygon), how far it reaches and when."""

    model_config = ConfigDict(extra="forbid")

    kind: IncidentKind = Field(description="Loại sự cố / incident kind")
    lon: float | None = Field(None, description="Kinh độ WGS 84 / longitude", examples=[103.46])
    lat: float | None = Field(None, description="Vĩ độ WGS 84 / latitude", examples=[22.40])
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON Polygon/MultiPolygon "
                                            "instead of a point")
    crs: str = Field("EPSG:4326", description="CRS of 'geometry' (EPSG:4326, EPSG:9205, …)")
    radius_m: float = Field(1000, description="Bán kính ảnh hưởng (m) quanh điểm/vùng / reach "
                            "in metres around the point or polygon",
                            json_schema_extra={"minimum": 0, "maximum": MAX_RADIUS_M})
    time: datetime | None = Field(None, description="Thời điểm xảy ra / when it started")
    nearest_limit: int = Field(3, ge=1, le=20, description="Số cơ sở gần nhất / how many nearest")

    @model_validator(mode="after")
    def _where(self) -> EmergencyParams:
        has_point = self.lon is not None and self.lat is not None
        if has_point == (self.geometry is not None):
            raise ValueError("give either lon and lat, or geometry (a polygon)")
        return self


def incident_area(p: EmergencyParams) -> tuple[sql.Composable, dict[str, Any]]:
    """The incident's shape (SQL) and parameters; 400 for a bad radius or coordinates."""
    r = p.radius_m
    point = p.geometry is None
    if not (math.isfinite(r) and (0 < r if point else 0 <= r) and r <= MAX_RADIUS_M):
        raise InvalidParameterError(
            f"Bán kính {r:g} m không hợp lệ: cần {'lớn hơn 0' if point else 'từ 0'} đến "
            f"{MAX_RADIUS_M:,.0f} m.", message_en=f"Radius {r:g} m is invalid: it must be "
            f"{'above 0' if point else 'from 0'} up to {MAX_RADIUS_M:,.0f} m.", parameter="radius_m")
    if point:
        assert p.lon is not None and p.lat is not None  # noqa: S101 - checked by the model
        check_lonlat(p.lon, p.lat)
        params = {"lon": p.lon, "lat": p.lat, "r": r, "wkt": None}
        shape = sql.SQL("ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)")
    else:
        wkt = polygon_wkt(PolygonSelection(type="polygon", geometry=p.geometry or {}, crs=p.crs))
        params = {"lon": None, "lat": None, "r": r, "wkt": wkt}
        shape = sql.SQL("ST_GeomFromText(%(wkt)s, 4326)")
    return shape, params


def withhold_small_cells(per_commune: list[dict[str, Any]], totals: dict[str, int | None]
                         ) -> dict[str, int | None]:
    """Blank the figures of communes with fewer than ``MIN_CELL`` households reached, in place,
    and return the totals, blank too when they are that small.

    When a single commune is blanked beside shown totals, the next smallest is blanked as well,
    so the totals less the communes shown do not give the blanked one back.
    """
    small = [c for c in per_commune if 0 < c["households"] < MIN_CELL]
    total = totals["households"] or 0
    shown_total = not 0 < total < MIN_CELL
    if len(small) == 1 and shown_total:
        rest = sorted((c for c in per_commune if c not in small and c["households"] > 0),
                      key=lambda c: c["households"])
        small += rest[:1]
    for commune in small:
        commune.update(dict.fromkeys(KEYS), suppressed=True)
    return totals if shown_total else dict.fromkeys(KEYS)


def run(cursor: Any, p: EmergencyParams) -> Outcome:
    """Evaluate an incident's reach."""
    shape, params = incident_area(p)
    base = sql.SQL("WITH a AS (SELECT {shape} AS s, ({shape})::geography AS g) ").format(shape=shape)
    inside = sql.SQL("ST_DWithin(f.geom::geography, a.g, %(r)s)")
    cursor.execute(base + sql.SQL(
        "SELECT c.code, c.name FROM communes c, a WHERE ST_DWithin(c.geom::geography, a.g, %(r)s) "
        "ORDER BY c.code"), params)
    communes = cursor.fetchall()
    if not communes:
        raise outside_error("Vùng sự cố", "The incident area")
    cursor.execute(base + sql.SQL(
        "SELECT f.commune_code, count(*), coalesce(sum(f.members), 0), "
        "count(*) FILTER (WHERE f.poverty_status = 'poor'), "
        "count(*) FILTER (WHERE f.poverty_status = 'near_poor'), "
        "count(*) FILTER (WHERE f.house_type = 'temporary') "
        "FROM housing f, a WHERE {} GROUP BY f.commune_code ORDER BY 1").format(inside), params)
    names = dict(communes)
    per_commune = [{"code": r[0], "name": names.get(r[0]), **dict(zip(KEYS, map(int, r[1:]), strict=True))}
                   for r in cursor.fetchall()]
    totals: dict[str, int | None] = {k: sum(c[k] for c in per_commune) for k in KEYS}
    withheld = withholds_small_cells(CURRENT.get(), require_layer("housing"))
    if withheld:
        totals = withhold_small_cells(per_commune, totals)

    def features(layer_id: str, where: sql.Composable, order: sql.Composable, limit: int | None
                 ) -> list[dict[str, Any]]:
        cursor.execute(base + sql.SQL(
            "SELECT json_build_object('type', 'Feature', 'id', f.id, 'geometry', "
            "ST_AsGeoJSON(f.geom, 6)::json, 'properties', json_build_object('layer', {layer}, "
            "'id', f.id, 'distance_m', round(greatest(ST_Distance(f.geom::geography, a.g) - %(r)s, 0)"
            "::numeric, 1), {props})) FROM {table} f, a WHERE {where} ORDER BY {order} "
            "LIMIT %(limit)s").format(layer=sql.Literal(layer_id),
                                      props=public_props(require_layer(layer_id)),
                                      table=sql.Identifier(layer_id), where=where, order=order),
            {**params, "limit": limit})
        return [r[0] for r in cursor.fetchall()]

    by_id = sql.SQL("f.id")
    by_distance = sql.SQL("ST_Distance(f.geom::geography, a.g)")
    outside = sql.SQL("NOT ST_DWithin(f.geom::geography, a.g, %(r)s)")
    schools = features("schools", inside, by_id, None)
    health = features("health_facilities", inside, by_id, None)
    nearest_health = features("health_facilities", outside, by_distance, p.nearest_limit)
    safe_points = features("schools", outside + sql.SQL(" AND ") + sql.SQL(SAFE_POINTS), by_distance,
                           p.nearest_limit)
    result: dict[str, Any] = {
        "scenario": "emergency", "kind": p.kind, "kind_title": KIND_TITLES[p.kind],
        "time": p.time.isoformat() if p.time else None, "radius_m": p.radius_m,
        "affected": {**totals, "communes": per_commune or [{"code": c, "name": n, **dict.fromkeys(
            KEYS, 0)} for c, n in communes],
            "schools": len(schools), "students": sum(int(s["properties"].get("students") or 0)
                                                     for s in schools),
            "health_facilities": len(health)},
        "affected_communes": [{"code": c, "name": n} for c, n in communes],
        "inside": {"schools": schools, "health_facilities": health},
        "outside": {"nearest_health_facilities": nearest_health, "safe_points": safe_points},
    }
    if withheld:
        result["disclosure"] = small_cell_note(
            sum(bool(c.get("suppressed")) for c in per_commune) + (totals["households"] is None))

    def geojson() -> dict[str, Any]:
        cursor.execute(base + sql.SQL(
            "SELECT ST_AsGeoJSON(CASE WHEN %(r)s > 0 THEN ST_Buffer(a.g, %(r)s, 'quad_segs=32')"
            "::geometry ELSE a.s END, 6)::json FROM a"), params)
        area = {"type": "Feature", "id": "area", "geometry": cursor.fetchone()[0],
                "properties": {"role": "area", "kind": p.kind, **totals}}
        roles = (("inside", schools + health), ("nearest_health_facility", nearest_health),
                 ("safe_point", safe_points))
        rest = [{**f, "properties": {**f["properties"], "role": role}} for role, fs in roles for f in fs]
        meta = {k: v for k, v in result.items() if k not in ("inside", "outside")}
        meta["summary"] = {k: v for k, v in result["affected"].items() if k != "communes"}
        return {"type": "FeatureCollection", "features": [area, *rest], **meta}

    return Outcome(result, geojson)


SCENARIO = Scenario(
    "emergency",
    {"vi": "Ứng phó sự cố khẩn cấp", "en": "Emergency response"},
    {"vi": "Thiên tai, dịch bệnh, cháy, cứu nạn: xã, hộ, nhân khẩu, hộ nghèo, cận nghèo, nhà tạm, "
           "trường học và cơ sở y tế trong vùng ảnh hưởng; cơ sở y tế và điểm an toàn gần nhất "
           "bên ngoài, kèm khoảng cách.",
     "en": "Disasters, epidemics, fires, rescue: communes, households, people, poor and near-poor "
           "households, temporary houses, schools and health facilities in the affected area; the "
           "nearest health facilities and safe points outside it, with distances."},
    "Điều 9d", "emergency", EmergencyParams, run,
)
