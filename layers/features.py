"""Feature queries for OGC API Features: GeoJSON built in PostGIS, returned as text.

The database writes each feature's JSON; Python only splices the page together, so a
page of a thousand features costs no per-feature Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2 import sql

from gis_core.crs import OutputCrs
from layers.cql import day_end, day_start
from layers.items import CRS84, ItemsQuery, items_where, order_by
from layers.spec import FieldSpec, LayerSpec


@dataclass
class ItemsPage:
    """One page of features as JSON text, with counts."""

    features: str
    returned: int
    matched: int | None = None


def _geometry_sql(crs: OutputCrs) -> sql.Composable:
    geom = sql.SQL("geom")
    if crs.srid != 4326:
        geom = sql.SQL("ST_Transform(geom, {})").format(sql.Literal(crs.srid))
    if crs.lat_first:
        geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
    # Option 0: no "crs" member inside the geometry; the response header names the CRS.
    return sql.SQL("ST_AsGeoJSON({}, {}, 0)::json").format(geom, sql.Literal(crs.decimals))


def feature_sql(fields: list[str], crs: OutputCrs, skip_geometry: bool = False) -> sql.Composable:
    """A GeoJSON Feature (json) built in SQL from the columns ``id``, ``geom`` and ``fields``."""
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(name), sql.Identifier(name)) for name in fields
    )
    geometry = sql.SQL("NULL::json") if skip_geometry else _geometry_sql(crs)
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', id, 'geometry', {}, "
        "'properties', json_build_object({}))"
    ).format(geometry, pairs)


def output_fields(layer: LayerSpec, query: ItemsQuery, visible: tuple[FieldSpec, ...]) -> list[str]:
    """The properties a response carries: the requested subset of the visible fields."""
    names = [f.name for f in visible]
    if query.properties is None:
        return names
    return [n for n in query.properties if n in names]


class PageCache:
    """Exact counts and deep-page anchors, valid while a layer's data version is unchanged.

    ``feature_counts.version`` moves with every insert, update, delete or truncate (triggers),
    so a cached value is never served for data that has changed since it was computed. While a
    layer has inserts not yet folded into its count (``feature_count_pending``) its version is
    not settled and nothing is cached: the count adds the pending rows and is exact.
    """

    def __init__(self, size: int = 2048):
        self.size = size
        self._values: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...]) -> Any:
        """The cached value, or None."""
        return self._values.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Remember ``value``; forget everything when full (entries are cheap to recompute)."""
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = value


ANCHOR_STEP = 1000
_PAGE = (
    "WITH page AS (SELECT id, row_number() OVER (ORDER BY {order}) AS ord FROM {table}{where} "
    "ORDER BY {order} LIMIT %(_limit)s OFFSET %(_offset)s) "
    "SELECT coalesce(string_agg({feature}::text, ',' ORDER BY page.ord), ''), count(*), "
    "(SELECT n FROM feature_counts WHERE layer = %(_layer)s) + (SELECT coalesce(sum(n), 0)::bigint "
    "FROM feature_count_pending WHERE layer = %(_layer)s), "
    "CASE WHEN NOT EXISTS (SELECT FROM feature_count_pending WHERE layer = %(_layer)s) "
    "THEN (SELECT version FROM feature_counts WHERE layer = %(_layer)s) END "
    "FROM page JOIN {table} USING (id)"
)


def fetch_items(
    cursor: Any, layer: LayerSpec, query: ItemsQuery,
    visible: tuple[FieldSpec, ...] | None = None, *, cache: PageCache | None = None,
) -> ItemsPage:
    """Run an items query and return the page; ``cursor`` is a DB-API (psycopg2) cursor.

    The page's ids are chosen first and only those rows are turned into JSON, so skipped rows
    cost an index step, not a feature. With a cache, a deep offset in id order starts from a
    remembered anchor id, and the count of a filtered query is computed once per data version.
    """
    visible = layer.public_fields if visible is None else visible
    selected = items_where(layer, query, visible)
    params = selected.params
    table = sql.Identifier(layer.id)
    where = selected.clause()
    anchored = where
    where_key = (where.as_string(cursor), tuple(sorted(params.items())))
    offset = query.offset
    by_id = all(name == "id" for name, _ in query.sortby)
    if cache is not None and by_id and offset >= ANCHOR_STEP:
        anchor_at = offset - offset % ANCHOR_STEP
        cursor.execute("SELECT version FROM feature_counts WHERE layer = %s", (layer.id,))
        row = cursor.fetchone()
        key = ("anchor", layer.id, row and row[0], where_key, anchor_at)
        anchor = cache.get(key)
        if anchor is None:
            cursor.execute(sql.SQL("SELECT id FROM {}{} ORDER BY id OFFSET %(_at)s LIMIT 1").format(
                table, where), {**params, "_at": anchor_at})
            found = cursor.fetchone()
            anchor = found[0] if found else -1
            cache.put(key, anchor)
        anchored = selected.clause(sql.SQL("FALSE") if anchor == -1 else
                                   sql.SQL("id >= {}").format(sql.Literal(anchor)))
        offset -= anchor_at
    page = sql.SQL(_PAGE).format(
        order=order_by(query), table=table, where=anchored,
        feature=feature_sql(output_fields(layer, query, visible), query.crs, query.skip_geometry),
    )
    cursor.execute(page, {**params, "_limit": query.limit, "_offset": offset, "_layer": layer.id})
    features, returned, total, version = cursor.fetchone()
    if where_key[0] == "" and total is not None:
        return ItemsPage(features=features, returned=returned, matched=total)
    key = ("count", layer.id, version, where_key)
    matched = cache.get(key) if cache is not None and version is not None else None
    if matched is None:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}{}").format(table, where), params)
        matched = cursor.fetchone()[0]
        if cache is not None and version is not None:
            cache.put(key, matched)
    return ItemsPage(features=features, returned=returned, matched=matched)


def fetch_item(
    cursor: Any, layer: LayerSpec, feature_id: int, crs: OutputCrs = CRS84,
    visible: tuple[FieldSpec, ...] | None = None,
) -> str | None:
    """One feature as GeoJSON text, or None when there is no such feature."""
    visible = layer.public_fields if visible is None else visible
    statement = sql.SQL("SELECT {}::text FROM {} WHERE id = %(id)s").format(
        feature_sql([f.name for f in visible], crs, False), sql.Identifier(layer.id))
    cursor.execute(statement, {"id": feature_id})
    row = cursor.fetchone()
    return row[0] if row else None


_EXTENT = sql.SQL(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 "
    "FROM (SELECT ST_Extent(geom) AS e, min({t}) AS t0, max({t}) AS t1 FROM {table}) s"
)


def layer_extent(cursor: Any, layer: LayerSpec) -> tuple[list[float] | None,
                                                         list[datetime | None]]:
    """Spatial extent (CRS84) and temporal extent (UTC) of a layer's data.

    A date field's extent runs from the start of its first day to the end of its last, so a
    ``datetime`` filter anywhere inside the extent may match, whatever the session's time zone.
    """
    cursor.execute(_EXTENT.format(t=sql.Identifier(layer.time_field), table=sql.Identifier(layer.id)))
    row = cursor.fetchone()
    bbox = [round(v, 6) for v in row[:4]] if row and row[0] is not None else None
    first, last = (row[4], row[5]) if row else (None, None)
    if isinstance(first, datetime) or isinstance(last, datetime):
        return bbox, [t.astimezone(UTC) if t else None for t in (first, last)]
    return bbox, [day_start(first) if first else None, day_end(last) if last else None]
