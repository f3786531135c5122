"""``/api/v1/reconciliations``: a layer compared with an authoritative register extract (the
cadastral or population database's file), its report, and a proposed correction accepted as an
edit that waits for approval."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import SignedIn
from gis_core.errors import PermissionDeniedError
from governance import audit
from governance.access import may_read_personal, personal_names, require_features, write_mode
from harvest import reconcile
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1", tags=["reconciliation"])
Id = Annotated[int, PathParam(ge=1, le=2**62)]


def _may_reconcile(request: Request, principal: Any, layer_id: str) -> None:
    layer = require_layer(layer_id)
    if write_mode(principal, layer) is None:
        audit.record_now(request.app.state.engine, "reconcile.denied", actor=principal,
                         outcome="denied", target=layer.id)
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không được đối chiếu lớp '{layer.id}'; cần quyền "
            "biên tập lớp.",
            message_en=f"Account '{principal.label}' may not reconcile '{layer.id}'; it takes "
            "the right to edit the layer.")


def _shown(request: Request, principal: Any, out: dict[str, Any]) -> dict[str, Any]:
    """The report as the caller may read it: personal values only with the right, audited."""
    layer = require_layer(out["layer"])
    require_features(principal, layer)
    personal = personal_names(layer)
    if may_read_personal(principal, layer):
        if any(f.get("field") in personal for f in out["findings"]):
            audit.record_now(request.app.state.engine, "reconcile.read.personal",
                             actor=principal, target=f"reconciliations/{out['id']}")
        return out
    return reconcile.masked(out, personal)


@router.post("/reconciliations", status_code=201,
             summary="Đối chiếu lớp với CSDL gốc / Reconcile a layer with a register")
async def create(request: Request, principal: SignedIn, spec: Annotated[str, Form()],
                 file: Annotated[UploadFile, File()]) -> JSONResponse:
    """Compare the layer with the uploaded extract (shapefile .zip, GeoPackage, CSV, XLSX; VN-2000
    recognised); the report with every finding. Nothing in the layer changes."""
    parsed = reconcile.parse_spec(spec)
    _may_reconcile(request, principal, parsed.layer)
    name = unicodedata.normalize("NFC", Path(file.filename or "extract").name)
    engine = request.app.state.engine

    def run(path: Path) -> dict[str, Any]:
        with engine.begin() as conn:
            out = reconcile.reconcile(conn, parsed, path, principal.username, name)
            audit.record(conn, "reconcile.run", actor=principal,
                         target=f"reconciliations/{out['id']}",
                         details={"layer": parsed.layer, "file": name, "counts": out["counts"]})
        return out

    with tempfile.TemporaryDirectory(prefix="ioc-register-") as folder:
        path = Path(folder) / name
        with open(path, "wb") as out:
            while chunk := await file.read(2**20):
                out.write(chunk)
        result = await run_in_threadpool(run, path)
    body = await run_in_threadpool(_shown, request, principal, result)
    return JSONResponse(_plain(body), status_code=201,
                        headers={"Location": f"/api/v1/reconciliations/{result['id']}"})


def _plain(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


@router.get("/reconciliations/{rec}", summary="Báo cáo đối chiếu / Reconciliation report")
def get_report(rec: Id, request: Request, principal: SignedIn) -> dict[str, Any]:
    """The counts and each finding (personal values masked unless the caller may read them)."""
    with request.app.state.engine.connect() as conn:
        out = reconcile.report(conn, rec)
    return _shown(request, principal, out)


@router.post("/reconciliation-findings/{finding}/accept", status_code=202,
             summary="Chấp nhận đề xuất sửa / Accept a proposed correction")
def accept(finding: Id, request: Request, principal: SignedIn) -> JSONResponse:
    """Submit the register's value as an edit of the feature; it waits for an approver."""
    with request.app.state.engine.begin() as conn:
        edit = reconcile.accept(conn, principal, finding)
    location = f"/api/v1/edits/{edit['edit_id']}"
    return JSONResponse(edit, status_code=202, headers={"Location": location})
