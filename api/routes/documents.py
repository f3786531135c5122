"""``/api/v1/layers/{layer}/features/{id}/documents`` and ``/api/v1/documents/{id}``: the
drawings, decisions and reports of a plan or permit, every version, served with the feature's
access rules."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import SignedIn, current_principal
from gis_core.errors import PermissionDeniedError
from governance import audit
from governance.access import is_personal_layer, require_features, write_mode
from harvest import documents
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1", tags=["documents"])
Id = Annotated[int, PathParam(ge=1, le=2**62)]


def _root(request: Request):  # noqa: ANN202
    return request.app.state.settings.var_dir / "documents"


@router.post("/layers/{layer_id}/features/{feature_id}/documents", status_code=201,
             summary="Đính kèm tài liệu / Attach a document")
async def add_document(layer_id: str, feature_id: Id, request: Request, principal: SignedIn,
                       file: Annotated[UploadFile, File()], title: Annotated[str, Form()],
                       kind: Annotated[str, Form()] = "other",
                       decision: Annotated[str | None, Form()] = None) -> JSONResponse:
    """Attach a PDF, image, DOCX or DWG: the next version of ``title`` on the feature (an
    amended plan's drawings keep every version, each with its ``decision``)."""
    layer = require_layer(layer_id)
    engine = request.app.state.engine
    if write_mode(principal, layer) is None:
        await run_in_threadpool(audit.record_now, engine, "document.denied", actor=principal,
                                outcome="denied", target=f"{layer.id}/{feature_id}")
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không được đính kèm tài liệu vào lớp '{layer.id}'.",
            message_en=f"Account '{principal.label}' may not attach documents in '{layer.id}'.")
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_mb * 2**20 + 1)

    def keep() -> dict[str, Any]:
        with engine.begin() as conn:
            doc = documents.add(conn, _root(request), layer, feature_id, title=title, kind=kind,
                                file_name=file.filename or "", data=data, decision=decision,
                                actor=principal.username, max_bytes=settings.max_upload_mb * 2**20)
            audit.record(conn, "document.add", actor=principal, target=f"{layer.id}/{feature_id}",
                         details={"document": doc["id"], "version": doc["version"],
                                  "sha256": doc["sha256"]})
        return doc

    doc = await run_in_threadpool(keep)
    return JSONResponse({**doc, "uploaded_at": doc["uploaded_at"].isoformat(),
                         "href": f"/api/v1/documents/{doc['id']}"}, status_code=201,
                        headers={"Location": f"/api/v1/documents/{doc['id']}"})


@router.get("/layers/{layer_id}/features/{feature_id}/documents",
            summary="Tài liệu của đối tượng / A feature's documents")
def list_documents(layer_id: str, feature_id: Id, request: Request) -> dict[str, Any]:
    """Every document and version of the feature (for whoever may see the feature)."""
    layer = require_layer(layer_id)
    require_features(current_principal(request), layer)
    with request.app.state.engine.connect() as conn:
        rows = documents.listing(conn, layer, feature_id)
    return {"documents": [{**r, "href": f"/api/v1/documents/{r['id']}"} for r in rows]}


@router.get("/documents/{document_id}", summary="Tải tài liệu / Download a document")
def download(document_id: Id, request: Request) -> Response:
    """The file, checked against its checksum; a personal layer's documents only for signed-in
    staff, each read audited."""
    principal = current_principal(request)
    engine = request.app.state.engine
    with engine.connect() as conn:
        doc = documents.get(conn, document_id)
    layer = require_layer(doc["layer"])
    require_features(principal, layer)
    data = documents.content(_root(request), doc)
    if is_personal_layer(layer):
        audit.record_now(engine, "document.read", actor=principal,
                         target=f"{layer.id}/{doc['feature_id']}", details={"document": doc["id"]})
    disposition = f"inline; filename*=UTF-8''{quote(doc['file_name'])}"
    return Response(data, media_type=doc["content_type"],
                    headers={"Content-Disposition": disposition, "ETag": f'"{doc["sha256"]}"',
                             "X-Content-Type-Options": "nosniff"})
