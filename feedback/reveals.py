"""Revealing a reporter's identity: asked with a named reason, approved by a second person,
read only by the one who asked; every step in the audit chain.

Who: the leaders (province-wide) and the editors of the department handling the case ask and
approve (never their own request); the operator coordinates cases but reads no identity, as for
every other citizen's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from feedback import identity
from feedback.cases import get
from gis_core.errors import ConflictError, InvalidParameterError, NotFoundError, PermissionDeniedError
from gis_core.text import printable
from governance import audit
from governance.access import Principal


def may_reveal(principal: Principal, case: dict[str, Any]) -> bool:
    """Whether the caller may ask for, or approve, the reveal of this case's reporter."""
    if principal.role == "leader":
        return True
    return principal.role == "department_editor" and principal.department == case["department"]


def _require(principal: Principal, case: dict[str, Any], conn: Connection, action: str) -> None:
    if not may_reveal(principal, case):
        audit.record(conn, action, actor=principal, outcome="denied",
                     target=f"feedback_requests/{case['id']}")
        raise PermissionDeniedError(
            f"Vai trò '{principal.role}' không được xem danh tính người phản ánh.",
            message_en=f"The role '{principal.role}' may not see a reporter's identity.")


def ask(conn: Connection, principal: Principal, request_id: int, reason: str | None) -> dict[str, Any]:
    """Ask to see the reporter of ``request_id``; the ``reason`` is required."""
    case = get(conn, request_id)
    _require(principal, case, conn, "feedback.reveal.denied")
    reason = printable(reason or "")
    if len(reason) < 10:
        raise InvalidParameterError(
            "Cần nêu lý do (ít nhất 10 ký tự) để xin xem danh tính người phản ánh.",
            message_en="Give a reason (at least 10 characters) to ask for the reporter's identity.",
            parameter="reason")
    row = conn.execute(text(
        "INSERT INTO feedback_reveals (request_id, asked_by, reason) VALUES (:id, :by, :reason) "
        "RETURNING id, asked_at"), {"id": request_id, "by": principal.username,
                                    "reason": reason[:1000]}).one()
    audit.record(conn, "feedback.reveal.asked", actor=principal, reason=reason[:1000],
                 target=f"feedback_requests/{request_id}", details={"reveal": row[0]})
    return {"id": row[0], "request_id": request_id, "asked_by": principal.username,
            "reason": reason, "asked_at": row[1], "approved_by": None}


def _reveal(conn: Connection, reveal_id: int) -> dict[str, Any]:
    row = conn.execute(text("SELECT id, request_id, asked_by, reason, asked_at, approved_by, "
                            "approved_at FROM feedback_reveals WHERE id = :id FOR UPDATE"),
                       {"id": reveal_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"Không có yêu cầu xem danh tính số {reveal_id}.",
                            message_en=f"There is no reveal request {reveal_id}.")
    return dict(row)


def approve(conn: Connection, principal: Principal, reveal_id: int) -> dict[str, Any]:
    """Approve a reveal: a second authorised person, not the one who asked."""
    reveal = _reveal(conn, reveal_id)
    _require(principal, get(conn, reveal["request_id"]), conn, "feedback.reveal.denied")
    if reveal["asked_by"] == principal.username:
        raise PermissionDeniedError("Người xin xem không tự duyệt được: cần người thứ hai.",
                                    message_en="The one who asked cannot approve: a second "
                                    "person must.")
    if reveal["approved_by"] is not None:
        raise ConflictError(f"Đã được '{reveal['approved_by']}' duyệt.",
                            message_en=f"Already approved by '{reveal['approved_by']}'.")
    conn.execute(text("UPDATE feedback_reveals SET approved_by = :by, approved_at = now() "
                      "WHERE id = :id"), {"by": principal.username, "id": reveal_id})
    audit.record(conn, "feedback.reveal.approved", actor=principal,
                 target=f"feedback_requests/{reveal['request_id']}", details={"reveal": reveal_id})
    return {**reveal, "approved_by": principal.username}


def read(conn: Connection, principal: Principal, secret: bytes, reveal_id: int) -> dict[str, Any]:
    """The identity, for the one who asked, once a second person approved; audited."""
    reveal = _reveal(conn, reveal_id)
    if reveal["asked_by"] != principal.username:
        audit.record(conn, "feedback.identity.denied", actor=principal, outcome="denied",
                     target=f"feedback_requests/{reveal['request_id']}")
        raise PermissionDeniedError("Chỉ người xin xem mới đọc được danh tính.",
                                    message_en="Only the one who asked may read the identity.")
    if reveal["approved_by"] is None:
        raise ConflictError("Yêu cầu xem danh tính chưa được người thứ hai duyệt.",
                            message_en="The reveal has not been approved by a second person yet.")
    sealed = conn.execute(text("SELECT sealed FROM feedback_identities WHERE request_id = :id"),
                          {"id": reveal["request_id"]}).scalar()
    person = identity.open_sealed(secret, reveal["request_id"], sealed) if sealed else {}
    audit.record(conn, "feedback.identity.read", actor=principal, reason=reveal["reason"],
                 target=f"feedback_requests/{reveal['request_id']}",
                 details={"reveal": reveal_id, "approved_by": reveal["approved_by"],
                          "fields": sorted(person)})
    return {"request_id": reveal["request_id"], "identity": person, "anonymous": not person}
