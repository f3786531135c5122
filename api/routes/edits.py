"""``/api/v1/edits``: pending edits and pending imports, reviewed by approvers of the owning
department."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from api.auth import SignedIn
from gis_core.db import translate_db_errors
from gis_core.errors import PermissionDeniedError, PreconditionFailedError
from governance import audit, editing
from governance.access import Principal, may_approve, may_read_personal, personal_names
from jobs import imports as import_jobs
from layers.imports.problems import ImportRejected
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1/edits", tags=["edits"])
EditId = Annotated[int, Path(ge=1, le=2**62)]


class Review(BaseModel):
    """A reviewer's reason (required to reject)."""

    reason: str | None = Field(default=None, max_length=1000)


def _out(edit: dict[str, Any]) -> dict[str, Any]:
    out = jsonable_encoder(edit)
    if edit["op"] == "import":
        out["links"] = {"import": f"/api/v1/imports/{edit['import_job']}"}
    return out


@router.get("", summary="Bản sửa chờ duyệt / pending edits")
def list_edits(request: Request, principal: SignedIn,
               status: Literal["pending", "approved", "rejected", "all"] | None = "pending",
               limit: int = Query(default=100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Edits the caller may review, and the caller's own submissions (``status=all``: every
    state, newest first)."""
    with request.app.state.engine.connect() as conn:
        edits = [editing.edit_for(principal, e) for e in editing.list_edits(
            conn, principal, None if status == "all" else status, limit)]
    _audit_personal(request, principal, edits)
    return [_out(e) for e in edits]


@router.get("/{edit_id}", summary="Một bản sửa / one edit")
def get_edit(edit_id: EditId, request: Request, principal: SignedIn) -> dict[str, Any]:
    """One edit, for its submitter and its possible reviewers; ``conflicts`` lists, field by
    field, what changed since it was submitted that approving it would overwrite (null: none)."""
    with translate_db_errors(), request.app.state.engine.connect() as conn:
        edit = editing.get_edit(conn, edit_id)
        if edit["submitted_by"] != principal.username and not may_approve(
                principal, require_layer(edit["layer"])):
            raise PermissionDeniedError("Không có quyền xem bản sửa này.",
                                        message_en="Not allowed to see this edit.")
        edit["conflicts"] = editing.current_conflicts(conn, edit)
    edit = editing.edit_for(principal, edit)
    _audit_personal(request, principal, [edit])
    return _out(edit)


def _audit_personal(request: Request, principal: Principal, edits: list[dict[str, Any]]) -> None:
    """Record that a reviewer saw personal values of others' submissions."""
    seen = [e["id"] for e in edits if e["submitted_by"] != principal.username
            and may_read_personal(principal, require_layer(e["layer"]))
            and personal_names(require_layer(e["layer"])) & _shown(e)]
    if seen:
        audit.record_now(request.app.state.engine, "read.personal", actor=principal,
                         target="pending_edits", details={"edits": seen[:1000], "count": len(seen)})


def _shown(edit: dict[str, Any]) -> set[str]:
    """The fields whose values an edit's view carries (proposed, or of the version it was made
    against)."""
    base = edit.get("base") or {}
    return set(edit["properties"]) | {k for k, v in base.get("properties", {}).items()
                                      if v is not None}


def _review(request: Request, edit_id: EditId, principal: Principal, approve: bool,
            reason: str | None) -> dict[str, Any]:
    engine = request.app.state.engine
    action = "edit.approve" if approve else "edit.reject"
    try:
        with translate_db_errors(), engine.begin() as conn:
            return _out(editing.edit_for(principal, editing.review_edit(
                conn, principal, edit_id, approve=approve, reason=reason or principal.reason)))
    except PermissionDeniedError as err:
        audit.record_now(engine, action, actor=principal, outcome="denied",
                         target=f"edit/{edit_id}", details={"why": err.message_en})
        raise
    except PreconditionFailedError as err:
        audit.record_now(engine, action, actor=principal, outcome="refused",
                         target=f"edit/{edit_id}", details={
                             "why": err.message_en,
                             "fields": [c["field"] for c in err.extra.get("conflicts", [])]})
        raise
    except ImportRejected as err:
        # A pending import that no longer passes against today's data: it stays pending.
        err.extra = import_jobs.rejected_extra(err)
        raise


@router.post("/{edit_id:int}/approve", summary="Duyệt / approve")
def approve(edit_id: EditId, request: Request, principal: SignedIn,
            body: Review | None = None) -> dict[str, Any]:
    """Apply the edit to its layer; 412 with the ``conflicts``, field by field, when what it
    changes was changed by someone else since it was submitted (with ``If-Match``: when the
    feature changed at all). A pending import is checked again and merged (412 when its
    dataset changed meanwhile, 422 when the file no longer passes the checks)."""
    return _review(request, edit_id, principal, True, body.reason if body else None)


@router.post("/{edit_id:int}/reject", summary="Từ chối / reject")
def reject(edit_id: EditId, body: Review, request: Request, principal: SignedIn) -> dict[str, Any]:
    """Reject the edit with a reason; nothing is applied."""
    return _review(request, edit_id, principal, False, body.reason)
