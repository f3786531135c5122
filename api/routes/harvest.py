"""``/api/v1/harvest``: the operators declare the sources harvested into the layers (YAML or JSON),
run one now, and read every source's state; the staff read which sources are stale."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Operator, SignedIn
from gis_core.errors import PayloadTooLargeError
from governance import audit
from harvest import declarations, run, schedule, sources

router = APIRouter(prefix="/api/v1/harvest", tags=["harvest"])
__all__ = ["router", "schedule"]  # the schedule's periodic task is declared with the app
Name = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


@router.get("/sources", summary="Các nguồn thu thập / Harvest sources")
def list_sources(request: Request, principal: Operator) -> dict[str, Any]:
    """Every declared source with its state (``ok``, ``stale``, ``never``, ``disabled``)."""
    with request.app.state.engine.connect() as conn:
        return {"sources": sources.listing(conn)}


@router.get("/status", summary="Nguồn lỗi, dữ liệu cũ / Stale sources")
def status(request: Request, principal: SignedIn) -> dict[str, Any]:
    """Each source's layer and state; a failing one says since when ("stale since …")."""
    with request.app.state.engine.connect() as conn:
        rows = sources.listing(conn)
    keep = ("name", "title", "layer", "state", "failing_since", "last_success_at", "message")
    return {"sources": [{k: r.get(k) for k in keep} for r in rows],
            "stale": sum(r["state"] == "stale" for r in rows)}


@router.get("/sources/{name}", summary="Một nguồn / One source")
def get_source(name: Name, request: Request, principal: Operator) -> dict[str, Any]:
    """The declaration, its state and its last runs."""
    with request.app.state.engine.connect() as conn:
        return sources.get(conn, name)


@router.put("/sources/{name}", summary="Khai báo nguồn / Declare a source")
async def put_source(name: Name, request: Request, principal: Operator) -> JSONResponse:
    """Create or replace a declaration sent as YAML or JSON (credentials only by name)."""
    limit = request.app.state.settings.max_body_kb * 1024
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLargeError(f"Khai báo quá lớn (tối đa {limit // 1024} KB).",
                                   message_en=f"Declaration too large (at most {limit // 1024} KB).")
    decl = declarations.parse(body, name)

    def keep() -> bool:
        with request.app.state.engine.begin() as conn:
            new = sources.put(conn, decl, principal.username)
            audit.record(conn, "harvest.declare", actor=principal,
                         target=f"harvest_sources/{name}",
                         details={"layer": decl.layer, "kind": decl.kind, "new": new})
        return new

    new = await run_in_threadpool(keep)
    return JSONResponse(decl.as_dict(), status_code=201 if new else 200,
                        headers={"Location": f"/api/v1/harvest/sources/{name}"})


@router.delete("/sources/{name}", status_code=204, summary="Xóa nguồn / Remove a source")
def delete_source(name: Name, request: Request, principal: Operator) -> None:
    """Forget the source and its runs; the data it brought stays, with its history."""
    with request.app.state.engine.begin() as conn:
        sources.remove(conn, name)
        audit.record(conn, "harvest.remove", actor=principal, target=f"harvest_sources/{name}")


@router.post("/sources/{name}/run", summary="Thu thập ngay / Harvest now")
def run_now(name: Name, request: Request, principal: Operator) -> dict[str, Any]:
    """Pull the source now: what was added, changed and removed, or why it failed (the last
    good data stays). 409 while another run of it is under way."""
    engine = request.app.state.engine
    result = run.run_source(engine, name, principal.username)
    audit.record_now(engine, "harvest.run", actor=principal, target=f"harvest_sources/{name}",
                     outcome="ok" if result["status"] != "failed" else "failed",
                     details={k: result.get(k) for k in ("status", "added", "changed", "removed",
                                                         "import_job")})
    return result
