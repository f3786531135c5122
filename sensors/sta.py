"""OGC SensorThings API 1.1, read side: resource paths and query options to SQL, rows to JSON.

Conformance claimed: the Sensing Core (read), Filtering Extension ($filter, $orderby, $top,
$skip, $count, $select, $expand with nested options) and the ``@iot.nextLink`` paging. Served
beyond them, without claiming the whole classes: ``CreateObservations`` of the data-array
extension (not ``$resultFormat=dataArray``; ``api/routes/sta.py``) and the MQTT topics of a
datastream's new observations (``sensors.sta_mqtt``). Not claimed: HistoricalLocations,
MultiDatastreams, ``$value`` and property paths, geospatial functions in ``$filter``, other writes.
"""

# ruff: noqa: S608 - identifiers come from sensors.sta_model only; values are parameters
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from gis_core.errors import InvalidParameterError, NotFoundError
from sensors.sta_filter import compile_filter, json_paths
from sensors.sta_model import SETS, EntitySet

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
]
SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((\d+)\))?$")
DEFAULT_TOP = 100


def _bad(vi: str, en: str, parameter: str | None = None) -> InvalidParameterError:
    return InvalidParameterError(vi, message_en=en, parameter=parameter)


@dataclass
class Options:
    """The query options of a request or of one ``$expand`` item."""

    filter: str | None = None
    orderby: str | None = None
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    select: list[str] | None = None
    expand: list[tuple[str, Options]] = field(default_factory=list)


def _split(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, c in enumerate(text):
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        elif not quoted and depth == 0 and c == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _int(name: str, value: str, limit: int) -> int:
    if not value.isdigit() or int(value) > limit:
        raise _bad(f"{name} phải là số nguyên từ 0 đến {limit}.",
                   f"{name} must be an integer from 0 to {limit}.", name)
    return int(value)


def options(params: dict[str, str], max_top: int) -> Options:
    """Query options from request parameters (or one nested ``$expand`` option list)."""
    known = {"$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand"}
    for key in params:
        if key.startswith("$") and key not in known:
            raise _bad(f"Không hỗ trợ tùy chọn {key}.", f"Query option {key} is not supported.", key)
    o = Options(filter=params.get("$filter"), orderby=params.get("$orderby"))
    if "$top" in params:
        o.top = _int("$top", params["$top"], max_top)
    if "$skip" in params:
        o.skip = _int("$skip", params["$skip"], 10**9)
    if params.get("$count", "false") not in ("true", "false"):
        raise _bad("$count phải là true hoặc false.", "$count must be true or false.", "$count")
    o.count = params.get("$count") == "true"
    if params.get("$select"):
        o.select = [s.strip() for s in params["$select"].split(",") if s.strip()]
    for item in _split(params.get("$expand", ""), ","):
        o.expand.append(_expand_item(item, max_top))
    return o


def _expand_item(item: str, max_top: int) -> tuple[str, Options]:
    """``Datastreams($top=1;$orderby=id)/Observations`` → ("Datastreams", options with the rest)."""
    depth, cut = 0, len(item)
    for i, c in enumerate(item):
        depth += (c == "(") - (c == ")")
        if c == "/" and depth == 0:
            cut = i
            break
    head, tail = item[:cut], item[cut + 1:]
    name, nested = head, {}
    if "(" in head and head.endswith(")"):
        name = head[:head.index("(")]
        for part in _split(head[head.index("(") + 1:-1], ";"):
            key, eq, value = part.partition("=")
            if not eq:
                raise _bad(f"$expand không hợp lệ: {item!r}", f"Invalid $expand: {item!r}", "$expand")
            nested[key.strip()] = value.strip()
    if tail:
        nested["$expand"] = f"{nested['$expand']},{tail}" if "$expand" in nested else tail
    return name.strip(), options(nested, max_top)


def iso_time(t: datetime | None) -> str | None:
    """An instant as SensorThings writes it (UTC, ``Z``)."""
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Reader:
    """Answers GET requests on ``/sta/v1.1/...`` with a psycopg2 cursor."""

    def __init__(self, cursor: Any, base_url: str, max_top: int = 10_000):
        self.cursor = cursor
        self.base = base_url.rstrip("/")
        self.max_top = max_top

    # -- resolving property paths -------------------------------------------------------------
    def _resolve(self, es: EntitySet, alias: str, path: list[str], depth: int = 0
                 ) -> tuple[str, str | None]:
        head = path[0]
        if len(path) == 1 and (head == "id" or head in es.properties) and head not in es.json:
            return f'{alias}."{head}"', None
        if head in es.json and len(path) > 1:
            return json_paths(f'{alias}."{head}"', path[1:])
        nav = es.nav.get(head)
        if nav is not None and not nav.many and len(path) > 1:
            if path[1:] == ["id"] and nav.remote == "id":
                return f'{alias}."{nav.local}"', None
            target, sub = SETS[nav.target], f"t{depth}"
            text, numeric = self._resolve(target, sub, path[1:], depth + 1)
            where = f'FROM ({target.sql}) {sub} WHERE {sub}."{nav.remote}" = {alias}."{nav.local}"'
            return (f"(SELECT {text} {where})",
                    f"(SELECT {numeric} {where})" if numeric else None)
        raise _bad(f"{es.name} không có thuộc tính {'/'.join(path)!r}.",
                   f"{es.name} has no property {'/'.join(path)!r}.", "$filter")

    def _where(self, es: EntitySet, o: Options) -> tuple[str, list[Any]]:
        if not o.filter:
            return "TRUE", []
        return compile_filter(o.filter, lambda p: self._resolve(es, "e", p))

    def _order(self, es: EntitySet, o: Options) -> str:
        terms = []
        for item in _split(o.orderby or "", ","):
            words = item.split()
            if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise _bad(f"$orderby không hợp lệ: {item!r}", f"Invalid $orderby: {item!r}", "$orderby")
            text, numeric = self._resolve(es, "e", words[0].split("/"))
            direction = words[1].upper() if len(words) == 2 else "ASC"
            # A JSON property sorts as a number where it is one, else as text.
            terms += [f"{numeric} {direction}"] if numeric else []
            terms.append(f"{text} {direction}")
        return ", ".join([*terms, 'e."id" ASC'])

    # -- rows to JSON -----------------------------------------------------------------------
    def _render(self, es: EntitySet, row: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
        link = f"{self.base}/{es.name}({row['id']})"
        out: dict[str, Any] = {"@iot.id": row["id"], "@iot.selfLink": link}
        for p in es.properties:
            value = row[p]
            out[p] = iso_time(value) if p in es.times else value
        if es.name == "Datastreams" and row["first_time"] is not None:
            out["phenomenonTime"] = f"{iso_time(row['first_time'])}/{iso_time(row['last_time'])}"
        for name in es.nav:
            out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
        if select:
            keep = {("@iot.id" if s == "id" else s) for s in select}
            out = {k: v for k, v in out.items() if k in keep or k.split("@")[0] in keep}
        return out

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        self.cursor.execute(sql, params)
        names = [d[0] for d in self.cursor.description]
        return [dict(zip(names, r, strict=True)) for r in self.cursor.fetchall()]

    def _expand(self, es: EntitySet, rows: list[dict[str, Any]], out: list[dict[str, Any]],
                o: Options) -> None:
        for name, sub in o.expand:
            nav = es.nav.get(name)
            if nav is None:
                raise _bad(f"{es.name} không có liên kết {name!r} để $expand.",
                           f"{es.name} has no navigation property {name!r} to $expand.", "$expand")
            target = SETS[nav.target]
            where, params = self._where(target, sub)
            cols = ", ".join(f'x."{c}"' for c in target.columns())
            limit = sub.top + 1 if nav.many else 1
            found = self._rows(
                f"SELECT p.pid AS parent_key, {cols} FROM unnest(%s::bigint[]) AS p(pid) "
                f"CROSS JOIN LATERAL (SELECT * FROM ({target.sql}) e WHERE e.\"{nav.remote}\" = p.pid "
                f"AND {where} ORDER BY {self._order(target, sub)} LIMIT {limit} "
                f"OFFSET {sub.skip if nav.many else 0}) x",
                [list({r[nav.local] for r in rows if r[nav.local] is not None}), *params])
            groups: dict[int, list[dict[str, Any]]] = {}
            for r in found:
                groups.setdefault(r.pop("parent_key"), []).append(r)
            for row, doc in zip(rows, out, strict=True):
                children = groups.get(row[nav.local], [])
                page = children[:sub.top] if nav.many else children[:1]
                rendered = [self._render(target, c, sub.select) for c in page]
                self._expand(target, page, rendered, sub)
                if nav.many:
                    doc[name] = rendered
                    if len(children) > sub.top:
                        doc[f"{name}@iot.nextLink"] = (
                            f"{self.base}/{es.name}({row['id']})/{name}?" + urlencode({"$top": sub.top,
                                                                          "$skip": sub.skip + sub.top}))
                elif rendered:
                    doc[name] = rendered[0]

    # -- requests ---------------------------------------------------------------------------
    def root(self) -> dict[str, Any]:
        """The service root: entity sets and the conformance classes claimed."""
        return {"value": [{"name": n, "url": f"{self.base}/{n}"} for n in SETS],
                "serverSettings": {"conformance": CONFORMANCE}}

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """The entity or collection at ``path`` (``Things(1)/Datastreams``) under ``params``."""
        o = options(params, self.max_top)
        segments = [SEGMENT.match(s) for s in path.strip("/").split("/")]
        if not segments or any(m is None for m in segments):
            raise NotFoundError(f"Không có tài nguyên {path!r}.", message_en=f"No resource {path!r}.")
        first = segments[0]
        es = SETS.get(first.group(1))
        if es is None:
            raise NotFoundError(f"Không có tập thực thể {first.group(1)!r}.",
                                message_en=f"No entity set {first.group(1)!r}.")
        conds, args, single = [], [], first.group(2) is not None
        if single:
            conds.append('e."id" = %s')
            args.append(int(first.group(2)))
        for m in segments[1:]:
            nav = es.nav.get(m.group(1))
            if nav is None:
                raise NotFoundError(f"{es.name} không có liên kết {m.group(1)!r}.",
                                    message_en=f"{es.name} has no navigation property {m.group(1)!r}.")
            parent = f'SELECT e."{nav.local}" FROM ({es.sql}) e WHERE ' + (" AND ".join(conds) or "TRUE")
            es = SETS[nav.target]
            conds = [f'e."{nav.remote}" IN ({parent})']
            single = not nav.many
            if m.group(2) is not None:
                conds.append('e."id" = %s')
                args.append(int(m.group(2)))
                single = True
        where = " AND ".join(conds) or "TRUE"
        filt, fargs = self._where(es, o)
        cols = ", ".join(f'e."{c}"' for c in es.columns())
        base_sql = f"FROM ({es.sql}) e WHERE {where} AND {filt}"
        limit = 1 if single else o.top + 1
        rows = self._rows(f"SELECT {cols} {base_sql} ORDER BY {self._order(es, o)} LIMIT {limit} "
                          f"OFFSET {0 if single else o.skip}", [*args, *fargs])
        if single:
            if not rows:
                raise NotFoundError(f"Không tìm thấy {path}.", message_en=f"{path} not found.")
            doc = [self._render(es, rows[0], o.select)]
            self._expand(es, rows, doc, o)
            return doc[0]
        page = rows[:o.top]
        docs = [self._render(es, r, o.select) for r in page]
        self._expand(es, page, docs, o)
        result: dict[str, Any] = {}
        if o.count:
            self.cursor.execute(f"SELECT count(*) {base_sql}", [*args, *fargs])
            result["@iot.count"] = self.cursor.fetchone()[0]
        if len(rows) > o.top:
            result["@iot.nextLink"] = f"{self.base}/{path.strip('/')}?" + urlencode(
                {**params, "$top": o.top, "$skip": o.skip + o.top})
        result["value"] = docs
        return result
