"""``/api/v1/indicators``, reported values, targets and ``/api/v1/warnings`` for the map."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.auth import require_role
from api.deps import Db, Tx
from api.scenario_http import GEOJSON, actor, overview_cache, respond
from feedback import escalation as feedback_escalation
from feedback.cases import today as feedback_today
from gis_core.db import transaction
from gis_core.errors import InvalidParameterError, PermissionDeniedError
from governance import audit
from governance.access import INDICATOR_EDITORS, VALUE_EDITORS, foreign_units
from opinion import watch as opinion_watch
from scenarios import overview, reported
from scenarios.engine import withheld_layers
from scenarios.indicators import INDICATORS, describe, require_indicator
from scenarios.period import check_period

router = APIRouter(prefix="/api/v1", tags=["indicators"])
MAX_UPLOAD_BYTES = 5 * 2**20


@router.get("/indicators", summary="Danh mục chỉ tiêu / Indicator catalogue")
def list_indicators() -> dict[str, Any]:
    """Every indicator with its sector, unit, direction, kind and declared targets."""
    return {"indicators": [describe(i) for i in INDICATORS]}


@router.get("/indicators/{indicator_id}", summary="Một chỉ tiêu / One indicator")
def get_indicator(indicator_id: str) -> dict[str, Any]:
    """One indicator of the catalogue."""
    return describe(require_indicator(indicator_id))


@router.get("/indicators/{indicator_id}/choropleth", response_model=None,
            summary="Chỉ tiêu theo xã (bản đồ) / Indicator by commune (map)")
def indicator_choropleth(request: Request, cursor: Db, indicator_id: str, period: str | None = None
                         ) -> Response:
    """GeoJSON of the 38 communes with {code, name, value, target, status, unit}."""
    require_indicator(indicator_id)
    if period:
        check_period(period)
    # Answers differ by whether the caller gets figures about very few households.
    key = ("choropleth", indicator_id, period, overview.data_stamp(cursor), withheld_layers())
    body = overview_cache(request).get_or_compute(
        key, lambda: overview.choropleth(cursor, indicator_id, period))
    return respond(body, GEOJSON)


@router.get("/warnings", summary="Cảnh báo chỉ tiêu chưa đạt, sự cố đang mở / Warnings")
def get_warnings(request: Request, cursor: Db, period: str | None = None) -> dict[str, Any]:
    """Indicators not met per commune, the open incidents, the communes and sectors with
    more posts online today than usual (``opinion_spikes``), and the citizens' cases past their
    deadline (``feedback_overdue``: category, commune, coarsened point, whether the operator was
    told; never the reporter)."""
    if period:
        check_period(period)
    stamp = overview.data_stamp(cursor)
    cached = overview_cache(request).get_or_compute(
        ("warnings", period, stamp, withheld_layers()), lambda: overview.warnings(cursor, period))
    # Incidents move faster than indicators: always fresh.
    fresh = overview.warnings_incidents(cursor)
    with request.app.state.engine.connect() as conn:  # what is said online today, by commune
        spikes = [s.as_dict() for s in opinion_watch.spikes(conn, opinion_watch.today())]
        overdue = feedback_escalation.overdue(conn, feedback_today())
    return {**cached, "open_incidents": fresh, "opinion_spikes": spikes,
            "feedback_overdue": overdue}


@router.get("/reported-values", summary="Số liệu báo cáo / Reported values")
def list_reported(cursor: Db, indicator: str | None = None, period: str | None = None,
                  unit_code: str | None = None) -> dict[str, Any]:
    """Reported values, filtered by indicator, period or unit."""
    if indicator:
        require_indicator(indicator)
    if period:
        check_period(period)
    return {"values": reported.list_values(cursor, indicator, period, unit_code)}


def value_author(request: Request, units: set[str]) -> str:
    """The caller's name when it may enter values for all of ``units`` (403 otherwise, audited):
    indicator editors for any unit, a commune's editor for its own commune only."""
    principal = require_role(request, VALUE_EDITORS, event="write.denied",
                             message="Vai trò '{role}' không được nhập số liệu.",
                             message_en="The role '{role}' may not enter values.")
    foreign = sorted(foreign_units(principal, units))
    if foreign:
        audit.record_now(request.app.state.engine, "write.denied", actor=principal,
                         outcome="denied", target=request.url.path, details={"units": foreign})
        raise PermissionDeniedError(
            f"Cán bộ xã chỉ nhập số liệu của xã mình ({principal.commune_code}); "
            f"không được nhập cho: {', '.join(foreign)}.",
            message_en=f"A commune editor enters values for its own commune "
                       f"({principal.commune_code}) only, not for: {', '.join(foreign)}.")
    return principal.label


@router.post("/reported-values", status_code=201, summary="Nhập số liệu báo cáo / Enter values")
def post_reported(request: Request, cursor: Tx,
                  rows: list[reported.ReportedValue] = Body(..., max_length=reported.MAX_ROWS)  # noqa: B008
                  ) -> dict[str, Any]:
    """Enter reported values (all or none), recording who entered them."""
    who = value_author(request, {row.unit_code for row in rows})
    return {"written": reported.enter_values(cursor, rows, actor=who, source="api")}


@router.post("/reported-values/upload", status_code=201,
             summary="Tải lên CSV/XLSX số liệu báo cáo / Upload values as CSV or XLSX")
async def upload_reported(request: Request, file: UploadFile) -> dict[str, Any]:
    """Columns indicator, period, unit_code, value[, note]; all rows or none are written."""
    await run_in_threadpool(value_author, request, set())
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidParameterError("Tệp quá lớn (tối đa 5 MB).", message_en="The file is too large "
                                    "(5 MB at most).", parameter="file")
    name = file.filename or ""
    source = "xlsx" if name.lower().endswith(".xlsx") else "csv"

    def write() -> int:
        rows = reported.parse_upload(data, name)
        who = value_author(request, {row.unit_code for row in rows})
        with transaction(request.app.state.engine) as cursor:
            return reported.enter_values(cursor, rows, actor=who, source=source)

    return {"written": await run_in_threadpool(write)}


@router.get("/targets", summary="Mục tiêu đã nhập / Entered targets")
def list_targets(cursor: Db, indicator: str | None = Query(None)) -> dict[str, Any]:
    """Targets entered per indicator, period and unit (declared defaults: see /indicators)."""
    cursor.execute("SELECT indicator, period, unit_code, value, legal_basis, entered_by FROM "
                   "indicator_targets WHERE %(i)s IS NULL OR indicator = %(i)s ORDER BY 1, 2, 3",
                   {"i": indicator})
    names = ("indicator", "period", "unit_code", "value", "legal_basis", "entered_by")
    return {"targets": [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]}


@router.post("/targets", status_code=201, summary="Đặt mục tiêu / Set targets")
def post_targets(request: Request, cursor: Tx,
                 rows: list[reported.TargetValue] = Body(..., max_length=reported.MAX_ROWS)  # noqa: B008
                 ) -> dict[str, Any]:
    """Set targets per indicator, period and unit, each with its legal basis (all or none)."""
    who = actor(request, INDICATOR_EDITORS)
    return {"written": reported.set_targets(cursor, rows, actor=who)}
