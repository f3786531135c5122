"""``/sdmx/rest``: the indicators as SDMX 2.1 REST (structure and data) for systems holding a key
scoped ``share:indicators`` (and operators and leaders); every exchange is audited."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import require_signed_in
from gis_core.db import raw_cursor
from gis_core.errors import InvalidParameterError, NotFoundError, PermissionDeniedError
from governance import audit
from governance.access import Principal
from reports import sdmx
from scenarios.base import default_period

router = APIRouter(prefix="/sdmx/rest", tags=["sdmx"])
SCOPE = "share:indicators"
STAFF = frozenset({"operator", "leader"})
STRUCTURES = ("dataflow", "datastructure", "codelist", "conceptscheme")


def _sharer(request: Request, what: str) -> Principal:
    who = require_signed_in(request)
    if who.role not in STAFF and not (who.role == "api_client" and SCOPE in who.scopes):
        audit.record_now(request.app.state.engine, "sdmx.denied", actor=who, outcome="denied",
                         target=request.url.path)
        raise PermissionDeniedError(
            f"Trao đổi SDMX ({what}) cần khóa API có phạm vi '{SCOPE}'.",
            message_en=f"SDMX exchange ({what}) needs an API key with the scope '{SCOPE}'.")
    return who


def _flow(flow: str) -> None:
    names = {sdmx.FLOW, f"{sdmx.AGENCY},{sdmx.FLOW}", f"{sdmx.AGENCY},{sdmx.FLOW},{sdmx.VERSION}"}
    if flow not in names:
        raise NotFoundError(f"Không có luồng dữ liệu '{flow}'; có: {sdmx.FLOW}.",
                            message_en=f"No dataflow '{flow}'; there is {sdmx.FLOW}.", parameter="flow")


@router.get("/data/{flow}/{key}/{provider}", response_model=None, include_in_schema=False)
@router.get("/data/{flow}/{key}", response_model=None, include_in_schema=False)
@router.get("/data/{flow}", response_model=None, summary="Số liệu SDMX / SDMX data")
async def data(request: Request, flow: str, key: str = "all", provider: str = "all",
               startPeriod: str | None = None, endPeriod: str | None = None,  # noqa: N803 - SDMX names
               format: str | None = None) -> Response:
    """Values, targets and statuses per indicator, area (GSO code) and period; ``key`` is
    ``INDICATOR.REF_AREA`` with ``+`` between several. SDMX-ML generic data; SDMX-CSV 2.0 or
    SDMX-JSON 1.0 with ``format=csv|json`` or an Accept header asking for them."""
    _flow(flow)
    accept = request.headers.get("accept", "")
    if format not in (None, "csv", "sdmx-csv", "json", "sdmx-json", "genericdata", "xml"):
        raise InvalidParameterError(f"format '{format}' không hỗ trợ: dùng csv, json hoặc genericdata.",
                                    message_en=f"format '{format}' is not offered: use csv, json or "
                                    "genericdata.", parameter="format")
    chosen = (format or ("csv" if "csv" in accept else "json" if "json" in accept else "xml"))
    kind = {"sdmx-csv": "csv", "sdmx-json": "json", "genericdata": "xml"}.get(chosen, chosen)

    def work() -> Response:
        who = _sharer(request, "data")
        wanted = sdmx.periods(startPeriod, endPeriod, default_period())
        with raw_cursor(request.app.state.engine) as cursor:
            inds, areas = sdmx.parse_key(key, cursor)
            rows = sdmx.observations(cursor, inds, areas, wanted)
        audit.record_now(request.app.state.engine, "sdmx.data", actor=who, target=request.url.path,
                         details={"key": key, "periods": wanted, "observations": len(rows),
                                  "format": kind})
        if kind == "csv":
            return Response(sdmx.sdmx_csv(rows), media_type=sdmx.CSV_MEDIA)
        if kind == "json":
            return Response(sdmx.sdmx_json(rows), media_type=sdmx.JSON_DATA_MEDIA)
        return Response(sdmx.generic_data(rows), media_type=sdmx.XML_DATA_MEDIA)

    return await run_in_threadpool(work)


@router.get("/{resource}/{agency}/{resource_id}/{version}", response_model=None,
            summary="Cấu trúc SDMX / SDMX structure")
@router.get("/{resource}/{agency}/{resource_id}", response_model=None, include_in_schema=False)
@router.get("/{resource}/{agency}", response_model=None, include_in_schema=False)
@router.get("/{resource}", response_model=None, include_in_schema=False)
def structure(request: Request, resource: str, agency: str = "all", resource_id: str = "all",
              version: str = "latest") -> Response:
    """Dataflow, data structure, code lists and concepts in one SDMX-ML 2.1 structure message."""
    if resource not in STRUCTURES:
        raise NotFoundError(f"Không có tài nguyên SDMX '{resource}'; có: {', '.join(STRUCTURES)}, data.",
                            message_en=f"No SDMX resource '{resource}'; there are: "
                            f"{', '.join(STRUCTURES)}, data.", parameter="resource")
    if agency not in ("all", sdmx.AGENCY):
        raise NotFoundError(f"Không có cơ quan '{agency}'.", message_en=f"No agency '{agency}'.",
                            parameter="agency")
    who = _sharer(request, resource)
    with raw_cursor(request.app.state.engine) as cursor:
        body = sdmx.structure(cursor)
    audit.record_now(request.app.state.engine, "sdmx.structure", actor=who, target=request.url.path)
    return Response(body, media_type=sdmx.XML_STRUCTURE_MEDIA)
