"""``/api/v1/layers/{layer}/export``: a layer or a query on it as a file, in WGS 84 or VN-2000."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api import export_jobs, export_package
from api.auth import current_principal, require_signed_in
from gis_core.crs import crs_uri
from gis_core.errors import NotFoundError
from governance import audit
from jobs import status
from layers.export import ExportResult
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1", tags=["export"])


def _export(request: Request, layer_id: str, directory: Path) -> ExportResult | int:
    """The written export, or the id of its job when it is too large to write in the request."""
    engine, settings = request.app.state.engine, request.app.state.settings
    principal = current_principal(request)
    layer = require_layer(layer_id)
    pairs = list(request.query_params.multi_items())
    package = export_package.wanted(dict(pairs))
    if package:
        pairs = [(k, v) for k, v in pairs if k != "format"] + [("format", "gpkg")]
    asked = export_jobs.prepare(engine, settings, principal, layer, pairs)
    if package:
        return export_package.build(engine, principal, layer,
                                    export_jobs.write(engine, asked, directory),
                                    settings.var_dir / "documents")
    bound = settings.export_inline_max
    if not principal.is_anonymous and export_jobs.count_up_to(engine, asked, bound) > bound:
        return export_jobs.submit(engine, asked)
    return export_jobs.write(engine, asked, directory)


@router.get(
    "/layers/{layer_id}/export",
    summary="Xuất dữ liệu một lớp / Export a layer",
    response_class=FileResponse,
    responses={200: {"description": "gpkg, shp (zip), geojson, csv, xlsx, or a package (zip)",
                     "content": {"application/octet-stream": {}}},
               400: {"description": "problem+json"}},
)
async def export(layer_id: str, request: Request) -> Response:
    """The layer (or the features matching bbox, datetime, filter…) as a file.

    Query: ``format`` = gpkg | shp | geojson | csv | xlsx (default gpkg); ``crs`` = EPSG:4326 or
    EPSG:9205…9218 (VN-2000); ``geometry`` = xy | wkt for CSV/XLSX; ``limit``; plus every filter
    of the OGC items endpoint. Personal and internal fields are left out for the public.
    ``package=true``: a zip of the GeoPackage, the documents of the exported features (every
    approved version) and ``manifest.json`` with each file's checksum and version.
    For a signed-in caller, an export of more than ``IOC_EXPORT_INLINE_MAX`` features answers
    202 with its job (``Location: /api/v1/jobs/{id}``); the job's ``links.download`` is the file.
    """
    directory = Path(tempfile.mkdtemp(prefix="ioc-export-"))
    try:
        result = await run_in_threadpool(_export, request, layer_id, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    if isinstance(result, int):
        shutil.rmtree(directory, ignore_errors=True)
        location = f"/api/v1/jobs/{result}"
        return JSONResponse({"id": result, "status": "queued", "links": {"self": location}},
                            status_code=202, headers={"Location": location})
    return FileResponse(
        result.path, media_type=result.media_type, filename=result.filename,
        headers={"X-Feature-Count": str(result.count),
                 "Content-Crs": f"<{crs_uri(None if result.srid == 4326 else result.srid)}>"},
        background=BackgroundTask(shutil.rmtree, directory, ignore_errors=True),
    )


@router.get("/exports/{job_id}", summary="Tải tệp xuất của một việc nền / Download an export job's file",
            response_class=FileResponse)
async def download(job_id: Annotated[int, PathParam(ge=1, le=2**62)], request: Request) -> Response:
    """The file an export job wrote, for the account that asked for it only (the fields it holds
    are those that account may see); each download audited."""
    principal = require_signed_in(request)
    engine, settings = request.app.state.engine, request.app.state.settings
    job = await run_in_threadpool(status.describe, engine, job_id)
    body = ((job or {}).get("result") or {}).get("body") or {}
    path = export_jobs.folder(settings.var_dir, job_id) / Path(str(body.get("file", "-"))).name
    if (job is None or job["kind"] != export_jobs.KIND or job["owner"] != principal.username
            or not path.is_file()):
        raise NotFoundError(f"Không có tệp xuất của việc nền số {job_id} cho tài khoản này "
                            "(chưa xong, đã hết hạn hoặc của người khác).",
                            message_en=f"No export file of job {job_id} for this account (not "
                            "done yet, expired, or someone else's).")
    await run_in_threadpool(audit.record_now, engine, "export.download", actor=principal,
                            target=f"job:{job_id}", details={"file": path.name,
                                                             "count": body.get("count")})
    return FileResponse(path, media_type=body.get("media_type"), filename=path.name,
                        headers={"X-Feature-Count": str(body.get("count"))})
