"""``/healthz`` (the process answers), ``/readyz`` (it can do its work) and ``/metrics``."""

from __future__ import annotations

import ipaddress
import secrets
import shutil
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api import metrics
from gis_core.db import fetch
from gis_core.errors import PermissionDeniedError

router = APIRouter(tags=["operations"])


@cache
def migration_head() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    from migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config("")).get_current_head() or ""


def checks(engine: Engine, var_dir: Any) -> dict[str, dict[str, Any]]:
    """Database, schema version, job queue and disk: each ``{"ok": bool, …}``."""
    out: dict[str, dict[str, Any]] = {}
    try:
        with engine.connect() as conn:
            version = fetch(conn, "SELECT version_num FROM alembic_version")
            out["database"] = {"ok": True}
            current = version[0][0] if version else None
            out["migrations"] = {"ok": current == migration_head(), "current": current,
                                 "head": migration_head()}
            queued, workers = fetch(conn, (
                "SELECT (SELECT count(*) FROM procrastinate.procrastinate_jobs "
                "WHERE status = 'todo'), (SELECT count(*) FROM procrastinate.procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '1 minute')"))[0]
            out["queue"] = {"ok": True, "queued": queued, "workers": workers}
    except Exception as err:  # noqa: BLE001 - any failure is a 'not ready', named
        for name in ("database", "migrations", "queue"):
            out.setdefault(name, {"ok": False, "error": type(err).__name__})
    usage = shutil.disk_usage(var_dir if var_dir.exists() else ".")
    out["disk"] = {"ok": usage.free > 100 * 2**20, "free_bytes": usage.free}
    return out


@router.get("/healthz", summary="Tiến trình còn sống / Liveness")
def healthz() -> dict[str, str]:
    """200 while the process answers; touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", summary="Sẵn sàng phục vụ / Readiness")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers, its schema is at this code's head, the job queue is
    reachable and the disk has room; 503 naming what is not."""
    found = await run_in_threadpool(checks, request.app.state.engine,
                                    request.app.state.settings.var_dir)
    ready = all(check["ok"] for check in found.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": found},
                        status_code=200 if ready else 503)


def _may_scrape(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return secrets.compare_digest(given.encode(), token.encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "testclient"


@router.get("/metrics", summary="Số đo Prometheus / Prometheus metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    """The metrics, for Prometheus: from this machine, or with ``IOC_METRICS_TOKEN`` as bearer."""
    if not _may_scrape(request):
        raise PermissionDeniedError(
            "Số đo chỉ đọc được từ máy chủ này hoặc với IOC_METRICS_TOKEN.",
            message_en="Metrics are read from this machine, or with IOC_METRICS_TOKEN.")
    body, content_type = await run_in_threadpool(metrics.exposition, request.app.state.engine)
    return Response(body, media_type=content_type)
