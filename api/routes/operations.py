"""``/api/v1/admin/operations``: the operators' view of the running platform."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.auth import Operator
from api.routes.health import checks
from jobs import operations

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/operations", summary="Tình trạng vận hành / Operations overview (operators)")
async def operations_overview(request: Request, _: Operator) -> dict[str, Any]:
    """Readiness, queue depth and workers, failed jobs, the last backup, replication, the pool."""
    state = request.app.state
    engine = state.engine

    def gather() -> dict[str, Any]:
        pool = engine.pool
        return {"ready": checks(engine, state.settings.var_dir),
                **operations.overview(engine, state.settings.job_stalled_seconds),
                "database_pool": {"size": state.settings.pool_size,
                                  "in_use": pool.checkedout(), "idle": pool.checkedin()}}

    return await run_in_threadpool(gather)
