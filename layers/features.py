"""Feature queries for OGC API Features: GeoJSON built in PostGIS, returned as text.

The database writes each feature's JSON; Python only splices the page together, so a
page of a thousand features costs no per-feature Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2 import sql
from pygeofilter import ast

from gis_core.crs import OutputCrs, parse_crs
from gis_core.errors import InvalidParameterError
from layers.cql import SqlFilter, bounded, day_end, day_start, parse_instant, utc_day
from layers.spec import FieldSpec, LayerSpec

CRS84 = parse_crs("OGC:CRS84")


@dataclass(frozen=True)
class TimeRange:
    """A datetime instant (start == end) or an interval with open ends as None."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ItemsQuery:
    """A parsed items request; every value already validated."""

    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    time: TimeRange | None = None
    equals: tuple[tuple[str, str], ...] = ()
    filter: ast.Node | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    crs: OutputCrs = CRS84


@dataclass
class ItemsPage:
    """One page of features as JSON text, with counts."""

    features: str
    returned: int
    matched: int | None = None


def queryable_fields(layer: LayerSpec, visible: tuple[FieldSpec, ...] | None = None) -> dict[str, str]:
    """Name → type of the fields a caller may filter and sort on."""
    fields = layer.public_fields if visible is None else visible
    types = {f.name: f.type for f in fields}
    types.update({"id": "integer", "updated_at": "datetime", "created_at": "datetime"})
    return types


def parse_datetime(value: str) -> TimeRange:
    """Parse the ``datetime`` parameter: an RFC 3339 instant or an interval with ``..`` ends.

    A date without a time means its whole day (UTC): ``2025-07-01`` is the interval from
    ``2025-07-01T00:00:00Z`` to ``2025-07-01T23:59:59.999999Z``, and so is an interval end.
    """

    def one(text: str, *, end: bool) -> datetime | None:
        if text in ("", ".."):
            return None
        try:
            parsed = parse_instant(text)
        except ValueError as err:
            raise InvalidParameterError(
                f"Tham số 'datetime' không hợp lệ: '{value}'. Dùng RFC 3339, ví dụ "
                "2025-07-01T00:00:00Z hoặc 2025-01-01/2025-07-01 hoặc ../2025-07-01.",
                message_en=f"Parameter 'datetime' is invalid: '{value}'. Use RFC 3339, e.g. "
                "2025-07-01T00:00:00Z, 2025-01-01/2025-07-01 or ../2025-07-01.",
                parameter="datetime",
            ) from err
        if isinstance(parsed, datetime):
            return parsed
        return day_end(parsed) if end else day_start(parsed)

    parts = value.split("/")
    if len(parts) == 1:
        start = one(parts[0], end=False)
        if start is None:
            raise InvalidParameterError(
                "Tham số 'datetime' không được rỗng.",
                message_en="Parameter 'datetime' must not be empty.", parameter="datetime")
        return TimeRange(start, one(parts[0], end=True))
    if len(parts) == 2:
        start, end = one(parts[0], end=False), one(parts[1], end=True)
        if start and end and start > end:
            raise InvalidParameterError(
                f"Tham số 'datetime': thời điểm đầu sau thời điểm cuối ('{value}').",
                message_en=f"Parameter 'datetime': the start is after the end ('{value}').",
                parameter="datetime")
        return TimeRange(start, end)
    raise InvalidParameterError(
        f"Tham số 'datetime' không hợp lệ: '{value}'.",
        message_en=f"Parameter 'datetime' is invalid: '{value}'.", parameter="datetime")


def _time_type(layer: LayerSpec) -> str:
    """``date`` or ``datetime``: the type of the layer's time field."""
    if layer.time_field in ("created_at", "updated_at"):
        return "datetime"
    return layer.field(layer.time_field).type


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


def _conditions(layer: LayerSpec, query: ItemsQuery, queryables: dict[str, str]) -> tuple[
    list[sql.Composable], dict[str, Any]
]:
    translator = SqlFilter(queryables)
    conditions: list[sql.Composable] = []
    if query.bbox is not None:
        envelope = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
            *(translator.literal(v) for v in query.bbox))
        conditions.append(sql.SQL("ST_Intersects(geom, {})").format(envelope))
    if query.time is not None:
        # A date field compares as dates (each feature's day meets the interval), never as a
        # timestamp in the session's time zone.
        column = sql.Identifier(layer.time_field)
        kind = _time_type(layer)
        for bound, op in ((query.time.start, ">="), (query.time.end, "<=")):
            if bound is not None:
                conditions.append(sql.SQL("{} " + op + " {}").format(
                    column, translator.literal(utc_day(bound) if kind == "date" else bound)))
    for name, value in query.equals:
        conditions.append(translator.compare(translator.attribute(name), "=", value, queryables[name],
                                             parameter=name))
    if query.filter is not None:
        conditions.append(translator.translate(bounded(query.filter)))
    return conditions, translator.params


def _where(conditions: list[sql.Composable]) -> sql.Composable:
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


def _order(query: ItemsQuery) -> sql.Composable:
    keys = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL("ASC" if asc else "DESC"))
            for name, asc in query.sortby if name != "id"]
    keys.append(sql.SQL("id ASC"))
    return sql.SQL(", ").join(keys)


def output_fields(layer: LayerSpec, query: ItemsQuery, visible: tuple[FieldSpec, ...]) -> list[str]:
    """The properties a response carries: the requested subset of the visible fields."""
    names = [f.name for f in visible]
    if query.properties is None:
        return names
    return [n for n in query.properties if n in names]


class PageCache:
    """Exact counts and deep-page anchors, valid while a layer's data version is unchanged.

    ``feature_counts.version`` moves with every insert, update, delete or truncate (triggers),
    so a cached value is never served for data that has changed since it was computed.
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
    "(SELECT n FROM feature_counts WHERE layer = %(_layer)s), "
    "(SELECT version FROM feature_counts WHERE layer = %(_layer)s) "
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
    conditions, params = _conditions(layer, query, queryable_fields(layer, visible))
    table = sql.Identifier(layer.id)
    where = _where(conditions)
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
        if anchor == -1:
            conditions = [*conditions, sql.SQL("FALSE")]
        else:
            conditions = [*conditions, sql.SQL("id >= {}").format(sql.Literal(anchor))]
        offset -= anchor_at
    page = sql.SQL(_PAGE).format(
        order=_order(query), table=table, where=_where(conditions),
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
