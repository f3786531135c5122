"""``/api/v1/admin``: the operators' account administration and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api import audit_anchor
from api.auth import Operator
from api.routes.account import public_account
from gis_core.bounds import unique_list
from gis_core.errors import ValidationError
from governance import accounts, audit, sessions
from governance.access import Principal

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


RoleName = Literal["operator", "leader", "department_editor", "commune_editor", "field_staff",
                   "viewer", "api_client"]


class NewAccount(BaseModel):
    """An account to create; API clients get a key instead of a password."""

    username: str = Field(max_length=64)
    role: RoleName
    password: str | None = Field(default=None, max_length=1000)
    department: str | None = Field(default=None, max_length=64)
    commune_code: str | None = Field(default=None, max_length=16)
    display_name: str | None = Field(default=None, max_length=200)
    scopes: unique_list(Annotated[str, Field(max_length=100)], 100) = Field(  # type: ignore[valid-type]
        default_factory=list)


class Grant(BaseModel):
    """New role and membership of an account."""

    role: RoleName
    department: str | None = Field(default=None, max_length=64)
    commune_code: str | None = Field(default=None, max_length=16)
    scopes: unique_list(Annotated[str, Field(max_length=100)], 100) | None = None  # type: ignore[valid-type]


class Why(BaseModel):
    """An optional reason, kept in the audit log."""

    reason: str | None = Field(default=None, max_length=500)


@router.get("/users", summary="Danh sách tài khoản / list accounts")
def list_users(request: Request, _: Operator) -> list[dict[str, Any]]:
    """Every account with its role, membership and state."""
    with request.app.state.engine.connect() as conn:
        return [public_account(a) for a in accounts.list_accounts(conn)]


@router.post("/users", status_code=201, summary="Tạo tài khoản / create an account")
def create_user(body: NewAccount, request: Request, principal: Operator) -> dict[str, Any]:
    """Create a person's account, or an API client (its key is returned once)."""
    with request.app.state.engine.begin() as conn:
        if body.role == "api_client":
            account, key = accounts.create_api_client(
                conn, username=body.username, scopes=tuple(body.scopes),
                department=body.department, by=principal)
            return {**public_account(account), "api_key": key}
        return public_account(accounts.create_account(
            conn, username=body.username, role=body.role, password=body.password,
            department=body.department, commune_code=body.commune_code,
            display_name=body.display_name, scopes=tuple(body.scopes), by=principal))


@router.put("/users/{username}/role", summary="Cấp quyền / grant a role")
def grant(username: str, body: Grant, request: Request, principal: Operator) -> dict[str, Any]:
    """Change role and membership; the account's sessions end."""
    with request.app.state.engine.begin() as conn:
        return public_account(accounts.grant(
            conn, username, role=body.role, department=body.department,
            commune_code=body.commune_code,
            scopes=tuple(body.scopes) if body.scopes is not None else None, by=principal))


def _status(request: Request, username: str, status: str, principal: Principal, why: Why | None
            ) -> dict[str, Any]:
    with request.app.state.engine.begin() as conn:
        return public_account(accounts.set_status(
            conn, username, status, by=principal,
            reason=(why.reason if why else None) or principal.reason))


@router.post("/users/{username}/lock", summary="Khóa / lock")
def lock(username: str, request: Request, principal: Operator,
         why: Why | None = None) -> dict[str, Any]:
    """Lock the account: its next request fails, whatever tokens it holds."""
    return _status(request, username, "locked", principal, why)


@router.post("/users/{username}/unlock", summary="Mở khóa / unlock")
def unlock(username: str, request: Request, principal: Operator,
           why: Why | None = None) -> dict[str, Any]:
    """Unlock a locked or expired account (it signs in again)."""
    return _status(request, username, "active", principal, why)


@router.post("/users/{username}/revoke", summary="Thu hồi / revoke")
def revoke(username: str, request: Request, principal: Operator,
           why: Why | None = None) -> dict[str, Any]:
    """Revoke the account for good."""
    return _status(request, username, "revoked", principal, why)


class Reset(BaseModel):
    """A new password; without one, a password is generated and returned once."""

    password: str | None = Field(default=None, max_length=1000)


@router.post("/users/{username}/password", summary="Đặt lại mật khẩu / reset a password")
def reset_password(username: str, request: Request, principal: Operator,
                   body: Reset | None = None) -> dict[str, Any]:
    """Set a person's password (the policy applies) and end its sessions; a generated password
    is in the answer, shown this once."""
    with request.app.state.engine.begin() as conn:
        if accounts.get_account(conn, username)["role"] == "api_client":
            raise ValidationError("Ứng dụng (API client) không có mật khẩu; hãy cấp khóa mới.",
                                  message_en="An API client has no password; issue a new key.",
                                  parameter="username")
        chosen = sessions.reset_password(conn, username, principal, body.password if body else None)
    return {"username": username, "password": None if body and body.password else chosen}


@router.get("/audit", summary="Nhật ký kiểm toán / audit log")
def audit_log(request: Request, _: Operator,
              actor: str | None = Query(default=None, max_length=200),
              action: str | None = Query(default=None, max_length=100),
              target: str | None = Query(default=None, max_length=200),
              outcome: str | None = Query(default=None, max_length=50),
              after: Annotated[datetime | None, Query(alias="from")] = None,
              before: Annotated[datetime | None, Query(alias="to")] = None,
              since: int = Query(default=0, ge=0, le=2**62),
              limit: int = Query(default=100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """The newest audit entries, optionally by actor, action (``login`` or a prefix such as
    ``account.*``), target (part of it), outcome, and time (``from`` inclusive, ``to``
    exclusive, ISO 8601)."""
    with request.app.state.engine.connect() as conn:
        return [e.as_dict() for e in audit.entries(
            conn, actor=actor, action=action, since_seq=since, limit=limit, target=target,
            outcome=outcome, after=after, before=before)]


@router.get("/audit/verify", summary="Kiểm tra chuỗi băm / verify the hash chain")
def audit_verify(request: Request, _: Operator) -> dict[str, Any]:
    """Walk the chain and check it against the published anchors: entries checked, head hash,
    the newest anchored entry, and any removed, altered or rewritten entries."""
    result = audit_anchor.verify(request.app.state.engine, request.app.state.settings)
    return {"ok": result.ok, "checked": result.checked, "head": result.head,
            "anchored": result.anchored, "problems": result.problems}
