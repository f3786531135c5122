"""``/api/v1/layers/{layer}/imports`` and ``/api/v1/imports``: uploads of departments' files, queued
as jobs that apply them or hold them for approval by the rule of edits, and their reports."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import require_signed_in
from gis_core.db import raw_cursor
from gis_core.errors import InvalidParameterError, NotFoundError, PermissionDeniedError
from governance import audit
from governance.access import import_mode, may_read_import
from jobs import imports as import_jobs
from layers.imports.load import ImportOptions
from layers.imports.problems import ImportReport
from layers.imports.rows import parse_mapping
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1", tags=["imports"])
ImportJob = Annotated[int, PathParam(ge=1, le=2**62)]
PREVIEW = 500  # features of a dry run's map


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        return parse_mapping(text)
    except ValueError:
        raise InvalidParameterError(
            "Tham số 'mapping' phải là JSON hoặc YAML dạng {trường: cột nguồn}.",
            message_en="Parameter 'mapping' must be JSON or YAML of the form {field: source column}.",
            parameter="mapping") from None


@router.post("/layers/{layer_id}/imports", status_code=202,
             summary="Nhập tệp vào lớp / Import a file into a layer")
async def create_import(
    layer_id: str, request: Request, file: Annotated[UploadFile, File()],
    crs: Annotated[str | None, Form()] = None, dataset: Annotated[str | None, Form()] = None,
    key: Annotated[str | None, Form()] = None,
    source_layer: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form()] = None, dry_run: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """Queue the import of an uploaded file; answers 202 at once with the job and its progress URL.

    A worker checks the file and imports it all or nothing. Imports follow the rule of edits: the
    operator's apply at once; those of the owning department's editors and of API clients with
    ``write:<layer>`` are checked and held for an approver, who applies them after checking the
    file again against the data of that moment. The job's ``result`` is what came of it:
    ``http_status`` 201 (imported), 200 (dry run), 202 (pending, with the edit) or 422 (a rejected
    file, with every bad row, also downloadable as CSV and JSON; the layer untouched).
    """
    layer = require_layer(layer_id)
    principal = require_signed_in(request)
    engine = request.app.state.engine
    mode = import_mode(principal, layer)
    if mode is None:
        await run_in_threadpool(audit.record_now, engine, "import.denied", actor=principal,
                                outcome="denied", target=layer.id)
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không được nhập dữ liệu vào lớp '{layer.id}'. Nhập tệp "
            "cần bộ phận vận hành, biên tập viên của sở quản lý lớp, hoặc khóa API có quyền "
            f"write:{layer.id} (khi đó lần nhập chờ người duyệt của sở).",
            message_en=f"Account '{principal.label}' may not import into '{layer.id}'. Imports "
            "need an operator, an editor of the owning department, or an API key with "
            f"write:{layer.id} (whose imports then await an approver of that department).")
    settings = request.app.state.settings
    name = unicodedata.normalize("NFC", Path(file.filename or "upload").name)
    options = ImportOptions(crs=crs, mapping=_mapping(mapping), dataset=dataset, key=key,
                            source_layer=source_layer, dry_run=dry_run, actor=principal.label,
                            max_features=settings.max_import_features,
                            preview=PREVIEW if dry_run or mode == "pending" else 0)
    with tempfile.TemporaryDirectory(prefix="ioc-upload-") as folder:
        path = Path(folder) / name
        with open(path, "wb") as out:
            while chunk := await file.read(2**20):
                out.write(chunk)
        job = await run_in_threadpool(import_jobs.submit, engine, principal, layer.id, path,
                                      name, options, mode)
    location = f"/api/v1/jobs/{job}"
    return JSONResponse({"id": job, "status": "queued", "links": {"self": location}},
                        status_code=202, headers={"Location": location})


def _job(request: Request, job: int, via: str) -> dict[str, Any]:
    """The job's report for the importer, the owning department's editors and leaders and the
    operator; personal and internal values masked; every read audited."""
    principal = require_signed_in(request)
    engine = request.app.state.engine
    with raw_cursor(engine) as cur:
        cur.execute("SELECT layer, actor, report FROM import_jobs WHERE id = %s", (job,))
        row = cur.fetchone()
    if row is None or row[2] is None:
        raise NotFoundError(f"Không có lần nhập số {job}.", message_en=f"No import job {job}.")
    layer = require_layer(row[0])
    target = f"{layer.id}/import:{job}"
    if not may_read_import(principal, layer, row[1]):
        audit.record_now(engine, "import.report.read", actor=principal, outcome="denied",
                         target=target, details={"via": via})
        raise PermissionDeniedError(
            f"Báo cáo lần nhập {job} chỉ dành cho người nhập, biên tập viên và lãnh đạo của sở "
            "quản lý lớp, và bộ phận vận hành.",
            message_en=f"The report of import {job} is for the importer, the owning department's "
            "editors and leaders, and the operators.")
    audit.record_now(engine, "import.report.read", actor=principal, target=target,
                     details={"via": via})
    return ImportReport.from_dict(row[2]).masked(layer).as_dict() | {"job": job}


@router.get("/imports", summary="Các lần nhập / Import jobs")
def list_imports(request: Request, layer: str | None = Query(default=None, max_length=64),
                 limit: int = Query(default=50, ge=1, le=500)) -> list[dict[str, Any]]:
    """The newest import jobs whose reports the caller may read (the importer's own, the owning
    department's for its editors and leaders, all for the operators): layer, file, who, when,
    status (``pending`` while awaiting approval) and counts; the report is one link away."""
    principal = require_signed_in(request)
    if layer is not None:
        require_layer(layer)
    with raw_cursor(request.app.state.engine) as cur:
        cur.execute(
            "SELECT j.id, j.layer, j.dataset, j.file_name, j.actor, j.status, j.started_at, "
            "j.finished_at, j.added, j.changed, j.removed, j.unchanged, e.id, e.status "
            "FROM import_jobs j LEFT JOIN pending_edits e ON e.import_job = j.id "
            "WHERE (%(layer)s::text IS NULL OR j.layer = %(layer)s) AND j.report IS NOT NULL "
            "ORDER BY j.id DESC LIMIT %(scan)s", {"layer": layer, "scan": limit * 20})
        rows = cur.fetchall()
    names = ("job", "layer", "dataset", "file_name", "actor", "status", "started_at",
             "finished_at", "added", "changed", "removed", "unchanged", "edit_id", "edit_status")
    out = []
    for row in rows:
        item = dict(zip(names, row, strict=True))
        spec = require_layer(item["layer"])
        if not may_read_import(principal, spec, item["actor"]):
            continue
        for key in ("started_at", "finished_at"):
            item[key] = item[key].isoformat() if item[key] else None
        out.append(item | {"links": import_jobs.links(item["job"])})
        if len(out) == limit:
            break
    return out


@router.get("/imports/{job}", summary="Một lần nhập / One import job")
def get_import(job: ImportJob, request: Request) -> dict[str, Any]:
    """The job's report: what was recognised, the counts, repairs, warnings and errors."""
    return _job(request, job, "job") | {"links": import_jobs.links(job)}


@router.get("/imports/{job}/report.json", summary="Báo cáo lỗi (JSON) / Rejection report (JSON)")
def report_json(job: ImportJob, request: Request) -> Response:
    """The full report as a JSON download."""
    body = json.dumps(_job(request, job, "json"), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="import-{job}.json"'})


@router.get("/imports/{job}/report.csv", summary="Báo cáo lỗi (CSV) / Rejection report (CSV)")
def report_csv(job: ImportJob, request: Request) -> Response:
    """Every rejected row with the field and the reason, as CSV."""
    report = ImportReport.from_dict(_job(request, job, "csv"))
    return Response(report.errors_csv(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="import-{job}-errors.csv"'})
