"""``/api/v1/auth``: sign in for a short-lived token, see who you are, sign out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import Authenticator, SignedIn, client_ip
from gis_core.errors import ValidationError
from gis_core.text import has_control
from governance import accounts

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
def logout(request: Request, principal: SignedIn) -> None:
    """End this token's session."""
    with request.app.state.engine.begin() as conn:
        accounts.logout(conn, principal)
