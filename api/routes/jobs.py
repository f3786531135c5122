"""``/api/v1/jobs``: the progress and result of background jobs (imports, exports, reports)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from api.auth import Operator, require_signed_in
from api.errors import problem_body
from gis_core.errors import NotFoundError
from governance import audit
from jobs import status

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
JobId = Annotated[int, PathParam(ge=1, le=2**62)]


def public_job(job: dict[str, Any]) -> dict[str, Any]:
    """A job as its progress URL shows it; an error outcome rendered as its problem."""
    result = job["result"]
    if result and "problem" in result:
        p = result["problem"]
        result = {**result, "problem": problem_body(
            p["status"], p["title"], p["detail"], code=p["code"], detail_en=p["detail_en"],
            parameter=p.get("parameter"), extra=p.get("extra"))}
    return {"id": job["id"], "kind": job["kind"], "status": job["status"],
            "progress": round(job["progress"], 3), "stage": job["stage"],
            "attempts": job["attempts"], "owner": job["owner"], "created": job["created"],
            "updated": job["updated"], "result": result,
            "links": {"self": f"/api/v1/jobs/{job['id']}", **(result or {}).get("body", {}).get(
                "links", {})}}


@router.get("/{job_id}", summary="Tiến độ và kết quả một việc nền / A job's progress and result")
async def get_job(job_id: JobId, request: Request) -> dict[str, Any]:
    """Status (queued, running, succeeded, failed), progress (0–1), stage and result of a job;
    for the account that started it and the operators."""
    principal = require_signed_in(request)
    engine = request.app.state.engine
    job = await run_in_threadpool(status.describe, engine, job_id)
    if job is None or (principal.role != "operator" and job["owner"] != principal.username):
        raise NotFoundError(f"Không có việc nền số {job_id} của tài khoản này.",
                            message_en=f"No background job {job_id} of this account.")
    await run_in_threadpool(audit.record_now, engine, "job.read", actor=principal,
                            target=f"job:{job_id}")
    return public_job(job)


@router.get("", summary="Các việc nền gần đây / Recent jobs (operators)")
async def list_jobs(request: Request, _: Operator,
                    state: Annotated[str | None, Query(alias="status", max_length=20)] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    """The latest jobs, newest first; ``status=failed`` for the failed ones."""
    jobs = await run_in_threadpool(status.listing, request.app.state.engine, status=state,
                                   limit=limit)
    return [public_job(job) for job in jobs]
