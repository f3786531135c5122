"""``/api/v1/auth``: sign in for a short-lived token (or a browser session cookie), see who you
are, change your password, see and end your sessions, sign out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import SESSION_COOKIE, Authenticator, SignedIn, client_ip, csrf_token
from gis_core.errors import ValidationError
from gis_core.text import has_control
from governance import accounts, audit, sessions

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    """A bearer token and when it stops working."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    expires_at: str
    account: dict[str, Any]


class Credentials(BaseModel):
    """User name and password (JSON); a form with the same names works too (OAuth2 password)."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)

    @field_validator("username")
    @classmethod
    def _printable(cls, value: str) -> str:
        if has_control(value):
            raise ValueError("control characters")
        return value


def public_account(account: dict[str, Any]) -> dict[str, Any]:
    """An account as shown to clients (timestamps as ISO text)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in account.items()}


async def _credentials(request: Request) -> Credentials:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media == "application/x-www-form-urlencoded" or media == "multipart/form-data":
            form = await request.form()
            return Credentials(username=str(form.get("username", "")),
                               password=str(form.get("password", "")))
        return Credentials.model_validate_json(await request.body())
    except PydanticValidationError as err:
        if any(e["loc"] == ("username",) and "control" in e["msg"] for e in err.errors()):
            raise ValidationError(
                "Tên đăng nhập không được chứa ký tự điều khiển (NUL, xuống dòng…); hãy gõ lại.",
                message_en="The user name must not contain control characters (NUL, line "
                "breaks…); type it again.", parameter="username") from None
        raise ValidationError("Cần 'username' và 'password' (chuỗi không rỗng).",
                              message_en="'username' and 'password' are required (non-empty "
                              "text).") from None
    except ValueError as err:
        raise ValidationError("Cần 'username' và 'password'.",
                              message_en="'username' and 'password' are required.") from err


@router.post("/token", summary="Đăng nhập / sign in", response_model=TokenOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": Credentials.model_json_schema()},
                 "application/x-www-form-urlencoded": {"schema": Credentials.model_json_schema()},
             }}})
async def token(request: Request) -> TokenOut:
    """Check the password and return a bearer token (401 on failure; lockout after repeats)."""
    creds = await _credentials(request)
    auth: Authenticator = request.app.state.authenticator
    result = await run_in_threadpool(
        accounts.login, auth.engine, creds.username, creds.password, secret=auth.secret,
        rules=auth.rules, client_ip=client_ip(request))
    return TokenOut(access_token=result.token, expires_in=int(auth.rules.token_ttl.total_seconds()),
                    expires_at=result.expires_at.isoformat(),
                    account=public_account(result.account))


@router.get("/me", summary="Tài khoản đang dùng / who am I")
def me(request: Request, principal: SignedIn) -> dict[str, Any]:
    """The signed-in account."""
    with request.app.state.engine.connect() as conn:
        return public_account(accounts.get_account(conn, principal.username or ""))


@router.post("/logout", status_code=204, summary="Đăng xuất / sign out")
def logout(request: Request, response: Response, principal: SignedIn) -> None:
    """End this token's (or this browser's) session."""
    with request.app.state.engine.begin() as conn:
        accounts.logout(conn, principal)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.post("/session", summary="Đăng nhập trình duyệt / browser sign-in")
async def browser_session(request: Request, response: Response) -> dict[str, Any]:
    """Sign in for a browser: the token goes into an HttpOnly, SameSite=Strict cookie (never to
    scripts); the answer carries the account and the ``csrf`` token that every change made with
    the cookie must send back as ``X-CSRF-Token``."""
    creds = await _credentials(request)
    auth: Authenticator = request.app.state.authenticator
    result = await run_in_threadpool(
        accounts.login, auth.engine, creds.username, creds.password, secret=auth.secret,
        rules=auth.rules, client_ip=client_ip(request))
    secure = request.app.state.settings.base_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict",
                        secure=secure, path="/", max_age=int(auth.rules.token_ttl.total_seconds()))
    return {"account": public_account(result.account), "csrf": csrf_token(auth.secret, result.token),
            "expires_at": result.expires_at.isoformat()}


class PasswordChange(BaseModel):
    """The current password and the new one."""

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


@router.post("/password", status_code=204, summary="Đổi mật khẩu / change password")
def change_password(body: PasswordChange, request: Request, principal: SignedIn) -> None:
    """Change one's own password (the current one is checked); every session of the account
    ends, this one included: sign in again with the new password."""
    engine = request.app.state.engine
    try:
        with engine.begin() as conn:
            sessions.change_password(conn, principal, body.current_password, body.new_password)
    except ValidationError as err:
        audit.record_now(engine, "account.password", actor=principal, target=principal.username,
                         outcome="refused", details={"why": err.message_en})
        raise


@router.get("/sessions", summary="Phiên đang mở / open sessions")
def my_sessions(request: Request, principal: SignedIn) -> list[dict[str, Any]]:
    """One's own open sessions (handle, opened, expires, address); ``current`` marks this one."""
    with request.app.state.engine.connect() as conn:
        rows = sessions.list_sessions(conn, principal.username or "")
    return [public_account({k: v for k, v in r.items() if k != "id"}
                           | {"current": r["id"] == principal.session_id}) for r in rows]


@router.delete("/sessions/{handle}", status_code=204, summary="Kết thúc một phiên / end a session")
def end_session(request: Request, principal: SignedIn,
                handle: str = Path(min_length=8, max_length=8, pattern=r"^[A-Za-z0-9_-]+$")
                ) -> None:
    """End one of one's own sessions (another browser, a lost phone)."""
    with request.app.state.engine.begin() as conn:
        sessions.revoke_session(conn, principal, handle)
