"""``/api/v1/layers/{layer}/features/{id}/documents`` and ``/api/v1/documents/{id}``: the
drawings, decisions and reports of a plan or permit, every version, served with the feature's
access rules. A department editor's upload waits for an approver of the owning department
(``/api/v1/documents/{id}/approve|reject``, the pattern of edits); the operator's is kept at once.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import SignedIn, current_principal
from gis_core.errors import NotFoundError, PermissionDeniedError
from governance import audit
from governance.access import (
    Principal,
    is_personal_layer,
    may_approve,
    require_features,
    write_mode,
)
from harvest import documents
from layers.registry import LAYERS, require_layer

router = APIRouter(prefix="/api/v1", tags=["documents"])
Id = Annotated[int, PathParam(ge=1, le=2**62)]


class Review(BaseModel):
    """A reviewer's reason (required to reject)."""

    reason: str | None = Field(default=None, max_length=1000)


def _root(request: Request):  # noqa: ANN202
    return request.app.state.settings.var_dir / "documents"


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    out = jsonable_encoder(doc)
    out["href"] = f"/api/v1/documents/{doc['id']}"
    if doc["extension"] in documents.THUMBNAILED:
        out["thumbnail"] = f"/api/v1/documents/{doc['id']}/thumbnail"
    return out


@router.post("/layers/{layer_id}/features/{feature_id}/documents", status_code=201,
             summary="Đính kèm tài liệu / Attach a document")
async def add_document(layer_id: str, feature_id: Id, request: Request, principal: SignedIn,
                       file: Annotated[UploadFile, File()], title: Annotated[str, Form()],
                       kind: Annotated[str, Form()] = "other",
                       decision: Annotated[str | None, Form()] = None) -> JSONResponse:
    """Attach a PDF, image, DOCX or DWG: the next version of ``title`` on the feature (an
    amended plan's drawings keep every version, each with its ``decision``). An operator's
    document is kept at once (201); a department editor's waits for approval (202, ``pending``)."""
    layer = require_layer(layer_id)
    engine = request.app.state.engine
    mode = write_mode(principal, layer)
    if mode is None:
        await run_in_threadpool(audit.record_now, engine, "document.denied", actor=principal,
                                outcome="denied", target=f"{layer.id}/{feature_id}")
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không được đính kèm tài liệu vào lớp '{layer.id}'.",
            message_en=f"Account '{principal.label}' may not attach documents in '{layer.id}'.")
    settings = request.app.state.settings
    limit = settings.max_document_mb * 2**20
    data = await file.read(limit + 1)

    def keep() -> dict[str, Any]:
        with engine.begin() as conn:
            doc = documents.add(conn, _root(request), layer, feature_id, title=title, kind=kind,
                                file_name=file.filename or "", data=data, decision=decision,
                                actor=principal.username, max_bytes=limit,
                                declared_type=file.content_type, pending=mode != "direct")
            audit.record(conn, "document.add" if mode == "direct" else "document.submit",
                         actor=principal, target=f"{layer.id}/{feature_id}",
                         details={"document": doc["id"], "version": doc["version"],
                                  "sha256": doc["sha256"]})
        return doc

    doc = await run_in_threadpool(keep)
    return JSONResponse(_out(doc), status_code=201 if doc["status"] == "approved" else 202,
                        headers={"Location": f"/api/v1/documents/{doc['id']}"})


def _may_review_any(principal: Principal, layer_id: str, uploaded_by: str | None = None) -> bool:
    return may_approve(principal, require_layer(layer_id), uploaded_by)


@router.get("/layers/{layer_id}/features/{feature_id}/documents",
            summary="Tài liệu của đối tượng / A feature's documents")
def list_documents(layer_id: str, feature_id: Id, request: Request) -> dict[str, Any]:
    """Every approved document and version of the feature (for whoever may see the feature),
    then those waiting for approval: the caller's own, or all of them for an approver."""
    layer = require_layer(layer_id)
    principal = current_principal(request)
    require_features(principal, layer)
    with request.app.state.engine.connect() as conn:
        rows = documents.listing(
            conn, layer, feature_id,
            pending_of=None if principal.is_anonymous else principal.username,
            all_pending=_may_review_any(principal, layer.id))
    return {"documents": [_out(r) for r in rows]}


@router.get("/documents", summary="Tài liệu chờ duyệt / Documents waiting for approval")
def pending_documents(request: Request, principal: SignedIn) -> dict[str, Any]:
    """The documents the caller may approve (never the caller's own)."""
    layers = [layer.id for layer in LAYERS if may_approve(principal, layer)]
    with request.app.state.engine.connect() as conn:
        rows = documents.pending(conn, layers)
    return {"documents": [_out(r) for r in rows if r["uploaded_by"] != principal.username]}


def _readable(request: Request, document_id: int) -> tuple[dict[str, Any], Principal]:
    """The document if the caller may read it: a published one by whoever may see its feature;
    a pending or rejected one by its submitter and its approvers only."""
    principal = current_principal(request)
    with request.app.state.engine.connect() as conn:
        doc = documents.get(conn, document_id)
    layer = require_layer(doc["layer"])
    require_features(principal, layer)
    if doc["status"] != "approved" and not (
            (not principal.is_anonymous and principal.username == doc["uploaded_by"])
            or _may_review_any(principal, layer.id)):
        raise NotFoundError(f"Không có tài liệu {document_id}.",
                            message_en=f"No document {document_id}.")
    if is_personal_layer(layer):
        audit.record_now(request.app.state.engine, "document.read", actor=principal,
                         target=f"{layer.id}/{doc['feature_id']}", details={"document": doc["id"]})
    return doc, principal


@router.get("/documents/{document_id}", summary="Tải tài liệu / Download a document")
def download(document_id: Id, request: Request) -> Response:
    """The file, checked against its checksum; a personal layer's documents only for signed-in
    staff, each read audited."""
    doc, _ = _readable(request, document_id)
    data = documents.content(_root(request), doc)
    disposition = f"inline; filename*=UTF-8''{quote(doc['file_name'])}"
    return Response(data, media_type=doc["content_type"],
                    headers={"Content-Disposition": disposition, "ETag": f'"{doc["sha256"]}"',
                             "X-Content-Type-Options": "nosniff"})


@router.get("/documents/{document_id}/thumbnail",
            summary="Ảnh thu nhỏ / Thumbnail (a PDF's first page, an image)")
def thumbnail(document_id: Id, request: Request) -> Response:
    """A PNG of the first page of a PDF or of an image, with the document's access rules."""
    doc, _ = _readable(request, document_id)
    return Response(documents.thumbnail(_root(request), doc), media_type="image/png",
                    headers={"ETag": f'"{doc["sha256"]}-t"', "Cache-Control": "private, max-age=3600"})


def _review(request: Request, document_id: int, principal: Principal, approve: bool,
            reason: str | None) -> dict[str, Any]:
    engine = request.app.state.engine
    action = "document.approve" if approve else "document.reject"
    with engine.begin() as conn:
        doc = documents.get(conn, document_id)
        if not may_approve(principal, require_layer(doc["layer"]), doc["uploaded_by"]):
            audit.record_now(engine, action, actor=principal, outcome="denied",
                             target=f"document/{document_id}")
            raise PermissionDeniedError(
                f"Tài khoản '{principal.label}' không được duyệt tài liệu này (cần người duyệt "
                "của sở sở hữu lớp, không phải người gửi).",
                message_en=f"Account '{principal.label}' may not review this document (an "
                "approver of the owning department other than the submitter is needed).")
        done = documents.review(conn, doc, principal.username, approve=approve,
                                reason=reason or principal.reason)
        audit.record(conn, action, actor=principal, target=f"{doc['layer']}/{doc['feature_id']}",
                     reason=reason, details={"document": document_id,
                                             "submitted_by": doc["uploaded_by"],
                                             "version": done["version"]})
    return _out(done)


@router.post("/documents/{document_id}/approve", summary="Duyệt tài liệu / Approve a document")
def approve(document_id: Id, request: Request, principal: SignedIn,
            body: Review | None = None) -> dict[str, Any]:
    """Publish a pending document as the next version of its title."""
    return _review(request, document_id, principal, True, body.reason if body else None)


@router.post("/documents/{document_id}/reject", summary="Từ chối tài liệu / Reject a document")
def reject(document_id: Id, body: Review, request: Request, principal: SignedIn) -> dict[str, Any]:
    """Reject a pending document with a reason; it is never published."""
    return _review(request, document_id, principal, False, body.reason)
