"""``/api/v1/reports``: report definitions, generation, downloads and verification, by role."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import require_role, require_signed_in
from gis_core.db import raw_cursor
from gis_core.errors import InvalidParameterError
from governance import audit
from governance.access import Principal
from reports import snapshot
from reports.definitions import Definition, definitions, require

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
MAX_VERIFY_BYTES = 20 * 2**20


class GenerateIn(BaseModel):
    """What to generate: the period, the format and, for an incident report, the incident."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(examples=["2026-Q3"], description="Kỳ: 2026-Q3, 2026-11 hoặc 2026")
    format: Literal["docx", "pdf", "xlsx"] = "pdf"
    incident: int | None = Field(None, ge=1, description="số sự cố (báo cáo sự cố)")


def _reader(request: Request, definition: Definition) -> Principal:
    return require_role(request, frozenset(definition.audience), event="report.denied",
                        message=f"Vai trò '{{role}}' không được xem báo cáo '{definition.id}'.",
                        message_en=f"The role '{{role}}' may not read report '{definition.id}'.")


def _describe(d: Definition) -> dict[str, Any]:
    return {"id": d.id, "title": d.title, "kind": d.kind, "periods": d.periods,
            "schedule": d.schedule, "audience": d.audience,
            "sections": [{"kind": s.kind, "title": s.title} for s in d.sections],
            "links": {"generate": f"/api/v1/reports/{d.id}/generate",
                      "runs": f"/api/v1/reports/runs?definition={d.id}"}}


@router.get("", summary="Các báo cáo / Report definitions")
def list_reports(request: Request) -> dict[str, Any]:
    """The report definitions the caller's role may read and generate."""
    who = require_signed_in(request)
    return {"reports": [_describe(d) for d in definitions().values() if who.role in d.audience]}


@router.get("/runs", summary="Báo cáo đã lập / Generated reports")
def list_runs(request: Request, definition: str | None = None) -> dict[str, Any]:
    """Generated reports (newest first) of the definitions the caller may read."""
    who = require_signed_in(request)
    ids = [d.id for d in definitions().values() if who.role in d.audience]
    if definition is not None:
        _reader(request, require(definition))
        ids = [definition]
    with raw_cursor(request.app.state.engine) as cursor:
        items = snapshot.runs(cursor, ids)
    for item in items:
        item["links"] = {"file": f"/api/v1/reports/runs/{item['id']}/file"}
    return {"runs": items}


@router.get("/runs/{run_id}/file", response_model=None, summary="Tải báo cáo / Download a report")
def download(request: Request, run_id: int) -> Response:
    """The generated file, exactly as made (its SHA-256 in ``X-Content-SHA256``); audited."""
    with raw_cursor(request.app.state.engine) as cursor:
        run = snapshot.get_run(cursor, run_id, with_file=True)
    who = _reader(request, require(run["definition"]))
    audit.record_now(request.app.state.engine, "report.download", actor=who,
                     target=f"report_runs/{run_id}", details={"definition": run["definition"]})
    return Response(run["content"], media_type=snapshot.MEDIA_TYPES[run["format"]], headers={
        "Content-Disposition": f'attachment; filename="{run["file_name"]}"',
        "X-Content-SHA256": run["file_sha256"]})


@router.post("/verify", summary="Kiểm tra một báo cáo / Verify a report file")
async def verify(request: Request, file: UploadFile) -> dict[str, Any]:
    """Whether the file is intact and its figures still match the data (and what changed)."""
    who = await run_in_threadpool(require_signed_in, request)
    data = await file.read(MAX_VERIFY_BYTES + 1)
    if len(data) > MAX_VERIFY_BYTES:
        raise InvalidParameterError("Tệp quá lớn (tối đa 20 MB).",
                                    message_en="The file is too large (20 MB at most).", parameter="file")

    def work() -> dict[str, Any]:
        with raw_cursor(request.app.state.engine) as cursor:
            result = snapshot.verify(cursor, data)
        _reader(request, require(result["definition"]))
        audit.record_now(request.app.state.engine, "report.verify", actor=who,
                         target=f"report_runs/{result['report']}", details={"ok": result["ok"]})
        return result

    return await run_in_threadpool(work)


@router.get("/{report_id}", summary="Một báo cáo / One report definition")
def get_report(request: Request, report_id: str) -> dict[str, Any]:
    """One definition, with its sections."""
    definition = require(report_id)
    _reader(request, definition)
    return {**_describe(definition), "definition": definition.model_dump(exclude_none=True)}


@router.post("/{report_id}/generate", status_code=201, summary="Lập báo cáo / Generate a report")
def generate(request: Request, report_id: str, body: GenerateIn) -> dict[str, Any]:
    """Compute the figures, render the file and keep it with its snapshot; audited."""
    definition = require(report_id)
    who = _reader(request, definition)
    params = {"incident": body.incident} if body.incident is not None else {}
    with raw_cursor(request.app.state.engine) as cursor:
        run = snapshot.generate(cursor, definition, body.period, body.format, who.label, params)
    audit.record_now(request.app.state.engine, "report.generate", actor=who,
                     target=f"report_runs/{run['id']}",
                     details={"definition": report_id, "period": run["period"], "format": body.format})
    return {**run, "links": {"file": f"/api/v1/reports/runs/{run['id']}/file"}}
