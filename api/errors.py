"""Render every error as RFC 9457 problem+json, in Vietnamese with the English text beside it;
on the Open311 endpoints (``/open311/``) in the GeoReport v2 error format instead."""

from __future__ import annotations

import logging
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import psycopg2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_core.db import domain_error
from gis_core.errors import IocError
from gis_core.text import without_paths

LOG = logging.getLogger("ioc.api")
PROBLEM = "application/problem+json"
_HTTP_TITLES = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    401: ("Chưa xác thực", "Unauthorized"),
    403: ("Không có quyền", "Forbidden"),
    404: ("Không tìm thấy", "Not found"),
    405: ("Phương thức không được hỗ trợ", "Method not allowed"),
    413: ("Dữ liệu gửi lên quá lớn", "Payload too large"),
    415: ("Định dạng không được hỗ trợ", "Unsupported media type"),
    422: ("Dữ liệu không hợp lệ", "Unprocessable content"),
}

# Where the server keeps files; no message a client reads names a path under them.
SERVER_ROOTS: set[str] = {tempfile.gettempdir(), str(Path(__file__).resolve().parents[1]),
                          sys.prefix, str(Path.home())}


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return without_paths(value, SERVER_ROOTS)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def problem(
    status: int, title: str, detail: str, *, code: str, detail_en: str | None = None,
    parameter: str | None = None, instance: str | None = None,
    extra: dict[str, object] | None = None,
) -> JSONResponse:
    """A problem+json response; ``code`` doubles as the OGC exception code."""
    body = problem_body(status, title, detail, code=code, detail_en=detail_en,
                        parameter=parameter, instance=instance, extra=extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


OPEN311 = "/open311/"


def open311_error(path: str, status: int, description: str) -> Response | None:
    """The GeoReport v2 error answer for a request to ``path`` under ``/open311/`` (None
    elsewhere): ``[{"code", "description"}]`` in JSON, ``<errors><error><code/><description/>``
    in XML when the path asks for ``.xml``."""
    if not path.startswith(OPEN311):
        return None
    description = without_paths(description, SERVER_ROOTS)
    if path.endswith(".xml"):
        top = ET.Element("errors")
        error = ET.SubElement(top, "error")
        ET.SubElement(error, "code").text = str(status)
        ET.SubElement(error, "description").text = description
        body = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(top, encoding="unicode"
                                                                         ).encode()
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    return Response(orjson.dumps([{"code": status, "description": description}]),
                    status_code=status, media_type="application/json; charset=utf-8")


def problem_or_open311(path: str, status: int, title: str, detail: str, *, code: str,
                       detail_en: str | None = None, parameter: str | None = None,
                       extra: dict[str, object] | None = None) -> Response:
    """``problem``, or the GeoReport error when ``path`` is an Open311 endpoint."""
    both = f"{detail} / {detail_en}" if detail_en and detail_en != detail else detail
    return open311_error(path, status, both) or problem(
        status, title, detail, code=code, detail_en=detail_en, parameter=parameter,
        instance=path, extra=extra)


def problem_body(
    status: int, title: str, detail: str, *, code: str, detail_en: str | None = None,
    parameter: str | None = None, instance: str | None = None,
    extra: dict[str, object] | None = None,
) -> dict[str, Any]:
    """The body of a problem, server paths cut (also kept in job results)."""
    body: dict[str, object] = {
        "type": f"urn:laichau-ioc:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "description": detail_en or detail,
    }
    if detail_en:
        body["detail_en"] = detail_en
    if parameter:
        body["parameter"] = parameter
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    return _scrubbed(body)


def ioc_error_response(request: Request, exc: IocError) -> Response:
    """Render a domain error; unsafe ones show a generic message and a request id."""
    if exc.safe:
        response = problem_or_open311(request.url.path, exc.status, exc.title, exc.message,
                                      code=exc.code, detail_en=exc.message_en,
                                      parameter=exc.parameter, extra=exc.extra)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="laichau-ioc"'
        return response
    return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> Response:
    request_id = uuid.uuid4().hex[:12]
    LOG.error("request %s failed: %s %s", request_id, request.method, request.url.path,
              exc_info=exc)
    return problem_or_open311(
        request.url.path, 500, "Lỗi hệ thống",
        f"Đã xảy ra lỗi nội bộ; mã yêu cầu {request_id}. Vui lòng báo cho quản trị viên.",
        detail_en=f"Internal error; request id {request_id}. Please tell the operator.",
        code="internal-error",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    settings = getattr(app.state, "settings", None)
    if settings is not None:
        SERVER_ROOTS.add(str(Path(settings.var_dir).resolve()))

    @app.exception_handler(IocError)
    async def _ioc(request: Request, exc: IocError) -> Response:
        return ioc_error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        vi, en = _HTTP_TITLES.get(exc.status_code, ("Lỗi", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else en
        return problem_or_open311(request.url.path, exc.status_code, vi,
                                  detail if detail != en else vi, detail_en=detail,
                                  code=en.lower().replace(" ", "-"))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return problem_or_open311(request.url.path, 422, "Dữ liệu không hợp lệ",
                                  f"Dữ liệu gửi lên không hợp lệ: {errors}",
                                  detail_en=f"The request is invalid: {errors}",
                                  code="validation-failed")

    async def _driver(request: Request, exc: Exception) -> Response:
        translated = domain_error(exc)
        if translated is not None:
            return ioc_error_response(request, translated)
        return _internal(request, exc)

    # Driver errors met outside ``translate_db_errors`` (NUL in a text, a timeout) are still the
    # client's 4xx or a 503, never a 500.
    for kind in (ValueError, StatementError, psycopg2.Error):
        app.add_exception_handler(kind, _driver)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        return _internal(request, exc)
