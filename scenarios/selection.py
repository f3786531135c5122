"""Selections: the one way every scenario is told where to look.

A point (its commune, what is nearest), a geodesic radius around a point, a polygon (WGS 84 or
VN-2000), communes by code or name, or the whole province. ``resolve`` checks a selection against
the database and returns an ``Area``: the SQL predicates that pick features inside it.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from psycopg2 import sql
from pydantic import BaseModel, ConfigDict, Field
from shapely import geometry as sgeom
from shapely.validation import explain_validity

from gis_core.bounds import unique_list
from gis_core.crs import parse_crs, to_wgs84
from gis_core.errors import InvalidParameterError, NotFoundError, ValidationError

MAX_RADIUS_M = 100_000.0
MAX_COMMUNES = 100  # codes or names in one selection (the province has 38 communes)
MAX_VERTICES = 20_000  # of a drawn or uploaded polygon


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PointSelection(_Model):
    """A point: its commune is the area; the nearest facilities are listed."""

    type: Literal["point"]
    lon: float = Field(description="Kinh độ WGS 84 / longitude", examples=[103.46])
    lat: float = Field(description="Vĩ độ WGS 84 / latitude", examples=[22.40])


class RadiusSelection(_Model):
    """Everything within ``radius_m`` metres (geodesic) of a point."""

    type: Literal["radius"]
    lon: float = Field(description="Kinh độ WGS 84 / longitude", examples=[103.46])
    lat: float = Field(description="Vĩ độ WGS 84 / latitude", examples=[22.40])
    radius_m: float = Field(description="Bán kính (m), lớn hơn 0 và tối đa 100 000 / radius in "
                            "metres, above 0 and at most 100,000", examples=[5000],
                            json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_RADIUS_M})


class PolygonSelection(_Model):
    """A GeoJSON Polygon or MultiPolygon, in WGS 84 (lon, lat) or a VN-2000 CRS."""

    type: Literal["polygon"]
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon hoặc MultiPolygon")
    crs: str = Field("EPSG:4326", description="EPSG:4326 (lon, lat), EPSG:9205, EPSG:9208, "
                     "EPSG:3857 hoặc URI OGC")


class CommuneSelection(_Model):
    """One or several communes, by official code or by name (with or without diacritics)."""

    type: Literal["communes"]
    codes: unique_list(Annotated[str, Field(max_length=20)], MAX_COMMUNES) = Field(  # type: ignore[valid-type]
        default_factory=list, examples=[["03388"]])
    names: unique_list(Annotated[str, Field(max_length=100)], MAX_COMMUNES) = Field(  # type: ignore[valid-type]
        default_factory=list, examples=[["Đoàn Kết"]])


class ProvinceSelection(_Model):
    """The whole province."""

    type: Literal["province"] = "province"


Selection = Annotated[
    PointSelection | RadiusSelection | PolygonSelection | CommuneSelection | ProvinceSelection,
    Field(discriminator="type"),
]


@dataclass
class Area:
    """A resolved selection: SQL predicates and what the area is.

    ``codes`` restricts features by ``commune_code`` (communes, point); ``centre``/``radius_m``
    and ``wkt`` select by geometry. ``communes`` lists (code, name) of the communes it touches.
    """

    kind: str
    communes: list[tuple[str, str]]
    codes: list[str] | None = None
    centre: tuple[float, float] | None = None
    radius_m: float | None = None
    wkt: str | None = None
    description: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        """Query parameters the predicates refer to."""
        lon, lat = self.centre or (None, None)
        return {"area_codes": self.codes, "area_lon": lon, "area_lat": lat,
                "area_r": self.radius_m, "area_wkt": self.wkt}

    @property
    def is_province(self) -> bool:
        """True when the area is the whole province."""
        return self.kind == "province"

    def shape(self) -> sql.Composable:
        """The area as a WGS 84 geometry expression (radius: its geodesic buffer)."""
        # Scalar subqueries: computed once per statement, not once per row.
        if self.kind == "radius":
            return sql.SQL("(SELECT ST_Buffer(ST_SetSRID(ST_MakePoint(%(area_lon)s, %(area_lat)s), "
                           "4326)::geography, %(area_r)s, 'quad_segs=32')::geometry)")
        if self.kind == "polygon":
            return sql.SQL("(SELECT ST_GeomFromText(%(area_wkt)s, 4326))")
        return sql.SQL("(SELECT ST_Union(geom) FROM communes WHERE code = ANY(%(area_codes)s))")

    def contains(self, alias: str, line: bool = False) -> sql.Composable:
        """Predicate: the feature ``alias`` lies in (or, for lines, crosses) the area."""
        a = sql.Identifier(alias)
        if self.kind == "province":
            return sql.SQL("TRUE")
        if self.codes is not None:
            return sql.SQL("{}.commune_code = ANY(%(area_codes)s)").format(a)
        if self.kind == "radius" and not line:
            # Exact geodesic distance, through the (geom::geography) index of point layers.
            return sql.SQL("ST_DWithin({}.geom::geography, ST_SetSRID(ST_MakePoint(%(area_lon)s, "
                           "%(area_lat)s), 4326)::geography, %(area_r)s)").format(a)
        # Lines (and polygons): the geometry index against the area's shape.
        return sql.SQL("ST_Intersects({}.geom, {})").format(a, self.shape())

    def length_km(self, alias: str) -> sql.Composable:
        """Length in km of the part of line feature ``alias`` inside the area.

        Measured on the sphere: within 0.2 % of the ellipsoidal length here, and 3-4 times faster.
        """
        a = sql.Identifier(alias)
        if self.kind in ("province", "communes", "point"):
            return sql.SQL("ST_Length({}.geom::geography, false) / 1000.0").format(a)
        return sql.SQL("ST_Length(ST_Intersection({}.geom, {})::geography, false) / 1000.0").format(
            a, self.shape())


def _fold(text: str) -> str:
    """Case- and diacritic-insensitive key of a name (đ counts as d)."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).strip())
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return bare.replace("đ", "d").replace("Đ", "D").casefold()



def check_lonlat(lon: float, lat: float) -> None:
    """A 400 unless (lon, lat) are finite WGS 84 coordinates."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameterError(
            f"Tọa độ ({lon}, {lat}) không hợp lệ: kinh độ trong [-180, 180], "
            "vĩ độ trong [-90, 90] (WGS 84, kinh độ trước).",
            f"Coordinates ({lon}, {lat}) are invalid: longitude in [-180, 180], latitude in "
            "[-90, 90] (WGS 84, longitude first).",
            "selection",
        )


def outside_error(what_vi: str, what_en: str) -> InvalidParameterError:
    """The 400 for an area that misses the province."""
    return InvalidParameterError(f"{what_vi} nằm ngoài tỉnh Lai Châu; hãy chọn vị trí trong tỉnh "
                                 "(khoảng kinh độ 102.2–103.9, vĩ độ 21.6–22.9).",
                                 f"{what_en} lies outside Lai Châu province; choose a place inside it "
                                 "(about longitude 102.2–103.9, latitude 21.6–22.9).", "selection")


def polygon_wkt(selection: PolygonSelection) -> str:
    """The selection's polygon as WGS 84 WKT; 4xx for unreadable, invalid or misplaced shapes."""
    try:
        shape = sgeom.shape(selection.geometry)
    except Exception as err:  # noqa: BLE001 - shapely raises several kinds for bad GeoJSON
        raise InvalidParameterError("Hình không đọc được: cần GeoJSON Polygon hoặc "
                                    "MultiPolygon với 'coordinates'.",
                                    "The geometry cannot be read: a GeoJSON "
                                    "Polygon or MultiPolygon with 'coordinates' is required.",
                                    "selection.geometry") from err
    vertices = shapely.get_num_coordinates(shape)
    if vertices > MAX_VERTICES:
        raise InvalidParameterError(
            f"Đa giác có {vertices:,} đỉnh, tối đa {MAX_VERTICES:,}; "
            "hãy đơn giản hóa nó (ví dụ trong QGIS: Vector → Geometry → Simplify).",
            f"The polygon has {vertices:,} vertices, at most {MAX_VERTICES:,}; simplify "
            "it (for example in QGIS: Vector → Geometry → Simplify).",
            "selection.geometry",
        )
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty:
        raise InvalidParameterError(f"Cần một Polygon hoặc MultiPolygon, không phải "
                                    f"{shape.geom_type}.",
                                    f"A Polygon or MultiPolygon is required, not "
                                    f"{shape.geom_type}.", "selection.geometry")
    if not shape.is_valid:
        reason = explain_validity(shape)
        raise ValidationError(
            f"Đa giác không hợp lệ ({reason}); hãy sửa các cạnh tự cắt nhau hoặc vòng không khép "
            "kín rồi gửi lại.",
            message_en=f"The polygon is invalid ({reason}); fix self-intersecting edges or unclosed "
            "rings and send it again.", parameter="selection.geometry")
    crs = parse_crs(selection.crs, "selection.crs")
    if crs.srid != 4326:
        # GeoJSON positions are easting first in every CRS we accept.
        transformer = to_wgs84(crs.srid)
        shape = shapely.transform(shape, lambda xy: np.column_stack(
            transformer.transform(xy[:, 0], xy[:, 1])))
    minx, miny, maxx, maxy = shape.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidParameterError("Tọa độ đa giác không nằm trong hệ tọa độ đã chọn "
                                    f"({selection.crs}); kiểm tra tham số 'crs'.",
                                    "The polygon's coordinates do "
                                    f"not fit the chosen CRS ({selection.crs}); check 'crs'.",
                                    "selection.geometry")
    return shape.wkt


def resolve(cursor: Any, selection: Any) -> Area:
    """Check ``selection`` against the database and return its ``Area``.

    Raises ``InvalidParameterError`` for an area outside the province or a bad radius,
    ``ValidationError`` for an invalid polygon and ``NotFoundError`` for an unknown commune.
    """
    if isinstance(selection, ProvinceSelection):
        cursor.execute("SELECT code, name FROM communes ORDER BY code")
        return Area("province", [tuple(r) for r in cursor.fetchall()],
                    description={"vi": "Toàn tỉnh", "en": "Whole province"})
    if isinstance(selection, CommuneSelection):
        return _communes(cursor, selection)
    if isinstance(selection, PointSelection):
        check_lonlat(selection.lon, selection.lat)
        cursor.execute("SELECT code, name FROM communes WHERE ST_Intersects(geom, "
                       "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1",
                       (selection.lon, selection.lat))
        row = cursor.fetchone()
        if row is None:
            raise outside_error("Điểm đã chọn", "The point")
        return Area("point", [tuple(row)], codes=[row[0]],
                    centre=(selection.lon, selection.lat),
                    description={"vi": f"Điểm thuộc xã {row[1]}", "en": f"Point in {row[1]}"})
    if isinstance(selection, RadiusSelection):
        check_lonlat(selection.lon, selection.lat)
        r = selection.radius_m
        if not (math.isfinite(r) and 0 < r <= MAX_RADIUS_M):
            raise InvalidParameterError(f"Bán kính {r:g} m không hợp lệ: cần lớn hơn 0 và "
                                        f"tối đa {MAX_RADIUS_M:,.0f} m.",
                                        f"Radius {r:g} m is invalid: it must be "
                                        f"above 0 and at most {MAX_RADIUS_M:,.0f} m.", "selection.radius_m")
        area = Area("radius", [], centre=(selection.lon, selection.lat), radius_m=r,
                    description={"vi": f"Bán kính {r:,.0f} m quanh ({selection.lon}, "
                                 f"{selection.lat})", "en": f"{r:,.0f} m around "
                                 f"({selection.lon}, {selection.lat})"})
        cursor.execute(sql.SQL("SELECT code, name FROM communes c WHERE ST_Intersects(c.geom, {}) "
                           "ORDER BY code").format(area.shape()), area.params)
        area.communes = [tuple(r) for r in cursor.fetchall()]
        if not area.communes:
            raise outside_error("Vùng bán kính đã chọn", "The radius")
        return area
    if isinstance(selection, PolygonSelection):
        wkt = polygon_wkt(selection)
        area = Area("polygon", [], wkt=wkt,
                    description={"vi": "Vùng vẽ trên bản đồ", "en": "Polygon drawn on the map"})
        cursor.execute("SELECT code, name FROM communes WHERE ST_Intersects(geom, "
                       "ST_GeomFromText(%(area_wkt)s, 4326)) ORDER BY code", area.params)
        area.communes = [tuple(r) for r in cursor.fetchall()]
        if not area.communes:
            raise outside_error("Đa giác đã chọn", "The polygon")
        return area
    raise InvalidParameterError("Kiểu vùng chọn không được hỗ trợ.", "Unsupported selection type.",
                                "selection")


def _communes(cursor: Any, selection: CommuneSelection) -> Area:
    if not selection.codes and not selection.names:
        raise InvalidParameterError("Cần ít nhất một mã xã ('codes') hoặc tên xã ('names').",
                                    "At least one commune code ('codes') or name ('names') is required.",
                                    "selection.codes")
    cursor.execute("SELECT code, name, full_name, name_en FROM communes ORDER BY code")
    rows = cursor.fetchall()
    by_code = {r[0]: r for r in rows}
    by_name: dict[str, Any] = {}
    for r in rows:
        for label in (r[1], r[2], r[3]):
            if label:
                by_name.setdefault(_fold(label), r)
    chosen: dict[str, str] = {}
    for code in selection.codes:
        row = by_code.get(code.strip())
        if row is None:
            raise NotFoundError(f"Không có xã, phường mã '{code}'. Xem danh sách mã tại "
                                "/ogc/collections/communes/items.",
                                message_en=f"There is no commune with code '{code}'. See the codes at "
                                "/ogc/collections/communes/items.", parameter="selection.codes")
        chosen[row[0]] = row[1]
    for name in selection.names:
        row = by_name.get(_fold(name))
        if row is None:
            raise NotFoundError(f"Không có xã, phường tên '{name}'. Dùng tên như 'Đoàn Kết' hoặc "
                                "'Xã Bình Lư', hoặc mã xã.",
                                message_en=f"There is no commune named '{name}'. Use a name such as "
                                "'Đoàn Kết' or 'Xã Bình Lư', or a commune code.",
                                parameter="selection.names")
        chosen[row[0]] = row[1]
    communes = sorted(chosen.items())
    names = ", ".join(n for _, n in communes)
    return Area("communes", communes, codes=[c for c, _ in communes],
                description={"vi": f"Xã, phường: {names}", "en": f"Communes: {names}"})
