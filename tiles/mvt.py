"""Mapbox vector tiles built in PostGIS, bounded per tile, cached by data version.

A tile selects its rows with the indexed geometry column bare (the tile envelope is transformed
to EPSG:4326, not the column), simplifies lines and polygons to the tile's pixel size, and
stops at a feature cap. A point layer over the cap is drawn as clusters with their counts
instead of silently dropping points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from gis_core.errors import InvalidParameterError, NotFoundError
from layers.spec import LayerSpec
from tiles.cache import RenderedTile

MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
WORLD = 40075016.685578488  # metres, EPSG:3857
CLUSTER_GRID = 64  # clusters per tile side when a point layer is over its cap


@dataclass(frozen=True)
class Tile:
    """A WebMercatorQuad tile address."""

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise InvalidParameterError(
                f"Mức thu phóng {self.z} ngoài khoảng 0–{MAX_ZOOM}.",
                message_en=f"Zoom {self.z} is outside 0–{MAX_ZOOM}.", parameter="z")
        size = 2**self.z
        if not (0 <= self.x < size and 0 <= self.y < size):
            raise NotFoundError(
                f"Ô {self.z}/{self.x}/{self.y} không tồn tại (x, y trong 0–{size - 1}).",
                message_en=f"Tile {self.z}/{self.x}/{self.y} does not exist "
                f"(x and y range over 0–{size - 1}).")

    @property
    def pixel_m(self) -> float:
        """Size of one tile pixel (1/4096 of the tile) in metres."""
        return WORLD / 2**self.z / EXTENT


def _features_sql(layer: LayerSpec) -> sql.Composed:
    props = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(p)) for p in layer.tiles.properties)
    geom = sql.SQL("ST_Transform(geom, 3857)")
    if layer.geometry != "Point":
        geom = sql.SQL("ST_Simplify({}, %(pixel)s / 2)").format(geom)
    # MATERIALIZED keeps the planner on the spatial index (inline, it picks a parallel seq scan).
    return sql.SQL(
        "WITH env AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e), "
        "rows AS MATERIALIZED (SELECT id, geom{props} FROM {table} "
        "WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) "
        "LIMIT %(cap)s + 1), "
        "mvt AS (SELECT id, ST_AsMVTGeom({geom}, env.e, {extent}, {buffer}, true) AS geom{props} "
        "FROM rows, env) "
        "SELECT (SELECT count(*) FROM rows), "
        "(SELECT ST_AsMVT(mvt.*, %(name)s, {extent}, 'geom', 'id') FROM mvt WHERE geom IS NOT NULL)"
    ).format(props=props, table=sql.Identifier(layer.id), geom=geom,
             extent=sql.Literal(EXTENT), buffer=sql.Literal(BUFFER))


def _clusters_sql(layer: LayerSpec) -> sql.Composed:
    # Points are binned by their pixel on a CLUSTER_GRID² grid with plain arithmetic on lon/lat
    # (Web Mercator's formulas); only the cluster centres are transformed and encoded.
    return sql.SQL(
        "WITH env AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e), "
        "pts AS MATERIALIZED (SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM {table} "
        "WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)), "
        "cells AS (SELECT avg(lon) AS lon, avg(lat) AS lat, count(*) AS point_count FROM pts "
        "GROUP BY floor((lon + 180) / 360 * %(n)s), "
        "floor((1 - ln(tan(radians(lat)) + 1 / cos(radians(lat))) / pi()) / 2 * %(n)s)), "
        "mvt AS (SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857), "
        "env.e, {extent}, 0, true) AS geom, point_count FROM cells, env) "
        "SELECT ST_AsMVT(mvt.*, %(name)s, {extent}, 'geom') FROM mvt WHERE geom IS NOT NULL"
    ).format(table=sql.Identifier(layer.id), extent=sql.Literal(EXTENT))


def _count_sql(layer: LayerSpec) -> sql.Composed:
    return sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE geom && "
        "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) "
        "LIMIT %(cap)s + 1) s"
    ).format(table=sql.Identifier(layer.id))


_STATEMENTS: dict[tuple[str, str], sql.Composed] = {}


def _statement(kind: str, layer: LayerSpec) -> sql.Composed:
    statement = _STATEMENTS.get((kind, layer.id))
    if statement is None:
        build = {"features": _features_sql, "clusters": _clusters_sql, "count": _count_sql}[kind]
        statement = _STATEMENTS[(kind, layer.id)] = build(layer)
    return statement


def render_tile(cursor: Any, layer: LayerSpec, tile: Tile, *, cap: int = 20_000) -> RenderedTile:
    """Encode one layer's tile; an empty tile is ``b""``."""
    params = {"z": tile.z, "x": tile.x, "y": tile.y, "cap": cap, "name": layer.id,
              "pixel": tile.pixel_m, "margin": BUFFER / EXTENT, "n": 2**tile.z * CLUSTER_GRID}
    if layer.geometry == "Point":
        # Counting ids first (index only, stops at the cap) spares encoding a tile that will be
        # drawn as clusters.
        cursor.execute(_statement("count", layer), params)
        if cursor.fetchone()[0] > cap:
            cursor.execute(_statement("clusters", layer), params)
            return RenderedTile(bytes(cursor.fetchone()[0] or b""), clustered=True)
    cursor.execute(_statement("features", layer), params)
    count, data = cursor.fetchone()
    return RenderedTile(bytes(data or b""), capped=count > cap)


def layer_version(cursor: Any, layer_id: str) -> int | None:
    """The layer's data version (moves with every change, in commit order), or None."""
    cursor.execute("SELECT version FROM feature_counts WHERE layer = %s", (layer_id,))
    row = cursor.fetchone()
    return row[0] if row else None
