"""``/api/v1/layers/{layer}/export``: a layer or a query on it as a file, in WGS 84 or VN-2000."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from api.visibility import audit_personal_read, refuse_hidden_parameters, visible_fields
from gis_core.crs import crs_uri
from gis_core.db import translate_db_errors
from gis_core.errors import invalid_parameter
from governance.access import require_features
from layers.export import (
    ExportResult,
    export_layer,
    parse_export_crs,
    parse_format,
    parse_geometry_columns,
)
from layers.features import output_fields
from layers.items import ItemsQuery, parse_items_query
from layers.registry import require_layer
from layers.spec import LayerSpec

router = APIRouter(prefix="/api/v1", tags=["export"])
# Parameters of the export itself; every other one is an items filter (bbox, datetime, filter…).
_OWN = ("format", "crs", "geometry", "limit")


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_parameter("limit", "Cần một số nguyên dương.", "A positive integer is required.",
                                value=raw)
    return int(raw)


def _export(request: Request, layer: LayerSpec, directory: Path) -> ExportResult:
    params = request.query_params
    fmt = parse_format(params.get("format", "gpkg"))
    srid = parse_export_crs(params.get("crs"))
    geometry = parse_geometry_columns(params.get("geometry"))
    limit = _limit(params.get("limit"))
    rest = [(k, v) for k, v in params.multi_items() if k not in _OWN]
    settings = request.app.state.settings
    refuse_hidden_parameters(request.app.state.engine, current_principal(request), layer, rest)
    visible = visible_fields(request, layer)
    query: ItemsQuery = parse_items_query(rest, layer, default_limit=settings.default_limit,
                                          max_limit=settings.max_limit, visible=visible)
    with translate_db_errors():
        raw = request.app.state.engine.raw_connection()
    try:
        result = export_layer(raw.driver_connection, layer, fmt, srid, directory, query=query,
                              visible=visible, limit=limit, geometry_columns=geometry)
    finally:
        raw.close()
    audit_personal_read(request.app.state.engine, current_principal(request), layer,
                        output_fields(layer, query, visible), result.count, via=f"export:{fmt.id}",
                        query=str(request.url.query))
    return result


@router.get(
    "/layers/{layer_id}/export",
    summary="Xuất dữ liệu một lớp / Export a layer",
    response_class=FileResponse,
    responses={200: {"description": "gpkg, shp (zip), geojson, csv or xlsx",
                     "content": {"application/octet-stream": {}}},
               400: {"description": "problem+json"}},
)
async def export(layer_id: str, request: Request) -> FileResponse:
    """The layer (or the features matching bbox, datetime, filter…) as a file.

    Query: ``format`` = gpkg | shp | geojson | csv | xlsx (default gpkg); ``crs`` = EPSG:4326 or
    EPSG:9205…9218 (VN-2000); ``geometry`` = xy | wkt for CSV/XLSX; ``limit``; plus every filter
    of the OGC items endpoint. Personal and internal fields are left out for the public.
    """
    layer = require_layer(layer_id)
    require_features(await run_in_threadpool(current_principal, request), layer)
    directory = Path(tempfile.mkdtemp(prefix="ioc-export-"))
    try:
        result = await run_in_threadpool(_export, request, layer, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FileResponse(
        result.path, media_type=result.media_type, filename=result.filename,
        headers={"X-Feature-Count": str(result.count),
                 "Content-Crs": f"<{crs_uri(None if result.srid == 4326 else result.srid)}>"},
        background=BackgroundTask(shutil.rmtree, directory, ignore_errors=True),
    )
