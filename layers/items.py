"""The items query: request parameters into an ``ItemsQuery``, and its WHERE and ORDER BY.

One reading of the OGC API Features parameters (``limit``, ``offset``, ``bbox``, ``bbox-crs``,
``datetime``, ``filter``, ``sortby``, ``properties``, ``crs``, attribute equality…) for every
path that selects features: the items pages, pygeoapi's provider, the exports and the CLI.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2 import sql
from pygeofilter import ast

from gis_core.bounds import duplicates
from gis_core.crs import CRS84_URI, OutputCrs, bbox_to_crs84, parse_crs
from gis_core.errors import InvalidParameterError, invalid_parameter
from layers.cql import SqlFilter, bounded, day_end, day_start, parse_filter, parse_instant, utc_day
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



@dataclass(frozen=True)
class Where:
    """The SQL conditions of an items query, with the parameters they bind."""

    conditions: tuple[sql.Composable, ...]
    params: dict[str, Any]

    def clause(self, *more: sql.Composable) -> sql.Composable:
        """`` WHERE a AND b …`` (with ``more`` conditions), or nothing when there are none."""
        conditions = (*self.conditions, *more)
        if not conditions:
            return sql.SQL("")
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


def items_where(layer: LayerSpec, query: ItemsQuery, visible: tuple[FieldSpec, ...] | None = None
                ) -> Where:
    """The rows an items query selects (bbox, datetime, equalities, filter) over the fields the
    caller may read (``visible``, default the public ones): the one WHERE of the items pages,
    pygeoapi's provider and the exports."""
    queryables = queryable_fields(layer, visible)
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
    return Where(tuple(conditions), translator.params)


def order_by(query: ItemsQuery) -> sql.Composable:
    """The ORDER BY keys of an items query: its ``sortby``, then ``id`` (a stable order)."""
    keys = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL("ASC" if asc else "DESC"))
            for name, asc in query.sortby if name != "id"]
    keys.append(sql.SQL("id ASC"))
    return sql.SQL(", ").join(keys)


_MAX_INT = 2**31 - 1
_KNOWN = {"f", "lang", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter",
          "filter-lang", "filter-crs", "sortby", "properties", "skipGeometry"}



def _integer(params: dict[str, str], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= _MAX_INT:
        raise invalid_parameter(name, f"Cần một số nguyên từ {minimum} đến {_MAX_INT}.",
                                f"An integer from {minimum} to {_MAX_INT} is required.", value=raw)
    return value


def _bbox(params: dict[str, str], bbox_crs: OutputCrs) -> tuple[float, float, float, float] | None:
    raw = params.get("bbox")
    if raw is None:
        return None
    hint = ("Cần 4 (hoặc 6) số phân cách bằng dấu phẩy: minx,miny,maxx,maxy.",
            "Four (or six) comma-separated numbers are required: minx,miny,maxx,maxy.")
    try:
        numbers = [float(v) for v in raw.split(",")]
    except ValueError:
        raise invalid_parameter("bbox", *hint, value=raw) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise invalid_parameter("bbox", *hint, value=raw)
    if numbers[1] > numbers[3] or numbers[0] > numbers[2]:
        raise invalid_parameter("bbox", "Giá trị nhỏ nhất phải đứng trước giá trị lớn nhất.",
                                "Minimum values must come before maximum values.", value=raw)
    if bbox_crs.uri == CRS84_URI and (
        not -180 <= numbers[0] <= 180 or not -180 <= numbers[2] <= 180
        or not -90 <= numbers[1] <= 90 or not -90 <= numbers[3] <= 90
    ):
        raise invalid_parameter("bbox", "Kinh độ trong [-180, 180], vĩ độ trong [-90, 90].",
                                "Longitudes must lie in [-180, 180], latitudes in [-90, 90].", value=raw)
    try:
        box = bbox_to_crs84(tuple(numbers), bbox_crs)
    except Exception as err:  # noqa: BLE001 - pyproj rejects boxes outside the CRS's area
        raise invalid_parameter("bbox", "Hộp nằm ngoài miền xác định của hệ tọa độ.",
                                "The box lies outside the CRS's area of use.", value=raw) from err
    if not all(math.isfinite(n) for n in box):
        raise invalid_parameter("bbox", "Hộp nằm ngoài miền xác định của hệ tọa độ.",
                                "The box lies outside the CRS's area of use.", value=raw)
    return box


def _names(params: dict[str, str], name: str, allowed: dict[str, str]) -> list[str] | None:
    raw = params.get(name)
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n.lstrip("+-") for n in names if n.lstrip("+-") not in allowed]
    if unknown or not names:
        raise invalid_parameter(name, f"Các trường có thể dùng: {', '.join(sorted(allowed))}.",
                                f"Available properties: {', '.join(sorted(allowed))}.", value=raw)
    repeated = duplicates([n.lstrip("+-") for n in names])
    if repeated:
        raise invalid_parameter(name, f"Mỗi trường chỉ một lần; lặp lại: {', '.join(repeated)}.",
                                f"Name each property once; repeated: {', '.join(repeated)}.", value=raw)
    return names


def parse_items_query(pairs: Iterable[tuple[str, str]], layer: LayerSpec, *, default_limit: int,
                      max_limit: int, visible: tuple[FieldSpec, ...] | None = None) -> ItemsQuery:
    """Validate the items parameters (name, value pairs, as in a query string; a repeated name
    keeps its last value) into an ``ItemsQuery``; 400 naming the parameter.

    The items pages, the exports and ``ioc export`` read their parameters here. Callers first
    refuse a field the caller may not read (403, audited); here such a name is simply not a
    known property.
    """
    pairs = list(pairs)
    params = dict(pairs)
    visible = layer.public_fields if visible is None else visible
    queryables = queryable_fields(layer, visible)
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise invalid_parameter(key.replace("\x00", ""), "Không được chứa ký tự NUL.",
                                    "NUL characters are not allowed.", value=value.replace("\x00", "\\0"))
    unknown = [k for k in params if k not in _KNOWN and k not in queryables]
    if unknown:
        raise invalid_parameter(unknown[0], "Tham số không được hỗ trợ ở điểm cuối này.",
                                "The parameter is not supported by this endpoint.", value=params[unknown[0]])
    crs = parse_crs(params["crs"], "crs") if "crs" in params else CRS84
    if "bbox-crs" in params and "bbox" not in params:
        raise invalid_parameter("bbox-crs", "Cần kèm tham số 'bbox'.", "It needs a 'bbox' parameter.",
                                value=params["bbox-crs"])
    bbox_crs = parse_crs(params["bbox-crs"], "bbox-crs") if "bbox-crs" in params else CRS84
    filter_crs = params.get("filter-crs")
    if filter_crs is not None and parse_crs(filter_crs, "filter-crs").uri != CRS84_URI:
        raise invalid_parameter("filter-crs", "Bộ lọc chỉ nhận tọa độ CRS84.",
                                "Filters take CRS84 coordinates only.", value=filter_crs)
    sortby = _names(params, "sortby", queryables)
    properties = _names(params, "properties", {f.name: f.type for f in visible})
    skip = params.get("skipGeometry", "false").lower()
    if skip not in ("true", "false"):
        raise invalid_parameter("skipGeometry", "Dùng true hoặc false.", "Use true or false.", value=skip)
    return ItemsQuery(
        limit=min(_integer(params, "limit", default_limit, 1), max_limit),
        offset=_integer(params, "offset", 0, 0),
        bbox=_bbox(params, bbox_crs),
        time=parse_datetime(params["datetime"]) if "datetime" in params else None,
        equals=tuple((k, v) for k, v in params.items() if k in queryables),
        filter=parse_filter(params["filter"], params.get("filter-lang"))
        if "filter" in params else None,
        sortby=tuple((n.lstrip("+-"), not n.startswith("-")) for n in sortby or ()),
        properties=tuple(properties) if properties is not None else None,
        skip_geometry=skip == "true",
        crs=crs,
    )


