"""The items fast path in front of pygeoapi: GeoJSON pages built in PostGIS, passed as bytes.

pygeoapi keeps everything else (landing page, collections, queryables, OpenAPI, HTML). This
layer also fixes where stock pygeoapi falls short of the standard: items are served as
``application/geo+json``, a malformed feature id is a 404, CQL2 names are understood, and a
``bbox-crs`` box is transformed with its edges densified, not only its corners.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from psycopg2 import sql
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import current_principal
from api.errors import ioc_error_response
from api.ogc_writes import handle_write
from api.visibility import (
    audit_personal_read,
    hidden_fields_asked,
    names_asked,
    refuse_hidden_parameters,
)
from gis_core.crs import OutputCrs, parse_crs
from gis_core.db import read_cursor
from gis_core.errors import (
    IocError,
    MethodNotAllowedError,
    NotFoundError,
    invalid_parameter,
)
from governance.access import (
    Principal,
    personal_names,
    require_features,
    visible_specs,
    write_mode,
)
from governance.feature_versions import ROW_HASH
from layers.features import PageCache, feature_sql, fetch_items, output_fields
from layers.items import CRS84, parse_items_query
from layers.registry import get_layer, require_layer
from layers.spec import FieldSpec, LayerSpec

GEOJSON = "application/geo+json"
_COLLECTION = re.compile(r"^/collections/([^/]+)(/.*)?$")
_ITEMS = re.compile(r"^/items(?:/([^/]+))?/?$")


def _wants_json(request: Request) -> bool:
    fmt = request.query_params.get("f")
    if fmt is not None:
        return fmt.lower() in ("json", "geojson")
    # Browsers ask for text/html first; GIS clients ask for (geo+)json.
    return "text/html" not in request.headers.get("accept", "")


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context (contextvars included).

    pygeoapi runs its handlers with ``loop.run_in_executor(None, ...)``, which drops the
    context; this pool, set as the loop's default executor, carries the caller's principal
    through to the feature provider.
    """

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


_LOOPS: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _carry_context_into_executor() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _LOOPS:
        loop.set_default_executor(ContextThreadPool(thread_name_prefix="ioc-ogc"))
        _LOOPS.add(loop)


def _options(principal: Principal, layer: LayerSpec, item: str | None) -> Response:
    """What this caller may do here (``Allow``): how QGIS decides whether a layer is editable.

    Anonymous callers and readers see the reads; writers (applied or pending) the writes too.
    """
    methods = ["GET", "HEAD", "OPTIONS"]
    if write_mode(principal, layer) is not None:
        methods += ["POST"] if item is None else ["PUT", "PATCH", "DELETE"]
    headers = {"Allow": ", ".join(methods)}
    if item is not None and "PATCH" in methods:
        headers["Accept-Patch"] = "application/merge-patch+json"
    return Response(status_code=204, headers=headers)


_ITEM_STATEMENTS: dict[tuple[str, tuple[str, ...], str], str] = {}


def _item_statement(cursor: Any, layer: LayerSpec, visible: tuple[FieldSpec, ...],
                    crs: OutputCrs) -> str:
    """One feature as GeoJSON text and the version hash of its whole row (its ETag), in one
    statement (``fetch_item`` and ``etag_sql`` together), composed once per fields and CRS."""
    fields = tuple(f.name for f in visible)
    key = (layer.id, fields, crs.uri)
    statement = _ITEM_STATEMENTS.get(key)
    if statement is None:
        statement = _ITEM_STATEMENTS[key] = sql.SQL(
            "SELECT {}::text, {} FROM {} t WHERE id = %(id)s").format(
            feature_sql(list(fields), crs, False), sql.SQL(ROW_HASH),
            sql.Identifier(layer.id)).as_string(cursor)
    return statement


class ItemsFastPath:
    """ASGI wrapper: serve GeoJSON items itself, hand every other request to pygeoapi."""

    def __init__(self, app: ASGIApp, engine: Engine, *, base_url: str, default_limit: int,
                 max_limit: int):
        self.app = app
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.cache = PageCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route GeoJSON items requests to the fast path, the rest to pygeoapi."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path = scope["path"][len(root):] if scope["path"].startswith(root) else scope["path"]
        request = Request(scope, receive)
        try:
            principal = current_principal(request)
        except IocError as err:
            await ioc_error_response(request, err)(scope, receive, send)
            return
        _carry_context_into_executor()
        match = _COLLECTION.match(path)
        response = None if match is None else await self._route(request, principal, match)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _route(self, request: Request, principal: Principal, match: re.Match[str]
                     ) -> Response | None:
        """Answer a request under ``/collections/{id}``, or None to hand it to pygeoapi.

        Every read, whichever path serves it (ours or pygeoapi's pages), first passes the one
        rule on fields the caller may not read.
        """
        items = _ITEMS.match(match.group(2) or "")
        if items is None and get_layer(match.group(1)) is None:
            return None  # pygeoapi answers its own 404
        item = items.group(1) if items else None
        allowed = "GET, HEAD, OPTIONS, POST" if item is None else \
            "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
        method = request.method
        try:
            layer = require_layer(match.group(1))
            if items is not None:
                if method == "OPTIONS":
                    return _options(principal, layer, item)
                if method not in allowed.split(", "):
                    raise MethodNotAllowedError(f"Phương thức {method} không dùng được ở đây.",
                                                message_en=f"Method {method} is not allowed here.")
                if method not in ("GET", "HEAD"):
                    return await handle_write(request, self.engine, principal, layer, item,
                                              base_url=self.base_url)
                require_features(principal, layer)
            if method in ("GET", "HEAD") and hidden_fields_asked(
                    names_asked(request.query_params.multi_items()), layer,
                    visible_specs(principal, layer)):
                # Refused and audited (a database write): only then off the event loop.
                await run_in_threadpool(refuse_hidden_parameters, self.engine, principal, layer,
                                        request.query_params.multi_items())
            if items is None or not _wants_json(request):
                return None
            if item is None:
                return await self._items(request, layer, principal)
            return await self._item(request, layer, item, principal)
        except IocError as err:
            response = ioc_error_response(request, err)
            if isinstance(err, MethodNotAllowedError):
                response.headers["Allow"] = allowed
            return response

    def _with_cursor(self, work: Any) -> Any:
        with read_cursor(self.engine) as cursor:
            return work(cursor)

    async def _items(self, request: Request, layer: LayerSpec, principal: Principal) -> Response:
        params = request.query_params
        visible = visible_specs(principal, layer)
        query = parse_items_query(params.multi_items(), layer, default_limit=self.default_limit,
                                  max_limit=self.max_limit, visible=visible)
        page = await run_in_threadpool(
            self._with_cursor,
            lambda cur: fetch_items(cur, layer, query, visible, cache=self.cache))
        fields = output_fields(layer, query, visible)
        if personal_names(layer) & set(fields) and page.returned:  # ids parsed only for the audit
            ids = [f["id"] for f in orjson.loads(f"[{page.features}]")]
            await run_in_threadpool(
                functools.partial(audit_personal_read, self.engine, principal, layer, fields, len(ids),
                                  via="ogc:items", query=str(request.url.query), ids=ids))
        url = f"{self.base_url}/ogc/collections/{layer.id}/items"
        kept = [(k, v) for k, v in params.multi_items() if k not in ("offset", "f")]

        def href(offset: int | None = None, fmt: str = "json") -> str:
            pairs = [*kept, ("f", fmt)] + ([("offset", str(offset))] if offset else [])
            return f"{url}?{urlencode(pairs)}"

        links = [
            {"href": href(query.offset), "rel": "self", "type": GEOJSON,
             "title": "Trang này (GeoJSON)"},
            {"href": href(query.offset, "html"), "rel": "alternate", "type": "text/html",
             "title": "Trang này (HTML)"},
            {"href": f"{self.base_url}/ogc/collections/{layer.id}", "rel": "collection",
             "type": "application/json", "title": layer.title["vi"]},
        ]
        end = query.offset + page.returned
        more = end < page.matched if page.matched is not None else page.returned == query.limit
        if more and page.returned:
            links.append({"href": href(end), "rel": "next", "type": GEOJSON,
                          "title": "Trang sau"})
        if query.offset > 0:
            links.append({"href": href(max(0, query.offset - query.limit)), "rel": "prev",
                          "type": GEOJSON, "title": "Trang trước"})
        tail: dict[str, Any] = {"numberReturned": page.returned}
        if page.matched is not None:
            tail["numberMatched"] = page.matched
        tail["timeStamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tail["links"] = links
        body = (b'{"type":"FeatureCollection","features":[' + page.features.encode()
                + b"]," + orjson.dumps(tail)[1:])
        return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{query.crs.uri}>"})

    async def _item(self, request: Request, layer: LayerSpec, item: str, principal: Principal
                    ) -> Response:
        params = request.query_params
        unknown = [k for k in params if k not in ("f", "lang", "crs")]
        if unknown:
            raise invalid_parameter(unknown[0], "Tham số không được hỗ trợ ở điểm cuối này.",
                                    "The parameter is not supported by this endpoint.",
                                    value=params[unknown[0]])
        crs = parse_crs(params["crs"], "crs") if "crs" in params else CRS84
        missing = NotFoundError(
            f"Không có đối tượng '{item}' trong lớp '{layer.id}'.",
            message_en=f"There is no feature '{item}' in collection '{layer.id}'.")
        if not item.isdigit() or len(item) > 18:
            raise missing
        visible = visible_specs(principal, layer)

        def read(cur: Any) -> tuple[str, str] | None:
            cur.execute(_item_statement(cur, layer, visible, crs), {"id": int(item)})
            return cur.fetchone()

        row = await run_in_threadpool(self._with_cursor, read)
        if row is None:
            raise missing
        text, etag = row
        fields = [f.name for f in visible]
        if personal_names(layer) & set(fields):  # else nothing to audit: no thread hop
            await run_in_threadpool(
                functools.partial(audit_personal_read, self.engine, principal, layer, fields, 1,
                                  via="ogc:item", query=str(request.url.query), ids=[int(item)]))
        url = f"{self.base_url}/ogc/collections/{layer.id}/items/{item}"
        links = [
            {"href": f"{url}?f=json", "rel": "self", "type": GEOJSON},
            {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html"},
            {"href": f"{self.base_url}/ogc/collections/{layer.id}", "rel": "collection",
             "type": "application/json", "title": layer.title["vi"]},
        ]
        body = text.encode()[:-1] + b',"links":' + orjson.dumps(links) + b"}"
        return Response(body, media_type=GEOJSON,
                        headers={"Content-Crs": f"<{crs.uri}>", "ETag": f'"{etag}"'})
