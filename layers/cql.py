"""CQL2 filters (text and JSON) parsed with pygeofilter and translated to parameterised SQL.

Only identifiers are composed (``psycopg2.sql.Identifier``) and only queryable fields may be
named; every literal travels as a bound parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from psycopg2 import sql
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from pygeofilter.parsers.ecql import parse as parse_ecql
from shapely.geometry import box, shape

from gis_core.errors import InvalidParameterError, invalid_parameter

FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text", "cql-json")
_SPATIAL = {
    "INTERSECTS": "ST_Intersects", "DISJOINT": "ST_Disjoint", "CONTAINS": "ST_Contains",
    "WITHIN": "ST_Within", "TOUCHES": "ST_Touches", "CROSSES": "ST_Crosses",
    "OVERLAPS": "ST_Overlaps", "EQUALS": "ST_Equals",
}
_S_PREFIX = re.compile(r"\bS_(INTERSECTS|DISJOINT|CONTAINS|WITHIN|TOUCHES|CROSSES|OVERLAPS|EQUALS)\s*\(",
                       re.IGNORECASE)
_TEMPORAL = {"AFTER": ">", "BEFORE": "<", "TEQUALS": "="}
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ONE_DAY = timedelta(days=1)
# Bounds on a filter: its text, its parts (operators, properties, values) and their nesting.
# 2,000 ANDed comparisons parse in about half a second and nest past Python's recursion limit.
MAX_FILTER_CHARS = 20_000
MAX_FILTER_PARTS = 1_000
MAX_FILTER_DEPTH = 100
_BIGINT = 2**63 - 1
# Field types that compare with one another: a comparison across families is refused here rather
# than left for PostgreSQL to fail on ("operator does not exist: integer = text").
_FAMILY = {"integer": "number", "number": "number", "text": "text", "text[]": "text",
           "date": "time", "datetime": "time", "boolean": "boolean"}
_TEXT_FUNCTIONS = ("lower", "casei", "upper")
_TIME_FUNCTIONS = ("date", "timestamp")


def parse_instant(text: str) -> date | datetime:
    """An RFC 3339 date (``2025-07-01``) or date-time; a date-time without offset is UTC."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day_start(day: date) -> datetime:
    """The first instant of ``day`` (UTC)."""
    return datetime.combine(day, time.min, UTC)


def day_end(day: date) -> datetime:
    """The last instant of ``day`` (UTC), to the microsecond PostgreSQL keeps."""
    return datetime.combine(day, time.max, UTC)


def utc_day(instant: datetime) -> date:
    """The UTC calendar day an instant falls on."""
    return instant.astimezone(UTC).date()


def _whole_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)



def parse_filter(text: str, lang: str | None) -> ast.Node:
    """Parse a filter in ``lang`` (default cql2-text) to a pygeofilter AST; 400 when malformed."""
    lang = (lang or "cql2-text").lower()
    if len(text) > MAX_FILTER_CHARS:
        raise invalid_parameter("filter",
                                f"dài {len(text):,} ký tự, tối đa {MAX_FILTER_CHARS:,}; hãy thu gọn bộ lọc "
                                "(dùng IN (…), BETWEEN hoặc bbox).",
                                f"it is {len(text):,} characters long, at most {MAX_FILTER_CHARS:,}; shorten "
                                "it (use IN (…), BETWEEN or bbox).")
    if lang not in FILTER_LANGS:
        raise InvalidParameterError(
            f"Tham số 'filter-lang' không hợp lệ: '{lang}'. Hỗ trợ: {', '.join(FILTER_LANGS)}.",
            message_en=f"Parameter 'filter-lang' is invalid: '{lang}'. "
            f"Supported: {', '.join(FILTER_LANGS)}.",
            parameter="filter-lang",
        )
    if lang.endswith("json"):
        try:
            return bounded(parse_cql2_json(json.loads(text)))
        except RecursionError:
            raise _too_deep() from None
        except InvalidParameterError:
            raise
        except Exception as err:  # noqa: BLE001 - any parser failure is the client's input
            raise invalid_parameter("filter", "không phải CQL2 JSON hợp lệ.", "not valid CQL2 JSON.") from err
    # pygeofilter's CQL2-text grammar lacks IS NULL, BETWEEN and booleans, its ECQL grammar
    # lacks the S_ names: try the first, then the second with the S_ prefix removed.
    try:
        return bounded(parse_cql2_text(text))
    except RecursionError:
        raise _too_deep() from None
    except InvalidParameterError:
        raise
    except Exception:  # noqa: BLE001
        pass
    try:
        return bounded(parse_ecql(_S_PREFIX.sub(lambda m: f"{m.group(1).upper()}(", text)))
    except RecursionError:
        raise _too_deep() from None
    except InvalidParameterError:
        raise
    except Exception as err:  # noqa: BLE001
        shown = text if len(text) <= 200 else f"{text[:200]}…"
        raise invalid_parameter("filter", f"không phân tích được biểu thức '{shown}'.",
                                f"cannot parse the expression '{shown}'.") from err


def _too_deep() -> InvalidParameterError:
    return invalid_parameter(
        "filter",
        f"lồng quá sâu hoặc quá nhiều điều kiện (tối đa {MAX_FILTER_DEPTH} tầng, "
        f"{MAX_FILTER_PARTS} thành phần); dùng IN (…) thay cho nhiều phép so sánh nối "
        "bằng OR, BETWEEN thay cho cặp so sánh, hoặc chia thành nhiều truy vấn.",
        f"it nests too deeply or has too many parts (at most {MAX_FILTER_DEPTH} levels, "
        f"{MAX_FILTER_PARTS} parts); use IN (…) instead of many ORed comparisons, BETWEEN "
        "instead of pairs of comparisons, or split it into several queries.",
    )


def bounded(node: ast.Node) -> ast.Node:
    """``node`` itself, when the filter it roots stays within the part and depth limits (else 400)."""
    parts, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        parts += 1
        if depth > MAX_FILTER_DEPTH or parts > MAX_FILTER_PARTS:
            raise _too_deep()
        if isinstance(current, list | tuple):
            stack.extend((c, depth + 1) for c in current)
        elif isinstance(current, ast.Node):
            stack.extend((c, depth + 1) for c in vars(current).values())
    return node


def _out_of_range(value: Any, parameter: str, integer: bool = False) -> InvalidParameterError:
    limit = f"±{_BIGINT:,}" if integer else "±1.8e308"
    return invalid_parameter(parameter,
                             f"số '{value}' nằm ngoài miền giá trị (trong khoảng {limit}); hãy dùng một số "
                             "nhỏ hơn.",
                             f"the number '{value}' is out of range (within {limit}); use a "
                             "smaller number.")


class SqlFilter:
    """Translate a pygeofilter AST into a SQL condition with bound parameters."""

    def __init__(self, fields: Mapping[str, str], geometry_column: str = "geom"):
        """``fields`` maps each queryable name to its type in the layer declaration."""
        self.fields = fields
        self.geometry_column = geometry_column
        self.params: dict[str, Any] = {}

    def translate(self, node: Any) -> sql.Composable:
        """The SQL condition for ``node``; parameters accumulate in ``self.params``."""
        if isinstance(node, ast.Not):
            return sql.SQL("NOT ({})").format(self.translate(node.sub_node))
        if isinstance(node, ast.Combination):
            op = sql.SQL(" AND " if node.op is ast.CombinationOp.AND else " OR ")
            return sql.SQL("({})").format(
                op.join([self.translate(node.lhs), self.translate(node.rhs)]))
        if isinstance(node, ast.Comparison):
            self.needs_property(node.lhs, node.rhs)
            return self.comparison(node.lhs, node.op.value, node.rhs)
        if isinstance(node, ast.Between):
            self.needs_property(node.lhs)
            kind = self.kind(node.lhs)
            if kind in ("date", "datetime"):
                between = sql.SQL("({} AND {})").format(
                    self.comparison(node.lhs, ">=", node.low),
                    self.comparison(node.lhs, "<=", node.high))
                return sql.SQL("NOT {}").format(between) if node.not_ else between
            return sql.SQL("{} {}BETWEEN {} AND {}").format(
                self.scalar(node.lhs), sql.SQL("NOT " if node.not_ else ""),
                self.scalar(node.low, kind), self.scalar(node.high, kind))
        if isinstance(node, ast.Like):
            pattern = node.pattern
            if not isinstance(pattern, str):
                raise invalid_parameter(
                    "filter",
                    "mẫu của LIKE phải là một chuỗi (ví dụ name LIKE 'Bản%'), không phải "
                    "một trường hay biểu thức.",
                    "the pattern of LIKE must be a text value (e.g. name LIKE 'Bản%'), not "
                    "a property or an expression.",
                )
            if node.wildcard != "%":
                pattern = pattern.replace(node.wildcard, "%")
            if node.singlechar != "_":
                pattern = pattern.replace(node.singlechar, "_")
            self.needs_property(node.lhs)
            keyword = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
            return sql.SQL("{} " + keyword + " {}").format(
                self.scalar(node.lhs, "text"), self.literal(pattern))
        if isinstance(node, ast.In):
            self.needs_property(node.lhs)
            kind = self.kind(node.lhs)
            return sql.SQL("{} {}IN ({})").format(
                self.scalar(node.lhs), sql.SQL("NOT " if node.not_ else ""),
                sql.SQL(", ").join(self.scalar(v, kind) for v in node.sub_nodes))
        if isinstance(node, ast.IsNull):
            return sql.SQL("{} IS {}NULL").format(
                self.scalar(node.lhs), sql.SQL("NOT " if node.not_ else ""))
        if isinstance(node, ast.SpatialComparisonPredicate):
            function = sql.SQL(_SPATIAL[node.op.value])
            return sql.SQL("{}({}, {})").format(
                function, self.spatial(node.lhs), self.spatial(node.rhs))
        if isinstance(node, ast.BBox):
            return sql.SQL("ST_Intersects({}, {})").format(
                self.spatial(node.lhs), self.geometry(box(node.minx, node.miny, node.maxx, node.maxy)))
        if isinstance(node, ast.TemporalPredicate) and node.op.value in _TEMPORAL:
            self.needs_property(node.lhs)
            return self.comparison(node.lhs, _TEMPORAL[node.op.value], node.rhs)
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        raise invalid_parameter("filter", f"phép toán '{type(node).__name__}' chưa được hỗ trợ.",
                                f"the operation '{type(node).__name__}' is not supported.")

    def comparison(self, lhs: Any, op: str, rhs: Any) -> sql.Composable:
        """``lhs op rhs``; an attribute against a literal goes through ``compare``."""
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, op, rhs = rhs, _FLIPPED[op], lhs
        kind = self.kind(lhs) or self.kind(rhs)
        if isinstance(lhs, ast.Attribute) and not isinstance(rhs, ast.Attribute | ast.Function):
            return self.compare(self.attribute(lhs.name), op, rhs, kind)
        if (isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Function)
                and rhs.name.lower() in ("date", "timestamp") and len(rhs.arguments) == 1):
            return self.compare(self.attribute(lhs.name), op, self.temporal_literal(rhs), kind)
        return sql.SQL("{} " + op + " {}").format(self.scalar(lhs, kind), self.scalar(rhs, kind))

    def compare(self, column: sql.Composable, op: str, value: Any, kind: str | None,
                parameter: str = "filter") -> sql.Composable:
        """``column op value`` with the literal fitted to the field's ``kind``.

        Time is compared by meaning, not by the session's time zone: a date field against an
        instant compares with the instant's UTC day; a date-time field against a date compares
        with that whole day (``= 2025-07-01`` is any instant of the day).
        """
        if kind in ("date", "datetime"):
            value = self.temporal(value, parameter)
            if kind == "date":
                value = utc_day(value) if isinstance(value, datetime) else value
            elif _whole_day(value):
                start, after = day_start(value), day_start(value + _ONE_DAY)
                if op in ("=", "<>"):
                    within = sql.SQL("({} >= {} AND {} < {})").format(
                        column, self.literal(start), column, self.literal(after))
                    return within if op == "=" else sql.SQL("NOT {}").format(within)
                bound = {"<": ("<", start), "<=": ("<", after), ">": (">=", after),
                         ">=": (">=", start)}[op]
                return sql.SQL("{} " + bound[0] + " {}").format(column, self.literal(bound[1]))
            return sql.SQL("{} " + op + " {}").format(column, self.literal(value))
        return sql.SQL("{} " + op + " {}").format(
            column, self.literal(self.coerce(value, kind, parameter)))

    def temporal(self, value: Any, parameter: str = "filter") -> date | datetime:
        """A date or an aware date-time from a literal; 400 when it is neither."""
        try:
            if isinstance(value, str):
                return parse_instant(value)
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=UTC)
            if isinstance(value, date):
                return value
        except ValueError:
            pass
        raise invalid_parameter(parameter, f"giá trị '{value}' không phải ngày hoặc thời điểm RFC 3339.",
                                f"the value '{value}' is not an RFC 3339 date or date-time.")

    def temporal_literal(self, node: ast.Function) -> date | datetime:
        """The value of ``DATE('…')`` or ``TIMESTAMP('…')``."""
        return self.temporal(str(node.arguments[0]))

    def attribute(self, name: str) -> sql.Composable:
        """A queryable column; 400 for any other name."""
        if name not in self.fields:
            raise invalid_parameter("filter",
                                    f"trường '{name}' không có trong danh sách truy vấn được (queryables).",
                                    f"the property '{name}' is not queryable.")
        return sql.Identifier(name)

    def literal(self, value: Any) -> sql.Composable:
        """A bound parameter."""
        key = f"f{len(self.params)}"
        self.params[key] = value
        return sql.Placeholder(key)

    def kind(self, node: Any) -> str | None:
        """The type of a property or function operand (a literal adapts: None)."""
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name in _TEXT_FUNCTIONS:
                return "text"
            if name in _TIME_FUNCTIONS:
                return "datetime"
            return self.kind(node.arguments[0]) if len(node.arguments) == 1 else None
        return self.fields.get(node.name) if isinstance(node, ast.Attribute) else None

    def needs_property(self, *operands: Any) -> None:
        """400 unless one of ``operands`` names a property: comparing two values filters nothing."""
        def names(node: Any) -> bool:
            return isinstance(node, ast.Attribute) or (
                isinstance(node, ast.Function) and any(names(a) for a in node.arguments))

        if not any(names(o) for o in operands):
            raise invalid_parameter("filter",
                                    "mỗi phép so sánh cần một trường ở một vế (ví dụ students > 300).",
                                    "each comparison needs a property on one side (e.g. students > 300).")

    def _fits(self, name: str, have: str | None, want: str | None) -> None:
        if have and want and _FAMILY.get(have) != _FAMILY.get(want):
            raise invalid_parameter(
                "filter",
                f"'{name}' (kiểu {have}) không so sánh được với giá trị kiểu {want}; hãy so "
                "sánh với giá trị cùng kiểu.",
                f"'{name}' ({have}) cannot be compared with a {want} value; compare it "
                "with a value of its own type.",
            )

    def coerce(self, value: Any, kind: str | None, parameter: str = "filter") -> Any:
        """Fit a literal to the type of the field it is compared with; 400 (naming ``parameter``)
        if it cannot fit."""
        if isinstance(value, float) and not math.isfinite(value):
            raise _out_of_range(value, parameter)
        try:
            if kind == "text" or kind == "text[]":
                return value if isinstance(value, str) else str(value)
            if kind in ("integer", "number") and not isinstance(value, bool):
                number = float(value)
                if not math.isfinite(number):
                    raise _out_of_range(value, parameter)
                if kind == "number" or not number.is_integer():
                    return number
                if abs(number) > _BIGINT:
                    raise _out_of_range(value, parameter, integer=True)
                return int(Decimal(str(value).strip()))
            if kind in ("date", "datetime"):
                value = self.temporal(value, parameter)
                if kind == "date":
                    return utc_day(value) if isinstance(value, datetime) else value
                return day_start(value) if _whole_day(value) else value
            if kind == "boolean" and not isinstance(value, bool):
                raise ValueError(value)
        except (TypeError, ValueError, ArithmeticError) as err:
            raise invalid_parameter(parameter, f"giá trị '{value}' không hợp với kiểu '{kind}' của trường.",
                                    f"the value '{value}' does not fit the field's type '{kind}'.") from err
        return value

    def scalar(self, node: Any, kind: str | None = None) -> sql.Composable:
        """An attribute, a literal (coerced to ``kind``) or a supported function call."""
        if isinstance(node, ast.Attribute):
            column = self.attribute(node.name)
            self._fits(node.name, self.fields[node.name], kind)
            return column
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name in _TEXT_FUNCTIONS and len(node.arguments) == 1:
                self._fits(f"{node.name}()", "text", kind)
                return sql.SQL("lower({})").format(self.scalar(node.arguments[0], "text"))
            if name in _TIME_FUNCTIONS and len(node.arguments) == 1:
                self._fits(f"{node.name}()", "datetime", kind)
                return self.literal(self.coerce(self.temporal_literal(node), kind or "datetime"))
            raise invalid_parameter("filter", f"hàm '{node.name}' chưa được hỗ trợ.",
                                    f"the function '{node.name}' is not supported.")
        if isinstance(node, values.Interval):
            raise invalid_parameter("filter", "khoảng thời gian chỉ dùng với T_DURING.",
                                    "intervals need T_DURING.")
        if isinstance(node, str | int | float | bool | date | datetime):
            return self.literal(self.coerce(node, kind))
        raise invalid_parameter("filter", f"giá trị '{node}' không hợp lệ.",
                                f"the value '{node}' is not valid.")

    def spatial(self, node: Any) -> sql.Composable:
        """The geometry column, a literal geometry or an envelope (CRS84)."""
        if isinstance(node, ast.Attribute):
            if node.name not in (self.geometry_column, "geometry"):
                raise invalid_parameter("filter", f"'{node.name}' không phải trường hình học.",
                                        f"'{node.name}' is not the geometry property.")
            return sql.Identifier(self.geometry_column)
        if isinstance(node, values.Geometry):
            try:
                geom = shape(node.geometry)
            except (ValueError, TypeError, KeyError) as err:
                raise invalid_parameter("filter", "hình học trong bộ lọc sai cấu trúc.",
                                        "the filter's geometry is malformed.") from err
            return self.geometry(geom)
        if isinstance(node, values.Envelope):
            return self.geometry(box(node.x1, node.y1, node.x2, node.y2))
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            return self.geometry(box(*[float(a) for a in node.arguments]))
        raise invalid_parameter("filter", "toán hạng không gian không hợp lệ.", "invalid spatial operand.")

    def geometry(self, geom: Any) -> sql.Composable:
        """A literal geometry in CRS84, as WKB with SRID 4326."""
        if not geom.is_valid:
            raise invalid_parameter("filter",
                                    "hình học trong bộ lọc không hợp lệ (tự cắt hoặc sai cấu trúc).",
                                    "the filter's geometry is invalid (self-intersecting or malformed).")
        return sql.SQL("ST_GeomFromWKB({}, 4326)").format(self.literal(geom.wkb))
